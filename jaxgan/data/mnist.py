"""MNIST and Fashion-MNIST from IDX files (gzipped or not), in ``data_dir`` or downloaded into the
cache from the canonical mirrors and checked against their MD5 sums; see :mod:`jaxgan.data.images`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from jaxgan.data.downloads import default_cache_dir, fetch_checked, offline_hint
from jaxgan.data.idx import IDXError, read_idx
from jaxgan.data.image_dataset import (
    DatasetError,
    ImageDataset,
    check_split,
    make_dataset,
    maybe_resize,
    to_unit_range,
)

__all__ = ["MNIST_MD5", "load_mnist"]

_MNIST_MIRRORS = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    "fashion_mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}
# MD5 of the gzipped files as published (the same sums torchvision checks).
MNIST_MD5 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}
_IDX_PREFIX = {"train": "train", "test": "t10k"}


def _idx_candidates(prefix: str, kind: str) -> list[str]:
    """File names people use for one IDX file: ``t10k-images-idx3-ubyte``, ``.gz``, ``t10k-images.idx3-ubyte``."""
    dims = "idx3" if kind == "images" else "idx1"
    names = [f"{prefix}-{kind}-{dims}-ubyte", f"{prefix}-{kind}.{dims}-ubyte"]
    return [n + ext for n in names for ext in ("", ".gz")]


def _find_idx(directory: Path, prefix: str, kind: str) -> Optional[Path]:
    for name in _idx_candidates(prefix, kind):
        if (directory / name).is_file():
            return directory / name
    return None


def _available_splits(directory: Path) -> list[str]:
    return [
        s
        for s, p in _IDX_PREFIX.items()
        if _find_idx(directory, p, "images") is not None and _find_idx(directory, p, "labels") is not None
    ]


def _read_idx_split(images_path: Path, labels_path: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        images = read_idx(images_path)
        labels = read_idx(labels_path)
    except IDXError as e:
        raise DatasetError(f"{name}: {e}; replace the file (or delete it to download again)") from e
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DatasetError(f"{images_path}: expected uint8 images [N, H, W], got {images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise DatasetError(f"{labels_path}: {labels.shape} labels for {images.shape[0]} images in {images_path.name}")
    if labels.size and labels.max() > 9:
        raise DatasetError(f"{labels_path}: label {int(labels.max())} outside 0..9")
    return images, labels


def load_mnist(
    name: str = "mnist",
    *,
    data_dir=None,
    split: str = "train",
    image_size: Optional[int] = None,
    cache_dir=None,
    download: bool = True,
) -> ImageDataset:
    """MNIST or Fashion-MNIST (``name``) from IDX files; see the module docstring."""
    if name not in MNIST_MD5:
        raise DatasetError(f"unknown IDX data set {name!r}; choose mnist or fashion_mnist")
    check_split(split)
    wanted = ["train", "test"] if split == "all" else [split]
    if data_dir is not None:
        directory = Path(data_dir).expanduser()
        if not directory.is_dir():
            raise DatasetError(f"{name}: data directory {directory} does not exist; {offline_hint(name)}")
        have = _available_splits(directory)
        missing = [s for s in wanted if s not in have]
        if missing:
            files = " and ".join(_idx_candidates(_IDX_PREFIX[missing[0]], k)[1] for k in ("images", "labels"))
            found = f"it has the {'/'.join(have)} split (use split={have[0]!r})" if have else "it has no IDX files"
            raise DatasetError(f"{name}: {directory} lacks {files} for split {missing[0]!r}; {found}")
    else:
        directory = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        directory = directory / name
        for s in wanted:
            for kind in ("images", "labels"):
                if _find_idx(directory, _IDX_PREFIX[s], kind) is not None:
                    continue
                file = _idx_candidates(_IDX_PREFIX[s], kind)[1]
                if not download:
                    raise DatasetError(
                        f"{name}: {file} is not in the cache {directory} and download=False; {offline_hint(name)}"
                    )
                urls = [m + file for m in _MNIST_MIRRORS[name]]
                fetch_checked(urls, directory / file, MNIST_MD5[name][file], name)
    parts = [
        _read_idx_split(
            _find_idx(directory, _IDX_PREFIX[s], "images"), _find_idx(directory, _IDX_PREFIX[s], "labels"), name
        )
        for s in wanted
    ]
    shapes = {p[0].shape[1:] for p in parts}
    if len(shapes) > 1:
        raise DatasetError(f"{name}: train and test images have different sizes {sorted(shapes)}")
    images = np.concatenate([p[0] for p in parts])[..., None]
    labels = np.concatenate([p[1] for p in parts])
    ds = make_dataset(to_unit_range(images), labels, 10, name)
    return maybe_resize(ds, image_size)
