"""Multilayer perceptrons: the lecture's toy G and D, and MLPs for 2D mixtures.

Their dense layers are Flax's ``nn.Dense``; ``dot_general`` (default ``lax.dot_general``) is the
product they use, so that a faster exact form can be chosen by the caller (the toy GAN experiment
passes :func:`jaxgan.speedups.small_dense.dense_product` on CPU).
"""

from __future__ import annotations

from typing import Callable, Sequence

import flax.linen as nn
import jax
from jax import lax

__all__ = ["LinearGenerator", "MLP"]


class LinearGenerator(nn.Module):
    """The lecture's G: one affine layer ``G(z) = z W + b``.

    For ``z ~ N(0, I)``, ``G(z) ~ N(b, W^T W)``.

    Attributes:
      features: the samples' width.
      dot_general: the layer's product (``lax.dot_general``, or a faster exact form such as
        :func:`jaxgan.speedups.small_dense.dense_product`).
    """

    features: int = 2
    dot_general: Callable = lax.dot_general

    @nn.compact
    def __call__(self, z: jax.Array) -> jax.Array:
        return nn.Dense(self.features, name="linear", dot_general=self.dot_general)(z)


class MLP(nn.Module):
    """A multilayer perceptron ``Dense -> act -> ... -> Dense(out)``.

    The lecture's D is ``MLP((20, 10), 2)`` with ReLU.

    Attributes:
      hidden: the hidden layers' widths.
      out: the output width.
      activation: the name of a ``flax.linen`` activation (``"relu"``, ``"tanh"``, ...).
      dot_general: the layers' product (``lax.dot_general``, or a faster exact form such as
        :func:`jaxgan.speedups.small_dense.dense_product`).
    """

    hidden: Sequence[int]
    out: int
    activation: str = "relu"
    dot_general: Callable = lax.dot_general

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = getattr(nn, self.activation)
        for width in self.hidden:
            x = act(nn.Dense(width, dot_general=self.dot_general)(x))
        return nn.Dense(self.out, dot_general=self.dot_general)(x)
