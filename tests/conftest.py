"""Test settings shared by the whole suite."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402

# Exact float32 on CPU, reproducible across runs.
jax.config.update("jax_default_matmul_precision", "highest")
