"""Tests of ``python -m experiments.benchmark``."""
