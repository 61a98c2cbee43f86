"""Image data sets: IDX / CIFAR / folder / digits loaders, errors, resizing (batching and streaming
are in test_batching.py)."""

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from jaxgan.data.idx import IDXError, read_idx, write_idx
from jaxgan.data.images import (
    DatasetError,
    load_dataset,
    read_image_folder,
    resize_images,
    split_holdout,
    validate_images,
)
from tests.real_mnist import MNIST_DIR, needs_real_mnist


def _fake_mnist(directory: Path, prefix: str, n: int, *, gz: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    ext = ".gz" if gz else ""
    write_idx(directory / f"{prefix}-images-idx3-ubyte{ext}", images)
    write_idx(directory / f"{prefix}-labels-idx1-ubyte{ext}", labels)
    return images, labels


# ----------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, gz):
    x = np.random.default_rng(1).integers(0, 256, (5, 3, 4), dtype=np.uint8)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, x)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == gz
    y = read_idx(path)
    assert y.dtype == np.uint8 and np.array_equal(x, y)
    # The header is the documented big-endian one.
    raw = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
    assert raw[:4] == b"\x00\x00\x08\x03" and raw[4:8] == (5).to_bytes(4, "big")


def test_idx_int32_big_endian(tmp_path):
    x = np.arange(-3, 3, dtype=np.int32).reshape(2, 3) * 1000
    write_idx(tmp_path / "b.idx", x)
    assert np.array_equal(read_idx(tmp_path / "b.idx"), x)


def test_idx_errors(tmp_path):
    x = np.zeros((4, 28, 28), np.uint8)
    write_idx(tmp_path / "ok", x)
    raw = (tmp_path / "ok").read_bytes()
    (tmp_path / "truncated").write_bytes(raw[:-5])
    (tmp_path / "trailing").write_bytes(raw + b"\x00")
    (tmp_path / "magic").write_bytes(b"\x12\x34" + raw[2:])
    (tmp_path / "short").write_bytes(raw[:10])
    (tmp_path / "badgz").write_bytes(gzip.compress(raw)[:-8])
    for name, pattern in [
        ("truncated", "truncated"),
        ("trailing", "trailing"),
        ("magic", "magic"),
        ("short", "truncated IDX header"),
        ("badgz", "corrupt or truncated"),
    ]:
        with pytest.raises(IDXError, match=pattern):
            read_idx(tmp_path / name)


# ----------------------------------------------------------------------------- MNIST-like


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_from_idx_dir(tmp_path, gz):
    train_x, train_y = _fake_mnist(tmp_path, "train", 12, gz=gz, seed=0)
    test_x, test_y = _fake_mnist(tmp_path, "t10k", 7, gz=gz, seed=1)
    ds = load_dataset("mnist", data_dir=tmp_path, split="train")
    assert ds.images.shape == (12, 28, 28, 1) and ds.images.dtype == np.float32
    assert ds.labels.dtype == np.int32 and ds.num_classes == 10 and ds.name == "mnist"
    np.testing.assert_allclose(ds.images[..., 0], train_x / 127.5 - 1.0, atol=1e-6)
    assert np.array_equal(ds.labels, train_y)
    all_ = load_dataset("fashion_mnist", data_dir=tmp_path, split="all")
    assert all_.num_examples == 19 and np.array_equal(all_.labels, np.concatenate([train_y, test_y]))
    assert all_.name == "fashion_mnist"


def test_mnist_pad_to_32_and_bilinear_16(tmp_path):
    train_x, _ = _fake_mnist(tmp_path, "t10k", 6, gz=True)
    ds32 = load_dataset("mnist", data_dir=tmp_path, split="test", image_size=32)
    assert ds32.images.shape == (6, 32, 32, 1)
    # 2 px of background on every side, the digit itself untouched.
    assert np.all(ds32.images[:, :2] == -1) and np.all(ds32.images[:, :, -2:] == -1)
    np.testing.assert_allclose(ds32.images[:, 2:30, 2:30, 0], train_x / 127.5 - 1.0, atol=1e-6)
    ds16 = load_dataset("mnist", data_dir=tmp_path, split="test", image_size=16)
    assert ds16.images.shape == (6, 16, 16, 1)
    assert ds16.images.min() >= -1 and ds16.images.max() <= 1


def test_mnist_only_test_split_present(tmp_path):
    _fake_mnist(tmp_path, "t10k", 5, gz=True)
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte.*use split='test'"):
        load_dataset("mnist", data_dir=tmp_path, split="train")
    assert load_dataset("mnist", data_dir=tmp_path, split="test").num_examples == 5


def test_mnist_missing_empty_and_corrupt(tmp_path):
    with pytest.raises(DatasetError, match="does not exist.*--data-dir.*--dataset digits"):
        load_dataset("mnist", data_dir=tmp_path / "nope")
    with pytest.raises(DatasetError, match="no IDX files"):
        load_dataset("mnist", data_dir=tmp_path, split="test")
    _fake_mnist(tmp_path, "t10k", 5, gz=False)
    images = tmp_path / "t10k-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-100])
    with pytest.raises(DatasetError, match="truncated"):
        load_dataset("mnist", data_dir=tmp_path, split="test")
    _fake_mnist(tmp_path, "t10k", 5, gz=False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(DatasetError, match="labels for 5 images"):
        load_dataset("mnist", data_dir=tmp_path, split="test")


def test_download_failure_is_a_clear_error(tmp_path, monkeypatch):
    import urllib.request

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DatasetError, match=r"could not download mnist.*--data-dir with the IDX files.*digits"):
        load_dataset("mnist", cache_dir=tmp_path)
    with pytest.raises(DatasetError, match="download=False"):
        load_dataset("fashion_mnist", cache_dir=tmp_path, download=False)
    assert not list(tmp_path.rglob("*.part"))  # no half-written files left behind


def test_download_checksum_mismatch_rejected(tmp_path, monkeypatch):
    import io
    import urllib.request

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: io.BytesIO(b"not mnist"))
    with pytest.raises(DatasetError, match="checksum"):
        load_dataset("mnist", cache_dir=tmp_path, split="test")
    assert not list((tmp_path / "mnist").glob("*.gz"))


def _serve(monkeypatch, payloads: dict):
    """Replaces ``urlopen`` by a server of ``{url suffix: bytes}``; returns the list of URLs asked for."""
    import io
    import urllib.request

    asked = []

    def urlopen(url, timeout=None):
        asked.append(url)
        for suffix, data in payloads.items():
            if url.endswith(suffix):
                return io.BytesIO(data)
        raise OSError(f"404 {url}")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return asked


def test_download_verifies_and_caches(tmp_path, monkeypatch):
    import hashlib

    import jaxgan.data.images as images_module

    src = tmp_path / "src"
    src.mkdir()
    x, y = _fake_mnist(src, "t10k", 4, gz=True)
    payloads = {p.name: p.read_bytes() for p in src.iterdir()}
    sums = {name: hashlib.md5(data).hexdigest() for name, data in payloads.items()}
    monkeypatch.setitem(images_module.MNIST_MD5, "mnist", {**images_module.MNIST_MD5["mnist"], **sums})
    asked = _serve(monkeypatch, payloads)
    ds = load_dataset("mnist", cache_dir=tmp_path / "cache", split="test")
    assert np.array_equal(ds.labels, y) and ds.num_examples == 4
    assert len(asked) == 2 and asked[0].startswith("https://ossci-datasets.s3.amazonaws.com/mnist/")
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == sorted(payloads)
    load_dataset("mnist", cache_dir=tmp_path / "cache", split="test")
    assert len(asked) == 2  # served from the cache the second time


def test_cifar10_download_and_extract(tmp_path, monkeypatch):
    import hashlib
    import io
    import tarfile

    import jaxgan.data.cifar10 as cifar10_module

    _fake_cifar(tmp_path / "src" / "cifar-10-batches-py", n_per_batch=2)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    archive = buf.getvalue()
    monkeypatch.setattr(cifar10_module, "_CIFAR_MD5", hashlib.md5(archive).hexdigest())
    _serve(monkeypatch, {"cifar-10-python.tar.gz": archive})
    ds = load_dataset("cifar10", cache_dir=tmp_path / "cache", split="all")
    assert ds.images.shape == (12, 32, 32, 3)
    with pytest.raises(DatasetError, match="download=False"):
        load_dataset("cifar10", cache_dir=tmp_path / "other", download=False)


def test_cache_dir_is_used_without_download(tmp_path):
    (tmp_path / "mnist").mkdir()
    _fake_mnist(tmp_path / "mnist", "t10k", 3, gz=True)
    assert load_dataset("mnist", cache_dir=tmp_path, split="test", download=False).num_examples == 3


@needs_real_mnist
def test_real_mnist_test_split():
    ds = load_dataset("mnist", data_dir=MNIST_DIR, split="test", image_size=32)
    assert ds.images.shape == (10000, 32, 32, 1)
    assert np.array_equal(np.bincount(ds.labels), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    assert ds.images.min() == -1.0 and ds.images.max() == 1.0
    # Background dominates: most pixels are -1 (white digits on black).
    assert np.mean(ds.images == -1.0) > 0.75
    train, holdout = split_holdout(ds, 2000, seed=0)
    assert train.num_examples == 8000 and holdout.num_examples == 2000


# ----------------------------------------------------------------------------- CIFAR-10


def _fake_cifar(directory: Path, n_per_batch=3):
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n_per_batch)]
        with open(directory / name, "wb") as f:
            pickle.dump({b"data": data, b"labels": labels, b"batch_label": b"x"}, f)
        batches[name] = (data, labels)
    return batches


def test_cifar10_python_batches(tmp_path):
    batches = _fake_cifar(tmp_path / "cifar-10-batches-py")
    ds = load_dataset("cifar10", data_dir=tmp_path, split="train")  # finds the subfolder
    assert ds.images.shape == (15, 32, 32, 3) and ds.num_classes == 10
    data, labels = batches["data_batch_2"]
    # Row layout: 1024 red, 1024 green, 1024 blue, each plane row-major.
    r, g, b = data[0, :1024], data[0, 1024:2048], data[0, 2048:]
    x = ds.images[3]
    np.testing.assert_allclose(x[0, 5], np.array([r[5], g[5], b[5]]) / 127.5 - 1, atol=1e-6)
    np.testing.assert_allclose(x[2, 7], np.array([r[71], g[71], b[71]]) / 127.5 - 1, atol=1e-6)
    assert ds.labels[3] == labels[0]
    test = load_dataset("cifar10", data_dir=tmp_path / "cifar-10-batches-py", split="test", image_size=16)
    assert test.images.shape == (3, 16, 16, 3)


def test_cifar10_errors(tmp_path):
    _fake_cifar(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(DatasetError, match="lacks data_batch_3"):
        load_dataset("cifar10", data_dir=tmp_path)
    (tmp_path / "test_batch").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset("cifar10", data_dir=tmp_path, split="test")
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(DatasetError, match="expected uint8"):
        load_dataset("cifar10", data_dir=tmp_path, split="test")


# ----------------------------------------------------------------------------- folders


def _write_folder(directory: Path):
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(directory / "a.png")
    Image.fromarray(np.full((12, 12), 200, np.uint8), mode="L").save(directory / "b_gray.png")
    sub = directory / "sub"
    sub.mkdir(exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (40, 16, 3), dtype=np.uint8)).save(sub / "c.jpg", quality=95)
    Image.fromarray(rng.integers(0, 256, (16, 16, 4), dtype=np.uint8), mode="RGBA").save(sub / "d.png")
    (directory / "notes.txt").write_text("not an image")
    (directory / ".DS_Store").write_bytes(b"\x00")


def test_image_folder_rgb_and_gray(tmp_path):
    _write_folder(tmp_path)
    ds = load_dataset("folder", data_dir=tmp_path, image_size=8)
    assert ds.images.shape == (4, 8, 8, 3) and ds.labels is None and ds.num_classes is None
    # Sorted order: a.png, b_gray.png, sub/c.jpg, sub/d.png; the grey image has 3 equal planes.
    np.testing.assert_allclose(ds.images[1], 200 / 127.5 - 1, atol=1e-6)
    gray = load_dataset("folder", data_dir=tmp_path, image_size=8, channels=1)
    assert gray.images.shape == (4, 8, 8, 1)
    raw = read_image_folder(tmp_path, image_size=8)
    assert raw.dtype == np.uint8 and raw.shape == (4, 8, 8, 3)
    np.testing.assert_allclose(raw / 127.5 - 1, ds.images, atol=1e-6)
    assert ds.images.min() >= -1 and ds.images.max() <= 1


def test_image_folder_centre_crop(tmp_path):
    # 10 x 30 (h x w): left third 0, middle third 255, right third 0 -> the centre crop is all 255.
    img = np.zeros((10, 30, 3), np.uint8)
    img[:, 10:20] = 255
    Image.fromarray(img).save(tmp_path / "x.png")
    ds = load_dataset("folder", data_dir=tmp_path, image_size=10)
    assert np.all(ds.images == 1.0)
    # Without a size, the native size is kept.
    assert load_dataset("folder", data_dir=tmp_path).images.shape == (1, 10, 30, 3)


def test_image_folder_errors(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset("folder", data_dir=tmp_path / "missing", image_size=8)
    with pytest.raises(DatasetError, match="--data-dir"):
        load_dataset("folder", image_size=8)
    (tmp_path / "readme.md").write_text("hi")
    with pytest.raises(DatasetError, match="no image files"):
        load_dataset("folder", data_dir=tmp_path, image_size=8)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DatasetError, match="cannot read image .*broken.png"):
        load_dataset("folder", data_dir=tmp_path, image_size=8)
    (tmp_path / "broken.png").unlink()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "s.png")
    Image.fromarray(np.zeros((5, 4, 3), np.uint8)).save(tmp_path / "t.png")
    with pytest.raises(DatasetError, match="different sizes"):
        load_dataset("folder", data_dir=tmp_path)
    with pytest.raises(DatasetError, match="channels"):
        load_dataset("folder", data_dir=tmp_path, channels=2)


# ----------------------------------------------------------------------------- digits, checks


def test_digits_splits_are_deterministic_and_disjoint():
    train = load_dataset("digits", split="train")
    test = load_dataset("digits", split="test")
    all_ = load_dataset("digits", split="all")
    assert train.images.shape == (1437, 8, 8, 1) and test.images.shape == (360, 8, 8, 1)
    assert all_.num_examples == 1797 and set(np.unique(train.labels)) == set(range(10))
    key = lambda ds: {x.tobytes() + bytes([y]) for x, y in zip(ds.images, ds.labels)}  # noqa: E731
    assert len(key(train) & key(test)) <= 5  # a few 8x8 digits are exact duplicates
    assert np.array_equal(load_dataset("digits", split="test").images, test.images)
    assert train.images.min() == -1.0 and train.images.max() == 1.0
    up = load_dataset("digits", split="test", image_size=16)
    assert up.images.shape == (360, 16, 16, 1) and up.images.min() >= -1 and up.images.max() <= 1
    # Bilinear upsampling keeps the mean intensity close.
    assert abs(up.images.mean() - test.images.mean()) < 0.05


def test_unknown_names_and_bad_images():
    with pytest.raises(DatasetError, match="unknown data set"):
        load_dataset("imagenet")
    with pytest.raises(DatasetError, match="unknown split"):
        load_dataset("digits", split="validation")
    with pytest.raises(DatasetError, match="NaN"):
        validate_images(np.full((2, 4, 4, 1), np.nan))
    with pytest.raises(DatasetError, match="shape"):
        validate_images(np.zeros((4, 4, 1)))
    with pytest.raises(DatasetError, match=r"expected \[-1, 1\]"):
        validate_images(np.full((2, 4, 4, 1), 255.0))
    with pytest.raises(DatasetError, match="pad"):
        resize_images(np.zeros((1, 28, 28, 1)), 31, "pad")


def test_split_holdout_deterministic():
    ds = load_dataset("digits", split="all")
    a1, h1 = split_holdout(ds, 100, seed=3)
    a2, h2 = split_holdout(ds, 100, seed=3)
    _, h3 = split_holdout(ds, 100, seed=4)
    assert np.array_equal(h1.images, h2.images) and np.array_equal(a1.labels, a2.labels)
    assert not np.array_equal(h1.images, h3.images)
    assert a1.num_examples + h1.num_examples == ds.num_examples
    with pytest.raises(DatasetError, match="hold out"):
        split_holdout(ds, ds.num_examples, seed=0)
