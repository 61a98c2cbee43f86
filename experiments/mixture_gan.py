"""The mode-collapse benchmark: a GAN on the ring of 8 or the grid of 25 Gaussians, many seeds at once.

    python -m experiments.mixture_gan --dataset ring              # 10 seeds, jaxgan's default recipe
    python -m experiments.mixture_gan --dataset grid --seeds 5
    python -m experiments.mixture_gan --dataset ring --recipe pacgan-gan --steps 20000

All seeds train in one compiled program (``vmap`` of the train step inside ``lax.scan``); every step
draws a fresh real batch from the mixture inside that program, so there is no data set. Each trained
G then draws 2500 samples, scored as VEEGAN and PacGAN do (:mod:`jaxgan.metrics.mixtures`): modes
covered, percentage of high-quality samples (within 3 std of the nearest mean) and the reverse KL
of the HQ histogram against uniform. The table prints mean +- standard error over seeds beside the
published rows. Outputs: ``<out>/results.json``, ``<out>/samples.npy`` ``(seeds, 2500, 2)``,
``<out>/samples.png``.

Recipes (see :func:`default_recipe` and :func:`pacgan_recipe` for the why):

* ``default``: non-saturating loss with an R1 penalty on D, 4 x 128 ReLU MLP G on 2-d noise,
  4 x 128 leaky-ReLU MLP D, Adam(1e-3, beta1 0.5, beta2 0.99) cosine-decayed to 1e-5; ring:
  batch 256, 8000 steps; grid: batch 128, 16000 steps, nets in units of 4 (``--data-scale``).
* ``pacgan-gan``: PacGAN's plain-GAN row: G 4 x 400 ReLU + BatchNorm on 2-d noise, D a 3 x 200
  maxout MLP (5 pieces), sigmoid cross-entropy (non-saturating G), Adam lr 1e-4 beta1 0.8, batch
  100, 400 epochs of 100k points (400,000 steps; use ``--steps`` for less).

Every hyperparameter flag (``--loss``, ``--steps``, ``--batch-size``, ...) overrides the recipe's.

Seed-parallel (``--devices N``, default: every device): the run axis of the stacked states is split
over a 1-d mesh of N devices (:func:`jaxgan.sharding.shard_runs`), each device training
``seeds / N`` runs with no communication; ``--seeds`` must be a multiple of N. Samples and metrics
are gathered to the host; with several processes (``jax.distributed``) only process 0 prints and
writes. ``--devices`` is not part of the run's identity: a run may resume on another device count.

On a CPU, ``python -m experiments.mixture_gan`` first splits the host into ``--cpu-devices`` JAX
devices (default: the largest divisor of ``--seeds`` not above the number of cores), so the seeds
train as that many programs side by side: XLA:CPU runs each device's program on its own thread,
and one program of small per-seed matrices keeps two cores busy only ~75% of the time (measured:
10 ring seeds, 1000 steps, train 43.4 s on one device, 26.4 s on two). See :func:`experiments.devices.split_host_cpu`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any, NamedTuple, Optional

import numpy as np

from experiments.common import (
    Parser,
    UserError,
    device_description,
    nonnegative_int,
    positive_float,
    positive_int,
    run_main,
    use_headless_matplotlib,
    write_json,
)
from experiments.devices import (
    add_device_args,
    auto_cpu_devices,
    check_splits_evenly,
    setup_devices,
    split_host_cpu,
    usable_cores,
)
from experiments.lifecycle import TrainingLifecycle, add_lifecycle_args, config_defaults, config_identity
from experiments.lifecycle import run_main as run_lifecycle_main

PROG = "python -m experiments.mixture_gan"

DATASETS = ("ring", "grid")
RECIPES = ("default", "pacgan-gan")
LR_DECAYS = ("none", "cosine")
ARCHITECTURES = ("mlp", "pacgan")

#: Published rows (references.md section 2): (method, runs, modes, modes s.e., HQ %, reverse KL).
PUBLISHED = {
    "ring": [
        ("GAN (VEEGAN's table)", 5, 1.0, None, 99.3, None),
        ("Unrolled GAN (VEEGAN's table)", 5, 7.6, None, 35.6, None),
        ("VEEGAN", 5, 8.0, None, 52.9, None),
        ("GAN (PacGAN's table)", 10, 6.3, 0.5, 98.2, 0.45),
        ("PacGAN2", 10, 7.9, 0.1, 95.6, 0.07),
        ("PacGAN4", 10, 7.8, 0.1, 95.9, 0.07),
    ],
    "grid": [
        ("GAN (VEEGAN's table)", 5, 3.3, None, 0.5, None),
        ("Unrolled GAN (VEEGAN's table)", 5, 23.6, None, 16.0, None),
        ("VEEGAN", 5, 24.6, None, 40.0, None),
        ("GAN (PacGAN's table)", 10, 17.3, 0.8, 94.8, 0.70),
        ("PacGAN2", 10, 23.8, 0.7, 91.3, 0.13),
        ("PacGAN4", 10, 24.8, 0.2, 93.6, 0.04),
    ],
}

#: The issue's goals for the default recipe over 10 seeds: (modes on every seed, HQ % >=, rev-KL <=).
GOALS = {"ring": (8, 97.0, 0.02), "grid": (25, 95.0, 0.03)}


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Every hyperparameter of a training recipe.

    ``architecture`` "mlp": G = ``data_scale * MLP((g_width,) * g_depth, 2)(z)`` with ReLU, D =
    ``MLP((d_width,) * d_depth, 1)(x / data_scale)`` with leaky ReLU (:class:`ScaledMLP`);
    "pacgan": G = ``BatchNormMLP``, D = ``MaxoutMLP`` (:mod:`jaxgan.models.mixture`). ``penalty``
    is a :func:`jaxgan.losses.make_penalty` name or "none"; ``penalty_weight`` multiplies it
    (R1: ``gamma / 2``). ``lr_decay`` "cosine" anneals both learning rates from their value to 1%
    of it over the run (D's over its ``steps * n_critic`` updates).
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


def default_recipe(dataset: str) -> Recipe:
    """jaxgan's recipe, tuned with short 3-seed runs to meet the goals within 5 CPU minutes.

    Why each choice (3 seeds each; the numbers are in docs/benchmarks.md, section "mixture"):

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
    checkpoint_every: int = 1000  # see experiments/lifecycle.py
    keep_checkpoints: int = 3
    resume: bool = False
    devices: Optional[int] = None  # seed-parallel: the runs are split over this many devices (None: all)
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

    def resolved(self) -> Recipe:
        """The recipe with this config's overrides applied, validated."""
        if self.dataset not in DATASETS:
            raise UserError(f"unknown dataset {self.dataset!r}; known datasets: {', '.join(DATASETS)}")
        if self.recipe not in RECIPES:
            raise UserError(f"unknown recipe {self.recipe!r}; known recipes: {', '.join(RECIPES)}")
        base = default_recipe(self.dataset) if self.recipe == "default" else pacgan_recipe(self.dataset)
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


# ------------------------------------------------------------------------------------------ model


def make_optimizer(lr: float, recipe: Recipe, updates: int):
    """Adam(lr, beta1, beta2), lr cosine-decayed to ``lr / 100`` over ``updates`` if asked."""
    import optax

    schedule = optax.cosine_decay_schedule(lr, updates, alpha=0.01) if recipe.lr_decay == "cosine" else lr
    return optax.adam(schedule, b1=recipe.beta1, b2=recipe.beta2)


def build_networks(recipe: Recipe):
    import jaxgan
    from jaxgan.models.mixture import BatchNormMLP, MaxoutMLP, ScaledMLP

    if recipe.architecture == "pacgan":
        g = BatchNormMLP(width=recipe.g_width, depth=recipe.g_depth, out=2)
        d = MaxoutMLP(width=recipe.d_width, depth=recipe.d_depth, out=1)
    else:
        scale = recipe.data_scale
        g = ScaledMLP((recipe.g_width,) * recipe.g_depth, out=2, activation="relu", output_scale=scale)
        d = ScaledMLP((recipe.d_width,) * recipe.d_depth, out=1, activation="leaky_relu", input_scale=scale)
    return jaxgan.from_linen(g), jaxgan.from_linen(d)


def build_gan(recipe: Recipe):
    """The :class:`jaxgan.GAN` of a recipe."""
    import jaxgan
    from jaxgan import losses

    generator, discriminator = build_networks(recipe)
    penalty = None
    if recipe.penalty != "none" and recipe.penalty_weight > 0:
        penalty = losses.make_penalty(recipe.penalty, recipe.penalty_weight)
    return jaxgan.GAN(
        generator=generator,
        discriminator=discriminator,
        g_optimizer=make_optimizer(recipe.g_lr, recipe, recipe.steps),
        d_optimizer=make_optimizer(recipe.d_lr, recipe, recipe.steps * recipe.n_critic),
        latent_shape=(recipe.latent_dim,),
        objective=recipe.loss,
        n_critic=recipe.n_critic,
        d_penalty=penalty,
    )


def run_keys(seed: int, runs: int):
    """One key per run: ``fold_in(PRNGKey(seed), r)``; run r's init and evaluation derive from it."""
    import jax
    import jax.numpy as jnp

    return jax.vmap(lambda r: jax.random.fold_in(jax.random.PRNGKey(seed), r))(jnp.arange(runs))


def make_evaluator(gan, mixture, n: int):
    """``evaluate(states, keys) -> (samples [runs, n, 2], metrics)``: G in evaluation mode, vmapped."""
    import jax
    import jax.numpy as jnp

    from jaxgan.metrics.mixtures import mixture_metrics

    means = jnp.asarray(mixture.means)

    def one(state, key):
        z = jax.random.normal(jax.random.fold_in(key, 2), (n, *gan.latent_shape), jnp.float32)
        x, _ = gan.generator.apply(state.g.params, state.g.stats, z, False)
        return x, mixture_metrics(x, means, mixture.std)

    return jax.jit(jax.vmap(one))


# -------------------------------------------------------------------------------------- the run


def summarize(values) -> tuple[float, float, float]:
    """``(mean, std, standard error)`` over runs (sample std, ``ddof=1``; 0 for one run)."""
    v = np.asarray(values, np.float64)
    std = float(v.std(ddof=1)) if v.size > 1 else 0.0
    return float(v.mean()), std, std / math.sqrt(v.size)


def run_identity(config: MixtureConfig, recipe: Recipe) -> dict:
    """What a checkpoint must match to be resumed: the config without its runtime fields and
    without ``devices`` (the device count changes float rounding only), plus the resolved recipe;
    the recipe's ``steps`` only when a learning-rate decay spans the run."""
    identity = {**config_identity(config, exclude=("devices",)), "recipe": dataclasses.asdict(recipe)}
    if recipe.lr_decay == "none":
        del identity["recipe"]["steps"]
    return identity


class Trained(NamedTuple):
    """What :func:`train` leaves: the fit result (states ``[seeds, ...]``, split over ``mesh``), the
    run keys (split the same way), the GAN, the mixture, the mesh and the lifecycle."""

    result: Any
    keys: Any
    gan: Any
    mixture: Any
    mesh: Any
    lifecycle: TrainingLifecycle


def train(config: MixtureConfig, recipe: Recipe) -> Trained:
    """Trains ``config.seeds`` runs of ``recipe`` in one program, seed-parallel over ``config.devices``.

    The states are stacked on a leading run axis; :func:`jaxgan.sharding.shard_runs` splits that
    axis over a mesh of ``config.devices`` devices (all by default), the mixture's means (the data
    every run shares) are replicated, and ``fit(vmapped=True)`` runs unchanged: each device trains
    its ``seeds / devices`` runs. Run ``r`` computes the same function on any device count; only
    float rounding differs (the compiled programs differ), which thousands of GAN steps amplify.
    """
    import jax
    import jax.numpy as jnp

    import jaxgan
    from jaxgan import sharding
    from jaxgan.data.mixtures import get_mixture, mixture_batches
    from jaxgan.distributed import is_main_process

    mixture = get_mixture(config.dataset)
    gan = build_gan(recipe)
    mesh = sharding.make_mesh(config.devices)
    check_splits_evenly(config.seeds, sharding.mesh_size(mesh), "--seeds")
    keys = run_keys(config.seed, config.seeds)
    states = jaxgan.init_states(lambda k: jaxgan.init_state(gan, jax.random.fold_in(k, 1)), keys)
    keys, states = sharding.shard_runs((keys, states), mesh)
    means = sharding.replicate(jnp.asarray(mixture.means), mesh)
    train_step = jaxgan.build_train_step(gan, mixture_batches(recipe.batch_size, mixture.std))
    # checkpoints, --resume, SIGINT/SIGTERM, divergence guard (experiments/lifecycle.py)
    lifecycle = TrainingLifecycle(
        config.out,
        prog=PROG,
        checkpoint_every=config.checkpoint_every,
        resume=config.resume,
        keep=config.keep_checkpoints,
        config=run_identity(config, recipe),
        config_defaults=config_defaults(config),
        module="experiments.mixture_gan",
    )
    result = lifecycle.fit(
        train_step,
        states,
        means,
        recipe.steps,
        chunk_size=config.chunk_size,
        vmapped=True,
        progress=config.progress and is_main_process(),
        desc=f"{config.dataset} x{config.seeds}",
    )
    return Trained(result, keys, gan, mixture, mesh, lifecycle)


def train_and_evaluate(config: MixtureConfig) -> dict:
    """Trains ``config.seeds`` runs in one program, evaluates them, writes the outputs, returns results.

    Every process returns the results; only process 0 writes the files.
    """
    recipe = config.validate()
    t_start = time.perf_counter()
    from jaxgan import sharding
    from jaxgan.distributed import is_main_process

    trained = train(config, recipe)
    result, mixture, lifecycle = trained.result, trained.mixture, trained.lifecycle
    evaluate = make_evaluator(trained.gan, mixture, config.eval_samples)
    samples, metrics = sharding.gather(evaluate(result.state, trained.keys))  # all runs, on the host
    total_seconds = time.perf_counter() - t_start

    per_seed = [
        {
            "seed": r,
            "modes": int(metrics["modes"][r]),
            "hq_percent": float(metrics["hq_percent"][r]),
            "reverse_kl": float(metrics["reverse_kl"][r]),
            "counts": np.asarray(metrics["counts"][r]).tolist(),
        }
        for r in range(config.seeds)
    ]
    results = {
        "dataset": config.dataset,
        "recipe_name": config.recipe,
        "recipe": dataclasses.asdict(recipe),
        "seeds": config.seeds,
        "seed": config.seed,
        "steps": lifecycle.start_step + result.steps_done,
        "batch_size": recipe.batch_size,
        "eval_samples": config.eval_samples,
        "num_modes": int(len(mixture.means)),
        "mode_std": mixture.std,
        "per_seed": per_seed,
        "compile_seconds": result.compile_seconds,
        "train_seconds": result.train_seconds,
        "total_seconds": total_seconds,
        "device": device_description(),
        "devices": sharding.mesh_size(trained.mesh),
    }
    for name in ("modes", "hq_percent", "reverse_kl"):
        mean, std, sem = summarize([s[name] for s in per_seed])
        results[f"{name}_mean"], results[f"{name}_std"], results[f"{name}_sem"] = mean, std, sem
    results["modes_min"] = min(s["modes"] for s in per_seed)
    modes_goal, hq_goal, kl_goal = GOALS[config.dataset]
    results["goals"] = {"modes_every_seed": modes_goal, "hq_percent_mean": hq_goal, "reverse_kl_mean": kl_goal}
    results["goals_met"] = bool(
        results["modes_min"] >= modes_goal
        and results["hq_percent_mean"] >= hq_goal
        and results["reverse_kl_mean"] <= kl_goal
    )

    if not is_main_process():  # multi-host: process 0 writes the files
        return results
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "samples.npy", samples)
    write_json(out / "results.json", results)
    if config.plot:
        plot_samples(out / "samples.png", samples, mixture, per_seed, title=f"{config.dataset}, {config.recipe} recipe")
    return results


def plot_samples(path: Path, samples, mixture, per_seed, *, title: str = "") -> None:
    """One panel per seed: its generated samples (black) over each mode's 3-std disc (red)."""
    plt = use_headless_matplotlib()
    runs = samples.shape[0]
    cols = min(5, runs)
    rows = math.ceil(runs / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.6 * rows + 0.4), squeeze=False)
    reach = float(np.abs(mixture.means).max()) * 1.5
    for r, ax in enumerate(axes.ravel()):
        if r >= runs:
            ax.axis("off")
            continue
        for m in mixture.means:  # the high-quality disc of each mode, under the samples
            ax.add_patch(plt.Circle(m, 3 * mixture.std, color="red", alpha=0.35, linewidth=0, zorder=1))
        ax.scatter(samples[r, :, 0], samples[r, :, 1], s=1.5, c="black", alpha=0.5, linewidths=0, zorder=2)
        s = per_seed[r]
        ax.set_title(f"seed {r}: {s['modes']} modes, {s['hq_percent']:.1f}% HQ", fontsize=8)
        ax.set_xlim(-reach, reach)
        ax.set_ylim(-reach, reach)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=6)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def format_report(results: dict) -> str:
    """The published table's rows, then this run's (mean +- standard error over seeds), then the goal."""

    def pm(mean, sem, digits):
        if mean is None:
            return "-"
        if sem is None:
            return f"{mean:.{digits}f}"
        return f"{mean:.{digits}f} +- {sem:.{digits}f}"

    name = {"ring": "ring of 8 Gaussians (std 0.01)", "grid": "grid of 25 Gaussians (std 0.05)"}[results["dataset"]]
    lines = [
        f"{name}, {results['eval_samples']} samples per run; mean +- standard error over runs",
        f"{'method':<34} {'runs':>4}  {'modes':<14} {'HQ %':<14} {'reverse KL':<16}",
    ]
    for method, runs, modes, modes_se, hq, kl in PUBLISHED[results["dataset"]]:
        lines.append(f"{method:<34} {runs:>4}  {pm(modes, modes_se, 1):<14} {pm(hq, None, 1):<14} {pm(kl, None, 2):<16}")
    label = f"jaxgan {results['recipe_name']}, {results['steps']} steps"
    lines.append(
        f"{label:<34} {results['seeds']:>4}  {pm(results['modes_mean'], results['modes_sem'], 1):<14} "
        f"{pm(results['hq_percent_mean'], results['hq_percent_sem'], 1):<14} "
        f"{pm(results['reverse_kl_mean'], results['reverse_kl_sem'], 3):<16}"
    )
    g = results["goals"]
    lines.append(
        f"{'goal (default recipe)':<34} {'':>4}  {str(g['modes_every_seed']) + ' every run':<14} "
        f"{'>= ' + str(g['hq_percent_mean']):<14} {'<= ' + str(g['reverse_kl_mean']):<16}"
    )
    per = results["per_seed"]
    lines.append("per seed modes: " + " ".join(str(s["modes"]) for s in per))
    lines.append("per seed HQ %:  " + " ".join(f"{s['hq_percent']:.1f}" for s in per))
    lines.append("per seed revKL: " + " ".join(f"{s['reverse_kl']:.3f}" for s in per))
    lines.append(
        f"goals {'met' if results['goals_met'] else 'NOT met'}; {results['steps']} steps x {results['seeds']} seeds: "
        f"compile {results['compile_seconds']:.1f} s, train {results['train_seconds']:.1f} s, "
        f"{results['total_seconds']:.1f} s in all on {results['device']}"
    )
    return "\n".join(lines)


def parse_args(argv=None, *, split_cpu: bool = False) -> MixtureConfig:
    """The config of a command line. ``split_cpu`` (the program's entry point): split the host CPU
    into ``--cpu-devices`` JAX devices before JAX starts (see :func:`experiments.devices.split_host_cpu`)."""
    p = Parser(prog="python -m experiments.mixture_gan", description=__doc__.split("\n\n")[0])
    d = MixtureConfig()
    p.add_argument("--dataset", choices=DATASETS, default=d.dataset)
    p.add_argument("--recipe", choices=RECIPES, default=d.recipe, help="defaults of every hyperparameter below")
    p.add_argument("--seeds", type=positive_int, default=d.seeds, help="independent runs trained at once (vmap)")
    p.add_argument("--seed", type=nonnegative_int, default=d.seed, help="base seed; run r uses fold_in(seed, r)")
    p.add_argument("--eval-samples", type=positive_int, default=d.eval_samples, help="samples scored per run")
    p.add_argument("--chunk-size", type=positive_int, default=d.chunk_size, help="iterations per compiled scan chunk")
    p.add_argument("--out", default=d.out, help="output directory")
    p.add_argument("--no-plot", dest="plot", action="store_false")
    p.add_argument("--no-progress", dest="progress", action="store_false")
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
    if split_cpu or cpu_devices is not None:
        split_host_cpu(auto_cpu_devices(args.seeds, usable_cores()) if cpu_devices is None else cpu_devices)
    setup_devices(args, global_batch=args.seeds, batch_flag="--seeds")  # starts jax.distributed if asked
    return MixtureConfig(**vars(args))


def main(argv=None, *, split_cpu: bool = False) -> int:
    t0 = time.perf_counter()
    config = parse_args(argv, split_cpu=split_cpu)
    results = train_and_evaluate(config)
    from jaxgan.distributed import is_main_process

    if not is_main_process():
        return 0
    print(format_report(results))
    out = Path(config.out)
    files = [out / "results.json", out / "samples.npy"] + ([out / "samples.png"] if config.plot else [])
    print(f"wrote {', '.join(map(str, files))} ({time.perf_counter() - t0:.1f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_lifecycle_main(PROG, lambda argv: main(argv, split_cpu=True)))
