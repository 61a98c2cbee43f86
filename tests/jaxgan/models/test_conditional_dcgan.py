"""The conditional DCGAN's networks: G passes its labels on and uses them (both conditionings), the
projection head against a float64 NumPy computation, the ACGAN head's outputs (8x8, tiny widths)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.losses import ACGANOutput
from jaxgan.models.conditional_dcgan import (
    ConditionalDCGANDiscriminator,
    ConditionalDCGANGenerator,
    conditional_dcgan_networks,
)

K = 3


@pytest.mark.parametrize("conditioning", ["concat", "batchnorm"])
def test_generator_passes_its_labels_on_and_each_class_gives_other_images(conditioning):
    g = ConditionalDCGANGenerator(K, image_size=8, channels=1, features=2, conditioning=conditioning)
    z = jax.random.normal(jax.random.PRNGKey(0), (4, 6))
    y = jnp.asarray([0, 1, 2, 1], jnp.int32)
    variables = g.init(jax.random.PRNGKey(1), (z, y), False)
    if conditioning == "batchnorm":  # the classes' scales differ from the start, offsets start at 0
        scales = np.asarray(variables["params"]["project_bn"]["scale"]["embedding"])
        assert scales.shape == (K, 2) and not np.array_equal(scales[0], scales[1])
    (x, labels), _ = g.apply(variables, (z, y), True, mutable=["batch_stats"])
    assert x.shape == (4, 8, 8, 1) and x.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(labels), np.asarray(y))
    (x_other, _), _ = g.apply(variables, (z, (y + 1) % K), True, mutable=["batch_stats"])
    assert np.all(np.abs(np.asarray(x_other - x)).reshape(4, -1).max(axis=1) > 0)  # every image changes


def test_projection_logit_is_psi_of_phi_plus_the_class_embedding_dot_phi():
    """``logit = <w, phi(x)> + <E[y], phi(x)>``, computed in float64 NumPy from D's feature map."""
    d = ConditionalDCGANDiscriminator(K, "projection", image_size=8, features=2)
    x = jax.random.normal(jax.random.PRNGKey(0), (5, 8, 8, 1))
    y = jnp.asarray([0, 1, 2, 1, 0], jnp.int32)
    variables = d.init(jax.random.PRNGKey(1), (x, y), False)
    logits, inter = d.apply(variables, (x, y), False, mutable=["intermediates"])
    (phi,) = inter["intermediates"]["features"]
    phi = np.asarray(phi, np.float64).reshape(5, -1)
    w = np.asarray(variables["params"]["logit"], np.float64).reshape(-1)
    embed = np.asarray(variables["params"]["embed"]["embedding"], np.float64)
    expected = phi @ w + np.einsum("nf,nf->n", phi, embed[np.asarray(y)])
    assert logits.shape == (5,)
    np.testing.assert_allclose(np.asarray(logits, np.float64), expected, rtol=1e-5, atol=1e-6)


def test_acgan_head_returns_the_logit_class_logits_and_the_input_labels():
    g, d = conditional_dcgan_networks(K, 8, 1, head="acgan", g_features=2, d_features=2)
    x = jax.random.normal(jax.random.PRNGKey(0), (4, 8, 8, 1))
    y = jnp.asarray([2, 0, 1, 1], jnp.int32)
    params, stats = d.init(jax.random.PRNGKey(1), (x, y))
    out, _ = d.apply(params, stats, (x, y), False)
    assert isinstance(out, ACGANOutput)
    assert out.logit.shape == (4,) and out.class_logits.shape == (4, K)
    np.testing.assert_array_equal(np.asarray(out.labels), np.asarray(y))
    same_images_other_labels, _ = d.apply(params, stats, (x, (y + 1) % K), False)
    np.testing.assert_array_equal(np.asarray(same_images_other_labels.logit), np.asarray(out.logit))
    with pytest.raises(ValueError, match="head must be one of"):
        ConditionalDCGANDiscriminator(K, "hinge", image_size=8, features=2).init(jax.random.PRNGKey(0), (x, y))
