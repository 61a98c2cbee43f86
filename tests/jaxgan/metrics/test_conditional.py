"""The conditional GAN's metrics: class accuracy and per-class Frechet distances, on cases whose
answer is known (NumPy only)."""

import numpy as np
import pytest

from jaxgan.metrics import frechet_distance
from jaxgan.metrics.conditional import class_accuracy, conditional_scores, per_class_frechet_distance


def test_class_accuracy_counts_each_class_apart():
    labels = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    predicted = np.array([0, 0, 0, 1, 0, 0, 2, 2])  # class 0: 3/4, class 1: 0/2, class 2: 2/2
    overall, per_class = class_accuracy(predicted, labels, 4)
    assert overall == 5 / 8
    assert per_class[:3] == [0.75, 0.0, 1.0] and np.isnan(per_class[3])
    with pytest.raises(ValueError, match="as many predictions"):
        class_accuracy(predicted[:3], labels, 3)


def test_per_class_distance_sees_swapped_classes_that_the_overall_distance_cannot():
    """Samples of class 0 drawn where real class 1 lies, and the reverse: the two sets are the same
    mixture overall (distance ~ 0) but each class is far from its real counterpart."""
    rng = np.random.default_rng(0)
    n = 400
    real_labels = np.arange(n) % 2
    centres = np.array([[0.0, 0.0], [6.0, 0.0]])
    real = centres[real_labels] + rng.normal(size=(n, 2))
    fake_labels = real_labels
    fake = centres[1 - fake_labels] + rng.normal(size=(n, 2))  # every class drawn at the other's centre
    probs = np.eye(2)[1 - fake_labels]  # a judge that sees where each sample lies
    scores = conditional_scores(probs, fake, fake_labels, real, real_labels, 2)
    assert frechet_distance(fake, real) < 0.2
    fd = per_class_frechet_distance(fake, fake_labels, real, real_labels, 2)
    assert scores["per_class_frechet_distance"] == fd
    for c in (0, 1):  # ~ the squared distance of the centres, 36
        assert fd[c] == pytest.approx(frechet_distance(fake[fake_labels == c], real[real_labels == c]))
        assert 30 < fd[c] < 42
    assert scores["intra_class_frechet_distance"] == pytest.approx(np.mean(fd))
    assert scores["class_accuracy"] == 0.0
    good = conditional_scores(np.eye(2)[real_labels[::-1]], real[::-1], real_labels[::-1], real, real_labels, 2)
    assert good["class_accuracy"] == 1.0 and good["intra_class_frechet_distance"] < 1e-9
