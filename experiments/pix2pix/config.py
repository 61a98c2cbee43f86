"""The pix2pix experiment's settings: :class:`Pix2PixConfig`, its two presets (known-answer tasks,
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

__all__ = ["DESCRIPTION", "DIRECTIONS", "PRESETS", "PROG", "REFERENCE", "SMALL", "Pix2PixConfig", "parse_args", "preset_name"]

PROG = "python -m experiments.pix2pix"
DESCRIPTION = "pix2pix: paired translation, on a task whose right answer is known or on aligned image folders."

# Model and batch defaults: known-answer tasks at 16x16 (a U-Net of 4 downsamplings, dropout in its
# two middle blocks, a 34x34 PatchGAN; the recipe recorded in docs/results.md as meeting the goals on
# digits-thick), and the reference's folder setting (unet_256, 70x70 PatchGAN, batch 1, dropout in
# the reference's 3 blocks). Flags given override them.
SMALL = dict(ngf=32, ndf=16, n_layers=2, dropout_blocks=2, batch_size=8, steps=12000)
REFERENCE = dict(ngf=64, ndf=64, n_layers=3, dropout_blocks=3, batch_size=1)
PRESETS = {TASKS: SMALL, FOLDER: REFERENCE}
DIRECTIONS = ("AtoB", "BtoA")


@dataclasses.dataclass(frozen=True)
class Pix2PixConfig:
    """One pix2pix run; ``None`` model and batch settings come from ``SMALL`` or ``REFERENCE`` (:meth:`resolved`)."""

    dataset: str = "digits-thick"
    data_dir: Optional[str] = None
    image_size: int = 16  # known-answer tasks
    load_size: int = 286  # folder
    crop_size: int = 256  # folder
    direction: str = "AtoB"  # the reference's --direction: AtoB translates A into B, BtoA back
    steps: int = 4000  # known-answer tasks: 12000 (SMALL)
    decay_steps: Optional[int] = None  # default: the second half of the run (reference: 100 + 100 epochs)
    batch_size: Optional[int] = None
    ngf: Optional[int] = None
    ndf: Optional[int] = None
    n_layers: Optional[int] = None
    dropout_blocks: Optional[int] = None
    lr: float = 2e-4
    lambda_l1: float = 100.0
    seed: int = 0
    classifier_steps: int = JUDGE_STEPS  # training steps of each evaluation classifier (cached on disk)
    chunk_size: int = 100
    out: str = "runs/pix2pix"
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
        """Whether the data are aligned image folders (the reference's setting), not a known-answer task."""
        return self.dataset == FOLDER

    @property
    def size(self) -> int:
        """The side of the images the networks see: the crop (folder) or the task's image size."""
        return self.crop_size if self.is_folder else self.image_size

    def resolved(self) -> "Pix2PixConfig":
        """Fills the ``None`` model/batch settings from ``REFERENCE`` (folder) or ``SMALL``."""
        return resolve_preset(self, PRESETS)

    def validate(self) -> None:
        """``UserError`` for settings that cannot run."""
        check_schedule_and_crop(self)
        if self.size < 4 or self.size & (self.size - 1):
            raise UserError(f"image size {self.size} must be a power of two >= 4 (the U-Net goes down to 1x1)")
        downs = self.size.bit_length() - 1
        if self.dropout_blocks is not None and self.dropout_blocks > downs - 2:
            raise UserError(f"--dropout-blocks {self.dropout_blocks} exceeds the {downs - 2} middle blocks of a {self.size}x{self.size} U-Net")
        if self.direction not in DIRECTIONS:
            raise UserError(f"--direction must be one of {', '.join(DIRECTIONS)}, got {self.direction!r}")
        if self.lambda_l1 < 0:
            raise UserError("--lambda-l1 must be >= 0")


def parse_args(argv=None) -> Pix2PixConfig:
    """The :class:`Pix2PixConfig` of a command line (``None``: ``sys.argv[1:]``); starts ``jax.distributed`` if asked.

    The data's entry of :data:`PRESETS` fills the model and batch options the command line does not
    give, and is printed in one line.
    """
    p = Parser(prog=PROG, description=DESCRIPTION, epilog=presets_epilog(PRESETS, "kind of data"))
    d = Pix2PixConfig()
    p.add_argument("--dataset", default=d.dataset, help="digits-<transform>, mnist-<transform> or folder")
    p.add_argument("--data-dir", default=d.data_dir, help="MNIST IDX files, or the folder with train/ test/ of A|B images (or A/train/ B/train/ ... paired by name)")
    p.add_argument("--image-size", type=positive_int, default=d.image_size, help="known-answer tasks: image side (a power of 2)")
    p.add_argument("--load-size", type=positive_int, default=d.load_size, help="folder: each half resized to this")
    p.add_argument("--crop-size", type=positive_int, default=d.crop_size, help="folder: random crops of this size")
    p.add_argument("--direction", default=d.direction, choices=DIRECTIONS,
                   help="AtoB: x -> T(x) (folder: left half -> right half); BtoA: the other way")
    p.add_argument("--steps", type=positive_int, default=d.steps, help="iterations (discriminator step + generator step; default 10000 tasks, 4000 folder)")
    p.add_argument("--decay-steps", type=nonnegative_int, default=d.decay_steps,
                   help="final iterations of linear learning-rate decay to 0 (default: half of --steps)")
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size, help="default 8 (tasks), 1 (folder)")
    p.add_argument("--ngf", type=positive_int, default=d.ngf, help="U-Net width (default 32 tasks, 64 folder)")
    p.add_argument("--ndf", type=positive_int, default=d.ndf, help="discriminator width (16 tasks, 64 folder)")
    p.add_argument("--n-layers", type=positive_int, default=d.n_layers, help="PatchGAN stride-2 layers (2 tasks, 3 folder)")
    p.add_argument("--dropout-blocks", type=nonnegative_int, default=d.dropout_blocks,
                   help="U-Net blocks with dropout above the innermost (2 tasks, 3 folder)")
    p.add_argument("--lr", type=positive_float, default=d.lr)
    p.add_argument("--lambda-l1", type=float, default=d.lambda_l1, help="weight of the L1 term (100)")
    p.add_argument("--seed", type=nonnegative_int, default=d.seed)
    p.add_argument("--classifier-steps", type=positive_int, default=d.classifier_steps,
                   help="training steps of the evaluation classifiers (cached under ~/.cache/jaxgan)")
    p.add_argument("--chunk-size", type=positive_int, default=d.chunk_size, help="iterations per compiled scan chunk")
    p.add_argument("--out", default=d.out, help="output directory")
    p.add_argument("--no-plot", dest="plot", action="store_false")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    add_device_args(p)
    add_logging_args(p, log_every=Pix2PixConfig.log_every)
    add_lifecycle_args(p, checkpoint_every=Pix2PixConfig.checkpoint_every, keep_checkpoints=Pix2PixConfig.keep_checkpoints)
    return Pix2PixConfig(**vars(parse_with_preset(p, argv, PRESETS)))
