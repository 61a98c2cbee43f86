"""A run's logged curves: the losses in one panel, the discriminator's outputs in another."""

from __future__ import annotations

from pathlib import Path

from experiments.runner import UserError, use_headless_matplotlib

__all__ = ["d_output_names", "loss_names", "plot_curves", "read_run"]


def read_run(run_dir) -> list[dict]:
    """The step records of ``RUN_DIR/metrics.jsonl``, by step; :class:`UserError` for a directory
    without one, or with one that holds no step yet."""
    from jaxgan.metric_writers import read_metrics

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"{run_dir} is not a directory; pass the --out directory of a run")
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        raise UserError(f"{run_dir} has no metrics.jsonl; pass the --out directory of a run of this version's experiments")
    records = sorted(read_metrics(path), key=lambda r: r["step"])
    if not records:
        raise UserError(f"{path} holds no logged step yet; a run logs at its first multiple of --log-every")
    return records


def loss_names(records: list[dict]) -> list[str]:
    """The logged losses (names with ``loss``), in order of appearance."""
    return [n for n in _names(records) if "loss" in n]


def d_output_names(records: list[dict]) -> list[str]:
    """The discriminator's logged outputs (names starting ``d_real`` or ``d_fake``, e.g. ``D(x)``, ``D(G(z))``)."""
    return [n for n in _names(records) if n.startswith(("d_real", "d_fake"))]


def _names(records: list[dict]) -> list[str]:
    names: dict[str, None] = {}
    for r in records:
        names.update(dict.fromkeys(k for k in r if k != "step"))
    return list(names)


def plot_curves(records: list[dict], path, title: str) -> None:
    """Writes the losses (left) and D's outputs (right, when logged) against the step as a PNG.

    Args:
      records: step records (:func:`read_run`).
      path: the PNG to write.
      title: the figure's title.
    """
    plt = use_headless_matplotlib()
    panels = [("losses", loss_names(records))]
    if d_output_names(records):
        panels.append(("discriminator outputs", d_output_names(records)))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (name, series) in zip(axes[0], panels):
        for s in series:
            points = [(r["step"], r[s]) for r in records if s in r]
            ax.plot([p[0] for p in points], [p[1] for p in points], label=s)
        ax.set_xlabel("step")
        ax.set_title(name)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
