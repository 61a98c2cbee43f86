"""With ``n_critic > 1`` every critic step sees its own batch and its own noise.

``build_train_step`` documents: for D step ``j`` of iteration ``step``,
``real = batch_fn(data, key, step * n_critic + j)`` and fresh ``z``; the G step then reuses the
last D step's ``z`` (``reuse_noise``) or draws its own. ``contiguous_batches`` documents batch
``index`` as ``data[begin : begin + batch]`` with ``begin = batch * index % n``.

What each step saw is read off the gradients. D is a linear critic ``D(x) = x W + b`` under the
Wasserstein loss, so ``dL/dW = mean(fake) - mean(real)``; its "optimizer" records every gradient
(and leaves the parameters alone). With G's parameters set to zero the fake batch is 0 and D's
gradient is minus the mean of its real batch; with G the identity and zero data it is the mean of
its noise.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from jaxgan.data import contiguous_batches, random_batches
from jaxgan.models.mlp import LinearGenerator

N_CRITIC = 3
ITERATIONS = 2
BATCH = 4
ROWS = 24  # six batches: the two iterations' six D steps each get a different one


def gradient_history(slots: int) -> optax.GradientTransformation:
    """Leaves the parameters unchanged and records the gradient of each call, in order."""

    def init(params):
        history = jax.tree.map(lambda p: jnp.zeros((slots, *p.shape), p.dtype), params)
        return {"count": jnp.zeros((), jnp.int32), "grads": history}

    def update(grads, state, params=None):
        history = jax.tree.map(lambda h, g: h.at[state["count"]].set(g), state["grads"], grads)
        return jax.tree.map(jnp.zeros_like, grads), {"count": state["count"] + 1, "grads": history}

    return optax.GradientTransformation(init, update)


def make_gan(reuse_noise=True) -> jaxgan.GAN:
    return jaxgan.GAN(
        generator=jaxgan.from_linen(LinearGenerator(2)),
        discriminator=jaxgan.from_linen(nn.Dense(1)),
        g_optimizer=gradient_history(ITERATIONS),
        d_optimizer=gradient_history(N_CRITIC * ITERATIONS),
        latent_shape=(2,),
        objective="wasserstein",
        n_critic=N_CRITIC,
        reuse_noise=reuse_noise,
    )


@functools.lru_cache(maxsize=None)
def gan_and_init(reuse_noise: bool):
    """The GAN and its compiled ``init_state`` (built once per variant)."""
    gan = make_gan(reuse_noise)
    return gan, jax.jit(lambda key: jaxgan.init_state(gan, key))


@functools.lru_cache(maxsize=None)
def trainer(reuse_noise: bool, batches: str):
    """The GAN, its compiled ``init_state`` and its compiled train step (built once per variant)."""
    gan, init = gan_and_init(reuse_noise)
    batch_fn = {"contiguous": contiguous_batches, "random": random_batches}[batches](BATCH)
    return gan, init, jax.jit(jaxgan.build_train_step(gan, batch_fn))


def initial_state(init, g_kernel):
    """The GAN's initial state with G set to ``G(z) = z g_kernel`` (no bias)."""
    state = init(jax.random.PRNGKey(0))
    kernel = jnp.asarray(g_kernel, jnp.float32)
    params = {"linear": {"kernel": kernel, "bias": jnp.zeros(2, jnp.float32)}}
    return state._replace(g=state.g._replace(params=params))


def train(step, state, data):
    """``ITERATIONS`` iterations; returns the final state (D's and G's recorded gradients in it)."""
    for _ in range(ITERATIONS):
        state, _ = step(state, data)
    assert int(state.step) == ITERATIONS
    assert int(state.d.opt_state["count"]) == N_CRITIC * ITERATIONS
    return state


def d_kernel_gradients(state) -> np.ndarray:
    """``dL/dW`` of every D step, shape ``(D steps, features)``."""
    return np.asarray(state.d.opt_state["grads"]["kernel"])[..., 0]


def test_each_critic_step_gets_the_documented_contiguous_batch():
    _, init, step = trainer(True, "contiguous")
    state = initial_state(init, np.zeros((2, 2)))  # fake = 0: D's gradient is -mean(real)
    rows = np.arange(ROWS, dtype=np.float32)
    data = jnp.asarray(np.stack([rows, -2.0 * rows], axis=1))  # row r = (r, -2r)
    state = train(step, state, data)

    real_means = -d_kernel_gradients(state)
    expected = []
    for step in range(ITERATIONS):
        for j in range(N_CRITIC):
            index = step * N_CRITIC + j
            begin = BATCH * index % ROWS
            mean_row = begin + (BATCH - 1) / 2  # mean of rows begin .. begin + BATCH - 1
            expected.append([mean_row, -2.0 * mean_row])
    np.testing.assert_allclose(real_means, np.asarray(expected), rtol=1e-6)


def test_each_critic_step_draws_its_own_random_batch():
    _, init, step = trainer(True, "random")
    state = initial_state(init, np.zeros((2, 2)))
    rows = np.arange(ROWS, dtype=np.float32)
    data = jnp.asarray(np.stack([rows, rows**2], axis=1))  # (sum r, sum r^2) tells batches apart
    state = train(step, state, data)

    real_means = -d_kernel_gradients(state)
    assert len({tuple(m) for m in real_means.round(4)}) == N_CRITIC * ITERATIONS
    # Every batch is made of the data's rows: its mean of r^2 is the mean of squares of its r.
    assert np.all(real_means[:, 1] >= real_means[:, 0] ** 2 - 1e-3)


@pytest.mark.parametrize("reuse_noise", [True, False])
def test_each_critic_step_draws_fresh_noise_and_g_uses_the_documented_noise(reuse_noise):
    _, init, step = trainer(reuse_noise, "contiguous")
    state = initial_state(init, np.eye(2))  # fake = z
    data = jnp.zeros((ROWS, 2), jnp.float32)  # real = 0: D's gradient is mean(z)
    state = train(step, state, data)

    d_noise = d_kernel_gradients(state).reshape(ITERATIONS, N_CRITIC, 2)
    assert len({tuple(m) for m in d_noise.reshape(-1, 2).round(6)}) == N_CRITIC * ITERATIONS

    # G's loss -mean(D(G(z))) = -mean(z K W) - b has dL/dK = -outer(mean z, W): it shows G's noise.
    w = np.asarray(state.d.params["kernel"])[:, 0]
    g_grads = np.asarray(state.g.opt_state["grads"]["linear"]["kernel"])
    g_noise = -(g_grads @ w) / (w @ w)
    for step in range(ITERATIONS):
        last = d_noise[step, -1]
        if reuse_noise:  # the lecture's "same Z": the G step uses the last D step's noise
            np.testing.assert_allclose(g_noise[step], last, rtol=1e-5, atol=1e-6)
        else:  # fresh noise, different from every D step's
            assert np.min(np.abs(d_noise[step] - g_noise[step]).max(axis=1)) > 1e-3
