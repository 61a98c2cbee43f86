"""Several processes (hosts), one program: ``jax.distributed`` set-up and per-process data.

JAX runs multi-host training as one Python process per host, each executing the same program on a
global mesh (:func:`jaxgan.parallel.mesh.make_mesh` spans the devices of every process). Before any
device is touched, every process calls ``jax.distributed.initialize`` with the coordinator's
``host:port``, the number of processes and its own id. :func:`initialize` does that when it is
asked to, explicitly or through the environment:

* arguments ``coordinator`` / ``num_processes`` / ``process_id`` (the experiments' ``--coordinator``,
  ``--num-processes``, ``--process-id``);
* ``JAX_COORDINATOR_ADDRESS`` with ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID``;
* a Slurm step with several tasks (``srun``: ``SLURM_NTASKS > 1``) or an Open MPI job with several
  ranks (``mpirun``): JAX finds coordinator, count and id by itself.

Data: process ``p`` of ``P`` owns rows ``[p N/P, (p+1) N/P)`` of an ``N``-row data set
(:func:`process_rows`); :func:`global_array_from_local` assembles the processes' rows into one global
array split over the mesh, without any process holding the others' rows.
"""

from __future__ import annotations

import os
from typing import Any, Optional

import jax
import numpy as np

from jaxgan.parallel.mesh import leading_axis_sharding

__all__ = [
    "requested_from_environment",
    "initialize",
    "is_main_process",
    "process_rows",
    "local_shard",
    "global_array_from_local",
    "gather",
]


def _int_env(name: str) -> Optional[int]:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else None


def requested_from_environment() -> bool:
    """Tells whether the environment describes a multi-process job (see the module docstring).

    Returns:
      ``True`` for ``JAX_COORDINATOR_ADDRESS``, a Slurm step of several tasks or an Open MPI job
      of several ranks.
    """
    if os.environ.get("JAX_COORDINATOR_ADDRESS"):
        return True
    slurm = ("SLURM_JOB_ID", "SLURM_STEP_NODELIST", "SLURM_NTASKS", "SLURM_PROCID", "SLURM_LOCALID")
    if all(v in os.environ for v in slurm) and (_int_env("SLURM_NTASKS") or 1) > 1:
        return True
    if "OMPI_MCA_orte_hnp_uri" in os.environ and (_int_env("OMPI_COMM_WORLD_SIZE") or 1) > 1:
        return True
    return False


def initialize(
    coordinator: Optional[str] = None,
    num_processes: Optional[int] = None,
    process_id: Optional[int] = None,
) -> bool:
    """Calls ``jax.distributed.initialize`` when asked to, by the arguments or the environment.

    Explicit arguments win; the missing ones come from ``JAX_COORDINATOR_ADDRESS``,
    ``JAX_NUM_PROCESSES``, ``JAX_PROCESS_ID`` or JAX's own cluster detection (Slurm, Open MPI).
    Without arguments and without such an environment it does nothing (a single process).
    Must run before anything touches the devices.

    Args:
      coordinator: the coordinator's ``host:port``.
      num_processes: the number of processes.
      process_id: this process's id, ``0 .. num_processes - 1``.

    Returns:
      Whether ``jax.distributed`` is initialised (now or before).
    """
    if jax.distributed.is_initialized():
        return True
    explicit = any(v is not None for v in (coordinator, num_processes, process_id))
    if not explicit and not requested_from_environment():
        return False
    if num_processes is None:
        num_processes = _int_env("JAX_NUM_PROCESSES")
    if process_id is None:
        process_id = _int_env("JAX_PROCESS_ID")
    jax.distributed.initialize(
        coordinator_address=coordinator, num_processes=num_processes, process_id=process_id
    )
    return True


def is_main_process() -> bool:
    """Tells whether this is process 0, the one that prints and writes files.

    Returns:
      ``jax.process_index() == 0``.
    """
    return jax.process_index() == 0


def process_rows(n: int, process_index: Optional[int] = None, process_count: Optional[int] = None) -> slice:
    """Gives process ``p``'s share of an ``n``-row data set: rows ``[p n/P, (p+1) n/P)``.

    Args:
      n: rows of the data set, a multiple of ``P`` so that every process holds as many rows.
      process_index: ``p`` (default: this process's).
      process_count: ``P`` (default: the number of processes).

    Returns:
      The ``slice`` of rows.

    Raises:
      ValueError: if ``n`` is not a multiple of ``P``.
    """
    p = jax.process_index() if process_index is None else process_index
    count = jax.process_count() if process_count is None else process_count
    if n % count:
        raise ValueError(f"{n} rows do not split evenly over {count} processes")
    size = n // count
    return slice(p * size, (p + 1) * size)


def local_shard(array):
    """Takes this process's rows of a data set that every process can index.

    Args:
      array: the whole data set, rows on axis 0 (a multiple of the number of processes).

    Returns:
      ``array[process_rows(len(array))]``.
    """
    return array[process_rows(np.shape(array)[0])]


def global_array_from_local(local, mesh) -> jax.Array:
    """Assembles one global array from every process's rows, split along the mesh's axis.

    It is the input layout of a data set held on the devices in shards (the batch functions
    gather from it under ``jit``). No process holds the others' rows.

    Args:
      local: this process's consecutive rows (e.g. :func:`local_shard`).
      mesh: the device mesh over every process.

    Returns:
      A ``jax.Array`` with ``P`` times as many rows as ``local``, process 0's first.
    """

    local = np.asarray(local)
    sharding = leading_axis_sharding(mesh)
    global_shape = (local.shape[0] * jax.process_count(), *local.shape[1:])
    return jax.make_array_from_process_local_data(sharding, local, global_shape)


def gather(tree: Any) -> Any:
    """Fetches every leaf as a NumPy array holding its global value, on every process.

    Single-process (or fully addressable) arrays are fetched with ``device_get``; arrays spread
    over several processes are all-gathered first.

    Args:
      tree: a pytree of arrays.

    Returns:
      The same pytree of NumPy arrays.
    """

    def fetch(x):
        if isinstance(x, jax.Array) and not x.is_fully_addressable:
            from jax.experimental import multihost_utils

            return np.asarray(multihost_utils.process_allgather(x, tiled=True))
        return np.asarray(jax.device_get(x))

    return jax.tree.map(fetch, tree)
