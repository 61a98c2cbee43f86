"""Trains the toy GAN: the lecture's recipe (or the stable one) over many seeds at once, and its results.

:func:`train_and_evaluate` builds the GAN of a :class:`~experiments.toy_gan.config.ToyConfig`
(:func:`build_gan`, :func:`make_recipe`), draws each run's data and initial state from its own key
(:func:`run_keys`, :func:`make_data`, :func:`make_states`), trains every run in one compiled
program through :class:`experiments.runner.TrainingLifecycle`, and measures how far each learned
``W^T W`` and ``b`` are from ``A^T A`` and ``mu``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments.runner import (
    RunLog,
    TrainingLifecycle,
    check_out_dir,
    check_splits_evenly,
    device_description,
    host_description,
    write_json,
)
from experiments.toy_gan.config import PROG, ToyConfig
from experiments.toy_gan.loop import choose_loop
from experiments.toy_gan.report import plot_scatter

__all__ = ["build_gan", "make_data", "make_recipe", "make_states", "run_keys", "step_size", "train_and_evaluate"]


def make_recipe(config: ToyConfig):
    """``(g_optimizer, d_optimizer, d_penalty)`` for the recipe.

    * ``lecture``: Adam(lr) for both players, no penalty, as in the notebook.
    * ``stable``: Adam with the step size held at ``lr`` for 500 iterations and then halved every
      300 iterations (``optax.exponential_decay``), for both players, plus an R1 penalty on D
      (``gamma = 1``: ``0.5 * E ||grad_x (D(x)_real - D(x)_fake)||^2`` on real data, Mescheder et
      al. 2018). The lecture's constant step size keeps the two players circling the equilibrium
      and D slowly memorises the 3200 points, so the error drifts (median over 32 seeds ~0.05 at
      2000 steps, ~0.2 at 20,000); R1 damps the rotation around the equilibrium and the decaying
      step size lets the iterates settle. The schedule is in absolute iterations, so a 10x longer
      run only spends its extra steps at a vanishing step size: it converges instead of drifting
      (32 seeds: median covariance error 0.024 at 2000 steps and at 20,000).

    Both players' Adam runs on one flat vector of their parameters (``optax.flatten``): Adam is
    element-wise, so the update is the same, but G's 2 and D's 6 small arrays take one fused
    moment update each instead of one per array.
    """
    import optax

    from jaxgan import losses
    from jaxgan.steps import real_log_odds

    def adam():
        return optax.flatten(optax.adam(step_size(config)))

    if config.recipe == "lecture":
        return adam(), adam(), None
    r1 = losses.make_penalty("r1", weight=0.5)  # weight = gamma / 2

    def penalty(d_fn, real, fake, key):
        # D has two logits; its "realness" score is their difference, the log-odds of real.
        return r1(lambda x: real_log_odds(d_fn(x)), real, fake, key)

    return adam(), adam(), penalty


def step_size(config: ToyConfig):
    """Adam's step size for the recipe: ``lr`` (lecture), or ``lr`` for 500 iterations and then
    halved every 300 (stable)."""
    import optax

    if config.recipe == "lecture":
        return config.lr
    return optax.exponential_decay(config.lr, transition_steps=300, decay_rate=0.5, transition_begin=500)


def build_gan(config: ToyConfig):
    """The lecture's GAN: linear G on 2-d noise, 2-20-10-2 ReLU MLP D, 2-class softmax loss."""
    import jax
    from jax import lax

    import jaxgan
    from jaxgan.models.mlp import MLP, LinearGenerator
    from jaxgan.speedups.small_dense import dense_product

    # The model's one speed choice: on CPU its small dense layers take the kernel gradient XLA:CPU
    # runs faster (the same function; jaxgan.speedups.small_dense).
    dot = dense_product if jax.default_backend() == "cpu" else lax.dot_general
    g_opt, d_opt, penalty = make_recipe(config)
    return jaxgan.GAN(
        generator=jaxgan.from_linen(LinearGenerator(features=2, dot_general=dot)),
        discriminator=jaxgan.from_linen(MLP(hidden=(20, 10), out=2, dot_general=dot)),
        g_optimizer=g_opt,
        d_optimizer=d_opt,
        latent_shape=(2,),
        objective="softmax",
        d_penalty=penalty,
    )


def run_keys(seed: int, runs: int):
    """One key per run: ``fold_in(PRNGKey(seed), r)``; each run draws its own data set and init."""
    import jax
    import jax.numpy as jnp

    return jax.vmap(lambda r: jax.random.fold_in(jax.random.PRNGKey(seed), r))(jnp.arange(runs))


def make_data(keys, n_samples: int):
    """``[runs, n_samples, 2]``: each run's own sample of ``N(0, I) @ A + mu``."""
    import jax

    from jaxgan.data import affine_gaussian

    return jax.vmap(lambda k: affine_gaussian(jax.random.fold_in(k, 0), n_samples))(keys)


def make_states(gan, keys):
    """``[runs, ...]`` initial states: run ``r``'s from ``fold_in(keys[r], 1)``."""
    import jax

    import jaxgan

    return jaxgan.init_states(lambda k: jaxgan.init_state(gan, jax.random.fold_in(k, 1)), keys)


def train_and_evaluate(config: ToyConfig) -> dict:
    """Trains ``config.seeds`` runs at once and returns the results dict (also written to disk)."""
    config.validate()
    check_out_dir(config.out)  # before any training
    log = RunLog.from_config(config)  # metrics.jsonl, TensorBoard with --tensorboard (experiments.runner.metric_logging)
    log.announce()
    import jax

    import jaxgan
    from jaxgan.data import LECTURE_A, LECTURE_MU, contiguous_batches
    from jaxgan.metric_writers import learning_rate_of
    from jaxgan.parallel import sharding
    from jaxgan.parallel.hosts import is_main_process
    from jaxgan.metrics import covariance_relative_error, gaussian_fit_errors

    gan = build_gan(config)
    batch_fn = contiguous_batches(config.batch_size)
    keys = run_keys(config.seed, config.seeds)
    data = make_data(keys, config.n_samples)
    states = make_states(gan, keys)
    init_kernel = np.asarray(states.g.params["linear"]["kernel"][0])
    init_bias = np.asarray(states.g.params["linear"]["bias"][0])
    mesh = sharding.make_mesh(config.devices)  # seed-parallel: each device trains seeds / devices runs
    check_splits_evenly(config.seeds, sharding.mesh_size(mesh), "--seeds")
    data, states = sharding.shard_runs((data, states), mesh)

    if config.modular:
        train_step = jaxgan.build_modular_train_step(gan, batch_fn)
    else:
        train_step = jaxgan.build_train_step(gan, batch_fn)
    # checkpoints, --resume (to --steps in total), SIGINT/SIGTERM, divergence guard: experiments.runner.lifecycle
    loop, chunk_runner = choose_loop(config, states, data, sharding.mesh_size(mesh))  # experiments.toy_gan.loop
    lifecycle = TrainingLifecycle.from_config(config, prog=PROG, module="experiments.toy_gan",
                                              exclude=("devices", "loop"))
    result = lifecycle.fit(
        train_step,
        states,
        data,
        config.steps,
        chunk_size=config.chunk_size,
        vmapped=True,
        vmap_data=True,
        progress=config.progress and is_main_process(),
        desc=f"toy GAN x{config.seeds} ({loop})",
        chunk_runner=chunk_runner,
        callback=log.callback(learning_rates={"lr": learning_rate_of(step_size(config))}),  # both players'
    )
    log.close()
    kernel, bias = sharding.gather((result.state.g.params["linear"]["kernel"], result.state.g.params["linear"]["bias"]))
    cov_err, mean_err = (np.asarray(e, np.float64) for e in gaussian_fit_errors(kernel, bias, LECTURE_A, LECTURE_MU))
    target_cov = LECTURE_A.T @ LECTURE_A
    data_np = sharding.gather(data)
    floor = np.array([float(covariance_relative_error(np.cov(d.T, bias=True), target_cov)) for d in data_np])
    median_run = int(np.argsort(cov_err)[len(cov_err) // 2])
    k = np.asarray(kernel[median_run], np.float64)
    results = {
        "recipe": config.recipe,
        "modular": config.modular,
        "loop": loop,
        "steps": config.steps,
        "batch_size": config.batch_size,
        "lr": config.lr,
        "seeds": config.seeds,
        "seed": config.seed,
        "n_samples": config.n_samples,
        "cov_rel_err": float(np.median(cov_err)),
        "mean_err": float(np.median(mean_err)),
        "cov_rel_err_per_seed": cov_err.tolist(),
        "mean_err_per_seed": mean_err.tolist(),
        "data_cov_rel_err_floor": float(np.median(floor)),
        "target_cov": target_cov.tolist(),
        "target_mean": LECTURE_MU.tolist(),
        "learned_cov_median_run": (k.T @ k).tolist(),
        "learned_mean_median_run": np.asarray(bias[median_run], np.float64).tolist(),
        "resumed_from_step": lifecycle.start_step,
        "compile_seconds": result.compile_seconds,
        "train_seconds": result.train_seconds,
        "steps_per_second": result.steps_done * config.seeds / result.train_seconds if result.steps_done else 0.0,
        "device": device_description(),
        "host": host_description(),
    }
    out = Path(config.out)
    if not is_main_process():  # multi-host: process 0 writes the files
        return results
    write_json(out / "results.json", results)
    if config.plot:
        plot_scatter(
            out / "scatter.png",
            data_np[0],
            init_kernel,
            init_bias,
            np.asarray(kernel[0]),
            np.asarray(bias[0]),
            key=jax.random.PRNGKey(config.seed + 12345),
        )
    return results
