"""The one door to JAX's private API (``jax._src``) for the speed forms that need it.

JAX's private modules change between releases without notice. Every use in jaxgan goes through
:func:`lookup`, which returns the named attributes, or ``None`` after ONE warning where this JAX does
not have them. The caller then keeps JAX's own behaviour (the plain form), so the run stays correct
and only the speed-up is lost.
"""

from __future__ import annotations

import functools
import importlib
import warnings
from typing import Any, Optional

__all__ = ["PrivateAPIWarning", "lookup"]


class PrivateAPIWarning(UserWarning):
    """A speed form turned itself off: JAX's private API is not as it expects."""


@functools.cache
def lookup(module: str, *names: str) -> Optional[tuple[Any, ...]]:
    """The attributes ``names`` of ``jax._src.<module>``, or ``None`` (with one warning) if absent.

    Args:
      module: the module under ``jax._src``, e.g. ``"xla_bridge"`` or ``"random.threefry2x32"``.
      *names: the attributes wanted from it.

    Returns:
      A tuple of the attributes in the order asked, or ``None`` where the module or one of them is
      missing. The answer is cached, so the warning is given once per ``(module, names)``.
    """
    try:
        found = importlib.import_module(f"jax._src.{module}")
        return tuple(getattr(found, name) for name in names)
    except (ImportError, AttributeError) as e:
        warnings.warn(
            f"jaxgan.speedups: this JAX has no jax._src.{module}.{'/'.join(names)} ({e}); "
            "the faster form is off and JAX's own form runs instead (same results)",
            PrivateAPIWarning,
            stacklevel=3,
        )
        return None
