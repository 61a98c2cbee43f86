"""The divergence guard (``jaxgan.reliability.divergence``): it names the first non-finite step, metric,
run and parameter."""

import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.reliability import divergence as guard


def test_guard_names_the_first_nonfinite_step_metric_and_run():
    metrics = {
        "d_loss": np.array([[0.5, 0.4, 0.3, np.inf], [0.5, 0.4, np.nan, np.nan]], np.float32),
        "g_loss": np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, np.inf, 1.0]], np.float32),
        "count": np.array([[1, 2, 3, 4], [1, 2, 3, 4]]),
    }
    found = guard.first_nonfinite_metric(metrics, first_step=11)
    assert found.step == 13 and found.run == 1 and found.names == ("d_loss", "g_loss")
    with pytest.raises(guard.DivergenceError, match=r"at step 13 \(run 1 of 2\): d_loss = nan, g_loss = inf"):
        guard.check_metrics(metrics, first_step=11, runs=2)
    assert guard.first_nonfinite_metric({"d_loss": np.ones(4)}) is None
    one_run = guard.first_nonfinite_metric({"g_loss": np.array([1.0, -np.inf])}, first_step=1)
    assert one_run == guard.NonFinite(2, ("g_loss",), (-np.inf,), None)


def test_guard_names_the_nonfinite_parameter():
    state = {"g": {"kernel": jnp.ones((2, 2)), "bias": jnp.array([0.0, jnp.nan])}, "step": jnp.int32(3)}
    assert guard.nonfinite_leaves(state) == ["g.bias"]
    with pytest.raises(guard.DivergenceError, match=r"by step 7: non-finite values in g.bias") as err:
        guard.check_state(state, step=7)
    assert err.value.name == "g.bias" and err.value.step == 7
    guard.check_state({"g": jnp.ones(3), "key": jnp.zeros(2, jnp.uint32)}, step=1)  # finite: no error
