"""The device mesh: a 1-D mesh over a run's devices and the two layouts jaxgan uses on it.

Parameters are replicated (:func:`replicated`); batches and stacked runs are split along the mesh's
one axis, :data:`DATA_AXIS` (:func:`leading_axis_sharding`). On several processes the mesh spans
the devices of every process, taken evenly from each.
"""

from __future__ import annotations

from typing import Optional

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["DATA_AXIS", "make_mesh", "replicated", "leading_axis_sharding"]

#: Name of the mesh axis that batches (data-parallel) or runs (seed-parallel) are split along.
DATA_AXIS = "data"


def _select_devices(num_devices: Optional[int]) -> list:
    """The first ``num_devices`` devices, taken evenly from every process (all devices if None)."""
    devices = jax.devices()
    if num_devices is None:
        return devices
    if not 1 <= num_devices <= len(devices):
        raise ValueError(f"asked for {num_devices} devices, but {len(devices)} are available")
    processes = jax.process_count()
    if processes == 1:
        return devices[:num_devices]
    if num_devices % processes:
        raise ValueError(
            f"{num_devices} devices cannot be split evenly over {processes} processes; "
            f"use a multiple of {processes}"
        )
    per_process = num_devices // processes
    chosen = []
    for p in range(processes):
        own = [d for d in devices if d.process_index == p]
        if len(own) < per_process:
            raise ValueError(f"process {p} has {len(own)} devices, {per_process} are needed")
        chosen.extend(own[:per_process])
    return chosen


def make_mesh(num_devices: Optional[int] = None, *, axis_name: str = DATA_AXIS) -> Mesh:
    """Makes a 1-D mesh of ``num_devices`` devices on the axis ``axis_name``.

    On several processes the devices are taken evenly from every process. The axis type is given
    explicitly (``AxisType.Auto``, see :mod:`jaxgan.parallel.sharding`'s notes) where the installed
    JAX has ``jax.make_mesh(..., axis_types=...)``.

    Args:
      num_devices: how many devices (default: all, over all processes).
      axis_name: the mesh axis's name.

    Returns:
      The ``jax.sharding.Mesh``.

    Raises:
      ValueError: if there are fewer devices, or they do not split evenly over the processes.
    """
    devices = _select_devices(num_devices)
    axis_type = getattr(getattr(jax.sharding, "AxisType", None), "Auto", None)
    if axis_type is not None:
        return jax.make_mesh((len(devices),), (axis_name,), axis_types=(axis_type,), devices=devices)
    return Mesh(np.asarray(devices), (axis_name,))  # pragma: no cover - older JAX


def replicated(mesh: Mesh) -> NamedSharding:
    """Lays arrays out whole on every device of ``mesh``.

    Args:
      mesh: the device mesh.

    Returns:
      The replicated ``NamedSharding``.
    """
    return NamedSharding(mesh, PartitionSpec())


def leading_axis_sharding(mesh: Mesh) -> NamedSharding:
    """Splits arrays' axis 0 over the mesh's axis.

    Device ``k`` of ``n`` holds rows ``[k B/n, (k+1) B/n)`` of a ``B``-row array.

    Args:
      mesh: a 1-D device mesh.

    Returns:
      The ``NamedSharding``.
    """
    return NamedSharding(mesh, PartitionSpec(mesh.axis_names[0]))
