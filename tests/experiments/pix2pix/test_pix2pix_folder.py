"""``python -m experiments.pix2pix --dataset folder`` on a tiny aligned folder (A|B side by side), and
the run's test images translated back from its directory by ``python -m experiments.sample``."""

import json

import numpy as np
import pytest
from PIL import Image

from experiments.pix2pix.__main__ import main
from experiments.runner import run_main
from jaxgan.reliability.checkpoint import Checkpointer
from tests.experiments.translation_runs import classic_threefry  # noqa: F401 (autouse: every test here)

PROG = "python -m experiments.pix2pix"
# 8x8 halves loaded at 8 and cropped at 8 (no resize, no crop: the test halves are the pixels written)
TINY = ["--dataset", "folder", "--load-size", "8", "--crop-size", "8", "--steps", "2", "--chunk-size", "2",
        "--batch-size", "2", "--ngf", "2", "--ndf", "2", "--n-layers", "1", "--dropout-blocks", "1", "--no-progress"]  # fmt: skip


def aligned_folder(root, rng, train: int = 6, test: int = 4):
    """``root/train/`` and ``root/test/`` of 8x16 RGB images, A (random pixels) left, B = 255 - A right;
    returns the test halves ``(A, B)``, uint8 ``[test, 8, 8, 3]``."""
    halves = {}
    for split, n in (("train", train), ("test", test)):
        (root / split).mkdir(parents=True)
        a = rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
        for i in range(n):
            Image.fromarray(np.concatenate([a[i], 255 - a[i]], axis=1)).save(root / split / f"{i}.png")
        halves[split] = (a, 255 - a)
    return halves["test"]


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory):
    """The tiny run on the aligned folder: (its output directory, the test halves A and B)."""
    root = tmp_path_factory.mktemp("aligned")
    test_a, test_b = aligned_folder(root / "data", np.random.default_rng(0))
    assert run_main(PROG, main, [*TINY, "--data-dir", str(root / "data"), "--out", str(root / "run")]) == 0
    return root / "run", test_a, test_b


def test_a_run_on_an_aligned_folder_learns_left_to_right_and_reports_the_pixel_error_to_b(folder_run):
    out, test_a, test_b = folder_run
    r = json.loads((out / "results.json").read_text())
    assert r["dataset"] == "folder" and r["direction"] == "AtoB" and r["steps"] == 2
    assert r["image_shape"] == [8, 8, 3]  # RGB halves at the crop size
    # Doing nothing errs by |A - B| of the test halves as written: the halves are A left, B right
    identity = np.mean(np.abs(test_a.astype(np.float64) - test_b)) / 255
    assert r["pixel_mae_identity"] == pytest.approx(identity, rel=1e-6) and identity > 0.2
    assert 0 < r["pixel_mae"] < 1 and r["pixel_mae"] != pytest.approx(identity, abs=0.01)
    assert "label_acc" not in r  # no classifier on folders
    assert Checkpointer(out / "checkpoints").steps() == [2]
    assert (out / "translations.png").stat().st_size > 1000


def test_the_runs_test_inputs_translated_from_its_directory_err_as_it_reported(folder_run, tmp_path):
    """The sample command reads a folder run's inputs as RGB at its crop size and runs G as the run
    evaluated: the test A halves, as PNG files, err against the B halves by the reported error."""
    from experiments.sample.__main__ import main as sample

    out, test_a, test_b = folder_run
    (tmp_path / "in").mkdir()
    for i, image in enumerate(test_a):
        Image.fromarray(image).save(tmp_path / "in" / f"{i}.png")
    assert run_main("python -m experiments.sample", sample, [str(out), "--input", str(tmp_path / "in")]) == 0
    fake_b = np.stack([np.asarray(Image.open(out / "translated_AB" / f"{i}.png")) for i in range(len(test_a))])
    assert fake_b.shape == test_b.shape and fake_b.dtype == np.uint8
    reported = json.loads((out / "results.json").read_text())["pixel_mae"]
    assert np.mean(np.abs(fake_b.astype(np.float64) - test_b)) / 255 == pytest.approx(reported, abs=1 / 255)
