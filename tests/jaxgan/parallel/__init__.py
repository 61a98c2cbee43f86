"""Tests of ``jaxgan.parallel``."""
