"""``python -m experiments.mixture_gan``: parses the command line, trains and scores every seed, prints the table."""

from __future__ import annotations

import time
from pathlib import Path

from experiments.mixture_gan.config import PROG, parse_args
from experiments.mixture_gan.report import format_report
from experiments.mixture_gan.sweep import run_sweep
from experiments.mixture_gan.sweep_report import format_sweep_report
from experiments.mixture_gan.train import train_and_evaluate
from experiments.runner import print_results, run_main


def main(argv=None, *, split_cpu: bool = False) -> int:
    """Trains and scores the runs of the command line ``argv``, prints the table; returns the exit status.

    ``split_cpu`` (the program's entry point): split the host CPU into ``--cpu-devices`` JAX devices
    before JAX starts (:func:`experiments.runner.split_host_cpu`).
    """
    t0 = time.perf_counter()
    config = parse_args(argv, split_cpu=split_cpu)
    out = Path(config.out)
    if config.sweep is not None:  # the stability map: experiments.mixture_gan.sweep
        results = run_sweep(config)
        files = [out / "results.json", out / "samples.npy"] + ([out / "sweep.png"] if config.plot else [])
        return print_results(results, format_sweep_report, files, t0)
    results = train_and_evaluate(config)
    files = [out / "results.json", out / "metrics.jsonl", out / "samples.npy"]
    files += [out / "samples.png"] if config.plot else []
    return print_results(results, format_report, files, t0)


if __name__ == "__main__":
    raise SystemExit(run_main(PROG, lambda argv: main(argv, split_cpu=True)))
