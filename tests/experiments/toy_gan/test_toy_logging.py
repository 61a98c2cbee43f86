"""The toy GAN's logs: OUT/metrics.jsonl always, TensorBoard's event files with --tensorboard, read back."""

import json

import pytest

from jaxgan.metric_writers import read_metrics
from tests.experiments.runner.toy_cli import TOY, run_toy
from tests.tensorboard_events import logged_hparams, read_events

RUN = [*TOY, "--steps", "100", "--seeds", "2", "--log-every", "25"]  # chunks of 50: logs at 25, 50, 75, 100


def test_tensorboard_events_hold_the_jsonl_records_and_a_resumed_run_continues_them(tmp_path):
    pytest.importorskip("tensorboardX")
    out, logdir = tmp_path / "run", tmp_path / "tb"
    code, stdout, stderr = run_toy([*RUN, "--out", str(out), "--log-dir", str(logdir)])
    assert code == 0, stderr
    assert f"TensorBoard: tensorboard --logdir {logdir}\n" in stdout
    records = read_metrics(out / "metrics.jsonl")
    assert [r["step"] for r in records] == [25, 50, 75, 100]
    names = {"d_loss", "g_loss", "d_real", "d_fake", "d_fake_after", "lr"}
    assert set(records[0]) == {"step"} | names  # the speed from the second chunk on
    assert set(records[2]) == {"step", "steps_per_second"} | names and records[2]["steps_per_second"] > 0
    assert all(r["lr"] == 0.01 for r in records)
    acc = read_events(logdir)
    assert set(acc.Tags()["scalars"]) == names | {"steps_per_second"}
    for name in names:
        assert [e.step for e in acc.Scalars(name)] == [25, 50, 75, 100]
        assert [e.value for e in acc.Scalars(name)] == pytest.approx([r[name] for r in records], rel=1e-6)
    assert logged_hparams(acc)["steps"] == 100 and logged_hparams(acc)["recipe"] == "lecture"

    code, _, stderr = run_toy([*RUN, "--steps", "150", "--resume", "--out", str(out), "--log-dir", str(logdir)])
    assert code == 0, stderr
    resumed = read_metrics(out / "metrics.jsonl")
    assert resumed[:4] == records and [r["step"] for r in resumed[4:]] == [125, 150]
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    starts = [(i, line["hparams"]["steps"]) for i, line in enumerate(lines) if "hparams" in line]
    assert starts == [(0, 100), (5, 150)]  # each start's settings, before its records
    acc = read_events(logdir)
    assert [e.step for e in acc.Scalars("d_loss")] == [25, 50, 75, 100, 125, 150]


def test_default_run_writes_jsonl_only_and_says_nothing_of_tensorboard(tmp_path):
    code, stdout, stderr = run_toy([*RUN, "--steps", "50", "--out", str(tmp_path)])
    assert code == 0, stderr
    assert "TensorBoard" not in stdout and not (tmp_path / "tensorboard").exists()
    assert [r["step"] for r in read_metrics(tmp_path / "metrics.jsonl")] == [25, 50]
    assert f"wrote {tmp_path / 'results.json'}, {tmp_path / 'metrics.jsonl'} (" in stdout


def test_tensorboard_without_tensorboardx_is_a_one_line_error_before_training(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "tensorboardX", None)
    code, stdout, stderr = run_toy([*RUN, "--tensorboard", "--out", str(tmp_path)])
    assert code == 2 and stdout == ""
    assert stderr == ("python -m experiments.toy_gan: error: --tensorboard needs tensorboardX: "
                      "pip install 'jaxgan[tensorboard]' (or run without --tensorboard)\n")  # fmt: skip
    assert not (tmp_path / "metrics.jsonl").exists()
