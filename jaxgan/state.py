"""The training state: one pytree holding everything that changes during training.

``GANState`` = for each player (``g``, ``d``) its parameters, model statistics and optax optimizer
state, plus the iteration counter ``step`` and the PRNG ``key``. Nothing static lives here: apply
functions, optimizers and losses are closed over by the step functions (see ``jaxgan.steps``), so the
state can be checkpointed, vmapped over seeds and sharded like any array pytree.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

__all__ = ["PlayerState", "GANState", "take_key", "zero_step"]


class PlayerState(NamedTuple):
    """One player's state: ``params``, model ``stats`` (``{}`` if none) and optimizer ``opt_state``."""

    params: Any
    stats: Any
    opt_state: Any


class GANState(NamedTuple):
    """Generator and discriminator states, the iteration counter and the run's PRNG key.

    ``step`` counts completed iterations (one iteration = the D step(s) and one G step).
    ``key`` is a raw ``uint32[2]`` key; every random draw of the run is split from it.
    """

    g: PlayerState
    d: PlayerState
    step: jax.Array
    key: jax.Array


def take_key(state):
    """Splits the state's key into a new state key and a fresh subkey.

    Args:
      state: any state with a ``key`` field (a :class:`GANState`, a CycleGAN state...).

    Returns:
      ``(state with the new key, subkey)``.
    """
    key, sub = jax.random.split(state.key)
    return state._replace(key=key), sub


def zero_step() -> jax.Array:
    """The iteration counter of a new state: ``int32`` zero."""
    return jnp.zeros((), jnp.int32)
