"""Image-to-image translation losses (CycleGAN, Zhu et al. 2017): L1 cycle consistency and identity.

The weight and reduction conventions are stated in :mod:`jaxgan.losses`' docstring;
:mod:`jaxgan.losses` re-exports both losses.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxgan.losses.reduction import as_float32, weighted_reduce

__all__ = ["cycle_consistency_loss", "identity_loss"]


# --------------------------------------------------------------------------------------------------
# Image-to-image translation losses (CycleGAN, Zhu et al. 2017)
# --------------------------------------------------------------------------------------------------


def _mean_abs_error(x, x_other, weights, reduction) -> jax.Array:
    x, x_other = as_float32(x), as_float32(x_other)
    if x.shape != x_other.shape:
        raise ValueError(f"shapes differ: {x.shape} vs {x_other.shape}")
    return weighted_reduce(jnp.abs(x - x_other), weights, reduction)


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
