"""Data-parallel and seed-parallel training on a device mesh, with ``jax.sharding`` (no ``pmap``).

jaxgan's steps are written for one device and stay that way. Spreading them over ``n`` devices is a
matter of *where the inputs live*; ``jax.jit`` compiles the same program for the mesh (GSPMD) and XLA
inserts the communication:

* **Data-parallel.** The state is replicated on every device; each global batch of ``B`` examples
  is split along the mesh axis ``"data"`` into ``n`` shards of ``B / n``. Every per-example
  computation (G on the noise, D on real and fake) runs on the device holding the example; a batch
  mean ``(1/B) sum_i f(x_i)`` becomes per-device partial sums plus an all-reduce. So the gradient
  ``grad (1/B) sum_i loss_i`` is exactly the one-device gradient (up to float summation order), and
  BatchNorm's ``mean_i x_i`` and ``mean_i (x_i - mu)^2`` are over the *global* batch, not per device.
  :func:`data_parallel` wraps a :class:`~jaxgan.gan.GAN`'s two networks so that their inputs carry
  that constraint; :func:`sharded_batch_fn` does the same to the real batches.
* **Seed-parallel.** States stacked on a leading run axis (``init_states``, ``fit(vmapped=True)``)
  are split along that axis: with ``R`` runs on ``n`` devices, each device trains ``R / n`` runs and
  no communication is needed at all.

Multi-host: the mesh spans the devices of all processes (see :mod:`jaxgan.parallel.hosts`); the helpers
below place arrays with ``jax.make_array_from_callback`` when a sharding is not fully addressable,
so each process only supplies the shards its own devices hold.

The mesh's axis type is given explicitly: ``AxisType.Auto``. The steps carry no sharding
annotations of their own, so XLA's propagation lays out the intermediates. With
``AxisType.Explicit`` every op's output sharding becomes part of its type: the toy GAN still trains
that way (with ``jax.sharding.reshard`` in place of the constraint), but DCGAN's sub-pixel
upsampling reshapes a batch-sharded array and JAX then demands an ``out_sharding`` the
unannotated layers do not give.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Optional

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxgan.parallel.hosts import gather, global_array_from_local, local_shard
from jaxgan.parallel.mesh import DATA_AXIS, leading_axis_sharding, make_mesh, replicated

__all__ = [
    "DATA_AXIS",
    "make_mesh",
    "replicated",
    "leading_axis_sharding",
    "replicate",
    "shard_batch",
    "shard_runs",
    "place_dataset",
    "constrain_batch",
    "sharded_batch_fn",
    "data_parallel_network",
    "data_parallel",
    "check_divisible",
    "mesh_size",
    "is_replicated",
    "gather",
]

def _place(x, sharding: NamedSharding) -> jax.Array:
    """``x`` (the same global value on every process) laid out with ``sharding``."""
    if sharding.is_fully_addressable:
        return jax.device_put(x, sharding)
    host = np.asarray(x)  # multi-host: each process supplies the shards of its own devices
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def check_divisible(size: int, mesh: Mesh, what: str = "batch") -> None:
    """Checks that ``size`` splits evenly over the mesh's devices.

    Args:
      size: a batch size or number of runs.
      mesh: the device mesh.
      what: the name of ``size`` in the error message.

    Raises:
      ValueError: unless ``size`` is a multiple of the number of devices.
    """
    n = mesh_size(mesh)
    if size % n:
        raise ValueError(f"{what} of {size} does not split evenly over {n} devices")


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Copies every leaf to every device of the mesh (the data-parallel training state).

    Args:
      tree: a pytree of arrays, the same global value on every process.
      mesh: the device mesh.

    Returns:
      The same pytree, replicated.
    """
    sharding = replicated(mesh)
    return jax.tree.map(lambda x: _place(x, sharding), tree)


def _shard_leading(tree: Any, mesh: Mesh, what: str) -> Any:
    sharding = leading_axis_sharding(mesh)

    def place(x):
        if np.ndim(x) == 0:
            raise ValueError(f"cannot split a scalar {what} over devices")
        check_divisible(np.shape(x)[0], mesh, what)
        return _place(x, sharding)

    return jax.tree.map(place, tree)


def shard_batch(tree: Any, mesh: Mesh) -> Any:
    """Splits every leaf's leading (batch) axis over the mesh; the whole value is global.

    For data that each process loads only in part, use
    :func:`jaxgan.parallel.hosts.global_array_from_local` instead.

    Args:
      tree: a pytree of arrays whose leading sizes are multiples of the number of devices.
      mesh: the device mesh.

    Returns:
      The same pytree, split along axis 0.

    Raises:
      ValueError: for a scalar leaf, or a leading size that does not split evenly.
    """
    return _shard_leading(tree, mesh, "batch")


def shard_runs(tree: Any, mesh: Mesh) -> Any:
    """Splits the leading run axis of stacked states (and per-run data) over the mesh: seed-parallel.

    ``R`` runs on ``n`` devices: each device holds and trains ``R / n`` runs; ``fit(vmapped=True)``
    then runs unchanged and its output state keeps this layout.

    Args:
      tree: a pytree with a leading run axis ``R``, a multiple of the number of devices.
      mesh: the device mesh.

    Returns:
      The same pytree, split along the run axis.

    Raises:
      ValueError: for a scalar leaf, or a number of runs that does not split evenly.
    """
    return _shard_leading(tree, mesh, "number of runs")


def place_dataset(data, mesh: Mesh) -> jax.Array:
    """Places a data set on the mesh for batch functions that index it under ``jit``.

    One process: a copy on every device, so each device gathers its part of a batch locally.
    Several processes: each process supplies only its own rows (``jaxgan.parallel.hosts.local_shard``)
    and the array is split along the ``data`` axis; the rows past the largest multiple of the number
    of devices are dropped (fewer than one per device), and XLA fetches batch rows across devices.

    Args:
      data: the whole data set, rows on axis 0, the same on every process.
      mesh: the device mesh.

    Returns:
      The data set as a ``jax.Array`` on the mesh.
    """
    if not mesh.is_multi_process:
        return replicate(data, mesh)

    usable = np.shape(data)[0] - np.shape(data)[0] % mesh_size(mesh)
    return global_array_from_local(local_shard(data[:usable]), mesh)


def constrain_batch(tree: Any, mesh: Mesh) -> Any:
    """Constrains every leaf's leading axis to be split over the mesh, inside ``jit``.

    A leaf whose leading size does not divide the number of devices (e.g. the batch of one that
    ``init_state`` traces, or an odd-sized evaluation batch) is left to XLA; so is a 1-device mesh.

    Args:
      tree: one array or a pytree of them (e.g. CycleGAN's ``(batch_a, batch_b)``).
      mesh: the device mesh.

    Returns:
      The same values, under ``jax.lax.with_sharding_constraint``.
    """
    n = mesh_size(mesh)
    sharding = leading_axis_sharding(mesh)

    def constrain(x):
        if n == 1 or np.ndim(x) == 0 or x.shape[0] % n:
            return x
        return jax.lax.with_sharding_constraint(x, sharding)

    return jax.tree.map(constrain, tree)


def sharded_batch_fn(batch_fn, mesh: Mesh):
    """Wraps a batch function so that its real batches are split over the mesh's ``data`` axis.

    The wrapper keeps the batch function's attributes (e.g. ``uses_key = False``, which tells the
    train step not to split a key for it), so the keys drawn are those of the unsharded run.

    Args:
      batch_fn: ``batch_fn(data, key, index) -> batch`` (a pytree of arrays).
      mesh: the device mesh.

    Returns:
      The wrapped ``fn(data, key, index)``.
    """

    @functools.wraps(batch_fn)
    def fn(data, key, index):
        return constrain_batch(batch_fn(data, key, index), mesh)

    return fn


def data_parallel_network(network, mesh: Mesh):
    """Wraps a :class:`~jaxgan.networks.Network` so that its input batch is split over the mesh.

    ``init`` is unchanged (the parameters are the same); ``apply`` constrains its input so that
    everything per-example downstream of it is computed where the examples live.

    Args:
      network: the network.
      mesh: the device mesh.

    Returns:
      The wrapped :class:`~jaxgan.networks.Network`.
    """
    from jaxgan.networks import Network

    def apply(params, stats, x, train=True):
        return network.apply(params, stats, constrain_batch(x, mesh), train)

    return Network(init=network.init, apply=apply)


def data_parallel(gan, mesh: Mesh):
    """Makes a GAN data-parallel: G's noise and D's inputs split over the mesh's ``data`` axis.

    Parameters, optimizers and objective are those of ``gan``, so a state made by
    ``init_state(gan, key)`` serves both; the D step, the G step, the fused step and ``fit`` built
    from the result run unchanged on a replicated state (see :func:`replicate`).

    Args:
      gan: a :class:`~jaxgan.gan.GAN`.
      mesh: the device mesh.

    Returns:
      The :class:`~jaxgan.gan.GAN` with both networks wrapped by :func:`data_parallel_network`.
    """
    return dataclasses.replace(
        gan,
        generator=data_parallel_network(gan.generator, mesh),
        discriminator=data_parallel_network(gan.discriminator, mesh),
    )


def is_replicated(tree: Any) -> bool:
    """Tells whether every array leaf of ``tree`` is fully replicated over its devices.

    Args:
      tree: a pytree; leaves that are not ``jax.Array`` are ignored.

    Returns:
      ``True`` when each ``jax.Array`` leaf is fully replicated.
    """
    leaves = [x for x in jax.tree.leaves(tree) if isinstance(x, jax.Array)]
    return all(x.sharding.is_fully_replicated for x in leaves)


def mesh_size(mesh: Mesh) -> int:
    """Counts the devices in the mesh.

    Args:
      mesh: the device mesh.

    Returns:
      The number of devices.
    """
    return int(mesh.devices.size)
