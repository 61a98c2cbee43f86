"""The core's guarantees: pure steps, stop_gradient, no recompilation, scan == loop, vmap == runs."""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from jaxgan.data import affine_gaussian, contiguous_batches
from jaxgan.models.mlp import MLP, LinearGenerator

BATCH = 32


def make_gan(lr=0.01, objective="softmax", **kw):
    return jaxgan.GAN(
        generator=jaxgan.from_linen(LinearGenerator(2)),
        discriminator=jaxgan.from_linen(MLP((20, 10), 2)),
        g_optimizer=optax.adam(lr),
        d_optimizer=optax.adam(lr),
        latent_shape=(2,),
        objective=objective,
        **kw,
    )


@pytest.fixture(scope="module")
def gan():
    return make_gan()


@pytest.fixture(scope="module")
def data():
    return affine_gaussian(jax.random.PRNGKey(1), 320)


def fresh_state(gan, seed=0):
    return jaxgan.init_state(gan, jax.random.PRNGKey(seed))


def copy(tree):
    return jax.tree_util.tree_map(lambda x: np.array(x), tree)


def assert_trees_equal(a, b):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(la) == len(lb) and len(la) > 0
    for x, y in zip(la, lb):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def assert_trees_differ(a, b):
    assert any(
        not np.array_equal(np.asarray(x), np.asarray(y))
        for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b))
    )


def assert_trees_close(a, b, atol):
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=atol, rtol=0)


def test_g_step_leaves_d_bit_identical_and_changes_g(gan, data):
    state = fresh_state(gan)
    state, z = jaxgan.sample_noise(gan, state, BATCH)
    before = copy(state)
    new, metrics = jaxgan.make_g_step(gan)(state, z)
    assert_trees_equal(new.d, before.d)
    assert_trees_differ(new.g.params, before.g.params)
    assert int(new.step) == int(before.step) + 1
    assert np.isfinite(float(metrics["g_loss"]))


def test_d_step_leaves_g_bit_identical_and_changes_d(gan, data):
    state = fresh_state(gan)
    state, z = jaxgan.sample_noise(gan, state, BATCH)
    before = copy(state)
    new, metrics = jaxgan.make_d_step(gan)(state, data[:BATCH], z)
    assert_trees_equal(new.g, before.g)
    assert_trees_differ(new.d.params, before.d.params)
    assert_trees_differ(new.d.opt_state, before.d.opt_state)
    assert set(metrics) >= {"d_loss", "d_real", "d_fake"}


def test_d_loss_gradient_wrt_g_is_exactly_zero_through_stop_gradient(gan, data):
    state = fresh_state(gan)
    z = jax.random.normal(jax.random.PRNGKey(3), (BATCH, 2))
    objective = gan.objective

    def d_loss_as_function_of_g(g_params):
        fake = jax.lax.stop_gradient(gan.generator.apply(g_params, {}, z, True)[0])
        real_logits, _ = gan.discriminator.apply(state.d.params, {}, data[:BATCH], True)
        fake_logits, _ = gan.discriminator.apply(state.d.params, {}, fake, True)
        return objective.d_loss(real_logits, fake_logits)

    grads = jax.grad(d_loss_as_function_of_g)(state.g.params)
    for leaf in jax.tree_util.tree_leaves(grads):
        assert np.all(np.asarray(leaf) == 0.0)

    # Without stop_gradient the same loss does depend on G: the test can fail.
    def without_stop(g_params):
        fake = gan.generator.apply(g_params, {}, z, True)[0]
        fake_logits, _ = gan.discriminator.apply(state.d.params, {}, fake, True)
        return objective.d_loss(gan.discriminator.apply(state.d.params, {}, data[:BATCH], True)[0], fake_logits)

    leaves = jax.tree_util.tree_leaves(jax.grad(without_stop)(state.g.params))
    assert any(np.any(np.asarray(leaf) != 0.0) for leaf in leaves)


def count_primitive(jaxpr, name):
    """Occurrences of a primitive in a jaxpr, nested jaxprs (pjit, custom_jvp...) included."""
    n = 0
    for eqn in jaxpr.eqns:
        n += eqn.primitive.name == name
        for param in eqn.params.values():
            for sub in param if isinstance(param, (list, tuple)) else [param]:
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    n += count_primitive(inner, name)
    return n


def test_g_step_never_forms_a_gradient_of_d(gan):
    """Count matmuls: the G step differentiates G only, so D's weight gradients are never computed.

    G is 1 dense layer, D is 3. A G step needs: G forward (1), D forward on the fake (3), the
    cotangent back through D to its *input* (3: one per layer), G's weight gradient (1) = 8.
    Forming D's weight gradients would add 3 more; the D step (for contrast) needs them.
    """
    state = fresh_state(gan)
    z = jnp.zeros((BATCH, 2))
    g_jaxpr = jax.make_jaxpr(jaxgan.build_g_step(gan))(state, z).jaxpr
    assert count_primitive(g_jaxpr, "dot_general") == 1 + 3 + 3 + 1
    d_jaxpr = jax.make_jaxpr(jaxgan.build_d_step(gan))(state, z, z).jaxpr
    # G forward (1) + D on real and fake (3 + 3) + weight grads (3 + 3) + input grads (2 + 2).
    assert count_primitive(d_jaxpr, "dot_general") == 1 + 6 + 6 + 4


def test_steps_compile_once(gan, data):
    d_step, g_step = jaxgan.make_d_step(gan), jaxgan.make_g_step(gan)
    state = fresh_state(gan)
    for _ in range(3):
        state, z = jaxgan.sample_noise(gan, state, BATCH)
        state, _ = d_step(state, data[:BATCH], z)
        state, _ = g_step(state, z)
    assert d_step._cache_size() == 1
    assert g_step._cache_size() == 1


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


@pytest.mark.parametrize(
    "objective, penalty",
    [("softmax", None), ("relativistic", None), ("nonsaturating", jaxgan.losses.make_penalty("gp", 10.0))],
)
def test_shared_forward_step_equals_d_step_then_g_step(data, objective, penalty):
    """``build_d_then_g_step`` computes G(z) once; the result is the D step then the G step's
    (with the real batch for the relativistic G loss, the key split for the penalty)."""
    gan = make_gan(objective=objective, d_penalty=penalty)
    state, z = jaxgan.sample_noise(gan, fresh_state(gan), BATCH)
    real = data[:BATCH]

    def two_steps(state):
        state, d_metrics = jaxgan.build_d_step(gan)(state, real, z)
        state, g_metrics = jaxgan.build_g_step(gan)(state, z, real)
        return state, {**d_metrics, **g_metrics}

    expected, expected_metrics = jax.jit(two_steps)(state)
    shared, metrics = jax.jit(jaxgan.build_d_then_g_step(gan))(state, real, z)
    assert_trees_close(shared, expected, 1e-6)
    assert_trees_differ(shared.g.params, state.g.params)
    assert sorted(metrics) == sorted(expected_metrics)
    for name in metrics:
        np.testing.assert_allclose(float(metrics[name]), float(expected_metrics[name]), rtol=1e-6)


def test_train_step_runs_the_generator_forward_once_per_iteration(data):
    """With the lecture's "same Z" G's forward pass is shared by the D and G steps (as PyTorch's
    DCGAN shares ``fake``); with fresh noise for G (or extra critic steps) it cannot be."""
    calls = []

    def counted(network):
        def apply(*args, **kwargs):
            calls.append(1)
            return network.apply(*args, **kwargs)

        return network._replace(apply=apply)

    for reuse_noise, n_critic, expected_calls in ((True, 1, 1), (True, 3, 3), (False, 1, 2)):
        gan = make_gan(reuse_noise=reuse_noise, n_critic=n_critic)
        gan = dataclasses.replace(gan, generator=counted(gan.generator))
        state = fresh_state(gan)
        calls.clear()
        jax.make_jaxpr(jaxgan.build_train_step(gan, contiguous_batches(BATCH)))(state, data)
        assert len(calls) == expected_calls, (reuse_noise, n_critic)


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


def test_gan_loss_training_matches_explicit_steps(gan, data):
    steps = 25
    batch_fn = contiguous_batches(BATCH)
    explicit = jaxgan.fit(jaxgan.build_train_step(gan, batch_fn), fresh_state(gan), data, steps, chunk_size=steps)
    modular = jaxgan.fit(
        jaxgan.build_modular_train_step(gan, batch_fn), fresh_state(gan), data, steps, chunk_size=steps
    )
    assert_trees_close(modular.state.g.params, explicit.state.g.params, 1e-6)
    assert_trees_close(modular.state.d.params, explicit.state.d.params, 1e-6)
    assert_trees_close(modular.state.d.opt_state, explicit.state.d.opt_state, 1e-6)


def test_gan_loss_updates_d_inside_and_returns_g_loss_with_updated_d(gan, data):
    state = fresh_state(gan)
    gan_loss = jaxgan.GANLoss(gan.discriminator, gan.d_optimizer, "softmax")
    fake = jax.random.normal(jax.random.PRNGKey(5), (BATCH, 2))
    loss, (d_new, metrics) = gan_loss(state.d, fake, data[:BATCH])
    assert_trees_differ(d_new.params, state.d.params)
    logits, _ = gan.discriminator.apply(d_new.params, {}, fake, True)
    expected = jaxgan.losses.softmax_generator_loss(logits)
    np.testing.assert_allclose(float(loss), float(expected), rtol=1e-6)
    # Gradient wrt the fake flows only through D_new(fake), not through D's update.
    g = jax.grad(lambda f: gan_loss(state.d, f, data[:BATCH])[0])(fake)
    g_expected = jax.grad(
        lambda f: jaxgan.losses.softmax_generator_loss(gan.discriminator.apply(d_new.params, {}, f, True)[0])
    )(fake)
    np.testing.assert_allclose(np.asarray(g), np.asarray(g_expected), rtol=1e-5, atol=1e-7)


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


def test_n_critic_runs_that_many_d_steps(data):
    gan = make_gan(n_critic=3)
    state = fresh_state(gan)
    out = jaxgan.fit(jaxgan.build_train_step(gan, contiguous_batches(BATCH)), state, data, 2, chunk_size=2)
    # Adam's step count in D's optimizer state counts D updates.
    count = jax.tree_util.tree_leaves(out.state.d.opt_state[0].count)[0]
    assert int(count) == 6 and int(out.state.step) == 2


def test_contiguous_batches_follow_the_lecture_slicing():
    data = jnp.arange(100.0).reshape(50, 2)
    batch_fn = contiguous_batches(8)
    np.testing.assert_array_equal(batch_fn(data, None, jnp.asarray(0)), data[:8])
    np.testing.assert_array_equal(batch_fn(data, None, jnp.asarray(2)), data[16:24])
    wrapped = batch_fn(data, None, jnp.asarray(6))  # begin 48: rows 48, 49, 0, ..., 5
    np.testing.assert_array_equal(wrapped, jnp.concatenate([data[48:], data[:6]]))


def test_contiguous_batches_are_one_slice_when_the_batch_divides_the_data():
    """With ``n % batch == 0`` no batch wraps, and the batch is a dynamic slice (no gather)."""
    data = jnp.arange(96.0).reshape(48, 2)
    batch_fn = contiguous_batches(8)
    for index in (0, 5, 6, 13):  # 6 and 13 come back round to the start
        begin = 8 * index % 48
        np.testing.assert_array_equal(batch_fn(data, None, jnp.asarray(index)), data[begin : begin + 8])
    primitives = {e.primitive.name for e in jax.make_jaxpr(lambda i: batch_fn(data, None, i))(jnp.asarray(3)).eqns}
    assert "dynamic_slice" in primitives and "gather" not in primitives


def test_prob_real_of_two_logits_is_the_softmax_of_class_1():
    from jaxgan.steps import prob_real

    logits = jax.random.normal(jax.random.PRNGKey(0), (64, 2)) * 5.0
    expected = jnp.mean(jax.nn.softmax(logits, axis=-1)[:, 1])
    np.testing.assert_allclose(prob_real(logits), expected, rtol=1e-6)
    one_logit = logits[:, :1]
    np.testing.assert_allclose(prob_real(one_logit), jnp.mean(jax.nn.sigmoid(one_logit)), rtol=1e-6)


def test_unknown_objective_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown loss 'nope'.*softmax"):
        make_gan(objective="nope")


def test_dense_product_is_the_dense_layer_with_a_standard_kernel_gradient():
    """``jaxgan.speedups.small_dense.dense_product`` (the toy's dense layers on CPU) computes ``x @ W`` and its
    gradients as ``nn.Dense``'s default product does; on CPU the kernel's gradient is a product of
    the materialised ``x^T`` (no product contracting both batch axes, which XLA:CPU sends to Eigen)."""
    from jaxgan.speedups.small_dense import dense_product

    x = jax.random.normal(jax.random.PRNGKey(0), (32, 20))
    weights = jax.random.normal(jax.random.PRNGKey(1), (32, 10))
    layers = [nn.Dense(10, dot_general=dense_product), nn.Dense(10)]
    params = layers[1].init(jax.random.PRNGKey(2), x)

    def loss(layer):
        return lambda p, x: jnp.sum(weights * jnp.tanh(layer.apply(p, x)))

    (ours, ours_grads), (ref, ref_grads) = [jax.jit(jax.value_and_grad(loss(l), argnums=(0, 1)))(params, x) for l in layers]
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    for a, b in zip(jax.tree_util.tree_leaves(ours_grads), jax.tree_util.tree_leaves(ref_grads)):
        assert float(jnp.max(jnp.abs(b))) > 0.1
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    if jax.default_backend() == "cpu":
        compiled = jax.jit(jax.grad(loss(layers[0]))).lower(params, x).compile().as_text()
        dots = [line for line in compiled.splitlines() if "lhs_contracting_dims={0}" in line]
        assert not dots, dots
