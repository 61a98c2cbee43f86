"""Which XLA compiler options make a training loop faster: one workload's loop compiled under
several option sets in ONE process, checked to train alike, then timed round by round.

    python -m experiments.bench.xla_options --workload dcgan --precision bfloat16     # the GPU presets
    python -m experiments.bench.xla_options --workload dcgan --dcgan-layers conv --set default --set graphs_whole_loop
    python -m experiments.bench.xla_options --quick --set default --set 'mine=xla_gpu_graph_min_graph_size=1'
    python -m experiments.bench.xla_options --markdown runs/xla_options/xla_options.json    # a saved sweep, as Markdown

Each option set is passed to ``lowered.compile(compiler_options=...)`` (fields of XLA's
``DebugOptions``, for that program alone), so the sets need no process each and their timings
interleave (:func:`experiments.bench.timing.time_interleaved`): a machine's drift falls on all of
them alike. An option this XLA does not know is reported on its row, not raised.

Before timing, every set trains one call (``--iterations`` iterations) from the same initial
state; ``state_diff`` is the largest difference of any parameter or optimizer value from the
``default`` set's, relative to that value's largest magnitude. Options that only change how
kernels are launched (CUDA graphs, loop capture) should leave it at 0; a set that changes the
fused program may also change which algorithm autotuning picks, and so the rounding.
``default_again`` compiles the default program a second time: its speed against ``default`` is
the noise between two executables of one program (XLA:GPU keeps autotuning results for the
process, so its ``state_diff`` is expected to be 0 too).

The GPU presets (:data:`GPU_OPTION_SETS`) test what the DCGAN profile suggests: XLA's CUDA graphs
(command buffers) do not capture convolutions or ``while`` loops by default, so each convolution
and each trip of the ``scan`` loop returns to the host to launch the next work.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Optional

__all__ = ["GPU_OPTION_SETS", "DEFAULT_GRAPH_TYPES", "parse_option_set", "fastest_set", "state_difference", "main"]

# XLA's default command-buffer types (jax 0.10-0.11; xla_gpu_enable_command_buffer's defaults, listed
# here so the sets below change one thing each; ``graphs_listed`` checks the list against the default).
DEFAULT_GRAPH_TYPES = "FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL,CUDNN,DYNAMIC_SLICE_FUSION,CONDITIONAL"
_CMD = "xla_gpu_enable_command_buffer"
GPU_OPTION_SETS: dict[str, dict] = {
    "default": {},
    "default_again": {},  # a second compilation of the same program: the noise between two executables
    "no_graphs": {_CMD: ""},
    "graphs_listed": {_CMD: DEFAULT_GRAPH_TYPES},
    "graphs_convolution": {_CMD: DEFAULT_GRAPH_TYPES + ",CONVOLUTION"},
    "graphs_while": {_CMD: DEFAULT_GRAPH_TYPES + ",WHILE"},
    "graphs_whole_loop": {_CMD: DEFAULT_GRAPH_TYPES + ",CONVOLUTION,WHILE", "xla_gpu_graph_min_graph_size": 1},
    "graphs_whole_loop_concurrent": {_CMD: DEFAULT_GRAPH_TYPES + ",CONVOLUTION,WHILE", "xla_gpu_graph_min_graph_size": 1,
                                     "xla_gpu_command_buffer_scheduling_mode": "CONCURRENT_REGIONS"},
    "concurrent_regions": {"xla_gpu_command_buffer_scheduling_mode": "CONCURRENT_REGIONS"},
    "cudnn_gemm_fusion": {"xla_gpu_cudnn_gemm_fusion_level": 2},
    "no_triton_gemm": {"xla_gpu_enable_triton_gemm": False},
    "while_double_buffering": {"xla_gpu_enable_while_loop_double_buffering": True},
}


def _value(text: str):
    """An option's value from the command line: true/false, an integer, or the text itself."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        return text


def parse_option_set(text: str) -> tuple[str, dict]:
    """``NAME`` (a preset of :data:`GPU_OPTION_SETS`), ``NAME=key=value[;key=value...]``, or
    ``best:PATH``: the fastest set of an ``xla_options.json`` (:func:`fastest_set`).

    >>> parse_option_set("mine=xla_gpu_graph_min_graph_size=1;xla_gpu_enable_triton_gemm=false")
    ('mine', {'xla_gpu_graph_min_graph_size': 1, 'xla_gpu_enable_triton_gemm': False})
    """
    if text.startswith("best:"):
        return fastest_set(Path(text[len("best:"):]))
    name, sep, rest = text.partition("=")
    if not sep:
        if name not in GPU_OPTION_SETS:
            raise ValueError(f"unknown option set {name!r}: a preset ({', '.join(GPU_OPTION_SETS)}) "
                             "or NAME=key=value[;key=value...]")
        return name, dict(GPU_OPTION_SETS[name])
    options = {}
    for item in filter(None, rest.split(";")):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"option {item!r} of set {name!r} is not key=value")
        options[key.strip()] = _value(value.strip())
    return name, options


def fastest_set(path: Path) -> tuple[str, dict]:
    """The set of a sweep's ``xla_options.json`` with the highest median round-by-round speed over the
    ``default`` set's (the default itself where none is faster, or where the sweep timed nothing).
    By speed alone: whether that set trains like the default is its row's ``state_diff``, to read
    beside ``default_again``'s before adopting it."""
    import json

    rows = [r for r in json.loads(Path(path).read_text())["rows"] if r.get("status") == "ok"]
    if not rows:
        raise ValueError(f"{path}: no option set compiled and ran")
    best = max(rows, key=lambda r: (r.get("ratio_to_default") or 0.0, r["set"] == "default"))
    if not best["options"]:  # default_again, or a set of no options: XLA's defaults
        return "default", {}
    return best["set"], dict(best["options"])


def state_difference(state, reference) -> float:
    """``max |x - x_ref| / max(max |x_ref|, tiny)`` over the floating leaves of two training states."""
    import jax
    import jax.numpy as jnp

    worst = 0.0
    for x, r in zip(jax.tree.leaves(state), jax.tree.leaves(reference)):
        if not jnp.issubdtype(jnp.asarray(r).dtype, jnp.floating):
            continue
        x, r = jnp.asarray(x, jnp.float32), jnp.asarray(r, jnp.float32)
        scale = max(float(jnp.max(jnp.abs(r))), 1e-30)
        worst = max(worst, float(jnp.max(jnp.abs(x - r))) / scale)
    return worst


def _row(name: str, options: dict) -> dict:
    return {"set": name, "options": options, "status": "ok"}


def markdown_table(payload: dict) -> str:
    """A saved sweep (``xla_options.json``) as a Markdown table, for the docs."""
    def fmt(v, spec):
        return "-" if v is None else format(v, spec)

    lines = ["| set | it/s | x default | TFLOP/s | % peak | state diff | options |", "|---|---|---|---|---|---|---|"]
    for r in payload["rows"]:
        options = "; ".join(f"`{k}={v}`" for k, v in r["options"].items()) or "XLA's defaults"
        if r["status"] != "ok":
            lines.append(f"| {r['set']} | {r['status']} | | | | | {options} |")
            continue
        lines.append(f"| {r['set']} | {fmt(r.get('iterations_per_second'), ',.1f')} | {fmt(r.get('ratio_to_default'), '.3f')} | "
                     f"{fmt(r.get('tflops_per_second'), '.1f')} | {fmt(r.get('fraction_of_peak'), '.1%')} | "
                     f"{fmt(r.get('state_diff'), '.1e')} | {options} |")
    return "\n".join(lines)


def main(argv=None) -> list[dict]:
    from experiments.bench.one_workload import add_workload_arguments
    from experiments.runner import positive_float, positive_int

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--markdown":  # a saved sweep as a Markdown table
        import json

        print(markdown_table(json.loads(Path(argv[1]).read_text())))
        return []

    p = argparse.ArgumentParser(prog="python -m experiments.bench.xla_options", description=__doc__.split("\n\n")[0])
    add_workload_arguments(p)
    p.add_argument("--set", dest="sets", action="append", default=None, metavar="NAME[=key=value;...]",
                   help=f"an option set, repeatable (default: every preset, {', '.join(GPU_OPTION_SETS)})")
    p.add_argument("--iterations", type=positive_int, default=20,
                   help="iterations per compiled call (the scan chunk) and of the agreement check")
    p.add_argument("--min-time", type=positive_float, default=0.5, help="seconds per timed call (about)")
    p.add_argument("--repeats", type=positive_int, default=5, help="timed rounds; the median is reported")
    p.add_argument("--compile-budget", type=positive_float, default=None, metavar="SECONDS",
                   help="compile no further set after this many seconds (the rest are reported as skipped), so "
                        "that a run with a time limit still times what it compiled")
    p.add_argument("--out", default=None, help="write <out>/xla_options.json")
    args = p.parse_args(argv)
    try:
        sets = [parse_option_set(s) for s in (args.sets or list(GPU_OPTION_SETS))]
    except ValueError as err:
        p.error(str(err))
    if len({name for name, _ in sets}) != len(sets):
        p.error("option set names must differ")
    return run(args, sets)


def run(args, sets: list[tuple[str, dict]]) -> list[dict]:
    import jax

    from experiments.bench.one_workload import build_workload, iteration_flops
    from experiments.bench.rows import error_text
    from experiments.bench.timing import Prepared, iterations_for, peak_flops_per_second, time_interleaved
    from experiments.runner import device_description, write_json

    workload = build_workload(args)
    flops = iteration_flops(workload)
    peak = peak_flops_per_second(workload.device_kind, args.precision)
    print(f"{device_description()}, jax {jax.__version__}; {args.workload} {args.variant}: {workload.describe()}; "
          f"{'-' if flops is None else f'{flops / 1e9:.1f}'} GFLOP per iteration", flush=True)
    chunk = args.iterations if args.variant == "scan" else 1
    rows, compiled = [], []

    def save():  # after every set too: a set that crashes the process leaves the others' rows
        if args.out:
            write_json(Path(args.out) / "xla_options.json", {
                "device": device_description(), "jax": jax.__version__, "workload": args.workload,
                "variant": args.variant, "settings": workload.settings, "precision": args.precision,
                "gflop_per_iteration": None if flops is None else flops / 1e9, "rows": rows})

    started = time.perf_counter()
    for name, options in sets:
        row = _row(name, options)
        rows.append(row)
        if args.compile_budget is not None and time.perf_counter() - started > args.compile_budget:
            row["status"] = f"skipped: the compile budget ({args.compile_budget:g} s) was spent"
            print(f"  {name}: {row['status']}", flush=True)
            continue
        try:
            variant = workload.compile_variant(args.variant, chunk, compiler_options=options)
            variant.run(args.iterations)  # the agreement check's call, and the warm-up
            compiled.append((row, variant))
            row["compile_seconds"] = variant.compile_seconds
            print(f"  {name}: compiled in {variant.compile_seconds:.1f} s", flush=True)
        except Exception as err:  # noqa: BLE001 - an option this XLA rejects is a result, not a crash
            row["status"] = f"failed: {error_text(err)}"
            print(f"  {name}: {row['status']}", flush=True)
        save()
    reference = next((v for r, v in compiled if r["set"] == "default"), compiled[0][1] if compiled else None)
    for row, variant in compiled:  # every state after the same one call, before any timing
        row["state_diff"] = state_difference(variant.state(), reference.state())
    prepared = []
    for row, variant in compiled:
        t0 = time.perf_counter()
        variant.run(args.iterations)
        per_iteration = (time.perf_counter() - t0) / args.iterations
        calls = max(1, round(iterations_for(per_iteration, args.min_time) / args.iterations))
        prepared.append(Prepared(variant.run, calls * args.iterations))
    timings = time_interleaved(prepared, args.repeats)
    for (row, variant), timing in zip(compiled, timings):
        ips = timing.iterations_per_second
        row.update(iterations_per_second=ips, spread=timing.spread,
                   rounds=[timing.iterations / s for s in timing.seconds])
        if workload.images:
            row["images_per_second"] = ips * workload.batch_size
        if flops is not None:
            row["tflops_per_second"] = flops * ips / 1e12
            row["fraction_of_peak"] = None if peak is None else flops * ips / peak
    base = next((r for r in rows if r["set"] == "default" and "rounds" in r), None)
    for row in rows:
        if base is not None and "rounds" in row:
            row["ratio_to_default"] = median_ratio(row, base)
    print(format_table(rows))
    save()
    return rows


def format_table(rows: list[dict]) -> str:
    def fmt(v, spec):
        return "-" if v is None else format(v, spec)

    lines = [f"{'set':<30} {'it/s':>9} {'x default':>9} {'TFLOP/s':>8} {'peak':>6} {'spread':>7} {'state diff':>10} "
             f"{'compile s':>9}  options"]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"{r['set']:<30} {r['status']}")
            continue
        options = "; ".join(f"{k}={v}" for k, v in r["options"].items()) or "(XLA's defaults)"
        lines.append(f"{r['set']:<30} {fmt(r.get('iterations_per_second'), '9.1f')} {fmt(r.get('ratio_to_default'), '9.3f')} "
                     f"{fmt(r.get('tflops_per_second'), '8.2f')} {fmt(r.get('fraction_of_peak'), '6.1%')} "
                     f"{fmt(r.get('spread'), '7.1%')} {fmt(r.get('state_diff'), '10.1e')} "
                     f"{fmt(r.get('compile_seconds'), '9.1f')}  {options}")
    return "\n".join(lines)


def median_ratio(row: dict, base: dict) -> Optional[float]:
    """The median over rounds of ``row``'s speed over ``base``'s in the same round (the rounds are
    interleaved, so a ratio compares two calls timed next to each other)."""
    pairs = list(zip(row.get("rounds") or [], base.get("rounds") or []))
    return statistics.median(a / b for a, b in pairs) if pairs else None


if __name__ == "__main__":
    main()
