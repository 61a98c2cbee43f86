"""What the image-translation experiments (CycleGAN, pix2pix) share: their presets by kind of data,
the checks of their schedule and crop, their folders' test split, their pixel error and logged images.

Both train on a known-answer task (``digits-<transform>``, ``mnist-<transform>``) with a small
preset, or on image folders (``--dataset folder``) with the reference's; the preset fills the model
and batch settings a command line leaves out (``None``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from experiments.runner.cli import UserError

__all__ = ["FOLDER", "JUDGE_FEATURES", "JUDGE_HIDDEN", "JUDGE_SHIFTS", "JUDGE_STEPS", "TASKS",
           "check_schedule_and_crop", "judge", "load_folder_splits", "mae01", "parse_with_preset", "preset_name",
           "resolve_preset", "unit_range_rows"]  # fmt: skip

FOLDER = "folder"  # the --dataset of image folders, and the name of their preset
TASKS = "known-answer tasks"  # the name of the known-answer tasks' preset

# The label judges of the known-answer tasks: a SmallCNN twice the default's width (convolutions
# of 64 and 128 channels, 256 features) trained for 2000 steps on every non-test digit of a domain
# and on its copies moved a pixel each way, so that a stroke a pixel off reads as the same digit. On
# the 360 held-out thickened digits of seeds 1 and 2 it reads the true answers at 99.2% and 99.2%,
# where the default classifier trained on the digits alone for 1000 steps read 96.9% and 96.7%, too
# low to judge a goal of 98% (other training keys of it: 96.9% to 98.1%).
JUDGE_STEPS = 2000
JUDGE_SHIFTS = 1
JUDGE_FEATURES = (64, 128)
JUDGE_HIDDEN = 256


def preset_name(dataset: str) -> str:
    """The preset of a ``--dataset``: :data:`FOLDER` for ``folder``, else :data:`TASKS`."""
    return FOLDER if dataset == FOLDER else TASKS


def resolve_preset(config, presets: dict):
    """``config`` with its ``None`` model and batch settings from its data's preset and, where not
    given, ``decay_steps`` the second half of the run.

    Args:
      config: a frozen dataclass with ``dataset``, ``steps``, ``decay_steps`` and the presets' fields.
      presets: :data:`TASKS` and :data:`FOLDER` to the settings each fills.

    Returns:
      The filled config (a new one).
    """
    defaults = presets[preset_name(config.dataset)]
    filled = {k: v if getattr(config, k) is None else getattr(config, k) for k, v in defaults.items()}
    decay = config.steps // 2 if config.decay_steps is None else config.decay_steps
    return dataclasses.replace(config, decay_steps=decay, **filled)


def parse_with_preset(parser, argv, presets: dict):
    """The arguments of a command line with its data's preset filling what it leaves out.

    Args:
      parser: the experiment's parser (with ``--dataset``, ``--batch-size`` and the device flags).
      argv: the command line (``None``: ``sys.argv[1:]``).
      presets: :data:`TASKS` and :data:`FOLDER` to the settings each fills.

    Returns:
      The parsed arguments; the preset's line is printed and ``jax.distributed`` started if asked.
    """
    from experiments.runner.devices import setup_devices
    from experiments.runner.outputs import say
    from experiments.runner.presets import apply_preset

    args = parser.parse_args(argv)
    name = preset_name(args.dataset)
    label = f"preset for {args.dataset}" + ("" if name == args.dataset else f" ({name})")
    preset = apply_preset(parser, argv, args, presets[name], label)
    setup_devices(args, global_batch=args.batch_size)  # starts jax.distributed if asked
    say(preset)
    return args


def check_schedule_and_crop(config) -> None:
    """``UserError`` for a decay longer than the run or a crop larger than the loaded image."""
    if config.decay_steps is not None and config.decay_steps > config.steps:
        raise UserError(f"--decay-steps {config.decay_steps} exceeds --steps {config.steps}")
    if config.crop_size > config.load_size:
        raise UserError(f"--crop-size {config.crop_size} exceeds --load-size {config.load_size}")


def load_folder_splits(load, data_dir, load_size: int, crop_size: int):
    """``(train, test)`` of a folder data set: ``load(data_dir, split, load_size=...)`` of ``train``
    at ``load_size`` (uint8, cropped while training), and of ``test`` at ``crop_size`` in ``[-1, 1]``;
    without a test split, the training images at ``crop_size``.

    Raises:
      DatasetError: the loader's, for the training split.
    """
    from jaxgan.data.images import DatasetError, to_unit_range

    train = load(data_dir, "train", load_size=load_size)
    try:
        test = load(data_dir, "test", load_size=crop_size)
    except DatasetError:  # no test split: evaluate on the training images
        test = load(data_dir, "train", load_size=crop_size)
    return train, tuple(to_unit_range(x) for x in test)


def judge(classify, seed: int, steps: int = JUDGE_STEPS):
    """The label judge of one domain: ``get_classifier`` on its labelled images, with the judges' settings.

    Args:
      classify: the domain's labelled ``ImageDataset`` (a task's ``classify_a`` or ``classify_b``).
      seed: the run's seed (the judge's training key).
      steps: the judge's training steps (``--classifier-steps``).

    Returns:
      The trained (or cached) ``Classifier``.
    """
    from jaxgan.metrics.classifier import get_classifier

    return get_classifier(classify, seed=seed, steps=steps, shifts=JUDGE_SHIFTS, features=JUDGE_FEATURES,
                          hidden=JUDGE_HIDDEN, verbose=True)  # fmt: skip


def mae01(x, y) -> float:
    """Mean absolute error on the [0, 1] pixel scale of images given in [-1, 1]."""
    return float(np.mean(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))) / 2.0)


def unit_range_rows(rows: dict, n: int = 8) -> dict:
    """The first ``n`` images of each of ``rows`` (``[-1, 1]``) on ``[0, 1]``, float32, for a run's log."""
    return {name: (np.clip(np.asarray(x[:n], np.float32), -1, 1) + 1) / 2 for name, x in rows.items()}
