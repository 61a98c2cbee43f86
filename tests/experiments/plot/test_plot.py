"""``python -m experiments.plot RUN_DIR``: the curves of metrics.jsonl as a PNG, and its one-line errors."""

import pytest

from experiments.plot import d_output_names, loss_names, read_run
from experiments.plot.__main__ import PROG, main
from experiments.runner import run_cli
from jaxgan.metric_writers import JsonLinesWriter


def write_run(run_dir, steps=(10, 20, 30)):
    with JsonLinesWriter(run_dir / "metrics.jsonl") as w:
        w.write_hparams({"lr": 0.01})
        for s in steps:
            w.write_scalars(s, {"d_loss": 1.0 / s, "g_loss": s / 10, "d_real": 0.6, "d_fake": 0.4, "lr": 0.01})


def test_draws_the_losses_and_d_outputs_of_a_run(tmp_path, capsys):
    write_run(tmp_path)
    assert run_cli(PROG, main, [str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'curves.png'}\n"
    png = (tmp_path / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    records = read_run(tmp_path)
    assert loss_names(records) == ["d_loss", "g_loss"] and d_output_names(records) == ["d_real", "d_fake"]
    assert run_cli(PROG, main, [str(tmp_path), "--out", str(tmp_path / "figs" / "c.png")]) == 0
    assert (tmp_path / "figs" / "c.png").is_file()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing", "is not a directory; pass the --out directory of a run"),
        (lambda d: d, "has no metrics.jsonl; pass the --out directory of a run"),
        (lambda d: write_run(d, steps=()) or d, "holds no logged step yet"),
    ],
)
def test_a_directory_without_logged_steps_is_a_one_line_error(tmp_path, capsys, make, message):
    run_dir = make(tmp_path)
    assert run_cli(PROG, main, [str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{PROG}: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "curves.png").exists()
