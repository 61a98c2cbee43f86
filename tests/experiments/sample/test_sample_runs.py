"""``python -m experiments.sample`` on toy and mixture GAN runs, and the one-line errors for run
directories it cannot use."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments.runner import run_main
from experiments.sample.__main__ import main

ROOT = Path(__file__).resolve().parents[3]
PROG = "python -m experiments.sample"


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    """A short toy GAN run of two seeds."""
    from experiments.toy_gan.__main__ import main as train

    out = tmp_path_factory.mktemp("toy") / "run"
    argv = ["--steps", "40", "--chunk-size", "20", "--seeds", "2", "--no-progress", "--no-plot", "--out", str(out)]
    assert run_main("python -m experiments.toy_gan", train, argv) == 0
    return out


def test_toy_samples_are_each_runs_linear_generator_on_one_standard_normal_noise(toy_run, tmp_path):
    """G is ``z W + b``: every run's samples are an affine image of the same noise ``z``, with the
    run's own trained ``W`` and ``b``; that ``z`` is standard normal."""
    from jaxgan.reliability.checkpoint import Checkpointer

    assert run_main(PROG, main, [str(toy_run), "--num", "2500", "--out", str(tmp_path)]) == 0
    samples = np.load(tmp_path / "samples.npy").astype(np.float64)
    assert samples.shape == (2, 2500, 2) and (tmp_path / "samples.png").stat().st_size > 10_000
    g = Checkpointer(toy_run / "checkpoints").restore().state["g"]["params"]["linear"]
    w, b = np.asarray(g["kernel"], np.float64), np.asarray(g["bias"], np.float64)
    z = (samples[0] - b[0]) @ np.linalg.inv(w[0])
    np.testing.assert_allclose(samples[1], z @ w[1] + b[1], atol=1e-4)  # run 1: the same noise, its own G
    assert np.abs(z.mean(0)).max() < 5 / np.sqrt(2500)  # five standard errors of a mean
    np.testing.assert_allclose(np.cov(z.T), np.eye(2), atol=5 * np.sqrt(2 / 2500))
    again = tmp_path / "again"
    assert run_main(PROG, main, [str(toy_run), "--num", "2500", "--out", str(again)]) == 0
    assert np.load(again / "samples.npy").tobytes() == np.load(tmp_path / "samples.npy").tobytes()


def test_mixture_samples_are_the_runs_generators_as_the_experiment_builds_them(tmp_path):
    """Rebuilt from what the run recorded, G is the network the experiment's own settings build."""
    import jax

    import jaxgan
    from experiments.mixture_gan.__main__ import main as train
    from experiments.mixture_gan.config import parse_args
    from experiments.mixture_gan.train import build_gan, run_keys
    from jaxgan.reliability.checkpoint import Checkpointer

    flags = ["--dataset", "grid", "--seeds", "2", "--steps", "10", "--chunk-size", "10", "--g-width", "8",
             "--g-depth", "1", "--d-width", "8", "--d-depth", "1", "--eval-samples", "50", "--no-progress"]  # fmt: skip
    run = tmp_path / "run"
    assert run_main("python -m experiments.mixture_gan", train, [*flags, "--no-plot", "--out", str(run)]) == 0
    assert run_main(PROG, main, [str(run), "--num", "300", "--seed", "5", "--out", str(tmp_path / "s")]) == 0
    samples = np.load(tmp_path / "s" / "samples.npy")
    assert samples.shape == (2, 300, 2) and (tmp_path / "s" / "samples.png").is_file()
    gan = build_gan(parse_args([*flags, "--out", str(run)]).resolved())  # the flags, typed again
    init = lambda k: jaxgan.init_state(gan, jax.random.fold_in(k, 1))
    state = Checkpointer(run / "checkpoints").restore(jax.eval_shape(lambda: jaxgan.init_states(init, run_keys(0, 2)))).state
    expected = jaxgan.generate(gan, state, jax.random.PRNGKey(5), 300, batch_size=300)
    np.testing.assert_allclose(samples, expected, rtol=1e-6, atol=1e-6)
    assert np.abs(samples).max() > 1.0  # the grid's scale 4 is applied: not an untrained unit-scale G


def one_line_error(capsys, argv):
    assert run_main(PROG, main, argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{PROG}: error: ")
    return err.strip()[len(f"{PROG}: error: "):]


def test_directories_that_are_not_usable_runs_are_one_line_errors(toy_run, tmp_path, capsys):
    import jax.numpy as jnp

    from jaxgan.reliability.checkpoint import Checkpointer

    missing, a_file, empty = tmp_path / "missing", tmp_path / "notes.txt", tmp_path / "empty"
    a_file.write_text("x")
    empty.mkdir()
    assert one_line_error(capsys, [str(missing)]) == (
        f"run directory {missing} does not exist; pass the --out directory of a training run")
    assert one_line_error(capsys, [str(a_file)]) == (
        f"{a_file} is a file, not a run directory; pass the --out directory of a training run")
    assert one_line_error(capsys, [str(empty)]) == (
        f"{empty} is not a run directory: it has no results.json and no checkpoints/; "
        "pass the --out directory of a training run")
    finished = tmp_path / "finished"  # results.json kept, checkpoints deleted
    finished.mkdir()
    (finished / "results.json").write_text((toy_run / "results.json").read_text())
    (finished / "checkpoints").mkdir()
    assert one_line_error(capsys, [str(finished)]) == (
        f"the run in {finished} has no checkpoint in {finished / 'checkpoints'} to sample from; "
        "train it again with checkpoints kept (every run saves one at its end)")
    foreign = tmp_path / "foreign"  # a checkpoint of one's own jaxgan program
    with Checkpointer(foreign / "checkpoints") as checkpointer:
        checkpointer.save(7, {"w": jnp.zeros(3)}, config={"width": 3, "depth": 2})
    assert one_line_error(capsys, [str(foreign)]) == (
        f"the checkpoint in {foreign} was written by none of the experiments toy_gan, mixture_gan, dcgan, "
        "cyclegan, pix2pix (its settings: depth, width); pass the --out directory of one of their runs")
    assert one_line_error(capsys, [str(toy_run), "--generator", "ema"]) == (
        f"--generator applies to DCGAN runs; {toy_run} is a toy GAN run (experiments.toy_gan): leave --generator out")
    assert one_line_error(capsys, [str(toy_run), "--direction", "BA"]) == (
        f"--direction applies to CycleGAN and pix2pix runs; {toy_run} is a toy GAN run (experiments.toy_gan): "
        "leave --direction out")
    assert one_line_error(capsys, [str(toy_run), "--class", "3"]) == (  # the flag's own name, not its field's
        f"--class applies to DCGAN runs; {toy_run} is a toy GAN run (experiments.toy_gan): leave --class out")
    assert not (empty / "generated").exists() and not (foreign / "generated").exists()


def test_a_checkpoint_of_other_networks_is_refused_naming_the_difference(tmp_path, capsys):
    """Settings a toy GAN records, arrays of other networks: the restore names the first difference."""
    import jax.numpy as jnp

    from jaxgan.reliability.checkpoint import Checkpointer

    with Checkpointer(tmp_path / "checkpoints") as checkpointer:
        checkpointer.save(3, {"g": {"w": jnp.zeros((2, 5))}}, config={"seeds": 2, "seed": 0, "modular": False})
    err = one_line_error(capsys, [str(tmp_path)])
    assert err.startswith(f"checkpoint step 3 in {tmp_path / 'checkpoints'} was written by a different configuration: ")


def test_the_command_exits_2_with_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "experiments.sample", str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "MPLBACKEND": "Agg"})  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"{PROG}: error: {tmp_path} is not a run directory: it has no results.json and no "
                           "checkpoints/; pass the --out directory of a training run\n")  # fmt: skip
