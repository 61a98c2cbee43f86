"""Input checks for the library's public boundaries: one-line errors saying what was expected and what came.

Every check raises :class:`InvalidInputError` (a ``ValueError``) whose message is a single line of
the form ``"<what>: expected <this>, got <that>"``; the experiments' command lines print it and
exit with status 2. The checks are cheap host-side tests on shapes and numbers,
except :func:`check_finite_values`, which reduces the array once (on its device for JAX arrays).

Typical use at the top of a training entry point::

    images = check_array(images, name="images", rank=4, channels=(1, 3))
    check_finite_values(images, name="images")
    check_batch_size(batch_size, len(images), device_count=jax.device_count())
"""

from __future__ import annotations

import difflib
import math
import os
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import numpy as np

__all__ = [
    "InvalidInputError",
    "check_positive",
    "check_array",
    "check_finite_values",
    "check_batch_size",
    "check_choice",
    "check_data_dir",
    "describe_shape",
]


class InvalidInputError(ValueError):
    """A caller's input that cannot work; the message is one line and says what was expected."""


def describe_shape(shape: Sequence[Optional[int]]) -> str:
    """Writes a shape for messages: ``(None, 28, 28, 1)`` -> ``"(N, 28, 28, 1)"``.

    Args:
      shape: sizes, ``None`` meaning any size.

    Returns:
      The shape as text, ``None`` written ``N``.
    """
    dims = ["N" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def check_positive(name: str, value: Any, *, integer: bool = False) -> Any:
    """Checks that ``value`` is a finite number > 0 (an integer when ``integer``).

    Args:
      name: the value's name in the message.
      value: the value.
      integer: require a whole number.

    Returns:
      ``value`` (as an ``int`` when ``integer``).

    Raises:
      InvalidInputError: for anything else (booleans included).
    """
    kind = "a positive integer" if integer else "a positive number"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidInputError(f"{name}: expected {kind}, got {value!r}")
    if integer and not float(value).is_integer():
        raise InvalidInputError(f"{name}: expected {kind}, got {value!r}")
    if not (math.isfinite(float(value)) and value > 0):
        raise InvalidInputError(f"{name}: expected {kind}, got {value!r}")
    return int(value) if integer else value


def check_array(
    x: Any,
    *,
    name: str = "data",
    rank: Optional[int] = None,
    shape: Optional[Sequence[Optional[int]]] = None,
    channels: Optional[int | Sequence[int]] = None,
    axes: Optional[str] = None,
) -> Any:
    """Checks an array's rank, shape and channel count.

    An array with no elements, or with zero examples on its first axis, is refused as empty.

    Args:
      x: an array, or anything ``np.asarray`` makes a numeric array of.
      name: the array's name in messages.
      rank: the required number of axes (default: ``len(shape)``, or any).
      shape: the required shape; ``None`` entries mean "any size".
      channels: one count or a set of allowed counts, checked on the last axis.
      axes: names of the axes in messages (e.g. ``"N, H, W, C"``).

    Returns:
      ``x`` unchanged, or as a NumPy array where it was not an array.

    Raises:
      InvalidInputError: for ragged or non-numeric values, the wrong rank, an empty array, a
        wrong size or a wrong channel count.
    """
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        kind = type(x).__name__
        try:
            x = np.asarray(x)
        except Exception:  # noqa: BLE001 - any failure means "not an array"
            x = None
        if x is None or x.dtype == object or x.dtype.kind not in "biufc":
            raise InvalidInputError(f"{name}: expected a numeric array, got a {kind} of ragged or non-numeric values")
    got = tuple(int(d) for d in x.shape)
    if shape is not None and rank is None:
        rank = len(shape)
    layout = f" [{axes}]" if axes else ""
    if rank is not None and len(got) != rank:
        want = describe_shape(shape) if shape is not None else f"rank {rank}{layout}"
        raise InvalidInputError(f"{name}: expected {want}, got rank {len(got)} with shape {describe_shape(got)}")
    if len(got) == 0 or math.prod(got) == 0:
        raise InvalidInputError(f"{name}: expected a non-empty array, got shape {describe_shape(got)}")
    if shape is not None:
        wrong = [i for i, (w, g) in enumerate(zip(shape, got)) if w is not None and w != g]
        if wrong:
            raise InvalidInputError(
                f"{name}: expected shape {describe_shape(shape)}{layout}, got {describe_shape(got)} "
                f"(axis {wrong[0]}: expected {shape[wrong[0]]}, got {got[wrong[0]]})"
            )
    if channels is not None:
        allowed = (channels,) if isinstance(channels, int) else tuple(channels)
        if got[-1] not in allowed:
            want = " or ".join(str(c) for c in allowed)
            raise InvalidInputError(
                f"{name}: expected {want} channels on the last axis, got {got[-1]} (shape {describe_shape(got)})"
            )
    return x


def check_finite_values(x: Any, *, name: str = "data") -> Any:
    """Checks that an array holds no NaN or infinite value.

    JAX arrays are reduced on their device; non-floating arrays pass.

    Args:
      x: the array.
      name: its name in the message.

    Returns:
      ``x`` unchanged.

    Raises:
      InvalidInputError: counting the NaN and infinite values and naming the first one's index.
    """
    if hasattr(x, "devices") and not isinstance(x, np.ndarray):  # a JAX array: reduce on its device
        import jax.numpy as jnp

        if not jnp.issubdtype(x.dtype, jnp.inexact) or bool(jnp.all(jnp.isfinite(x))):
            return x
        arr = np.asarray(x)
    else:
        arr = np.asarray(x)
        if not np.issubdtype(arr.dtype, np.inexact):
            return x
        if np.isfinite(arr).all():
            return x
    nan, inf = int(np.isnan(arr).sum()), int(np.isinf(arr).sum())
    first = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
    parts = ([f"{nan} NaN"] if nan else []) + ([f"{inf} infinite"] if inf else [])
    raise InvalidInputError(
        f"{name}: expected finite values, got {' and '.join(parts)} value(s) (first at index {first})"
    )


def check_batch_size(batch_size: Any, num_examples: int, *, device_count: int = 1, name: str = "batch size") -> int:
    """Checks a batch size against the data set's size and the number of devices.

    It must be a positive integer, no larger than the data set and divisible by ``device_count``.

    Args:
      batch_size: the batch size.
      num_examples: the data set's size.
      device_count: the devices a batch is split over.
      name: the batch size's name in messages.

    Returns:
      The batch size as an ``int``.

    Raises:
      InvalidInputError: for an empty data set or a batch size that does not fit; the message
        suggests the nearest multiples of ``device_count``.
    """
    batch_size = check_positive(name, batch_size, integer=True)
    if num_examples < 1:
        raise InvalidInputError(f"the data set is empty: expected at least {batch_size} examples, got 0")
    if batch_size > num_examples:
        raise InvalidInputError(
            f"{name}: expected at most the data set size ({num_examples} examples), got {batch_size}"
        )
    if device_count > 1 and batch_size % device_count:
        lower = batch_size // device_count * device_count
        hint = f"; try {lower} or {lower + device_count}" if lower else f"; try {device_count}"
        raise InvalidInputError(
            f"{name}: expected a multiple of the device count ({device_count}), got {batch_size}{hint}"
        )
    return batch_size


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Checks that ``value`` is one of ``choices``.

    Args:
      name: what is chosen, for the message.
      value: the choice.
      choices: the allowed values.

    Returns:
      ``value``.

    Raises:
      InvalidInputError: listing the choices, and the nearest one to ``value`` if any is close.
    """
    choices = list(choices)
    if value in choices:
        return value
    near = difflib.get_close_matches(str(value), choices, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    raise InvalidInputError(f"unknown {name} {value!r}{hint}; expected one of: {', '.join(choices)}")


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def check_data_dir(path: Any, *, suffixes: Sequence[str] = IMAGE_SUFFIXES, name: str = "data directory") -> list[Path]:
    """Lists the files under a data directory (recursively) whose suffix is in ``suffixes``.

    Whether each file can be *decoded* is the loader's business (it knows the format).

    Args:
      path: the directory (``~`` is expanded).
      suffixes: the accepted suffixes, in any case (default: common image formats).
      name: the directory's name in messages.

    Returns:
      The files' paths, sorted.

    Raises:
      InvalidInputError: for a path that does not exist, is not a directory, cannot be listed, or
        holds no such file.
    """
    root = Path(os.fspath(path)).expanduser()
    if not root.exists():
        raise InvalidInputError(f"{name} {root}: does not exist")
    if not root.is_dir():
        raise InvalidInputError(f"{name} {root}: expected a directory, got a file")
    wanted = {s.lower() for s in suffixes}
    try:
        files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in wanted)
    except OSError as e:
        raise InvalidInputError(f"{name} {root}: cannot be read ({e.strerror or e})") from None
    if not files:
        raise InvalidInputError(f"{name} {root}: expected files ending in {', '.join(suffixes)}, found none")
    return files
