"""What one trip of a workload's compiled training loop launches, counted in XLA's own program.

The toy GAN's ``lax.scan`` loop is bound by launches, not arithmetic: each kernel costs ~1 us on a
GPU and ~0.2 us of dispatch on XLA:CPU, and a toy iteration is a few dozen of them. This prints the
operations of the compiled ``while`` body (the loop ``make_chunk_runner`` builds), grouped by kind:
fusions by fusion kind, library calls (``custom-call``: cuBLAS, cuDNN, YNNPACK) by target, and the
rest by opcode. Bookkeeping that runs no kernel (``parameter``, ``tuple``, ``get-tuple-element``,
``bitcast``, ``constant``) is left out. On a GPU, XLA replays runs of these kernels as CUDA graphs
("command buffers") that it forms below the HLO, so the graphs do not show here; the kernels they
launch do.

    python -m experiments.bench.loop_kernels                    # the toy, one seed
    python -m experiments.bench.loop_kernels --seeds 64 --show  # 64 seeds under vmap, every op

It compiles for the default backend (``JAX_PLATFORMS=cpu`` for the CPU's program on a GPU machine).
The count is of XLA's usual program; where ``jaxgan.fit`` compiles the loop as one kernel instead
(a small loop on CPU, :mod:`jaxgan.speedups.cpu_loops`), it says so.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
from pathlib import Path

__all__ = ["computation_body", "loop_body_ops", "count_kinds", "main"]

NO_KERNEL = frozenset({"parameter", "tuple", "get-tuple-element", "bitcast", "constant"})


def computation_body(hlo_text: str, name: str) -> str:
    """The instructions of computation ``name`` (with its leading ``%``) in ``hlo_text``."""
    match = re.search(r"^(?:ENTRY )?" + re.escape(name) + r" [^\n]*\{\n", hlo_text, flags=re.M)
    if match is None:
        raise ValueError(f"computation {name} not found in the HLO text")
    end = hlo_text.index("\n}", match.end() - 1)
    return hlo_text[match.end():end]


def _op(line: str) -> tuple[str, str]:
    """``(kind, name)`` of one instruction line: ``fusion:<kind>``, ``custom-call:<target>`` or the opcode."""
    lhs, rhs = line.split(" = ", 1)
    found = re.search(r"\s([a-z][a-z0-9\-]*)\(", " " + rhs)
    op = found.group(1) if found else "?"
    if op == "fusion":
        kind = re.search(r"kind=(\w+)", line)
        op = "fusion:" + (kind.group(1) if kind else "?")
    elif op == "custom-call":
        target = re.search(r'custom_call_target="([^"]+)"', line)
        op = "custom-call:" + (target.group(1) if target else "?")
    return op, lhs.strip().removeprefix("ROOT ").strip()


def loop_body_ops(hlo_text: str) -> list[tuple[str, str]]:
    """The kernel-running operations ``(kind, name)`` of the body of the ``while`` loop that the
    module's entry computation runs (the training loop, not a loop nested in it, such as the
    Threefry hash's on CPU, which counts as one ``while``)."""
    entry = re.search(r"^ENTRY (%[\w.\-]+) ", hlo_text, flags=re.M)
    loop = entry and re.search(r"while\([^\n]*?body=(%[\w.\-]+)", computation_body(hlo_text, entry.group(1)))
    if not loop:
        raise ValueError("no while loop in the compiled program's entry computation")
    ops = [_op(line) for line in computation_body(hlo_text, loop.group(1)).splitlines() if " = " in line]
    return [(op, name) for op, name in ops if op not in NO_KERNEL]


def count_kinds(ops) -> dict[str, int]:
    """Operations per kind, most frequent first."""
    return dict(collections.Counter(op for op, _ in ops).most_common())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.bench.loop_kernels", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", default="toy", choices=("toy", "mixture"))
    parser.add_argument("--seeds", type=int, default=0, help="train this many seeds under vmap (0: one, no vmap)")
    parser.add_argument("--unroll", type=int, default=1, help="lax.scan unroll (the body then holds that many steps)")
    parser.add_argument("--show", action="store_true", help="list every operation of the body")
    parser.add_argument("--out", default=None, help="write <out>/loop_kernels.json")
    args = parser.parse_args(argv)

    import jax

    import jaxgan
    from jaxgan.speedups.cpu_loops import compile_loop, is_single_kernel
    from experiments.bench import workloads
    from experiments.bench.config import REFERENCE
    from experiments.runner import device_description

    sizes = dict(REFERENCE[args.workload], seeds=args.seeds)
    workload = getattr(workloads, args.workload)(sizes)
    step = jaxgan.build_train_step(workload.gan, workload.batch_fn)
    if args.seeds:
        keys = jax.random.split(workload.key, args.seeds)
        state = jaxgan.init_states(lambda k: jaxgan.init_state(workload.gan, k), keys)
    else:
        state = workload.init_state()
    runner = jaxgan.make_chunk_runner(step, 100, vmapped=bool(args.seeds), unroll=args.unroll, donate=True)
    fit_program = compile_loop(runner, state, workload.data)  # what jaxgan.fit would run
    one_kernel = is_single_kernel(fit_program)
    usual = runner.lower(state, workload.data).compile() if one_kernel else fit_program
    ops = loop_body_ops(usual.as_text())
    kinds = count_kinds(ops)
    report = {"workload": args.workload, "seeds": args.seeds, "unroll": args.unroll,
              "device": device_description(), "kernels_per_trip": len(ops), "by_kind": kinds,
              "fit_compiles_one_kernel": one_kernel}
    print(f"{args.workload} (seeds {args.seeds or 1}, unroll {args.unroll}) on {report['device']}: "
          f"{len(ops)} kernel-running operations per loop trip"
          + ("; jaxgan.fit compiles the whole loop as one kernel instead (jaxgan.speedups.cpu_loops)" if one_kernel else ""))
    for kind, n in kinds.items():
        print(f"  {n:4d}  {kind}")
    if args.show:
        for op, name in ops:
            print(f"    {op:32s} {name}")
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "loop_kernels.json").write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    from experiments.runner import run_cli

    raise SystemExit(run_cli("python -m experiments.bench.loop_kernels", main))
