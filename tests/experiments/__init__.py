"""Tests of the experiments: one directory per experiment, and ``runner`` for the parts they share."""
