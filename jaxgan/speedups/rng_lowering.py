"""JAX's Threefry hash as straight-line code on CPU: the same random bits, fewer dispatches per step.

Every ``jax.random`` draw (``split``, ``normal``, ...) hashes counters with Threefry-2x32: 20
rounds of add / rotate / xor in 5 groups of 4. On GPU and TPU JAX emits the 20 rounds as straight
code. On CPU it emits them as a 5-trip loop (``use_rolled_loops=True`` in
``jax/_src/random/threefry2x32.py``, to compile faster), and XLA:CPU runs each trip of a loop as
separate dispatches (a condition and a body of several kernels). In a training step of small
networks, the lecture's toy GAN, every iteration draws twice (the key split and the noise ``z``), so
the loops are 10 trips of dispatch overhead per iteration, a large share of an iteration whose
arithmetic is tiny.

:func:`unroll_threefry_on_cpu` registers JAX's own straight-line lowering (the one it uses on GPU)
for the CPU platform. It is the same function of the same inputs: the bits do not change (the
tests check it). What changes is the compiled program: no loop for the hash, a little more code to
compile per random draw. It affects every program lowered for CPU afterwards in the process (a
registry entry of JAX, not a setting of one function), so it is a call the program's entry point
makes, not something ``import jaxgan`` does: the experiments and the benchmark call it at start-up.
It uses JAX internals; if they are not where this JAX version keeps them, it changes nothing and
returns ``False``. ``docs/performance.md`` explains the form and ``docs/results.md`` has its numbers.
"""

from __future__ import annotations

from jaxgan.speedups.jax_internals import lookup

__all__ = ["unroll_threefry_on_cpu"]


def unroll_threefry_on_cpu(enable: bool = True) -> bool:
    """Lowers Threefry-2x32 on CPU as straight-line code, or as JAX's 5-trip loop again.

    Process-wide: every program lowered for CPU afterwards uses it; programs already compiled keep
    their lowering.

    Args:
      enable: ``True`` for the straight-line lowering, ``False`` for JAX's own CPU lowering.

    Returns:
      Whether the lowering could be registered; ``False`` (with one
      :class:`~jaxgan.speedups.jax_internals.PrivateAPIWarning`) where this JAX keeps its Threefry
      lowering elsewhere, and nothing was changed.
    """
    name = "_threefry2x32_lowering_rule" if enable else "_threefry2x32_cpu_lowering_rule"
    threefry = lookup("random.threefry2x32", "threefry2x32_p", name)
    mlir = lookup("interpreters.mlir", "register_lowering")
    if threefry is None or mlir is None:
        return False
    (primitive, rule), (register_lowering,) = threefry, mlir
    register_lowering(primitive, rule, platform="cpu")
    return True
