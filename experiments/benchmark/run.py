"""Runs the benchmark of a :class:`~experiments.bench.config.BenchConfig`: every workload, timed, into rows.

For each workload the JAX variants (and with ``--compare torch`` the PyTorch ones) are built and
warmed up, then timed, their repeats interleaved round by round
(:func:`experiments.bench.timing.time_interleaved`); ``torch.compile`` runs last, in a child
process. The rows and the machine go to ``<out>/results.json``.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from pathlib import Path

from experiments.bench.config import BenchConfig
from experiments.bench.jax_rows import jax_row, prepare_jax
from experiments.bench.rows import add_ratios, format_table
from experiments.bench.timing import time_interleaved, time_runs
from experiments.bench.torch_rows import prepare_torch, torch_compile_row, torch_row
from experiments.runner import device_description, host_description, write_json

__all__ = ["machine_info", "run_benchmark", "run_workload"]


def machine_info(compare_torch: bool) -> dict:
    """The machine, JAX's devices and versions (and PyTorch's with ``compare_torch``) for results.json."""
    import jax

    info = {
        "jax_device": device_description(),
        "jax_device_kind": jax.devices()[0].device_kind,
        "jax_version": jax.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "host": host_description(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    if compare_torch:
        import torch

        from experiments.bench.torch_models import device_name, torch_device

        info.update(torch_version=torch.__version__, torch_device=device_name(torch_device()),
                    torch_threads=torch.get_num_threads())
    return info


def run_benchmark(config: BenchConfig, log=print) -> dict:
    """Builds and times every workload of ``config``; returns (and writes) the results dict."""
    config.validate()
    if config.compare_torch:
        # JAX would otherwise take 75% of the GPU's memory up front, leaving PyTorch the rest.
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        if config.torch_threads:
            import torch

            torch.set_num_threads(config.torch_threads)

    t_start = time.perf_counter()
    results = {"machine": machine_info(config.compare_torch), "config": dataclasses.asdict(config),
               "rows": [], "unavailable": []}
    for name in config.workloads:
        with _quick_compilation(config.quick):
            run_workload(name, config, results, log)
    results["machine"]["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    results["total_seconds"] = time.perf_counter() - t_start
    write_json(Path(config.out) / "results.json", results)
    return results


def _quick_compilation(quick: bool):
    """--quick compiles with ``jax_threefry_partitionable=False``: the same programs with other random
    bits, and XLA:CPU compiles each ``jax.random`` draw ~5x faster (about 2 s -> 0.4 s per draw here).
    Full runs keep JAX's defaults, whose compilation time is part of what they report."""
    import contextlib

    import jax

    return jax.threefry_partitionable(False) if quick else contextlib.nullcontext()


def run_workload(name: str, config: BenchConfig, results: dict, log) -> None:
    """Times one workload and appends its rows, or records why it is not available.

    Every JAX variant is compiled and warmed up, then (``--compare torch``) the in-process PyTorch
    variants are built and warmed up; then all of them are timed, their repeats interleaved round by
    round (:func:`experiments.bench.timing.time_interleaved`) unless ``--no-interleave``;
    ``torch.compile`` runs last, in its child process.
    """
    from experiments.bench.jax_workloads import WorkloadUnavailable
    from experiments.bench.workloads import build_jax_workload

    try:
        workload = build_jax_workload(name, config)
    except WorkloadUnavailable as err:
        log(f"workload {name}: not available ({err})")
        results["unavailable"].append({"workload": name, "reason": str(err)})
        return
    reduced = " [reduced from the reference sizes]" if config.reduced(name) else ""
    log(f"workload {name}: {workload.describe()}{reduced}")
    jax_variants, flops = prepare_jax(workload, config, log)
    torch_variants = prepare_torch(workload, config, flops) if config.compare_torch else []
    ready = [v.prepared for v in (*jax_variants, *torch_variants) if v.prepared is not None]
    if config.interleave:
        timings = iter(time_interleaved(ready, config.repeats))
    else:
        timings = iter([time_runs(p.run, p.iterations, config.repeats, warmup=0) for p in ready])
    rows = [jax_row(workload, config, v, next(timings) if v.prepared else None, flops) for v in jax_variants]
    rows += [torch_row(v, next(timings) if v.prepared else None, workload) for v in torch_variants]
    for row, v in zip(rows, (*jax_variants, *torch_variants)):
        row["interleaved"] = bool(config.interleave and v.prepared is not None)
    if config.compare_torch and config.torch_compile:
        rows.append(torch_compile_row(workload, config, flops))
    add_ratios(rows)
    results["rows"].extend(rows)
    log(format_table(rows))
