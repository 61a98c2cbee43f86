"""How a DCGAN run is judged (``experiments.dcgan.report.evaluate``): which images, which judge."""

import numpy as np
import pytest


def test_seeds_of_a_sweep_share_the_held_out_split_and_the_judge(monkeypatch):
    """``--seed`` draws the GAN's randomness only; ``--data-seed`` (default 0) draws the held-out
    split and the judging classifier, so every seed of a sweep is judged on the same images by the
    same classifier, and another ``--data-seed`` gives another split and another judge."""
    import jaxgan.metrics
    from experiments.dcgan import DCGANConfig, parse_args
    from experiments.dcgan.report import evaluate
    from experiments.dcgan.train import load_data

    config = parse_args(["--dataset", "digits", "--seed", "3"])
    assert (config.seed, config.data_seed) == (3, 0)
    assert parse_args(["--data-seed", "2"]).data_seed == 2
    (train0, hold0), (train3, hold3) = load_data(DCGANConfig(seed=0)), load_data(config)
    np.testing.assert_array_equal(hold0.images, hold3.images)
    np.testing.assert_array_equal(train0.labels, train3.labels)
    _, hold_other = load_data(DCGANConfig(seed=3, data_seed=1))
    assert hold_other.num_examples == hold0.num_examples and not np.array_equal(hold_other.images, hold0.images)

    judges = []

    class Judged(Exception):
        pass

    def fake_get_classifier(dataset, *, seed, **options):
        judges.append(seed)
        raise Judged

    monkeypatch.setattr(jaxgan.metrics, "get_classifier", fake_get_classifier)
    def generate(params, stats, z):
        return np.zeros((len(z), 16, 16, 1), np.float32)

    for run in (DCGANConfig(seed=0), config, DCGANConfig(seed=3, data_seed=1)):
        with pytest.raises(Judged):
            evaluate(run, generate, (None, None), train0, hold0)
    assert judges == [0, 0, 1]


def test_classifier_score_uses_score_samples_and_the_other_metrics_the_eval_samples(monkeypatch):
    """The score of G is estimated on ``max(--eval-samples, --score-samples)`` generated images (its
    ``p(y)`` is a mean over them, biased with few); the Frechet distance and class KL on the first
    ``--eval-samples`` (as many as held-out images by default, like their real floors), and the
    score on those too, as ``classifier_score_matched``."""
    import jaxgan.metrics
    import jaxgan.metrics.classifier
    from experiments.dcgan import DCGANConfig
    from experiments.dcgan.report import evaluate
    from experiments.dcgan.train import load_data

    train, hold = load_data(DCGANConfig())
    calls = {"outputs": [], "evaluate": []}

    def probs_of(images):  # image i is "class i mod 10" with confidence growing along the set
        n = len(images)
        conf = np.linspace(0.5, 0.99, n)[:, None]
        onehot = np.eye(10)[np.arange(n) % 10]
        return conf * onehot + (1 - conf) * (1 - onehot) / 9

    def outputs(classifier, images, batch_size=1000):
        calls["outputs"].append(len(images))
        return probs_of(images), None

    def evaluate_images(classifier, generated, real, **kw):
        calls["evaluate"].append(len(generated))
        return {"classifier_score": jaxgan.metrics.classifier_score(probs_of(generated)),
                "frechet_distance": 1.0, "class_kl": 0.0}

    def fidelity_and_diversity(classifier, generated, real, **kw):
        calls["manifold"].append((len(generated), len(real)))
        return {"precision": 0.5, "recall": 0.25, "density": 0.75, "coverage": 0.125}

    monkeypatch.setattr(jaxgan.metrics, "get_classifier", lambda *a, **k: None)
    monkeypatch.setattr(jaxgan.metrics, "evaluate_images", evaluate_images)
    monkeypatch.setattr(jaxgan.metrics, "fidelity_and_diversity", fidelity_and_diversity)
    monkeypatch.setattr(jaxgan.metrics.classifier, "classifier_outputs", outputs)
    monkeypatch.setattr(jaxgan.metrics.classifier, "classifier_accuracy", lambda *a: 1.0)
    generate = lambda params, stats, z: np.zeros((len(z), 16, 16, 1), np.float32)
    for config, n_score, n_eval in ((DCGANConfig(), 5000, hold.num_examples),
                                    (DCGANConfig(score_samples=1000, eval_samples=100), 1000, 100),
                                    (DCGANConfig(score_samples=10, eval_samples=100), 100, 100)):
        calls = {"outputs": [], "evaluate": [], "manifold": []}
        r = evaluate(config, generate, (None, None), train, hold)
        assert calls["outputs"] == [n_score] and calls["evaluate"] == [n_eval, hold.num_examples]
        # precision/recall/density/coverage: G's first eval_samples and the held-out images, each
        # against as many training images as G has judged
        assert calls["manifold"] == [(n_eval, n_eval), (hold.num_examples, n_eval)]
        assert (r["improved_precision"], r["improved_recall"], r["density"], r["coverage"]) == (0.5, 0.25, 0.75, 0.125)
        assert r["real_improved_precision"] == 0.5 and r["real_coverage"] == 0.125 and r["manifold_reference"] == n_eval
        assert (r["score_samples"], r["eval_samples"]) == (n_score, n_eval)
        assert r["classifier_score"] == jaxgan.metrics.classifier_score(probs_of(np.zeros(n_score)))
        assert r["classifier_score_matched"] == jaxgan.metrics.classifier_score(probs_of(np.zeros(n_eval)))
