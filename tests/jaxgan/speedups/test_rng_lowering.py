"""The straight-line Threefry lowering on CPU: the same bits as JAX's loop, and no loop."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.speedups.rng_lowering import unroll_threefry_on_cpu


def draws(key):
    """A key split and two draws: what a training step does with its key."""
    key, sub = jax.random.split(key)
    return key, jax.random.normal(sub, (32, 2)), jax.random.uniform(key, (5,))


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="the lowering is registered for CPU")
def test_unrolled_threefry_gives_the_same_bits_without_a_loop():
    key = jax.random.PRNGKey(3)
    try:
        assert unroll_threefry_on_cpu(False)  # JAX's default on CPU: a 5-trip loop
        rolled_hlo = jax.jit(draws).lower(key).as_text()
        rolled = jax.jit(lambda k: draws(k))(key)  # a new function: lowered now, with the loop
        assert unroll_threefry_on_cpu(True)
        unrolled_hlo = jax.jit(lambda k: draws(k)).lower(key).as_text()
        unrolled = jax.jit(lambda k: draws(k))(key)
    finally:
        unroll_threefry_on_cpu(False)
    assert "stablehlo.while" in rolled_hlo and "stablehlo.while" not in unrolled_hlo
    for a, b in zip(rolled, unrolled):  # raw uint32 keys and float draws, bit for bit
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert float(jnp.std(unrolled[1])) > 0.5  # real draws, not zeros
