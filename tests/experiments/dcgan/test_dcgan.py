"""``python -m experiments.dcgan``: end to end on the 8x8 digits, its options and its one-line errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]


def test_experiment_end_to_end_on_digits(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "JAXGAN_CACHE": str(tmp_path / "cache"), "MPLBACKEND": "Agg", "JAX_THREEFRY_PARTITIONABLE": "0"}
    cmd = [
        sys.executable, "-m", "experiments.dcgan", "--dataset", "digits", "--image-size", "8",
        "--steps", "4", "--batch-size", "16",
        "--g-features", "8", "--d-features", "8", "--sample-every", "2", "--classifier-steps", "20",
        "--holdout", "64", "--g-ema", "0.9", "--no-progress", "--out", str(out),
    ]  # fmt: skip  (--g-ema: the averaged generator with recomputed BatchNorm statistics samples)
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    for key in (
        "dataset", "image_size", "steps", "batch_size", "precision", "classifier_score", "real_classifier_score",
        "frechet_distance", "real_frechet_floor", "class_kl", "images_per_second", "train_seconds", "device",
    ):  # fmt: skip
        assert key in results, key
    assert results["dataset"] == "digits" and results["image_size"] == 8 and results["steps"] == 4
    assert results["precision"] == "float32" and results["holdout"] == 64 and results["finite"]
    assert results["g_ema"] == 0.9
    # "auto" layers (the default) are recorded as the ones this platform ran: Winograd's on CPU
    from jaxgan.speedups.layers import auto_layers

    assert (results["upsample"], results["downsample"]) == auto_layers(jax.default_backend())
    assert results["r1"] == 1.0 and results["evaluated"] is True  # the digits preset, recorded; --steps given
    assert results["score_samples"] == 5000 and results["eval_samples"] == 64
    # Known answers: the real floors recomputed from the run's cached judge and the held-out digits
    from jaxgan.metrics import classifier as judges
    from jaxgan.metrics import evaluate_images
    from experiments.dcgan import DCGANConfig, load_data

    train, hold = load_data(DCGANConfig(dataset="digits", image_size=8, holdout=64, batch_size=16))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(judges, "train_classifier", None)  # the run's cached classifier, not a new one
        judge = judges.get_classifier(train, seed=0, cache_dir=tmp_path / "cache", steps=20)
    real = evaluate_images(judge, hold.images, train.images)
    assert results["real_classifier_score"] == pytest.approx(real["classifier_score"], rel=1e-9)
    assert results["real_frechet_floor"] == pytest.approx(real["frechet_distance"], rel=1e-6)
    assert results["real_class_kl"] == pytest.approx(real["class_kl"], rel=1e-9)
    real_manifold = judges.fidelity_and_diversity(judge, hold.images, train.images[:64])
    assert results["manifold_reference"] == 64
    for name in ("precision", "recall", "density", "coverage"):
        field = "real_" + ("improved_" + name if name in ("precision", "recall") else name)
        assert results[field] == pytest.approx(real_manifold[name], abs=1e-6), field
    predicted = np.argmax(judges.classifier_outputs(judge, hold.images)[0], axis=1)
    assert results["classifier_accuracy"] == np.mean(predicted == hold.labels) > 0.3  # 10 classes: chance is 0.1
    # Negative control: real held-out digits beat the samples of a 4-step G on every metric
    assert results["real_classifier_score"] > results["classifier_score_matched"]
    assert results["frechet_distance"] > 10 * results["real_frechet_floor"]
    assert results["class_kl"] > 5 * results["real_class_kl"]
    assert results["improved_precision"] < results["real_improved_precision"]
    assert results["coverage"] < results["real_coverage"]
    for name in ("samples.png", "losses.png", "samples/step_0000002.png", "samples/step_0000004.png"):
        assert (out / name).is_file(), name
    from PIL import Image

    with Image.open(out / "samples.png") as grid:
        assert grid.size == (8 * 66 + 2, 8 * 66 + 2)  # 8x8 grid of 8x8 images shown at 64x64, 2px gaps
    assert "classifier score" in proc.stdout


def test_label_smoothing_objective_is_one_sided_bce():
    """``--label-smoothing s``: D's loss is BCE with real target ``1 - s`` and fake target 0
    (one-sided); G's loss stays the non-saturating ``-log sigma(D(G(z)))``; s = 0 is the reference."""
    from experiments.dcgan import objective

    assert objective(0.0) == "nonsaturating"
    smoothed = objective(0.2)
    real = np.array([-2.0, 0.5, 3.0], np.float32)
    fake = np.array([-1.0, 1.5], np.float32)
    p_real, p_fake = 1 / (1 + np.exp(-real.astype(np.float64))), 1 / (1 + np.exp(-fake.astype(np.float64)))
    d_expected = np.mean(-0.8 * np.log(p_real) - 0.2 * np.log(1 - p_real)) + np.mean(-np.log(1 - p_fake))
    np.testing.assert_allclose(smoothed.d_loss(real, fake), d_expected, rtol=1e-5)
    np.testing.assert_allclose(smoothed.g_loss(fake), np.mean(-np.log(p_fake)), rtol=1e-5)


def test_learning_rate_is_constant_then_linear_to_zero():
    """``--lr-decay-steps N``: Adam's step size is ``lr`` for updates ``t < steps - N``, then
    ``lr * (steps - t) / N``; N = 0 keeps the reference's constant float."""
    from experiments.dcgan import DCGANConfig, learning_rate

    assert learning_rate(DCGANConfig(steps=10, lr=0.5)) == 0.5
    schedule = learning_rate(DCGANConfig(steps=10, lr_decay_steps=4, lr=0.5))
    expected = [0.5] * 6 + [0.5 * (10 - t) / 4 for t in range(6, 10)]
    np.testing.assert_allclose([float(schedule(t)) for t in range(10)], expected, rtol=1e-6)


def test_r1_option_adds_gamma_over_two_times_r1_on_real_images():
    """``--r1 GAMMA``: D's loss gains ``(GAMMA / 2) E||grad_x D(x)||^2``; for ``D(x) = w.x`` that is ``GAMMA/2 ||w||^2``."""
    from experiments.dcgan import DCGANConfig, build_gan

    tiny = dict(image_size=8, g_features=4, d_features=4)
    assert build_gan(DCGANConfig(**tiny), channels=1).d_penalty is None  # the reference: no penalty
    penalty = build_gan(DCGANConfig(**tiny, r1=10.0), channels=1).d_penalty
    w = jax.random.normal(jax.random.PRNGKey(0), (8, 8, 1))
    d_fn = lambda x: jnp.sum(x * w, axis=(1, 2, 3))[:, None]
    real = jax.random.normal(jax.random.PRNGKey(1), (4, 8, 8, 1))
    value = penalty(d_fn, real, real + 1.0, jax.random.PRNGKey(2))
    np.testing.assert_allclose(value, 5.0 * jnp.sum(w**2), rtol=1e-5)


def test_cli_mistakes_are_one_line_errors(capsys):
    from experiments.runner import run_cli as run_main
    from experiments.dcgan.__main__ import main

    mistakes = [
        (["--dataset", "digits", "--image-size", "24"], "power of two"),
        (["--dataset", "mnist", "--data-dir", "/nonexistent/mnist"], "does not exist"),
        (["--dataset", "digits", "--label-smoothing", "1.0"], "--label-smoothing"),
        (["--dataset", "digits", "--g-ema", "1.5"], "--g-ema"),
        (["--dataset", "digits", "--r1", "-1"], "--r1"),
        (["--dataset", "digits", "--steps", "10", "--lr-decay-steps", "11"], "--lr-decay-steps"),
    ]
    for argv, said in mistakes:
        assert run_main("dcgan", main, argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and said in err, (argv, err)
    with pytest.raises(SystemExit) as exit_info:
        main(["--precision", "float16"])
    assert exit_info.value.code == 2


def test_cli_offers_every_layer_method_of_the_library():
    """The CLI spells the layer choices out (it must not import jax before the device flags):
    they must stay the library's, each accepted and passed on."""
    from jaxgan.speedups.layers import DOWNSAMPLE_METHODS, UPSAMPLE_METHODS
    from experiments.dcgan import parse_args

    for up in UPSAMPLE_METHODS + ("auto",):
        assert parse_args(["--upsample", up]).upsample == up
    for down in DOWNSAMPLE_METHODS + ("auto",):
        assert parse_args(["--downsample", down]).downsample == down
    with pytest.raises(SystemExit):
        parse_args(["--downsample", "pool"])


def test_auto_layers_resolve_for_the_platform_and_explicit_choices_stand(monkeypatch):
    """The default ``auto`` becomes :func:`jaxgan.speedups.layers.auto_layers` of JAX's default backend (so
    results.json and the checkpoints' identity name real methods); an explicit choice is kept."""
    import experiments.dcgan.model as training
    from experiments.dcgan import DCGANConfig, parse_args, with_resolved_layers

    config = parse_args([])
    assert (config.upsample, config.downsample) == ("auto", "auto") == (DCGANConfig.upsample, DCGANConfig.downsample)
    resolved = with_resolved_layers(config)
    on_this_backend = ("winograd", "winograd") if jax.default_backend() == "cpu" else ("matmul", "matmul")
    assert (resolved.upsample, resolved.downsample) == on_this_backend
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    assert (with_resolved_layers(config).upsample, with_resolved_layers(config).downsample) == ("matmul", "matmul")
    explicit = with_resolved_layers(DCGANConfig(upsample="transpose", downsample="conv"))
    assert (explicit.upsample, explicit.downsample) == ("transpose", "conv")
    # build_gan resolves too: on "gpu" the networks are built with the matrix-product layers
    import jaxgan.models.dcgan as models

    built = []
    real = models.dcgan_networks
    monkeypatch.setattr(models, "dcgan_networks", lambda *a, **kw: built.append(kw) or real(*a, **kw))
    training.build_gan(DCGANConfig(image_size=8, g_features=4, d_features=4), channels=1)
    assert (built[0]["upsample"], built[0]["downsample"]) == ("matmul", "matmul")
