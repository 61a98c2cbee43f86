"""The discriminator as a loss function (the lecture's ``GANLoss``), written functionally.

The lecture's modular GAN wraps D and its optimizer in a loss: ``gan_loss(fake_X, real_X)`` first
updates D on ``(real_X, fake_X.detach())`` and then returns G's loss ``-log D(fake_X)`` computed with
the *updated* D. Here the same thing is a pure function of D's explicit state::

    gan_loss = GANLoss(discriminator, d_optimizer, "softmax")   # discriminator: a Network
    d_state = gan_loss.init(key, sample_real)

    def generator_loss(g_params, d_state):
        fake, g_stats = generator.apply(g_params, g_stats_now, z, True)
        loss, (d_state, metrics) = gan_loss(d_state, fake, real)
        return loss + other_terms, (g_stats, d_state)   # other_terms: e.g. CycleGAN's cycle loss

    (loss, (g_stats, d_state)), g_grads = jax.value_and_grad(generator_loss, has_aux=True)(g_params, d_state)

:func:`build_modular_train_step` is this loop for a :class:`~jaxgan.gan.GAN`.

D's update inside uses ``stop_gradient(fake)``, so differentiating the returned loss with respect to
G's parameters flows only through ``D_new(fake)`` (D's new parameters are constants to G).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional

import jax
import optax

from jaxgan import losses
from jaxgan.gan import init_player, sample_noise
from jaxgan.networks import Network
from jaxgan.state import PlayerState, take_key
from jaxgan.steps import batch_size_of, d_output_metrics, discriminator_update, generator_update, take_batch_key

__all__ = ["GANLoss", "build_modular_train_step"]


@dataclasses.dataclass(frozen=True)
class GANLoss:
    """D, its optimizer and an objective, used as G's loss.

    ``__call__(d_state, fake, real, key=None) -> (g_loss, (new_d_state, metrics))``:

    1. ``d_state <- one optimizer step on d_loss(D(real), D(stop_gradient(fake))) [+ penalty]``;
    2. ``g_loss = objective.g_loss(D_new(fake) [, D_new(real)])`` (D's new statistics from this
       evaluation are discarded).
    """

    discriminator: Network
    optimizer: optax.GradientTransformation
    objective: Any = "softmax"
    penalty: Optional[Callable] = None
    concat_real_fake: bool = False

    def __post_init__(self):
        object.__setattr__(self, "objective", losses.get_objective(self.objective))

    def init(self, key: jax.Array, sample_input: jax.Array) -> PlayerState:
        """D's initial parameters, statistics and optimizer state.

        Args:
          key: PRNG key for D's parameters.
          sample_input: a batch shaped like D's input (values unused).

        Returns:
          D's :class:`~jaxgan.state.PlayerState`.
        """
        return init_player(self.discriminator, self.optimizer, key, sample_input)

    def update_discriminator(self, d_state: PlayerState, fake, real, key=None):
        """Only the D update (step 1).

        Args:
          d_state: D's state.
          fake: generated samples (their gradient is stopped).
          real: real samples.
          key: PRNG key; required when there is a penalty (it may draw random numbers).

        Returns:
          ``(new_d_state, metrics)``, as :func:`jaxgan.steps.discriminator_update`.
        """
        if self.penalty is not None and key is None:
            raise ValueError("GANLoss with a penalty needs a PRNG key: gan_loss(d_state, fake, real, key)")
        return discriminator_update(
            self.discriminator,
            self.optimizer,
            self.objective,
            d_state,
            real,
            fake,
            key,
            penalty=self.penalty,
            concat=self.concat_real_fake,
        )

    def generator_loss(self, d_state: PlayerState, fake, real=None):
        """Only G's loss against a fixed D (step 2).

        Args:
          d_state: D's state (its parameters are constants here).
          fake: generated samples; the loss is differentiable with respect to them.
          real: real samples, for objectives whose G loss needs them (relativistic).

        Returns:
          ``(g_loss, metrics)``: the loss and D's mean output on ``fake`` (``d_fake_after``, or
          ``d_fake_after_score`` for a critic; :func:`jaxgan.steps.d_output_metrics`).
        """
        real_logits = None
        if self.objective.generator_needs_real:
            real_logits, _ = self.discriminator.apply(d_state.params, d_state.stats, real, True)
            real_logits = jax.lax.stop_gradient(real_logits)
        params = jax.lax.stop_gradient(d_state.params)
        fake_logits, _ = self.discriminator.apply(params, d_state.stats, fake, True)
        return self.objective.g_loss(fake_logits, real_logits), d_output_metrics(self.objective, d_fake_after=fake_logits)

    def __call__(self, d_state: PlayerState, fake, real, key=None):
        """D's update on ``(real, fake)``, then G's loss against the updated D.

        Args:
          d_state: D's state.
          fake: generated samples; the loss is differentiable with respect to them.
          real: real samples.
          key: PRNG key; required when there is a penalty.

        Returns:
          ``(g_loss, (new_d_state, metrics))``; metrics are D's update's plus ``g_loss`` and
          ``d_fake_after``.
        """
        d_state, metrics = self.update_discriminator(d_state, fake, real, key)
        g_loss, d_fake = self.generator_loss(d_state, fake, real)
        return g_loss, (d_state, {**metrics, "g_loss": g_loss, **d_fake})


def build_modular_train_step(gan, batch_fn):
    """The lecture's modular loop as ``train_step(state, data)``: G's loss *is* the GANLoss.

    Per iteration: ``real = batch_fn(...)``, ``z ~ N(0, I)``, then one G update on
    ``GANLoss(d_state, G(z), real)``, which updates D inside. Keys are drawn from the state in the
    same order as :func:`jaxgan.steps.build_train_step`, so with ``n_critic == 1`` and
    ``reuse_noise`` both loops compute the same thing (the lecture's two versions).

    Args:
      gan: the GAN (``n_critic == 1`` and ``reuse_noise``).
      batch_fn: ``batch_fn(data, key, index) -> real batch``.

    Returns:
      ``train_step(state, data) -> (state, metrics)``, not compiled.

    Raises:
      ValueError: for ``n_critic > 1`` or without ``reuse_noise``.
    """

    if gan.n_critic != 1 or not gan.reuse_noise:
        raise ValueError("the modular (GANLoss) loop does one D update per G update on the same noise")
    gan_loss = GANLoss(gan.discriminator, gan.d_optimizer, gan.objective, gan.d_penalty, gan.concat_real_fake)

    def train_step(state, data):
        state, batch_key = take_batch_key(state, batch_fn)
        real = batch_fn(data, batch_key, state.step)
        state, z = sample_noise(gan, state, batch_size_of(real))
        d_key = None
        if gan.d_penalty is not None:  # as in build_d_step
            state, d_key = take_key(state)

        def loss_fn(g_params):
            fake, g_stats = gan.generator.apply(g_params, state.g.stats, z, True)
            loss, (d_state, metrics) = gan_loss(state.d, fake, real, d_key)
            return loss, (g_stats, d_state, metrics)

        (_, (g_stats, d_state, metrics)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            state.g.params
        )
        return generator_update(gan, state._replace(d=d_state), grads, g_stats), metrics

    return train_step
