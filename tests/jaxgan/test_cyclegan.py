"""CycleGAN training: the reference's losses, who changes in which step, the image pool, the schedule."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan.cyclegan import (
    CycleGAN,
    build_discriminator_step,
    build_generator_step,
    init_cyclegan,
    init_pool,
    linear_decay_schedule,
    make_optimizer,
    query_pool,
)
from jaxgan.reliability.divergence import path_name
from jaxgan.models.resnet_patchgan import PatchDiscriminator, ResnetGenerator, reference_network
from tests.jaxgan.instance_norm_biases import is_cancelled_bias

SHAPE = (8, 8, 1)
BATCH = 2
LR = 1e-3


def tiny_model(optimizer=None, **kw):
    gen = lambda: reference_network(ResnetGenerator(1, ngf=2, n_blocks=0))  # blocks: test_cyclegan_models
    disc = lambda: reference_network(PatchDiscriminator(ndf=2, n_layers=1))
    opt = optimizer or make_optimizer(LR)
    return CycleGAN(gen(), gen(), disc(), disc(), opt, opt, pool_size=3, **kw)


@pytest.fixture(scope="module")
def model():
    """Plain SGD with step 1, so that each update is minus the gradient: the step tests compare
    gradients with the reference's losses (Adam would blow up the round-off of exactly-zero
    gradients, e.g. of conv biases before an instance norm, to +-lr)."""
    return tiny_model(optax.sgd(1.0))


@pytest.fixture(scope="module")
def steps(model):
    """The two steps, compiled once for the module (no donation: the tests keep the old state)."""
    return jax.jit(build_generator_step(model)), jax.jit(build_discriminator_step(model))


@pytest.fixture(scope="module")
def initial_state(model):
    return init_cyclegan(model, jax.random.PRNGKey(0), SHAPE, SHAPE)


@pytest.fixture(scope="module")
def batch():
    k_a, k_b = jax.random.split(jax.random.PRNGKey(7))
    return jax.random.uniform(k_a, (BATCH, *SHAPE), minval=-1, maxval=1), jnp.tanh(
        jax.random.normal(k_b, (BATCH, *SHAPE))
    )


def copy(tree):
    return jax.tree_util.tree_map(np.array, tree)


def assert_same(a, b):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(la) == len(lb) > 0
    for x, y in zip(la, lb):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def assert_changed(a, b):
    assert any(not np.array_equal(x, y) for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))


def apply(network, player, x):
    return network.apply(player.params, player.stats, x, True)[0]


def reference_generator_loss(model, state, params_ab, params_ba, a, b):
    """The reference's backward_G written out: MSE to 1, lambda L1 cycles, 0.5 lambda L1 identities."""
    g_ab = lambda x: model.generator_ab.apply(params_ab, {}, x, True)[0]
    g_ba = lambda x: model.generator_ba.apply(params_ba, {}, x, True)[0]
    fake_b, fake_a = g_ab(a), g_ba(b)
    mse1 = lambda d: jnp.mean((d - 1.0) ** 2)
    l1 = lambda x, y: jnp.mean(jnp.abs(x - y))
    lam, idt = 10.0, 0.5
    return (
        mse1(apply(model.discriminator_b, state.d_b, fake_b))
        + mse1(apply(model.discriminator_a, state.d_a, fake_a))
        + lam * l1(g_ba(fake_b), a)
        + lam * l1(g_ab(fake_a), b)
        + idt * lam * l1(g_ab(b), b)
        + idt * lam * l1(g_ba(a), a)
    )


def assert_step_is_minus_the_gradient(new, old, grads):
    """``new == old - grads`` leaf by leaf (SGD with step 1), within 1e-4 relative + 1e-6.

    Except the conv biases that instance normalisation cancels (``instance_norm_biases``): their
    true gradient is 0, and both the step taken and the reference's gradient are rounding noise
    whose size depends on the order of the sums (on the H200 one step was 1.3e-6, the reference's
    7e-9). Both must be 0 to within 1e-5 of the largest gradient of the same layer's kernel (the
    noise measures below 4e-7 of it; a bias that the normalisation did not cancel would be of the
    kernel's order)."""
    grads = {path_name(path): g for path, g in jax.tree_util.tree_leaves_with_path(grads)}
    for (path, x), y in zip(jax.tree_util.tree_leaves_with_path(new), jax.tree.leaves(old)):
        name = path_name(path)
        if is_cancelled_bias(name):
            bound = 1e-5 * float(jnp.max(jnp.abs(grads[name[: -len("bias")] + "kernel"])))
            assert float(jnp.max(jnp.abs(y - x))) <= bound, (name, y - x, bound)
            assert float(jnp.max(jnp.abs(grads[name]))) <= bound, (name, grads[name], bound)
        else:
            np.testing.assert_allclose(x, y - grads[name], rtol=1e-4, atol=1e-6, err_msg=name)


def test_generator_step_is_the_reference_update_and_leaves_discriminators_and_pools_bit_identical(
    model, steps, batch, initial_state
):
    g_step, _ = steps
    a, b = batch
    state = initial_state
    before = copy(state)
    new, (fake_a, fake_b), metrics = g_step(state, a, b)

    for name in ("d_a", "d_b", "pool_a", "pool_b", "step", "key"):
        assert_same(getattr(new, name), getattr(before, name))
    assert_changed(new.g_ab.params, before.g_ab.params)
    assert_changed(new.g_ba.params, before.g_ba.params)
    assert float(jnp.max(jnp.abs(fake_a))) < 1 and float(jnp.max(jnp.abs(fake_b))) < 1  # tanh outputs

    reference = jax.jit(jax.value_and_grad(lambda p: reference_generator_loss(model, state, p[0], p[1], a, b)))
    ref_loss, (grad_ab, grad_ba) = reference((state.g_ab.params, state.g_ba.params))
    np.testing.assert_allclose(metrics["g_loss"], ref_loss, rtol=1e-5)
    assert_step_is_minus_the_gradient(new.g_ab.params, state.g_ab.params, grad_ab)
    assert_step_is_minus_the_gradient(new.g_ba.params, state.g_ba.params, grad_ba)
    # The fakes handed to the D step are the translations made *before* the update.
    np.testing.assert_allclose(fake_b, apply(model.generator_ab, state.g_ab, a), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fake_a, apply(model.generator_ba, state.g_ba, b), rtol=1e-5, atol=1e-6)


def test_discriminator_step_halves_the_lsgan_loss_and_leaves_generators_bit_identical(
    model, steps, batch, initial_state
):
    g_step, d_step = steps
    a, b = batch
    state = initial_state
    state, (fake_a, fake_b), _ = g_step(state, a, b)
    before = copy(state)
    new, metrics = d_step(state, a, b, fake_a, fake_b)

    assert_same(new.g_ab, before.g_ab)
    assert_same(new.g_ba, before.g_ba)
    assert_changed(new.d_a.params, before.d_a.params)
    assert_changed(new.d_b.params, before.d_b.params)
    assert int(new.pool_a.count) == int(new.pool_b.count) == BATCH  # filling: fakes pass through

    def reference_d_loss(params, network, real, fake):  # 0.5 (MSE(D(real), 1) + MSE(D(fake), 0))
        d = lambda x: network.apply(params, {}, x, True)[0]
        return 0.5 * (jnp.mean((d(real) - 1.0) ** 2) + jnp.mean(d(fake) ** 2))

    reference = jax.jit(jax.value_and_grad(reference_d_loss), static_argnums=1)
    for name, network, real, fake in (("a", model.discriminator_a, a, fake_a), ("b", model.discriminator_b, b, fake_b)):
        player = getattr(state, f"d_{name}")
        loss, grads = reference(player.params, network, real, fake)
        np.testing.assert_allclose(metrics[f"d_loss_{name}"], loss, rtol=1e-5)
        assert_step_is_minus_the_gradient(getattr(new, f"d_{name}").params, player.params, grads)


def test_adversarial_weight_follows_the_objective():
    assert tiny_model().adversarial_weight == 2.0  # reference MSE = 2 x least_squares_generator_loss
    assert tiny_model(objective="nonsaturating").adversarial_weight == 1.0
    assert tiny_model(objective="nonsaturating", adversarial_weight=3.0).adversarial_weight == 3.0


def images(n, offset=0.0):
    """``n`` distinct constant 2x2x1 images with values ``offset + i``."""
    return jnp.broadcast_to((offset + jnp.arange(n, dtype=jnp.float32))[:, None, None, None], (n, 2, 2, 1))


def test_pool_while_filling_returns_and_stores_every_new_image():
    pool = init_pool(4, (2, 2, 1))
    pool, out = query_pool(pool, images(3), jax.random.PRNGKey(0))
    np.testing.assert_array_equal(out, images(3))
    np.testing.assert_array_equal(pool.images[:3], images(3))
    assert int(pool.count) == 3
    # The 4th image fills the last slot and comes back; the 5th meets a full pool.
    pool, out = query_pool(pool, images(1, offset=10.0), jax.random.PRNGKey(1))
    np.testing.assert_array_equal(out, images(1, offset=10.0))
    np.testing.assert_array_equal(pool.images[3], images(1, offset=10.0)[0])
    assert int(pool.count) == 4


def test_full_pool_swaps_with_probability_one_half_and_conserves_images():
    size, trials = 5, 400
    pool = init_pool(size, (2, 2, 1))
    pool, _ = query_pool(pool, images(size), jax.random.PRNGKey(0))
    swaps = 0
    query = jax.jit(query_pool)
    for t in range(trials):
        new = images(1, offset=100.0 + t)
        after, out = query(pool, new, jax.random.PRNGKey(t + 1))
        assert int(after.count) == size
        before_vals = sorted(np.asarray(pool.images[:, 0, 0, 0]).tolist() + [100.0 + t])
        after_vals = sorted(np.asarray(after.images[:, 0, 0, 0]).tolist() + [float(out[0, 0, 0, 0])])
        assert before_vals == after_vals  # every image is either kept or returned, exactly once
        if float(out[0, 0, 0, 0]) == 100.0 + t:
            assert_same(after.images, pool.images)  # returned the new one: pool untouched
        else:
            swaps += 1
            assert float(out[0, 0, 0, 0]) in np.asarray(pool.images[:, 0, 0, 0]).tolist()
            assert (100.0 + t) in np.asarray(after.images[:, 0, 0, 0]).tolist()
        pool = after
    # Binomial(400, 1/2): sd 10, so [160, 240] is four sd on each side.
    assert 160 <= swaps <= 240
    # Swapped slots are uniform: after 400 draws almost every original image has been replaced.
    assert np.all(np.asarray(pool.images[:, 0, 0, 0]) >= 100.0)


def test_pool_of_size_zero_passes_fakes_through():
    pool = init_pool(0, (2, 2, 1))
    new, out = query_pool(pool, images(3), jax.random.PRNGKey(0))
    np.testing.assert_array_equal(out, images(3))
    assert new.images.shape[0] == 0


def test_schedule_is_constant_until_the_knee_then_linear_to_zero():
    lr, constant, decay = 2e-4, 100, 50
    schedule = linear_decay_schedule(lr, constant, decay)
    assert float(schedule(0)) == pytest.approx(lr)
    assert float(schedule(constant)) == pytest.approx(lr)  # the knee
    assert float(schedule(constant + decay // 2)) == pytest.approx(lr / 2)
    assert float(schedule(constant + decay)) == 0.0  # the end
    assert float(schedule(constant + decay + 10)) == 0.0


def test_optimizer_is_adam_beta1_one_half_on_the_schedule():
    opt = make_optimizer(2e-4, constant_steps=2, decay_steps=2)
    params = jnp.zeros(3)
    state = opt.init(params)
    steps = []
    for _ in range(5):
        updates, state = opt.update(jnp.ones(3), state, params)
        steps.append(float(-updates[0]))
    # A constant gradient makes Adam's normalised step lr(t): lr, lr, lr, lr/2, 0 (up to the float32
    # rounding of the bias corrections 1 - 0.999^t, relative ~6e-5 at t = 1).
    np.testing.assert_allclose(steps, [2e-4, 2e-4, 2e-4, 1e-4, 0.0], rtol=1e-4, atol=1e-12)
    first = opt.init(params)
    _, after_one = opt.update(jnp.ones(3), first, params)
    np.testing.assert_allclose(after_one[0].mu, 0.5)  # (1 - beta1) g with beta1 = 0.5
