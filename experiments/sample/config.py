"""What to draw from a trained run: :class:`SampleOptions` and the command line that fills it.

Options that only some experiments take default to ``None`` (not given), so that one given to a run
of another experiment is refused by name (:func:`check_options`) instead of being ignored.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from experiments.runner import Parser, UserError, nonnegative_int, positive_int

__all__ = [
    "APPLIES_TO",
    "DESCRIPTION",
    "NAMES",
    "PROG",
    "TRANSLATORS",
    "SampleOptions",
    "check_options",
    "class_list",
    "flag",
    "parse_args",
]

PROG = "python -m experiments.sample"
DESCRIPTION = "Samples from a trained run, or translates a folder with it, from its run directory alone."

# The experiments' names as printed, by module.
NAMES = {"toy_gan": "toy GAN", "mixture_gan": "mixture GAN", "dcgan": "DCGAN", "cyclegan": "CycleGAN",
         "pix2pix": "pix2pix"}

# Which experiments each option applies to (the others apply to every run).
APPLIES_TO = {
    "num": ("toy_gan", "mixture_gan", "dcgan"),
    "seed": ("toy_gan", "mixture_gan", "dcgan"),
    "generator": ("dcgan",),
    "classes": ("dcgan",),
    "interpolations": ("dcgan",),
    "interpolation_steps": ("dcgan",),
    "input": ("cyclegan", "pix2pix"),
    "direction": ("cyclegan", "pix2pix"),
}

# The experiments that translate a folder (--input) instead of drawing samples.
TRANSLATORS = ("cyclegan", "pix2pix")

DEFAULT_NUM = {"toy_gan": 2500, "mixture_gan": 2500, "dcgan": 64}

# Images per compiled call. pix2pix runs G on each batch's own statistics, as its run evaluated in
# batches of experiments.pix2pix.report.EVALUATION_BATCH: the same batches give the run's outputs.
DEFAULT_BATCH_SIZE = 500
PIX2PIX_BATCH_SIZE = 200


@dataclasses.dataclass(frozen=True)
class SampleOptions:
    """One use of a trained run; ``None``: not given (the experiment's default, see :meth:`resolved`)."""

    run_dir: str
    out: Optional[str] = None  # default: RUN_DIR/generated (samples), RUN_DIR/translated_<direction>
    num: Optional[int] = None  # samples or images to draw
    seed: Optional[int] = None  # the noise's key (default 0)
    batch_size: Optional[int] = None  # images per compiled call (default 500; pix2pix: 200, its evaluation's)
    generator: Optional[str] = None  # DCGAN: ema | last (default: ema where the run kept one)
    classes: Optional[tuple[int, ...]] = None  # conditional DCGAN: --class, the classes to draw (default: all)
    interpolations: Optional[int] = None  # DCGAN: interpolation rows (0: none; default 8, conditional: a row per class)
    interpolation_steps: Optional[int] = None  # DCGAN: images per row (default 10)
    input: Optional[str] = None  # CycleGAN and pix2pix: the folder of images to translate
    direction: Optional[str] = None  # CycleGAN: AB (A to B, the default) or BA; pix2pix: the run's own

    def given(self) -> set[str]:
        """The experiment-specific options given (not ``None``)."""
        return {name for name in APPLIES_TO if getattr(self, name) is not None}

    def resolved(self, experiment: str) -> "SampleOptions":
        """The options with every ``None`` replaced by ``experiment``'s default, but ``interpolations``:
        its default is the run's (a row per class of a conditional DCGAN; :mod:`experiments.sample.images`)."""
        batch = PIX2PIX_BATCH_SIZE if experiment == "pix2pix" else DEFAULT_BATCH_SIZE
        defaults = dict(num=DEFAULT_NUM.get(experiment), seed=0, interpolation_steps=10, direction="AB",
                        batch_size=batch)  # fmt: skip
        return dataclasses.replace(self, **{k: v for k, v in defaults.items() if getattr(self, k) is None})


def flag(name: str) -> str:
    """The command-line flag of the option ``name`` (``classes``: ``--class``)."""
    return "--class" if name == "classes" else "--" + name.replace("_", "-")


def class_list(text: str) -> list[int]:
    """argparse type of ``--class``: one class or a comma list of them (``3`` or ``3,5``), each >= 0."""
    return [nonnegative_int(part.strip()) for part in text.split(",")]


def check_options(options: SampleOptions, experiment: str, run_dir) -> None:
    """``UserError`` for an option given to a run it does not apply to, and for a CycleGAN or
    pix2pix run without ``--input`` (a pix2pix run's direction is checked against the run:
    :func:`experiments.sample.translate_paired.check_direction`)."""
    for name in sorted(options.given()):
        if experiment not in APPLIES_TO[name]:
            which = " and ".join(NAMES[e] for e in APPLIES_TO[name])
            raise UserError(f"{flag(name)} applies to {which} runs; {run_dir} is a {NAMES[experiment]} run "
                            f"(experiments.{experiment}): leave {flag(name)} out")  # fmt: skip
    if experiment == "cyclegan" and options.input is None:
        raise UserError(f"{run_dir} is a CycleGAN run: it translates images; pass --input DIR "
                        "(a folder of images) and --direction AB or BA")  # fmt: skip
    if experiment == "pix2pix" and options.input is None:
        raise UserError(f"{run_dir} is a pix2pix run: it translates images in the direction it learned; "
                        "pass --input DIR (a folder of images)")  # fmt: skip


def parse_args(argv=None) -> SampleOptions:
    """The :class:`SampleOptions` of a command line (``None``: ``sys.argv[1:]``)."""
    p = Parser(prog=PROG, description=DESCRIPTION)
    p.add_argument("run_dir", metavar="RUN_DIR", help="the --out directory of a training run")
    p.add_argument("--out", default=None,
                   help="output directory (default: RUN_DIR/generated, or RUN_DIR/translated_AB or _BA)")
    p.add_argument("--batch-size", type=positive_int, default=SampleOptions.batch_size,
                   help="images per compiled call: the memory of one batch is all sampling needs (default 500; "
                        "pix2pix: 200, the batches its run evaluated in, whose statistics G uses)")
    g = p.add_argument_group("toy GAN, mixture GAN and DCGAN runs")
    g.add_argument("--num", type=positive_int, default=None,
                   help="samples to draw (default 2500 points, 64 images); DCGAN: all go to samples.npz, "
                        "the first 64 to samples.png (a conditional run's samples.png: a row per class, 8 columns, "
                        "the noise of the first 8 images)")
    g.add_argument("--seed", type=nonnegative_int, default=None,
                   help="the noise's key (default 0): the same seed gives the same samples")
    d = p.add_argument_group("DCGAN runs")
    d.add_argument("--generator", choices=("ema", "last"), default=None,
                   help="ema: the average of G's weights (the default for runs trained with experiments.dcgan's --g-ema), "
                        "last: G's last iterate")
    d.add_argument("--class", dest="classes", type=class_list, action="extend", default=None, metavar="C",
                   help="a class-conditional run (trained with experiments.dcgan's --conditional): draw only class C, e.g. --class 3; "
                        "several: --class 3,5 or --class 3 --class 5 (the images take them in turn: 3, 5, 3, 5, ...). "
                        "Default: each image's class drawn from the training data's class frequencies, as the run "
                        "drew them; the labels go to samples.npz beside the images")
    d.add_argument("--interpolations", type=nonnegative_int, default=None,
                   help="rows of interpolation.png, each a straight line between two noise vectors (default 8; 0: none); "
                        "a conditional run: each row of one class, in turn (default: a row per class drawn)")
    d.add_argument("--interpolation-steps", type=positive_int, default=None,
                   help="images per row of interpolation.png, both ends included (default 10; at least 2)")
    c = p.add_argument_group("CycleGAN and pix2pix runs")
    c.add_argument("--input", default=None, metavar="DIR", help="a folder of images to translate (searched recursively)")
    c.add_argument("--direction", choices=("AB", "BA"), default=None,
                   help="AB: the images are of domain A, translated to B (CycleGAN's default); BA: the reverse; "
                        "a pix2pix run translates only in the direction it learned (the default)")
    args = vars(p.parse_args(argv))
    if args["classes"] is not None:  # each class once, in the order given
        args["classes"] = tuple(dict.fromkeys(args["classes"]))
    options = SampleOptions(**args)
    if options.interpolation_steps == 1:
        raise UserError("--interpolation-steps must be at least 2 (both ends of each line)")
    return options
