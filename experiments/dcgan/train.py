"""Trains the DCGAN of a config and evaluates it: data on the device or streamed from the host.

:func:`train_and_evaluate` loads the data (:func:`load_data`: the training images and the
held-out ones), builds the GAN (:mod:`experiments.dcgan.model`), trains it data-parallel through
:class:`experiments.runner.TrainingLifecycle` with :func:`train` (data in device memory, batches
drawn inside the compiled loop) or :func:`train_streaming` (batches from the host), then evaluates
it (:mod:`experiments.dcgan.report`) and writes ``results.json`` and the figures.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from experiments.dcgan.config import PROG, DCGANConfig
from experiments.dcgan.model import (
    build_gan,
    class_rows,
    learning_rate,
    make_generate,
    make_sampling_generator,
    with_resolved_layers,
)
from experiments.dcgan.report import evaluate, image_grid, plot_losses, save_grid
from experiments.runner import (
    RunLog,
    TrainingLifecycle,
    UserError,
    check_data_dir,
    check_out_dir,
    check_splits_evenly,
    device_description,
    host_description,
    raise_unreadable_images,
    say,
    write_json,
)

__all__ = [
    "SAMPLE_GRID",
    "grid_noise",
    "check_batch_fits",
    "holdout_size",
    "judging_note",
    "load_data",
    "train",
    "train_and_evaluate",
    "train_streaming",
]

SAMPLE_GRID = 64  # images in the fixed noise batch (an 8x8 grid)


def load_data(config: DCGANConfig):
    """``(train, holdout)`` ImageDatasets: ``--holdout`` images (at most a fifth) kept out of training,
    drawn with ``--data-seed`` (not ``--seed``: every seed of a sweep trains on the same images);
    ``holdout`` is ``None`` with ``--holdout 0`` (every image trains).

    Mistakes are one-line :class:`UserError` in the user's terms: the images found, the options given."""
    from jaxgan.data import DatasetError, load_dataset, split_holdout

    check_data_dir(config.data_dir)
    try:
        ds = load_dataset(
            config.dataset,
            data_dir=config.data_dir,
            split=config.split,
            image_size=config.size,
            cache_dir=config.cache_dir,
            channels=config.channels,
        )
    except DatasetError as e:
        if config.dataset == "folder" and Path(config.data_dir).expanduser().is_dir():
            raise_unreadable_images(config.data_dir)  # every unreadable image at once, not the first only
        raise UserError(str(e)) from None
    n_holdout = holdout_size(config.holdout, ds.num_examples, judged=ds.labels is not None)
    check_batch_fits(config.batch_size, ds.num_examples, n_holdout)
    if n_holdout == 0:
        return ds, None
    return split_holdout(ds, n_holdout, seed=config.data_seed)


def holdout_size(holdout: int, n_images: int, *, judged: bool) -> int:
    """How many of ``n_images`` are held out for ``--holdout`` (at most a fifth; 0 for 0).

    A judged run (labelled data: a classifier scores it) needs at least 2 held-out images for the
    real-data floor; an unjudged one at least 1. ``UserError`` otherwise, naming what was given
    and what is needed.
    """
    if holdout == 0:
        return 0
    needed = 2 if judged else 1
    if holdout < needed:
        raise UserError(
            f"--holdout {holdout}: judging the run needs at least {needed} held-out images; "
            f"pass --holdout {needed} or more, or --holdout 0 to train on all {n_images} images without judging"
        )
    n_holdout = min(holdout, n_images // 5)
    if n_holdout < needed:
        raise UserError(
            f"--holdout {holdout}: at most a fifth of the {n_images} images is held out, {n_holdout} here, "
            f"and {needed} {'are' if needed > 1 else 'is'} needed; use {5 * needed} images or more, "
            f"or --holdout 0 to train on all {n_images}"
        )
    return n_holdout


def check_batch_fits(batch_size: int, n_images: int, n_holdout: int) -> None:
    """``UserError`` when ``--batch-size`` exceeds the images left to train on, in the user's counts."""
    n_train = n_images - n_holdout
    if batch_size <= n_train:
        return
    if n_holdout:
        raise UserError(
            f"--batch-size {batch_size} is more than the {n_train} images left to train on "
            f"({n_images} images, {n_holdout} held out by --holdout); "
            f"pass --batch-size {n_train} or less, or --holdout 0 to train on all {n_images}"
        )
    raise UserError(f"--batch-size {batch_size} is more than the {n_images} images; pass --batch-size {n_images} or less")


def judging_note(config: DCGANConfig, train_ds, holdout_ds) -> str | None:
    """Why the run will not be judged, in one line for its start (``None`` when it will be)."""
    labelled = train_ds.labels is not None
    if holdout_ds is not None and labelled:
        return None
    no_labels = f"{config.dataset} data have no labels to train a judging classifier on"
    if holdout_ds is None:
        why = "--holdout 0 keeps no images to judge against" + ("" if labelled else f", and {no_labels}")
        return f"training on all {train_ds.num_examples} images, without evaluation: {why}"
    held = holdout_ds.num_examples
    return (
        f"no judge: {no_labels}, so no classifier score, Frechet distance or class KL; the {held} held-out "
        f"{'image is' if held == 1 else 'images are'} only kept out of training (--holdout 0 trains on every image)"
    )


def grid_noise(config: DCGANConfig, gan):
    """The fixed noise of the sample grids and the grid's columns: ``SAMPLE_GRID`` noise vectors in
    8 columns (key ``seed + 3``); for a conditional GAN one row of 8 per class, row ``c`` of class
    ``c``, the same 8 noise vectors in every row (a column: one ``z``, each class).

    Returns:
      ``(G's input, columns)``.
    """
    import jax
    import jax.numpy as jnp

    key = jax.random.PRNGKey(config.seed + 3)
    if gan.class_probs is None:
        return jax.random.normal(key, (SAMPLE_GRID, config.latent_dim)), 8
    columns = 8
    return class_rows(jax.random.normal(key, (columns, config.latent_dim)), jnp.arange(gan.num_classes)), columns


def train(config: DCGANConfig, gan, state, train_images, callback):
    """Runs ``config.steps`` iterations; returns a :class:`jaxgan.FitResult` and where the data lived.

    Data that fit in device memory go there once and batches are drawn inside the compiled loop
    (``epoch_batches``: every image once per epoch); otherwise batches stream from the host. A
    conditional GAN's data are ``(images, labels)``: each batch is drawn with its labels, on the
    device or from the host alike.
    """
    import jax

    import jaxgan
    from jaxgan.data import epoch_batches, fits_in_device_memory

    images = jax.tree.leaves(train_images)[0]  # (images, labels) for a conditional GAN
    on_device = config.stream == "device" or (config.stream == "auto" and fits_in_device_memory(images))
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
    by its ``j``-th step (``grouped_batches``). ``train_images`` may be ``(images, labels)`` (a
    conditional GAN's data): the stream gathers each batch's labels with its images, and a chunk is
    ``([n, batch, H, W, C], [n, batch])``.
    """
    import jax
    import jax.numpy as jnp

    import jaxgan
    from jaxgan.data import HostBatchStream, grouped_batches
    from jaxgan.train import progress_bar

    images, labels = train_images if isinstance(train_images, tuple) else (train_images, None)
    batch_bytes = config.batch_size * int(np.prod(images.shape[1:])) * 4
    chunk = max(1, min(chunk, (256 << 20) // batch_bytes))
    lengths = [chunk] * (config.steps // chunk) + ([config.steps % chunk] if config.steps % chunk else [])
    train_step = jaxgan.build_train_step(gan, grouped_batches())
    compiled = {}
    bar = progress_bar(config.steps, config.progress, desc)
    history, done, stopped, compile_seconds = [], 0, False, 0.0
    t_start = time.perf_counter()
    with HostBatchStream(images, config.batch_size, labels=labels, seed=config.seed) as stream:
        for n in lengths:
            data = jax.tree.map(lambda *batches: jnp.stack(batches), *[next(stream) for _ in range(n)])
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


def train_and_evaluate(config: DCGANConfig) -> dict:
    """Loads the data, trains, evaluates and writes the outputs; returns the results dict."""
    config.validate()
    import jax

    import jaxgan
    from jaxgan.parallel import sharding
    from jaxgan.parallel.hosts import is_main_process
    from jaxgan.models.dcgan import count_params

    check_out_dir(config.out)  # before any data are read
    config = with_resolved_layers(config)  # "auto" -> this platform's layers, in results and checkpoints
    log = RunLog.from_config(config)  # metrics.jsonl, TensorBoard with --tensorboard (experiments.runner.metric_logging)
    train_ds, holdout_ds = load_data(config)
    not_judged = judging_note(config, train_ds, holdout_ds)
    say(not_judged)
    log.announce()
    channels = train_ds.image_shape[-1]
    class_probs = None
    if config.conditional is not None:  # G's labels: drawn from the training data's class frequencies
        from jaxgan.conditional import class_frequencies

        class_probs = class_frequencies(train_ds.labels, train_ds.num_classes)
    gan = build_gan(config, channels, class_probs)
    mesh = sharding.make_mesh(config.devices)  # data-parallel: state on every device, batches split
    check_splits_evenly(config.batch_size, sharding.mesh_size(mesh), "--batch-size")
    # compiled: op-by-op initialisation would compile each small op on its own (~15 s of CPU)
    state = jax.jit(lambda key: jaxgan.init_state(gan, key))(jax.random.PRNGKey(config.seed))
    state = sharding.replicate(state, mesh)
    out = Path(config.out)
    generate = make_generate(gan, min(config.batch_size, SAMPLE_GRID))
    sampling_generator = make_sampling_generator(config, gan)
    fixed_noise, grid_columns = grid_noise(config, gan)
    from jaxgan.metric_writers import learning_rate_of

    log_chunk = log.callback(
        learning_rates={"g_lr": learning_rate_of(learning_rate(config)),
                        "d_lr": learning_rate_of(learning_rate(config), updates_per_step=gan.n_critic)},
        images_per_step=config.batch_size * gan.n_critic,
    )  # fmt: skip

    def on_chunk(done, state, metrics):
        log_chunk(done, state, metrics)
        images = generate(*sampling_generator(state), fixed_noise)
        if log.tensorboard is not None:
            log.write_images(done, {"samples": image_grid(images, grid_columns)})  # the fixed noise's grid
        if config.plot and is_main_process():
            save_grid(out / "samples" / f"step_{done:07d}.png", images, grid_columns)
            save_grid(out / "samples.png", images, grid_columns)
        return None

    # checkpoints, --resume (to --steps in total), SIGINT/SIGTERM, divergence guard: experiments.runner.lifecycle
    # a conditional run's class frequencies come from its data: recorded, so that its checkpoints sample alone
    lifecycle = TrainingLifecycle.from_config(
        config, prog=PROG, module="experiments.dcgan",
        exclude=("devices", "data_dir", "cache_dir", "sample_every", "eval_samples", "score_samples", "classifier_steps"),
        extra=None if class_probs is None else {"class_probs": list(class_probs)},
    )  # fmt: skip
    where = {"data": "none (the checkpoint was complete)"}

    def train_remaining(state, steps, callback):
        data = train_ds.images if gan.class_probs is None else (train_ds.images, train_ds.labels.astype(np.int32))
        result, where["data"] = train(
            dataclasses.replace(config, steps=steps), sharding.data_parallel(gan, mesh), state, data, callback
        )
        return result

    result = lifecycle.run(train_remaining, state, config.steps, callback=on_chunk)
    log.close()
    data_location = where["data"]
    state = result.state
    metrics = result.metrics
    images_seen = result.steps_done * config.batch_size * gan.n_critic
    results = {
        "dataset": config.dataset,
        "split": config.split,
        "image_size": config.size,
        "channels": channels,
        "steps": lifecycle.start_step + result.steps_done,
        "batch_size": config.batch_size,
        "precision": config.precision,
        "upsample": config.upsample,
        "downsample": config.downsample,
        "g_features": config.g_features,
        "d_features": config.d_features,
        "g_params": count_params(state.g.params),
        "d_params": count_params(state.d.params),
        "lr": config.lr,
        "lr_decay_steps": config.lr_decay_steps,
        "label_smoothing": config.label_smoothing,
        "g_ema": config.g_ema,
        "r1": config.r1,
        "spectral_norm": config.spectral_norm,
        "conditional": config.conditional,
        "conditioning": config.conditioning if config.conditional else None,
        "seed": config.seed,
        "data_seed": config.data_seed,
        "train_images": train_ds.num_examples,
        "data_location": data_location,
        "final_d_loss": float(np.mean(metrics["d_loss"][-50:])),
        "final_g_loss": float(np.mean(metrics["g_loss"][-50:])),
        "final_d_real": float(np.mean(metrics["d_real"][-50:])),
        "final_d_fake": float(np.mean(metrics["d_fake"][-50:])),
        "finite": bool(all(np.isfinite(v).all() for v in metrics.values())),
        "compile_seconds": result.compile_seconds,
        "train_seconds": result.train_seconds,
        "images_per_second": images_seen / result.train_seconds if result.steps_done else 0.0,
        "device": device_description(),
        "host": host_description(),
    }
    t0 = time.perf_counter()
    sampler = sampling_generator(state)
    if not_judged is None:
        results.update(evaluated=True, **evaluate(config, generate, sampler, train_ds, holdout_ds, gan.class_probs))
        results["eval_seconds"] = time.perf_counter() - t0
    else:  # no metric fields at all: none was measured
        held_out = 0 if holdout_ds is None else holdout_ds.num_examples
        results.update(evaluated=False, not_evaluated=not_judged, holdout=held_out)
    if not is_main_process():  # multi-host: process 0 writes the files
        return results
    write_json(out / "results.json", results)
    if config.plot:
        save_grid(out / "samples.png", generate(*sampler, fixed_noise), grid_columns)
        plot_losses(out / "losses.png", metrics)
    return results
