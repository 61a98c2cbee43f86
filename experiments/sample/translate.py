"""A folder of images translated by a CycleGAN run, A to B or B to A, at the size it was trained on.

As the reference's ``test.py``: each image is read as the run read its test images (grayscale for
the known-answer tasks, RGB for folder runs; shorter side resized to the trained size, centre square
kept), translated by ``G_AB`` or ``G_BA`` in evaluation mode, and written as a PNG under the output
folder at the input's relative path (``photos/x.jpg`` -> ``OUT/photos/x.png``). Unreadable images are
all named in one error before anything is translated.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np

from experiments.runner import UserError, raise_unreadable_images

__all__ = ["image_files", "output_paths", "read_input", "restore_cyclegan", "translate_folder", "translate_images",
           "write_pngs"]


def image_files(directory: Path) -> list[Path]:
    """The image files the image-folder loader reads under ``directory``, in its order."""
    from jaxgan.data.image_folder import list_image_files

    return list_image_files(directory)[0]


def restore_cyclegan(run):
    """``(model, state, size, channels)`` of a CycleGAN run: its four networks restored, the side it
    trained on (``--crop-size`` on folders, ``--image-size`` on the known-answer tasks) and its channels."""
    import jax

    from experiments.cyclegan.config import CycleGANConfig
    from experiments.cyclegan.train import build_model
    from jaxgan.cyclegan import init_cyclegan

    config = run.settings(CycleGANConfig)
    channels = 3 if config.is_folder else 1  # folders are read as RGB, the digit tasks are grayscale
    size = config.crop_size if config.is_folder else config.image_size
    model = build_model(config, channels, channels)
    shape = (size, size, channels)
    state = run.restore(jax.eval_shape(lambda: init_cyclegan(model, jax.random.PRNGKey(0), shape, shape)))
    return model, state, size, channels


def translate_images(model, state, images: np.ndarray, direction: str, batch_size: int) -> np.ndarray:
    """``G_AB(images)`` (``direction`` "AB") or ``G_BA(images)``, uint8 in and out, ``batch_size`` a call."""
    import jax
    import jax.numpy as jnp

    from jaxgan.cyclegan import translate
    from jaxgan.data.image_dataset import to_unit_range
    from jaxgan.data.unpaired import to_uint8

    network, player = (model.generator_ab, state.g_ab) if direction == "AB" else (model.generator_ba, state.g_ba)
    apply = jax.jit(lambda x: translate(network, player, x))
    batch = min(batch_size, len(images))
    out = []
    for start in range(0, len(images), batch):
        chunk = to_unit_range(images[start : start + batch])
        rows = len(chunk)
        padded = np.concatenate([chunk, np.zeros((batch - rows, *chunk.shape[1:]), chunk.dtype)])  # one compiled shape
        out.append(to_uint8(np.asarray(apply(jnp.asarray(padded)))[:rows]))
    return np.concatenate(out)


def read_input(folder, size: int, channels: int) -> tuple[list[Path], np.ndarray]:
    """The image files of ``--input`` and their pixels, read as a run reads its test images.

    Args:
      folder: the ``--input`` folder (searched recursively; ``~`` is expanded).
      size: the side the run trained on (shorter side resized to it, centre square kept).
      channels: 1 (grayscale) or 3 (RGB).

    Returns:
      ``(files, images)``: the files in the loader's order and uint8 ``[N, size, size, channels]``.

    Raises:
      UserError: the folder is missing or a file, holds no image, or holds images that cannot be read.
    """
    from jaxgan.data.image_dataset import DatasetError
    from jaxgan.data.image_folder import read_image_folder

    path = Path(os.fspath(folder)).expanduser()
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "does not exist"
        raise UserError(f"--input {folder} {what}; pass a folder of images to translate")
    raise_unreadable_images(path)
    try:
        images = read_image_folder(path, image_size=size, channels=channels)
    except DatasetError as err:
        raise UserError(f"--input: {err}") from None
    return image_files(path), images


def output_paths(input_folder, out, files: list[Path]) -> list[Path]:
    """Each input file's PNG under ``out`` at its relative path (``photos/x.jpg`` -> ``OUT/photos/x.png``).

    Raises:
      UserError: two inputs would share an output (same name, other extension).
    """
    root = Path(os.fspath(input_folder)).expanduser()
    targets = [Path(out) / f.relative_to(root).with_suffix(".png") for f in files]
    clashes = sorted(t for t, n in Counter(targets).items() if n > 1)
    if clashes:
        raise UserError(f"--input {input_folder} has images that would share the output {clashes[0]} "
                        "(same name, other extension); rename one")  # fmt: skip
    return targets


def write_pngs(targets: list[Path], images: np.ndarray) -> list[Path]:
    """Writes uint8 ``images [N, H, W, 1 or 3]`` as PNGs (grayscale or RGB) at ``targets``; returns them."""
    from PIL import Image

    for target, image in zip(targets, images):
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(target)
    return targets


def translate_folder(run, options) -> list[Path]:
    """Translates every image of ``options.input`` into ``options.out``; returns the files written."""
    model, state, size, channels = restore_cyclegan(run)
    files, images = read_input(options.input, size, channels)
    targets = output_paths(options.input, options.out, files)
    return write_pngs(targets, translate_images(model, state, images, options.direction, options.batch_size))
