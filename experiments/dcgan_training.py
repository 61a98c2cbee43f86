"""DCGAN's data, networks and training loops, for :mod:`experiments.dcgan` (which re-exports them).

:func:`load_data` (training images and the held-out ones), :func:`build_gan` (the reference recipe
of pytorch/examples ``dcgan/main.py``, with its options: learning-rate decay, label smoothing, R1,
an EMA of G), the generators that sample (:func:`make_sampling_generator`, :func:`make_generate`)
and :func:`train` (data on the device, or :func:`train_streaming` from the host).
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING

import numpy as np

from experiments.runner import UserError

if TYPE_CHECKING:
    from experiments.dcgan import DCGANConfig


# ----------------------------------------------------------------------------- data


def load_data(config: DCGANConfig):
    """``(train, holdout)`` ImageDatasets: ``--holdout`` images (at most a fifth) kept out of training,
    drawn with ``--data-seed`` (not ``--seed``: every seed of a sweep trains on the same images)."""
    from jaxgan.data import DatasetError, load_dataset, split_holdout

    try:
        ds = load_dataset(
            config.dataset,
            data_dir=config.data_dir,
            split=config.split,
            image_size=config.size,
            cache_dir=config.cache_dir,
            channels=config.channels,
        )
        n_holdout = min(config.holdout, ds.num_examples // 5)
        if n_holdout < 2:
            raise UserError(f"{ds.name}: {ds.num_examples} images are too few (need at least 10)")
        train, holdout = split_holdout(ds, n_holdout, seed=config.data_seed)
    except DatasetError as e:
        raise UserError(str(e)) from None
    if config.batch_size > train.num_examples:
        raise UserError(f"--batch-size {config.batch_size} exceeds the {train.num_examples} training images")
    return train, holdout


# ----------------------------------------------------------------------------- model


def compute_dtype(precision: str):
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


def build_gan(config: DCGANConfig, channels: int):
    """The reference DCGAN: models of ``jaxgan.models.dcgan``, Adam(2e-4, (0.5, 0.999)), BCE."""
    import optax

    import jaxgan
    from jaxgan.averaging import with_params_ema
    from jaxgan.losses import make_penalty
    from jaxgan.models.dcgan import dcgan_networks

    config = with_resolved_layers(config)
    g, d = dcgan_networks(
        config.size,
        channels,
        g_features=config.g_features,
        d_features=config.d_features,
        upsample=config.upsample,
        downsample=config.downsample,
        dtype=compute_dtype(config.precision),
    )
    adam = optax.adam(learning_rate(config), b1=config.beta1, b2=config.beta2)
    g_adam = with_params_ema(adam, config.g_ema) if config.g_ema > 0 else adam
    return jaxgan.GAN(
        generator=g,
        discriminator=d,
        g_optimizer=g_adam,
        d_optimizer=adam,
        latent_shape=(config.latent_dim,),
        objective=objective(config.label_smoothing),
        d_penalty=make_penalty("r1", config.r1 / 2) if config.r1 > 0 else None,
        concat_real_fake=config.concat_real_fake,
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
    distance but also the classifier score (``docs/benchmarks.md``, section dcgan)."""
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

    refresh = jax.jit(lambda p, s, z: gan.generator.apply(p, s, z, True)[1])
    key = jax.random.PRNGKey(config.seed + 4)
    noise = [jax.random.normal(jax.random.fold_in(key, i), (batch_size, config.latent_dim)) for i in range(batches)]

    def sampling_generator(state):
        params, stats = params_ema(state.g.opt_state, config.g_ema), state.g.stats
        for z in noise:
            stats = refresh(params, stats, z)
        return params, stats

    return sampling_generator


def make_generate(gan, batch_size: int):
    """Compiled ``generate(g_params, g_stats, z) -> images`` with G in evaluation mode, in batches.

    Evaluation mode normalises with G's running BatchNorm statistics, so an image depends on its
    own noise only (not on the rest of the batch).
    """
    import jax

    apply = jax.jit(lambda p, s, z: gan.generator.apply(p, s, z, False)[0])

    def generate(params, stats, z):
        out = []
        for begin in range(0, z.shape[0], batch_size):
            chunk = z[begin : begin + batch_size]
            m = chunk.shape[0]
            if m < batch_size:  # pad to keep one compiled shape
                chunk = jax.numpy.concatenate([chunk, jax.numpy.zeros((batch_size - m, *chunk.shape[1:]), chunk.dtype)])
            out.append(np.asarray(apply(params, stats, chunk))[:m])
        return np.concatenate(out)

    return generate


# ----------------------------------------------------------------------------- training


def train(config: DCGANConfig, gan, state, train_images: np.ndarray, callback):
    """Runs ``config.steps`` iterations; returns a :class:`jaxgan.FitResult` and where the data lived.

    Data that fit in device memory go there once and batches are drawn inside the compiled loop
    (``epoch_batches``: every image once per epoch); otherwise batches stream from the host.
    """
    import jax

    import jaxgan
    from jaxgan.data import epoch_batches, fits_in_device_memory

    on_device = config.stream == "device" or (config.stream == "auto" and fits_in_device_memory(train_images))
    chunk = max(1, min(config.sample_every, config.steps))
    desc = f"DCGAN {config.dataset} {config.size}x{config.size}"
    if on_device:
        from jaxgan.parallel import sharding
        from jaxgan.speedups.cpu_loops import compile_loop

        mesh = sharding.make_mesh(config.devices)
        batch_fn = sharding.sharded_batch_fn(epoch_batches(config.batch_size, jax.random.PRNGKey(config.seed + 1)), mesh)
        train_step = jaxgan.build_train_step(gan, batch_fn)
        data = sharding.place_dataset(train_images, mesh)
        result = jaxgan.fit(
            train_step, state, data, config.steps, chunk_size=chunk, callback=callback,
            progress=config.progress, desc=desc, compile_fn=compile_loop, donate=True,
        )  # fmt: skip
        return result, "device"
    return train_streaming(config, gan, state, train_images, callback, chunk, desc), "host"


def train_streaming(config: DCGANConfig, gan, state, train_images, callback, chunk: int, desc: str):
    """The host-streaming twin of ``fit``: chunks of compiled steps fed by a ``HostBatchStream``.

    Each chunk of ``n`` steps receives ``[n, batch, H, W, C]`` prefetched batches (at most ~256 MiB
    per chunk, so the chunk may be shorter than ``--sample-every``); batch ``j`` of the chunk is used
    by its ``j``-th step (``grouped_batches``).
    """
    import jax
    import jax.numpy as jnp

    import jaxgan
    from jaxgan.data import HostBatchStream, grouped_batches
    from jaxgan.train import _progress

    batch_bytes = config.batch_size * int(np.prod(train_images.shape[1:])) * 4
    chunk = max(1, min(chunk, (256 << 20) // batch_bytes))
    lengths = [chunk] * (config.steps // chunk) + ([config.steps % chunk] if config.steps % chunk else [])
    train_step = jaxgan.build_train_step(gan, grouped_batches())
    compiled = {}
    bar = _progress(config.steps, config.progress, desc)
    history, done, stopped, compile_seconds = [], 0, False, 0.0
    t_start = time.perf_counter()
    with HostBatchStream(train_images, config.batch_size, seed=config.seed) as stream:
        for n in lengths:
            data = jnp.stack([next(stream) for _ in range(n)])
            if n not in compiled:  # at most two lengths: compile each once, timed apart
                t = time.perf_counter()
                compiled[n] = jaxgan.make_chunk_runner(train_step, n, donate=True).lower(state, data).compile()
                compile_seconds += time.perf_counter() - t
            state, metrics = compiled[n](state, data)
            metrics = jax.device_get(metrics)
            done += n
            history.append(metrics)
            if bar is not None:
                bar.update(n)
            if callback is not None and callback(done, state, metrics) is False:
                stopped = done < config.steps
                break
    jax.block_until_ready(state)
    if bar is not None:
        bar.close()
    train_seconds = time.perf_counter() - t_start - compile_seconds
    merged = {k: np.concatenate([h[k] for h in history]) for k in history[0]}
    return jaxgan.FitResult(state, merged, compile_seconds, train_seconds, done, stopped)
