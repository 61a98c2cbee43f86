"""The ACGAN losses and objective against float64 NumPy formulas (``loss_references.py``)."""

import numpy as np
import pytest

from jaxgan import losses as L
from tests.jaxgan.losses.loss_references import REDUCTIONS, RTOL, np_log_softmax, np_reduce, np_sigmoid

K = 4


def np_cross_entropy(logits, one_hot, smoothing=0.0):
    targets = one_hot * (1 - smoothing) + smoothing / one_hot.shape[-1]
    return -(targets * np_log_softmax(np.asarray(logits, np.float64))).sum(axis=-1)


def case(seed=0, n=6, m=5):
    rng = np.random.default_rng(seed)
    real = rng.normal(size=(n, K)).astype(np.float32) * 3
    gen = rng.normal(size=(m, K)).astype(np.float32) * 3
    y_real, y_gen = np.eye(K)[rng.integers(0, K, n)], np.eye(K)[rng.integers(0, K, m)]
    return real, gen, y_real.astype(np.float32), y_gen.astype(np.float32)


@pytest.mark.parametrize("reduction", [r for r in REDUCTIONS if r != "none"])
def test_acgan_losses_match_float64_numpy(reduction):
    real, gen, y_real, y_gen = case()
    w_real = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 3.0])
    w_gen = np.array([0.5, 1.0, 0.0, 2.0, 1.0])
    got = L.acgan_discriminator_loss(real, gen, y_real, generated_one_hot_labels=y_gen, label_smoothing=0.1,
                                     real_weights=w_real, generated_weights=w_gen, reduction=reduction)
    expected = (np_reduce(np_cross_entropy(real, y_real, 0.1), w_real, reduction)
                + np_reduce(np_cross_entropy(gen, y_gen), w_gen, reduction))
    np.testing.assert_allclose(float(got), expected, rtol=RTOL)
    got_g = L.acgan_generator_loss(gen, y_gen, weights=w_gen, reduction=reduction)
    np.testing.assert_allclose(float(got_g), np_reduce(np_cross_entropy(gen, y_gen), w_gen, reduction), rtol=RTOL)


def test_tf_gan_defaults_use_the_real_labels_for_the_generated_images_and_no_smoothing():
    real, gen, y_real, _ = case(1, n=5, m=5)
    expected = np_cross_entropy(real, y_real).mean() + np_cross_entropy(gen, y_real).mean()
    np.testing.assert_allclose(float(L.acgan_discriminator_loss(real, gen, y_real)), expected, rtol=RTOL)
    per_example = L.acgan_discriminator_loss(real, gen, y_real, reduction="none")
    np.testing.assert_allclose(np.asarray(per_example), np_cross_entropy(real, y_real) + np_cross_entropy(gen, y_real), rtol=RTOL)
    with pytest.raises(ValueError, match="same shape"):
        L.acgan_generator_loss(gen, y_real[:, :3])


def test_acgan_objective_adds_the_weighted_class_losses_to_the_adversarial_ones():
    real, gen, y_real, y_gen = case(2)
    rng = np.random.default_rng(3)
    l_real, l_gen = rng.normal(size=(2, 6)).astype(np.float32), rng.normal(size=(2, 5)).astype(np.float32)
    labels_real, labels_gen = y_real.argmax(1), y_gen.argmax(1)
    out_real = L.ACGANOutput(l_real[0], real, labels_real)
    out_gen = L.ACGANOutput(l_gen[0], gen, labels_gen)
    obj = L.acgan_objective("nonsaturating", class_weight=0.5)
    adv_d = -np.log(np_sigmoid(l_real[0].astype(np.float64))).mean() - np.log(1 - np_sigmoid(l_gen[0].astype(np.float64))).mean()
    cls_d = np_cross_entropy(real, y_real).mean() + np_cross_entropy(gen, y_gen).mean()
    np.testing.assert_allclose(float(obj.d_loss(out_real, out_gen)), adv_d + 0.5 * cls_d, rtol=RTOL)
    adv_g = -np.log(np_sigmoid(l_gen[0].astype(np.float64))).mean()
    np.testing.assert_allclose(float(obj.g_loss(out_gen)), adv_g + 0.5 * np_cross_entropy(gen, y_gen).mean(), rtol=RTOL)
    assert obj.d_output == "probability" and not obj.generator_needs_real
    relativistic = L.acgan_objective("relativistic")
    assert relativistic.generator_needs_real and relativistic.d_output == "score"


def test_acgan_objective_defaults_to_non_saturating_with_weight_one_and_gives_a_relativistic_g_the_real_logit():
    real, gen, y_real, y_gen = case(4, n=5, m=5)
    l_real, l_gen = np.random.default_rng(5).normal(size=(2, 5)).astype(np.float32)
    out_real = L.ACGANOutput(l_real, real, y_real.argmax(1))
    out_gen = L.ACGANOutput(l_gen, gen, y_gen.argmax(1))
    r, f = l_real.astype(np.float64), l_gen.astype(np.float64)
    softplus = lambda x: np.logaddexp(0.0, x)
    cls_g = np_cross_entropy(gen, y_gen).mean()
    cls_d = np_cross_entropy(real, y_real).mean() + cls_g
    default = L.acgan_objective()
    np.testing.assert_allclose(float(default.d_loss(out_real, out_gen)),
                               softplus(-r).mean() + softplus(f).mean() + cls_d, rtol=RTOL)
    np.testing.assert_allclose(float(default.g_loss(out_gen)), softplus(-f).mean() + cls_g, rtol=RTOL)
    # RaSGAN's G loss: E softplus(-(f - E r)) + E softplus(r - E f), of the real batch's logit
    relativistic = L.acgan_objective("relativistic")
    expected = softplus(-(f - r.mean())).mean() + softplus(r - f.mean()).mean() + cls_g
    np.testing.assert_allclose(float(relativistic.g_loss(out_gen, out_real)), expected, rtol=RTOL)


def test_per_patch_class_logits_are_classified_along_their_last_axis():
    """Class logits ``[batch, patches, K]`` (a class head per patch): the cross-entropy (and the
    smoothing's ``1 / K``) is over the last axis, each example's loss the mean over its patches."""
    rng = np.random.default_rng(6)
    real, gen = rng.normal(size=(2, 4, 3, K)).astype(np.float32) * 3
    y_real, y_gen = np.eye(K, dtype=np.float32)[rng.integers(0, K, (2, 4, 3))]
    got = L.acgan_discriminator_loss(real, gen, y_real, generated_one_hot_labels=y_gen, label_smoothing=0.1)
    expected = np_cross_entropy(real, y_real, 0.1).mean() + np_cross_entropy(gen, y_gen).mean()
    np.testing.assert_allclose(float(got), expected, rtol=RTOL)
    np.testing.assert_allclose(float(L.acgan_generator_loss(gen, y_gen)), np_cross_entropy(gen, y_gen).mean(), rtol=RTOL)
