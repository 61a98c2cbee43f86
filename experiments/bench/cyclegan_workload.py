"""The CycleGAN workload on the JAX side: the same variants as a GAN workload's
(:mod:`experiments.bench.jax_workloads`), built from :mod:`jaxgan.cyclegan`'s steps."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp

import jaxgan
from jaxgan.state import take_key

from experiments.bench.jax_workloads import (
    CompiledVariant,
    GanWorkload,
    StateBox,
    timed_compile,
    timed_compile_counting_flops,
)

__all__ = ["CycleGANWorkload"]


@dataclasses.dataclass(frozen=True)
class CycleGANWorkload:
    """CycleGAN on the JAX side (:mod:`jaxgan.cyclegan`): one iteration = the generator step of both
    translators, then the discriminator step of both discriminators (through their image pools).

    ``data = (images_a, images_b)``; ``batch_fn(data, key, index) -> (real_a, real_b)``. Variants:
    ``steps`` (jitted ``build_generator_step`` and ``build_discriminator_step`` from a Python loop, a
    jitted ``prepare`` drawing the batches as ``build_train_step`` does), ``fused``
    (``build_train_step`` jitted, state donated) and ``scan`` (``make_chunk_runner``).
    """

    name: str
    model: Any  # jaxgan.cyclegan.CycleGAN
    batch_fn: Callable
    data: Any
    batch_size: int
    image_shape: tuple
    key: jax.Array
    settings: dict
    images: bool = True
    seeds: int = 0

    device = GanWorkload.device
    device_kind = GanWorkload.device_kind
    describe = GanWorkload.describe

    @functools.cached_property
    def _state0(self):
        from jaxgan.cyclegan import init_cyclegan

        return jax.jit(lambda k: init_cyclegan(self.model, k, self.image_shape, self.image_shape))(self.key)

    def init_state(self):
        """A fresh copy of the initial state (initialised once, compiled: not op by op)."""
        return jax.tree.map(jnp.copy, self._state0)

    def variant_names(self) -> list[str]:
        return ["steps", "fused", "scan"]

    def train_step(self):
        """``step(state, data) -> (state, metrics)``: one iteration, G step then D step."""
        from jaxgan import cyclegan as cg

        return cg.build_train_step(self.model, self.batch_fn)

    def torch_arrays(self) -> dict:
        import numpy as np

        return {"data_a": np.asarray(self.data[0]), "data_b": np.asarray(self.data[1])}

    def compile_variant(self, name: str, chunk: int, unroll: int = 1,
                        compiler_options: Optional[dict] = None) -> CompiledVariant:
        from jaxgan import cyclegan as cg

        opts = compiler_options
        data, batch_fn = self.data, self.batch_fn
        train_step = self.train_step()
        box = StateBox(self.init_state())
        if name == "steps":
            g_step = cg.build_generator_step(self.model)
            d_step = cg.build_discriminator_step(self.model)

            def prepare(state, data):
                state, batch_key = take_key(state)
                real_a, real_b = batch_fn(data, batch_key, state.step)
                return state._replace(step=state.step + 1), real_a, real_b

            prepare_c, t_p = timed_compile(jax.jit(prepare, donate_argnums=0), box.state, data, options=opts)
            _, real_a, real_b = jax.eval_shape(prepare, box.state, data)
            g_jit = jax.jit(g_step, donate_argnums=0)
            g_c, t_g = timed_compile(g_jit, box.state, real_a, real_b, options=opts)
            _, (fake_a, fake_b), _ = jax.eval_shape(g_step, box.state, real_a, real_b)
            d_c, t_d = timed_compile(jax.jit(d_step, donate_argnums=0), box.state, real_a, real_b, fake_a, fake_b,
                                      options=opts)

            def run(n):
                state = box.state
                for _ in range(n):
                    state, real_a, real_b = prepare_c(state, data)
                    state, (fake_a, fake_b), _ = g_c(state, real_a, real_b)
                    state, _ = d_c(state, real_a, real_b, fake_a, fake_b)
                box.state = jax.block_until_ready(state)

            return CompiledVariant(name, t_p + t_g + t_d, run, 1, state=box.get)
        if name == "fused":
            step_c, t, flops = timed_compile_counting_flops(train_step, box.state, data, options=opts)
            return CompiledVariant(name, t, box.step_runner(step_c, data), 1, flops=flops, state=box.get)
        if name == "scan":
            runner = jaxgan.make_chunk_runner(train_step, chunk, unroll=unroll, compiler_options=opts, donate=True)
            runner_c, t = timed_compile(runner, box.state, data, loop=True)
            return CompiledVariant(name, t, box.chunk_runner(runner_c, data, chunk), chunk, state=box.get)
        raise ValueError(f"unknown variant {name!r} for workload {self.name!r}")
