"""The networks of PacGAN's 2D-mixture experiments (Lin et al. 2018, ``synthetic_data_experiments``).

* :class:`BatchNormMLP` (their G): ``[Dense(width, no bias) -> BatchNorm -> ReLU] x depth ->
  Dense(out)``; PacGAN uses 4 x 400 on 2-d noise.
* :class:`MaxoutMLP` (their D): ``[Dense(width * pieces) -> max over pieces] x depth -> Dense(out)``
  (``maxout(x)_j = max_p (x W_p + b_p)_j``); PacGAN uses 3 x 200 with 5 pieces.

Both initialise every weight from ``N(0, 0.02^2)`` and biases at 0, as PacGAN's
``IsotropicGaussian(0.02)``. BatchNorm keeps running statistics with PacGAN's update
``running = 0.95 running + 0.05 batch`` (Flax ``momentum=0.95``) for evaluation mode. The plain
MLPs of jaxgan's own recipe are :class:`ScaledMLP`: a :class:`jaxgan.models.mlp.MLP` working in
units where the data spans about ``[-1, 1]``.

**Spectral normalisation** (Miyato et al. 2018; ``spectral_norm=True`` on a D): every dense layer's
kernel ``W`` is used as ``W / sigma(W)``, ``sigma`` its largest singular value, estimated by one
power-iteration step per call (:class:`flax.linen.SpectralNorm`, see :func:`spectral_dense`). The
power-iteration vectors live in the ``batch_stats`` collection, so they are part of the network's
``stats``: a training-mode call advances them (``update_stats=train``); jaxgan's G step drops D's
new statistics, so they advance in D steps only.
"""

from __future__ import annotations

from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from jaxgan.models.mlp import MLP

__all__ = ["BatchNormMLP", "MaxoutMLP", "PACGAN_INIT_STD", "ScaledMLP", "spectral_dense"]

#: Standard deviation of PacGAN's weight initialisation.
PACGAN_INIT_STD = 0.02


def spectral_dense(features: int, *, spectral_norm: bool, train: bool, **dense_options) -> Callable:
    """A dense layer, spectrally normalised or not: ``x -> x (W / sigma(W)) + b`` or ``x W + b``.

    Call it inside a compact module. With ``spectral_norm``, ``nn.SpectralNorm(nn.Dense(...))``
    runs one power-iteration step ``v = norm(u W^T)``, ``u = norm(v W)``, ``sigma = v W u^T``
    from the stored ``u`` (``batch_stats``), divides the kernel by ``sigma`` (the bias is left
    alone) and stores the new ``u`` and ``sigma`` when ``train``.

    Args:
      features: the output width.
      spectral_norm: whether to normalise the kernel.
      train: whether the call stores the advanced power-iteration vector (``update_stats``).
      **dense_options: ``nn.Dense``'s other options (``kernel_init``, ``dot_general``, ...).

    Returns:
      ``layer(x) -> y``.
    """
    dense = nn.Dense(features, **dense_options)
    if not spectral_norm:
        return dense
    normalised = nn.SpectralNorm(dense)
    return lambda x: normalised(x, update_stats=train)


class BatchNormMLP(nn.Module):
    """PacGAN's G: ``[Dense(width, no bias) -> BatchNorm -> act] x depth -> Dense(out)``.

    Call it as ``G(x, train)``: BatchNorm uses batch statistics when ``train`` and running averages
    otherwise.

    Attributes:
      width: the hidden layers' width.
      depth: the number of hidden layers.
      out: the output width.
      activation: the name of a ``flax.linen`` activation.
      init_std: the weights' initial standard deviation.
      momentum: BatchNorm's running-average momentum (Flax's convention).
    """

    width: int = 400
    depth: int = 4
    out: int = 2
    activation: str = "relu"
    init_std: float = PACGAN_INIT_STD
    momentum: float = 0.95

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        init = nn.initializers.normal(self.init_std)
        act = getattr(nn, self.activation)
        for _ in range(self.depth):
            x = nn.Dense(self.width, use_bias=False, kernel_init=init)(x)
            x = nn.BatchNorm(use_running_average=not train, momentum=self.momentum)(x)
            x = act(x)
        return nn.Dense(self.out, kernel_init=init)(x)


class MaxoutMLP(nn.Module):
    """PacGAN's D: ``[maxout(Dense(width * pieces))] x depth -> Dense(out)``.

    Maxout takes the max of each unit's ``pieces`` affine pieces.

    Attributes:
      width: the hidden layers' width (units after the max).
      depth: the number of hidden layers.
      pieces: affine pieces per unit.
      out: the output width.
      init_std: the weights' initial standard deviation.
      spectral_norm: spectrally normalise every layer's kernel (:func:`spectral_dense`).

    Call it as ``D(x, train)``; ``train`` matters only with ``spectral_norm`` (it advances the
    power iteration).
    """

    width: int = 200
    depth: int = 3
    pieces: int = 5
    out: int = 1
    init_std: float = PACGAN_INIT_STD
    spectral_norm: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        init = nn.initializers.normal(self.init_std)
        sn = {"spectral_norm": self.spectral_norm, "train": train, "kernel_init": init}
        for _ in range(self.depth):
            h = spectral_dense(self.width * self.pieces, **sn)(x)
            x = jnp.max(h.reshape(*h.shape[:-1], self.width, self.pieces), axis=-1)
        return spectral_dense(self.out, **sn)(x)


class ScaledMLP(nn.Module):
    """``output_scale * MLP(x / input_scale)``: an :class:`~jaxgan.models.mlp.MLP` in normalised units.

    A G on the grid (means up to 4 away from 0) uses ``output_scale=4`` and its D
    ``input_scale=4``, so both networks see and make values of order 1, as on the ring. This is a
    fixed change of units, not a learned layer.

    Attributes:
      hidden: the hidden layers' widths.
      out: the output width.
      activation: the name of a ``flax.linen`` activation.
      input_scale: the inputs are divided by it.
      output_scale: the outputs are multiplied by it.
      dot_general: the dense layers' product (see :class:`~jaxgan.models.mlp.MLP`).
      spectral_norm: spectrally normalise every layer's kernel (:func:`spectral_dense`; for a D).

    Call it as ``net(x, train)``; ``train`` matters only with ``spectral_norm`` (it advances the
    power iteration).
    """

    hidden: tuple[int, ...]
    out: int
    activation: str = "relu"
    input_scale: float = 1.0
    output_scale: float = 1.0
    dot_general: Callable = lax.dot_general
    spectral_norm: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        x = x / self.input_scale
        if not self.spectral_norm:
            y = MLP(hidden=tuple(self.hidden), out=self.out, activation=self.activation, dot_general=self.dot_general)(x)
            return self.output_scale * y
        act = getattr(nn, self.activation)
        sn = {"spectral_norm": True, "train": train, "dot_general": self.dot_general}
        for width in self.hidden:
            x = act(spectral_dense(width, **sn)(x))
        return self.output_scale * spectral_dense(self.out, **sn)(x)
