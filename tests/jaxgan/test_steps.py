"""The D and G steps (``jaxgan.steps``): pure steps, stop_gradient, no recompilation, one G forward pass."""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from jaxgan.data import contiguous_batches
from jaxgan.gan import init_player
from tests.jaxgan.core_setup import (
    BATCH,
    assert_trees_close,
    assert_trees_differ,
    assert_trees_equal,
    copy,
    fresh_state,
    make_gan,
)


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


def test_n_critic_runs_that_many_d_steps(data):
    gan = make_gan(n_critic=3)
    state = fresh_state(gan)
    out = jaxgan.fit(jaxgan.build_train_step(gan, contiguous_batches(BATCH)), state, data, 2, chunk_size=2)
    # Adam's step count in D's optimizer state counts D updates.
    count = jax.tree_util.tree_leaves(out.state.d.opt_state[0].count)[0]
    assert int(count) == 6 and int(out.state.step) == 2


def test_prob_real_of_two_logits_is_the_softmax_of_class_1():
    from jaxgan.steps import prob_real

    logits = jax.random.normal(jax.random.PRNGKey(0), (64, 2)) * 5.0
    expected = jnp.mean(jax.nn.softmax(logits, axis=-1)[:, 1])
    np.testing.assert_allclose(prob_real(logits), expected, rtol=1e-6)
    one_logit = logits[:, :1]
    np.testing.assert_allclose(prob_real(one_logit), jnp.mean(jax.nn.sigmoid(one_logit)), rtol=1e-6)


def test_make_train_step_is_the_jitted_train_step_without_donation(gan, data):
    """The same program as ``jax.jit(build_train_step(...))``, compared lowered (traced, not
    compiled); the caller's state is donated only when asked."""
    batch_fn = contiguous_batches(BATCH)
    state = jax.eval_shape(lambda: fresh_state(gan))

    def program(step):
        return step.lower(state, data).as_text()

    plain = program(jax.jit(jaxgan.build_train_step(gan, batch_fn)))
    donated = program(jax.jit(jaxgan.build_train_step(gan, batch_fn), donate_argnums=0))
    assert plain != donated
    assert program(jaxgan.make_train_step(gan, batch_fn)) == plain
    assert program(jaxgan.make_train_step(gan, batch_fn, donate=True)) == donated


@pytest.mark.parametrize("name", ["d_step", "g_step"])
def test_make_d_and_g_steps_are_the_jitted_steps_donating_only_when_asked(gan, name):
    """``make_d_step`` and ``make_g_step`` compile :func:`build_d_step` and :func:`build_g_step` and
    donate the caller's state only with ``donate=True`` (compared lowered: traced, not compiled)."""
    build, make = getattr(jaxgan, f"build_{name}"), getattr(jaxgan, f"make_{name}")
    state = jax.eval_shape(lambda: fresh_state(gan))
    batch = jax.ShapeDtypeStruct((BATCH, 2), jnp.float32)  # d_step(state, real, z), g_step(state, z, real)

    def program(step):
        return step.lower(state, batch, batch).as_text()

    plain, donated = program(jax.jit(build(gan))), program(jax.jit(build(gan), donate_argnums=0))
    assert plain != donated
    assert program(make(gan)) == plain
    assert program(make(gan, donate=True)) == donated


class _BatchNormCritic(nn.Module):
    """``Dense -> BatchNorm -> Dense``: its output depends on whether it runs in training mode."""

    @nn.compact
    def __call__(self, x, train: bool = True):
        x = nn.Dense(4)(x)
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
        return nn.Dense(1)(x)


def test_gan_loss_relativistic_g_loss_uses_d_in_training_mode_on_real_and_fake_with_d_constant():
    """``GANLoss.generator_loss`` for an objective whose G loss needs D's output on real data: both
    outputs from D in training mode (batch statistics), and D's parameters constants to G."""
    critic = jaxgan.from_linen(_BatchNormCritic())
    gan_loss = jaxgan.GANLoss(critic, optax.sgd(0.1), "relativistic")
    fake = jax.random.normal(jax.random.PRNGKey(1), (8, 3))
    real = 3.0 + 2.0 * jax.random.normal(jax.random.PRNGKey(2), (8, 3))  # far from the running average

    @jax.jit
    def check(key):
        d_state = gan_loss.init(key, real)
        loss, _ = gan_loss.generator_loss(d_state, fake, real)
        real_logits = critic.apply(d_state.params, d_state.stats, real, True)[0]
        fake_logits = critic.apply(d_state.params, d_state.stats, fake, True)[0]
        d_grads = jax.grad(lambda p: gan_loss.generator_loss(d_state._replace(params=p), fake, real)[0])(d_state.params)
        call_loss, (d_new, _) = gan_loss(d_state, fake, real)  # D's update, then G's loss as above
        return (loss, jaxgan.losses.relativistic_generator_loss(fake_logits, real_logits), d_grads,
                call_loss, gan_loss.generator_loss(d_new, fake, real)[0])

    loss, expected, d_grads, call_loss, call_expected = check(jax.random.PRNGKey(0))
    np.testing.assert_allclose(float(loss), float(expected), rtol=1e-6)
    assert float(call_loss) == float(call_expected)
    assert all(np.all(np.asarray(g) == 0.0) for g in jax.tree_util.tree_leaves(d_grads))


def test_gan_loss_call_hands_its_key_to_ds_penalty():
    """``GANLoss(d_state, fake, real, key)`` with a penalty (which needs a key) returns D's updated
    state and G's loss (traced, not compiled: D's update with a gradient penalty compiles slowly)."""
    gan = make_gan()
    gan_loss = jaxgan.GANLoss(gan.discriminator, optax.sgd(0.1), gan.objective, jaxgan.losses.make_penalty("gp", 10.0))
    d_state = jax.eval_shape(lambda: fresh_state(gan)).d
    fake = real = jax.ShapeDtypeStruct((BATCH, 2), jnp.float32)
    loss, (d_new, metrics) = jax.eval_shape(gan_loss, d_state, fake, real, jax.random.PRNGKey(3))
    assert loss.shape == () and d_new == d_state and {"d_loss", "g_loss"} <= set(metrics)


@pytest.mark.parametrize("changes", [{"n_critic": 2}, {"reuse_noise": False}])
def test_modular_train_step_refuses_what_it_does_not_do(changes):
    """The modular loop does one D update per G update on the same noise: either change is refused."""
    with pytest.raises(ValueError, match="one D update per G update on the same noise"):
        jaxgan.build_modular_train_step(make_gan(**changes), contiguous_batches(BATCH))


def test_modular_train_step_puts_the_gans_penalty_in_ds_loss():
    """The GAN's ``d_penalty`` is called in D's update of the modular loop, on the real and fake
    batches, with a key (seen while the step is traced)."""
    calls = []

    def penalty(d_fn, real, fake, key):
        calls.append((real.shape, fake.shape, key.shape))
        return jnp.mean(d_fn(real) ** 2)

    gan = make_gan(d_penalty=penalty)
    state = jax.eval_shape(lambda: fresh_state(gan))
    data = jax.ShapeDtypeStruct((4 * BATCH, 2), jnp.float32)
    jax.eval_shape(jaxgan.build_modular_train_step(gan, contiguous_batches(BATCH)), state, data)
    assert calls == [((BATCH, 2), (BATCH, 2), (2,))]


def test_gan_loss_with_concat_real_fake_gives_d_one_set_of_batch_statistics():
    """``GANLoss(..., concat_real_fake=True)``: D's BatchNorm sees real and fake as one batch, so its
    running mean becomes ``0.1 * mean(Dense(concat(real, fake)))`` (momentum 0.9, from 0), computed
    here in NumPy from D's parameters."""
    critic = jaxgan.from_linen(_BatchNormCritic())
    gan_loss = jaxgan.GANLoss(critic, optax.sgd(0.1), "wasserstein", concat_real_fake=True)
    fake = jax.random.normal(jax.random.PRNGKey(1), (8, 3))
    real = 3.0 + jax.random.normal(jax.random.PRNGKey(2), (8, 3))

    @jax.jit
    def update(key):
        d_state = gan_loss.init(key, real)
        return d_state, gan_loss.update_discriminator(d_state, fake, real)[0]

    before, after = update(jax.random.PRNGKey(0))
    dense = before.params["Dense_0"]
    both = np.concatenate([np.asarray(real, np.float64), np.asarray(fake, np.float64)])
    hidden = both @ np.asarray(dense["kernel"], np.float64) + np.asarray(dense["bias"], np.float64)
    np.testing.assert_allclose(np.asarray(after.stats["batch_stats"]["BatchNorm_0"]["mean"]),
                               0.1 * hidden.mean(axis=0), rtol=1e-5, atol=1e-6)


def test_modular_train_step_uses_the_gans_batch_function_concatenation_and_g_optimizer():
    """Traced with a random batch function (which needs its key), ``concat_real_fake`` (D's update
    calls D once on ``2 * BATCH`` rows) and AdamW for G (whose weight decay needs G's parameters)."""
    sizes = []
    mlp = jaxgan.from_linen(jaxgan.models.mlp.MLP((8,), 2))

    def apply(params, stats, x, train=True):
        sizes.append(x.shape[0])
        return mlp.apply(params, stats, x, train)

    gan = dataclasses.replace(make_gan(concat_real_fake=True), discriminator=jaxgan.Network(mlp.init, apply),
                              g_optimizer=optax.adamw(1e-3, weight_decay=0.1))
    state = jax.eval_shape(lambda: fresh_state(gan))
    data = jax.ShapeDtypeStruct((4 * BATCH, 2), jnp.float32)
    sizes.clear()
    jax.eval_shape(jaxgan.build_modular_train_step(gan, jaxgan.data.random_batches(BATCH)), state, data)
    assert sizes[0] == 2 * BATCH  # the first call of D is in its update


def test_gan_loss_gives_an_objective_that_does_not_ask_for_ds_real_output_none():
    """G's loss of an objective whose ``g_loss`` does not need D's output on real data gets
    ``real_logits=None`` (which an Objective's ``g_loss`` accepts): here one that would add D's mean
    output on real data if it were given any, checked against D's output computed in NumPy."""

    def g_loss(fake_logits, real_logits=None):
        return -jnp.mean(fake_logits) + (0.0 if real_logits is None else jnp.mean(real_logits))

    objective = jaxgan.losses.Objective(jaxgan.losses.wasserstein_discriminator_loss, g_loss, "score")
    critic = jaxgan.from_linen(nn.Dense(1))
    gan_loss = jaxgan.GANLoss(critic, optax.sgd(0.1), objective)
    fake = np.array([[1.0, 2.0], [3.0, -1.0]], np.float32)
    real = np.array([[5.0, 5.0], [6.0, 7.0]], np.float32)
    d_state = gan_loss.init(jax.random.PRNGKey(0), real)
    loss, _ = gan_loss.generator_loss(d_state, fake, real)
    kernel, bias = (np.asarray(d_state.params[k], np.float64) for k in ("kernel", "bias"))
    np.testing.assert_allclose(float(loss), -np.mean(fake @ kernel + bias), rtol=1e-6)


def test_fresh_noise_for_g_has_a_row_per_real_sample():
    """Without ``reuse_noise`` the G step draws its own noise: as many rows as the real batch, as
    every D step's (seen while the step is traced; the batch has 2 features, the latent 2 entries)."""
    rows = []
    g = make_gan().generator

    def apply(params, stats, z, train=True):
        rows.append(z.shape[0])
        return g.apply(params, stats, z, train)

    gan = dataclasses.replace(make_gan(reuse_noise=False, n_critic=2), generator=jaxgan.Network(g.init, apply))
    state = jax.eval_shape(lambda: fresh_state(gan))
    rows.clear()
    data = jax.ShapeDtypeStruct((4 * BATCH, 2), jnp.float32)
    jax.eval_shape(jaxgan.build_train_step(gan, contiguous_batches(BATCH)), state, data)
    assert len(rows) == 3 and set(rows) == {BATCH}  # two D steps, one G step


def test_a_critics_metric_is_its_mean_score_in_float32_named_score():
    """For a critic (``d_output == "score"``) ``d_real`` becomes ``d_real_score``, D's mean output,
    a float32 scalar as a probability's is, even of float64 scores; two logits give P(real)."""
    d_output_metrics = jaxgan.steps.d_output_metrics
    with jax.enable_x64(True):
        metrics = d_output_metrics(jaxgan.losses.get_objective("wasserstein"), d_real=jnp.array([1.0, 2.0, 4.5]))
    assert list(metrics) == ["d_real_score"] and metrics["d_real_score"].dtype == jnp.float32
    assert float(metrics["d_real_score"]) == 2.5
    probability = d_output_metrics(jaxgan.losses.get_objective("softmax"), d_fake=jnp.array([[1.0, 1.0]]))
    assert list(probability) == ["d_fake"] and float(probability["d_fake"]) == 0.5


def test_ds_optimizer_is_given_ds_parameters():
    """D's update hands its parameters to the optimizer: with weight decay 0.5 and SGD at 0.1, a
    linear critic's kernel becomes ``w - 0.1 (g + 0.5 w)``, ``g = mean(fake) - mean(real)`` for the
    Wasserstein loss (NumPy)."""
    optimizer = optax.chain(optax.add_decayed_weights(0.5), optax.sgd(0.1))
    gan_loss = jaxgan.GANLoss(jaxgan.from_linen(nn.Dense(1)), optimizer, "wasserstein")
    fake = np.array([[1.0, 2.0], [3.0, -1.0]], np.float32)
    real = np.array([[5.0, 5.0], [6.0, 7.0]], np.float32)
    before = gan_loss.init(jax.random.PRNGKey(0), real)
    after, _ = gan_loss.update_discriminator(before, fake, real)
    w = np.asarray(before.params["kernel"], np.float64)
    g = (fake.mean(axis=0) - real.mean(axis=0))[:, None]
    np.testing.assert_allclose(np.asarray(after.params["kernel"]), w - 0.1 * (g + 0.5 * w), rtol=1e-5)


def _recording(network, calls):
    """``network`` whose ``apply`` appends ``(x, train)`` to ``calls`` on each call."""

    def apply(params, stats, x, train):
        calls.append((x, train))
        return network.apply(params, stats, x, train)

    return jaxgan.Network(network.init, apply)


def test_every_call_of_g_and_d_in_the_steps_is_in_training_mode():
    """The steps call G and D with ``train=True`` (not ``False``, not a falsy ``None``): D's output on
    real data for a relativistic G loss, D inside its penalty (``d_fn``) and every other call
    (seen while the steps are traced; a D with BatchNorm gives other numbers in evaluation mode)."""
    calls = []

    def penalty(d_fn, real, fake, key):
        return jnp.mean(d_fn(real) ** 2)

    gan = make_gan(objective="relativistic", d_penalty=penalty)
    gan = dataclasses.replace(gan, generator=_recording(gan.generator, calls),
                              discriminator=_recording(gan.discriminator, calls))
    state = jax.eval_shape(lambda: fresh_state(gan))
    real = z = jax.ShapeDtypeStruct((BATCH, 2), jnp.float32)
    calls.clear()
    jax.eval_shape(jaxgan.build_d_step(gan), state, real, z)
    assert len(calls) == 4  # G; D on real, on fake; D in the penalty
    jax.eval_shape(jaxgan.build_g_step(gan), state, z, real)
    assert len(calls) == 4 + 3  # D on real (relativistic); G; D on fake
    jax.eval_shape(jaxgan.build_d_then_g_step(gan), state, real, z)
    assert len(calls) == 7 + 6
    assert [train for _, train in calls] == [True] * len(calls)


def test_train_step_with_fresh_noise_gives_the_g_step_the_last_d_steps_real_batch():
    """Without ``reuse_noise`` the G step of ``build_train_step`` is ``g_step(state, z, real)``: a
    relativistic G loss gets D's output on the real batch the last D step used (the batch
    function's output, the very array, seen while the step is traced)."""
    batches, d_inputs = [], []
    batch_fn = contiguous_batches(BATCH)

    def recorded_batch(data, key, index):
        batches.append(batch_fn(data, key, index))
        return batches[-1]

    recorded_batch.uses_key = False
    gan = make_gan(objective="relativistic", reuse_noise=False)
    gan = dataclasses.replace(gan, discriminator=_recording(gan.discriminator, d_inputs))
    state = jax.eval_shape(lambda: fresh_state(gan))
    data = jax.ShapeDtypeStruct((4 * BATCH, 2), jnp.float32)
    d_inputs.clear()
    _, metrics = jax.eval_shape(jaxgan.build_train_step(gan, recorded_batch), state, data)
    assert len(batches) == 1 and len(d_inputs) == 4  # D step: real, fake; G step: real, fake
    assert d_inputs[0][0] is batches[0] and d_inputs[2][0] is batches[0]
    assert {"d_loss", "g_loss"} <= set(metrics)


def test_the_gans_concat_real_fake_reaches_ds_update_in_the_d_step_and_the_fused_step():
    """``GAN(concat_real_fake=True)``: D's update in ``build_d_step`` and ``build_d_then_g_step`` calls
    D once on the ``2 * BATCH`` rows of real and fake (seen while the steps are traced)."""
    calls = []
    gan = make_gan(concat_real_fake=True)
    gan = dataclasses.replace(gan, discriminator=_recording(gan.discriminator, calls))
    state = jax.eval_shape(lambda: fresh_state(gan))
    real = z = jax.ShapeDtypeStruct((BATCH, 2), jnp.float32)
    for build in (jaxgan.build_d_step, jaxgan.build_d_then_g_step):
        calls.clear()
        jax.eval_shape(build(gan), state, real, z)
        assert calls[0][0].shape[0] == 2 * BATCH, build.__name__


@pytest.mark.parametrize("concat", [None, False, True])
def test_discriminator_update_calls_d_on_real_then_fake_or_once_split_after_the_real_rows(concat):
    """``discriminator_update`` calls D on the 8 real rows and then the 5 fake ones (``concat=False``,
    the default), or once on the 13 rows, whose output is split after the real batch's rows (8, not
    its 3 features): the loss gets 8 real and 5 fake logits either way (seen while traced)."""
    calls, given = [], []

    def d_loss(real_logits, fake_logits):
        given.append((real_logits.shape[0], fake_logits.shape[0]))
        return jaxgan.losses.wasserstein_discriminator_loss(real_logits, fake_logits)

    objective = jaxgan.losses.Objective(d_loss, jaxgan.losses.wasserstein_generator_loss, "score")
    critic = _recording(jaxgan.from_linen(jaxgan.models.mlp.MLP((8,), 1)), calls)
    real = jax.ShapeDtypeStruct((8, 3), jnp.float32)
    fake = jax.ShapeDtypeStruct((5, 3), jnp.float32)
    d = jax.eval_shape(lambda x: init_player(critic, optax.sgd(0.1), jax.random.PRNGKey(0), x), real)
    options = {} if concat is None else {"concat": concat}
    update = lambda d, real, fake: jaxgan.steps.discriminator_update(critic, optax.sgd(0.1), objective, d, real,
                                                                     fake, None, **options)
    jax.eval_shape(update, d, real, fake)
    assert [x.shape[0] for x, _ in calls] == ([13] if concat else [8, 5])
    assert given == [(8, 5)]


def test_a_penalty_of_another_dtype_gives_a_float32_d_penalty_metric():
    """D's penalty is cast to float32 before it joins the loss and the metrics, as every metric is
    (a bfloat16 penalty here; seen while the step is traced)."""

    def penalty(d_fn, real, fake, key):
        return jnp.mean(d_fn(real)).astype(jnp.bfloat16)

    gan = make_gan(d_penalty=penalty)
    state = jax.eval_shape(lambda: fresh_state(gan))
    real = z = jax.ShapeDtypeStruct((BATCH, 2), jnp.float32)
    _, metrics = jax.eval_shape(jaxgan.build_d_step(gan), state, real, z)
    assert metrics["d_penalty"].dtype == jnp.float32 and metrics["d_loss"].dtype == jnp.float32


def test_prob_real_is_float32_and_takes_a_last_axis_of_two_as_the_two_logits():
    """``prob_real`` gives a float32 probability even of float64 logits; ``[..., 2]`` logits (a
    softmax head per patch) are two logits on their last axis, ``real_log_odds`` their difference
    (of host NumPy logits too), other shapes sigmoid logits, even with 2 on another axis (NumPy)."""
    from jaxgan.steps import prob_real, real_log_odds

    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        assert prob_real(jnp.asarray(rng.normal(size=(4, 2)))).dtype == jnp.float32
        assert prob_real(jnp.asarray(rng.normal(size=(4, 1)))).dtype == jnp.float32
    patches = rng.normal(size=(4, 3, 2)).astype(np.float32)
    np.testing.assert_array_equal(real_log_odds(patches), patches[..., 1] - patches[..., 0])
    sigmoid = lambda x: 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))
    expected = sigmoid(patches[..., 1] - patches[..., 0]).mean()
    np.testing.assert_allclose(float(prob_real(jnp.asarray(patches))), expected, rtol=1e-6)
    other = rng.normal(size=(4, 2, 5)).astype(np.float32)
    np.testing.assert_allclose(float(prob_real(jnp.asarray(other))), sigmoid(other).mean(), rtol=1e-6)
