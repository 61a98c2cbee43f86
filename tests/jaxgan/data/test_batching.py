"""Batches of image data sets: by epoch inside a compiled loop (a function of the step index),
in groups, and streamed from the host with prefetching."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.data import contiguous_batches
from jaxgan.data.images import HostBatchStream, epoch_batches, fits_in_device_memory, grouped_batches


def test_epoch_batches_inside_scan_cover_every_example_once_per_epoch():
    n, b = 10, 3
    data = jnp.arange(n, dtype=jnp.float32)
    batch_fn = epoch_batches(b, jax.random.key(0))
    run = jax.jit(lambda idx: jax.lax.scan(lambda c, i: (c, batch_fn(data, None, i)), 0, idx)[1])
    batches = np.asarray(run(jnp.arange(6)))
    epoch0, epoch1 = batches[:3].ravel(), batches[3:].ravel()
    assert len(set(epoch0.tolist())) == 9 and len(set(epoch1.tolist())) == 9  # 3 batches of 3, no repeats
    assert not np.array_equal(epoch0, epoch1)  # a new permutation each epoch
    assert np.array_equal(np.asarray(run(jnp.arange(6))), batches)  # a function of the index alone
    # Pytrees: images and labels stay paired.
    images, labels = jnp.arange(10.0)[:, None] * 10, jnp.arange(10)
    x, y = batch_fn((images, labels), None, 4)
    assert x.shape == (3, 1) and np.array_equal(np.asarray(x[:, 0]), np.asarray(y) * 10)
    assert np.array_equal(np.asarray(y), batches[4])
    grouped = grouped_batches()
    stack = jnp.arange(3 * 2 * 1.0).reshape(3, 2, 1)
    assert np.array_equal(grouped(stack, None, 7), stack[1])
    gx, gy = grouped((stack, stack[..., 0]), None, 5)
    assert np.array_equal(gx, stack[2]) and np.array_equal(gy, stack[2, :, 0])


def test_fits_in_device_memory():
    assert fits_in_device_memory(1024)
    assert fits_in_device_memory(np.zeros(10))
    assert not fits_in_device_memory(1 << 62)


def test_host_stream_epochs_labels_and_groups():
    images = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1)
    labels = np.arange(10, dtype=np.int32)
    with HostBatchStream(images, 3, labels=labels, seed=0, epochs=2) as stream:
        batches = list(stream)
    assert len(batches) == 6
    for x, y in batches:
        assert isinstance(x, jax.Array) and np.array_equal(np.asarray(x).ravel(), np.asarray(y))
    first_epoch = np.concatenate([np.asarray(y) for _, y in batches[:3]])
    assert len(set(first_epoch.tolist())) == 9
    again = [np.asarray(y) for _, y in HostBatchStream(images, 3, labels=labels, seed=0, epochs=2)]
    assert all(np.array_equal(a, np.asarray(b[1])) for a, b in zip(again, batches))
    grouped = list(HostBatchStream(images, 2, group=2, epochs=1, transform=lambda x: x * 2))
    assert len(grouped) == 2 and grouped[0].shape == (2, 2, 1, 1, 1)
    assert np.all(np.asarray(grouped[0]) % 2 == 0)


def test_host_stream_errors_reach_the_consumer():
    def boom(x):
        raise RuntimeError("transform failed")

    stream = HostBatchStream(np.zeros((4, 1, 1, 1)), 2, transform=boom)
    with pytest.raises(RuntimeError, match="transform failed"):
        next(stream)
    endless = HostBatchStream(np.zeros((4, 1, 1, 1)), 2, prefetch=1)
    next(endless)
    endless.close()
    assert not endless._thread.is_alive()


def test_contiguous_batches_follow_the_lecture_slicing():
    data = jnp.arange(100.0).reshape(50, 2)
    batch_fn = contiguous_batches(8)
    np.testing.assert_array_equal(batch_fn(data, None, jnp.asarray(0)), data[:8])
    np.testing.assert_array_equal(batch_fn(data, None, jnp.asarray(2)), data[16:24])
    wrapped = batch_fn(data, None, jnp.asarray(6))  # begin 48: rows 48, 49, 0, ..., 5
    np.testing.assert_array_equal(wrapped, jnp.concatenate([data[48:], data[:6]]))


def test_contiguous_batches_are_one_slice_when_the_batch_divides_the_data():
    """With ``n % batch == 0`` no batch wraps, and the batch is a dynamic slice (no gather)."""
    data = jnp.arange(96.0).reshape(48, 2)
    batch_fn = contiguous_batches(8)
    for index in (0, 5, 6, 13):  # 6 and 13 come back round to the start
        begin = 8 * index % 48
        np.testing.assert_array_equal(batch_fn(data, None, jnp.asarray(index)), data[begin : begin + 8])
    primitives = {e.primitive.name for e in jax.make_jaxpr(lambda i: batch_fn(data, None, i))(jnp.asarray(3)).eqns}
    assert "dynamic_slice" in primitives and "gather" not in primitives
