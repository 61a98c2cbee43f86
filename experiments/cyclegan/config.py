"""The CycleGAN experiment's settings: :class:`CycleGANConfig`, its two presets (known-answer tasks,
folders), and its command line."""

from __future__ import annotations

import dataclasses
from typing import Optional

from experiments.runner import (
    Parser,
    UserError,
    add_device_args,
    add_lifecycle_args,
    add_logging_args,
    nonnegative_int,
    positive_float,
    positive_int,
    presets_epilog,
)
from experiments.runner.translation import (
    FOLDER,
    JUDGE_STEPS,
    TASKS,
    check_schedule_and_crop,
    parse_with_preset,
    preset_name,
    resolve_preset,
)

__all__ = ["DESCRIPTION", "PRESETS", "PROG", "REFERENCE", "SMALL", "CycleGANConfig", "parse_args", "preset_name"]

PROG = "python -m experiments.cyclegan"
DESCRIPTION = "CycleGAN: unpaired translation, on a task whose right answer is known or on image folders."

# Model and batch defaults: known-answer tasks at 16x16 (the recipe recorded in docs/results.md as
# meeting the goals on digits-thick), and the reference's folder setting. Flags given override them.
SMALL = dict(ngf=16, n_blocks=3, ndf=16, n_layers=2, batch_size=8)
REFERENCE = dict(ngf=64, n_blocks=9, ndf=64, n_layers=3, batch_size=1)
PRESETS = {TASKS: SMALL, FOLDER: REFERENCE}


@dataclasses.dataclass(frozen=True)
class CycleGANConfig:
    """One CycleGAN run; ``None`` model and batch settings come from ``SMALL`` or ``REFERENCE`` (:meth:`resolved`)."""

    dataset: str = "digits-thick"
    data_dir: Optional[str] = None
    image_size: int = 16  # known-answer tasks
    load_size: int = 286  # folder
    crop_size: int = 256  # folder
    steps: int = 4000
    decay_steps: Optional[int] = None  # default: the second half of the run (reference: 100 + 100 epochs)
    batch_size: Optional[int] = None
    ngf: Optional[int] = None
    n_blocks: Optional[int] = None
    ndf: Optional[int] = None
    n_layers: Optional[int] = None
    lr: float = 2e-4
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    pool_size: int = 50
    seed: int = 0
    classifier_steps: int = JUDGE_STEPS  # training steps of each evaluation classifier (cached on disk)
    chunk_size: int = 100
    out: str = "runs/cyclegan"
    plot: bool = True
    progress: bool = True
    devices: Optional[int] = None  # data-parallel: each batch is split over this many devices (None: all)
    checkpoint_every: int = 1000  # see experiments.runner.lifecycle
    keep_checkpoints: int = 3
    resume: bool = False
    log_every: int = 100  # metrics.jsonl (and TensorBoard's) every N steps: experiments.runner.metric_logging
    tensorboard: bool = False
    log_dir: Optional[str] = None  # TensorBoard's directory (default: out/tensorboard with --tensorboard)

    @property
    def is_folder(self) -> bool:
        """Whether the data are image folders (the reference's setting), not a known-answer task."""
        return self.dataset == FOLDER

    def resolved(self) -> "CycleGANConfig":
        """Fills the ``None`` model/batch settings from ``REFERENCE`` (folder) or ``SMALL``."""
        return resolve_preset(self, PRESETS)

    def validate(self) -> None:
        """``UserError`` for settings that cannot run."""
        check_schedule_and_crop(self)
        size = self.crop_size if self.is_folder else self.image_size
        if size % 4:
            raise UserError(f"image size {size} must be a multiple of 4 (two 2x down/upsamplings)")
        if self.lambda_cycle < 0 or self.lambda_identity < 0:
            raise UserError("--lambda-cycle and --lambda-identity must be >= 0")


def parse_args(argv=None) -> CycleGANConfig:
    """The :class:`CycleGANConfig` of a command line (``None``: ``sys.argv[1:]``); starts ``jax.distributed`` if asked.

    The data's entry of :data:`PRESETS` fills the model and batch options the command line does not
    give, and is printed in one line.
    """
    p = Parser(prog=PROG, description=DESCRIPTION, epilog=presets_epilog(PRESETS, "kind of data"))
    d = CycleGANConfig()
    p.add_argument("--dataset", default=d.dataset, help="digits-<transform>, mnist-<transform> or folder")
    p.add_argument("--data-dir", default=d.data_dir, help="MNIST IDX files, or the folder with trainA/ trainB/ ...")
    p.add_argument("--image-size", type=positive_int, default=d.image_size, help="known-answer tasks: image side")
    p.add_argument("--load-size", type=positive_int, default=d.load_size, help="folder: images resized to this")
    p.add_argument("--crop-size", type=positive_int, default=d.crop_size, help="folder: random crops of this size")
    p.add_argument("--steps", type=positive_int, default=d.steps, help="iterations (generator step + discriminator step)")
    p.add_argument("--decay-steps", type=nonnegative_int, default=d.decay_steps,
                   help="final iterations of linear learning-rate decay to 0 (default: half of --steps)")
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size, help="default 8 (tasks), 1 (folder)")
    p.add_argument("--ngf", type=positive_int, default=d.ngf, help="generator width (default 16 tasks, 64 folder)")
    p.add_argument("--n-blocks", type=nonnegative_int, default=d.n_blocks, help="residual blocks (3 tasks, 9 folder)")
    p.add_argument("--ndf", type=positive_int, default=d.ndf, help="discriminator width (16 tasks, 64 folder)")
    p.add_argument("--n-layers", type=positive_int, default=d.n_layers, help="PatchGAN stride-2 layers (2, 3)")
    p.add_argument("--lr", type=positive_float, default=d.lr)
    p.add_argument("--lambda-cycle", type=float, default=d.lambda_cycle)
    p.add_argument("--lambda-identity", type=float, default=d.lambda_identity)
    p.add_argument("--pool-size", type=nonnegative_int, default=d.pool_size)
    p.add_argument("--seed", type=nonnegative_int, default=d.seed)
    p.add_argument("--classifier-steps", type=positive_int, default=d.classifier_steps,
                   help="training steps of the evaluation classifiers (cached under ~/.cache/jaxgan)")
    p.add_argument("--chunk-size", type=positive_int, default=d.chunk_size, help="iterations per compiled scan chunk")
    p.add_argument("--out", default=d.out, help="output directory")
    p.add_argument("--no-plot", dest="plot", action="store_false")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    add_device_args(p)
    add_logging_args(p, log_every=CycleGANConfig.log_every)
    add_lifecycle_args(p, checkpoint_every=CycleGANConfig.checkpoint_every, keep_checkpoints=CycleGANConfig.keep_checkpoints)
    return CycleGANConfig(**vars(parse_with_preset(p, argv, PRESETS)))
