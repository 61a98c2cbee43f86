"""Tests of ``jaxgan.data``."""
