"""The benchmark's parts (JAX against PyTorch on the same GAN workloads) and the probes that study one loop.

``python -m experiments.benchmark`` is built from these parts; nothing here imports it.

* :mod:`experiments.bench.config` - the workloads, their reference and ``--quick`` sizes, the
  variants, the DCGAN layer choices and :class:`~experiments.bench.config.BenchConfig`.
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
  :mod:`experiments.bench.torch_rows` - the workloads, the result rows and tables, the JAX and the
  PyTorch rows.

Probes, each ``python -m experiments.bench.<name>``: :mod:`~experiments.bench.xla_options` (XLA
compiler options for one loop), :mod:`~experiments.bench.device_trace` (where one iteration's device
time goes, kernel by kernel), :mod:`~experiments.bench.loop_kernels` (kernels per loop trip),
:mod:`~experiments.bench.dcgan_parts` (the DCGAN iteration layer by layer),
:mod:`~experiments.bench.conv_layers` (single convolution layers), :mod:`~experiments.bench.toy_kernel`
(the toy GAN's loop as one kernel against ``scan``); :mod:`~experiments.bench.one_workload` holds the
flags that choose their workload.
"""
