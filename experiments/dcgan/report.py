"""What a DCGAN run reports: its evaluation against the real-data floor, its figures, its printed text.

:func:`evaluate` (classifier score, Frechet distance and class KL of generated images beside the
real-data floor), the figures (:func:`image_grid`, :func:`save_grid`, :func:`plot_losses`) and
:func:`format_report`, the text printed at the end of a run.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from experiments.dcgan.config import DCGANConfig
from experiments.runner import MANIFOLD_FIELDS, use_headless_matplotlib

__all__ = ["conditional_evaluation", "evaluate", "format_report", "image_grid", "plot_losses", "save_grid"]

# ----------------------------------------------------------------------------- evaluation


def evaluate(config: DCGANConfig, generate, sampler, train_ds, holdout_ds, class_probs=None) -> dict:
    """Classifier score, Frechet distance and class KL of generated images, beside the real floor.

    The classifier is trained on ``train_ds`` (cached) from ``--data-seed``: one judge for every
    ``--seed``. Generated: ``--eval-samples`` images from fresh noise (the first of them, as many
    as held-out images by default, for the Frechet distance and the class KL, whose real floors
    have that many); real floor: the held-out images. Both are compared with the training images.

    The classifier score of G is estimated on ``max(--eval-samples, --score-samples)`` images
    (5000 by default, the size of an Inception-score split): its ``p(y)`` is a mean over the
    samples, and with few of them ``H(p(y))`` is biased low by up to ``(K - 1) / 2N`` nats (the
    plug-in entropy's bias; 1.6% of the score at digits' 287) and noisy. ``classifier_score_matched``
    is the estimate on the first ``--eval-samples``, comparable with ``real_classifier_score``,
    which has only the held-out images (and the same bias).
    Precision, recall, density and coverage (k = 3) are of the classifier's features too, against
    the first ``--eval-samples`` training images (as many real images as generated ones; all of
    them would make the k-NN balls smaller than the generated set's); their real floors are of the
    held-out images against the same reference.
    Only labelled data with held-out images are judged (``folder`` data have no labels to train
    the classifier on; :func:`experiments.dcgan.train.judging_note` says why a run is not).

    A conditional G (``class_probs`` given) draws each sample's label from ``class_probs`` and is
    judged on the classes too (:mod:`jaxgan.metrics.conditional`): the class accuracy on all the
    generated images, per class and overall, beside the judge's accuracy on held-out real images;
    the per-class Frechet distances of the first ``--eval-samples`` against the training images
    of each class and their mean, the intra-class Frechet distance, beside the real floor (the
    held-out images of each class against the same).
    """
    import jax

    from jaxgan.metrics import classifier_score, evaluate_images, fidelity_and_diversity, get_classifier
    from jaxgan.metrics.classifier import classifier_accuracy, classifier_outputs

    if train_ds.labels is None or holdout_ds is None:
        raise ValueError("evaluate needs labelled data and held-out images (a judge and a real-data floor)")
    n_eval = config.eval_samples or holdout_ds.num_examples
    n_score = max(n_eval, config.score_samples)
    z = jax.random.normal(jax.random.PRNGKey(config.seed + 2), (n_score, config.latent_dim))
    labels = None
    if class_probs is not None:  # a conditional G: each sample's class drawn as in training
        from jaxgan.gan import sample_labels

        labels = np.asarray(sample_labels(jax.random.PRNGKey(config.seed + 5), class_probs, n_score))
        z = (z, labels)
    fake = generate(*sampler, z)  # sampler: (params, stats) from make_sampling_generator
    out = {"eval_samples": n_eval, "holdout": holdout_ds.num_examples}
    options = {} if config.classifier_steps is None else {"steps": config.classifier_steps}
    classifier = get_classifier(train_ds, seed=config.data_seed, cache_dir=config.cache_dir, **options)
    gen = evaluate_images(classifier, fake[:n_eval], train_ds.images)
    real = evaluate_images(classifier, holdout_ds.images, train_ds.images)
    reference = train_ds.images[: min(n_eval, train_ds.num_examples)]
    manifold = fidelity_and_diversity(classifier, fake[:n_eval], reference)
    real_manifold = fidelity_and_diversity(classifier, holdout_ds.images, reference)
    if labels is not None:
        out.update(conditional_evaluation(classifier, fake, labels, n_eval, train_ds, holdout_ds))
    return {
        **out,
        "classifier_steps": config.classifier_steps,
        "classifier_accuracy": classifier_accuracy(classifier, holdout_ds.images, holdout_ds.labels),
        "classifier_score": classifier_score(classifier_outputs(classifier, fake)[0]),
        "score_samples": n_score,
        "classifier_score_matched": gen["classifier_score"],
        "real_classifier_score": real["classifier_score"],
        "frechet_distance": gen["frechet_distance"],
        "real_frechet_floor": real["frechet_distance"],
        "class_kl": gen["class_kl"],
        "real_class_kl": real["class_kl"],
        **{MANIFOLD_FIELDS[name]: value for name, value in manifold.items()},
        **{"real_" + MANIFOLD_FIELDS[name]: value for name, value in real_manifold.items()},
        "manifold_reference": reference.shape[0],
    }


def conditional_evaluation(classifier, fake, labels, n_eval: int, train_ds, holdout_ds) -> dict:
    """A conditional G's class accuracy (on every generated image) and per-class and intra-class
    Frechet distances (on the first ``n_eval``), beside the real floor of the held-out images."""
    from jaxgan.metrics.classifier import classifier_outputs
    from jaxgan.metrics.conditional import class_accuracy, conditional_scores

    k = classifier.num_classes
    probs, feats = classifier_outputs(classifier, fake)
    accuracy, per_class = class_accuracy(probs.argmax(-1), labels, k)
    _, train_feats = classifier_outputs(classifier, train_ds.images)
    gen = conditional_scores(probs[:n_eval], feats[:n_eval], labels[:n_eval], train_feats, train_ds.labels, k)
    real_probs, real_feats = classifier_outputs(classifier, holdout_ds.images)
    real = conditional_scores(real_probs, real_feats, holdout_ds.labels, train_feats, train_ds.labels, k)
    return {
        "class_accuracy": accuracy,
        "class_accuracy_per_class": per_class,
        "class_accuracy_samples": int(len(labels)),
        "per_class_frechet_distance": gen["per_class_frechet_distance"],
        "intra_class_frechet_distance": gen["intra_class_frechet_distance"],
        "real_per_class_frechet_floor": real["per_class_frechet_distance"],
        "real_intra_class_frechet_floor": real["intra_class_frechet_distance"],
    }


# ----------------------------------------------------------------------------- figures


def image_grid(images: np.ndarray, ncol: int = 8, pad: int = 2, scale: int = 1) -> np.ndarray:
    """Tiles ``[N, H, W, C]`` images in ``[-1, 1]`` into one uint8 ``[rows (H+pad), ncol (W+pad), C]`` picture."""
    images = np.clip((np.asarray(images, np.float32) + 1.0) * 127.5, 0, 255).round().astype(np.uint8)
    if scale > 1:
        images = images.repeat(scale, axis=1).repeat(scale, axis=2)
    n, h, w, c = images.shape
    rows = math.ceil(n / ncol)
    grid = np.full((rows * (h + pad) + pad, ncol * (w + pad) + pad, c), 255, np.uint8)
    for i in range(n):
        r, q = divmod(i, ncol)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + q * (w + pad) : pad + q * (w + pad) + w] = images[i]
    return grid


def save_grid(path: Path, images: np.ndarray, ncol: int = 8) -> None:
    """Writes :func:`image_grid` (``ncol`` images a row) as a PNG (small images are enlarged to ~64 pixels)."""
    from PIL import Image

    scale = max(1, 64 // images.shape[1])
    grid = image_grid(images, ncol=ncol, scale=scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(path)


def plot_losses(path: Path, metrics: dict) -> None:
    """D's and G's losses and D's read-outs ``D(x)``, ``D(G(z))`` over the iterations (smoothed)."""
    plt = use_headless_matplotlib()

    def smooth(v):
        v = np.asarray(v, np.float64)
        k = max(1, len(v) // 100)
        return np.convolve(v, np.ones(k) / k, mode="valid")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for name, label in (("d_loss", "D loss"), ("g_loss", "G loss")):
        ax1.plot(smooth(metrics[name]), label=label)
    ax1.set_xlabel("iteration")
    ax1.set_title("losses")
    ax1.legend()
    for name, label in (("d_real", "D(x)"), ("d_fake", "D(G(z)) before D step"), ("d_fake_after", "D(G(z)) after D step")):
        ax2.plot(smooth(metrics[name]), label=label)
    ax2.set_xlabel("iteration")
    ax2.set_ylim(0, 1)
    ax2.set_title("discriminator read-outs")
    ax2.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ----------------------------------------------------------------------------- report


def format_report(results: dict) -> str:
    """The text printed at the end of a run: speed, final losses and the evaluation beside its floors
    (only the metrics the run measured: none, and why, for a run that was not judged)."""
    lines = [
        f"{results['dataset']} {results['image_size']}x{results['image_size']}: {results['steps']} iterations of "
        f"batch {results['batch_size']} ({results['precision']}) in {results['train_seconds']:.1f} s "
        f"(+{results['compile_seconds']:.1f} s compile), {results['images_per_second']:.0f} images/s on {results['device']}",
        f"Loss_D {results['final_d_loss']:.3f}  Loss_G {results['final_g_loss']:.3f}  "
        f"D(x) {results['final_d_real']:.3f}  D(G(z)) {results['final_d_fake']:.3f}  (means of the last 50 iterations)",
    ]
    if not results.get("evaluated", True):
        lines.append(results["not_evaluated"])  # why, as said at the start
    if "classifier_score" in results:
        lines += [
            f"classifier score {results['classifier_score']:.3f}   ({results['score_samples']} generated images; on "
            f"{results['eval_samples']}: {results['classifier_score_matched']:.3f}, real held-out images: "
            f"{results['real_classifier_score']:.3f})",
            f"Frechet distance {results['frechet_distance']:.3f}   (real floor: {results['real_frechet_floor']:.3f}, "
            f"ratio {results['frechet_distance'] / max(results['real_frechet_floor'], 1e-12):.2f})",
            f"class KL         {results['class_kl']:.4f}  (real: {results['real_class_kl']:.4f}); "
            f"classifier accuracy on held-out images {results['classifier_accuracy']:.3f}",
        ]
    if "class_accuracy" in results:
        lines += [
            f"class accuracy   {results['class_accuracy']:.3f}  (the share of the {results['class_accuracy_samples']} "
            f"generated images the judge classifies as the class G was given; lowest class "
            f"{min(results['class_accuracy_per_class']):.3f}; the judge on real held-out images "
            f"{results['classifier_accuracy']:.3f})",
            f"intra-class Frechet distance {results['intra_class_frechet_distance']:.3f}   (mean of the per-class "
            f"distances; real floor: {results['real_intra_class_frechet_floor']:.3f}, ratio "
            f"{results['intra_class_frechet_distance'] / max(results['real_intra_class_frechet_floor'], 1e-12):.2f})",
        ]
    if "coverage" in results:
        lines.append(
            "precision {:.3f}  recall {:.3f}  density {:.3f}  coverage {:.3f}   (real floor: {:.3f} {:.3f} {:.3f} "
            "{:.3f}; k = 3, {} training images as the reference)".format(
                *(results[prefix + name] for prefix in ("", "real_") for name in MANIFOLD_FIELDS.values()),
                results["manifold_reference"],
            )
        )
    return "\n".join(lines)
