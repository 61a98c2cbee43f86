"""pix2pix's networks: the U-Net generator and the PatchGAN with batch norm (Isola et al. 2017).

Layer for layer the reference's ``UnetGenerator``/``UnetSkipConnectionBlock`` and
``NLayerDiscriminator`` (junyanz/pytorch-CycleGAN-and-pix2pix, ``norm="batch"``, pix2pix's
defaults), NHWC instead of NCHW.

**U-Net** (``num_downs`` blocks, nested; block ``d = 0`` is the outermost, ``d = num_downs - 1``
the innermost). Block ``d`` maps ``outer_d`` channels at ``H / 2^d`` to ``inner_d`` channels at
``H / 2^(d+1)`` and back, with ``inner_d = ngf min(2^d, 8)``, ``outer_0 = out_channels`` (its
input has ``in`` channels) and ``outer_d = inner_{d-1}``::

    outermost:  Conv4 s2 p1 (inner)                 -> sub -> ReLU ConvT4 s2 p1 (out, bias) Tanh
    middle:     LReLU(0.2) Conv4 s2 p1 (inner) BN   -> sub -> ReLU ConvT4 s2 p1 (outer) BN [Dropout(0.5)]
    innermost:  LReLU(0.2) Conv4 s2 p1 (inner)             -> ReLU ConvT4 s2 p1 (outer) BN

and every block but the outermost returns ``concat(x, block(x))`` on channels (the skip
connection), so the layer after a sub-block sees ``2 inner`` channels. ``num_downs = log2(size)``
takes a ``size x size`` image down to 1x1: 8 at 256x256 is the reference's ``unet_256``
(54,413,955 parameters with ``ngf = 64``, the reference's printed 54.414 M), 7 at 128x128 its
``unet_128``, 4 at 16x16. Convolutions before a batch norm have no bias (the reference's
``use_bias = norm is InstanceNorm``); the outermost ones and the innermost down-convolution carry
none either, except the final ``ConvT`` (PyTorch's default ``bias=True``).

**Dropout** (the paper's noise ``z``): ``Dropout(0.5)`` after the up-path of the middle blocks just
above the innermost one. The reference puts it in the ``num_downs - 5`` blocks at ``8 ngf`` width
(3 for ``unet_256``, 2 for ``unet_128``, none below 64x64); ``dropout_blocks`` (default ``None``:
that rule) counts them here, so that small images can keep the noise (e.g. 2 at 16x16, the middle
blocks ``d = 1, 2``). Dropout stays on in evaluation mode too (``train=False`` only switches batch
norm to its running averages), as in the paper and the reference's test mode: the generator is
stochastic. Its random numbers come from Flax's ``dropout`` stream, which
:func:`jaxgan.networks.from_linen` feeds from a key in ``stats`` (:mod:`jaxgan.pix2pix` puts one
taken from the run's key there for every call).

**PatchGAN** (:class:`BatchNormPatchDiscriminator`, ``ndf = 64``, ``n_layers = 3``: 70x70 patches,
:func:`jaxgan.models.resnet_patchgan.patch_receptive_field`)::

    Conv4 s2 p1 (ndf, bias) LReLU(0.2)
    for n in 1 .. n_layers-1:  Conv4 s2 p1 (ndf min(2^n, 8)) BN LReLU(0.2)
    Conv4 s1 p1 (ndf min(2^n_layers, 8)) BN LReLU(0.2)
    Conv4 s1 p1 (1, bias)                           -> logits [N, h, w, 1]

(2,768,705 parameters on 6 channels: the reference's printed 2.769 M.) ``BN`` is batch
normalisation with PyTorch's ``BatchNorm2d`` defaults (``eps = 1e-5``, running averages with
momentum 0.1, i.e. Flax's ``momentum = 0.9``; Flax normalises the running variance with the biased
batch variance where PyTorch keeps the unbiased one). Initialisation is the reference's
``init_weights("normal", 0.02)``: kernels ~ N(0, 0.02), biases 0, batch-norm scales ~ N(1, 0.02).
The transposed convolutions ``ConvT4 s2 p1`` (``H -> 2H``) compute ``nn.ConvTranspose`` with padding
2 on each side of the dilated input (PyTorch's function up to the (random) kernel's flip), and the
``Conv4 s2 p1`` ``nn.Conv``, by default through matrix products of patches
(:mod:`jaxgan.speedups.layers`; ``upsample``/``downsample`` choose XLA's convolutions instead),
with the parameters of those Flax layers.
"""

from __future__ import annotations

import functools
import math
from typing import Optional

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.speedups.layers import DownsampleConv, UpsampleConv

__all__ = ["UnetGenerator", "BatchNormPatchDiscriminator", "num_downs_for", "unet_widths", "reference_dropout_blocks"]

INIT_STD = 0.02
BN_EPSILON = 1e-5  # PyTorch BatchNorm2d's default
BN_MOMENTUM = 0.9  # Flax's convention for PyTorch's momentum 0.1


def _kernel_init():
    return nn.initializers.normal(stddev=INIT_STD)


def _scale_init(key, shape, dtype=jnp.float32):
    """Batch-norm scales ~ N(1, 0.02), the reference's ``init.normal_(weight, 1.0, 0.02)``."""
    return 1.0 + INIT_STD * jax.random.normal(key, shape, dtype)


def _batch_norm(train: bool, name: str) -> nn.BatchNorm:
    return nn.BatchNorm(use_running_average=not train, momentum=BN_MOMENTUM, epsilon=BN_EPSILON,
                        scale_init=_scale_init, name=name)  # fmt: skip


def num_downs_for(size: int) -> int:
    """``log2(size)``: the U-Net depth that takes a ``size x size`` image down to 1x1.

    Raises:
      ValueError: unless ``size`` is a power of two, at least 2.
    """
    if size < 2 or size & (size - 1):
        raise ValueError(f"the U-Net needs a power-of-two image side (>= 2), got {size}")
    return int(math.log2(size))


def unet_widths(num_downs: int, ngf: int, out_channels: int) -> list[tuple[int, int]]:
    """``[(outer_d, inner_d)]`` for ``d = 0 .. num_downs - 1`` (module notes): ``inner_d = ngf min(2^d, 8)``."""
    inner = [ngf * min(2**d, 8) for d in range(num_downs)]
    return [(out_channels if d == 0 else inner[d - 1], inner[d]) for d in range(num_downs)]


def reference_dropout_blocks(num_downs: int) -> int:
    """The reference's number of dropout blocks: ``max(num_downs - 5, 0)`` (3 for ``unet_256``)."""
    return max(num_downs - 5, 0)


class UnetGenerator(nn.Module):
    """The reference's U-Net ``[N, S, S, C_in] -> [N, S, S, out_channels]`` in ``(-1, 1)`` (module notes).

    ``S`` must be ``2^num_downs`` or a multiple of it (``num_downs=None``: ``log2(S)``, down to 1x1).

    Attributes:
      out_channels: output image channels.
      ngf: the outermost block's inner width.
      num_downs: stride-2 downsamplings (``None``: ``log2`` of the image side).
      dropout_blocks: middle blocks with dropout, counted up from the innermost (``None``:
        :func:`reference_dropout_blocks`); at most ``num_downs - 2``.
      dropout_rate: the dropout probability (0.5).
      upsample: how the ``ConvT4 s2 p1`` layers compute, one of
        :class:`~jaxgan.speedups.layers.UpsampleConv`'s methods: ``"matmul"`` (a matrix product
        of sub-pixel patches; at 16x16 on CPU the U-Net's forward and backward pass take 0.4x the
        time of XLA's transposed convolutions) or ``"transpose"`` (``nn.ConvTranspose``'s). The
        parameters and the function are the same whichever; only speed and rounding differ.
      downsample: how the ``Conv4 s2 p1`` layers compute, one of
        :class:`~jaxgan.speedups.layers.DownsampleConv`'s methods: ``"matmul"`` or ``"conv"``
        (``nn.Conv``'s).
    """

    out_channels: int = 3
    ngf: int = 64
    num_downs: Optional[int] = None
    dropout_blocks: Optional[int] = None
    dropout_rate: float = 0.5
    upsample: str = "matmul"
    downsample: str = "matmul"

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        n, h, w, _ = x.shape
        downs = num_downs_for(h) if self.num_downs is None else self.num_downs
        if downs < 2 or h % 2**downs or w % 2**downs:
            raise ValueError(f"{downs} downsamplings need image sides divisible by {2**downs} (and >= 2 of them), got {h}x{w}")
        n_drop = reference_dropout_blocks(downs) if self.dropout_blocks is None else self.dropout_blocks
        if not 0 <= n_drop <= downs - 2:
            raise ValueError(f"dropout_blocks must be in [0, {downs - 2}] for {downs} downsamplings, got {n_drop}")
        widths = unet_widths(downs, self.ngf, self.out_channels)
        conv = functools.partial(DownsampleConv, method=self.downsample, kernel_init=_kernel_init())
        upconv = functools.partial(UpsampleConv, method=self.upsample, kernel_init=_kernel_init())

        def block(d: int, h: jax.Array) -> jax.Array:
            outer, inner = widths[d]
            outermost, innermost = d == 0, d == downs - 1
            y = h if outermost else nn.leaky_relu(h, 0.2)
            y = conv(inner, name=f"down{d}")(y)
            if not (outermost or innermost):
                y = _batch_norm(train, f"down_norm{d}")(y)
            if not innermost:
                y = block(d + 1, y)
            y = nn.relu(y)
            if outermost:
                return jnp.tanh(upconv(outer, use_bias=True, name=f"up{d}")(y))
            y = _batch_norm(train, f"up_norm{d}")(upconv(outer, name=f"up{d}")(y))
            if not innermost and d >= downs - 1 - n_drop:
                y = nn.Dropout(self.dropout_rate, deterministic=False, name=f"dropout{d}")(y)
            return jnp.concatenate([h, y], axis=-1)

        return block(0, x)


class BatchNormPatchDiscriminator(nn.Module):
    """The reference's N-layer PatchGAN with batch norm: ``[N, H, W, C] -> logits [N, h, w, 1]`` (module notes).

    pix2pix gives it ``concat(input, output)`` on channels (a conditional D).

    Attributes:
      ndf: the first layer's width.
      n_layers: stride-2 layers (3: the 70x70 PatchGAN).
      downsample: how the stride-2 layers compute, as :class:`UnetGenerator`'s ``downsample``.
    """

    ndf: int = 64
    n_layers: int = 3
    downsample: str = "matmul"

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        conv = functools.partial(nn.Conv, kernel_size=(4, 4), padding=((1, 1), (1, 1)), kernel_init=_kernel_init())
        down = functools.partial(DownsampleConv, method=self.downsample, kernel_init=_kernel_init())
        leaky = lambda h: nn.leaky_relu(h, 0.2)
        h = leaky(down(self.ndf, use_bias=True, name="conv0")(x))
        for n in range(1, self.n_layers + 1):
            width, name = self.ndf * min(2**n, 8), f"conv{n}"
            h = down(width, name=name)(h) if n < self.n_layers else conv(width, use_bias=False, name=name)(h)
            h = leaky(_batch_norm(train, f"norm{n}")(h))
        return conv(1, strides=(1, 1), name="logits")(h).astype(jnp.float32)
