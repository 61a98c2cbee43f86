"""Networks as pairs of pure functions.

The rest of jaxgan never sees a Flax module: it sees a :class:`Network`, whose ``init`` makes
``(params, stats)`` and whose ``apply`` maps ``(params, stats, x, train)`` to ``(y, new_stats)``.
``stats`` holds the model statistics (BatchNorm running means and variances, as a dict of Flax
collections); it is ``{}`` for a network without any. In training mode the returned statistics are
the updated ones; in evaluation mode they are returned unchanged.

A network that draws random numbers in training mode (dropout) keeps its own PRNG key in
``stats``, as NNX keeps its ``nnx.Rngs`` state: :func:`from_linen` stores it under
:data:`RNG_KEY` (seeded from ``init``'s key, which :func:`jaxgan.init_state` splits from the run's
key) and splits it on every training-mode call, so each call draws fresh masks and the same seed
gives the same run.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, NamedTuple, Optional

import flax.errors
import flax.linen as nn
import jax

__all__ = ["Network", "RNG_KEY", "as_network", "from_linen", "from_nnx"]

#: The entry of a Linen network's ``stats`` holding its PRNG key (dropout's), where it needs one.
RNG_KEY = "rng_key"

# Names a Linen module may give its training switch; ``deterministic`` means the opposite.
TRAIN_ARGUMENTS = ("train", "training", "is_training")

Params = Any
Stats = Any


class Network(NamedTuple):
    """``init(key, x) -> (params, stats)`` and ``apply(params, stats, x, train) -> (y, stats)``."""

    init: Callable[[jax.Array, jax.Array], tuple[Params, Stats]]
    apply: Callable[..., tuple[jax.Array, Stats]]


def _train_argument(module: nn.Module) -> Optional[str]:
    """The name of the module's training switch: one of :data:`TRAIN_ARGUMENTS`, ``"deterministic"``,
    or ``None``."""
    try:
        names = inspect.signature(type(module).__call__).parameters
    except (TypeError, ValueError):  # pragma: no cover - exotic callables
        return None
    found = [n for n in (*TRAIN_ARGUMENTS, "deterministic") if n in names]
    return found[0] if found else None


def _switch(name: Optional[str], train: bool) -> dict:
    """The keyword argument that puts the module in training (or evaluation) mode."""
    if name is None:
        return {}
    return {name: (not train) if name == "deterministic" else train}


def from_linen(module: nn.Module, *, train_argument: Optional[str] = "auto") -> Network:
    """Wraps a Flax Linen module as a :class:`Network`.

    The module's training switch is found by name (``train``, ``training``, ``is_training``, or
    ``deterministic``, which means the opposite); ``train_argument`` names another one, or
    ``None`` for a module without one. Its non-``params`` collections (e.g. ``batch_stats``)
    become ``stats`` and are updated in training mode. A module that asks for random numbers
    (``nn.Dropout``, or any ``self.make_rng``) gets them from a key kept in ``stats[RNG_KEY]``:
    ``init`` seeds it from its key, and every training-mode call splits it (the new key goes back
    into the returned ``stats``; every RNG stream the module names draws from the split-off key).
    Evaluation mode uses the stored key without advancing it. In a G step, D's state passes through
    bit-identical, its key included: the G step's D draws the masks that the next D step's first
    call draws again (on other inputs), as NNX's ``nnx.Rngs`` state does under :func:`from_nnx`.

    Args:
      module: a Flax Linen module mapping one array to one array.
      train_argument: the name of ``__call__``'s training switch, ``"auto"`` to find it, or ``None``.

    Returns:
      A :class:`Network` whose ``init(key, x)`` returns ``(params, stats)`` and whose
      ``apply(params, stats, x, train=True)`` returns ``(y, new_stats)``.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"from_linen takes a flax.linen.Module, got {type(module).__name__}")
    switch = _train_argument(module) if train_argument == "auto" else train_argument

    def call(params: Params, collections: Stats, x: jax.Array, train: bool, key: Optional[jax.Array]):
        """The module applied; ``(y, updated collections)``, the collections unchanged outside training."""
        variables = {"params": params, **collections}
        kwargs = _switch(switch, train)
        if key is not None:
            # Flax draws every RNG stream a module names from the "params" one when it is the only
            # one given: dropout's, or any other name, without this wrapper having to know it.
            kwargs["rngs"] = {"params": key}
        if train and collections:
            y, new_collections = module.apply(variables, x, mutable=list(collections), **kwargs)
            return y, dict(new_collections)
        return module.apply(variables, x, **kwargs), collections

    def init(key: jax.Array, x: jax.Array) -> tuple[Params, Stats]:
        variables = dict(module.init(key, x, **_switch(switch, False)))
        params = variables.pop("params", {})
        if _needs_rng(lambda: call(params, variables, x, True, None)):
            variables[RNG_KEY] = jax.random.fold_in(key, 1)  # a stream apart from the parameters'
        return params, variables

    def apply(params: Params, stats: Stats, x: jax.Array, train: bool = True):
        if RNG_KEY not in stats:
            return call(params, stats, x, train, None)
        collections = {name: value for name, value in stats.items() if name != RNG_KEY}
        if not train:
            return call(params, collections, x, False, stats[RNG_KEY])[0], stats
        rng_key, call_key = jax.random.split(stats[RNG_KEY])
        y, new_collections = call(params, collections, x, True, call_key)
        return y, {**new_collections, RNG_KEY: rng_key}

    return Network(init=init, apply=apply)


def _needs_rng(train_call: Callable[[], Any]) -> bool:
    """Whether a training-mode call asks for a PRNG key it was not given (traced, not run)."""
    try:
        jax.eval_shape(train_call)
    except flax.errors.InvalidRngError:
        return True
    return False


def from_nnx(module) -> Network:
    """Wraps a ``flax.nnx`` module as a :class:`Network`, split once into pure functions.

    ``nnx.split`` separates the module's graph from its state: the ``nnx.Param`` variables become
    ``params``, every other variable (BatchNorm's running statistics, spectral norm's vectors, the
    ``nnx.Rngs`` state that dropout draws from) becomes ``stats``. ``apply`` merges them into a
    module, puts it in training (``module.train()``) or evaluation (``module.eval()``) mode, calls
    it, and returns the updated non-parameter state in training mode. ``init`` returns the
    module's own initial values: an NNX module is created already initialised (from the
    ``nnx.Rngs`` given to it), so the key ``init`` receives is not used; build one module per seed
    for runs that should start differently.

    Args:
      module: a ``flax.nnx.Module`` mapping one array to one array.

    Returns:
      A :class:`Network` over the module's parameters and statistics.
    """
    from flax import nnx

    if not isinstance(module, nnx.Module):
        raise TypeError(f"from_nnx takes a flax.nnx.Module, got {type(module).__name__}")
    graphdef, params, stats = nnx.split(module, nnx.Param, ...)

    def init(key: jax.Array, x: jax.Array) -> tuple[Params, Stats]:
        del key, x  # the module was initialised when it was created
        return params, stats

    def apply(params: Params, stats: Stats, x: jax.Array, train: bool = True):
        # copy: the statistics may be values of an outer trace (e.g. under the G step's jax.vjp),
        # which NNX will not let a module mutate in place; a copy is created in this trace.
        model = nnx.merge(graphdef, params, stats, copy=True)
        model.train() if train else model.eval()
        y = model(x)
        if not train:
            return y, stats
        return y, nnx.split(model, nnx.Param, ...)[2]

    return Network(init=init, apply=apply)


def _is_nnx(net: Any) -> bool:
    try:
        from flax import nnx
    except ImportError:  # pragma: no cover - Flax without NNX
        return False
    return isinstance(net, nnx.Module)


def as_network(net: Any, role: str = "network") -> Network:
    """``net`` as a :class:`Network`: a Network as it is, a Flax Linen module through
    :func:`from_linen`, a ``flax.nnx`` module through :func:`from_nnx`.

    Args:
      net: a :class:`Network`, a ``flax.linen.Module`` or a ``flax.nnx.Module``.
      role: what ``net`` is, for the error message (e.g. ``"generator"``).

    Returns:
      The Network.

    Raises:
      TypeError: for anything else, naming what to pass instead.
    """
    if isinstance(net, Network):
        return net
    if isinstance(net, nn.Module):
        return from_linen(net)
    if _is_nnx(net):
        return from_nnx(net)
    raise TypeError(
        f"the {role} must be a jaxgan.Network (a pair of pure init/apply functions), a flax.linen.Module "
        f"or a flax.nnx.Module, "
        f"got {type(net).__module__}.{type(net).__name__}; wrap your own functions as "
        "jaxgan.Network(init=..., apply=...)"
    )

