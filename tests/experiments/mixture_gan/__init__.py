"""Tests of ``python -m experiments.mixture_gan``."""
