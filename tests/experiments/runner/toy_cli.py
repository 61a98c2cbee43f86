"""The toy GAN's CLI run in-process, for the tests of what it does with good and bad input."""

import contextlib
import io

from experiments import runner as lifecycle
from experiments.toy_gan import __main__ as toy_gan

TOY = ["--no-plot", "--no-progress", "--chunk-size", "50"]


def run_toy(argv):
    """``python -m experiments.toy_gan ARGV`` in-process: ``(exit status, stdout, stderr)``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = lifecycle.run_main(toy_gan.PROG, toy_gan.main, argv)
        except SystemExit as exit_:  # argparse errors leave through SystemExit
            code = exit_.code
    return code, out.getvalue(), err.getvalue()
