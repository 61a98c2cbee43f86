"""Tests of ``python -m experiments.toy_gan``."""
