"""Training on several devices and several hosts, with ``jax.sharding`` (no ``pmap``).

* :mod:`.mesh` - the 1-D device mesh and its two layouts (replicated, split on the leading axis);
* :mod:`.sharding` - data-parallel GANs (:func:`~jaxgan.parallel.sharding.data_parallel`) and
  seed-parallel runs: placing states, batches and data sets on the mesh;
* :mod:`.hosts` - several processes: ``jax.distributed`` set-up, per-process rows, gathering.
"""

from jaxgan.parallel.hosts import gather, initialize, is_main_process
from jaxgan.parallel.mesh import DATA_AXIS, leading_axis_sharding, make_mesh, replicated
from jaxgan.parallel.sharding import (
    data_parallel,
    place_dataset,
    replicate,
    shard_batch,
    shard_runs,
    sharded_batch_fn,
)

__all__ = [
    "DATA_AXIS",
    "data_parallel",
    "gather",
    "initialize",
    "is_main_process",
    "leading_axis_sharding",
    "make_mesh",
    "place_dataset",
    "replicate",
    "replicated",
    "shard_batch",
    "shard_runs",
    "sharded_batch_fn",
]
