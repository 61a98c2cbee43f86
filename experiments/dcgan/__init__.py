"""DCGAN on real images, judged by a classifier: ``python -m experiments.dcgan --dataset digits``.

    python -m experiments.dcgan --dataset digits                   # offline, 16x16
    python -m experiments.dcgan --dataset mnist --split test       # or --data-dir DIR (IDX files)
    python -m experiments.dcgan --dataset folder --data-dir photos/ --image-size 64 --precision bfloat16

Each data set with a recorded recipe takes it as its defaults (:data:`~experiments.dcgan.config.PRESETS`,
printed at start; flags given override it): digits ``--r1 1 --steps 4000``, MNIST ``--g-features 32
--d-features 32 --r1 1 --g-ema 0.999 --steps 12000``, a folder ``--holdout 0``.

The reference recipe of pytorch/examples ``dcgan/main.py``: networks of :mod:`jaxgan.models.dcgan`,
non-saturating BCE objective, Adam(2e-4, betas (0.5, 0.999)) for both players, each iteration a D
step on a real batch and ``stop_gradient(G(z))`` (D sees them in two calls, so each has its own
BatchNorm batch statistics) then a G step on the same ``z``.

``--holdout`` real images are kept out of training: a small classifier (:mod:`jaxgan.metrics.classifier`,
cached) is trained on the training images, and the run reports the classifier score, Frechet
distance and class-histogram KL of ``--eval-samples`` generated images against the training
images, beside the real-data floor (the held-out images scored the same way). With ``--holdout 0``,
or on a folder (no labels to train the classifier on), nothing judges the run: it says so at start
and ``results.json`` has ``"evaluated": false`` and no metric fields. Outputs in ``--out``:
``samples.png`` (a fixed noise batch, also saved every ``--sample-every`` iterations under
``samples/``), ``losses.png`` and ``results.json``.

``--conditional projection`` or ``--conditional acgan`` trains a class-conditional DCGAN
(:mod:`jaxgan.models.conditional_dcgan`: G given the class by an embedding, or by conditional
BatchNorm with ``--conditioning batchnorm``; D a projection head or an auxiliary classifier): its
``samples.png`` has one row per class, and the run is also judged on the classes (class accuracy,
per-class and intra-class Frechet distances, :mod:`jaxgan.metrics.conditional`).

Modules: :mod:`~experiments.dcgan.config` (the settings and the command line),
:mod:`~experiments.dcgan.model` (networks, optimizers, samplers), :mod:`~experiments.dcgan.train`
(data, training loops, the run), :mod:`~experiments.dcgan.report` (evaluation, figures, printed
report); ``__main__`` is the command.
"""

from experiments.dcgan.config import DATASETS, DEFAULT_IMAGE_SIZE, PRECISIONS, PRESETS, PROG, DCGANConfig, parse_args
from experiments.dcgan.model import (
    build_gan,
    class_rows,
    compute_dtype,
    learning_rate,
    make_generate,
    make_sampling_generator,
    objective,
    with_resolved_layers,
)
from experiments.dcgan.report import evaluate, format_report, image_grid, plot_losses, save_grid
from experiments.dcgan.train import SAMPLE_GRID, load_data, train_and_evaluate, train_streaming

__all__ = [
    "DATASETS",
    "DCGANConfig",
    "DEFAULT_IMAGE_SIZE",
    "PRECISIONS",
    "PRESETS",
    "PROG",
    "SAMPLE_GRID",
    "build_gan",
    "class_rows",
    "compute_dtype",
    "evaluate",
    "format_report",
    "image_grid",
    "learning_rate",
    "load_data",
    "make_generate",
    "make_sampling_generator",
    "objective",
    "parse_args",
    "plot_losses",
    "save_grid",
    "train_and_evaluate",
    "train_streaming",
    "with_resolved_layers",
]
