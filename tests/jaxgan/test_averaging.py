"""``jaxgan.averaging``: the EMA of the parameters kept in the optimizer state."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan.averaging import ParamsEMAState, params_ema, with_params_ema


def run(optimizer, params, grads_seq):
    state, iterates = optimizer.init(params), []
    for g in grads_seq:
        updates, state = optimizer.update(g, state, params)
        params = optax.apply_updates(params, updates)
        iterates.append(params)
    return params, state, iterates


def test_updates_are_the_inner_optimizers_and_the_average_is_the_debiased_weighted_mean():
    decay = 0.9
    params = {"w": jnp.array([1.0, -2.0]), "b": jnp.array(0.5)}
    grads_seq = [jax.tree.map(lambda p, i=i: jnp.sin(p + i), params) for i in range(7)]
    final_plain, _, _ = run(optax.adam(0.1), params, grads_seq)
    final, state, iterates = run(with_params_ema(optax.adam(0.1), decay), params, grads_seq)
    for k in params:  # same trajectory: the wrapper does not touch the updates
        np.testing.assert_array_equal(final[k], final_plain[k])
    t = len(iterates)
    weights = np.array([(1 - decay) * decay ** (t - 1 - i) for i in range(t)]) / (1 - decay**t)
    assert abs(weights.sum() - 1) < 1e-12
    average = params_ema(state, decay)
    for k in params:
        expected = sum(w * np.asarray(p[k], np.float64) for w, p in zip(weights, iterates))
        np.testing.assert_allclose(average[k], expected, rtol=1e-6, atol=1e-6)
        assert not np.allclose(average[k], final[k])  # an average, not the last iterate
    assert isinstance(state, ParamsEMAState) and int(state.count) == t


def test_first_average_is_the_first_iterate_and_errors():
    params = {"w": jnp.array([1.0, 2.0])}
    _, state, iterates = run(with_params_ema(optax.sgd(0.5), 0.999), params, [{"w": jnp.array([1.0, -1.0])}])
    np.testing.assert_allclose(params_ema(state, 0.999)["w"], iterates[0]["w"], rtol=1e-5)
    with pytest.raises(ValueError, match="no update yet"):
        params_ema(with_params_ema(optax.sgd(0.5), 0.9).init(params), 0.9)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        with_params_ema(optax.sgd(0.5), 1.0)
    with pytest.raises(TypeError, match="no parameter average"):
        params_ema(optax.sgd(0.5).init(params), 0.9)
    with pytest.raises(ValueError, match="needs the parameters"):
        opt = with_params_ema(optax.sgd(0.5), 0.9)
        opt.update(params, opt.init(params))
