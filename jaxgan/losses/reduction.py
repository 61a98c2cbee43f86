"""Weighting and reduction shared by the losses (:mod:`jaxgan.losses.adversarial`,
:mod:`jaxgan.losses.translation`).

Inputs are cast to float32 (``as_float32``); ``weights`` align with the leading batch axis
(``align_weights``); ``weighted_reduce`` applies one of ``REDUCTIONS`` and ``two_terms`` reduces
a D loss's real and fake terms each over its own batch and adds them. The conventions are stated in
:mod:`jaxgan.losses`' docstring, the documented entry point.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

REDUCTIONS = ("mean", "sum", "none", "sum_by_nonzero_weights")


# --------------------------------------------------------------------------------------------------
# Weighting and reduction
# --------------------------------------------------------------------------------------------------


def as_float32(x) -> jax.Array:
    return jnp.asarray(x).astype(jnp.float32)


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def align_weights(weights, shape: tuple[int, ...]) -> jax.Array:
    """Broadcasts ``weights`` to ``shape``, aligning a lower-rank weight with the leading axes."""
    w = as_float32(weights)
    if 0 < w.ndim < len(shape):
        w = w.reshape(w.shape + (1,) * (len(shape) - w.ndim))
    try:
        return jnp.broadcast_to(w, shape)
    except ValueError:
        raise ValueError(
            f"weights of shape {jnp.shape(weights)} do not broadcast to losses of shape {shape} "
            "(weights align with the leading batch axis)"
        ) from None


def weighted_reduce(losses: jax.Array, weights, reduction: str) -> jax.Array:
    """Weights element-wise ``losses`` (leading batch axis) and reduces them (see jaxgan.losses)."""
    _check_reduction(reduction)
    losses = as_float32(losses)
    if losses.ndim == 0:
        raise ValueError("losses need a leading batch axis, got a scalar")
    w = align_weights(weights, losses.shape)
    weighted = losses * w
    batch = losses.shape[0]
    if reduction == "sum_by_nonzero_weights":
        count = jnp.sum(w != 0).astype(jnp.float32)
        return jnp.where(count > 0, jnp.sum(weighted) / jnp.maximum(count, 1.0), 0.0)
    per_example = jnp.mean(weighted.reshape(batch, -1), axis=1)
    if reduction == "none":
        return per_example
    total = jnp.sum(per_example)
    return total if reduction == "sum" else total / batch


def two_terms(real_terms, fake_terms, weights, real_weights, fake_weights, reduction):
    """``reduce(real_terms) + reduce(fake_terms)``, each over its own batch."""
    if reduction == "none" and real_terms.shape[0] != fake_terms.shape[0]:
        raise ValueError(
            "reduction='none' adds per-example values and needs equal batch sizes, got "
            f"{real_terms.shape[0]} real and {fake_terms.shape[0]} fake"
        )
    w_real = align_weights(weights, real_terms.shape) * align_weights(real_weights, real_terms.shape)
    w_fake = align_weights(weights, fake_terms.shape) * align_weights(fake_weights, fake_terms.shape)
    return weighted_reduce(real_terms, w_real, reduction) + weighted_reduce(
        fake_terms, w_fake, reduction
    )
