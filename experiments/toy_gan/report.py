"""What a toy GAN run shows: the notebook's scatter figure and the printed report."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments.runner import use_headless_matplotlib

__all__ = ["format_report", "plot_scatter"]


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
    """The text printed at the end of a run: target and learned moments, the errors, the timing."""

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
