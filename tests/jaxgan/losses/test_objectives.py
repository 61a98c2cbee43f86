"""The objectives by name (``jaxgan.losses.get_objective``): their G losses take the same options as
the functions they are made of, keep their names and documentation, and take D's output on real data
only where it is used."""

import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import losses as L

FAKE = jnp.array([[-1.5], [0.25], [2.0]], jnp.float32)
FAKE_TWO_CLASS = jnp.array([[0.3, -1.0], [1.2, 0.4], [-0.7, 2.1]], jnp.float32)
WEIGHTS = jnp.array([1.0, 0.0, 3.0], jnp.float32)


@pytest.mark.parametrize(
    "name, g_loss, fake",
    [("nonsaturating", L.modified_generator_loss, FAKE), ("wasserstein", L.wasserstein_generator_loss, FAKE),
     ("softmax", L.softmax_generator_loss, FAKE_TWO_CLASS)],
)
def test_an_objectives_g_loss_passes_its_options_on(name, g_loss, fake):
    objective = L.get_objective(name)
    for options in ({"reduction": "sum"}, {"weights": WEIGHTS}, {"weights": WEIGHTS, "reduction": "none"}):
        np.testing.assert_array_equal(objective.g_loss(fake, None, **options), g_loss(fake, **options))
    assert not np.allclose(objective.g_loss(fake, reduction="sum"), objective.g_loss(fake))  # options matter


@pytest.mark.parametrize("name", L.objective_names())
def test_an_objectives_g_loss_keeps_its_functions_name_and_documentation(name):
    g_loss = L.get_objective(name).g_loss
    original = {"nonsaturating": L.modified_generator_loss, "hinge": L.wasserstein_hinge_generator_loss}.get(
        name, getattr(L, f"{name}_generator_loss", None))
    assert g_loss.__name__ == original.__name__
    assert g_loss.__doc__ == original.__doc__ and g_loss.__doc__


@pytest.mark.parametrize(
    "name, d_output",
    [("softmax", "probability"), ("minimax", "probability"), ("nonsaturating", "probability"),
     ("wasserstein", "score"), ("hinge", "score"), ("least_squares", "score"), ("relativistic", "score")],
)
def test_an_objective_says_whether_ds_output_is_a_probability_or_a_score(name, d_output):
    """The steps name D's metrics by it (``d_real`` for a probability, ``d_real_score`` for a score)."""
    assert L.get_objective(name).d_output == d_output


def test_every_objective_says_what_ds_output_is():
    assert set(L.objective_names()) == {"softmax", "minimax", "nonsaturating", "wasserstein", "hinge",
                                        "least_squares", "relativistic"}
