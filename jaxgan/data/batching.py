"""Batch functions for in-device datasets: ``batch_fn(data, key, index) -> batch``.

``index`` counts D steps from 0; ``key`` is a fresh key split from the training state. Both are
traced values, so a batch function compiles once inside ``lax.scan``. ``data`` may be a pytree of
arrays with a common leading axis, e.g. a conditional GAN's ``(images, labels)``: every leaf gives
the same rows.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["contiguous_batches", "random_batches"]


def _check(batch_size: int) -> None:
    if batch_size < 1:
        raise ValueError(f"batch size must be >= 1, got {batch_size}")


def contiguous_batches(batch_size: int):
    """The lecture's batches: ``data[begin : begin + batch]`` with ``begin = batch * index % n``.

    Indices wrap around the end of the data, so any batch size <= n works. When the batch size
    divides ``n`` no batch wraps, and the batch is one ``lax.dynamic_slice`` (no index arithmetic or
    gather: on CPU that is two kernels fewer per step).
    """
    _check(batch_size)

    def batch_fn(data, key, index):
        del key
        n = jax.tree.leaves(data)[0].shape[0]
        begin = (batch_size * index) % n
        if n % batch_size == 0:
            return jax.tree.map(lambda leaf: jax.lax.dynamic_slice_in_dim(leaf, begin, batch_size, axis=0), data)
        rows = (begin + jnp.arange(batch_size)) % n
        return jax.tree.map(lambda leaf: jnp.take(leaf, rows, axis=0), data)

    batch_fn.uses_key = False  # deterministic in the index: the train step draws no key for it
    return batch_fn


def random_batches(batch_size: int):
    """``batch_size`` examples drawn uniformly with replacement, from the key."""
    _check(batch_size)

    def batch_fn(data, key, index):
        del index
        idx = jax.random.randint(key, (batch_size,), 0, jax.tree.leaves(data)[0].shape[0])
        return jax.tree.map(lambda leaf: jnp.take(leaf, idx, axis=0), data)

    return batch_fn
