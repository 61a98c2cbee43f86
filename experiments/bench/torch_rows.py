"""The PyTorch rows of the benchmark: eager (and channels_last for images) timed in this process,
``torch.compile`` in a child process cut at ``--torch-compile-timeout``. ``config`` is
:class:`experiments.bench.config.BenchConfig`; the models are :mod:`experiments.bench.torch_models`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple, Optional

from experiments.bench.rows import base_row, error_text, fill_throughput
from experiments.bench.timing import Prepared, Timing, time_runs

__all__ = ["TorchVariant", "prepare_torch", "torch_row", "torch_rows", "torch_compile_row"]

REPO_ROOT = Path(__file__).resolve().parents[2]


class TorchVariant(NamedTuple):
    """One in-process PyTorch variant: its row so far, and the model built and warmed up
    (``prepared``), or ``None`` where building or warming up failed (the row says why)."""

    row: dict
    prepared: Optional[Prepared]
    kind: str  # the device name the peak table is looked up with


def _torch_target(workload, config):
    """``(device, device name, peak-table name, spec)``: where PyTorch runs ``workload`` and what it builds."""
    import torch

    from experiments.bench import torch_models as tm

    device = tm.torch_device()
    kind = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    spec = dict(workload.settings, workload=workload.name, batch_size=workload.batch_size, seed=config.seed)
    return device, tm.device_name(device), kind, spec


def prepare_torch(workload, config, flops: Optional[float]) -> list[TorchVariant]:
    """Builds and warms up PyTorch eager (at the row's precision, and float32 for the bfloat16 goals)
    and eager ``channels_last`` (images), in this process."""
    from experiments.bench import torch_models as tm

    device, dev_name, kind, spec = _torch_target(workload, config)
    arrays = workload.torch_arrays()
    iterations = config.iterations or (2 if config.quick else None)
    jobs = [("eager", config.precision, False)]
    if config.precision != "float32":
        jobs.append(("eager", "float32", False))
    if workload.images:
        jobs.append(("eager_channels_last", config.precision, True))
    out = []
    for variant, precision, channels_last in jobs:
        row = base_row(workload.name, "torch", variant, dev_name, precision, workload.batch_size,
                       workload.settings, config.reduced(workload.name))
        row["flops_per_iteration"] = flops
        prepared = None
        try:
            model = tm.build_torch_workload(spec, arrays, precision=precision, channels_last=channels_last,
                                            device=device)
            prepared = tm.prepare_torch_run(model, min_time=config.min_time, iterations=iterations,
                                            warmup=1 if config.quick else 2)[1]
        except Exception as err:  # noqa: BLE001
            row["status"] = f"failed: {error_text(err)}"
        out.append(TorchVariant(row, prepared, kind))
    return out


def torch_row(tv: TorchVariant, timing: Optional[Timing], workload) -> dict:
    """``tv``'s row completed with its timing (``None`` where it failed to prepare)."""
    row = tv.row
    if timing is not None:
        fill_throughput(row, timing.iterations_per_second, workload.images, row["flops_per_iteration"], tv.kind,
                        row["precision"])
        row.update(iterations_per_call=timing.iterations, repeats=len(timing.seconds), seconds=list(timing.seconds),
                   spread=timing.spread)
    return row


def torch_rows(workload, config, flops: Optional[float]) -> list[dict]:
    """PyTorch eager (in this process), eager channels_last (images) and torch.compile (child
    process), each timed on its own: :func:`prepare_torch`, then the repeats of one variant after
    another (``experiments.benchmark`` interleaves them with the JAX variants instead)."""
    rows = []
    for tv in prepare_torch(workload, config, flops):
        timing = None if tv.prepared is None else time_runs(tv.prepared.run, tv.prepared.iterations, config.repeats,
                                                            warmup=0)
        rows.append(torch_row(tv, timing, workload))
    if config.torch_compile:
        rows.append(torch_compile_row(workload, config, flops))
    return rows


def torch_compile_row(workload, config, flops: Optional[float]) -> dict:
    """``torch.compile`` of G and D (forward and backward through AOTAutograd), timed in a child
    process so that a compilation that hangs or takes too long is cut at ``--torch-compile-timeout``."""
    import numpy as np

    device, dev_name, kind, spec = _torch_target(workload, config)
    arrays = workload.torch_arrays()
    row = base_row(workload.name, "torch", "compile", dev_name, config.precision, workload.batch_size,
                   workload.settings, config.reduced(workload.name))
    row["flops_per_iteration"] = flops
    if device.type == "cpu" and not (shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")):
        row["status"] = "skipped: torch.compile on CPU needs a C++ compiler (none on PATH)"
        return row
    with tempfile.TemporaryDirectory(prefix="jaxgan-bench-") as tmp:
        np.savez(Path(tmp) / "arrays.npz", **arrays)
        job = dict(spec=spec, arrays=str(Path(tmp) / "arrays.npz"), precision=config.precision, compile=True,
                   min_time=config.min_time, repeats=config.repeats,
                   iterations=config.iterations or (2 if config.quick else None), warmup=2,
                   threads=config.torch_threads)
        (Path(tmp) / "job.json").write_text(json.dumps(job))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
        cmd = [sys.executable, "-m", "experiments.bench.torch_models", str(Path(tmp) / "job.json"), str(Path(tmp) / "out.json")]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                                  timeout=config.torch_compile_timeout)
        except subprocess.TimeoutExpired:
            row["status"] = f"failed: torch.compile did not finish within {config.torch_compile_timeout:.0f} s"
            return row
        out = Path(tmp) / "out.json"
        if not out.exists():
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:] or ["no output"]
            row["status"] = f"failed: child exited with status {proc.returncode}: {tail[0][:250]}"
            return row
        result = json.loads(out.read_text())
    if not result.get("ok"):
        row["status"] = f"failed: {result.get('error')}"
        return row
    import statistics

    seconds = result["seconds"]
    ips = result["iterations"] / statistics.median(seconds)
    fill_throughput(row, ips, workload.images, flops, kind, config.precision)
    row.update(compile_seconds=result["first_call_seconds"], iterations_per_call=result["iterations"],
               repeats=len(seconds), spread=(max(seconds) - min(seconds)) / statistics.median(seconds),
               process_seconds=time.perf_counter() - t0)
    return row
