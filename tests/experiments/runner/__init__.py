"""Tests of ``experiments.runner``: the command line, the devices and the lifecycle the experiments share."""
