"""The jaxgan side of the benchmark: each workload built from the library's own pieces, and its variants.

A GAN workload is a :class:`jaxgan.GAN`, a batch function and the data it draws batches from. Its
variants do the same training iterations (one D step, then one G step on the same noise) in different
ways, all with the library's public functions:

* ``steps``: ``make_d_step`` and ``make_g_step`` (separately jitted, state donated) driven from a
  Python loop; a small jitted ``prepare`` draws each iteration's real batch and noise exactly as
  ``build_train_step`` does, so the three dispatches per iteration compute what ``fused`` computes,
  except that the G step runs G's forward pass again (the fused step shares it with the D step,
  :func:`jaxgan.build_d_then_g_step`).
* ``fused``: ``make_train_step`` (D step + G step in one compiled call) from a Python loop.
* ``scan``: ``make_chunk_runner`` (what ``fit`` runs): ``lax.scan`` over a chunk of iterations in one
  compiled call.
* ``vmapN_scan`` (toy, mixture): the same chunk runner under ``vmap`` over ``N`` independently seeded
  states; its throughput counts the iterations of all runs.
* ``kernel`` and ``vmapN_kernel`` (toy, float32, GPUs only): the same chunk as ONE Pallas kernel
  (:mod:`jaxgan.speedups.toy_gan_kernel`), for one run and under ``vmap`` over ``N``. Elsewhere the variants
  are not listed (Triton compiles for GPUs); asked for by name they run in Pallas's interpreter,
  which is how the CPU tests check them.

Every compiled function is built with ``.lower(...).compile()`` so its compilation is timed apart from
training, and the FLOPs of one iteration come from XLA's cost analysis of the fused step (XLA counts a
``scan`` body once, so the loop variants cannot be asked directly).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp

import jaxgan
from jaxgan.speedups.cpu_loops import compile_loop
from jaxgan.networks import Network
from jaxgan.state import take_key
from jaxgan.speedups.winograd import traced_as_direct

from experiments.bench.timing import traced_flops

__all__ = [
    "WorkloadUnavailable",
    "GanWorkload",
    "CompiledVariant",
    "mixed_precision",
    "gan_variant_names",
    "compile_gan_variant",
    "model_flops",
    "StateBox",
    "timed_compile",
    "timed_compile_counting_flops",
]
# The CycleGAN workload (its own variants) is in experiments.bench.cyclegan_workload.

PRECISIONS = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


class WorkloadUnavailable(Exception):
    """The workload's models are not in this checkout (or cannot be built): reported, not raised."""


@dataclasses.dataclass(frozen=True)
class GanWorkload:
    """One benchmark workload on the JAX side.

    Attributes:
      name: ``toy``, ``mixture``, ``dcgan``...
      gan: the :class:`jaxgan.GAN` (networks already at the benchmark's compute precision).
      batch_fn: ``batch_fn(data, key, index) -> real batch``.
      data: what ``batch_fn`` draws from (on the default device).
      batch_size: examples per D step.
      images: whether an example is an image (the table then reports images per second).
      seeds: runs under ``vmap`` for the ``vmapN_scan`` variant (0: no such variant).
      key: the PRNG key every state is initialised from.
      settings: what the workload is (sizes, reduced or not), for the table and results.json.
      loop_kernel: Adam's settings where the workload is the lecture's toy GAN in float32, which
        :mod:`jaxgan.speedups.toy_gan_kernel` can train as one kernel (the ``kernel`` variants); else ``None``.
    """

    name: str
    gan: jaxgan.GAN
    batch_fn: Callable
    data: Any
    batch_size: int
    images: bool
    seeds: int
    key: jax.Array
    settings: dict
    loop_kernel: Any = None

    @functools.cached_property
    def _state0(self):
        return jax.jit(lambda k: jaxgan.init_state(self.gan, k))(self.key)

    def init_state(self):
        """A fresh copy of the initial state (initialised once, compiled: not op by op)."""
        return jax.tree.map(jnp.copy, self._state0)

    @property
    def device(self) -> str:
        from experiments.runner import device_description

        return device_description()

    @property
    def device_kind(self) -> str:
        return jax.devices()[0].device_kind

    def describe(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in self.settings.items())

    def variant_names(self) -> list[str]:
        return gan_variant_names(self)

    def train_step(self):
        """``step(state, data) -> (state, metrics)``: one training iteration (every variant's work)."""
        return jaxgan.build_train_step(self.gan, self.batch_fn)

    def compile_variant(self, name: str, chunk: int, unroll: int = 1,
                        compiler_options: Optional[dict] = None) -> "CompiledVariant":
        return compile_gan_variant(self, name, chunk, unroll, compiler_options)

    def torch_arrays(self) -> dict:
        """The data as NumPy arrays for the PyTorch twin (images stay NHWC; the twin transposes)."""
        import numpy as np

        return {"data": np.asarray(self.data)}


class CompiledVariant(NamedTuple):
    """A variant ready to time: ``run(n)`` performs ``n`` iterations (a multiple of ``granule``) and
    blocks until the device is done; ``runs`` = independent runs trained at once (vmap)."""

    name: str
    compile_seconds: float
    run: Callable[[int], None]
    granule: int
    runs: int = 1
    flops: Optional[float] = None  # XLA's count for one iteration (set by the fused variant)
    state: Optional[Callable[[], Any]] = None  # the training state after the last run(n)


def mixed_precision(network: Network, dtype) -> Network:
    """``network`` computing in ``dtype`` while its parameters and statistics stay float32.

    ``apply`` casts the floating parameters and the input to ``dtype`` and casts the new statistics
    back to their stored dtypes; gradients flow through the casts, so they arrive in float32 and the
    optimizer state stays float32. Losses cast logits to float32 (``jaxgan.losses``). For modules
    without a ``dtype`` attribute of their own (the MLPs); ``dtype=float32`` returns ``network``.
    """
    if jnp.dtype(dtype) == jnp.float32:
        return network

    def cast(t):
        return t.astype(dtype) if jnp.issubdtype(t.dtype, jnp.floating) else t

    def apply(params, stats, x, train: bool = True):
        y, new_stats = network.apply(jax.tree.map(cast, params), stats, cast(x), train)
        new_stats = jax.tree.map(lambda new, old: new.astype(old.dtype), new_stats, stats)
        return y, new_stats

    return Network(init=network.init, apply=apply)


def _prepare_fn(workload: GanWorkload):
    """``prepare(state, data) -> (state, real, z)``: the key use of ``build_train_step`` (n_critic = 1)."""
    gan, batch_fn = workload.gan, workload.batch_fn

    def prepare(state, data):
        state, batch_key = take_key(state)
        real = batch_fn(data, batch_key, state.step * gan.n_critic)
        state, z = jaxgan.sample_noise(gan, state, real.shape[0])
        return state, real, z

    return prepare


def timed_compile(jitted, *args, loop: bool = False, options: Optional[dict] = None):
    """``(compiled, seconds)``; a training ``loop`` as ``jaxgan.fit`` compiles it
    (:func:`jaxgan.speedups.cpu_loops.compile_loop`: one kernel where XLA:CPU can make a small loop one).
    ``options``: XLA compiler options for this program alone (``DebugOptions`` fields, as
    ``lowered.compile(compiler_options=...)`` takes them); a loop gets them as ``fit`` does, from
    ``make_chunk_runner`` (``jax.jit``'s), which ``compile_loop`` keeps."""
    if loop and options:
        raise ValueError("a loop's XLA options go to make_chunk_runner(compiler_options=...)")
    t0 = time.perf_counter()
    compiled = compile_loop(jitted, *args) if loop else jitted.lower(*args).compile(compiler_options=options)
    return compiled, time.perf_counter() - t0


def timed_compile_counting_flops(fn, *args, donate_argnums=0, options: Optional[dict] = None):
    """``(compiled, seconds, flops)`` for ``jax.jit(fn, donate_argnums)``: the FLOPs of one call
    from the lowered program (:func:`experiments.bench.timing.traced_flops`), the model's count:
    traced again with every Winograd convolution as the direct one it computes
    (:func:`jaxgan.speedups.winograd.traced_as_direct`; the same program where there is none), so that
    GFLOP/s compare with PyTorch's work."""
    t0 = time.perf_counter()
    compiled = jax.jit(fn, donate_argnums=donate_argnums).lower(*args).compile(compiler_options=options)
    seconds = time.perf_counter() - t0
    return compiled, seconds, model_flops(fn, *args)


def model_flops(fn, *args) -> Optional[float]:
    """XLA's FLOPs of one call of ``fn(*args)``, every Winograd convolution counted as the direct one
    it computes (the benchmark's count; ``None`` where XLA gives none)."""
    with traced_as_direct():  # a new function object: no cached trace of fn
        return traced_flops(lambda *a: fn(*a), *args)


class StateBox:
    """Holds the current state between timed calls (every call donates it)."""

    def __init__(self, state):
        self.state = state

    def get(self):
        return self.state

    def step_runner(self, step_c, data) -> Callable[[int], None]:
        """``run(n)``: ``n`` calls of the compiled one-iteration ``step_c(state, data)``, state kept here."""
        def run(n):
            state = self.state
            for _ in range(n):
                state, _ = step_c(state, data)
            self.state = jax.block_until_ready(state)

        return run

    def chunk_runner(self, runner_c, data, chunk: int) -> Callable[[int], None]:
        """``run(n)``: ``n // chunk`` calls of the compiled ``chunk``-iteration loop ``runner_c(state, data)``."""
        def run(n):
            state = self.state
            metrics = None
            for _ in range(n // chunk):
                state, metrics = runner_c(state, data)
            self.state, _ = jax.block_until_ready((state, metrics))

        return run


def gan_variant_names(workload: GanWorkload) -> list[str]:
    names = ["steps", "fused", "scan"]
    if workload.seeds > 0:
        names.append(f"vmap{workload.seeds}_scan")
    if workload.loop_kernel is not None and jax.default_backend() == "gpu":
        names += ["kernel"] + ([f"vmap{workload.seeds}_kernel"] if workload.seeds > 0 else [])
    return names


def compile_gan_variant(workload: GanWorkload, name: str, chunk: int, unroll: int = 1,
                        compiler_options: Optional[dict] = None) -> CompiledVariant:
    """Builds and compiles variant ``name``; ``chunk`` is the scan length of the scan variants and
    ``unroll`` their ``lax.scan`` unroll; ``compiler_options`` are XLA's, for every program compiled
    (e.g. ``{"xla_gpu_enable_command_buffer": "FUSION,WHILE"}``, see :mod:`experiments.bench.xla_options`)."""
    data = workload.data
    opts = compiler_options
    if name == "steps":
        box = StateBox(workload.init_state())
        prepare = jax.jit(_prepare_fn(workload), donate_argnums=0)
        prepare_c, t_prep = timed_compile(prepare, box.state, data, options=opts)
        _, real, z = jax.eval_shape(_prepare_fn(workload), box.state, data)
        d_c, t_d = timed_compile(jaxgan.make_d_step(workload.gan, donate=True), box.state, real, z, options=opts)
        g_c, t_g = timed_compile(jaxgan.make_g_step(workload.gan, donate=True), box.state, z, options=opts)

        def run(n):
            state = box.state
            for _ in range(n):
                state, real, z = prepare_c(state, data)
                state, _ = d_c(state, real, z)
                state, _ = g_c(state, z)
            box.state = jax.block_until_ready(state)

        return CompiledVariant(name, t_prep + t_d + t_g, run, 1, state=box.get)

    if name == "fused":
        box = StateBox(workload.init_state())
        step_c, t, flops = timed_compile_counting_flops(
            workload.train_step(), box.state, data, options=opts)
        return CompiledVariant(name, t, box.step_runner(step_c, data), 1, flops=flops, state=box.get)

    train_step = workload.train_step()
    vmapped = workload.seeds > 0 and name in (f"vmap{workload.seeds}_scan", f"vmap{workload.seeds}_kernel")
    if vmapped:
        keys = jax.random.split(workload.key, workload.seeds)
        box = StateBox(jaxgan.init_states(lambda k: jaxgan.init_state(workload.gan, k), keys))
    else:
        box = StateBox(workload.init_state())
    runs = workload.seeds if vmapped else 1
    if name in ("scan", f"vmap{workload.seeds}_scan"):
        # the options as fit passes them (jit's), so that XLA:CPU can still make the loop one kernel
        runner = jaxgan.make_chunk_runner(train_step, chunk, vmapped=vmapped, unroll=unroll, compiler_options=opts, donate=True)
        runner_c, t = timed_compile(runner, box.state, data, loop=True)
    elif name in ("kernel", f"vmap{workload.seeds}_kernel") and workload.loop_kernel is not None:
        from jaxgan.speedups.toy_gan_kernel import make_toy_gan_loop

        runner = make_toy_gan_loop(chunk, batch_size=workload.batch_size, adam=workload.loop_kernel,
                                   vmapped=vmapped, interpret=jax.default_backend() != "gpu")
        runner_c, t = timed_compile(runner, box.state, data, options=opts)
    else:
        raise ValueError(f"unknown variant {name!r} for workload {workload.name!r}")
    return CompiledVariant(name, t, box.chunk_runner(runner_c, data, chunk), chunk, runs, state=box.get)


def scan_chunk(iterations_per_call: int, cap: int = 1000) -> int:
    """Scan length for the scan variants: about one timed call's iterations, at least 2, at most ``cap``
    (``fit``'s default chunk size)."""
    return int(max(2, min(cap, iterations_per_call)))


def round_up(n: int, granule: int) -> int:
    return granule * max(1, math.ceil(n / granule))
