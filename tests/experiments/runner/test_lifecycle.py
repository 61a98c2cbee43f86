"""Training you can trust: exact resume, signals and the divergence guard (the one-line errors for
bad input are in tests/experiments/runner/test_cli.py and tests/jaxgan/reliability/).

The toy GAN CLI runs in-process through ``experiments.runner.run_main`` (the same code path as
``python -m experiments.toy_gan``), except the SIGTERM test, which needs a real process.
"""

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from experiments import runner as lifecycle
from experiments import toy_gan
from jaxgan.reliability import divergence as guard
from jaxgan.reliability.checkpoint import Checkpointer
from tests.experiments.runner.toy_cli import TOY, run_toy

ROOT = Path(__file__).resolve().parents[3]
TIMING = {"compile_seconds", "train_seconds", "steps_per_second"}


@pytest.fixture(scope="module", autouse=True)
def compilation_cache(tmp_path_factory):
    """A persistent compilation cache for this module only: the toy CLI runs below compile the same
    programs over and over (each in-process run builds fresh closures), and a cache hit costs ~0.1 s
    of CPU instead of ~1 s. The SIGTERM subprocess shares it through the environment."""
    names = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs",
             "jax_persistent_cache_min_entry_size_bytes")
    before = {n: getattr(jax.config, n) for n in names}
    directory = tmp_path_factory.mktemp("jax_cache")
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    yield directory
    for n, v in before.items():
        jax.config.update(n, v)


def saved_state(out: Path, step=None):
    restored = Checkpointer(Path(out) / "checkpoints").restore(step=step)
    return restored.step, restored.state


def assert_same_bits(a, b):
    la, lb = jax.tree_util.tree_leaves_with_path(a), jax.tree_util.tree_leaves_with_path(b)
    assert [guard.path_name(p) for p, _ in la] == [guard.path_name(p) for p, _ in lb]
    assert len(la) > 10
    for (p, x), (_, y) in zip(la, lb):
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape, guard.path_name(p)
        assert x.tobytes() == y.tobytes(), guard.path_name(p)


def results_without_timing(out: Path) -> dict:
    results = json.loads((Path(out) / "results.json").read_text())
    return {k: v for k, v in results.items() if k not in TIMING | {"resumed_from_step"}}


# ---------------------------------------------------------------- exact resume and same-seed runs


@pytest.fixture(scope="module")
def toy_runs(tmp_path_factory):
    """Two uninterrupted 150-step runs of the same seed (the second keeping checkpoints 50, 100 and
    150), and a run resumed from the second's checkpoint at 100 ("stopped at 100")."""
    root = tmp_path_factory.mktemp("toy")
    runs = {name: root / name for name in ("full", "full_again", "stopped_at_100", "resumed")}
    code, _, err = run_toy(TOY + ["--steps", "150", "--seeds", "2", "--out", str(runs["full"])])
    assert code == 0, err
    code, _, err = run_toy(TOY + ["--steps", "150", "--seeds", "2", "--checkpoint-every", "50", "--out", str(runs["full_again"])])
    assert code == 0, err
    shutil.copytree(runs["full_again"], runs["stopped_at_100"])
    shutil.rmtree(runs["stopped_at_100"] / "checkpoints" / "150")  # as if it had stopped after step 100
    (runs["stopped_at_100"] / "results.json").unlink()
    shutil.copytree(runs["stopped_at_100"], runs["resumed"])
    code, _, err = run_toy(TOY + ["--steps", "150", "--seeds", "2", "--resume", "--out", str(runs["resumed"])])
    assert code == 0, err
    assert "resuming from step 100 of 150" in err
    return runs


def test_resumed_run_is_bit_identical_to_an_uninterrupted_one(toy_runs):
    step_full, full = saved_state(toy_runs["full"])
    step_res, resumed = saved_state(toy_runs["resumed"])
    assert step_full == step_res == 150
    assert_same_bits(full, resumed)  # parameters, optimizer states, step, PRNG key of both seeds
    assert results_without_timing(toy_runs["full"]) == results_without_timing(toy_runs["resumed"])
    # and the run did move: the state at 100 differs from the one at 150
    _, at_100 = saved_state(toy_runs["stopped_at_100"])
    assert np.asarray(at_100["g"]["params"]["linear"]["kernel"]).tobytes() != np.asarray(
        full["g"]["params"]["linear"]["kernel"]
    ).tobytes()


def test_same_seed_twice_gives_identical_results_json(toy_runs):
    a, b = results_without_timing(toy_runs["full"]), results_without_timing(toy_runs["full_again"])
    assert a == b
    assert a["cov_rel_err_per_seed"][0] != a["cov_rel_err_per_seed"][1]  # the two seeds differ
    assert_same_bits(saved_state(toy_runs["full"])[1], saved_state(toy_runs["full_again"])[1])


def test_damaged_newest_checkpoint_resume_uses_the_previous_one(toy_runs, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(toy_runs["stopped_at_100"], out)
    for f in (out / "checkpoints" / "100").rglob("*"):  # a save cut short: every file halved
        if f.is_file() and f.name != "jaxgan_manifest.json":
            os.truncate(f, f.stat().st_size // 2)
    code, _, err = run_toy(TOY + ["--steps", "150", "--seeds", "2", "--resume", "--out", str(out)])
    assert code == 0, err
    assert "warning: checkpoint step 100" in err and "restored step 50 instead" in err
    assert "resuming from step 50 of 150" in err
    assert (out / "checkpoints.corrupt" / "100").is_dir()  # kept aside, out of the way
    assert_same_bits(saved_state(toy_runs["full"])[1], saved_state(out)[1])  # still exact


def resume_only(out: Path, total: int, config=None, target=None):
    """``--resume`` up to the restore (no training): what the CLI does before its first chunk."""
    if target is None or config is None:
        restored = Checkpointer(Path(out) / "checkpoints").restore()
        target = restored.state if target is None else target  # a tree of the expected structure
        config = restored.metadata["config"] if config is None else config
    life = lifecycle.TrainingLifecycle(out, prog=toy_gan.PROG, resume=True, config=config)
    return life.restore(target, total)


def user_error(fn):
    """The one line ``run_main`` prints for ``fn()`` (which must fail with exit status 2)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert lifecycle.run_main(toy_gan.PROG, lambda argv: fn(), []) == 2
    assert err.getvalue().count("\n") == 1 and "Traceback" not in err.getvalue()
    return err.getvalue()


def test_every_checkpoint_damaged_is_a_one_line_error(toy_runs, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(toy_runs["stopped_at_100"], out)
    good = Checkpointer(out / "checkpoints").restore()
    for step in ("50", "100"):
        (out / "checkpoints" / step / "jaxgan_manifest.json").unlink()
    err = user_error(lambda: resume_only(out, 150, config=good.metadata["config"], target=good.state))
    assert "--resume: no readable checkpoint" in err and "step 100: " in err and "step 50: " in err


def test_resume_accepts_a_checkpoint_older_than_an_option_left_at_its_default(toy_runs, tmp_path):
    """A run resumed after the config gained an option (here ``new_option``, absent from the
    checkpoint's config) continues when the option is at its default; at another value it is refused."""
    out = tmp_path / "run"
    shutil.copytree(toy_runs["stopped_at_100"], out)
    restored = Checkpointer(out / "checkpoints").restore()
    newer = {**restored.metadata["config"], "new_option": 0.0}

    def resume(config):
        life = lifecycle.TrainingLifecycle(out, prog=toy_gan.PROG, resume=True, config=config,
                                           config_defaults={"new_option": 0.0})
        return life.restore(restored.state, 150)

    assert resume(newer)[1] == 100
    err = user_error(lambda: resume({**newer, "new_option": 1.0}))
    assert "new_option: the checkpoint has '<absent>', expected 1.0" in err
    # the experiments pass their config dataclass's defaults
    config = toy_gan.ToyConfig(out=str(out))
    life = lifecycle.TrainingLifecycle.from_config(config, prog=toy_gan.PROG)
    assert life.config_defaults["lr"] == toy_gan.ToyConfig().lr and set(life.config) <= set(life.config_defaults)


def test_resume_refuses_another_configuration_naming_it(toy_runs):
    stored = Checkpointer(toy_runs["full"] / "checkpoints").restore().metadata["config"]
    assert stored["lr"] == 0.01 and stored["seeds"] == 2 and "steps" not in stored  # --steps may change
    err = user_error(lambda: resume_only(toy_runs["full"], 300, config={**stored, "lr": 0.02}))
    assert "different configuration: lr: the checkpoint has 0.01, expected 0.02" in err
    # other shapes (e.g. another --seeds) are refused by the structure check, naming path and shapes
    target = Checkpointer(toy_runs["full"] / "checkpoints").restore().state
    wider = jax.tree.map(lambda x: np.concatenate([x, x]), target)
    life = lifecycle.TrainingLifecycle(toy_runs["full"], prog="p", resume=True, config=stored)
    err = user_error(lambda: life.restore(wider, 300))
    # (this target is orbax's dict form, keys sorted, so the first difference is in "d"; 16 leaves:
    # G's 2 parameters, D's 6, each player's Adam count and flat mu and nu, step and key)
    assert "d.opt_state.0.count: the checkpoint has int32[2], expected int32[4] (and 15 more differences)" in err


def test_resume_beyond_steps_and_without_checkpoint_are_refused(toy_runs, tmp_path):
    err = user_error(lambda: resume_only(toy_runs["full"], 100))
    assert "at step 150, beyond --steps 100; pass --steps 150 or more" in err
    life = lifecycle.TrainingLifecycle(tmp_path / "empty", prog="p", resume=True)
    err = user_error(lambda: life.restore({"w": np.zeros(2)}, 100))
    assert "--resume: no checkpoint in" in err and "run without --resume" in err


def test_resume_at_the_end_trains_nothing(toy_runs, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(toy_runs["full"], out)
    target = Checkpointer(out / "checkpoints").restore().state
    stored = Checkpointer(out / "checkpoints").restore().metadata["config"]
    life = lifecycle.TrainingLifecycle(out, prog="p", resume=True, config=stored)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        result = life.fit(None, target, None, 150)  # never calls the train step
    assert result.steps_done == 0 and life.start_step == 150
    assert "nothing left to train" in err.getvalue()
    assert_same_bits(result.state, target)


def test_a_new_run_replaces_old_checkpoints_at_its_first_save(toy_runs, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(toy_runs["full"], out)  # holds step 150
    life = lifecycle.TrainingLifecycle(out, prog="p")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        state, start = life.restore({"w": jnp.zeros(2)}, 10)
    assert start == 0 and "holds checkpoints of an earlier run (up to step 150)" in err.getvalue()
    assert Checkpointer(out / "checkpoints").steps() == [150]  # nothing lost before the first save
    life.save(10, state)
    assert Checkpointer(out / "checkpoints").steps() == [10]


# ---------------------------------------------------------------------------------- signals


def test_sigterm_to_the_cli_saves_and_resume_is_bit_identical(tmp_path, compilation_cache):
    """A real SIGTERM to ``python -m experiments.toy_gan`` mid-run; resume; compare with no interruption."""
    out = tmp_path / "interrupted"
    args = TOY + ["--seeds", "2", "--checkpoint-every", "50", "--out", str(out)]
    env = {
        **os.environ,
        "JAX_COMPILATION_CACHE_DIR": str(compilation_cache),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
        "JAX_DEFAULT_MATMUL_PRECISION": str(jax.config.jax_default_matmul_precision),  # as in this process
        # compiled as this process compiles (tests/conftest.py), since its bits are compared with ours
        "XLA_FLAGS": os.environ.get("JAXGAN_TEST_PROCESS_XLA_FLAGS", os.environ.get("XLA_FLAGS", "")),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "experiments.toy_gan", "--steps", "100000000", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not (out / "checkpoints" / "50" / "jaxgan_manifest.json").exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "no checkpoint within 240 s"
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM at step" in err and "Resume with: python -m experiments.toy_gan" in err
    assert err.splitlines()[-1].endswith("--resume") and "Traceback" not in err
    stopped = Checkpointer(out / "checkpoints").latest_step()
    assert stopped >= 50 and stopped % 50 == 0
    total = stopped + 100
    code, _, err = run_toy(["--steps", str(total), *args, "--resume"])
    assert code == 0 and f"resuming from step {stopped} of {total}" in err
    ref = tmp_path / "uninterrupted"
    code, _, err = run_toy(["--steps", str(total), *args[:-1], str(ref)])
    assert code == 0, err
    assert_same_bits(saved_state(ref)[1], saved_state(out)[1])


def _tiny_gan(lr=1e-2):
    from jaxgan.models.mlp import MLP, LinearGenerator

    return jaxgan.GAN(
        generator=jaxgan.from_linen(LinearGenerator(features=2)),
        discriminator=jaxgan.from_linen(MLP(hidden=(8,), out=2)),
        g_optimizer=optax.adam(lr),
        d_optimizer=optax.adam(lr),
        latent_shape=(2,),
    )


@pytest.fixture(scope="module")
def tiny():
    from jaxgan.data import affine_gaussian, contiguous_batches

    gan = _tiny_gan()
    data = affine_gaussian(jax.random.PRNGKey(1), 256)
    return gan, jaxgan.build_train_step(gan, contiguous_batches(32)), data


def test_sigint_in_process_saves_at_the_chunk_boundary_and_restores_handlers(tiny, tmp_path, capsys):
    gan, train_step, data = tiny
    life = lifecycle.TrainingLifecycle(tmp_path, prog="prog", checkpoint_every=0)
    before = signal.getsignal(signal.SIGINT)

    def press_ctrl_c(step, state, metrics):
        if step == 100:
            os.kill(os.getpid(), signal.SIGINT)  # handled by the lifecycle, not KeyboardInterrupt

    state = jaxgan.init_state(gan, jax.random.PRNGKey(0))
    with pytest.raises(lifecycle.TrainingInterrupted) as stop:
        life.fit(train_step, state, data, 400, chunk_size=50, callback=press_ctrl_c)
    assert stop.value.code == 130 and stop.value.step == 100
    assert Checkpointer(tmp_path / "checkpoints").steps() == [100]
    err = capsys.readouterr().err
    assert "got SIGINT" in err and "stopped by SIGINT at step 100 of 400" in err
    assert signal.getsignal(signal.SIGINT) is before


def test_small_dcgan_resumes_bit_identically_with_its_metric_history(tmp_path, capsys):
    """DCGAN (BatchNorm statistics, epoch batches keyed by the step): stop at 4 by SIGINT, resume to 8."""
    from experiments import dcgan
    from jaxgan.data import epoch_batches

    config = dcgan.DCGANConfig(image_size=8, g_features=4, d_features=4, latent_dim=4, batch_size=8)
    gan = dcgan.build_gan(config, channels=1)
    images = jax.random.uniform(jax.random.PRNGKey(7), (40, 8, 8, 1), minval=-1.0, maxval=1.0)
    train_step = jaxgan.build_train_step(gan, epoch_batches(8, jax.random.PRNGKey(1)))
    init_jit = jax.jit(lambda key: jaxgan.init_state(gan, key))  # one compile, not one per layer op
    init = lambda: init_jit(jax.random.PRNGKey(0))

    def train_fn(state, steps, callback):  # an experiment's own loop, as dcgan.train is
        return jaxgan.fit(train_step, state, images, steps, chunk_size=2, callback=callback)

    def stop_at_4(step, state, metrics):
        if step == 4:
            os.kill(os.getpid(), signal.SIGINT)

    life = lifecycle.TrainingLifecycle(tmp_path / "a", prog="p", checkpoint_every=2, config={"run": "dcgan"})
    with pytest.raises(lifecycle.TrainingInterrupted):
        life.run(train_fn, init(), 8, callback=stop_at_4)
    assert Checkpointer(tmp_path / "a" / "checkpoints").steps() == [2, 4]
    resumed = lifecycle.TrainingLifecycle(tmp_path / "a", prog="p", resume=True, config={"run": "dcgan"})
    result = resumed.run(train_fn, init(), 8)
    assert resumed.start_step == 4 and result.steps_done == 4
    full = lifecycle.TrainingLifecycle(tmp_path / "b", prog="p", config={"run": "dcgan"}).run(train_fn, init(), 8)
    assert full.state.g.stats["batch_stats"]  # G's BatchNorm running statistics are part of it
    assert_same_bits(full.state, result.state)
    assert set(result.metrics) == set(full.metrics) and result.metrics["d_loss"].shape == (8,)
    for name in full.metrics:  # the history before the resume came back from the checkpoint
        assert np.asarray(full.metrics[name]).tobytes() == np.asarray(result.metrics[name]).tobytes(), name
    capsys.readouterr()


# ------------------------------------------------------------------------------ divergence guard


def poisoned(train_step, from_step):
    """``train_step`` whose G loss becomes NaN from iteration ``from_step`` on (an injected NaN)."""

    def step(state, data):
        state, metrics = train_step(state, data)
        nan_if_late = jnp.where(state.step >= from_step, jnp.nan, 0.0)
        return state, {**metrics, "g_loss": metrics["g_loss"] + nan_if_late}

    return step


def test_injected_nan_trips_the_guard_and_the_last_good_checkpoint_stays(tiny, tmp_path):
    gan, train_step, data = tiny
    life = lifecycle.TrainingLifecycle(tmp_path, prog="prog", checkpoint_every=50, config={"run": "x"})
    state = jaxgan.init_state(gan, jax.random.PRNGKey(0))
    with pytest.raises(guard.DivergenceError) as err:
        life.fit(poisoned(train_step, 123), state, data, 300, chunk_size=50)
    assert err.value.step == 123 and err.value.name == "g_loss"
    msg = str(err.value)
    assert "training diverged at step 123: g_loss = nan" in msg
    assert "the last good checkpoint (step 100) is kept" in msg
    ck = Checkpointer(tmp_path / "checkpoints")
    assert ck.steps() == [50, 100]  # the bad state at 150 was never written
    good = ck.restore(jaxgan.init_state(gan, jax.random.PRNGKey(5)), config={"run": "x"})
    assert good.step == 100 and int(good.state.step) == 100
    assert not guard.nonfinite_leaves(good.state)
    # the same 100 steps without poison give the same checkpoint: nothing bad leaked into it
    clean = jaxgan.fit(train_step, jaxgan.init_state(gan, jax.random.PRNGKey(0)), data, 100, chunk_size=50).state
    for x, y in zip(jax.tree.leaves(clean), jax.tree.leaves(good.state)):
        assert np.asarray(x).tobytes() == np.asarray(y).tobytes()


def test_huge_learning_rate_on_the_cli_exits_3_without_writing_a_checkpoint(tmp_path):
    # lr 1e6 keeps the toy's float32 losses finite (~1e27) for thousands of steps; 1e20 overflows at once
    code, _, err = run_toy(TOY + ["--steps", "100", "--lr", "1e20", "--out", str(tmp_path)])
    assert code == lifecycle.EXIT_DIVERGED == 3
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "training diverged at step 1" in err and "nan" in err
    assert "no checkpoint of this run was written" in err
    assert Checkpointer(tmp_path / "checkpoints").steps() == []
    assert not (tmp_path / "results.json").exists()


# ------------------------------------------------------------------------------ compilation


def test_experiments_fit_through_compile_loop(monkeypatch):
    """The experiments' lifecycle hands ``compile_loop`` to ``fit``."""
    from jaxgan.speedups.cpu_loops import compile_loop

    seen = {}
    monkeypatch.setattr(jaxgan, "fit", lambda *a, **kw: seen.update(kw) or "fitted")
    run = lifecycle.TrainingLifecycle.__new__(lifecycle.TrainingLifecycle)
    monkeypatch.setattr(run, "run", lambda train_fn, state, n, callback=None: train_fn(state, n, None), raising=False)
    assert run.fit(lambda s, d: (s, {}), 0, 0, 3) == "fitted"
    assert seen["compile_fn"] is compile_loop
