"""DCGAN's convolution layers in exact, faster forms, and the conversions from PyTorch weights.

DCGAN's generator is a stack of 4x4 transposed convolutions ("ConvTranspose2d(k=4, s=2, p=1)" in
PyTorch). XLA computes their *gradient* very slowly on CPU (it lowers it to a dilated convolution,
many times slower than PyTorch's). This module computes the very same function in cheaper, exactly
equivalent forms, parameterised by the very same kernel; likewise the discriminator's 4x4 stride-2
convolutions:

**The transposed convolution** (PyTorch's convention, stride ``s``, padding ``p``, one spatial axis
shown, ``W[k]`` the PyTorch kernel tap ``k``)::

    y[o] = sum_{i, k : o = s*i + k - p} x[i] @ W[k]

jaxgan stores kernels as Flax's ``nn.ConvTranspose`` does (``(kh, kw, in, out)``, not flipped):
``kernel[t] = W[K - 1 - t]``, so that ``nn.ConvTranspose(features, (4, 4), strides=(2, 2),
padding=((2, 2), (2, 2)), use_bias=False)`` with the same ``kernel`` gives the same output (Flax's
explicit padding is ``K - 1 - p`` per side). :func:`kernel_from_torch_transposed` converts.

**Sub-pixel form of the 4x4, stride-2, padding-1 case.** Writing the output index ``o = 2m + r``
with the phase ``r`` in {0, 1}, the sum has two terms per phase::

    y[2m]     = x[m-1] @ kernel[0] + x[m]   @ kernel[2]
    y[2m + 1] = x[m]   @ kernel[1] + x[m+1] @ kernel[3]

so phase ``r`` is an ordinary 2-tap convolution with the taps ``kernel[r::2]``. With the input
zero-padded by one on each side (``xp[j] = x[j - 1]``) both phases are the *same* 2x2 VALID
convolution, read at shifted positions: ``y[2m + r] = z_r[m + r]`` where
``z_r[j] = xp[j] @ kernel[r] + xp[j+1] @ kernel[r + 2]``. In 2D the four phases ``(ry, rx)`` are
stacked as ``4 * out`` output channels of a single 2x2 convolution (:func:`subpixel_kernel`), then
interleaved ("depth to space"). It does the transposed convolution's multiply-adds times
``(1 + 1/H)(1 + 1/W)`` and nothing else, and its gradients are those of an ordinary stride-1
convolution, which XLA computes fast on every backend.

**Convolutions as matrix products.** XLA:CPU runs a convolution placed inside a loop (the
``lax.scan`` of :func:`jaxgan.train.fit`) many times slower than the same convolution outside one
(jax-ml/jax#12868; DCGAN's layers show it), while matrix products run at full speed in both.
:func:`conv_matmul` therefore computes a convolution as one matrix product of its "im2col"
patches: ``y[o] = concat_k(xp[s o + k]) @ reshape(kernel)``, exactly the convolution's sum of
products, in the same float32 arithmetic. ``method="matmul"`` (the default of the modules
below) uses it; ``"conv"`` / ``"subpixel"`` use XLA's convolution.

**The 4x4, stride-1, padding-0 projection of a 1x1 input** (DCGAN's first layer) is a dense layer:
``y[h, w] = z @ W[h, w] = z @ kernel[K-1-h, K-1-w]`` (:func:`project_transposed`).

**A VALID convolution whose kernel covers its whole input** (DCGAN's last discriminator layer) is
a dense layer too: ``y = flatten(x) @ reshape(kernel)`` (:func:`conv_covering_input`).

**Fewer multiplications: Winograd** (``method="winograd"``). The sub-pixel 2x2 convolution of G and
the space-to-depth 2x2 convolution of D (:func:`space_to_depth`) are stride-1 convolutions, which
:func:`jaxgan.speedups.winograd.winograd_conv` computes with F(m x m, 2 x 2): ``(m + 1)^2`` products per
``m x m`` outputs where the direct form has ``4 m^2`` (9/16 for ``m = 2``, 16/36 for ``m = 3``).
The same function to ~1e-6 relative in float32; on XLA:CPU, where the float32 matrix products are
the ceiling, it is the faster form (``docs/performance.md``).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from jaxgan.speedups.output_side_conv import conv_output_side, few_outputs
from jaxgan.speedups.winograd import winograd_conv

__all__ = [
    "UPSAMPLE_METHODS",
    "DOWNSAMPLE_METHODS",
    "conv_transpose",
    "conv_matmul",
    "space_to_depth",
    "space_to_depth_kernel",
    "subpixel_kernel",
    "upsample_subpixel",
    "downsample_conv",
    "project_transposed",
    "conv_covering_input",
    "kernel_from_torch_transposed",
    "kernel_from_torch_conv",
    "UpsampleConv",
    "DownsampleConv",
    "ProjectConv",
    "AUTO_LAYERS",
    "auto_layers",
]

_DIMS = ("NHWC", "HWIO", "NHWC")
UPSAMPLE_METHODS = ("matmul", "subpixel", "transpose", "winograd")
DOWNSAMPLE_METHODS = ("matmul", "conv", "winograd")
SUBPIXEL_CONVS = ("matmul", "xla", "winograd")
# Winograd's tiles, the fastest on CPU for DCGAN 64x64's layers at batch 128 (single layers and
# whole training steps, docs/performance.md): D's space-to-depth 2x2 convolutions F(4x4, 2x2) when
# the output side is a multiple of 4 (32, 16, 8 and the 4x4 output of D's last stride-2 layer),
# else F(2x2, 2x2); with fewer than WINOGRAD_MIN_IN_CHANNELS input channels after space-to-depth
# (D's first layer: 3 x 4 = 12) a matrix product of its 2x2 patches instead (its products are
# small and Winograd's transforms of the 64-channel output would cost more than they save). G's
# sub-pixel convolution phase by phase with F(4x4, 2x2) when it has at least
# WINOGRAD_PHASES_MIN_OUT output channels, else as one (H + 1)-output convolution with F(3x3, 2x2),
# except with few outputs (G's last layer, 64 -> 3: 12 sub-pixel channels) on the output side
# (jaxgan.speedups.output_side_conv, which beats F(3x3, 2x2) there forward and backward).
WINOGRAD_TILE_UP = 3
WINOGRAD_TILE_PHASES = 4
WINOGRAD_PHASES_MIN_OUT = 64
WINOGRAD_MIN_IN_CHANNELS = 64
# What ``"auto"`` stands for in the DCGAN experiment and benchmark, by platform: the
# ``(upsample, downsample)`` methods that train DCGAN fastest there (docs/results.md). On CPU
# Winograd's, which do fewer multiplications where float32 matrix products are the ceiling. Every
# other platform gets the matrix-product forms, which run well on every backend.
AUTO_LAYERS = {"cpu": ("winograd", "winograd")}
PORTABLE_LAYERS = ("matmul", "matmul")


def auto_layers(platform: str) -> tuple[str, str]:
    """Picks the ``(upsample, downsample)`` methods that ``"auto"`` stands for on ``platform``.

    Every method computes the same function; only the speed and the rounding differ.

    Args:
      platform: ``"cpu"``, ``"gpu"``, ``"tpu"``, ... as ``jax.default_backend()`` names it.

    Returns:
      :data:`AUTO_LAYERS`'s entry for ``platform``, else ``("matmul", "matmul")``.
    """
    return AUTO_LAYERS.get(platform, PORTABLE_LAYERS)


def winograd_tile_down(out_side: int) -> int:
    """Picks F(m x m, 2 x 2)'s ``m`` for D's space-to-depth convolution.

    Args:
      out_side: outputs per side of the convolution.

    Returns:
      4 where ``out_side`` is a multiple of 4 (no tile overhangs the edge), else 2.
    """
    return 4 if out_side % 4 == 0 else 2

Dtype = Any
Initializer = Callable[..., jax.Array]


def conv_transpose(x: jax.Array, kernel: jax.Array, *, stride: int, padding: int, precision=None) -> jax.Array:
    """Computes XLA's transposed convolution in PyTorch's ``(stride, padding)`` convention.

    This is what ``nn.ConvTranspose`` runs; it is the reference the fast forms are tested against.

    Args:
      x: ``[N, H, W, in]`` inputs.
      kernel: ``[K, K, in, out]`` kernel (Flax layout, see the module notes).
      stride: PyTorch's ``stride`` ``s``.
      padding: PyTorch's ``padding`` ``p``.
      precision: as ``lax.conv_transpose``'s.

    Returns:
      ``[N, s(H-1) + K - 2p, s(W-1) + K - 2p, out]``.
    """
    k = kernel.shape[0]
    pad = ((k - 1 - padding, k - 1 - padding),) * 2
    return lax.conv_transpose(x, kernel, (stride, stride), pad, dimension_numbers=_DIMS, precision=precision)


def conv_matmul(x: jax.Array, kernel: jax.Array, *, stride: int = 1, padding: int = 0, precision=None) -> jax.Array:
    """Computes a convolution as one matrix product of its im2col patches.

    The convolution is PyTorch's ``Conv2d`` without bias.

    With ``xp`` = ``x`` zero-padded by ``padding``::

        y[n, i, j] = sum_{a, b} xp[n, s i + a, s j + b] @ kernel[a, b]
                   = concat_{(a, b)}(xp[n, s i + a, s j + b]) @ kernel.reshape(K K in, out)

    Same numbers as ``lax.conv_general_dilated(x, kernel, (s, s), ((p, p), (p, p)))``; its
    gradients are matrix products and strided slices, which XLA:CPU runs fast inside loops too.

    Args:
      x: ``[N, H, W, in]`` inputs.
      kernel: ``[K, K, in, out]`` kernel (Flax ``nn.Conv`` layout).
      stride: the stride ``s``.
      padding: zero padding ``p`` on each side.
      precision: as ``jnp.dot``'s.

    Returns:
      ``[N, Ho, Wo, out]`` with ``Ho = (H + 2p - K) // s + 1`` (``Wo`` likewise).

    Raises:
      ValueError: if ``kernel`` is not square or does not take ``in`` channels.
    """
    n, h, w, cin = x.shape
    k = kernel.shape[0]
    if kernel.shape[1] != k or kernel.shape[2] != cin:
        raise ValueError(f"kernel {kernel.shape} does not fit a square conv of {cin}-channel inputs")
    xp = jnp.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0))) if padding else x
    ho, wo = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    taps = [
        xp[:, a : a + stride * (ho - 1) + 1 : stride, b : b + stride * (wo - 1) + 1 : stride]
        for a in range(k)
        for b in range(k)
    ]
    patches = jnp.concatenate(taps, axis=-1)  # [N, Ho, Wo, K K in], taps (a, b) major
    cout = kernel.shape[3]
    y = jnp.dot(patches.reshape(-1, k * k * cin), kernel.reshape(k * k * cin, cout), precision=precision)
    return y.reshape(n, ho, wo, cout)


def space_to_depth(x: jax.Array) -> jax.Array:
    """Moves each 2x2 block of pixels into the channels ("space to depth").

    ``out[n, m, l, (ry, rx, c)] = x[n, 2m + ry, 2l + rx, c]``.

    Args:
      x: ``[N, 2A, 2B, C]`` images (even sides).

    Returns:
      ``[N, A, B, 4C]``, channel order ``(ry, rx, c)``.
    """
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, h // 2, w // 2, 4 * c)


def space_to_depth_kernel(kernel: jax.Array) -> jax.Array:
    """Rearranges a stride-2 kernel into the stride-1 kernel of the :func:`space_to_depth` input.

    A stride-2 convolution of ``x`` with ``kernel`` is the stride-1 convolution of
    ``space_to_depth(x)`` with this kernel: with ``k = 2t + r``,
    ``y[o] = sum_{t, r} x[2(o + t) + r] @ W[2t + r]``, so
    ``out[ty, tx, (ry, rx, c)] = W[2ty + ry, 2tx + rx, c]`` (zero past ``K``).

    Args:
      kernel: ``[K, K, c, d]`` kernel (Flax ``nn.Conv`` layout).

    Returns:
      ``[T, T, 4c, d]`` with ``T = ceil(K / 2)``.
    """
    k, _, c, d = kernel.shape
    t = (k + 1) // 2
    padded = jnp.pad(kernel, ((0, 2 * t - k), (0, 2 * t - k), (0, 0), (0, 0)))
    return padded.reshape(t, 2, t, 2, c, d).transpose(0, 2, 1, 3, 4, 5).reshape(t, t, 4 * c, d)


def downsample_conv(x: jax.Array, kernel: jax.Array, *, method: str = "matmul", precision=None) -> jax.Array:
    """Computes the 4x4, stride-2, padding-1 convolution of DCGAN's D, in the form ``method`` names.

    ``method="matmul"``: :func:`conv_matmul`; ``"conv"``: XLA's convolution (``nn.Conv``'s);
    ``"winograd"``: the 2x2 stride-1 convolution of the space-to-depth input through
    :func:`jaxgan.speedups.winograd.winograd_conv` (with fewer than :data:`WINOGRAD_MIN_IN_CHANNELS`
    input channels after space-to-depth, through :func:`conv_matmul`: a matrix product of its 2x2
    patches). All compute the same function.

    Args:
      x: ``[N, H, W, in]`` inputs (even sides).
      kernel: ``[4, 4, in, out]`` kernel (Flax ``nn.Conv`` layout).
      method: one of :data:`DOWNSAMPLE_METHODS`.
      precision: as the products' ``precision``.

    Returns:
      ``[N, H/2, W/2, out]``.

    Raises:
      ValueError: for an unknown ``method``.
    """
    if method == "matmul":
        return conv_matmul(x, kernel, stride=2, padding=1, precision=precision)
    if method == "winograd":
        xs = space_to_depth(jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))))
        sub = space_to_depth_kernel(kernel)
        if sub.shape[2] < WINOGRAD_MIN_IN_CHANNELS:
            return conv_matmul(xs, sub, precision=precision)
        return winograd_conv(xs, sub, winograd_tile_down(x.shape[1] // 2), precision=precision)
    if method == "conv":
        return lax.conv_general_dilated(x, kernel, (2, 2), ((1, 1), (1, 1)), dimension_numbers=_DIMS, precision=precision)
    raise ValueError(f"unknown downsampling method {method!r}; known: {', '.join(DOWNSAMPLE_METHODS)}")


def subpixel_kernel(kernel: jax.Array) -> jax.Array:
    """Splits a 4x4 transposed-convolution kernel into the 2x2 kernels of its four output phases.

    ``result[ty, tx, c, (ry, rx, d)] = kernel[2 ty + ry, 2 tx + rx, c, d]``: phase ``(ry, rx)``
    uses the taps ``kernel[ry::2, rx::2]``.

    Args:
      kernel: ``[4, 4, in, out]`` kernel (``nn.ConvTranspose`` layout).

    Returns:
      ``[2, 2, in, 4 * out]``, output channels in ``(ry, rx, d)`` order.

    Raises:
      ValueError: if ``kernel`` is not 4x4.
    """
    if kernel.shape[:2] != (4, 4):
        raise ValueError(f"the sub-pixel form needs a 4x4 kernel, got {kernel.shape}")
    cin, cout = kernel.shape[2], kernel.shape[3]
    k = kernel.reshape(2, 2, 2, 2, cin, cout)  # ty, ry, tx, rx, in, out
    return k.transpose(0, 2, 4, 1, 3, 5).reshape(2, 2, cin, 4 * cout)


def upsample_subpixel(x: jax.Array, kernel: jax.Array, *, conv: str = "matmul", precision=None) -> jax.Array:
    """Computes ``conv_transpose(x, kernel, stride=2, padding=1)`` for a 4x4 kernel in sub-pixel form.

    One 2x2 VALID convolution of the input zero-padded by one, with the four phase kernels as
    ``4 * out`` channels, gives ``z[N, H+1, W+1, ry, rx, out]``; then
    ``y[2my + ry, 2mx + rx] = z[my + ry, mx + rx, ry, rx]``. The same function, exactly.

    Args:
      x: ``[N, H, W, in]`` inputs.
      kernel: ``[4, 4, in, out]`` kernel (``nn.ConvTranspose`` layout).
      conv: how the 2x2 convolution is computed: a matrix product of 2x2 patches (``"matmul"``,
        :func:`conv_matmul`), XLA's convolution (``"xla"``) or the CPU's fastest (``"winograd"``:
        Winograd's, with at least :data:`WINOGRAD_PHASES_MIN_OUT` output channels phase by phase,
        :func:`_upsample_phases_winograd`; with few, ``4 x 4 out <= in`` as G's image layer,
        :func:`conv_output_side`).
      precision: as the products' ``precision``.

    Returns:
      ``[N, 2H, 2W, out]``.

    Raises:
      ValueError: for an unknown ``conv``.
    """
    if conv not in SUBPIXEL_CONVS:
        raise ValueError(f"unknown sub-pixel convolution {conv!r}; known: {', '.join(SUBPIXEL_CONVS)}")
    n, h, w, _ = x.shape
    cout = kernel.shape[3]
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    if conv == "winograd" and cout >= WINOGRAD_PHASES_MIN_OUT:
        return _upsample_phases_winograd(xp, kernel, precision)
    sub = subpixel_kernel(kernel)
    if conv == "matmul":
        z = conv_matmul(xp, sub, precision=precision)
    elif conv == "winograd" and few_outputs(sub.shape[2], sub.shape[3]):  # G's last layer
        z = conv_output_side(xp, sub)
    elif conv == "winograd":
        z = winograd_conv(xp, sub, WINOGRAD_TILE_UP, precision=precision)
    else:
        z = lax.conv_general_dilated(xp, sub, (1, 1), "VALID", dimension_numbers=_DIMS, precision=precision)
    z = z.reshape(n, h + 1, w + 1, 2, 2, cout)
    return _interleave_phases(lambda ry, rx: z[:, ry : ry + h, rx : rx + w, ry, rx, :])


def _interleave_phases(phase) -> jax.Array:
    """Depth to space: ``y[n, 2 my + ry, 2 mx + rx] = phase(ry, rx)[n, my, mx]`` for the four
    ``[N, H, W, out]`` phases -> ``[N, 2H, 2W, out]``."""
    rows = [jnp.stack([phase(ry, rx) for rx in range(2)], axis=3) for ry in range(2)]  # [N, H, W, rx, out]
    y = jnp.stack(rows, axis=2)  # [N, H, ry, W, rx, out]
    n, h, _, w, _, cout = y.shape
    return y.reshape(n, 2 * h, 2 * w, cout)


def _upsample_phases_winograd(xp: jax.Array, kernel: jax.Array, precision) -> jax.Array:
    """:func:`upsample_subpixel` of the padded input ``xp`` ``[N, H + 2, W + 2, in]``, phase by phase.

    Phase ``(ry, rx)`` is ``y[2 my + ry, 2 mx + rx] = sum_{ty, tx} xp[my + ry + ty, mx + rx + tx]
    @ kernel[2 ty + ry, 2 tx + rx]``: the 2x2 VALID convolution of the window
    ``xp[ry : ry + H + 1, rx : rx + W + 1]`` with the taps ``kernel[ry::2, rx::2]``, exactly
    ``H x W`` outputs (the one-convolution form computes ``(H + 1)(W + 1)`` per phase and drops a
    row and a column: 1.56x the work at ``H = 4``). Each through Winograd's F(4x4, 2x2).
    """
    _, hp, wp, cin = xp.shape
    h, w = hp - 2, wp - 2
    taps = kernel.reshape(2, 2, 2, 2, cin, kernel.shape[3])  # ty, ry, tx, rx, in, out
    return _interleave_phases(
        lambda ry, rx: winograd_conv(xp[:, ry : ry + h + 1, rx : rx + w + 1], taps[:, ry, :, rx],
                                     WINOGRAD_TILE_PHASES, precision=precision)
    )


def project_transposed(z: jax.Array, kernel: jax.Array, *, precision=None) -> jax.Array:
    """Computes ``conv_transpose(z[:, None, None, :], kernel, stride=1, padding=0)`` as a dense layer.

    ``y[n, h, w] = z[n] @ kernel[K-1-h, K-1-w]``: the transposed convolution of a 1x1 input,
    exactly.

    Args:
      z: ``[N, in]`` (or ``[N, 1, 1, in]``) inputs.
      kernel: ``[K, K, in, out]`` kernel (``nn.ConvTranspose`` layout).
      precision: as ``jnp.einsum``'s.

    Returns:
      ``[N, K, K, out]``.
    """
    z = z.reshape(z.shape[0], -1)
    flipped = kernel[::-1, ::-1]
    return jnp.einsum("nc,hwcd->nhwd", z, flipped, precision=precision)


def conv_covering_input(x: jax.Array, kernel: jax.Array, *, precision=None) -> jax.Array:
    """Computes a VALID convolution whose kernel covers its whole input, as a dense layer.

    ``flatten(x) @ kernel.reshape(H W in, out)``: the same numbers as
    ``nn.Conv(out, (H, W), padding="VALID")`` (squeezed), without a convolution (whose input
    gradient would be a transposed convolution).

    Args:
      x: ``[N, H, W, in]`` inputs.
      kernel: ``[H, W, in, out]`` kernel (Flax ``nn.Conv`` layout).
      precision: as ``jnp.dot``'s.

    Returns:
      ``[N, out]``.

    Raises:
      ValueError: if the kernel's ``[H, W, in]`` is not the input's.
    """
    if x.shape[1:] != kernel.shape[:3]:
        raise ValueError(f"kernel {kernel.shape} does not cover the input {x.shape}")
    return jnp.dot(x.reshape(x.shape[0], -1), kernel.reshape(-1, kernel.shape[-1]), precision=precision)


def kernel_from_torch_transposed(weight) -> jax.Array:
    """Converts a PyTorch ``ConvTranspose2d.weight`` to the ``nn.ConvTranspose`` kernel jaxgan uses.

    ``kernel[t] = W[K - 1 - t]`` (spatially flipped), see the module notes.

    Args:
      weight: ``[in, out, K, K]`` array (NumPy, JAX or anything ``jnp.asarray`` takes).

    Returns:
      ``[K, K, in, out]`` kernel.
    """
    w = jnp.asarray(weight)
    return jnp.transpose(w, (2, 3, 0, 1))[::-1, ::-1]


def kernel_from_torch_conv(weight) -> jax.Array:
    """Converts a PyTorch ``Conv2d.weight`` to a Flax ``nn.Conv`` kernel.

    Args:
      weight: ``[out, in, K, K]`` array (NumPy, JAX or anything ``jnp.asarray`` takes).

    Returns:
      ``[K, K, in, out]`` kernel.
    """
    return jnp.transpose(jnp.asarray(weight), (2, 3, 1, 0))


def _cast(x, kernel, dtype):
    if dtype is None:
        dtype = jnp.result_type(x, kernel)
    return x.astype(dtype), kernel.astype(dtype)


def _add_bias(layer: nn.Module, y: jax.Array) -> jax.Array:
    """``y`` plus ``layer``'s ``bias`` parameter ``[features]`` (zeros at first, as Flax's layers)."""
    return y + layer.param("bias", nn.initializers.zeros, (layer.features,), layer.param_dtype).astype(y.dtype)


class _StrideTwoLayer(nn.Module):
    """The settings shared by :class:`UpsampleConv` and :class:`DownsampleConv`, and their kernel."""

    features: int
    method: str = "matmul"
    dtype: Optional[Dtype] = None
    param_dtype: Dtype = jnp.float32
    kernel_init: Initializer = nn.initializers.lecun_normal()
    precision: Any = None

    def kernel_for(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """The ``[4, 4, in, features]`` kernel parameter, and ``x`` and it in the compute dtype."""
        kernel = self.param("kernel", self.kernel_init, (4, 4, x.shape[-1], self.features), self.param_dtype)
        return _cast(x, kernel, self.dtype)


class UpsampleConv(_StrideTwoLayer):
    """The 4x4, stride-2, padding-1 transposed convolution: ``[N,H,W,in] -> [N,2H,2W,out]``.

    Every method holds the parameter ``kernel`` ``[4, 4, in, out]`` in ``nn.ConvTranspose``'s
    layout (and ``bias`` ``[out]``, zeros at first, with ``use_bias``), and computes the same
    function of them.

    Attributes:
      features: output channels ``out``.
      method: ``"matmul"`` (default) computes it through :func:`upsample_subpixel` with a matrix
        product, ``"subpixel"`` with a 2x2 XLA convolution, ``"winograd"`` with Winograd's
        algorithm (F(4x4, 2x2) phase by phase with many output channels, F(3x3, 2x2) with fewer,
        the output-side product with few; the fastest on CPU), ``"transpose"`` through XLA's
        transposed convolution
        (:func:`conv_transpose`, what ``nn.ConvTranspose`` does).
      dtype: the compute dtype (default: the inputs' and kernel's common dtype).
      param_dtype: the kernel's storage dtype.
      kernel_init: the kernel's initialiser.
      precision: as the products' ``precision``.
      use_bias: add a bias (``nn.ConvTranspose``'s default; off here, as before a batch norm).
    """

    use_bias: bool = False

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if self.method not in UPSAMPLE_METHODS:
            raise ValueError(f"unknown upsampling method {self.method!r}; known: {', '.join(UPSAMPLE_METHODS)}")
        x, kernel = self.kernel_for(x)
        if self.method == "transpose":
            y = conv_transpose(x, kernel, stride=2, padding=1, precision=self.precision)
        else:
            y = upsample_subpixel(x, kernel, conv={"subpixel": "xla"}.get(self.method, self.method), precision=self.precision)
        return _add_bias(self, y) if self.use_bias else y


class DownsampleConv(_StrideTwoLayer):
    """The 4x4, stride-2, padding-1 convolution: ``[N,H,W,in] -> [N,H/2,W/2,out]``.

    The parameter ``kernel`` ``[4, 4, in, out]`` in ``nn.Conv``'s layout, and ``bias`` ``[out]``
    with ``use_bias`` (so ``nn.Conv(out, (4, 4), strides=(2, 2), padding=((1, 1), (1, 1)),
    use_bias=use_bias)`` with the same variables computes the same function).

    Attributes:
      features: output channels ``out``.
      method: ``"matmul"`` (default), ``"conv"`` or ``"winograd"``, as in :func:`downsample_conv`.
      dtype: the compute dtype (default: the inputs' and kernel's common dtype).
      param_dtype: the kernel's storage dtype.
      kernel_init: the kernel's initialiser.
      precision: as the products' ``precision``.
      use_bias: add a bias (``nn.Conv``'s default; off here, as before a batch norm).
    """

    use_bias: bool = False

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if self.method not in DOWNSAMPLE_METHODS:
            raise ValueError(f"unknown downsampling method {self.method!r}; known: {', '.join(DOWNSAMPLE_METHODS)}")
        x, kernel = self.kernel_for(x)
        y = downsample_conv(x, kernel, method=self.method, precision=self.precision)
        return _add_bias(self, y) if self.use_bias else y


class ProjectConv(nn.Module):
    """The ``size x size``, stride-1, padding-0 transposed convolution of a 1x1 input, as a dense layer.

    ``[N, in]`` (or ``[N, 1, 1, in]``) -> ``[N, size, size, features]``. The parameter ``kernel``
    ``[size, size, in, features]`` has ``nn.ConvTranspose``'s layout, so
    ``nn.ConvTranspose(features, (size, size), padding=((size-1,)*2,)*2)`` on ``z[:, None, None]``
    with the same kernel gives the same output (:func:`project_transposed`).

    Attributes:
      features: output channels.
      size: output side (4 in DCGAN).
      dtype: the compute dtype (default: the inputs' and kernel's common dtype).
      param_dtype: the kernel's storage dtype.
      kernel_init: the kernel's initialiser.
      precision: as ``jnp.einsum``'s.
    """

    features: int
    size: int = 4
    dtype: Optional[Dtype] = None
    param_dtype: Dtype = jnp.float32
    kernel_init: Initializer = nn.initializers.lecun_normal()
    precision: Any = None

    @nn.compact
    def __call__(self, z: jax.Array) -> jax.Array:
        z = z.reshape(z.shape[0], -1)
        shape = (self.size, self.size, z.shape[-1], self.features)
        kernel = self.param("kernel", self.kernel_init, shape, self.param_dtype)
        z, kernel = _cast(z, kernel, self.dtype)
        return project_transposed(z, kernel, precision=self.precision)
