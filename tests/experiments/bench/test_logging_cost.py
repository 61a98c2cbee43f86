"""experiments.bench.logging_cost: the toy's runs with and without the log, timed in one process."""

from experiments.bench.logging_cost import measure


def test_times_each_variant_and_only_the_logged_ones_spend_time_in_the_callback():
    report = measure(repeats=2, log_every=50, steps=100, chunk_size=50)
    rows = {r["variant"]: r for r in report["rows"]}
    assert {"none", "jsonl"} <= set(rows) and report["steps"] == 100 and report["log_every"] == 50
    for row in rows.values():
        assert len(row["iterations_per_second"]) == 2 and all(x > 0 for x in row["iterations_per_second"])
    assert rows["none"]["callback_ms_median"] == 0.0 and rows["none"]["slower_percent"] == 0.0
    assert rows["jsonl"]["callback_ms_median"] > 0.0
