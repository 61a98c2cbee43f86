"""TensorBoard event files through ``tensorboardX`` (no TensorFlow): ``pip install 'jaxgan[tensorboard]'``."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Mapping, Optional

import numpy as np

from jaxgan.metric_writers.interface import MetricWriter
from jaxgan.metric_writers.values import flat_hparams, plain_scalars

__all__ = ["TensorBoardWriter", "as_image"]


def as_image(image) -> np.ndarray:
    """``[H, W, C]`` (or ``[N, H, W, C]``) with C of 1, 3 or 4, as TensorBoard takes it: floats in
    ``[0, 1]`` clipped, ``uint8`` as it is; a ``[H, W]`` image gets one channel."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim not in (3, 4) or image.shape[-1] not in (1, 3, 4):
        raise ValueError(f"expected an image [H, W], [H, W, C] or [N, H, W, C] with C in (1, 3, 4), got {image.shape}")
    if image.dtype == np.uint8:
        return image
    return np.clip(image.astype(np.float32), 0.0, 1.0)


class TensorBoardWriter(MetricWriter):
    """Writes TensorBoard event files in ``logdir`` (see them with ``tensorboard --logdir LOGDIR``).

    The ``write_*`` methods take the values on the calling thread (as host arrays and floats) and
    hand the protocol buffers and the file to one background thread, so a training loop does not
    wait for them: the thread works while the next compiled chunk runs (XLA releases Python's lock
    then). Scalars are handed over in batches, at most ``hand_over_secs`` after they are written
    (and at any other write, :meth:`flush` and :meth:`close`): one hand-over per batch instead of
    one per logged step, and no writing thread competing with a short run. :meth:`flush` and
    :meth:`close` wait until everything handed over is written, and raise what the thread raised.

    Args:
      logdir: the event files' directory (created).
      purge_step: for a resumed run: TensorBoard hides the events of earlier files at this step or
        later (the steps the run trains again).
      flush_secs: at most this many seconds between writes to disk.
      hand_over_secs: scalars wait at most this long (at the next write) before being handed to the
        thread; 0 hands each over at once.
      clock: seconds, for ``hand_over_secs`` (a test can pass its own).

    Raises:
      ImportError: ``tensorboardX`` is not installed (naming the extra to install).
    """

    def __init__(self, logdir, *, purge_step: Optional[int] = None, flush_secs: int = 30, hand_over_secs: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):  # fmt: skip
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise ImportError(
                "TensorBoard logging needs tensorboardX: pip install 'jaxgan[tensorboard]' (or pip install tensorboardX)"
            ) from None
        self.logdir = str(logdir)
        self._writer = SummaryWriter(logdir=self.logdir, purge_step=purge_step, flush_secs=flush_secs)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tensorboard")
        self._pending: list[Future] = []
        self._scalars: list[tuple[int, dict]] = []  # written, not yet handed over
        self.hand_over_secs = float(hand_over_secs)
        self._clock = clock
        self._handed_at = clock()

    def _submit(self, fn: Callable, *args) -> None:
        """Runs ``fn(*args)`` on the writer's thread, after what was submitted before."""
        self._pending = [f for f in self._pending if not f.done() or f.exception() is not None]
        self._pending.append(self._thread.submit(fn, *args))

    def _wait(self) -> None:
        """Waits for everything submitted; raises the first error the thread met."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def _hand_over(self) -> None:
        """Hands the scalars written so far to the thread (in one task)."""
        if self._scalars:
            self._submit(self._write_scalars, self._scalars)
            self._scalars = []
        self._handed_at = self._clock()

    def write_scalars(self, step: int, scalars: Mapping[str, Any]) -> None:
        self._scalars.append((int(step), plain_scalars(scalars)))
        if self._clock() - self._handed_at >= self.hand_over_secs:
            self._hand_over()

    def _write_scalars(self, records: list) -> None:
        from tensorboardX.proto.summary_pb2 import Summary

        # One event per step for its scalars (add_scalar would write one each, several times slower).
        for step, scalars in records:
            values = [Summary.Value(tag=name, simple_value=value) for name, value in scalars.items()]
            self._writer.file_writer.add_summary(Summary(value=values), step)

    def write_images(self, step: int, images: Mapping[str, Any]) -> None:
        self._hand_over()  # in the order written
        self._submit(self._write_images, int(step), {name: np.array(as_image(image)) for name, image in images.items()})

    def _write_images(self, step: int, images: dict) -> None:
        for name, image in images.items():
            if image.ndim == 4:
                self._writer.add_images(name, image, step, dataformats="NHWC")
            else:
                self._writer.add_image(name, image, step, dataformats="HWC")

    def write_hparams(self, hparams: Mapping[str, Any]) -> None:
        # TensorBoard has no null
        self._hand_over()
        self._submit(self._write_hparams, {k: "None" if v is None else v for k, v in flat_hparams(hparams).items()})

    def _write_hparams(self, hparams: dict) -> None:
        from tensorboardX.summary import hparams as hparams_summaries

        # In this run's own event file (tensorboardX's add_hparams would open a directory of its own).
        for summary in hparams_summaries(hparams, {}):
            self._writer.file_writer.add_summary(summary)

    def flush(self) -> None:
        self._hand_over()
        self._submit(self._writer.flush)
        self._wait()

    def close(self) -> None:
        try:
            self._hand_over()
            self._submit(self._writer.close)
            self._wait()
        finally:
            self._thread.shutdown(wait=True)
