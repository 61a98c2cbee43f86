"""A dense layer's product whose kernel gradient XLA:CPU computes faster for small matrices.

Autodiff writes the kernel's gradient of ``y = x @ W`` as ``x^T g``, a product contracting the batch
axis of both operands, which XLA:CPU hands to Eigen; for the small matrices of the lecture's toy
GAN that call costs several times YNNPACK's. :func:`dense_product` computes the same gradient as a
product of the materialised ``x^T``, which YNNPACK takes. Same parameters, same function; only the
rounding order of the gradient's sums may differ. For small products only
(:data:`SMALL_PRODUCT_MACS`), where the call is the cost; larger ones keep autodiff's gradient.

Use it as a Flax ``nn.Dense``'s ``dot_general`` (the MLPs of :mod:`jaxgan.models.mlp` take it as
their ``dot_general`` field) on CPU; ``docs/performance.md`` explains the form and
``docs/results.md`` has its numbers.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["SMALL_PRODUCT_MACS", "dense_product"]

_DENSE_DIMS = (((1,), (0,)), ((), ()))
# Products up to this many multiply-adds take the copied-transpose gradient: there the call is the
# cost (the toy's layers at batch 32, <= 6,400). Larger products, such as the mixture's MLPs at
# batch 128 (16K-2.1M per layer), run slower with it (the copy, and R1's second derivative through
# it), so they keep autodiff's.
SMALL_PRODUCT_MACS = 2**13


def dense_product(inputs: jax.Array, kernel: jax.Array, dimension_numbers, precision=None,
                  preferred_element_type=None) -> jax.Array:
    """Computes ``inputs @ kernel`` as ``nn.Dense``'s ``dot_general``, with a CPU-friendly gradient.

    Small 2-d products (at most :data:`SMALL_PRODUCT_MACS` multiply-adds, with ``nn.Dense``'s
    dimension numbers) get the gradient of :func:`_cpu_matmul`: ``dkernel = copy(inputs^T) @ g``
    and ``dinputs = g @ kernel^T``, each computed only when asked for. Every other product is
    ``lax.dot_general`` unchanged.

    Args:
      inputs: ``[batch, in]`` activations (other shapes take ``lax.dot_general`` unchanged).
      kernel: ``[in, out]`` weights.
      dimension_numbers: as ``lax.dot_general``'s.
      precision: as ``lax.dot_general``'s.
      preferred_element_type: as ``lax.dot_general``'s (used by the unchanged path only).

    Returns:
      ``inputs @ kernel``, ``[batch, out]``.
    """
    small = inputs.ndim == 2 and inputs.shape[0] * inputs.shape[1] * kernel.shape[-1] <= SMALL_PRODUCT_MACS
    if small and dimension_numbers == _DENSE_DIMS:
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
