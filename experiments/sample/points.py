"""Samples of a toy GAN or mixture GAN run: ``samples.npy`` (every run's) and a scatter figure.

Both experiments train several seeds at once, so the state holds stacked runs and every run draws
the same noise: ``samples.npy`` is ``[runs, num, 2]``, like the mixture GAN's own ``samples.npy``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments.runner import use_headless_matplotlib

__all__ = ["mixture_samples", "sample_points", "toy_samples", "write_points"]


def toy_samples(run, num: int, seed: int, batch_size: int):
    """``(samples [runs, num, 2], title)`` of a toy GAN run's generators, on noise from ``seed``."""
    import jax

    import jaxgan
    from experiments.toy_gan.config import ToyConfig
    from experiments.toy_gan.train import build_gan, make_states, run_keys

    config = run.settings(ToyConfig)
    gan = build_gan(config)
    state = run.restore(jax.eval_shape(lambda: make_states(gan, run_keys(config.seed, config.seeds))))
    samples = jaxgan.generate(gan, state, jax.random.PRNGKey(seed), num, batch_size=batch_size)
    return samples, f"toy GAN, {config.recipe} recipe"


def mixture_samples(run, num: int, seed: int, batch_size: int):
    """``(samples [runs, num, 2], title)`` of a mixture GAN run's generators, on noise from ``seed``."""
    import jax

    import jaxgan
    from experiments.mixture_gan.config import Recipe
    from experiments.mixture_gan.train import build_gan, run_keys

    recipe = Recipe(**{"steps": 1, **run.config["recipe"]})  # steps: recorded where a schedule spans them
    gan = build_gan(recipe)
    seeds, base = run.config.get("seeds", 10), run.config.get("seed", 0)
    init = lambda k: jaxgan.init_state(gan, jax.random.fold_in(k, 1))
    state = run.restore(jax.eval_shape(lambda: jaxgan.init_states(init, run_keys(base, seeds))))
    samples = jaxgan.generate(gan, state, jax.random.PRNGKey(seed), num, batch_size=batch_size)
    return samples, f"{run.config.get('dataset', 'ring')}, {recipe.architecture} networks"


def plot_toy(path: Path, samples: np.ndarray, seed: int, title: str) -> None:
    """The target ``N(mu, A^T A)`` (as many points, drawn from ``seed``) and the first run's samples."""
    import jax

    from jaxgan.data import affine_gaussian

    plt = use_headless_matplotlib()
    real = np.asarray(affine_gaussian(jax.random.fold_in(jax.random.PRNGKey(seed), 1), samples.shape[1]))
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.scatter(real[:, 0], real[:, 1], s=4, alpha=0.5, label="target N(mu, A^T A)")
    runs = f" (run 0 of {samples.shape[0]})" if samples.shape[0] > 1 else ""
    ax.scatter(samples[0, :, 0], samples[0, :, 1], s=4, alpha=0.5, label=f"G{runs}")
    ax.set_title(title)
    ax.legend(loc="upper left", markerscale=3)
    ax.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_mixture(path: Path, samples: np.ndarray, dataset: str, title: str) -> None:
    """The mixture GAN's own figure: one panel per run, with its modes covered and high-quality share."""
    import jax
    import jax.numpy as jnp

    from experiments.mixture_gan.report import plot_samples
    from jaxgan.data.mixtures import get_mixture
    from jaxgan.metrics.mixtures import mixture_metrics

    mixture = get_mixture(dataset)
    score = jax.vmap(lambda x: mixture_metrics(x, jnp.asarray(mixture.means), mixture.std))
    metrics = jax.device_get(score(jnp.asarray(samples)))
    per_run = [{"modes": int(metrics["modes"][r]), "hq_percent": float(metrics["hq_percent"][r])}
               for r in range(samples.shape[0])]  # fmt: skip
    plot_samples(path, samples, mixture, per_run, title=title)


def sample_points(run, options) -> list[Path]:
    """Draws ``options.num`` samples of every run of a toy or mixture GAN run and writes them;
    returns the files written."""
    draw = toy_samples if run.experiment == "toy_gan" else mixture_samples
    samples, title = draw(run, options.num, options.seed, options.batch_size)
    return write_points(Path(options.out), np.asarray(samples, np.float32), run, options.seed, title)


def write_points(out: Path, samples: np.ndarray, run, seed: int, title: str) -> list[Path]:
    """``out/samples.npy`` and ``out/samples.png``; returns both paths."""
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "samples.npy", samples)
    if run.experiment == "toy_gan":
        plot_toy(out / "samples.png", samples, seed, title)
    else:
        plot_mixture(out / "samples.png", samples, run.config.get("dataset", "ring"), title)
    return [out / "samples.npy", out / "samples.png"]
