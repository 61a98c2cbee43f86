"""``python -m experiments.pix2pix`` end to end (tiny), exact resume, the run's held-out digits
translated back from its directory (``python -m experiments.sample``), its errors, and the recorded
quality run (slow).

One tiny run, trained once in this process, serves every test that needs a trained run."""

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
from tests.experiments.translation_runs import (  # classic_threefry: autouse, for every test here
    classic_threefry,  # noqa: F401
    assert_resumed_bit_identical,
    one_line_error,
    read_pngs,
    train_in_process,
    write_held_out_pngs,
)

ROOT = Path(__file__).resolve().parents[3]
PROG = "python -m experiments.pix2pix"
SAMPLE = "python -m experiments.sample"

# Tiny models and runs; checkpoints at steps 2 and 4, all kept.
TINY = ["--steps", "4", "--chunk-size", "2", "--batch-size", "2", "--image-size", "8", "--ngf", "2",
        "--ndf", "2", "--n-layers", "1", "--dropout-blocks", "1", "--classifier-steps", "2",
        "--checkpoint-every", "2", "--keep-checkpoints", "5", "--log-every", "2", "--no-progress"]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The uninterrupted tiny run: (its output directory, what it printed, the classifier cache,
    the folder of its held-out digits as PNG files: ``A/`` the inputs ``x``, ``B/`` the answers ``T(x)``)."""
    from jaxgan.data.translation_tasks import load_translation_task

    root = tmp_path_factory.mktemp("pix2pix")
    out, cache = root / "run", root / "cache"
    status, printed = train_in_process(PROG, main, [*TINY, "--out", str(out)], cache)
    assert status == 0
    write_held_out_pngs(root / "held_out", load_translation_task("digits-thick", image_size=8, seed=0))
    return out, printed, cache, root / "held_out"


def test_tiny_end_to_end_run_writes_results_and_figure(tiny_run):
    out, printed, _, _ = tiny_run
    assert printed.splitlines()[0] == (
        "preset for digits-thick (known-answer tasks): --ngf 32 --ndf 16 --n-layers 2 --dropout-blocks 2 "
        "--batch-size 8 --steps 12000; flags given override it "
        "(here --ngf --ndf --n-layers --dropout-blocks --batch-size --steps)"
    )
    results = json.loads((out / "results.json").read_text())
    assert results["dataset"] == "digits-thick" and results["steps"] == 4 and results["direction"] == "AtoB"
    assert (results["ngf"], results["dropout_blocks"], results["batch_size"]) == (2, 1, 2)  # the flags given
    assert results["image_shape"] == [8, 8, 1] and results["decay_steps"] == 2
    assert results["cpu_seconds"] > 0
    assert (out / "translations.png").stat().st_size > 1000
    assert "label preservation" in printed
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

    out = tiny_run[0]
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
    full, _, cache, _ = tiny_run
    resumed = tmp_path / "resumed"
    shutil.copytree(full / "checkpoints", resumed / "checkpoints")
    Checkpointer(resumed / "checkpoints").delete(4)  # as if stopped right after step 2
    monkeypatch.setenv("JAXGAN_CACHE", str(cache))
    assert run_main(PROG, main, [*TINY, "--no-plot", "--resume", "--out", str(resumed)]) == 0
    a = json.loads((full / "results.json").read_text())
    b = json.loads((resumed / "results.json").read_text())
    assert b["resumed_from_step"] == 2 and a["resumed_from_step"] == 0 and b["steps"] == a["steps"] == 4
    for field in ("pixel_mae", "pixel_mae_running", "label_acc", "final_losses"):
        assert a[field] == b[field], field
    assert_resumed_bit_identical(full, resumed, step=4, earlier=2)


def test_translating_held_out_digits_from_the_run_directory_errs_as_much_as_the_run_reported(tiny_run, tmp_path):
    """``pixel_mae`` of results.json is ``|G(x) - T(x)|`` on the held-out digits, G run with the
    evaluation's dropout keys on batches of 200 (their statistics); the same digits as 8-bit PNG
    files, translated by ``python -m experiments.sample`` by default in the run's direction and
    batches, err by the same to within one level (1/255) of rounding."""
    from experiments.sample.__main__ import main as sample

    run, _, _, held_out = tiny_run
    reported = json.loads((run / "results.json").read_text())
    a, b = read_pngs(held_out / "A", 360), read_pngs(held_out / "B", 360)
    assert run_main(SAMPLE, sample, [str(run), "--input", str(held_out / "A")]) == 0  # to RUN/translated_AB
    fake_b = read_pngs(run / "translated_AB", 360)
    assert fake_b.shape == (360, 8, 8, 1)  # at the trained size, one grayscale PNG each
    assert np.mean(np.abs(fake_b - b)) == pytest.approx(reported["pixel_mae"], abs=1 / 255)
    # Negative controls, outside that tolerance: doing nothing errs otherwise, and so does G on other
    # batches (its outputs depend on the statistics of the batch they are in)
    assert abs(reported["pixel_mae_identity"] - reported["pixel_mae"]) > 2 / 255
    assert np.mean(np.abs(fake_b - a)) != pytest.approx(reported["pixel_mae"], abs=1 / 255)
    argv = [str(run), "--input", str(held_out / "A"), "--direction", "AB", "--batch-size", "7", "--out", str(tmp_path)]
    assert run_main(SAMPLE, sample, argv) == 0  # AB, the run's own direction, may be named
    assert np.mean(np.abs(read_pngs(tmp_path, 360) - fake_b)) > 2 / 255


def test_translating_the_direction_the_run_did_not_learn_or_without_input_is_a_one_line_error(tiny_run, tmp_path, capsys):
    from experiments.sample.__main__ import main as sample

    run, _, _, held_out = tiny_run
    out = tmp_path / "o"
    argv = [str(run), "--input", str(held_out / "B"), "--direction", "BA", "--out", str(out)]
    assert one_line_error(capsys, SAMPLE, sample, argv) == (
        f"--direction BA: the pix2pix run in {run} learned one direction, A to B (trained with --direction AtoB); "
        "pass --direction AB or leave it out")
    assert one_line_error(capsys, SAMPLE, sample, [str(run)]) == (
        f"{run} is a pix2pix run: it translates images in the direction it learned; pass --input DIR (a folder of images)")
    assert one_line_error(capsys, SAMPLE, sample, [str(run), "--input", str(held_out / "A"), "--seed", "3"]) == (
        f"--seed applies to toy GAN and mixture GAN and DCGAN runs; {run} is a pix2pix run (experiments.pix2pix): "
        "leave --seed out")
    assert one_line_error(capsys, SAMPLE, sample, [str(run), "--input", str(tmp_path / "missing"), "--out", str(out)]) == (
        f"--input {tmp_path / 'missing'} does not exist; pass a folder of images to translate")
    assert not out.exists()  # nothing written


def test_a_run_that_learned_b_to_a_translates_only_that_way():
    from experiments.runner import UserError
    from experiments.sample.run_dir import Run
    from experiments.sample.translate_paired import check_direction

    run = Run(path="runs/p", experiment="pix2pix", config={"direction": "BtoA"}, results=None, step=1)
    assert check_direction(run, None) == check_direction(run, "BA") == "BA"
    with pytest.raises(UserError, match=r"learned one direction, B to A \(trained with --direction BtoA\); pass --direction BA"):
        check_direction(run, "AB")
    assert check_direction(run._replace(config={"direction": "AtoB"}), None) == "AB"


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
        ([*TINY, "--resume"], "no checkpoint"),  # tiny: the networks are built before the checkpoint is looked for
    ],
)
def test_user_mistakes_are_one_line_errors(argv, message, capsys, tmp_path):
    assert message in one_line_error(capsys, PROG, main, [*argv, "--out", str(tmp_path)])


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
