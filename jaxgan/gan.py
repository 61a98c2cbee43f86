"""The static description of a GAN and the initial state built from it.

A :class:`GAN` bundles everything that does *not* change during training: the two networks (as pure
``init``/``apply`` pairs), their optax optimizers, the objective, the noise shape and the update
schedule. Step functions close over it; the changing part lives in :class:`jaxgan.state.GANState`.

**Class-conditional GANs.** A sample may be a pytree. With ``class_probs`` given, G's input is
``(z, y)`` and its output ``(x, y)`` (it passes its labels on), D's input is ``(x, y)`` and a real
batch is ``(images, labels)``: the steps see pytrees where the unconditional GAN has arrays, and
nothing else changes. :func:`sample_noise` draws G's labels ``y ~ Categorical(class_probs)`` (the
data's class frequencies) unless it is given them.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import optax

from jaxgan import losses
from jaxgan.networks import Network, as_network
from jaxgan.state import GANState, PlayerState, take_key, zero_step

__all__ = ["GAN", "d_schedule", "draw_noise", "example_noise", "init_state", "sample_labels", "sample_noise"]

# penalty(d_fn, real, fake, key) -> scalar added to D's loss (already weighted).
Penalty = Callable[[Callable, jax.Array, jax.Array, jax.Array], jax.Array]


def _class_probs(probs) -> tuple[float, ...]:
    """``probs`` normalised to sum to 1, as a tuple of floats; ``ValueError`` unless they can be."""
    try:
        probs = tuple(float(p) for p in probs)
    except TypeError:
        raise TypeError(f"class_probs must be a sequence of class frequencies, got {probs!r}") from None
    if len(probs) < 2 or min(probs) < 0 or not sum(probs) > 0:
        raise ValueError(f"class_probs must be at least 2 non-negative frequencies with a positive sum, got {probs}")
    total = sum(probs)
    return tuple(p / total for p in probs)


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
      class_probs: for a class-conditional GAN, the frequency of each class (e.g. the data's
        label counts; normalised here): G's labels are drawn from them. ``None`` (the default): an
        unconditional GAN.
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
    class_probs: Optional[tuple[float, ...]] = None

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
        if self.class_probs is not None:
            object.__setattr__(self, "class_probs", _class_probs(self.class_probs))

    @property
    def num_classes(self) -> Optional[int]:
        """The number of classes of a conditional GAN (``None`` for an unconditional one)."""
        return None if self.class_probs is None else len(self.class_probs)


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


def sample_noise(gan: GAN, state: GANState, batch_size: int, labels=None) -> tuple[GANState, Any]:
    """Draws G's noise ``z ~ N(0, I)`` from the state's key (and, if conditional, its labels).

    One key is split from the state and handed to :func:`draw_noise`.

    Args:
      gan: the GAN (its ``latent_shape``, and ``class_probs`` if conditional).
      state: the training state; its key is split.
      batch_size: how many noise vectors.
      labels: a conditional GAN's labels for G, int ``(batch_size,)``; ``None`` draws them.

    Returns:
      ``(state with the new key, noise)``, the noise as :func:`draw_noise` returns it.
    """
    state, key = take_key(state)
    return state, draw_noise(gan, key, batch_size, labels)


def draw_noise(gan: GAN, key: jax.Array, batch_size: int, labels=None) -> Any:
    """G's input for ``batch_size`` samples, drawn from ``key``.

    For a conditional GAN (``gan.class_probs``) G's input is ``(z, y)``: ``key`` is split into
    ``z``'s and ``y``'s, and ``y_i ~ Categorical(class_probs)`` independently, unless ``labels``
    are given (then ``y = labels``; ``z`` is the same either way).

    Args:
      gan: the GAN (its ``latent_shape``, and ``class_probs`` if conditional).
      key: PRNG key.
      batch_size: how many noise vectors.
      labels: a conditional GAN's labels for G, int ``(batch_size,)``; ``None`` draws them.

    Returns:
      ``z`` float32 of shape ``(batch_size, *latent_shape)``, or ``(z, y)`` with ``y`` int32
      ``(batch_size,)`` for a conditional GAN.
    """
    if gan.class_probs is None:
        if labels is not None:
            raise ValueError("labels are for a conditional GAN: give the GAN class_probs")
        return jax.random.normal(key, (batch_size, *gan.latent_shape), jnp.float32)
    z_key, y_key = jax.random.split(key)
    z = jax.random.normal(z_key, (batch_size, *gan.latent_shape), jnp.float32)
    if labels is None:
        labels = sample_labels(y_key, gan.class_probs, batch_size)
    labels = jnp.asarray(labels, jnp.int32)
    if labels.shape != (batch_size,):
        raise ValueError(f"labels must have shape ({batch_size},), got {labels.shape}")
    return z, labels


def sample_labels(key: jax.Array, class_probs, batch_size: int) -> jax.Array:
    """``batch_size`` labels ``y_i ~ Categorical(class_probs)``, independently.

    Args:
      key: PRNG key.
      class_probs: the classes' probabilities (summing to 1).
      batch_size: how many labels.

    Returns:
      int32 labels of shape ``(batch_size,)``.
    """
    log_p = jnp.log(jnp.asarray(class_probs, jnp.float32))
    return jax.random.categorical(key, log_p, shape=(batch_size,)).astype(jnp.int32)


def example_noise(gan: GAN) -> Any:
    """A batch of one of G's input, zeros: ``z``, or ``(z, y)`` for a conditional GAN."""
    z = jnp.zeros((1, *gan.latent_shape), jnp.float32)
    return z if gan.class_probs is None else (z, jnp.zeros((1,), jnp.int32))


def _zeros_like_struct(struct) -> jax.Array:
    """Zeros of a ``ShapeDtypeStruct``: float32 for floating leaves, the leaf's dtype otherwise (labels)."""
    dtype = jnp.float32 if jnp.issubdtype(struct.dtype, jnp.floating) else struct.dtype
    return jnp.zeros(struct.shape, dtype)


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
    z = example_noise(gan)
    g = init_player(gan.generator, gan.g_optimizer, k_g, z)
    x_struct = jax.eval_shape(lambda p, s: gan.generator.apply(p, s, z, False)[0], g.params, g.stats)
    x = jax.tree.map(_zeros_like_struct, x_struct)  # a pytree for a conditional G: (x, y)
    d = init_player(gan.discriminator, gan.d_optimizer, k_d, x)
    return GANState(g=g, d=d, step=zero_step(), key=k_run)
