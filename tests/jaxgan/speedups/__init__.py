"""Tests of ``jaxgan.speedups``."""
