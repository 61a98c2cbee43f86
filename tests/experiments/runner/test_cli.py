"""One-line errors for bad input on the command line: the toy GAN's flags, and the library's input errors
(``jaxgan.reliability.input_checks``, image files) turned into one-line CLI errors by ``run_main``."""

import pytest

from experiments import runner as lifecycle
from jaxgan.reliability import input_checks as validation
from tests.experiments.runner.toy_cli import TOY, run_toy


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


def test_unreadable_image_file_is_a_one_line_cli_error(tmp_path, capsys):
    from jaxgan.data.images import load_image_folder

    (tmp_path / "broken.png").write_bytes(b"not a png at all")

    def main(argv):
        load_image_folder(tmp_path)

    assert lifecycle.run_main("prog", main, []) == 2
    err = capsys.readouterr().err
    assert err.startswith("prog: error: cannot read image ") and "broken.png" in err and err.count("\n") == 1
