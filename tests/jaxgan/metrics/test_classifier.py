"""Classifier-based image metrics: score, Frechet distance, class KL, the classifier and its cache."""

import jax
import numpy as np
import pytest
import scipy.linalg

from jaxgan.data.images import load_dataset, split_holdout
from jaxgan.metrics.classifier import (
    class_histogram_kl,
    classifier_accuracy,
    classifier_outputs,
    classifier_score,
    evaluate_images,
    frechet_distance,
    get_classifier,
    load_classifier,
    real_data_floor,
    save_classifier,
    shifted_copies,
    train_classifier,
)
from tests.real_mnist import MNIST_DIR, needs_real_mnist


# ----------------------------------------------------------------------------- classifier score


def test_classifier_score_extremes():
    k = 10
    one_hot = np.eye(k)[np.arange(200) % k]  # confident, every class equally often
    assert classifier_score(one_hot) == pytest.approx(k, rel=1e-12)
    assert classifier_score(np.eye(k)[np.zeros(50, int)]) == pytest.approx(1.0)  # one class only
    assert classifier_score(np.full((50, k), 1.0 / k)) == pytest.approx(1.0)  # no confidence
    # Two of ten classes used, confidently: score 2.
    assert classifier_score(np.eye(k)[np.arange(100) % 2]) == pytest.approx(2.0)


def test_classifier_score_by_hand_and_splits():
    probs = np.array([[1.0, 0.0], [0.5, 0.5]])
    # p(y) = (0.75, 0.25); KL_1 = log(1/0.75); KL_2 = 0.5 log(0.5/0.75) + 0.5 log(0.5/0.25).
    kl1 = np.log(1 / 0.75)
    kl2 = 0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(2.0)
    assert classifier_score(probs) == pytest.approx(np.exp((kl1 + kl2) / 2), rel=1e-12)
    # Two splits: each part has a single confident / uniform row -> both score 1.
    assert classifier_score(probs, splits=2) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        classifier_score(probs, splits=3)


# ----------------------------------------------------------------------------- Frechet distance


def test_frechet_distance_of_a_set_with_itself_is_zero():
    x = np.random.default_rng(0).normal(size=(500, 16)) @ np.random.default_rng(1).normal(size=(16, 16))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(x, x[::-1]) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_shifted_scaled_gaussian_closed_form():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(2000, 5)) @ rng.normal(size=(5, 5))
    m, s = rng.normal(size=5), 0.5
    b = m + s * a  # mean a.mean(0) * s + m, covariance s^2 C_a exactly
    cov = np.cov(a, rowvar=False)
    shift = a.mean(0) - (s * a.mean(0) + m)
    expected = shift @ shift + (1 - s) ** 2 * np.trace(cov)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_population_gaussians():
    # N(0, I_4) against N(mu, 4 I_4): ||mu||^2 + 4 (1 - 2)^2, up to sampling error.
    rng = np.random.default_rng(3)
    mu = np.array([1.0, -2.0, 0.5, 0.0])
    a = rng.normal(size=(100_000, 4))
    b = mu + 2.0 * rng.normal(size=(100_000, 4))
    assert frechet_distance(a, b) == pytest.approx(mu @ mu + 4.0, rel=0.01)


def test_frechet_distance_matches_scipy_sqrtm():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6)) + 1.0
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(ca @ cb).real
    d = a.mean(0) - b.mean(0)
    expected = d @ d + np.trace(ca + cb - 2 * root)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-7)
    # Rank-deficient covariances (fewer samples than dimensions) stay finite and non-negative.
    assert 0.0 <= frechet_distance(a[:4], b[:4]) < np.inf


# ----------------------------------------------------------------------------- class KL


def test_class_histogram_kl():
    real = np.arange(1000) % 10
    assert class_histogram_kl(real[::-1], real, 10) == pytest.approx(0.0, abs=1e-12)
    dropped = real[real != 3]  # one of ten classes missing: KL = log(10 / 9) without the epsilon
    eps = 1e-6
    p_kept, p_gone, q = (1 / 9 + eps) / (1 + 10 * eps), eps / (1 + 10 * eps), 0.1
    expected = 9 * p_kept * np.log(p_kept / q) + p_gone * np.log(p_gone / q)
    assert class_histogram_kl(dropped, real, 10, eps=eps) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(np.log(10 / 9), abs=1e-4)
    half = real[real < 5]
    assert class_histogram_kl(half, real, 10, eps=0.0) == pytest.approx(np.log(2), rel=1e-12)
    with pytest.raises(ValueError):
        class_histogram_kl([10], real, 10)


# ----------------------------------------------------------------------------- classifier


SMALL = dict(steps=300, batch_size=64, learning_rate=3e-3, features=(16, 32), hidden=64)


@pytest.fixture(scope="module")
def digits_classifier(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    train = load_dataset("digits", split="train")
    clf = get_classifier(train, cache_dir=cache, **SMALL)
    return clf, cache, train


def test_digits_classifier_learns_and_is_cached(digits_classifier):
    clf, cache, train = digits_classifier
    test = load_dataset("digits", split="test")
    assert classifier_accuracy(clf, test.images, test.labels) > 0.9
    files = list((cache / "classifiers").glob("digits-8x8x1-*.npz"))
    assert len(files) == 1
    again = get_classifier(train, cache_dir=cache, **SMALL)
    assert jax.tree.all(jax.tree.map(np.array_equal, clf.params, again.params))
    assert again.image_shape == (8, 8, 1) and again.num_classes == 10


def test_shifted_copies_move_the_content_and_repeat_the_edges():
    images = np.full((2, 4, 5, 1), 7.0, np.float32)  # a background of 7, not 0
    images[0, 1, 2, 0] = 1.0
    images[1, 3, 0, 0] = 2.0  # on the bottom-left edge
    x, y = shifted_copies(images, np.array([3, 4]), 1)
    assert x.shape == (10, 4, 5, 1) and y.tolist() == [3, 4] * 5
    np.testing.assert_array_equal(x[:2], images)
    down, up, right, left = x[2:4], x[4:6], x[6:8], x[8:10]
    for moved, (dy, dx) in ((down, (1, 0)), (up, (-1, 0)), (right, (0, 1)), (left, (0, -1))):
        assert moved[0, 1 + dy, 2 + dx, 0] == 1.0 and (moved[0] == 1.0).sum() == 1
    # the uncovered row or column repeats the edge: the bottom-left 2 is copied, not lost or zeroed
    assert up[1, 2, 0, 0] == 2.0 and up[1, 3, 0, 0] == 2.0
    assert right[1, 3, 0, 0] == 2.0 and right[1, 3, 1, 0] == 2.0
    assert (down[1] == 2.0).sum() == 0 and (left[1] == 2.0).sum() == 0  # moved out of the image
    assert set(np.unique(x)) == {1.0, 2.0, 7.0}
    x2, _ = shifted_copies(images, np.array([3, 4]), 2)
    assert x2.shape[0] == 18 and x2[10 + 0, 3, 2, 0] == 1.0  # two pixels down
    same, labels = shifted_copies(images, np.array([3, 4]), 0)
    np.testing.assert_array_equal(same, images)
    assert labels.tolist() == [3, 4]
    with pytest.raises(ValueError, match="shifts"):
        shifted_copies(images, np.array([3, 4]), -1)


def test_shifts_train_on_the_moved_copies_and_name_their_own_cache_entry(tmp_path):
    train = load_dataset("digits", split="train")
    small = dict(SMALL, steps=2)
    x, y = shifted_copies(train.images, train.labels, 1)
    by_hand = train_classifier(x, y, 10, jax.random.key(0), **small)
    shifted = get_classifier(train, cache_dir=tmp_path, shifts=1, **small)
    plain = get_classifier(train, cache_dir=tmp_path, **small)
    assert jax.tree.all(jax.tree.map(np.array_equal, shifted.params, by_hand.params))
    assert not jax.tree.all(jax.tree.map(np.array_equal, shifted.params, plain.params))
    assert len(list((tmp_path / "classifiers").glob("*.npz"))) == 2


def test_classifier_outputs_and_save_load(digits_classifier, tmp_path):
    clf, _, train = digits_classifier
    probs, feats = classifier_outputs(clf, train.images[:37], batch_size=16)  # padded last batch
    assert probs.shape == (37, 10) and feats.shape == (37, 64)
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    full, _ = classifier_outputs(clf, train.images[:37], batch_size=1000)
    np.testing.assert_allclose(probs, full, rtol=1e-5, atol=1e-6)
    save_classifier(tmp_path / "c.npz", clf)
    loaded = load_classifier(tmp_path / "c.npz")
    np.testing.assert_array_equal(classifier_outputs(loaded, train.images[:37])[0], full)
    with pytest.raises(ValueError, match="differs"):
        classifier_outputs(clf, np.zeros((2, 16, 16, 1), np.float32))


def test_evaluate_images_real_floor_noise_and_mode_dropping(digits_classifier):
    clf, _, train = digits_classifier
    test = load_dataset("digits", split="test")
    floor = evaluate_images(clf, test.images, train.images)
    assert real_data_floor(clf, test.images, train.images) == {
        "real_classifier_score": floor["classifier_score"],
        "real_frechet_floor": floor["frechet_distance"],
        "real_class_kl": floor["class_kl"],
    }
    assert floor["classifier_score"] > 7.0
    assert floor["class_kl"] < 0.05
    noise = np.random.default_rng(0).uniform(-1, 1, test.images.shape).astype(np.float32)
    bad = evaluate_images(clf, noise, train.images)
    assert bad["frechet_distance"] > 5 * floor["frechet_distance"]
    assert bad["classifier_score"] < floor["classifier_score"]
    half = test.images[test.labels < 5]
    dropped = evaluate_images(clf, half, train.images)
    assert dropped["class_kl"] > 0.4  # about log 2
    assert dropped["classifier_score"] < 6.0  # about 5


def test_get_classifier_needs_labels(tmp_path):
    ds = load_dataset("digits", split="test")
    with pytest.raises(ValueError, match="labels"):
        get_classifier(ds._replace(labels=None, num_classes=None), cache_dir=tmp_path)


@pytest.mark.slow
@needs_real_mnist
def test_real_mnist_scores_close_to_ten(tmp_path):
    ds = load_dataset("mnist", data_dir=MNIST_DIR, split="test", image_size=32)
    train, holdout = split_holdout(ds, 2000, seed=0)
    clf = get_classifier(train, cache_dir=tmp_path)
    assert classifier_accuracy(clf, holdout.images, holdout.labels) > 0.95
    floor = evaluate_images(clf, holdout.images, train.images)
    assert floor["classifier_score"] > 9.0
    assert floor["class_kl"] < 0.01
