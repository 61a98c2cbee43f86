"""Mode-collapse metrics of VEEGAN and PacGAN for samples of a 2D Gaussian mixture.

For generated samples ``x_1..x_N`` and mixture means ``m_1..m_K`` with a common std ``s``:

* the nearest mode of ``x`` is ``argmin_k ||x - m_k||``;
* ``x`` is **high quality** (HQ) if ``||x - m_nearest|| < t s`` (``t = 3``: "within 3 std");
* the **per-mode counts** ``c_k`` = number of HQ samples whose nearest mode is ``k``;
* **modes covered** = ``#{k : c_k > 0}``;
* **HQ percent** = ``100 sum_k c_k / N``;
* **reverse KL** = ``KL(p || u) = sum_k p_k log(K p_k)`` with ``p_k = c_k / sum_j c_j`` (the HQ
  histogram) and ``u`` uniform over the ``K`` modes (``0 log 0 = 0``). It is 0 for a perfectly
  balanced histogram and ``log K`` when every HQ sample is in one mode; undefined (NaN) when no
  sample is HQ.

These follow PacGAN's evaluation code (nearest mean, 3-std threshold on the distance scaled by the
std). All functions are pure ``jnp``, so ``jax.vmap`` maps them over runs, e.g. samples of shape
``(seeds, N, 2)``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

__all__ = [
    "HQ_THRESHOLD",
    "high_quality_percent",
    "mixture_metrics",
    "mode_counts",
    "modes_covered",
    "nearest_mode",
    "reverse_kl",
]

#: A sample is high quality within this many standard deviations of its nearest mean.
HQ_THRESHOLD = 3.0


def nearest_mode(samples, means) -> tuple[jax.Array, jax.Array]:
    """Finds each sample's nearest mean: ``argmin_k ||x - m_k||`` and that distance.

    Args:
      samples: ``(N, d)`` samples.
      means: ``(K, d)`` mixture means.

    Returns:
      ``(index, distance)``: int32 ``(N,)`` and float32 ``(N,)``.
    """
    samples = jnp.asarray(samples, jnp.float32)
    means = jnp.asarray(means, jnp.float32)
    sq = jnp.sum((samples[:, None, :] - means[None, :, :]) ** 2, axis=-1)  # (N, K)
    index = jnp.argmin(sq, axis=1).astype(jnp.int32)
    dist = jnp.sqrt(jnp.take_along_axis(sq, index[:, None], axis=1)[:, 0])
    return index, dist


def mode_counts(samples, means, std, threshold: float = HQ_THRESHOLD) -> jax.Array:
    """Counts the high-quality samples of each mode.

    ``c_k`` is the number of samples whose nearest mean is ``k`` and lies within
    ``threshold * std`` of them.

    Args:
      samples: ``(N, d)`` samples.
      means: ``(K, d)`` mixture means.
      std: the mixture's common standard deviation.
      threshold: the HQ radius in standard deviations (:data:`HQ_THRESHOLD`).

    Returns:
      int32 ``(K,)`` counts.
    """
    means = jnp.asarray(means, jnp.float32)
    index, dist = nearest_mode(samples, means)
    hq = dist < threshold * jnp.asarray(std, jnp.float32)
    return jnp.zeros(means.shape[0], jnp.int32).at[index].add(hq.astype(jnp.int32))


def modes_covered(counts) -> jax.Array:
    """Counts the modes with at least one HQ sample: ``#{k : c_k > 0}``.

    Args:
      counts: ``(..., K)`` per-mode counts (:func:`mode_counts`).

    Returns:
      int32 ``(...)``.
    """
    return jnp.sum(jnp.asarray(counts) > 0, axis=-1).astype(jnp.int32)


def high_quality_percent(counts, num_samples: int) -> jax.Array:
    """Computes the percentage of the ``N`` samples that are HQ: ``100 * sum_k c_k / N``.

    Args:
      counts: ``(..., K)`` per-mode counts (:func:`mode_counts`).
      num_samples: ``N``.

    Returns:
      float32 ``(...)``.
    """
    return 100.0 * jnp.sum(jnp.asarray(counts, jnp.float32), axis=-1) / num_samples


def reverse_kl(counts) -> jax.Array:
    """Computes the HQ histogram's KL divergence from uniform: ``sum_k p_k log(K p_k)``.

    ``p = c / sum(c)`` is the histogram of the counts ``c``, with ``0 log 0 = 0``.

    Args:
      counts: ``(..., K)`` per-mode counts (:func:`mode_counts`).

    Returns:
      float32 ``(...)``: 0 for a balanced histogram, ``log K`` for one mode; NaN where
      ``sum(c) = 0``.
    """
    counts = jnp.asarray(counts, jnp.float32)
    total = jnp.sum(counts, axis=-1, keepdims=True)
    p = counts / jnp.where(total > 0, total, 1.0)
    k = counts.shape[-1]
    terms = jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, k * p, 1.0)), 0.0)
    kl = jnp.sum(terms, axis=-1)
    return jnp.where(total[..., 0] > 0, kl, jnp.nan)


@functools.partial(jax.jit, static_argnames="threshold")
def mixture_metrics(samples, means, std, threshold: float = HQ_THRESHOLD) -> dict[str, jax.Array]:
    """Computes every mixture metric of one set of samples; ``vmap`` it over runs.

    Compiled (once per shape) so that a direct call is one program rather than many small ones.

    Args:
      samples: ``(N, d)`` samples.
      means: ``(K, d)`` mixture means.
      std: the mixture's common standard deviation.
      threshold: the HQ radius in standard deviations (static).

    Returns:
      A dict of ``modes`` (int32), ``hq_percent``, ``reverse_kl`` (float32 scalars) and
      ``counts`` (int32 ``(K,)``).
    """
    samples = jnp.asarray(samples, jnp.float32)
    counts = mode_counts(samples, means, std, threshold)
    return {
        "modes": modes_covered(counts),
        "hq_percent": high_quality_percent(counts, samples.shape[0]),
        "reverse_kl": reverse_kl(counts),
        "counts": counts,
    }
