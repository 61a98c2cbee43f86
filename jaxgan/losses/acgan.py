"""The auxiliary-classifier GAN's losses (ACGAN, Odena et al. 2017), TF-GAN's names and arguments.

An ACGAN's D has two heads: the real-vs-fake logit and ``K`` class logits. Besides the adversarial
loss, D learns to classify both real and generated images by their labels, and G learns to make
images D classifies as the label it was given:

``L_D^cls = E_(x,y)~data[CE(c(x), y)] + E_(z,y)[CE(c(G(z, y)), y)]``,
``L_G^cls = E_(z,y)[CE(c(G(z, y)), y)]``, with ``CE(l, t) = -sum_k t_k log softmax(l)_k``.

The classes are the last axis of the class logits and one-hot labels: ``[batch, K]``, or
``[batch, ..., K]`` for a class head per patch (each example's loss the mean over its patches). The
reductions and weights follow :mod:`jaxgan.losses` (per-example weights along the batch axis).
:func:`jaxgan.losses.acgan_objective` adds them to an adversarial objective, for a D whose output is
an :class:`ACGANOutput`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxgan.losses.reduction import as_float32, two_terms, weighted_reduce

__all__ = ["ACGANOutput", "acgan_discriminator_loss", "acgan_generator_loss"]


class ACGANOutput(NamedTuple):
    """An auxiliary-classifier D's output: ``logit`` (real vs fake; first, as the steps' read-outs
    expect), ``class_logits`` ``[batch, K]`` and the ``labels`` of the samples it judged (passed on
    from its input, so that the objective sees them)."""

    logit: Any
    class_logits: Any
    labels: Any


def _softmax_cross_entropy(logits: jax.Array, one_hot_labels: jax.Array, label_smoothing: float = 0.0) -> jax.Array:
    """``-sum_k t_k log softmax(l)_k`` per example, with ``t = (1 - s) one_hot + s / K`` (TF's smoothing)."""
    logits, targets = as_float32(logits), as_float32(one_hot_labels)
    if logits.shape != targets.shape:
        raise ValueError(f"class logits {logits.shape} and one-hot labels {targets.shape} must have the same shape")
    if label_smoothing:
        targets = targets * (1.0 - label_smoothing) + label_smoothing / logits.shape[-1]
    return -jnp.sum(targets * jax.nn.log_softmax(logits, axis=-1), axis=-1)


def acgan_discriminator_loss(
    discriminator_real_classification_logits,
    discriminator_gen_classification_logits,
    one_hot_labels,
    *,
    generated_one_hot_labels=None,
    label_smoothing=0.0,
    real_weights=1.0,
    generated_weights=1.0,
    reduction="mean",
):
    """D's classification loss on real and generated images (TF-GAN's ``acgan_discriminator_loss``).

    ``L = E_real[CE(c(x), smooth(y))] + E_gen[CE(c(G(z, y')), y')]``, ``CE(l, t) = -sum_k t_k log
    softmax(l)_k``, each term reduced over its own batch, the two added. ``smooth(y) = (1 - s) y +
    s / K`` on the real term only (TF-GAN's ``label_smoothing``).

    Args:
      discriminator_real_classification_logits: D's class logits on real images, ``[batch, K]``.
      discriminator_gen_classification_logits: D's class logits on generated images, ``[batch', K]``.
      one_hot_labels: the real images' labels, one-hot ``[batch, K]``.
      generated_one_hot_labels: G's labels, one-hot; ``None``: ``one_hot_labels`` (TF-GAN's case,
        G given the real batch's labels).
      label_smoothing: ``s`` on the real term.
      real_weights, generated_weights: per-example weights of each term.
      reduction: as in :mod:`jaxgan.losses`.

    Returns:
      The loss (per-example values with ``reduction="none"``).
    """
    if generated_one_hot_labels is None:
        generated_one_hot_labels = one_hot_labels
    real = _softmax_cross_entropy(discriminator_real_classification_logits, one_hot_labels, label_smoothing)
    gen = _softmax_cross_entropy(discriminator_gen_classification_logits, generated_one_hot_labels)
    return two_terms(real, gen, 1.0, real_weights, generated_weights, reduction)


def acgan_generator_loss(discriminator_gen_classification_logits, one_hot_labels, *, weights=1.0, reduction="mean"):
    """G's classification loss (TF-GAN's ``acgan_generator_loss``): ``L = E_gen[CE(c(G(z, y)), y)]``.

    Args:
      discriminator_gen_classification_logits: D's class logits on generated images, ``[batch, K]``.
      one_hot_labels: the labels G was given, one-hot ``[batch, K]``.
      weights: per-example weights.
      reduction: as in :mod:`jaxgan.losses`.

    Returns:
      The loss.
    """
    return weighted_reduce(_softmax_cross_entropy(discriminator_gen_classification_logits, one_hot_labels), weights, reduction)
