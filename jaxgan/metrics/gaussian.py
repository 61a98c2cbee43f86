"""How well a learned Gaussian matches the target ``N(mu, A^T A)`` (the lecture's toy GAN).

The lecture's G is affine, ``G(z) = z W + b`` with ``z ~ N(0, I)``, so it generates exactly
``N(b, W^T W)``. ``W`` itself is not identifiable (``Q W`` for any rotation ``Q`` gives the same
distribution), so covariances are compared, never weights.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["covariance_relative_error", "mean_error", "gaussian_fit_errors"]


def covariance_relative_error(cov, target_cov):
    """``||cov - target||_F / ||target||_F`` (relative Frobenius error); batched over leading axes."""
    cov = jnp.asarray(cov, jnp.float32)
    target_cov = jnp.asarray(target_cov, jnp.float32)
    num = jnp.sqrt(jnp.sum((cov - target_cov) ** 2, axis=(-2, -1)))
    return num / jnp.sqrt(jnp.sum(target_cov**2, axis=(-2, -1)))


def mean_error(mean, target_mean):
    """``||mean - target||_2``; batched over leading axes."""
    diff = jnp.asarray(mean, jnp.float32) - jnp.asarray(target_mean, jnp.float32)
    return jnp.sqrt(jnp.sum(diff**2, axis=-1))


def gaussian_fit_errors(kernel, bias, a, mu):
    """Errors of the affine G ``z W + b`` against the data ``N(0, I) A + mu``.

    Returns ``(cov_rel_err, mean_err)`` = ``(||W^T W - A^T A||_F / ||A^T A||_F, ||b - mu||)``,
    batched over any leading (run) axes of ``kernel`` and ``bias``.
    """
    kernel = jnp.asarray(kernel, jnp.float32)
    a = jnp.asarray(a, jnp.float32)
    cov = jnp.swapaxes(kernel, -1, -2) @ kernel
    return covariance_relative_error(cov, a.T @ a), mean_error(bias, mu)
