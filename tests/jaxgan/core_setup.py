"""The toy GAN of the core's tests (a linear G and a small MLP D, softmax objective) and tree comparisons."""

import jax
import numpy as np
import optax

import jaxgan
from jaxgan.models.mlp import MLP, LinearGenerator

BATCH = 32


def make_gan(lr=0.01, objective="softmax", **kw):
    return jaxgan.GAN(
        generator=jaxgan.from_linen(LinearGenerator(2)),
        discriminator=jaxgan.from_linen(MLP((20, 10), 2)),
        g_optimizer=optax.adam(lr),
        d_optimizer=optax.adam(lr),
        latent_shape=(2,),
        objective=objective,
        **kw,
    )


def fresh_state(gan, seed=0):
    return jaxgan.init_state(gan, jax.random.PRNGKey(seed))


def copy(tree):
    return jax.tree_util.tree_map(lambda x: np.array(x), tree)


def assert_trees_equal(a, b):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(la) == len(lb) and len(la) > 0
    for x, y in zip(la, lb):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def assert_trees_differ(a, b):
    assert any(
        not np.array_equal(np.asarray(x), np.asarray(y))
        for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b))
    )


def assert_trees_close(a, b, atol):
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=atol, rtol=0)
