"""Experiments: one thin module per experiment (``python -m experiments.<name>``)."""
