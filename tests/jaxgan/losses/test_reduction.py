"""The reductions' edge cases, as ``jaxgan.losses`` documents them: TF-GAN's
``"sum_by_nonzero_weights"`` with one or no non-zero weight, and float32 results whatever JAX's
default float type."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import losses as L
from tests.jaxgan.losses.loss_references import REDUCTIONS

LOGITS = jnp.array([[-1.5], [0.25], [2.0]], jnp.float32)


def test_sum_by_nonzero_weights_is_zero_when_every_weight_is_zero_whatever_the_losses():
    """Zero weights mask examples out, an infinite loss included ("0 when all weights are 0")."""
    losses = jnp.array([[np.inf], [1.0], [2.0]], jnp.float32)
    assert float(L.wasserstein_generator_loss(losses, weights=jnp.zeros(3), reduction="sum_by_nonzero_weights")) == 0.0


def test_sum_by_nonzero_weights_with_one_nonzero_weight_is_that_examples_weighted_loss():
    weights = jnp.array([0.0, 3.0, 0.0], jnp.float32)
    got = L.wasserstein_generator_loss(LOGITS, weights=weights, reduction="sum_by_nonzero_weights")
    np.testing.assert_allclose(float(got), 3.0 * -0.25, rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_losses_are_float32_even_with_64_bit_types_enabled(reduction):
    weights = jnp.array([1.0, 0.0, 2.0], jnp.float32)
    with jax.enable_x64(True):
        for loss in (L.modified_generator_loss(LOGITS, weights=weights, reduction=reduction),
                     L.wasserstein_discriminator_loss(LOGITS, LOGITS, weights=weights, reduction=reduction)):
            assert loss.dtype == jnp.float32
