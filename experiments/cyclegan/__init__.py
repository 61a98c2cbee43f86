"""CycleGAN: unpaired translation, on a task whose right answer is known or on image folders.

    python -m experiments.cyclegan                                   # digits <-> thick-stroked digits
    python -m experiments.cyclegan --dataset mnist-thick --data-dir /path/to/mnist
    python -m experiments.cyclegan --dataset folder --data-dir datasets/horse2zebra   # reference setup
    python -m experiments.cyclegan --resume          # continue the run saved in --out

Known-answer tasks (``digits-<transform>``, ``mnist-<transform>``, see
``jaxgan.data.translation_tasks``): domain A = digits, domain B = ``T`` of other digits; evaluation
on held-out digits ``x`` measures ``|G_AB(x) - T(x)|``, ``|G_BA(T(x)) - x|`` (on a [0, 1] pixel
scale), the cycle errors and label preservation (a classifier trained on each domain reads the
translations). ``folder``: the reference's setting (``trainA/ trainB/ testA/ testB/``, load 286, crop
256, flips, ResNet-9 generators, 70x70 PatchGANs, batch 1); only the cycle error is measurable.
Losses and schedule are the reference's: LSGAN, cycle lambda 10, identity 0.5 lambda, pool 50,
Adam 2e-4 beta1 0.5, constant learning rate then linear decay to 0 (``--decay-steps``).

Runs survive (:mod:`experiments.runner.lifecycle`): checkpoints of the whole state (four players,
both image pools, step, key) every ``--checkpoint-every`` steps and at the end, ``--resume`` to
``--steps`` in total (bit-exact), a save on SIGINT/SIGTERM, the divergence guard. ``--devices N``
trains data-parallel (state replicated, each batch split over the devices; see the README's
sharding section).

Modules: :mod:`~experiments.cyclegan.config` (the settings and the command line),
:mod:`~experiments.cyclegan.train` (data, networks, the run), :mod:`~experiments.cyclegan.report`
(translations, metrics, figure, printed report); ``__main__`` is the command.
"""

from experiments.cyclegan.config import PROG, REFERENCE, SMALL, CycleGANConfig, parse_args
from experiments.cyclegan.report import evaluate, format_report, mae01, plot_translations, translate_all
from experiments.cyclegan.train import build_model, load_data, train_and_evaluate

__all__ = [
    "PROG",
    "REFERENCE",
    "SMALL",
    "CycleGANConfig",
    "build_model",
    "evaluate",
    "format_report",
    "load_data",
    "mae01",
    "parse_args",
    "plot_translations",
    "train_and_evaluate",
    "translate_all",
]
