"""The mode-collapse benchmark's settings: the recipes, :class:`MixtureConfig`, and the command line.

A :class:`Recipe` holds every hyperparameter of a run: :func:`default_recipe` (jaxgan's, tuned to
meet the goals), :func:`pacgan_recipe` (PacGAN's plain-GAN setting) and :func:`sngan_recipe`
(SNGAN's hinge loss and spectrally normalised D) say why each value is what it is. A :class:`MixtureConfig` names the data set, the recipe, the seeds and the overrides
of the recipe's values; :func:`validate_recipe` checks the resolved recipe; :func:`parse_args`
reads a command line.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from experiments.runner import (
    Parser,
    UserError,
    add_device_args,
    add_lifecycle_args,
    add_logging_args,
    auto_cpu_devices,
    nonnegative_int,
    positive_float,
    positive_int,
    preset_line,
    say,
    setup_devices,
    split_host_cpu,
    usable_cores,
)

__all__ = [
    "ARCHITECTURES",
    "DATASETS",
    "DESCRIPTION",
    "LR_DECAYS",
    "PROG",
    "RECIPES",
    "MixtureConfig",
    "Recipe",
    "default_recipe",
    "pacgan_recipe",
    "parse_args",
    "recipe_of",
    "recipe_line",
    "sngan_recipe",
    "validate_recipe",
]

PROG = "python -m experiments.mixture_gan"
DESCRIPTION = "The mode-collapse benchmark: a GAN on the ring of 8 or the grid of 25 Gaussians, many seeds at once."

DATASETS = ("ring", "grid")
RECIPES = ("default", "pacgan-gan", "sngan")
LR_DECAYS = ("none", "cosine")
ARCHITECTURES = ("mlp", "pacgan")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Every hyperparameter of a training recipe.

    ``architecture`` "mlp": G = ``data_scale * MLP((g_width,) * g_depth, 2)(z)`` with ReLU, D =
    ``MLP((d_width,) * d_depth, 1)(x / data_scale)`` with leaky ReLU (:class:`ScaledMLP`);
    "pacgan": G = ``BatchNormMLP``, D = ``MaxoutMLP`` (:mod:`jaxgan.models.mixture`). ``penalty``
    is a :func:`jaxgan.losses.make_penalty` name or "none"; ``penalty_weight`` multiplies it
    (R1: ``gamma / 2``). ``lr_decay`` "cosine" anneals both learning rates from their value to 1%
    of it over the run (D's over its ``steps * n_critic`` updates). ``spectral_norm`` divides
    each of D's kernels by its largest singular value (:func:`jaxgan.models.mixture.spectral_dense`).
    """

    loss: str
    penalty: str
    penalty_weight: float
    architecture: str
    g_width: int
    g_depth: int
    d_width: int
    d_depth: int
    latent_dim: int
    batch_size: int
    steps: int
    g_lr: float
    d_lr: float
    beta1: float
    beta2: float
    lr_decay: str
    n_critic: int
    data_scale: float
    spectral_norm: bool = False


def default_recipe(dataset: str) -> Recipe:
    """jaxgan's recipe, tuned with short 3-seed runs to meet the goals within 5 CPU minutes.

    Why each choice (3 seeds each):

    * non-saturating loss + R1 on D (gamma 0.1, so weight ``gamma / 2 = 0.05``): without R1 the
      grid lost modes (20 of 25 at 8000 steps, reverse KL 0.46) and the ring's histogram was uneven
      (reverse KL 0.14); with it every seed covered every mode. A 10x smaller gamma (0.01) lost
      grid modes too; R1 is the coverage knob.
    * G and D: 4 hidden layers of 128 (ReLU for G, leaky ReLU for D). Depth 4 beat depth 3 at equal
      steps (ring HQ 93.8% vs 90.7%): a continuous G must jump between disconnected modes, and
      depth buys sharper jumps. Width 256 for D or G, or 64 for both, did worse per CPU second.
    * 2-d noise: 4-d or 8-d noise was slower to carve the modes (grid HQ 31% vs 59%, ring 52% vs
      91% at 3000 steps).
    * Adam(lr 1e-3, beta1 0.5, beta2 0.99) for both players, cosine-decayed to 1e-5 over the
      run: HQ is a precision test (3 std = 0.03 on the ring), and precision arrives only as the
      step size shrinks; beta1 0.9 collapsed (grid 10 modes) and beta2 0.999 was slower (ring HQ
      83.6% vs 90.7%); a G learning rate of 2e-3 was unstable.
    * ``data_scale`` 4 on the grid (G outputs ``4 * MLP(z)``, D sees ``x / 4``): both nets then
      work on values of order 1, as on the ring; at 3000 steps grid HQ went from 28% to 59%.
    * ring: batch 256 for 8000 steps (HQ 98.2%; batch 128 for 12000 steps, about the same CPU
      time, reached 97.2%: the mode width is learned from D's view of each batch, ~32 points per
      mode). grid: batch 128 for 16000 steps (HQ 95.8%; batch 256 for 10000 steps 94.5%, batch 64
      for 24000 steps 95.4%). The grid needs many steps: HQ was 91.5% after 8000.
    """
    if dataset not in DATASETS:
        raise UserError(f"unknown dataset {dataset!r}; known datasets: {', '.join(DATASETS)}")
    ring = dataset == "ring"
    return Recipe(
        loss="nonsaturating",
        penalty="r1",
        penalty_weight=0.05,
        architecture="mlp",
        g_width=128,
        g_depth=4,
        d_width=128,
        d_depth=4,
        latent_dim=2,
        batch_size=256 if ring else 128,
        steps=8000 if ring else 16000,
        g_lr=1e-3,
        d_lr=1e-3,
        beta1=0.5,
        beta2=0.99,
        lr_decay="cosine",
        n_critic=1,
        data_scale=1.0 if ring else 4.0,
    )


def pacgan_recipe(dataset: str) -> Recipe:
    """PacGAN's plain-GAN setting (their ``2DRing_GAN&PacGAN`` / ``2DGrid_GAN&PacGAN`` configs).

    G 4 x 400 ReLU + BatchNorm on ``z ~ N(0, I_2)``, D 3 x 200 maxout (5 pieces), weights
    ``N(0, 0.02^2)``; D's sigmoid cross-entropy and G's ``softplus(-D(G(z)))`` (non-saturating);
    Adam lr 1e-4, beta1 0.8 (beta2 0.999) for both; batch 100; 400 epochs of 100k points =
    400,000 steps. Differences: PacGAN updates D and G simultaneously from one graph, jaxgan
    alternates (D step, then G step); PacGAN trains on a fixed set of 100k points, jaxgan draws
    fresh ones every step.
    """
    if dataset not in DATASETS:
        raise UserError(f"unknown dataset {dataset!r}; known datasets: {', '.join(DATASETS)}")
    return Recipe(
        loss="nonsaturating",
        penalty="none",
        penalty_weight=0.0,
        architecture="pacgan",
        g_width=400,
        g_depth=4,
        d_width=200,
        d_depth=3,
        latent_dim=2,
        batch_size=100,
        steps=400_000,
        g_lr=1e-4,
        d_lr=1e-4,
        beta1=0.8,
        beta2=0.999,
        lr_decay="none",
        n_critic=1,
        data_scale=1.0,
    )


def sngan_recipe(dataset: str) -> Recipe:
    """SNGAN's changes (Miyato et al. 2018) to :func:`default_recipe`: hinge loss, spectral norm on D.

    ``hinge`` (D: ``relu(1 - D(x)) + relu(1 + D(G(z)))``, G: ``-D(G(z))``), every D kernel
    spectrally normalised instead of the R1 penalty, and Adam's betas (0, 0.9), those of SNGAN's
    hinge-loss runs. Everything else (networks, noise, batch, steps, learning rate and its cosine
    decay, one D step per G step) is the default recipe's, so that the run compares the two ways of
    constraining D on the same budget.

    Why betas (0, 0.9) (grid, 2 seeds, 3000 steps): with (0.5, 0.999), the paper's other setting,
    D stayed nearly constant (its scores on real and fake points within 0.01 of each other; the
    spectrally normalised 4-layer D starts with input gradients of norm ~0.004) and G collapsed
    (0.5 modes, 0.1% HQ; lr 2e-4 instead: 8 modes, 2% HQ); with (0, 0.9): 25 modes, 40% HQ.
    """
    return dataclasses.replace(
        default_recipe(dataset), loss="hinge", penalty="none", penalty_weight=0.0, spectral_norm=True,
        beta1=0.0, beta2=0.9,
    )


def recipe_of(recipe: str, dataset: str) -> Recipe:
    """The recipe called ``recipe`` (one of :data:`RECIPES`) for ``dataset``, before any override."""
    return {"default": default_recipe, "pacgan-gan": pacgan_recipe, "sngan": sngan_recipe}[recipe](dataset)


_RECIPE_FIELDS = tuple(f.name for f in dataclasses.fields(Recipe))


@dataclasses.dataclass(frozen=True)
class MixtureConfig:
    """What to run. Hyperparameters left at ``None`` come from the recipe."""

    dataset: str = "ring"
    recipe: str = "default"
    seeds: int = 10
    seed: int = 0
    eval_samples: int = 2500
    chunk_size: int = 500
    out: str = "runs/mixture_gan"
    plot: bool = True
    progress: bool = True
    checkpoint_every: int = 1000  # see experiments.runner.lifecycle
    keep_checkpoints: int = 3
    resume: bool = False
    log_every: int = 100  # metrics.jsonl (and TensorBoard's) every N steps: experiments.runner.metric_logging
    tensorboard: bool = False
    log_dir: Optional[str] = None  # TensorBoard's directory (default: out/tensorboard with --tensorboard)
    devices: Optional[int] = None  # seed-parallel: the runs are split over this many devices (None: all)
    sweep: Optional[str] = None  # a stability map: experiments.mixture_gan.sweep (seeds: per setting)
    # overrides of the recipe
    loss: Optional[str] = None
    penalty: Optional[str] = None
    penalty_weight: Optional[float] = None
    architecture: Optional[str] = None
    g_width: Optional[int] = None
    g_depth: Optional[int] = None
    d_width: Optional[int] = None
    d_depth: Optional[int] = None
    latent_dim: Optional[int] = None
    batch_size: Optional[int] = None
    steps: Optional[int] = None
    g_lr: Optional[float] = None
    d_lr: Optional[float] = None
    beta1: Optional[float] = None
    beta2: Optional[float] = None
    lr_decay: Optional[str] = None
    n_critic: Optional[int] = None
    data_scale: Optional[float] = None
    spectral_norm: Optional[bool] = None

    def resolved(self) -> Recipe:
        """The recipe with this config's overrides applied, validated."""
        if self.dataset not in DATASETS:
            raise UserError(f"unknown dataset {self.dataset!r}; known datasets: {', '.join(DATASETS)}")
        if self.recipe not in RECIPES:
            raise UserError(f"unknown recipe {self.recipe!r}; known recipes: {', '.join(RECIPES)}")
        base = recipe_of(self.recipe, self.dataset)
        overrides = {k: getattr(self, k) for k in _RECIPE_FIELDS if getattr(self, k) is not None}
        recipe = dataclasses.replace(base, **overrides)
        validate_recipe(recipe)
        return recipe

    def validate(self) -> Recipe:
        for name in ("seeds", "eval_samples", "chunk_size"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(self, name)}")
        return self.resolved()


def validate_recipe(recipe: Recipe) -> None:
    from jaxgan import losses

    if recipe.loss not in losses.objective_names():
        raise UserError(f"unknown loss {recipe.loss!r}; known losses: {', '.join(losses.objective_names())}")
    if recipe.loss == "softmax":
        raise UserError("--loss softmax needs a 2-logit D; the mixture Ds have one logit")
    penalties = ("none",) + tuple(losses.penalty_names())
    if recipe.penalty not in penalties:
        raise UserError(f"unknown penalty {recipe.penalty!r}; known penalties: {', '.join(penalties)}")
    if recipe.architecture not in ARCHITECTURES:
        raise UserError(f"unknown architecture {recipe.architecture!r}; known: {', '.join(ARCHITECTURES)}")
    if recipe.lr_decay not in LR_DECAYS:
        raise UserError(f"unknown --lr-decay {recipe.lr_decay!r}; known: {', '.join(LR_DECAYS)}")
    for name in ("g_width", "g_depth", "d_width", "d_depth", "latent_dim", "batch_size", "steps", "n_critic"):
        if getattr(recipe, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(recipe, name)}")
    for name in ("g_lr", "d_lr"):
        if not getattr(recipe, name) > 0:
            raise UserError(f"--{name.replace('_', '-')} must be positive, got {getattr(recipe, name)}")
    for name in ("beta1", "beta2"):
        if not 0 <= getattr(recipe, name) < 1:
            raise UserError(f"--{name} must be in [0, 1), got {getattr(recipe, name)}")
    if not recipe.data_scale > 0:
        raise UserError(f"--data-scale must be positive, got {recipe.data_scale}")
    if recipe.architecture == "pacgan" and recipe.data_scale != 1.0:
        raise UserError("--data-scale applies to the mlp architecture only (PacGAN's nets work in data units)")
    if recipe.penalty_weight < 0:
        raise UserError(f"--penalty-weight must be >= 0, got {recipe.penalty_weight}")


def parse_args(argv=None, *, split_cpu: bool = False) -> MixtureConfig:
    """The config of a command line. ``split_cpu`` (the program's entry point): split the host CPU
    into ``--cpu-devices`` JAX devices before JAX starts (see :func:`experiments.runner.split_host_cpu`)."""
    p = Parser(prog=PROG, description=DESCRIPTION)
    d = MixtureConfig()
    p.add_argument("--dataset", choices=DATASETS, default=d.dataset)
    p.add_argument("--recipe", choices=RECIPES, default=d.recipe, help="defaults of every hyperparameter below")
    p.add_argument("--seeds", type=positive_int, default=None,
                   help=f"independent runs trained at once (vmap); with --sweep, per setting (default {d.seeds}; "
                   "with --sweep, 1)")
    p.add_argument("--seed", type=nonnegative_int, default=d.seed, help="base seed; run r uses fold_in(seed, r)")
    p.add_argument("--eval-samples", type=positive_int, default=d.eval_samples, help="samples scored per run")
    p.add_argument("--chunk-size", type=positive_int, default=d.chunk_size, help="iterations per compiled scan chunk")
    p.add_argument("--out", default=d.out, help="output directory")
    p.add_argument("--no-plot", dest="plot", action="store_false")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.add_argument(
        "--sweep",
        metavar="NAME=V1,V2,...[:NAME=V1,...]",
        help="a stability map: train every combination of the values in one program and draw heatmaps of "
        "modes covered and HQ %% (sweep.png); names: lr (both players), g-lr, d-lr, penalty-weight, beta1, "
        "beta2; e.g. lr=1e-4,1e-3,1e-2:penalty-weight=0,0.05,0.5 (see experiments.mixture_gan.sweep)",
    )
    h = p.add_argument_group("recipe overrides (default: the recipe's value)")
    h.add_argument("--loss", help="objective name from jaxgan.losses (e.g. nonsaturating, hinge)")
    h.add_argument("--penalty", help="D penalty: none, r1, r2, gp, dragan")
    h.add_argument("--penalty-weight", type=float, help="weight of the penalty (R1: gamma / 2)")
    h.add_argument("--architecture", choices=ARCHITECTURES)
    h.add_argument("--g-width", type=positive_int)
    h.add_argument("--g-depth", type=positive_int)
    h.add_argument("--d-width", type=positive_int)
    h.add_argument("--d-depth", type=positive_int)
    h.add_argument("--latent-dim", type=positive_int)
    h.add_argument("--batch-size", type=positive_int)
    h.add_argument("--steps", type=positive_int, help="training iterations (n-critic D steps + 1 G step)")
    h.add_argument("--g-lr", type=positive_float)
    h.add_argument("--d-lr", type=positive_float)
    h.add_argument("--beta1", type=float)
    h.add_argument("--beta2", type=float)
    h.add_argument("--lr-decay", choices=LR_DECAYS)
    h.add_argument("--n-critic", type=positive_int)
    h.add_argument("--data-scale", type=positive_float, help="G outputs scale * MLP(z), D sees x / scale")
    h.add_argument("--spectral-norm", action="store_const", const=True, help="spectrally normalise D's kernels")
    add_logging_args(p, log_every=d.log_every)
    add_lifecycle_args(p, checkpoint_every=d.checkpoint_every, keep_checkpoints=d.keep_checkpoints)
    add_device_args(p)
    p.add_argument(
        "--cpu-devices",
        type=nonnegative_int,
        default=None,
        help="on a CPU: split it into this many JAX devices to train the seeds side by side "
        "(default: the largest divisor of --seeds not above the number of cores; 0: leave JAX's default)",
    )
    args = p.parse_args(argv)
    cpu_devices = args.cpu_devices
    del args.cpu_devices
    if args.seeds is None:
        args.seeds = 1 if args.sweep is not None else d.seeds
    runs, runs_flag = args.seeds, "--seeds"
    if args.sweep is not None:  # every setting trains --seeds runs
        from experiments.mixture_gan.sweep_spec import cell_settings, parse_sweep

        runs = len(cell_settings(parse_sweep(args.sweep))) * args.seeds
        runs_flag = "the sweep's settings x --seeds ="
    if split_cpu or cpu_devices is not None:
        split_host_cpu(auto_cpu_devices(runs, usable_cores()) if cpu_devices is None else cpu_devices)
    setup_devices(args, global_batch=runs, batch_flag=runs_flag)  # starts jax.distributed if asked
    say(recipe_line(args.recipe, args.dataset, {k for k in _RECIPE_FIELDS if getattr(args, k) is not None}))
    return MixtureConfig(**vars(args))


def recipe_line(recipe: str, dataset: str, given) -> Optional[str]:
    """The line a run starts with: every value of the recipe it takes, and which flags replaced some
    (``given``: the recipe fields the command line set); ``None`` for an unknown recipe or data set."""
    if recipe not in RECIPES or dataset not in DATASETS:
        return None
    values = {k: v for k, v in dataclasses.asdict(recipe_of(recipe, dataset)).items() if v is not False}
    return preset_line(f"recipe {recipe} for {dataset}", values, given)
