"""Small training loops compiled as one XLA:CPU kernel (jaxgan.speedups.cpu_loops)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import numpy as np
import pytest

import jaxgan
from jaxgan.speedups import cpu_loops
from jaxgan.speedups.cpu_loops import compile_loop

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="compares XLA:CPU's compile options (failed on an H200)")
def test_no_threshold_in_the_flags_means_the_usual_compilation(monkeypatch):
    """Without the backend option (this test process starts JAX without it), ``compile_loop`` is
    ``lower().compile()``: the same program (its products in YNNPACK, which the one-kernel
    compilation turns off), the same results."""
    monkeypatch.setenv("XLA_FLAGS", "")
    assert cpu_loops.single_kernel_loop_bytes() == 0
    runner = jax.jit(lambda x, w: jax.lax.scan(lambda c, _: (jax.numpy.tanh(c @ w), c), x, None, length=7))
    x, w = jax.numpy.ones((4, 8)), jax.numpy.eye(8) * 0.5
    usual = runner.lower(x, w).compile()
    compiled = cpu_loops.compile_loop(runner, x, w)
    assert compiled.as_text() == usual.as_text()
    assert runner.lower(x, w).compile(compiler_options=cpu_loops._OWN_PRODUCTS).as_text() != usual.as_text()
    np.testing.assert_array_equal(compiled(x, w)[0], usual(x, w)[0])


def test_allowing_changes_nothing_once_jax_has_started(monkeypatch):
    """The flags are read when JAX starts its backends (this process has): too late, nothing is set.
    A user's own backend options stand, and say whether they allow the size asked for."""
    jax.devices()
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_enable_fast_math=false")
    assert cpu_loops.allow_single_kernel_loops() is False
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_enable_fast_math=false"
    mine = "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=4096"
    monkeypatch.setenv("XLA_FLAGS", mine)
    assert cpu_loops.single_kernel_loop_bytes() == 4096
    assert cpu_loops.allow_single_kernel_loops(4096) is True
    assert cpu_loops.allow_single_kernel_loops(2**20) is False
    assert os.environ["XLA_FLAGS"] == mine


CHILD = textwrap.dedent(
    """
    import json, sys
    from jaxgan.speedups import cpu_loops
    allowed = cpu_loops.allow_single_kernel_loops()   # before JAX starts: the flag is set
    import jax, numpy as np
    import jaxgan
    from jaxgan.speedups.rng_lowering import unroll_threefry_on_cpu
    unroll_threefry_on_cpu()
    from experiments.bench import workloads

    report = {"allowed": allowed}
    for seeds in (0, 8):
        w = workloads.toy({"batch_size": 32, "seeds": seeds})
        step = jaxgan.build_train_step(w.gan, w.batch_fn)
        init = lambda: (jaxgan.init_states(lambda k: jaxgan.init_state(w.gan, k), jax.random.split(w.key, seeds))
                        if seeds else w.init_state())
        runner = jaxgan.make_chunk_runner(step, 40, vmapped=bool(seeds))
        one = cpu_loops.compile_loop(runner, init(), w.data)
        usual = runner.lower(init(), w.data).compile()
        a, b = one(init(), w.data)[0], usual(init(), w.data)[0]
        diffs = [float(np.max(np.abs(x - y))) for x, y in zip(jax.tree.leaves(a.g.params) + jax.tree.leaves(a.d.params),
                                                                jax.tree.leaves(b.g.params) + jax.tree.leaves(b.d.params))]
        report[str(seeds)] = {"one_kernel": "xla_cpu_small_call" in one.as_text(), "max_diff": max(diffs)}
    print(json.dumps(report))
    """
)


def test_the_toy_loop_is_one_kernel_with_the_usual_results_and_64_seeds_are_not():
    """In a fresh process that allows it, the toy's loop (one seed) compiles as one kernel and 40
    iterations end with the parameters of the usual program (to rounding: XLA's products instead of
    YNNPACK's); the same toy under vmap over 8 seeds is past the threshold and compiled as usual,
    bit for bit."""
    env = dict(os.environ, XLA_FLAGS="", JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["allowed"] is True
    assert report["0"]["one_kernel"] is True
    assert report["0"]["max_diff"] < 1e-5
    assert report["8"]["one_kernel"] is False
    assert report["8"]["max_diff"] == 0.0


def test_fit_compiles_through_the_given_compile_fn():
    """``jaxgan.fit`` compiles every chunk length once with ``compile_fn`` (the experiments pass
    ``compile_loop``, so they get one-kernel loops where allowed)."""
    calls = []

    def counting(jitted, *args):
        calls.append(jitted)
        return compile_loop(jitted, *args)

    step = lambda s, d: (s + d, {"loss": s})
    out = jaxgan.fit(step, jax.numpy.float32(0.0), jax.numpy.float32(1.0), 7, chunk_size=5, compile_fn=counting)
    assert float(out.state) == 7.0 and len(calls) == 2  # chunks of 5 and 2
