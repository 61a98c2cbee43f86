"""``python -m experiments.sample`` on a class-conditional DCGAN run (``experiments.dcgan --conditional``):
the labels beside the images, ``--class``, the grid of one row per class, the generators; and the
run's own training with ``--stream host``, whose batches carry their images' labels."""

import types

import numpy as np
import pytest
from PIL import Image

from experiments.runner import run_main
from experiments.sample.__main__ import main

PROG = "python -m experiments.sample"
K = 10  # the digits' classes
CELL = 66  # an 8x8 image in a grid: enlarged to 64x64, 2 px apart


@pytest.fixture(scope="module")
def digits():
    """The 8x8 digits the run trains on (``--holdout 0``: all of them)."""
    from experiments.dcgan import DCGANConfig, load_data

    train, holdout = load_data(DCGANConfig(dataset="digits", image_size=8, holdout=0))
    assert holdout is None
    return train


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    """A tiny conditional DCGAN run on 8x8 digits with an EMA of G, trained with ``--stream host``;
    every batch the stream hands to training is recorded."""
    import jaxgan.data
    from experiments.dcgan.__main__ import main as train

    batches = []

    class RecordedStream(jaxgan.data.HostBatchStream):
        def __next__(self):
            batch = super().__next__()
            batches.append(tuple(np.asarray(leaf) for leaf in batch))
            return batch

    out = tmp_path_factory.mktemp("conditional") / "run"
    argv = ["--dataset", "digits", "--image-size", "8", "--steps", "4", "--batch-size", "16", "--g-features", "8",
            "--d-features", "8", "--latent-dim", "16", "--sample-every", "2", "--holdout", "0", "--g-ema", "0.9",
            "--conditional", "projection", "--stream", "host", "--no-progress", "--no-plot", "--out", str(out)]  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jaxgan.data, "HostBatchStream", RecordedStream)
        assert run_main("python -m experiments.dcgan", train, argv) == 0
    return types.SimpleNamespace(path=out, batches=batches)


def sample(run, out, *args):
    assert run_main(PROG, main, [str(run.path), "--out", str(out), *args]) == 0
    return np.load(out / "samples.npz")


def library_gan_and_state(run, digits):
    """The run's GAN and state built apart from the sampler: its recorded settings, the class
    frequencies counted from its data, the checkpoint restored into that GAN's state."""
    import jax

    import jaxgan
    from experiments.dcgan import DCGANConfig, build_gan
    from experiments.sample import open_run
    from jaxgan.conditional import class_frequencies

    opened = open_run(run.path)
    gan = build_gan(opened.settings(DCGANConfig), 1, class_frequencies(digits.labels, K))
    state = opened.restore(jax.eval_shape(lambda: jaxgan.init_state(gan, jax.random.PRNGKey(0))))
    return gan, state


def library_noise(gan, seed, num, labels=None):
    """Image ``j``'s input as the library draws it: ``draw_noise`` of a batch of one with the key
    ``fold_in(fold_in(PRNGKey(seed), 0), j)``."""
    import jax

    from jaxgan.gan import draw_noise

    key = jax.random.fold_in(jax.random.PRNGKey(seed), 0)
    drawn = [draw_noise(gan, jax.random.fold_in(key, j), 1, None if labels is None else labels[j : j + 1])
             for j in range(num)]  # fmt: skip
    return np.concatenate([np.asarray(z) for z, _ in drawn]), np.concatenate([np.asarray(y) for _, y in drawn])


def grid_cells(path) -> np.ndarray:
    """The 8x8 images of a saved grid, ``[rows, columns, 8, 8]`` (every 8th pixel of each 64x64 cell)."""
    grid = np.asarray(Image.open(path))
    rows, columns = (grid.shape[0] - 2) // CELL, (grid.shape[1] - 2) // CELL
    return np.array([[grid[2 + r * CELL : 2 + r * CELL + 64 : 8, 2 + c * CELL : 2 + c * CELL + 64 : 8]
                      for c in range(columns)] for r in range(rows)])  # fmt: skip


def test_host_streamed_batches_carry_the_labels_of_their_images(conditional_run, digits):
    """Each batch streamed from the host to the run's steps holds images of the data set with
    their own labels; the labels shifted by one image do not pass the same check."""
    import json

    results = json.loads((conditional_run.path / "results.json").read_text())
    assert results["data_location"] == "host" and results["conditional"] == "projection" and results["finite"]
    labels_of = {}
    for image, label in zip(digits.images, digits.labels):
        labels_of.setdefault(image.tobytes(), set()).add(int(label))

    def own_labels(images, labels):
        return all(int(y) in labels_of.get(x.tobytes(), ()) for x, y in zip(images, labels))

    batches = conditional_run.batches
    assert len(batches) == 4  # one a step
    for images, labels in batches:
        assert images.shape == (16, 8, 8, 1) and labels.shape == (16,) and labels.dtype == np.int32
        assert own_labels(images, labels)
        assert not own_labels(images, np.roll(labels, 1))
    assert len({int(y) for _, labels in batches for y in labels}) > 5  # many classes, not one


def test_labels_and_images_are_the_librarys_for_each_images_key(conditional_run, digits, tmp_path):
    """``--generator last``: the ``.npz`` holds ``num`` images and ``num`` labels, the labels those
    ``draw_noise`` draws from the data's class frequencies with each image's key, and the images
    ``jaxgan.generate_from`` of the same noise and labels."""
    import jax

    import jaxgan
    from experiments.dcgan import DCGANConfig
    from experiments.sample import image_labels, image_noise, open_run, run_class_probs
    from jaxgan.data.unpaired import to_uint8

    npz = sample(conditional_run, tmp_path, "--num", "24", "--batch-size", "8", "--seed", "3", "--generator", "last",
                 "--interpolations", "0")  # fmt: skip
    assert npz.files == ["labels", "images"]
    images, labels = npz["images"], npz["labels"]
    assert images.shape == (24, 8, 8, 1) and images.dtype == np.uint8
    assert labels.shape == (24,) and labels.dtype == np.int32
    gan, state = library_gan_and_state(conditional_run, digits)
    z, expected_labels = library_noise(gan, 3, 24)
    np.testing.assert_array_equal(labels, expected_labels)
    generated, passed_labels = jaxgan.generate_from(gan, state, (z, expected_labels), batch_size=8)
    np.testing.assert_array_equal(passed_labels, expected_labels)
    np.testing.assert_array_equal(images, to_uint8(generated))
    # the frequencies are the run's recorded ones, which are the data's (counted again for a run
    # that did not record them); many draws follow them
    opened = open_run(conditional_run.path)
    recorded = run_class_probs(opened, opened.settings(DCGANConfig))
    assert recorded == pytest.approx(gan.class_probs, abs=1e-12)
    counted = run_class_probs(opened._replace(extra={}), opened.settings(DCGANConfig))
    assert counted == pytest.approx(recorded, abs=1e-12)
    many = image_labels(image_noise(gan, jax.random.PRNGKey(0), 1000), 10_000, 1000)
    assert np.abs(np.bincount(many, minlength=K) / 10_000 - np.asarray(recorded)).max() < 0.02


def test_class_option_draws_only_the_given_classes_from_the_same_noise(conditional_run, digits, tmp_path):
    """``--class 3``: every label is 3, each image ``G(z_j, 3)`` of image ``j``'s own noise; the
    grid has one row, each interpolation row the class. ``--class 3,5 --class 3``: 3 and 5 in turn."""
    import jax.numpy as jnp

    import jaxgan
    from experiments.dcgan import DCGANConfig, make_sampling_generator
    from experiments.sample import open_run
    from jaxgan.data.unpaired import to_uint8

    npz = sample(conditional_run, tmp_path / "three", "--num", "12", "--class", "3", "--interpolations", "2",
                 "--interpolation-steps", "3")  # fmt: skip
    assert npz["images"].shape == (12, 8, 8, 1)
    np.testing.assert_array_equal(npz["labels"], np.full(12, 3, np.int32))
    gan, state = library_gan_and_state(conditional_run, digits)
    z, _ = library_noise(gan, 0, 12, labels=jnp.full(12, 3, jnp.int32))
    params, stats = make_sampling_generator(open_run(conditional_run.path).settings(DCGANConfig), gan)(state)
    ema_state = state._replace(g=state.g._replace(params=params, stats=stats))  # the generator that samples
    generated, _ = jaxgan.generate_from(gan, ema_state, (z, np.full(12, 3, np.int32)), batch_size=12)
    np.testing.assert_array_equal(npz["images"], to_uint8(generated))
    with Image.open(tmp_path / "three" / "samples.png") as grid:
        assert grid.size == (8 * CELL + 2, 1 * CELL + 2)  # one row, the class given
    with Image.open(tmp_path / "three" / "interpolation.png") as grid:
        assert grid.size == (3 * CELL + 2, 2 * CELL + 2)
    both = sample(conditional_run, tmp_path / "both", "--num", "5", "--class", "3,5", "--class", "3",
                  "--interpolations", "0")  # fmt: skip
    np.testing.assert_array_equal(both["labels"], [3, 5, 3, 5, 3])
    assert np.array_equal(both["images"][0], npz["images"][0])  # image 0: the same noise, the same class
    with Image.open(tmp_path / "both" / "samples.png") as grid:
        assert grid.size == (8 * CELL + 2, 2 * CELL + 2)


def test_grid_has_a_row_per_class_and_the_generators_are_the_runs(conditional_run, tmp_path):
    """Default: ``samples.png`` has one row per class, column ``c`` image ``c``'s noise (so cell
    ``(y_c, c)`` is image ``c`` itself), one interpolation row per class; the EMA generator samples by
    default and ``--generator last`` gives other images of the same labels."""
    npz = sample(conditional_run, tmp_path / "ema", "--num", "8")
    cells = grid_cells(tmp_path / "ema" / "samples.png")
    assert cells.shape == (K, 8, 8, 8)
    for c in range(8):
        np.testing.assert_array_equal(cells[npz["labels"][c], c], npz["images"][c, ..., 0])
    assert len({cells[r, 0].tobytes() for r in range(K)}) == K  # one noise vector, another image per class
    with Image.open(tmp_path / "ema" / "interpolation.png") as grid:
        assert grid.size == (10 * CELL + 2, K * CELL + 2)  # 10 steps, a row per class
    also_ema = sample(conditional_run, tmp_path / "ema2", "--num", "8", "--generator", "ema", "--interpolations", "0")
    last = sample(conditional_run, tmp_path / "last", "--num", "8", "--generator", "last", "--interpolations", "0")
    assert also_ema["images"].tobytes() == npz["images"].tobytes()
    np.testing.assert_array_equal(last["labels"], npz["labels"])
    assert np.mean(last["images"] != npz["images"]) > 0.2  # G's average after 4 steps of decay 0.9 is not G


def test_a_class_the_run_does_not_have_is_a_one_line_error(conditional_run, tmp_path, capsys):
    assert run_main(PROG, main, [str(conditional_run.path), "--class", "2,10", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == f"{PROG}: error: --class 10: the run in {conditional_run.path} has 10 classes, 0 to 9\n"
    assert not (tmp_path / "o" / "samples.npz").exists()
    with pytest.raises(SystemExit) as exit:
        main([str(conditional_run.path), "--class", "3,x", "--out", str(tmp_path / "o")])
    assert exit.value.code == 2
    assert capsys.readouterr().err == f"{PROG}: error: argument --class: expected a non-negative integer, got 'x'\n"
