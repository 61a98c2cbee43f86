"""The DCGAN of a config: networks, optimizers, objective, and the generators that sample.

:func:`build_gan` is the reference recipe of pytorch/examples ``dcgan/main.py`` with its options
(learning-rate decay, label smoothing, R1, an EMA of G); :func:`make_sampling_generator` and
:func:`make_generate` turn a trained state into images.
"""

from __future__ import annotations

import functools

import numpy as np

from experiments.dcgan.config import DCGANConfig

__all__ = [
    "build_gan",
    "class_rows",
    "compute_dtype",
    "learning_rate",
    "make_generate",
    "make_sampling_generator",
    "objective",
    "with_resolved_layers",
]


# ----------------------------------------------------------------------------- model


def compute_dtype(precision: str):
    """The JAX dtype of a ``--precision`` name."""
    import jax.numpy as jnp

    return {"float32": jnp.float32, "bfloat16": jnp.bfloat16}[precision]


def with_resolved_layers(config: DCGANConfig) -> DCGANConfig:
    """``config`` with ``upsample`` / ``downsample = "auto"`` replaced by the methods
    :func:`jaxgan.speedups.layers.auto_layers` picks for JAX's default backend (Winograd's on CPU)."""
    import dataclasses

    import jax

    from jaxgan.speedups.layers import auto_layers

    up, down = auto_layers(jax.default_backend())
    return dataclasses.replace(
        config,
        upsample=up if config.upsample == "auto" else config.upsample,
        downsample=down if config.downsample == "auto" else config.downsample,
    )


def build_gan(config: DCGANConfig, channels: int, class_probs=None):
    """The reference DCGAN: models of ``jaxgan.models.dcgan``, Adam(2e-4, (0.5, 0.999)), BCE.

    With ``--conditional``, the class-conditional DCGAN of ``jaxgan.models.conditional_dcgan``:
    G takes ``(z, y)`` with ``y`` drawn from ``class_probs`` (the training data's class frequencies),
    D a projection head (the same objective) or an auxiliary classifier (the objective plus the
    ACGAN losses); R1 then differentiates with respect to the images, at the real labels.
    """
    import optax

    import jaxgan
    from jaxgan import losses
    from jaxgan.averaging import with_params_ema
    from jaxgan.conditional import conditional_penalty
    from jaxgan.losses import make_penalty
    from jaxgan.models.conditional_dcgan import conditional_dcgan_networks
    from jaxgan.models.dcgan import dcgan_networks

    config = with_resolved_layers(config)
    options = dict(
        g_features=config.g_features,
        d_features=config.d_features,
        upsample=config.upsample,
        downsample=config.downsample,
        dtype=compute_dtype(config.precision),
        spectral_norm=config.spectral_norm,
    )
    adam = optax.adam(learning_rate(config), b1=config.beta1, b2=config.beta2)
    g_adam = with_params_ema(adam, config.g_ema) if config.g_ema > 0 else adam
    the_objective = objective(config.label_smoothing)
    penalty = make_penalty("r1", config.r1 / 2) if config.r1 > 0 else None
    if config.conditional is None:
        g, d = dcgan_networks(config.size, channels, **options)
        class_probs = None
    else:
        if class_probs is None:
            raise ValueError("a conditional DCGAN needs the data's class frequencies (class_probs)")
        g, d = conditional_dcgan_networks(len(class_probs), config.size, channels, head=config.conditional,
                                          conditioning=config.conditioning, **options)  # fmt: skip
        if config.conditional == "acgan":
            the_objective = losses.acgan_objective(the_objective)
        penalty = None if penalty is None else conditional_penalty(penalty)
    return jaxgan.GAN(
        generator=g,
        discriminator=d,
        g_optimizer=g_adam,
        d_optimizer=adam,
        latent_shape=(config.latent_dim,),
        objective=the_objective,
        d_penalty=penalty,
        concat_real_fake=config.concat_real_fake,
        class_probs=class_probs,
    )


def learning_rate(config: DCGANConfig):
    """Adam's step size at update ``t`` (0-based): ``lr`` while ``t < T0 = steps - lr_decay_steps``,
    then ``lr * (steps - t) / lr_decay_steps`` (linearly towards 0, reached after the last update); a float when
    ``lr_decay_steps = 0`` (the reference's constant rate, and its optimizer state).

    The schedule is a function of ``--steps``: resume a run with the ``--steps`` it started with.
    """
    import optax

    if config.lr_decay_steps == 0:
        return config.lr
    start = config.steps - config.lr_decay_steps
    decay = optax.linear_schedule(config.lr, 0.0, config.lr_decay_steps)
    return optax.join_schedules([optax.constant_schedule(config.lr), decay], [start])


def objective(label_smoothing: float):
    """Non-saturating BCE (the reference's); with one-sided label smoothing ``s`` D's real target is
    ``1 - s`` (Salimans et al. 2016). On ``digits`` s = 0.25 lowered D's confidence and the Frechet
    distance but also the classifier score."""
    from jaxgan import losses

    if label_smoothing == 0:
        return "nonsaturating"
    nonsaturating = losses.get_objective("nonsaturating")
    d_loss = functools.partial(losses.modified_discriminator_loss, label_smoothing=label_smoothing)
    return losses.Objective(d_loss, nonsaturating.g_loss)


def make_sampling_generator(config: DCGANConfig, gan, batches: int = 50, batch_size: int = 64):
    """``sampling_generator(state) -> (params, stats)``: the generator that samples and is judged.

    Without ``--g-ema``: G's last iterate and its running BatchNorm statistics. With it: the
    debiased EMA of G's weights (:mod:`jaxgan.averaging`) and running statistics recomputed for
    those weights ("standing statistics", as BigGAN does): ``batches`` forward passes in training
    mode on fresh noise (key ``seed + 4``), each updating ``r <- 0.9 r + 0.1 batch_stat``. The
    refresh is compiled once, here, and reused at every call.
    """
    if config.g_ema == 0:
        return lambda state: (state.g.params, state.g.stats)
    import jax

    from jaxgan.averaging import params_ema
    from jaxgan.gan import draw_noise

    refresh = jax.jit(lambda p, s, z: gan.generator.apply(p, s, z, True)[1])
    key = jax.random.PRNGKey(config.seed + 4)
    noise = [draw_noise(gan, jax.random.fold_in(key, i), batch_size) for i in range(batches)]

    def sampling_generator(state):
        params, stats = params_ema(state.g.opt_state, config.g_ema), state.g.stats
        for z in noise:
            stats = refresh(params, stats, z)
        return params, stats

    return sampling_generator


def class_rows(z, classes):
    """G's input for a grid of one row per class: every row the same noise vectors, row ``r`` given ``classes[r]``.

    A column is then one noise vector drawn as each class (the sample grids of a conditional run).

    Args:
      z: ``[columns, latent_dim]`` noise, one vector a column.
      classes: the rows' classes, ``[rows]`` ints.

    Returns:
      ``(z, labels)``: ``z`` tiled to ``[rows * columns, latent_dim]`` and int32 ``labels``
      ``[rows * columns]``, row by row.
    """
    import jax.numpy as jnp

    classes = jnp.asarray(classes, jnp.int32)
    return jnp.tile(z, (classes.shape[0], 1)), jnp.repeat(classes, z.shape[0])


def make_generate(gan, batch_size: int):
    """Compiled ``generate(g_params, g_stats, z) -> images`` with G in evaluation mode, in batches.

    ``z`` is G's input: noise, or ``(noise, labels)`` for a conditional G (whose images are returned
    without the labels). Evaluation mode normalises with G's running BatchNorm statistics, so an
    image depends on its own noise (and label) only, not on the rest of the batch.
    """
    import jax

    conditional = gan.class_probs is not None
    apply = jax.jit(lambda p, s, z: gan.generator.apply(p, s, z, False)[0])

    def generate(params, stats, z):
        n = jax.tree.leaves(z)[0].shape[0]
        out = []
        for begin in range(0, n, batch_size):
            chunk = jax.tree.map(lambda a: a[begin : begin + batch_size], z)
            m = min(batch_size, n - begin)
            if m < batch_size:  # pad to keep one compiled shape
                chunk = jax.tree.map(lambda a: jax.numpy.concatenate([a, jax.numpy.zeros((batch_size - m, *a.shape[1:]), a.dtype)]), chunk)
            images = apply(params, stats, chunk)
            out.append(np.asarray(images[0] if conditional else images)[:m])
        return np.concatenate(out)

    return generate
