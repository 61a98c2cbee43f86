"""Divergence guard: stop a run at the first non-finite loss or parameter, and say where.

A GAN that diverges usually does it silently: one ``inf`` in a loss becomes ``nan`` in the
parameters, and every later step is wasted. The guard runs at chunk boundaries (between compiled
``lax.scan`` chunks, see :func:`jaxgan.fit`), never inside the compiled step:

* :func:`first_nonfinite_metric` scans a chunk's per-step metrics ``[steps]`` (or ``[runs, steps]``
  under ``vmap``) for the first step ``t`` at which some metric ``m`` has ``not isfinite(m[t])``.
* :func:`nonfinite_leaves` reduces every floating leaf of a pytree on the device,
  ``all(isfinite(leaf))``, and fetches only one boolean per leaf.
* :func:`check_finite` raises :class:`DivergenceError` naming the step, the metric (or parameter
  path) and the run, so a checkpoint writer can refuse to save the bad state.
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "DivergenceError",
    "NonFinite",
    "first_nonfinite_metric",
    "nonfinite_leaves",
    "check_metrics",
    "check_state",
    "check_finite",
    "path_name",
]


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss or parameter.

    Attributes:
      step: the 1-based iteration whose metrics or result were non-finite.
      name: the metric name or the parameter path.
      run: the run's index under ``vmap``, or ``None``.
    """

    def __init__(self, message: str, *, step: int, name: str, run: Optional[int] = None):
        super().__init__(message)
        self.step = step
        self.name = name
        self.run = run


class NonFinite(NamedTuple):
    """Where a metric first went non-finite.

    Attributes:
      step: the 1-based iteration.
      names: every metric non-finite at that step (in that run).
      values: their values (NaN or infinities).
      run: the run's index under ``vmap``, or ``None``.
    """

    step: int
    names: tuple[str, ...]  # every metric non-finite at that step (in the first such run)
    values: tuple[float, ...]
    run: Optional[int]


def path_name(path: Sequence[Any]) -> str:
    """Writes a pytree key path as a dotted name, e.g. ``g.params.linear.kernel``.

    The same dotted names orbax-checkpoint uses, so messages match what is on disk.

    Args:
      path: a key path (``jax.tree_util`` keys: attribute names, dict keys, sequence indices).

    Returns:
      The dotted name.
    """
    parts = []
    for entry in path:
        for attr in ("name", "key", "idx"):
            if hasattr(entry, attr):
                parts.append(str(getattr(entry, attr)))
                break
        else:
            parts.append(str(entry))
    return ".".join(parts)


def first_nonfinite_metric(metrics: Mapping[str, Any], *, first_step: int = 1) -> Optional[NonFinite]:
    """Finds the earliest step at which any metric is NaN or infinite.

    Ties between runs go to the lowest run index. Metrics that are not floating are ignored.

    Args:
      metrics: ``{name: [steps] or [runs, steps] array}``; entry ``t`` is the metric of iteration
        ``first_step + t``.
      first_step: the 1-based iteration of entry 0.

    Returns:
      A :class:`NonFinite`, or ``None`` where every metric is finite.
    """
    earliest: Optional[tuple[int, Optional[int]]] = None
    arrays = {}
    for name, value in metrics.items():
        arr = np.asarray(value)
        if not np.issubdtype(arr.dtype, np.inexact):
            continue
        arrays[name] = arr
        bad = ~np.isfinite(arr)
        if not bad.any():
            continue
        if arr.ndim <= 1:
            t, run = int(np.argmax(bad.reshape(-1))), None
        else:
            flat = bad.reshape(-1, arr.shape[-1])
            per_run = np.where(flat.any(axis=1), flat.argmax(axis=1), np.iinfo(np.int64).max)
            run = int(np.argmin(per_run))
            t = int(per_run[run])
        if earliest is None or (t, run or 0) < (earliest[0], earliest[1] or 0):
            earliest = (t, run)
    if earliest is None:
        return None
    t, run = earliest
    names, values = [], []
    for name, arr in arrays.items():
        v = arr.reshape(-1) if arr.ndim <= 1 else arr.reshape(-1, arr.shape[-1])[run]
        if t < v.shape[0] and not np.isfinite(v[t]):
            names.append(name)
            values.append(float(v[t]))
    return NonFinite(first_step + t, tuple(names), tuple(values), run)


@jax.jit
def _leaf_finite(tree):
    return jax.tree.map(lambda x: jnp.all(jnp.isfinite(x)), tree)


def nonfinite_leaves(tree) -> list[str]:
    """Lists the floating leaves of ``tree`` that hold any NaN or infinity.

    The reduction ``all(isfinite(leaf))`` runs on the leaf's device; only one boolean per leaf
    comes back to the host.

    Args:
      tree: a pytree (e.g. a training state).

    Returns:
      The dotted paths (:func:`path_name`) of those leaves, in tree order.
    """
    leaves = jax.tree_util.tree_leaves_with_path(tree)
    floating = [(p, x) for p, x in leaves if jnp.issubdtype(jnp.result_type(x), jnp.inexact)]
    if not floating:
        return []
    ok = jax.device_get(_leaf_finite([x for _, x in floating]))
    return [path_name(p) for (p, _), good in zip(floating, ok) if not bool(good)]


def _fmt(value: float) -> str:
    return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")


def check_metrics(metrics: Mapping[str, Any], *, first_step: int = 1, runs: Optional[int] = None) -> None:
    """Checks a chunk's metrics for the first non-finite value (:func:`first_nonfinite_metric`).

    Args:
      metrics: ``{name: [steps] or [runs, steps] array}``.
      first_step: the 1-based iteration of the metrics' entry 0.
      runs: the number of runs, for the message.

    Raises:
      DivergenceError: naming the step, the metrics and the run.
    """
    found = first_nonfinite_metric(metrics, first_step=first_step)
    if found is None:
        return
    what = ", ".join(f"{n} = {_fmt(v)}" for n, v in zip(found.names, found.values))
    where = f" (run {found.run}" + (f" of {runs})" if runs else ")") if found.run is not None else ""
    raise DivergenceError(
        f"training diverged at step {found.step}{where}: {what}",
        step=found.step,
        name=found.names[0],
        run=found.run,
    )


def check_state(state, *, step: int) -> None:
    """Checks that every floating leaf of ``state`` is finite after ``step``.

    Args:
      state: the training state.
      step: the iteration the state is after, for the message.

    Raises:
      DivergenceError: naming the first non-finite leaf's path.
    """
    bad = nonfinite_leaves(state)
    if not bad:
        return
    more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
    raise DivergenceError(
        f"training diverged by step {step}: non-finite values in {bad[0]}{more}",
        step=step,
        name=bad[0],
    )


def check_finite(state, metrics: Mapping[str, Any], *, step: int, first_step: int, runs: Optional[int] = None) -> None:
    """Checks a chunk at its boundary: the metrics of iterations ``first_step..step``, then the state.

    Metrics are checked first because they say *when* it went wrong; the state check catches a
    non-finite parameter that no metric shows.

    Args:
      state: the state after ``step``.
      metrics: the chunk's ``{name: [steps] or [runs, steps] array}``.
      step: the last iteration of the chunk.
      first_step: the first iteration of the chunk.
      runs: the number of runs, for the message.

    Raises:
      DivergenceError: at the first non-finite metric or state leaf.
    """
    check_metrics(metrics, first_step=first_step, runs=runs)
    check_state(state, step=step)
