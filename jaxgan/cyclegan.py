"""CycleGAN as pure functions: two translators, each trained against its own ``GANLoss``.

Domains A and B; translators ``G_AB: A -> B`` and ``G_BA: B -> A``; discriminators ``D_A`` (real A
vs ``G_BA(b)``) and ``D_B`` (real B vs ``G_AB(a)``). (The reference names them by generator:
its ``G_A`` is our ``G_AB``, ``G_B`` is ``G_BA``, its ``D_A`` judges domain B and is our ``D_B``.)

One iteration, in the reference's order (junyanz/pytorch-CycleGAN-and-pix2pix,
``CycleGANModel.optimize_parameters``):

1. **Generator step** (both discriminators fixed): ``fake_b = G_AB(a)``, ``rec_a = G_BA(fake_b)``,
   ``fake_a = G_BA(b)``, ``rec_b = G_AB(fake_a)``, ``idt_b = G_AB(b)``, ``idt_a = G_BA(a)``;
   both translators take one step on::

       L_G = w_adv [g_loss(D_B(fake_b)) + g_loss(D_A(fake_a))]           (GANLoss.generator_loss)
           + 2 lambda cycle_consistency_loss(a, rec_a, b, rec_b)
           + 2 lambda_idt lambda identity_loss(a, idt_a, b, idt_b)

2. **Discriminator step** on the fakes of step 1 (made by the translators *before* their update,
   as in the reference), each passed through its image pool: ``D_A`` on ``(a, pool_A(fake_a))`` and
   ``D_B`` on ``(b, pool_B(fake_b))`` with ``GANLoss.update_discriminator``.

**How the reference's losses map onto** :mod:`jaxgan.losses` (objective ``"least_squares"``):

* D: reference ``0.5 [MSE(D(real), 1) + MSE(D(fake), 0)]`` (the D loss halved) is exactly
  ``least_squares_discriminator_loss`` (``1/2 E(D(x)-1)^2 + 1/2 E D(G(z))^2``): no extra factor.
* G adversarial: reference ``MSE(D(G(x)), 1)`` = ``2 * least_squares_generator_loss``
  (``1/2 E(D(G(x))-1)^2``), hence ``w_adv = 2`` (``adversarial_weight=None`` picks 2 for
  ``"least_squares"`` and 1 for any other objective).
* cycle: reference ``lambda_A L1(rec_a, a) + lambda_B L1(rec_b, b)`` with ``lambda_A = lambda_B = 10``;
  ``cycle_consistency_loss`` is the *mean* of the two L1 terms, hence ``2 lambda``.
* identity: reference ``lambda_idt (lambda_B L1(idt_b, b) + lambda_A L1(idt_a, a))`` with
  ``lambda_idt = 0.5``; ``identity_loss`` is the mean of the two, hence ``2 lambda_idt lambda``.

So with the defaults ``L_G = MSE_B + MSE_A + 10 (L1_cyc_A + L1_cyc_B) + 5 (L1_idt_A + L1_idt_B)``,
the reference's loss term for term (a test checks it).

One Adam over both translators' parameters (the reference's ``optimizer_G``) equals one Adam per
translator with the same schedule (Adam is element-wise and both take a step every iteration), so
each player keeps its own optimizer state; likewise for the discriminators.

**Image pool** (:func:`query_pool`): a ring buffer of ``pool_size`` past fakes in the state. While
filling, each new fake is stored (at the next slot) and returned; once full, with probability 1/2
a uniformly chosen stored fake is returned and replaced by the new one, otherwise the new fake is
returned and the pool is unchanged. Images of a batch are processed in order, draws from the key.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import optax

from jaxgan import losses
from jaxgan.gan import init_player
from jaxgan.gan_loss import GANLoss
from jaxgan.networks import Network
from jaxgan.state import PlayerState, take_key, zero_step

__all__ = [
    "CycleGAN",
    "CycleGANState",
    "ImagePool",
    "init_pool",
    "query_pool",
    "init_cyclegan",
    "linear_decay_schedule",
    "make_optimizer",
    "step_player",
    "build_generator_step",
    "build_discriminator_step",
    "build_train_step",
    "translate",
]

Metrics = dict[str, jax.Array]


# ----------------------------------------------------------------------------- the image pool


class ImagePool(NamedTuple):
    """The image pool's state: a ring buffer of past fakes.

    Attributes:
      images: ``[pool_size, H, W, C]`` stored fakes (zeros where none is stored yet).
      count: int32 scalar, how many are stored.
    """

    images: jax.Array
    count: jax.Array


def init_pool(pool_size: int, image_shape) -> ImagePool:
    """Makes an empty image pool.

    Args:
      pool_size: how many images it stores (0: no pool).
      image_shape: ``(H, W, C)``.

    Returns:
      An :class:`ImagePool` with ``count = 0``.

    Raises:
      ValueError: if ``pool_size`` is negative.
    """
    if pool_size < 0:
        raise ValueError(f"pool size must be >= 0, got {pool_size}")
    return ImagePool(jnp.zeros((pool_size, *image_shape), jnp.float32), jnp.zeros((), jnp.int32))


def query_pool(pool: ImagePool, images: jax.Array, key: jax.Array) -> tuple[ImagePool, jax.Array]:
    """Passes a batch of fakes through the pool: the reference's ``ImagePool.query`` as a pure function.

    For each image ``x`` of the batch, in order (``n = pool_size``, ``c = count``):

    * ``c < n`` (filling): store ``x`` at slot ``c``, return ``x``;
    * ``c = n`` (full): draw ``u ~ U[0, 1)``; if ``u > 1/2``, draw ``i ~ U{0..n-1}``, return the
      stored ``pool[i]`` and store ``x`` there; else return ``x``.

    A pool of size 0 returns the batch unchanged. The images are stored without gradient.

    Args:
      pool: the pool's state.
      images: ``[B, H, W, C]`` new fakes.
      key: PRNG key for the draws (split per image).

    Returns:
      ``(new pool, [B, H, W, C] images for D)``.
    """
    size = pool.images.shape[0]
    if size == 0:
        return pool, images
    images = jax.lax.stop_gradient(images).astype(pool.images.dtype)

    def one(pool: ImagePool, inputs):
        image, k = inputs
        k_coin, k_slot = jax.random.split(k)
        full = pool.count >= size
        swap = full & (jax.random.uniform(k_coin) > 0.5)
        slot = jnp.where(full, jax.random.randint(k_slot, (), 0, size), pool.count)
        stored = pool.images[slot]
        keep_new = jnp.logical_not(full) | swap
        new_images = pool.images.at[slot].set(jnp.where(keep_new, image, stored))
        count = jnp.minimum(pool.count + 1, size)
        return ImagePool(new_images, count), jnp.where(swap, stored, image)

    keys = jax.random.split(key, images.shape[0])
    return jax.lax.scan(one, pool, (images, keys))


# ----------------------------------------------------------------------------- optimizers


def linear_decay_schedule(lr: float, constant_steps: int, decay_steps: int) -> optax.Schedule:
    """Makes the reference's step size: constant, then decaying linearly to 0.

    ``lr(t) = lr * (1 - clip((t - constant_steps) / decay_steps, 0, 1))``. The reference decays per
    epoch, ``lr (1 - max(0, e + 1 - n_epochs) / (n_epochs_decay + 1))``, which stops one step short
    of 0; this is its per-iteration form reaching 0 at the last iteration.

    Args:
      lr: the initial step size.
      constant_steps: steps at ``lr``.
      decay_steps: steps of the linear decay (0: constant throughout).

    Returns:
      An ``optax.Schedule``.

    Raises:
      ValueError: if either count is negative.
    """
    if constant_steps < 0 or decay_steps < 0:
        raise ValueError(f"steps must be >= 0, got {constant_steps} and {decay_steps}")
    if decay_steps == 0:
        return optax.constant_schedule(lr)
    return optax.linear_schedule(lr, 0.0, decay_steps, transition_begin=constant_steps)


def make_optimizer(lr: float = 2e-4, constant_steps: int = 0, decay_steps: int = 0, b1: float = 0.5):
    """Makes the reference's optimizer: ``Adam(lr, betas=(0.5, 0.999))`` on a linear decay.

    The step size follows :func:`linear_decay_schedule`.

    Args:
      lr: the initial step size.
      constant_steps: steps at ``lr``.
      decay_steps: steps of the linear decay to 0.
      b1: Adam's first-moment decay.

    Returns:
      An ``optax.GradientTransformation``.
    """
    return optax.adam(linear_decay_schedule(lr, constant_steps, decay_steps), b1=b1, b2=0.999)


# ----------------------------------------------------------------------------- model and state


@dataclasses.dataclass(frozen=True)
class CycleGAN:
    """What a CycleGAN is made of (static; the changing part is :class:`CycleGANState`).

    Attributes:
      generator_ab, generator_ba: the translators ``A -> B`` and ``B -> A`` (Networks).
      discriminator_a, discriminator_b: ``D_A`` judges domain A images, ``D_B`` domain B ones.
      g_optimizer, d_optimizer: optax transformations (one state per player).
      objective: adversarial objective of both GANLosses (name or ``losses.Objective``).
      lambda_cycle: the reference's ``lambda_A = lambda_B`` (10).
      lambda_identity: the reference's ``lambda_identity`` (0.5): identity weight = it x lambda_cycle.
      adversarial_weight: ``w_adv`` (module notes); ``None``: 2 for least squares, else 1.
      pool_size: images per pool (50; 0 = no pool).
    """

    generator_ab: Network
    generator_ba: Network
    discriminator_a: Network
    discriminator_b: Network
    g_optimizer: optax.GradientTransformation
    d_optimizer: optax.GradientTransformation
    objective: Any = "least_squares"
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    adversarial_weight: Optional[float] = None
    pool_size: int = 50

    def __post_init__(self):
        if self.adversarial_weight is None:
            weight = 2.0 if self.objective == "least_squares" else 1.0
            object.__setattr__(self, "adversarial_weight", weight)
        object.__setattr__(self, "objective", losses.get_objective(self.objective))
        if self.pool_size < 0:
            raise ValueError(f"pool_size must be >= 0, got {self.pool_size}")

    @property
    def gan_loss_a(self) -> GANLoss:
        """``D_A`` as a loss: judges ``G_BA``'s outputs against real A images."""
        return GANLoss(self.discriminator_a, self.d_optimizer, self.objective)

    @property
    def gan_loss_b(self) -> GANLoss:
        """``D_B`` as a loss: judges ``G_AB``'s outputs against real B images."""
        return GANLoss(self.discriminator_b, self.d_optimizer, self.objective)


class CycleGANState(NamedTuple):
    """Everything of a CycleGAN run that changes: the four players, the two pools, the step and the key.

    Attributes:
      g_ab: the translator ``A -> B``.
      g_ba: the translator ``B -> A``.
      d_a: ``D_A``, judging domain A.
      d_b: ``D_B``, judging domain B.
      pool_a: past ``G_BA(b)`` for ``D_A``.
      pool_b: past ``G_AB(a)`` for ``D_B``.
      step: the iteration counter.
      key: the run's PRNG key.
    """

    g_ab: PlayerState
    g_ba: PlayerState
    d_a: PlayerState
    d_b: PlayerState
    pool_a: ImagePool
    pool_b: ImagePool
    step: jax.Array
    key: jax.Array


def init_cyclegan(model: CycleGAN, key: jax.Array, shape_a, shape_b) -> CycleGANState:
    """Initialises a CycleGAN's state for images of ``shape_a`` and ``shape_b``.

    The key is split 5 ways (four players and the run). Compiled as one program (initialising a
    conv net op by op dispatches hundreds of small ops).

    Args:
      model: the :class:`CycleGAN`.
      key: PRNG key.
      shape_a: ``(H, W, C_A)`` of domain A's images.
      shape_b: ``(H, W, C_B)`` of domain B's images.

    Returns:
      The initial :class:`CycleGANState`, with empty pools and step 0.

    Raises:
      ValueError: if the identity loss is on (``lambda_identity > 0``) and the shapes differ.
    """
    shape_a, shape_b = tuple(shape_a), tuple(shape_b)
    if model.lambda_identity > 0 and shape_a != shape_b:
        raise ValueError(f"the identity loss needs equal image shapes, got {shape_a} and {shape_b}")

    def init(key):
        k_ab, k_ba, k_da, k_db, k_run = jax.random.split(key, 5)
        xa, xb = jnp.zeros((1, *shape_a), jnp.float32), jnp.zeros((1, *shape_b), jnp.float32)
        return CycleGANState(
            g_ab=init_player(model.generator_ab, model.g_optimizer, k_ab, xa),
            g_ba=init_player(model.generator_ba, model.g_optimizer, k_ba, xb),
            d_a=init_player(model.discriminator_a, model.d_optimizer, k_da, xa),
            d_b=init_player(model.discriminator_b, model.d_optimizer, k_db, xb),
            pool_a=init_pool(model.pool_size, shape_a),
            pool_b=init_pool(model.pool_size, shape_b),
            step=zero_step(),
            key=k_run,
        )

    return jax.jit(init)(jnp.asarray(key))


# ----------------------------------------------------------------------------- steps


def step_player(optimizer, player: PlayerState, grads, stats) -> PlayerState:
    """One optimizer update of a player: new parameters and optimizer state, with its new ``stats``."""
    updates, opt_state = optimizer.update(grads, player.opt_state, player.params)
    return PlayerState(optax.apply_updates(player.params, updates), stats, opt_state)


def build_generator_step(model: CycleGAN) -> Callable:
    """Builds the generator step: one update of both translators with ``D_A`` and ``D_B`` fixed.

    Only the translators' parameters are differentiated; discriminators and pools pass through
    bit-identical. The returned fakes (made before the update) feed the discriminator step.

    Args:
      model: the :class:`CycleGAN`.

    Returns:
      ``g_step(state, real_a, real_b) -> (state, (fake_a, fake_b), metrics)``, ``L_G`` as in the
      module notes.
    """
    gan_a, gan_b = model.gan_loss_a, model.gan_loss_b
    g_ab, g_ba = model.generator_ab, model.generator_ba
    w_adv, lam, lam_idt = model.adversarial_weight, model.lambda_cycle, model.lambda_identity

    def loss_fn(params, state: CycleGANState, real_a, real_b):
        p_ab, p_ba = params
        fake_b, s_ab = g_ab.apply(p_ab, state.g_ab.stats, real_a, True)
        rec_a, s_ba = g_ba.apply(p_ba, state.g_ba.stats, fake_b, True)
        fake_a, s_ba = g_ba.apply(p_ba, s_ba, real_b, True)
        rec_b, s_ab = g_ab.apply(p_ab, s_ab, fake_a, True)
        adv_ab, d_b_fake = gan_b.generator_loss(state.d_b, fake_b, real_b)
        adv_ba, d_a_fake = gan_a.generator_loss(state.d_a, fake_a, real_a)
        cycle = losses.cycle_consistency_loss(real_a, rec_a, real_b, rec_b)
        total = w_adv * (adv_ab + adv_ba) + 2.0 * lam * cycle
        # D's output on the translations before its own step: d_fake_after(_score) -> d_b_fake_before(_score)
        before = {**{k.replace("d_fake_after", "d_b_fake_before"): v for k, v in d_b_fake.items()},
                  **{k.replace("d_fake_after", "d_a_fake_before"): v for k, v in d_a_fake.items()}}
        metrics = {"g_adv_ab": adv_ab, "g_adv_ba": adv_ba, "cycle_loss": cycle, **before}
        if lam_idt > 0:
            idt_b, s_ab = g_ab.apply(p_ab, s_ab, real_b, True)
            idt_a, s_ba = g_ba.apply(p_ba, s_ba, real_a, True)
            idt = losses.identity_loss(real_a, idt_a, real_b, idt_b)
            total = total + 2.0 * lam_idt * lam * idt
            metrics["identity_loss"] = idt
        metrics["g_loss"] = total
        return total, ((s_ab, s_ba), (fake_a, fake_b), metrics)

    def g_step(state: CycleGANState, real_a: jax.Array, real_b: jax.Array):
        params = (state.g_ab.params, state.g_ba.params)
        grads, ((s_ab, s_ba), fakes, metrics) = jax.grad(loss_fn, has_aux=True)(params, state, real_a, real_b)
        new_ab = step_player(model.g_optimizer, state.g_ab, grads[0], s_ab)
        new_ba = step_player(model.g_optimizer, state.g_ba, grads[1], s_ba)
        return state._replace(g_ab=new_ab, g_ba=new_ba), fakes, metrics

    return g_step


def build_discriminator_step(model: CycleGAN) -> Callable:
    """Builds the discriminator step: the pools, then one update of each discriminator.

    ``D_A`` is updated on ``(real_a, pool_A(fake_a))`` and ``D_B`` on ``(real_b, pool_B(fake_b))``,
    each with ``GANLoss.update_discriminator`` (``stop_gradient`` on the fakes); the translators
    pass through bit-identical. Keys for the two pools and two D updates are split from the state.

    Args:
      model: the :class:`CycleGAN`.

    Returns:
      ``d_step(state, real_a, real_b, fake_a, fake_b) -> (state, metrics)``; the metrics are
      ``GANLoss``'s with ``_a`` and ``_b`` suffixes.
    """
    gan_a, gan_b = model.gan_loss_a, model.gan_loss_b

    def d_step(state: CycleGANState, real_a, real_b, fake_a, fake_b):
        state, k_pool_a = take_key(state)
        state, k_pool_b = take_key(state)
        state, k_d_a = take_key(state)
        state, k_d_b = take_key(state)
        pool_a, pooled_a = query_pool(state.pool_a, fake_a, k_pool_a)
        pool_b, pooled_b = query_pool(state.pool_b, fake_b, k_pool_b)
        d_a, m_a = gan_a.update_discriminator(state.d_a, pooled_a, real_a, k_d_a)
        d_b, m_b = gan_b.update_discriminator(state.d_b, pooled_b, real_b, k_d_b)
        metrics = {**{f"{k}_a": v for k, v in m_a.items()}, **{f"{k}_b": v for k, v in m_b.items()}}
        return state._replace(d_a=d_a, d_b=d_b, pool_a=pool_a, pool_b=pool_b), metrics

    return d_step


def build_train_step(model: CycleGAN, batch_fn) -> Callable:
    """Builds one CycleGAN iteration: the generator step, then the discriminator step.

    Args:
      model: the :class:`CycleGAN`.
      batch_fn: ``batch_fn(data, key, index) -> (real_a, real_b)`` (e.g.
        :func:`jaxgan.data.unpaired.unpaired_batches`), called with ``index = state.step``.

    Returns:
      ``train_step(state, data) -> (state, metrics)``, which increments ``state.step``; run it
      with :func:`jaxgan.fit`.
    """
    g_step, d_step = build_generator_step(model), build_discriminator_step(model)

    def train_step(state: CycleGANState, data):
        state, batch_key = take_key(state)
        real_a, real_b = batch_fn(data, batch_key, state.step)
        state, (fake_a, fake_b), g_metrics = g_step(state, real_a, real_b)
        state, d_metrics = d_step(state, real_a, real_b, fake_a, fake_b)
        return state._replace(step=state.step + 1), {**g_metrics, **d_metrics}

    return train_step


def data_parallel(model: CycleGAN, mesh) -> CycleGAN:
    """Makes a CycleGAN data-parallel: every network's input batch split over the mesh's ``data`` axis.

    Each network is wrapped by :func:`jaxgan.parallel.sharding.data_parallel_network`. The
    parameters are the same, so a state made by :func:`init_cyclegan` for ``model`` serves it,
    replicated (:func:`jaxgan.parallel.sharding.replicate`); instance normalisation is per image,
    so nothing else changes. A 1-device mesh changes nothing.

    Args:
      model: the :class:`CycleGAN`.
      mesh: the device mesh.

    Returns:
      The data-parallel :class:`CycleGAN`.
    """
    from jaxgan.parallel.sharding import data_parallel_network

    fields = ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b")
    return dataclasses.replace(model, **{f: data_parallel_network(getattr(model, f), mesh) for f in fields})


def translate(network: Network, player: PlayerState, images: jax.Array) -> jax.Array:
    """Translates images with one translator, in evaluation mode.

    Instance norm has no running statistics, so evaluation computes what training does.

    Args:
      network: the translator's network (e.g. ``model.generator_ab``).
      player: its state (e.g. ``state.g_ab``).
      images: ``[N, H, W, C]`` images of its source domain.

    Returns:
      ``G(images)``, ``[N, H, W, C_out]``.
    """
    return network.apply(player.params, player.stats, images, False)[0]
