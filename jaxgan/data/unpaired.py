"""Unpaired image data for translation (CycleGAN): two domains, no correspondence between them.

**Folders** (:func:`load_unpaired_folder`): the standard CycleGAN layout ``<root>/trainA``,
``trainB``, ``testA``, ``testB``. Each folder is read with :func:`jaxgan.data.images.load_image_folder`
(recursive, sorted; non-image files skipped; a grayscale image in a colour folder converted to RGB;
an unreadable image raises ``DatasetError``) at ``load_size``: shorter side resized to
``load_size`` and the centre square kept (the reference resizes straight to ``load_size x
load_size``, bicubic: the same for the square images of the standard data sets, up to the bilinear
filter). The two domains may hold different numbers of images. Images are kept as uint8.

**Batches** (:func:`unpaired_batches`): ``batch_fn((images_a, images_b), key, index)`` for the
compiled training loop. Each domain is walked in epochs of its own independent shuffle
(:func:`jaxgan.data.images.epoch_batches`, different keys), so pairs never repeat in lockstep even
with equal sizes; then, per image and from the step's key, a random ``crop_size`` crop and a
horizontal flip with probability 1/2 (the reference's ``resize_and_crop`` + ``flip``). uint8
images are mapped to ``[-1, 1]`` by ``x / 127.5 - 1``.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.data.images import DatasetError, epoch_batches, load_image_folder

__all__ = ["UnpairedData", "load_unpaired_folder", "to_uint8", "as_signed_float", "random_crop_flip", "unpaired_batches"]

DOMAIN_FOLDERS = {"train": ("trainA", "trainB"), "test": ("testA", "testB")}


class UnpairedData(NamedTuple):
    """``images_a [N_A, S, S, C]`` and ``images_b [N_B, S, S, C]`` (uint8), ``N_A != N_B`` allowed."""

    images_a: np.ndarray
    images_b: np.ndarray


def to_uint8(images: np.ndarray) -> np.ndarray:
    """``[-1, 1]`` floats (from 8-bit data) back to uint8: ``round((x + 1) * 127.5)``."""
    return np.clip(np.round((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def load_unpaired_folder(root, split: str = "train", *, load_size: int = 286, channels: int = 3) -> UnpairedData:
    """``<root>/<split>A`` and ``<root>/<split>B`` at ``load_size x load_size`` (module notes)."""
    if split not in DOMAIN_FOLDERS:
        raise DatasetError(f"unknown split {split!r}; choose train or test")
    if root is None:
        raise DatasetError("the folder data set needs --data-dir (with trainA/ trainB/ testA/ testB/)")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetError(f"data directory {root} does not exist")
    domains = []
    for folder in DOMAIN_FOLDERS[split]:
        if not (root / folder).is_dir():
            raise DatasetError(f"{root} has no {folder}/ folder (expected trainA/ trainB/ testA/ testB/)")
        ds = load_image_folder(root / folder, image_size=load_size, channels=channels, name=folder)
        domains.append(to_uint8(ds.images))
    return UnpairedData(*domains)


def as_signed_float(images: jax.Array) -> jax.Array:
    """Images as float32 in ``[-1, 1]``: uint8 ``[0, 255]`` scaled, floats (already in range) as they are."""
    if images.dtype == jnp.uint8:
        return images.astype(jnp.float32) / 127.5 - 1.0
    return images.astype(jnp.float32)


def random_crop_flip(images: jax.Array, key: jax.Array, crop_size: Optional[int], flip: bool) -> jax.Array:
    """Per image: a uniformly placed ``crop_size`` square (``None``: no crop) and, if ``flip``, a
    left-right flip with probability 1/2."""
    n, h, w, c = images.shape
    crop_h, crop_w = (h, w) if crop_size is None else (crop_size, crop_size)
    if crop_h > h or crop_w > w:
        raise ValueError(f"crop size {crop_size} exceeds the {h}x{w} images")
    k_y, k_x, k_flip = jax.random.split(key, 3)
    ys = jax.random.randint(k_y, (n,), 0, h - crop_h + 1)
    xs = jax.random.randint(k_x, (n,), 0, w - crop_w + 1)
    crop = lambda im, y, x: jax.lax.dynamic_slice(im, (y, x, 0), (crop_h, crop_w, c))
    images = jax.vmap(crop)(images, ys, xs)
    if flip:
        flips = jax.random.bernoulli(k_flip, 0.5, (n,))
        images = jnp.where(flips[:, None, None, None], images[:, :, ::-1], images)
    return images


def unpaired_batches(batch_size: int, *, crop_size: Optional[int] = None, flip: bool = False, seed: int = 0):
    """``batch_fn((images_a, images_b), key, index) -> (real_a, real_b)``, float32 in ``[-1, 1]``.

    Domain A's order is ``epoch_batches(batch_size, fold_in(PRNGKey(seed), 0))``, domain B's uses
    ``fold_in(..., 1)``: independent shuffles, each domain in its own epochs. Crops and flips are
    drawn from the step's ``key``.
    """
    base = jax.random.PRNGKey(seed)
    batches_a = epoch_batches(batch_size, jax.random.fold_in(base, 0))
    batches_b = epoch_batches(batch_size, jax.random.fold_in(base, 1))

    def batch_fn(data, key, index):
        images_a, images_b = data
        k_a, k_b = jax.random.split(key)
        real_a = as_signed_float(random_crop_flip(batches_a(images_a, None, index), k_a, crop_size, flip))
        real_b = as_signed_float(random_crop_flip(batches_b(images_b, None, index), k_b, crop_size, flip))
        return real_a, real_b

    return batch_fn
