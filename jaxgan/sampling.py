"""Samples from a trained generator: G in evaluation mode, on fixed or fresh noise, in batches.

``generate(gan, state, key, n)`` draws ``n`` noise vectors from ``key`` and returns ``G(z)`` as one
NumPy array on the host, computed ``batch_size`` at a time by one compiled function, so that 100,000
samples need the device memory of one batch. ``generate_from(gan, state, z)`` maps given noise (a
fixed noise batch for sample grids). Both use G's parameters in the state, or its exponential
moving average where G's optimizer keeps one (:mod:`jaxgan.averaging`, ``ema_decay=``). A state
of stacked runs (:func:`jaxgan.init_states`, ``fit(..., vmapped=True)``) gives every run's samples
of the same noise, ``[runs, n, ...]``.
"""

from __future__ import annotations

import functools
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.averaging import params_ema
from jaxgan.gan import GAN, draw_noise
from jaxgan.state import GANState

__all__ = ["generate", "generate_from", "generator_params"]


def generator_params(state: GANState, ema_decay: Optional[float] = None):
    """G's parameters: the state's own, or their EMA (debiased) with ``ema_decay``.

    Args:
      state: a training state.
      ema_decay: the decay given to :func:`jaxgan.averaging.with_params_ema`, to use G's average.

    Returns:
      G's parameters.
    """
    if ema_decay is None:
        return state.g.params
    return params_ema(state.g.opt_state, ema_decay)


@functools.partial(jax.jit, static_argnums=0)
def _apply_eval(gan: GAN, params, stats, z: jax.Array) -> jax.Array:
    """``G(z)`` in evaluation mode (BatchNorm uses its running statistics)."""
    return gan.generator.apply(params, stats, z, False)[0]


@functools.partial(jax.jit, static_argnums=0)
def _apply_eval_runs(gan: GAN, params, stats, z: jax.Array) -> jax.Array:
    """:func:`_apply_eval` for each of stacked runs, on the same noise: ``[runs, batch, ...]``."""
    return jax.vmap(lambda p, s: gan.generator.apply(p, s, z, False)[0])(params, stats)


def _stacked(state: GANState) -> bool:
    """Whether ``state`` holds stacked runs (a run axis in front of every array, ``step`` included)."""
    return jnp.ndim(state.step) > 0


def generate_from(gan: GAN, state: GANState, z, *, batch_size: int = 1000, ema_decay: Optional[float] = None):
    """``G(z)`` in evaluation mode for given noise, ``batch_size`` rows at a time.

    Args:
      gan: the GAN.
      state: a trained state.
      z: noise, ``[n, *latent_shape]``; for a conditional GAN ``(z, labels)``.
      batch_size: rows per compiled call (the last call is padded to it, so one program serves all).
      ema_decay: use G's parameter average (see :func:`generator_params`).

    Returns:
      The samples, a NumPy array ``[n, ...]`` (``[runs, n, ...]`` for a state of stacked runs); for
      a conditional GAN ``(images, labels)``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    z = jax.tree.map(_as_host_input, z)
    params = generator_params(state, ema_decay)
    stacked = _stacked(state)
    apply, axis = (_apply_eval_runs, 1) if stacked else (_apply_eval, 0)
    n = jax.tree.leaves(z)[0].shape[0]
    out = []
    for start in range(0, n, batch_size):
        chunk = jax.tree.map(lambda a: a[start : start + batch_size], z)
        rows = min(batch_size, n - start)
        if rows < batch_size and n > batch_size:  # pad the tail: the same compiled shape
            chunk = jax.tree.map(lambda a: np.concatenate([a, np.zeros((batch_size - rows, *a.shape[1:]), a.dtype)]), chunk)
        samples = jax.tree.map(np.asarray, apply(gan, params, state.g.stats, jax.tree.map(jnp.asarray, chunk)))
        out.append(jax.tree.map(lambda a: a[:, :rows] if stacked else a[:rows], samples))
    if not out:
        return np.zeros((0,), np.float32)
    return jax.tree.map(lambda *parts: np.concatenate(parts, axis=axis), *out)


def _as_host_input(a) -> np.ndarray:
    """A noise leaf on the host: float32 for noise, integers kept (a conditional G's labels)."""
    a = np.asarray(a)
    return a if np.issubdtype(a.dtype, np.integer) else a.astype(np.float32)


def generate(gan: GAN, state: GANState, key: jax.Array, num_samples: int, *, batch_size: int = 1000,
             ema_decay: Optional[float] = None, labels=None):
    """``num_samples`` samples of G in evaluation mode, on fresh noise ``z ~ N(0, I)`` from ``key``.

    Batch ``i`` draws its noise from ``fold_in(key, i)``, so the samples depend on ``key`` and
    ``batch_size`` only (not on the state's key, which is left alone). A conditional GAN's labels
    are drawn from its ``class_probs`` with the same key (:func:`jaxgan.gan.draw_noise`), unless
    ``labels`` are given.

    Args:
      gan: the GAN.
      state: a trained state.
      key: PRNG key for the noise.
      num_samples: how many samples.
      batch_size: samples per compiled call; the device holds one batch at a time.
      ema_decay: use G's parameter average (see :func:`generator_params`).
      labels: a conditional GAN's labels, ``[num_samples]`` ints (``None``: drawn).

    Returns:
      The samples, a NumPy array ``[num_samples, ...]`` on the host (``[runs, num_samples, ...]``
      for a state of stacked runs); for a conditional GAN ``(images, labels)``.
    """
    if num_samples < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples}")
    batch = min(batch_size, num_samples)
    if labels is not None:
        labels = np.asarray(labels, np.int32)
        if labels.shape != (num_samples,):
            raise ValueError(f"labels must have shape ({num_samples},), got {labels.shape}")
        labels = np.concatenate([labels, np.zeros(-num_samples % batch, np.int32)])

    def noise(i):
        given = None if labels is None else labels[i * batch : (i + 1) * batch]
        return draw_noise(gan, jax.random.fold_in(key, i), batch, given)

    parts = [generate_from(gan, state, noise(i), batch_size=batch, ema_decay=ema_decay)
             for i in range(-(-num_samples // batch))]
    axis = 1 if _stacked(state) else 0
    return jax.tree.map(lambda *p: np.concatenate(p, axis=axis).take(np.arange(num_samples), axis=axis), *parts)
