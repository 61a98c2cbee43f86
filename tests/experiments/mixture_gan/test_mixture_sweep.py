"""``python -m experiments.mixture_gan --sweep``: the stability map (tiny shapes and steps)."""

import json

import jax.numpy as jnp
import numpy as np
import pytest

from experiments.mixture_gan import __main__ as mixture_cli
from experiments.mixture_gan.sweep import best_cell, cell_settings, finite_runs, parse_sweep
from experiments.runner import run_cli as run_main
from jaxgan.data.mixtures import get_mixture
from jaxgan.metrics.mixtures import mixture_metrics

TINY = ["--dataset", "ring", "--steps", "5", "--chunk-size", "5", "--batch-size", "16", "--eval-samples", "64",
        "--g-width", "8", "--g-depth", "2", "--d-width", "8", "--d-depth", "2", "--no-progress",
        "--checkpoint-every", "0"]
# Two values per axis, none of them the recipe's (lr 1e-3, penalty weight 0.05): a cell that ignored
# its value would train with the recipe's and so differ from its solo run.
LRS, WEIGHTS = (2e-3, 6e-3), (0.2, 1.0)
SPEC = f"lr={LRS[0]},{LRS[1]}:penalty-weight={WEIGHTS[0]},{WEIGHTS[1]}"
SEEDS = 2


@pytest.fixture(scope="module")
def sweep_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    assert mixture_cli.main([*TINY, "--sweep", SPEC, "--seeds", str(SEEDS), "--out", str(out)]) == 0
    return json.loads((out / "results.json").read_text()), np.load(out / "samples.npy"), out


def test_each_cell_equals_its_setting_trained_alone(sweep_run, tmp_path):
    results, samples, _ = sweep_run
    assert results["cells"] == 4 and results["runs"] == 4 * SEEDS and samples.shape == (4 * SEEDS, 64, 2)
    assert [c["setting"] for c in results["cell_results"]] == [
        {"lr": lr, "penalty-weight": w} for lr in LRS for w in WEIGHTS]
    # Every cell is a different run: each hyperparameter reaches its cells (negative control).
    for a in range(4):
        for b in range(a + 1, 4):
            gap = np.abs(samples[a * SEEDS:(a + 1) * SEEDS] - samples[b * SEEDS:(b + 1) * SEEDS]).max()
            assert gap > 1e-4, (a, b, gap)
    # Two cells, differing in both values, each trained alone by the experiment's ordinary run.
    for cell, (lr, weight) in ((0, (LRS[0], WEIGHTS[0])), (3, (LRS[1], WEIGHTS[1]))):
        out = tmp_path / f"solo{cell}"
        argv = [*TINY, "--seeds", str(SEEDS), "--g-lr", str(lr), "--d-lr", str(lr), "--penalty-weight", str(weight),
                "--no-plot", "--out", str(out)]
        assert mixture_cli.main(argv) == 0
        alone = np.load(out / "samples.npy")
        np.testing.assert_allclose(samples[cell * SEEDS:(cell + 1) * SEEDS], alone, rtol=0, atol=2e-5)


def test_results_hold_the_samples_metrics_and_the_marked_cells(sweep_run):
    results, samples, out = sweep_run
    ring = get_mixture("ring")
    for c, cell in enumerate(results["cell_results"]):
        for s, row in enumerate(cell["per_seed"]):
            m = mixture_metrics(samples[c * SEEDS + s], ring.means, ring.std)
            assert row["modes"] == int(m["modes"]) and row["hq_percent"] == pytest.approx(float(m["hq_percent"]))
            assert not row["diverged"]
        assert cell["modes_mean"] == pytest.approx(np.mean([r["modes"] for r in cell["per_seed"]]))
    grid = np.asarray(results["hq_percent"])
    assert grid.shape == (2, 2)
    assert grid.ravel().tolist() == [c["hq_percent_mean"] for c in results["cell_results"]]
    assert results["recipe_cell"] is None  # the recipe's lr 1e-3 is not in this grid
    assert results["best_cell"] == best_cell(results["cell_results"])
    assert (out / "sweep.png").stat().st_size > 0


def test_the_recipe_cell_is_the_recipes_values_and_one_axis_sweeps_are_one_row(tmp_path, capsys):
    out = tmp_path / "row"
    assert mixture_cli.main([*TINY, "--steps", "1", "--sweep", "penalty-weight=0,0.05,0.5", "--no-plot",
                             "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["seeds"] == 1 and results["cells"] == 3  # --sweep's default: one seed per setting
    assert results["recipe_cell"] == 1  # the default recipe's weight, 0.05
    assert np.asarray(results["modes"]).shape == (1, 3)
    assert "recipe's cell: penalty-weight=0.05" in capsys.readouterr().out


def test_cells_are_the_grid_row_by_row():
    axes = parse_sweep("beta1=0.1,0.5:d_lr=1,2,3")
    assert [a.name for a in axes] == ["beta1", "d-lr"]
    assert cell_settings(axes) == [{"beta1": b, "d-lr": d} for b in (0.1, 0.5) for d in (1.0, 2.0, 3.0)]


def test_best_cell_ranks_modes_then_hq_then_reverse_kl():
    cells = [
        {"modes_mean": 7.0, "hq_percent_mean": 99.0, "reverse_kl_mean": 0.0},
        {"modes_mean": 8.0, "hq_percent_mean": 50.0, "reverse_kl_mean": 0.2},
        {"modes_mean": 8.0, "hq_percent_mean": 50.0, "reverse_kl_mean": 0.1},
        {"modes_mean": 8.0, "hq_percent_mean": 40.0, "reverse_kl_mean": None},
    ]
    assert best_cell(cells) == 2


def test_a_run_with_a_non_finite_value_is_found():
    state = {"w": jnp.ones((3, 4, 2)).at[1, 2, 0].set(jnp.nan), "b": jnp.zeros((3,)).at[2].set(jnp.inf),
             "step": jnp.zeros((3,), jnp.int32)}
    assert finite_runs(state).tolist() == [True, False, False]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--sweep", "lr"], "NAME=V1,V2"),
        (["--sweep", ""], "one or two axes"),
        (["--sweep", "lr=1e-3:beta1=0.5:beta2=0.9"], "one or two axes"),
        (["--sweep", "momentum=0.1"], "unknown name 'momentum'"),
        (["--sweep", "lr=1e-3,fast"], "not a number"),
        (["--sweep", "lr=0,1e-3"], "must be positive"),
        (["--sweep", "beta1=0.5,1"], "[0, 1)"),
        (["--sweep", "penalty-weight=-1,0"], ">= 0"),
        (["--sweep", "lr=1e-3,1e-3"], "repeats a value"),
        (["--sweep", "lr=1e-3:g-lr=1e-4"], "set the same hyperparameter"),
        (["--sweep", "lr=1e-3,2e-3", "--g-lr", "1e-4"], "drop --g-lr"),
        (["--sweep", "penalty-weight=0,1", "--recipe", "pacgan-gan"], "needs a penalty"),
        (["--sweep", "lr=1e-3,2e-3", "--resume"], "--resume does not apply"),
    ],
)
def test_bad_sweeps_are_one_line_errors_with_exit_status_2(args, message, tmp_path, capsys):
    argv = [*args, "--out", str(tmp_path), "--no-progress"]
    try:
        code = run_main("python -m experiments.mixture_gan", mixture_cli.main, argv)
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "results.json").exists()
