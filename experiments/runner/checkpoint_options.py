"""The checkpoint and resume options of an experiment's command line, and what identifies a run.

* :func:`add_lifecycle_args`: ``--checkpoint-every``, ``--keep-checkpoints`` and ``--resume``;
* the run's identity for resume: :data:`RUNTIME_FIELDS`, :func:`config_identity`,
  :func:`config_defaults` (a checkpoint whose identity differs is refused on resume).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from experiments.runner.cli import nonnegative_int, positive_int
from experiments.runner.metric_logging import LOGGING_FIELDS

__all__ = [
    "RUNTIME_FIELDS",
    "add_lifecycle_args",
    "config_defaults",
    "config_identity",
]

# Config fields that may change between a run and its resumption (they do not change the numbers).
RUNTIME_FIELDS = frozenset(
    {"steps", "out", "plot", "progress", "checkpoint_every", "keep_checkpoints", "resume", "chunk_size", "dry_run"}
) | LOGGING_FIELDS


def add_lifecycle_args(
    parser, *, checkpoint_every: int = 1000, keep_checkpoints: int = 3, chunk_flag: str = "--chunk-size"
) -> None:
    """Adds ``--checkpoint-every``, ``--keep-checkpoints`` and ``--resume`` to an argparse parser.

    Args:
      parser: the experiment's parser.
      checkpoint_every: the default of ``--checkpoint-every``.
      keep_checkpoints: the default of ``--keep-checkpoints``.
      chunk_flag: the parser's option that sets the length of a compiled chunk (checkpoints fall on
        chunk boundaries), named in the help.
    """
    group = parser.add_argument_group("checkpoints and resume")
    group.add_argument(
        "--checkpoint-every",
        type=nonnegative_int,
        default=checkpoint_every,
        metavar="N",
        help="save a checkpoint in OUT/checkpoints every N steps, at the first chunk boundary at or after "
        f"each multiple of N (use a multiple of {chunk_flag}); 0: only at the end and on SIGINT/SIGTERM "
        f"(default {checkpoint_every})",
    )
    group.add_argument(
        "--keep-checkpoints",
        type=positive_int,
        default=keep_checkpoints,
        metavar="K",
        help=f"keep the newest K checkpoints (default {keep_checkpoints})",
    )
    group.add_argument(
        "--resume",
        action="store_true",
        help="continue from the newest checkpoint in OUT/checkpoints up to --steps in total "
        "(the other options must match the interrupted run's)",
    )


def config_identity(config: Any, *, exclude: Iterable[str] = (), include: Iterable[str] = ()) -> dict:
    """The fields of a config dataclass that define the run (all but :data:`RUNTIME_FIELDS`).

    ``exclude`` adds fields that may change on resume; ``include`` keeps runtime fields that do
    matter for this experiment (e.g. ``steps`` when a learning-rate schedule spans the run).
    """
    fields = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
    dropped = (set(RUNTIME_FIELDS) | set(exclude)) - set(include)
    return {k: v for k, v in fields.items() if k not in dropped}


def config_defaults(config: Any) -> dict:
    """The default value of each field of a config dataclass (``{}`` for a mapping)."""
    if not dataclasses.is_dataclass(config):
        return {}
    out = {}
    for field in dataclasses.fields(config):
        if field.default is not dataclasses.MISSING:
            out[field.name] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            out[field.name] = field.default_factory()
    return out
