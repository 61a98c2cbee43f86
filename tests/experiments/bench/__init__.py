"""Tests of the benchmark's parts and probes (``experiments.bench``)."""
