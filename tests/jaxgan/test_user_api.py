"""What a user meets first: the caller's state stays valid, networks go in as they are, seeds and
shapes in the obvious forms, sampling, D's schedule under n_critic, and the progress bar."""

import dataclasses
import sys

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import jaxgan
from jaxgan.data import affine_gaussian, random_batches
from jaxgan.models.mlp import MLP, LinearGenerator


def toy_gan(**kwargs):
    return jaxgan.GAN(LinearGenerator(2), MLP((8,), 2), optax.adam(1e-2), optax.adam(2e-2, b1=0.5), 2, **kwargs)


def leaves_alive(tree):
    return all(not x.is_deleted() for x in jax.tree_util.tree_leaves(tree) if isinstance(x, jax.Array))


def test_the_callers_state_stays_valid_after_fit_and_the_compiled_steps():
    gan = toy_gan()
    state = jaxgan.init_state(gan, 0)
    data = affine_gaussian(jax.random.PRNGKey(1), 256)
    before = jax.tree.map(np.asarray, state)
    result = jaxgan.fit(jaxgan.build_train_step(gan, random_batches(32)), state, data, 4, chunk_size=2)
    z = jnp.zeros((32, 2))
    for step, args in [(jaxgan.make_d_step(gan), (data[:32], z)), (jaxgan.make_g_step(gan), (z,)),
                       (jaxgan.make_train_step(gan, random_batches(32)), (data,))]:
        step(state, *args)
    assert leaves_alive(state)
    jax.tree.map(np.testing.assert_array_equal, before, jax.tree.map(np.asarray, state))
    assert int(result.state.step) == 4


def test_donation_is_asked_for_explicitly_and_then_deletes_the_old_state():
    gan = toy_gan()
    data = affine_gaussian(jax.random.PRNGKey(1), 256)
    state = jaxgan.init_state(gan, 0)
    jaxgan.fit(jaxgan.build_train_step(gan, random_batches(32)), state, data, 2, donate=True)
    assert not leaves_alive(state)
    state = jaxgan.init_state(gan, 0)
    jaxgan.make_d_step(gan, donate=True)(state, data[:32], jnp.zeros((32, 2)))
    assert not leaves_alive(state)


def test_fit_gives_the_same_result_with_and_without_donation():
    gan = toy_gan()
    data = affine_gaussian(jax.random.PRNGKey(1), 256)
    step = jaxgan.build_train_step(gan, random_batches(32))
    kept = jaxgan.fit(step, jaxgan.init_state(gan, 0), data, 6, chunk_size=4)
    donated = jaxgan.fit(step, jaxgan.init_state(gan, 0), data, 6, chunk_size=4, donate=True)
    jax.tree.map(np.testing.assert_array_equal, kept.state, donated.state)


def test_gan_takes_linen_modules_as_they_are_and_says_what_else_it_takes():
    wrapped = jaxgan.GAN(jaxgan.from_linen(LinearGenerator(2)), jaxgan.from_linen(MLP((8,), 2)),
                         optax.adam(1e-2), optax.adam(1e-2), (2,))
    direct = jaxgan.GAN(LinearGenerator(2), MLP((8,), 2), optax.adam(1e-2), optax.adam(1e-2), 2)
    assert direct.latent_shape == (2,)
    jax.tree.map(np.testing.assert_array_equal, jaxgan.init_state(wrapped, 3), jaxgan.init_state(direct, 3))
    with pytest.raises(TypeError, match="generator must be a jaxgan.Network.*linen.Module.*nnx.Module.*jaxgan.Network\\(init"):
        jaxgan.GAN(lambda z: z, MLP((8,), 2), optax.adam(1e-2), optax.adam(1e-2), 2)


def test_init_state_takes_an_int_seed_or_a_typed_key_and_refuses_other_things():
    gan = toy_gan()
    raw = jaxgan.init_state(gan, jax.random.PRNGKey(7))
    for key in (7, jax.random.key(7)):
        jax.tree.map(np.testing.assert_array_equal, raw, jaxgan.init_state(gan, key))
    with pytest.raises(TypeError, match="PRNG key .* or an int seed"):
        jaxgan.init_state(gan, jnp.zeros(3))


class WithTraining(nn.Module):
    """BatchNorm behind a switch named ``training``."""

    @nn.compact
    def __call__(self, x, training: bool = True):
        return nn.Dense(2)(nn.BatchNorm(use_running_average=not training)(x))


class WithDeterministic(nn.Module):
    """BatchNorm behind a switch named ``deterministic`` (the opposite of training)."""

    @nn.compact
    def __call__(self, x, deterministic: bool = False):
        return nn.Dense(2)(nn.BatchNorm(use_running_average=deterministic)(x))


@pytest.mark.parametrize("module,switch", [(WithTraining(), "training"), (WithDeterministic(), "deterministic")])
def test_from_linen_finds_the_training_switch_by_its_usual_names(module, switch):
    auto, named = jaxgan.from_linen(module), jaxgan.from_linen(module, train_argument=switch)
    x = jax.random.normal(jax.random.PRNGKey(0), (16, 3)) * 3 + 1
    params, stats = auto.init(jax.random.PRNGKey(1), x)
    y_train, new_stats = auto.apply(params, stats, x, True)
    y_eval, same_stats = auto.apply(params, stats, x, False)
    assert not np.allclose(y_train, y_eval)  # batch statistics in training, running ones in evaluation
    jax.tree.map(np.testing.assert_array_equal, stats, same_stats)
    assert not np.allclose(new_stats["batch_stats"]["BatchNorm_0"]["mean"], 0.0)
    np.testing.assert_array_equal(y_eval, named.apply(params, stats, x, False)[0])
    with pytest.raises(Exception, match="batch_stats.*immutable"):  # told there is no switch: trains always
        jaxgan.from_linen(module, train_argument=None).apply(params, stats, x, False)


class DropoutCritic(nn.Module):
    """An MLP critic with dropout behind a ``train`` switch."""

    @nn.compact
    def __call__(self, x, train: bool = True):
        hidden = nn.relu(nn.Dense(16, name="hidden")(x))
        return nn.Dense(1, name="out")(nn.Dropout(0.5, deterministic=not train)(hidden))


def test_linen_dropout_draws_from_a_key_in_the_networks_statistics_that_each_training_call_advances():
    net = jaxgan.from_linen(DropoutCritic())
    x = jax.random.normal(jax.random.PRNGKey(0), (64, 2))
    params, stats = net.init(jax.random.PRNGKey(1), x)
    assert set(stats) == {jaxgan.networks.RNG_KEY}
    y1, stats1 = net.apply(params, stats, x, True)
    y2, stats2 = net.apply(params, stats1, x, True)
    assert not np.allclose(y1, y2)  # a fresh dropout mask for each training-mode call
    np.testing.assert_array_equal(y1, net.apply(params, stats, x, True)[0])  # drawn from the stored key
    y_eval, stats_eval = net.apply(params, stats, x, False)
    np.testing.assert_array_equal(stats_eval[jaxgan.networks.RNG_KEY], stats[jaxgan.networks.RNG_KEY])
    hidden = jax.nn.relu(x @ params["hidden"]["kernel"] + params["hidden"]["bias"])  # no dropout in evaluation
    np.testing.assert_allclose(y_eval, hidden @ params["out"]["kernel"] + params["out"]["bias"], rtol=1e-5, atol=1e-6)
    assert set(jaxgan.from_linen(MLP((8,), 1)).init(jax.random.PRNGKey(1), x)[1]) == set()  # none without dropout


def test_a_gan_with_a_dropout_critic_trains_from_its_seed_alone():
    gan = jaxgan.GAN(LinearGenerator(2), DropoutCritic(), optax.adam(1e-2), optax.adam(1e-2), 2, objective="nonsaturating")
    data = affine_gaussian(jax.random.PRNGKey(1), 256)
    run = lambda seed: jaxgan.fit(jaxgan.build_train_step(gan, random_batches(32)), jaxgan.init_state(gan, seed), data, 6)
    a, b, other = run(0), run(0), run(1)
    jax.tree.map(np.testing.assert_array_equal, a.state, b.state)  # the same seed, the same run
    assert not np.allclose(a.metrics["d_loss"], other.metrics["d_loss"])
    start = jaxgan.init_state(gan, 0).d.stats[jaxgan.networks.RNG_KEY]
    assert not np.array_equal(a.state.d.stats[jaxgan.networks.RNG_KEY], start)  # D's steps advanced its key


class NNXMLP(nnx.Module):
    def __init__(self, din, hidden, dout, rngs):
        self.l1 = nnx.Linear(din, hidden, rngs=rngs)
        self.bn = nnx.BatchNorm(hidden, rngs=rngs)
        self.l2 = nnx.Linear(hidden, dout, rngs=rngs)

    def __call__(self, x):
        return self.l2(nnx.relu(self.bn(self.l1(x))))


class LinenMLP(nn.Module):
    hidden: int
    out: int

    @nn.compact
    def __call__(self, x, train: bool = True):
        x = nn.BatchNorm(use_running_average=not train, momentum=0.99, epsilon=1e-5, name="bn")(nn.Dense(self.hidden, name="l1")(x))
        return nn.Dense(self.out, name="l2")(nn.relu(x))


def test_an_nnx_gan_trains_exactly_as_its_linen_twin_with_the_same_weights():
    make = lambda g, d: jaxgan.GAN(g, d, optax.adam(1e-3), optax.adam(2e-3, b1=0.5), 2, objective="nonsaturating")
    gan_nnx = make(NNXMLP(2, 8, 2, nnx.Rngs(0)), NNXMLP(2, 8, 1, nnx.Rngs(1)))
    gan_linen = make(LinenMLP(8, 2), LinenMLP(8, 1))
    s_nnx = jaxgan.init_state(gan_nnx, 0)

    def linen_player(player, optimizer):
        params = nnx.to_pure_dict(player.params)
        stats = {"batch_stats": {"bn": nnx.to_pure_dict(player.stats)["bn"]}}
        return jaxgan.PlayerState(params, stats, optimizer.init(params))

    s_linen = jaxgan.init_state(gan_linen, 0)._replace(
        g=linen_player(s_nnx.g, gan_linen.g_optimizer), d=linen_player(s_nnx.d, gan_linen.d_optimizer))
    data = affine_gaussian(jax.random.PRNGKey(1), 512)
    run = lambda gan, s: jaxgan.fit(jaxgan.build_train_step(gan, random_batches(32)), s, data, 40, chunk_size=20)
    r_nnx, r_linen = run(gan_nnx, s_nnx), run(gan_linen, s_linen)
    for name in ("d_loss", "g_loss", "d_real", "d_fake"):
        np.testing.assert_allclose(r_nnx.metrics[name], r_linen.metrics[name], rtol=1e-6, atol=1e-6)
    assert np.ptp(r_nnx.metrics["g_loss"]) > 1e-3  # it trained
    new_mean = nnx.to_pure_dict(r_nnx.state.g.stats)["bn"]["mean"]
    np.testing.assert_allclose(new_mean, r_linen.state.g.stats["batch_stats"]["bn"]["mean"], rtol=1e-5, atol=1e-6)


def test_generate_samples_g_in_evaluation_mode_in_batches_from_its_key():
    gan = toy_gan()
    state = jaxgan.init_state(gan, 0)
    key = jax.random.PRNGKey(5)
    samples = jaxgan.generate(gan, state, key, 2500, batch_size=1000)
    assert samples.shape == (2500, 2) and isinstance(samples, np.ndarray)
    z = np.concatenate([jax.random.normal(jax.random.fold_in(key, i), (1000, 2)) for i in range(3)])[:2500]
    w, b = state.g.params["linear"]["kernel"], state.g.params["linear"]["bias"]
    np.testing.assert_allclose(samples, z @ np.asarray(w) + np.asarray(b), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(samples[:7], jaxgan.generate_from(gan, state, z[:7]), rtol=1e-6, atol=1e-6)  # another batch shape


def test_generate_uses_gs_average_when_asked():
    from jaxgan.averaging import with_params_ema

    gan = jaxgan.GAN(LinearGenerator(2), MLP((8,), 2), with_params_ema(optax.adam(1e-1), 0.5), optax.adam(1e-2), 2)
    data = affine_gaussian(jax.random.PRNGKey(1), 256)
    state = jaxgan.fit(jaxgan.build_train_step(gan, random_batches(32)), jaxgan.init_state(gan, 0), data, 5).state
    z = np.ones((4, 2), np.float32)
    last, averaged = jaxgan.generate_from(gan, state, z), jaxgan.generate_from(gan, state, z, ema_decay=0.5)
    assert not np.allclose(last, averaged)
    ema = jaxgan.sampling.generator_params(state, 0.5)["linear"]
    np.testing.assert_allclose(averaged, z @ np.asarray(ema["kernel"]) + np.asarray(ema["bias"]), rtol=1e-5)


def test_with_n_critic_d_schedule_makes_a_cosine_decay_end_for_d_when_it_ends_for_g():
    steps, n_critic = 40, 5
    schedule = optax.cosine_decay_schedule(1e-2, steps)
    gan = jaxgan.GAN(LinearGenerator(2), MLP((8,), 1), optax.inject_hyperparams(optax.adam)(learning_rate=schedule),
                     optax.inject_hyperparams(optax.adam)(learning_rate=jaxgan.d_schedule(schedule, n_critic)), 2,
                     objective="wasserstein", n_critic=n_critic)
    data = affine_gaussian(jax.random.PRNGKey(1), 256)
    state = jaxgan.fit(jaxgan.build_train_step(gan, random_batches(32)), jaxgan.init_state(gan, 0), data, steps // 2).state
    g_lr, d_lr = state.g.opt_state.hyperparams["learning_rate"], state.d.opt_state.hyperparams["learning_rate"]
    assert int(state.d.opt_state.count) == n_critic * int(state.g.opt_state.count) == n_critic * steps // 2
    # halfway through the run both are halfway down the cosine (D's last update was in the last iteration)
    np.testing.assert_allclose(d_lr, schedule(steps // 2 - 1), rtol=1e-6)
    np.testing.assert_allclose(g_lr, schedule(steps // 2 - 1), rtol=1e-6)
    assert abs(float(schedule(n_critic * steps // 2 - 1)) - float(d_lr)) > 1e-3  # without d_schedule: ended


def test_the_progress_bar_shows_the_losses_of_the_iterations_it_has_reached(monkeypatch):
    events = []

    class Bar:
        def set_postfix(self, values, refresh=True):
            events.append(("postfix", values))

        def update(self, n):
            events.append(("update", n))

        def close(self):
            pass

    monkeypatch.setattr(jaxgan.train, "progress_bar", lambda total, enabled, desc: Bar())
    step = lambda s, d: (s + 1.0, {"g_loss": s})
    result = jaxgan.fit(step, jnp.float32(0.0), None, 6, chunk_size=3, progress=True)
    assert events == [("postfix", {"g_loss": 2.0}), ("update", 3), ("postfix", {"g_loss": 5.0}), ("update", 3)]
    assert result.metrics["g_loss"][-1] == 5.0


@pytest.mark.parametrize("objective,names", [
    ("nonsaturating", {"d_real", "d_fake", "d_fake_after"}),
    ("hinge", {"d_real_score", "d_fake_score", "d_fake_after_score"}),
])
def test_metrics_name_ds_output_for_what_it_is(objective, names):
    gan = jaxgan.GAN(LinearGenerator(2), MLP((8,), 1), optax.sgd(0.0), optax.sgd(0.0), 2, objective=objective)
    state = jaxgan.init_state(gan, 0)
    real, z = jax.random.normal(jax.random.PRNGKey(1), (16, 2)) + 3.0, jax.random.normal(jax.random.PRNGKey(2), (16, 2))
    _, metrics = jaxgan.build_train_step(gan, lambda data, key, i: data)(state, real)  # learning rate 0: D unchanged
    assert names <= set(metrics) and not ({"d_real", "d_real_score"} - names) & set(metrics)
    d = lambda x: gan.discriminator.apply(state.d.params, state.d.stats, x, True)[0]
    expected = d(real) if objective == "hinge" else jax.nn.sigmoid(d(real))
    name = "d_real_score" if objective == "hinge" else "d_real"
    np.testing.assert_allclose(metrics[name], jnp.mean(expected), rtol=1e-6)


def test_generate_from_stacked_runs_gives_each_runs_samples_of_the_same_noise():
    from jaxgan.averaging import with_params_ema

    gan = jaxgan.GAN(LinearGenerator(2), MLP((8,), 2), with_params_ema(optax.adam(1e-1), 0.5), optax.adam(1e-2), 2)
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    states = jaxgan.fit(jaxgan.build_train_step(gan, random_batches(32)), jaxgan.init_states(lambda k: jaxgan.init_state(gan, k), keys),
                        affine_gaussian(jax.random.PRNGKey(1), 256), 4, vmapped=True).state
    for ema_decay in (None, 0.5):
        together = jaxgan.generate(gan, states, jax.random.PRNGKey(5), 7, batch_size=3, ema_decay=ema_decay)
        assert together.shape == (3, 7, 2)
        for run in range(3):
            alone = jax.tree.map(lambda x: x[run], states)
            np.testing.assert_allclose(together[run], jaxgan.generate(gan, alone, jax.random.PRNGKey(5), 7, batch_size=3,
                                                                      ema_decay=ema_decay), rtol=1e-6, atol=1e-6)
    assert not np.allclose(together[0], together[1])


def test_a_latent_shape_that_is_not_ints_and_a_two_class_objective_on_one_logit_say_what_to_give():
    with pytest.raises(TypeError, match="latent_shape must be an int or a tuple of ints"):
        jaxgan.GAN(LinearGenerator(2), MLP((8,), 2), optax.adam(1e-2), optax.adam(1e-2), "2")
    gan = jaxgan.GAN(LinearGenerator(2), MLP((8,), 1), optax.adam(1e-2), optax.adam(1e-2), 2)  # softmax wants 2 logits
    with pytest.raises(ValueError, match=r"shape \(batch, 2\).*give D two outputs, or use an objective for one logit"):
        jaxgan.make_train_step(gan, random_batches(32))(jaxgan.init_state(gan, 0), affine_gaussian(jax.random.PRNGKey(1), 64))


def test_without_the_optional_packages_progress_warns_and_checkpointer_says_what_to_install(monkeypatch, tmp_path):
    from jaxgan.reliability.checkpoint import Checkpointer

    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.warns(UserWarning, match="tqdm.auto, which needs tqdm 4.27 or newer"):
        assert jaxgan.train.progress_bar(10, True, "training") is None
    monkeypatch.setitem(sys.modules, "orbax.checkpoint", None)
    with pytest.raises(ImportError, match="orbax-checkpoint, which is not installed: pip install orbax-checkpoint"):
        Checkpointer(tmp_path / "run")


def _switch_required(network):
    """The same network with an ``apply(params, stats, x, train)`` whose ``train`` has no default, as
    a network written by hand may have."""
    return jaxgan.Network(network.init, lambda params, stats, x, train: network.apply(params, stats, x, train))


@pytest.mark.parametrize("options", [{"objective": "relativistic", "d_penalty": jaxgan.losses.make_penalty("r1", 1.0)},
                                     {"objective": "wasserstein", "concat_real_fake": True}])
def test_every_step_passes_the_training_switch_to_a_network_written_by_hand(options):
    """The steps, the loops and ``GANLoss`` call ``apply`` with ``train`` given, so a ``Network`` whose
    ``apply`` has no default for it gives what the same network with a default gives (traced, not
    compiled: the programs' output shapes, a relativistic G loss and a penalty reaching every call)."""
    gan = jaxgan.GAN(LinearGenerator(2), MLP((8,), 1), optax.adam(1e-2), optax.adam(1e-2), 2, **options)
    by_hand = dataclasses.replace(gan, generator=_switch_required(gan.generator),
                                  discriminator=_switch_required(gan.discriminator))
    real = z = jax.ShapeDtypeStruct((8, 2), jnp.float32)
    data = jax.ShapeDtypeStruct((32, 2), jnp.float32)

    def programs(gan):
        state = jax.eval_shape(lambda: jaxgan.init_state(gan, 0))
        gan_loss = jaxgan.GANLoss(gan.discriminator, gan.d_optimizer, gan.objective, gan.d_penalty, gan.concat_real_fake)
        return [jax.eval_shape(jaxgan.build_d_step(gan), state, real, z),
                jax.eval_shape(jaxgan.build_g_step(gan), state, z, real),
                jax.eval_shape(jaxgan.build_d_then_g_step(gan), state, real, z),
                jax.eval_shape(jaxgan.build_train_step(gan, random_batches(8)), state, data),
                jax.eval_shape(jaxgan.build_modular_train_step(gan, random_batches(8)), state, data),
                jax.eval_shape(gan_loss, state.d, z, real, jax.random.PRNGKey(0))]

    assert programs(by_hand) == programs(gan)
