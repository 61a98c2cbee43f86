"""What an experiment leaves behind: JSON files written atomically, figures, its last printed words."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Optional

__all__ = [
    "MANIFOLD_FIELDS",
    "device_description",
    "host_description",
    "print_results",
    "plot_image_rows",
    "say",
    "use_headless_matplotlib",
    "write_json",
]

#: The results' names of :func:`jaxgan.metrics.precision_recall_density_coverage`'s four numbers
#: ("precision" alone would clash with the DCGAN's compute-precision field).
MANIFOLD_FIELDS = {
    "precision": "improved_precision",
    "recall": "improved_recall",
    "density": "density",
    "coverage": "coverage",
}


def print_results(results: dict, format_report, files: list[Path], started: float) -> int:
    """An experiment's last words (main process only): its report, then the files it wrote and
    the wall time since ``started`` (``time.perf_counter()``).

    Args:
      results: the run's results dict.
      format_report: ``format_report(results) -> str``, the experiment's printed report.
      files: the files the run wrote.
      started: ``time.perf_counter()`` at the start of the run.

    Returns:
      The exit status, 0.
    """
    from jaxgan.parallel.hosts import is_main_process

    if is_main_process():
        print(format_report(results))
        print(f"wrote {', '.join(map(str, files))} ({time.perf_counter() - started:.1f} s in all)")
    return 0


def say(line) -> None:
    """Prints one line about the run at its start (main process only); ``None`` prints nothing."""
    from jaxgan.parallel.hosts import is_main_process

    if line is not None and is_main_process():
        print(line, flush=True)


def device_description() -> str:
    """``"<count>x <device kind> (<platform>)"`` of JAX's devices, e.g. ``"1x cpu (cpu)"``."""
    import jax

    dev = jax.devices()[0]
    kind = getattr(dev, "device_kind", dev.platform)
    return f"{jax.device_count()}x {kind} ({dev.platform})"


def host_description(cpuinfo: Optional[str] = None) -> str:
    """The host CPU, e.g. ``"AMD EPYC, 2 cores, AVX-512"``, for a run's results.

    XLA compiles for the host's vector instructions, so CPUs with different ones round differently,
    and a training of thousands of iterations (and the judging classifier) comes out differently on
    each: results are reproducible bit for bit on one kind of host, not across kinds.

    Args:
      cpuinfo: the text of ``/proc/cpuinfo`` (``None``: read it; where there is none, the platform's
        processor name).

    Returns:
      The model name, the number of cores this process may use, and the widest x86 vector
      extension (AVX-512, AVX2, AVX) where the flags name one.
    """
    import platform

    from experiments.runner.devices import usable_cores

    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    fields = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())  # the first processor's
    model = fields.get("model name") or platform.processor() or platform.machine() or "unknown CPU"
    cores = usable_cores()
    flags = set(fields.get("flags", "").split())
    extensions = (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"))  # the widest first
    vector = next((name for flag, name in extensions if flag in flags), None)
    return ", ".join(filter(None, [model, f"{cores} cores", vector]))


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Writes JSON atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def use_headless_matplotlib():
    """``matplotlib.pyplot`` with the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_image_rows(path: Path, rows, title: str, n: int = 8) -> None:
    """A figure of labelled rows of images, ``n`` columns, written to ``path`` (a translation's figure).

    Args:
      path: the PNG to write (its directory is created).
      rows: ``[(label, images [N, H, W, C] in [-1, 1]), ...]``, one figure row each.
      title: the figure's title.
      n: columns (at most the fewest images of a row).
    """
    import numpy as np

    plt = use_headless_matplotlib()
    n = min(n, *(len(images) for _, images in rows))
    fig, axes = plt.subplots(len(rows), n, figsize=(1.2 * n + 1.6, 1.2 * len(rows)), squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c in range(n):
            ax = axes[r, c]
            img = (np.clip(images[c], -1, 1) + 1) / 2
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
