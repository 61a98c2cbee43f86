"""What a CycleGAN run reports: translations of the test images, their errors, a figure, the printed text.

On known-answer tasks (domain B = ``T`` of domain A's digits), :func:`evaluate` measures
``|G_AB(x) - T(x)|``, ``|G_BA(T(x)) - x|`` (on a [0, 1] pixel scale), the cycle errors and label
preservation (a classifier trained on each domain reads the translations); on image folders only
the cycle errors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments.runner import plot_image_rows
from experiments.runner.translation import judge, mae01  # shared with the other translation experiment

__all__ = ["evaluate", "format_report", "mae01", "plot_translations", "translate_all"]


def translate_all(model, state, images_a, images_b, batch: int = 200) -> dict:
    """Translations and reconstructions of the test images in both directions (NumPy, [-1, 1])."""
    import jax

    from jaxgan.cyclegan import translate

    ab = jax.jit(lambda s, x: translate(model.generator_ab, s.g_ab, x))
    ba = jax.jit(lambda s, x: translate(model.generator_ba, s.g_ba, x))

    def run(fn, x):
        return np.concatenate([np.asarray(fn(state, x[i : i + batch])) for i in range(0, len(x), batch)])

    fake_b, fake_a = run(ab, images_a), run(ba, images_b)
    return {"fake_b": fake_b, "rec_a": run(ba, fake_b), "fake_a": fake_a, "rec_b": run(ab, fake_a)}


def evaluate(out: dict, test, task, seed: int, classifier_steps: int) -> dict:
    """Pixel, cycle and label metrics (module notes); the label and pixel ones only on known-answer
    tasks (image folders have no answer to compare with: those fields are absent)."""
    test_a, test_b = test
    res = {"cycle_mae_a": mae01(out["rec_a"], test_a), "cycle_mae_b": mae01(out["rec_b"], test_b)}
    res["cycle_mae"] = (res["cycle_mae_a"] + res["cycle_mae_b"]) / 2
    if task is None:  # no answer to compare with: no pixel or label metric at all
        return res
    from jaxgan.metrics.classifier import classifier_accuracy

    labels = task.test_a.labels
    clf_a, clf_b = judge(task.classify_a, seed, classifier_steps), judge(task.classify_b, seed, classifier_steps)
    res.update(
        pixel_mae_ab=mae01(out["fake_b"], test_b),  # G_AB(x) vs T(x)
        pixel_mae_ba=mae01(out["fake_a"], test_a),  # G_BA(T(x)) vs x
        pixel_mae_identity=mae01(test_a, test_b),  # doing nothing: x vs T(x)
        label_acc_ab=classifier_accuracy(clf_b, out["fake_b"], labels),
        label_acc_ba=classifier_accuracy(clf_a, out["fake_a"], labels),
        label_acc_real_a=classifier_accuracy(clf_a, test_a, labels),  # the classifiers' own floors
        label_acc_real_b=classifier_accuracy(clf_b, test_b, labels),
    )
    return res


def plot_translations(path: Path, test, out: dict, known: bool, title: str, n: int = 8) -> None:
    """Rows per direction: input, translation, [target T(x) or x,] reconstruction; n columns."""
    test_a, test_b = test
    rows = [("A: x", test_a), ("G_AB(x)", out["fake_b"])] + ([("target T(x)", test_b)] if known else [])
    rows += [("G_BA(G_AB(x))", out["rec_a"]), ("B: y", test_b), ("G_BA(y)", out["fake_a"])]
    rows += ([("target x", test_a)] if known else []) + [("G_AB(G_BA(y))", out["rec_b"])]
    plot_image_rows(path, rows, f"CycleGAN, {title} (held-out images)", n)


def format_report(r: dict) -> str:
    """The text printed at the end of a run: pixel, label and cycle errors, and the speed."""
    f = lambda v: "n/a" if v is None else f"{v:.4f}"
    lines = [f"{r['dataset']}: {r['steps']} iterations of batch {r['batch_size']} on {r['device']}"]
    if "pixel_mae_ab" in r:
        lines.append(f"pixel MAE [0,1]: G_AB(x) vs T(x) {f(r['pixel_mae_ab'])}, G_BA(T(x)) vs x {f(r['pixel_mae_ba'])} "
                     f"(doing nothing: {f(r['pixel_mae_identity'])})")  # fmt: skip
        lines.append(f"label preservation: A->B {r['label_acc_ab']:.1%}, B->A {r['label_acc_ba']:.1%} "
                     f"(classifiers on real test images: A {r['label_acc_real_a']:.1%}, B {r['label_acc_real_b']:.1%})")  # fmt: skip
    lines.append(f"cycle MAE [0,1]: {f(r['cycle_mae'])} (A {f(r['cycle_mae_a'])}, B {f(r['cycle_mae_b'])})")
    lines.append(f"compile {r['compile_seconds']:.1f} s, train {r['train_seconds']:.1f} s, "
                 f"{r['images_per_second']:.1f} images/s")  # fmt: skip
    return "\n".join(lines)
