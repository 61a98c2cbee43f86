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
Gradient penalties live in :mod:`jaxgan.losses.penalties` and are re-exported here.

Where things live (every name is re-exported here, so ``jaxgan.losses`` is the one place to import
from):

* :mod:`jaxgan.losses.reduction` - the weighting and reduction above (``REDUCTIONS``);
* :mod:`jaxgan.losses.adversarial` - the D and G losses of each family: softmax, minimax and
  non-saturating, Wasserstein, hinge, least squares, relativistic;
* :mod:`jaxgan.losses.translation` - CycleGAN's cycle-consistency and identity losses;
* :mod:`jaxgan.losses.acgan` - the auxiliary classifier's losses (ACGAN), and
  :func:`acgan_objective` here, which adds them to an adversarial objective;
* :mod:`jaxgan.losses.penalties` - the gradient penalties;
* this module - the objective registry (``Objective``, ``get_objective``, ``objective_names``).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax

from jaxgan.losses import acgan, adversarial, penalties, translation
from jaxgan.losses.acgan import ACGANOutput, acgan_discriminator_loss, acgan_generator_loss  # noqa: F401
from jaxgan.losses.adversarial import (  # noqa: F401 - re-exported, see __all__
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    minimax_discriminator_loss,
    minimax_generator_loss,
    modified_discriminator_loss,
    modified_generator_loss,
    relativistic_discriminator_loss,
    relativistic_generator_loss,
    softmax_discriminator_loss,
    softmax_generator_loss,
    wasserstein_discriminator_loss,
    wasserstein_generator_loss,
    wasserstein_hinge_discriminator_loss,
    wasserstein_hinge_generator_loss,
)
from jaxgan.losses.reduction import REDUCTIONS  # noqa: F401
# Penalties live in their own module; re-exported so that `jaxgan.losses` is the one place to look.
from jaxgan.losses.penalties import (  # noqa: F401 - re-exported, see __all__
    dragan_penalty,
    make_penalty,
    penalty_names,
    r1_penalty,
    r2_penalty,
    wasserstein_gradient_penalty,
)
from jaxgan.losses.translation import cycle_consistency_loss, identity_loss  # noqa: F401

# The registry below, then every loss and penalty of the modules this one gathers.
__all__ = [
    "Objective",
    "acgan_objective",
    "get_objective",
    "objective_names",
    *acgan.__all__,
    *adversarial.__all__,
    *translation.__all__,
    *penalties.__all__,
]


# --------------------------------------------------------------------------------------------------
# Objectives registry
# --------------------------------------------------------------------------------------------------


class Objective(NamedTuple):
    """A GAN objective: ``d_loss(real_logits, fake_logits)`` and ``g_loss(fake_logits, real_logits)``.

    ``g_loss`` always accepts ``real_logits`` (``None`` is allowed unless
    ``generator_needs_real``); only the relativistic objective uses it. ``d_output`` says what D's
    output is: ``"probability"`` (logits of the probability that the input is real: softmax,
    minimax, non-saturating) or ``"score"`` (a critic's score: Wasserstein, hinge, least squares,
    relativistic), which decides the metrics the steps report (``d_real`` or ``d_real_score``).
    """

    d_loss: Callable
    g_loss: Callable
    d_output: str = "probability"

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


# Objectives whose D is a critic: its output is a score, not the logit of a probability.
_SCORE_OBJECTIVES = ("wasserstein", "hinge", "least_squares", "relativistic")

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
    return Objective(d_loss, g_loss, "score" if name in _SCORE_OBJECTIVES else "probability")



def acgan_objective(adversarial: str | Objective = "nonsaturating", class_weight: float = 1.0) -> Objective:
    """An ACGAN objective: an adversarial objective on D's logit plus the auxiliary classifier's losses.

    For a D whose output is an :class:`ACGANOutput` ``(logit, class_logits, labels)``:

    ``d_loss = adv.d_loss(l_real, l_fake) + w acgan_discriminator_loss(c_real, c_fake, y_real, y_fake)``,
    ``g_loss = adv.g_loss(l_fake [, l_real]) + w acgan_generator_loss(c_fake, y_fake)``.

    Args:
      adversarial: the adversarial objective, a name of :func:`get_objective` or an Objective.
      class_weight: ``w``, the classification losses' weight.

    Returns:
      The :class:`Objective` (its ``d_output`` is the adversarial one's).
    """
    adv = get_objective(adversarial)

    def one_hot(out: ACGANOutput):
        return jax.nn.one_hot(out.labels, out.class_logits.shape[-1])

    def d_loss(real: ACGANOutput, fake: ACGANOutput):
        classes = acgan_discriminator_loss(real.class_logits, fake.class_logits, one_hot(real),
                                           generated_one_hot_labels=one_hot(fake))
        return adv.d_loss(real.logit, fake.logit) + class_weight * classes

    def g_loss(fake: ACGANOutput, real=None):
        real_logit = None if real is None else real.logit
        classes = acgan_generator_loss(fake.class_logits, one_hot(fake))
        return adv.g_loss(fake.logit, real_logit) + class_weight * classes

    g_loss.needs_real_logits = adv.generator_needs_real
    return Objective(d_loss, g_loss, adv.d_output)
