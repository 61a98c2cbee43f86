"""The benchmark's command line: :func:`parse_args` fills a :class:`~experiments.bench.config.BenchConfig`."""

from __future__ import annotations

from experiments.bench.config import DCGAN_LAYERS, PRECISIONS, VARIANT_NAMES, WORKLOADS, BenchConfig
from experiments.runner import Parser, nonnegative_int, positive_float, positive_int

__all__ = ["DESCRIPTION", "PROG", "parse_args"]

PROG = "python -m experiments.benchmark"
DESCRIPTION = (
    "How fast jaxgan trains each workload, and how that compares with PyTorch doing the same work."
)


def parse_args(argv=None) -> BenchConfig:
    """The :class:`~experiments.bench.config.BenchConfig` of a command line (``None``: ``sys.argv[1:]``)."""
    p = Parser(prog=PROG, description=DESCRIPTION)
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
