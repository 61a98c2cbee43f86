"""The metric writers: JSON lines, the fan-out, TensorBoard's files read back, and fit's logging callback."""

import json
import sys
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
import pytest

from jaxgan.metric_writers import (
    JsonLinesWriter,
    MetricWriter,
    MultiWriter,
    create_default_writer,
    injected_learning_rates,
    log_metrics,
    read_metrics,
)
from tests.tensorboard_events import logged_hparams, read_events


class Recorder(MetricWriter):
    """Keeps what it is given, in order."""

    def __init__(self):
        self.calls = []

    def write_scalars(self, step, scalars):
        self.calls.append(("scalars", step, dict(scalars)))

    def write_images(self, step, images):
        self.calls.append(("images", step, {k: np.shape(v) for k, v in images.items()}))

    def write_hparams(self, hparams):
        self.calls.append(("hparams", dict(hparams)))

    def flush(self):
        self.calls.append(("flush",))

    def close(self):
        self.calls.append(("close",))


def test_jsonl_writer_writes_one_record_per_step_and_hparams_flat(tmp_path):
    path = tmp_path / "run" / "metrics.jsonl"
    with JsonLinesWriter(path, flush_secs=0) as w:
        w.write_hparams({"lr": 0.01, "recipe": {"name": "stable", "steps": 3}, "devices": None, "sizes": (1, 2)})
        w.write_scalars(10, {"d_loss": np.float32(0.5), "g_loss": np.array([1.25])})
        w.write_images(10, {"samples": np.zeros((4, 4, 3))})  # not kept: JSON lines hold numbers
        w.write_scalars(20, {"d_loss": 0.25, "g_loss": 2})
        lines_while_open = path.read_text().splitlines()  # written through at once
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines_while_open) == 3
    assert lines[0] == {"hparams": {"lr": 0.01, "recipe.name": "stable", "recipe.steps": 3, "devices": None,
                                    "sizes": "(1, 2)"}}  # fmt: skip
    assert read_metrics(path) == [{"step": 10, "d_loss": 0.5, "g_loss": 1.25}, {"step": 20, "d_loss": 0.25, "g_loss": 2.0}]


def test_jsonl_lines_are_the_text_json_dumps_writes_whatever_the_names_and_values(tmp_path):
    path = tmp_path / "metrics.jsonl"
    records = [
        (1, {"d_loss": 0.1, "g_loss": 1 / 3}),
        (2, {"d_loss": -2.5e-12, "g_loss": 1e300}),  # the same names: the line's template again
        (3, {'a "quoted" {name}': 7.0, "\u00e9\n": 0.5}),  # names JSON must escape, braces of str.format
        (4, {"d_loss": float("nan"), "g_loss": float("inf")}),  # not numbers in JSON: json.dumps's spelling
        (5, {"g_loss": -float("inf"), "d_loss": 0.0}),  # the same names in another order
    ]
    with JsonLinesWriter(path) as w:
        for step, scalars in records:
            w.write_scalars(step, scalars)
    expected = [json.dumps({"step": step, **scalars}) for step, scalars in records]
    assert path.read_text().splitlines() == expected


def test_jsonl_writer_flushes_a_line_written_flush_secs_after_the_last_flush(tmp_path):
    path, now = tmp_path / "metrics.jsonl", [0.0]
    w = JsonLinesWriter(path, flush_secs=1.0, clock=lambda: now[0])
    w.write_scalars(1, {"x": 1})
    now[0] = 0.9
    w.write_scalars(2, {"x": 2})
    assert path.read_text() == ""  # both wait in the buffer
    now[0] = 1.0
    w.write_scalars(3, {"x": 3})  # a second after the last flush: all three reach the file
    assert [r["step"] for r in read_metrics(path)] == [1, 2, 3]
    now[0] = 1.5
    w.write_scalars(4, {"x": 4})
    assert len(read_metrics(path)) == 3  # the interval counts from that flush
    w.flush()
    assert [r["step"] for r in read_metrics(path)] == [1, 2, 3, 4]
    w.write_scalars(5, {"x": 5})
    w.close()
    assert len(read_metrics(path)) == 5


def test_jsonl_writer_starts_anew_or_continues_a_resumed_run(tmp_path):
    path = tmp_path / "metrics.jsonl"
    with JsonLinesWriter(path) as w:
        w.write_hparams({"lr": 1})
        for step in (10, 20, 30):
            w.write_scalars(step, {"x": step})
    with JsonLinesWriter(path, purge_step=21) as w:  # resumed from step 20: 30 is trained again
        w.write_scalars(30, {"x": -30})
    assert [(r["step"], r["x"]) for r in read_metrics(path)] == [(10, 10), (20, 20), (30, -30)]
    assert json.loads(path.read_text().splitlines()[0]) == {"hparams": {"lr": 1}}
    with JsonLinesWriter(path) as w:  # a new run in the same place
        w.write_scalars(5, {"x": 5})
    assert read_metrics(path) == [{"step": 5, "x": 5.0}]


def test_multi_writer_hands_every_call_to_each_writer_in_order():
    a, b = Recorder(), Recorder()
    with MultiWriter([a, b]) as w:
        w.write_hparams({"lr": 0.1})
        w.write_scalars(3, {"loss": 1.0})
        w.write_images(3, {"grid": np.zeros((2, 5, 5, 1))})
        w.flush()
    expected = [("hparams", {"lr": 0.1}), ("scalars", 3, {"loss": 1.0}), ("images", 3, {"grid": (2, 5, 5, 1)}),
                ("flush",), ("close",)]  # fmt: skip
    assert a.calls == expected and b.calls == expected
    MultiWriter([]).write_scalars(1, {"x": 1.0})  # no writer: nothing happens


def chunk(first, n, runs=None):
    """Metrics of steps ``first .. first+n-1``: ``loss`` = the step, ``d_real`` = 2 * step."""
    steps = np.arange(first, first + n, dtype=np.float32)
    if runs is not None:  # run r is offset by r: the mean over runs is step + (runs - 1) / 2
        steps = steps[None, :] + np.arange(runs, dtype=np.float32)[:, None]
    return {"loss": steps, "d_real": 2 * steps}


def test_log_metrics_writes_the_mean_of_each_interval_across_chunks():
    rec = Recorder()
    times = iter([0.0, 2.0, 3.0, 4.0])
    cb = log_metrics(rec, every=4, learning_rates={"lr": lambda step: 0.5 / step, "d_lr": 0.1}, images_per_step=8)
    cb.clock = lambda: next(times)
    assert cb(6, None, chunk(1, 6)) is None  # steps 1..6: logs step 4 (mean of 1..4)
    assert cb(12, None, chunk(7, 6)) is None  # steps 7..12: logs 8 (mean of 5..8) and 12 (9..12)
    cb(14, None, chunk(13, 2))  # steps 13..14: no multiple of 4, nothing written
    logged = [(c[1], c[2]) for c in rec.calls]
    assert [step for step, _ in logged] == [4, 8, 12]
    assert logged[0][1] == {"loss": 2.5, "d_real": 5.0, "lr": 0.125, "d_lr": 0.1}  # no speed before a second chunk
    assert logged[1][1] == pytest.approx({"loss": 6.5, "d_real": 13.0, "lr": 0.0625, "d_lr": 0.1,
                                          "steps_per_second": 3.0, "images_per_second": 24.0})  # fmt: skip
    assert logged[2][1]["loss"] == 10.5
    cb(16, None, chunk(15, 2))  # step 16: the mean over 13..16, across the two chunks
    assert rec.calls[-1][1] == 16 and rec.calls[-1][2]["loss"] == 14.5
    assert rec.calls[-1][2]["steps_per_second"] == 2.0  # 2 steps in 1 s


def test_log_metrics_averages_stacked_runs_and_logs_every_chunk_end():
    rec = Recorder()
    cb = log_metrics(rec, every=3, learning_rates={})
    cb(3, None, chunk(1, 3, runs=4))
    assert rec.calls == [("scalars", 3, {"loss": 2 + 1.5, "d_real": 2 * (2 + 1.5)})]


def test_log_metrics_averages_runs_of_each_metric_even_when_their_counts_differ():
    rec = Recorder()
    cb = log_metrics(rec, every=2, learning_rates={})
    steps = np.arange(1, 5, dtype=np.float32)
    cb(4, None, {"loss": steps[None] + np.array([[0.0], [2.0]], np.float32),  # 2 runs: mean step + 1
                 "d_real": np.stack([steps, steps, 4 * steps]),  # 3 runs: mean 2 * step
                 "is_finite": np.ones(4, bool), "label": "text"})  # not numbers: not logged  # fmt: skip
    assert rec.calls == [("scalars", 2, {"loss": 2.5, "d_real": 3.0}), ("scalars", 4, {"loss": 4.5, "d_real": 7.0})]


class TwoPlayers(NamedTuple):
    g: object
    d: object
    step: int


def test_learning_rates_of_inject_hyperparams_optimizers_are_read_from_the_state():
    import jax.numpy as jnp
    import optax

    params = {"w": jnp.ones(3)}
    g_opt = optax.inject_hyperparams(optax.adam)(learning_rate=optax.linear_schedule(1.0, 0.0, 10))
    g_state = g_opt.init(params)
    _, g_state = g_opt.update(params, g_state, params)  # one update: the schedule's value at count 0
    _, g_state = g_opt.update(params, g_state, params)  # its value at count 1: 0.9
    d_state = optax.adam(0.1).init(params)  # not injected: no rate to read
    state = TwoPlayers(SimpleNamespace(opt_state=g_state), SimpleNamespace(opt_state=d_state), 2)
    assert injected_learning_rates(state) == {"g_lr": pytest.approx(0.9)}
    rec = Recorder()
    log_metrics(rec, every=1)(1, state, {"loss": np.array([0.5])})
    assert rec.calls == [("scalars", 1, {"loss": 0.5, "g_lr": pytest.approx(0.9)})]


def test_log_metrics_refuses_an_interval_below_one():
    with pytest.raises(ValueError, match="every"):
        log_metrics(Recorder(), every=0)


def test_tensorboard_writer_without_tensorboardx_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"jaxgan\[tensorboard\]"):
        create_default_writer(tmp_path, tensorboard_dir=tmp_path / "tb")
    assert not (tmp_path / "metrics.jsonl").exists()  # nothing half-opened


def test_tensorboard_writer_files_read_back_with_tensorboards_reader(tmp_path):
    pytest.importorskip("tensorboardX")
    with create_default_writer(tmp_path, tensorboard_dir=tmp_path / "tb") as w:
        w.write_hparams({"lr": 0.01, "recipe": "stable", "devices": None})
        w.write_scalars(5, {"d_loss": 0.75})
        w.write_scalars(10, {"d_loss": 0.5})
        w.write_images(10, {"grid": np.full((6, 8, 3), 255, np.uint8), "gray": np.zeros((4, 5))})
    acc = read_events(tmp_path / "tb")
    assert [(e.step, e.value) for e in acc.Scalars("d_loss")] == [(5, 0.75), (10, 0.5)]
    (image,) = acc.Images("grid")
    assert (image.step, image.width, image.height) == (10, 8, 6)
    assert [(i.step, i.width, i.height) for i in acc.Images("gray")] == [(10, 5, 4)]
    assert logged_hparams(acc) == {"lr": pytest.approx(0.01), "recipe": "stable", "devices": "None"}
    assert read_metrics(tmp_path / "metrics.jsonl") == [{"step": 5, "d_loss": 0.75}, {"step": 10, "d_loss": 0.5}]


def test_tensorboard_writer_writes_on_its_thread_and_flush_raises_what_the_thread_met(tmp_path, monkeypatch):
    pytest.importorskip("tensorboardX")
    import threading

    from jaxgan.metric_writers import TensorBoardWriter

    writer = TensorBoardWriter(tmp_path / "tb")
    threads = []
    original = writer._writer.file_writer.add_summary
    monkeypatch.setattr(writer._writer.file_writer, "add_summary",
                        lambda *a, **k: threads.append(threading.current_thread().name) or original(*a, **k))
    writer.write_scalars(1, {"d_loss": 1.0})
    writer.flush()
    assert threads and all(name.startswith("tensorboard") for name in threads)  # not the caller's thread

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(writer._writer.file_writer, "add_summary", broken)
    writer.write_scalars(2, {"d_loss": 1.0})  # returns: the error is the thread's
    with pytest.raises(OSError, match="disk full"):
        writer.flush()
    writer.close()


def test_tensorboard_writer_hands_scalars_over_in_batches_at_most_hand_over_secs_late(tmp_path, monkeypatch):
    pytest.importorskip("tensorboardX")
    from jaxgan.metric_writers import TensorBoardWriter

    now = [0.0]
    writer = TensorBoardWriter(tmp_path / "tb", hand_over_secs=1.0, clock=lambda: now[0])
    tasks = []
    original = writer._write_scalars
    monkeypatch.setattr(writer, "_write_scalars", lambda records: tasks.append([s for s, _ in records]) or original(records))
    writer.write_scalars(1, {"d_loss": 1.0})
    now[0] = 0.5
    writer.write_scalars(2, {"d_loss": 2.0})
    writer._wait()
    assert tasks == []  # both wait on the calling thread
    now[0] = 1.0
    writer.write_scalars(3, {"d_loss": 3.0})  # a second after the last hand-over: all three, in one task
    writer._wait()
    assert tasks == [[1, 2, 3]]
    now[0] = 1.5
    writer.write_scalars(4, {"d_loss": 4.0})
    writer.write_images(4, {"grid": np.zeros((3, 3))})  # scalars written before an image go first
    writer.write_scalars(5, {"d_loss": 5.0})
    writer.close()  # hands over the rest
    assert tasks == [[1, 2, 3], [4], [5]]
    acc = read_events(tmp_path / "tb")
    assert [(e.step, e.value) for e in acc.Scalars("d_loss")] == [(s, float(s)) for s in range(1, 6)]


def test_learning_rate_of_a_schedule_is_that_of_the_steps_last_update():
    import optax

    from jaxgan.metric_writers import learning_rate_of

    schedule = optax.linear_schedule(1.0, 0.0, 10)
    assert learning_rate_of(schedule)(1) == 1.0  # update 0
    assert learning_rate_of(schedule)(4) == pytest.approx(0.7)  # update 3
    assert learning_rate_of(schedule, updates_per_step=2)(4) == pytest.approx(0.3)  # update 7
    assert learning_rate_of(2e-4)(100) == 2e-4
