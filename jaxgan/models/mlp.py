"""Multilayer perceptrons: the lecture's toy G and D, and MLPs for 2D mixtures.

Their dense layers are Flax's ``nn.Dense`` with one change on CPU (:func:`dense_product`): the
kernel's gradient ``x^T g`` is computed as a product of the materialised ``x^T``. Autodiff writes it
as a product contracting the batch axis of both operands, which XLA:CPU hands to Eigen, whose call
costs ~3x YNNPACK's for the small matrices of these networks; with ``x^T`` copied first (a small
activation), YNNPACK takes it. For small products only, where the call is the cost: the lecture's
toy GAN trains ~9% faster in its ``lax.scan`` loop and ~20% faster 64 seeds at once
(``docs/benchmarks.md``). Same parameters, same function; only the rounding order of the
gradient's sums may differ.
"""

from __future__ import annotations

import functools
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["LinearGenerator", "MLP", "dense_product"]

_DENSE_DIMS = (((1,), (0,)), ((), ()))
# Products up to this many multiply-adds take the copied-transpose gradient: there the call is the
# cost (the toy's layers at batch 32, <= 6,400). The mixture's MLPs at batch 128 (16K-2.1M per
# layer) measured 3-8% slower with it (the copy, and R1's second derivative through it), so they
# keep autodiff's.
SMALL_PRODUCT_MACS = 2**13


def dense_product(inputs: jax.Array, kernel: jax.Array, dimension_numbers, precision=None,
                  preferred_element_type=None) -> jax.Array:
    """``nn.Dense``'s ``dot_general``: ``inputs @ kernel``; on CPU, for small 2-d products
    (:data:`SMALL_PRODUCT_MACS`), with the gradient of :func:`_cpu_matmul` (``dkernel =
    copy(inputs^T) @ g``, ``dinputs = g @ kernel^T``, each only when asked for)."""
    small = inputs.ndim == 2 and inputs.shape[0] * inputs.shape[1] * kernel.shape[-1] <= SMALL_PRODUCT_MACS
    if jax.default_backend() == "cpu" and small and dimension_numbers == _DENSE_DIMS:
        return _cpu_matmul(inputs, kernel, precision)
    return lax.dot_general(inputs, kernel, dimension_numbers, precision=precision,
                           preferred_element_type=preferred_element_type)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _cpu_matmul(x: jax.Array, kernel: jax.Array, precision) -> jax.Array:
    return lax.dot_general(x, kernel, _DENSE_DIMS, precision=precision)


def _cpu_matmul_fwd(x, kernel, precision):
    # symbolic_zeros: x and kernel arrive as CustomVJPPrimal; a gradient nobody asked for (e.g. D's
    # kernel in the G step) is neither computed nor given the residual it would need.
    out = _cpu_matmul(x.value, kernel.value, precision)
    return out, (x.value if kernel.perturbed else None, kernel.value if x.perturbed else None)


def _cpu_matmul_bwd(precision, residuals, g):
    x, kernel = residuals
    dx = dkernel = None
    if isinstance(g, jax.custom_derivatives.SymbolicZero):  # the output does not reach the loss
        return dx, dkernel
    if kernel is not None:
        dx = lax.dot_general(g, kernel, (((1,), (1,)), ((), ())), precision=precision)
    if x is not None:
        # The barrier keeps XLA from folding the transpose back into the product's dimension numbers.
        x_t = lax.optimization_barrier(jnp.transpose(x))
        dkernel = lax.dot_general(x_t, g, _DENSE_DIMS, precision=precision)
    return dx, dkernel


_cpu_matmul.defvjp(_cpu_matmul_fwd, _cpu_matmul_bwd, symbolic_zeros=True)


class LinearGenerator(nn.Module):
    """The lecture's G: one affine layer ``G(z) = z W + b``, so ``G(z) ~ N(b, W^T W)`` for ``z ~ N(0, I)``."""

    features: int = 2

    @nn.compact
    def __call__(self, z: jax.Array) -> jax.Array:
        return nn.Dense(self.features, name="linear", dot_general=dense_product)(z)


class MLP(nn.Module):
    """``Dense -> act -> ... -> Dense(out)``; the lecture's D is ``MLP((20, 10), 2)`` with ReLU."""

    hidden: Sequence[int]
    out: int
    activation: str = "relu"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = getattr(nn, self.activation)
        for width in self.hidden:
            x = act(nn.Dense(width, dot_general=dense_product)(x))
        return nn.Dense(self.out, dot_general=dense_product)(x)
