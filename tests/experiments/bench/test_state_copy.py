"""``python -m experiments.bench.state_copy``: the size of the state that fit copies."""

from experiments.bench import state_copy
from experiments.bench.config import QUICK
from experiments.bench.workloads import toy


def test_the_toy_state_fit_copies_has_the_lectures_size():
    # G: 2x2 + 2; D: 2-20-10-2 = 60 + 210 + 22; Adam keeps two moments of each and a count per
    # player; plus the iteration counter and the raw uint32[2] key.
    params = (2 * 2 + 2) + (2 * 20 + 20) + (20 * 10 + 10) + (10 * 2 + 2)
    expected_bytes = 3 * params * 4 + 2 * 4 + 4 + 2 * 4
    row = state_copy.measure(toy({**QUICK["toy"], "seeds": 0}), iterations=10, repeats=1)
    assert row["state_megabytes"] * 2**20 == expected_bytes
    assert row["copy_ms"] > 0 and row["iteration_ms"] > 0
    product = row["copy_in_iterations"] * row["iteration_ms"]
    assert abs(product - row["copy_ms"]) < 1e-9 * row["copy_ms"] + 1e-12

