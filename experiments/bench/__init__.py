"""Pieces of ``python -m experiments.benchmark`` (JAX against PyTorch on the same GAN workloads).

* :mod:`experiments.bench.timing` - how a variant is timed (warm-up, device sync, median of repeats,
  the repeats of all variants interleaved round by round), XLA's FLOP count, and the peak-FLOP/s
  table of known accelerators.
* :mod:`experiments.bench.jax_workloads` - the jaxgan workloads and their variants (separate D/G
  steps from a Python loop, the fused step, ``lax.scan``, ``vmap`` over seeds).
* :mod:`experiments.bench.torch_models` - PyTorch eager implementations of the same models and
  update order (imported only with ``--compare torch``; PyTorch is never a jaxgan dependency): the
  runner; the twins in :mod:`~experiments.bench.torch_toy` (toy, mixture),
  :mod:`~experiments.bench.torch_dcgan` and :mod:`~experiments.bench.torch_cyclegan`.
* :mod:`experiments.bench.workloads`, :mod:`experiments.bench.rows`, :mod:`experiments.bench.jax_rows`,
  :mod:`experiments.bench.torch_rows`, :mod:`experiments.bench.conv_layers` - the workloads, the result
  rows and tables, the JAX and the PyTorch rows, single-layer timings.
"""
