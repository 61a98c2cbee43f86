"""The training loop (``jaxgan.fit``, ``make_chunk_runner``, ``init_states``): scan == a loop of jitted
steps, unrolled chunks, vmap == separate runs, the same seed gives the same bits, compile options."""

import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from jaxgan.data import contiguous_batches
from jaxgan.models.mlp import MLP, LinearGenerator
from tests.jaxgan.core_setup import BATCH, assert_trees_close, assert_trees_differ, assert_trees_equal, fresh_state


def python_loop(gan, data, steps, seed=0):
    """The reference loop: separately jitted steps, keys drawn exactly as the fused step does."""
    d_step, g_step = jaxgan.make_d_step(gan), jaxgan.make_g_step(gan)
    batch_fn = contiguous_batches(BATCH)
    state = fresh_state(gan, seed)
    for i in range(steps):
        real = batch_fn(data, None, jnp.asarray(i))  # contiguous slices: no key drawn
        state, z = jaxgan.sample_noise(gan, state, BATCH)
        state, _ = d_step(state, real, z)
        state, _ = g_step(state, z, real)
    return state


def test_scan_training_matches_python_loop_of_jitted_steps(gan, data):
    steps = 25
    looped = python_loop(gan, data, steps)
    result = jaxgan.fit(
        jaxgan.build_train_step(gan, contiguous_batches(BATCH)), fresh_state(gan), data, steps, chunk_size=10
    )
    assert result.steps_done == steps and not result.stopped_early
    assert result.metrics["d_loss"].shape == (steps,)
    assert_trees_close(result.state.g.params, looped.g.params, 1e-6)
    assert_trees_close(result.state.d.params, looped.d.params, 1e-6)
    np.testing.assert_array_equal(np.asarray(result.state.key), np.asarray(looped.key))
    assert_trees_differ(result.state.g.params, fresh_state(gan).g.params)


def test_unrolled_chunk_runner_does_the_same_steps(gan, data):
    """``make_chunk_runner(..., unroll=k)`` runs the same steps (10 steps, unrolled by 4: two full
    trips and a remainder) as the plain scan."""
    step = jaxgan.build_train_step(gan, contiguous_batches(BATCH))
    plain, plain_metrics = jaxgan.make_chunk_runner(step, 10)(fresh_state(gan), data)
    unrolled, unrolled_metrics = jaxgan.make_chunk_runner(step, 10, unroll=4)(fresh_state(gan), data)
    assert int(unrolled.step) == int(plain.step) == 10
    assert_trees_close(unrolled.g.params, plain.g.params, 1e-6)
    assert_trees_close(unrolled.d.opt_state, plain.d.opt_state, 1e-6)
    np.testing.assert_allclose(unrolled_metrics["d_loss"], plain_metrics["d_loss"], rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(unrolled.key), np.asarray(plain.key))


def test_vmap_over_seeds_matches_separate_runs(gan, data):
    steps, seeds = 20, 2
    keys = jax.random.split(jax.random.PRNGKey(7), seeds)
    train_step = jaxgan.build_train_step(gan, contiguous_batches(BATCH))
    states = jaxgan.init_states(lambda k: jaxgan.init_state(gan, k), keys)
    together = jaxgan.fit(train_step, states, data, steps, chunk_size=steps, vmapped=True)
    assert together.metrics["g_loss"].shape == (seeds, steps)
    for i in range(seeds):
        alone = jaxgan.fit(train_step, jaxgan.init_state(gan, keys[i]), data, steps, chunk_size=steps)
        one = jax.tree_util.tree_map(lambda x: x[i], together.state)
        assert_trees_close(one.g.params, alone.state.g.params, 1e-6)
        assert_trees_close(one.d.params, alone.state.d.params, 1e-6)


def test_vmap_over_learning_rates(data):
    """N learning rates of one model in one program, through optax.inject_hyperparams."""
    opt = optax.inject_hyperparams(optax.adam)(learning_rate=0.01)
    gan = jaxgan.GAN(
        jaxgan.from_linen(LinearGenerator(2)), jaxgan.from_linen(MLP((20, 10), 2)), opt, opt, (2,)
    )
    lrs = jnp.array([0.001, 0.01, 0.05])

    def init(lr):
        s = jaxgan.init_state(gan, jax.random.PRNGKey(0))
        set_lr = lambda o: o._replace(hyperparams={**o.hyperparams, "learning_rate": lr})
        return s._replace(g=s.g._replace(opt_state=set_lr(s.g.opt_state)), d=s.d._replace(opt_state=set_lr(s.d.opt_state)))

    states = jaxgan.init_states(init, lrs)
    out = jaxgan.fit(jaxgan.build_train_step(gan, contiguous_batches(BATCH)), states, data, 10, vmapped=True)
    start = jaxgan.init_state(gan, jax.random.PRNGKey(0)).g.params["linear"]["kernel"]
    moved = [float(jnp.abs(out.state.g.params["linear"]["kernel"][i] - start).max()) for i in range(3)]
    assert moved[0] < moved[1] < moved[2]


def test_same_seed_bit_identical_twice(gan, data):
    train_step = jaxgan.build_train_step(gan, contiguous_batches(BATCH))
    a = jaxgan.fit(train_step, fresh_state(gan, 3), data, 30, chunk_size=15)
    b = jaxgan.fit(train_step, fresh_state(gan, 3), data, 30, chunk_size=15)
    assert_trees_equal(a.state, b.state)
    c = jaxgan.fit(train_step, fresh_state(gan, 4), data, 30, chunk_size=15)
    assert_trees_differ(a.state.g.params, c.state.g.params)


def test_fit_compiles_its_loop_with_the_given_xla_options(gan, data):
    """``compiler_options`` reach the loop's compilation: an option XLA does not know fails there;
    GPU launch options (ignored by XLA:CPU) train bit for bit as without them."""
    train_step = jaxgan.build_train_step(gan, contiguous_batches(BATCH))
    with pytest.raises(Exception, match="No such compile option"):
        jaxgan.fit(train_step, fresh_state(gan, 3), data, 4, compiler_options={"xla_no_such_option": 1})
    plain = jaxgan.fit(train_step, fresh_state(gan, 3), data, 20, chunk_size=10)
    graphs = jaxgan.fit(train_step, fresh_state(gan, 3), data, 20, chunk_size=10,
                        compiler_options={"xla_gpu_enable_command_buffer": "FUSION,CUBLASLT,WHILE"})
    assert_trees_equal(plain.state, graphs.state)


def test_init_states_stacks_one_state_per_key():
    def init(key):
        return {"key": key, "params": jax.random.normal(key, (2,))}

    keys = jax.random.split(jax.random.PRNGKey(7), 3)
    states = jaxgan.init_states(init, keys)
    for run in range(3):
        assert_trees_equal(jax.tree_util.tree_map(lambda leaf: leaf[run], states), init(keys[run]))


def count_step(state, data):
    """A train step of a counter: ``state + data``, with the new value as its metric."""
    state = state + data
    return state, {"value": state}


def test_chunk_runner_defaults_one_run_no_unrolling_no_donation():
    """By default the loop trains one (unstacked) state, one step per loop trip, and leaves the
    caller's state valid."""
    state, data = jnp.zeros((), jnp.float32), jnp.float32(2.0)
    run = jaxgan.make_chunk_runner(count_step, 3)
    new, metrics = run(state, data)
    assert float(new) == 6.0 and metrics["value"].tolist() == [2.0, 4.0, 6.0]
    assert not state.is_deleted()
    assert run.lower(state, data).as_text() == jaxgan.make_chunk_runner(count_step, 3, unroll=1).lower(state, data).as_text()
    unrolled = jaxgan.make_chunk_runner(count_step, 4, unroll=2).lower(state, data).as_text()
    assert unrolled != jaxgan.make_chunk_runner(count_step, 4).lower(state, data).as_text()  # unroll reaches the loop


@pytest.mark.parametrize("vmap_data", [False, True])
def test_chunk_runner_vmapped_trains_each_stacked_run(vmap_data):
    states = jnp.array([0.0, 10.0], jnp.float32)
    data = jnp.array([1.0, 3.0], jnp.float32) if vmap_data else jnp.float32(1.0)
    options = {"vmap_data": True} if vmap_data else {}  # shared data is the default
    new, metrics = jaxgan.make_chunk_runner(count_step, 2, vmapped=True, **options)(states, data)
    steps = [1.0, 3.0] if vmap_data else [1.0, 1.0]
    assert new.tolist() == [0.0 + 2 * steps[0], 10.0 + 2 * steps[1]]
    assert metrics["value"].shape == (2, 2)


def test_progress_bar_only_when_enabled_with_the_given_total_and_label():
    from jaxgan.train import progress_bar

    assert progress_bar(10, False, "training") is None
    bar = progress_bar(10, True, "training")
    try:
        assert (bar.total, bar.desc, bar.unit, bar.leave) == (10, "training", "it", False)
        assert bar.dynamic_ncols  # it follows the terminal's width (tqdm keeps a function for it)
    finally:
        bar.close()


def test_fit_defaults_chunks_of_1000_no_progress_bar_and_the_callers_state_kept(capsys):
    state, data = jnp.zeros((), jnp.float32), jnp.float32(1.0)
    seen = []
    result = jaxgan.fit(count_step, state, data, 1001, callback=lambda done, s, m: seen.append((done, float(s))))
    assert seen == [(1000, 1000.0), (1001, 1001.0)] and result.steps_done == 1001
    assert not state.is_deleted()
    assert capsys.readouterr().err == ""


def test_fit_shows_a_progress_bar_labelled_training_when_asked(capsys):
    """The bar counts towards the run's steps (tqdm writes ``0/2``; without a total, ``0it``)."""
    jaxgan.fit(count_step, jnp.zeros((), jnp.float32), jnp.float32(1.0), 2, progress=True)
    err = capsys.readouterr().err
    assert "training" in err and "0/2" in err


def test_fit_donates_the_callers_state_only_when_asked():
    state = {"x": jnp.zeros((), jnp.float32), "scale": 2.0}  # a Python number among the leaves is kept as it is

    def step(state, data):
        return {"x": state["x"] + state["scale"] * data, "scale": state["scale"]}, {}

    kept = jaxgan.fit(step, state, jnp.float32(1.0), 1, chunk_size=1)
    assert float(kept.state["x"]) == 2.0 and not state["x"].is_deleted()
    jaxgan.fit(step, state, jnp.float32(1.0), 1, donate=True)
    assert state["x"].is_deleted()


@pytest.mark.parametrize("vmap_data", [False, True])
def test_fit_vmapped_trains_each_stacked_run(vmap_data):
    """Each run's metrics are a row, ``[runs, steps]`` (3 steps of 2 runs here, in chunks of 2 and 1)."""
    data = jnp.array([1.0, 3.0], jnp.float32) if vmap_data else jnp.float32(1.0)
    options = {"vmap_data": True} if vmap_data else {}  # shared data is the default
    result = jaxgan.fit(count_step, jnp.array([0.0, 10.0], jnp.float32), data, 3, chunk_size=2, vmapped=True, **options)
    assert result.state.tolist() == ([3.0, 19.0] if vmap_data else [3.0, 13.0])
    assert result.metrics["value"].tolist() == ([[1.0, 2.0, 3.0], [13.0, 16.0, 19.0]] if vmap_data
                                                else [[1.0, 2.0, 3.0], [11.0, 12.0, 13.0]])


def test_fit_hands_its_xla_options_to_the_loop():
    with pytest.raises(Exception, match="not_an_xla_option"):
        jaxgan.fit(count_step, jnp.zeros((), jnp.float32), jnp.float32(1.0), 1, compiler_options={"not_an_xla_option": 1})


def test_fit_times_its_compilation_apart_from_training():
    """``compile_seconds`` is the time ``compile_fn`` took (here at least the 0.5 s it sleeps), and
    ``train_seconds`` does not include it (two steps of a counter take far less)."""
    def slow_compile(jitted, *args):
        time.sleep(0.5)
        return jaxgan.compile_ahead(jitted, *args)

    started = time.perf_counter()
    result = jaxgan.fit(count_step, jnp.zeros((), jnp.float32), jnp.float32(1.0), 2, compile_fn=slow_compile)
    assert 0.5 <= result.compile_seconds <= time.perf_counter() - started and result.train_seconds < 0.5
    assert float(result.state) == 2.0


def test_fit_stops_where_the_callback_returns_false_and_says_whether_that_was_early():
    """The callback sees each chunk's steps and metrics; ``True`` or ``None`` go on, ``False`` stops
    there (early, unless it was the last chunk)."""
    seen = []

    def callback(done, state, metrics):
        seen.append((done, float(state), metrics["value"].tolist()))
        return {2: True, 4: False}.get(done)

    result = jaxgan.fit(count_step, jnp.zeros((), jnp.float32), jnp.float32(1.0), 6, chunk_size=2, callback=callback)
    assert seen == [(2, 2.0, [1.0, 2.0]), (4, 4.0, [3.0, 4.0])]
    assert (result.steps_done, result.stopped_early, float(result.state)) == (4, True, 4.0)
    assert result.metrics["value"].tolist() == [1.0, 2.0, 3.0, 4.0]
    last = jaxgan.fit(count_step, jnp.zeros((), jnp.float32), jnp.float32(1.0), 4, chunk_size=2,
                      callback=lambda done, state, metrics: done < 4)
    assert (last.steps_done, last.stopped_early) == (4, False)
    assert jaxgan.fit(count_step, jnp.zeros((), jnp.float32), jnp.float32(1.0), 2).stopped_early is False
