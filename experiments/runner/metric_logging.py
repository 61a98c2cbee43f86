"""The experiments' logging: ``--log-every``, ``--tensorboard``, ``--log-dir`` and each run's writers.

Every run writes ``OUT/metrics.jsonl`` (:class:`jaxgan.metric_writers.JsonLinesWriter`: one line
per logged step with the mean of every metric since the previous one, the learning rates and the
speed, after a line with the run's settings at each start); with ``--tensorboard`` (or ``--log-dir DIR``) the
same, plus images, go to TensorBoard event files in ``OUT/tensorboard`` (or ``DIR``). Only process 0
writes. The writers open at the first chunk: a resumed run keeps the records of the steps before its
checkpoint and replaces the later ones.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping, Optional

from experiments.runner.cli import UserError, positive_int
from experiments.runner.outputs import say

__all__ = ["LOGGING_FIELDS", "RunLog", "add_logging_args", "tensorboard_dir"]

# The config fields of these options (they change no number of the run: not part of its identity).
LOGGING_FIELDS = frozenset({"log_every", "tensorboard", "log_dir"})


def add_logging_args(parser, *, log_every: int) -> None:
    """Adds ``--log-every``, ``--tensorboard`` and ``--log-dir`` to an argparse parser.

    Args:
      parser: the experiment's parser.
      log_every: the default of ``--log-every``.
    """
    group = parser.add_argument_group("logging")
    group.add_argument(
        "--log-every", type=positive_int, default=log_every, metavar="N",
        help="write the mean of every metric over each N steps to OUT/metrics.jsonl (and TensorBoard), "
        f"at the end of the chunk holding the step (default {log_every})",
    )  # fmt: skip
    group.add_argument(
        "--tensorboard", action="store_true",
        help="also write TensorBoard event files (metrics, images, settings) to OUT/tensorboard; "
        "needs tensorboardX: pip install 'jaxgan[tensorboard]'",
    )  # fmt: skip
    group.add_argument("--log-dir", default=None, metavar="DIR",
                       help="write the TensorBoard event files to DIR instead (implies --tensorboard)")  # fmt: skip


def tensorboard_dir(config) -> Optional[Path]:
    """Where a config's TensorBoard event files go: ``--log-dir``, else ``OUT/tensorboard`` with
    ``--tensorboard``, else ``None``."""
    if getattr(config, "log_dir", None):
        return Path(config.log_dir)
    if getattr(config, "tensorboard", False):
        return Path(config.out) / "tensorboard"
    return None


def _check_tensorboardx() -> None:
    try:
        import tensorboardX  # noqa: F401
    except ImportError:
        raise UserError(
            "--tensorboard needs tensorboardX: pip install 'jaxgan[tensorboard]' (or run without --tensorboard)"
        ) from None


class RunLog:
    """One run's metric writers (``OUT/metrics.jsonl``, TensorBoard's if asked), process 0 only.

    Args:
      out: the run's directory.
      every: log every this many steps.
      tensorboard: TensorBoard's directory, or ``None``.
      hparams: the run's settings, written when the writers open.
      resume: the run may continue an earlier one (``--resume``): open the writers at the first chunk.
    """

    def __init__(self, out, *, every: int, tensorboard=None, hparams: Optional[Mapping[str, Any]] = None,
                 resume: bool = False):  # fmt: skip
        self.out = Path(out)
        self.resume = bool(resume)
        self.every = int(every)
        self.tensorboard = Path(tensorboard) if tensorboard is not None else None
        self.hparams = dict(hparams or {})
        self.writer = None
        self.lines = None  # the JSON-lines writer, flushed at each chunk's end
        if self.tensorboard is not None:
            _check_tensorboardx()  # at start, before any training

    @classmethod
    def from_config(cls, config) -> "RunLog":
        """From a config dataclass with ``out``, ``log_every``, ``tensorboard`` and ``log_dir``;
        its fields are the hyperparameters."""
        hparams = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
        return cls(config.out, every=config.log_every, tensorboard=tensorboard_dir(config), hparams=hparams,
                   resume=getattr(config, "resume", False))  # fmt: skip

    def announce(self) -> None:
        """Prints how to watch the run in TensorBoard (with ``--tensorboard``; process 0)."""
        if self.tensorboard is not None:
            say(f"TensorBoard: tensorboard --logdir {self.tensorboard}")

    def open(self, start_step: int = 0):
        """The writers, opened once: a new log, or for a run resumed at ``start_step`` the earlier one
        without its records after that step."""
        if self.writer is None:
            from jaxgan.metric_writers import JsonLinesWriter, MultiWriter, TensorBoardWriter
            from jaxgan.parallel.hosts import is_main_process

            writers = []
            if is_main_process():
                resumed = start_step + 1 if start_step > 0 else None
                self.lines = JsonLinesWriter(self.out / "metrics.jsonl", purge_step=resumed, flush_secs=float("inf"))
                writers.append(self.lines)
                if self.tensorboard is not None:
                    writers.append(TensorBoardWriter(self.tensorboard, purge_step=start_step + 1))
            self.writer = MultiWriter(writers)
            self.writer.write_hparams(self.hparams)
        return self.writer

    def callback(self, *, learning_rates=None, images_per_step: Optional[int] = None):
        """``callback(step, state, chunk_metrics)`` for ``fit`` or the lifecycle: logs the chunk
        (:func:`jaxgan.metric_writers.log_metrics`). The writers of a new run open here, before
        training; ``metrics.jsonl`` is flushed at the end of each chunk (before the run's checkpoint
        of that step, so a resumed log has no gap), TensorBoard's files at least every 30 seconds
        and at :meth:`close`."""
        from jaxgan.metric_writers import MetricLogger

        logger = None
        if not self.resume:
            self.open(start_step=0)

        def log_chunk(step, state, metrics):
            nonlocal logger
            if logger is None:
                lengths = [getattr(v, "shape", (0,))[-1] for v in metrics.values()]
                writer = self.open(start_step=step - (lengths[0] if lengths else 0))
                logger = MetricLogger(writer, self.every, learning_rates=learning_rates or {},
                                      images_per_step=images_per_step)  # fmt: skip
            logger(step, state, metrics)
            if self.lines is not None:
                self.lines.flush()

        return log_chunk

    def write_images(self, step: int, images: Mapping[str, Any]) -> None:
        """Writes images of ``step`` (to TensorBoard; the JSON lines keep numbers only)."""
        self.open(start_step=step).write_images(step, images)

    def close(self) -> None:
        """Closes the writers (if they were opened)."""
        if self.writer is not None:
            self.writer.close()
