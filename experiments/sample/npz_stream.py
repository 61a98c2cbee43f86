"""An ``.npz`` file written a block of rows at a time, so that no more than one block is in memory.

``np.savez`` needs the whole array; :class:`NpzRowWriter` writes one array of a shape and dtype
known in advance as the ``.npy`` member of an uncompressed zip, its header first and then each block
of rows as it comes. ``np.load(path)[name]`` reads it back like any ``.npz``. Small arrays known
before the rows (a conditional GAN's labels) go into the same file whole, ahead of them. The file
appears under its name only once every row is written (it is written beside it and renamed).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Mapping, Optional

import numpy as np
import numpy.lib.format as npy_format

__all__ = ["NpzRowWriter"]


class NpzRowWriter:
    """Writes the array ``name`` of ``shape`` and ``dtype`` into the ``.npz`` at ``path``, rows in order.

    Use as a context manager; :meth:`write` each block of rows; leaving the block without an
    exception checks that every row came and publishes the file.

    Args:
      path: the ``.npz`` file to write.
      name: the array's name in it (``np.load(path)[name]``).
      shape: the whole array's shape; rows are along its first axis.
      dtype: its dtype.
      whole: other arrays of the file, by name, written whole before the rows (e.g. ``{"labels": ...}``).
    """

    def __init__(self, path, name: str, shape: tuple[int, ...], dtype, whole: Optional[Mapping[str, np.ndarray]] = None):
        self.path = Path(path)
        self.whole = dict(whole or {})
        if name in self.whole:
            raise ValueError(f"{name!r} is the array written in rows; give the arrays written whole other names")
        self.name = name
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.rows = 0
        self._tmp = self.path.with_name(self.path.name + ".tmp")
        self._zip = None
        self._member = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._zip = zipfile.ZipFile(self._tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
        for whole_name, array in self.whole.items():
            with self._zip.open(whole_name + ".npy", "w", force_zip64=True) as member:
                npy_format.write_array(member, np.asarray(array), allow_pickle=False)
        self._member = self._zip.open(self.name + ".npy", "w", force_zip64=True)
        header = {"descr": npy_format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": self.shape}
        npy_format.write_array_header_2_0(self._member, header)
        return self

    def write(self, block) -> None:
        """Appends ``block`` (rows of the array's row shape, cast to its dtype) after the rows so far."""
        block = np.ascontiguousarray(block, dtype=self.dtype)
        if block.shape[1:] != self.shape[1:] or self.rows + block.shape[0] > self.shape[0]:
            raise ValueError(f"rows {self.rows}..{self.rows + block.shape[0]} of shape {block.shape[1:]} "
                             f"do not fit an array of shape {self.shape}")  # fmt: skip
        self._member.write(block.tobytes())
        self.rows += block.shape[0]

    def __exit__(self, exc_type, exc, tb):
        self._member.close()
        self._zip.close()
        if exc_type is None and self.rows == self.shape[0]:
            os.replace(self._tmp, self.path)
            return False
        os.remove(self._tmp)
        if exc_type is None:
            raise ValueError(f"{self.rows} of the {self.shape[0]} rows of {self.path} were written")
        return False
