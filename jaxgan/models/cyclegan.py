"""CycleGAN's networks: the ResNet generator and the PatchGAN discriminator (Zhu et al. 2017).

Layer for layer the reference's ``ResnetGenerator`` and ``NLayerDiscriminator``
(junyanz/pytorch-CycleGAN-and-pix2pix, ``norm="instance"``, no dropout), NHWC instead of NCHW:

**Generator** (``ngf = 64``, ``n_blocks = 9`` for 256x256, 6 for 128x128, fewer for small images)::

    ReflectionPad(3) Conv7(ngf) IN ReLU
    Conv3 s2 p1 (2 ngf) IN ReLU              } two stride-2 downsamplings
    Conv3 s2 p1 (4 ngf) IN ReLU              }
    n_blocks x [x + (ReflectionPad(1) Conv3 IN ReLU ReflectionPad(1) Conv3 IN)(x)]
    ConvT3 s2 p1 op1 (2 ngf) IN ReLU         } two transposed-conv upsamplings (H -> 2H)
    ConvT3 s2 p1 op1 (ngf) IN ReLU           }
    ReflectionPad(3) Conv7(out) Tanh

**PatchGAN** (``ndf = 64``; ``n_layers = 3`` is the 70x70 PatchGAN: each output logit sees a
70x70 input patch)::

    Conv4 s2 p1 (ndf) LReLU(0.2)
    for n in 1 .. n_layers-1:  Conv4 s2 p1 (ndf min(2^n, 8)) IN LReLU(0.2)
    Conv4 s1 p1 (ndf min(2^n_layers, 8)) IN LReLU(0.2)
    Conv4 s1 p1 (1)                                   -> logits [N, h, w, 1]

``IN`` is instance normalisation without affine parameters, ``(x - mean_hw) / sqrt(var_hw + 1e-5)``
per image and channel (PyTorch's ``InstanceNorm2d`` default: no running statistics, so training and
evaluation compute the same thing). Every convolution has a bias, since the reference sets
``use_bias = (norm_layer == InstanceNorm2d)``. Weights are drawn from ``N(0, 0.02)``, biases are 0
(the reference's ``init_type="normal"``, gain 0.02). Padding is reflection where the reference
reflects and zero elsewhere (its ``Conv2d(padding=1)``).

**The upsampling** is PyTorch's ``ConvTranspose2d(k=3, s=2, p=1, output_padding=1)``:
``y[o] = sum_{i, k : o = 2i + k - 1} x[i] @ W[k]`` for ``o`` in ``[0, 2H)`` (output_padding adds the
last row, which only ``x[H-1] @ W[2]`` reaches). The kernel is stored in Flax ``nn.ConvTranspose``'s
layout ``[3, 3, in, out]`` with ``kernel[t] = W[2 - t]`` (as in :mod:`jaxgan.layers`), so
``nn.ConvTranspose(out, (3, 3), strides=(2, 2), padding=((1, 2), (1, 2)))`` with the same kernel
computes the same function (``upsample="transpose"``). The default ``upsample="subpixel"`` computes
it as one stride-1 convolution: per axis, ``y[2m] = x[m] @ kernel[1]`` and
``y[2m+1] = x[m] @ kernel[0] + x[m+1] @ kernel[2]`` (``x[H] = 0``), i.e. a 2-tap VALID convolution of
the input zero-padded by one at the end, with the four output phases as ``4 out`` channels, then
interleaved. Same numbers, but its gradient is an ordinary convolution's: on XLA:CPU the gradient
of the transposed form is ~10x slower.
"""

from __future__ import annotations

import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from jaxgan.layers import space_to_depth, space_to_depth_kernel
from jaxgan.networks import Network, from_linen
from jaxgan.winograd import winograd_conv

__all__ = [
    "UPSAMPLE_METHODS",
    "reference_network",
    "instance_norm",
    "reflect_pad",
    "upsample_transpose",
    "upsample_subpixel",
    "conv_output_side",
    "Upsample",
    "ResnetBlock",
    "ResnetGenerator",
    "PatchDiscriminator",
    "patch_receptive_field",
]

_DIMS = ("NHWC", "HWIO", "NHWC")
UPSAMPLE_METHODS = ("subpixel", "transpose")
INIT_STD = 0.02
IN_EPSILON = 1e-5  # PyTorch InstanceNorm2d's default


def _normal_init():
    return nn.initializers.normal(stddev=INIT_STD)


def instance_norm(x: jax.Array, epsilon: float = IN_EPSILON) -> jax.Array:
    """``(x - mean) / sqrt(var + eps)`` over the spatial axes of each image and channel (NHWC).

    Computed in float32 whatever ``x``'s dtype; returned in ``x``'s dtype.
    """
    h = x.astype(jnp.float32)
    mean = jnp.mean(h, axis=(1, 2), keepdims=True)
    var = jnp.mean(jnp.square(h - mean), axis=(1, 2), keepdims=True)
    return ((h - mean) * lax.rsqrt(var + epsilon)).astype(x.dtype)


def reflect_pad(x: jax.Array, p: int) -> jax.Array:
    """PyTorch's ``ReflectionPad2d(p)`` on NHWC (the edge pixel is not repeated)."""
    return jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")


def _conv_general(x, kernel, padding):
    return lax.conv_general_dilated(x, kernel, (1, 1), padding, dimension_numbers=_DIMS)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def conv_stride1(x: jax.Array, kernel: jax.Array, padding) -> jax.Array:
    """A stride-1 convolution (NHWC, HWIO kernel, zero ``padding = ((top, bottom), (left, right))``)
    whose gradients are themselves canonical NHWC/HWIO convolutions.

    ``dW[i, j, c, d] = sum_{n, h, w} xpad[n, h + i, w + j, c] g[n, h, w, d]`` (a convolution with
    batch and channel axes swapped) and ``dx = conv(g, flip(W)^T)`` with padding ``K - 1 - p``:
    the numbers of ``jax.grad`` of ``lax.conv_general_dilated``. Why: inside a ``lax.scan`` (the
    loop of :func:`jaxgan.fit`) XLA:CPU leaves the gradient convolutions JAX emits in their
    non-canonical dimension order and runs them ~30x slower than outside a loop
    (jax-ml/jax#12868); written this way they stay on the fast path everywhere.
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


def conv2d(x: jax.Array, kernel: jax.Array, stride: int = 1, padding: int = 0) -> jax.Array:
    """``y[o] = sum_k xpad[s o + k] @ W[k]`` (zero padding ``padding``, stride 1 or 2), NHWC.

    Stride 2 is computed exactly as a stride-1 convolution of the space-to-depth input: with
    ``k = 2t + r``, ``y[o] = sum_{t, r} xpad[2(o + t) + r] @ W[2t + r]``, i.e. a ``ceil(K/2)``-tap
    convolution over 2x2 blocks whose ``4C`` channels are the phases ``r``. Every stride-1
    convolution then goes through :func:`conv_valid`.
    """
    if stride == 1:
        return conv_valid(x, kernel, padding)
    if stride != 2:
        raise ValueError(f"stride must be 1 or 2, got {stride}")
    _, h, w, _ = x.shape
    k = kernel.shape[0]
    t = (k + 1) // 2
    out_h, out_w = (h + 2 * padding - k) // 2 + 1, (w + 2 * padding - k) // 2 + 1
    # Pad (or crop the never-read tail) to exactly 2 (out + T - 1) rows and columns.
    extra_h, extra_w = 2 * (out_h + t - 1) - h - padding, 2 * (out_w + t - 1) - w - padding
    xp = lax.pad(x, jnp.zeros((), x.dtype), ((0, 0, 0), (padding, extra_h, 0), (padding, extra_w, 0), (0, 0, 0)))
    return conv_valid(space_to_depth(xp), space_to_depth_kernel(kernel))


# Winograd output tile m for each kernel size r (F(m x m, r x r)) on CPU, the fastest measured on
# the CycleGAN layers at 256x256; and the least work (direct multiply-adds) for which it pays:
# below ~2^28 (the 64x64 model's layers) its fixed cost per call loses to XLA's convolution
# (docs/benchmarks.md).
WINOGRAD_TILES = {2: 3, 3: 4, 4: 2}
WINOGRAD_MIN_MACS = 2**28


def conv_valid(x: jax.Array, kernel: jax.Array, padding: int = 0) -> jax.Array:
    """The stride-1 convolution of ``x`` zero-padded by ``padding``, in the exact form that is fastest
    on the backend.

    On CPU: few outputs (``4 out <= in``: the 7x7 head, the PatchGAN logits) as
    :func:`conv_output_side`; float32 kernels of 2 to 4 taps (the residual blocks' 3x3, the
    space-to-depth and sub-pixel 2x2 forms, the PatchGAN's last 4x4) through Winograd's
    F(m x m, r x r) (:func:`jaxgan.winograd.winograd_conv`, ``m`` from :data:`WINOGRAD_TILES`),
    which does 2.6-4x fewer multiplications where XLA:CPU's convolution is at its matrix-product
    ceiling, when the layer is big enough (:data:`WINOGRAD_MIN_MACS`: the 256x256 model's layers).
    Elsewhere, and for the 7x7 input layer, XLA's convolution (:func:`conv_stride1`).
    """
    p = ((padding, padding), (padding, padding))
    cpu = jax.default_backend() == "cpu"
    if cpu and (_use_output_side(x, kernel) or _use_winograd(x, kernel, padding)):
        if padding:
            x = lax.pad(x, jnp.zeros((), x.dtype), ((0, 0, 0), (padding, padding, 0), (padding, padding, 0), (0, 0, 0)))
        if _use_output_side(x, kernel):
            return conv_output_side(x, kernel)
        return winograd_conv(x, kernel, WINOGRAD_TILES[kernel.shape[0]])
    return conv_stride1(x, kernel, p)


def _use_winograd(x: jax.Array, kernel: jax.Array, padding: int) -> bool:
    n, h, w, c = x.shape
    r, _, _, d = kernel.shape
    macs = n * (h + 2 * padding - r + 1) * (w + 2 * padding - r + 1) * r * r * c * d
    return r in WINOGRAD_TILES and jnp.result_type(x, kernel) == jnp.float32 and macs >= WINOGRAD_MIN_MACS


def conv_output_side(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """A VALID stride-1 convolution as one matrix product on the *output* side, then shifted sums.

    ``x`` ``[N, H, W, c]``, ``kernel`` ``[K, K, c, d]`` -> ``[N, H-K+1, W-K+1, d]``::

        Z[n, i, j, (a, b, e)] = sum_c x[n, i, j, c] W[a, b, c, e]       (one [NHW, c] @ [c, K K d])
        y[n, o, p, e] = sum_{a, b} Z[n, o + a, p + b, (a, b, e)]
                      = sum_{a, b, c} x[n, o + a, p + b, c] W[a, b, c, e]

    the convolution's own sum, regrouped. For layers with few output channels (the generator's
    7x7 head to 3 channels, the PatchGAN's 1-channel logits): XLA:CPU runs those convolutions at
    ~2 GFLOP/s (~200 ms of a 600 ms CycleGAN iteration at 64x64), while ``Z`` is a well-shaped
    matrix product and the ``K^2`` shifted sums touch only ``d`` channels. Gradients: matrix
    products, and for the shifted sums :func:`_shifted_sum`'s own. Products and sums accumulate in
    float32 (one rounding at the end for bfloat16 inputs).
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
    evaluates all ``k^2`` of them per element: ~300 ms per call for the 256x256 generator's 7x7
    head (5 calls, ~1.2 s of a ~10 s training step).
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


def _use_output_side(x: jax.Array, kernel: jax.Array) -> bool:
    """Few outputs (``4 d <= c``): :func:`conv_output_side` measured 12% faster for the whole
    CycleGAN training step on CPU (64x64, fused step)."""
    return 4 * kernel.shape[3] <= x.shape[3]


def upsample_transpose(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """``ConvTranspose2d(k=3, s=2, p=1, output_padding=1)`` through XLA's transposed convolution.

    ``x`` ``[N, H, W, in]``, ``kernel`` ``[3, 3, in, out]`` (Flax layout) -> ``[N, 2H, 2W, out]``.
    Explicit padding ``(K-1-p, K-1-p+output_padding) = (1, 2)`` on the stride-dilated input.
    """
    return lax.conv_transpose(x, kernel, (2, 2), ((1, 2), (1, 2)), dimension_numbers=_DIMS)


# _PHASE_TAPS[r][d]: the kernel tap used by output phase r at input offset d (3 = the zero tap).
_PHASE_TAPS = jnp.array([[1, 3], [0, 2]])


def subpixel_kernel(kernel: jax.Array) -> jax.Array:
    """``[3, 3, in, out] -> [2, 2, in, 4 out]``: the 2x2 kernels of the four output phases.

    ``result[dy, dx, c, (ry, rx, d)] = kernel[T[ry][dy], T[rx][dx], c, d]`` with
    ``T = [[1, -], [0, 2]]`` (``-`` = a zero tap).
    """
    cin, cout = kernel.shape[2], kernel.shape[3]
    padded = jnp.pad(kernel, ((0, 1), (0, 1), (0, 0), (0, 0)))  # tap 3 = zeros
    taps = padded[_PHASE_TAPS[:, :, None, None], _PHASE_TAPS[None, None, :, :]]  # ry dy rx dx c d
    return taps.transpose(1, 3, 4, 0, 2, 5).reshape(2, 2, cin, 4 * cout)


def upsample_subpixel(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """Exactly :func:`upsample_transpose`, as one 2x2 stride-1 convolution and a depth-to-space."""
    n, h, w, _ = x.shape
    cout = kernel.shape[3]
    xp = jnp.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)))
    z = conv_valid(xp, subpixel_kernel(kernel))
    z = z.reshape(n, h, w, 2, 2, cout).transpose(0, 1, 3, 2, 4, 5)  # n, my, ry, mx, rx, d
    return z.reshape(n, 2 * h, 2 * w, cout)


class Upsample(nn.Module):
    """The reference's upsampling ``ConvTranspose2d(k3, s2, p1, output_padding 1)`` with bias."""

    features: int
    method: str = "subpixel"
    dtype: Any = jnp.float32  # compute dtype; parameters are float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if self.method not in UPSAMPLE_METHODS:
            raise ValueError(f"unknown upsampling {self.method!r}; known: {', '.join(UPSAMPLE_METHODS)}")
        kernel = self.param("kernel", _normal_init(), (3, 3, x.shape[-1], self.features), jnp.float32)
        bias = self.param("bias", nn.initializers.zeros, (self.features,), jnp.float32)
        x, kernel, bias = (v.astype(self.dtype) for v in (x, kernel, bias))
        y = upsample_subpixel(x, kernel) if self.method == "subpixel" else upsample_transpose(x, kernel)
        return y + bias


class Conv(nn.Module):
    """:func:`conv2d` with bias: ``kernel`` ``[K, K, in, features]`` ~ N(0, 0.02) (``nn.Conv``'s layout
    and parameter names), ``bias`` = 0."""

    features: int
    kernel_size: int
    stride: int = 1
    padding: int = 0
    dtype: Any = jnp.float32  # compute dtype; parameters are float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        shape = (self.kernel_size, self.kernel_size, x.shape[-1], self.features)
        kernel = self.param("kernel", _normal_init(), shape, jnp.float32)
        bias = self.param("bias", nn.initializers.zeros, (self.features,), jnp.float32)
        x, kernel, bias = (v.astype(self.dtype) for v in (x, kernel, bias))
        return conv2d(x, kernel, self.stride, self.padding) + bias


class ResnetBlock(nn.Module):
    """``x + IN(Conv3(pad(ReLU(IN(Conv3(pad(x)))))))`` with reflection padding 1, width preserved."""

    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        dim = x.shape[-1]
        h = nn.relu(instance_norm(Conv(dim, 3, dtype=self.dtype, name="conv1")(reflect_pad(x, 1))))
        h = instance_norm(Conv(dim, 3, dtype=self.dtype, name="conv2")(reflect_pad(h, 1)))
        return x + h


class ResnetGenerator(nn.Module):
    """The reference's ResNet generator ``[N, H, W, C_in] -> [N, H, W, out_channels]`` in ``(-1, 1)``.

    ``H`` and ``W`` must be multiples of 4 (two stride-2 downsamplings, two exact 2x upsamplings).
    """

    out_channels: int = 3
    ngf: int = 64
    n_blocks: int = 9
    upsample: str = "subpixel"
    dtype: Any = jnp.float32  # compute dtype (e.g. bfloat16); parameters, norms and output float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if x.shape[1] % 4 or x.shape[2] % 4:
            raise ValueError(f"image height and width must be multiples of 4, got {x.shape[1:3]}")
        conv = functools.partial(Conv, dtype=self.dtype)
        h = nn.relu(instance_norm(conv(self.ngf, 7, name="stem")(reflect_pad(x, 3))))
        for i in range(2):
            h = nn.relu(instance_norm(conv(self.ngf * 2 ** (i + 1), 3, 2, 1, name=f"down{i}")(h)))
        for b in range(self.n_blocks):
            h = ResnetBlock(self.dtype, name=f"block{b}")(h)
        for i in range(2):
            h = Upsample(self.ngf * 2 ** (1 - i), self.upsample, self.dtype, name=f"up{i}")(h)
            h = nn.relu(instance_norm(h))
        h = conv(self.out_channels, 7, name="head")(reflect_pad(h, 3))
        return jnp.tanh(h.astype(jnp.float32))


class PatchDiscriminator(nn.Module):
    """The reference's N-layer PatchGAN: ``[N, H, W, C] -> logits [N, h, w, 1]``, one per patch.

    ``normalize=False`` drops the instance norms (the reference's ``norm="none"``); with them,
    every logit also depends on the whole image through the normalisation statistics.
    """

    ndf: int = 64
    n_layers: int = 3
    normalize: bool = True
    dtype: Any = jnp.float32  # compute dtype; parameters, norms and logits float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        conv = functools.partial(Conv, dtype=self.dtype)
        norm = instance_norm if self.normalize else (lambda h: h)
        leaky = lambda h: nn.leaky_relu(h, 0.2)
        h = leaky(conv(self.ndf, 4, 2, 1, name="conv0")(x))
        for n in range(1, self.n_layers):
            h = leaky(norm(conv(self.ndf * min(2**n, 8), 4, 2, 1, name=f"conv{n}")(h)))
        h = leaky(norm(conv(self.ndf * min(2**self.n_layers, 8), 4, 1, 1, name=f"conv{self.n_layers}")(h)))
        return conv(1, 4, 1, 1, name="logits")(h).astype(jnp.float32)


def patch_receptive_field(n_layers: int) -> int:
    """Side of the input patch one PatchGAN logit sees: ``1 + 3 (2^n - 1) + 6 * 2^n`` for ``n_layers = n``.

    ``n_layers`` stride-2 4x4 convolutions then two stride-1 4x4 ones: ``r <- r + 3 * jump`` per layer
    with the jump doubling after each stride-2 layer; 16, 34, 70 for ``n_layers`` 1, 2, 3.
    """
    size, jump = 1, 1
    for stride in [2] * n_layers + [1, 1]:
        size += 3 * jump
        jump *= stride
    return size


def reference_network(module: nn.Module) -> Network:
    """``from_linen(module)`` with the reference's ``init_weights("normal", 0.02)`` done in one draw.

    ``init(key, x)``: every ``kernel`` ~ N(0, 0.02), every ``bias`` = 0 (the same distribution as
    the modules' own initialisers), the kernels taken in order from one
    ``0.02 * jax.random.normal(key, (total,))``. Same parameters in law, but XLA:CPU compiles one
    random draw instead of one per layer shape (~1 s of compilation each). For modules without
    model statistics (the CycleGAN networks).
    """
    network = from_linen(module)

    def init(key, x):
        params_shape, stats_shape = jax.eval_shape(network.init, key, x)
        if jax.tree_util.tree_leaves(stats_shape):
            raise ValueError("reference_network is for modules without model statistics")
        leaves, treedef = jax.tree_util.tree_flatten_with_path(params_shape)
        kernels = [leaf.size for path, leaf in leaves if path[-1].key == "kernel"]
        draws = INIT_STD * jax.random.normal(key, (sum(kernels),), jnp.float32)
        values, offset = [], 0
        for path, leaf in leaves:
            if path[-1].key == "kernel":
                values.append(draws[offset : offset + leaf.size].reshape(leaf.shape))
                offset += leaf.size
            else:
                values.append(jnp.zeros(leaf.shape, leaf.dtype))
        return jax.tree_util.tree_unflatten(treedef, values), {}

    return Network(init=init, apply=network.apply)
