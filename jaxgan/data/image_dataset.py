"""The type every image loader returns, :class:`ImageDataset`, and what the loaders share: the one-line
:class:`DatasetError`, the checks of image arrays, the scaling of pixels onto ``[-1, 1]`` and resizing
(:func:`resize_images`; see :mod:`jaxgan.data.images` for when each method applies).
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "DatasetError",
    "ImageDataset",
    "SPLITS",
    "check_split",
    "make_dataset",
    "maybe_resize",
    "resize_images",
    "to_unit_range",
    "validate_images",
]

SPLITS = ("train", "test", "all")


class DatasetError(ValueError):
    """A data set that cannot be loaded; the message is one line and says what to do."""


class ImageDataset(NamedTuple):
    """Images ``[N, H, W, C]`` float32 in ``[-1, 1]``; ``labels`` int32 ``[N]`` or ``None``."""

    images: np.ndarray
    labels: Optional[np.ndarray]
    num_classes: Optional[int]
    name: str

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    @property
    def num_examples(self) -> int:
        return int(self.images.shape[0])


# ----------------------------------------------------------------------------- checks and scaling


def to_unit_range(pixels: np.ndarray, max_value: float = 255.0) -> np.ndarray:
    """``pixels / (max_value / 2) - 1`` as float32: ``[0, max_value]`` onto ``[-1, 1]``."""
    return (np.asarray(pixels, np.float32) / np.float32(max_value / 2.0) - np.float32(1.0)).astype(np.float32)


def validate_images(images: np.ndarray, what: str = "images") -> np.ndarray:
    """Checks ``[N, H, W, C]`` (C in 1, 3, 4), N >= 1, finite values in ``[-1, 1]``; returns float32."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4) or min(images.shape) < 1:
        raise DatasetError(f"{what}: expected images [N, H, W, C] with C in (1, 3, 4), got shape {images.shape}")
    images = images.astype(np.float32, copy=False)
    finite = np.isfinite(images)
    if not finite.all():
        raise DatasetError(f"{what}: {int((~finite).sum())} pixel values are NaN or infinite")
    lo, hi = float(images.min()), float(images.max())
    if lo < -1.0 - 1e-5 or hi > 1.0 + 1e-5:
        raise DatasetError(f"{what}: pixel values span [{lo:.3g}, {hi:.3g}], expected [-1, 1]")
    return images


def make_dataset(images, labels, num_classes, name) -> ImageDataset:
    """An :class:`ImageDataset` from loaded images and labels, both checked (one-line errors)."""
    images = validate_images(images, name)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (images.shape[0],):
            raise DatasetError(f"{name}: {labels.shape} labels for {images.shape[0]} images")
        labels = labels.astype(np.int32)
        if num_classes is not None and labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise DatasetError(f"{name}: labels outside [0, {num_classes})")
    return ImageDataset(images, labels, num_classes, name)


def check_split(split: str, allowed: Sequence[str] = SPLITS) -> None:
    """Raises :class:`DatasetError` unless ``split`` is one of ``allowed``."""
    if split not in allowed:
        raise DatasetError(f"unknown split {split!r}; choose one of {', '.join(allowed)}")


# ----------------------------------------------------------------------------- resizing


def _cpu():
    return jax.devices("cpu")[0]


def resize_images(images: np.ndarray, size: int, method: str = "auto", *, chunk: int = 4096) -> np.ndarray:
    """Square images ``[N, H, W, C]`` in ``[-1, 1]`` resized to ``size x size``.

    ``method``: ``"pad"`` adds ``(size - H) / 2`` pixels of background ``-1`` on every side (needs an
    even, non-negative difference); ``"bilinear"`` is ``jax.image.resize(..., "linear")``, which
    antialiases when shrinking; ``"auto"`` pads when ``0 < size - H <= 4`` and even (MNIST 28 -> 32)
    and is bilinear otherwise. Runs on the CPU in chunks; the result is clipped to ``[-1, 1]``.
    """
    images = np.asarray(images, np.float32)
    n, h, w, c = images.shape
    if size < 1:
        raise DatasetError(f"image size must be >= 1, got {size}")
    if (h, w) == (size, size):
        return images
    if method == "auto":
        method = "pad" if h == w and 0 < size - h <= 4 and (size - h) % 2 == 0 else "bilinear"
    if method == "pad":
        if h != w or size < h or (size - h) % 2:
            raise DatasetError(f"cannot pad {h}x{w} images to {size}x{size}; use method='bilinear'")
        p = (size - h) // 2
        return np.pad(images, ((0, 0), (p, p), (p, p), (0, 0)), constant_values=-1.0)
    if method != "bilinear":
        raise ValueError(f"unknown resize method {method!r}; choose auto, pad or bilinear")
    out = np.empty((n, size, size, c), np.float32)
    with jax.default_device(_cpu()):
        fn = jax.jit(lambda x: jnp.clip(jax.image.resize(x, (x.shape[0], size, size, c), "linear"), -1.0, 1.0))
        for begin in range(0, n, chunk):
            out[begin : begin + chunk] = np.asarray(fn(images[begin : begin + chunk]))
    return out


def maybe_resize(ds: ImageDataset, image_size: Optional[int]) -> ImageDataset:
    if image_size is None:
        return ds
    return ds._replace(images=resize_images(ds.images, int(image_size)))
