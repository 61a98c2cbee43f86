"""Tests of ``jaxgan.losses``."""
