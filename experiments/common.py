"""Shared CLI plumbing for the experiments: one-line errors, argument types, output files."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


class UserError(Exception):
    """A mistake in the user's input: reported in one line, exit status 2, no traceback."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``prog: error: ...``) and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def nonnegative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text}")
    return value


def run_main(prog: str, main, argv=None) -> int:
    """Runs ``main(argv)``; a :class:`UserError` (or bad value) becomes a one-line error, exit 2.

    First, random draws on CPU are compiled as straight-line code
    (:func:`jaxgan.speedups.rng_lowering.unroll_threefry_on_cpu`: the same bits, no loop per draw), and
    XLA:CPU may compile small training loops as one kernel
    (:func:`jaxgan.speedups.cpu_loops.allow_single_kernel_loops`: the toy GAN's loop without dispatch).
    """
    from jaxgan.speedups.cpu_loops import allow_single_kernel_loops
    from jaxgan.speedups.rng_lowering import unroll_threefry_on_cpu

    allow_single_kernel_loops()
    unroll_threefry_on_cpu()
    try:
        return main(argv) or 0
    except UserError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def print_results(results: dict, format_report, files: list[Path], started: float) -> int:
    """An experiment's last words (main process only): its report, then the files it wrote and
    the wall time since ``started`` (``time.perf_counter()``). Returns the exit status, 0."""
    import time

    from jaxgan.parallel.hosts import is_main_process

    if is_main_process():
        print(format_report(results))
        print(f"wrote {', '.join(map(str, files))} ({time.perf_counter() - started:.1f} s in all)")
    return 0


def device_description() -> str:
    import jax

    dev = jax.devices()[0]
    kind = getattr(dev, "device_kind", dev.platform)
    return f"{jax.device_count()}x {kind} ({dev.platform})"


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Writes JSON atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def use_headless_matplotlib():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
