"""The metric-writer interface: what a training loop hands to a log (Flax ``clu.metric_writers``' names)."""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["MetricWriter"]


class MetricWriter:
    """Where a run's scalars, images and hyperparameters go; a context manager that closes itself.

    The method names are those of Flax's ``clu.metric_writers.MetricWriter``, so a writer of either
    kind can stand in for the other in a loop that only calls these five. A subclass implements
    :meth:`write_scalars`; the others do nothing unless overridden.
    """

    def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
        """Writes scalars of one step.

        Args:
          step: the training step they belong to.
          scalars: name -> number (a Python or NumPy scalar).
        """
        raise NotImplementedError

    def write_images(self, step: int, images: Mapping[str, Any]) -> None:
        """Writes images of one step.

        Args:
          step: the training step they belong to.
          images: name -> ``[H, W]``, ``[H, W, C]`` or ``[N, H, W, C]`` array (C of 1, 3 or 4),
            floats in ``[0, 1]`` or ``uint8``.
        """

    def write_hparams(self, hparams: Mapping[str, Any]) -> None:
        """Writes the run's hyperparameters (nested mappings are flattened with ``.``).

        Args:
          hparams: name -> value.
        """

    def flush(self) -> None:
        """Makes everything written so far readable by others."""

    def close(self) -> None:
        """Flushes and releases the writer's files."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
