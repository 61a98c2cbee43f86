"""How a stability map is shown: heatmaps of modes covered and HQ % (:func:`plot_sweep`) and the printed table.

Both read the results of :func:`experiments.mixture_gan.sweep.run_sweep`: ``axes``, the
``(rows, cols)`` grids ``modes`` and ``hq_percent`` (means over each cell's seeds), ``cell_results``,
``recipe_cell`` (the recipe's own values, outlined) and ``best_cell``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["draw_sweep", "format_sweep_report", "plot_sweep"]


def _labels(values) -> list[str]:
    return [f"{v:g}" for v in values]


def _grid_axes(results: dict):
    """``(row name, row labels, column name, column labels)``; a one-axis sweep is one row."""
    axes = results["axes"]
    if len(axes) == 1:
        return "", [""], axes[0]["name"], _labels(axes[0]["values"])
    return axes[0]["name"], _labels(axes[0]["values"]), axes[1]["name"], _labels(axes[1]["values"])


def draw_sweep(fig, results: dict) -> None:
    """Draws the two heatmaps (modes covered, HQ %) of a sweep's results into the figure ``fig``.

    Each cell shows its mean over seeds; the recipe's own cell is outlined in blue, the best cell
    (most modes, then highest HQ %) in red; an ``x`` marks a cell with a diverged seed.
    """
    row_name, rows, col_name, cols = _grid_axes(results)
    shape = (len(rows), len(cols))
    panels = [("modes", f"modes covered (of {results['num_modes']})", 0, results["num_modes"], "{:.1f}"),
              ("hq_percent", "high-quality samples (%)", 0, 100, "{:.0f}")]
    axs = fig.subplots(1, 2, squeeze=True)
    for ax, (key, title, vmin, vmax, fmt) in zip(axs, panels):
        grid = np.asarray(results[key], np.float64).reshape(shape)
        image = ax.imshow(grid, cmap="viridis", vmin=vmin, vmax=vmax, origin="lower", aspect="auto")
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        for i in range(shape[0]):
            for j in range(shape[1]):
                cell = results["cell_results"][i * shape[1] + j]
                text = fmt.format(grid[i, j]) + (" x" if cell["diverged"] else "")
                dark = grid[i, j] < vmin + 0.6 * (vmax - vmin)
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "black")
        for index, color, inset in ((results["best_cell"], "red", 0.0), (results["recipe_cell"], "deepskyblue", 0.08)):
            if index is not None:  # the recipe's outline inside the best one's, should they be one cell
                i, j = divmod(index, shape[1])
                ax.add_patch(_outline(i, j, color, inset))
        ax.set_xticks(range(shape[1]), cols, fontsize=7)
        ax.set_yticks(range(shape[0]), rows, fontsize=7)
        ax.set_xlabel(col_name)
        ax.set_ylabel(row_name)
        ax.set_title(title, fontsize=9)
    fig.suptitle(
        f"{results['dataset']}, {results['recipe_name']} recipe, {results['steps']} steps, "
        f"{results['seeds']} seed(s) per cell; blue: the recipe's cell, red: the best",
        fontsize=9,
    )


def _outline(i: int, j: int, color: str, inset: float):
    from matplotlib.patches import Rectangle

    side = 1 - 2 * inset
    return Rectangle((j - 0.5 + inset, i - 0.5 + inset), side, side, fill=False, edgecolor=color, linewidth=2.5)


def plot_sweep(path: Path, results: dict) -> None:
    """Writes the sweep's heatmaps (:func:`draw_sweep`) to the PNG file ``path``."""
    from experiments.runner import use_headless_matplotlib

    plt = use_headless_matplotlib()
    fig = plt.figure(figsize=(12, 5))
    draw_sweep(fig, results)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _cell_line(label: str, results: dict, index) -> str:
    if index is None:
        return f"{label}: not in the grid"
    cell = results["cell_results"][index]
    setting = ", ".join(f"{k}={v:g}" for k, v in cell["setting"].items())
    kl = cell["reverse_kl_mean"]
    return (f"{label}: {setting}: {cell['modes_mean']:.1f} modes, {cell['hq_percent_mean']:.1f}% HQ, "
            f"reverse KL {'-' if kl is None else f'{kl:.3f}'}, {cell['diverged']} diverged")


def format_sweep_report(results: dict) -> str:
    """The map as a table (each cell ``modes / HQ %``, means over its seeds), the recipe's and the best cell."""
    row_name, rows, col_name, cols = _grid_axes(results)
    width = 13
    corner = f"{row_name} \\ {col_name}" if row_name else col_name
    lines = [
        f"{results['dataset']}: {results['cells']} settings x {results['seeds']} seed(s), {results['steps']} steps "
        f"in one program; each cell: modes covered / HQ % (mean over seeds), x: a seed diverged",
        f"{corner:>14} " + "".join(f"{c:>{width}}" for c in cols),
    ]
    for i, row in enumerate(rows):
        entries = []
        for j in range(len(cols)):
            cell = results["cell_results"][i * len(cols) + j]
            entry = f"{cell['modes_mean']:.1f} / {cell['hq_percent_mean']:.1f}" + ("x" if cell["diverged"] else "")
            entries.append(f"{entry:>{width}}")
        lines.append(f"{row:>14} " + "".join(entries))
    lines.append(_cell_line("recipe's cell", results, results["recipe_cell"]))
    lines.append(_cell_line("best cell", results, results["best_cell"]))
    lines.append(
        f"compile {results['compile_seconds']:.1f} s, train {results['train_seconds']:.1f} s, "
        f"{results['total_seconds']:.1f} s in all on {results['device']}"
    )
    return "\n".join(lines)
