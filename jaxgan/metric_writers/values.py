"""Values as writers store them: flat hyperparameters of plain types, scalars as Python floats."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

__all__ = ["flat_hparams", "plain_scalars"]


def flat_hparams(hparams: Mapping[str, Any], prefix: str = "") -> dict:
    """Hyperparameters flattened (``{"a": {"b": 1}}`` -> ``{"a.b": 1}``) into ``bool/int/float/str/None``.

    Args:
      hparams: name -> value; nested mappings are flattened, other types written as ``str(value)``.
      prefix: prepended to every name (used by the recursion).

    Returns:
      A flat dict of plain values (a tuple becomes its text).
    """
    flat = {}
    for name, value in hparams.items():
        key = f"{prefix}{name}"
        if value is None:
            flat[key] = None
        elif isinstance(value, Mapping):
            flat.update(flat_hparams(value, prefix=f"{key}."))
        elif isinstance(value, (bool, np.bool_)):
            flat[key] = bool(value)
        elif isinstance(value, (int, np.integer)):
            flat[key] = int(value)
        elif isinstance(value, (float, np.floating)):
            flat[key] = float(value)
        else:
            flat[key] = str(value)
    return flat


def plain_scalars(scalars: Mapping[str, Any]) -> dict:
    """``name -> float`` of each scalar (a NumPy or JAX scalar, or an array of one element)."""
    return {name: value if type(value) is float else float(np.asarray(value).reshape(())) for name, value in scalars.items()}
