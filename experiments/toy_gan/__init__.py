"""The lecture's toy GAN: learn ``N(mu, A^T A)`` from 3200 samples with a linear G.

    python -m experiments.toy_gan                      # the lecture's setting, one seed
    python -m experiments.toy_gan --seeds 32           # 32 seeds in one compiled program
    python -m experiments.toy_gan --recipe stable      # the recipe that does not drift
    python -m experiments.toy_gan --modular            # train through GANLoss
    python -m experiments.toy_gan --resume             # continue the run saved in --out (see experiments.runner)

Defaults are exactly lecture 17's: data ``N(0, I) @ A + mu`` (3200 samples), G = one Linear(2, 2),
D = Linear(2,20) ReLU Linear(20,10) ReLU Linear(10,2) with the 2-class softmax loss, Adam lr 0.01 for
both, batches of 32 over contiguous slices, 2000 iterations, each a D step then a G step on the same Z.

Modules: :mod:`~experiments.toy_gan.config` (the settings and the command line),
:mod:`~experiments.toy_gan.train` (the GAN and its training), :mod:`~experiments.toy_gan.loop`
(``lax.scan`` or the loop as one GPU kernel), :mod:`~experiments.toy_gan.report` (figure and
printed report); ``__main__`` is the command.
"""

from experiments.toy_gan.config import LOOPS, PROG, RECIPES, ToyConfig, parse_args
from experiments.toy_gan.loop import choose_loop, kernel_unavailable
from experiments.toy_gan.report import format_report, plot_scatter
from experiments.toy_gan.train import (
    build_gan,
    make_data,
    make_recipe,
    make_states,
    run_keys,
    step_size,
    train_and_evaluate,
)

__all__ = [
    "LOOPS",
    "PROG",
    "RECIPES",
    "ToyConfig",
    "build_gan",
    "choose_loop",
    "format_report",
    "kernel_unavailable",
    "make_data",
    "make_recipe",
    "make_states",
    "parse_args",
    "plot_scatter",
    "run_keys",
    "step_size",
    "train_and_evaluate",
]
