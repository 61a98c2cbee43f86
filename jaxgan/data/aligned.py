"""Paired image data for translation (pix2pix): image ``i`` of domain A goes with image ``i`` of B.

**Batches** (:func:`paired_batches`): ``batch_fn((images_a, images_b), key, index)`` for the
compiled training loop. The pairs are walked in epochs of one shuffle
(:func:`jaxgan.data.images.epoch_batches` on both arrays at once, so a pair stays a pair); then per
pair, from the step's key, one random ``crop_size`` crop and one horizontal flip with probability
1/2 applied to both images alike (the reference's aligned mode: the same crop and flip parameters
for A and B). uint8 images are mapped to ``[-1, 1]`` by ``x / 127.5 - 1``.

**Folders** (:func:`load_aligned_folder`), in either of the reference's two layouts:

* side by side, its aligned data sets: ``<root>/train/``, ``<root>/test/``, each image holding A on
  its left half and B on its right half;
* two parallel folders, what its ``combine_A_and_B.py`` takes: ``<root>/A/train/`` and
  ``<root>/B/train/`` (and ``test/``), image ``A/train/x.jpg`` paired with the image of the same
  relative path and name under ``B/train/`` (any image extension).

Each image (or half) is resized to ``load_size x load_size`` (bicubic, as the reference) and kept as uint8.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.data.images import DatasetError, epoch_batches
from jaxgan.data.unpaired import as_signed_float, random_crop_flip

__all__ = ["PairedData", "paired_batches", "split_side_by_side", "load_aligned_folder", "parallel_folder_pairs"]

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


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def parallel_folder_pairs(folder_a, folder_b) -> list[tuple[Path, Path]]:
    """The pairs of two parallel folders: each image under ``folder_a`` with the image of the same
    relative path, extension aside, under ``folder_b``; in the order of ``folder_a``'s sorted paths.

    Raises:
      DatasetError: no images, or an image of one folder without its partner in the other (the first
        few named).
    """
    key = lambda root: {p.relative_to(root).with_suffix("").as_posix(): p for p in _image_files(root)}
    a, b = key(Path(folder_a)), key(Path(folder_b))
    if not a:
        raise DatasetError(f"no images in {folder_a}")
    for mine, other, folder in ((a, b, folder_b), (b, a, folder_a)):
        alone = sorted(set(mine) - set(other))
        if alone:
            shown = ", ".join(alone[:3]) + (f" and {len(alone) - 3} more" if len(alone) > 3 else "")
            raise DatasetError(f"{len(alone)} image(s) without a partner of the same name in {folder}: {shown}")
    return [(a[name], b[name]) for name in sorted(a)]


def _read(path: Path, mode: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            image = np.asarray(im.convert(mode))
    except (UnidentifiedImageError, OSError) as e:
        raise DatasetError(f"cannot read {path}: {e}") from None
    return image[..., None] if image.ndim == 2 else image


def _resized(image: np.ndarray, load_size: int) -> np.ndarray:
    from PIL import Image

    channels = image.shape[-1]
    resized = Image.fromarray(image[..., 0] if channels == 1 else image).resize((load_size, load_size), Image.BICUBIC)
    return np.asarray(resized, np.uint8).reshape(load_size, load_size, channels)


def load_aligned_folder(root, split: str = "train", *, load_size: int = 286, channels: int = 3) -> PairedData:
    """The pairs of ``split`` under ``root``, side by side or in two parallel folders (module notes),
    each image resized to ``load_size``.

    Args:
      root: the data set's folder: ``<root>/<split>/`` of A|B images, or ``<root>/A/<split>/`` and
        ``<root>/B/<split>/`` of images paired by name.
      split: ``train`` or ``test``.
      load_size: the side every image (or half) is resized to.
      channels: 1 (grayscale) or 3 (RGB).

    Returns:
      :class:`PairedData`, uint8.

    Raises:
      DatasetError: for a missing folder, no images, an unreadable image, an image without its
        partner (parallel folders) or of odd width (side by side).
    """
    if root is None:
        raise DatasetError("the folder data set needs --data-dir (with train/ and test/ of A|B images, "
                           "or A/train/ and B/train/ of images paired by name)")  # fmt: skip
    root = Path(root).expanduser()
    mode = {1: "L", 3: "RGB"}[channels]
    folder = root / split
    if folder.is_dir():
        files = _image_files(folder)
        if not files:
            raise DatasetError(f"no images in {folder}")
        halves = [split_side_by_side(_read(path, mode)) for path in files]
    elif (root / "A" / split).is_dir() and (root / "B" / split).is_dir():
        halves = [(_read(a, mode), _read(b, mode)) for a, b in parallel_folder_pairs(root / "A" / split, root / "B" / split)]
    else:
        raise DatasetError(f"{root} has no {split}/ folder (expected train/ and test/ of A|B images, "
                           f"or A/{split}/ and B/{split}/ of images paired by name)")  # fmt: skip
    return PairedData(*(np.stack([_resized(pair[i], load_size) for pair in halves]) for i in (0, 1)))
