"""``python -m experiments.pix2pix``: parses the command line, trains and evaluates, prints the report."""

from __future__ import annotations

import time
from pathlib import Path

from experiments.pix2pix.config import PROG, parse_args
from experiments.pix2pix.report import format_report
from experiments.pix2pix.train import train_and_evaluate
from experiments.runner import print_results, run_main


def main(argv=None) -> int:
    """Trains and evaluates the run of the command line ``argv``, prints its report; returns the exit status."""
    t0 = time.perf_counter()
    config = parse_args(argv)
    results = train_and_evaluate(config)
    out = Path(config.out)
    files = [out / "results.json", out / "metrics.jsonl"] + ([out / "translations.png"] if config.plot else [])
    return print_results(results, format_report, files, t0)


if __name__ == "__main__":
    raise SystemExit(run_main(PROG, main))
