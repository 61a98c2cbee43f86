"""``jaxgan.GANLoss``: D's update inside G's loss, and the modular training step equal to the explicit one."""

import jax
import numpy as np

import jaxgan
from jaxgan.data import contiguous_batches
from tests.jaxgan.core_setup import BATCH, assert_trees_close, assert_trees_differ, fresh_state


def test_gan_loss_training_matches_explicit_steps(gan, data):
    steps = 25
    batch_fn = contiguous_batches(BATCH)
    explicit = jaxgan.fit(jaxgan.build_train_step(gan, batch_fn), fresh_state(gan), data, steps, chunk_size=steps)
    modular = jaxgan.fit(
        jaxgan.build_modular_train_step(gan, batch_fn), fresh_state(gan), data, steps, chunk_size=steps
    )
    assert_trees_close(modular.state.g.params, explicit.state.g.params, 1e-6)
    assert_trees_close(modular.state.d.params, explicit.state.d.params, 1e-6)
    assert_trees_close(modular.state.d.opt_state, explicit.state.d.opt_state, 1e-6)


def test_gan_loss_updates_d_inside_and_returns_g_loss_with_updated_d(gan, data):
    state = fresh_state(gan)
    gan_loss = jaxgan.GANLoss(gan.discriminator, gan.d_optimizer, "softmax")
    fake = jax.random.normal(jax.random.PRNGKey(5), (BATCH, 2))
    loss, (d_new, metrics) = gan_loss(state.d, fake, data[:BATCH])
    assert_trees_differ(d_new.params, state.d.params)
    logits, _ = gan.discriminator.apply(d_new.params, {}, fake, True)
    expected = jaxgan.losses.softmax_generator_loss(logits)
    np.testing.assert_allclose(float(loss), float(expected), rtol=1e-6)
    # Gradient wrt the fake flows only through D_new(fake), not through D's update.
    g = jax.grad(lambda f: gan_loss(state.d, f, data[:BATCH])[0])(fake)
    g_expected = jax.grad(
        lambda f: jaxgan.losses.softmax_generator_loss(gan.discriminator.apply(d_new.params, {}, f, True)[0])
    )(fake)
    np.testing.assert_allclose(np.asarray(g), np.asarray(g_expected), rtol=1e-5, atol=1e-7)
