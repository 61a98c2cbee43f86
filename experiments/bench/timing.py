"""Timing, FLOP counts and accelerator peaks for the benchmark.

A *timed variant* is a function ``run(n)`` that performs ``n`` training iterations and returns only
when the device has finished them (``jax.block_until_ready`` / ``torch.cuda.synchronize``). It is
measured as: ``warmup`` calls (not timed), then ``repeats`` timed calls; the reported throughput is
``n / median(seconds)``. Ratios between frameworks are only meaningful inside one run on one machine,
and hold best when their repeats are interleaved (:func:`time_interleaved`).
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Callable, NamedTuple, Optional, Sequence

__all__ = [
    "Timing",
    "Prepared",
    "time_runs",
    "time_interleaved",
    "iterations_for",
    "estimate_iterations",
    "xla_flops",
    "traced_flops",
    "host_shapes",
    "PEAKS",
    "peak_flops_per_second",
]


class Timing(NamedTuple):
    iterations: int  # per timed call
    seconds: tuple[float, ...]  # one per repeat

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)

    @property
    def iterations_per_second(self) -> float:
        return self.iterations / self.median_seconds

    @property
    def spread(self) -> float:
        """(slowest - fastest) / median of the repeats: how noisy the measurement was."""
        return (max(self.seconds) - min(self.seconds)) / self.median_seconds


def time_runs(run: Callable[[int], None], iterations: int, repeats: int, warmup: int = 1) -> Timing:
    """Times ``run(iterations)`` ``repeats`` times after ``warmup`` untimed calls."""
    for _ in range(warmup):
        run(iterations)
    seconds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(iterations)
        seconds.append(time.perf_counter() - t0)
    return Timing(iterations, tuple(seconds))


class Prepared(NamedTuple):
    """A variant ready to time (compiled or built, warmed up): ``run(iterations)`` performs
    ``iterations`` training iterations and returns when the device has finished them."""

    run: Callable[[int], None]
    iterations: int


def time_interleaved(prepared: Sequence[Prepared], repeats: int) -> list[Timing]:
    """Times every ``run(iterations)`` of ``prepared`` ``repeats`` times, round by round: each round
    times every variant once before the next round starts, and round ``r`` starts with variant
    ``r mod len(prepared)`` (so that none always follows the same one). Returns one :class:`Timing`
    per variant, in order.

    On a machine whose speed drifts over minutes (a shared CPU, a GPU's clocks), the drift then
    falls on every variant alike and their ratios hold; timed one variant after another, a variant
    measured in a slow minute looks slow against the others.
    """
    seconds: list[list[float]] = [[] for _ in prepared]
    for r in range(repeats):
        for k in range(len(prepared)):
            i = (r + k) % len(prepared)
            t0 = time.perf_counter()
            prepared[i].run(prepared[i].iterations)
            seconds[i].append(time.perf_counter() - t0)
    return [Timing(p.iterations, tuple(s)) for p, s in zip(prepared, seconds)]


def iterations_for(seconds_per_iteration: float, min_time: float, *, cap: int = 100_000) -> int:
    """How many iterations make one timed call last about ``min_time`` seconds (at least 1)."""
    if not seconds_per_iteration > 0:
        return cap
    return int(min(cap, max(1, math.ceil(min_time / seconds_per_iteration))))


def estimate_iterations(run: Callable[[int], None], granule: int, min_time: float, *, cap: int = 100_000) -> int:
    """Iterations (a multiple of ``granule``) for one timed call of about ``min_time`` seconds.

    Runs ``granule``, ``2 granule``, ``4 granule``... iterations until one call takes at least
    ``min_time / 10`` (a single short call is mostly scheduler noise), then scales up.
    """
    n = granule
    while True:
        t0 = time.perf_counter()
        run(n)
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time / 10 or n >= cap:
            return granule * max(1, math.ceil(iterations_for(elapsed / n, min_time, cap=cap) / granule))
        n *= 2


def xla_flops(program) -> Optional[float]:
    """Floating-point operations of one call of a JAX function, from XLA's cost analysis of
    ``program``: a ``jax.stages.Lowered`` (preferred) or ``Compiled``.

    Ask the *lowered* program: its analysis counts every product and convolution of the math as
    written. A compiled program's analysis describes what the backend made of it: XLA:GPU's leaves
    out the cuDNN and cuBLAS calls it emits (on an H200 it counted 21% of a DCGAN step's FLOPs with
    the matmul layers, under 1% with convolutions, 0.4% of CycleGAN's). JAX's GPU and TPU plugins
    do not analyse lowered programs (``None`` here): :func:`traced_flops` lowers for the host CPU
    there. XLA counts an operation it cannot see into (a ``custom-call``) as -1.

    Note that XLA counts a ``while``/``scan`` body once, whatever its trip count: count the FLOPs of
    one iteration from a function without a loop.
    """
    try:
        analysis = program.cost_analysis()
    except Exception:  # noqa: BLE001 - some backends do not implement it
        return None
    if isinstance(analysis, (list, tuple)):  # older JAX returned one dict per device program
        analysis = analysis[0] if analysis else None
    if not analysis:
        return None
    flops = analysis.get("flops")
    return float(flops) if flops is not None and flops > 0 else None


def host_shapes(args):
    """``args`` as shapes and dtypes placed on the host CPU (``jax.ShapeDtypeStruct`` leaves), or
    ``None`` where this process has no CPU backend (``JAX_PLATFORMS`` without ``cpu``)."""
    import jax

    try:
        cpu = jax.devices("cpu")[0]
    except RuntimeError:
        return None
    on_cpu = jax.sharding.SingleDeviceSharding(cpu)
    return jax.tree.map(
        lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=on_cpu) if hasattr(a, "shape") else a, args)


def traced_flops(fn: Callable, *args) -> Optional[float]:
    """Floating-point operations of one call ``fn(*args)``: :func:`xla_flops` of its lowered program.

    JAX's GPU and TPU plugins cannot analyse a lowered program (``Lowered.cost_analysis`` raises
    ``NotImplementedError`` there, and their compiled analysis leaves out library calls, see
    :func:`xla_flops`). There the same function is lowered again for the host CPU from the
    arguments' shapes and analysed by XLA:CPU: the count is of the program as traced (every product
    and convolution of the math), which does not depend on the backend that will run it.
    """
    import jax

    flops = xla_flops(jax.jit(fn).lower(*args))
    if flops is None:
        shapes = host_shapes(args)
        if shapes is not None:
            flops = xla_flops(jax.jit(fn).lower(*shapes))
    return flops


class Peak(NamedTuple):
    """Dense (no sparsity) peak throughput in TFLOP/s from the vendor's data sheet."""

    bfloat16: Optional[float]
    float32: Optional[float]  # TF32 tensor cores on NVIDIA (what float32 convs/matmuls use by default)


# Matched as substrings of the device name (``jax.Device.device_kind`` / ``torch.cuda.get_device_name``),
# most specific first. NVIDIA numbers: SXM parts unless the name says PCIe/NVL; the data sheets quote
# "with sparsity", halved here. float32 = TF32 tensor-core peak (cuDNN uses TF32 for float32 convolutions
# by default, and XLA for float32 dots and convolutions at default precision); None where there is none.
PEAKS: tuple[tuple[str, Peak], ...] = (
    ("H200 NVL", Peak(835.0, 418.0)),
    ("H200", Peak(989.0, 495.0)),
    ("H100 NVL", Peak(835.0, 418.0)),
    ("H100 PCIe", Peak(756.0, 378.0)),
    ("H100", Peak(989.0, 495.0)),
    ("GH200", Peak(989.0, 495.0)),
    ("A100", Peak(312.0, 156.0)),
    ("A10G", Peak(70.0, 35.0)),
    ("L40S", Peak(362.0, 183.0)),
    ("L4", Peak(121.0, 60.0)),
    ("TPU v6 lite", Peak(918.0, None)),
    ("TPU v6e", Peak(918.0, None)),
    ("TPU v5 lite", Peak(197.0, None)),
    ("TPU v5e", Peak(197.0, None)),
    ("TPU v5p", Peak(459.0, None)),
    ("TPU v5", Peak(459.0, None)),
    ("TPU v4", Peak(275.0, None)),
)


def peak_flops_per_second(device_name: str, precision: str) -> Optional[float]:
    """The device's dense peak FLOP/s at ``precision`` ("float32" or "bfloat16"); None if unknown (CPUs)."""
    for pattern, peak in PEAKS:
        if pattern.lower() in device_name.lower():
            tflops = getattr(peak, precision)
            return None if tflops is None else tflops * 1e12
    return None
