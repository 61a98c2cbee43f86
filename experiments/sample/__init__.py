"""Use a trained run from its directory alone: ``python -m experiments.sample RUN_DIR``.

    python -m experiments.sample runs/toy_gan                    # samples.npy + samples.png
    python -m experiments.sample runs/dcgan --num 50000          # samples.npz (in batches) + grids
    python -m experiments.sample runs/dcgan_conditional --class 3   # a conditional run: only 3s
    python -m experiments.sample runs/cyclegan --input photos/ --direction AB
    python -m experiments.sample runs/pix2pix --input sketches/        # in the direction it learned

The experiment, its networks and its settings come from what the run wrote (the settings its
checkpoints recorded, :mod:`~experiments.sample.run_dir`); nothing is retyped:

* toy GAN and mixture GAN runs: ``--num`` samples of every trained run, ``samples.npy``
  ``[runs, num, 2]``, and the scatter figure ``samples.png`` (:mod:`~experiments.sample.points`);
* DCGAN runs: ``--num`` images as ``samples.npz`` (array ``images``, uint8 ``[num, H, W, C]``,
  written batch by batch), the first 64 as ``samples.png``, and ``interpolation.png``, straight
  lines between noise vectors; from the average of G's weights where the run trained with
  ``--g-ema``, else G's last iterate (``--generator``; :mod:`~experiments.sample.images`); a
  class-conditional run (``--conditional``) also writes each image's class (array ``labels``), drawn
  from the training data's class frequencies or given by ``--class``, and its ``samples.png`` has
  a row per class;
* CycleGAN runs: every image of ``--input`` translated ``--direction AB`` or ``BA`` at the size the
  run trained on, one PNG each (:mod:`~experiments.sample.translate`);
* pix2pix runs: the same in the one direction the run learned (its ``--direction AtoB`` is ``AB``
  here, ``BtoA`` is ``BA``; the other is refused), G run as the run evaluated its held-out inputs
  (:mod:`~experiments.sample.translate_paired`).

Outputs go to ``--out`` (default ``RUN_DIR/generated``, or ``RUN_DIR/translated_AB`` / ``_BA``).
A directory that is not a run, a run without a checkpoint, a checkpoint that no experiment wrote,
an option of another experiment's runs and images that cannot be read are one-line errors with
exit status 2.

Modules: :mod:`~experiments.sample.config` (the options and the command line),
:mod:`~experiments.sample.run_dir` (a run read back), :mod:`~experiments.sample.npz_stream`
(an ``.npz`` written in blocks of rows); ``__main__`` is the command.
"""

from experiments.sample.config import PROG, SampleOptions, check_options, parse_args
from experiments.sample.images import (
    dcgan_sampler,
    drawn_classes,
    image_labels,
    image_noise,
    interpolation_noise,
    run_class_probs,
    sample_images,
    write_images,
)
from experiments.sample.npz_stream import NpzRowWriter
from experiments.sample.points import sample_points
from experiments.sample.run_dir import EXPERIMENTS, Run, detect_experiment, open_run
from experiments.sample.translate import (
    image_files,
    output_paths,
    read_input,
    restore_cyclegan,
    translate_folder,
    translate_images,
    write_pngs,
)
from experiments.sample.translate_paired import (
    check_direction,
    restore_pix2pix,
    translate_paired_folder,
    translate_paired_images,
)

__all__ = [
    "EXPERIMENTS",
    "NpzRowWriter",
    "PROG",
    "Run",
    "SampleOptions",
    "check_direction",
    "check_options",
    "dcgan_sampler",
    "detect_experiment",
    "drawn_classes",
    "image_files",
    "image_labels",
    "image_noise",
    "interpolation_noise",
    "open_run",
    "output_paths",
    "parse_args",
    "read_input",
    "restore_cyclegan",
    "restore_pix2pix",
    "run_class_probs",
    "sample_images",
    "sample_points",
    "translate_folder",
    "translate_images",
    "translate_paired_folder",
    "translate_paired_images",
    "write_images",
    "write_pngs",
]
