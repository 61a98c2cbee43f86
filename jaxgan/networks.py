"""Networks as pairs of pure functions.

The rest of jaxgan never sees a Flax module: it sees a :class:`Network`, whose ``init`` makes
``(params, stats)`` and whose ``apply`` maps ``(params, stats, x, train)`` to ``(y, new_stats)``.
``stats`` holds the model statistics (BatchNorm running means and variances, as a dict of Flax
collections); it is ``{}`` for a network without any. In training mode the returned statistics are
the updated ones; in evaluation mode they are returned unchanged.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, NamedTuple

import flax.linen as nn
import jax

__all__ = ["Network", "from_linen"]

Params = Any
Stats = Any


class Network(NamedTuple):
    """``init(key, x) -> (params, stats)`` and ``apply(params, stats, x, train) -> (y, stats)``."""

    init: Callable[[jax.Array, jax.Array], tuple[Params, Stats]]
    apply: Callable[..., tuple[jax.Array, Stats]]


def _accepts_train(module: nn.Module) -> bool:
    """Whether the module's ``__call__`` has a ``train`` parameter."""
    try:
        return "train" in inspect.signature(type(module).__call__).parameters
    except (TypeError, ValueError):  # pragma: no cover - exotic callables
        return False


def from_linen(module: nn.Module) -> Network:
    """Wraps a Flax Linen module as a :class:`Network`.

    A module whose ``__call__`` takes a ``train`` argument receives it; its non-``params``
    collections (e.g. ``batch_stats``) become ``stats`` and are updated in training mode.

    Args:
      module: a Flax Linen module mapping one array to one array.

    Returns:
      A :class:`Network` whose ``init(key, x)`` returns ``(params, stats)`` and whose
      ``apply(params, stats, x, train=True)`` returns ``(y, new_stats)``.
    """
    takes_train = _accepts_train(module)

    def init(key: jax.Array, x: jax.Array) -> tuple[Params, Stats]:
        kwargs = {"train": False} if takes_train else {}
        variables = dict(module.init(key, x, **kwargs))
        params = variables.pop("params", {})
        return params, variables

    def apply(params: Params, stats: Stats, x: jax.Array, train: bool = True):
        variables = {"params": params, **stats}
        kwargs = {"train": train} if takes_train else {}
        if train and stats:
            y, new_stats = module.apply(variables, x, mutable=list(stats), **kwargs)
            return y, dict(new_stats)
        return module.apply(variables, x, **kwargs), stats

    return Network(init=init, apply=apply)
