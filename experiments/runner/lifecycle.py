"""What every experiment uses to survive long runs: checkpoints, exact resume, signals, divergence.

An experiment adds three options with
:func:`experiments.runner.checkpoint_options.add_lifecycle_args`::

    --checkpoint-every N   save every N steps (0: only the final checkpoint and on SIGINT/SIGTERM)
    --keep-checkpoints K   keep the newest K checkpoints (default 3)
    --resume               continue the run whose checkpoints are in --out/checkpoints

and trains through :meth:`TrainingLifecycle.fit` (same arguments as :func:`jaxgan.fit`), or
:meth:`TrainingLifecycle.run` around its own chunked loop, which

1. with ``--resume``, restores the newest readable checkpoint from ``<out>/checkpoints`` into the
   structure of the freshly initialised state (a different configuration is refused, naming the
   first difference; an unreadable newest checkpoint is moved to ``<out>/checkpoints.corrupt`` and
   the previous one is used, with a warning) and trains the remaining ``--steps - step`` steps:
   ``--steps`` is always the *total*;
2. at every chunk boundary runs the divergence guard (:mod:`jaxgan.reliability.divergence`) **before** saving, so a
   non-finite state never overwrites the last good checkpoint;
3. saves at the first chunk boundary at or after each multiple of ``N`` (checkpoints only exist at
   chunk boundaries: pick ``N`` a multiple of ``--chunk-size`` to get them exactly every N steps),
   and always at the end of the run;
4. on SIGINT or SIGTERM sets a flag, lets the current compiled chunk finish, saves, prints how to
   resume and exits with status ``128 + signal`` (130 for SIGINT, 143 for SIGTERM). A second signal
   acts at once (the default handlers are back after the first);
5. keeps the per-step metric history in each checkpoint, so the returned ``FitResult.metrics``
   cover the whole run even after a resume (loss curves, "mean of the last 50 steps").

Exit statuses of a CLI run through :func:`experiments.runner.cli.run_main`: 0 done, 2 bad input
(one line, no traceback), 3 training diverged, 130/143 interrupted by SIGINT/SIGTERM after saving a
checkpoint.

Exactness: the state pytree holds everything that changes (parameters, statistics, optimizer
states, step, PRNG key; batches are a function of the step and key), so a resumed run computes the
same numbers as an uninterrupted one. Checkpoints are taken at chunk boundaries of the original
run, and a resumed run keeps the chunk grid (it starts on a multiple of ``--chunk-size``). On CPU
the toy GAN gives bit-identical parameters for any chunking (measured: chunks of 1, 3, 7, 300, 500,
1000 and 2000 steps over 2000 steps, 1 and 4 seeds), but XLA may compile a different chunk length
differently on other backends, so resume with the same ``--chunk-size`` for bit-exactness.

What identifies a run (a checkpoint of another configuration is refused on resume) is
:func:`experiments.runner.checkpoint_options.config_identity`.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import numpy as np

from experiments.runner.checkpoint_options import config_defaults, config_identity
from experiments.runner.cli import UserError

__all__ = ["TrainingInterrupted", "TrainingLifecycle"]


class TrainingInterrupted(SystemExit):
    """Raised after the checkpoint of a run stopped by a signal; the exit status is ``128 + signum``."""

    def __init__(self, signum: int, step: int):
        super().__init__(128 + signum)
        self.signum = signum
        self.step = step


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class TrainingLifecycle:
    """Checkpoints, resume, signals and the divergence guard around :func:`jaxgan.fit`.

    Args:
      out: the run's output directory; checkpoints go to ``out/checkpoints``.
      prog: program name for messages (``python -m experiments.toy_gan``).
      checkpoint_every: save every N steps (0: only at the end and on a signal).
      resume: restore the newest checkpoint before training.
      keep: how many checkpoints to keep.
      config: the run's identity (:func:`config_identity`); a checkpoint with a different one is
        refused on resume.
      config_defaults: the identity fields' defaults: a checkpoint written before a field existed is
        accepted when this run has the field at its default (:func:`config_defaults`).
      module: the experiment's module (``experiments.toy_gan``), to print the exact resume command.
      extra: what else the run's users need to know, stored in every checkpoint's metadata beside
        the config (JSON; e.g. a conditional DCGAN's class frequencies, which come from its data).
    """

    def __init__(
        self,
        out,
        *,
        prog: str,
        checkpoint_every: int = 0,
        resume: bool = False,
        keep: int = 3,
        config: Optional[Mapping[str, Any]] = None,
        config_defaults: Optional[Mapping[str, Any]] = None,
        module: Optional[str] = None,
        extra: Optional[Mapping[str, Any]] = None,
    ):
        from jaxgan.reliability.checkpoint import Checkpointer

        if checkpoint_every < 0:
            raise UserError(f"--checkpoint-every must be >= 0, got {checkpoint_every}")
        self.out = Path(out)
        self.prog = prog
        self.every = int(checkpoint_every)
        self.resume = bool(resume)
        self.config = dict(config or {})
        self.config_defaults = dict(config_defaults or {})
        self.module = module
        self.extra = dict(extra or {})
        self.checkpointer = Checkpointer(self.out / "checkpoints", max_to_keep=keep)
        self.start_step = 0
        self.last_saved: Optional[int] = None  # step of the newest good checkpoint of this run
        self.total_steps: Optional[int] = None
        self._replace_old = False
        self._pending_signal: Optional[int] = None
        self._old_handlers: dict[int, Any] = {}
        self._user_callback = None
        self.checkpoint_seconds = 0.0  # time spent writing checkpoints during fit
        self._history: list[dict] = []  # per-chunk metrics since step 0 (restored ones first)

    @classmethod
    def from_config(cls, config, *, prog: str, module: Optional[str] = None, exclude=(), include=(), extra=None):
        """From a config dataclass with ``out``, ``checkpoint_every``, ``keep_checkpoints``, ``resume``."""
        return cls(
            config.out,
            prog=prog,
            checkpoint_every=getattr(config, "checkpoint_every", 0),
            resume=getattr(config, "resume", False),
            keep=getattr(config, "keep_checkpoints", 3),
            config=config_identity(config, exclude=exclude, include=include),
            config_defaults=config_defaults(config),
            module=module,
            extra=extra,
        )

    @property
    def directory(self) -> Path:
        return self.checkpointer.directory

    def _say(self, message: str) -> None:
        print(f"{self.prog}: {message}", file=sys.stderr, flush=True)

    # -- resume ------------------------------------------------------------------------------
    def restore(self, state, total_steps: int):
        """``(state, start_step)``: the checkpointed state with ``--resume``, else ``(state, 0)``."""
        from jaxgan.reliability.checkpoint import CheckpointError, CheckpointNotFoundError

        self.total_steps = int(total_steps)
        if not self.resume:
            latest = self.checkpointer.latest_step()
            if latest is not None:
                self._replace_old = True
                self._say(
                    f"note: {self.directory} holds checkpoints of an earlier run (up to step {latest}); "
                    "this new run replaces them at its first save (use --resume to continue that run instead)"
                )
            return state, 0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                restored = self.checkpointer.restore(state, config=self.config, config_defaults=self.config_defaults)
            except CheckpointNotFoundError:
                raise UserError(
                    f"--resume: no checkpoint in {self.directory}; run without --resume to start a new run"
                ) from None
            except CheckpointError as err:
                raise UserError(f"--resume: {err}") from None
        for w in caught:
            self._say(f"warning: {w.message}")
        history = (restored.arrays or {}).get("metrics")
        self._history = [dict(history)] if history else []
        for bad_step, _ in restored.skipped:
            moved = self.checkpointer.quarantine(bad_step)
            self._say(f"moved the unreadable checkpoint {bad_step} to {moved}")
        if restored.step > self.total_steps:
            raise UserError(
                f"--resume: the checkpoint in {self.directory} is at step {restored.step}, "
                f"beyond --steps {self.total_steps}; pass --steps {restored.step} or more"
            )
        self.start_step = self.last_saved = restored.step
        self._say(f"resuming from step {restored.step} of {self.total_steps} ({self.directory})")
        return restored.state, restored.step

    # -- saving --------------------------------------------------------------------------------
    def save(self, step: int, state) -> None:
        t0 = time.perf_counter()
        if self._replace_old:
            self.checkpointer.delete_all()
            self._replace_old = False
        history = self.history()
        self.checkpointer.save(
            step,
            state,
            config=self.config,
            extra={**self.extra, "total_steps": self.total_steps},
            arrays={"metrics": history} if history else None,
        )
        self.last_saved = step
        self.checkpoint_seconds += time.perf_counter() - t0

    def history(self) -> dict:
        """The run's per-step metrics so far, ``name -> [steps]`` (or ``[runs, steps]``), from step 1."""
        if not self._history:
            return {}
        names = set(self._history[0])
        if any(set(h) != names for h in self._history):  # a metric appeared or vanished: keep the newest
            names = set(self._history[-1])
            return {k: np.concatenate([np.asarray(h[k]) for h in self._history if k in h], axis=-1) for k in names}
        return {k: np.concatenate([np.asarray(h[k]) for h in self._history], axis=-1) for k in sorted(names)}

    def _due(self, step: int) -> bool:
        if step == self.total_steps or self._pending_signal is not None:
            return True
        if self.every <= 0:
            return False
        previous = self.last_saved if self.last_saved is not None else self.start_step
        return step // self.every > previous // self.every

    def _diverged(self, err) -> None:
        from jaxgan.reliability.divergence import DivergenceError

        if self.last_saved is not None:
            kept = f"the last good checkpoint (step {self.last_saved}) is kept in {self.directory}"
        else:
            kept = "no checkpoint of this run was written"
        raise DivergenceError(f"{err}; {kept}", step=err.step, name=err.name, run=err.run) from None

    def callback(self, done: int, state, metrics) -> Optional[bool]:
        """``jaxgan.fit`` callback: guard, then the user's callback, then save if due / on a signal."""
        from jaxgan.reliability.divergence import DivergenceError, check_finite

        step = self.start_step + int(done)
        lengths = [np.shape(v)[-1] for v in metrics.values() if np.ndim(v) >= 1]
        chunk = lengths[0] if lengths else 0
        runs = next((np.shape(v)[0] for v in metrics.values() if np.ndim(v) >= 2), None)
        try:
            check_finite(state, metrics, step=step, first_step=step - chunk + 1, runs=runs)
        except DivergenceError as err:
            self._diverged(err)
        self._history.append(metrics)
        keep_going = None
        if self._user_callback is not None:
            keep_going = self._user_callback(step, state, metrics)
        if self._due(step) or keep_going is False:
            if self.last_saved != step:
                self.save(step, state)
        if self._pending_signal is not None:
            signum = self._pending_signal
            self._say(
                f"stopped by {_signal_name(signum)} at step {step} of {self.total_steps}; "
                f"checkpoint saved in {self.directory}. {self.resume_hint()}"
            )
            raise TrainingInterrupted(signum, step)
        return keep_going

    def resume_hint(self) -> str:
        """How to resume: the exact ``python -m`` command when this process is ``python -m <module>``."""
        argv0 = (sys.argv[0] if sys.argv else "").replace(os.sep, "/")
        path = self.module.replace(".", "/") if self.module else None
        if path and (argv0.endswith(path + ".py") or argv0.endswith(path + "/__main__.py")):
            args = list(sys.argv[1:])
            if "--resume" not in args:
                args.append("--resume")
            return f"Resume with: python -m {self.module} {shlex.join(args)}"
        return f"Resume with the same command and --resume (--out {self.out})"

    # -- signals -------------------------------------------------------------------------------
    def _on_signal(self, signum, frame) -> None:
        self._pending_signal = signum
        self._restore_handlers()  # a second signal acts at once
        self._say(
            f"got {_signal_name(signum)}: saving a checkpoint when the current chunk ends "
            "(send it again to stop without saving)"
        )

    def _install_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._old_handlers[signum] = signal.signal(signum, self._on_signal)

    def _restore_handlers(self) -> None:
        for signum, handler in self._old_handlers.items():
            signal.signal(signum, handler)
        self._old_handlers.clear()

    # -- the whole thing -----------------------------------------------------------------------
    def run(self, train_fn: Callable, state, num_steps: int, *, callback: Optional[Callable] = None):
        """For experiments with their own training loop: ``train_fn(state, steps, callback) -> FitResult``.

        ``train_fn`` must train ``steps`` iterations from ``state`` (which may be a restored one)
        and call ``callback(steps_done_by_it, state, chunk_metrics)`` after each chunk, stopping if
        it returns ``False`` (the contract of :func:`jaxgan.fit`). Returns its FitResult with
        ``metrics`` covering the whole run (restored history first) and ``train_seconds`` without
        the time spent writing checkpoints (:attr:`checkpoint_seconds`); ``steps_done`` counts the
        steps of this process only (see :attr:`start_step`). If the restored checkpoint already
        reached ``num_steps``, nothing is trained and ``steps_done`` is 0.
        ``callback(step, state, metrics)`` gets the *total* step.
        """
        import jaxgan
        from jaxgan.reliability.divergence import check_state

        state, start = self.restore(state, num_steps)
        if start >= num_steps:
            self._say(f"the checkpoint already reached step {num_steps}; nothing left to train")
            return jaxgan.FitResult(state, self.history(), 0.0, 0.0, 0, False)
        check_state(state, step=start)  # a bad initial or restored state; also compiles the check
        self._user_callback = callback
        self._pending_signal = None
        self.checkpoint_seconds = 0.0
        self._install_handlers()
        try:
            result = train_fn(state, num_steps - start, self.callback)
        finally:
            self._restore_handlers()
            self.checkpointer.close()
        return result._replace(
            metrics=self.history(), train_seconds=max(result.train_seconds - self.checkpoint_seconds, 0.0)
        )

    def fit(self, train_step, state, data, num_steps: int, *, callback: Optional[Callable] = None, **fit_kwargs):
        """:func:`jaxgan.fit` to ``num_steps`` in total, with resume, checkpoints, guard and signals.

        Same arguments as :func:`jaxgan.fit`; see :meth:`run` for what comes back.
        """
        import jaxgan
        from jaxgan.speedups.cpu_loops import compile_loop

        fit_kwargs.setdefault("compile_fn", compile_loop)
        fit_kwargs.setdefault("donate", True)  # the run owns its state: no copy

        def train_fn(state, steps, cb):
            return jaxgan.fit(train_step, state, data, steps, callback=cb, **fit_kwargs)

        return self.run(train_fn, state, num_steps, callback=callback)
