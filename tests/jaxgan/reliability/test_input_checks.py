"""The library's checks of its inputs (``jaxgan.reliability.input_checks``): one-line messages that say
what was expected and what came (the command line's are in ``tests/experiments/runner/test_cli.py``)."""

import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.reliability import input_checks as validation


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: validation.check_array(np.zeros((4, 28, 28)), name="images", rank=4, axes="N, H, W, C"),
         "images: expected rank 4 [N, H, W, C], got rank 3 with shape (4, 28, 28)"),
        (lambda: validation.check_array(np.zeros((4, 32, 32, 1)), name="images", shape=(None, 28, 28, 1)),
         "images: expected shape (N, 28, 28, 1), got (4, 32, 32, 1) (axis 1: expected 28, got 32)"),
        (lambda: validation.check_array(np.zeros((4, 28, 28, 2)), name="images", channels=(1, 3)),
         "images: expected 1 or 3 channels on the last axis, got 2"),
        (lambda: validation.check_array(np.zeros((0, 2))), "data: expected a non-empty array, got shape (0, 2)"),
        (lambda: validation.check_array([[1, 2], [3]]), "data: expected a numeric array"),
        (lambda: validation.check_finite_values(np.array([[0.0, np.nan], [1.0, 2.0]])),
         "data: expected finite values, got 1 NaN value(s) (first at index (0, 1))"),
        (lambda: validation.check_finite_values(jnp.array([0.0, 1.0, jnp.inf, -jnp.inf])),
         "data: expected finite values, got 2 infinite value(s) (first at index (2,))"),
        (lambda: validation.check_batch_size(64, 10), "batch size: expected at most the data set size (10 examples), got 64"),
        (lambda: validation.check_batch_size(30, 100, device_count=8),
         "batch size: expected a multiple of the device count (8), got 30; try 24 or 32"),
        (lambda: validation.check_batch_size(8, 0), "the data set is empty"),
        (lambda: validation.check_positive("learning rate", -0.1), "learning rate: expected a positive number, got -0.1"),
        (lambda: validation.check_positive("steps", 2.5, integer=True), "steps: expected a positive integer, got 2.5"),
        (lambda: validation.check_positive("steps", float("inf")), "steps: expected a positive number, got inf"),
        (lambda: validation.check_choice("loss", "hinj", ["hinge", "softmax"]),
         "unknown loss 'hinj' (did you mean 'hinge'?); expected one of: hinge, softmax"),
    ],
)
def test_library_bad_input_message(call, message):
    with pytest.raises(validation.InvalidInputError) as err:
        call()
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_data_directory_missing_file_or_empty(tmp_path):
    with pytest.raises(validation.InvalidInputError, match="does not exist"):
        validation.check_data_dir(tmp_path / "nope")
    (tmp_path / "a_file.png").write_bytes(b"x")
    with pytest.raises(validation.InvalidInputError, match="expected a directory, got a file"):
        validation.check_data_dir(tmp_path / "a_file.png")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    with pytest.raises(validation.InvalidInputError, match=r"expected files ending in \.png.*found none"):
        validation.check_data_dir(tmp_path / "empty")
    assert validation.check_data_dir(tmp_path, suffixes=(".png",)) == [tmp_path / "a_file.png"]
