"""Judging a class-conditional GAN with the classifier: does G make the class it was asked for?

For samples ``x_i = G(z_i, y_i)`` and the judging classifier's predictions ``c(x_i)``
(:mod:`jaxgan.metrics.classifier`):

* **class accuracy** ``acc_c = #{i : y_i = c, c(x_i) = c} / #{i : y_i = c}``, the share of the
  samples of class ``c`` the judge classifies as ``c``; the overall accuracy is the share of all
  samples classified as their label. Compare with the judge's accuracy on held-out real images.
* **per-class Frechet distance** ``FD_c`` between the classifier features of the samples of class
  ``c`` and those of the real images of class ``c`` (the FID formula,
  :func:`jaxgan.metrics.frechet_distance`): each class's quality and diversity on its own, which
  the overall distance cannot see (a G that draws 3s when asked for 8s may match the overall
  distribution).
* **intra-class Frechet distance** ``(1/K) sum_c FD_c``: Miyato & Koyama's intra-FID, the
  intra-class score, beside its real-data floor (held-out real images of each class scored the
  same way).
"""

from __future__ import annotations

import numpy as np

from jaxgan.metrics.scores import frechet_distance

__all__ = ["class_accuracy", "per_class_frechet_distance", "conditional_scores"]


def class_accuracy(predicted, labels, num_classes: int) -> tuple[float, list[float]]:
    """The share of samples classified as the class they were made for, overall and per class.

    Args:
      predicted: the judge's classes of the samples, ``[N]``.
      labels: the classes the samples were made for, ``[N]``.
      num_classes: ``K``.

    Returns:
      ``(overall, per_class)``: ``mean(predicted == labels)`` and ``acc_c`` for each class
      (``nan`` for a class with no sample).
    """
    predicted, labels = np.asarray(predicted).ravel(), np.asarray(labels).ravel()
    if predicted.shape != labels.shape or predicted.size == 0:
        raise ValueError(f"need as many predictions as labels (at least one), got {predicted.shape} and {labels.shape}")
    hit = predicted == labels
    per_class = [float(hit[labels == c].mean()) if np.any(labels == c) else float("nan") for c in range(num_classes)]
    return float(hit.mean()), per_class


def per_class_frechet_distance(features, labels, real_features, real_labels, num_classes: int) -> list[float]:
    """``FD_c``: the Frechet distance between the features of class ``c`` of two sets, for each ``c``.

    Args:
      features: ``[N, D]`` features of the samples.
      labels: ``[N]`` their classes.
      real_features: ``[M, D]`` features of the real images.
      real_labels: ``[M]`` their classes.
      num_classes: ``K``.

    Returns:
      ``K`` distances (``nan`` for a class with fewer than 2 rows in either set).
    """
    features, real_features = np.asarray(features), np.asarray(real_features)
    labels, real_labels = np.asarray(labels).ravel(), np.asarray(real_labels).ravel()
    out = []
    for c in range(num_classes):
        a, b = features[labels == c], real_features[real_labels == c]
        out.append(frechet_distance(a, b) if min(len(a), len(b)) >= 2 else float("nan"))
    return out


def conditional_scores(probs, features, labels, real_features, real_labels, num_classes: int) -> dict:
    """Class accuracy, per-class Frechet distance and the intra-class Frechet distance of samples.

    Args:
      probs: the judge's class probabilities of the samples, ``[N, K]``.
      features: the judge's features of the samples, ``[N, D]``.
      labels: the classes the samples were made for, ``[N]``.
      real_features: the judge's features of real images, ``[M, D]`` (e.g. the training split).
      real_labels: their classes, ``[M]``.
      num_classes: ``K``.

    Returns:
      ``{"class_accuracy", "class_accuracy_per_class", "per_class_frechet_distance",
      "intra_class_frechet_distance"}`` (the last the mean over the classes that have one).
    """
    overall, per_class = class_accuracy(np.asarray(probs).argmax(-1), labels, num_classes)
    fd = per_class_frechet_distance(features, labels, real_features, real_labels, num_classes)
    return {
        "class_accuracy": overall,
        "class_accuracy_per_class": per_class,
        "per_class_frechet_distance": fd,
        "intra_class_frechet_distance": float(np.nanmean(fd)),
    }
