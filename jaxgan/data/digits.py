"""scikit-learn's bundled 8x8 digits (no download), split into ``train`` and ``test`` by a fixed
permutation; see :mod:`jaxgan.data.images`.
"""

from __future__ import annotations

import functools
from typing import Optional

import numpy as np

from jaxgan.data.image_dataset import ImageDataset, check_split, make_dataset, maybe_resize, to_unit_range

__all__ = ["DIGITS_TEST_SIZE", "load_digits"]

DIGITS_TEST_SIZE = 360


@functools.lru_cache(maxsize=1)
def _sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    images, labels = bunch.images.astype(np.float32)[..., None], bunch.target.astype(np.int32)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_digits(*, split: str = "train", image_size: Optional[int] = None) -> ImageDataset:
    """scikit-learn's 8x8 digits (values 0..16, mapped by ``x / 8 - 1``), split by a fixed permutation.

    ``numpy.random.default_rng(0).permutation(1797)``: the first 360 indices are ``test``, the other
    1,437 ``train``; ``all`` keeps the original order.
    """
    check_split(split)
    images, labels = _sklearn_digits()
    if split != "all":
        order = np.random.default_rng(0).permutation(images.shape[0])
        idx = np.sort(order[:DIGITS_TEST_SIZE] if split == "test" else order[DIGITS_TEST_SIZE:])
        images, labels = images[idx], labels[idx]
    ds = make_dataset(to_unit_range(images, 16.0), labels, 10, "digits")
    return maybe_resize(ds, image_size)
