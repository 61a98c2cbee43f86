"""One writer that hands everything to several."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from jaxgan.metric_writers.interface import MetricWriter

__all__ = ["MultiWriter"]


class MultiWriter(MetricWriter):
    """Writes to each of ``writers`` in turn (none: writes nothing, e.g. on processes other than 0).

    Args:
      writers: the writers to fan out to.
    """

    def __init__(self, writers: Iterable[MetricWriter]):
        self.writers = list(writers)

    def write_scalars(self, step: int, scalars: Mapping[str, Any]) -> None:
        for w in self.writers:
            w.write_scalars(step, scalars)

    def write_images(self, step: int, images: Mapping[str, Any]) -> None:
        for w in self.writers:
            w.write_images(step, images)

    def write_hparams(self, hparams: Mapping[str, Any]) -> None:
        for w in self.writers:
            w.write_hparams(hparams)

    def flush(self) -> None:
        for w in self.writers:
            w.flush()

    def close(self) -> None:
        for w in self.writers:
            w.close()
