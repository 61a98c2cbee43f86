"""A penalty is part of D's loss: D's gradient is the loss's gradient plus the penalty's, and the
penalty is evaluated where its documentation says (R1 on the real batch, R2 on the fake one,
WGAN-GP on interpolates between them).

D's "optimizer" here records the gradient it is given (and leaves the parameters alone), so the
tests read the exact gradient the library's D update computed. The critic is quadratic,
``D(x) = x.w + b + q |x|^2 / 2``: its input gradient ``w + q x`` differs from point to point, so a
penalty taken at the wrong points has another value and another gradient, and everything has a
closed form written below in NumPy (float64). Tolerance: ``1e-5`` of the largest element
(float32 sums of a few dozen terms).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from jaxgan.losses import make_penalty
from jaxgan.models.mlp import MLP, LinearGenerator

RTOL = 1e-5
BATCH = 8
WEIGHT = 3.0


class QuadraticCritic(nn.Module):
    """``D(x) = x.w + b + q |x|^2 / 2``, one output per example."""

    @nn.compact
    def __call__(self, x):
        w = self.param("w", nn.initializers.normal(1.0), (x.shape[-1],))
        b = self.param("b", nn.initializers.constant(0.3), ())
        q = self.param("q", nn.initializers.constant(0.7), ())
        return (x @ w + b + 0.5 * q * jnp.sum(x * x, axis=-1))[:, None]


def gradient_recorder() -> optax.GradientTransformation:
    """Leaves the parameters unchanged; its state is the last gradient it was given."""
    return optax.GradientTransformation(
        init=lambda params: jax.tree.map(jnp.zeros_like, params),
        update=lambda grads, state, params=None: (jax.tree.map(jnp.zeros_like, grads), grads),
    )


def quadratic_gan(penalty=None, discriminator=None, objective="wasserstein") -> jaxgan.GAN:
    return jaxgan.GAN(
        generator=jaxgan.from_linen(LinearGenerator(2)),
        discriminator=jaxgan.from_linen(discriminator or QuadraticCritic()),
        g_optimizer=optax.adam(1e-3),
        d_optimizer=gradient_recorder(),
        latent_shape=(2,),
        objective=objective,
        d_penalty=penalty,
    )


# --------------------------------------------------------------------------------------------------
# Closed forms for the quadratic critic (float64 NumPy)
# --------------------------------------------------------------------------------------------------


def wasserstein_gradient(p, real, fake):
    """``L = mean D(fake) - mean D(real)``: ``dL/dw = mean fake - mean real``, ``dL/db = 0``,
    ``dL/dq = (mean |fake|^2 - mean |real|^2) / 2``."""
    return {
        "w": fake.mean(0) - real.mean(0),
        "b": np.float64(0.0),
        "q": 0.5 * ((fake**2).sum(1).mean() - (real**2).sum(1).mean()),
    }


def squared_norm_penalty(p, x):
    """R1/R2 at points ``x``: ``P = W mean_i |g_i|^2`` with ``g_i = w + q x_i``;
    ``dP/dw = 2 W mean g_i``, ``dP/dq = 2 W mean g_i.x_i``."""
    g = p["w"] + p["q"] * x
    grads = {
        "w": 2 * WEIGHT * g.mean(0),
        "b": np.float64(0.0),
        "q": 2 * WEIGHT * (g * x).sum(1).mean(),
    }
    return WEIGHT * (g**2).sum(1).mean(), grads


def unit_norm_penalty(p, x):
    """WGAN-GP at points ``x``: ``P = W mean_i (|g_i| - 1)^2``; ``dP/dtheta = W mean 2 (|g_i| - 1) /
    |g_i| g_i.dg_i/dtheta`` with ``dg/dw = I``, ``dg/dq = x``."""
    g = p["w"] + p["q"] * x
    norm = np.sqrt((g**2).sum(1))
    c = 2 * (norm - 1) / norm
    grads = {
        "w": WEIGHT * (c[:, None] * g).mean(0),
        "b": np.float64(0.0),
        "q": WEIGHT * (c * (g * x).sum(1)).mean(),
    }
    return WEIGHT * ((norm - 1) ** 2).mean(), grads


def interpolates(real, fake, key):
    """``x_hat_i = x_i + a_i (fake_i - x_i)``, ``a_i ~ U[0, 1)`` one per example, from ``key``."""
    alpha = np.asarray(jax.random.uniform(key, (real.shape[0], 1), jnp.float32), np.float64)
    return real + alpha * (fake - real)


def expected_penalty(name, p, real, fake, key):
    if name == "r1":
        return squared_norm_penalty(p, real)
    if name == "r2":
        return squared_norm_penalty(p, fake)
    return unit_norm_penalty(p, interpolates(real, fake, key))


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def as64(tree):
    return {k: np.asarray(v, np.float64) for k, v in tree.items()}


def assert_close(actual, expected):
    for name in expected:
        e = np.asarray(expected[name], np.float64)
        scale = max(np.max(np.abs(np.asarray(v))) for v in expected.values())
        got = np.asarray(actual[name], np.float64)
        np.testing.assert_allclose(got, e, rtol=0, atol=RTOL * scale, err_msg=name)


def problem(seed=0):
    gan = quadratic_gan()
    state = jax.jit(lambda key: jaxgan.init_state(gan, key))(jax.random.PRNGKey(seed))
    rng = np.random.default_rng(seed)
    real = rng.normal(0.5, 1.0, (BATCH, 2)).astype(np.float32)
    z = rng.normal(size=(BATCH, 2)).astype(np.float32)
    return state, real, z


def generated(state, z):
    """``G(z) = z K + c`` in float64 (the linear G's fake batch)."""
    p = state.g.params["linear"]
    kernel, bias = np.asarray(p["kernel"], np.float64), np.asarray(p["bias"], np.float64)
    return np.asarray(z, np.float64) @ kernel + bias


# --------------------------------------------------------------------------------------------------
# The D step and GANLoss
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["r1", "r2", "gp"])
def test_d_step_gradient_is_the_loss_gradient_plus_the_penalty_gradient(name):
    penalty = make_penalty(name, WEIGHT)
    with_penalty = jaxgan.build_d_step(quadratic_gan(penalty))
    without = jaxgan.build_d_step(quadratic_gan())
    state, real, z = problem()

    @jax.jit
    def both(state):
        return with_penalty(state, real, z), without(state, real, z)

    (s_with, m_with), (s_without, _) = both(state)
    grad_with, grad_without = as64(s_with.d.opt_state), as64(s_without.d.opt_state)
    params, fake = as64(state.d.params), generated(state, z)
    # The D step draws its penalty's key from the state, as every random draw (``take_key``).
    key, penalty_key = jax.random.split(state.key)
    value, penalty_grad = expected_penalty(name, params, real.astype(np.float64), fake, penalty_key)

    assert_close(grad_without, wasserstein_gradient(params, real.astype(np.float64), fake))
    assert_close({k: grad_with[k] - grad_without[k] for k in grad_with}, penalty_grad)
    np.testing.assert_allclose(float(m_with["d_penalty"]), value, rtol=RTOL)
    np.testing.assert_array_equal(s_with.key, key)
    np.testing.assert_array_equal(s_without.key, state.key)  # no penalty, no draw


@pytest.mark.parametrize("name", ["r1", "r2", "gp"])
def test_gan_loss_d_update_adds_the_penalty_gradient(name):
    penalty = make_penalty(name, WEIGHT)
    gan = quadratic_gan()
    with_penalty = jaxgan.GANLoss(gan.discriminator, gan.d_optimizer, gan.objective, penalty)
    without = jaxgan.GANLoss(gan.discriminator, gan.d_optimizer, gan.objective)
    state, real, z = problem(1)
    fake = generated(state, z)
    key = jax.random.PRNGKey(7)

    @jax.jit
    def both(d_state, fake):
        return (
            with_penalty.update_discriminator(d_state, fake, real, key),
            without.update_discriminator(d_state, fake, real),
        )

    (d_with, m_with), (d_without, _) = both(state.d, fake.astype(np.float32))
    params = as64(state.d.params)
    fake = fake.astype(np.float32).astype(np.float64)
    value, penalty_grad = expected_penalty(name, params, real.astype(np.float64), fake, key)
    grad_with, grad_without = as64(d_with.opt_state), as64(d_without.opt_state)
    assert_close(grad_without, wasserstein_gradient(params, real.astype(np.float64), fake))
    assert_close({k: grad_with[k] - grad_without[k] for k in grad_with}, penalty_grad)
    np.testing.assert_allclose(float(m_with["d_penalty"]), value, rtol=RTOL)


def test_mlp_critic_gradient_adds_the_gradient_of_the_penalty_alone():
    """A non-linear D (the penalty's gradient is a second derivative through D): the D step's
    gradient with R1 minus the one without equals ``jax.grad`` of the penalty function by itself."""
    critic = MLP((16,), 1)
    penalty = make_penalty("r1", WEIGHT)
    gan_with = quadratic_gan(penalty, discriminator=critic, objective="nonsaturating")
    gan_without = quadratic_gan(discriminator=critic, objective="nonsaturating")
    state = jax.jit(lambda key: jaxgan.init_state(gan_with, key))(jax.random.PRNGKey(3))
    rng = np.random.default_rng(3)
    real = rng.normal(size=(BATCH, 2)).astype(np.float32)
    z = rng.normal(size=(BATCH, 2)).astype(np.float32)
    apply = gan_with.discriminator.apply

    @jax.jit
    def everything(state):
        _, key = jax.random.split(state.key)

        def penalty_alone(params):
            fake = gan_with.generator.apply(state.g.params, state.g.stats, z, True)[0]
            return penalty(lambda x: apply(params, state.d.stats, x, True)[0], real, fake, key)

        return (
            jaxgan.build_d_step(gan_with)(state, real, z)[0].d.opt_state,
            jaxgan.build_d_step(gan_without)(state, real, z)[0].d.opt_state,
            jax.grad(penalty_alone)(state.d.params),
        )

    grad_with, grad_without, penalty_grad = everything(state)
    difference = jax.tree.map(lambda a, b: a - b, grad_with, grad_without)
    scale = max(float(jnp.max(jnp.abs(x))) for x in jax.tree.leaves((grad_with, penalty_grad)))
    assert any(np.any(np.asarray(x) != 0) for x in jax.tree.leaves(penalty_grad))
    for got, want in zip(jax.tree.leaves(difference), jax.tree.leaves(penalty_grad)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=0, atol=RTOL * scale)


def test_fused_step_gives_ds_penalty_the_key_split_from_the_state():
    """``build_d_then_g_step`` (the D step and the G step sharing G's forward pass) hands D's penalty
    the subkey split from the state's key, as the D step does: a "penalty" that is one uniform draw
    from its key equals the draw from ``jax.random.split(state.key)[1]``, and the state keeps the
    other half."""

    def uniform_draw(d_fn, real, fake, key):
        return jax.random.uniform(key, ())

    state, real, z = problem()
    step = jax.jit(jaxgan.build_d_then_g_step(quadratic_gan(uniform_draw))).lower(state, real, z)
    new, metrics = step.compile(compiler_options={"xla_backend_optimization_level": 0})(state, real, z)
    key, penalty_key = jax.random.split(state.key)
    assert float(metrics["d_penalty"]) == float(jax.random.uniform(penalty_key, ()))
    np.testing.assert_array_equal(new.key, key)
