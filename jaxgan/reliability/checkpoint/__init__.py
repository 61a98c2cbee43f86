"""Checkpoints of the whole training state: atomic, verified, restored exactly or refused with a reason.

:class:`Checkpointer` (in :mod:`.manager`) saves and restores a state pytree on orbax-checkpoint;
what a checkpoint is checked against (the errors, the fingerprint, the structure and configuration
comparisons, the file manifest) is in :mod:`.checks`. Every public name is importable from here.
"""

from jaxgan.reliability.checkpoint.checks import (
    FORMAT,
    MANIFEST,
    CheckpointCorruptError,
    CheckpointError,
    CheckpointFallbackWarning,
    CheckpointMismatchError,
    CheckpointNotFoundError,
    abstract_like,
    fingerprint,
    structure_mismatches,
    verify_manifest,
    write_manifest,
)
from jaxgan.reliability.checkpoint.manager import Checkpointer, Restored

__all__ = [
    "FORMAT",
    "MANIFEST",
    "Checkpointer",
    "Restored",
    "CheckpointError",
    "CheckpointNotFoundError",
    "CheckpointMismatchError",
    "CheckpointCorruptError",
    "CheckpointFallbackWarning",
    "abstract_like",
    "fingerprint",
    "structure_mismatches",
    "verify_manifest",
    "write_manifest",
]
