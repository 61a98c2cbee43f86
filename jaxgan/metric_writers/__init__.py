"""Where a run's numbers go: metric writers with Flax ``clu.metric_writers``' method names.

* :class:`MetricWriter` - the interface: ``write_scalars(step, scalars)``, ``write_images(step,
  images)``, ``write_hparams(hparams)``, ``flush()``, ``close()``.
* :class:`JsonLinesWriter` - one JSON record per logged step (``metrics.jsonl``), no dependency;
  :func:`read_metrics` reads it back.
* :class:`TensorBoardWriter` - TensorBoard event files through ``tensorboardX`` (the
  ``jaxgan[tensorboard]`` extra; TensorFlow is not needed).
* :class:`MultiWriter` - several writers as one.
* :func:`log_metrics` - a :func:`jaxgan.fit` callback that logs the chunk's metrics,
  learning rates and speed at chunk boundaries (:class:`MetricLogger`); :func:`learning_rate_of`
  reads an optax schedule on the host.
* :func:`create_default_writer` - the JSON-lines writer, plus TensorBoard's if asked, on process 0
  only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from jaxgan.metric_writers.chunk_log import MetricLogger, injected_learning_rates, learning_rate_of, log_metrics
from jaxgan.metric_writers.interface import MetricWriter
from jaxgan.metric_writers.jsonl import JsonLinesWriter, read_metrics
from jaxgan.metric_writers.multi import MultiWriter
from jaxgan.metric_writers.tensorboard import TensorBoardWriter, as_image

__all__ = [
    "JsonLinesWriter",
    "MetricLogger",
    "MetricWriter",
    "MultiWriter",
    "TensorBoardWriter",
    "as_image",
    "create_default_writer",
    "injected_learning_rates",
    "learning_rate_of",
    "log_metrics",
    "read_metrics",
]


def create_default_writer(
    out_dir, *, tensorboard_dir=None, purge_step: Optional[int] = None, main_process_only: bool = True
) -> MultiWriter:
    """``out_dir/metrics.jsonl``, and TensorBoard event files in ``tensorboard_dir`` if given.

    Args:
      out_dir: the run's directory.
      tensorboard_dir: where TensorBoard's event files go (``None``: no TensorBoard).
      purge_step: for a resumed run, the first step it trains again (earlier records are kept).
      main_process_only: on several processes (``jax.process_index() > 0``) write nothing.

    Returns:
      A :class:`MultiWriter` (of no writer on processes other than 0).

    Raises:
      ImportError: ``tensorboard_dir`` given without ``tensorboardX`` installed.
    """
    if main_process_only:
        from jaxgan.parallel.hosts import is_main_process

        if not is_main_process():
            return MultiWriter([])
    writers: list[MetricWriter] = []
    if tensorboard_dir is not None:  # first: a missing tensorboardX leaves no file open
        writers.append(TensorBoardWriter(tensorboard_dir, purge_step=purge_step))
    writers.insert(0, JsonLinesWriter(Path(out_dir) / "metrics.jsonl", purge_step=purge_step))
    return MultiWriter(writers)
