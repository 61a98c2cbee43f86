"""Where the real MNIST test set is, for the few tests that check against it: ``JAXGAN_MNIST_DIR``.

The variable names a directory holding MNIST's IDX files of the test split
(``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz``, or the same names without
``.gz``). Where it is not set, those tests are skipped and the skip reason names the variable;
where it is set, the files must be there: a wrong directory fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ENV_VAR = "JAXGAN_MNIST_DIR"


def mnist_dir() -> Path | None:
    """The directory named by ``JAXGAN_MNIST_DIR``, or ``None`` where the variable is unset or empty."""
    value = os.environ.get(ENV_VAR, "").strip()
    return Path(value).expanduser() if value else None


MNIST_DIR = mnist_dir()

needs_real_mnist = pytest.mark.skipif(
    MNIST_DIR is None,
    reason=f"needs the real MNIST test set: set {ENV_VAR} to the directory of its IDX files "
    "(t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)",
)
