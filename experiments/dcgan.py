"""DCGAN on real images, judged by a classifier: ``python -m experiments.dcgan --dataset digits``.

    python -m experiments.dcgan --dataset digits --steps 3000                      # offline, 16x16
    python -m experiments.dcgan --dataset mnist --data-dir ../shared/data/mnist --split test
    python -m experiments.dcgan --dataset folder --data-dir photos/ --image-size 64 --precision bfloat16

The reference recipe of pytorch/examples ``dcgan/main.py``: networks of :mod:`jaxgan.models.dcgan`,
non-saturating BCE objective, Adam(2e-4, betas (0.5, 0.999)) for both players, each iteration a D
step on a real batch and ``stop_gradient(G(z))`` (D sees them in two calls, so each has its own
BatchNorm batch statistics) then a G step on the same ``z``.

``--holdout`` real images are kept out of training: a small classifier (:mod:`jaxgan.metrics.classifier`,
cached) is trained on the training images, and the run reports the classifier score, Frechet
distance and class-histogram KL of ``--eval-samples`` generated images against the training
images, beside the real-data floor (the held-out images scored the same way). Outputs in ``--out``:
``samples.png`` (a fixed noise batch, also saved every ``--sample-every`` iterations under
``samples/``), ``losses.png`` and ``results.json``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from pathlib import Path
from typing import Optional

import numpy as np

from experiments.common import (
    Parser,
    UserError,
    device_description,
    nonnegative_int,
    positive_float,
    positive_int,
    run_main,
    use_headless_matplotlib,
    write_json,
)
from experiments.devices import add_device_args, check_splits_evenly, setup_devices
from experiments.lifecycle import TrainingLifecycle, add_lifecycle_args
from experiments.lifecycle import run_main as run_lifecycle_main

PROG = "python -m experiments.dcgan"

DATASETS = ("mnist", "fashion_mnist", "cifar10", "digits", "folder")
DEFAULT_IMAGE_SIZE = {"mnist": 32, "fashion_mnist": 32, "cifar10": 32, "digits": 16, "folder": 64}
PRECISIONS = ("float32", "bfloat16")
SAMPLE_GRID = 64  # images in the fixed noise batch (an 8x8 grid)


@dataclasses.dataclass(frozen=True)
class DCGANConfig:
    dataset: str = "digits"
    data_dir: Optional[str] = None
    split: str = "train"
    image_size: Optional[int] = None  # None: DEFAULT_IMAGE_SIZE[dataset]
    channels: int = 3  # folder data only
    steps: int = 2000
    batch_size: int = 64
    lr: float = 2e-4
    lr_decay_steps: int = 0  # lr falls linearly to 0 over the last N iterations (0: constant, the reference)
    beta1: float = 0.5
    beta2: float = 0.999
    latent_dim: int = 100
    g_features: int = 64
    d_features: int = 64
    precision: str = "float32"
    upsample: str = "matmul"  # matmul | subpixel | transpose | winograd (jaxgan.layers.UpsampleConv)
    downsample: str = "matmul"  # matmul | conv | winograd (jaxgan.layers.DownsampleConv)
    concat_real_fake: bool = False
    label_smoothing: float = 0.0  # one-sided: D's real target 1 - s (0 = the reference)
    r1: float = 0.0  # gamma of an R1 penalty on D, (gamma / 2) E||grad_x D(x)||^2 on real images (0: none, the reference)
    g_ema: float = 0.0  # decay of an EMA of G's weights used for samples and metrics (0: last iterate, the reference)
    holdout: int = 2000  # at most a fifth of the data
    eval_samples: Optional[int] = None  # None: as many as held-out images
    classifier_steps: Optional[int] = None  # None: the metrics module's default
    sample_every: int = 500
    seed: int = 0
    cache_dir: Optional[str] = None
    stream: str = "auto"  # auto | device | host
    out: str = "runs/dcgan"
    plot: bool = True
    progress: bool = True
    devices: Optional[int] = None  # data-parallel: each batch is split over this many devices (None: all)
    checkpoint_every: int = 1000  # see experiments/lifecycle.py (checkpoints at --sample-every chunk ends)
    keep_checkpoints: int = 3
    resume: bool = False

    @property
    def size(self) -> int:
        return self.image_size if self.image_size is not None else DEFAULT_IMAGE_SIZE[self.dataset]

    def validate(self) -> None:
        if self.dataset not in DATASETS:
            raise UserError(f"unknown dataset {self.dataset!r}; choose one of {', '.join(DATASETS)}")
        size = self.size
        if size < 8 or size & (size - 1):
            raise UserError(f"--image-size must be a power of two >= 8 (16, 32, 64, ...), got {size}")
        if self.precision not in PRECISIONS:
            raise UserError(f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.dataset == "folder" and self.data_dir is None:
            raise UserError("--dataset folder needs --data-dir (a directory of images)")
        if self.stream not in ("auto", "device", "host"):
            raise UserError(f"--stream must be auto, device or host, got {self.stream!r}")
        if not (0 < self.beta1 < 1 and 0 < self.beta2 < 1):
            raise UserError("Adam betas must lie in (0, 1)")
        if not 0 <= self.lr_decay_steps <= self.steps:
            raise UserError(f"--lr-decay-steps must lie in [0, --steps = {self.steps}], got {self.lr_decay_steps}")
        if not 0 <= self.label_smoothing < 1:
            raise UserError(f"--label-smoothing must lie in [0, 1), got {self.label_smoothing}")
        if not self.r1 >= 0:
            raise UserError(f"--r1 must be >= 0, got {self.r1}")
        if not 0 <= self.g_ema < 1:
            raise UserError(f"--g-ema must lie in [0, 1), got {self.g_ema}")


# ----------------------------------------------------------------------------- data


def load_data(config: DCGANConfig):
    """``(train, holdout)`` ImageDatasets: ``--holdout`` images (at most a fifth) kept out of training."""
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
        train, holdout = split_holdout(ds, n_holdout, seed=config.seed)
    except DatasetError as e:
        raise UserError(str(e)) from None
    if config.batch_size > train.num_examples:
        raise UserError(f"--batch-size {config.batch_size} exceeds the {train.num_examples} training images")
    return train, holdout


# ----------------------------------------------------------------------------- model


def compute_dtype(precision: str):
    import jax.numpy as jnp

    return {"float32": jnp.float32, "bfloat16": jnp.bfloat16}[precision]


def build_gan(config: DCGANConfig, channels: int):
    """The reference DCGAN: models of ``jaxgan.models.dcgan``, Adam(2e-4, (0.5, 0.999)), BCE."""
    import optax

    import jaxgan
    from jaxgan.averaging import with_params_ema
    from jaxgan.losses import make_penalty
    from jaxgan.models.dcgan import dcgan_networks

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
        from jaxgan import sharding

        mesh = sharding.make_mesh(config.devices)
        batch_fn = sharding.sharded_batch_fn(epoch_batches(config.batch_size, jax.random.PRNGKey(config.seed + 1)), mesh)
        train_step = jaxgan.build_train_step(gan, batch_fn)
        data = sharding.place_dataset(train_images, mesh)
        result = jaxgan.fit(
            train_step, state, data, config.steps, chunk_size=chunk, callback=callback,
            progress=config.progress, desc=desc,
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
                compiled[n] = jaxgan.make_chunk_runner(train_step, n).lower(state, data).compile()
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


# ----------------------------------------------------------------------------- evaluation


def evaluate(config: DCGANConfig, generate, sampler, train_ds, holdout_ds) -> dict:
    """Classifier score, Frechet distance and class KL of generated images, beside the real floor.

    The classifier is trained on ``train_ds`` (cached). Generated: ``--eval-samples`` images from
    fresh noise; real floor: the held-out images. Both are compared with the training images.
    Unlabelled data (``folder``) get no classifier metrics (``None``).
    """
    import jax

    from jaxgan.metrics import evaluate_images, get_classifier
    from jaxgan.metrics.classifier import classifier_accuracy

    n_eval = config.eval_samples or holdout_ds.num_examples
    z = jax.random.normal(jax.random.PRNGKey(config.seed + 2), (n_eval, config.latent_dim))
    fake = generate(*sampler, z)  # sampler: (params, stats) from make_sampling_generator
    out = {"eval_samples": n_eval, "holdout": holdout_ds.num_examples}
    if train_ds.labels is None:
        return {**out, **dict.fromkeys(("classifier_score", "real_classifier_score", "frechet_distance",
                                        "real_frechet_floor", "class_kl", "real_class_kl", "classifier_accuracy"))}  # fmt: skip
    options = {} if config.classifier_steps is None else {"steps": config.classifier_steps}
    classifier = get_classifier(train_ds, seed=config.seed, cache_dir=config.cache_dir, **options)
    gen = evaluate_images(classifier, fake, train_ds.images)
    real = evaluate_images(classifier, holdout_ds.images, train_ds.images)
    return {
        **out,
        "classifier_steps": config.classifier_steps,
        "classifier_accuracy": classifier_accuracy(classifier, holdout_ds.images, holdout_ds.labels),
        "classifier_score": gen["classifier_score"],
        "real_classifier_score": real["classifier_score"],
        "frechet_distance": gen["frechet_distance"],
        "real_frechet_floor": real["frechet_distance"],
        "class_kl": gen["class_kl"],
        "real_class_kl": real["class_kl"],
    }


# ----------------------------------------------------------------------------- figures


def image_grid(images: np.ndarray, ncol: int = 8, pad: int = 2, scale: int = 1) -> np.ndarray:
    """Tiles ``[N, H, W, C]`` images in ``[-1, 1]`` into one uint8 ``[rows (H+pad), ncol (W+pad), C]`` picture."""
    images = np.clip((np.asarray(images, np.float32) + 1.0) * 127.5, 0, 255).round().astype(np.uint8)
    if scale > 1:
        images = images.repeat(scale, axis=1).repeat(scale, axis=2)
    n, h, w, c = images.shape
    rows = math.ceil(n / ncol)
    grid = np.full((rows * (h + pad) + pad, ncol * (w + pad) + pad, c), 255, np.uint8)
    for i in range(n):
        r, q = divmod(i, ncol)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + q * (w + pad) : pad + q * (w + pad) + w] = images[i]
    return grid


def save_grid(path: Path, images: np.ndarray) -> None:
    """Writes :func:`image_grid` as a PNG (small images are enlarged to ~64 pixels)."""
    from PIL import Image

    scale = max(1, 64 // images.shape[1])
    grid = image_grid(images, scale=scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(path)


def plot_losses(path: Path, metrics: dict) -> None:
    """D's and G's losses and D's read-outs ``D(x)``, ``D(G(z))`` over the iterations (smoothed)."""
    plt = use_headless_matplotlib()

    def smooth(v):
        v = np.asarray(v, np.float64)
        k = max(1, len(v) // 100)
        return np.convolve(v, np.ones(k) / k, mode="valid")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for name, label in (("d_loss", "D loss"), ("g_loss", "G loss")):
        ax1.plot(smooth(metrics[name]), label=label)
    ax1.set_xlabel("iteration")
    ax1.set_title("losses")
    ax1.legend()
    for name, label in (("d_real", "D(x)"), ("d_fake", "D(G(z)) before D step"), ("d_fake_after", "D(G(z)) after D step")):
        ax2.plot(smooth(metrics[name]), label=label)
    ax2.set_xlabel("iteration")
    ax2.set_ylim(0, 1)
    ax2.set_title("discriminator read-outs")
    ax2.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ----------------------------------------------------------------------------- the run


def train_and_evaluate(config: DCGANConfig) -> dict:
    """Loads the data, trains, evaluates and writes the outputs; returns the results dict."""
    config.validate()
    import jax

    import jaxgan
    from jaxgan import sharding
    from jaxgan.distributed import is_main_process
    from jaxgan.models.dcgan import count_params

    train_ds, holdout_ds = load_data(config)
    channels = train_ds.image_shape[-1]
    gan = build_gan(config, channels)
    mesh = sharding.make_mesh(config.devices)  # data-parallel: state on every device, batches split
    check_splits_evenly(config.batch_size, sharding.mesh_size(mesh), "--batch-size")
    # compiled: op-by-op initialisation would compile each small op on its own (~15 s of CPU)
    state = jax.jit(lambda key: jaxgan.init_state(gan, key))(jax.random.PRNGKey(config.seed))
    state = sharding.replicate(state, mesh)
    out = Path(config.out)
    generate = make_generate(gan, min(config.batch_size, SAMPLE_GRID))
    sampling_generator = make_sampling_generator(config, gan)
    fixed_noise = jax.random.normal(jax.random.PRNGKey(config.seed + 3), (SAMPLE_GRID, config.latent_dim))

    def on_chunk(done, state, metrics):
        images = generate(*sampling_generator(state), fixed_noise)
        if config.plot and is_main_process():
            save_grid(out / "samples" / f"step_{done:07d}.png", images)
            save_grid(out / "samples.png", images)
        return None

    # checkpoints, --resume (to --steps in total), SIGINT/SIGTERM, divergence guard: experiments/lifecycle.py
    lifecycle = TrainingLifecycle.from_config(
        config, prog=PROG, module="experiments.dcgan",
        exclude=("devices", "data_dir", "cache_dir", "sample_every", "eval_samples", "classifier_steps"),
    )  # fmt: skip
    where = {"data": "none (the checkpoint was complete)"}

    def train_remaining(state, steps, callback):
        result, where["data"] = train(
            dataclasses.replace(config, steps=steps), sharding.data_parallel(gan, mesh), state, train_ds.images, callback
        )
        return result

    result = lifecycle.run(train_remaining, state, config.steps, callback=on_chunk)
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
        "seed": config.seed,
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
    }
    t0 = time.perf_counter()
    sampler = sampling_generator(state)
    results.update(evaluate(config, generate, sampler, train_ds, holdout_ds))
    results["eval_seconds"] = time.perf_counter() - t0
    if not is_main_process():  # multi-host: process 0 writes the files
        return results
    write_json(out / "results.json", results)
    if config.plot:
        save_grid(out / "samples.png", generate(*sampler, fixed_noise))
        plot_losses(out / "losses.png", metrics)
    return results


def format_report(results: dict) -> str:
    lines = [
        f"{results['dataset']} {results['image_size']}x{results['image_size']}: {results['steps']} iterations of "
        f"batch {results['batch_size']} ({results['precision']}) in {results['train_seconds']:.1f} s "
        f"(+{results['compile_seconds']:.1f} s compile), {results['images_per_second']:.0f} images/s on {results['device']}",
        f"Loss_D {results['final_d_loss']:.3f}  Loss_G {results['final_g_loss']:.3f}  "
        f"D(x) {results['final_d_real']:.3f}  D(G(z)) {results['final_d_fake']:.3f}  (means of the last 50 iterations)",
    ]
    if results.get("classifier_score") is not None:
        lines += [
            f"classifier score {results['classifier_score']:.3f}   (real held-out images: {results['real_classifier_score']:.3f})",
            f"Frechet distance {results['frechet_distance']:.3f}   (real floor: {results['real_frechet_floor']:.3f}, "
            f"ratio {results['frechet_distance'] / max(results['real_frechet_floor'], 1e-12):.2f})",
            f"class KL         {results['class_kl']:.4f}  (real: {results['real_class_kl']:.4f}); "
            f"classifier accuracy on held-out images {results['classifier_accuracy']:.3f}",
        ]
    return "\n".join(lines)


def parse_args(argv=None) -> DCGANConfig:
    p = Parser(prog="python -m experiments.dcgan", description=__doc__.split("\n\n")[0])
    d = DCGANConfig()
    p.add_argument("--dataset", choices=DATASETS, default=d.dataset)
    p.add_argument("--data-dir", default=None, help="directory with the data set's files (offline use)")
    p.add_argument("--split", choices=("train", "test", "all"), default=d.split, help="which split to train on")
    p.add_argument("--image-size", type=positive_int, default=None,
                   help="side in pixels, a power of two (default: 32 for MNIST-like and CIFAR, 16 for digits, 64 for folders)")
    p.add_argument("--channels", type=int, choices=(1, 3), default=d.channels, help="folder data: 1 grayscale, 3 RGB")
    p.add_argument("--steps", type=positive_int, default=d.steps, help="training iterations (D step + G step)")
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size)
    p.add_argument("--lr", type=positive_float, default=d.lr, help="Adam learning rate of both players")
    p.add_argument("--lr-decay-steps", type=nonnegative_int, default=d.lr_decay_steps,
                   help="the learning rate falls linearly to 0 over the last N iterations (default 0: constant)")
    p.add_argument("--beta1", type=positive_float, default=d.beta1)
    p.add_argument("--latent-dim", type=positive_int, default=d.latent_dim, help="nz")
    p.add_argument("--g-features", type=positive_int, default=d.g_features, help="ngf")
    p.add_argument("--d-features", type=positive_int, default=d.d_features, help="ndf")
    p.add_argument("--precision", choices=PRECISIONS, default=d.precision,
                   help="compute dtype; parameters, optimizer states and losses stay float32")
    # jaxgan.layers.UPSAMPLE_METHODS / DOWNSAMPLE_METHODS, spelled out: importing jaxgan here would import
    # jax before the device flags are set.
    p.add_argument("--upsample", choices=("matmul", "subpixel", "transpose", "winograd"), default=d.upsample,
                   help="G's stride-2 layers: exact sub-pixel form as a matrix product (fast everywhere), "
                        "as an XLA convolution or through Winograd's F(3x3, 2x2) (fastest on CPU), or XLA's "
                        "transposed convolution: the same function")
    p.add_argument("--downsample", choices=("matmul", "conv", "winograd"), default=d.downsample,
                   help="D's stride-2 layers: matrix product of patches (fast in loops on CPU), XLA's convolution, "
                        "or Winograd's F(2x2, 2x2) on the space-to-depth input (fastest on CPU)")
    p.add_argument("--r1", type=float, default=d.r1, metavar="GAMMA",
                   help="R1 penalty on D, (GAMMA/2) E||grad D(real)||^2 (default 0: none, the reference)")
    p.add_argument("--g-ema", type=float, default=d.g_ema, metavar="DECAY",
                   help="sample and judge with an EMA of G's weights (e.g. 0.999; default 0: the last iterate, the reference)")
    p.add_argument("--label-smoothing", type=float, default=d.label_smoothing,
                   help="one-sided label smoothing s: D's target for real images is 1 - s (default 0, the reference)")
    p.add_argument("--concat-real-fake", action="store_true", help="D sees real and fake in one call (shared BatchNorm statistics)")
    p.add_argument("--holdout", type=positive_int, default=d.holdout, help="real images kept out for the real-data floor (at most 1/5)")
    p.add_argument("--eval-samples", type=positive_int, default=None, help="generated images to evaluate (default: the holdout size)")
    p.add_argument("--classifier-steps", type=positive_int, default=None,
                   help="training steps of the judging classifier (trained once, cached)")
    p.add_argument("--sample-every", type=positive_int, default=d.sample_every, help="iterations between sample grids")
    p.add_argument("--seed", type=nonnegative_int, default=d.seed)
    p.add_argument("--cache-dir", default=None, help="downloads and trained classifiers (default ~/.cache/jaxgan)")
    p.add_argument("--stream", choices=("auto", "device", "host"), default=d.stream,
                   help="keep the data on the device or stream batches from the host (auto: by size)")
    p.add_argument("--out", default=d.out, help="output directory")
    p.add_argument("--no-plot", dest="plot", action="store_false")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    add_device_args(p)
    add_lifecycle_args(p, checkpoint_every=d.checkpoint_every, keep_checkpoints=d.keep_checkpoints)
    args = p.parse_args(argv)
    setup_devices(args, global_batch=args.batch_size)  # starts jax.distributed if asked
    return DCGANConfig(**vars(args))


def main(argv=None) -> int:
    t0 = time.perf_counter()
    config = parse_args(argv)
    results = train_and_evaluate(config)
    from jaxgan.distributed import is_main_process

    if not is_main_process():
        return 0
    print(format_report(results))
    out = Path(config.out)
    written = [out / "results.json"] + ([out / "samples.png", out / "losses.png"] if config.plot else [])
    print(f"wrote {', '.join(map(str, written))} ({time.perf_counter() - t0:.1f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_lifecycle_main(PROG, main))
