"""The DCGAN experiment's settings: :class:`DCGANConfig`, its choices, and the command line that fills it."""

from __future__ import annotations

import dataclasses
from typing import Optional

from experiments.runner import (
    Parser,
    UserError,
    add_device_args,
    add_lifecycle_args,
    add_logging_args,
    apply_preset,
    nonnegative_int,
    positive_float,
    positive_int,
    presets_epilog,
    say,
    setup_devices,
)

__all__ = [
    "DATASETS",
    "DCGANConfig",
    "DEFAULT_IMAGE_SIZE",
    "DESCRIPTION",
    "CONDITIONAL_HEADS",
    "CONDITIONINGS",
    "PRECISIONS",
    "PRESETS",
    "PROG",
    "parse_args",
]

PROG = "python -m experiments.dcgan"
DESCRIPTION = "DCGAN on real images, judged by a classifier: ``python -m experiments.dcgan --dataset digits``."

DATASETS = ("mnist", "fashion_mnist", "cifar10", "digits", "folder")
DEFAULT_IMAGE_SIZE = {"mnist": 32, "fashion_mnist": 32, "cifar10": 32, "digits": 16, "folder": 64}
PRECISIONS = ("float32", "bfloat16")
CONDITIONAL_HEADS = ("projection", "acgan")  # jaxgan.models.conditional_dcgan.HEADS
CONDITIONINGS = ("concat", "batchnorm")  # jaxgan.models.conditional_dcgan.CONDITIONINGS

# The command line's defaults per data set, over DCGANConfig's (the reference recipe): the recipes
# recorded in docs/results.md as meeting the quality goals, and for a folder of one's own images
# (no labels, so no judging classifier) every image trains. Flags given override them.
PRESETS = {
    "digits": {"r1": 1.0, "steps": 4000},
    "mnist": {"g_features": 32, "d_features": 32, "r1": 1.0, "g_ema": 0.999, "steps": 12000},
    "folder": {"holdout": 0},
}


@dataclasses.dataclass(frozen=True)
class DCGANConfig:
    """One DCGAN run: data, networks, recipe options, evaluation and outputs; ``validate`` checks it."""

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
    # auto: by platform (jaxgan.speedups.layers.auto_layers: winograd on CPU, matmul elsewhere)
    upsample: str = "auto"  # auto | matmul | subpixel | transpose | winograd (jaxgan.speedups.layers.UpsampleConv)
    downsample: str = "auto"  # auto | matmul | conv | winograd (jaxgan.speedups.layers.DownsampleConv)
    concat_real_fake: bool = False
    label_smoothing: float = 0.0  # one-sided: D's real target 1 - s (0 = the reference)
    r1: float = 0.0  # gamma of an R1 penalty on D, (gamma / 2) E||grad_x D(x)||^2 on real images (0: none, the reference)
    spectral_norm: bool = False  # D's kernels spectrally normalised, D without BatchNorm (SNGAN's D)
    g_ema: float = 0.0  # decay of an EMA of G's weights used for samples and metrics (0: last iterate, the reference)
    conditional: Optional[str] = None  # a class-conditional GAN with this D head: projection | acgan (None: unconditional)
    conditioning: str = "concat"  # how a conditional G is told the class: concat | batchnorm
    holdout: int = 2000  # at most a fifth of the data; 0: every image trains, no evaluation
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
    checkpoint_every: int = 1000  # see experiments.runner.lifecycle (checkpoints at --sample-every chunk ends)
    keep_checkpoints: int = 3
    resume: bool = False
    log_every: int = 50  # metrics.jsonl (and TensorBoard's) every N steps: experiments.runner.metric_logging
    tensorboard: bool = False
    log_dir: Optional[str] = None  # TensorBoard's directory (default: out/tensorboard with --tensorboard)

    @property
    def size(self) -> int:
        """The image side in pixels: ``image_size``, or the data set's default."""
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
        if self.dataset == "folder" and self.split == "test":
            raise UserError("--split test: a folder has no test split (every image under --data-dir is read); "
                            "leave --split out")  # fmt: skip
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
        if self.conditional is not None and self.conditional not in CONDITIONAL_HEADS:
            raise UserError(f"--conditional must be one of {', '.join(CONDITIONAL_HEADS)}, got {self.conditional!r}")
        if self.conditioning not in CONDITIONINGS:
            raise UserError(f"--conditioning must be one of {', '.join(CONDITIONINGS)}, got {self.conditioning!r}")
        if self.conditional is not None and self.dataset == "folder":
            raise UserError("--conditional needs labelled data: a folder of images has no labels "
                            "(use mnist, fashion_mnist, cifar10 or digits)")  # fmt: skip


def parse_args(argv=None) -> DCGANConfig:
    """The :class:`DCGANConfig` of a command line (``None``: ``sys.argv[1:]``); starts ``jax.distributed`` if asked.

    The data set's entry of :data:`PRESETS` replaces the defaults of the options the command line
    does not give, and is printed in one line.
    """
    p = Parser(prog=PROG, description=DESCRIPTION, epilog=presets_epilog(PRESETS))
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
    p.add_argument("--spectral-norm", action="store_true",
                   help="spectrally normalise every D kernel and leave out D's BatchNorm (SNGAN's D; default: the reference D)")
    p.add_argument("--g-ema", type=float, default=d.g_ema, metavar="DECAY",
                   help="sample and judge with an EMA of G's weights (e.g. 0.999; default 0: the last iterate, the reference)")
    p.add_argument("--conditional", choices=CONDITIONAL_HEADS, default=None,
                   help="a class-conditional GAN: G draws the class it is given, D judges (image, label) pairs with a "
                        "projection head (Miyato & Koyama) or an auxiliary classifier (ACGAN); the sample grid has "
                        "one row per class (default: unconditional)")
    p.add_argument("--conditioning", choices=CONDITIONINGS, default=d.conditioning,
                   help="how a conditional G is told the class: a class embedding concatenated to z, or "
                        "conditional BatchNorm (default: %(default)s)")
    p.add_argument("--label-smoothing", type=float, default=d.label_smoothing,
                   help="one-sided label smoothing s: D's target for real images is 1 - s (default 0, the reference)")
    p.add_argument("--concat-real-fake", action="store_true", help="D sees real and fake in one call (shared BatchNorm statistics)")
    p.add_argument("--holdout", type=nonnegative_int, default=d.holdout,
                   help="real images kept out of training to judge the run against (at most a fifth of the data; "
                        "0: train on every image and skip the evaluation)")
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
    add_logging_args(p, log_every=d.log_every)
    add_lifecycle_args(p, checkpoint_every=d.checkpoint_every, keep_checkpoints=d.keep_checkpoints,
                       chunk_flag="--sample-every")  # fmt: skip
    args = p.parse_args(argv)
    preset = apply_preset(p, argv, args, PRESETS.get(args.dataset, {}), f"preset for {args.dataset}")
    setup_devices(args, global_batch=args.batch_size)  # starts jax.distributed if asked
    say(preset)
    return DCGANConfig(**vars(args))
