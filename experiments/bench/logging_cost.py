"""What logging costs the toy GAN: its iterations per second with and without the run's log.

    python -m experiments.bench.logging_cost                 # the toy's default run, 30 interleaved repeats
    python -m experiments.bench.logging_cost --quick         # a smoke run

Each repeat trains the toy GAN's default run (``python -m experiments.toy_gan``'s settings: 2000
iterations in chunks of 1000) once per variant, in turn, in one process, from one compiled loop:
``none`` (no callback), ``jsonl`` (what every experiment does: ``metrics.jsonl`` every
``--log-every`` steps through :class:`experiments.runner.RunLog`, opened at the first chunk) and
``tensorboard`` (the same plus TensorBoard's event files, when tensorboardX is installed). The
variants' order alternates between repeats. Printed as JSON: each variant's median iterations per
second (``fit``'s ``train_seconds``, which includes the callback), its cost against ``none`` (from
the medians, and the median over repeats of the cost against the same repeat's ``none``), and the
median time spent in the callback itself, alone and as a share of the training time.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from pathlib import Path

__all__ = ["main", "measure"]


def _variants(tensorboard: bool) -> list[str]:
    names = ["none", "jsonl"]
    if tensorboard:
        names.append("tensorboard")
    return names


def measure(repeats: int, log_every: int, steps: int, chunk_size: int) -> dict:
    """Times the toy GAN's default run per logging variant, interleaved; returns the JSON report."""
    import jax

    import jaxgan
    from experiments.runner import RunLog, device_description
    from experiments.toy_gan import ToyConfig
    from experiments.toy_gan.loop import choose_loop
    from experiments.toy_gan.train import build_gan, make_data, make_states, run_keys, step_size
    from jaxgan.data import contiguous_batches
    from jaxgan.metric_writers import learning_rate_of
    from jaxgan.speedups.cpu_loops import compile_loop

    try:
        import tensorboardX  # noqa: F401

        has_tensorboard = True
    except ImportError:
        has_tensorboard = False
    config = ToyConfig(steps=steps, chunk_size=chunk_size, log_every=log_every, progress=False, plot=False)
    gan = build_gan(config)
    keys = run_keys(config.seed, config.seeds)
    data, states = make_data(keys, config.n_samples), make_states(gan, keys)
    train_step = jaxgan.build_train_step(gan, contiguous_batches(config.batch_size))
    loop, kernel_runner = choose_loop(config, states, data, 1)
    runners, compiled = {}, {}

    def chunk_runner(n):  # one jitted loop per length, compiled once for every fit below
        if n not in runners:
            runners[n] = kernel_runner(n) if kernel_runner else jaxgan.make_chunk_runner(
                train_step, n, vmapped=True, vmap_data=True, donate=True)  # fmt: skip
        return runners[n]

    def compile_once(jitted, state, data):
        if id(jitted) not in compiled:
            compiled[id(jitted)] = compile_loop(jitted, state, data)
        return compiled[id(jitted)]

    def one_fit(variant: str, tmp: Path) -> tuple[float, float]:
        callback, inside = None, [0.0]
        log = None
        if variant != "none":
            tb = tmp / "tb" if variant == "tensorboard" else None
            log = RunLog(tmp, every=log_every, tensorboard=tb, hparams=dataclasses.asdict(config))
            log_chunk = log.callback(learning_rates={"lr": learning_rate_of(step_size(config))})

            def callback(step, state, metrics):
                t0 = time.perf_counter()
                log_chunk(step, state, metrics)
                inside[0] += time.perf_counter() - t0

        result = jaxgan.fit(train_step, states, data, steps, chunk_size=chunk_size, vmapped=True, vmap_data=True,
                            callback=callback, chunk_runner=chunk_runner, compile_fn=compile_once)  # fmt: skip
        if log is not None:
            log.close()
        return steps * config.seeds / result.train_seconds, inside[0]

    variants = _variants(has_tensorboard)
    speed = {v: [] for v in variants}
    inside = {v: [] for v in variants}
    with tempfile.TemporaryDirectory() as tmp:
        for v in variants:  # warm-up: compiles, opens files once
            one_fit(v, Path(tmp) / f"warm_{v}")
        for r in range(repeats):
            for v in variants if r % 2 == 0 else variants[::-1]:
                its, spent = one_fit(v, Path(tmp) / f"{v}_{r}")
                speed[v].append(its)
                inside[v].append(spent)
    base = statistics.median(speed["none"])
    rows = []
    for v in variants:
        med = statistics.median(speed[v])
        rows.append({
            "variant": v,
            "iterations_per_second_median": med,
            "iterations_per_second": speed[v],
            "slower_percent": 100.0 * (1.0 - med / base),
            # the same repeat's runs are adjacent in time: their ratio drifts less with the machine's load
            "paired_slower_percent_median": statistics.median(
                100.0 * (1.0 - a / b) for a, b in zip(speed[v], speed["none"])),
            "callback_ms_median": 1e3 * statistics.median(inside[v]),
            "callback_percent_of_train_time": 100.0 * statistics.median(inside[v]) * med / (steps * config.seeds),
        })  # fmt: skip
    return {
        "what": "the toy GAN's default run with and without the run's log (experiments.bench.logging_cost)",
        "device": device_description(),
        "jax": jax.__version__,
        "loop": loop,
        "steps": steps,
        "chunk_size": chunk_size,
        "log_every": log_every,
        "repeats": repeats,
        "rows": rows,
    }


def main(argv=None) -> int:
    """Parses the command line, measures, prints the JSON (and writes it with ``--json``)."""
    from experiments.toy_gan import ToyConfig

    d = ToyConfig()
    p = argparse.ArgumentParser(prog="python -m experiments.bench.logging_cost", description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=30, help="timed runs per variant (default 30)")
    p.add_argument("--log-every", type=int, default=d.log_every, help=f"the log's interval (default {d.log_every})")
    p.add_argument("--steps", type=int, default=d.steps, help=f"iterations per run (default {d.steps})")
    p.add_argument("--chunk-size", type=int, default=d.chunk_size, help=f"iterations per chunk (default {d.chunk_size})")
    p.add_argument("--quick", action="store_true", help="3 repeats of 200 iterations: a smoke run")
    p.add_argument("--json", default=None, metavar="PATH", help="also write the JSON to PATH")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats, args.steps, args.chunk_size = 3, 200, 100
    report = measure(args.repeats, args.log_every, args.steps, args.chunk_size)
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
