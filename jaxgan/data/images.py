"""Image datasets for the image GANs: the one entry point ``load_dataset``, holdout splits, and the
names of the modules that do the work (everything public re-exported here).

Every loader returns an :class:`ImageDataset` whose ``images`` are float32 NumPy ``[N, H, W, C]``
scaled to ``[-1, 1]`` (``x / 127.5 - 1`` for 8-bit data: the range of a ``tanh`` generator), with
int32 ``labels`` where the data have them. The type, its checks, the scaling and resizing are in
:mod:`jaxgan.data.image_dataset`; the cache directory and MD5-checked downloads in
:mod:`jaxgan.data.downloads`.

Datasets (``load_dataset(name, ...)``), each read by its own module:

* ``mnist``, ``fashion_mnist`` (:mod:`jaxgan.data.mnist`): IDX files, gzipped or not, from ``data_dir``
  (standard names such as ``train-images-idx3-ubyte.gz`` / ``t10k-labels-idx1-ubyte``); without
  ``data_dir`` from ``cache_dir`` (default ``~/.cache/jaxgan``), downloaded there from the canonical
  mirrors and checked against their MD5 sums when absent. Splits ``train`` (60,000), ``test``
  (10,000), ``all``.
* ``cifar10`` (:mod:`jaxgan.data.cifar10`): the python pickle batches (``data_batch_1..5``,
  ``test_batch``) in ``data_dir`` (or its ``cifar-10-batches-py`` subfolder); downloaded like MNIST
  when ``data_dir`` is not given.
* ``digits`` (:mod:`jaxgan.data.digits`): scikit-learn's bundled 8x8 digits (1,797 images, no
  download); a fixed permutation (seed 0) puts 360 images in ``test`` and 1,437 in ``train``.
* ``folder`` (:mod:`jaxgan.data.image_folder`): every image file under ``data_dir`` (recursively,
  sorted), read with Pillow, converted to RGB or grayscale (``channels``), shorter side resized to
  ``image_size`` then centre-cropped.

Resizing (``image_size``): ``None`` keeps the native size. MNIST-like 28x28 to 32x32 pads 2 pixels of
background (-1) on each side - the usual DCGAN choice, which keeps the strokes exactly as they are;
every other change of size is a bilinear resize (antialiased when shrinking), see
:func:`resize_images`.

Feeding the loaded images to training lives in :mod:`jaxgan.data.image_batches` (``epoch_batches``,
``grouped_batches``, ``HostBatchStream``, ``fits_in_device_memory``; re-exported here).

Every problem with the data (missing or empty directory, corrupt IDX, unreadable image, wrong shape,
NaN) raises :class:`DatasetError` with a one-line message that says what to do.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from jaxgan.data.cifar10 import load_cifar10
from jaxgan.data.digits import DIGITS_TEST_SIZE, load_digits  # noqa: F401 - re-exported
from jaxgan.data.downloads import OFFLINE_HINT, default_cache_dir  # noqa: F401 - re-exported
from jaxgan.data.image_batches import HostBatchStream, epoch_batches, fits_in_device_memory, grouped_batches
from jaxgan.data.image_dataset import (  # noqa: F401 - SPLITS re-exported
    SPLITS,
    DatasetError,
    ImageDataset,
    check_split,
    resize_images,
    to_unit_range,
    validate_images,
)
from jaxgan.data.image_folder import IMAGE_EXTENSIONS, load_image_folder, read_image_folder  # noqa: F401
from jaxgan.data.mnist import MNIST_MD5, load_mnist  # noqa: F401 - re-exported

__all__ = [
    "DATASET_NAMES",
    "DatasetError",
    "HostBatchStream",
    "ImageDataset",
    "default_cache_dir",
    "epoch_batches",
    "fits_in_device_memory",
    "grouped_batches",
    "load_cifar10",
    "load_dataset",
    "load_digits",
    "load_image_folder",
    "load_mnist",
    "read_image_folder",
    "resize_images",
    "split_holdout",
    "to_unit_range",
    "validate_images",
]

DATASET_NAMES = ("mnist", "fashion_mnist", "cifar10", "digits", "folder")


# ----------------------------------------------------------------------------- dispatch and splits


def load_dataset(
    name: str,
    *,
    data_dir=None,
    split: str = "train",
    image_size: Optional[int] = None,
    cache_dir=None,
    download: bool = True,
    channels: int = 3,
) -> ImageDataset:
    """Loads one of ``DATASET_NAMES``; ``image_size`` resizes (see the module docstring).

    ``split`` is ``train``, ``test`` or ``all``; the ``folder`` data set has no splits (use
    :func:`split_holdout`) and reads ``channels`` (1 or 3).
    """
    if name in ("mnist", "fashion_mnist"):
        return load_mnist(
            name, data_dir=data_dir, split=split, image_size=image_size, cache_dir=cache_dir, download=download
        )
    if name == "cifar10":
        return load_cifar10(
            data_dir=data_dir, split=split, image_size=image_size, cache_dir=cache_dir, download=download
        )
    if name == "digits":
        return load_digits(split=split, image_size=image_size)
    if name == "folder":
        check_split(split, ("train", "all"))
        return load_image_folder(data_dir, image_size=image_size, channels=channels)
    raise DatasetError(f"unknown data set {name!r}; choose one of {', '.join(DATASET_NAMES)}")


def split_holdout(dataset: ImageDataset, n_holdout: int, seed: int = 0) -> tuple[ImageDataset, ImageDataset]:
    """``(rest, holdout)``: ``n_holdout`` examples chosen by ``default_rng(seed).permutation``.

    Both parts keep the original order of their examples; the same seed gives the same split.
    """
    n = dataset.num_examples
    if not 0 < n_holdout < n:
        raise DatasetError(f"{dataset.name}: cannot hold out {n_holdout} of {n} examples (need 0 < holdout < {n})")
    order = np.random.default_rng(seed).permutation(n)
    hold, rest = np.sort(order[:n_holdout]), np.sort(order[n_holdout:])

    def take(idx):
        labels = None if dataset.labels is None else dataset.labels[idx]
        return dataset._replace(images=dataset.images[idx], labels=labels)

    return take(rest), take(hold)
