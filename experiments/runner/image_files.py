"""Every unreadable image of a folder, in one message (the loaders stop at the first)."""

from __future__ import annotations

import os
from pathlib import Path

from experiments.runner.cli import UserError

__all__ = ["MAX_LISTED", "raise_unreadable_images", "unreadable_images"]

MAX_LISTED = 10  # images named in the message; the rest are counted


def _is_unreadable(path: Path) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
    except Exception:  # noqa: BLE001 - anything Pillow cannot decode is unreadable
        return True
    return False


def unreadable_images(directory) -> list[Path]:
    """The image files under ``directory`` (as :func:`jaxgan.data.image_folder.list_image_files`
    lists them) that Pillow cannot decode: the files the image-folder loader would fail on."""
    from jaxgan.data.image_folder import list_image_files

    files, _ = list_image_files(Path(os.fspath(directory)).expanduser())
    return [path for path in files if _is_unreadable(path)]


def raise_unreadable_images(directory) -> None:
    """``UserError`` naming every unreadable image under ``directory`` (the first
    :data:`MAX_LISTED`, then how many more); nothing when every image reads."""
    bad = unreadable_images(directory)
    if not bad:
        return
    root = Path(os.fspath(directory)).expanduser()
    names = [str(p.relative_to(root)) for p in bad[:MAX_LISTED]]
    more = f" and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
    noun = "image" if len(bad) == 1 else "images"
    raise UserError(
        f"{len(bad)} {noun} in {directory} cannot be read: {', '.join(names)}{more}; remove or replace them"
    )
