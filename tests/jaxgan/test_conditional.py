"""Class-conditional GANs through the core: samples ``(x, y)``, G's labels from the class
frequencies, the steps against float64 NumPy, labels reaching D, the penalty on images only, fit's
resume from a checkpoint and vmap over seeds (the tiny GAN of ``conditional_setup.py``)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from jaxgan import losses
from jaxgan.conditional import class_frequencies, conditional_penalty
from jaxgan.data import contiguous_batches, epoch_batches, random_batches
from jaxgan.gan import sample_labels
from jaxgan.gan_loss import build_modular_train_step
from jaxgan.reliability.checkpoint import Checkpointer
from jaxgan.steps import take_batch_key
from tests.jaxgan.conditional_setup import NUM_CLASSES, make_data, make_gan, np_logits
from tests.jaxgan.core_setup import assert_trees_close, assert_trees_equal

BATCH = 12


def softplus(x):
    return np.logaddexp(0.0, x)


def test_g_labels_follow_the_class_frequencies_unless_given():
    gan_zero = dataclasses.replace(make_gan(), class_probs=(5, 0, 3))  # normalised; class 1 never drawn
    assert gan_zero.class_probs == (0.625, 0.0, 0.375) and gan_zero.num_classes == 3
    n = 40_000
    state = jaxgan.init_state(gan_zero, 0)
    state2, (z, y) = jaxgan.sample_noise(gan_zero, state, n)
    assert z.shape == (n, 2) and y.dtype == jnp.int32 and y.shape == (n,)
    freq = np.bincount(np.asarray(y), minlength=3) / n
    sigma = np.sqrt(0.625 * 0.375 / n)
    np.testing.assert_allclose(freq, [0.625, 0.0, 0.375], atol=4 * sigma)
    assert freq[1] == 0
    assert not np.array_equal(np.asarray(state2.key), np.asarray(state.key))
    given = jnp.asarray([1, 1, 0, 2], jnp.int32)
    _, (z4, y4) = jaxgan.sample_noise(gan_zero, state, 4, labels=given)
    np.testing.assert_array_equal(np.asarray(y4), [1, 1, 0, 2])
    # the same key gives the same z whether the labels are drawn or given
    _, (z4_drawn, _) = jaxgan.sample_noise(gan_zero, state, 4)
    np.testing.assert_array_equal(np.asarray(z4), np.asarray(z4_drawn))
    assert class_frequencies(np.array([0, 2, 2, 2]), 4) == (0.25, 0.0, 0.75, 0.0)


def test_bad_class_settings_are_clear_errors():
    with pytest.raises(ValueError, match="non-negative"):
        dataclasses.replace(make_gan(), class_probs=(1.0, -0.5))
    uncond = jaxgan.GAN(jaxgan.Network(None, None), jaxgan.Network(None, None), optax.sgd(1), optax.sgd(1), 2)
    with pytest.raises(ValueError, match="conditional GAN"):
        jaxgan.sample_noise(uncond, jaxgan.GANState(None, None, None, jax.random.PRNGKey(0)), 2, labels=[0, 1])
    with pytest.raises(ValueError, match=r"lie in \[0, 3\)"):
        class_frequencies([0, 3], 3)


def test_class_probs_need_two_classes_or_more_and_a_positive_sum():
    """Two classes are enough (normalised); one class, frequencies that sum to 0, or a number are refused."""
    two = dataclasses.replace(make_gan(), class_probs=[1, 3])
    assert two.class_probs == (0.25, 0.75) and two.num_classes == 2
    for probs in [(1.0,), (0.0, 0.0)]:
        with pytest.raises(ValueError, match="non-negative"):
            dataclasses.replace(make_gan(), class_probs=probs)
    with pytest.raises(TypeError, match="sequence of class frequencies"):
        dataclasses.replace(make_gan(), class_probs=3)


def test_g_input_is_float32_noise_and_int32_labels_drawn_alike_with_64_bit_types_enabled():
    """With 64-bit types enabled the noise stays float32 and the labels int32 (drawn, given as a list,
    or drawn by ``sample_labels`` alone), and a key draws the same labels and noise as without them
    (a run does not depend on it)."""
    gan = make_gan()
    state = jaxgan.GANState(None, None, None, jax.random.PRNGKey(0))
    _, (z, y) = jaxgan.sample_noise(gan, state, 64)
    with jax.enable_x64(True):
        _, (z64, y64) = jaxgan.sample_noise(gan, state, 64)
        _, (_, given) = jaxgan.sample_noise(gan, state, 3, labels=[2, 0, 1])
        alone = sample_labels(jax.random.PRNGKey(1), gan.class_probs, 5)  # public, as the experiments use it
    assert z64.dtype == jnp.float32 and y64.dtype == jnp.int32 and given.dtype == jnp.int32
    assert alone.dtype == jnp.int32 and alone.shape == (5,)
    np.testing.assert_array_equal(np.asarray(z64), np.asarray(z))
    np.testing.assert_array_equal(np.asarray(y64), np.asarray(y))
    assert len(set(np.asarray(y).tolist())) == NUM_CLASSES
    np.testing.assert_array_equal(np.asarray(given), [2, 0, 1])


def _recording_init(network, seen):
    """``network`` whose ``init`` appends the shape and dtype of each leaf of its sample to ``seen``."""

    def init(key, sample):
        seen.append([(x.shape, np.dtype(x.dtype)) for x in jax.tree.leaves(sample)])
        return network.init(key, sample)

    return jaxgan.Network(init, network.apply)


def test_init_state_initialises_g_and_d_on_float32_samples_with_int32_labels_even_with_64_bit_types_enabled():
    """G is initialised on one ``(z, y)``, D on one ``(x, y)`` as G returns it: float32 noise and
    images (this G's images are float64 with 64-bit types enabled; a G whose images are bfloat16
    too), int32 labels (traced only)."""
    seen = []
    gan = make_gan()
    gan = dataclasses.replace(gan, generator=_recording_init(gan.generator, seen),
                              discriminator=_recording_init(gan.discriminator, seen))
    with jax.enable_x64(True):
        jax.eval_shape(lambda: jaxgan.init_state(gan, 0))
    one = [((1, 2), np.dtype(np.float32)), ((1,), np.dtype(np.int32))]
    assert seen == [one, one]

    def bfloat16_images(params, stats, noise, train=True):
        (x, y), stats = gan.generator.apply(params, stats, noise, train)
        return (x.astype(jnp.bfloat16), y), stats

    seen.clear()
    bfloat16_gan = dataclasses.replace(gan, generator=jaxgan.Network(gan.generator.init, bfloat16_images))
    jax.eval_shape(lambda: jaxgan.init_state(bfloat16_gan, 0))
    assert seen == [one, one]


def test_the_fused_step_traces_for_a_g_whose_samples_carry_integer_labels():
    """``build_d_then_g_step`` differentiates G's loss with respect to its samples ``(x, y)``: the
    integer labels are allowed (their cotangent is float0) and G's update is float32 (traced only)."""
    gan = make_gan()
    state = jax.eval_shape(lambda: jaxgan.init_state(gan, 0))
    pair = (jax.ShapeDtypeStruct((BATCH, 2), jnp.float32), jax.ShapeDtypeStruct((BATCH,), jnp.int32))
    new, metrics = jax.eval_shape(jaxgan.build_d_then_g_step(gan), state, pair, pair)
    assert new.g.params["w"].dtype == jnp.float32 and {"d_loss", "g_loss"} <= set(metrics)


def test_d_step_matches_float64_numpy_and_moves_only_the_classes_it_saw():
    """SGD D step on a batch of classes 0 and 1: the loss is the float64 non-saturating loss of the
    hand-computed projection logits (real with the real labels, fake with G's), and the embedding
    row of class 2 (in neither batch) is untouched while rows 0 and 1 move."""
    gan = make_gan(optax.sgd(0.1))
    state = jaxgan.init_state(gan, 3)
    x, _ = make_data(BATCH)
    y_real = jnp.asarray(np.arange(BATCH) % 2, jnp.int32)
    y_fake = jnp.asarray((np.arange(BATCH) + 1) % 2, jnp.int32)
    state, noise = jaxgan.sample_noise(gan, state, BATCH, labels=y_fake)
    new, metrics = jaxgan.make_d_step(gan)(state, (x, y_real), noise)
    z = np.asarray(noise[0], np.float64)
    onehot = np.eye(NUM_CLASSES)[np.asarray(y_fake)]
    x_fake = np.concatenate([z, onehot], axis=1) @ np.asarray(state.g.params["w"], np.float64)
    real_l = np_logits(state.d.params, x, y_real)
    fake_l = np_logits(state.d.params, x_fake, y_fake)
    expected = softplus(-real_l).mean() + softplus(fake_l).mean()
    np.testing.assert_allclose(float(metrics["d_loss"]), expected, rtol=1e-5)
    old_e, new_e = np.asarray(state.d.params["embed"]), np.asarray(new.d.params["embed"])
    np.testing.assert_array_equal(new_e[2], old_e[2])
    assert not np.array_equal(new_e[0], old_e[0]) and not np.array_equal(new_e[1], old_e[1])
    assert_trees_equal(new.g, state.g)


def test_labels_reach_d_in_both_steps_and_not_without_a_class_embedding():
    """Negative control: shuffling the real labels changes D's loss, shuffling G's labels changes
    G's loss; with the class embedding zeroed (D blind to labels) neither does."""
    gan = make_gan()
    state = jaxgan.init_state(gan, 0)
    x, y = make_data(BATCH)
    state, (z, y_g) = jaxgan.sample_noise(gan, state, BATCH)
    perm = jnp.asarray(np.roll(np.arange(BATCH), 1))
    d_step, g_step = jaxgan.make_d_step(gan), jaxgan.make_g_step(gan)

    def losses_of(st):
        d = d_step(st, (x, y), (z, y_g))[1]["d_loss"], d_step(st, (x, y[perm]), (z, y_g))[1]["d_loss"]
        g = g_step(st, (z, y_g))[1]["g_loss"], g_step(st, (z, (y_g + 1) % NUM_CLASSES))[1]["g_loss"]
        return [float(v) for v in (*d, *g)]

    d_same, d_shuffled, g_same, g_shifted = losses_of(state)
    assert d_same != d_shuffled and g_same != g_shifted
    blind_params = {**state.d.params, "embed": jnp.zeros_like(state.d.params["embed"])}
    blind = state._replace(d=state.d._replace(params=blind_params))
    d_same, d_shuffled, _, _ = losses_of(blind)  # (G's samples still depend on its labels)
    assert d_same == d_shuffled


def test_fused_and_modular_steps_equal_d_step_then_g_step_and_concat_equals_two_calls():
    """The fused step pulls G's gradient back through a sample that carries integer labels; the
    GANLoss loop computes the same; a D without statistics gives the same update whether real and
    fake go in one concatenated call or two."""
    gan = make_gan()
    data = make_data()
    batch_fn = epoch_batches(BATCH, jax.random.PRNGKey(5))
    state = jaxgan.init_state(gan, 1)
    fused, fused_m = jax.jit(jaxgan.build_train_step(gan, batch_fn))(state, data)
    modular, _ = jax.jit(build_modular_train_step(gan, batch_fn))(state, data)
    s, _ = take_batch_key(state, batch_fn)  # as the train step does (epoch_batches ignores it)
    real = batch_fn(data, None, 0)
    s, noise = jaxgan.sample_noise(gan, s, BATCH)
    s, _ = jaxgan.make_d_step(gan)(s, real, noise)
    s, g_m = jaxgan.make_g_step(gan)(s, noise, real)
    assert_trees_close(fused.g.params, s.g.params, 1e-6)
    assert_trees_close(fused.d.params, s.d.params, 1e-6)
    assert_trees_close(modular.g.params, s.g.params, 1e-6)
    np.testing.assert_allclose(float(fused_m["g_loss"]), float(g_m["g_loss"]), rtol=1e-6)
    concat = make_gan(concat_real_fake=True)
    together, _ = jax.jit(jaxgan.build_train_step(concat, batch_fn))(state, data)
    assert_trees_close(together.d.params, fused.d.params, 1e-6)
    assert_trees_close(together.g.params, fused.g.params, 1e-6)


def test_penalty_differentiates_the_images_only_with_the_real_labels():
    """R1 through conditional_penalty equals (gamma/2) mean ||grad_x D(x, y_real)||^2 computed by
    hand: d logit / dx = V diag(1 - phi^2) (psi + E[y])."""
    gan = make_gan()
    params = jaxgan.init_state(gan, 2).d.params
    x, y = make_data(BATCH)
    d_fn = lambda sample: gan.discriminator.apply(params, {}, sample, True)[0]
    fake = (x[::-1], (y[::-1] + 1) % NUM_CLASSES)
    value = conditional_penalty(losses.make_penalty("r1", 2.0))(d_fn, (x, y), fake, None)
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    phi = np.tanh(np.asarray(x, np.float64) @ p["v"])
    grads = ((1 - phi**2) * (p["psi"] + p["embed"][np.asarray(y)])) @ p["v"].T
    expected = 2.0 * np.mean(np.sum(grads**2, axis=1))
    np.testing.assert_allclose(float(value), expected, rtol=1e-5)
    with_fake_labels = conditional_penalty(losses.make_penalty("r2", 2.0), labels="fake")(d_fn, (x, y), fake, None)
    assert np.isfinite(float(with_fake_labels)) and float(with_fake_labels) != float(value)


def test_fit_resumed_from_a_checkpoint_is_bit_identical(tmp_path):
    gan = make_gan(d_penalty=conditional_penalty(losses.make_penalty("r1", 0.5)))
    data = make_data()
    step = jaxgan.build_train_step(gan, epoch_batches(BATCH, jax.random.PRNGKey(5)))
    start = jaxgan.init_state(gan, 4)
    straight = jaxgan.fit(step, start, data, 8, chunk_size=4)
    half = jaxgan.fit(step, start, data, 4, chunk_size=4)
    with Checkpointer(tmp_path / "ckpt") as ck:
        ck.save(4, half.state)
    restored = Checkpointer(tmp_path / "ckpt").restore(jax.eval_shape(lambda: start)).state
    resumed = jaxgan.fit(step, restored, data, 4, chunk_size=4)
    assert int(resumed.state.step) == 8
    assert_trees_equal(resumed.state, straight.state)
    np.testing.assert_array_equal(resumed.metrics["d_loss"], straight.metrics["d_loss"][4:])


def test_vmap_over_two_seeds_equals_separate_runs_and_generate_draws_labels():
    gan = make_gan()
    data = make_data()
    step = jaxgan.build_train_step(gan, epoch_batches(BATCH, jax.random.PRNGKey(5)))
    keys = jax.random.split(jax.random.PRNGKey(7), 2)
    together = jaxgan.fit(step, jaxgan.init_states(lambda k: jaxgan.init_state(gan, k), keys), data, 6,
                          chunk_size=6, vmapped=True)
    for i in range(2):
        alone = jaxgan.fit(step, jaxgan.init_state(gan, keys[i]), data, 6, chunk_size=6)
        one = jax.tree.map(lambda a: a[i], together.state)
        assert_trees_close(one.g.params, alone.state.g.params, 1e-6)
        assert_trees_close(one.d.params, alone.state.d.params, 1e-6)
    alone_state = alone.state
    x, y = jaxgan.generate(gan, alone_state, jax.random.PRNGKey(0), 10, batch_size=4)
    assert x.shape == (10, 2) and y.shape == (10,) and set(np.unique(y)) <= {0, 1, 2}
    # given labels are used as they are, with the same noise: G is linear, so the samples of two
    # labellings differ by (onehot(a) - onehot(b)) W_y
    a = np.array([2, 0, 1, 2, 0, 1, 2, 0, 1, 1])
    b = (a + 1) % NUM_CLASSES
    x_a, y_a = jaxgan.generate(gan, alone_state, jax.random.PRNGKey(0), 10, batch_size=4, labels=a)
    x_b, _ = jaxgan.generate(gan, alone_state, jax.random.PRNGKey(0), 10, batch_size=4, labels=b)
    np.testing.assert_array_equal(y_a, a)
    w_y = np.asarray(alone_state.g.params["w"], np.float64)[2:]
    eye = np.eye(NUM_CLASSES)
    np.testing.assert_allclose(x_a - x_b, (eye[a] - eye[b]) @ w_y, atol=1e-5)


@pytest.mark.parametrize("make_batches", [contiguous_batches, random_batches])
@pytest.mark.parametrize("batch", [12, 10])  # 12 divides the 48 rows (one slice), 10 wraps around
def test_batch_functions_draw_the_same_rows_of_every_leaf(make_batches, batch):
    x, y = make_data()
    ids = jnp.arange(48)
    real = make_batches(batch)((x, y, ids), jax.random.PRNGKey(0), jnp.asarray(3))
    alone = make_batches(batch)(x, jax.random.PRNGKey(0), jnp.asarray(3))
    rows = np.asarray(real[2])
    np.testing.assert_array_equal(np.asarray(real[0]), np.asarray(x)[rows])
    np.testing.assert_array_equal(np.asarray(real[1]), np.asarray(y)[rows])
    np.testing.assert_array_equal(np.asarray(alone), np.asarray(real[0]))  # an array: the same rows
