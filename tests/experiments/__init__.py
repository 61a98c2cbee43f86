"""Tests of the experiments: the shared command-line parts here, one directory per experiment."""
