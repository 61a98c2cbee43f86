"""DCGAN's networks (``jaxgan.models.dcgan``): the reference architecture, and BatchNorm in the pure steps."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from jaxgan.models.dcgan import (
    BN_EPSILON,
    DCGANDiscriminator,
    DCGANGenerator,
    _batch_norm,
    count_params,
    dcgan_networks,
    num_stages,
)

# XLA:CPU compiles partitionable threefry (JAX's default) ~10x slower (3 s of CPU for one
# jax.random.normal); the tests that compile random draws use the classic one: other random
# numbers, the same programs otherwise.
def classic_rng():
    return jax.threefry_partitionable(False)


def shapes_of(module, x):
    """Parameter/statistics shapes and output shape, by tracing only (no computation)."""
    variables = jax.eval_shape(lambda: module.init(jax.random.PRNGKey(0), x, train=False))
    out = jax.eval_shape(lambda v: module.apply(v, x, train=False), variables)
    return variables, out


def test_reference_64x64_has_pytorch_parameter_counts():
    g_vars, images = shapes_of(DCGANGenerator(64, 3), jnp.zeros((2, 100)))
    d_vars, logits = shapes_of(DCGANDiscriminator(64), jnp.zeros((2, 64, 64, 3)))
    assert count_params(g_vars["params"]) == 3_576_704  # pytorch/examples dcgan, nc = 3
    assert count_params(d_vars["params"]) == 2_765_568
    assert images.shape == (2, 64, 64, 3) and logits.shape == (2,)
    # no biases anywhere but BatchNorm's offsets; G's BatchNorm widths are 512, 256, 128, 64
    g_flat = jax.tree_util.tree_flatten_with_path(g_vars["params"])[0]
    biases = [jax.tree_util.keystr(p) for p, _ in g_flat if "bias" in jax.tree_util.keystr(p)]
    assert all("_bn" in b for b in biases) and len(biases) == 4
    assert [g_vars["batch_stats"][k]["mean"].shape[0] for k in ("project_bn", "up1_bn", "up2_bn", "up3_bn")] == [512, 256, 128, 64]


@pytest.mark.parametrize("size", [8, 16, 32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_for_every_size(size, channels):
    _, images = shapes_of(DCGANGenerator(size, channels, features=16), jnp.zeros((3, 100)))
    assert images.shape == (3, size, size, channels) and images.dtype == jnp.float32
    d_vars, logits = shapes_of(DCGANDiscriminator(size, features=16), jnp.zeros((3, size, size, channels)))
    assert logits.shape == (3,) and logits.dtype == jnp.float32
    # D's last map is 4x4 with ndf * 2^(stages - 1) channels
    assert d_vars["params"]["logit"].shape == (4, 4, 16 * 2 ** (num_stages(size) - 1), 1)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="power of two"):
        num_stages(24)
    with pytest.raises(ValueError, match="power of two"):
        num_stages(4)
    with pytest.raises(ValueError, match="expected 32x32"):
        shapes_of(DCGANDiscriminator(32), jnp.zeros((1, 16, 16, 1)))


def test_initialisation_follows_the_reference():
    g, d = dcgan_networks(8, 3, g_features=512, d_features=512)  # one stage: small programs, many weights
    with classic_rng():
        g_params, _ = jax.jit(g.init)(jax.random.PRNGKey(0), jnp.zeros((1, 100)))
        d_params, _ = jax.jit(d.init)(jax.random.PRNGKey(1), jnp.zeros((1, 8, 8, 3)))
    kernels = np.concatenate([np.ravel(g_params[k]["kernel"]) for k in ("project", "to_image")])
    kernels = np.concatenate([kernels, np.ravel(d_params["down0"]["kernel"]), np.ravel(d_params["logit"])])
    assert kernels.size > 800_000
    assert abs(kernels.mean()) < 1e-3 and abs(kernels.std() - 0.02) < 5e-4
    scales = np.ravel(g_params["project_bn"]["scale"])  # 512 scales
    assert abs(scales.mean() - 1.0) < 5e-3 and abs(scales.std() - 0.02) < 3e-3
    assert not np.any(g_params["project_bn"]["bias"])


def test_batch_norm_uses_pytorch_momentum_and_epsilon():
    x = 3.0 + 2.0 * jax.random.normal(jax.random.PRNGKey(0), (16, 4, 4, 5))
    bn = _batch_norm(True, jnp.float32, jnp.float32, "bn")
    variables = bn.init(jax.random.PRNGKey(1), x)
    y, new = jax.jit(lambda v, x: bn.apply(v, x, mutable=["batch_stats"]))(variables, x)
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(new["batch_stats"]["mean"], 0.1 * mean, rtol=1e-5)  # 0.9 * 0 + 0.1 * mean
    np.testing.assert_allclose(new["batch_stats"]["var"], 0.9 + 0.1 * var, rtol=1e-5)
    p = variables["params"]
    expected = (x - mean) / jnp.sqrt(var + BN_EPSILON) * p["scale"] + p["bias"]
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)


def test_fast_and_plain_xla_networks_are_the_same_functions():
    """Matrix-product layers (default) vs XLA's transposed convolution / convolution: same parameters,
    same images, logits and statistics (the layers' gradients are compared in test_layers)."""
    z = jax.random.normal(jax.random.PRNGKey(0), (4, 100))
    fast_g, fast_d = dcgan_networks(16, 1, g_features=4, d_features=4)
    slow_g, slow_d = dcgan_networks(16, 1, g_features=4, d_features=4, upsample="transpose", downsample="conv")
    with classic_rng():
        g_params, g_stats = jax.jit(fast_g.init)(jax.random.PRNGKey(1), z)
        d_params, d_stats = jax.jit(fast_d.init)(jax.random.PRNGKey(2), jnp.zeros((1, 16, 16, 1)))

    @jax.jit
    def both(g_params, d_params):
        out = []
        for g, d in ((fast_g, fast_d), (slow_g, slow_d)):
            images, g_new = g.apply(g_params, g_stats, z, True)
            logits, d_new = d.apply(d_params, d_stats, images, True)
            out.append((images, logits, g_new, d_new))
        return out

    fast, slow = both(g_params, d_params)
    assert float(jnp.std(fast[0])) > 0.01 and float(jnp.std(fast[1])) > 0.0
    for a, b in zip(jax.tree_util.tree_leaves(fast), jax.tree_util.tree_leaves(slow)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_default_networks_have_no_convolutions():
    """XLA:CPU runs convolutions inside loops (the training scan) 25-45x slower than outside; the
    default layers are matrix products, so the compiled training step contains no convolution."""
    g, d = dcgan_networks(16, 1, g_features=4, d_features=4)
    z, x = jnp.zeros((2, 100)), jnp.zeros((2, 16, 16, 1))
    g_vars, d_vars = jax.eval_shape(g.init, jax.random.PRNGKey(0), z), jax.eval_shape(d.init, jax.random.PRNGKey(0), x)

    def both(gv, dv):
        loss = lambda gp: jnp.sum(d.apply(dv[0], dv[1], g.apply(gp, gv[1], z, True)[0], True)[0])
        return jax.grad(loss)(gv[0])

    text = jax.jit(both).lower(g_vars, d_vars).as_text()
    assert "dot_general" in text and "convolution" not in text


# ----------------------------------------------------------------------------- BatchNorm in the steps


def tiny_gan(precision=jnp.float32, concat=False, size=16):
    g, d = dcgan_networks(size, 1, g_features=8, d_features=8, dtype=precision)
    adam = optax.adam(2e-4, b1=0.5, b2=0.999)
    return jaxgan.GAN(g, d, adam, adam, (100,), objective="nonsaturating", concat_real_fake=concat)


def init_state(gan, seed=0):
    """``jaxgan.init_state`` compiled (op-by-op initialisation compiles every small op on its own)."""
    with classic_rng():
        return jax.jit(lambda key: jaxgan.init_state(gan, key))(jax.random.PRNGKey(seed))


def leaves(tree):
    return [np.array(x) for x in jax.tree_util.tree_leaves(tree)]


@pytest.fixture(scope="module")
def real():
    return jax.random.uniform(jax.random.PRNGKey(7), (8, 16, 16, 1), minval=-1.0, maxval=1.0)


@pytest.fixture(scope="module")
def stepped(real):
    """One compiled program: a D step, then a G step, plus D's statistics computed by hand."""
    gan = tiny_gan()
    state = init_state(gan)
    d_step, g_step = jaxgan.build_d_step(gan), jaxgan.build_g_step(gan)
    d = gan.discriminator

    @jax.jit
    def run(state, real):
        state, z = jaxgan.sample_noise(gan, state, real.shape[0])
        after_d, _ = d_step(state, real, z)
        after_g, g_metrics = g_step(after_d, z)
        shared, _ = jaxgan.build_d_then_g_step(gan)(state, real, z)
        fake, _ = gan.generator.apply(state.g.params, state.g.stats, z, True)
        _, after_real = d.apply(state.d.params, state.d.stats, real, True)
        _, separate = d.apply(state.d.params, after_real, fake, True)
        _, concatenated = d.apply(state.d.params, state.d.stats, jnp.concatenate([real, fake]), True)
        return dict(
            before=state, after_d=after_d, after_g=after_g, g_metrics=g_metrics, shared=shared,
            separate=separate, concatenated=concatenated,
        )  # fmt: skip

    with classic_rng():
        return jax.device_get(run(state, real))


def test_g_step_leaves_all_of_d_bit_identical_and_updates_g(stepped):
    after_d, after_g = stepped["after_d"], stepped["after_g"]
    # the D step did change D's running statistics, so "unchanged" below is not trivially true
    assert any(not np.array_equal(a, b) for a, b in zip(leaves(after_d.d.stats), leaves(stepped["before"].d.stats)))
    d_before, d_after = leaves(after_d.d), leaves(after_g.d)
    assert len(d_after) == len(d_before) and any(x.size > 1 for x in d_after)
    for a, b in zip(d_after, d_before):  # params, running statistics, optimizer state: bit for bit
        np.testing.assert_array_equal(a, b)
    # G's parameters and BatchNorm running statistics move in G's step
    assert all(not np.array_equal(a, b) for a, b in zip(leaves(after_g.g.stats), leaves(after_d.g.stats)))
    assert any(not np.array_equal(a, b) for a, b in zip(leaves(after_g.g.params), leaves(after_d.g.params)))
    assert stepped["g_metrics"]["g_loss"].dtype == np.float32


def test_shared_generator_forward_gives_the_two_steps_result(stepped):
    """The training step's D-then-G step (one forward pass of G) ends where the D step then the G
    step end: G's and D's parameters, BatchNorm statistics and Adam moments."""
    shared, two_steps = leaves(stepped["shared"]), leaves(stepped["after_g"])
    assert len(shared) == len(two_steps)
    for a, b in zip(shared, two_steps):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_d_sees_real_and_fake_in_separate_calls_by_default(stepped):
    """D's statistics after a D step = D applied to the real batch, then to the fake one (as the
    reference does), which differs from one call on the concatenated batch."""
    for a, b in zip(leaves(stepped["after_d"].d.stats), leaves(stepped["separate"])):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    separate, concat = leaves(stepped["separate"]), leaves(stepped["concatenated"])
    assert any(not np.allclose(a, b, rtol=1e-3) for a, b in zip(separate, concat))


def test_bfloat16_computes_in_bfloat16_and_keeps_float32_state(real):
    gan = tiny_gan(precision=jnp.bfloat16, size=8)
    state = init_state(gan)
    from jaxgan.data import random_batches

    real = real[:, ::2, ::2]  # 8x8
    step = jax.jit(jaxgan.build_train_step(gan, random_batches(8)))
    with classic_rng():
        state, metrics = step(state, real)
        products = [line for line in step.lower(state, real).as_text().splitlines() if "dot_general" in line]
    for leaf in jax.tree_util.tree_leaves((state.g, state.d)):
        if jnp.issubdtype(leaf.dtype, jnp.floating):
            assert leaf.dtype == jnp.float32  # params, BatchNorm statistics, Adam moments
    for name in ("d_loss", "g_loss"):
        assert metrics[name].dtype == jnp.float32 and np.isfinite(metrics[name])
    assert sum("bf16" in line for line in products) >= 6  # the conv layers' matrix products, forward and back
