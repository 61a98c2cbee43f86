"""``python -m experiments.pix2pix`` end to end (tiny), exact resume, its errors, and the recorded
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

from experiments.pix2pix.__main__ import main
from experiments.runner import run_main
from jaxgan.reliability.checkpoint import Checkpointer

ROOT = Path(__file__).resolve().parents[3]
PROG = "python -m experiments.pix2pix"

# Tiny models and runs; checkpoints at steps 2 and 4, all kept. Both runs use the classic
# (non-partitionable) threefry, which XLA:CPU compiles faster.
TINY = ["--steps", "4", "--chunk-size", "2", "--batch-size", "2", "--image-size", "8", "--ngf", "2",
        "--ndf", "2", "--n-layers", "1", "--dropout-blocks", "1", "--classifier-steps", "2",
        "--checkpoint-every", "2", "--keep-checkpoints", "5", "--log-every", "2", "--no-progress"]  # fmt: skip


def run_cli(args, cache, timeout):
    env = {**os.environ, "JAXGAN_CACHE": str(cache), "MPLBACKEND": "Agg", "JAX_THREEFRY_PARTITIONABLE": "0"}
    return subprocess.run([sys.executable, "-m", "experiments.pix2pix", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The uninterrupted tiny CLI run: (its output directory, the process, the classifier cache)."""
    root = tmp_path_factory.mktemp("pix2pix")
    out, cache = root / "run", root / "cache"
    proc = run_cli([*TINY, "--out", str(out)], cache, timeout=900)
    return out, proc, cache


def test_tiny_end_to_end_run_writes_results_and_figure(tiny_run):
    out, proc, _ = tiny_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[0] == (
        "preset for digits-thick (known-answer tasks): --ngf 32 --ndf 16 --n-layers 2 --dropout-blocks 2 "
        "--batch-size 8 --steps 10000; flags given override it "
        "(here --ngf --ndf --n-layers --dropout-blocks --batch-size --steps)"
    )
    results = json.loads((out / "results.json").read_text())
    assert results["dataset"] == "digits-thick" and results["steps"] == 4 and results["direction"] == "AtoB"
    assert (results["ngf"], results["dropout_blocks"], results["batch_size"]) == (2, 1, 2)  # the flags given
    assert results["image_shape"] == [8, 8, 1] and results["decay_steps"] == 2
    assert results["cpu_seconds"] > 0
    assert (out / "translations.png").stat().st_size > 1000
    assert "label preservation" in proc.stdout
    assert Checkpointer(out / "checkpoints").steps() == [2, 4]
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert any("l1_loss" in row for row in logged)


def test_reported_errors_are_those_of_the_trained_generator_on_the_held_out_digits(tiny_run):
    """Known answers: the pixel errors of results.json recomputed from the final checkpoint and the
    task's held-out pairs (x, T(x)), with the evaluation's dropout key."""
    from experiments.pix2pix.config import parse_args
    from experiments.pix2pix.train import build_model, evaluation_key
    from jaxgan.data.translation_tasks import load_translation_task
    from jaxgan.pix2pix import init_pix2pix, translate

    out, proc, _ = tiny_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads((out / "results.json").read_text())
    task = load_translation_task("digits-thick", image_size=8, seed=0)
    x, tx = task.test_a.images, task.test_b.images
    mae = lambda a, b: float(np.mean(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))) / 2)
    assert r["pixel_mae_identity"] == pytest.approx(mae(x, tx), rel=1e-12) and r["pixel_mae_identity"] > 0.05

    config = parse_args([*TINY, "--out", str(out)]).resolved()
    model = build_model(config, 1)
    target = jax.eval_shape(lambda: init_pix2pix(model, jax.random.PRNGKey(0), (8, 8, 1), (8, 8, 1)))
    state = Checkpointer(out / "checkpoints").restore(target, step=4).state
    key = evaluation_key(config)
    parts = [translate(model.generator, state.g, x[i : i + 200], jax.random.fold_in(key, n), False)
             for n, i in enumerate(range(0, len(x), 200))]  # fmt: skip
    assert r["pixel_mae_running"] == pytest.approx(mae(np.concatenate(parts), tx), rel=1e-5)
    assert abs(r["pixel_mae"] - r["pixel_mae_identity"]) > 0.01  # the generator's error, not doing nothing's


def test_resume_from_a_mid_run_checkpoint_is_bit_identical(tiny_run, tmp_path, monkeypatch):
    """The step-2 checkpoint (both players, step, key) resumed to step 4 ends with the same bits."""
    full, proc, cache = tiny_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    resumed = tmp_path / "resumed"
    shutil.copytree(full / "checkpoints", resumed / "checkpoints")
    Checkpointer(resumed / "checkpoints").delete(4)  # as if stopped right after step 2
    monkeypatch.setenv("JAXGAN_CACHE", str(cache))
    with jax.threefry_partitionable(False):
        assert run_main(PROG, main, [*TINY, "--no-plot", "--resume", "--out", str(resumed)]) == 0
    a = json.loads((full / "results.json").read_text())
    b = json.loads((resumed / "results.json").read_text())
    assert b["resumed_from_step"] == 2 and a["resumed_from_step"] == 0 and b["steps"] == a["steps"] == 4
    for field in ("pixel_mae", "pixel_mae_running", "label_acc", "final_losses"):
        assert a[field] == b[field], field
    leaves_full = jax.tree.leaves(Checkpointer(full / "checkpoints").restore(step=4).state)
    leaves_resumed = jax.tree.leaves(Checkpointer(resumed / "checkpoints").restore(step=4).state)
    assert len(leaves_full) == len(leaves_resumed) > 20
    for x, y in zip(leaves_full, leaves_resumed):
        assert np.asarray(x).tobytes() == np.asarray(y).tobytes()
    at_2 = jax.tree.leaves(Checkpointer(full / "checkpoints").restore(step=2).state)
    changed = sum(np.asarray(x).tobytes() != np.asarray(y).tobytes() for x, y in zip(at_2, leaves_full))
    assert changed > len(at_2) // 2  # steps 3 and 4 did train: the equality above is not trivial


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--dataset", "digits-blur"], "unknown translation task"),
        (["--dataset", "folder"], "--data-dir"),
        (["--image-size", "12"], "power of two"),
        (["--dropout-blocks", "3"], "exceeds the 2 middle blocks"),
        (["--steps", "10", "--decay-steps", "20"], "exceeds --steps"),
        (["--devices", "64"], "only 1 device(s) available"),
        (["--lambda-l1", "-1"], "must be >= 0"),
        (["--resume"], "no checkpoint"),
    ],
)
def test_user_mistakes_are_one_line_errors(argv, message, capsys, tmp_path):
    assert run_main(PROG, main, [*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith(PROG)


def test_aligned_folder_without_train_images_is_a_one_line_error(capsys, tmp_path):
    (tmp_path / "data" / "train").mkdir(parents=True)
    argv = ["--dataset", "folder", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out")]
    assert run_main(PROG, main, argv) == 2
    err = capsys.readouterr().err.strip()
    assert "no images in" in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_quality_run_meets_the_goals(tmp_path):
    """The recorded run (``docs/results.md``, pix2pix): default settings."""
    out = tmp_path / "quality"
    env = {**os.environ, "MPLBACKEND": "Agg"}  # the default classifier cache: trained once, reused
    proc = subprocess.run([sys.executable, "-m", "experiments.pix2pix", "--out", str(out), "--no-progress"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    r = json.loads((out / "results.json").read_text())
    assert r["label_acc"] >= 0.98
    assert r["pixel_mae"] <= 0.02
    assert r["cpu_seconds"] <= 10 * 60
