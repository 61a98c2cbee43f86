"""``jaxgan.GAN``: a GAN's loss names are checked when it is built; ``d_schedule``; ``GANLoss.init``."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from jaxgan.models.mlp import MLP, LinearGenerator
from tests.jaxgan.core_setup import make_gan


def test_unknown_objective_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown loss 'nope'.*softmax"):
        make_gan(objective="nope")


def test_unknown_loss_name_is_refused_when_the_gan_is_built():
    with pytest.raises(ValueError, match=r"unknown loss 'hinj'; known losses: .*hinge"):
        jaxgan.GAN(jaxgan.from_linen(LinearGenerator(2)), jaxgan.from_linen(MLP((8,), 2)), optax.adam(1e-3),
                   optax.adam(1e-3), (2,), "hinj")


def test_d_schedule_steps_once_per_iteration_of_n_critic_updates():
    """``d_schedule(s, n)(count) = s(count // n)``: D's updates 0..n-1 are iteration 0, and so on."""
    schedule = jaxgan.d_schedule(lambda count: 10 * count, 3)
    assert [schedule(count) for count in range(8)] == [0, 0, 0, 10, 10, 10, 20, 20]
    assert jaxgan.d_schedule(lambda count: count, 1)(5) == 5


def test_d_schedule_refuses_fewer_than_one_critic_step():
    with pytest.raises(ValueError, match="n_critic must be >= 1"):
        jaxgan.d_schedule(lambda count: count, 0)


def test_gan_loss_init_is_ds_network_and_optimizer_initialised():
    """``GANLoss.init(key, x)`` = D's ``init(key, x)`` and its optimizer's state for those parameters
    (compared as the programs' outputs' shapes: traced, not compiled)."""
    gan = make_gan()
    optimizer = optax.adam(1e-3, b1=0.5)
    gan_loss = jaxgan.GANLoss(gan.discriminator, optimizer, "softmax")

    def by_hand(key, x):
        params, stats = gan.discriminator.init(key, x)
        return jaxgan.PlayerState(params, stats, optimizer.init(params))

    key, x = jax.random.PRNGKey(4), jnp.ones((3, 5), jnp.float32)
    got, want = jax.eval_shape(gan_loss.init, key, x), jax.eval_shape(by_hand, key, x)
    assert jax.tree_util.tree_structure(got) == jax.tree_util.tree_structure(want)
    assert jax.tree_util.tree_leaves(got) == jax.tree_util.tree_leaves(want)
    assert (5, 20) in [leaf.shape for leaf in jax.tree_util.tree_leaves(got.params)]  # D's input is x's


def test_a_discriminator_that_is_not_a_network_is_named_in_the_error():
    with pytest.raises(TypeError, match="the discriminator must be a jaxgan.Network"):
        jaxgan.GAN(jaxgan.from_linen(LinearGenerator(2)), object(), optax.adam(1e-3), optax.adam(1e-3), (2,))


@pytest.mark.parametrize("latent_shape", [2, [2], (np.int64(2),)])
def test_latent_shape_becomes_a_tuple_of_ints(latent_shape):
    """The GAN is static (hashed by ``jax.jit``): its noise shape is stored as a tuple of Python ints."""
    gan = jaxgan.GAN(jaxgan.from_linen(LinearGenerator(2)), jaxgan.from_linen(MLP((8,), 2)), optax.adam(1e-3),
                     optax.adam(1e-3), latent_shape)
    assert gan.latent_shape == (2,) and type(gan.latent_shape) is tuple
    assert all(type(s) is int for s in gan.latent_shape)
    hash(gan.latent_shape)


def test_noise_is_float32_even_with_64_bit_types_enabled():
    gan = make_gan()
    state = jaxgan.GANState(None, None, None, jax.random.PRNGKey(0))
    with jax.enable_x64(True):
        _, z = jaxgan.sample_noise(gan, state, 3)
    assert z.dtype == jnp.float32 and z.shape == (3, 2)


@pytest.mark.parametrize("key", [jnp.zeros((3,), jnp.uint32), jnp.zeros((2,), jnp.int32)])
def test_init_state_refuses_what_is_not_a_raw_prng_key(key):
    """A raw key is ``uint32[2]``: the right dtype with another shape, or the right shape with another
    dtype, is refused before anything is initialised."""
    with pytest.raises(TypeError, match="init_state needs a PRNG key"):
        jaxgan.init_state(make_gan(), key)


def _scale_by_weights():
    """``y = x * w``, whose ``w`` takes the dtype of the input it is initialised on."""
    return jaxgan.Network(lambda key, x: ({"w": jnp.ones(x.shape[1:], x.dtype)}, {}),
                          lambda params, stats, x, train: (x * params["w"], stats))


def test_init_state_initialises_both_networks_on_float32_inputs_even_with_64_bit_types_enabled():
    """G and D are initialised on float32 inputs, as the steps feed them (noise is float32), so a
    network whose parameters follow its input's dtype gets float32 parameters under x64 too."""
    gan = jaxgan.GAN(_scale_by_weights(), _scale_by_weights(), optax.sgd(0.1), optax.sgd(0.1), (3,))
    with jax.enable_x64(True):
        state = jaxgan.init_state(gan, 0)
    assert state.g.params["w"].dtype == jnp.float32 and state.d.params["w"].dtype == jnp.float32
    assert state.g.params["w"].shape == state.d.params["w"].shape == (3,)
