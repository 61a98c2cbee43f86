"""The D step, the G step and the fused training step: pure functions of the state.

For a GAN with objective ``(d_loss, g_loss)``:

* **D step** (G fixed): ``fake = stop_gradient(G(z))``;
  ``theta_D <- opt_D(grad_D d_loss(D(x), D(fake)) [+ penalty])``. G's state is untouched.
* **G step** (D fixed): ``theta_G <- opt_G(grad_G g_loss(D(G(z))))``. Only G's parameters are
  differentiated, so no gradient of D is ever formed; D's parameters, statistics and optimizer
  state pass through bit-identical (D runs in training mode but its updated BatchNorm statistics
  are dropped; PyTorch's reference silently updates them in its G step).
* **train step**: ``n_critic`` D steps, then one G step (see :class:`jaxgan.gan.GAN`). With the
  lecture's "same ``Z``", the last D step and the G step share one forward pass of G
  (:func:`build_d_then_g_step`), as PyTorch's DCGAN example shares its ``fake`` batch.

Samples may be pytrees: a class-conditional GAN's real batch and G's output are ``(images,
labels)`` and D takes them as they are (:mod:`jaxgan.gan`); a D whose output is a pytree (an
auxiliary classifier's ``(logit, class logits, labels)``) puts its real-vs-fake logit first, which
the read-outs (:func:`d_output_metrics`) use.

``build_*`` return the raw functions, to compose (under ``scan``, ``vmap``, your own ``jit``...);
``make_*`` return them ``jax.jit``-compiled. The caller's state stays valid after a compiled step
unless the step is made with ``donate=True``, which lets XLA write the new state into the old one's
buffers (less memory; the old state is then deleted and must not be touched again).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import optax

from jaxgan.gan import GAN, sample_noise
from jaxgan.networks import Network
from jaxgan.state import GANState, PlayerState, take_key

__all__ = [
    "real_log_odds",
    "prob_real",
    "d_output_metrics",
    "discriminator_update",
    "generator_update",
    "build_d_step",
    "build_g_step",
    "build_d_then_g_step",
    "build_train_step",
    "make_d_step",
    "make_g_step",
    "make_train_step",
    "take_batch_key",
    "batch_size_of",
]

Metrics = dict[str, jax.Array]
# batch_fn(data, key, index) -> real batch; index counts D steps from 0.
BatchFn = Callable[[Any, jax.Array, jax.Array], jax.Array]


def real_log_odds(logits: jax.Array) -> jax.Array:
    """The log-odds ``log(P(real) / P(fake)) = l_1 - l_0`` of a 2-logit head (class 1 = real).

    Args:
      logits: ``[..., 2]`` logits.

    Returns:
      ``logits[..., 1] - logits[..., 0]``.
    """
    return logits[..., 1] - logits[..., 0]


def prob_real(logits: jax.Array) -> jax.Array:
    """Mean probability D assigns to "real": softmax class 1 for 2-logit heads, else sigmoid.

    For two logits ``softmax(l)_1 = sigmoid(l_1 - l_0)``, computed in that form: one element-wise
    pass instead of softmax's max, exp, sum and divide.

    Args:
      logits: D's logits, ``[..., 2]`` (a softmax head: ``[batch, 2]``, or per patch) or any other
        shape (sigmoid logits).

    Returns:
      A float32 scalar in ``[0, 1]``.
    """
    logits = logits.astype(jnp.float32)
    if logits.ndim >= 2 and logits.shape[-1] == 2:
        return jnp.mean(jax.nn.sigmoid(real_log_odds(logits)))
    return jnp.mean(jax.nn.sigmoid(logits))


def batch_size_of(batch) -> int:
    """The number of examples in a batch: an array's leading size, or a pytree's first leaf's.

    Args:
      batch: an array, or a pytree of arrays with a common leading axis (``(images, labels)``).

    Returns:
      The leading size.
    """
    return jax.tree.leaves(batch)[0].shape[0]


def d_output_metrics(objective, **logits: jax.Array) -> Metrics:
    """D's mean output on each named batch, named for what it is.

    For an objective whose D outputs probabilities: ``name`` -> D's mean probability of "real"
    (:func:`prob_real`). For a critic (``objective.d_output == "score"``): ``name_score`` -> the
    mean of its raw output (the sigmoid of a score means nothing). A D whose output is a pytree
    is read from its first leaf, its real-vs-fake logit.

    Args:
      objective: a :class:`jaxgan.losses.Objective`.
      **logits: D's outputs, e.g. ``d_real=real_logits``.

    Returns:
      The metrics.
    """
    logits = {name: jax.tree.leaves(x)[0] for name, x in logits.items()}
    if objective.d_output == "score":
        return {f"{name}_score": jnp.mean(x.astype(jnp.float32)) for name, x in logits.items()}
    return {name: prob_real(x) for name, x in logits.items()}


def discriminator_logits(
    discriminator: Network, params, stats, real, fake, *, concat: bool
) -> tuple[jax.Array, jax.Array, Any]:
    """D on real and fake: two calls (statistics updated by each, in order) or one concatenated call
    (pytrees, e.g. ``(images, labels)``, concatenated leaf by leaf)."""
    if concat:
        both = jax.tree.map(lambda r, f: jnp.concatenate([r, f]), real, fake)
        logits, stats = discriminator.apply(params, stats, both, True)
        n = batch_size_of(real)
        return jax.tree.map(lambda x: x[:n], logits), jax.tree.map(lambda x: x[n:], logits), stats
    real_logits, stats = discriminator.apply(params, stats, real, True)
    fake_logits, stats = discriminator.apply(params, stats, fake, True)
    return real_logits, fake_logits, stats


def discriminator_update(
    discriminator: Network,
    optimizer: optax.GradientTransformation,
    objective,
    d: PlayerState,
    real: jax.Array,
    fake: jax.Array,
    key: jax.Array,
    *,
    penalty=None,
    concat: bool = False,
) -> tuple[PlayerState, Metrics]:
    """One optimizer step of D on ``d_loss(D(real), D(stop_gradient(fake))) [+ penalty]``.

    This is the D update shared by the D step and :class:`jaxgan.gan_loss.GANLoss`.

    Args:
      discriminator: D.
      optimizer: D's optax transformation.
      objective: a :class:`jaxgan.losses.Objective` (its ``d_loss`` is minimised).
      d: D's state before the step.
      real: a batch of real samples.
      fake: a batch of generated samples (gradients are stopped here).
      key: PRNG key for the penalty (``None`` without one).
      penalty: optional ``penalty(d_fn, real, fake, key) -> scalar`` added to the loss.
      concat: D sees real and fake in one call instead of two.

    Returns:
      ``(new D state, metrics)``: ``d_loss`` (without the penalty), ``d_real`` and ``d_fake``
      (D's mean probability of "real" on each batch; ``d_real_score`` and ``d_fake_score``, its
      mean output, for a critic: :func:`d_output_metrics`), and ``d_penalty``.
    """
    fake = jax.lax.stop_gradient(fake)

    def loss_fn(params):
        real_logits, fake_logits, stats = discriminator_logits(
            discriminator, params, d.stats, real, fake, concat=concat
        )
        loss = objective.d_loss(real_logits, fake_logits)
        metrics = {"d_loss": loss, **d_output_metrics(objective, d_real=real_logits, d_fake=fake_logits)}
        if penalty is not None:
            d_fn = lambda x: discriminator.apply(params, d.stats, x, True)[0]
            pen = jnp.asarray(penalty(d_fn, real, fake, key), jnp.float32)
            loss = loss + pen
            metrics["d_penalty"] = pen
        return loss, (stats, metrics)

    grads, (stats, metrics) = jax.grad(loss_fn, has_aux=True)(d.params)
    updates, opt_state = optimizer.update(grads, d.opt_state, d.params)
    params = optax.apply_updates(d.params, updates)
    return PlayerState(params=params, stats=stats, opt_state=opt_state), metrics


def build_d_step(gan: GAN) -> Callable[[GANState, jax.Array, jax.Array], tuple[GANState, Metrics]]:
    """``d_step(state, real, z) -> (state, metrics)``: one D update with G fixed.

    ``fake = stop_gradient(G(z))`` (G in training mode; its new statistics are discarded).

    Args:
      gan: the GAN.

    Returns:
      The step function; its metrics are :func:`discriminator_update`'s.
    """

    def d_step(state: GANState, real: jax.Array, z: jax.Array) -> tuple[GANState, Metrics]:
        state, key = _penalty_key(gan, state)
        fake, _ = gan.generator.apply(state.g.params, state.g.stats, z, True)
        d, metrics = _update_d(gan, state.d, real, fake, key)
        return state._replace(d=d), metrics

    return d_step


def _penalty_key(gan: GAN, state: GANState) -> tuple[GANState, Optional[jax.Array]]:
    """A key split from the state for D's penalty; ``None`` (and no split) without a penalty: only
    a penalty needs randomness (e.g. interpolation)."""
    if gan.d_penalty is None:
        return state, None
    return take_key(state)


def _update_d(gan: GAN, d: PlayerState, real: jax.Array, fake: jax.Array, key) -> tuple[PlayerState, Metrics]:
    """:func:`discriminator_update` with the GAN's D, optimizer, objective, penalty and D calls."""
    return discriminator_update(
        gan.discriminator, gan.d_optimizer, gan.objective, d, real, fake, key,
        penalty=gan.d_penalty, concat=gan.concat_real_fake,
    )  # fmt: skip


def build_g_step(gan: GAN) -> Callable[..., tuple[GANState, Metrics]]:
    """``g_step(state, z, real=None) -> (state, metrics)``: one G update with D fixed.

    ``real`` is only used by objectives whose G loss needs D's real logits (relativistic).
    Increments ``state.step``.

    Args:
      gan: the GAN.

    Returns:
      The step function; metrics: ``g_loss`` and ``d_fake_after`` (D's mean probability of "real"
      on G's samples, with the D that G was trained against; ``d_fake_after_score`` for a critic).
    """

    def g_step(state: GANState, z: jax.Array, real: Optional[jax.Array] = None):
        real_logits = _real_logits_for_g(gan, state.d, real)

        def loss_fn(g_params):
            fake, g_stats = gan.generator.apply(g_params, state.g.stats, z, True)
            loss, d_fake = _g_loss_of_fake(gan, state.d, fake, real_logits)
            return loss, (g_stats, d_fake)

        (loss, (g_stats, d_fake)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.g.params)
        return _apply_g_update(gan, state, grads, g_stats, loss, d_fake)

    return g_step


def build_d_then_g_step(gan: GAN) -> Callable[[GANState, jax.Array, jax.Array], tuple[GANState, Metrics]]:
    """``step(state, real, z) -> (state, metrics)``: ``d_step(state, real, z)`` then
    ``g_step(state, z, real)``, with G's forward pass computed once.

    G is the same in both steps (the D step does not change it) and so is ``z``, so both steps see
    the same ``fake = G(z)``. It is computed once with :func:`jax.vjp`: the D step uses
    ``stop_gradient(fake)``, the G step differentiates ``g_loss(D'(fake))`` (``D'`` = the updated D)
    with respect to ``fake`` and pulls that back through G, ``grad_G = J_G(z)^T dL/dfake``: the
    same gradient as differentiating through a second forward pass, one forward pass fewer. This
    is what PyTorch's DCGAN example does (D on ``fake.detach()``, then G's loss on the same
    ``fake``). G's new BatchNorm statistics are this forward pass's, as in the G step.

    Args:
      gan: the GAN.

    Returns:
      The step function; metrics are the D step's and the G step's.
    """

    def step(state: GANState, real: jax.Array, z: jax.Array) -> tuple[GANState, Metrics]:
        state, key = _penalty_key(gan, state)

        def generate(g_params):
            return gan.generator.apply(g_params, state.g.stats, z, True)

        fake, pull_back, g_stats = jax.vjp(generate, state.g.params, has_aux=True)
        d, d_metrics = _update_d(gan, state.d, real, fake, key)
        real_logits = _real_logits_for_g(gan, d, real)
        loss_of_fake = lambda f: _g_loss_of_fake(gan, d, f, real_logits)
        # allow_int: a conditional G's output carries its integer labels (their cotangent is float0)
        (loss, d_fake), fake_grad = jax.value_and_grad(loss_of_fake, has_aux=True, allow_int=True)(fake)
        (grads,) = pull_back(fake_grad)
        state, g_metrics = _apply_g_update(gan, state._replace(d=d), grads, g_stats, loss, d_fake)
        return state, {**d_metrics, **g_metrics}

    return step


def _real_logits_for_g(gan: GAN, d: PlayerState, real: Optional[jax.Array]) -> Optional[jax.Array]:
    """D's logits on the real batch for objectives whose G loss needs them (else ``None``)."""
    if not gan.objective.generator_needs_real:
        return None
    if real is None:
        raise ValueError("this objective's G loss needs the real batch: g_step(state, z, real)")
    return gan.discriminator.apply(d.params, d.stats, real, True)[0]


def _g_loss_of_fake(gan: GAN, d: PlayerState, fake: jax.Array, real_logits) -> tuple[jax.Array, Metrics]:
    """``(g_loss(D(fake)), D's mean output on fake)`` with D fixed (its new statistics dropped)."""
    fake_logits, _ = gan.discriminator.apply(d.params, d.stats, fake, True)
    return gan.objective.g_loss(fake_logits, real_logits), d_output_metrics(gan.objective, d_fake_after=fake_logits)


def generator_update(gan: GAN, state: GANState, grads, g_stats) -> GANState:
    """G's optimizer step from its gradient, ending the iteration.

    Args:
      gan: the GAN (its ``g_optimizer``).
      state: the state before G's update.
      grads: the gradient of G's loss with respect to ``state.g.params``.
      g_stats: G's statistics from the forward pass that gave ``grads``.

    Returns:
      The state with G's new parameters, statistics and optimizer state, and ``step`` + 1.
    """
    updates, opt_state = gan.g_optimizer.update(grads, state.g.opt_state, state.g.params)
    g = PlayerState(optax.apply_updates(state.g.params, updates), g_stats, opt_state)
    return state._replace(g=g, step=state.step + 1)


def _apply_g_update(gan: GAN, state: GANState, grads, g_stats, loss, d_fake) -> tuple[GANState, Metrics]:
    """:func:`generator_update` and the G step's metrics."""
    return generator_update(gan, state, grads, g_stats), {"g_loss": loss, **d_fake}


def build_train_step(gan: GAN, batch_fn: BatchFn) -> Callable[[GANState, Any], tuple[GANState, Metrics]]:
    """``train_step(state, data) -> (state, metrics)``: ``n_critic`` D steps, then one G step.

    For each D step ``j``: ``real = batch_fn(data, key, step * n_critic + j)`` (key split from the
    state, unless the batch function says ``batch_fn.uses_key = False``), fresh ``z``, D update.
    The G step uses the last D step's ``z`` when ``gan.reuse_noise`` (the lecture's "same Z"): the
    last D step and the G step then share G's forward pass (:func:`build_d_then_g_step`). Else it
    draws fresh noise. Metrics are the last D step's and the G step's.

    Each D step's optimizer update counts in D's optimizer state, so D's optax step count (and any
    schedule on it) advances ``n_critic`` times per iteration, G's once.

    Args:
      gan: the GAN.
      batch_fn: ``batch_fn(data, key, index) -> real batch``, ``index`` counting D steps from 0
        (e.g. :func:`jaxgan.data.random_batches`, :func:`jaxgan.data.contiguous_batches`).

    Returns:
      ``train_step(state, data) -> (state, metrics)``, not compiled (see :func:`make_train_step`).
    """
    d_step = build_d_step(gan)
    g_step = build_g_step(gan)
    d_then_g_step = build_d_then_g_step(gan)

    def train_step(state: GANState, data: Any) -> tuple[GANState, Metrics]:
        real = z = None
        for j in range(gan.n_critic):
            if z is not None:  # every D step but the last
                state, _ = d_step(state, real, z)
            state, batch_key = take_batch_key(state, batch_fn)
            real = batch_fn(data, batch_key, state.step * gan.n_critic + j)
            state, z = sample_noise(gan, state, batch_size_of(real))
        if gan.reuse_noise:
            return d_then_g_step(state, real, z)
        state, metrics = d_step(state, real, z)
        state, z = sample_noise(gan, state, batch_size_of(real))
        state, g_metrics = g_step(state, z, real)
        return state, {**metrics, **g_metrics}

    return train_step


def take_batch_key(state, batch_fn):
    """A key for ``batch_fn`` split from the state, or ``None`` if it declares ``uses_key = False``.

    Returns:
      ``(state, key or None)``.
    """
    if getattr(batch_fn, "uses_key", True):
        return take_key(state)
    return state, None


def _jit(fn, donate: bool):
    """``jax.jit(fn)``; with ``donate`` the state (argument 0) is donated: its buffers are reused."""
    return jax.jit(fn, donate_argnums=0 if donate else ())


def make_d_step(gan: GAN, *, donate: bool = False):
    """Compiled :func:`build_d_step`.

    Args:
      gan: the GAN.
      donate: reuse the old state's buffers for the new state (the old state is then deleted).

    Returns:
      ``d_step(state, real, z) -> (state, metrics)``, jitted.
    """
    return _jit(build_d_step(gan), donate)


def make_g_step(gan: GAN, *, donate: bool = False):
    """Compiled :func:`build_g_step`.

    Args:
      gan: the GAN.
      donate: reuse the old state's buffers for the new state (the old state is then deleted).

    Returns:
      ``g_step(state, z, real=None) -> (state, metrics)``, jitted.
    """
    return _jit(build_g_step(gan), donate)


def make_train_step(gan: GAN, batch_fn: BatchFn, *, donate: bool = False):
    """Compiled :func:`build_train_step`.

    Args:
      gan: the GAN.
      batch_fn: ``batch_fn(data, key, index) -> real batch``.
      donate: reuse the old state's buffers for the new state (the old state is then deleted).

    Returns:
      ``train_step(state, data) -> (state, metrics)``, jitted.
    """
    return _jit(build_train_step(gan, batch_fn), donate)
