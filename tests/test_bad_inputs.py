"""One-line errors for bad input, from the CLI and from the library: every bad input of
docs/reliability.md (the checkpoint's are in tests/test_checkpoint.py)."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from experiments import runner as lifecycle
from jaxgan.reliability import input_checks as validation
from jaxgan.models.mlp import MLP, LinearGenerator
from toy_cli import TOY, run_toy


# ---------------------------------------------------------------------------- bad inputs, CLI


@pytest.mark.parametrize(
    "args, message",
    [
        (["--steps", "0"], "argument --steps: expected a positive integer, got 0"),
        (["--batch-size", "-4"], "argument --batch-size: expected a positive integer, got -4"),
        (["--lr", "0"], "argument --lr: expected a positive finite number, got 0"),
        (["--lr", "nan"], "argument --lr: expected a positive finite number, got nan"),
        (["--lr", "fast"], "argument --lr: expected a positive number, got 'fast'"),
        (["--n-samples", "16", "--batch-size", "32"], "--batch-size 32 is larger than the data (16 samples)"),
        (["--recipe", "magic"], "argument --recipe: invalid choice: 'magic'"),
        (["--checkpoint-every", "-1"], "argument --checkpoint-every: expected a non-negative integer, got -1"),
        (["--keep-checkpoints", "0"], "argument --keep-checkpoints: expected a positive integer, got 0"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(args, message, tmp_path):
    code, out, err = run_toy(TOY + ["--out", str(tmp_path)] + args)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err and out == ""


def test_library_input_errors_become_one_line_cli_errors(capsys):
    def main(argv):
        validation.check_batch_size(64, 10)

    assert lifecycle.run_main("prog", main, []) == 2
    assert capsys.readouterr().err == "prog: error: batch size: expected at most the data set size (10 examples), got 64\n"

    def other(argv):
        raise RuntimeError("a bug, not a user's mistake")

    with pytest.raises(RuntimeError):  # real bugs keep their traceback
        lifecycle.run_main("prog", other, [])


# ------------------------------------------------------------------------ bad inputs, library


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


def test_unknown_loss_name_is_refused_when_the_gan_is_built():
    with pytest.raises(ValueError, match=r"unknown loss 'hinj'; known losses: .*hinge"):
        jaxgan.GAN(jaxgan.from_linen(LinearGenerator(2)), jaxgan.from_linen(MLP((8,), 2)), optax.adam(1e-3),
                   optax.adam(1e-3), (2,), "hinj")


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


def test_unreadable_image_file_is_a_one_line_cli_error(tmp_path, capsys):
    from jaxgan.data.images import load_image_folder

    (tmp_path / "broken.png").write_bytes(b"not a png at all")

    def main(argv):
        load_image_folder(tmp_path)

    assert lifecycle.run_main("prog", main, []) == 2
    err = capsys.readouterr().err
    assert err.startswith("prog: error: cannot read image ") and "broken.png" in err and err.count("\n") == 1
