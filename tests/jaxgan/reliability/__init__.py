"""Tests of ``jaxgan.reliability``."""
