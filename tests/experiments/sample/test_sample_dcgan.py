"""``python -m experiments.sample`` on a DCGAN run: the same seed gives the same images, the ``.npz``
is written batch by batch, the interpolation rows are straight lines."""

import numpy as np
import pytest
from PIL import Image

from experiments.runner import run_main
from experiments.sample.__main__ import main

PROG = "python -m experiments.sample"


@pytest.fixture(scope="module")
def dcgan_run(tmp_path_factory):
    """A tiny DCGAN run on 8x8 digits with an EMA of G, not judged (no classifier to train)."""
    from experiments.dcgan.__main__ import main as train

    out = tmp_path_factory.mktemp("dcgan") / "run"
    argv = ["--dataset", "digits", "--image-size", "8", "--steps", "4", "--batch-size", "16", "--g-features", "8",
            "--d-features", "8", "--sample-every", "2", "--holdout", "0", "--g-ema", "0.9", "--no-progress",
            "--no-plot", "--out", str(out)]  # fmt: skip
    assert run_main("python -m experiments.dcgan", train, argv) == 0
    return out


def sample(run, out, *args):
    assert run_main(PROG, main, [str(run), "--out", str(out), *args]) == 0
    return np.load(out / "samples.npz")["images"]


def test_same_seed_same_images_other_seed_other_images(dcgan_run, tmp_path):
    first = sample(dcgan_run, tmp_path / "a", "--num", "40", "--seed", "3")
    again = sample(dcgan_run, tmp_path / "b", "--num", "40", "--seed", "3")
    other = sample(dcgan_run, tmp_path / "c", "--num", "40", "--seed", "4")
    assert first.shape == (40, 8, 8, 1) and first.dtype == np.uint8
    assert first.tobytes() == again.tobytes()
    assert (tmp_path / "a" / "samples.png").read_bytes() == (tmp_path / "b" / "samples.png").read_bytes()
    assert (tmp_path / "a" / "interpolation.png").read_bytes() == (tmp_path / "b" / "interpolation.png").read_bytes()
    differing = np.mean(np.any(first != other, axis=(1, 2, 3)))
    assert differing == 1.0  # every image of another seed is another image
    assert len({im.tobytes() for im in first}) == 40  # and within a seed, every image differs


def test_npz_is_written_batch_by_batch_and_the_batches_do_not_change_the_images(dcgan_run, tmp_path, monkeypatch):
    from experiments.sample import npz_stream

    blocks = []
    write = npz_stream.NpzRowWriter.write
    monkeypatch.setattr(npz_stream.NpzRowWriter, "write", lambda self, block: (blocks.append(len(block)), write(self, block)))
    batched = sample(dcgan_run, tmp_path / "batched", "--num", "30", "--batch-size", "7", "--interpolations", "0")
    assert blocks == [7, 7, 7, 7, 2]
    blocks.clear()
    whole = sample(dcgan_run, tmp_path / "whole", "--num", "30", "--batch-size", "64", "--interpolations", "0")
    assert blocks == [30]
    # image j is drawn from its own key: the same images whatever the batch (up to the last bit of
    # float32 rounding in programs compiled for other batch shapes, at most one grey level)
    assert batched.shape == whole.shape == (30, 8, 8, 1)
    assert np.abs(batched.astype(int) - whole.astype(int)).max() <= 1
    assert np.mean(batched == whole) > 0.99
    assert not (tmp_path / "batched" / "interpolation.png").exists()
    with Image.open(tmp_path / "batched" / "samples.png") as grid:  # all 30 of them, 8 a row, 8x8 shown at 64x64
        assert grid.size == (8 * 66 + 2, 4 * 66 + 2)


def test_the_ema_generator_samples_by_default_and_the_last_iterate_on_request(dcgan_run, tmp_path):
    ema = sample(dcgan_run, tmp_path / "ema", "--num", "8")
    also_ema = sample(dcgan_run, tmp_path / "ema2", "--num", "8", "--generator", "ema")
    last = sample(dcgan_run, tmp_path / "last", "--num", "8", "--generator", "last")
    assert ema.tobytes() == also_ema.tobytes()
    assert np.mean(ema != last) > 0.2  # G's average after 4 steps of decay 0.9 is not its last iterate


def test_interpolation_rows_are_straight_lines_between_two_noise_vectors(dcgan_run, tmp_path):
    import jax

    from experiments.sample import interpolation_noise

    z = np.asarray(interpolation_noise(jax.random.PRNGKey(0), 3, 5, 4)).reshape(3, 5, 4)
    ends_a, ends_b = z[:, 0], z[:, -1]
    assert np.all(np.abs(ends_a - ends_b) > 0)
    for i, t in enumerate(np.linspace(0, 1, 5)):
        np.testing.assert_allclose(z[:, i], (1 - t) * ends_a + t * ends_b, rtol=1e-6, atol=1e-6)
    sample(dcgan_run, tmp_path, "--num", "4", "--interpolations", "3", "--interpolation-steps", "5")
    with Image.open(tmp_path / "interpolation.png") as grid:
        assert grid.size == (5 * 66 + 2, 3 * 66 + 2)  # 3 rows of 5 steps


def test_options_of_other_experiments_are_refused(dcgan_run, tmp_path, capsys):
    assert run_main(PROG, main, [str(dcgan_run), "--input", str(tmp_path), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"{PROG}: error: --input applies to CycleGAN and pix2pix runs; {dcgan_run} is a DCGAN run "
                   "(experiments.dcgan): leave --input out\n")  # fmt: skip


def test_class_is_refused_for_an_unconditional_run(dcgan_run, tmp_path, capsys):
    assert run_main(PROG, main, [str(dcgan_run), "--class", "3", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"{PROG}: error: --class: the run in {dcgan_run} is an unconditional DCGAN (trained without "
                   "--conditional): it draws no classes; leave --class out\n")  # fmt: skip
    assert not (tmp_path / "samples.npz").exists()


def test_class_takes_a_comma_list_or_repeats_each_class_once_in_order():
    from experiments.sample import parse_args

    assert parse_args(["run", "--class", "3"]).classes == (3,)
    assert parse_args(["run", "--class", "5,3", "--class", "3", "--class", "0"]).classes == (5, 3, 0)
    assert parse_args(["run"]).classes is None
