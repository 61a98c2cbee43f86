"""Trains the mode-collapse benchmark's GANs, many seeds in one program, and scores their samples.

All seeds train in one compiled program (``vmap`` of the train step inside ``lax.scan``); every step
draws a fresh real batch from the mixture inside that program, so there is no data set. Each trained
G then draws ``--eval-samples`` samples, scored as VEEGAN and PacGAN do (:mod:`jaxgan.metrics.mixtures`):
modes covered, percentage of high-quality samples (within 3 std of the nearest mean) and the reverse
KL of the HQ histogram against uniform; and precision, recall, density and coverage against as many
fresh points of the mixture (:mod:`jaxgan.metrics.manifolds`).

Seed-parallel (``--devices N``, default: every device): the run axis of the stacked states is split
over a 1-d mesh of N devices (:func:`jaxgan.parallel.sharding.shard_runs`), each device training
``seeds / N`` runs with no communication. Samples and metrics are gathered to the host; with several
processes (``jax.distributed``) only process 0 writes.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from experiments.mixture_gan.config import PROG, MixtureConfig, Recipe
from experiments.mixture_gan.report import GOALS, plot_samples
from experiments.runner import (
    MANIFOLD_FIELDS,
    RunLog,
    TrainingLifecycle,
    check_out_dir,
    check_splits_evenly,
    config_defaults,
    config_identity,
    device_description,
    host_description,
    write_json,
)

__all__ = [
    "Trained",
    "build_gan",
    "build_networks",
    "learning_rate",
    "make_evaluator",
    "make_optimizer",
    "run_identity",
    "run_keys",
    "summarize",
    "train",
    "train_and_evaluate",
]


# ------------------------------------------------------------------------------------------ model


def learning_rate(lr: float, recipe: Recipe, updates: int):
    """``lr``, or with ``lr_decay="cosine"`` its cosine decay to ``lr / 100`` over ``updates`` (an optax schedule)."""
    import optax

    return optax.cosine_decay_schedule(lr, updates, alpha=0.01) if recipe.lr_decay == "cosine" else lr


def make_optimizer(lr: float, recipe: Recipe, updates: int):
    """Adam(lr, beta1, beta2) on :func:`learning_rate`."""
    import optax

    return optax.adam(learning_rate(lr, recipe, updates), b1=recipe.beta1, b2=recipe.beta2)


def build_networks(recipe: Recipe):
    """``(G, D)`` of a recipe as :class:`jaxgan.Network`s: scaled MLPs, or PacGAN's BatchNorm / maxout MLPs."""
    import jaxgan
    from jaxgan.models.mixture import BatchNormMLP, MaxoutMLP, ScaledMLP

    if recipe.architecture == "pacgan":
        g = BatchNormMLP(width=recipe.g_width, depth=recipe.g_depth, out=2)
        d = MaxoutMLP(width=recipe.d_width, depth=recipe.d_depth, out=1, spectral_norm=recipe.spectral_norm)
    else:
        import jax
        from jax import lax

        from jaxgan.speedups.small_dense import dense_product

        # The networks' one speed choice, as the toy GAN's: on CPU, the dense product whose small
        # kernel gradients (the R1 penalty's per-example ones) XLA:CPU runs faster; the same function.
        dot = dense_product if jax.default_backend() == "cpu" else lax.dot_general
        scale = recipe.data_scale
        g = ScaledMLP((recipe.g_width,) * recipe.g_depth, out=2, activation="relu", output_scale=scale, dot_general=dot)
        d = ScaledMLP((recipe.d_width,) * recipe.d_depth, out=1, activation="leaky_relu", input_scale=scale,
                      dot_general=dot, spectral_norm=recipe.spectral_norm)
    return jaxgan.from_linen(g), jaxgan.from_linen(d)


def build_gan(recipe: Recipe):
    """The :class:`jaxgan.GAN` of a recipe (its learning rates, betas and penalty weight may be traced arrays)."""
    import jaxgan
    from jaxgan import losses

    generator, discriminator = build_networks(recipe)
    penalty = None
    # A traced weight (a sweep's cell: experiments.mixture_gan.sweep) keeps the penalty even where it is 0.
    weight = recipe.penalty_weight
    if recipe.penalty != "none" and not (isinstance(weight, (int, float)) and weight == 0):
        penalty = losses.make_penalty(recipe.penalty, weight)
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
    """``evaluate(states, keys) -> (samples [runs, n, 2], metrics)``: G in evaluation mode, vmapped.

    Beside the mixture metrics, precision, recall, density and coverage (k = 3) of the samples
    against ``n`` fresh points of the mixture (one draw per run, from its key).
    """
    import jax
    import jax.numpy as jnp

    from jaxgan.data.mixtures import sample_mixture
    from jaxgan.metrics.manifolds import precision_recall_density_coverage
    from jaxgan.metrics.mixtures import mixture_metrics

    means = jnp.asarray(mixture.means)

    def one(state, key):
        z = jax.random.normal(jax.random.fold_in(key, 2), (n, *gan.latent_shape), jnp.float32)
        x, _ = gan.generator.apply(state.g.params, state.g.stats, z, False)
        real = sample_mixture(jax.random.fold_in(key, 3), means, mixture.std, n)
        manifold = precision_recall_density_coverage(real, x)
        return x, {**mixture_metrics(x, means, mixture.std), **{MANIFOLD_FIELDS[k]: v for k, v in manifold.items()}}

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


def learning_rates(recipe: Recipe) -> dict:
    """``name -> rate(step)`` of both players' step sizes, for the run's log."""
    from jaxgan.metric_writers import learning_rate_of

    g = learning_rate_of(learning_rate(recipe.g_lr, recipe, recipe.steps))
    d = learning_rate_of(learning_rate(recipe.d_lr, recipe, recipe.steps * recipe.n_critic), recipe.n_critic)
    return {"g_lr": g, "d_lr": d}


def train(config: MixtureConfig, recipe: Recipe) -> Trained:
    """Trains ``config.seeds`` runs of ``recipe`` in one program, seed-parallel over ``config.devices``.

    The states are stacked on a leading run axis; :func:`jaxgan.parallel.sharding.shard_runs` splits that
    axis over a mesh of ``config.devices`` devices (all by default), the mixture's means (the data
    every run shares) are replicated, and ``fit(vmapped=True)`` runs unchanged: each device trains
    its ``seeds / devices`` runs. Run ``r`` computes the same function on any device count; only
    float rounding differs (the compiled programs differ), which thousands of GAN steps amplify.
    Every chunk's metrics (means over the runs) go to the run's log (:class:`experiments.runner.RunLog`).
    """
    import jax
    import jax.numpy as jnp

    import jaxgan
    from jaxgan.parallel import sharding
    from jaxgan.data.mixtures import get_mixture, mixture_batches
    from jaxgan.parallel.hosts import is_main_process

    log = RunLog.from_config(config)  # metrics.jsonl, TensorBoard with --tensorboard (experiments.runner.metric_logging)
    log.announce()
    mixture = get_mixture(config.dataset)
    gan = build_gan(recipe)
    mesh = sharding.make_mesh(config.devices)
    check_splits_evenly(config.seeds, sharding.mesh_size(mesh), "--seeds")
    keys = run_keys(config.seed, config.seeds)
    states = jaxgan.init_states(lambda k: jaxgan.init_state(gan, jax.random.fold_in(k, 1)), keys)
    keys, states = sharding.shard_runs((keys, states), mesh)
    means = sharding.replicate(jnp.asarray(mixture.means), mesh)
    train_step = jaxgan.build_train_step(gan, mixture_batches(recipe.batch_size, mixture.std))
    # checkpoints, --resume, SIGINT/SIGTERM, divergence guard (experiments.runner.lifecycle)
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
        callback=log.callback(learning_rates=learning_rates(recipe)),
    )
    log.close()
    return Trained(result, keys, gan, mixture, mesh, lifecycle)


def train_and_evaluate(config: MixtureConfig) -> dict:
    """Trains ``config.seeds`` runs in one program, evaluates them, writes the outputs, returns results.

    Every process returns the results; only process 0 writes the files.
    """
    recipe = config.validate()
    check_out_dir(config.out)  # before any training
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
            **{name: float(metrics[name][r]) for name in MANIFOLD_FIELDS.values()},
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
        "host": host_description(),
        "devices": sharding.mesh_size(trained.mesh),
    }
    for name in ("modes", "hq_percent", "reverse_kl", *MANIFOLD_FIELDS.values()):
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
