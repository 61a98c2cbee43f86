"""The toy GAN's loop as one kernel (:mod:`jaxgan.speedups.toy_gan_kernel`) against the library's ``scan`` loop.

For a GPU: checks on the device that the kernel trains as the ``scan`` loop does (the state's
largest difference after ``--check`` iterations from the same states, for the first ``--seeds``),
then times both, for one run and under
``vmap`` over each ``--seeds``, the kernel at each ``--warps`` (Triton warps per program), all in one
process. Prints one table; ``--out DIR`` writes ``DIR/toy_kernel.json``.

    python -m experiments.bench.toy_kernel                         # 1 and 64 runs, warps 4 and 8
    python -m experiments.bench.toy_kernel --seeds 64,512 --warps 1,2,4,8 --length 1000

Off a GPU it runs the kernel in Pallas's interpreter (``--interpret`` is implied): a check that the
script works, not a measurement.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["main"]


def _ints(text: str) -> list[int]:
    return [int(t) for t in text.split(",") if t.strip()]


def _run_differences(a, b, runs: int):
    """Per run, the largest difference of any float leaf of two states (``[runs]``)."""
    import jax
    import numpy as np

    out = np.zeros(runs)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        if x.size:
            out = np.maximum(out, np.abs(x - y).reshape(runs, -1).max(axis=1))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.bench.toy_kernel", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=_ints, default=[64], help="runs under vmap, comma-separated (besides one run)")
    parser.add_argument("--warps", type=_ints, default=[4, 8], help="Triton warps per program, comma-separated")
    parser.add_argument("--length", type=int, default=1000, help="iterations per call (the scan's chunk)")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls; the median is reported")
    parser.add_argument("--check", type=int, default=50,
                        help="iterations of the on-device equality check (a few runs' training is chaotic: over "
                             "~100 iterations float32 rounding alone grows to 1e-3 there, in the library's own loops)")
    parser.add_argument("--out", default=None, help="write <out>/toy_kernel.json")
    args = parser.parse_args(argv)

    import jax
    import numpy as np

    import jaxgan
    from experiments.bench.timing import time_runs
    from experiments.toy_gan import ToyConfig, build_gan
    from jaxgan.data import affine_gaussian, contiguous_batches
    from jaxgan.speedups.toy_gan_kernel import AdamSettings, make_toy_gan_loop

    interpret = jax.default_backend() != "gpu"
    config = ToyConfig()
    gan = build_gan(config)
    key = jax.random.PRNGKey(0)
    data = affine_gaussian(jax.random.fold_in(key, 0), config.n_samples)
    step = jaxgan.build_train_step(gan, contiguous_batches(config.batch_size))
    adam = AdamSettings(lr=config.lr)
    print(f"device {jax.devices()[0].device_kind}, jax {jax.__version__}" + (" (interpreted kernel)" if interpret else ""))

    def initial(runs):
        if runs == 1:
            return jaxgan.init_state(gan, key)
        return jaxgan.init_states(lambda k: jaxgan.init_state(gan, k), jax.random.split(key, runs))

    def kernel(length, runs, warps):
        return make_toy_gan_loop(length, batch_size=config.batch_size, adam=adam, vmapped=runs > 1,
                                 interpret=interpret, num_warps=warps)

    def scan(length, runs):
        return jaxgan.make_chunk_runner(step, length, vmapped=runs > 1, donate=True)

    runs = args.seeds[0] if args.seeds else 1  # one check (each Triton compile takes ~15 s)
    # The kernel's products are full float32; XLA:GPU's are TF32 by default, which alone moved the state
    # by 1e-2 (median over 64 runs, 50 iterations) on an H200 against 5.7e-6 with "highest".
    with jax.default_matmul_precision("highest"):
        ref, _ = scan(args.check, runs)(initial(runs), data)
    got, _ = kernel(args.check, runs, args.warps[0])(initial(runs), data)
    diff = _run_differences(ref, got, runs)
    check = dict(runs=runs, largest=float(diff.max()), median=float(np.median(diff)))
    print(f"check, {runs} run(s), {args.check} iterations: the state's largest difference from the scan loop's "
          f"{diff.max():.3g} (median over runs {np.median(diff):.3g})")

    rows = []
    for runs in [1, *args.seeds]:
        makers = [("scan", lambda: scan(args.length, runs))]
        makers += [(f"kernel, {w} warps", lambda w=w: kernel(args.length, runs, w)) for w in args.warps]
        for name, make in makers:
            box = [initial(runs)]
            try:
                compiled = make().lower(box[0], data).compile()
            except Exception as err:  # noqa: BLE001 - report and go on
                print(f"{runs} run(s), {name}: failed: {type(err).__name__}: {str(err)[:300]}")
                rows.append(dict(runs=runs, variant=name, status=f"failed: {type(err).__name__}"))
                continue

            def run(n, compiled=compiled, box=box):
                for _ in range(n // args.length):
                    box[0], metrics = compiled(box[0], data)
                jax.block_until_ready((box[0], metrics))

            timing = time_runs(run, args.length, args.repeats)
            its = timing.iterations_per_second * runs
            rows.append(dict(runs=runs, variant=name, iterations_per_second=its, spread=timing.spread))
            print(f"{runs:>4} run(s)  {name:<16} {its:>14,.0f} it/s in all  (spread {timing.spread:.2f})")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        result = dict(device=jax.devices()[0].device_kind, jax=jax.__version__, length=args.length,
                      check_iterations=args.check, check=check, rows=rows, interpreted=interpret)
        (out / "toy_kernel.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
