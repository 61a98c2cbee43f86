"""pix2pix as pure functions: paired translation ``A -> B``, a conditional ``GANLoss`` plus L1.

Pairs ``(a, b)`` are given (e.g. ``(x, T(x))``); one generator ``G: A -> B`` and one discriminator
``D`` that judges a *pair*, ``D(concat(a, y))`` on channels (a conditional GAN: D sees the input it
should have been translated from). One iteration in the reference's order
(junyanz/pytorch-CycleGAN-and-pix2pix, ``Pix2PixModel.optimize_parameters``):

1. ``fake_b = G(a)`` (training mode: batch statistics, dropout from a fresh key);
2. **D step**: one update of D (``GANLoss.update_discriminator``) on the real pair
   ``concat(a, b)`` and the fake pair ``stop_gradient(concat(a, fake_b))``;
3. **G step**, against the *updated* D::

       L_G = g_loss(D_new(concat(a, fake_b))) + lambda_l1 mean|fake_b - b|

   differentiated through the same forward pass of step 1 (``jax.vjp``: one G evaluation per
   iteration, as in the reference).

**Losses** (the reference's ``gan_mode="vanilla"``, ``lambda_L1 = 100``): the reference's D loss
``0.5 [BCE(D(a, b), 1) + BCE(D(a, G(a)), 0)]`` (BCE with logits, the halved sum of its
``backward_D``) is :data:`VANILLA`'s ``d_loss``, half of jaxgan's non-saturating D loss; its G
loss ``BCE(D(a, G(a)), 1) = mean softplus(-D(a, G(a)))`` is the non-saturating G loss. The
optimizers are :func:`jaxgan.cyclegan.make_optimizer` (Adam 2e-4, beta1 0.5, constant then linear
decay to 0).

**Randomness**: the run's one key, ``state.key``, gives every random number. Each iteration takes
a key for the batch and one for G's dropout (:func:`jaxgan.state.take_key`). G is a
:func:`jaxgan.networks.from_linen` network whose dropout reads the key in
``stats[RNG_KEY]``; :func:`init_pix2pix` drops the key that ``from_linen`` seeds there, and every
call of G here puts the step's key in for that call and takes it out again (:func:`generate`). So
G's ``stats`` hold only its batch-norm averages, the masks differ from step to step, and the same
seed gives the same run (and a checkpoint of the state resumes it exactly).

**Batch norm**: G's running averages are updated once per iteration (its one forward pass). D is
only ever used in training mode (batch statistics), so its running averages matter to nothing; the
D step updates them (real pair, then fake pair) and the G step discards its own. :func:`translate`
runs G as the paper does at test time, on the test batch's statistics with dropout on
(``batch_statistics=False``: the running averages instead, the reference's ``--eval``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxgan import losses
from jaxgan.cyclegan import step_player
from jaxgan.gan import init_player
from jaxgan.gan_loss import GANLoss
from jaxgan.networks import RNG_KEY, Network
from jaxgan.state import PlayerState, take_key, zero_step

__all__ = [
    "VANILLA",
    "vanilla_discriminator_loss",
    "Pix2Pix",
    "Pix2PixState",
    "init_pix2pix",
    "pair",
    "generate",
    "build_discriminator_step",
    "build_generator_step",
    "build_train_step",
    "data_parallel",
    "translate",
]

Metrics = dict[str, jax.Array]


def vanilla_discriminator_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
    """The reference's vanilla D loss ``0.5 [BCE(real, 1) + BCE(fake, 0)]``, BCE with logits, means.

    ``= 0.5 (mean softplus(-real_logits) + mean softplus(fake_logits))``: half of
    :func:`jaxgan.losses.modified_discriminator_loss`.
    """
    return 0.5 * losses.modified_discriminator_loss(real_logits, fake_logits)


#: The reference's ``gan_mode="vanilla"``: the halved BCE D loss and the non-saturating G loss.
VANILLA = losses.Objective(vanilla_discriminator_loss, losses.get_objective("nonsaturating").g_loss, "probability")


@dataclasses.dataclass(frozen=True)
class Pix2Pix:
    """What a pix2pix model is made of (static; the changing part is :class:`Pix2PixState`).

    Attributes:
      generator: ``G: A -> B``, a :func:`jaxgan.networks.from_linen` network (``stats`` a dict).
      discriminator: D on ``concat(a, b)`` (``C_A + C_B`` channels).
      g_optimizer, d_optimizer: optax transformations.
      lambda_l1: the L1 term's weight (the reference's ``lambda_L1 = 100``).
      objective: the adversarial objective (name or ``losses.Objective``; default :data:`VANILLA`).
    """

    generator: Network
    discriminator: Network
    g_optimizer: optax.GradientTransformation
    d_optimizer: optax.GradientTransformation
    lambda_l1: float = 100.0
    objective: Any = VANILLA

    def __post_init__(self):
        object.__setattr__(self, "objective", losses.get_objective(self.objective))
        if self.lambda_l1 < 0:
            raise ValueError(f"lambda_l1 must be >= 0, got {self.lambda_l1}")

    @property
    def gan_loss(self) -> GANLoss:
        """D as a loss: judges pairs ``concat(a, b)``."""
        return GANLoss(self.discriminator, self.d_optimizer, self.objective)


class Pix2PixState(NamedTuple):
    """Everything of a pix2pix run that changes.

    Attributes:
      g: the generator (``stats``: its batch-norm averages).
      d: the discriminator.
      step: the iteration counter.
      key: the run's PRNG key (batches and dropout masks are split from it).
    """

    g: PlayerState
    d: PlayerState
    step: jax.Array
    key: jax.Array


def pair(a: jax.Array, b: jax.Array) -> jax.Array:
    """D's input: ``concat(a, b)`` on the channel axis, ``[N, H, W, C_A + C_B]``."""
    return jnp.concatenate([a, b], axis=-1)


def _without_key(stats):
    return {name: value for name, value in stats.items() if name != RNG_KEY}


def init_pix2pix(model: Pix2Pix, key: jax.Array, shape_a, shape_b) -> Pix2PixState:
    """Initialises a pix2pix state for images ``a`` of ``shape_a`` and ``b`` of ``shape_b``.

    The key is split 3 ways (G, D, the run). G's ``stats`` keep no PRNG key (module notes).

    Args:
      model: the :class:`Pix2Pix`.
      key: PRNG key.
      shape_a: ``(H, W, C_A)``.
      shape_b: ``(H, W, C_B)`` (same ``H, W``).

    Returns:
      The initial :class:`Pix2PixState`, step 0.

    Raises:
      ValueError: if the spatial shapes differ.
    """
    shape_a, shape_b = tuple(shape_a), tuple(shape_b)
    if shape_a[:2] != shape_b[:2]:
        raise ValueError(f"paired images need the same height and width, got {shape_a} and {shape_b}")

    def init(key):
        k_g, k_d, k_run = jax.random.split(key, 3)
        xa = jnp.zeros((1, *shape_a), jnp.float32)
        xab = jnp.zeros((1, *shape_a[:2], shape_a[2] + shape_b[2]), jnp.float32)
        g = init_player(model.generator, model.g_optimizer, k_g, xa)
        if not isinstance(g.stats, dict):
            raise TypeError("the pix2pix generator must be a from_linen network (its stats a dict)")
        g = g._replace(stats=_without_key(g.stats))
        return Pix2PixState(g=g, d=init_player(model.discriminator, model.d_optimizer, k_d, xab),
                            step=zero_step(), key=k_run)  # fmt: skip

    return jax.jit(init)(jnp.asarray(key))


def generate(network: Network, params, stats, images: jax.Array, key: jax.Array, train: bool = True):
    """``G(images)`` with ``key`` as this call's dropout key: ``(output, stats without the key)``.

    Args:
      network: G (a :func:`jaxgan.networks.from_linen` network).
      params: G's parameters.
      stats: G's statistics (no PRNG key in them).
      images: ``[N, H, W, C_A]``.
      key: PRNG key for this call's dropout masks.
      train: training mode (batch statistics, updated averages) or evaluation mode (running averages).

    Returns:
      ``(G(images), new stats)``; in evaluation mode the stats come back unchanged.
    """
    y, new_stats = network.apply(params, {**stats, RNG_KEY: key}, images, train)
    return y, _without_key(new_stats)


def build_discriminator_step(model: Pix2Pix) -> Callable:
    """Builds the D step: one update of D on the real and the fake pair; G passes through bit-identical.

    Args:
      model: the :class:`Pix2Pix`.

    Returns:
      ``d_step(state, real_a, real_b, fake_b) -> (state, metrics)``: ``d_loss`` (the halved BCE),
      ``d_real`` and ``d_fake`` (D's mean probability of "real" on each pair).
    """
    gan = model.gan_loss

    def d_step(state: Pix2PixState, real_a, real_b, fake_b):
        d, metrics = gan.update_discriminator(state.d, pair(real_a, fake_b), pair(real_a, real_b))
        return state._replace(d=d), metrics

    return d_step


def _generator_update(model: Pix2Pix, state: Pix2PixState, real_a, real_b, fake_b, pullback, g_stats):
    """G's update from its forward pass (``fake_b`` and its ``jax.vjp`` pullback) against ``state.d``."""
    gan, lam = model.gan_loss, model.lambda_l1

    def loss_of_fake(fake):
        adv, d_metrics = gan.generator_loss(state.d, pair(real_a, fake), pair(real_a, real_b))
        l1 = jnp.mean(jnp.abs(fake - real_b))
        total = adv + lam * l1
        return total, {"g_adv": adv, "l1_loss": l1, "g_loss": total, **d_metrics}

    grad_fake, metrics = jax.grad(loss_of_fake, has_aux=True)(fake_b)
    (grads,) = pullback(grad_fake)
    return state._replace(g=step_player(model.g_optimizer, state.g, grads, g_stats)), metrics


def build_generator_step(model: Pix2Pix) -> Callable:
    """Builds the G step against a fixed D; D passes through bit-identical.

    ``L_G = g_loss(D(concat(a, G(a)))) + lambda_l1 mean|G(a) - b|`` (module notes), G in training
    mode with dropout from ``key``; D's parameters are constants and its statistics from this
    evaluation are discarded.

    Args:
      model: the :class:`Pix2Pix`.

    Returns:
      ``g_step(state, real_a, real_b, key) -> (state, fake_b, metrics)``: ``fake_b`` is ``G(a)``
      before the update; metrics ``g_adv``, ``l1_loss``, ``g_loss``, ``d_fake_after``.
    """

    def g_step(state: Pix2PixState, real_a, real_b, key):
        forward = lambda params: generate(model.generator, params, state.g.stats, real_a, key)
        fake_b, pullback, g_stats = jax.vjp(forward, state.g.params, has_aux=True)
        state, metrics = _generator_update(model, state, real_a, real_b, fake_b, pullback, g_stats)
        return state, fake_b, metrics

    return g_step


def build_train_step(model: Pix2Pix, batch_fn) -> Callable:
    """Builds one pix2pix iteration: ``G(a)``, the D step on it, then the G step against the new D.

    Args:
      model: the :class:`Pix2Pix`.
      batch_fn: ``batch_fn(data, key, index) -> (real_a, real_b)``, aligned pairs (e.g.
        :func:`jaxgan.data.aligned.paired_batches`), called with ``index = state.step``.

    Returns:
      ``train_step(state, data) -> (state, metrics)``, which increments ``state.step``; run it with
      :func:`jaxgan.fit`.
    """
    d_step = build_discriminator_step(model)

    def train_step(state: Pix2PixState, data):
        state, batch_key = take_key(state)
        state, dropout_key = take_key(state)
        real_a, real_b = batch_fn(data, batch_key, state.step)
        forward = lambda params: generate(model.generator, params, state.g.stats, real_a, dropout_key)
        fake_b, pullback, g_stats = jax.vjp(forward, state.g.params, has_aux=True)
        state, d_metrics = d_step(state, real_a, real_b, fake_b)
        state, g_metrics = _generator_update(model, state, real_a, real_b, fake_b, pullback, g_stats)
        return state._replace(step=state.step + 1), {**d_metrics, **g_metrics}

    return train_step


def data_parallel(model: Pix2Pix, mesh) -> Pix2Pix:
    """Makes pix2pix data-parallel: both networks' input batches split over the mesh's ``data`` axis.

    Batch statistics stay those of the whole batch (the mean over the batch axis is computed
    across devices). A state from :func:`init_pix2pix`, replicated, serves it.

    Args:
      model: the :class:`Pix2Pix`.
      mesh: the device mesh.

    Returns:
      The data-parallel :class:`Pix2Pix`.
    """
    from jaxgan.parallel.sharding import data_parallel_network

    return dataclasses.replace(model, generator=data_parallel_network(model.generator, mesh),
                               discriminator=data_parallel_network(model.discriminator, mesh))  # fmt: skip


def translate(network: Network, player: PlayerState, images: jax.Array, key: jax.Array,
              batch_statistics: bool = True) -> jax.Array:  # fmt: skip
    """Translates images as the paper does at test time: dropout on, the test batch's statistics.

    Args:
      network: G (``model.generator``).
      player: its state (``state.g``).
      images: ``[N, H, W, C_A]``; with ``batch_statistics`` each output depends on the whole batch.
      key: PRNG key for the dropout masks (another key, another sample of ``G(a, z)``).
      batch_statistics: ``False`` uses the running averages instead (the reference's ``--eval``).

    Returns:
      ``G(images)``, ``[N, H, W, C_B]``.
    """
    return generate(network, player.params, player.stats, images, key, train=batch_statistics)[0]
