"""Unpaired image folders and their batches (``jaxgan.data.unpaired``)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from jaxgan.data.images import DatasetError
from jaxgan.data.unpaired import load_unpaired_folder, unpaired_batches


def write_rgb(path, value, size=(8, 8)):
    """A solid-colour RGB image whose red channel is ``value`` (identifies it after loading)."""
    Image.fromarray(np.full((*size[::-1], 3), (value, 10, 20), np.uint8)).save(path)


@pytest.fixture()
def folders(tmp_path):
    """trainA: 3 RGB images, 1 grayscale, a README; trainB: 2 RGB images of another size."""
    (tmp_path / "trainA").mkdir()
    (tmp_path / "trainB").mkdir()
    for i in range(3):
        write_rgb(tmp_path / "trainA" / f"a{i}.png", 50 + i)
    Image.fromarray(np.full((8, 8), 200, np.uint8), mode="L").save(tmp_path / "trainA" / "gray.png")
    (tmp_path / "trainA" / "README.txt").write_text("not an image")
    for i in range(2):
        write_rgb(tmp_path / "trainB" / f"b{i}.jpg", 100 + 40 * i, size=(12, 12))
    return tmp_path


def test_folder_loader_reads_unequal_domains_grayscale_and_skips_other_files(folders):
    data = load_unpaired_folder(folders, "train", load_size=6)
    assert data.images_a.shape == (4, 6, 6, 3) and data.images_b.shape == (2, 6, 6, 3)
    assert data.images_a.dtype == np.uint8
    reds = sorted(int(im[0, 0, 0]) for im in data.images_a)
    assert reds == [50, 51, 52, 200]
    gray = next(im for im in data.images_a if im[0, 0, 0] == 200)
    assert np.all(gray == 200)  # one grey plane copied to R, G and B


def test_folder_loader_errors_are_clear(folders):
    (folders / "trainA" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match="broken.png"):
        load_unpaired_folder(folders, "train", load_size=6)
    with pytest.raises(DatasetError, match="testA"):
        load_unpaired_folder(folders, "test", load_size=6)
    with pytest.raises(DatasetError, match="does not exist"):
        load_unpaired_folder(folders / "nope", "train", load_size=6)


def coded_images(n):
    """``n`` images [6, 6, 2] (uint8): channel 0 is ``40 * index``, channel 1 the column ``10 * j``."""
    images = np.zeros((n, 6, 6, 2), np.uint8)
    images[..., 0] = 40 * np.arange(n)[:, None, None]
    images[..., 1] = 10 * np.arange(6)[None, None, :]
    return images


def decode(batch):
    """``(index, flipped, first column)`` of the one image in ``batch`` (back on the uint8 scale)."""
    pixels = np.round((np.asarray(batch[0], np.float64) + 1) * 127.5).astype(int)
    columns = pixels[0, :, 1]
    return pixels[0, 0, 0] // 40, bool(columns[0] > columns[-1]), int(columns.min()) // 10


def test_batches_shuffle_each_domain_by_itself_and_crop_and_flip():
    a, b = jnp.asarray(coded_images(4)), jnp.asarray(coded_images(2))  # unequal domain sizes
    batch_fn = jax.jit(unpaired_batches(1, crop_size=4, flip=True, seed=3))
    seen_a, seen_b, flips, offsets = [], [], set(), set()
    for step in range(8):
        real_a, real_b = batch_fn((a, b), jax.random.PRNGKey(step), step)
        assert real_a.shape == real_b.shape == (1, 4, 4, 2) and real_a.dtype == jnp.float32
        assert float(real_a.min()) >= -1 and float(real_a.max()) <= 1
        index, flipped, first = decode(real_a)
        seen_a.append(index)
        flips.add(flipped)
        offsets.add(first)
        seen_b.append(decode(real_b)[0])
    assert sorted(seen_a[:4]) == sorted(seen_a[4:]) == [0, 1, 2, 3]  # epochs of A: every image once
    assert all(sorted(seen_b[i : i + 2]) == [0, 1] for i in range(0, 8, 2))  # B's own, shorter epochs
    assert seen_a[:4] != seen_a[4:]  # reshuffled each epoch
    assert flips == {True, False} and offsets == {0, 1, 2}  # every crop position of 4 in 6
