"""``fit``'s per-chunk metrics as logged scalars: means over each logging interval, the learning
rates and the speed, from the values ``fit`` already fetched (nothing more is asked of the device
unless learning rates are read from an ``optax.inject_hyperparams`` state)."""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Optional, Union

import numpy as np

from jaxgan.metric_writers.interface import MetricWriter

__all__ = ["MetricLogger", "injected_learning_rates", "learning_rate_of", "log_metrics"]

Rate = Union[float, Callable[[int], Any]]


def injected_learning_rates(state) -> dict:
    """``"<player>_lr" -> learning rate`` of each player whose optimizer is ``optax.inject_hyperparams``'s.

    Looks at the fields of ``state`` (a ``GANState``, a CycleGAN state, ...) that have an
    ``opt_state``; one device-to-host copy for all of them; stacked runs give their mean.

    Args:
      state: a training state whose players have ``opt_state``.

    Returns:
      The learning rates found (``{}`` for none).
    """
    import jax

    def injected(x):  # optax's InjectHyperparamsState or InjectStatefulHyperparamsState
        return isinstance(getattr(x, "hyperparams", None), dict)

    found = {}
    fields = state._asdict() if hasattr(state, "_asdict") else {}
    for name, player in fields.items():
        opt_state = getattr(player, "opt_state", None)
        if opt_state is None:
            continue
        for leaf in jax.tree.leaves(opt_state, is_leaf=injected):
            if injected(leaf) and "learning_rate" in leaf.hyperparams:
                found[f"{name}_lr"] = leaf.hyperparams["learning_rate"]
                break
    return {k: float(np.mean(v)) for k, v in jax.device_get(found).items()}


def learning_rate_of(schedule, updates_per_step: int = 1) -> Callable[[int], float]:
    """``rate(step)``: the step size of the last update made by ``step`` steps, for :func:`log_metrics`.

    Evaluated on the host's CPU (no work for an accelerator): update ``step * updates_per_step - 1``
    (0-based) of an optax schedule, or the constant itself.

    Args:
      schedule: an optax schedule (``count -> step size``) or a number.
      updates_per_step: the player's optimizer updates per training step (e.g. D's ``n_critic``).

    Returns:
      A function of the step count returning a float.
    """
    if not callable(schedule):
        return lambda step: float(schedule)

    def rate(step: int) -> float:
        import jax

        with jax.default_device(jax.local_devices(backend="cpu")[0]):
            return float(schedule(max(step * updates_per_step - 1, 0)))

    return rate


def _chunk_table(metrics: Mapping[str, Any]) -> tuple[list, np.ndarray]:
    """``(names, table)``: the chunk's numeric metrics, each averaged over runs, as the rows of one
    float64 ``[len(names), length]`` array."""
    arrays = {name: np.asarray(v) for name, v in metrics.items()}
    n = next((v.shape[-1] for v in arrays.values() if v.ndim >= 1), 0)
    numeric = {name: v.reshape(-1, n) for name, v in arrays.items()
               if v.ndim >= 1 and v.shape[-1] == n and v.dtype.kind in "iuf"}  # fmt: skip
    names = list(numeric)
    if not names:
        return names, np.zeros((0, n))
    runs = {v.shape[0] for v in numeric.values()}
    if runs == {1}:  # one run, as fit gives a single run's metrics
        return names, np.concatenate(list(numeric.values())).astype(np.float64)
    if len(runs) == 1:  # stacked runs: one mean for all
        return names, np.stack(list(numeric.values())).mean(axis=1, dtype=np.float64)
    return names, np.stack([v.mean(axis=0, dtype=np.float64) for v in numeric.values()])


def _interval_sums(table: np.ndarray, ends: list) -> np.ndarray:
    """Sums of ``table``'s columns over ``[0, ends[0]), [ends[0], ends[1]), ..., [ends[-1], length)``:
    ``[rows, len(ends) + 1]``, the last column that of what follows the last end (zeros if nothing)."""
    length = table.shape[1]
    starts = [0] + [e for e in ends if e < length]
    sums = np.add.reduceat(table, starts, axis=1) if length else np.zeros((table.shape[0], 1))
    if len(starts) == len(ends):  # the last end is the chunk's end: nothing follows it
        sums = np.concatenate([sums, np.zeros((table.shape[0], 1))], axis=1)
    return sums


class MetricLogger:
    """A ``fit`` callback that writes the mean of every metric over each ``every`` steps (see :func:`log_metrics`)."""

    def __init__(
        self,
        writer: MetricWriter,
        every: int = 100,
        *,
        learning_rates: Optional[Mapping[str, Rate]] = None,
        images_per_step: Optional[int] = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.writer = writer
        self.every = int(every)
        self.learning_rates = learning_rates
        self.images_per_step = images_per_step
        self.clock = clock
        self._names: list = []  # the metrics whose sums over the current interval are carried
        self._sums = np.zeros(0)
        self._count = 0  # steps summed
        self._last: Optional[tuple[int, float]] = None  # (step, time) of the previous chunk's end
        self._rate: Optional[float] = None
        self._injected = True  # look for inject_hyperparams learning rates until a state has none

    def _rates(self, step: int, state) -> dict:
        if self.learning_rates is not None:
            return {name: float(r(step) if callable(r) else r) for name, r in self.learning_rates.items()}
        if not self._injected:
            return {}
        rates = injected_learning_rates(state)
        self._injected = bool(rates)
        return rates

    def _speed(self) -> dict:
        if self._rate is None:
            return {}
        speed = {"steps_per_second": self._rate}
        if self.images_per_step:
            speed["images_per_second"] = self._rate * self.images_per_step
        return speed

    def __call__(self, step: int, state, metrics: Mapping[str, Any]) -> None:
        """Logs the chunk that ended at ``step`` (``fit``'s callback signature); returns ``None``."""
        now = self.clock()
        names, table = _chunk_table(metrics)
        n = table.shape[1]
        if self._last is not None and now > self._last[1]:
            self._rate = (step - self._last[0]) / (now - self._last[1])
        self._last = (step, now)
        first = step - n + 1  # the chunk holds steps first .. step
        log_steps = range(-(-first // self.every) * self.every, step + 1, self.every)
        ends = [s - first + 1 for s in log_steps]  # columns up to each logged step
        sums = _interval_sums(table, ends)  # one NumPy call for every interval and metric
        if names != self._names:  # the metrics changed: what was carried of the others is dropped
            self._sums = np.array([dict(zip(self._names, self._sums)).get(k, 0.0) for k in names])
            self._names = names
        if ends:  # the first interval began in an earlier chunk (its sums carried); the others in this one
            sums[:, 0] += self._sums
            counts = np.diff([-self._count, *ends])
            means = (sums[:, : len(ends)] / counts).T.tolist()
            speed = self._speed()
            for log_step, row in zip(log_steps, means):
                self.writer.write_scalars(log_step, {**dict(zip(names, row)), **self._rates(log_step, state), **speed})
            self._sums, self._count = sums[:, len(ends)], n - ends[-1]
        else:
            self._sums, self._count = self._sums + sums[:, 0], self._count + n
        return None


def log_metrics(
    writer: MetricWriter,
    every: int = 100,
    *,
    learning_rates: Optional[Mapping[str, Rate]] = None,
    images_per_step: Optional[int] = None,
) -> MetricLogger:
    """A ``callback`` for :func:`jaxgan.fit` that logs its metrics to ``writer`` at chunk boundaries.

    At each step that is a multiple of ``every`` (within the chunk just run) it writes the mean of
    every metric over the steps since the previous such step (and over stacked runs), from the
    NumPy values ``fit`` fetched: the compiled loop is untouched. With them: the learning rates,
    and ``steps_per_second`` (``images_per_second`` given ``images_per_step``) measured between the
    ends of chunks, from the second chunk on. Steps are fit's ``steps_done`` (or, through
    ``experiments.runner``'s lifecycle, the run's total step). Use ``every`` a divisor of the chunk
    size to log every chunk.

    Args:
      writer: where the scalars go.
      every: log every this many steps.
      learning_rates: name -> a constant or ``rate(step)`` (e.g. an optax schedule), evaluated on
        the host; ``None``: those of ``optax.inject_hyperparams`` optimizers in the state, if any
        (:func:`injected_learning_rates`, read at logged steps only).
      images_per_step: training images per step, for ``images_per_second``.

    Returns:
      A :class:`MetricLogger`, the callable ``callback(step, state, chunk_metrics)``.
    """
    return MetricLogger(writer, every, learning_rates=learning_rates, images_per_step=images_per_step)
