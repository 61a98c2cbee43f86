"""End-to-end checks of ``python -m experiments.mixture_gan`` (tiny shapes; the real benchmark is slow)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

from experiments import mixture_gan
from experiments.mixture_gan import __main__ as mixture_cli
from experiments.runner import run_cli as run_main
from jaxgan.data.mixtures import get_mixture, sample_mixture
from jaxgan.metrics.manifolds import precision_recall_density_coverage
from jaxgan.metrics.mixtures import mixture_metrics

TINY = ["--seeds", "2", "--steps", "6", "--chunk-size", "3", "--batch-size", "16", "--eval-samples", "64",
        "--g-width", "8", "--g-depth", "2", "--d-width", "8", "--d-depth", "2", "--no-progress"]


def test_smoke_run_writes_consistent_results_samples_and_figure(tmp_path, capsys):
    out = tmp_path / "ring"
    assert mixture_cli.main(["--dataset", "ring", "--out", str(out), *TINY]) == 0
    printed = capsys.readouterr().out
    assert "PacGAN4" in printed and "jaxgan default, 6 steps" in printed

    results = json.loads((out / "results.json").read_text())
    for key in ("dataset", "seeds", "steps", "modes_mean", "modes_std", "hq_percent_mean", "hq_percent_std",
                "reverse_kl_mean", "per_seed", "train_seconds", "device"):
        assert key in results, key
    assert results["dataset"] == "ring" and results["seeds"] == 2 and results["steps"] == 6
    assert results["recipe"]["g_width"] == 8 and results["recipe"]["loss"] == "nonsaturating"
    samples = np.load(out / "samples.npy")
    assert samples.shape == (2, 64, 2) and np.isfinite(samples).all()
    assert (out / "samples.png").stat().st_size > 0

    # the recorded metrics are those of the saved samples
    ring = get_mixture("ring")
    assert len(results["per_seed"]) == 2
    for r, row in enumerate(results["per_seed"]):
        m = mixture_metrics(samples[r], ring.means, ring.std)
        assert row["modes"] == int(m["modes"])
        assert row["hq_percent"] == pytest.approx(float(m["hq_percent"]))
        assert row["counts"] == np.asarray(m["counts"]).tolist()
    assert results["modes_mean"] == pytest.approx(np.mean([row["modes"] for row in results["per_seed"]]))
    # precision/recall/density/coverage: of the saved samples against the run's own fresh draw of the mixture
    keys = mixture_gan.run_keys(0, 2)
    for r, row in enumerate(results["per_seed"]):
        real = sample_mixture(jax.random.fold_in(keys[r], 3), ring.means, ring.std, 64)
        expected = precision_recall_density_coverage(real, samples[r])
        for name, field in (("precision", "improved_precision"), ("recall", "improved_recall"),
                            ("density", "density"), ("coverage", "coverage")):
            assert row[field] == pytest.approx(float(expected[name]), abs=1e-6), field
    assert results["coverage_mean"] == pytest.approx(np.mean([row["coverage"] for row in results["per_seed"]]))
    assert "coverage" in printed
    # two seeds are two different runs
    assert not np.allclose(samples[0], samples[1])


def test_pacgan_recipe_is_papers_setting_and_runs(tmp_path):
    recipe = mixture_gan.MixtureConfig(dataset="grid", recipe="pacgan-gan").resolved()
    assert (recipe.architecture, recipe.g_width, recipe.g_depth, recipe.d_width, recipe.d_depth) == (
        "pacgan", 400, 4, 200, 3)
    assert (recipe.g_lr, recipe.beta1, recipe.batch_size, recipe.latent_dim, recipe.penalty) == (
        1e-4, 0.8, 100, 2, "none")
    assert recipe.steps == 400 * 100_000 // 100
    # a tiny run of the same architecture: G has BatchNorm statistics, D is a maxout MLP
    out = tmp_path / "pacgan"
    args = ["--dataset", "grid", "--recipe", "pacgan-gan", "--out", str(out), "--no-plot", *TINY]
    assert mixture_cli.main(args) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["recipe"]["architecture"] == "pacgan" and results["recipe"]["beta1"] == 0.8
    assert np.load(out / "samples.npy").shape == (2, 64, 2)


def test_overrides_replace_only_what_is_given():
    config = mixture_gan.MixtureConfig(dataset="ring", steps=77, loss="hinge")
    recipe = config.resolved()
    base = mixture_gan.default_recipe("ring")
    assert recipe.steps == 77 and recipe.loss == "hinge"
    assert recipe.batch_size == base.batch_size and recipe.penalty == base.penalty


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seeds", "0"], "--seeds"),
        (["--dataset", "spiral"], "--dataset"),
        (["--loss", "nope"], "unknown loss 'nope'"),
        (["--penalty", "l2"], "unknown penalty 'l2'"),
        (["--beta1", "1.5"], "--beta1"),
        (["--loss", "softmax"], "2-logit"),
    ],
)
def test_user_mistakes_are_one_line_errors_with_exit_status_2(args, message, tmp_path, capsys):
    argv = [*args, "--out", str(tmp_path)]
    try:
        code = run_main("python -m experiments.mixture_gan", mixture_cli.main, argv)
    except SystemExit as exit_:  # argparse errors exit directly
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "results.json").exists()


@pytest.mark.slow
def test_reduced_grid_benchmark_covers_the_grid(tmp_path):
    """Three seeds of the default grid recipe at half its steps (~1.5 CPU minutes): the modes stay
    covered (measured while tuning: 25 modes on 3 of 3 seeds, 91.5% HQ after 8000 steps)."""
    config = mixture_gan.MixtureConfig(
        dataset="grid", seeds=3, steps=8000, out=str(tmp_path), plot=False, progress=False, checkpoint_every=0
    )
    results = mixture_gan.train_and_evaluate(config)
    assert results["modes_mean"] >= 24
    assert results["hq_percent_mean"] >= 80


def _goal_run(dataset: str, out: Path) -> tuple[dict, float]:
    """The benchmark's command, ``python -m experiments.mixture_gan --dataset D --seeds 10``, in a process
    of its own (so the CPU split of the program's entry point applies); ``(results, wall seconds)``."""
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.mixture_gan", "--dataset", dataset, "--seeds", "10", "--out", str(out),
         "--no-progress"],
        cwd=root, env=env, capture_output=True, text=True, timeout=3600,
    )
    wall = time.perf_counter() - t0
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    return json.loads((out / "results.json").read_text()), wall


@pytest.fixture(scope="module", params=["ring", "grid"])
def goal_run(request, tmp_path_factory):
    return request.param, *_goal_run(request.param, tmp_path_factory.mktemp(f"goal_{request.param}"))


@pytest.mark.slow
def test_ten_seed_default_run_meets_the_quality_goals(goal_run):
    """The quality goals over 10 seeds: every mode on every seed, HQ and reverse KL of the means."""
    dataset, results, _ = goal_run
    modes, hq, kl = mixture_gan.GOALS[dataset]
    assert results["seeds"] == 10 and results["recipe_name"] == "default"
    assert [s["modes"] for s in results["per_seed"]] == [modes] * 10
    assert results["hq_percent_mean"] >= hq
    assert results["reverse_kl_mean"] <= kl
    assert results["goals_met"]


@pytest.mark.slow
def test_ten_seed_default_run_takes_at_most_five_minutes(goal_run):
    """The time goal, compilation and start-up included, on the 2-core CPU. Wall time depends on
    what else runs: measure on a quiet machine."""
    _, _, wall = goal_run
    assert wall <= 300, f"{wall:.0f} s"
