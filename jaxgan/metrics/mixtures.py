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
    """``(index, distance)`` of each sample's nearest mean: ``argmin_k ||x - m_k||`` and its norm.

    ``samples`` ``(N, d)``, ``means`` ``(K, d)``; returns int32 ``(N,)`` and float32 ``(N,)``.
    """
    samples = jnp.asarray(samples, jnp.float32)
    means = jnp.asarray(means, jnp.float32)
    sq = jnp.sum((samples[:, None, :] - means[None, :, :]) ** 2, axis=-1)  # (N, K)
    index = jnp.argmin(sq, axis=1).astype(jnp.int32)
    dist = jnp.sqrt(jnp.take_along_axis(sq, index[:, None], axis=1)[:, 0])
    return index, dist


def mode_counts(samples, means, std, threshold: float = HQ_THRESHOLD) -> jax.Array:
    """int32 ``(K,)``: ``c_k`` = number of samples within ``threshold * std`` of mean ``k``, their nearest."""
    means = jnp.asarray(means, jnp.float32)
    index, dist = nearest_mode(samples, means)
    hq = dist < threshold * jnp.asarray(std, jnp.float32)
    return jnp.zeros(means.shape[0], jnp.int32).at[index].add(hq.astype(jnp.int32))


def modes_covered(counts) -> jax.Array:
    """Number of modes with at least one HQ sample: ``#{k : c_k > 0}`` (int32)."""
    return jnp.sum(jnp.asarray(counts) > 0, axis=-1).astype(jnp.int32)


def high_quality_percent(counts, num_samples: int) -> jax.Array:
    """``100 * sum_k c_k / N``: the percentage of the ``N`` samples that are HQ."""
    return 100.0 * jnp.sum(jnp.asarray(counts, jnp.float32), axis=-1) / num_samples


def reverse_kl(counts) -> jax.Array:
    """``KL(p || uniform) = sum_k p_k log(K p_k)``, ``p = c / sum(c)``; NaN if ``sum(c) = 0``."""
    counts = jnp.asarray(counts, jnp.float32)
    total = jnp.sum(counts, axis=-1, keepdims=True)
    p = counts / jnp.where(total > 0, total, 1.0)
    k = counts.shape[-1]
    terms = jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, k * p, 1.0)), 0.0)
    kl = jnp.sum(terms, axis=-1)
    return jnp.where(total[..., 0] > 0, kl, jnp.nan)


@functools.partial(jax.jit, static_argnames="threshold")
def mixture_metrics(samples, means, std, threshold: float = HQ_THRESHOLD) -> dict[str, jax.Array]:
    """All metrics of one set of samples ``(N, d)``: a dict of ``modes`` (int32), ``hq_percent``,
    ``reverse_kl`` (float32 scalars) and ``counts`` (int32 ``(K,)``). ``vmap`` it over runs.

    Compiled (once per shape) so that a direct call is one program rather than many small ones."""
    samples = jnp.asarray(samples, jnp.float32)
    counts = mode_counts(samples, means, std, threshold)
    return {
        "modes": modes_covered(counts),
        "hq_percent": high_quality_percent(counts, samples.shape[0]),
        "reverse_kl": reverse_kl(counts),
        "counts": counts,
    }
