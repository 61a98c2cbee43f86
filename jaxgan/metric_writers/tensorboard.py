"""TensorBoard event files through ``tensorboardX`` (no TensorFlow): ``pip install 'jaxgan[tensorboard]'``."""

from __future__ import annotations

from typing import Any, Mapping, Optional

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

    Args:
      logdir: the event files' directory (created).
      purge_step: for a resumed run: TensorBoard hides the events of earlier files at this step or
        later (the steps the run trains again).
      flush_secs: at most this many seconds between writes to disk.

    Raises:
      ImportError: ``tensorboardX`` is not installed (naming the extra to install).
    """

    def __init__(self, logdir, *, purge_step: Optional[int] = None, flush_secs: int = 30):
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise ImportError(
                "TensorBoard logging needs tensorboardX: pip install 'jaxgan[tensorboard]' (or pip install tensorboardX)"
            ) from None
        self.logdir = str(logdir)
        self._writer = SummaryWriter(logdir=self.logdir, purge_step=purge_step, flush_secs=flush_secs)

    def write_scalars(self, step: int, scalars: Mapping[str, Any]) -> None:
        from tensorboardX.proto.summary_pb2 import Summary

        # One event for the step's scalars (add_scalar would write one each, several times slower).
        values = [Summary.Value(tag=name, simple_value=value) for name, value in plain_scalars(scalars).items()]
        self._writer.file_writer.add_summary(Summary(value=values), int(step))

    def write_images(self, step: int, images: Mapping[str, Any]) -> None:
        for name, image in images.items():
            image = as_image(image)
            if image.ndim == 4:
                self._writer.add_images(name, image, int(step), dataformats="NHWC")
            else:
                self._writer.add_image(name, image, int(step), dataformats="HWC")

    def write_hparams(self, hparams: Mapping[str, Any]) -> None:
        from tensorboardX.summary import hparams as hparams_summaries

        # In this run's own event file (tensorboardX's add_hparams would open a directory of its own).
        flat = {k: "None" if v is None else v for k, v in flat_hparams(hparams).items()}  # TensorBoard has no null
        for summary in hparams_summaries(flat, {}):
            self._writer.file_writer.add_summary(summary)

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
