"""The formulas behind the classifier-judged metrics, as NumPy functions of predictions and features.

:mod:`jaxgan.metrics.classifier` trains the classifier whose outputs these judge; they need nothing
of it (any classifier's softmaxes, features and predicted classes will do):

* :func:`classifier_score`: ``exp(E_x KL(p(y|x) || p(y)))``, the Inception-score formula.
* :func:`frechet_distance`: ``||mu_a - mu_b||^2 + tr(C_a + C_b - 2 (C_a C_b)^{1/2})`` between
  Gaussians fitted to two feature sets (the FID formula).
* :func:`class_histogram_kl`: ``KL(h_gen || h_real)`` between predicted-class histograms.

All computed in float64.
"""

from __future__ import annotations

import numpy as np

__all__ = ["classifier_score", "frechet_distance", "class_histogram_kl"]


def classifier_score(probs, splits: int = 1) -> float:
    """Computes the Inception-score formula ``exp(E_x KL(p(y|x) || p(y)))`` of predicted probabilities.

    ``p(y) = E_x p(y|x)``. Computed in float64 with ``0 log 0 = 0``. Like the Inception score, it
    is the mean of the per-split scores (each split has its own ``p(y)``).

    Args:
      probs: ``[N, K]`` class probabilities (rows sum to 1).
      splits: equal parts to score separately and average.

    Returns:
      The score, between 1 and ``K``.

    Raises:
      ValueError: unless ``probs`` is ``[N, K]`` with ``N >= splits >= 1``.
    """
    probs = np.asarray(probs, np.float64)
    if probs.ndim != 2 or probs.shape[0] < splits or splits < 1:
        raise ValueError(f"need probs [N, K] with N >= splits >= 1, got {probs.shape} and {splits} splits")
    scores = []
    for part in np.array_split(probs, splits):
        marginal = part.mean(axis=0, keepdims=True)
        safe = np.where(part > 0, part, 1.0)
        kl = np.sum(part * (np.log(safe) - np.log(np.where(part > 0, marginal, 1.0))), axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores))


def _sqrtm_psd(c: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(c)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(features_a, features_b) -> float:
    """Computes the Frechet distance between Gaussians fitted to two feature sets (the FID formula).

    ``||mu_a - mu_b||^2 + tr(C_a) + tr(C_b) - 2 tr((C_a C_b)^{1/2})`` with unbiased covariances.
    The trace of the matrix square root uses the symmetric form
    ``tr((C_a C_b)^{1/2}) = tr((C_a^{1/2} C_b C_a^{1/2})^{1/2}) = sum_i sqrt(lambda_i)``, the
    ``lambda_i`` being the eigenvalues of the symmetric PSD matrix ``C_a^{1/2} C_b C_a^{1/2}``
    (``C_a^{1/2}`` by ``eigh``; tiny negative eigenvalues from rounding are clipped to 0). This is
    exact, real, and avoids ``scipy.linalg.sqrtm``'s complex round-off on singular covariances.
    All in float64.

    Args:
      features_a: ``[N, D]`` features, ``N >= 2``.
      features_b: ``[M, D]`` features, ``M >= 2``.

    Returns:
      The distance, clipped at 0 against rounding.

    Raises:
      ValueError: for feature sets of other shapes or fewer than 2 rows.
    """
    a = np.asarray(features_a, np.float64)
    b = np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(a.shape[0], b.shape[0]) < 2:
        raise ValueError(f"need features [N, D] and [M, D] with N, M >= 2, got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    root_a = _sqrtm_psd(cov_a)
    middle = root_a @ cov_b @ root_a
    eig = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    tr_sqrt = np.sum(np.sqrt(np.clip(eig, 0.0, None)))
    value = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * tr_sqrt
    return float(max(value, 0.0))


def class_histogram_kl(pred_labels_generated, labels_real, num_classes: int, eps: float = 1e-6) -> float:
    """Computes the KL divergence between the class histograms of two label sets.

    ``KL(h_gen || h_real) = sum_k h_gen[k] log(h_gen[k] / h_real[k])``.

    ``h`` are class frequencies; ``eps`` is added to every bin of both histograms (then renormalised)
    so that a class absent from the real data gives a large finite value rather than infinity
    (with ``eps=0`` that case is ``inf``, and empty generated bins count ``0 log 0 = 0``). It is
    0 for identical histograms; dropping one of ten equally likely classes gives about
    ``log(10 / 9) = 0.105``.

    Args:
      pred_labels_generated: the classes predicted for the generated images.
      labels_real: the real images' classes (or the classes predicted for them).
      num_classes: ``K``; every label must lie in ``[0, K)``.
      eps: added to every bin before renormalising.

    Returns:
      The divergence.

    Raises:
      ValueError: for an empty label set or a label outside ``[0, K)``.
    """
    def hist(labels):
        labels = np.asarray(labels).astype(np.int64).ravel()
        if labels.size == 0 or labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError(f"labels must be a non-empty set of classes in [0, {num_classes})")
        h = np.bincount(labels, minlength=num_classes).astype(np.float64) / labels.size + eps
        return h / h.sum()

    p, q = hist(pred_labels_generated), hist(labels_real)
    used = p > 0  # 0 log 0 = 0 (only reachable with eps = 0)
    with np.errstate(divide="ignore"):
        return float(np.sum(p[used] * (np.log(p[used]) - np.log(q[used]))))
