"""The static description of a GAN and the initial state built from it.

A :class:`GAN` bundles everything that does *not* change during training: the two networks (as pure
``init``/``apply`` pairs), their optax optimizers, the objective, the noise shape and the update
schedule. Step functions close over it; the changing part lives in :class:`jaxgan.state.GANState`.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import optax

from jaxgan import losses
from jaxgan.networks import Network, as_network
from jaxgan.state import GANState, PlayerState, take_key, zero_step

__all__ = ["GAN", "d_schedule", "init_state", "sample_noise"]

# penalty(d_fn, real, fake, key) -> scalar added to D's loss (already weighted).
Penalty = Callable[[Callable, jax.Array, jax.Array, jax.Array], jax.Array]


@dataclasses.dataclass(frozen=True)
class GAN:
    """What a GAN is made of.

    Attributes:
      generator: G, mapping noise ``z`` to samples: a :class:`~jaxgan.networks.Network`, or a Flax
        Linen module (wrapped with :func:`~jaxgan.networks.from_linen`).
      discriminator: D, mapping samples to logits: a Network or a Linen module.
      g_optimizer, d_optimizer: optax transformations of G's and D's parameters.
      latent_shape: shape of one noise vector (an int for a flat one); ``z ~ N(0, I)`` of shape
        ``(batch, *latent_shape)``.
      objective: a name from :func:`jaxgan.losses.objective_names` or a ``losses.Objective``.
      n_critic: D steps per iteration (each on its own real batch and noise). D's optimizer then
        counts ``n_critic`` updates per iteration: give D a schedule over its own updates
        (:func:`d_schedule`) for it to end with G's.
      reuse_noise: the G step reuses the last D step's noise, as the lecture (same ``Z``) and
        pytorch/examples DCGAN (same fake) do; otherwise it draws fresh noise.
      d_penalty: optional ``penalty(d_fn, real, fake, key) -> scalar`` added to D's loss.
      concat_real_fake: D sees real and fake in one call (one set of BatchNorm batch statistics)
        instead of two separate calls (the reference's default).
    """

    generator: Network
    discriminator: Network
    g_optimizer: optax.GradientTransformation
    d_optimizer: optax.GradientTransformation
    latent_shape: tuple[int, ...]
    objective: str | losses.Objective = "softmax"
    n_critic: int = 1
    reuse_noise: bool = True
    d_penalty: Optional[Penalty] = None
    concat_real_fake: bool = False

    def __post_init__(self):
        object.__setattr__(self, "generator", as_network(self.generator, "generator"))
        object.__setattr__(self, "discriminator", as_network(self.discriminator, "discriminator"))
        if isinstance(self.latent_shape, int):
            object.__setattr__(self, "latent_shape", (self.latent_shape,))
        try:
            latent_shape = tuple(operator.index(s) for s in self.latent_shape)
        except TypeError:
            raise TypeError(f"latent_shape must be an int or a tuple of ints (e.g. 100 or (8, 8, 1)), "
                            f"got {self.latent_shape!r}") from None
        if self.n_critic < 1:
            raise ValueError(f"n_critic must be >= 1, got {self.n_critic}")
        # Resolve the objective now so that an unknown name fails at construction.
        object.__setattr__(self, "objective", losses.get_objective(self.objective))
        object.__setattr__(self, "latent_shape", latent_shape)


def d_schedule(schedule: optax.Schedule, n_critic: int) -> optax.Schedule:
    """A schedule over G's iterations for D's optimizer, which steps ``n_critic`` times per iteration.

    ``d_schedule(s, n)(count) = s(count // n)``: D's ``count``-th update happens in iteration
    ``count // n``, so a decay "over the run" ends for D when it ends for G.

    Args:
      schedule: an optax schedule of the iteration (e.g. ``optax.cosine_decay_schedule(1e-3, 4000)``).
      n_critic: the GAN's D steps per iteration.

    Returns:
      The schedule of D's update count.
    """
    if n_critic < 1:
        raise ValueError(f"n_critic must be >= 1, got {n_critic}")
    return lambda count: schedule(count // n_critic)


def sample_noise(gan: GAN, state: GANState, batch_size: int) -> tuple[GANState, jax.Array]:
    """Draws G's noise ``z ~ N(0, I)`` from the state's key.

    Args:
      gan: the GAN (its ``latent_shape``).
      state: the training state; its key is split.
      batch_size: how many noise vectors.

    Returns:
      ``(state with the new key, z)``, ``z`` float32 of shape ``(batch_size, *latent_shape)``.
    """
    state, key = take_key(state)
    return state, jax.random.normal(key, (batch_size, *gan.latent_shape), jnp.float32)


def init_player(network: Network, optimizer, key: jax.Array, sample_input: jax.Array) -> PlayerState:
    """Initialises one player's parameters, statistics and optimizer state.

    Args:
      network: the player's network.
      optimizer: its optax transformation.
      key: PRNG key for the parameters.
      sample_input: an input of the right shape (its values are not used).

    Returns:
      The player's :class:`~jaxgan.state.PlayerState`.
    """
    params, stats = network.init(key, sample_input)
    return PlayerState(params=params, stats=stats, opt_state=optimizer.init(params))


def init_state(gan: GAN, key: jax.Array) -> GANState:
    """Builds the initial :class:`GANState` from a PRNG key.

    D's input shape is found by tracing G (``jax.eval_shape``), so no data is needed. The key is
    split into G's init key, D's init key and the run's key.

    Args:
      gan: the GAN to initialise.
      key: a PRNG key (``jax.random.PRNGKey(seed)`` or ``jax.random.key(seed)``), or an int seed.

    Returns:
      The :class:`~jaxgan.state.GANState` at step 0.
    """
    if isinstance(key, int):
        key = jax.random.PRNGKey(key)
    elif jnp.issubdtype(jnp.result_type(key), jax.dtypes.prng_key):  # a typed key: its raw data
        key = jax.random.key_data(key)
    key = jnp.asarray(key)
    if key.shape != (2,) or key.dtype != jnp.uint32:
        raise TypeError(f"init_state needs a PRNG key (jax.random.PRNGKey(seed)) or an int seed, got {key.dtype}{list(key.shape)}")
    k_g, k_d, k_run = jax.random.split(key, 3)
    z = jnp.zeros((1, *gan.latent_shape), jnp.float32)
    g = init_player(gan.generator, gan.g_optimizer, k_g, z)
    x_struct = jax.eval_shape(lambda p, s: gan.generator.apply(p, s, z, False)[0], g.params, g.stats)
    x = jnp.zeros(x_struct.shape, jnp.float32)
    d = init_player(gan.discriminator, gan.d_optimizer, k_d, x)
    return GANState(g=g, d=d, step=zero_step(), key=k_run)
