"""Adversarial losses on discriminator logits, per family, as D and G loss pairs.

Softmax (the lecture's 2-class loss), minimax and non-saturating sigmoid cross-entropy, Wasserstein,
hinge, least squares and relativistic average. The logit, weight and reduction conventions are
stated in :mod:`jaxgan.losses`' docstring; :mod:`jaxgan.losses` re-exports every loss here and
pairs them into objectives (``get_objective``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxgan.losses.reduction import as_float32, two_terms, weighted_reduce

__all__ = [
    "softmax_discriminator_loss",
    "softmax_generator_loss",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "modified_discriminator_loss",
    "modified_generator_loss",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
    "wasserstein_hinge_discriminator_loss",
    "wasserstein_hinge_generator_loss",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "relativistic_discriminator_loss",
    "relativistic_generator_loss",
]


# --------------------------------------------------------------------------------------------------
# Logit helpers
# --------------------------------------------------------------------------------------------------


def _check_two_class(name: str, logits: jax.Array) -> None:
    if logits.ndim < 2 or logits.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (batch, 2) (class 1 = real), got {logits.shape}: give D two "
                         "outputs, or use an objective for one logit such as 'nonsaturating'")


def _two_class_nll(logits: jax.Array, label: int) -> jax.Array:
    """``-log softmax(logits)_label`` for two classes, as ``softplus(l_other - l_label)``.

    Exact to float32's relative precision even where the loss is tiny (``log_softmax`` computes it
    as a difference of nearly equal numbers there).
    """
    return jax.nn.softplus(logits[..., 1 - label] - logits[..., label])


def _bce(logits: jax.Array, target: float) -> jax.Array:
    """Sigmoid cross-entropy ``-t log sigma(l) - (1 - t) log(1 - sigma(l))``, stable for any ``l``."""
    return target * jax.nn.softplus(-logits) + (1.0 - target) * jax.nn.softplus(logits)


# --------------------------------------------------------------------------------------------------
# The lecture's 2-class softmax loss
# --------------------------------------------------------------------------------------------------


def softmax_discriminator_loss(
    real_logits, fake_logits, *, weights=1.0, real_weights=1.0, fake_weights=1.0, reduction="mean"
):
    """The lecture's 2-class softmax cross-entropy for D (class 1 = real, class 0 = fake).

    ``L_D = E_x[-log softmax(D(x))_1] + E_z[-log softmax(D(G(z)))_0]``

    Each term is averaged over its own batch, then the two are added, as in the lecture's
    ``loss_D(real_Y, ones) + loss_D(fake_Y, zeros)``.
    """
    real_logits, fake_logits = as_float32(real_logits), as_float32(fake_logits)
    _check_two_class("real_logits", real_logits)
    _check_two_class("fake_logits", fake_logits)
    real_nll = _two_class_nll(real_logits, 1)
    fake_nll = _two_class_nll(fake_logits, 0)
    return two_terms(real_nll, fake_nll, weights, real_weights, fake_weights, reduction)


def softmax_generator_loss(fake_logits, *, weights=1.0, reduction="mean"):
    """The lecture's non-saturating softmax loss for G: ``L_G = E_z[-log softmax(D(G(z)))_1]``."""
    fake_logits = as_float32(fake_logits)
    _check_two_class("fake_logits", fake_logits)
    nll = _two_class_nll(fake_logits, 1)
    return weighted_reduce(nll, weights, reduction)


# --------------------------------------------------------------------------------------------------
# Sigmoid cross-entropy GAN (Goodfellow et al. 2014)
# --------------------------------------------------------------------------------------------------


def minimax_discriminator_loss(
    real_logits,
    fake_logits,
    *,
    label_smoothing=0.0,
    weights=1.0,
    real_weights=1.0,
    fake_weights=1.0,
    reduction="mean",
):
    """The original GAN's D loss: sigmoid cross-entropy, real -> ``1 - s``, fake -> 0.

    ``L_D = E_x[-(1-s) log sigma(D(x)) - s log(1 - sigma(D(x)))] + E_z[-log(1 - sigma(D(G(z))))]``

    Label smoothing ``s`` is one-sided (real targets only, Salimans et al. 2016). Unlike TF-GAN
    the default is ``s = 0`` (TF-GAN: 0.25), and the real target is ``1 - s``, whereas TF-GAN's
    ``tf.losses`` smoothing gives ``1 - s/2``: TF-GAN's ``label_smoothing=s`` equals ours ``s/2``.
    """
    real_logits, fake_logits = as_float32(real_logits), as_float32(fake_logits)
    real_terms = _bce(real_logits, 1.0 - label_smoothing)
    fake_terms = _bce(fake_logits, 0.0)
    return two_terms(real_terms, fake_terms, weights, real_weights, fake_weights, reduction)


def minimax_generator_loss(fake_logits, *, weights=1.0, reduction="mean"):
    """The original, saturating G loss ``L_G = E_z[log(1 - sigma(D(G(z))))] = -E softplus(D(G(z)))``.

    Its gradient ``-sigma(l)`` vanishes where D confidently rejects the fakes (``l -> -inf``),
    which is why :func:`modified_generator_loss` exists. TF-GAN's version adds the constant
    ``-softplus(-1)`` (it evaluates the whole D loss with real logits of 1); gradients are equal.
    """
    return weighted_reduce(-jax.nn.softplus(as_float32(fake_logits)), weights, reduction)


def modified_discriminator_loss(real_logits, fake_logits, **options):
    """The non-saturating GAN's D loss: the same as :func:`minimax_discriminator_loss`.

    ``L_D = E_x[-(1-s) log sigma(D(x)) - s log(1 - sigma(D(x)))] + E_z[-log(1 - sigma(D(G(z))))]``
    (label smoothing ``s`` defaults to 0, unlike TF-GAN's 0.25).
    """
    return minimax_discriminator_loss(real_logits, fake_logits, **options)


def modified_generator_loss(fake_logits, *, weights=1.0, reduction="mean"):
    """The non-saturating G loss ``L_G = -E_z[log sigma(D(G(z)))] = E softplus(-D(G(z)))``.

    Same fixed point as the minimax loss, but a gradient ``-(1 - sigma(l))`` that stays near -1
    where D rejects the fakes.
    """
    return weighted_reduce(jax.nn.softplus(-as_float32(fake_logits)), weights, reduction)


# --------------------------------------------------------------------------------------------------
# Wasserstein and hinge (Arjovsky et al. 2017; Lim & Ye 2017, Miyato et al. 2018)
# --------------------------------------------------------------------------------------------------


def wasserstein_discriminator_loss(
    real_logits, fake_logits, *, weights=1.0, real_weights=1.0, fake_weights=1.0, reduction="mean"
):
    """The WGAN critic loss ``L_D = E_z[D(G(z))] - E_x[D(x)]`` (pair it with a Lipschitz penalty)."""
    real_logits, fake_logits = as_float32(real_logits), as_float32(fake_logits)
    return two_terms(-real_logits, fake_logits, weights, real_weights, fake_weights, reduction)


def wasserstein_generator_loss(fake_logits, *, weights=1.0, reduction="mean"):
    """The WGAN generator loss ``L_G = -E_z[D(G(z))]``."""
    return weighted_reduce(-as_float32(fake_logits), weights, reduction)


def wasserstein_hinge_discriminator_loss(
    real_logits,
    fake_logits,
    *,
    real_hinge=1.0,
    fake_hinge=1.0,
    weights=1.0,
    real_weights=1.0,
    fake_weights=1.0,
    reduction="mean",
):
    """The hinge D loss ``L_D = E_x[max(0, a - D(x))] + E_z[max(0, b + D(G(z)))]``, ``a, b = 1``.

    ``a = real_hinge``, ``b = fake_hinge`` (TF-GAN's ``generated_hinge``).
    """
    real_logits, fake_logits = as_float32(real_logits), as_float32(fake_logits)
    real_terms = jax.nn.relu(real_hinge - real_logits)
    fake_terms = jax.nn.relu(fake_hinge + fake_logits)
    return two_terms(real_terms, fake_terms, weights, real_weights, fake_weights, reduction)


def wasserstein_hinge_generator_loss(fake_logits, *, weights=1.0, reduction="mean"):
    """The hinge G loss ``L_G = -E_z[D(G(z))]`` (as TF-GAN: the Wasserstein G loss)."""
    return wasserstein_generator_loss(fake_logits, weights=weights, reduction=reduction)


# --------------------------------------------------------------------------------------------------
# Least squares (Mao et al. 2017)
# --------------------------------------------------------------------------------------------------


def least_squares_discriminator_loss(
    real_logits,
    fake_logits,
    *,
    real_label=1.0,
    fake_label=0.0,
    weights=1.0,
    real_weights=1.0,
    fake_weights=1.0,
    reduction="mean",
):
    """The LSGAN D loss ``L_D = 1/2 E_x[(D(x) - a)^2] + 1/2 E_z[(D(G(z)) - b)^2]``, ``a=1, b=0``.

    TF-GAN's 1/2 factors. The CycleGAN reference (``MSELoss`` to 1 and 0, D loss multiplied by
    0.5) computes exactly this D loss.
    """
    real_logits, fake_logits = as_float32(real_logits), as_float32(fake_logits)
    real_terms = 0.5 * jnp.square(real_logits - real_label)
    fake_terms = 0.5 * jnp.square(fake_logits - fake_label)
    return two_terms(real_terms, fake_terms, weights, real_weights, fake_weights, reduction)


def least_squares_generator_loss(fake_logits, *, real_label=1.0, weights=1.0, reduction="mean"):
    """The LSGAN G loss ``L_G = 1/2 E_z[(D(G(z)) - c)^2]``, ``c = real_label = 1``.

    TF-GAN's 1/2 factor. The CycleGAN reference's G uses ``MSELoss(D(G(x)), 1)`` without the 1/2:
    its adversarial term is ``2 *`` this loss (per translator).
    """
    return weighted_reduce(0.5 * jnp.square(as_float32(fake_logits) - real_label), weights, reduction)


# --------------------------------------------------------------------------------------------------
# Relativistic average GAN (Jolicoeur-Martineau 2018, RaSGAN)
# --------------------------------------------------------------------------------------------------


def _relativistic_terms(real_logits, fake_logits):
    """``r - mean(f)`` and ``f - mean(r)``, the means taken unweighted over all elements."""
    real_logits, fake_logits = as_float32(real_logits), as_float32(fake_logits)
    return real_logits - jnp.mean(fake_logits), fake_logits - jnp.mean(real_logits)


def relativistic_discriminator_loss(real_logits, fake_logits, *, weights=1.0, reduction="mean"):
    """The relativistic average D loss (RaSGAN), with ``r = D(x)``, ``f = D(G(z))``:

    ``L_D = -E_x[log sigma(r - E f)] - E_z[log(1 - sigma(f - E r))]
          = E_x softplus(-(r - E f)) + E_z softplus(f - E r)``

    ``E f`` and ``E r`` are plain means over the whole batch; ``weights`` apply to both terms.
    """
    rel_real, rel_fake = _relativistic_terms(real_logits, fake_logits)
    return two_terms(
        jax.nn.softplus(-rel_real), jax.nn.softplus(rel_fake), weights, 1.0, 1.0, reduction
    )


def relativistic_generator_loss(fake_logits, real_logits, *, weights=1.0, reduction="mean"):
    """The relativistic average G loss (RaSGAN): the D loss with real and fake swapped,

    ``L_G = -E_z[log sigma(f - E r)] - E_x[log(1 - sigma(r - E f))]
          = E_z softplus(-(f - E r)) + E_x softplus(r - E f)``.

    Note the argument order ``(fake_logits, real_logits)``, that of ``Objective.g_loss``;
    ``real_logits`` is required.
    """
    if real_logits is None:
        raise ValueError("relativistic_generator_loss needs real_logits (D's output on real data)")
    rel_real, rel_fake = _relativistic_terms(real_logits, fake_logits)
    return two_terms(
        jax.nn.softplus(rel_real), jax.nn.softplus(-rel_fake), weights, 1.0, 1.0, reduction
    )


relativistic_generator_loss.needs_real_logits = True
