"""CIFAR-10 from its python pickle batches, in ``data_dir`` (or its ``cifar-10-batches-py`` subfolder)
or downloaded into the cache, checked against its MD5 sum and extracted; see :mod:`jaxgan.data.images`.
"""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path
from typing import Optional

import numpy as np

from jaxgan.data.downloads import default_cache_dir, fetch_checked, offline_hint
from jaxgan.data.image_dataset import (
    DatasetError,
    ImageDataset,
    check_split,
    make_dataset,
    maybe_resize,
    to_unit_range,
)

__all__ = ["load_cifar10"]

_CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_CIFAR_MD5 = "c58f30108f718f92721af3b95e74349a"
_CIFAR_FOLDER = "cifar-10-batches-py"
_CIFAR_FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
    except Exception as e:  # truncated or not a pickle
        raise DatasetError(f"cifar10: cannot read {path} ({type(e).__name__}: {e}); replace the file") from e
    if not isinstance(batch, dict):
        raise DatasetError(f"cifar10: {path} is not a CIFAR batch (a pickled dict)")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise DatasetError(f"cifar10: {path} has no 'data'/'labels' entries")
    data = np.asarray(data)
    labels = np.asarray(labels)
    if data.ndim != 2 or data.shape[1] != 3072 or data.dtype != np.uint8 or labels.shape != (data.shape[0],):
        raise DatasetError(
            f"cifar10: {path} holds data {data.dtype} {data.shape} and labels {labels.shape}; "
            "expected uint8 [N, 3072] and [N]"
        )
    # Rows are 1024 red, 1024 green, 1024 blue values, each plane row-major: [N, 3, 32, 32] -> NHWC.
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def _extract_tar(archive: Path, dest: Path) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():  # no absolute paths or ``..`` escapes
            target = (dest / member.name).resolve()
            if not str(target).startswith(str(dest.resolve())):
                raise DatasetError(f"cifar10: unsafe path {member.name!r} in {archive}")
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: refuse links and special files too
            tar.extractall(dest, filter="data")
        else:  # pragma: no cover
            tar.extractall(dest)


def load_cifar10(
    *, data_dir=None, split: str = "train", image_size: Optional[int] = None, cache_dir=None, download: bool = True
) -> ImageDataset:
    """CIFAR-10 from its python batches (``data_dir`` or its ``cifar-10-batches-py`` subfolder)."""
    check_split(split)
    wanted = ["train", "test"] if split == "all" else [split]
    if data_dir is not None:
        directory = Path(data_dir).expanduser()
        if not directory.is_dir():
            raise DatasetError(f"cifar10: data directory {directory} does not exist; {offline_hint('cifar10')}")
        if (directory / _CIFAR_FOLDER).is_dir():
            directory = directory / _CIFAR_FOLDER
    else:
        root = (Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()) / "cifar10"
        directory = root / _CIFAR_FOLDER
        if not all((directory / f).is_file() for s in wanted for f in _CIFAR_FILES[s]):
            if not download:
                raise DatasetError(f"cifar10: not in the cache {root} and download=False; {offline_hint('cifar10')}")
            archive = fetch_checked([_CIFAR_URL], root / "cifar-10-python.tar.gz", _CIFAR_MD5, "cifar10")
            _extract_tar(archive, root)
    files = [directory / f for s in wanted for f in _CIFAR_FILES[s]]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise DatasetError(f"cifar10: {directory} lacks {', '.join(missing)} (python batches from {_CIFAR_URL})")
    parts = [_read_cifar_batch(f) for f in files]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    ds = make_dataset(to_unit_range(images), labels, 10, "cifar10")
    return maybe_resize(ds, image_size)
