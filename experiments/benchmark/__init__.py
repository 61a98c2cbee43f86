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

Modules: :mod:`~experiments.benchmark.config` (the command line), :mod:`~experiments.benchmark.run`
(the timing of every workload); ``__main__`` is the command. The parts it is built from (workloads,
timing, rows, the settings of :class:`~experiments.bench.config.BenchConfig`) and the probes that
study one workload are in :mod:`experiments.bench`, which never imports this package.
"""

from experiments.bench.config import (
    DCGAN_LAYERS,
    PRECISIONS,
    QUICK,
    QUICK_VARIANTS,
    REFERENCE,
    VARIANT_NAMES,
    WORKLOADS,
    BenchConfig,
)
from experiments.benchmark.config import PROG, parse_args
from experiments.benchmark.run import machine_info, run_benchmark, run_workload

__all__ = [
    "DCGAN_LAYERS",
    "PRECISIONS",
    "PROG",
    "QUICK",
    "QUICK_VARIANTS",
    "REFERENCE",
    "VARIANT_NAMES",
    "WORKLOADS",
    "BenchConfig",
    "machine_info",
    "parse_args",
    "run_benchmark",
    "run_workload",
]
