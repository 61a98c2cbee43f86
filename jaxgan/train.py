"""Training drivers: many iterations inside one compiled ``lax.scan``, and many runs under ``vmap``.

``fit`` runs ``num_steps`` iterations of a ``train_step(state, data) -> (state, metrics)`` in chunks:
each chunk is one compiled ``lax.scan`` (no host round trip per step); between chunks the chunk's
metrics are fetched, progress is shown and a callback can log, checkpoint or stop the run. With
``vmapped=True`` (states stacked on a leading run axis, e.g. from :func:`init_states`), the same
program trains all runs at once under ``jax.vmap``.
"""

from __future__ import annotations

import sys
import time
import warnings
from typing import Any, Callable, NamedTuple, Optional

import jax
import numpy as np

from jaxgan.parallel.hosts import gather

__all__ = ["init_states", "make_chunk_runner", "compile_ahead", "fit", "FitResult", "progress_bar"]


def init_states(init_fn: Callable[[jax.Array], Any], keys: jax.Array):
    """One independent state per key, stacked on a leading run axis: ``vmap(init_fn)(keys)``.

    Args:
      init_fn: ``init_fn(key) -> state``, e.g. ``lambda k: jaxgan.init_state(gan, k)``.
      keys: ``[runs, 2]`` PRNG keys (``jax.random.split(key, runs)``).

    Returns:
      The stacked states (every leaf with a leading axis of ``runs``).
    """
    return jax.jit(jax.vmap(init_fn))(keys)


def make_chunk_runner(train_step, length: int, *, vmapped: bool = False, vmap_data: bool = False,
                      unroll: int = 1, compiler_options: Optional[dict] = None, donate: bool = False):
    """Compiled ``run(state, data) -> (state, metrics[length])``: ``length`` steps under ``lax.scan``.

    With ``vmapped``, ``state`` has a leading run axis and metrics are ``[runs, length]``; ``data``
    is shared by all runs, or has a leading run axis too with ``vmap_data``. With ``donate``
    the input state's buffers are reused for the output (:func:`fit` does this with its own copy).
    ``unroll`` is ``lax.scan``'s: that many steps per loop trip (same results; fewer trips
    of the loop, a longer compile). ``compiler_options``: XLA's, for this loop (``jax.jit``'s; e.g.
    ``{"xla_gpu_enable_command_buffer": "FUSION,CUBLASLT,CUDNN,WHILE"}``; which ones pay is what
    ``python -m experiments.bench.xla_options`` measures).

    Args:
      train_step: ``train_step(state, data) -> (state, metrics)``.
      length: iterations per call.
      vmapped: train stacked runs at once (``jax.vmap``).
      vmap_data: with ``vmapped``, ``data`` has a run axis too.
      unroll: ``lax.scan``'s ``unroll``.
      compiler_options: XLA options for this program.
      donate: reuse the input state's buffers for the output state (the input is then deleted).

    Returns:
      The jitted ``run(state, data) -> (state, metrics)``, metrics stacked ``[length]`` per name
      (``[runs, length]`` with ``vmapped``).
    """

    def run(state, data):
        return jax.lax.scan(lambda s, _: train_step(s, data), state, None, length=length, unroll=unroll)

    if vmapped:
        inner = run

        def run(state, data):  # noqa: F811 - the vmapped version
            return jax.vmap(inner, in_axes=(0, 0 if vmap_data else None))(state, data)

    return jax.jit(run, donate_argnums=0 if donate else (), compiler_options=compiler_options)


def compile_ahead(jitted, *args):
    """Compiles ``jitted`` for ``args`` ahead of time: ``jitted.lower(*args).compile()``.

    The default ``compile_fn`` of :func:`fit`.

    Returns:
      The compiled program (callable with arguments shaped like ``args``).
    """
    return jitted.lower(*args).compile()


class FitResult(NamedTuple):
    """What :func:`fit` returns.

    Attributes:
      state: the state after training.
      metrics: name -> NumPy array of every iteration's value, ``[steps]`` (``[runs, steps]`` with
        ``vmapped``).
      compile_seconds: time spent compiling the loops.
      train_seconds: time spent training, compilation excluded.
      steps_done: iterations run.
      stopped_early: the callback returned ``False`` before ``num_steps``.
    """

    state: Any
    metrics: dict
    compile_seconds: float
    train_seconds: float
    steps_done: int
    stopped_early: bool


def progress_bar(total: int, enabled: bool, desc: str):
    """The progress bar :func:`fit` shows: tqdm's, on stderr.

    Args:
      total: the number of iterations.
      enabled: whether to show one.
      desc: its label.

    Returns:
      A ``tqdm`` bar, or ``None`` when disabled or tqdm is not installed (then with a warning).
    """
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is an optional extra
        warnings.warn("progress=True shows a bar through tqdm.auto, which needs tqdm 4.27 or newer "
                      "(pip install -U tqdm); training without one", stacklevel=3)
        return None
    return tqdm(total=total, desc=desc, unit="it", file=sys.stderr, leave=False, dynamic_ncols=True)


def fit(
    train_step,
    state,
    data,
    num_steps: int,
    *,
    chunk_size: int = 1000,
    vmapped: bool = False,
    vmap_data: bool = False,
    callback: Optional[Callable[[int, Any, dict], None]] = None,
    progress: bool = False,
    desc: str = "training",
    chunk_runner: Optional[Callable[[int], Callable]] = None,
    compiler_options: Optional[dict] = None,
    compile_fn: Callable[..., Any] = compile_ahead,
    donate: bool = False,
) -> FitResult:
    """Runs ``num_steps`` iterations of ``train_step`` in compiled chunks of ``chunk_size``.

    Compilation is done (and timed) before training starts, so ``train_seconds`` excludes it:
    ``compile_fn(jitted, state, data)`` returns the compiled loop (default :func:`compile_ahead`;
    :func:`jaxgan.speedups.cpu_loops.compile_loop` compiles a small loop on CPU as one kernel).
    ``chunk_runner(length)``, when given, replaces :func:`make_chunk_runner` (a jitted
    ``run(state, data) -> (state, metrics[length])`` that trains as it would: for instance the toy
    GAN's loop as one GPU kernel, :func:`jaxgan.speedups.toy_gan_kernel.make_toy_gan_loop`).
    ``callback(steps_done, state, chunk_metrics)`` runs after each chunk (metrics as NumPy); if it
    returns ``False`` training stops there (used for signals and the divergence guard).
    ``compiler_options`` go to :func:`make_chunk_runner` (not to a ``chunk_runner`` of your own).

    The caller's ``state`` stays valid: ``fit`` copies it once (one state's memory, for a moment)
    and then lets every chunk write its new state into the previous one's buffers. With
    ``donate=True`` it skips the copy and the caller's state is deleted.

    Args:
      train_step: ``train_step(state, data) -> (state, metrics)`` (e.g. from
        :func:`jaxgan.build_train_step`), not compiled.
      state: the initial state (stacked runs with ``vmapped``).
      data: what ``train_step`` reads batches from (an array on the device, usually).
      num_steps: iterations to run.
      chunk_size: iterations per compiled call; metrics are fetched and ``callback`` runs between.
      vmapped: ``state`` holds stacked runs, trained at once under ``jax.vmap``.
      vmap_data: with ``vmapped``, ``data`` has a run axis too.
      callback: ``callback(steps_done, state, chunk_metrics)``; ``False`` stops the run.
      progress: show a progress bar (needs tqdm).
      desc: the progress bar's label.
      chunk_runner: ``chunk_runner(length) -> jitted run``, replacing :func:`make_chunk_runner`.
      compiler_options: XLA options for :func:`make_chunk_runner`'s programs.
      compile_fn: ``compile_fn(jitted, state, data) -> compiled``.
      donate: hand the caller's state to the first chunk without copying it (it is deleted).

    Returns:
      A :class:`FitResult`.

    Raises:
      ValueError: for ``num_steps < 1`` or ``chunk_size < 1``.
    """
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    chunk_size = min(chunk_size, num_steps)
    lengths = [chunk_size] * (num_steps // chunk_size)
    if num_steps % chunk_size:
        lengths.append(num_steps % chunk_size)

    if not donate:  # the chunks donate their input: give them a copy, keep the caller's state valid
        state = jax.tree.map(lambda x: x.copy() if isinstance(x, jax.Array) else x, state)
    t0 = time.perf_counter()
    if chunk_runner is None:
        def chunk_runner(n):
            return make_chunk_runner(train_step, n, vmapped=vmapped, vmap_data=vmap_data,
                                     compiler_options=compiler_options, donate=True)
    runners = {n: chunk_runner(n) for n in set(lengths)}
    compiled = {n: compile_fn(r, state, data) for n, r in runners.items()}
    compile_seconds = time.perf_counter() - t0

    bar = progress_bar(num_steps, progress, desc)
    history: list[dict] = []
    done = 0
    stopped = False
    t0 = time.perf_counter()
    for n in lengths:
        state, metrics = compiled[n](state, data)
        # Waits for this chunk (a few scalars per step); all-gathers runs held by other processes.
        metrics = gather(metrics)
        done += n
        history.append(metrics)
        if bar is not None:  # the losses of the last iteration reached, then the count (which redraws)
            last = {k: float(np.mean(v[..., -1])) for k, v in metrics.items() if k.endswith("loss")}
            bar.set_postfix(last, refresh=False)
            bar.update(n)
        if callback is not None and callback(done, state, metrics) is False:
            stopped = done < num_steps
            break
    jax.block_until_ready(state)
    train_seconds = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    merged = {k: np.concatenate([h[k] for h in history], axis=-1) for k in history[0]}
    return FitResult(state, merged, compile_seconds, train_seconds, done, stopped)
