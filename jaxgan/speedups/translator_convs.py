"""The convolutions of CycleGAN's networks, in exact forms, optionally those fastest on XLA:CPU.

The networks are :mod:`jaxgan.models.resnet_patchgan`'s; with ``cpu_forms=True`` (the caller's
choice) every convolution is computed in the exact form that is fastest on XLA:CPU.

- :func:`conv2d`: stride 1 or 2, zero padding; stride 2 as a stride-1 convolution of the
  space-to-depth input. Every stride-1 convolution goes through :func:`conv_valid`, which picks
  :func:`conv_output_side` (few outputs, CPU), Winograd's F(m x m, r x r) (big float32 layers,
  CPU: :mod:`jaxgan.speedups.winograd`) or XLA's convolution with canonical gradients (:func:`conv_stride1`).
- :func:`upsample_transpose` / :func:`upsample_subpixel`: PyTorch's
  ``ConvTranspose2d(k=3, s=2, p=1, output_padding=1)``, directly or as one 2x2 convolution and a
  depth-to-space (the derivation is in :mod:`jaxgan.models.resnet_patchgan`'s notes).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from jaxgan.speedups.layers import space_to_depth, space_to_depth_kernel
from jaxgan.speedups.output_side_conv import conv_output_side, few_outputs
from jaxgan.speedups.winograd import winograd_conv

__all__ = [
    "conv2d",
    "conv_valid",
    "conv_stride1",
    "conv_output_side",
    "upsample_transpose",
    "subpixel_kernel",
    "upsample_subpixel",
    "WINOGRAD_TILES",
    "WINOGRAD_MIN_MACS",
]

_DIMS = ("NHWC", "HWIO", "NHWC")


def _conv_general(x, kernel, padding):
    return lax.conv_general_dilated(x, kernel, (1, 1), padding, dimension_numbers=_DIMS)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def conv_stride1(x: jax.Array, kernel: jax.Array, padding) -> jax.Array:
    """Computes a stride-1 convolution whose gradients are themselves canonical NHWC/HWIO convolutions.

    ``dW[i, j, c, d] = sum_{n, h, w} xpad[n, h + i, w + j, c] g[n, h, w, d]`` (a convolution with
    batch and channel axes swapped) and ``dx = conv(g, flip(W)^T)`` with padding ``K - 1 - p``:
    the numbers of ``jax.grad`` of ``lax.conv_general_dilated``. Why: inside a ``lax.scan`` (the
    loop of :func:`jaxgan.fit`) XLA:CPU leaves the gradient convolutions JAX emits in their
    non-canonical dimension order and runs them many times slower than outside a loop
    (jax-ml/jax#12868); written this way they stay on the fast path everywhere.

    Args:
      x: ``[N, H, W, C]`` inputs.
      kernel: ``[KH, KW, C, D]`` kernel (HWIO).
      padding: zero padding ``((top, bottom), (left, right))``.

    Returns:
      ``[N, H + top + bottom - KH + 1, W + left + right - KW + 1, D]``.
    """
    return _conv_general(x, kernel, padding)


def _conv_stride1_fwd(x, kernel, padding):
    return _conv_general(x, kernel, padding), (x, kernel)


def _conv_stride1_bwd(padding, residuals, g):
    x, kernel = residuals
    kh, kw = kernel.shape[:2]
    (pt, pb), (pl, pr) = padding
    x_t = jnp.transpose(x, (3, 1, 2, 0))  # [c, H, W, n]: channels as batch, batch as features
    g_t = jnp.transpose(g, (1, 2, 0, 3))  # [Ho, Wo, n, d] as an HWIO kernel
    x_t = lax.pad(x_t, jnp.zeros((), x.dtype), ((0, 0, 0), (pt, pb, 0), (pl, pr, 0), (0, 0, 0)))
    dw = jnp.transpose(_conv_general(x_t, g_t, "VALID"), (1, 2, 0, 3))
    flipped = jnp.transpose(kernel[::-1, ::-1], (0, 1, 3, 2))
    dx = _conv_general(g, flipped, ((kh - 1 - pt, kh - 1 - pb), (kw - 1 - pl, kw - 1 - pr)))
    return dx, dw


conv_stride1.defvjp(_conv_stride1_fwd, _conv_stride1_bwd)


def conv2d(x: jax.Array, kernel: jax.Array, stride: int = 1, padding: int = 0, cpu_forms: bool = False) -> jax.Array:
    """Computes a square convolution of stride 1 or 2 with zero padding, in an exact form.

    ``y[o] = sum_k xpad[s o + k] @ W[k]``, NHWC.

    Stride 2 is computed exactly as a stride-1 convolution of the space-to-depth input: with
    ``k = 2t + r``, ``y[o] = sum_{t, r} xpad[2(o + t) + r] @ W[2t + r]``, i.e. a ``ceil(K/2)``-tap
    convolution over 2x2 blocks whose ``4C`` channels are the phases ``r``. Every stride-1
    convolution then goes through :func:`conv_valid`.

    Args:
      x: ``[N, H, W, C]`` inputs.
      kernel: ``[K, K, C, D]`` kernel (HWIO).
      stride: 1 or 2.
      padding: zero padding ``p`` on each side.
      cpu_forms: compute in the forms fastest on XLA:CPU (:func:`conv_valid`); same function.

    Returns:
      ``[N, (H + 2p - K) // s + 1, (W + 2p - K) // s + 1, D]``.

    Raises:
      ValueError: for a stride other than 1 or 2.
    """
    if stride == 1:
        return conv_valid(x, kernel, padding, cpu_forms)
    if stride != 2:
        raise ValueError(f"stride must be 1 or 2, got {stride}")
    _, h, w, _ = x.shape
    k = kernel.shape[0]
    t = (k + 1) // 2
    out_h, out_w = (h + 2 * padding - k) // 2 + 1, (w + 2 * padding - k) // 2 + 1
    # Pad (or crop the never-read tail) to exactly 2 (out + T - 1) rows and columns.
    extra_h, extra_w = 2 * (out_h + t - 1) - h - padding, 2 * (out_w + t - 1) - w - padding
    xp = lax.pad(x, jnp.zeros((), x.dtype), ((0, 0, 0), (padding, extra_h, 0), (padding, extra_w, 0), (0, 0, 0)))
    return conv_valid(space_to_depth(xp), space_to_depth_kernel(kernel), cpu_forms=cpu_forms)


# Winograd output tile m for each kernel size r (F(m x m, r x r)) on CPU, the fastest on the
# CycleGAN layers at 256x256; and the least work (direct multiply-adds) for which it pays:
# below ~2^28 (the 64x64 model's layers) its fixed cost per call loses to XLA's convolution
# (docs/performance.md).
WINOGRAD_TILES = {2: 3, 3: 4, 4: 2}
WINOGRAD_MIN_MACS = 2**28


def conv_valid(x: jax.Array, kernel: jax.Array, padding: int = 0, cpu_forms: bool = False) -> jax.Array:
    """Computes the stride-1 convolution of ``x`` zero-padded by ``padding``, in an exact form.

    With ``cpu_forms`` (the forms that are fastest on XLA:CPU; the caller chooses): few outputs
    (``4 out <= in``: the 7x7 head, the PatchGAN logits) as :func:`conv_output_side`; float32
    kernels of 2 to 4 taps (the residual blocks' 3x3, the space-to-depth and sub-pixel 2x2 forms,
    the PatchGAN's last 4x4) through Winograd's F(m x m, r x r)
    (:func:`jaxgan.speedups.winograd.winograd_conv`, ``m`` from :data:`WINOGRAD_TILES`), which does
    2.25-4x fewer multiplications where XLA:CPU's convolution is at its matrix-product ceiling,
    when the layer is big enough (:data:`WINOGRAD_MIN_MACS`: the 256x256 model's layers).
    Otherwise, and for the 7x7 input layer, XLA's convolution (:func:`conv_stride1`).

    Args:
      x: ``[N, H, W, C]`` inputs.
      kernel: ``[K, K, C, D]`` kernel (HWIO).
      padding: zero padding ``p`` on each side.
      cpu_forms: use the forms fastest on XLA:CPU, as above.

    Returns:
      ``[N, H + 2p - K + 1, W + 2p - K + 1, D]``.
    """
    if cpu_forms and few_outputs(x.shape[3], kernel.shape[3]):
        return conv_output_side(_zero_pad(x, padding), kernel)
    if cpu_forms and _use_winograd(x, kernel, padding):
        return winograd_conv(_zero_pad(x, padding), kernel, WINOGRAD_TILES[kernel.shape[0]])
    return conv_stride1(x, kernel, ((padding, padding), (padding, padding)))


def _zero_pad(x: jax.Array, padding: int) -> jax.Array:
    """``x`` with ``padding`` zero rows and columns on each side (NHWC)."""
    if not padding:
        return x
    return lax.pad(x, jnp.zeros((), x.dtype), ((0, 0, 0), (padding, padding, 0), (padding, padding, 0), (0, 0, 0)))


def _use_winograd(x: jax.Array, kernel: jax.Array, padding: int) -> bool:
    n, h, w, c = x.shape
    r, _, _, d = kernel.shape
    macs = n * (h + 2 * padding - r + 1) * (w + 2 * padding - r + 1) * r * r * c * d
    return r in WINOGRAD_TILES and jnp.result_type(x, kernel) == jnp.float32 and macs >= WINOGRAD_MIN_MACS


def upsample_transpose(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """Computes CycleGAN's upsampling with XLA's transposed convolution.

    The upsampling is PyTorch's ``ConvTranspose2d(k=3, s=2, p=1, output_padding=1)``.

    Explicit padding ``(K-1-p, K-1-p+output_padding) = (1, 2)`` on the stride-dilated input.

    Args:
      x: ``[N, H, W, in]`` inputs.
      kernel: ``[3, 3, in, out]`` kernel (``nn.ConvTranspose`` layout).

    Returns:
      ``[N, 2H, 2W, out]``.
    """
    return lax.conv_transpose(x, kernel, (2, 2), ((1, 2), (1, 2)), dimension_numbers=_DIMS)


# _PHASE_TAPS[r][d]: the kernel tap used by output phase r at input offset d (3 = the zero tap).
_PHASE_TAPS = jnp.array([[1, 3], [0, 2]])


def subpixel_kernel(kernel: jax.Array) -> jax.Array:
    """Splits a 3x3 transposed-convolution kernel into the 2x2 kernels of its four output phases.

    ``result[dy, dx, c, (ry, rx, d)] = kernel[T[ry][dy], T[rx][dx], c, d]`` with
    ``T = [[1, -], [0, 2]]`` (``-`` = a zero tap).

    Args:
      kernel: ``[3, 3, in, out]`` kernel (``nn.ConvTranspose`` layout).

    Returns:
      ``[2, 2, in, 4 out]``, output channels in ``(ry, rx, d)`` order.
    """
    cin, cout = kernel.shape[2], kernel.shape[3]
    padded = jnp.pad(kernel, ((0, 1), (0, 1), (0, 0), (0, 0)))  # tap 3 = zeros
    taps = padded[_PHASE_TAPS[:, :, None, None], _PHASE_TAPS[None, None, :, :]]  # ry dy rx dx c d
    return taps.transpose(1, 3, 4, 0, 2, 5).reshape(2, 2, cin, 4 * cout)


def upsample_subpixel(x: jax.Array, kernel: jax.Array, cpu_forms: bool = False) -> jax.Array:
    """Computes :func:`upsample_transpose` exactly, as one 2x2 stride-1 convolution and a depth-to-space.

    The derivation is in :mod:`jaxgan.models.resnet_patchgan`'s notes.

    Args:
      x: ``[N, H, W, in]`` inputs.
      kernel: ``[3, 3, in, out]`` kernel (``nn.ConvTranspose`` layout).
      cpu_forms: compute the 2x2 convolution in the forms fastest on XLA:CPU (:func:`conv_valid`).

    Returns:
      ``[N, 2H, 2W, out]``.
    """
    n, h, w, _ = x.shape
    cout = kernel.shape[3]
    xp = jnp.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)))
    z = conv_valid(xp, subpixel_kernel(kernel), cpu_forms=cpu_forms)
    z = z.reshape(n, h, w, 2, 2, cout).transpose(0, 1, 3, 2, 4, 5)  # n, my, ry, mx, rx, d
    return z.reshape(n, 2 * h, 2 * w, cout)
