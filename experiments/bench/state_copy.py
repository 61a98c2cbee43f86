"""What keeping the caller's state valid costs :func:`jaxgan.fit`: one copy of the state per call.

    python -m experiments.bench.state_copy             # the toy GAN and the 64x64 DCGAN reference
    python -m experiments.bench.state_copy --quick     # small sizes, a smoke run

``fit(..., donate=False)`` (the default) copies the state it is given once, before compiling, so
that its chunks can reuse their input's buffers while the caller's arrays stay valid;
``donate=True`` skips the copy. For each workload this prints, as JSON: the state's size (one more
state of memory while the copy lives), the time of that copy (the median of ``--repeats``), and
the time of one training iteration as ``fit`` measures it (``train_seconds / iterations``), so the
copy reads as a number of iterations.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import jax

import jaxgan

__all__ = ["copy_seconds", "measure", "main"]


def copy_seconds(state, repeats: int) -> float:
    """The median time of copying every array of ``state`` as ``fit`` does, waited for."""
    copy = lambda tree: jax.tree.map(lambda x: x.copy() if isinstance(x, jax.Array) else x, tree)
    jax.block_until_ready(copy(state))  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(copy(state))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(workload, iterations: int, repeats: int) -> dict:
    """The state's size, its copy's time and one iteration's time for one benchmark workload.

    Args:
      workload: an ``experiments.bench.jax_workloads.GanWorkload``.
      iterations: the iterations of the ``fit`` call that times an iteration.
      repeats: copies timed (the median is reported).

    Returns:
      A dict: ``workload``, ``settings``, ``state_megabytes``, ``copy_ms``, ``iteration_ms``,
      ``copy_in_iterations``.
    """
    state = workload.init_state()
    nbytes = sum(x.nbytes for x in jax.tree.leaves(state))
    copy = copy_seconds(state, repeats)
    fitted = jaxgan.fit(workload.train_step(), state, workload.data, iterations, chunk_size=iterations)
    iteration = fitted.train_seconds / iterations
    return {"workload": workload.name, "settings": workload.settings, "state_megabytes": nbytes / 2**20,
            "copy_ms": 1e3 * copy, "iteration_ms": 1e3 * iteration, "copy_in_iterations": copy / iteration}


def main(argv=None) -> int:
    from experiments.bench.config import QUICK, REFERENCE
    from experiments.bench.workloads import dcgan, toy
    from experiments.runner import device_description

    parser = argparse.ArgumentParser(prog="python -m experiments.bench.state_copy", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--repeats", type=int, default=5, help="copies timed per workload (default 5)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else REFERENCE
    rows = [
        measure(toy({**sizes["toy"], "seeds": 0}), iterations=2000, repeats=args.repeats),
        measure(dcgan(sizes["dcgan"]), iterations=2 if not args.quick else 4, repeats=args.repeats),
    ]
    print(json.dumps({"device": device_description(), "jax": jax.__version__, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
