"""Spectrally normalised Ds (``jaxgan.models.mixture``, ``jaxgan.models.dcgan``): the constraint and its statistics."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from jaxgan.models.dcgan import dcgan_networks
from jaxgan.models.mixture import MaxoutMLP, ScaledMLP

POWER_STEPS = 100


@functools.partial(jax.jit, static_argnums=(0, 4))
def iterate(net, params, stats, x, steps):
    """``steps`` training-mode calls: ``steps`` power-iteration steps of every layer."""
    return jax.lax.fori_loop(0, steps, lambda _, s: net.apply(params, s, x, True)[1], stats)


def top_singular_value(matrix) -> float:
    return float(np.linalg.svd(np.asarray(matrix, np.float64), compute_uv=False)[0])


def test_the_used_kernel_has_largest_singular_value_one():
    """A one-layer D is ``x W / sigma + b``: probing it with the unit vectors reads the kernel it uses."""
    module = ScaledMLP((), out=6, spectral_norm=True)
    net = jaxgan.from_linen(module)
    params, stats = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 10)))
    params = jax.tree_util.tree_map(lambda p: 3.0 * p, params)  # a kernel far from norm 1
    raw = params["Dense_0"]["kernel"]
    assert abs(top_singular_value(raw) - 1.0) > 0.5
    stats = iterate(net, params, stats, jnp.zeros((1, 10)), POWER_STEPS)
    probe = jnp.concatenate([jnp.eye(10), jnp.zeros((1, 10))])
    out = net.apply(params, stats, probe, False)[0]
    used = out[:10] - out[10]  # rows: e_i W / sigma
    np.testing.assert_allclose(np.asarray(used) * top_singular_value(raw), np.asarray(raw), rtol=2e-3, atol=1e-6)
    assert top_singular_value(used) == pytest.approx(1.0, abs=1e-3)
    # before any power iteration the estimate is the initial vector's, not the largest singular value
    fresh = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 10)))[1]
    early = net.apply(params, fresh, probe, False)[0]
    assert abs(top_singular_value(early[:10] - early[10]) - 1.0) > 1e-3


@pytest.mark.parametrize("which", ["maxout", "dcgan"])
def test_every_kernel_over_its_stored_sigma_has_largest_singular_value_one(which):
    if which == "maxout":
        net, x = jaxgan.from_linen(MaxoutMLP(width=8, depth=2, pieces=3, spectral_norm=True)), jnp.ones((4, 2))
    else:  # convolution kernels [4, 4, in, out] are normalised as [4 * 4 * in, out] matrices
        net, x = dcgan_networks(16, 1, g_features=4, d_features=8, spectral_norm=True)[1], jnp.ones((4, 16, 16, 1))
    params, stats = net.init(jax.random.PRNGKey(1), x)
    stats = iterate(net, params, stats, x, POWER_STEPS)
    sigmas = {name: value for layer in stats["batch_stats"].values() for name, value in layer.items()}
    names = sorted(name[: -len("/kernel/sigma")] for name in sigmas if name.endswith("/kernel/sigma"))
    assert names == sorted(params) and len(names) == 3  # every layer's kernel is normalised
    for name in names:
        kernel = np.asarray(params[name]["kernel"])
        matrix = kernel.reshape(-1, kernel.shape[-1]) / float(sigmas[f"{name}/kernel/sigma"])
        assert top_singular_value(matrix) == pytest.approx(1.0, abs=1e-3), name


def test_the_spectrally_normalised_dcgan_d_has_no_batch_norm():
    d_sn = dcgan_networks(16, 1, g_features=4, d_features=8, spectral_norm=True)[1]
    d_ref = dcgan_networks(16, 1, g_features=4, d_features=8)[1]
    params_sn, _ = d_sn.init(jax.random.PRNGKey(0), jnp.zeros((2, 16, 16, 1)))
    params_ref, _ = d_ref.init(jax.random.PRNGKey(0), jnp.zeros((2, 16, 16, 1)))
    assert not any("_bn" in name for name in params_sn) and any("_bn" in name for name in params_ref)


def mixture_gan(spectral_norm=True):
    return jaxgan.GAN(
        generator=jaxgan.from_linen(ScaledMLP((16,), out=2)),
        discriminator=jaxgan.from_linen(ScaledMLP((16, 16), out=1, activation="leaky_relu", spectral_norm=spectral_norm)),
        g_optimizer=optax.adam(1e-2),
        d_optimizer=optax.adam(1e-2),
        latent_shape=(2,),
        objective="hinge",
    )


def assert_same_bits(a, b):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(la) == len(lb) > 0
    for x, y in zip(la, lb):
        assert np.asarray(x).tobytes() == np.asarray(y).tobytes()


def test_the_vectors_advance_in_the_d_step_and_pass_the_g_step_bit_identical():
    gan = mixture_gan()
    state = jaxgan.init_state(gan, jax.random.PRNGKey(0))
    real = jax.random.normal(jax.random.PRNGKey(1), (32, 2))
    z = jax.random.normal(jax.random.PRNGKey(2), (32, 2))
    d_step, g_step = jaxgan.make_d_step(gan), jaxgan.make_g_step(gan)
    after_d, _ = d_step(state, real, z)
    u = lambda s: np.asarray(s.d.stats["batch_stats"]["SpectralNorm_0"]["Dense_0/kernel/u"])
    assert not np.array_equal(u(after_d), u(state))  # the D step stored the advanced vectors
    after_g, metrics = g_step(after_d, z)
    assert_same_bits(after_g.d, after_d.d)  # D's params, vectors and optimizer state untouched
    assert not np.array_equal(np.asarray(after_g.g.params["MLP_0"]["Dense_0"]["kernel"]),
                              np.asarray(after_d.g.params["MLP_0"]["Dense_0"]["kernel"]))  # fmt: skip
    # the G step's D normalised as an update_stats=False call does: hinge G loss -mean D(G(z))
    fake = gan.generator.apply(after_d.g.params, after_d.g.stats, z, True)[0]
    d_module = ScaledMLP((16, 16), out=1, activation="leaky_relu", spectral_norm=True)
    frozen = d_module.apply({"params": after_d.d.params, **after_d.d.stats}, fake, train=False)
    assert float(metrics["g_loss"]) == pytest.approx(-float(jnp.mean(frozen)), rel=1e-6)
