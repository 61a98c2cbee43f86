"""A training run read back from its directory: which experiment wrote it, its recorded settings, its checkpoints.

An experiment's ``--out`` holds ``checkpoints/`` (each step's state and, beside it, the settings
that define the run) and, once the run has finished, ``results.json``. :func:`open_run` finds the
experiment from the settings the newest checkpoint recorded: each experiment's settings have their
own names (a DCGAN's ``g_features``, a CycleGAN's ``lambda_cycle``, pix2pix's ``lambda_l1``, the toy
GAN's ``modular``, the mixtures' recipe), so the run's recorded names belong to one experiment's settings only.
Every way a directory can fail to be a usable run is a one-line
:class:`~experiments.runner.UserError` that says what to pass instead.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import NamedTuple, Optional

from experiments.runner import UserError

__all__ = ["EXPERIMENTS", "Run", "detect_experiment", "open_run"]


def _config_classes() -> dict:
    from experiments.cyclegan.config import CycleGANConfig
    from experiments.dcgan.config import DCGANConfig
    from experiments.mixture_gan.config import MixtureConfig
    from experiments.pix2pix.config import Pix2PixConfig
    from experiments.toy_gan.config import ToyConfig

    return {"toy_gan": ToyConfig, "mixture_gan": MixtureConfig, "dcgan": DCGANConfig, "cyclegan": CycleGANConfig,
            "pix2pix": Pix2PixConfig}  # fmt: skip


# The experiments whose runs can be sampled, by their module name under experiments/.
EXPERIMENTS = ("toy_gan", "mixture_gan", "dcgan", "cyclegan", "pix2pix")


class Run(NamedTuple):
    """A run directory read back.

    Attributes:
      path: the run's directory.
      experiment: the module name of the experiment that wrote it (one of :data:`EXPERIMENTS`).
      config: the settings its newest checkpoint recorded (the fields that define the run).
      results: its ``results.json`` (``None`` for a run that has not finished).
      step: the step of its newest checkpoint.
      extra: what else that checkpoint recorded beside the settings (its ``total_steps``; a
        conditional DCGAN's ``class_probs``).
    """

    path: Path
    experiment: str
    config: dict
    results: Optional[dict]
    step: int
    extra: Optional[dict] = None

    @property
    def checkpoints(self) -> Path:
        """The run's checkpoint directory."""
        return self.path / "checkpoints"

    def settings(self, config_class, **overrides):
        """The experiment's config dataclass filled with the recorded settings (the others at their
        defaults), then ``overrides``."""
        names = {f.name for f in dataclasses.fields(config_class)}
        return config_class(**{**{k: v for k, v in self.config.items() if k in names}, **overrides})

    def restore(self, target):
        """The state of the newest readable checkpoint, in the structure of ``target`` (abstract or
        concrete); a checkpoint whose arrays do not fit it is refused, naming the first difference."""
        from jaxgan.reliability.checkpoint import Checkpointer

        with Checkpointer(self.checkpoints) as checkpointer:
            return checkpointer.restore(target).state


def detect_experiment(config: dict) -> Optional[str]:
    """The experiment whose settings hold every name of a recorded ``config``, or ``None`` when no
    experiment's (or more than one's) do."""
    names = set(config)
    matches = [name for name, cls in _config_classes().items()
               if names and names <= {f.name for f in dataclasses.fields(cls)}]  # fmt: skip
    return matches[0] if len(matches) == 1 else None


def _read_results(path: Path) -> Optional[dict]:
    file = path / "results.json"
    if not file.is_file():
        return None
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError) as err:
        raise UserError(f"{file} cannot be read ({type(err).__name__}); the run's results file is damaged") from None


def open_run(run_dir) -> Run:
    """Reads the run in ``run_dir``: its experiment, recorded settings, results and newest checkpoint.

    Args:
      run_dir: the ``--out`` directory of a training run (``~`` is expanded).

    Returns:
      A :class:`Run`.

    Raises:
      UserError: the path is missing or a file, the directory is not a run (neither
        ``results.json`` nor ``checkpoints/``), the run has no checkpoint, or its checkpoint was
        written by none of :data:`EXPERIMENTS`.
    """
    from jaxgan.reliability.checkpoint import Checkpointer

    path = Path(os.fspath(run_dir)).expanduser()
    if not path.exists():
        raise UserError(f"run directory {run_dir} does not exist; pass the --out directory of a training run")
    if not path.is_dir():
        raise UserError(f"{run_dir} is a file, not a run directory; pass the --out directory of a training run")
    results = _read_results(path)
    if results is None and not (path / "checkpoints").is_dir():
        raise UserError(f"{run_dir} is not a run directory: it has no results.json and no checkpoints/; "
                        "pass the --out directory of a training run")  # fmt: skip
    with Checkpointer(path / "checkpoints") as checkpointer:
        steps = checkpointer.steps()
    if not steps:
        raise UserError(f"the run in {run_dir} has no checkpoint in {path / 'checkpoints'} to sample from; "
                        "train it again with checkpoints kept (every run saves one at its end)")  # fmt: skip
    step, config, extra = _recorded_meta(path / "checkpoints", steps, run_dir)
    experiment = detect_experiment(config)
    if experiment is None:
        names = ", ".join(sorted(config)[:6]) + (", ..." if len(config) > 6 else "")
        raise UserError(f"the checkpoint in {run_dir} was written by none of the experiments "
                        f"{', '.join(EXPERIMENTS)} (its settings: {names or 'none'}); "
                        "pass the --out directory of one of their runs")  # fmt: skip
    return Run(path, experiment, config, results, step, extra)


def _recorded_meta(directory: Path, steps: list[int], run_dir) -> tuple[int, dict, dict]:
    """``(step, settings, extra)`` of the newest checkpoint whose recorded settings read (the state's
    arrays are not read here: the restore checks them, and falls back to an older step as this does)."""
    import orbax.checkpoint as ocp

    for step in sorted(steps, reverse=True):
        try:
            meta = ocp.JsonCheckpointHandler().restore(directory / str(step) / "meta", args=ocp.args.JsonRestore())
            return step, dict(meta.get("config") or {}), dict(meta.get("extra") or {})
        except Exception:  # noqa: BLE001 - any failure to read means this step is unreadable
            continue
    raise UserError(f"no checkpoint of {run_dir} can be read (steps {', '.join(map(str, steps))}): "
                    "they are damaged; train the run again")  # fmt: skip
