"""Paths checked at start: an ``--out`` that cannot be created, a ``--data-dir`` that is a file, and
every unreadable image of a folder in one message."""

import os

import numpy as np
import pytest
from PIL import Image

from experiments.runner import UserError, check_data_dir, check_out_dir, raise_unreadable_images, unreadable_images


def test_an_out_below_a_file_is_refused_naming_the_file(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UserError) as err:
        check_out_dir(tmp_path / "notes.txt" / "run" / "sub")
    assert str(err.value) == (
        f"--out {tmp_path}/notes.txt/run/sub cannot be created: {tmp_path}/notes.txt is in the way "
        "(a file, not a directory); pick another --out"
    )
    with pytest.raises(UserError, match="cannot be created .a file, not a directory"):
        check_out_dir(tmp_path / "notes.txt")


def test_an_out_in_a_directory_without_write_permission_is_refused(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(locked) else real_access(p, mode))
    with pytest.raises(UserError) as err:
        check_out_dir(locked / "run")
    assert str(err.value) == f"--out {locked}/run cannot be created: no permission to write in {locked}; pick another --out"
    with pytest.raises(UserError, match="cannot be written"):
        check_out_dir(locked)


def test_a_good_out_passes_and_nothing_is_created(tmp_path):
    assert check_out_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert check_out_dir(tmp_path) == tmp_path
    assert list(tmp_path.iterdir()) == []


def test_a_data_dir_that_is_a_file_is_called_a_file(tmp_path):
    (tmp_path / "images.zip").write_bytes(b"PK")
    with pytest.raises(UserError) as err:
        check_data_dir(str(tmp_path / "images.zip"))
    assert str(err.value).startswith(f"--data-dir {tmp_path}/images.zip is a file, not a directory")
    check_data_dir(str(tmp_path))  # a directory passes
    check_data_dir(str(tmp_path / "missing"))  # left to the loader, which says what it expected there
    check_data_dir(None)


def test_every_unreadable_image_is_named_in_one_message_up_to_a_limit(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (4, 4, 3), dtype=np.uint8)).save(tmp_path / f"good{i}.png")
    (tmp_path / "sub").mkdir()
    for i in range(12):
        (tmp_path / "sub" / f"bad{i:02d}.png").write_bytes(b"not an image")
    (tmp_path / ".hidden.png").write_bytes(b"skipped, as the loader skips it")
    (tmp_path / "notes.txt").write_text("not an image file")
    assert [p.name for p in unreadable_images(tmp_path)] == [f"bad{i:02d}.png" for i in range(12)]
    with pytest.raises(UserError) as err:
        raise_unreadable_images(tmp_path)
    listed = ", ".join(f"sub/bad{i:02d}.png" for i in range(10))
    assert str(err.value) == (
        f"12 images in {tmp_path} cannot be read: {listed} and 2 more; remove or replace them"
    )
    for i in range(2, 12):
        (tmp_path / "sub" / f"bad{i:02d}.png").unlink()
    with pytest.raises(UserError, match=r"^2 images in .* cannot be read: sub/bad00.png, sub/bad01.png; remove"):
        raise_unreadable_images(tmp_path)
    for i in range(2):
        (tmp_path / "sub" / f"bad{i:02d}.png").unlink()
    raise_unreadable_images(tmp_path)  # every image reads: nothing to say
