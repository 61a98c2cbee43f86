"""Multilayer perceptrons: the lecture's toy G and D, and MLPs for 2D mixtures."""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax

__all__ = ["LinearGenerator", "MLP"]


class LinearGenerator(nn.Module):
    """The lecture's G: one affine layer ``G(z) = z W + b``, so ``G(z) ~ N(b, W^T W)`` for ``z ~ N(0, I)``."""

    features: int = 2

    @nn.compact
    def __call__(self, z: jax.Array) -> jax.Array:
        return nn.Dense(self.features, name="linear")(z)


class MLP(nn.Module):
    """``Dense -> act -> ... -> Dense(out)``; the lecture's D is ``MLP((20, 10), 2)`` with ReLU."""

    hidden: Sequence[int]
    out: int
    activation: str = "relu"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = getattr(nn, self.activation)
        for width in self.hidden:
            x = act(nn.Dense(width)(x))
        return nn.Dense(self.out)(x)
