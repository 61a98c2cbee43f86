"""``python -m experiments.cyclegan`` end to end (tiny), its errors, and the recorded quality run (slow)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.common import run_main
from experiments.cyclegan import main

ROOT = Path(__file__).resolve().parents[1]
PROG = "python -m experiments.cyclegan"


def run_cli(args, tmp_path, timeout):
    env = {**os.environ, "JAXGAN_CACHE": str(tmp_path / "cache"), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "experiments.cyclegan", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def test_tiny_end_to_end_run_writes_results_and_figure(tmp_path):
    out = tmp_path / "run"
    tiny = ["--steps", "4", "--chunk-size", "2", "--batch-size", "2", "--image-size", "8", "--ngf", "2",
            "--n-blocks", "0", "--ndf", "2", "--n-layers", "1", "--pool-size", "3", "--classifier-steps", "2",
            "--out", str(out), "--no-progress"]  # fmt: skip
    proc = run_cli(tiny, tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    for field in ("dataset", "steps", "pixel_mae_ab", "pixel_mae_ba", "cycle_mae", "label_acc_ab", "label_acc_ba",
                  "images_per_second", "train_seconds", "device"):  # fmt: skip
        assert results[field] is not None, field
    assert results["dataset"] == "digits-thick" and results["steps"] == 4
    for field in ("pixel_mae_ab", "pixel_mae_ba", "cycle_mae", "label_acc_ab", "label_acc_ba"):
        assert 0.0 <= results[field] <= 1.0
    assert results["image_shape"] == [8, 8, 1] and results["decay_steps"] == 2
    assert (out / "translations.png").stat().st_size > 1000
    assert "label preservation" in proc.stdout


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--dataset", "digits-blur"], "unknown translation task"),
        (["--dataset", "folder"], "--data-dir"),
        (["--image-size", "10"], "multiple of 4"),
        (["--steps", "10", "--decay-steps", "20"], "exceeds --steps"),
    ],
)
def test_user_mistakes_are_one_line_errors(argv, message, capsys, tmp_path):
    assert run_main(PROG, main, [*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith(PROG)


@pytest.mark.slow
def test_quality_run_meets_the_goals(tmp_path):
    """The recorded run (docs/benchmarks.md, section cyclegan): default settings, at most 15 minutes."""
    out = tmp_path / "quality"
    env = {**os.environ, "MPLBACKEND": "Agg"}  # the default classifier cache: trained once, reused
    proc = subprocess.run([sys.executable, "-m", "experiments.cyclegan", "--out", str(out), "--no-progress"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads((out / "results.json").read_text())
    assert r["label_acc_ab"] >= 0.95 and r["label_acc_ba"] >= 0.95
    assert r["pixel_mae_ab"] <= 0.05
    assert r["compile_seconds"] + r["train_seconds"] <= 15 * 60
