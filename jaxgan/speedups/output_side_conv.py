"""A stride-1 convolution with few output channels, as a matrix product on the output side.

XLA:CPU runs convolutions with few output channels (an image head to 1-3 channels) far below its
matrix-product speed; :func:`conv_output_side` computes the same function as one well-shaped matrix
product and ``K^2`` shifted sums of ``d`` channels. Used on CPU by CycleGAN's convolutions
(:mod:`jaxgan.speedups.translator_convs`) and DCGAN's last sub-pixel layer
(:mod:`jaxgan.speedups.layers`) wherever :func:`few_outputs` holds.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

__all__ = ["conv_output_side", "few_outputs"]


def conv_output_side(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """Computes a VALID stride-1 convolution as a matrix product on the *output* side, then shifted sums.

    ::

        Z[n, i, j, (a, b, e)] = sum_c x[n, i, j, c] W[a, b, c, e]       (one [NHW, c] @ [c, K K d])
        y[n, o, p, e] = sum_{a, b} Z[n, o + a, p + b, (a, b, e)]
                      = sum_{a, b, c} x[n, o + a, p + b, c] W[a, b, c, e]

    the convolution's own sum, regrouped. For layers with few output channels (the generator's
    7x7 head to 3 channels, the PatchGAN's 1-channel logits), which XLA:CPU's convolution runs far
    below its matrix-product speed, while ``Z`` is a well-shaped matrix product and the ``K^2``
    shifted sums touch only ``d`` channels. Gradients: matrix products, and for the shifted sums
    :func:`_shifted_sum`'s own. Products and sums accumulate in float32 (one rounding at the end
    for bfloat16 inputs).

    Args:
      x: ``[N, H, W, c]`` inputs (already padded: the convolution is VALID).
      kernel: ``[K, K, c, d]`` kernel (Flax ``nn.Conv`` layout).

    Returns:
      ``[N, H - K + 1, W - K + 1, d]``, in ``x``'s and ``kernel``'s common dtype.
    """
    n, h, w, c = x.shape
    k, _, _, d = kernel.shape
    z = jnp.dot(x.reshape(n * h * w, c), kernel.transpose(2, 0, 1, 3).reshape(c, k * k * d),
                preferred_element_type=jnp.float32)
    return _shifted_sum(z.reshape(n, h, w, k * k, d), k).astype(jnp.result_type(x, kernel))


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _shifted_sum(z: jax.Array, k: int) -> jax.Array:
    """``y[n, o, p] = sum_{a, b < k} z[n, o + a, p + b, a k + b]`` for ``z`` ``[N, H, W, k^2, d]``.

    Its transpose is ``dz[n, i, j, a k + b] = dy[n, i - a, j - b]`` (zero outside ``dy``): each
    element of ``dz`` is one element of the zero-padded ``dy``, a stack of ``k^2`` windows. Autodiff
    would add ``k^2`` padded copies of ``dy`` instead, which XLA:CPU fuses into one loop that
    evaluates all ``k^2`` of them per element: ``k^2`` times the work (49 for a 7x7 head), a large
    share of the 256x256 CycleGAN's training step.
    """
    _, h, w, _, _ = z.shape
    ho, wo = h - k + 1, w - k + 1
    y = z[:, :ho, :wo, 0]
    for tap in range(1, k * k):
        a, b = divmod(tap, k)
        y = y + z[:, a : a + ho, b : b + wo, tap]
    return y


def _shifted_sum_fwd(z, k):
    return _shifted_sum(z, k), z.shape[1:3]


def _shifted_sum_bwd(k, size, dy):
    h, w = size
    dyp = jnp.pad(dy, ((0, 0), (k - 1, k - 1), (k - 1, k - 1), (0, 0)))  # dyp[i + k - 1] = dy[i]
    windows = [dyp[:, k - 1 - a : k - 1 - a + h, k - 1 - b : k - 1 - b + w] for a in range(k) for b in range(k)]
    return (jnp.stack(windows, axis=3),)


_shifted_sum.defvjp(_shifted_sum_fwd, _shifted_sum_bwd)


def few_outputs(in_channels: int, out_channels: int) -> bool:
    """Tells whether :func:`conv_output_side` is the CPU's fastest form: few outputs, ``4 d <= c``.

    It holds for CycleGAN's 7x7 head to 3 channels and the PatchGAN's 1-channel logits, and for
    DCGAN's last generator layer (sub-pixel kernels of ``4 x out`` channels: 64 -> 12, 32 -> 4),
    where it also beats Winograd's F(3x3, 2x2) forward and backward (``docs/performance.md``).

    Args:
      in_channels: the convolution's input channels ``c``.
      out_channels: its output channels ``d``.

    Returns:
      ``4 * out_channels <= in_channels``.
    """
    return 4 * out_channels <= in_channels
