"""Tests of ``python -m experiments.dcgan``."""
