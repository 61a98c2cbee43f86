"""Feeding image data sets to training: in device memory when they fit, streamed from the host when not.

A data set that fits in device memory is put there once and batches are drawn inside the compiled
loop by a ``batch_fn(data, key, index)`` (:func:`epoch_batches`, or
:func:`jaxgan.data.batching.random_batches`); one that does not fit streams from the host with
:class:`HostBatchStream` (a background thread that ``jax.device_put``\\ s batches ahead).
:func:`fits_in_device_memory` makes the decision. Loading the images: :mod:`jaxgan.data.images`.
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Callable, Iterator, Optional

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["HostBatchStream", "epoch_batches", "fits_in_device_memory", "grouped_batches"]


# ----------------------------------------------------------------------------- in-device batching


def epoch_batches(batch_size: int, key: jax.Array):
    """``batch_fn(data, key, index)`` that walks through ``data`` in epochs without replacement.

    With ``n`` examples and ``m = n // batch_size`` batches per epoch, batch ``index`` is
    ``data[perm_e[b * batch_size : (b + 1) * batch_size]]`` where ``e = index // m``,
    ``b = index % m`` and ``perm_e = jax.random.permutation(fold_in(key, e), n)``: every example
    appears once per epoch (the last ``n % batch_size`` of each permutation are dropped). The
    ``key`` passed by the train step is ignored, since the order must stay fixed for a whole epoch.
    The permutation is recomputed each step (a sort of ``n`` integers: cheap beside a conv net).
    ``data`` may be a pytree of arrays with a common leading axis, e.g. ``(images, labels)``.
    """
    if batch_size < 1:
        raise ValueError(f"batch size must be >= 1, got {batch_size}")

    def batch_fn(data, step_key, index):
        del step_key
        n = jax.tree.leaves(data)[0].shape[0]
        if n < batch_size:
            raise ValueError(f"batch size {batch_size} exceeds the {n} examples")
        per_epoch = n // batch_size
        index = jnp.asarray(index, jnp.int32)
        perm = jax.random.permutation(jax.random.fold_in(key, index // per_epoch), n)
        idx = jax.lax.dynamic_slice(perm, ((index % per_epoch) * batch_size,), (batch_size,))
        return jax.tree.map(lambda leaf: jnp.take(leaf, idx, axis=0), data)

    return batch_fn


def grouped_batches():
    """``batch_fn`` for streamed data: ``data`` is ``[G, B, ...]`` (G prepared batches) and batch
    ``index`` is ``data[index % G]``.

    Feed ``G = chunk_steps * n_critic`` batches from :class:`HostBatchStream` (``group=G``) per call
    of a chunk runner of ``chunk_steps`` steps: the D-step indices of those steps are consecutive
    integers, so each prepared batch is used exactly once. ``data`` may be a pytree.
    """

    def batch_fn(data, key, index):
        del key
        g = jax.tree.leaves(data)[0].shape[0]
        return jax.tree.map(lambda leaf: leaf[jnp.asarray(index, jnp.int32) % g], data)

    return batch_fn


def fits_in_device_memory(nbytes, device=None, fraction: float = 0.5) -> bool:
    """Whether ``nbytes`` (an int, or an array whose ``nbytes`` is used) take at most ``fraction`` of
    the device memory still free.

    Free memory is ``bytes_limit - bytes_in_use`` from ``device.memory_stats()`` (GPUs, TPUs); on the
    CPU, which reports none, it is the host's available physical memory. The other ``1 - fraction``
    is left to parameters, activations and XLA's workspace.
    """
    if hasattr(nbytes, "nbytes"):
        nbytes = nbytes.nbytes
    device = device or jax.devices()[0]
    free = None
    try:
        stats = device.memory_stats()
    except Exception:  # some backends do not implement it
        stats = None
    if stats and "bytes_limit" in stats:
        free = stats["bytes_limit"] - stats.get("bytes_in_use", 0)
    if free is None:
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # not POSIX: assume it fits
            return True
    return int(nbytes) <= fraction * free


# ----------------------------------------------------------------------------- host streaming


class HostBatchStream:
    """Iterator over batches of a host array, shuffled per epoch, put on the device ahead of use.

    A background thread draws ``perm = default_rng(seed).permutation(n)`` for each epoch, gathers
    ``images[perm[i * batch_size : (i + 1) * batch_size]]`` (dropping the last partial batch),
    applies ``transform`` (e.g. a uint8 -> [-1, 1] conversion), stacks ``group`` batches into
    ``[group, batch_size, ...]`` when ``group`` is given, calls ``jax.device_put`` and queues up to
    ``prefetch`` results. With ``labels`` it yields ``(images, labels)`` pairs. ``epochs=None``
    never ends. Use it as a context manager, or call :meth:`close`, to stop the thread.
    """

    def __init__(
        self,
        images: np.ndarray,
        batch_size: int,
        *,
        labels: Optional[np.ndarray] = None,
        seed: int = 0,
        prefetch: int = 2,
        group: Optional[int] = None,
        epochs: Optional[int] = None,
        transform: Optional[Callable[[np.ndarray], np.ndarray]] = None,
        device=None,
    ):
        n = len(images)
        if not 1 <= batch_size <= n:
            raise ValueError(f"batch size must be in [1, {n}], got {batch_size}")
        if prefetch < 1 or (group is not None and group < 1):
            raise ValueError("prefetch and group must be >= 1")
        self._images, self._labels = images, labels
        self._batch_size, self._seed, self._group, self._epochs = batch_size, seed, group, epochs
        self._transform, self._device = transform, device
        self._queue: queue.Queue = queue.Queue(maxsize=prefetch)
        self._stop = threading.Event()
        self._done = object()
        self._thread = threading.Thread(target=self._produce, daemon=True, name="HostBatchStream")
        self._thread.start()

    def _batches(self) -> Iterator:
        rng = np.random.default_rng(self._seed)
        n = len(self._images)
        epoch = 0
        while self._epochs is None or epoch < self._epochs:
            perm = rng.permutation(n)
            for i in range(n // self._batch_size):
                idx = np.sort(perm[i * self._batch_size : (i + 1) * self._batch_size])
                x = self._images[idx]
                if self._transform is not None:
                    x = self._transform(x)
                yield (x, self._labels[idx]) if self._labels is not None else x
            epoch += 1

    def _grouped(self) -> Iterator:
        if self._group is None:
            yield from self._batches()
            return
        buf = []
        for b in self._batches():
            buf.append(b)
            if len(buf) == self._group:
                yield jax.tree.map(lambda *xs: np.stack(xs), *buf)
                buf = []

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for batch in self._grouped():
                if not self._put(jax.device_put(batch, self._device)):
                    return
            self._put(self._done)
        except BaseException as e:  # handed to the consumer, raised there
            self._put(e)

    def __iter__(self):
        return self

    def __next__(self):
        if self._stop.is_set():
            raise StopIteration
        item = self._queue.get()
        if item is self._done:
            self._stop.set()
            raise StopIteration
        if isinstance(item, BaseException):
            self._stop.set()
            raise item
        return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
