"""Tests of ``python -m experiments.cyclegan``."""
