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
over a 1-d mesh of N devices (:func:`jaxgan.parallel.sharding.shard_runs`), each device training
``seeds / N`` runs with no communication; ``--seeds`` must be a multiple of N. Samples and metrics
are gathered to the host; with several processes (``jax.distributed``) only process 0 prints and
writes. ``--devices`` is not part of the run's identity: a run may resume on another device count.

On a CPU, ``python -m experiments.mixture_gan`` first splits the host into ``--cpu-devices`` JAX
devices (default: the largest divisor of ``--seeds`` not above the number of cores), so the seeds
train as that many programs side by side: XLA:CPU runs each device's program on its own thread,
and one program of small per-seed matrices keeps two cores busy only ~75% of the time (measured:
10 ring seeds, 1000 steps, train 43.4 s on one device, 26.4 s on two). See :func:`experiments.devices.split_host_cpu`.

This file holds the networks a recipe builds, the seed-parallel training and evaluation
(:func:`train`, :func:`train_and_evaluate`) and the command line. The recipes and the config are in
:mod:`experiments.mixture_recipes`; the published rows, the goals, the figure and the printed table
in :mod:`experiments.mixture_report`. Both are re-exported here.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from experiments.runner import (
    Parser,
    device_description,
    nonnegative_int,
    positive_float,
    positive_int,
    print_results,
    write_json,
)
from experiments.runner import (
    add_device_args,
    auto_cpu_devices,
    check_splits_evenly,
    setup_devices,
    split_host_cpu,
    usable_cores,
)
from experiments.runner import TrainingLifecycle, add_lifecycle_args, config_defaults, config_identity
from experiments.runner import run_main as run_lifecycle_main
from experiments.mixture_recipes import (  # noqa: F401 - re-exported
    ARCHITECTURES,
    DATASETS,
    LR_DECAYS,
    RECIPES,
    MixtureConfig,
    Recipe,
    default_recipe,
    pacgan_recipe,
    validate_recipe,
)
from experiments.mixture_report import GOALS, PUBLISHED, format_report, plot_samples  # noqa: F401

PROG = "python -m experiments.mixture_gan"


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

    The states are stacked on a leading run axis; :func:`jaxgan.parallel.sharding.shard_runs` splits that
    axis over a mesh of ``config.devices`` devices (all by default), the mixture's means (the data
    every run shares) are replicated, and ``fit(vmapped=True)`` runs unchanged: each device trains
    its ``seeds / devices`` runs. Run ``r`` computes the same function on any device count; only
    float rounding differs (the compiled programs differ), which thousands of GAN steps amplify.
    """
    import jax
    import jax.numpy as jnp

    import jaxgan
    from jaxgan.parallel import sharding
    from jaxgan.data.mixtures import get_mixture, mixture_batches
    from jaxgan.parallel.hosts import is_main_process

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
    from jaxgan.parallel import sharding
    from jaxgan.parallel.hosts import is_main_process

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
    out = Path(config.out)
    files = [out / "results.json", out / "samples.npy"] + ([out / "samples.png"] if config.plot else [])
    return print_results(results, format_report, files, t0)


if __name__ == "__main__":
    raise SystemExit(run_lifecycle_main(PROG, lambda argv: main(argv, split_cpu=True)))
