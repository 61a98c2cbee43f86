"""Metrics as JSON lines: one record per logged step, readable with nothing but the standard library.

Each line of the file is a JSON object: ``{"step": 100, "d_loss": 0.69, ...}`` for the scalars of
a step, or ``{"hparams": {...}}`` for the run's hyperparameters. Images are not kept (they need a
viewer: the TensorBoard writer keeps them).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from jaxgan.metric_writers.interface import MetricWriter
from jaxgan.metric_writers.values import flat_hparams, plain_scalars

__all__ = ["JsonLinesWriter", "read_metrics"]


def read_metrics(path) -> list[dict]:
    """The step records of a JSON-lines metrics file, in file order (hyperparameter lines left out).

    Args:
      path: the ``metrics.jsonl`` file.

    Returns:
      A list of dicts, each with ``"step"`` and that step's scalars.
    """
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                if "step" in record:
                    records.append(record)
    return records


def _kept_lines(path: Path, purge_step: int) -> list[str]:
    """The lines of ``path`` without the step records at ``purge_step`` or later."""
    if not path.is_file():
        return []
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and json.loads(line).get("step", -1) < purge_step:
            kept.append(line + "\n")
    return kept


class JsonLinesWriter(MetricWriter):
    """Writes scalars and hyperparameters to a JSON-lines file, one line each.

    Lines reach the file at most ``flush_secs`` after they are written (a line written that long
    after the previous flush flushes the file), and at :meth:`flush` and :meth:`close`: a reader
    following a run sees it a second behind, while a run logging every few milliseconds does not
    pay a system call per line.

    Args:
      path: the file (its directory is created).
      purge_step: ``None`` starts a new file; a step continues the existing file (a resumed run),
        dropping its records at that step or later (those of steps the run will train again), as
        TensorBoard's ``purge_step`` does.
      flush_secs: the longest a written line waits before reaching the file; 0 flushes each line.
      clock: seconds, for the flush interval (a test can pass its own).
    """

    def __init__(self, path, *, purge_step: Optional[int] = None, flush_secs: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):  # fmt: skip
        self.path = Path(path)
        self.flush_secs = float(flush_secs)
        self._clock = clock
        self._flushed_at = clock()
        self._names, self._template = None, ""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if purge_step is None:
            self._file = open(self.path, "w", encoding="utf-8")
            return
        kept = _kept_lines(self.path, purge_step)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text("".join(kept), encoding="utf-8")
        os.replace(tmp, self.path)
        self._file = open(self.path, "a", encoding="utf-8")

    def _write(self, record: dict) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._flush_if_due()

    def _flush_if_due(self) -> None:
        if self._clock() - self._flushed_at >= self.flush_secs:
            self.flush()

    def write_scalars(self, step: int, scalars: Mapping[str, Any]) -> None:
        values = plain_scalars(scalars)
        names = tuple(values)
        if names != self._names:  # a line's text is a template of its names, made once
            self._names = names
            fields = (json.dumps(k).replace("{", "{{").replace("}", "}}") + ": {}" for k in ("step", *names))
            self._template = "{{" + ", ".join(fields) + "}}\n"
        if all(map(math.isfinite, values.values())):  # float's repr is JSON's number, as json.dumps writes it
            self._file.write(self._template.format(int(step), *map(repr, values.values())))
            self._flush_if_due()
        else:  # NaN and infinities as json.dumps spells them
            self._write({"step": int(step), **values})

    def write_hparams(self, hparams: Mapping[str, Any]) -> None:
        self._write({"hparams": flat_hparams(hparams)})

    def flush(self) -> None:
        self._file.flush()
        self._flushed_at = self._clock()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
