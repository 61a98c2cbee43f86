"""Small training loops on CPU compiled as one kernel: the toy GAN's loop without per-kernel dispatch.

XLA:CPU runs a compiled program as a sequence of kernels and pays a fixed cost to dispatch each
one. The lecture's toy GAN runs about 90 kernels of tiny work per iteration, so its ``lax.scan``
loop is bound by that dispatch, not by arithmetic (``python -m experiments.bench.loop_kernels``
shows it). XLA has a pass for this case (``SmallWhileLoopHoistingPass``): a ``while`` loop that
accesses fewer bytes than a threshold and calls no library kernel is compiled into ONE kernel by
XLA's whole-computation emitter, with no dispatch inside. Two things keep a training loop from it
by default:

1. The threshold is 1 kB, a backend option that can be set only through ``XLA_FLAGS`` before the
   CPU backend starts. :func:`allow_single_kernel_loops` raises it to :data:`SMALL_LOOP_BYTES`.
   Like :func:`jaxgan.speedups.rng_lowering.unroll_threefry_on_cpu`, it is a process-wide choice
   that a program's entry point makes (the experiments do), not something ``import jaxgan`` does.
2. XLA:CPU hands matrix products to YNNPACK as library fusions, which the pass cannot take.
   :func:`compile_loop` compiles a loop that is small enough with YNNPACK's fusions off (a
   per-compilation option), keeps that program if XLA made the loop one kernel, and otherwise
   compiles the loop as usual. The experiments pass it to :func:`jaxgan.fit` as ``compile_fn``;
   the benchmark compiles its loops with it too.

The math is the same; the products are XLA's own code instead of YNNPACK's, so the rounding can
differ. The threshold keeps bigger loops as they are, because there one kernel on one core is
slower than XLA's usual kernels (many toy seeds under ``vmap``, the mixture's MLPs). ``docs/performance.md`` explains the form and ``docs/results.md`` has its numbers.
"""

from __future__ import annotations

import os
import re

from jaxgan.speedups.jax_internals import lookup

__all__ = ["SMALL_LOOP_BYTES", "allow_single_kernel_loops", "single_kernel_loop_bytes", "is_single_kernel",
           "compile_loop"]

# Bytes a loop may access (XLA's cost analysis) to be compiled as one kernel. The toy GAN's loop at
# batch 32 accesses about 0.5 MB before optimisation and fits; 64 seeds of it under vmap, about
# 33 MB, stay multi-threaded kernels, which run them faster.
SMALL_LOOP_BYTES = 2**20

_THRESHOLD_OPTION = "xla_cpu_small_while_loop_byte_threshold"
# Per-compilation: no YNNPACK fusions, so that products stay XLA's own and the loop can be one kernel.
_OWN_PRODUCTS = {"xla_cpu_experimental_ynn_fusion_type": ""}


def single_kernel_loop_bytes() -> int:
    """Reads the byte threshold for one-kernel loops from ``XLA_FLAGS``.

    Returns:
      The threshold that ``XLA_FLAGS`` sets, or 0 where it sets none (XLA's default of 1 kB then
      applies, too small for a training loop).
    """
    found = re.search(_THRESHOLD_OPTION + r"=(\d+)", os.environ.get("XLA_FLAGS", ""))
    return int(found.group(1)) if found else 0


def allow_single_kernel_loops(max_bytes: int = SMALL_LOOP_BYTES) -> bool:
    """Lets XLA:CPU compile loops that access fewer than ``max_bytes`` as one kernel.

    Adds the backend option to ``XLA_FLAGS``, which JAX reads when it starts its backends, so call
    it at a program's entry point before anything touches a device. Nothing is changed once JAX has
    started its backends, where this JAX cannot say whether it has (one
    :class:`~jaxgan.speedups.jax_internals.PrivateAPIWarning`), or where ``XLA_FLAGS`` already sets
    backend options (the user's own choice stands).

    Args:
      max_bytes: the most bytes a loop may access to be compiled as one kernel.

    Returns:
      Whether loops of ``max_bytes`` are now allowed as one kernel: ``True`` where the option was
      added, or where the user's own ``XLA_FLAGS`` allows at least ``max_bytes``; ``False``
      otherwise.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_backend_extra_options" in flags:
        return single_kernel_loop_bytes() >= max_bytes
    found = lookup("xla_bridge", "backends_are_initialized")
    if found is None or found[0]():  # no way to tell whether the flags are still read: leave them
        return False
    os.environ["XLA_FLAGS"] = f"{flags} --xla_backend_extra_options={_THRESHOLD_OPTION}={max_bytes}".strip()
    return True


def _bytes_accessed(lowered) -> float:
    try:
        analysis = lowered.cost_analysis()  # GPU and TPU plugins raise: no one-kernel loops there
    except Exception:  # noqa: BLE001
        return float("inf")
    return float((analysis or {}).get("bytes accessed", float("inf")))


def is_single_kernel(compiled) -> bool:
    """Tells whether XLA:CPU compiled a program's loop as one kernel.

    Args:
      compiled: a compiled program (``jitted.lower(...).compile()``).

    Returns:
      ``True`` where its text holds a call marked ``xla_cpu_small_call``.
    """
    return "xla_cpu_small_call" in compiled.as_text()


def compile_loop(jitted, *args):
    """Compiles ``jitted`` for ``args``, as one kernel where XLA:CPU can make its loop one.

    When one-kernel loops are allowed (:func:`allow_single_kernel_loops`) and the program accesses
    no more bytes than that threshold, it is compiled without YNNPACK's fusions; if XLA then made its
    loop one kernel (:func:`is_single_kernel`), that program is returned. Otherwise, and on other
    backends, the usual compilation is. The signature is :func:`jaxgan.fit`'s ``compile_fn``.

    Args:
      jitted: a ``jax.jit``-wrapped function (e.g. a chunk runner of :func:`jaxgan.make_chunk_runner`).
      *args: the arguments to lower it for.

    Returns:
      The compiled program, as ``jitted.lower(*args).compile()`` returns it.
    """
    lowered = jitted.lower(*args)
    threshold = single_kernel_loop_bytes()
    if threshold and _bytes_accessed(lowered) <= threshold:
        compiled = lowered.compile(compiler_options=_OWN_PRODUCTS)
        if is_single_kernel(compiled):
            return compiled
    return lowered.compile()
