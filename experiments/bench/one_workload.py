"""The command-line flags that choose ONE benchmark workload, for the probes that study one loop
(:mod:`experiments.bench.xla_options`, :mod:`experiments.bench.device_trace`).

The workload is built exactly as ``python -m experiments.benchmark`` builds it
(:func:`experiments.bench.workloads.build_jax_workload`), so a probe's numbers are the benchmark row's
program under another lens; its FLOPs per iteration are counted the same way (Winograd
convolutions as the direct ones they compute, :func:`jaxgan.speedups.winograd.traced_as_direct`).
"""

from __future__ import annotations

import argparse
from typing import Optional

__all__ = ["add_workload_arguments", "build_workload", "iteration_flops", "LOOP_VARIANTS"]

LOOP_VARIANTS = ("scan", "fused", "steps")  # the variants a probe can study (one run each)


def add_workload_arguments(p: argparse.ArgumentParser) -> None:
    from experiments.bench.config import DCGAN_LAYERS, WORKLOADS
    from experiments.bench.jax_workloads import PRECISIONS
    from experiments.runner import positive_int

    p.add_argument("--workload", choices=WORKLOADS, default="dcgan")
    p.add_argument("--precision", choices=tuple(PRECISIONS), default="bfloat16",
                   help="compute dtype (bfloat16: parameters, optimizer state and losses stay float32)")
    p.add_argument("--dcgan-layers", choices=tuple(DCGAN_LAYERS), default="auto", help="as the benchmark's")
    p.add_argument("--batch-size", type=positive_int, help="override the reference batch size")
    p.add_argument("--image-size", type=positive_int, help="dcgan / cyclegan image side")
    p.add_argument("--width", type=positive_int, help="ngf = ndf (dcgan, cyclegan), hidden width (mixture)")
    p.add_argument("--quick", action="store_true", help="the benchmark's --quick sizes (a smoke run)")
    p.add_argument("--variant", choices=LOOP_VARIANTS, default="scan",
                   help="scan: lax.scan over --iterations per call (what fit runs); fused: one jitted "
                        "iteration per call; steps: D and G steps jitted apart")
    p.add_argument("--seed", type=int, default=0)


def build_workload(args: argparse.Namespace):
    """The benchmark's workload for ``args`` (:func:`add_workload_arguments`)."""
    from experiments.bench.config import BenchConfig
    from experiments.bench.workloads import build_jax_workload

    config = BenchConfig(workloads=(args.workload,), precision=args.precision, batch_size=args.batch_size,
                         image_size=args.image_size, width=args.width, quick=args.quick,
                         dcgan_layers=args.dcgan_layers, seed=args.seed)
    config.validate()
    return build_jax_workload(args.workload, config)


def iteration_flops(workload) -> Optional[float]:
    """XLA's FLOP count of one training iteration of ``workload`` (one run), as the benchmark's
    fused row counts it (:func:`experiments.bench.jax_workloads.model_flops`)."""
    from experiments.bench.jax_workloads import model_flops

    return model_flops(workload.train_step(), workload.init_state(), workload.data)
