"""The known-answer translation tasks (``jaxgan.data.translation_tasks``)."""

import numpy as np
import pytest
from scipy import ndimage

from jaxgan.data.images import DatasetError
from jaxgan.data.translation_tasks import invert_thicken, load_translation_task, parse_task, thicken, transpose


def test_thick_is_grey_dilation_and_not_pixelwise():
    task = load_translation_task("digits-thick", image_size=16)
    x = task.test_a.images
    expected = ndimage.grey_dilation(x, size=(1, 3, 3, 1), mode="constant", cval=-1.0)
    np.testing.assert_array_equal(task.test_b.images, expected)
    np.testing.assert_array_equal(np.asarray(thicken(x)), expected)
    np.testing.assert_array_equal(np.asarray(invert_thicken(x)), -expected)  # the "invert-thick" task
    # No function of the pixel value alone produces T: the best one (the median target of each input
    # value, optimal for L1) still errs by more than the 0.05 goal on the [0, 1] scale.
    x, y = task.classify_a.images.ravel(), task.classify_b.images.ravel()
    values, groups = np.unique(x, return_inverse=True)
    medians = np.array([np.median(y[groups == g]) for g in range(len(values))])
    best_pixelwise = np.mean(np.abs(y - medians[groups])) / 2
    assert best_pixelwise > 0.05
    assert np.mean(np.abs(x - y)) / 2 > 0.1  # and far from the identity


def test_task_splits_are_disjoint_and_labelled():
    task = load_translation_task("digits-invert-thick", image_size=16)
    assert task.test_a.num_examples == task.test_b.num_examples == 360
    assert abs(task.train_a.num_examples - task.train_b.num_examples) <= 1
    assert task.train_a.num_examples + task.train_b.num_examples + 360 == 1797
    np.testing.assert_array_equal(task.test_a.labels, task.test_b.labels)
    # The same digit never appears on both sides: no image of train_a is T^-1 of train_b or a test one.
    key = lambda images: {im.tobytes() for im in images}
    a, test = key(task.train_a.images), key(task.test_a.images)
    b_sources = key(task.classify_a.images) - a  # the digits whose T is domain B
    assert not (a & test) and not (a & b_sources) and len(b_sources) == task.train_b.num_examples
    np.testing.assert_array_equal(np.asarray(transpose(transpose(task.test_a.images))), task.test_a.images)


def test_task_names_are_checked():
    assert parse_task("mnist-transpose") == ("mnist", "transpose")
    with pytest.raises(DatasetError, match="known tasks"):
        parse_task("digits-blur")
    with pytest.raises(DatasetError, match="known tasks"):
        parse_task("cifar10-invert-thick")


def test_mnist_tasks_download_without_a_data_dir_and_read_only_the_files_given_one(monkeypatch):
    from jaxgan.data import translation_tasks

    calls = []
    monkeypatch.setattr(translation_tasks, "load_dataset", lambda name, **kw: calls.append((name, kw)) or "data")
    assert translation_tasks._load_base("mnist", None, 16) == "data"
    assert calls[-1] == ("mnist", {"split": "all", "image_size": 16, "download": True})
    translation_tasks._load_base("mnist", "/some/dir", 16)
    assert calls[-1][1]["download"] is False and calls[-1][1]["data_dir"] == "/some/dir"
