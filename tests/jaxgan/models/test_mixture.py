"""PacGAN's networks for the mixtures (``jaxgan.models.mixture``)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest


def test_maxout_mlp_takes_the_max_over_each_units_pieces():
    from jaxgan.models.mixture import MaxoutMLP

    net = MaxoutMLP(width=3, depth=1, pieces=2, out=1)
    x = jax.random.normal(jax.random.PRNGKey(0), (5, 2))
    params = net.init(jax.random.PRNGKey(1), x)["params"]
    w, b = params["Dense_0"]["kernel"], params["Dense_0"]["bias"]
    h = (x @ w + b).reshape(5, 3, 2)  # unit j's pieces are columns 2j and 2j + 1
    expected = jnp.max(h, axis=-1) @ params["Dense_1"]["kernel"] + params["Dense_1"]["bias"]
    np.testing.assert_allclose(net.apply({"params": params}, x), expected, rtol=1e-5, atol=1e-6)
    assert float(jnp.std(w)) == pytest.approx(0.02, rel=0.5)  # N(0, 0.02^2) init


def test_batchnorm_mlp_uses_batch_statistics_in_training_and_running_ones_in_evaluation():
    import jaxgan
    from jaxgan.models.mixture import BatchNormMLP

    g = jaxgan.from_linen(BatchNormMLP(width=4, depth=2, out=2))
    z = jax.random.normal(jax.random.PRNGKey(0), (16, 2))
    params, stats = g.init(jax.random.PRNGKey(1), z)
    assert "batch_stats" in stats
    y_train, new_stats = g.apply(params, stats, z, True)
    mean0 = new_stats["batch_stats"]["BatchNorm_0"]["mean"]
    # running mean <- 0.95 * 0 + 0.05 * batch mean of the first layer's pre-activations
    pre = z @ params["Dense_0"]["kernel"]
    np.testing.assert_allclose(mean0, 0.05 * pre.mean(0), rtol=1e-4, atol=1e-7)
    y_eval, same = g.apply(params, stats, z, False)
    assert same is stats
    assert not np.allclose(y_train, y_eval)
    # in training mode one example's output depends on the others (batch statistics)
    y_half, _ = g.apply(params, stats, z[:8], True)
    assert not np.allclose(y_half, y_train[:8])


def test_scaled_mlp_is_an_mlp_in_normalised_units():
    from jaxgan.models.mixture import ScaledMLP
    from jaxgan.models.mlp import MLP

    net = ScaledMLP((6, 5), out=2, activation="relu", input_scale=4.0, output_scale=3.0)
    x = jax.random.normal(jax.random.PRNGKey(0), (7, 2)) * 4
    params = net.init(jax.random.PRNGKey(1), x)["params"]
    inner = MLP(hidden=(6, 5), out=2, activation="relu")
    expected = 3.0 * inner.apply({"params": params["MLP_0"]}, x / 4.0)
    np.testing.assert_allclose(net.apply({"params": params}, x), expected, rtol=1e-6)
