"""The mode-collapse benchmark: a GAN on the ring of 8 or the grid of 25 Gaussians, many seeds at once.

    python -m experiments.mixture_gan --dataset ring              # 10 seeds, jaxgan's default recipe
    python -m experiments.mixture_gan --dataset grid --seeds 5
    python -m experiments.mixture_gan --dataset ring --recipe pacgan-gan --steps 20000
    python -m experiments.mixture_gan --dataset grid --recipe sngan   # hinge loss, spectral norm on D

All seeds train in one compiled program (``vmap`` of the train step inside ``lax.scan``); every step
draws a fresh real batch from the mixture inside that program, so there is no data set. Each trained
G then draws 2500 samples, scored as VEEGAN and PacGAN do (:mod:`jaxgan.metrics.mixtures`): modes
covered, percentage of high-quality samples (within 3 std of the nearest mean) and the reverse KL
of the HQ histogram against uniform. The table prints mean +- standard error over seeds beside the
published rows. Outputs: ``<out>/results.json``, ``<out>/samples.npy`` ``(seeds, 2500, 2)``,
``<out>/samples.png``.

Recipes (see :func:`default_recipe`, :func:`pacgan_recipe` and :func:`sngan_recipe` for the why):

* ``default``: non-saturating loss with an R1 penalty on D, 4 x 128 ReLU MLP G on 2-d noise,
  4 x 128 leaky-ReLU MLP D, Adam(1e-3, beta1 0.5, beta2 0.99) cosine-decayed to 1e-5; ring:
  batch 256, 8000 steps; grid: batch 128, 16000 steps, nets in units of 4 (``--data-scale``).
* ``pacgan-gan``: PacGAN's plain-GAN row: G 4 x 400 ReLU + BatchNorm on 2-d noise, D a 3 x 200
  maxout MLP (5 pieces), sigmoid cross-entropy (non-saturating G), Adam lr 1e-4 beta1 0.8, batch
  100, 400 epochs of 100k points (400,000 steps; use ``--steps`` for less).
* ``sngan``: the default recipe with SNGAN's changes: hinge loss, every D kernel spectrally
  normalised (``--spectral-norm``) instead of R1, Adam betas (0, 0.9).

Every hyperparameter flag (``--loss``, ``--steps``, ``--batch-size``, ...) overrides the recipe's.

Stability maps (``--sweep lr=1e-4,1e-3,1e-2:penalty-weight=0,0.05,0.5``): every combination of up to
two axes of values trains at once in one program, ``--seeds`` runs per setting (default 1), and
``sweep.png`` draws modes covered and HQ % as heatmaps: :mod:`~experiments.mixture_gan.sweep`.

Seed-parallel (``--devices N``, default: every device): the run axis of the stacked states is split
over a 1-d mesh of N devices (:func:`jaxgan.parallel.sharding.shard_runs`), each device training
``seeds / N`` runs with no communication; ``--seeds`` must be a multiple of N. Samples and metrics
are gathered to the host; with several processes (``jax.distributed``) only process 0 prints and
writes. ``--devices`` is not part of the run's identity: a run may resume on another device count.

On a CPU, ``python -m experiments.mixture_gan`` first splits the host into ``--cpu-devices`` JAX
devices (default: the largest divisor of ``--seeds`` not above the number of cores), so the seeds
train as that many programs side by side: XLA:CPU runs each device's program on its own thread,
and one program of small per-seed matrices does not keep two cores busy. See
:func:`experiments.runner.split_host_cpu`.

Modules: :mod:`~experiments.mixture_gan.config` (the recipes, the settings and the command line),
:mod:`~experiments.mixture_gan.train` (networks, seed-parallel training, scoring),
:mod:`~experiments.mixture_gan.report` (published rows, goals, figure, printed table),
:mod:`~experiments.mixture_gan.sweep` (the stability map) and :mod:`~experiments.mixture_gan.sweep_report`
(its heatmaps and table); ``__main__`` is the command.
"""

from experiments.mixture_gan.config import (
    ARCHITECTURES,
    DATASETS,
    LR_DECAYS,
    PROG,
    RECIPES,
    MixtureConfig,
    Recipe,
    default_recipe,
    pacgan_recipe,
    recipe_of,
    sngan_recipe,
    parse_args,
    validate_recipe,
)
from experiments.mixture_gan.report import GOALS, PUBLISHED, format_report, plot_samples
from experiments.mixture_gan.train import (
    Trained,
    build_gan,
    build_networks,
    learning_rate,
    make_evaluator,
    make_optimizer,
    run_identity,
    run_keys,
    summarize,
    train_and_evaluate,
)

__all__ = [
    "ARCHITECTURES",
    "DATASETS",
    "GOALS",
    "LR_DECAYS",
    "PROG",
    "PUBLISHED",
    "RECIPES",
    "MixtureConfig",
    "Recipe",
    "Trained",
    "build_gan",
    "build_networks",
    "learning_rate",
    "default_recipe",
    "format_report",
    "make_evaluator",
    "make_optimizer",
    "pacgan_recipe",
    "recipe_of",
    "sngan_recipe",
    "parse_args",
    "plot_samples",
    "run_identity",
    "run_keys",
    "summarize",
    "train_and_evaluate",
    "validate_recipe",
]
