"""The lecture's toy GAN: learn ``N(mu, A^T A)`` from 3200 samples with a linear G.

    python -m experiments.toy_gan                      # the lecture's setting, one seed
    python -m experiments.toy_gan --seeds 32           # 32 seeds in one compiled program
    python -m experiments.toy_gan --recipe stable      # the recipe that does not drift
    python -m experiments.toy_gan --modular            # train through GANLoss
    python -m experiments.toy_gan --resume             # continue the run saved in --out (see lifecycle)

Defaults are exactly lecture 17's: data ``N(0, I) @ A + mu`` (3200 samples), G = one Linear(2, 2),
D = Linear(2,20) ReLU Linear(20,10) ReLU Linear(10,2) with the 2-class softmax loss, Adam lr 0.01 for
both, batches of 32 over contiguous slices, 2000 iterations, each a D step then a G step on the same Z.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from experiments.common import (
    Parser,
    UserError,
    device_description,
    positive_float,
    positive_int,
    nonnegative_int,
    print_results,
    use_headless_matplotlib,
    write_json,
)
from experiments.devices import add_device_args, check_splits_evenly, setup_devices
from experiments.lifecycle import TrainingLifecycle, add_lifecycle_args, run_main as run_lifecycle_main
from experiments.toy_gan_loop import LOOPS, choose_loop

PROG = "python -m experiments.toy_gan"

RECIPES = ("lecture", "stable")


@dataclasses.dataclass(frozen=True)
class ToyConfig:
    steps: int = 2000
    batch_size: int = 32
    lr: float = 0.01
    seeds: int = 1
    seed: int = 0
    n_samples: int = 3200
    recipe: str = "lecture"
    modular: bool = False
    chunk_size: int = 1000
    out: str = "runs/toy_gan"
    plot: bool = True
    progress: bool = True
    checkpoint_every: int = 0  # a run takes seconds: final checkpoint and on SIGINT/SIGTERM (experiments/lifecycle.py)
    keep_checkpoints: int = 3
    resume: bool = False
    devices: int | None = None  # seed-parallel: the runs are split over this many devices (None: all)
    loop: str = "auto"  # scan | kernel (jaxgan.speedups.toy_gan_kernel) | auto: the kernel on one GPU where it applies

    def validate(self) -> None:
        for name in ("steps", "batch_size", "seeds", "n_samples", "chunk_size"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(self, name)}")
        if not self.lr > 0:
            raise UserError(f"--lr must be a positive number, got {self.lr}")
        if self.batch_size > self.n_samples:
            raise UserError(
                f"--batch-size {self.batch_size} is larger than the data ({self.n_samples} samples)"
            )
        if self.recipe not in RECIPES:
            raise UserError(f"unknown recipe {self.recipe!r}; known recipes: {', '.join(RECIPES)}")
        if self.loop not in LOOPS:
            raise UserError(f"unknown loop {self.loop!r}; known loops: {', '.join(LOOPS)}")


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
      (32 seeds: median covariance error 0.024 at 2000 steps and at 20,000;
      docs/benchmarks.md).

    Both players' Adam runs on one flat vector of their parameters (``optax.flatten``): Adam is
    element-wise, so the update is the same, but G's 2 and D's 6 small arrays take one fused
    moment update each instead of one per array (toy ``scan`` +5% on the 2-core CPU).
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
    import jax

    import jaxgan

    return jaxgan.init_states(lambda k: jaxgan.init_state(gan, jax.random.fold_in(k, 1)), keys)


def train_and_evaluate(config: ToyConfig) -> dict:
    """Trains ``config.seeds`` runs at once and returns the results dict (also written to disk)."""
    config.validate()
    import jax

    import jaxgan
    from jaxgan.data import LECTURE_A, LECTURE_MU, contiguous_batches
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
    # checkpoints, --resume (to --steps in total), SIGINT/SIGTERM, divergence guard: experiments/lifecycle.py
    loop, chunk_runner = choose_loop(config, states, data, sharding.mesh_size(mesh))  # experiments/toy_gan_loop.py
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
    )
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


def plot_scatter(path: Path, data, init_kernel, init_bias, kernel, bias, *, key) -> None:
    """The notebook's figure: real data, G's samples at initialisation, and trained G's samples."""
    import jax

    plt = use_headless_matplotlib()
    z = np.asarray(jax.random.normal(key, (data.shape[0], 2)))
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.scatter(data[:, 0], data[:, 1], s=4, alpha=0.5, label="real data")
    init = z @ init_kernel + init_bias
    ax.scatter(init[:, 0], init[:, 1], s=4, alpha=0.5, label="G at initialisation")
    fake = z @ kernel + bias
    ax.scatter(fake[:, 0], fake[:, 1], s=4, alpha=0.5, label="trained G")
    ax.set_title("Toy GAN: N(0, I) @ A + mu")
    ax.legend(loc="upper left", markerscale=3)
    ax.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def format_report(results: dict) -> str:
    def mat(m):
        return "[" + ", ".join("[" + ", ".join(f"{v:7.3f}" for v in row) + "]" for row in m) + "]"

    def vec(v):
        return "[" + ", ".join(f"{x:7.4f}" for x in v) + "]"

    lines = []
    runs = results["seeds"]
    which = "the median run" if runs > 1 else "learned"
    lines.append(f"A^T A (target covariance)  {mat(results['target_cov'])}")
    lines.append(f"W^T W ({which:>14})  {mat(results['learned_cov_median_run'])}")
    lines.append(f"mu    (target mean)        {vec(results['target_mean'])}")
    lines.append(f"b     ({which:>14})  {vec(results['learned_mean_median_run'])}")
    cov = np.asarray(results["cov_rel_err_per_seed"])
    mean = np.asarray(results["mean_err_per_seed"])
    if runs == 1:
        lines.append(f"covariance error ||W^T W - A^T A||_F / ||A^T A||_F = {cov[0]:.4f}")
        lines.append(f"mean error       ||b - mu||                        = {mean[0]:.4f}")
    else:
        q = lambda x: np.percentile(x, [25, 75])
        lines.append(
            f"covariance error over {runs} seeds: median {np.median(cov):.4f} "
            f"(IQR {q(cov)[0]:.4f}-{q(cov)[1]:.4f}, min {cov.min():.4f}, max {cov.max():.4f})"
        )
        lines.append(
            f"mean error       over {runs} seeds: median {np.median(mean):.4f} "
            f"(IQR {q(mean)[0]:.4f}-{q(mean)[1]:.4f}, min {mean.min():.4f}, max {mean.max():.4f})"
        )
    lines.append(
        f"(floor: the data's own sample covariance is off by {results['data_cov_rel_err_floor']:.4f}; "
        "the lecture notebook's single run: 0.157 and 0.230)"
    )
    lines.append(
        f"{results['steps']} iterations x {runs} seed(s): compile {results['compile_seconds']:.2f} s, "
        f"train {results['train_seconds']:.3f} s, {results['steps_per_second']:,.0f} iterations/s "
        f"on {results['device']} ({results.get('loop', 'scan')} loop)"
    )
    return "\n".join(lines)


def parse_args(argv=None) -> ToyConfig:
    p = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    d = ToyConfig()
    p.add_argument("--steps", type=positive_int, default=d.steps, help="training iterations (D step + G step)")
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size)
    p.add_argument("--lr", type=positive_float, default=d.lr, help="Adam learning rate of both players")
    p.add_argument("--seeds", type=positive_int, default=d.seeds, help="independent runs trained at once (vmap)")
    p.add_argument("--seed", type=nonnegative_int, default=d.seed, help="base seed; run r uses fold_in(seed, r)")
    p.add_argument("--n-samples", type=positive_int, default=d.n_samples, help="size of the training set")
    p.add_argument("--recipe", choices=RECIPES, default=d.recipe)
    p.add_argument("--modular", action="store_true", help="train through GANLoss (D as a loss module)")
    p.add_argument("--chunk-size", type=positive_int, default=d.chunk_size, help="iterations per compiled scan chunk")
    p.add_argument("--loop", choices=LOOPS, default=d.loop,
                   help="the compiled training loop: lax.scan, or the lecture recipe's loop as one GPU kernel "
                        "(jaxgan.speedups.toy_gan_kernel; interpreted, slowly, off a GPU); auto: the kernel on one GPU where "
                        "it applies, else scan")
    p.add_argument("--out", default=d.out, help="output directory")
    p.add_argument("--no-plot", dest="plot", action="store_false")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    add_lifecycle_args(p, checkpoint_every=d.checkpoint_every, keep_checkpoints=d.keep_checkpoints)
    add_device_args(p)
    args = p.parse_args(argv)
    setup_devices(args, global_batch=args.seeds, batch_flag="--seeds")  # starts jax.distributed if asked
    return ToyConfig(**vars(args))


def main(argv=None) -> int:
    t0 = time.perf_counter()
    config = parse_args(argv)
    results = train_and_evaluate(config)
    out = Path(config.out)
    files = [out / "results.json"] + ([out / "scatter.png"] if config.plot else [])
    return print_results(results, format_report, files, t0)


if __name__ == "__main__":
    raise SystemExit(run_lifecycle_main(PROG, main))
