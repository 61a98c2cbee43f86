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
layout ``[3, 3, in, out]`` with ``kernel[t] = W[2 - t]`` (as in :mod:`jaxgan.speedups.layers`), so
``nn.ConvTranspose(out, (3, 3), strides=(2, 2), padding=((1, 2), (1, 2)))`` with the same kernel
computes the same function (``upsample="transpose"``). The default ``upsample="subpixel"`` computes
it as one stride-1 convolution: per axis, ``y[2m] = x[m] @ kernel[1]`` and
``y[2m+1] = x[m] @ kernel[0] + x[m+1] @ kernel[2]`` (``x[H] = 0``), i.e. a 2-tap VALID convolution of
the input zero-padded by one at the end, with the four output phases as ``4 out`` channels, then
interleaved. Same numbers, but its gradient is an ordinary convolution's, which XLA:CPU computes
many times faster than the gradient of the transposed form.

The convolutions themselves live in :mod:`jaxgan.speedups.translator_convs`; every module takes
``cpu_forms`` (default ``False``): ``True`` computes them in the exact forms fastest on XLA:CPU
(Winograd's for the 256x256 model's big layers, output-side products for few outputs). The
caller chooses (the CycleGAN experiment: on CPU).
"""

from __future__ import annotations

import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from jaxgan.speedups.translator_convs import conv2d, conv_output_side, upsample_subpixel, upsample_transpose
from jaxgan.networks import Network, from_linen

__all__ = [
    "UPSAMPLE_METHODS",
    "reference_network",
    "instance_norm",
    "reflect_pad",
    "conv2d",  # conv2d, conv_output_side and the upsamplings: from jaxgan.speedups.translator_convs
    "upsample_transpose",
    "upsample_subpixel",
    "conv_output_side",
    "Upsample",
    "ResnetBlock",
    "ResnetGenerator",
    "PatchDiscriminator",
    "patch_receptive_field",
]

UPSAMPLE_METHODS = ("subpixel", "transpose")
INIT_STD = 0.02
IN_EPSILON = 1e-5  # PyTorch InstanceNorm2d's default


def _normal_init():
    return nn.initializers.normal(stddev=INIT_STD)


def instance_norm(x: jax.Array, epsilon: float = IN_EPSILON) -> jax.Array:
    """Normalises each image and channel over its spatial axes: ``(x - mean) / sqrt(var + eps)``.

    Computed in float32 whatever ``x``'s dtype; no affine parameters, no running statistics.

    Args:
      x: ``[N, H, W, C]`` activations.
      epsilon: added to the variance.

    Returns:
      The normalised ``x``, same shape and dtype.
    """
    h = x.astype(jnp.float32)
    mean = jnp.mean(h, axis=(1, 2), keepdims=True)
    var = jnp.mean(jnp.square(h - mean), axis=(1, 2), keepdims=True)
    return ((h - mean) * lax.rsqrt(var + epsilon)).astype(x.dtype)


def reflect_pad(x: jax.Array, p: int) -> jax.Array:
    """Pads by reflection, as PyTorch's ``ReflectionPad2d(p)`` (the edge pixel is not repeated).

    Args:
      x: ``[N, H, W, C]`` images.
      p: rows and columns added on each side (less than ``H`` and ``W``).

    Returns:
      ``[N, H + 2p, W + 2p, C]``.
    """
    return jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")


class Upsample(nn.Module):
    """The reference's upsampling ``ConvTranspose2d(k3, s2, p1, output_padding 1)`` with bias.

    ``[N, H, W, in] -> [N, 2H, 2W, features]``; ``kernel`` ``[3, 3, in, features]`` in
    ``nn.ConvTranspose``'s layout, ~ N(0, 0.02), and ``bias`` = 0.

    Attributes:
      features: output channels.
      method: ``"subpixel"`` (one stride-1 convolution and a depth-to-space) or ``"transpose"``
        (XLA's transposed convolution): the same function.
      dtype: compute dtype; parameters are float32.
      cpu_forms: compute the convolution in the forms fastest on XLA:CPU (same function).
    """

    features: int
    method: str = "subpixel"
    dtype: Any = jnp.float32  # compute dtype; parameters are float32
    cpu_forms: bool = False  # the convolution forms fastest on XLA:CPU (same function)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if self.method not in UPSAMPLE_METHODS:
            raise ValueError(f"unknown upsampling {self.method!r}; known: {', '.join(UPSAMPLE_METHODS)}")
        kernel = self.param("kernel", _normal_init(), (3, 3, x.shape[-1], self.features), jnp.float32)
        bias = self.param("bias", nn.initializers.zeros, (self.features,), jnp.float32)
        x, kernel, bias = (v.astype(self.dtype) for v in (x, kernel, bias))
        y = upsample_subpixel(x, kernel, self.cpu_forms) if self.method == "subpixel" else upsample_transpose(x, kernel)
        return y + bias


class Conv(nn.Module):
    """A square convolution with bias (:func:`conv2d`), in ``nn.Conv``'s layout and parameter names.

    ``kernel`` ``[K, K, in, features]`` ~ N(0, 0.02), ``bias`` = 0.

    Attributes:
      features: output channels.
      kernel_size: the kernel side ``K``.
      stride: 1 or 2.
      padding: zero padding on each side.
      dtype: compute dtype; parameters are float32.
      cpu_forms: compute the convolution in the forms fastest on XLA:CPU (same function).
    """

    features: int
    kernel_size: int
    stride: int = 1
    padding: int = 0
    dtype: Any = jnp.float32  # compute dtype; parameters are float32
    cpu_forms: bool = False  # the convolution forms fastest on XLA:CPU (same function)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        shape = (self.kernel_size, self.kernel_size, x.shape[-1], self.features)
        kernel = self.param("kernel", _normal_init(), shape, jnp.float32)
        bias = self.param("bias", nn.initializers.zeros, (self.features,), jnp.float32)
        x, kernel, bias = (v.astype(self.dtype) for v in (x, kernel, bias))
        return conv2d(x, kernel, self.stride, self.padding, self.cpu_forms) + bias


class ResnetBlock(nn.Module):
    """The reference's residual block: ``x + IN(Conv3(pad(ReLU(IN(Conv3(pad(x)))))))``.

    Reflection padding 1; the width (channels) is preserved.

    Attributes:
      dtype: compute dtype; parameters are float32.
      cpu_forms: compute the convolutions in the forms fastest on XLA:CPU (same function).
    """

    dtype: Any = jnp.float32
    cpu_forms: bool = False

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        dim = x.shape[-1]
        conv = functools.partial(Conv, dtype=self.dtype, cpu_forms=self.cpu_forms)
        h = nn.relu(instance_norm(conv(dim, 3, name="conv1")(reflect_pad(x, 1))))
        h = instance_norm(conv(dim, 3, name="conv2")(reflect_pad(h, 1)))
        return x + h


class ResnetGenerator(nn.Module):
    """The reference's ResNet generator ``[N, H, W, C_in] -> [N, H, W, out_channels]`` in ``(-1, 1)``.

    ``H`` and ``W`` must be multiples of 4 (two stride-2 downsamplings, two exact 2x upsamplings);
    other sizes raise ``ValueError``. The output is float32.

    Attributes:
      out_channels: output image channels.
      ngf: the first layer's width.
      n_blocks: residual blocks.
      upsample: :class:`Upsample`'s method, ``"subpixel"`` (default) or ``"transpose"``.
      dtype: compute dtype (e.g. bfloat16); parameters, norms and output are float32.
      cpu_forms: compute the convolutions in the forms fastest on XLA:CPU (same function).
    """

    out_channels: int = 3
    ngf: int = 64
    n_blocks: int = 9
    upsample: str = "subpixel"
    dtype: Any = jnp.float32  # compute dtype (e.g. bfloat16); parameters, norms and output float32
    cpu_forms: bool = False  # the convolution forms fastest on XLA:CPU (same function)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if x.shape[1] % 4 or x.shape[2] % 4:
            raise ValueError(f"image height and width must be multiples of 4, got {x.shape[1:3]}")
        conv = functools.partial(Conv, dtype=self.dtype, cpu_forms=self.cpu_forms)
        h = nn.relu(instance_norm(conv(self.ngf, 7, name="stem")(reflect_pad(x, 3))))
        for i in range(2):
            h = nn.relu(instance_norm(conv(self.ngf * 2 ** (i + 1), 3, 2, 1, name=f"down{i}")(h)))
        for b in range(self.n_blocks):
            h = ResnetBlock(self.dtype, self.cpu_forms, name=f"block{b}")(h)
        for i in range(2):
            h = Upsample(self.ngf * 2 ** (1 - i), self.upsample, self.dtype, self.cpu_forms, name=f"up{i}")(h)
            h = nn.relu(instance_norm(h))
        h = conv(self.out_channels, 7, name="head")(reflect_pad(h, 3))
        return jnp.tanh(h.astype(jnp.float32))


class PatchDiscriminator(nn.Module):
    """The reference's N-layer PatchGAN: ``[N, H, W, C] -> logits [N, h, w, 1]``, one per patch.

    With instance norms every logit also depends on the whole image through the normalisation
    statistics. The logits are float32.

    Attributes:
      ndf: the first layer's width.
      n_layers: stride-2 layers (3: the 70x70 PatchGAN, :func:`patch_receptive_field`).
      normalize: ``False`` drops the instance norms (the reference's ``norm="none"``).
      dtype: compute dtype; parameters, norms and logits are float32.
      cpu_forms: compute the convolutions in the forms fastest on XLA:CPU (same function).
    """

    ndf: int = 64
    n_layers: int = 3
    normalize: bool = True
    dtype: Any = jnp.float32  # compute dtype; parameters, norms and logits float32
    cpu_forms: bool = False  # the convolution forms fastest on XLA:CPU (same function)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        conv = functools.partial(Conv, dtype=self.dtype, cpu_forms=self.cpu_forms)
        norm = instance_norm if self.normalize else (lambda h: h)
        leaky = lambda h: nn.leaky_relu(h, 0.2)
        h = leaky(conv(self.ndf, 4, 2, 1, name="conv0")(x))
        for n in range(1, self.n_layers):
            h = leaky(norm(conv(self.ndf * min(2**n, 8), 4, 2, 1, name=f"conv{n}")(h)))
        h = leaky(norm(conv(self.ndf * min(2**self.n_layers, 8), 4, 1, 1, name=f"conv{self.n_layers}")(h)))
        return conv(1, 4, 1, 1, name="logits")(h).astype(jnp.float32)


def patch_receptive_field(n_layers: int) -> int:
    """Computes the side of the input patch that one PatchGAN logit sees.

    ``n_layers`` stride-2 4x4 convolutions then two stride-1 4x4 ones: ``r <- r + 3 * jump`` per layer
    with the jump doubling after each stride-2 layer, so ``1 + 3 (2^n - 1) + 6 * 2^n`` for
    ``n_layers = n``; 16, 34, 70 for ``n_layers`` 1, 2, 3.

    Args:
      n_layers: :class:`PatchDiscriminator`'s ``n_layers``.

    Returns:
      The receptive field's side in pixels.
    """
    size, jump = 1, 1
    for stride in [2] * n_layers + [1, 1]:
        size += 3 * jump
        jump *= stride
    return size


def reference_network(module: nn.Module) -> Network:
    """Wraps ``module`` as ``from_linen`` does, with the reference's initialisation in one draw.

    The reference initialises with ``init_weights("normal", 0.02)``.

    ``init(key, x)``: every ``kernel`` ~ N(0, 0.02), every ``bias`` = 0 (the same distribution as
    the modules' own initialisers), the kernels taken in order from one
    ``0.02 * jax.random.normal(key, (total,))``. Same parameters in law, but XLA:CPU compiles one
    random draw instead of one per layer shape, each of which takes long to compile.

    Args:
      module: a Flax module without model statistics (the CycleGAN networks).

    Returns:
      A :class:`jaxgan.networks.Network` whose ``apply`` is ``from_linen(module)``'s; its ``init``
      raises ``ValueError`` for a module with model statistics.
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
