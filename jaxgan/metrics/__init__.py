"""Evaluation metrics, as pure functions of samples or parameters."""

from jaxgan.metrics.classifier import (
    Classifier,
    class_histogram_kl,
    classifier_score,
    evaluate_images,
    frechet_distance,
    get_classifier,
    train_classifier,
)
from jaxgan.metrics.gaussian import covariance_relative_error, gaussian_fit_errors, mean_error

__all__ = [
    "Classifier",
    "class_histogram_kl",
    "classifier_score",
    "covariance_relative_error",
    "evaluate_images",
    "frechet_distance",
    "gaussian_fit_errors",
    "get_classifier",
    "mean_error",
    "train_classifier",
]
