"""``python -m experiments.toy_gan``: parses the command line, trains, prints the report."""

from __future__ import annotations

import time
from pathlib import Path

from experiments.runner import print_results, run_main
from experiments.toy_gan.config import PROG, parse_args
from experiments.toy_gan.report import format_report
from experiments.toy_gan.train import train_and_evaluate


def main(argv=None) -> int:
    """Trains the run of the command line ``argv`` and prints its report; returns the exit status."""
    t0 = time.perf_counter()
    config = parse_args(argv)
    results = train_and_evaluate(config)
    out = Path(config.out)
    files = [out / "results.json", out / "metrics.jsonl"] + ([out / "scatter.png"] if config.plot else [])
    return print_results(results, format_report, files, t0)


if __name__ == "__main__":
    raise SystemExit(run_main(PROG, main))
