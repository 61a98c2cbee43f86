"""The toy GAN's settings: :class:`ToyConfig`, its recipes and loops, and the command line that fills it."""

from __future__ import annotations

import dataclasses

from experiments.runner import (
    Parser,
    UserError,
    add_device_args,
    add_lifecycle_args,
    add_logging_args,
    nonnegative_int,
    positive_float,
    positive_int,
    setup_devices,
)

__all__ = ["DESCRIPTION", "LOOPS", "PROG", "RECIPES", "ToyConfig", "parse_args"]

PROG = "python -m experiments.toy_gan"
DESCRIPTION = "The lecture's toy GAN: learn ``N(mu, A^T A)`` from 3200 samples with a linear G."

RECIPES = ("lecture", "stable")
LOOPS = ("auto", "scan", "kernel")  # experiments.toy_gan.loop


@dataclasses.dataclass(frozen=True)
class ToyConfig:
    """One toy GAN run (the defaults are lecture 17's setting); ``validate`` checks it."""

    steps: int = 2000
    batch_size: int = 32
    lr: float = 0.01
    seeds: int = 1
    seed: int = 0
    n_samples: int = 3200
    recipe: str = "lecture"
    modular: bool = False
    chunk_size: int = 1000
    out: str = "runs/toy_gan"
    plot: bool = True
    progress: bool = True
    checkpoint_every: int = 0  # a run takes seconds: final checkpoint and on SIGINT/SIGTERM (experiments.runner.lifecycle)
    keep_checkpoints: int = 3
    resume: bool = False
    devices: int | None = None  # seed-parallel: the runs are split over this many devices (None: all)
    log_every: int = 100  # metrics.jsonl (and TensorBoard's) every N steps: experiments.runner.metric_logging
    tensorboard: bool = False
    log_dir: str | None = None  # TensorBoard's directory (default: out/tensorboard with --tensorboard)
    loop: str = "auto"  # scan | kernel (jaxgan.speedups.toy_gan_kernel) | auto: the kernel on one GPU where it applies

    def validate(self) -> None:
        for name in ("steps", "batch_size", "seeds", "n_samples", "chunk_size", "log_every"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(self, name)}")
        if not self.lr > 0:
            raise UserError(f"--lr must be a positive number, got {self.lr}")
        if self.batch_size > self.n_samples:
            raise UserError(
                f"--batch-size {self.batch_size} is larger than the data ({self.n_samples} samples)"
            )
        if self.recipe not in RECIPES:
            raise UserError(f"unknown recipe {self.recipe!r}; known recipes: {', '.join(RECIPES)}")
        if self.loop not in LOOPS:
            raise UserError(f"unknown loop {self.loop!r}; known loops: {', '.join(LOOPS)}")


def parse_args(argv=None) -> ToyConfig:
    """The :class:`ToyConfig` of a command line (``None``: ``sys.argv[1:]``); starts ``jax.distributed`` if asked."""
    p = Parser(prog=PROG, description=DESCRIPTION)
    d = ToyConfig()
    p.add_argument("--steps", type=positive_int, default=d.steps, help="training iterations (D step + G step)")
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size)
    p.add_argument("--lr", type=positive_float, default=d.lr, help="Adam learning rate of both players")
    p.add_argument("--seeds", type=positive_int, default=d.seeds, help="independent runs trained at once (vmap)")
    p.add_argument("--seed", type=nonnegative_int, default=d.seed, help="base seed; run r uses fold_in(seed, r)")
    p.add_argument("--n-samples", type=positive_int, default=d.n_samples, help="size of the training set")
    p.add_argument("--recipe", choices=RECIPES, default=d.recipe)
    p.add_argument("--modular", action="store_true", help="train through GANLoss (D as a loss module)")
    p.add_argument("--chunk-size", type=positive_int, default=d.chunk_size, help="iterations per compiled scan chunk")
    p.add_argument("--loop", choices=LOOPS, default=d.loop,
                   help="the compiled training loop: lax.scan, or the lecture recipe's loop as one GPU kernel "
                        "(jaxgan.speedups.toy_gan_kernel; interpreted, slowly, off a GPU); auto: the kernel on one GPU where "
                        "it applies, else scan")
    p.add_argument("--out", default=d.out, help="output directory")
    p.add_argument("--no-plot", dest="plot", action="store_false")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    add_lifecycle_args(p, checkpoint_every=d.checkpoint_every, keep_checkpoints=d.keep_checkpoints)
    add_logging_args(p, log_every=d.log_every)
    add_device_args(p)
    args = p.parse_args(argv)
    setup_devices(args, global_batch=args.seeds, batch_flag="--seeds")  # starts jax.distributed if asked
    return ToyConfig(**vars(args))
