"""Helpers for class-conditional GANs: the data's class frequencies and penalties on images.

A conditional GAN is a :class:`jaxgan.GAN` with ``class_probs`` (:mod:`jaxgan.gan`): its samples
are ``(images, labels)`` pairs. :func:`class_frequencies` gives ``class_probs`` from the data's
labels; :func:`conditional_penalty` turns a gradient penalty on images (``jaxgan.losses``) into
one on D's ``(images, labels)`` input that differentiates with respect to the images only.
"""

from __future__ import annotations

from typing import Callable

import jax
import numpy as np

__all__ = ["class_frequencies", "conditional_penalty"]


def class_frequencies(labels, num_classes: int) -> tuple[float, ...]:
    """Each class's share of ``labels``: ``count_c / n``, for ``GAN(class_probs=...)``.

    Args:
      labels: integer labels in ``[0, num_classes)``.
      num_classes: ``K``.

    Returns:
      ``K`` floats summing to 1.

    Raises:
      ValueError: for no labels, or labels outside ``[0, K)``.
    """
    labels = np.asarray(labels).ravel()
    if labels.size == 0:
        raise ValueError("class_frequencies needs at least one label")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}), got values from {labels.min()} to {labels.max()}")
    counts = np.bincount(labels, minlength=num_classes)
    return tuple(float(c) / labels.size for c in counts)


def conditional_penalty(penalty: Callable, labels: str = "real") -> Callable:
    """A penalty on images made a penalty on ``(images, labels)`` samples, for ``GAN.d_penalty``.

    ``penalty(d_fn, real, fake, key)`` (e.g. ``jaxgan.losses.make_penalty("r1", 5.0)``) is called
    with the image parts of the real and fake batches and ``d_fn(x) = logit(D((x, y)))``: D's
    real-vs-fake logit (an auxiliary classifier's first output) with the labels held fixed, so its
    gradient is with respect to the images only. ``y`` is the real batch's labels (``labels="real"``:
    R1, and the interpolates of WGAN-GP and DRAGAN, judged under the real image's class) or the
    fake batch's (``labels="fake"``: R2).

    Args:
      penalty: ``penalty(d_fn, real_images, fake_images, key) -> scalar``.
      labels: ``"real"`` or ``"fake"``: whose labels D is given.

    Returns:
      ``penalty(d_fn, (x_real, y_real), (x_fake, y_fake), key) -> scalar``.
    """
    if labels not in ("real", "fake"):
        raise ValueError(f"labels must be 'real' or 'fake', got {labels!r}")

    def conditional(d_fn, real, fake, key):
        (x_real, y_real), (x_fake, y_fake) = real, fake
        y = y_real if labels == "real" else y_fake
        return penalty(lambda x: jax.tree.leaves(d_fn((x, y)))[0], x_real, x_fake, key)

    return conditional
