"""Translation tasks whose right answer is known, so that a CycleGAN's quality is a number.

Domain A is real digits; domain B is a fixed, deterministic transform ``T`` of *other* digits. The
digits are split three ways: a held-out test set, and the rest halved at random into the digits
shown as domain A and those whose ``T`` is shown as domain B, so training never sees a pair
``(x, T(x))``. On the test digits the answer is known: ``G_AB(x)`` should be ``T(x)`` and
``G_BA(T(x))`` should be ``x``.

Transforms (images in ``[-1, 1]``, background -1, ink +1; ``u = (x + 1) / 2`` on ``[0, 1]``):

* ``thick`` (the default task): ``T(x) = max_{3x3}(x)``, strokes thickened by a 3x3 grey dilation
  (each pixel takes the maximum of its 3x3 neighbourhood, the image padded with background). No
  pixel-wise map can do it: a background pixel next to a stroke turns bright, one far from strokes
  stays dark. On 16x16 digits the best pixel-wise map (the median target of each input value) errs
  by 0.057 on the [0, 1] scale, the identity by 0.176.
* ``invert-thick``: ``T(x) = -max_{3x3}(x)``, thickened and inverted (dark strokes on white). The
  reference recipe learns a *permutation of the digits* here (it maps 2 to 5, 3 to 6, ...; the
  cycle is still closed, label preservation falls to ~1%): cycle consistency alone does not pin
  down which bijection is learnt, and the label-preservation metric is what exposes it.
* ``transpose``: ``T(x) = x^T`` (rows and columns swapped). Geometric and global, a stress test.

Task names are ``<base>-<transform>`` with base ``digits`` (scikit-learn's 8x8 digits, resized,
offline) or ``mnist`` (IDX files from ``data_dir``; the train split when present, else the test
split alone).
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.data.images import DatasetError, ImageDataset, load_dataset, split_holdout

__all__ = [
    "TRANSFORMS",
    "TASK_BASES",
    "TranslationTask",
    "thicken",
    "invert_thicken",
    "transpose",
    "parse_task",
    "load_translation_task",
]

TASK_BASES = ("digits", "mnist")


def thicken(images: jax.Array) -> jax.Array:
    """``T(x) = max_{3x3}(x)`` on ``[N, H, W, C]`` in ``[-1, 1]`` (outside the image counts as -1)."""
    return jax.lax.reduce_window(
        jnp.asarray(images, jnp.float32), -1.0, jax.lax.max, (1, 3, 3, 1), (1, 1, 1, 1), "SAME"
    )


def invert_thicken(images: jax.Array) -> jax.Array:
    """``T(x) = -max_{3x3}(x)``: :func:`thicken`, then dark strokes on white."""
    return -thicken(images)


def transpose(images: jax.Array) -> jax.Array:
    """``T(x)[i, j] = x[j, i]`` on ``[N, H, W, C]`` (square images)."""
    return jnp.swapaxes(jnp.asarray(images, jnp.float32), 1, 2)


TRANSFORMS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "thick": thicken,
    "invert-thick": invert_thicken,
    "transpose": transpose,
}


class TranslationTask(NamedTuple):
    """``train_a`` (digits), ``train_b`` (``T`` of other digits), ``test_a`` (held-out digits ``x``)
    and ``test_b`` (their ``T(x)``, the known answers, same order and labels). ``classify_a`` and
    ``classify_b`` hold every non-test digit in each domain's form, labelled: they train the
    evaluation classifiers only, never the translators."""

    name: str
    train_a: ImageDataset
    train_b: ImageDataset
    test_a: ImageDataset
    test_b: ImageDataset
    classify_a: ImageDataset
    classify_b: ImageDataset


def parse_task(name: str) -> tuple[str, str]:
    """``"digits-invert-thick" -> ("digits", "invert-thick")``; a clear error otherwise."""
    base, _, transform = name.partition("-")
    if base not in TASK_BASES or transform not in TRANSFORMS:
        known = ", ".join(f"{b}-{t}" for b in TASK_BASES for t in TRANSFORMS)
        raise DatasetError(f"unknown translation task {name!r}; known tasks: {known}")
    return base, transform


def _apply(transform, ds: ImageDataset, name: str) -> ImageDataset:
    return ds._replace(images=np.asarray(transform(ds.images), np.float32), name=name)


def _load_base(base: str, data_dir, image_size: int) -> ImageDataset:
    """The base data set: the bundled digits; MNIST's files in ``data_dir``, or downloaded into the
    cache without one (as ``load_dataset`` does for DCGAN)."""
    if base == "digits":
        return load_dataset("digits", split="all", image_size=image_size)
    if data_dir is None:
        return load_dataset(base, split="all", image_size=image_size, download=True)
    try:
        return load_dataset(base, data_dir=data_dir, split="all", image_size=image_size, download=False)
    except DatasetError:  # only the test split at hand (e.g. the shared MNIST test set)
        return load_dataset(base, data_dir=data_dir, split="test", image_size=image_size, download=False)


def load_translation_task(
    name: str = "digits-invert-thick",
    *,
    data_dir=None,
    image_size: int = 16,
    test_size: Optional[int] = None,
    seed: int = 0,
) -> TranslationTask:
    """Builds the task (module notes). ``test_size``: held-out digits (default: 360 for digits,
    i.e. the ``digits`` loader's own test split, else 1000); the rest is halved by
    ``default_rng(seed + 1)`` into domain A and the digits transformed for domain B."""
    base, transform_name = parse_task(name)
    transform = TRANSFORMS[transform_name]
    data = _load_base(base, data_dir, image_size)
    if test_size is None:
        test_size = 360 if base == "digits" else 1000
    rest, test = split_holdout(data, test_size, seed=seed)
    train_a, train_b_src = split_holdout(rest, rest.num_examples // 2, seed=seed + 1)
    return TranslationTask(
        name=name,
        train_a=train_a._replace(name=f"{base}-A"),
        train_b=_apply(transform, train_b_src, f"{name}-B"),
        test_a=test._replace(name=f"{base}-A-test"),
        test_b=_apply(transform, test, f"{name}-B-test"),
        classify_a=rest._replace(name=f"{base}-A-all"),
        classify_b=_apply(transform, rest, f"{name}-B-all"),
    )
