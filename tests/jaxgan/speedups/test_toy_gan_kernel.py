"""The toy GAN's loop as one Pallas kernel (jaxgan.speedups.toy_gan_kernel) computes the library's scan loop.

On a CPU the kernel runs in Pallas's interpreter (the same kernel code, executed by XLA:CPU); on a
GPU the tests run the Triton-compiled kernel. The lowering test checks, without a GPU, that the
kernel lowers to one Triton call for CUDA.
"""

import unittest.mock

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxgan
from experiments.toy_gan import ToyConfig, build_gan
from jaxgan.data import affine_gaussian, contiguous_batches
from jaxgan.speedups.kernel_random import normal, split
from jaxgan.speedups.toy_gan_kernel import METRICS, AdamSettings, make_toy_gan_loop

ON_GPU = jax.default_backend() == "gpu"
BATCH = 32


def _setup(runs=None, lr=0.01):
    gan = build_gan(ToyConfig(batch_size=BATCH, lr=lr))
    key = jax.random.PRNGKey(7)
    data = affine_gaussian(jax.random.fold_in(key, 0), 3200)
    if runs is None:
        state = jaxgan.init_state(gan, jax.random.fold_in(key, 1))
    else:
        state = jaxgan.init_states(lambda k: jaxgan.init_state(gan, k), jax.random.split(key, runs))
    return gan, state, data


def _copy(tree):
    return jax.tree.map(jnp.copy, tree)


def _assert_same_training(ref_state, ref_metrics, state, metrics):
    leaves_ref = jax.tree_util.tree_leaves_with_path(ref_state)
    leaves = jax.tree.leaves(state)
    assert jax.tree.structure(ref_state) == jax.tree.structure(state)
    for (path, a), b in zip(leaves_ref, leaves):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype, jax.tree_util.keystr(path)
        if a.dtype.kind == "f":  # float32 rounding: the products sum in another order
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6, err_msg=jax.tree_util.keystr(path))
        else:  # counts, step and the PRNG key: exact
            np.testing.assert_array_equal(b, a, err_msg=jax.tree_util.keystr(path))
    assert set(metrics) == set(METRICS) <= set(ref_metrics)
    for name in METRICS:
        np.testing.assert_allclose(np.asarray(metrics[name]), np.asarray(ref_metrics[name]), rtol=1e-5, atol=1e-6,
                                   err_msg=name)


def test_threefry_split_and_normal_are_jax_randoms():
    for seed in range(4):
        key = jax.random.PRNGKey(seed)
        new, sub = jax.random.split(key)
        (a, b), (c, d) = split(key[0], key[1])
        np.testing.assert_array_equal(np.array([a, b]), np.asarray(new))
        np.testing.assert_array_equal(np.array([c, d]), np.asarray(sub))
        np.testing.assert_array_equal(np.asarray(normal(c, d, (BATCH, 2))),
                                      np.asarray(jax.random.normal(sub, (BATCH, 2))))


def test_kernel_trains_as_the_scan_loop():
    lr = 0.003  # not the default: the kernel is told the GAN's Adam settings
    gan, state, data = _setup(lr=lr)
    steps = 12
    runner = jaxgan.make_chunk_runner(jaxgan.build_train_step(gan, contiguous_batches(BATCH)), steps)
    ref_state, ref_metrics = runner(_copy(state), data)
    kernel = make_toy_gan_loop(steps, batch_size=BATCH, adam=AdamSettings(lr=lr), interpret=not ON_GPU)
    new_state, metrics = kernel(_copy(state), data)
    assert metrics["d_loss"].shape == (steps,)
    _assert_same_training(ref_state, ref_metrics, new_state, metrics)
    # and it trained: the parameters moved
    assert not np.allclose(new_state.g.params["linear"]["kernel"], state.g.params["linear"]["kernel"])


def test_kernel_trains_a_deeper_d_with_other_widths():
    """D = 2-24-12-6-2 (padded to 32, 16, 8 inside the kernel): the same training as the scan loop."""
    import dataclasses

    from jaxgan.models.mlp import MLP

    gan, state, data = _setup()
    gan = dataclasses.replace(gan, discriminator=jaxgan.from_linen(MLP(hidden=(24, 12, 6), out=2)))
    state = jaxgan.init_state(gan, jax.random.PRNGKey(3))
    runner = jaxgan.make_chunk_runner(jaxgan.build_train_step(gan, contiguous_batches(BATCH)), 8)
    ref_state, ref_metrics = runner(_copy(state), data)
    new_state, metrics = make_toy_gan_loop(8, batch_size=BATCH, interpret=not ON_GPU)(_copy(state), data)
    _assert_same_training(ref_state, ref_metrics, new_state, metrics)


def test_kernel_continues_where_it_stopped():
    """Two calls of 6 iterations = the scan's 12: the batches follow ``step``, the noise the key."""
    gan, state, data = _setup()
    runner = jaxgan.make_chunk_runner(jaxgan.build_train_step(gan, contiguous_batches(BATCH)), 12)
    ref_state, ref_metrics = runner(_copy(state), data)
    kernel = make_toy_gan_loop(6, batch_size=BATCH, interpret=not ON_GPU)
    mid, first = kernel(_copy(state), data)
    end, second = kernel(mid, data)
    metrics = {k: jnp.concatenate([first[k], second[k]]) for k in METRICS}
    _assert_same_training(ref_state, ref_metrics, end, metrics)


@pytest.mark.parametrize("own_data", [False, True])
def test_vmapped_kernel_trains_each_run_as_the_vmapped_scan(own_data):
    """3 runs under vmap, on shared data or each on its own (``vmap_data``, as experiments.toy_gan)."""
    gan, states, data = _setup(runs=3)
    if own_data:
        data = jax.vmap(lambda k: affine_gaussian(k, 3200))(jax.random.split(jax.random.PRNGKey(11), 3))
    steps = 5
    step = jaxgan.build_train_step(gan, contiguous_batches(BATCH))
    runner = jaxgan.make_chunk_runner(step, steps, vmapped=True, vmap_data=own_data)
    ref_state, ref_metrics = runner(_copy(states), data)
    kernel = make_toy_gan_loop(steps, batch_size=BATCH, vmapped=True, vmap_data=own_data, interpret=not ON_GPU)
    new_state, metrics = kernel(_copy(states), data)
    assert metrics["g_loss"].shape == (3, steps)
    _assert_same_training(ref_state, ref_metrics, new_state, metrics)


def test_lowers_to_one_triton_kernel_for_cuda_without_a_gpu():
    _, state, data = _setup()
    _, states, _ = _setup(runs=64)
    for run_state, vmapped in ((state, False), (states, True)):
        with unittest.mock.patch.object(jax, "default_backend", return_value="gpu"):  # build the compiled form
            runner = make_toy_gan_loop(100, batch_size=BATCH, vmapped=vmapped)
        text = runner.trace(run_state, data).lower(lowering_platforms=("cuda",)).as_text()
        assert text.count("xla.gpu.triton") == 1  # the whole loop, every run: one kernel
        assert f"grid_x = {64 if vmapped else 1} : i32" in text  # one program per run


def test_refuses_what_it_does_not_compute():
    gan, state, data = _setup()
    with pytest.raises(ValueError, match="not a power of two"):
        make_toy_gan_loop(2, batch_size=24, interpret=True)(_copy(state), data)
    with pytest.raises(ValueError, match="not whole batches"):
        make_toy_gan_loop(2, batch_size=BATCH, interpret=True)(_copy(state), data[:3184 + 8])
    stable = build_gan(ToyConfig(batch_size=BATCH, recipe="stable"))  # Adam with a decaying step size (and R1)
    with pytest.raises(ValueError, match="step-size schedule"):
        make_toy_gan_loop(2, batch_size=BATCH, interpret=True)(jaxgan.init_state(stable, jax.random.PRNGKey(0)), data)
    if not ON_GPU:
        with pytest.raises(ValueError, match="interpret=True"):
            make_toy_gan_loop(2, batch_size=BATCH)


def test_refuses_other_networks():
    from experiments.mixture_gan import build_gan as build_mixture_gan
    from experiments.mixture_gan import default_recipe

    gan = build_mixture_gan(default_recipe("ring"))
    state = jaxgan.init_state(gan, jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="G is not one linear layer"):
        make_toy_gan_loop(2, batch_size=BATCH, interpret=True)(state, jnp.zeros((64, 2)))
