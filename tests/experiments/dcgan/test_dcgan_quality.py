"""DCGAN quality runs (slow): the quality goals, judged by the classifier metrics.

    JAXGAN_MNIST_DIR=DIR python -m pytest tests/experiments/dcgan/test_dcgan_quality.py -m slow

They run the commands of ``docs/results.md`` (DCGAN) through ``experiments.dcgan.train_and_evaluate``.
The judging classifier is cached in the default cache (``~/.cache/jaxgan``); the first run trains it.
The MNIST sweep takes about an hour on a 2-core CPU, the digits sweep about 12 minutes; ``-k seed0``
runs MNIST's and digits' seed 0. The classifier score is estimated on 5000
generated images (``--score-samples``). The MNIST runs read the test set from ``JAXGAN_MNIST_DIR``
(``tests/real_mnist.py``)."""

import math

import pytest

from experiments.dcgan import DCGANConfig, train_and_evaluate
from tests.real_mnist import MNIST_DIR, needs_real_mnist

SWEEP_SEEDS = (0, 1, 2, 3)  # --seed: the GAN's draws; the judge stays --data-seed 0


@pytest.mark.slow
@needs_real_mnist
@pytest.mark.parametrize("seed", SWEEP_SEEDS, ids=[f"seed{s}" for s in SWEEP_SEEDS])
def test_mnist_32x32_meets_the_quality_goals(tmp_path, seed):
    """MNIST test set (10,000 images, 2,000 held out), 32x32, the recorded command
    (``--g-features 32 --d-features 32 --r1 1 --g-ema 0.999 --steps 12000``, the default layers) on
    each seed of the sweep, all judged by one classifier on the same held-out images
    (``--data-seed 0``, the default): classifier score >= 9.0, class KL <= 0.05, Frechet distance
    <= 3x the real floor. The current scores are in ``docs/results.md``; about 16 minutes each."""
    config = DCGANConfig(
        dataset="mnist", data_dir=str(MNIST_DIR), split="test", g_features=32, d_features=32, r1=1.0,
        g_ema=0.999, steps=12000, seed=seed, out=str(tmp_path / "run"), progress=False,
    )
    r = train_and_evaluate(config)
    assert r["finite"] and r["holdout"] == 2000 and r["train_images"] == 8000 and r["data_seed"] == 0
    assert r["real_classifier_score"] > 9.0  # the classifier is confident on real held-out digits
    assert r["classifier_score"] >= 9.0, r
    assert r["class_kl"] <= 0.05, r
    assert r["frechet_distance"] <= 3.0 * r["real_frechet_floor"], r


@pytest.mark.slow
@pytest.mark.parametrize("seed", SWEEP_SEEDS, ids=[f"digits-seed{s}" for s in SWEEP_SEEDS])
def test_digits_16x16_run_gives_recognisable_digits(tmp_path, seed):
    """``python -m experiments.dcgan --dataset digits --r1 1 --steps 4000`` (offline, 16x16, about
    2 minutes of training on the 2-core CPU) on each seed of the sweep: classifier score >= 8 (on 5000
    generated images) with every class drawn (class KL <= 0.05). The current scores are in
    ``docs/results.md``."""
    config = DCGANConfig(dataset="digits", r1=1.0, steps=4000, seed=seed, out=str(tmp_path / "run"), progress=False)
    r = train_and_evaluate(config)
    assert r["finite"] and r["image_size"] == 16 and math.isfinite(r["frechet_distance"])
    assert r["score_samples"] == 5000 and r["data_seed"] == 0
    assert r["classifier_score"] >= 8.0, r
    assert r["class_kl"] <= 0.05, r
