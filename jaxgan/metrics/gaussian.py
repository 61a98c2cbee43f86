"""How well a learned Gaussian matches the target ``N(mu, A^T A)`` (the lecture's toy GAN).

The lecture's G is affine, ``G(z) = z W + b`` with ``z ~ N(0, I)``, so it generates exactly
``N(b, W^T W)``. ``W`` itself is not identifiable (``Q W`` for any rotation ``Q`` gives the same
distribution), so covariances are compared, never weights.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["covariance_relative_error", "mean_error", "gaussian_fit_errors"]


def covariance_relative_error(cov, target_cov):
    """Computes the relative Frobenius error of a covariance: ``||cov - target||_F / ||target||_F``.

    Args:
      cov: ``[..., d, d]`` covariances (any leading axes, e.g. runs).
      target_cov: ``[d, d]`` (or broadcastable) target covariance.

    Returns:
      float32 errors of shape ``[...]``.
    """
    cov = jnp.asarray(cov, jnp.float32)
    target_cov = jnp.asarray(target_cov, jnp.float32)
    num = jnp.sqrt(jnp.sum((cov - target_cov) ** 2, axis=(-2, -1)))
    return num / jnp.sqrt(jnp.sum(target_cov**2, axis=(-2, -1)))


def mean_error(mean, target_mean):
    """Computes the Euclidean error of a mean: ``||mean - target||_2``.

    Args:
      mean: ``[..., d]`` means (any leading axes, e.g. runs).
      target_mean: ``[d]`` (or broadcastable) target mean.

    Returns:
      float32 errors of shape ``[...]``.
    """
    diff = jnp.asarray(mean, jnp.float32) - jnp.asarray(target_mean, jnp.float32)
    return jnp.sqrt(jnp.sum(diff**2, axis=-1))


def gaussian_fit_errors(kernel, bias, a, mu):
    """Computes the errors of the affine G ``z W + b`` against the data ``N(0, I) A + mu``.

    Args:
      kernel: G's ``W``, ``[..., latent, d]`` (any leading run axes).
      bias: G's ``b``, ``[..., d]``.
      a: the data's ``A``, ``[k, d]``.
      mu: the data's mean, ``[d]``.

    Returns:
      ``(cov_rel_err, mean_err)`` = ``(||W^T W - A^T A||_F / ||A^T A||_F, ||b - mu||)``, each of
      shape ``[...]``.
    """
    kernel = jnp.asarray(kernel, jnp.float32)
    a = jnp.asarray(a, jnp.float32)
    cov = jnp.swapaxes(kernel, -1, -2) @ kernel
    return covariance_relative_error(cov, a.T @ a), mean_error(bias, mu)
