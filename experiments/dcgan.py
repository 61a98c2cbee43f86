"""DCGAN on real images, judged by a classifier: ``python -m experiments.dcgan --dataset digits``.

    python -m experiments.dcgan --dataset digits --r1 1 --steps 4000               # offline, 16x16, ~2 min
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

This file holds the config, the run (:func:`train_and_evaluate`) and the command line. The data,
networks and training loops are in :mod:`experiments.dcgan_training`; the evaluation, figures and
printed report in :mod:`experiments.dcgan_report`. Both are re-exported here.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Optional

import numpy as np

from experiments.runner import (
    Parser,
    UserError,
    device_description,
    nonnegative_int,
    positive_float,
    positive_int,
    print_results,
    write_json,
)
from experiments.dcgan_report import evaluate, format_report, image_grid, plot_losses, save_grid  # noqa: F401
from experiments.dcgan_training import (  # noqa: F401 - re-exported
    build_gan,
    compute_dtype,
    learning_rate,
    load_data,
    make_generate,
    make_sampling_generator,
    objective,
    train,
    train_streaming,
    with_resolved_layers,
)
from experiments.runner import add_device_args, check_splits_evenly, setup_devices
from experiments.runner import TrainingLifecycle, add_lifecycle_args
from experiments.runner import run_main as run_lifecycle_main

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
    # auto: by platform (jaxgan.speedups.layers.auto_layers: winograd on CPU, matmul elsewhere); the runs of
    # docs/benchmarks.md before 2026-11-27's ninth session used matmul (the default then).
    upsample: str = "auto"  # auto | matmul | subpixel | transpose | winograd (jaxgan.speedups.layers.UpsampleConv)
    downsample: str = "auto"  # auto | matmul | conv | winograd (jaxgan.speedups.layers.DownsampleConv)
    concat_real_fake: bool = False
    label_smoothing: float = 0.0  # one-sided: D's real target 1 - s (0 = the reference)
    r1: float = 0.0  # gamma of an R1 penalty on D, (gamma / 2) E||grad_x D(x)||^2 on real images (0: none, the reference)
    g_ema: float = 0.0  # decay of an EMA of G's weights used for samples and metrics (0: last iterate, the reference)
    holdout: int = 2000  # at most a fifth of the data
    eval_samples: Optional[int] = None  # None: as many as held-out images
    score_samples: int = 5000  # generated images for the classifier score (at least eval_samples)
    classifier_steps: Optional[int] = None  # None: the metrics module's default
    sample_every: int = 500
    seed: int = 0  # the GAN's draws: initialisation, batches, noise
    # the held-out split and the judging classifier: fixed apart from --seed, so runs of several
    # seeds are judged by one classifier on the same held-out images (as Inception judges any run)
    data_seed: int = 0
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


# ----------------------------------------------------------------------------- the run


def train_and_evaluate(config: DCGANConfig) -> dict:
    """Loads the data, trains, evaluates and writes the outputs; returns the results dict."""
    config.validate()
    import jax

    import jaxgan
    from jaxgan.parallel import sharding
    from jaxgan.parallel.hosts import is_main_process
    from jaxgan.models.dcgan import count_params

    config = with_resolved_layers(config)  # "auto" -> this platform's layers, in results and checkpoints
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
        exclude=("devices", "data_dir", "cache_dir", "sample_every", "eval_samples", "score_samples", "classifier_steps"),
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
    # jaxgan.speedups.layers.UPSAMPLE_METHODS / DOWNSAMPLE_METHODS, spelled out: importing jaxgan here would import
    # jax before the device flags are set.
    p.add_argument("--upsample", choices=("auto", "matmul", "subpixel", "transpose", "winograd"), default=d.upsample,
                   help="G's stride-2 layers: auto (the default: winograd on CPU, matmul elsewhere), the exact "
                        "sub-pixel form as a matrix product (fast everywhere), as an XLA convolution or through "
                        "Winograd's F(4x4, 2x2) phase by phase (fastest on CPU), or XLA's transposed convolution: "
                        "the same function")
    p.add_argument("--downsample", choices=("auto", "matmul", "conv", "winograd"), default=d.downsample,
                   help="D's stride-2 layers: auto (the default: winograd on CPU, matmul elsewhere), a matrix "
                        "product of patches (fast in loops on CPU), XLA's convolution, or Winograd's F(4x4, 2x2) "
                        "on the space-to-depth input (fastest on CPU; the 3-channel first layer as a matrix "
                        "product of its space-to-depth patches). Runs recorded before the auto default used "
                        "matmul: pass --upsample matmul --downsample matmul to repeat or resume them")
    p.add_argument("--r1", type=float, default=d.r1, metavar="GAMMA",
                   help="R1 penalty on D, (GAMMA/2) E||grad D(real)||^2 (default 0: none, the reference)")
    p.add_argument("--g-ema", type=float, default=d.g_ema, metavar="DECAY",
                   help="sample and judge with an EMA of G's weights (e.g. 0.999; default 0: the last iterate, the reference)")
    p.add_argument("--label-smoothing", type=float, default=d.label_smoothing,
                   help="one-sided label smoothing s: D's target for real images is 1 - s (default 0, the reference)")
    p.add_argument("--concat-real-fake", action="store_true", help="D sees real and fake in one call (shared BatchNorm statistics)")
    p.add_argument("--holdout", type=positive_int, default=d.holdout, help="real images kept out for the real-data floor (at most 1/5)")
    p.add_argument("--eval-samples", type=positive_int, default=None, help="generated images to evaluate (default: the holdout size)")
    p.add_argument("--score-samples", type=positive_int, default=d.score_samples,
                   help="generated images for the classifier score, at least --eval-samples (default: %(default)s)")
    p.add_argument("--classifier-steps", type=positive_int, default=None,
                   help="training steps of the judging classifier (trained once, cached)")
    p.add_argument("--sample-every", type=positive_int, default=d.sample_every, help="iterations between sample grids")
    p.add_argument("--seed", type=nonnegative_int, default=d.seed,
                   help="the GAN's random draws: initialisation, batches, noise (default 0)")
    p.add_argument("--data-seed", type=nonnegative_int, default=d.data_seed,
                   help="the held-out split and the judging classifier (default 0: the same for every --seed, "
                        "so seeds are compared by one judge)")
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
    out = Path(config.out)
    files = [out / "results.json"] + ([out / "samples.png", out / "losses.png"] if config.plot else [])
    return print_results(results, format_report, files, t0)


if __name__ == "__main__":
    raise SystemExit(run_lifecycle_main(PROG, main))
