"""Class-conditional DCGAN: G takes ``(z, y)``, D takes ``(x, y)``, with a projection or ACGAN head.

G (:class:`ConditionalDCGANGenerator`) is DCGAN's G (:mod:`jaxgan.models.dcgan`) told the class
``y`` by a learned embedding, one of two ways:

* ``"concat"``: the embedding ``e(y)`` is concatenated to the noise, ``G([z, e(y)])``;
* ``"batchnorm"``: conditional BatchNorm (de Vries et al. 2017, Miyato & Koyama 2018): every
  BatchNorm of G normalises without its own scale and offset, then applies the class's,
  ``gamma(y) * x_hat + beta(y)`` (``gamma`` embeddings start near 1, ``beta`` at 0).

G returns ``(x, y)``: the labels travel with the sample, so D sees them (:mod:`jaxgan.gan`).

D (:class:`ConditionalDCGANDiscriminator`) is DCGAN's D up to its last 4x4 feature map
``phi(x)`` (:func:`jaxgan.models.dcgan.discriminator_features`), then one of two heads:

* ``"projection"`` (Miyato & Koyama 2018): ``logit = psi(phi(x)) + <E[y], phi(x)>``, ``psi`` the
  unconditional D's last layer (a linear map of the whole feature map) and ``E`` a class embedding
  of the feature map's size;
* ``"acgan"`` (Odena et al. 2017): the unconditional logit ``psi(phi(x))`` and ``K`` class logits
  ``W phi(x) + b``, returned as :class:`jaxgan.losses.ACGANOutput` with the input's labels, for
  :func:`jaxgan.losses.acgan_objective`.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.losses.acgan import ACGANOutput
from jaxgan.models.dcgan import (
    BN_EPSILON,
    BN_MOMENTUM,
    WEIGHT_STD,
    LogitConv,
    _batch_norm,
    discriminator_features,
    num_stages,
)
from jaxgan.networks import Network, from_linen
from jaxgan.speedups.layers import ProjectConv, UpsampleConv, conv_covering_input

__all__ = [
    "CONDITIONINGS",
    "HEADS",
    "ConditionalBatchNorm",
    "ConditionalDCGANDiscriminator",
    "ConditionalDCGANGenerator",
    "conditional_dcgan_networks",
]

CONDITIONINGS = ("concat", "batchnorm")
HEADS = ("projection", "acgan")

Dtype = Any


class ConditionalBatchNorm(nn.Module):
    """BatchNorm with a scale and offset per class: ``gamma(y) * x_hat + beta(y)``.

    ``x_hat`` is DCGAN's BatchNorm (PyTorch's momentum and epsilon) without its own scale and
    offset; ``gamma(y) = 1 + N(0, 0.02^2)`` and ``beta(y) = 0`` at initialisation, as DCGAN's.

    Attributes:
      num_classes: ``K``.
      dtype, param_dtype: compute and parameter dtypes.
    """

    num_classes: int
    dtype: Dtype = jnp.float32
    param_dtype: Dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array, train: bool = True) -> jax.Array:
        channels = x.shape[-1]
        x_hat = nn.BatchNorm(
            use_running_average=not train, momentum=BN_MOMENTUM, epsilon=BN_EPSILON, use_scale=False,
            use_bias=False, dtype=self.dtype, param_dtype=self.param_dtype, name="norm",
        )(x)  # fmt: skip
        gamma = nn.Embed(self.num_classes, channels, embedding_init=_normal_around_one(), param_dtype=self.param_dtype, name="scale")(y)
        beta = nn.Embed(self.num_classes, channels, embedding_init=nn.initializers.zeros, param_dtype=self.param_dtype, name="offset")(y)
        shape = (x.shape[0],) + (1,) * (x.ndim - 2) + (channels,)
        return x_hat * gamma.reshape(shape).astype(self.dtype) + beta.reshape(shape).astype(self.dtype)


def _normal_around_one():
    def init(key, shape, dtype=jnp.float32):
        return (1.0 + WEIGHT_STD * jax.random.normal(key, shape)).astype(dtype)

    return init


class ConditionalDCGANGenerator(nn.Module):
    """DCGAN's G conditioned on a class: ``(z [N, nz], y [N]) -> (images [N, S, S, C], y)``.

    Attributes:
      num_classes: ``K``; labels are ints in ``[0, K)``.
      image_size, channels, features, upsample, dtype, param_dtype: as
        :class:`jaxgan.models.dcgan.DCGANGenerator`.
      conditioning: ``"concat"`` (the class embedding concatenated to ``z``) or ``"batchnorm"``
        (conditional BatchNorm).
      embed_dim: the concatenated embedding's width (``"concat"`` only).
    """

    num_classes: int
    image_size: int = 64
    channels: int = 3
    features: int = 64
    upsample: str = "matmul"
    conditioning: str = "concat"
    embed_dim: int = 16
    dtype: Dtype = jnp.float32
    param_dtype: Dtype = jnp.float32

    @nn.compact
    def __call__(self, inputs, train: bool = True):
        z, y = inputs
        if self.conditioning not in CONDITIONINGS:
            raise ValueError(f"conditioning must be one of {CONDITIONINGS}, got {self.conditioning!r}")
        dt, pdt = self.dtype, self.param_dtype
        init = nn.initializers.normal(WEIGHT_STD)
        if self.conditioning == "concat":
            embedding = nn.Embed(self.num_classes, self.embed_dim, param_dtype=pdt, name="embed")(y)
            z = jnp.concatenate([z, embedding.astype(z.dtype)], axis=-1)

        def norm(x, name):
            if self.conditioning == "batchnorm":
                return ConditionalBatchNorm(self.num_classes, dt, pdt, name=name)(x, y, train)
            return _batch_norm(train, dt, pdt, name)(x)

        stages = num_stages(self.image_size)
        width = self.features * 2 ** (stages - 1)
        x = ProjectConv(width, 4, dtype=dt, param_dtype=pdt, kernel_init=init, name="project")(z)
        x = nn.relu(norm(x, "project_bn"))
        for i in range(1, stages):
            width //= 2
            x = UpsampleConv(width, self.upsample, dtype=dt, param_dtype=pdt, kernel_init=init, name=f"up{i}")(x)
            x = nn.relu(norm(x, f"up{i}_bn"))
        x = UpsampleConv(self.channels, self.upsample, dtype=dt, param_dtype=pdt, kernel_init=init, name="to_image")(x)
        return jnp.tanh(x).astype(jnp.float32), y


class ConditionalDCGANDiscriminator(nn.Module):
    """DCGAN's D with a class-conditional head: ``(images, y) -> logits [N]`` (projection) or an
    :class:`jaxgan.losses.ACGANOutput` (acgan).

    Attributes:
      num_classes: ``K``.
      head: ``"projection"`` or ``"acgan"`` (see the module notes).
      image_size, features, downsample, dtype, param_dtype, spectral_norm: as
        :class:`jaxgan.models.dcgan.DCGANDiscriminator` (the projection's embedding and the class
        logits are not spectrally normalised).
    """

    num_classes: int
    head: str = "projection"
    image_size: int = 64
    features: int = 64
    downsample: str = "matmul"
    dtype: Dtype = jnp.float32
    param_dtype: Dtype = jnp.float32
    spectral_norm: bool = False

    @nn.compact
    def __call__(self, inputs, train: bool = True):
        x, y = inputs
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")
        h = discriminator_features(self, x, train)  # phi(x): [N, 4, 4, C]
        self.sow("intermediates", "features", h)  # kept only where asked for (mutable=["intermediates"])
        init = nn.initializers.normal(WEIGHT_STD)
        if self.spectral_norm:
            logit = nn.SpectralNorm(LogitConv(self.param_dtype, self.dtype, name="logit"), name="logit_sn")(h, update_stats=train)
        else:
            kernel = self.param("logit", init, (*h.shape[1:], 1), self.param_dtype)
            logit = conv_covering_input(h, kernel.astype(self.dtype))
        logit = logit[:, 0].astype(jnp.float32)  # psi(phi(x))
        flat = h.reshape(h.shape[0], -1)
        if self.head == "projection":
            embedding = nn.Embed(self.num_classes, flat.shape[-1], embedding_init=init, param_dtype=self.param_dtype, name="embed")(y)
            return logit + jnp.sum(flat.astype(jnp.float32) * embedding.astype(jnp.float32), axis=-1)
        class_logits = nn.Dense(self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, kernel_init=init, name="classes")(flat)
        return ACGANOutput(logit, class_logits.astype(jnp.float32), y)


def conditional_dcgan_networks(
    num_classes: int,
    image_size: int = 64,
    channels: int = 3,
    *,
    head: str = "projection",
    conditioning: str = "concat",
    g_features: int = 64,
    d_features: int = 64,
    upsample: str = "matmul",
    downsample: str = "matmul",
    dtype: Dtype = jnp.float32,
    spectral_norm: bool = False,
) -> tuple[Network, Network]:
    """Builds a conditional DCGAN's generator and discriminator as :class:`jaxgan.networks.Network`.

    Args:
      num_classes: ``K``.
      image_size: image side, a power of two >= 8.
      channels: image channels.
      head: D's head, ``"projection"`` or ``"acgan"``.
      conditioning: G's, ``"concat"`` or ``"batchnorm"``.
      g_features, d_features: ``ngf``, ``ndf``.
      upsample, downsample: the layers' methods (:mod:`jaxgan.models.dcgan`).
      dtype: compute dtype; parameters are float32.
      spectral_norm: D's feature kernels and ``psi`` spectrally normalised, without BatchNorm.

    Returns:
      ``(generator, discriminator)``.
    """
    g = ConditionalDCGANGenerator(num_classes, image_size, channels, g_features, upsample, conditioning, dtype=dtype)
    d = ConditionalDCGANDiscriminator(num_classes, head, image_size, d_features, downsample, dtype=dtype, spectral_norm=spectral_norm)
    return from_linen(g), from_linen(d)
