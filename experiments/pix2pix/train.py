"""Trains pix2pix data-parallel on a known-answer task or on aligned image folders, and evaluates it.

:func:`train_and_evaluate` loads the pairs (:func:`load_data`), builds the U-Net and the PatchGAN
(:func:`build_model`), trains through :class:`experiments.runner.TrainingLifecycle` (checkpoints of
the whole state: both players, step, key) and writes ``results.json`` and the figure
(:mod:`experiments.pix2pix.report`).
"""

from __future__ import annotations

import resource
from pathlib import Path


from experiments.pix2pix.config import PROG, Pix2PixConfig
from experiments.pix2pix.report import evaluate, plot_translations, translate_all
from experiments.runner import (
    RunLog,
    TrainingLifecycle,
    UserError,
    check_data_dir,
    check_out_dir,
    check_splits_evenly,
    device_description,
    host_description,
    write_json,
)
from experiments.runner.translation import load_folder_splits, unit_range_rows

__all__ = ["build_model", "cpu_seconds", "load_data", "train_and_evaluate"]


def cpu_seconds() -> float:
    """User + system CPU seconds this process has used so far (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_data(config: Pix2PixConfig):
    """``(train pairs, test pairs, labelled target-domain images or None, test labels or None)``,
    pairs ordered as ``(input, target)`` for ``config.direction``; data errors become UserError."""
    from jaxgan.data.aligned import load_aligned_folder
    from jaxgan.data.images import DatasetError
    from jaxgan.data.translation_tasks import load_translation_task

    flip = (lambda pair: pair[::-1]) if config.direction == "BtoA" else (lambda pair: pair)
    try:
        if config.is_folder:  # no test folder: evaluated on the training pairs
            train, test = load_folder_splits(load_aligned_folder, config.data_dir, config.load_size, config.crop_size)
            return flip(tuple(train)), flip(test), None, None
        task = load_translation_task(config.dataset, data_dir=config.data_dir, image_size=config.image_size, seed=config.seed)
    except DatasetError as e:
        raise UserError(str(e)) from None
    # Every non-test digit x with its T(x): the pairs the unpaired task withholds.
    train = (task.classify_a.images, task.classify_b.images)
    test = (task.test_a.images, task.test_b.images)
    classify = task.classify_a if config.direction == "BtoA" else task.classify_b
    return flip(train), flip(test), classify, task.test_a.labels


def build_model(config: Pix2PixConfig, channels_out: int):
    """The U-Net and the batch-norm PatchGAN (``jaxgan.models.unet``) in a ``jaxgan.pix2pix.Pix2Pix``."""
    from jaxgan.cyclegan import make_optimizer
    from jaxgan.models.unet import BatchNormPatchDiscriminator, UnetGenerator
    from jaxgan.networks import from_linen
    from jaxgan.pix2pix import Pix2Pix

    opt = make_optimizer(config.lr, config.steps - config.decay_steps, config.decay_steps)
    generator = from_linen(UnetGenerator(channels_out, config.ngf, dropout_blocks=config.dropout_blocks))
    discriminator = from_linen(BatchNormPatchDiscriminator(config.ndf, config.n_layers))
    return Pix2Pix(generator, discriminator, opt, opt, lambda_l1=config.lambda_l1)


def evaluation_key(config: Pix2PixConfig):
    """The dropout key of the evaluation's translations: ``fold_in(PRNGKey(seed), 1)`` (not the run's)."""
    import jax

    return jax.random.fold_in(jax.random.PRNGKey(config.seed), 1)


def translation_images(test, outputs, n: int = 8) -> dict:
    """The first ``n`` held-out inputs, their translations and the truths, in ``[0, 1]``, for the run's log."""
    return unit_range_rows({"input": test[0], "output": outputs, "truth": test[1]}, n)


def train_and_evaluate(config: Pix2PixConfig) -> dict:
    """Trains on ``config.dataset``, evaluates, writes ``results.json`` (and the figure); returns results."""
    config.validate()
    config = config.resolved()
    check_out_dir(config.out)  # before any data are read
    check_data_dir(config.data_dir)
    log = RunLog.from_config(config)  # metrics.jsonl, TensorBoard with --tensorboard (experiments.runner.metric_logging)
    log.announce()
    import jax
    import jax.numpy as jnp

    from jaxgan.cyclegan import linear_decay_schedule
    from jaxgan.data.aligned import paired_batches
    from jaxgan.metric_writers import learning_rate_of
    from jaxgan.parallel import sharding
    from jaxgan.parallel.hosts import is_main_process
    from jaxgan.pix2pix import build_train_step, data_parallel, init_pix2pix

    train, test, classify, labels = load_data(config)
    if len(train[0]) < config.batch_size:
        raise UserError(f"{len(train[0])} training pairs, fewer than --batch-size {config.batch_size}")
    size = config.size
    shape_a, shape_b = ((size, size, x.shape[3]) for x in train)
    model = build_model(config, shape_b[-1])
    mesh = sharding.make_mesh(config.devices)  # data-parallel: state on every device, batches split
    check_splits_evenly(config.batch_size, sharding.mesh_size(mesh), "--batch-size")
    state = sharding.replicate(init_pix2pix(model, jax.random.PRNGKey(config.seed), shape_a, shape_b), mesh)
    crop = config.crop_size if config.is_folder else None
    batch_fn = paired_batches(config.batch_size, crop_size=crop, flip=config.is_folder, seed=config.seed)
    train_step = build_train_step(data_parallel(model, mesh), sharding.sharded_batch_fn(batch_fn, mesh))
    data = tuple(sharding.place_dataset(jnp.asarray(x), mesh) for x in train)
    # checkpoints, --resume (to --steps in total: the schedule spans the run), SIGINT/SIGTERM,
    # divergence guard: experiments.runner.lifecycle
    lifecycle = TrainingLifecycle.from_config(
        config, prog=PROG, module="experiments.pix2pix", exclude=("devices", "data_dir", "classifier_steps"),
        include=("steps",),
    )  # fmt: skip
    lr = learning_rate_of(linear_decay_schedule(config.lr, config.steps - config.decay_steps, config.decay_steps))
    log_chunk = log.callback(learning_rates={"lr": lr}, images_per_step=config.batch_size)  # both players' lr
    result = lifecycle.fit(train_step, state, data, config.steps, chunk_size=config.chunk_size, callback=log_chunk,
                           progress=config.progress and is_main_process(), desc=f"pix2pix {config.dataset}")  # fmt: skip
    key = evaluation_key(config)
    outputs = translate_all(model, result.state, test[0], key)
    outputs_running = translate_all(model, result.state, test[0], key, batch_statistics=False)
    if log.tensorboard is not None:
        log.write_images(lifecycle.start_step + result.steps_done, translation_images(test, outputs))
    log.close()
    steps_here = result.steps_done
    results = {
        "dataset": config.dataset,
        "direction": config.direction,
        "steps": lifecycle.start_step + steps_here,
        **{k: getattr(config, k) for k in ("batch_size", "image_size", "ngf", "ndf", "n_layers", "dropout_blocks", "lr",
                                           "decay_steps", "lambda_l1", "seed")},
        "image_shape": list(shape_a),
        **evaluate(outputs, outputs_running, test, classify, labels, config.seed, config.classifier_steps),
        "final_losses": {k: float(v[..., -1]) for k, v in result.metrics.items() if "loss" in k},
        "compile_seconds": result.compile_seconds,
        "train_seconds": result.train_seconds,
        "cpu_seconds": cpu_seconds(),
        "images_per_second": steps_here * config.batch_size / result.train_seconds if steps_here else 0.0,
        "resumed_from_step": lifecycle.start_step,
        "devices": sharding.mesh_size(mesh),
        "device": device_description(),
        "host": host_description(),
    }  # fmt: skip
    if not is_main_process():  # multi-host: process 0 writes the files
        return results
    outdir = Path(config.out)
    write_json(outdir / "results.json", results)
    if config.plot:
        plot_translations(outdir / "translations.png", test, outputs, f"{config.dataset} {config.direction}")
    return results
