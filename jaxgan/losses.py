"""Adversarial losses on discriminator logits.

Conventions used throughout:

* ``real_logits`` / ``fake_logits`` are D's raw outputs on real and generated batches, any shape with
  a leading batch axis. The softmax losses take two logits per example, shape ``(batch, 2)``,
  class 1 = real.
* Every loss returns a float32 scalar (``reduction="mean"`` or ``"sum"``) or per-example float32
  values (``reduction="none"``), whatever the input dtype.

An *objective* is a pair ``(d_loss, g_loss)``: ``d_loss(real_logits, fake_logits)`` is minimised
by D, ``g_loss(fake_logits, real_logits=None)`` by G. ``get_objective(name)`` looks one up.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

__all__ = [
    "Objective",
    "get_objective",
    "objective_names",
    "softmax_discriminator_loss",
    "softmax_generator_loss",
]

_REDUCTIONS = ("mean", "sum", "none")


def _per_example(values: jax.Array) -> jax.Array:
    """Averages every axis but the leading batch axis."""
    values = values.astype(jnp.float32)
    if values.ndim <= 1:
        return values
    return jnp.mean(values.reshape(values.shape[0], -1), axis=1)


def _reduce(per_example: jax.Array, weights, reduction: str) -> jax.Array:
    """Weights per-example values and reduces them ("mean" is the weighted mean over examples)."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    w = jnp.broadcast_to(jnp.asarray(weights, jnp.float32), per_example.shape)
    weighted = per_example * w
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return jnp.sum(weighted)
    return jnp.sum(weighted) / per_example.shape[0]


def _check_two_class(name: str, logits: jax.Array) -> None:
    if logits.ndim < 1 or logits.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (batch, 2) (class 1 = real), got {logits.shape}")


def softmax_discriminator_loss(real_logits, fake_logits, *, weights=1.0, reduction="mean"):
    """The lecture's 2-class softmax cross-entropy for D (class 1 = real, class 0 = fake).

    ``L_D = E_x[-log softmax(D(x))_1] + E_z[-log softmax(D(G(z)))_0]``

    Each term is averaged over its own batch, then the two are added, as in the lecture's
    ``loss_D(real_Y, ones) + loss_D(fake_Y, zeros)``.
    """
    real_logits = jnp.asarray(real_logits, jnp.float32)
    fake_logits = jnp.asarray(fake_logits, jnp.float32)
    _check_two_class("real_logits", real_logits)
    _check_two_class("fake_logits", fake_logits)
    real_nll = -jax.nn.log_softmax(real_logits, axis=-1)[..., 1]
    fake_nll = -jax.nn.log_softmax(fake_logits, axis=-1)[..., 0]
    return _reduce(_per_example(real_nll), weights, reduction) + _reduce(
        _per_example(fake_nll), weights, reduction
    )


def softmax_generator_loss(fake_logits, *, weights=1.0, reduction="mean"):
    """The lecture's non-saturating softmax loss for G: ``L_G = E_z[-log softmax(D(G(z)))_1]``."""
    fake_logits = jnp.asarray(fake_logits, jnp.float32)
    _check_two_class("fake_logits", fake_logits)
    nll = -jax.nn.log_softmax(fake_logits, axis=-1)[..., 1]
    return _reduce(_per_example(nll), weights, reduction)


class Objective(NamedTuple):
    """A GAN objective: ``d_loss(real_logits, fake_logits)`` and ``g_loss(fake_logits, real_logits)``.

    ``g_loss`` always accepts ``real_logits`` (``None`` is allowed unless
    ``generator_needs_real``); only the relativistic objective uses it.
    """

    d_loss: Callable
    g_loss: Callable

    @property
    def generator_needs_real(self) -> bool:
        return bool(getattr(self.g_loss, "needs_real_logits", False))


def _g_ignoring_real(g_loss: Callable) -> Callable:
    def wrapped(fake_logits, real_logits=None, **kw):
        del real_logits
        return g_loss(fake_logits, **kw)

    wrapped.__name__ = g_loss.__name__
    wrapped.__doc__ = g_loss.__doc__
    return wrapped


_OBJECTIVES: dict[str, Callable[[], Objective]] = {
    "softmax": lambda: Objective(
        softmax_discriminator_loss, _g_ignoring_real(softmax_generator_loss)
    ),
}


def objective_names() -> tuple[str, ...]:
    """Names accepted by :func:`get_objective`."""
    return tuple(sorted(_OBJECTIVES))


def get_objective(name: str | Objective) -> Objective:
    """Returns the ``(d_loss, g_loss)`` pair registered under ``name`` (an Objective passes through)."""
    if isinstance(name, Objective):
        return name
    if name not in _OBJECTIVES:
        raise ValueError(
            f"unknown loss {name!r}; known losses: {', '.join(objective_names())}"
        )
    return _OBJECTIVES[name]()
