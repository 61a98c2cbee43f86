"""The ``--sweep`` spec of the mixture experiment: its names, :func:`parse_sweep` and the grid's cells.

A leaf module (it imports nothing of the experiment), read by the command line
(:mod:`experiments.mixture_gan.config`) and by the sweep itself (:mod:`experiments.mixture_gan.sweep`).
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

from experiments.runner import UserError

__all__ = ["SWEEPABLE", "Axis", "cell_settings", "parse_sweep"]

#: Sweep names and the recipe fields each sets.
SWEEPABLE = {
    "lr": ("g_lr", "d_lr"),
    "g-lr": ("g_lr",),
    "d-lr": ("d_lr",),
    "penalty-weight": ("penalty_weight",),
    "beta1": ("beta1",),
    "beta2": ("beta2",),
}


class Axis(NamedTuple):
    """One axis of the grid: a sweep name and its values, in the order given."""

    name: str
    values: tuple[float, ...]


def _number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"--sweep: {name} has a value that is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise UserError(f"--sweep: {name} values must be finite, got {text!r}")
    if name in ("lr", "g-lr", "d-lr") and not value > 0:
        raise UserError(f"--sweep: {name} values must be positive, got {text!r}")
    if name == "penalty-weight" and value < 0:
        raise UserError(f"--sweep: penalty-weight values must be >= 0, got {text!r}")
    if name in ("beta1", "beta2") and not 0 <= value < 1:
        raise UserError(f"--sweep: {name} values must be in [0, 1), got {text!r}")
    return value


def parse_sweep(spec: str) -> tuple[Axis, ...]:
    """The axes of a ``--sweep`` spec, ``NAME=V1,V2,...[:NAME=V1,...]``; ``UserError`` (one line) if malformed.

    Args:
      spec: the spec, e.g. ``"lr=1e-4,1e-3:penalty-weight=0,0.05"``.

    Returns:
      One or two :class:`Axis`, in the order given (names with ``_`` are read as ``-``).
    """
    parts = spec.split(":")
    if not spec.strip() or len(parts) > 2:
        raise UserError(f"--sweep takes one or two axes NAME=V1,V2,... separated by ':', got {spec!r}")
    axes = []
    for part in parts:
        name, eq, values = part.partition("=")
        name = name.strip().replace("_", "-")
        if not eq or not name or not values.strip():
            raise UserError(f"--sweep: each axis is NAME=V1,V2,..., got {part!r}")
        if name not in SWEEPABLE:
            raise UserError(f"--sweep: unknown name {name!r}; sweepable: {', '.join(SWEEPABLE)}")
        numbers = tuple(_number(name, v.strip()) for v in values.split(","))
        if len(set(numbers)) != len(numbers):
            raise UserError(f"--sweep: {name} repeats a value: {values!r}")
        axes.append(Axis(name, numbers))
    fields = [f for axis in axes for f in SWEEPABLE[axis.name]]
    if len(set(fields)) != len(fields):
        raise UserError(f"--sweep: {' and '.join(a.name for a in axes)} set the same hyperparameter")
    return tuple(axes)


def cell_settings(axes: tuple[Axis, ...]) -> list[dict[str, float]]:
    """Every cell's ``{sweep name: value}``, row by row (the last axis varies fastest)."""
    return [dict(zip((a.name for a in axes), values)) for values in itertools.product(*(a.values for a in axes))]
