"""Tests of ``python -m experiments.pix2pix``."""
