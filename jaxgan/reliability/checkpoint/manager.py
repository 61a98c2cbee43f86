"""Checkpoints of the whole training state, on orbax-checkpoint: atomic, verified, refusing mismatches.

A jaxgan run keeps everything that changes in one pytree (parameters, model statistics, optimizer
states, the step counter, the PRNG key, and whatever else an experiment adds: an image pool, a
data position). Saving that pytree and restoring it is therefore an *exact* resume: the resumed
run draws the same random numbers and sees the same batches as the uninterrupted one.

:class:`Checkpointer` wraps an orbax ``CheckpointManager`` whose step ``s`` lives in
``directory/s/`` with two items: ``state`` (``StandardSave``) and ``meta`` (JSON: the step, the
run's configuration and a SHA-256 fingerprint of the state's bytes). Guarantees:

* **Atomic**: orbax writes ``s.orbax-checkpoint-tmp-*`` and renames it to ``s`` only when complete;
  a save killed part-way leaves the previous checkpoints untouched (and the temporary directory is
  removed the next time the directory is opened).
* **Last K**: only the newest ``max_to_keep`` steps are kept.
* **Restore against the expected structure**: the target (concrete arrays, or an abstract tree from
  ``jax.eval_shape``) fixes the tree, shapes, dtypes and shardings. A checkpoint written by another
  configuration is refused with :class:`CheckpointMismatchError` naming the first differing config
  field or array path, with both shapes.
* **Verified, with fallback**: once orbax has finished, a manifest (``jaxgan_manifest.json``: the
  size and SHA-256 of every file of the step) is written atomically into the step's directory; it
  is the checkpoint's commit record. A checkpoint without a manifest (the process died between the
  two), with a file missing, truncated or altered, or whose restored bytes do not match the
  fingerprint, is skipped with a :class:`CheckpointFallbackWarning`, and the previous good one is
  restored instead (:attr:`Restored.skipped` lists what was skipped). Files are checked *before*
  orbax reads them, so a damaged checkpoint never reaches the array reader.

This module holds :class:`Checkpointer` and :class:`Restored`; the errors, the fingerprint, the
structure and configuration comparisons and the file manifest are in
:mod:`jaxgan.reliability.checkpoint.checks`. Import both from :mod:`jaxgan.reliability.checkpoint`.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Optional

import jax
import numpy as np

from jaxgan.reliability.checkpoint.checks import (
    FORMAT,
    MANIFEST,
    CheckpointCorruptError,
    CheckpointError,
    CheckpointFallbackWarning,
    CheckpointMismatchError,
    CheckpointNotFoundError,
    config_mismatches,
    expected_leaves,
    stored_leaves,
    abstract_like,
    fingerprint,
    structure_mismatches,
    verify_manifest,
    write_manifest,
)

__all__ = ["Checkpointer", "Restored"]


class Restored(NamedTuple):
    """What :meth:`Checkpointer.restore` returns.

    Attributes:
      step: the restored checkpoint's step.
      state: the restored state, in the target's structure.
      metadata: ``{"format", "step", "fingerprint", "config", "extra"[, "arrays_fingerprint"]}``.
      skipped: ``(step, reason)`` of the newer checkpoints that were unreadable.
      arrays: the host arrays saved beside the state (e.g. the metric history), or ``None``.
    """

    step: int
    state: Any
    metadata: dict
    skipped: tuple[tuple[int, str], ...]
    arrays: Optional[dict] = None


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    first = text[0] if text else ""
    if len(first) > 160:
        first = first[:157] + "..."
    return f"{type(err).__name__}: {first}" if first else type(err).__name__


class Checkpointer:
    """Saves and restores a state pytree under ``directory``, keeping the newest ``max_to_keep`` steps.

    ``save`` blocks until the checkpoint is on disk (so the caller may donate or overwrite the state
    right after). Use as a context manager or call :meth:`close`. Reading never creates the
    directory.

    Args:
      directory: where the steps live (``~`` is expanded); created by the first save.
      max_to_keep: how many of the newest steps to keep, or ``None`` for all.

    Raises:
      ValueError: if ``max_to_keep`` is below 1.
    """

    def __init__(self, directory, *, max_to_keep: Optional[int] = 3):
        try:
            import orbax.checkpoint  # noqa: F401
        except ImportError:
            raise ImportError("jaxgan's Checkpointer saves with orbax-checkpoint, which is not installed: "
                              "pip install orbax-checkpoint (or jaxgan[experiments])") from None
        if max_to_keep is not None and max_to_keep < 1:
            raise ValueError(f"max_to_keep must be >= 1 or None, got {max_to_keep}")
        self.directory = Path(directory).expanduser().absolute()
        self.max_to_keep = max_to_keep
        self._manager = None
        self._manager_writes = False

    # -- the orbax manager, created lazily so that reading never creates directories ------------
    def _mngr(self, create: bool):
        if self._manager is not None and create and not self._manager_writes:
            self.close()  # a reader's manager: open a writer's, which may tidy the directory
        if self._manager is None:
            if not create and not self.directory.is_dir():
                return None
            import orbax.checkpoint as ocp

            options = ocp.CheckpointManagerOptions(
                max_to_keep=self.max_to_keep,
                enable_async_checkpointing=False,  # save() returns once the files are complete
                # remove what a killed save left behind, when writing only: a reader (sampling a run
                # that is still training) must not delete the save in progress
                cleanup_tmp_directories=create,
                create=create,
            )
            handlers = {
                "state": ocp.StandardCheckpointHandler(),
                "arrays": ocp.StandardCheckpointHandler(),
                "meta": ocp.JsonCheckpointHandler(),
            }
            self._manager = ocp.CheckpointManager(self.directory, options=options, item_handlers=handlers)
            self._manager_writes = create
        return self._manager

    def close(self) -> None:
        """Closes the orbax manager; the checkpointer can be used again afterwards."""
        if self._manager is not None:
            self._manager.close()
            self._manager = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def steps(self) -> list[int]:
        """Lists the steps of the complete checkpoints.

        Returns:
          The steps, ascending; empty where the directory does not exist.
        """
        m = self._mngr(create=False)
        if m is None:
            return []
        m.reload()
        return sorted(int(s) for s in m.all_steps())

    def latest_step(self) -> Optional[int]:
        """Finds the newest complete checkpoint.

        Returns:
          Its step, or ``None`` where there is none.
        """
        steps = self.steps()
        return steps[-1] if steps else None

    def save(
        self,
        step: int,
        state,
        *,
        config: Optional[Mapping[str, Any]] = None,
        extra: Optional[Mapping[str, Any]] = None,
        arrays: Optional[Mapping[str, Any]] = None,
    ) -> Path:
        """Writes ``state`` as checkpoint ``step`` (atomically) and drops the oldest beyond ``max_to_keep``.

        Args:
          step: the step, greater than every step already saved.
          state: the state pytree.
          config: the run's configuration (JSON-able); :meth:`restore` can refuse a checkpoint
            whose config differs.
          extra: free-form JSON stored beside it.
          arrays: a (nested) dict of host arrays of any shape, restored as they were (e.g. the
            per-step metric history).

        Returns:
          The step's directory.

        Raises:
          CheckpointError: if the directory already holds this step or a later one, or orbax
            declines to save.
        """
        import orbax.checkpoint as ocp

        step = int(step)
        m = self._mngr(create=True)
        m.reload()
        latest = m.latest_step()
        if latest is not None and latest >= step:
            raise CheckpointError(
                f"cannot save step {step} in {self.directory}: it already holds step {latest}; "
                "delete it or choose another directory"
            )
        meta = {
            "format": FORMAT,
            "step": step,
            "fingerprint": fingerprint(state),
            "config": json.loads(json.dumps(dict(config or {}))),
            "extra": json.loads(json.dumps(dict(extra or {}))),
        }
        items = {"state": ocp.args.StandardSave(state)}
        if arrays:
            arrays = jax.tree.map(np.asarray, dict(arrays))
            meta["arrays_fingerprint"] = fingerprint(arrays)
            items["arrays"] = ocp.args.StandardSave(arrays)
        items["meta"] = ocp.args.JsonSave(meta)
        saved = m.save(step, args=ocp.args.Composite(**items))
        m.wait_until_finished()
        if not saved:
            raise CheckpointError(f"orbax declined to save step {step} in {self.directory}")
        step_dir = self.directory / str(step)
        write_manifest(step_dir)
        return step_dir

    def delete(self, step: int) -> None:
        """Deletes a checkpoint.

        Args:
          step: the checkpoint's step.
        """
        m = self._mngr(create=False)
        if m is not None:
            m.reload()
            m.delete(int(step))

    def delete_all(self) -> None:
        """Deletes every checkpoint of the directory."""
        for s in self.steps():
            self.delete(s)

    def quarantine(self, step: int) -> Path:
        """Moves checkpoint ``step`` out of the directory, kept for inspection.

        Args:
          step: the checkpoint's step.

        Returns:
          Its new place, ``<directory>.corrupt/<step>`` (``<step>-<n>`` where that exists).
        """
        src = self.directory / str(int(step))
        dest_root = self.directory.with_name(self.directory.name + ".corrupt")
        dest_root.mkdir(parents=True, exist_ok=True)
        dest, n = dest_root / str(int(step)), 1
        while dest.exists():
            dest, n = dest_root / f"{int(step)}-{n}", n + 1
        shutil.move(str(src), str(dest))
        if self._manager is not None:
            self._manager.reload()
        return dest

    def _read_meta(self, m, step: int) -> tuple[dict, dict]:
        import orbax.checkpoint as ocp

        verify_manifest(self.directory / str(step))

        meta = m.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise CheckpointCorruptError(f"step {step} has no jaxgan metadata")
        tree_meta = m.item_metadata(step).state
        tree = getattr(tree_meta, "tree", tree_meta)
        if tree is None:
            raise CheckpointCorruptError(f"step {step} has no array metadata")
        return meta, dict(stored_leaves(tree))

    def restore(
        self,
        target=None,
        *,
        step: Optional[int] = None,
        config: Optional[Mapping[str, Any]] = None,
        config_defaults: Optional[Mapping[str, Any]] = None,
    ) -> Restored:
        """Restores the newest readable checkpoint (or exactly ``step``) into the structure of ``target``.

        An unreadable newest checkpoint (files missing, truncated or altered) is skipped with a
        :class:`CheckpointFallbackWarning`; a *mismatching* one is never skipped: it is an error.

        Args:
          target: the expected state, concrete or abstract (``jax.eval_shape``); its tree, shapes,
            dtypes and shardings are what comes back. ``None``: whatever was saved, as orbax
            rebuilds it (nested dicts and lists, arrays on the default device), e.g. for
            inspection.
          step: restore exactly this step (no fallback to an older one).
          config: if given, must equal the config stored at save time.
          config_defaults: fields the stored config may lack if ``config`` has them at these
            values (options added since the checkpoint was written, at their defaults).

        Returns:
          A :class:`Restored`.

        Raises:
          CheckpointNotFoundError: if there is no checkpoint (or none at ``step``).
          CheckpointMismatchError: if the checkpoint's config or structure differs from the
            expected one.
          CheckpointCorruptError: if no checkpoint could be read back intact.
        """
        import orbax.checkpoint as ocp

        steps = self.steps()
        if step is not None:
            if int(step) not in steps:
                raise CheckpointNotFoundError(f"no checkpoint at step {step} in {self.directory} (have: {steps or 'none'})")
            steps = [int(step)]
        if not steps:
            raise CheckpointNotFoundError(f"no checkpoint in {self.directory}")
        m = self._mngr(create=False)
        expected = None if target is None else expected_leaves(target)
        abstract = None if target is None else abstract_like(target)
        skipped: list[tuple[int, str]] = []
        for s in sorted(steps, reverse=True):
            try:
                meta, stored = self._read_meta(m, s)
            except Exception as err:  # noqa: BLE001 - any read failure means "unreadable"
                skipped.append((s, _reason(err)))
                continue
            where = f"checkpoint step {s} in {self.directory} was written by a different configuration"
            if config is not None:
                diffs = config_mismatches(config, meta.get("config", {}), config_defaults)
                if diffs:
                    more = f" (and {len(diffs) - 1} more)" if len(diffs) > 1 else ""
                    raise CheckpointMismatchError(f"{where}: {diffs[0]}{more}")
            diffs = [] if expected is None else structure_mismatches(expected, stored)
            if diffs:
                more = f" (and {len(diffs) - 1} more differences)" if len(diffs) > 1 else ""
                raise CheckpointMismatchError(f"{where}: {diffs[0]}{more}")
            try:
                state = m.restore(s, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract))).state
                if target is not None and jax.tree.structure(state) != jax.tree.structure(target):
                    raise CheckpointCorruptError("the restored tree does not have the expected structure")
                got = fingerprint(state)
                arrays = None
                if "arrays_fingerprint" in meta:
                    arrays = m.restore(s, args=ocp.args.Composite(arrays=ocp.args.StandardRestore())).arrays
                    arrays = jax.tree.map(np.asarray, arrays)
                    if fingerprint(arrays) != meta["arrays_fingerprint"]:
                        raise CheckpointCorruptError("the saved arrays do not match their fingerprint")
            except Exception as err:  # noqa: BLE001
                skipped.append((s, _reason(err)))
                continue
            if got != meta.get("fingerprint"):
                skipped.append((s, "CheckpointCorruptError: the restored state does not match the saved fingerprint"))
                continue
            for bad_step, reason in skipped:
                warnings.warn(
                    f"checkpoint step {bad_step} in {self.directory} is unreadable ({reason}); restored step {s} instead",
                    CheckpointFallbackWarning,
                    stacklevel=2,
                )
            return Restored(s, state, meta, tuple(skipped), arrays)
        detail = "; ".join(f"step {s}: {r}" for s, r in skipped)
        raise CheckpointCorruptError(f"no readable checkpoint in {self.directory} ({detail})")
