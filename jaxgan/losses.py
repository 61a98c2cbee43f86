"""Adversarial losses on discriminator logits, translation losses, and a registry of objectives.

Conventions used throughout:

* ``real_logits`` / ``fake_logits`` are D's raw outputs on real and generated batches, any shape with
  a leading batch axis (``(batch,)``, ``(batch, 1)``, PatchGAN's ``(batch, h, w, 1)``...). The
  softmax losses take two logits per example, shape ``(batch, 2)``, class 1 = real.
  ``sigma`` is the logistic sigmoid; ``D(x) = sigma(logit)`` for the sigmoid losses.
* Inputs of any float dtype (bfloat16 included) are cast to float32 first; every loss returns a
  float32 scalar or per-example float32 values. Logs of sigmoids are computed as
  ``log sigma(t) = -softplus(-t)``, finite for logits of any size.
* ``weights`` (default 1.0) multiply the element-wise losses. They align with the *leading* (batch)
  axis: per-example weights of shape ``(batch,)`` apply to logits of shape ``(batch, 1)`` or
  ``(batch, h, w, 1)`` without the NumPy trap of broadcasting ``(batch,)`` against ``(batch, 1)``
  into ``(batch, batch)``. Weights of the element-wise shape (e.g. per patch) work too.
* ``reduction``: every loss first forms per-example values ``v_i = mean_j (w_ij * l_ij)`` (the mean
  over each example's non-batch elements), then

  - ``"none"``: returns ``v`` (shape ``(batch,)``);
  - ``"sum"``:  ``sum_i v_i``;
  - ``"mean"`` (default): ``sum_i v_i / batch``, the weighted sum divided by the batch size (*not*
    by the sum of the weights), so ``sum == mean * batch`` always;
  - ``"sum_by_nonzero_weights"``: TF-GAN's default reduction, ``sum_ij w_ij l_ij / #{w_ij != 0}``
    (0 when all weights are 0).

  ``"mean"`` and TF-GAN's default agree whenever no weight is zero; with zero weights TF-GAN divides
  by the number of non-zero weights instead: pass ``reduction="sum_by_nonzero_weights"`` to get
  its numbers. (TF-GAN's ``"sum"`` sums over all elements; ours sums per-example means.)
* Two-term D losses reduce each term over its own batch and add the two; ``"none"`` adds the
  per-example values and needs equal batch sizes. D losses take ``weights`` for both terms and
  ``real_weights`` / ``fake_weights`` (TF-GAN's ``real_weights`` / ``generated_weights``), which
  multiply it.

An *objective* is a pair ``(d_loss, g_loss)``: ``d_loss(real_logits, fake_logits)`` is minimised
by D, ``g_loss(fake_logits, real_logits=None)`` by G. ``get_objective(name)`` looks one up.
Gradient penalties live in :mod:`jaxgan.penalties` and are re-exported here.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

__all__ = [
    "Objective",
    "get_objective",
    "objective_names",
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
    "cycle_consistency_loss",
    "identity_loss",
    # re-exported from jaxgan.penalties
    "wasserstein_gradient_penalty",
    "r1_penalty",
    "r2_penalty",
    "dragan_penalty",
    "make_penalty",
    "penalty_names",
]

REDUCTIONS = ("mean", "sum", "none", "sum_by_nonzero_weights")


# --------------------------------------------------------------------------------------------------
# Weighting and reduction
# --------------------------------------------------------------------------------------------------


def _float32(x) -> jax.Array:
    return jnp.asarray(x).astype(jnp.float32)


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _align_weights(weights, shape: tuple[int, ...]) -> jax.Array:
    """Broadcasts ``weights`` to ``shape``, aligning a lower-rank weight with the leading axes."""
    w = _float32(weights)
    if 0 < w.ndim < len(shape):
        w = w.reshape(w.shape + (1,) * (len(shape) - w.ndim))
    try:
        return jnp.broadcast_to(w, shape)
    except ValueError:
        raise ValueError(
            f"weights of shape {jnp.shape(weights)} do not broadcast to losses of shape {shape} "
            "(weights align with the leading batch axis)"
        ) from None


def _weighted_reduce(losses: jax.Array, weights, reduction: str) -> jax.Array:
    """Weights element-wise ``losses`` (leading batch axis) and reduces them (module docstring)."""
    _check_reduction(reduction)
    losses = _float32(losses)
    if losses.ndim == 0:
        raise ValueError("losses need a leading batch axis, got a scalar")
    w = _align_weights(weights, losses.shape)
    weighted = losses * w
    batch = losses.shape[0]
    if reduction == "sum_by_nonzero_weights":
        count = jnp.sum(w != 0).astype(jnp.float32)
        return jnp.where(count > 0, jnp.sum(weighted) / jnp.maximum(count, 1.0), 0.0)
    per_example = jnp.mean(weighted.reshape(batch, -1), axis=1)
    if reduction == "none":
        return per_example
    total = jnp.sum(per_example)
    return total if reduction == "sum" else total / batch


def _two_terms(real_terms, fake_terms, weights, real_weights, fake_weights, reduction):
    """``reduce(real_terms) + reduce(fake_terms)``, each over its own batch."""
    if reduction == "none" and real_terms.shape[0] != fake_terms.shape[0]:
        raise ValueError(
            "reduction='none' adds per-example values and needs equal batch sizes, got "
            f"{real_terms.shape[0]} real and {fake_terms.shape[0]} fake"
        )
    w_real = _align_weights(weights, real_terms.shape) * _align_weights(real_weights, real_terms.shape)
    w_fake = _align_weights(weights, fake_terms.shape) * _align_weights(fake_weights, fake_terms.shape)
    return _weighted_reduce(real_terms, w_real, reduction) + _weighted_reduce(
        fake_terms, w_fake, reduction
    )


def _check_two_class(name: str, logits: jax.Array) -> None:
    if logits.ndim < 2 or logits.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (batch, 2) (class 1 = real), got {logits.shape}")


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
    real_logits, fake_logits = _float32(real_logits), _float32(fake_logits)
    _check_two_class("real_logits", real_logits)
    _check_two_class("fake_logits", fake_logits)
    real_nll = _two_class_nll(real_logits, 1)
    fake_nll = _two_class_nll(fake_logits, 0)
    return _two_terms(real_nll, fake_nll, weights, real_weights, fake_weights, reduction)


def softmax_generator_loss(fake_logits, *, weights=1.0, reduction="mean"):
    """The lecture's non-saturating softmax loss for G: ``L_G = E_z[-log softmax(D(G(z)))_1]``."""
    fake_logits = _float32(fake_logits)
    _check_two_class("fake_logits", fake_logits)
    nll = _two_class_nll(fake_logits, 1)
    return _weighted_reduce(nll, weights, reduction)


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
    real_logits, fake_logits = _float32(real_logits), _float32(fake_logits)
    real_terms = _bce(real_logits, 1.0 - label_smoothing)
    fake_terms = _bce(fake_logits, 0.0)
    return _two_terms(real_terms, fake_terms, weights, real_weights, fake_weights, reduction)


def minimax_generator_loss(fake_logits, *, weights=1.0, reduction="mean"):
    """The original, saturating G loss ``L_G = E_z[log(1 - sigma(D(G(z))))] = -E softplus(D(G(z)))``.

    Its gradient ``-sigma(l)`` vanishes where D confidently rejects the fakes (``l -> -inf``),
    which is why :func:`modified_generator_loss` exists. TF-GAN's version adds the constant
    ``-softplus(-1)`` (it evaluates the whole D loss with real logits of 1); gradients are equal.
    """
    return _weighted_reduce(-jax.nn.softplus(_float32(fake_logits)), weights, reduction)


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
    return _weighted_reduce(jax.nn.softplus(-_float32(fake_logits)), weights, reduction)


# --------------------------------------------------------------------------------------------------
# Wasserstein and hinge (Arjovsky et al. 2017; Lim & Ye 2017, Miyato et al. 2018)
# --------------------------------------------------------------------------------------------------


def wasserstein_discriminator_loss(
    real_logits, fake_logits, *, weights=1.0, real_weights=1.0, fake_weights=1.0, reduction="mean"
):
    """The WGAN critic loss ``L_D = E_z[D(G(z))] - E_x[D(x)]`` (pair it with a Lipschitz penalty)."""
    real_logits, fake_logits = _float32(real_logits), _float32(fake_logits)
    return _two_terms(-real_logits, fake_logits, weights, real_weights, fake_weights, reduction)


def wasserstein_generator_loss(fake_logits, *, weights=1.0, reduction="mean"):
    """The WGAN generator loss ``L_G = -E_z[D(G(z))]``."""
    return _weighted_reduce(-_float32(fake_logits), weights, reduction)


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
    real_logits, fake_logits = _float32(real_logits), _float32(fake_logits)
    real_terms = jax.nn.relu(real_hinge - real_logits)
    fake_terms = jax.nn.relu(fake_hinge + fake_logits)
    return _two_terms(real_terms, fake_terms, weights, real_weights, fake_weights, reduction)


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
    real_logits, fake_logits = _float32(real_logits), _float32(fake_logits)
    real_terms = 0.5 * jnp.square(real_logits - real_label)
    fake_terms = 0.5 * jnp.square(fake_logits - fake_label)
    return _two_terms(real_terms, fake_terms, weights, real_weights, fake_weights, reduction)


def least_squares_generator_loss(fake_logits, *, real_label=1.0, weights=1.0, reduction="mean"):
    """The LSGAN G loss ``L_G = 1/2 E_z[(D(G(z)) - c)^2]``, ``c = real_label = 1``.

    TF-GAN's 1/2 factor. The CycleGAN reference's G uses ``MSELoss(D(G(x)), 1)`` without the 1/2:
    its adversarial term is ``2 *`` this loss (per translator).
    """
    return _weighted_reduce(0.5 * jnp.square(_float32(fake_logits) - real_label), weights, reduction)


# --------------------------------------------------------------------------------------------------
# Relativistic average GAN (Jolicoeur-Martineau 2018, RaSGAN)
# --------------------------------------------------------------------------------------------------


def _relativistic_terms(real_logits, fake_logits):
    """``r - mean(f)`` and ``f - mean(r)``, the means taken unweighted over all elements."""
    real_logits, fake_logits = _float32(real_logits), _float32(fake_logits)
    return real_logits - jnp.mean(fake_logits), fake_logits - jnp.mean(real_logits)


def relativistic_discriminator_loss(real_logits, fake_logits, *, weights=1.0, reduction="mean"):
    """The relativistic average D loss (RaSGAN), with ``r = D(x)``, ``f = D(G(z))``:

    ``L_D = -E_x[log sigma(r - E f)] - E_z[log(1 - sigma(f - E r))]
          = E_x softplus(-(r - E f)) + E_z softplus(f - E r)``

    ``E f`` and ``E r`` are plain means over the whole batch; ``weights`` apply to both terms.
    """
    rel_real, rel_fake = _relativistic_terms(real_logits, fake_logits)
    return _two_terms(
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
    return _two_terms(
        jax.nn.softplus(rel_real), jax.nn.softplus(-rel_fake), weights, 1.0, 1.0, reduction
    )


relativistic_generator_loss.needs_real_logits = True


# --------------------------------------------------------------------------------------------------
# Image-to-image translation losses (CycleGAN, Zhu et al. 2017)
# --------------------------------------------------------------------------------------------------


def _mean_abs_error(x, x_other, weights, reduction) -> jax.Array:
    x, x_other = _float32(x), _float32(x_other)
    if x.shape != x_other.shape:
        raise ValueError(f"shapes differ: {x.shape} vs {x_other.shape}")
    return _weighted_reduce(jnp.abs(x - x_other), weights, reduction)


def cycle_consistency_loss(
    data_x, reconstructed_data_x, data_y, reconstructed_data_y, *, weights=1.0, reduction="mean"
):
    """The L1 cycle-consistency loss, averaged over both directions as in TF-GAN:

    ``L_cyc = (mean|x - G(F(x))| + mean|y - F(G(y))|) / 2``

    with the L1 error averaged over every pixel (so the weight does not depend on image size).
    The CycleGAN reference *adds* the two directions, ``lambda_A L1_x + lambda_B L1_y``: with
    ``lambda_A = lambda_B = lambda`` its cycle term is ``2 * lambda *`` this loss.
    """
    return 0.5 * (
        _mean_abs_error(data_x, reconstructed_data_x, weights, reduction)
        + _mean_abs_error(data_y, reconstructed_data_y, weights, reduction)
    )


def identity_loss(
    data_x, mapped_x, data_y=None, mapped_y=None, *, weights=1.0, reduction="mean"
):
    """The L1 identity loss: each translator should leave images of its target domain unchanged.

    ``L_idt = (mean|x - F(x)| + mean|y - G(y)|) / 2`` with ``G: X -> Y`` and ``F: Y -> X``,
    i.e. ``mapped_x = F(x)`` and ``mapped_y = G(y)``; with one pair only, ``mean|x - F(x)|``.
    Averaged like :func:`cycle_consistency_loss`. The CycleGAN reference uses
    ``lambda_idt * (lambda_B L1(G(y), y) + lambda_A L1(F(x), x))``; with equal lambdas that is
    ``2 * lambda_idt * lambda *`` this loss (``10 *`` with its defaults 0.5 and 10).
    """
    loss_x = _mean_abs_error(data_x, mapped_x, weights, reduction)
    if data_y is None and mapped_y is None:
        return loss_x
    if data_y is None or mapped_y is None:
        raise ValueError("identity_loss needs both data_y and mapped_y, or neither")
    return 0.5 * (loss_x + _mean_abs_error(data_y, mapped_y, weights, reduction))


# --------------------------------------------------------------------------------------------------
# Objectives registry
# --------------------------------------------------------------------------------------------------


class Objective(NamedTuple):
    """A GAN objective: ``d_loss(real_logits, fake_logits)`` and ``g_loss(fake_logits, real_logits)``.

    ``g_loss`` always accepts ``real_logits`` (``None`` is allowed unless
    ``generator_needs_real``); only the relativistic objective uses it.
    """

    d_loss: Callable
    g_loss: Callable

    @property
    def generator_needs_real(self) -> bool:
        return bool(getattr(self.g_loss, "needs_real_logits", False))


def _g_ignoring_real(g_loss: Callable) -> Callable:
    def wrapped(fake_logits, real_logits=None, **kw):
        del real_logits
        return g_loss(fake_logits, **kw)

    wrapped.__name__ = g_loss.__name__
    wrapped.__doc__ = g_loss.__doc__
    return wrapped


_OBJECTIVES: dict[str, tuple[Callable, Callable]] = {
    "softmax": (softmax_discriminator_loss, softmax_generator_loss),
    "minimax": (minimax_discriminator_loss, minimax_generator_loss),
    "nonsaturating": (modified_discriminator_loss, modified_generator_loss),
    "wasserstein": (wasserstein_discriminator_loss, wasserstein_generator_loss),
    "hinge": (wasserstein_hinge_discriminator_loss, wasserstein_hinge_generator_loss),
    "least_squares": (least_squares_discriminator_loss, least_squares_generator_loss),
    "relativistic": (relativistic_discriminator_loss, relativistic_generator_loss),
}


def objective_names() -> tuple[str, ...]:
    """Names accepted by :func:`get_objective`."""
    return tuple(sorted(_OBJECTIVES))


def get_objective(name: str | Objective) -> Objective:
    """Returns the ``(d_loss, g_loss)`` pair registered under ``name`` (an Objective passes through).

    ``"softmax"``: the lecture's 2-logit loss; ``"minimax"``: saturating sigmoid GAN;
    ``"nonsaturating"``: sigmoid GAN with ``-log D(G(z))``; ``"wasserstein"``; ``"hinge"``;
    ``"least_squares"`` (LSGAN, labels 1/0); ``"relativistic"`` (RaSGAN, G needs real logits).
    For other options build one: ``Objective(functools.partial(d_loss, ...), g_loss)``.
    """
    if isinstance(name, Objective):
        return name
    if name not in _OBJECTIVES:
        raise ValueError(f"unknown loss {name!r}; known losses: {', '.join(objective_names())}")
    d_loss, g_loss = _OBJECTIVES[name]
    if not getattr(g_loss, "needs_real_logits", False):
        g_loss = _g_ignoring_real(g_loss)
    return Objective(d_loss, g_loss)


# Penalties live in their own module; re-exported so that `jaxgan.losses` is the one place to look.
from jaxgan.penalties import (  # noqa: E402
    dragan_penalty,
    make_penalty,
    penalty_names,
    r1_penalty,
    r2_penalty,
    wasserstein_gradient_penalty,
)
