"""A directory of image files as one unlabelled data set: every image under it (recursively, sorted),
read with Pillow, converted to RGB or grayscale, shorter side resized then centre-cropped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np

from jaxgan.data.image_dataset import DatasetError, ImageDataset, make_dataset, to_unit_range

__all__ = ["IMAGE_EXTENSIONS", "list_image_files", "load_image_folder", "read_image_folder"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".pbm")


def list_image_files(directory: Path) -> tuple[list[Path], int]:
    """The image files under ``directory``, as the loaders read them, and how many others there are.

    Args:
      directory: the folder, read recursively; hidden files and folders are skipped.

    Returns:
      ``(files, skipped)``: the files with an extension of :data:`IMAGE_EXTENSIONS`, sorted folder
      by folder, and the number of other (non-hidden) files.
    """
    files, skipped = [], 0
    for root, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            if name.lower().endswith(IMAGE_EXTENSIONS):
                files.append(Path(root) / name)
            else:
                skipped += 1
    return files, skipped


def _load_image(path: Path, mode: str, image_size: Optional[int]) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert(mode)
            if image_size is not None:
                w, h = img.size
                scale = image_size / min(w, h)
                new = (max(image_size, round(w * scale)), max(image_size, round(h * scale)))
                if new != (w, h):
                    img = img.resize(new, Image.Resampling.BILINEAR)
                left, top = (new[0] - image_size) // 2, (new[1] - image_size) // 2
                img = img.crop((left, top, left + image_size, top + image_size))
            array = np.asarray(img, np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise DatasetError(f"cannot read image {path} ({type(e).__name__}: {e}); remove or replace it") from e
    return array.reshape(array.shape[0], array.shape[1], -1)


def read_image_folder(data_dir, *, image_size: Optional[int] = None, channels: int = 3) -> np.ndarray:
    """Every image under ``data_dir`` as uint8 ``[N, H, W, channels]`` (see :func:`load_image_folder`).

    For callers that keep 8-bit images (a quarter of the float32 memory) and scale them on the device.
    """
    if channels not in (1, 3):
        raise DatasetError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels}")
    if data_dir is None:
        raise DatasetError("the folder data set needs --data-dir (a directory of images)")
    directory = Path(data_dir).expanduser()
    if not directory.is_dir():
        raise DatasetError(f"image folder {directory} does not exist")
    files, skipped = list_image_files(directory)
    if not files:
        raise DatasetError(
            f"image folder {directory} has no image files ({skipped} other files; "
            f"extensions read: {' '.join(IMAGE_EXTENSIONS)})"
        )
    mode = "RGB" if channels == 3 else "L"
    first = _load_image(files[0], mode, image_size)
    out = np.empty((len(files), *first.shape), np.uint8)
    out[0] = first
    for i, f in enumerate(files[1:], start=1):
        image = _load_image(f, mode, image_size)
        if image.shape != first.shape:
            raise DatasetError(
                f"images in {directory} have different sizes ({files[0].name}: {first.shape[:2]}, "
                f"{f.name}: {image.shape[:2]}); pass an image size"
            )
        out[i] = image
    return out


def load_image_folder(
    data_dir, *, image_size: Optional[int] = None, channels: int = 3, name: str = "folder"
) -> ImageDataset:
    """Every image under ``data_dir`` (recursive, sorted by path) as one unlabelled data set.

    Files whose extension is not an image extension (``IMAGE_EXTENSIONS``) and hidden files are
    skipped; an image file Pillow cannot decode raises :class:`DatasetError`. Each image is converted
    to ``RGB`` (``channels=3``; grayscale images become three equal planes, alpha is dropped) or
    ``L`` (``channels=1``), its shorter side resized (bilinear) to ``image_size`` and the centre
    ``image_size x image_size`` square kept. Without ``image_size`` all images must share one size.
    """
    images = read_image_folder(data_dir, image_size=image_size, channels=channels)
    return make_dataset(to_unit_range(images), None, None, name)
