"""``python -m experiments.plot RUN_DIR``: a run's loss and discriminator-output curves from its
``metrics.jsonl``, drawn into a PNG with matplotlib (no TensorBoard needed).

* :mod:`~experiments.plot.curves`: which logged series go in which panel, and the figure;
* :mod:`~experiments.plot.__main__`: the command line.
"""

from experiments.plot.curves import d_output_names, loss_names, plot_curves, read_run

__all__ = ["d_output_names", "loss_names", "plot_curves", "read_run"]
