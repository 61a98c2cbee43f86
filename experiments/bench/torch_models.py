"""PyTorch eager implementations of the benchmark's workloads: the same models and update order.

Imported only with ``--compare torch``; PyTorch is never a dependency of jaxgan (``pip install
jaxgan[bench]``). Each workload is written as its reference writes it, ``zero_grad`` and all, in its
own module (re-exported here):

* :mod:`experiments.bench.torch_toy` - **toy** (lecture 17) and **mixture** (the mixture experiment's
  MLP G and D).
* :mod:`experiments.bench.torch_dcgan` - **dcgan** (pytorch/examples ``dcgan/main.py``).
* :mod:`experiments.bench.torch_cyclegan` - **cyclegan** (junyanz/pytorch-CycleGAN-and-pix2pix
  ``cycle_gan_model.py``).
* :mod:`experiments.bench.torch_common` - what they share: device, synchronisation, autocast, batches.

Every workload object has ``iteration()`` (one training iteration, no host synchronisation) and
``sync()``. Mixed precision is ``torch.autocast(bfloat16)`` around the forward passes and losses:
parameters, gradients and optimizer states stay float32, as on the JAX side.

This module builds a workload from its spec (:func:`build_torch_workload`) and times it
(:func:`time_torch`). Run as ``python -m experiments.bench.torch_models SPEC.json OUT.json`` it times
one variant in a fresh process (used for ``torch.compile``, whose compilation time cannot otherwise
be bounded).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Optional

import numpy as np
import torch

# Re-exported (``__all__``): tests and the benchmark import the twins and helpers from this module.
from experiments.bench.torch_common import device_name, torch_device
from experiments.bench.torch_cyclegan import CycleGANTorch, PatchDiscriminatorTorch, ResnetGeneratorTorch
from experiments.bench.torch_dcgan import DCGANDiscriminatorTorch, DCGANGeneratorTorch, DCGANTorch
from experiments.bench.torch_toy import MixtureTorch, ToyD, ToyTorch

__all__ = [
    "torch_device",
    "device_name",
    "ToyD",
    "ToyTorch",
    "MixtureTorch",
    "DCGANGeneratorTorch",
    "DCGANDiscriminatorTorch",
    "DCGANTorch",
    "ResnetGeneratorTorch",
    "PatchDiscriminatorTorch",
    "CycleGANTorch",
    "build_torch_workload",
]


# ----------------------------------------------------------------------------------------- factory


def build_torch_workload(spec: dict, arrays: dict, *, precision: str, compile_models: bool = False,
                         channels_last: bool = False, device=None):
    """The PyTorch twin of a jaxgan workload from its ``spec`` (the workload's settings) and data."""
    kind = spec["workload"]
    common = dict(device=device, precision=precision, compile_models=compile_models, seed=spec.get("seed", 0))
    if kind == "toy":
        return ToyTorch(arrays["data"], spec["batch_size"], spec.get("lr", 0.01), **common)
    if kind == "mixture":
        return MixtureTorch(arrays["data"], spec, **common)
    if kind == "dcgan":
        return DCGANTorch(arrays["data"], spec["batch_size"], image_size=spec["image_size"], nz=spec["nz"],
                          ngf=spec["g_features"], ndf=spec["d_features"], channels=spec["channels"],
                          channels_last=channels_last, **common)
    if kind == "cyclegan":
        return CycleGANTorch(arrays["data_a"], arrays["data_b"], spec["batch_size"], ngf=spec["g_features"],
                             ndf=spec["d_features"], res_blocks=spec["res_blocks"], channels=spec["channels"],
                             lambda_cycle=spec["lambda_cycle"], lambda_identity=spec["lambda_identity"],
                             pool_size=spec["pool_size"], channels_last=channels_last, **common)
    raise ValueError(f"no PyTorch implementation of workload {kind!r}")


def prepare_torch_run(workload, *, min_time: float, iterations: Optional[int] = None, warmup: int = 1):
    """``(first_call_seconds, Prepared)``: warm-up (the first call includes any compilation), then
    the iterations per timed call (``iterations``, else an estimate for ``min_time``). Each call of
    ``Prepared.run(n)`` performs ``n`` iterations and ends with a device synchronisation."""
    from experiments.bench.timing import Prepared, estimate_iterations

    def run(n):
        for _ in range(n):
            workload.iteration()
        workload.sync()

    t0 = time.perf_counter()
    run(1)
    first = time.perf_counter() - t0
    for _ in range(max(0, warmup - 1)):
        run(1)
    if iterations is None:
        iterations = estimate_iterations(run, 1, min_time)
    return first, Prepared(run, iterations)


def time_torch(workload, *, min_time: float, repeats: int, iterations: Optional[int] = None, warmup: int = 1):
    """``(first_call_seconds, Timing)``: :func:`prepare_torch_run`, then the median of ``repeats``
    timed calls."""
    from experiments.bench.timing import time_runs

    first, prepared = prepare_torch_run(workload, min_time=min_time, iterations=iterations, warmup=warmup)
    return first, time_runs(prepared.run, prepared.iterations, repeats, warmup=0)


def _worker(spec_path: str, out_path: str) -> int:
    """Times one torch variant described by a JSON spec (arrays in an ``.npz`` beside it)."""
    with open(spec_path) as f:
        job = json.load(f)
    arrays = dict(np.load(job["arrays"]))
    if job.get("threads"):
        torch.set_num_threads(job["threads"])
    result = {}
    try:
        workload = build_torch_workload(job["spec"], arrays, precision=job["precision"],
                                        compile_models=job.get("compile", False),
                                        channels_last=job.get("channels_last", False))
        first, timing = time_torch(workload, min_time=job["min_time"], repeats=job["repeats"],
                                   iterations=job.get("iterations"), warmup=job.get("warmup", 2))
        result = {"ok": True, "first_call_seconds": first, "iterations": timing.iterations,
                  "seconds": list(timing.seconds), "device": device_name(workload.device)}
    except Exception as err:  # noqa: BLE001 - reported to the parent, never hidden
        result = {"ok": False, "error": f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:300]}
    with open(out_path, "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(_worker(*sys.argv[1:3]))
