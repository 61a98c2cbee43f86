"""A class-conditional DCGAN run (``experiments.dcgan --conditional``) trained with ``--stream host``:
its streamed batches carry their images' labels."""

import types

import numpy as np
import pytest

from experiments.runner import run_main

K = 10  # the digits' classes


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
