"""Tests of ``jaxgan.models``."""
