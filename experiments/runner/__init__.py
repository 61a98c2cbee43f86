"""What every experiment shares to run: its command line, devices, checkpoints and resume, outputs.

* :mod:`~experiments.runner.cli`: one-line errors (:class:`UserError`, :class:`Parser`), argument
  types and the entry-point wrappers (:func:`run_main` for an experiment, :func:`run_cli` for a tool);
* :mod:`~experiments.runner.devices`: ``--devices`` and the multi-process flags;
* :mod:`~experiments.runner.checkpoint_options`: ``--checkpoint-every``, ``--keep-checkpoints``,
  ``--resume`` and the run's identity;
* :mod:`~experiments.runner.lifecycle`: :class:`TrainingLifecycle`, checkpoints, exact resume,
  signals and the divergence guard around :func:`jaxgan.fit`;
* :mod:`~experiments.runner.metric_logging`: ``--log-every``, ``--tensorboard``, ``--log-dir`` and
  :class:`RunLog`, the run's ``metrics.jsonl`` and TensorBoard files;
* :mod:`~experiments.runner.presets`: a data set's recorded recipe as its defaults (:func:`apply_preset`);
* :mod:`~experiments.runner.paths`: ``--out`` and ``--data-dir`` checked at start;
* :mod:`~experiments.runner.image_files`: every unreadable image of a folder in one message;
* :mod:`~experiments.runner.outputs`: results files, figures, the first and last printed words;
* :mod:`~experiments.runner.translation`: what CycleGAN and pix2pix share (presets by kind of data,
  folders' test split, the pixel error).
"""

from experiments.runner.checkpoint_options import RUNTIME_FIELDS, add_lifecycle_args, config_defaults, config_identity
from experiments.runner.cli import (
    EXIT_DIVERGED,
    Parser,
    UserError,
    nonnegative_int,
    positive_float,
    positive_int,
    run_cli,
    run_main,
)
from experiments.runner.devices import (
    DISTRIBUTED_FLAGS,
    add_device_args,
    auto_cpu_devices,
    check_splits_evenly,
    setup_devices,
    split_host_cpu,
    usable_cores,
)
from experiments.runner.image_files import raise_unreadable_images, unreadable_images
from experiments.runner.lifecycle import TrainingInterrupted, TrainingLifecycle
from experiments.runner.metric_logging import LOGGING_FIELDS, RunLog, add_logging_args, tensorboard_dir
from experiments.runner.outputs import (
    MANIFOLD_FIELDS,
    device_description,
    host_description,
    plot_image_rows,
    print_results,
    say,
    use_headless_matplotlib,
    write_json,
)
from experiments.runner.paths import check_data_dir, check_out_dir
from experiments.runner.presets import apply_preset, format_flags, given_options, preset_line, presets_epilog

__all__ = [
    "MANIFOLD_FIELDS",
    # cli
    "EXIT_DIVERGED",
    "Parser",
    "UserError",
    "nonnegative_int",
    "positive_float",
    "positive_int",
    "run_cli",
    "run_main",
    # devices
    "DISTRIBUTED_FLAGS",
    "add_device_args",
    "auto_cpu_devices",
    "check_splits_evenly",
    "setup_devices",
    "split_host_cpu",
    "usable_cores",
    # checkpoints and resume
    "RUNTIME_FIELDS",
    "TrainingInterrupted",
    "TrainingLifecycle",
    "add_lifecycle_args",
    "config_defaults",
    "config_identity",
    # logging
    "LOGGING_FIELDS",
    "RunLog",
    "add_logging_args",
    "tensorboard_dir",
    # presets, paths and image files
    "apply_preset",
    "check_data_dir",
    "check_out_dir",
    "format_flags",
    "given_options",
    "preset_line",
    "presets_epilog",
    "raise_unreadable_images",
    "unreadable_images",
    # outputs
    "device_description",
    "host_description",
    "plot_image_rows",
    "print_results",
    "say",
    "use_headless_matplotlib",
    "write_json",
]
