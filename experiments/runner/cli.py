"""The experiments' command lines: one-line errors, argument types and the entry-point wrappers.

Exit statuses of a command run through :func:`run_main`: 0 done, 2 bad input (one line, no
traceback), :data:`EXIT_DIVERGED` (3) training diverged, 130 interrupted (KeyboardInterrupt);
143 (SIGTERM) and 130 (SIGINT) after a checkpoint come from
:class:`experiments.runner.lifecycle.TrainingInterrupted`.
"""

from __future__ import annotations

import argparse
import sys

__all__ = [
    "EXIT_DIVERGED",
    "Parser",
    "UserError",
    "nonnegative_int",
    "positive_float",
    "positive_int",
    "run_cli",
    "run_main",
]

EXIT_DIVERGED = 3


class UserError(Exception):
    """A mistake in the user's input: reported in one line, exit status 2, no traceback."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``prog: error: ...``) and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def _integer(text: str, minimum: int, kind: str) -> int:
    """``text`` as an integer ``>= minimum``, or argparse's error naming ``kind``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {kind} integer, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {kind} integer, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _integer(text, 1, "a positive")


def nonnegative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _integer(text, 0, "a non-negative")


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text}")
    return value


def run_cli(prog: str, main, argv=None) -> int:
    """Runs ``main(argv)``; a :class:`UserError` (or bad value) becomes a one-line error, exit 2.

    First, random draws on CPU are compiled as straight-line code
    (:func:`jaxgan.speedups.rng_lowering.unroll_threefry_on_cpu`: the same bits, no loop per draw), and
    XLA:CPU may compile small training loops as one kernel
    (:func:`jaxgan.speedups.cpu_loops.allow_single_kernel_loops`: the toy GAN's loop without dispatch).

    Args:
      prog: the program's name, the prefix of the error line.
      main: ``main(argv) -> exit status`` (``None`` counts as 0).
      argv: the arguments (``None``: ``sys.argv[1:]``, as argparse reads them).

    Returns:
      The exit status: ``main``'s, 2 for a :class:`UserError`, 130 for KeyboardInterrupt.
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


def _library_input_errors() -> tuple[type, ...]:
    from jaxgan.reliability.checkpoint import CheckpointError
    from jaxgan.reliability.input_checks import InvalidInputError

    errors: list[type] = [InvalidInputError, CheckpointError]
    try:
        from jaxgan.data.images import DatasetError

        errors.append(DatasetError)
    except ImportError:  # pragma: no cover - the image loaders are optional
        pass
    return tuple(errors)


def run_main(prog: str, main, argv=None) -> int:
    """:func:`run_cli`, plus the library's errors as one line without traceback: an experiment's entry.

    Bad input found by ``jaxgan.reliability.input_checks``, a checkpoint error or a data set error: exit 2.
    Divergence: the guard's message, exit :data:`EXIT_DIVERGED` (3).

    Args:
      prog: the program's name, the prefix of the error line.
      main: ``main(argv) -> exit status`` (``None`` counts as 0).
      argv: the arguments (``None``: ``sys.argv[1:]``).

    Returns:
      The exit status.
    """
    from jaxgan.reliability.divergence import DivergenceError

    def guarded(args):
        try:
            return main(args)
        except DivergenceError as err:
            print(f"{prog}: error: {err}", file=sys.stderr)
            return EXIT_DIVERGED
        except Exception as err:  # noqa: BLE001 - re-raised unless it is a user's mistake
            if isinstance(err, _library_input_errors()):
                raise UserError(str(err)) from None
            raise

    return run_cli(prog, guarded, argv)
