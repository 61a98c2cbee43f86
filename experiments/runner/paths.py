"""The paths of a command line checked at start: ``--out`` can be created, ``--data-dir`` is a directory.

Both fail as one-line :class:`~experiments.runner.cli.UserError` before any data are read or any
step is trained, and neither creates anything.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from experiments.runner.cli import UserError

__all__ = ["check_data_dir", "check_out_dir"]


def check_out_dir(out, flag: str = "--out") -> Path:
    """``UserError`` unless the output directory exists and is writable, or can be created.

    The nearest existing path at or above ``out`` must be a directory this process may write in
    (a file in the way, e.g. ``--out notes.txt/run``, or a read-only directory is refused).

    Args:
      out: the output directory (``~`` is expanded).
      flag: the option's name in the message.

    Returns:
      The directory as a ``Path``.
    """
    path = Path(os.fspath(out)).expanduser()
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "" if existing == path else f": {existing} is in the way"
        raise UserError(f"{flag} {out} cannot be created{where} (a file, not a directory); pick another {flag}")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "cannot be written" if existing == path else f"cannot be created: no permission to write in {existing}"
        raise UserError(f"{flag} {out} {what}; pick another {flag}")
    return path


def check_data_dir(data_dir: Optional[str], flag: str = "--data-dir") -> None:
    """``UserError`` when ``data_dir`` names a file: a data directory is a directory.

    A path that does not exist is left to the loader, which says what it expected there.
    """
    if data_dir is None:
        return
    path = Path(os.fspath(data_dir)).expanduser()
    if path.exists() and not path.is_dir():
        raise UserError(f"{flag} {data_dir} is a file, not a directory; pass the directory that holds the data")
