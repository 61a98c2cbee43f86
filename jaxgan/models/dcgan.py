"""DCGAN (Radford et al. 2015) as in pytorch/examples ``dcgan/main.py``, for any power-of-two size.

At 64x64 with ``nz = 100``, ``ngf = ndf = 64`` these are the reference networks, layer for layer
(G 3,576,704 and D 2,765,568 parameters for 3 channels)::

    G: z[100] -> ConvT(k4 s1 p0) 4x4x512 BN ReLU -> ConvT(k4 s2 p1) 8x8x256 BN ReLU
              -> 16x16x128 BN ReLU -> 32x32x64 BN ReLU -> ConvT(k4 s2 p1) 64x64xnc Tanh
    D: x -> Conv(k4 s2 p1) 32x32x64 LReLU(0.2) -> 16x16x128 BN LReLU -> 8x8x256 BN LReLU
         -> 4x4x512 BN LReLU -> Conv(k4 s1 p0) 1 logit

No convolution has a bias; kernels start as ``N(0, 0.02^2)``, BatchNorm scales as ``N(1, 0.02^2)``
and offsets at 0. BatchNorm uses PyTorch's settings: ``eps = 1e-5`` and running averages
``r <- 0.9 r + 0.1 batch_stat`` (PyTorch's ``momentum=0.1`` is Flax's ``momentum=0.9``). One
difference remains: PyTorch's running variance uses the unbiased batch variance
(``n / (n - 1)`` times Flax's), a relative difference of ``1 / (N H W)``.

**Other sizes.** For ``image_size = 2^k`` there are ``k - 2`` stride-2 stages: G projects to
4x4 x ``ngf * 2^(k-3)`` and halves the channels at each doubling until the last stage maps to
``channels``; D mirrors it (32x32: 256-128-64, 16x16: 128-64).

**Fast everywhere.** G's stride-2 layers are :class:`jaxgan.speedups.layers.UpsampleConv`, the
exact sub-pixel form of the transposed convolution, and D's are
:class:`jaxgan.speedups.layers.DownsampleConv`; by default both compute their convolutions as
matrix products of image patches (``"matmul"``), which XLA:CPU runs at full speed inside the
compiled training loop, where its convolutions run many times slower (jax-ml/jax#12868).
``upsample="subpixel"`` / ``downsample="conv"`` use XLA's convolutions, ``upsample="transpose"``
XLA's transposed convolution, ``"winograd"`` Winograd's (the CPU's fastest; the caller chooses):
same parameters, same function. G's first layer and D's last are computed as the dense layers
they are (:class:`jaxgan.speedups.layers.ProjectConv`,
:func:`jaxgan.speedups.layers.conv_covering_input`).

**Spectral normalisation** (``spectral_norm=True``, SNGAN's D, Miyato et al. 2018): every D kernel
``W`` (reshaped to ``[H W in, out]``) is used as ``W / sigma(W)``, its largest singular value
estimated by one power-iteration step per call (:class:`flax.linen.SpectralNorm`), and D has no
BatchNorm (whose division by the batch's spread would undo the constraint; SNGAN's D has none).
The power-iteration vectors are D's ``batch_stats``: a training-mode call advances them, and
jaxgan's G step drops D's new statistics, so they advance in D steps only.

**Precision.** ``dtype`` is the compute dtype (e.g. ``jnp.bfloat16``); parameters are stored in
``param_dtype`` (float32), BatchNorm statistics are computed in float32, and both networks return
float32 (images, logits), so losses are float32.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.speedups.layers import DownsampleConv, ProjectConv, UpsampleConv, conv_covering_input
from jaxgan.networks import Network, from_linen

__all__ = [
    "DCGANGenerator",
    "DCGANDiscriminator",
    "LogitConv",
    "dcgan_networks",
    "discriminator_features",
    "num_stages",
    "count_params",
    "WEIGHT_STD",
    "BN_MOMENTUM",
    "BN_EPSILON",
]

WEIGHT_STD = 0.02
BN_MOMENTUM = 0.9  # Flax convention: running = momentum * running + (1 - momentum) * batch
BN_EPSILON = 1e-5
LEAKY_SLOPE = 0.2

Dtype = Any


def num_stages(image_size: int) -> int:
    """Counts the stride-2 stages between 4x4 and ``image_size``: ``log2(image_size) - 2``.

    Args:
      image_size: the image side, a power of two, at least 8.

    Returns:
      The number of stages.

    Raises:
      ValueError: if ``image_size`` is not a power of two >= 8.
    """
    if image_size < 8 or image_size & (image_size - 1):
        raise ValueError(f"image_size must be a power of two >= 8, got {image_size}")
    return image_size.bit_length() - 3


def count_params(params) -> int:
    """Counts the scalars in a parameter pytree.

    Args:
      params: a pytree of arrays.

    Returns:
      The total number of elements of its leaves.
    """
    return sum(int(p.size) for p in jax.tree_util.tree_leaves(params))


def _normal_around_one(std: float):
    """Initializer ``1 + std * N(0, 1)``: PyTorch's DCGAN ``weights_init`` for BatchNorm scales."""

    def init(key, shape, dtype=jnp.float32):
        return (1.0 + std * jax.random.normal(key, shape)).astype(dtype)

    return init


def _batch_norm(train: bool, dtype, param_dtype, name: str) -> nn.BatchNorm:
    return nn.BatchNorm(
        use_running_average=not train,
        momentum=BN_MOMENTUM,
        epsilon=BN_EPSILON,
        dtype=dtype,
        param_dtype=param_dtype,
        scale_init=_normal_around_one(WEIGHT_STD),
        bias_init=nn.initializers.zeros,
        name=name,
    )


class DCGANGenerator(nn.Module):
    """DCGAN's G: ``z [N, nz] -> images [N, image_size, image_size, channels]`` in (-1, 1).

    Attributes:
      image_size: output side, a power of two >= 8 (64 = the reference).
      channels: output channels (``nc``).
      features: ``ngf``; the 4x4 projection has ``ngf * 2^(stages - 1)`` channels.
      upsample: ``"matmul"`` (default), ``"subpixel"``, ``"transpose"`` or ``"winograd"``, see
        :class:`jaxgan.speedups.layers.UpsampleConv`.
      dtype: compute dtype.
      param_dtype: parameter dtype.

    Call it as ``G(z, train)``: ``train`` selects BatchNorm's batch statistics (``True``) or its
    running averages.
    """

    image_size: int = 64
    channels: int = 3
    features: int = 64
    upsample: str = "matmul"
    dtype: Dtype = jnp.float32
    param_dtype: Dtype = jnp.float32

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        stages = num_stages(self.image_size)
        init = nn.initializers.normal(WEIGHT_STD)
        width = self.features * 2 ** (stages - 1)
        x = ProjectConv(width, 4, dtype=self.dtype, param_dtype=self.param_dtype, kernel_init=init, name="project")(z)
        x = nn.relu(_batch_norm(train, self.dtype, self.param_dtype, "project_bn")(x))
        for i in range(1, stages):
            width //= 2
            x = UpsampleConv(
                width, self.upsample, dtype=self.dtype, param_dtype=self.param_dtype, kernel_init=init, name=f"up{i}"
            )(x)
            x = nn.relu(_batch_norm(train, self.dtype, self.param_dtype, f"up{i}_bn")(x))
        x = UpsampleConv(
            self.channels, self.upsample, dtype=self.dtype, param_dtype=self.param_dtype, kernel_init=init, name="to_image"
        )(x)
        return jnp.tanh(x).astype(jnp.float32)


class LogitConv(nn.Module):
    """D's last layer as a module: a convolution whose ``kernel`` covers its whole input, one logit.

    The spectrally normalised D's last layer (the reference D keeps this kernel as its own
    ``logit`` parameter); :func:`jaxgan.speedups.layers.conv_covering_input` computes it.
    """

    param_dtype: Dtype = jnp.float32
    dtype: Dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kernel = self.param("kernel", nn.initializers.normal(WEIGHT_STD), (*x.shape[1:], 1), self.param_dtype)
        return conv_covering_input(x, kernel.astype(self.dtype))


class DCGANDiscriminator(nn.Module):
    """DCGAN's D: ``images [N, S, S, C] -> logits [N]`` (float32), ``sigmoid(logit)`` = P(real).

    Attributes:
      image_size: input side, a power of two >= 8; must match the images.
      features: ``ndf``; the last 4x4 map has ``ndf * 2^(stages - 1)`` channels.
      downsample: ``"matmul"`` (default), ``"conv"`` or ``"winograd"``, see
        :class:`jaxgan.speedups.layers.DownsampleConv`.
      dtype: compute dtype.
      param_dtype: parameter dtype.
      spectral_norm: spectrally normalise every kernel and leave out BatchNorm (see the module notes).

    Call it as ``D(x, train)``: ``train`` selects BatchNorm's batch statistics (``True``) or its
    running averages (with ``spectral_norm``: whether the call advances the power iteration). It
    raises ``ValueError`` for images of another size.
    """

    image_size: int = 64
    features: int = 64
    downsample: str = "matmul"
    dtype: Dtype = jnp.float32
    param_dtype: Dtype = jnp.float32
    spectral_norm: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        x = discriminator_features(self, x, train)
        init = nn.initializers.normal(WEIGHT_STD)
        if self.spectral_norm:
            layer = LogitConv(self.param_dtype, self.dtype, name="logit")
            logits = nn.SpectralNorm(layer, name="logit_sn")(x, update_stats=train)
            return logits[:, 0].astype(jnp.float32)
        kernel = self.param("logit", init, (4, 4, x.shape[-1], 1), self.param_dtype)
        logits = conv_covering_input(x, kernel.astype(self.dtype))
        return logits[:, 0].astype(jnp.float32)


def discriminator_features(module: nn.Module, x: jax.Array, train: bool) -> jax.Array:
    """DCGAN's D up to its last layer: ``images [N, S, S, C] -> [N, 4, 4, ndf * 2^(stages - 1)]``.

    Called inside ``module``'s compact ``__call__`` (its layers become ``module``'s: ``down{i}``,
    ``down{i}_bn``, ``down{i}_sn``), with the fields of :class:`DCGANDiscriminator`: ``image_size``,
    ``features``, ``downsample``, ``dtype``, ``param_dtype`` and ``spectral_norm``.

    Args:
      module: the module being called.
      x: the images.
      train: BatchNorm's batch statistics (``True``) or running averages.

    Returns:
      The last feature map, in the compute dtype.
    """
    stages = num_stages(module.image_size)
    if x.shape[1:3] != (module.image_size, module.image_size):
        raise ValueError(f"expected {module.image_size}x{module.image_size} images, got shape {x.shape}")
    init = nn.initializers.normal(WEIGHT_STD)
    x = x.astype(module.dtype)
    width = module.features
    for i in range(stages):
        conv = DownsampleConv(
            width, module.downsample, dtype=module.dtype, param_dtype=module.param_dtype, kernel_init=init, name=f"down{i}"
        )
        if module.spectral_norm:
            x = nn.SpectralNorm(conv, name=f"down{i}_sn")(x, update_stats=train)
        else:
            x = conv(x)
        if i > 0 and not module.spectral_norm:  # the reference has no BatchNorm after the first convolution
            x = _batch_norm(train, module.dtype, module.param_dtype, f"down{i}_bn")(x)
        x = nn.leaky_relu(x, LEAKY_SLOPE)
        width *= 2
    return x


def dcgan_networks(
    image_size: int = 64,
    channels: int = 3,
    *,
    g_features: int = 64,
    d_features: int = 64,
    upsample: str = "matmul",
    downsample: str = "matmul",
    dtype: Dtype = jnp.float32,
    spectral_norm: bool = False,
) -> tuple[Network, Network]:
    """Builds DCGAN's generator and discriminator, each as a :class:`jaxgan.networks.Network`.

    Args:
      image_size: image side, a power of two >= 8.
      channels: image channels.
      g_features: G's ``ngf``.
      d_features: D's ``ndf``.
      upsample: G's upsampling method (:class:`DCGANGenerator`).
      downsample: D's downsampling method (:class:`DCGANDiscriminator`).
      dtype: compute dtype; parameters are float32.
      spectral_norm: D's kernels spectrally normalised, without BatchNorm (:class:`DCGANDiscriminator`).

    Returns:
      ``(generator, discriminator)``.
    """
    g = DCGANGenerator(image_size, channels, g_features, upsample, dtype=dtype)
    d = DCGANDiscriminator(image_size, d_features, downsample, dtype=dtype, spectral_norm=spectral_norm)
    return from_linen(g), from_linen(d)
