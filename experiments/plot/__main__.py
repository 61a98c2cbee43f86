"""``python -m experiments.plot RUN_DIR [--out PNG]``: draws RUN_DIR/metrics.jsonl's curves (RUN_DIR/curves.png)."""

from __future__ import annotations

from pathlib import Path

from experiments.plot.curves import plot_curves, read_run
from experiments.runner import Parser, run_cli

PROG = "python -m experiments.plot"


def main(argv=None) -> int:
    """Reads the run's ``metrics.jsonl``, writes the figure, prints its path; returns the exit status."""
    p = Parser(prog=PROG, description="A run's loss and discriminator-output curves from its metrics.jsonl, as a PNG.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="the run's output directory (its --out)")
    p.add_argument("--out", default=None, metavar="PNG", help="the figure's path (default RUN_DIR/curves.png)")
    args = p.parse_args(argv)
    records = read_run(args.run_dir)
    out = Path(args.out) if args.out else Path(args.run_dir) / "curves.png"
    plot_curves(records, out, title=f"{args.run_dir}: {len(records)} logged steps, up to step {records[-1]['step']}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(PROG, main))
