"""Where a training loop's time goes on the device, kernel by kernel: one profiled call, summarised.

    python -m experiments.bench.device_trace --workload dcgan --precision bfloat16            # as run (CUDA graphs kept)
    python -m experiments.bench.device_trace --workload dcgan --precision bfloat16 --no-graphs-in-trace
    python -m experiments.bench.device_trace --quick --iterations 4                          # a smoke run (CPU)
    python -m experiments.bench.device_trace --markdown runs/device_trace/device_trace.json  # a saved one, as Markdown

The loop (the benchmark's variant, :mod:`experiments.bench.one_workload`) is compiled, warmed up and
timed without the profiler (``wall_ms``: the median of ``--repeats`` calls, per iteration); then one
call of ``--iterations`` iterations runs under ``jax.profiler.trace``. The trace (kept under
``<out>/trace`` for TensorBoard / XProf) is read back with ``jax.profiler.ProfileData``:

* the device's kernels (GPU: every event on the device plane's stream lines; CPU, where there is no
  device plane: the XLA thunks on the host's threads), each put in a category from its name and
  HLO op (:func:`category`): library matrix products, convolutions, reductions, copies and
  transposes, memsets and copies between memories, other fused kernels;
* ``busy_ms``: the time at least one kernel runs (the union of their intervals), per iteration, and
  ``busy_fraction`` of the profiled call's wall time. What is not busy is the device waiting: for
  launches, for the host, for the loop's condition.
* the categories' and the top kernels' time per iteration and share of the kernel time.

Under the profiler XLA runs its CUDA graphs op by op unless
``xla_enable_command_buffers_during_profiling`` is set; by default it is set for the profiled
program (``--graphs-in-trace``), so that the trace shows the program as it runs untraced. The other
way (``--no-graphs-in-trace``) shows every launch's gap. Compare ``traced_wall_ms`` with ``wall_ms``.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import NamedTuple, Optional

__all__ = ["Kernel", "category", "kernel_events", "busy_nanoseconds", "summarise", "main"]

# Names of the matrix-product kernels of cuBLAS / cuBLASLt / CUTLASS / Triton GEMM fusions, and of
# cuDNN's convolutions; XLA:CPU's thunks are named after their HLO ops (dot, convolution, fusion...).
_CONV = re.compile(r"convolution|convolve|conv2d|conv[_.\-]|cudnn|fprop|dgrad|wgrad", re.I)  # not "convert"
_GEMM = re.compile(r"gemm|gemv|nvjet|cutlass|xmma|wgmma|cublas|\bdot\b|dot[._]|matmul|ynn_", re.I)
_MEM = re.compile(r"memset|memcpy|MemcpyD2D|MemcpyH2D|MemcpyD2H", re.I)
_LAYOUT = re.compile(r"transpose|copy", re.I)
_REDUCE = re.compile(r"reduce|reduction", re.I)
_CONTAINER = re.compile(r"(while|conditional|call)\b")
CATEGORIES = ("convolution", "matrix product", "reduction", "copy / transpose", "memset / memcpy", "other fused")


class Kernel(NamedTuple):
    name: str  # the kernel's (GPU) or the thunk's (CPU) name
    hlo_op: str  # the HLO instruction it runs, where the profiler records one
    start_ns: float
    duration_ns: float


def category(name: str, hlo_op: str = "") -> str:
    """A kernel's category from its name, or its HLO op where the name says nothing (one of
    :data:`CATEGORIES`)."""
    for text in (name, hlo_op):
        if _MEM.search(text):
            return "memset / memcpy"
        if _CONV.search(text):
            return "convolution"
        if _GEMM.search(text):
            return "matrix product"
    for text in (name, hlo_op):
        if _REDUCE.search(text):
            return "reduction"
        if _LAYOUT.search(text):
            return "copy / transpose"
    return "other fused"


def _stats(event) -> dict:
    try:
        return dict(event.stats)
    except Exception:  # noqa: BLE001 - a stat the reader cannot decode
        return {}


def _stat(event, key: str) -> str:
    return str(_stats(event).get(key, ""))


def kernel_events(profile, host_threads: bool = True) -> tuple[list[Kernel], str, dict]:
    """The device's kernels in a ``jax.profiler.ProfileData``, where they came from, and the stats
    the kernels carry (name -> an example value, for reading the trace further by hand).

    GPU / TPU: every event of the device planes' stream lines (``Stream #...``; every line where
    none is named so), derived lines (XLA Modules / Ops, Steps) left out. CPU (``host_threads``,
    where the trace has no device plane): the host's events that carry an ``hlo_op`` stat (XLA's
    thunks)."""
    kernels, source, seen = [], "none", {}
    devices = [pl for pl in profile.planes if pl.name.startswith(("/device:GPU", "/device:TPU"))]
    for plane in devices:
        lines = list(plane.lines)
        streams = [ln for ln in lines if ln.name.startswith("Stream")]
        for line in streams or [ln for ln in lines if not re.search(r"XLA|Step|Framework|Source|TensorFlow", ln.name)]:
            for e in line.events:
                stats = _stats(e)
                kernels.append(Kernel(e.name, str(stats.get("hlo_op", "")), e.start_ns, e.duration_ns))
                for key, value in stats.items():
                    seen.setdefault(key, str(value)[:200])
        source = f"device plane, lines: {', '.join(sorted({ln.name for ln in lines}))}"
    if not devices and not host_threads:
        source = "none: the trace has no device plane (on a GPU, is CUPTI installed?)"
    elif not devices:
        for plane in profile.planes:
            if plane.name != "/host:CPU":
                continue
            for line in plane.lines:
                for e in line.events:
                    op = _stat(e, "hlo_op")
                    if op and not _CONTAINER.match(op):  # a loop's thunk spans its body's
                        kernels.append(Kernel(e.name, op, e.start_ns, e.duration_ns))
                        for key, value in _stats(e).items():
                            seen.setdefault(key, str(value)[:200])
        source = "host threads (XLA:CPU thunks)"
    return kernels, source, seen


def busy_nanoseconds(kernels: list[Kernel]) -> float:
    """The length of the union of the kernels' intervals: the time something runs."""
    total, end = 0.0, None
    for k in sorted(kernels, key=lambda k: k.start_ns):
        stop = k.start_ns + k.duration_ns
        if end is None or k.start_ns >= end:
            total += k.duration_ns
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def summarise(kernels: list[Kernel], iterations: int, traced_wall_s: float, top: int = 25) -> dict:
    """Per-iteration times: busy, by category and the ``top`` kernels (grouped by name and op)."""
    per_it = 1e-6 / iterations  # ns -> ms per iteration
    kernel_ns = sum(k.duration_ns for k in kernels)
    busy = busy_nanoseconds(kernels)
    by_cat = {c: [0, 0.0] for c in CATEGORIES}
    groups: dict[tuple[str, str], list] = {}
    for k in kernels:
        c = category(k.name, k.hlo_op)
        by_cat[c][0] += 1
        by_cat[c][1] += k.duration_ns
        g = groups.setdefault((k.name, k.hlo_op), [0, 0.0, c])
        g[0] += 1
        g[1] += k.duration_ns
    share = (lambda ns: ns / kernel_ns) if kernel_ns else (lambda ns: None)
    ranked = sorted(groups.items(), key=lambda kv: -kv[1][1])
    return {
        "iterations": iterations,
        "kernels_per_iteration": len(kernels) / iterations,
        "kernel_ms": kernel_ns * per_it,
        "busy_ms": busy * per_it,
        "traced_wall_ms": 1e3 * traced_wall_s / iterations,
        "busy_fraction": busy / (1e9 * traced_wall_s) if traced_wall_s > 0 else None,
        "categories": [{"category": c, "kernels_per_iteration": n / iterations, "ms": ns * per_it, "share": share(ns)}
                       for c, (n, ns) in sorted(by_cat.items(), key=lambda kv: -kv[1][1]) if n],
        "top": [{"name": name, "hlo_op": op, "category": c, "calls_per_iteration": n / iterations,
                 "ms": ns * per_it, "mean_us": ns / n / 1e3, "share": share(ns)}
                for (name, op), (n, ns, c) in ranked[:top]],
    }


def format_summary(s: dict, wall_ms: float) -> str:
    pct = lambda v: "-" if v is None else f"{v:6.1%}"  # noqa: E731
    lines = [f"untraced {wall_ms:.3f} ms per iteration; traced {s['traced_wall_ms']:.3f} ms, of which the device "
             f"is busy {s['busy_ms']:.3f} ms ({pct(s['busy_fraction']).strip()}); {s['kernels_per_iteration']:.1f} "
             f"kernels per iteration, {s['kernel_ms']:.3f} ms of kernel time",
             f"{'category':<20} {'kernels/it':>10} {'ms/it':>8} {'share':>7}"]
    lines += [f"{c['category']:<20} {c['kernels_per_iteration']:>10.1f} {c['ms']:>8.3f} {pct(c['share']):>7}"
              for c in s["categories"]]
    lines.append(f"{'kernel (HLO op)':<78} {'calls/it':>8} {'ms/it':>8} {'mean us':>8} {'share':>7}")
    for k in s["top"]:
        label = k["name"] if not k["hlo_op"] or k["hlo_op"] == k["name"] else f"{k['name']} ({k['hlo_op']})"
        label = label if len(label) <= 78 else label[:75] + "..."
        lines.append(f"{label:<78} {k['calls_per_iteration']:>8.1f} {k['ms']:>8.3f} {k['mean_us']:>8.1f} {pct(k['share']):>7}")
    return "\n".join(lines)


def markdown_summary(result: dict) -> str:
    """A saved trace summary (``device_trace.json``) as Markdown, for the docs."""
    pct = lambda v: "-" if v is None else f"{v:.1%}"  # noqa: E731
    lines = [f"Untraced {result['wall_ms']:.3f} ms per iteration; traced {result['traced_wall_ms']:.3f} ms, device busy "
             f"{result['busy_ms']:.3f} ms ({pct(result['busy_fraction'])}); {result['kernels_per_iteration']:.1f} kernels "
             f"per iteration ({result['kernel_ms']:.3f} ms of kernel time).", "",
             "| category | kernels / it | ms / it | share |", "|---|---|---|---|"]
    lines += [f"| {c['category']} | {c['kernels_per_iteration']:.1f} | {c['ms']:.3f} | {pct(c['share'])} |"
              for c in result["categories"]]
    lines += ["", "| kernel | HLO op | calls / it | ms / it | mean us | share |", "|---|---|---|---|---|---|"]
    lines += [f"| `{k['name'][:90]}` | {k['hlo_op'] or '-'} | {k['calls_per_iteration']:.1f} | {k['ms']:.3f} | "
              f"{k['mean_us']:.1f} | {pct(k['share'])} |" for k in result["top"]]
    return "\n".join(lines)


def main(argv=None) -> Optional[dict]:
    from experiments.bench.one_workload import add_workload_arguments
    from experiments.bench.xla_options import parse_option_set
    from experiments.runner import positive_int

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--markdown":  # a saved summary as Markdown
        import json

        print(markdown_summary(json.loads(Path(argv[1]).read_text())))
        return None

    p = argparse.ArgumentParser(prog="python -m experiments.bench.device_trace", description=__doc__.split("\n\n")[0])
    add_workload_arguments(p)
    p.add_argument("--iterations", type=positive_int, default=20, help="iterations in the profiled call (the scan chunk)")
    p.add_argument("--repeats", type=positive_int, default=3, help="untraced timed calls (the median is reported)")
    p.add_argument("--top", type=positive_int, default=25, help="kernels listed")
    p.add_argument("--graphs-in-trace", action=argparse.BooleanOptionalAction, default=True,
                   help="keep XLA's CUDA graphs under the profiler (xla_enable_command_buffers_during_profiling)")
    p.add_argument("--options", default=None, metavar="NAME[=key=value;...]",
                   help="XLA compiler options, as experiments.bench.xla_options's --set")
    p.add_argument("--out", default="runs/device_trace", help="<out>/device_trace.json and the trace under <out>/trace")
    args = p.parse_args(argv)
    try:
        set_name, options = parse_option_set(args.options) if args.options else ("default", {})
    except ValueError as err:
        p.error(str(err))
    if args.graphs_in_trace:
        options = {**options, "xla_enable_command_buffers_during_profiling": True}
    return run(args, set_name, options)


def run(args, set_name: str, options: dict) -> dict:
    import jax
    from jax.profiler import ProfileData

    from experiments.bench.one_workload import build_workload
    from experiments.runner import device_description, write_json

    workload = build_workload(args)
    chunk = args.iterations if args.variant == "scan" else 1
    variant = workload.compile_variant(args.variant, chunk, compiler_options=options)
    variant.run(args.iterations)  # warm-up
    seconds = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        variant.run(args.iterations)
        seconds.append(time.perf_counter() - t0)
    wall_ms = 1e3 * statistics.median(seconds) / args.iterations
    trace_dir = Path(args.out) / "trace"
    before = set(glob.glob(str(trace_dir / "**" / "*.xplane.pb"), recursive=True))
    with jax.profiler.trace(str(trace_dir)):
        t0 = time.perf_counter()
        variant.run(args.iterations)
        traced_s = time.perf_counter() - t0
    files = sorted(set(glob.glob(str(trace_dir / "**" / "*.xplane.pb"), recursive=True)) - before, key=os.path.getmtime)
    if not files:
        raise SystemExit(f"the profiler wrote no trace under {trace_dir}")
    kernels, source, stats_seen = kernel_events(ProfileData.from_file(files[-1]),
                                                host_threads=jax.default_backend() == "cpu")
    summary = summarise(kernels, args.iterations, traced_s, args.top)
    print(f"{device_description()}, jax {jax.__version__}; {args.workload} {args.variant}, {args.precision}: "
          f"{workload.describe()}; options {options or '(defaults)'}; kernels from the {source}")
    print(format_summary(summary, wall_ms))
    result = {"device": device_description(), "jax": jax.__version__, "workload": args.workload,
              "variant": args.variant, "precision": args.precision, "settings": workload.settings,
              "option_set": set_name, "options": options, "source": source, "wall_ms": wall_ms,
              "trace_file": files[-1], "kernel_stats_seen": stats_seen, **summary}
    write_json(Path(args.out) / "device_trace.json", result)
    return result


if __name__ == "__main__":
    main()
