"""pix2pix: paired translation, on a task whose right answer is known or on aligned image folders.

    python -m experiments.pix2pix                                    # digits -> thick-stroked digits
    python -m experiments.pix2pix --dataset digits-invert-thick
    python -m experiments.pix2pix --dataset mnist-thick --data-dir /path/to/mnist
    python -m experiments.pix2pix --dataset folder --data-dir datasets/facades --direction BtoA   # reference setup
    python -m experiments.pix2pix --resume           # continue the run saved in --out

Known-answer tasks (``digits-<transform>``, ``mnist-<transform>``, see
``jaxgan.data.translation_tasks``): the pairs ``(x, T(x))`` of every non-test digit, the pairs
CycleGAN is never shown; evaluation on held-out digits measures ``|G(x) - T(x)|`` (on a [0, 1] pixel
scale) and label preservation (a classifier trained on the target domain reads ``G(x)``).
``--direction BtoA`` learns ``T(x) -> x``. ``folder``: the reference's aligned setting (``train/``,
``test/`` of A|B images side by side, or ``A/train/``, ``B/train/``, ... paired by name; each image
loaded at 286, the same random 256 crop and flip for both, U-Net 256, 70x70 PatchGAN, batch 1); the
pixel error to the B images is measured. A trained run translates a folder of new inputs with
``python -m experiments.sample RUN_DIR --input DIR``.
Losses and schedule are the reference's: vanilla GAN (BCE with logits, D's loss halved), L1 with
lambda 100, D conditioned on the input, Adam 2e-4 beta1 0.5, constant learning rate then linear
decay to 0 (``--decay-steps``).

Runs survive (:mod:`experiments.runner.lifecycle`): checkpoints of the whole state (both players,
step, key) every ``--checkpoint-every`` steps and at the end, ``--resume`` to ``--steps`` in total
(bit-exact), a save on SIGINT/SIGTERM, the divergence guard. ``--devices N`` trains data-parallel.

Modules: :mod:`~experiments.pix2pix.config` (the settings and the command line),
:mod:`~experiments.pix2pix.train` (data, networks, the run), :mod:`~experiments.pix2pix.report`
(translations, metrics, figure, printed report); ``__main__`` is the command.
"""

from experiments.pix2pix.config import PROG, REFERENCE, SMALL, Pix2PixConfig, parse_args
from experiments.pix2pix.report import evaluate, format_report, mae01, plot_translations, translate_all
from experiments.pix2pix.train import build_model, load_data, train_and_evaluate

__all__ = [
    "PROG",
    "REFERENCE",
    "SMALL",
    "Pix2PixConfig",
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
