"""Synthetic 2D data."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["LECTURE_A", "LECTURE_MU", "affine_gaussian"]

#: The lecture's affine map and mean: data ``N(0, I) @ A + mu`` has covariance ``A^T A``.
LECTURE_A = np.array([[1.0, 2.0], [-0.2, 0.5]], np.float32)
LECTURE_MU = np.array([2.0, 1.0], np.float32)


def affine_gaussian(key: jax.Array, n: int, a=LECTURE_A, mu=LECTURE_MU) -> jax.Array:
    """``n`` samples of ``N(0, I) @ A + mu``, i.e. of ``N(mu, A^T A)``; shape ``(n, dim)``."""
    if n < 1:
        raise ValueError(f"number of samples must be >= 1, got {n}")
    a = jnp.asarray(a, jnp.float32)
    mu = jnp.asarray(mu, jnp.float32)
    if a.ndim != 2 or mu.shape != (a.shape[1],):
        raise ValueError(f"A must be (k, d) and mu (d,), got {a.shape} and {mu.shape}")
    return jax.random.normal(key, (n, a.shape[0]), jnp.float32) @ a + mu
