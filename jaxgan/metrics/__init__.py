"""Evaluation metrics, as pure functions of samples or parameters."""

from jaxgan.metrics.gaussian import covariance_relative_error, gaussian_fit_errors, mean_error

__all__ = ["covariance_relative_error", "gaussian_fit_errors", "mean_error"]
