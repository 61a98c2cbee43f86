"""``python -m experiments.cyclegan`` end to end (tiny), exact resume, its errors, and the recorded
quality run (slow)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from experiments.cyclegan.__main__ import main
from experiments.runner import run_main
from experiments.runner.translation import judge
from jaxgan.reliability.checkpoint import Checkpointer
from tests.experiments.translation_runs import (  # classic_threefry: autouse, for every test here
    assert_resumed_bit_identical,
    classic_threefry,  # noqa: F401
    train_in_process,
)

ROOT = Path(__file__).resolve().parents[3]
PROG = "python -m experiments.cyclegan"


# Tiny models and runs; checkpoints at steps 2 and 4, all kept.
TINY = ["--steps", "4", "--chunk-size", "2", "--batch-size", "2", "--image-size", "8", "--ngf", "2",
        "--n-blocks", "0", "--ndf", "2", "--n-layers", "1", "--pool-size", "3", "--classifier-steps", "2",
        "--checkpoint-every", "2", "--keep-checkpoints", "5", "--no-progress"]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The uninterrupted tiny run, trained in this process: (its output directory, what it printed,
    the classifier cache)."""
    root = tmp_path_factory.mktemp("cyclegan")
    out, cache = root / "run", root / "cache"
    status, printed = train_in_process(PROG, main, [*TINY, "--out", str(out)], cache)
    assert status == 0
    return out, printed, cache


def test_tiny_end_to_end_run_writes_results_and_figure(tiny_run):
    out, printed, _ = tiny_run
    assert printed.splitlines()[0] == (
        "preset for digits-thick (known-answer tasks): --ngf 16 --n-blocks 3 --ndf 16 --n-layers 2 --batch-size 8; "
        "flags given override it (here --ngf --n-blocks --ndf --n-layers --batch-size)"
    )
    results = json.loads((out / "results.json").read_text())
    assert results["dataset"] == "digits-thick" and results["steps"] == 4
    assert (results["ngf"], results["n_blocks"], results["batch_size"]) == (2, 0, 2)  # the flags given, recorded
    assert results["image_shape"] == [8, 8, 1] and results["decay_steps"] == 2
    assert (out / "translations.png").stat().st_size > 1000
    assert "label preservation" in printed
    assert Checkpointer(out / "checkpoints").steps() == [2, 4]  # every 2 steps, and the final one


def test_reported_errors_are_those_of_the_trained_translators_on_the_held_out_digits(tiny_run, monkeypatch):
    """Known answers: each number of results.json recomputed from what the run left (its final
    checkpoint, its cached classifiers) and the task's held-out digits. Doing nothing errs by the
    distance between x and T(x); the tiny translators' errors are theirs, not the identity's."""
    from jaxgan.cyclegan import init_cyclegan, translate
    from jaxgan.data.translation_tasks import load_translation_task
    from jaxgan.metrics import classifier as judges
    from experiments.cyclegan.config import parse_args
    from experiments.cyclegan.train import build_model

    out, _, cache = tiny_run
    r = json.loads((out / "results.json").read_text())
    task = load_translation_task("digits-thick", image_size=8, seed=0)
    x, tx, labels = task.test_a.images.astype(np.float64), task.test_b.images.astype(np.float64), task.test_a.labels
    mae = lambda a, b: float(np.mean(np.abs(np.asarray(a, np.float64) - b)) / 2)  # [-1, 1] images, [0, 1] scale
    assert r["pixel_mae_identity"] == pytest.approx(mae(x, tx), rel=1e-12) and r["pixel_mae_identity"] > 0.05

    config = parse_args([*TINY, "--out", str(out)]).resolved()
    model = build_model(config, 1, 1)
    target = jax.eval_shape(lambda: init_cyclegan(model, jax.random.PRNGKey(0), (8, 8, 1), (8, 8, 1)))
    state = Checkpointer(out / "checkpoints").restore(target, step=4).state
    fake_b = np.asarray(translate(model.generator_ab, state.g_ab, task.test_a.images))
    fake_a = np.asarray(translate(model.generator_ba, state.g_ba, task.test_b.images))
    rec_a = np.asarray(translate(model.generator_ba, state.g_ba, fake_b))
    assert r["pixel_mae_ab"] == pytest.approx(mae(fake_b, tx), rel=1e-5)
    assert r["pixel_mae_ba"] == pytest.approx(mae(fake_a, x), rel=1e-5)
    assert r["cycle_mae_a"] == pytest.approx(mae(rec_a, x), rel=1e-5)
    assert abs(r["pixel_mae_ab"] - r["pixel_mae_identity"]) > 0.01  # the translator's error, not doing nothing's

    monkeypatch.setenv("JAXGAN_CACHE", str(cache))
    monkeypatch.setattr(judges, "train_classifier", None)  # the run's cached classifiers, not new ones
    judge_b, judge_a = judge(task.classify_b, seed=0, steps=2), judge(task.classify_a, seed=0, steps=2)
    read = lambda clf, images: np.argmax(judges.classifier_outputs(clf, images)[0], axis=1)
    assert r["label_acc_ab"] == pytest.approx(np.mean(read(judge_b, fake_b) == labels), abs=1e-12)
    assert r["label_acc_real_a"] == pytest.approx(np.mean(read(judge_a, task.test_a.images) == labels), abs=1e-12)


def test_resume_from_a_mid_run_checkpoint_is_bit_identical(tiny_run, tmp_path, monkeypatch):
    """The run's step-2 checkpoint (four players, both image pools, step, key) resumed to step 4
    ends with the same bits as the uninterrupted run, and reports the same metrics."""
    full, _, cache = tiny_run
    resumed = tmp_path / "resumed"
    shutil.copytree(full / "checkpoints", resumed / "checkpoints")
    Checkpointer(resumed / "checkpoints").delete(4)  # as if stopped right after step 2
    monkeypatch.setenv("JAXGAN_CACHE", str(cache))
    assert run_main(PROG, main, [*TINY, "--no-plot", "--resume", "--out", str(resumed)]) == 0
    a = json.loads((full / "results.json").read_text())
    b = json.loads((resumed / "results.json").read_text())
    assert b["resumed_from_step"] == 2 and a["resumed_from_step"] == 0 and b["steps"] == a["steps"] == 4
    for field in ("pixel_mae_ab", "pixel_mae_ba", "cycle_mae", "label_acc_ab", "label_acc_ba", "final_losses"):
        assert a[field] == b[field], field
    assert_resumed_bit_identical(full, resumed, step=4, earlier=2)


def test_resume_with_another_step_count_is_refused(tiny_run, tmp_path, capsys):
    """``--steps`` sets the learning-rate schedule, so it is part of the run's identity."""
    full = tiny_run[0]
    shutil.copytree(full / "checkpoints", tmp_path / "checkpoints")
    argv = [*TINY, "--steps", "6", "--resume", "--out", str(tmp_path)]  # the later --steps wins
    assert run_main(PROG, main, argv) == 2
    err = capsys.readouterr().err.strip()
    assert "written by a different configuration" in err and "steps" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--dataset", "digits-blur"], "unknown translation task"),
        (["--dataset", "folder"], "--data-dir"),
        (["--image-size", "10"], "multiple of 4"),
        (["--steps", "10", "--decay-steps", "20"], "exceeds --steps"),
        (["--devices", "64"], "only 1 device(s) available"),
        (["--lambda-cycle", "-1"], "must be >= 0"),
        (["--resume"], "no checkpoint"),
    ],
)
def test_user_mistakes_are_one_line_errors(argv, message, capsys, tmp_path):
    assert run_main(PROG, main, [*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith(PROG)


@pytest.mark.slow
def test_quality_run_meets_the_goals(tmp_path):
    """The recorded run (``docs/results.md``, CycleGAN): default settings, at most 15 minutes."""
    out = tmp_path / "quality"
    env = {**os.environ, "MPLBACKEND": "Agg"}  # the default classifier cache: trained once, reused
    proc = subprocess.run([sys.executable, "-m", "experiments.cyclegan", "--out", str(out), "--no-progress"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads((out / "results.json").read_text())
    assert r["label_acc_ab"] >= 0.95 and r["label_acc_ba"] >= 0.95
    assert r["pixel_mae_ab"] <= 0.05
    assert r["compile_seconds"] + r["train_seconds"] <= 15 * 60
