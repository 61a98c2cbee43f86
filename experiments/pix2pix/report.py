"""What a pix2pix run reports: translations of the held-out inputs, their errors, a figure, the printed text.

The held-out pairs ``(x, y)`` give the answer: on a known-answer task ``y = T(x)`` (or ``x`` itself
for ``--direction BtoA``), on aligned folders the test images' B halves. :func:`evaluate` measures
the pixel error ``|G(x) - y|`` on a [0, 1] scale, with ``G`` run as the paper runs it at test time
(dropout on, the test batch's statistics) and, as ``pixel_mae_running``, with the running
averages; on known-answer tasks also label preservation (a classifier trained on the target
domain reads ``G(x)``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments.runner import plot_image_rows
from experiments.runner.translation import judge, mae01  # shared with the other translation experiment

__all__ = ["EVALUATION_BATCH", "evaluate", "format_report", "mae01", "plot_translations", "translate_all"]

# Held-out images per call of G in the evaluation: with the test batch's statistics, an output
# depends on the other images of its batch, so translating the same images again in batches of this
# size (and the evaluation's dropout keys) gives the run's own outputs.
EVALUATION_BATCH = 200


def translate_all(model, state, inputs, key, batch: int = EVALUATION_BATCH, batch_statistics: bool = True) -> np.ndarray:
    """``G(inputs)`` in batches of ``batch`` (NumPy, [-1, 1]); batch ``i``'s dropout key is ``fold_in(key, i)``."""
    import jax

    from jaxgan.pix2pix import translate

    run = jax.jit(lambda s, x, k: translate(model.generator, s.g, x, k, batch_statistics))
    starts = range(0, len(inputs), batch)
    return np.concatenate([np.asarray(run(state, inputs[i : i + batch], jax.random.fold_in(key, n)))
                           for n, i in enumerate(starts)])  # fmt: skip


def evaluate(outputs, outputs_running, test, classify, labels, seed: int, classifier_steps: int) -> dict:
    """Pixel errors (module notes), and label preservation where ``classify`` (the target domain's
    labelled images) is given."""
    inputs, targets = test
    res = {
        "pixel_mae": mae01(outputs, targets),
        "pixel_mae_running": mae01(outputs_running, targets),
        "pixel_mae_identity": mae01(inputs, targets) if inputs.shape == targets.shape else None,  # doing nothing
    }
    if classify is None:
        return res
    from jaxgan.metrics.classifier import classifier_accuracy

    clf = judge(classify, seed, classifier_steps)
    res.update(label_acc=classifier_accuracy(clf, outputs, labels),
               label_acc_real=classifier_accuracy(clf, targets, labels))  # the classifier's own floor  # fmt: skip
    return res


def plot_translations(path: Path, test, outputs, title: str, n: int = 8) -> None:
    """Three rows, n columns: the input, the translation, the truth."""
    inputs, targets = test
    rows = [("input", inputs), ("output G(x)", outputs), ("truth", targets)]
    plot_image_rows(path, rows, f"pix2pix, {title} (held-out images)", n)


def format_report(r: dict) -> str:
    """The text printed at the end of a run: pixel and label errors, and the speed."""
    f = lambda v: "n/a" if v is None else f"{v:.4f}"
    lines = [f"{r['dataset']} ({r['direction']}): {r['steps']} iterations of batch {r['batch_size']} on {r['device']}"]
    lines.append(f"pixel MAE [0,1] to the truth: {f(r['pixel_mae'])} (running averages: {f(r['pixel_mae_running'])}; "
                 f"doing nothing: {f(r['pixel_mae_identity'])})")  # fmt: skip
    if "label_acc" in r:
        lines.append(f"label preservation: {r['label_acc']:.1%} (classifier on the true translations: {r['label_acc_real']:.1%})")
    lines.append(f"compile {r['compile_seconds']:.1f} s, train {r['train_seconds']:.1f} s, "
                 f"{r['images_per_second']:.1f} images/s, {r['cpu_seconds']:.1f} CPU s in all")  # fmt: skip
    return "\n".join(lines)
