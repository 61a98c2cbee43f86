"""2D Gaussian mixtures of the mode-collapse benchmarks (VEEGAN, PacGAN), and the lecture's Gaussian.

* **Ring**: 8 equally weighted modes at ``(cos 2 pi k / 8, sin 2 pi k / 8)``, ``k = 0..7`` (radius 1),
  each ``N(mean, 0.01^2 I)``. The angles are ``2 pi k / 8`` for ``k < 8``, not
  ``linspace(0, 2 pi, 8)``, which repeats the endpoint and gives 7 distinct modes.
* **Grid**: 25 equally weighted modes at ``{-4, -2, 0, 2, 4}^2``, each ``N(mean, 0.05^2 I)``.

A sample of a mixture is ``means[c] + std * eps`` with ``c ~ Uniform{0..K-1}`` and
``eps ~ N(0, I)``, both drawn from one explicit key. :func:`mixture_batches` makes a
``batch_fn(means, key, index)`` that draws a fresh batch every step inside a compiled loop, so
training needs no fixed data set: the ``data`` passed to :func:`jaxgan.fit` is the means array.

The lecture's affine Gaussian :func:`affine_gaussian` lives in :mod:`jaxgan.data.synthetic` and is
re-exported here so that every synthetic 2D distribution can be imported from one place.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.data.synthetic import LECTURE_A, LECTURE_MU, affine_gaussian

__all__ = [
    "GRID_STD",
    "LECTURE_A",
    "LECTURE_MU",
    "MIXTURE_NAMES",
    "Mixture",
    "RING_STD",
    "affine_gaussian",
    "get_mixture",
    "grid",
    "grid_means",
    "mixture_batches",
    "ring",
    "ring_means",
    "sample_mixture",
]

#: Standard deviation of each ring mode (VEEGAN / PacGAN).
RING_STD = 0.01
#: Standard deviation of each grid mode (VEEGAN / PacGAN).
GRID_STD = 0.05


def ring_means(num_modes: int = 8, radius: float = 1.0) -> np.ndarray:
    """``(num_modes, 2)`` float32: ``radius * (cos 2 pi k / K, sin 2 pi k / K)`` for ``k = 0..K-1``."""
    if num_modes < 1:
        raise ValueError(f"num_modes must be >= 1, got {num_modes}")
    angles = 2.0 * math.pi * np.arange(num_modes) / num_modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def grid_means(side: int = 5, spacing: float = 2.0) -> np.ndarray:
    """``(side^2, 2)`` float32: the points ``spacing * (i - (side - 1) / 2, j - (side - 1) / 2)``.

    The defaults give ``{-4, -2, 0, 2, 4}^2``, row-major in ``(x, y)``.
    """
    if side < 1:
        raise ValueError(f"side must be >= 1, got {side}")
    axis = spacing * (np.arange(side) - (side - 1) / 2.0)
    xs, ys = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)


class Mixture(NamedTuple):
    """An equally weighted isotropic Gaussian mixture: ``means`` ``(K, 2)`` and one ``std``."""

    name: str
    means: np.ndarray
    std: float


_MIXTURES = {
    "ring": lambda: Mixture("ring", ring_means(), RING_STD),
    "grid": lambda: Mixture("grid", grid_means(), GRID_STD),
}
#: Names accepted by :func:`get_mixture`.
MIXTURE_NAMES = tuple(_MIXTURES)


def get_mixture(name: str) -> Mixture:
    """The benchmark mixture called ``name`` ("ring" or "grid")."""
    if name not in _MIXTURES:
        raise ValueError(f"unknown mixture {name!r}; known mixtures: {', '.join(MIXTURE_NAMES)}")
    return _MIXTURES[name]()


def sample_mixture(key: jax.Array, means, std: float, n: int) -> jax.Array:
    """``n`` samples ``means[c] + std * eps``, ``c ~ Uniform{0..K-1}``, ``eps ~ N(0, I)``; ``(n, d)``.

    Compiled once per ``(n, K)`` when called outside a trace.
    """
    if n < 1:
        raise ValueError(f"number of samples must be >= 1, got {n}")
    return _sample_mixture(key, jnp.asarray(means, jnp.float32), jnp.asarray(std, jnp.float32), n)


@functools.partial(jax.jit, static_argnames="n")
def _sample_mixture(key, means, std, n):
    means = jnp.asarray(means, jnp.float32)
    k_mode, k_noise = jax.random.split(key)
    modes = jax.random.randint(k_mode, (n,), 0, means.shape[0])
    eps = jax.random.normal(k_noise, (n, means.shape[1]), jnp.float32)
    return jnp.take(means, modes, axis=0) + std * eps


def ring(key: jax.Array, n: int) -> jax.Array:
    """``n`` samples of the ring of 8 Gaussians (radius 1, std 0.01); shape ``(n, 2)``."""
    return sample_mixture(key, ring_means(), RING_STD, n)


def grid(key: jax.Array, n: int) -> jax.Array:
    """``n`` samples of the 5 x 5 grid of Gaussians (``{-4..4}^2``, std 0.05); shape ``(n, 2)``."""
    return sample_mixture(key, grid_means(), GRID_STD, n)


def mixture_batches(batch_size: int, std: float):
    """``batch_fn(means, key, index)``: a fresh batch of :func:`sample_mixture` from ``key``.

    The "data set" is the ``(K, 2)`` means array; ``index`` is unused (every batch is new).
    """
    if batch_size < 1:
        raise ValueError(f"batch size must be >= 1, got {batch_size}")

    def batch_fn(means, key, index):
        del index
        return sample_mixture(key, means, std, batch_size)

    return batch_fn
