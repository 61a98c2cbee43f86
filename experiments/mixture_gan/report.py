"""What a mode-collapse run is compared with and how it is shown: published rows, goals, figure, table.

The published rows (:data:`PUBLISHED`), the default recipe's goals (:data:`GOALS`), the samples
figure (:func:`plot_samples`) and the printed table (:func:`format_report`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from experiments.runner import MANIFOLD_FIELDS, use_headless_matplotlib

__all__ = ["GOALS", "PUBLISHED", "format_report", "plot_samples"]

#: Published rows (VEEGAN's and PacGAN's tables): (method, runs, modes, modes s.e., HQ %, reverse KL).
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

#: The default recipe's goals over 10 seeds: (modes on every seed, HQ % >=, rev-KL <=).
GOALS = {"ring": (8, 97.0, 0.02), "grid": (25, 95.0, 0.03)}


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
    if "coverage_mean" in results:
        lines.append(
            "precision {:.3f}  recall {:.3f}  density {:.3f}  coverage {:.3f}   (means over runs; k = 3, against "
            "as many fresh mixture points)".format(*(results[f"{name}_mean"] for name in MANIFOLD_FIELDS.values()))
        )
    lines.append(
        f"goals {'met' if results['goals_met'] else 'NOT met'}; {results['steps']} steps x {results['seeds']} seeds: "
        f"compile {results['compile_seconds']:.1f} s, train {results['train_seconds']:.1f} s, "
        f"{results['total_seconds']:.1f} s in all on {results['device']}"
    )
    return "\n".join(lines)
