"""The mixture benchmark's spectral norm: ``--spectral-norm``, the ``sngan`` recipe, and resuming such a run."""

import dataclasses
import json
import shutil
from pathlib import Path

import jax
import numpy as np

from experiments import mixture_gan
from experiments.mixture_gan import __main__ as mixture_cli
from experiments.mixture_gan.config import recipe_line
from jaxgan.reliability.checkpoint import Checkpointer

TINY = ["--dataset", "grid", "--seeds", "2", "--chunk-size", "3", "--batch-size", "16", "--eval-samples", "64",
        "--g-width", "8", "--g-depth", "2", "--d-width", "8", "--d-depth", "2", "--lr-decay", "none",
        "--checkpoint-every", "3", "--no-progress", "--no-plot"]  # fmt: skip


def test_sngan_recipe_is_the_default_with_sngans_changes():
    default, sngan = mixture_gan.default_recipe("grid"), mixture_gan.sngan_recipe("grid")
    assert (sngan.loss, sngan.penalty, sngan.penalty_weight, sngan.spectral_norm) == ("hinge", "none", 0.0, True)
    assert (sngan.beta1, sngan.beta2) == (0.0, 0.9)
    changed = {f.name for f in dataclasses.fields(sngan) if getattr(sngan, f.name) != getattr(default, f.name)}
    assert changed == {"loss", "penalty", "penalty_weight", "spectral_norm", "beta1", "beta2"}
    assert not default.spectral_norm and not mixture_gan.pacgan_recipe("grid").spectral_norm
    assert mixture_gan.MixtureConfig(dataset="grid", recipe="sngan").resolved() == sngan
    assert mixture_gan.MixtureConfig(dataset="ring", spectral_norm=True).resolved().spectral_norm
    assert "--spectral-norm" in recipe_line("sngan", "grid", set())
    assert "spectral" not in recipe_line("default", "grid", set())


def test_the_flag_normalises_either_architectures_d():
    for architecture in ("mlp", "pacgan"):
        recipe = dataclasses.replace(mixture_gan.default_recipe("ring"), architecture=architecture, spectral_norm=True)
        g, d = mixture_gan.build_networks(recipe)
        params, stats = d.init(jax.random.PRNGKey(0), np.zeros((4, 2), np.float32))
        vectors = [name for layer in stats["batch_stats"].values() for name in layer if name.endswith("/u")]
        assert len(vectors) == len(jax.tree_util.tree_leaves(params)) // 2, architecture  # one per kernel


def saved_state(out: Path, step=None):
    restored = Checkpointer(out / "checkpoints").restore(step=step)
    return restored.step, restored.state


def test_a_spectral_norm_run_resumes_bit_identical(tmp_path):
    """A run of 6 steps checkpoints at 3 and 6; its copy without the last checkpoint resumes from 3."""
    full, part = tmp_path / "full", tmp_path / "part"
    assert mixture_cli.main([*TINY, "--spectral-norm", "--steps", "6", "--out", str(full)]) == 0
    shutil.copytree(full, part)
    shutil.rmtree(part / "checkpoints" / "6")
    (part / "results.json").unlink()
    step_3, at_3 = saved_state(part)
    assert mixture_cli.main([*TINY, "--spectral-norm", "--steps", "6", "--resume", "--out", str(part)]) == 0
    (step_a, a), (step_b, b) = saved_state(full), saved_state(part)
    assert step_3 == 3 and step_a == step_b == 6
    vectors = lambda s: jax.tree_util.tree_leaves(s["d"]["stats"]["batch_stats"])
    assert len(vectors(a)) == 6  # u and sigma of D's three layers, in the checkpoint
    leaves_a, leaves_b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(leaves_a) == len(leaves_b)
    for x, y in zip(leaves_a, leaves_b):
        assert np.asarray(x).tobytes() == np.asarray(y).tobytes()
    assert any(not np.array_equal(x, y) for x, y in zip(vectors(at_3), vectors(a)))  # the vectors moved on
    results = [json.loads((out / "results.json").read_text()) for out in (full, part)]
    assert results[0]["recipe"]["spectral_norm"] is True
    assert results[0]["per_seed"] == results[1]["per_seed"]
