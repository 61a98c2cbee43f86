"""Evaluation metrics, as pure functions of samples or parameters."""

from jaxgan.metrics.classifier import (
    Classifier,
    evaluate_images,
    fidelity_and_diversity,
    get_classifier,
    train_classifier,
)
from jaxgan.metrics.scores import class_histogram_kl, classifier_score, frechet_distance
from jaxgan.metrics.manifolds import knn_radii, precision_recall_density_coverage
from jaxgan.metrics.gaussian import covariance_relative_error, gaussian_fit_errors, mean_error
from jaxgan.metrics.mixtures import (
    high_quality_percent,
    mixture_metrics,
    mode_counts,
    modes_covered,
    nearest_mode,
    reverse_kl,
)

__all__ = [
    "Classifier",
    "class_histogram_kl",
    "classifier_score",
    "covariance_relative_error",
    "evaluate_images",
    "fidelity_and_diversity",
    "frechet_distance",
    "gaussian_fit_errors",
    "get_classifier",
    "mean_error",
    "train_classifier",
    "high_quality_percent",
    "knn_radii",
    "mixture_metrics",
    "mode_counts",
    "modes_covered",
    "nearest_mode",
    "precision_recall_density_coverage",
    "reverse_kl",
]
