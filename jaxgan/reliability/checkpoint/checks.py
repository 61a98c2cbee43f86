"""What a checkpoint is checked against: errors, fingerprint, structure, configuration and file manifest.

:mod:`jaxgan.reliability.checkpoint` re-exports every public name.

* the errors (:class:`CheckpointError` and its subclasses, :class:`CheckpointFallbackWarning`);
* the tree: :func:`abstract_like`, the SHA-256 :func:`fingerprint` of a state's bytes, and
  :func:`structure_mismatches` between the expected ``{path: (shape, dtype)}`` leaves and the
  stored ones (``expected_leaves``, ``stored_leaves``);
* the run's configuration: ``config_mismatches`` (fields absent from an older checkpoint are
  accepted at their defaults);
* the file manifest (``jaxgan_manifest.json``, the size and SHA-256 of every file of a step):
  :func:`write_manifest` and :func:`verify_manifest`, which checks the files before orbax reads them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

import jax
import numpy as np

from jaxgan.reliability.divergence import path_name

__all__ = [
    "CheckpointError",
    "CheckpointNotFoundError",
    "CheckpointMismatchError",
    "CheckpointCorruptError",
    "CheckpointFallbackWarning",
    "abstract_like",
    "fingerprint",
    "structure_mismatches",
    "write_manifest",
    "verify_manifest",
]

#: The format tag written into every checkpoint's metadata and manifest.
FORMAT = "jaxgan-checkpoint/1"


class CheckpointError(Exception):
    """Base class of checkpoint failures; messages are one line."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """There is no checkpoint to restore in the directory."""


class CheckpointMismatchError(CheckpointError, ValueError):
    """The checkpoint was written by a different configuration (other shapes, dtypes or settings)."""


class CheckpointCorruptError(CheckpointError):
    """No checkpoint in the directory could be read back intact."""


class CheckpointFallbackWarning(UserWarning):
    """The newest checkpoint was unreadable; an older one was restored."""


def abstract_like(tree):
    """Describes a tree's leaves abstractly, as the target of a restore.

    Args:
      tree: concrete arrays or an abstract tree such as ``jax.eval_shape(init_fn, key)``.

    Returns:
      The same tree of ``jax.ShapeDtypeStruct`` (with the leaf's sharding when it has one).
    """

    def leaf(x):
        sharding = getattr(x, "sharding", None)
        return jax.ShapeDtypeStruct(np.shape(x), jax.numpy.result_type(x), sharding=sharding)

    return jax.tree.map(leaf, tree)


def fingerprint(tree) -> str:
    """Computes a SHA-256 over every leaf's dotted path, dtype, shape and bytes, in path order.

    Paths are orbax's dotted names, so a NamedTuple state and the nested dicts orbax returns
    without a target (:meth:`Checkpointer.restore` with ``target=None``) have the same fingerprint.

    Args:
      tree: a pytree of arrays (fetched to the host).

    Returns:
      ``"sha256:<hex digest>"``.
    """
    h = hashlib.sha256()
    leaves = sorted((path_name(p), x) for p, x in jax.tree_util.tree_leaves_with_path(tree))
    for name, leaf in leaves:
        arr = np.ascontiguousarray(jax.device_get(leaf))
        h.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    return "sha256:" + h.hexdigest()


def expected_leaves(target) -> dict[str, tuple[tuple[int, ...], str]]:
    """Maps each leaf of ``target`` to its shape and dtype.

    Args:
      target: the expected state, concrete or abstract.

    Returns:
      ``{dotted path: (shape, dtype name)}``.
    """
    return {
        path_name(p): (tuple(int(d) for d in np.shape(x)), np.dtype(jax.numpy.result_type(x)).name)
        for p, x in jax.tree_util.tree_leaves_with_path(target)
    }


def stored_leaves(node, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, tuple[tuple[int, ...], str]]]:
    """Flattens orbax's metadata tree (dicts, lists, ``None`` for empty nodes) into dotted paths.

    Args:
      node: orbax's array metadata tree for a step.
      prefix: the path of ``node`` (for the recursion).

    Yields:
      ``(dotted path, (shape, dtype name))`` per array (dtype ``"unknown"`` where orbax has none).
    """
    if node is None:
        return
    if isinstance(node, Mapping):
        for k, v in node.items():
            yield from stored_leaves(v, prefix + (str(k),))
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from stored_leaves(v, prefix + (str(i),))
    else:
        shape = tuple(int(d) for d in (getattr(node, "shape", None) or ()))
        dtype = getattr(node, "dtype", None)
        yield ".".join(prefix), (shape, np.dtype(dtype).name if dtype is not None else "unknown")


def _fmt(spec: tuple[tuple[int, ...], str]) -> str:
    shape, dtype = spec
    return f"{dtype}{list(shape)}"


def structure_mismatches(expected: Mapping[str, tuple], stored: Mapping[str, tuple]) -> list[str]:
    """Lists the differences between the expected leaves and a checkpoint's.

    Args:
      expected: ``{path: (shape, dtype)}`` of the expected state (:func:`expected_leaves`).
      stored: the same for the checkpoint (:func:`stored_leaves`).

    Returns:
      One line per missing, differing or unexpected path; empty where they agree.
    """
    out = []
    for path, spec in expected.items():
        if path not in stored:
            out.append(f"{path} is missing from the checkpoint (expected {_fmt(spec)})")
        elif stored[path] != spec:
            out.append(f"{path}: the checkpoint has {_fmt(stored[path])}, expected {_fmt(spec)}")
    for path, spec in stored.items():
        if path not in expected:
            out.append(f"{path} ({_fmt(spec)}) is in the checkpoint but not in the expected state")
    return out


def _flat_config(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for key, value in config.items():
        if isinstance(value, Mapping) and value:
            out.update(_flat_config(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def config_mismatches(
    expected: Mapping[str, Any], stored: Mapping[str, Any], defaults: Optional[Mapping[str, Any]] = None
) -> list[str]:
    """Lists the fields in which a checkpoint's stored configuration differs from the expected one.

    A field the checkpoint does not have is no mismatch when the expected value is that field's
    value in ``defaults``: a field added since the checkpoint was written, left at its default (which
    keeps the old behaviour).

    Args:
      expected: the run's configuration (JSON-able; tuples compare as lists).
      stored: the configuration stored in the checkpoint.
      defaults: defaults of fields that older checkpoints may lack.

    Returns:
      ``"field: the checkpoint has A, expected B"`` per differing field (nested dicts as ``a.b``),
      sorted by field.
    """
    expected = _flat_config(json.loads(json.dumps(dict(expected))))  # tuples -> lists, as stored
    defaults = _flat_config(json.loads(json.dumps(dict(defaults or {}))))
    stored = _flat_config(stored)
    out = []
    for key in sorted(set(expected) | set(stored)):
        if key not in stored and key in defaults and expected.get(key) == defaults[key]:
            continue
        if expected.get(key, "<absent>") != stored.get(key, "<absent>"):
            out.append(f"{key}: the checkpoint has {stored.get(key, '<absent>')!r}, expected {expected.get(key, '<absent>')!r}")
    return out


#: The manifest's file name inside each step's directory.
MANIFEST = "jaxgan_manifest.json"


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files_of(step_dir: Path) -> dict[str, list]:
    """``{relative path: [size, sha256]}`` of every file of a step except the manifest."""
    return {
        p.relative_to(step_dir).as_posix(): [p.stat().st_size, _file_digest(p)]
        for p in sorted(step_dir.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def write_manifest(step_dir: Path) -> None:
    """Records the size and SHA-256 of every file of a step, atomically (temporary file, then rename).

    Args:
      step_dir: the step's directory, complete.
    """
    payload = json.dumps({"format": FORMAT, "files": _files_of(step_dir)}, indent=1, sort_keys=True)
    tmp = step_dir / (MANIFEST + ".tmp")
    tmp.write_text(payload)
    os.replace(tmp, step_dir / MANIFEST)


def verify_manifest(step_dir: Path) -> None:
    """Checks that every file listed in a step's manifest is present and intact.

    Args:
      step_dir: the step's directory.

    Raises:
      CheckpointCorruptError: for a missing or damaged manifest, or a file missing, truncated or
        altered.
    """
    try:
        manifest = json.loads((step_dir / MANIFEST).read_text())
        files = manifest["files"]
    except FileNotFoundError:
        raise CheckpointCorruptError(f"no {MANIFEST} (the save did not finish)") from None
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointCorruptError(f"{MANIFEST} is damaged ({type(err).__name__})") from None
    for rel, (size, digest) in sorted(files.items()):
        path = step_dir / rel
        if not path.is_file():
            raise CheckpointCorruptError(f"{rel} is missing")
        if path.stat().st_size != size:
            raise CheckpointCorruptError(f"{rel} has {path.stat().st_size} bytes, expected {size} (truncated?)")
        if _file_digest(path) != digest:
            raise CheckpointCorruptError(f"{rel} does not match its recorded SHA-256 (altered)")
