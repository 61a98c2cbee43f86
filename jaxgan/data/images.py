"""Image datasets for the image GANs: loading, resizing, and feeding batches.

Every loader returns an :class:`ImageDataset` whose ``images`` are float32 NumPy ``[N, H, W, C]``
scaled to ``[-1, 1]`` (``x / 127.5 - 1`` for 8-bit data: the range of a ``tanh`` generator), with
int32 ``labels`` where the data have them.

Datasets (``load_dataset(name, ...)``):

* ``mnist``, ``fashion_mnist``: IDX files, gzipped or not, from ``data_dir`` (standard names such as
  ``train-images-idx3-ubyte.gz`` / ``t10k-labels-idx1-ubyte``); without ``data_dir`` from
  ``cache_dir`` (default ``~/.cache/jaxgan``), downloaded there from the canonical mirrors and checked
  against their MD5 sums when absent. Splits ``train`` (60,000), ``test`` (10,000), ``all``.
* ``cifar10``: the python pickle batches (``data_batch_1..5``, ``test_batch``) in ``data_dir`` (or its
  ``cifar-10-batches-py`` subfolder); downloaded like MNIST when ``data_dir`` is not given.
* ``digits``: scikit-learn's bundled 8x8 digits (1,797 images, no download); a fixed permutation
  (seed 0) puts 360 images in ``test`` and 1,437 in ``train``.
* ``folder``: every image file under ``data_dir`` (recursively, sorted), read with Pillow, converted
  to RGB or grayscale (``channels``), shorter side resized to ``image_size`` then centre-cropped.

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

import functools
import hashlib
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path
from typing import NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.data.idx import IDXError, read_idx
from jaxgan.data.image_batches import HostBatchStream, epoch_batches, fits_in_device_memory, grouped_batches

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
SPLITS = ("train", "test", "all")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".pbm")
OFFLINE_HINT = "pass --data-dir with the {files}, or use --dataset digits (bundled, no download)"


def _hint(dataset: str) -> str:
    files = {"mnist": "IDX files", "fashion_mnist": "IDX files", "cifar10": "CIFAR-10 python batches"}
    return OFFLINE_HINT.format(files=files.get(dataset, "files"))


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


def _dataset(images, labels, num_classes, name) -> ImageDataset:
    images = validate_images(images, name)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (images.shape[0],):
            raise DatasetError(f"{name}: {labels.shape} labels for {images.shape[0]} images")
        labels = labels.astype(np.int32)
        if num_classes is not None and labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise DatasetError(f"{name}: labels outside [0, {num_classes})")
    return ImageDataset(images, labels, num_classes, name)


def _check_split(split: str, allowed: Sequence[str] = SPLITS) -> None:
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


def _maybe_resize(ds: ImageDataset, image_size: Optional[int]) -> ImageDataset:
    if image_size is None:
        return ds
    return ds._replace(images=resize_images(ds.images, int(image_size)))


# ----------------------------------------------------------------------------- downloads


def default_cache_dir() -> Path:
    """``$JAXGAN_CACHE`` if set, else ``~/.cache/jaxgan``."""
    return Path(os.environ.get("JAXGAN_CACHE", Path.home() / ".cache" / "jaxgan"))


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(urls: Sequence[str], dest: Path, md5: str, dataset: str, timeout: float = 30.0) -> Path:
    """Fetches the first URL that works into ``dest`` (via a temporary file) and checks its MD5."""
    if dest.exists() and _md5(dest) == md5:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                shutil.copyfileobj(response, out)
            got = _md5(Path(tmp))
            if got != md5:
                errors.append(f"{url}: checksum {got} != {md5}")
                continue
            os.replace(tmp, dest)
            return dest
        except Exception as e:  # network errors of every kind: try the next mirror
            errors.append(f"{url}: {type(e).__name__}: {e}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    raise DatasetError(f"could not download {dataset} ({errors[-1]}); {_hint(dataset)}")


# ----------------------------------------------------------------------------- MNIST-like (IDX)

_MNIST_MIRRORS = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    "fashion_mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}
# MD5 of the gzipped files as published (the same sums torchvision checks).
_MNIST_MD5 = {
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
    if name not in _MNIST_MD5:
        raise DatasetError(f"unknown IDX data set {name!r}; choose mnist or fashion_mnist")
    _check_split(split)
    wanted = ["train", "test"] if split == "all" else [split]
    if data_dir is not None:
        directory = Path(data_dir).expanduser()
        if not directory.is_dir():
            raise DatasetError(f"{name}: data directory {directory} does not exist; {_hint(name)}")
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
                        f"{name}: {file} is not in the cache {directory} and download=False; {_hint(name)}"
                    )
                urls = [m + file for m in _MNIST_MIRRORS[name]]
                _download(urls, directory / file, _MNIST_MD5[name][file], name)
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
    ds = _dataset(to_unit_range(images), labels, 10, name)
    return _maybe_resize(ds, image_size)


# ----------------------------------------------------------------------------- CIFAR-10

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
    _check_split(split)
    wanted = ["train", "test"] if split == "all" else [split]
    if data_dir is not None:
        directory = Path(data_dir).expanduser()
        if not directory.is_dir():
            raise DatasetError(f"cifar10: data directory {directory} does not exist; {_hint('cifar10')}")
        if (directory / _CIFAR_FOLDER).is_dir():
            directory = directory / _CIFAR_FOLDER
    else:
        root = (Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()) / "cifar10"
        directory = root / _CIFAR_FOLDER
        if not all((directory / f).is_file() for s in wanted for f in _CIFAR_FILES[s]):
            if not download:
                raise DatasetError(f"cifar10: not in the cache {root} and download=False; {_hint('cifar10')}")
            archive = _download([_CIFAR_URL], root / "cifar-10-python.tar.gz", _CIFAR_MD5, "cifar10")
            _extract_tar(archive, root)
    files = [directory / f for s in wanted for f in _CIFAR_FILES[s]]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise DatasetError(f"cifar10: {directory} lacks {', '.join(missing)} (python batches from {_CIFAR_URL})")
    parts = [_read_cifar_batch(f) for f in files]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    ds = _dataset(to_unit_range(images), labels, 10, "cifar10")
    return _maybe_resize(ds, image_size)


# ----------------------------------------------------------------------------- scikit-learn digits

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
    _check_split(split)
    images, labels = _sklearn_digits()
    if split != "all":
        order = np.random.default_rng(0).permutation(images.shape[0])
        idx = np.sort(order[:DIGITS_TEST_SIZE] if split == "test" else order[DIGITS_TEST_SIZE:])
        images, labels = images[idx], labels[idx]
    ds = _dataset(to_unit_range(images, 16.0), labels, 10, "digits")
    return _maybe_resize(ds, image_size)


# ----------------------------------------------------------------------------- image folders


def _list_image_files(directory: Path) -> tuple[list[Path], int]:
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
                    img = img.resize(new, Image.BILINEAR)
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
    files, skipped = _list_image_files(directory)
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
    return _dataset(to_unit_range(images), None, None, name)


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
        _check_split(split, ("train", "all"))
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
