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
"""

from __future__ import annotations

from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from jaxgan.models.mlp import MLP

__all__ = ["BatchNormMLP", "MaxoutMLP", "PACGAN_INIT_STD", "ScaledMLP"]

#: Standard deviation of PacGAN's weight initialisation.
PACGAN_INIT_STD = 0.02


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
    """

    width: int = 200
    depth: int = 3
    pieces: int = 5
    out: int = 1
    init_std: float = PACGAN_INIT_STD

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        init = nn.initializers.normal(self.init_std)
        for _ in range(self.depth):
            h = nn.Dense(self.width * self.pieces, kernel_init=init)(x)
            x = jnp.max(h.reshape(*h.shape[:-1], self.width, self.pieces), axis=-1)
        return nn.Dense(self.out, kernel_init=init)(x)


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
    """

    hidden: tuple[int, ...]
    out: int
    activation: str = "relu"
    input_scale: float = 1.0
    output_scale: float = 1.0
    dot_general: Callable = lax.dot_general

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        y = MLP(hidden=tuple(self.hidden), out=self.out, activation=self.activation, dot_general=self.dot_general)(x / self.input_scale)
        return self.output_scale * y
