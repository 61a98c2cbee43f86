"""Test settings shared by the whole suite."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402

# Exact float32 on CPU, reproducible across runs.
jax.config.update("jax_default_matmul_precision", "highest")


def pytest_configure(config):
    """Runs that select the ``slow`` tests (``pytest -m slow``) stay in one process.

    The default run spreads test files over worker processes (pytest-xdist, ``addopts`` in
    ``pyproject.toml``). The slow tests are quality and speed runs, some with a wall-time goal
    (the CycleGAN run in 15 minutes, the mixture runs' times): sharing the cores with another
    worker would measure the machine's load, not the run.
    """
    markexpr = (config.getoption("markexpr", "") or "").replace(" ", "")
    if "slow" in markexpr and markexpr != "notslow" and getattr(config.option, "numprocesses", None):
        config.option.numprocesses = 0
        config.option.dist = "no"
        config.option.tx = []
