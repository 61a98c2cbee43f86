"""Trains a CycleGAN data-parallel on a known-answer task or on image folders, and evaluates it.

:func:`train_and_evaluate` loads the two domains (:func:`load_data`), builds the four networks
(:func:`build_model`), trains through :class:`experiments.runner.TrainingLifecycle` (checkpoints
of the whole state: four players, both image pools, step, key) and writes ``results.json`` and
the figure (:mod:`experiments.cyclegan.report`).
"""

from __future__ import annotations

from pathlib import Path


from experiments.cyclegan.config import PROG, CycleGANConfig
from experiments.cyclegan.report import evaluate, plot_translations, translate_all
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

__all__ = ["build_model", "load_data", "train_and_evaluate", "translation_images"]


def load_data(config: CycleGANConfig):
    """``(train UnpairedData-like pair, test pair, task or None)``; data errors become UserError."""
    from jaxgan.data.images import DatasetError
    from jaxgan.data.translation_tasks import load_translation_task
    from jaxgan.data.unpaired import load_unpaired_folder

    try:
        if config.is_folder:  # no test folders: evaluated on the training images
            return (*load_folder_splits(load_unpaired_folder, config.data_dir, config.load_size, config.crop_size), None)
        task = load_translation_task(config.dataset, data_dir=config.data_dir, image_size=config.image_size, seed=config.seed)
    except DatasetError as e:
        raise UserError(str(e)) from None
    train = (task.train_a.images, task.train_b.images)
    return train, (task.test_a.images, task.test_b.images), task


def build_model(config: CycleGANConfig, channels_a: int, channels_b: int):
    """ResNet generators and PatchGANs (``jaxgan.models.resnet_patchgan``) in a ``jaxgan.cyclegan.CycleGAN``."""
    import jax

    from jaxgan.cyclegan import CycleGAN, make_optimizer
    from jaxgan.models.resnet_patchgan import PatchDiscriminator, ResnetGenerator, reference_network

    opt = make_optimizer(config.lr, config.steps - config.decay_steps, config.decay_steps)
    # The networks' one speed choice: on CPU, the convolution forms fastest there (the same function).
    cpu_forms = jax.default_backend() == "cpu"
    gen = lambda out: reference_network(ResnetGenerator(out, config.ngf, config.n_blocks, cpu_forms=cpu_forms))
    disc = lambda: reference_network(PatchDiscriminator(config.ndf, config.n_layers, cpu_forms=cpu_forms))
    return CycleGAN(gen(channels_b), gen(channels_a), disc(), disc(), opt, opt,
                    lambda_cycle=config.lambda_cycle, lambda_identity=config.lambda_identity,
                    pool_size=config.pool_size)  # fmt: skip


def translation_images(test, out: dict, n: int = 8) -> dict:
    """The first ``n`` held-out images of each domain, their translations and reconstructions, in
    ``[0, 1]`` for the run's log: ``"A/input"``, ``"A/to_B"``, ``"A/cycle"`` and the same for B."""
    test_a, test_b = test
    rows = {"A/input": test_a, "A/to_B": out["fake_b"], "A/cycle": out["rec_a"],
            "B/input": test_b, "B/to_A": out["fake_a"], "B/cycle": out["rec_b"]}  # fmt: skip
    return unit_range_rows(rows, n)


def train_and_evaluate(config: CycleGANConfig) -> dict:
    """Trains on ``config.dataset``, evaluates, writes ``results.json`` (and the figure); returns results."""
    config.validate()
    config = config.resolved()
    check_out_dir(config.out)  # before any data are read
    check_data_dir(config.data_dir)
    log = RunLog.from_config(config)  # metrics.jsonl, TensorBoard with --tensorboard (experiments.runner.metric_logging)
    log.announce()
    import jax
    import jax.numpy as jnp

    from jaxgan.parallel import sharding
    from jaxgan.cyclegan import build_train_step, data_parallel, init_cyclegan, linear_decay_schedule
    from jaxgan.metric_writers import learning_rate_of
    from jaxgan.data.unpaired import unpaired_batches
    from jaxgan.parallel.hosts import is_main_process

    train, test, task = load_data(config)
    for name, images in zip("AB", train):
        if len(images) < config.batch_size:
            raise UserError(f"domain {name} has {len(images)} training images, fewer than --batch-size {config.batch_size}")
    crop = config.crop_size if config.is_folder else None
    shape_a = (crop or train[0].shape[1], crop or train[0].shape[2], train[0].shape[3])
    shape_b = (crop or train[1].shape[1], crop or train[1].shape[2], train[1].shape[3])
    model = build_model(config, shape_a[-1], shape_b[-1])
    mesh = sharding.make_mesh(config.devices)  # data-parallel: state on every device, batches split
    check_splits_evenly(config.batch_size, sharding.mesh_size(mesh), "--batch-size")
    try:
        state = init_cyclegan(model, jax.random.PRNGKey(config.seed), shape_a, shape_b)
    except ValueError as e:
        raise UserError(str(e)) from None
    state = sharding.replicate(state, mesh)
    batch_fn = unpaired_batches(config.batch_size, crop_size=crop, flip=config.is_folder, seed=config.seed)
    train_step = build_train_step(data_parallel(model, mesh), sharding.sharded_batch_fn(batch_fn, mesh))
    data = tuple(sharding.place_dataset(jnp.asarray(x), mesh) for x in train)
    # checkpoints, --resume (to --steps in total: the schedule spans the run), SIGINT/SIGTERM,
    # divergence guard: experiments.runner.lifecycle
    lifecycle = TrainingLifecycle.from_config(
        config, prog=PROG, module="experiments.cyclegan", exclude=("devices", "data_dir", "classifier_steps"),
        include=("steps",),
    )  # fmt: skip
    lr = learning_rate_of(linear_decay_schedule(config.lr, config.steps - config.decay_steps, config.decay_steps))
    log_chunk = log.callback(learning_rates={"lr": lr}, images_per_step=config.batch_size)  # all four players' lr
    result = lifecycle.fit(train_step, state, data, config.steps, chunk_size=config.chunk_size, callback=log_chunk,
                           progress=config.progress and is_main_process(), desc=f"CycleGAN {config.dataset}")  # fmt: skip
    out = translate_all(model, result.state, *test)
    if log.tensorboard is not None:
        log.write_images(lifecycle.start_step + result.steps_done, translation_images(test, out))
    log.close()
    steps_here = result.steps_done
    results = {
        "dataset": config.dataset,
        "steps": lifecycle.start_step + steps_here,
        **{k: getattr(config, k) for k in ("batch_size", "image_size", "ngf", "n_blocks", "ndf", "n_layers", "lr",
                                           "decay_steps", "lambda_cycle", "lambda_identity", "pool_size", "seed")},
        "image_shape": list(shape_a),
        **evaluate(out, test, task, config.seed, config.classifier_steps),
        "final_losses": {k: float(v[..., -1]) for k, v in result.metrics.items() if "loss" in k},
        "compile_seconds": result.compile_seconds,
        "train_seconds": result.train_seconds,
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
        plot_translations(outdir / "translations.png", test, out, task is not None, config.dataset)
    return results
