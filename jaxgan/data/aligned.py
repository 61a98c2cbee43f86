"""Paired image data for translation (pix2pix): image ``i`` of domain A goes with image ``i`` of B.

**Batches** (:func:`paired_batches`): ``batch_fn((images_a, images_b), key, index)`` for the
compiled training loop. The pairs are walked in epochs of one shuffle
(:func:`jaxgan.data.images.epoch_batches` on both arrays at once, so a pair stays a pair); then per
pair, from the step's key, one random ``crop_size`` crop and one horizontal flip with probability
1/2 applied to both images alike (the reference's aligned mode: the same crop and flip parameters
for A and B). uint8 images are mapped to ``[-1, 1]`` by ``x / 127.5 - 1``.

**Folders** (:func:`load_aligned_folder`): the reference's aligned layout ``<root>/train/``,
``<root>/test/``, each image holding A on its left half and B on its right half. Each half is
resized to ``load_size x load_size`` (bicubic, as the reference) and kept as uint8.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.data.images import DatasetError, epoch_batches
from jaxgan.data.unpaired import as_signed_float, random_crop_flip

__all__ = ["PairedData", "paired_batches", "split_side_by_side", "load_aligned_folder"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class PairedData(NamedTuple):
    """``images_a [N, S, S, C_A]`` and ``images_b [N, S, S, C_B]``: pair ``i`` is ``(images_a[i], images_b[i])``."""

    images_a: np.ndarray
    images_b: np.ndarray


def paired_batches(batch_size: int, *, crop_size: Optional[int] = None, flip: bool = False, seed: int = 0):
    """``batch_fn((images_a, images_b), key, index) -> (real_a, real_b)``, float32 in ``[-1, 1]``.

    The pairs' order is ``epoch_batches(batch_size, PRNGKey(seed))``; crops and flips are drawn
    from the step's ``key``, the same for both images of a pair (module notes).
    """
    batches = epoch_batches(batch_size, jax.random.PRNGKey(seed))

    def batch_fn(data, key, index):
        images_a, images_b = batches(data, None, index)
        if images_a.shape[:3] != images_b.shape[:3]:
            raise ValueError(f"paired images differ in shape: {images_a.shape} and {images_b.shape}")
        channels = images_a.shape[-1]
        both = random_crop_flip(jnp.concatenate([images_a, images_b], axis=-1), key, crop_size, flip)
        return as_signed_float(both[..., :channels]), as_signed_float(both[..., channels:])

    return batch_fn


def split_side_by_side(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[H, 2W, C] -> ([H, W, C], [H, W, C])``: the left half (A) and the right half (B).

    Raises:
      DatasetError: for an odd width.
    """
    width = image.shape[1]
    if width % 2:
        raise DatasetError(f"an aligned image holds A|B side by side, so its width must be even, got {width}")
    return image[:, : width // 2], image[:, width // 2 :]


def load_aligned_folder(root, split: str = "train", *, load_size: int = 286, channels: int = 3) -> PairedData:
    """``<root>/<split>/`` images, each split into A (left) and B (right) at ``load_size`` (module notes).

    Raises:
      DatasetError: for a missing folder, no images, or an unreadable image.
    """
    from PIL import Image, UnidentifiedImageError

    if root is None:
        raise DatasetError("the folder data set needs --data-dir (with train/ and test/ of A|B images)")
    folder = Path(root).expanduser() / split
    if not folder.is_dir():
        raise DatasetError(f"{Path(root).expanduser()} has no {split}/ folder (expected train/ and test/ of A|B images)")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DatasetError(f"no images in {folder}")
    mode = {1: "L", 3: "RGB"}[channels]
    halves_a, halves_b = [], []
    for path in files:
        try:
            with Image.open(path) as im:
                image = np.asarray(im.convert(mode))
        except (UnidentifiedImageError, OSError) as e:
            raise DatasetError(f"cannot read {path}: {e}") from None
        image = image[..., None] if image.ndim == 2 else image
        for half, out in zip(split_side_by_side(image), (halves_a, halves_b)):
            resized = Image.fromarray(half.squeeze(-1) if channels == 1 else half).resize((load_size, load_size), Image.BICUBIC)
            out.append(np.asarray(resized, np.uint8).reshape(load_size, load_size, channels))
    return PairedData(np.stack(halves_a), np.stack(halves_b))
