"""How fast jaxgan trains each workload, and how that compares with PyTorch doing the same work.

    python -m experiments.benchmark                                   # every workload, JAX variants
    python -m experiments.benchmark --workload toy --compare torch    # + PyTorch eager / torch.compile
    python -m experiments.benchmark --workload dcgan --precision bfloat16 --compare torch
    python -m experiments.benchmark --quick                           # a few iterations of everything
    python -m experiments.benchmark --markdown runs/benchmark/results.json   # a results file as Markdown

One *iteration* is one D step and one G step (CycleGAN: the G step of both translators and the D step
of both discriminators). For each workload the JAX variants are the library's own ways to run it:
separately jitted D and G steps from a Python loop (``steps``), the fused step (``fused``),
``lax.scan`` over chunks of iterations (``scan``, what ``fit`` runs) and, for the 2D GANs, ``vmap`` of
that scan over seeds (``vmapN_scan``, throughput summed over the N runs). With ``--compare torch`` the
same models and update order run in PyTorch eager in the same process, timed the same way (warm-up,
device synchronisation, median of repeats), plus ``torch.compile`` in a child process with a time
limit (its failures are reported in the table, not hidden). The repeats of all the in-process
variants are interleaved, round by round, so that the machine's drift falls on every one alike
(``--no-interleave``: one variant after another).

Throughput is iterations per second (and images per second for image workloads); compilation is
timed apart (``.lower().compile()``; for torch.compile, the first call). FLOP/s use XLA's cost
analysis of one fused iteration; on a known accelerator the table gives the fraction of its dense
peak (:data:`experiments.bench.timing.PEAKS`). Results go to ``<out>/results.json``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Optional

from experiments.runner import (
    Parser,
    UserError,
    positive_float,
    positive_int,
    nonnegative_int,
    run_cli,
    write_json,
)

from experiments.bench.jax_rows import jax_row, prepare_jax
from experiments.bench.rows import add_ratios, format_table, markdown_table
from experiments.bench.timing import time_interleaved, time_runs
from experiments.bench.torch_rows import prepare_torch, torch_compile_row, torch_row

WORKLOADS = ("toy", "mixture", "dcgan", "cyclegan")
PRECISIONS = ("float32", "bfloat16")

# Per workload: the reference sizes (the default) and the --quick sizes. None = not applicable.
REFERENCE = {
    "toy": dict(batch_size=32, seeds=64),
    "mixture": dict(batch_size=128, seeds=64),  # the mixture experiment's default recipe
    "dcgan": dict(batch_size=128, image_size=64, width=64),
    "cyclegan": dict(batch_size=1, image_size=256, width=64, res_blocks=9),
}
QUICK = {
    "toy": dict(batch_size=32, seeds=4),
    "mixture": dict(batch_size=16, seeds=2, width=16),
    "dcgan": dict(batch_size=4, image_size=16, width=8),
    "cyclegan": dict(batch_size=1, image_size=32, width=4, res_blocks=1),
}
# --quick times these variants only (compiling a CycleGAN step takes ~10 s of CPU on XLA:CPU);
# ``--variants all`` with --quick exercises every one.
QUICK_VARIANTS = {"toy": None, "mixture": ("fused",), "dcgan": ("fused",), "cyclegan": ("fused",)}
VARIANT_NAMES = ("steps", "fused", "scan", "vmap", "kernel")  # kernel: toy, float32, GPUs
# DCGAN's (upsample, downsample) layers (jaxgan.speedups.layers): "auto" = experiments.dcgan's default, by
# platform (jaxgan.speedups.layers.auto_layers: winograd on CPU, matmul elsewhere); "matmul" = every
# convolution a matrix product of patches; "conv" = XLA's convolutions (sub-pixel G); "transpose" =
# XLA's transposed convolution in G; "winograd" = Winograd's F(m x m, 2 x 2) (fastest on CPU).
DCGAN_LAYERS = {"auto": ("auto", "auto"), "matmul": ("matmul", "matmul"), "conv": ("subpixel", "conv"),
                "transpose": ("transpose", "conv"), "winograd": ("winograd", "winograd")}


@dataclasses.dataclass(frozen=True)
class BenchConfig:
    workloads: tuple[str, ...] = WORKLOADS
    compare_torch: bool = False
    precision: str = "float32"
    batch_size: Optional[int] = None  # None: each workload's reference batch
    image_size: Optional[int] = None  # dcgan / cyclegan
    width: Optional[int] = None  # ngf = ndf (dcgan, cyclegan); hidden width (mixture)
    res_blocks: Optional[int] = None  # cyclegan
    seeds: Optional[int] = None  # runs under vmap (toy, mixture; dcgan when given)
    iterations: Optional[int] = None  # per timed call; None: enough for --min-time
    min_time: float = 1.0  # seconds per timed call (when --iterations is not given)
    repeats: int = 5
    interleave: bool = True  # time the variants' repeats round by round (False: one variant after another)
    quick: bool = False
    torch_compile: bool = True
    torch_compile_timeout: float = 900.0
    torch_threads: Optional[int] = None  # torch.set_num_threads (None: PyTorch's default, one per core)
    variants: Optional[tuple[str, ...]] = None  # None: all (--quick: QUICK_VARIANTS); "vmap" = vmapN_scan
    unroll: int = 1  # lax.scan unroll of the scan variants (rows named e.g. scan_unroll8 when > 1)
    dcgan_layers: str = "auto"  # DCGAN's G / D layers: see DCGAN_LAYERS
    xla_option_set: Optional[str] = None  # the JAX programs' XLA compiler options (experiments.bench.xla_options)
    xla_options: Optional[dict] = None
    seed: int = 0
    out: str = "runs/benchmark"

    def validate(self) -> None:
        unknown = [w for w in self.workloads if w not in WORKLOADS]
        if unknown:
            raise UserError(f"unknown workload {unknown[0]!r}; known: {', '.join(WORKLOADS)}, all")
        if self.dcgan_layers not in DCGAN_LAYERS:
            raise UserError(f"unknown --dcgan-layers {self.dcgan_layers!r}; known: {', '.join(DCGAN_LAYERS)}")
        if self.precision not in PRECISIONS:
            raise UserError(f"unknown precision {self.precision!r}; known: {', '.join(PRECISIONS)}")
        if self.image_size is not None and (self.image_size < 8 or self.image_size & (self.image_size - 1)):
            raise UserError(f"--image-size must be a power of two >= 8, got {self.image_size}")
        if self.compare_torch:
            try:
                import torch  # noqa: F401
            except ImportError:
                raise UserError("--compare torch needs PyTorch: pip install 'jaxgan[bench]' "
                                "(or pip install torch)") from None

    def sizes(self, workload: str) -> dict:
        """The workload's sizes: reference (or --quick) values overridden by the command line."""
        sizes = dict((QUICK if self.quick else REFERENCE)[workload])
        for name in ("batch_size", "image_size", "width", "res_blocks", "seeds"):
            value = getattr(self, name)
            # dcgan has no vmap variant unless --seeds asks for one (its per-run sizes stay the reference's)
            if value is not None and (name in sizes or name == "width" or (name == "seeds" and workload == "dcgan")):
                sizes[name] = value
        return sizes

    def selected(self, workload: str, variant: str) -> bool:
        """Whether ``variant`` (e.g. ``vmap64_scan``, matched as ``vmap``) of ``workload`` is timed."""
        chosen = self.variants
        if chosen is None and self.quick:
            chosen = QUICK_VARIANTS[workload]
        if chosen is None:
            return True
        if variant.endswith("kernel"):  # kernel, vmapN_kernel: both chosen as "kernel"
            return "kernel" in chosen
        return variant in chosen or (variant.startswith("vmap") and "vmap" in chosen)

    def reduced(self, workload: str) -> bool:
        """Whether the sizes differ from the reference setting."""
        ref = REFERENCE[workload]
        return any(self.sizes(workload).get(k, v) != v for k, v in ref.items())


# ------------------------------------------------------------------------------------------ JAX


def build_jax_workload(name: str, config: BenchConfig):
    """The workload from jaxgan's own pieces; raises WorkloadUnavailable when its code is missing."""
    from experiments.bench import workloads

    builder = {"toy": workloads.toy, "mixture": workloads.mixture, "dcgan": workloads.dcgan,
               "cyclegan": workloads.cyclegan}[name]
    extra = {"layers": DCGAN_LAYERS[config.dcgan_layers]} if name == "dcgan" else {}
    return builder(config.sizes(name), precision=config.precision, seed=config.seed, **extra)


def machine_info(compare_torch: bool) -> dict:
    import jax

    from experiments.runner import device_description

    info = {
        "jax_device": device_description(),
        "jax_device_kind": jax.devices()[0].device_kind,
        "jax_version": jax.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    if compare_torch:
        import torch

        from experiments.bench.torch_models import device_name, torch_device

        info.update(torch_version=torch.__version__, torch_device=device_name(torch_device()),
                    torch_threads=torch.get_num_threads())
    return info


# ------------------------------------------------------------------------------------------- main


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


def parse_args(argv=None) -> BenchConfig:
    p = Parser(prog="python -m experiments.benchmark", description=__doc__.split("\n\n")[0])
    p.add_argument("--workload", default="all", help=f"one of {', '.join(WORKLOADS)}, all; or a comma-separated list")
    p.add_argument("--compare", choices=("none", "torch"), default="none", help="also time PyTorch on the same work")
    p.add_argument("--precision", choices=PRECISIONS, default="float32",
                   help="compute dtype (bfloat16: parameters, optimizer state and losses stay float32)")
    p.add_argument("--batch-size", type=positive_int, help="override every workload's reference batch size")
    p.add_argument("--image-size", type=positive_int, help="dcgan / cyclegan image side (reference 64 / 256)")
    p.add_argument("--width", type=positive_int, help="ngf = ndf (dcgan, cyclegan; reference 64), hidden width (mixture)")
    p.add_argument("--res-blocks", type=positive_int, help="cyclegan residual blocks (reference 9)")
    p.add_argument("--seeds", type=positive_int,
                   help="runs under vmap for toy and mixture (reference 64), and for dcgan when given (a vmapN_scan "
                        "variant: N runs of batch 128 in one program)")
    p.add_argument("--iterations", type=positive_int, help="iterations per timed call (default: enough for --min-time)")
    p.add_argument("--min-time", type=positive_float, default=BenchConfig.min_time, help="seconds per timed call")
    p.add_argument("--repeats", type=positive_int, default=BenchConfig.repeats, help="timed calls; the median is reported")
    p.add_argument("--no-interleave", dest="interleave", action="store_false",
                   help="time each variant's repeats one after another (default: round by round, all variants, "
                        "JAX and PyTorch, once per round, so that a machine's drift falls on all alike)")
    p.add_argument("--quick", action="store_true", help="tiny sizes, 2 iterations, 1 repeat: checks that everything runs")
    p.add_argument("--no-torch-compile", dest="torch_compile", action="store_false", help="skip the torch.compile variant")
    p.add_argument("--torch-compile-timeout", type=positive_float, default=BenchConfig.torch_compile_timeout,
                   help="seconds allowed for the torch.compile child process")
    p.add_argument("--torch-threads", type=positive_int, default=None,
                   help="torch.set_num_threads for the PyTorch variants (default: PyTorch's, one per core)")
    p.add_argument("--variants", default=None,
                   help=f"comma-separated JAX variants to time, from {', '.join(VARIANT_NAMES)} (default: all; "
                        "--quick: all for toy, fused for the others), or all")
    p.add_argument("--unroll", type=positive_int, default=1,
                   help="lax.scan unroll of the scan variants (fewer loop trips; helps where each trip costs, e.g. GPUs)")
    p.add_argument("--dcgan-layers", choices=tuple(DCGAN_LAYERS), default=BenchConfig.dcgan_layers,
                   help="DCGAN layers: auto (the default, as python -m experiments.dcgan: winograd on CPU, matmul "
                        "elsewhere), matmul (patches as matrix products), conv (XLA's convolutions, sub-pixel G), "
                        "transpose (XLA's transposed convolution), winograd (Winograd's F(m x m, 2 x 2))")
    p.add_argument("--xla-options", default=None, metavar="SET",
                   help="XLA compiler options for every JAX program: a preset of experiments.bench.xla_options "
                        "(e.g. graphs_whole_loop), NAME=key=value[;key=value...], or best:PATH, the fastest set "
                        "of an xla_options.json (rows are then named e.g. scan+graphs_whole_loop)")
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--out", default=BenchConfig.out, help="output directory (results.json)")
    args = p.parse_args(argv)
    xla_set = xla_options = None
    if args.xla_options is not None:
        from experiments.bench.xla_options import parse_option_set

        try:
            xla_set, xla_options = parse_option_set(args.xla_options)
        except (OSError, ValueError) as err:
            p.error(f"argument --xla-options: {err}")
    workloads = WORKLOADS if args.workload == "all" else tuple(w.strip() for w in args.workload.split(",") if w.strip())
    for w in workloads:
        if w not in WORKLOADS:
            p.error(f"argument --workload: unknown workload {w!r} (choose from {', '.join(WORKLOADS)}, all)")
    variants = None
    if args.variants is not None and args.variants != "all":
        variants = tuple(v.strip() for v in args.variants.split(",") if v.strip())
        for v in variants:
            if v not in VARIANT_NAMES:
                p.error(f"argument --variants: unknown variant {v!r} (choose from {', '.join(VARIANT_NAMES)}, all)")
    elif args.variants == "all":
        variants = VARIANT_NAMES
    repeats = 1 if args.quick and args.repeats == BenchConfig.repeats else args.repeats
    return BenchConfig(
        workloads=workloads, compare_torch=args.compare == "torch", precision=args.precision,
        batch_size=args.batch_size, image_size=args.image_size, width=args.width, res_blocks=args.res_blocks,
        seeds=args.seeds, iterations=args.iterations, min_time=args.min_time, repeats=repeats,
        interleave=args.interleave, quick=args.quick,
        torch_compile=args.torch_compile, torch_compile_timeout=args.torch_compile_timeout,
        torch_threads=args.torch_threads, variants=variants, unroll=args.unroll, dcgan_layers=args.dcgan_layers,
        xla_option_set=xla_set, xla_options=xla_options, seed=args.seed,
        out=args.out,
    )


# --quick is a smoke test: XLA:CPU spends most of it compiling, and these flags halve that (the
# programs run slower, which --quick does not measure). They apply to a process whose JAX backend
# has not started yet, i.e. to ``python -m experiments.benchmark --quick``.
QUICK_XLA_FLAGS = ("--xla_backend_optimization_level=0", "--xla_llvm_disable_expensive_passes=true")


def main(argv=None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if len(argv) == 2 and argv[0] == "--markdown":  # print a results.json as a Markdown table
        try:
            rows = json.loads(Path(argv[1]).read_text())["rows"]
        except (OSError, ValueError, KeyError) as err:
            raise UserError(f"cannot read rows from {argv[1]}: {err}") from None
        print(markdown_table(rows))
        return 0
    config = parse_args(argv)
    saved_flags = os.environ.get("XLA_FLAGS")
    if config.quick:
        flags = saved_flags or ""
        extra = [f for f in QUICK_XLA_FLAGS if f.split("=")[0] not in flags]
        os.environ["XLA_FLAGS"] = " ".join([flags, *extra]).strip()
    try:
        results = run_benchmark(config)
    finally:  # called in-process (tests), the flags must not leak into later child processes
        if saved_flags is None:
            os.environ.pop("XLA_FLAGS", None)
        else:
            os.environ["XLA_FLAGS"] = saved_flags
    failed = [r for r in results["rows"] if r["status"] != "ok"]
    print(f"wrote {Path(config.out) / 'results.json'} ({len(results['rows'])} rows, {len(failed)} not ok, "
          f"{len(results['unavailable'])} workloads not available; {results['total_seconds']:.1f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli("python -m experiments.benchmark", main))
