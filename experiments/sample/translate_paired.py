"""A folder of images translated by a pix2pix run, in the one direction it learned.

A pix2pix run trains one generator: ``--direction AtoB`` runs translate A into B (``AB`` here),
``BtoA`` runs B into A (``BA``); :func:`check_direction` refuses the other direction in one line.
Each image is read as the run read its test images (grayscale for the known-answer tasks, RGB for
folder runs; at the size it trained on) and translated as the run translated its held-out inputs
when it measured its pixel error: dropout on, with the run's evaluation key, and batch-norm
statistics of each batch of ``--batch-size`` images (default the run's own evaluation batch,
:data:`experiments.pix2pix.report.EVALUATION_BATCH`), batch ``i`` with dropout key
``fold_in(key, i)``. So the run's held-out inputs, in the run's order, give back its outputs; the
outputs are PNGs at the inputs' relative paths, as for CycleGAN (:mod:`~experiments.sample.translate`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments.runner import UserError
from experiments.sample.translate import output_paths, read_input, write_pngs

__all__ = ["SAMPLE_DIRECTION", "check_direction", "restore_pix2pix", "translate_paired_folder", "translate_paired_images"]

# A pix2pix run's --direction, as this command's --direction names it.
SAMPLE_DIRECTION = {"AtoB": "AB", "BtoA": "BA"}


def _trained_direction(run) -> str:
    """The direction a pix2pix run learned, as ``--direction`` here names it: ``AB`` or ``BA``."""
    return SAMPLE_DIRECTION[run.config.get("direction", "AtoB")]


def check_direction(run, direction) -> str:
    """The direction to translate a pix2pix run's inputs in: the one it learned.

    Args:
      run: a pix2pix :class:`~experiments.sample.run_dir.Run`.
      direction: ``--direction`` as given (``None``: not given).

    Returns:
      ``AB`` or ``BA``, the run's.

    Raises:
      UserError: ``direction`` is the other one (one generator, one direction).
    """
    learned = _trained_direction(run)
    if direction is not None and direction != learned:
        trained = {v: k for k, v in SAMPLE_DIRECTION.items()}[learned]
        raise UserError(f"--direction {direction}: the pix2pix run in {run.path} learned one direction, "
                        f"{learned[0]} to {learned[1]} (trained with --direction {trained}); "
                        f"pass --direction {learned} or leave it out")  # fmt: skip
    return learned


def restore_pix2pix(run):
    """``(config, model, state, channels)`` of a pix2pix run: its generator and discriminator restored
    (the settings it recorded), and the channels of its images (1 on the known-answer tasks, 3 on folders)."""
    import jax

    from experiments.pix2pix.config import Pix2PixConfig
    from experiments.pix2pix.train import build_model
    from jaxgan.pix2pix import init_pix2pix

    config = run.settings(Pix2PixConfig).resolved()
    channels = 3 if config.is_folder else 1  # folders are read as RGB, the digit tasks are grayscale
    model = build_model(config, channels)
    shape = (config.size, config.size, channels)
    state = run.restore(jax.eval_shape(lambda: init_pix2pix(model, jax.random.PRNGKey(0), shape, shape)))
    return config, model, state, channels


def translate_paired_images(config, model, state, images: np.ndarray, batch_size: int) -> np.ndarray:
    """``G(images)``, uint8 in and out, as the run evaluated (module notes), ``batch_size`` a call."""
    from experiments.pix2pix.report import translate_all
    from experiments.pix2pix.train import evaluation_key
    from jaxgan.data.image_dataset import to_unit_range
    from jaxgan.data.unpaired import to_uint8

    return to_uint8(translate_all(model, state, to_unit_range(images), evaluation_key(config), batch=batch_size))


def translate_paired_folder(run, options) -> list[Path]:
    """Translates every image of ``options.input`` into ``options.out`` in the run's direction;
    returns the files written (``options.direction`` was checked by :func:`check_direction`)."""
    config, model, state, channels = restore_pix2pix(run)
    files, images = read_input(options.input, config.size, channels)
    targets = output_paths(options.input, options.out, files)
    return write_pngs(targets, translate_paired_images(config, model, state, images, options.batch_size))
