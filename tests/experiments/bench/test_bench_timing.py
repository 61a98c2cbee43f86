"""The benchmark's timing (``experiments.bench.timing``): medians of repeats, how many iterations
make a timed call, and the repeats of several variants interleaved round by round."""

from __future__ import annotations

import pytest

from experiments import benchmark
from experiments.bench.timing import Timing, iterations_for, time_runs


def test_timing_takes_the_median_and_scales_iterations():
    calls = []
    timing = time_runs(calls.append, 7, repeats=3, warmup=2)
    assert calls == [7] * 5 and timing.iterations == 7 and len(timing.seconds) == 3
    t = Timing(10, (1.0, 4.0, 2.0))
    assert t.median_seconds == 2.0 and t.iterations_per_second == 5.0 and t.spread == pytest.approx(1.5)
    assert iterations_for(0.01, 1.0) == 100 and iterations_for(5.0, 1.0) == 1


def test_estimate_doubles_until_a_call_is_long_enough(monkeypatch):
    from experiments.bench import timing

    clock = [0.0]
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])
    calls = []

    def run(n):  # exactly 1 ms per iteration on the fake clock
        calls.append(n)
        clock[0] += n * 1e-3

    n = timing.estimate_iterations(run, 2, min_time=0.2)
    assert calls == [2, 4, 8, 16, 32]  # doubled until one call lasts >= min_time / 10 = 20 ms
    assert n == 200  # 0.2 s of 1 ms iterations, a multiple of the granule


def test_interleaved_repeats_take_turns_so_a_drifting_machine_keeps_the_ratio(monkeypatch):
    """Round by round, each round starting one variant later; on a machine that slows down call by
    call, the interleaved ratio stays the true one where one-after-another timing inflates it."""
    from experiments.bench import timing

    clock, calls = [0.0], []
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])

    def variant(name, seconds_per_iteration):
        def run(n):
            calls.append(name)
            clock[0] += n * seconds_per_iteration * (1 + 0.1 * len(calls))  # 10% slower every call

        return timing.Prepared(run, 10)

    a, b = variant("a", 1e-3), variant("b", 2e-3)  # b truly takes twice as long
    ta, tb = timing.time_interleaved([a, b], repeats=4)
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert ta.iterations == tb.iterations == 10 and len(ta.seconds) == len(tb.seconds) == 4
    assert tb.median_seconds / ta.median_seconds == pytest.approx(2.0)
    calls.clear()
    sa, sb = (time_runs(v.run, v.iterations, 4, warmup=0) for v in (a, b))
    assert calls == ["a"] * 4 + ["b"] * 4
    assert sb.median_seconds / sa.median_seconds > 2.5  # b timed in the slower minutes
    assert benchmark.parse_args([]).interleave and not benchmark.parse_args(["--no-interleave"]).interleave


def test_round_ratios_pair_the_calls_of_each_round():
    """Each round's ratio to PyTorch eager from the rows' seconds; only for rows timed in the same
    rounds. The machine slowed down in round 2 for both: the round's ratio is unaffected."""
    from experiments.bench.rows import add_ratios, base_row, fill_throughput, format_table, round_ratios

    def row(framework, variant, iterations, seconds, interleaved=True):
        r = base_row("dcgan", framework, variant, "cpu", "float32", 128, {}, False)
        fill_throughput(r, iterations / sorted(seconds)[len(seconds) // 2], True, None, "cpu", "float32")
        r.update(iterations_per_call=iterations, seconds=seconds, repeats=len(seconds), interleaved=interleaved)
        return r

    jax_scan = row("jax", "scan", 8, [1.0, 2.0, 1.5])
    eager = row("torch", "eager", 4, [1.0, 2.4, 1.5])
    assert round_ratios(jax_scan, eager) == pytest.approx([2.0, 2.4, 2.0])
    assert round_ratios(jax_scan, row("torch", "eager", 4, [1.0, 2.4, 1.5], interleaved=False)) is None
    assert round_ratios(jax_scan, row("torch", "eager", 4, [1.0, 2.4])) is None  # not the same rounds
    compiled = row("torch", "compile", 4, [1.0, 1.0, 1.0], interleaved=False)  # its own process
    rows = [jax_scan, eager, compiled]
    add_ratios(rows)
    assert jax_scan["ratio_to_torch_eager_rounds"] == pytest.approx([2.0, 2.4, 2.0])
    assert "ratio_to_torch_eager_rounds" not in eager and "ratio_to_torch_eager_rounds" not in compiled
    table = format_table(rows).splitlines()
    assert table[2].split()[-1] == "2.00-2.40" and table[3].split()[-1] == table[4].split()[-1] == "-"
