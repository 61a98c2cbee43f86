"""``python -m experiments.benchmark``: parses the command line, runs the benchmark, says what it wrote."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from experiments.bench.rows import markdown_table
from experiments.benchmark.config import PROG, parse_args
from experiments.benchmark.run import run_benchmark
from experiments.runner import UserError, check_out_dir, run_cli

# --quick is a smoke test: XLA:CPU spends most of it compiling, and these flags halve that (the
# programs run slower, which --quick does not measure). They apply to a process whose JAX backend
# has not started yet, i.e. to ``python -m experiments.benchmark --quick``.
QUICK_XLA_FLAGS = ("--xla_backend_optimization_level=0", "--xla_llvm_disable_expensive_passes=true")


def main(argv=None) -> int:
    """Runs the benchmark of the command line ``argv`` (or prints a results file as Markdown); returns 0."""
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
    check_out_dir(config.out)  # before any workload runs
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
    raise SystemExit(run_cli(PROG, main))
