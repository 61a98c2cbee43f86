"""Tests of ``jaxgan.metrics``."""
