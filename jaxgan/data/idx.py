"""Reading and writing IDX files (the MNIST / Fashion-MNIST format), gzipped or not.

An IDX file is a big-endian header followed by the raw array:

* bytes 0-1: zero; byte 2: the element type code (``0x08`` = uint8, ``0x09`` int8, ``0x0B`` int16,
  ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64); byte 3: the number of dimensions ``d``;
* ``d`` big-endian uint32 sizes;
* ``prod(sizes)`` elements of that type, big-endian.

So MNIST images are magic ``0x00000803`` then ``(N, 28, 28)`` and labels ``0x00000801`` then
``(N,)``. :func:`read_idx` checks the magic, the sizes and the data length, and raises
:class:`IDXError` (a ``ValueError``) with a one-line message otherwise.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

__all__ = ["IDXError", "read_idx", "write_idx"]

_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {np.dtype(v).newbyteorder("=") if v.byteorder == ">" else v: k for k, v in _DTYPES.items()}


class IDXError(ValueError):
    """A file that is not a well-formed IDX file (bad magic, truncated, or trailing bytes)."""


def _read_bytes(path: str | os.PathLike) -> bytes:
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            head = f.read(2)
            f.seek(0)
            if head == b"\x1f\x8b":  # gzip magic: decompress whatever the file name says
                with gzip.GzipFile(fileobj=f) as g:
                    return g.read()
            return f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise IDXError(f"{path}: cannot read ({type(e).__name__}: {e}); the file is corrupt or truncated") from e


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in an IDX file (gzip detected from the content, not the name).

    Integer data come back in native byte order (uint8 stays uint8).
    """
    raw = _read_bytes(path)
    path = os.fspath(path)
    if len(raw) < 4:
        raise IDXError(f"{path}: not an IDX file ({len(raw)} bytes, shorter than the 4-byte magic)")
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or code not in _DTYPES or ndim == 0:
        raise IDXError(f"{path}: not an IDX file (magic 0x{raw[:4].hex()}; expected 0x000008NN)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{path}: truncated IDX header ({len(raw)} bytes, need {header})")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "has trailing bytes"
        raise IDXError(
            f"{path}: IDX data {what}: header says shape {tuple(shape)} ({expected} bytes), file has {len(raw)}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool | None = None) -> None:
    """Writes ``array`` as an IDX file; gzipped when ``compress`` (default: the name ends in ``.gz``)."""
    array = np.asarray(array)
    dtype = array.dtype.newbyteorder("=") if array.dtype.byteorder == ">" else array.dtype
    if dtype not in _CODES:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    code = _CODES[dtype]
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()
    path = os.fspath(path)
    if compress is None:
        compress = path.endswith(".gz")
    with open(path, "wb") as f:
        f.write(gzip.compress(payload) if compress else payload)
