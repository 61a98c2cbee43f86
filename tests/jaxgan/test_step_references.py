"""The core's steps against an independent float64 NumPy reference (``numpy_reference`` here).

Two GANs, each giving G and D different optimizers or learning rates (so that handing one player
the other's optimizer changes the numbers, or fails):

* ``toy``: the lecture's G = one ``Linear(2, 2)``, D = ``MLP((20, 10), 2)`` with ReLU, the 2-class
  softmax objective; D: Adam(2e-3, b1=0.5), G: Adam(1e-3, b1=0.9).
* ``batchnorm``: G = ``Dense -> BatchNorm -> ReLU -> Dense``, D = ``Dense -> ReLU -> BatchNorm ->
  Dense`` (BatchNorm in training mode, momentum 0.9), one logit and the non-saturating objective;
  D: SGD(0.05), G: Adam(1e-3, b1=0.9).

Each check runs two steps, so that Adam's second update (which, unlike its first, depends on the
size of the gradient and not only on its sign) and its bias correction at ``t = 2`` are compared.

Tolerances. The library computes in float32, the reference in float64 from the same starting
values. Values of the forward pass agree within ``RTOL_VALUE = 1e-5`` of their size (losses and
probabilities) or of the largest running statistic (BatchNorm's): float32 keeps ~6e-8, and these
few-layer networks lose at most a few dozen of that. Gradients agree within
``RTOL_GRAD = 1e-4`` of the player's largest gradient element: the backward pass through
BatchNorm divides by the batch's standard deviation, which for a few active ReLU units amplifies
rounding to ~1e-5. Parameters agree within what such a gradient error can change through the
reference's own optimizer (SGD: ``lr * error``; Adam: see ``numpy_reference.Adam.update_bound``,
larger for small gradient elements because Adam's step is a ratio) plus the rounding of each
stored float32 value, ``eps32 * |theta|`` per step. Gradient ascent, the other player's optimizer, a wrong batch or a missing term change
gradients and parameters by the size of the gradient or of the update.

The tests compile without LLVM's optimisations (``FAST_COMPILE``): the same XLA program, compiled
faster.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.flatten_util import ravel_pytree

import jaxgan
from jaxgan.models.mlp import MLP, LinearGenerator
from tests.jaxgan import numpy_reference as ref

RTOL_VALUE = 1e-5
RTOL_GRAD = 1e-4
EPS32 = float(np.finfo(np.float32).eps)
BATCH = 8
FAST_COMPILE = {"xla_backend_optimization_level": 0}


class BatchNormGenerator(nn.Module):
    """``Dense(hidden, no bias) -> BatchNorm -> ReLU -> Dense(out)``.

    The first layer has no bias: BatchNorm subtracts the batch mean, so that bias's gradient is
    zero in exact arithmetic and float32 rounding noise in the library, which Adam would
    normalise into a full-size step.
    """

    hidden: int
    out: int

    @nn.compact
    def __call__(self, x, train: bool = True):
        x = nn.Dense(self.hidden, use_bias=False, name="dense0")(x)
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5, name="bn")(x)
        return nn.Dense(self.out, name="dense1")(nn.relu(x))


class BatchNormCritic(nn.Module):
    """``Dense(hidden) -> ReLU -> BatchNorm -> Dense(out)``.

    BatchNorm after the ReLU: a D that starts with ``Dense -> BatchNorm`` is blind to a shift of the
    whole batch, which would make the gradient of G's output bias exactly zero (rounding noise).
    """

    hidden: int
    out: int

    @nn.compact
    def __call__(self, x, train: bool = True):
        x = nn.relu(nn.Dense(self.hidden, name="dense0")(x))
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5, name="bn")(x)
        return nn.Dense(self.out, name="dense1")(x)


G_BN_SPEC = (("dense", "dense0"), ("batchnorm", "bn"), ("relu", None), ("dense", "dense1"))
D_BN_SPEC = (("dense", "dense0"), ("relu", None), ("batchnorm", "bn"), ("dense", "dense1"))
MLP_SPEC = (
    ("dense", "Dense_0"), ("relu", None),
    ("dense", "Dense_1"), ("relu", None),
    ("dense", "Dense_2"),
)  # fmt: skip

CASES = {
    "toy": dict(
        g=(LinearGenerator(2), ref.Net([("dense", "linear")])),
        d=(MLP((20, 10), 2), ref.Net(MLP_SPEC)),
        objective=("softmax", ref.Softmax()),
        g_opt=(optax.adam(1e-3, b1=0.9), ref.Adam(1e-3, b1=0.9)),
        d_opt=(optax.adam(2e-3, b1=0.5), ref.Adam(2e-3, b1=0.5)),
        latent=2,
    ),
    "batchnorm": dict(
        g=(BatchNormGenerator(4, 2), ref.Net(G_BN_SPEC, momentum=0.9)),
        d=(BatchNormCritic(5, 1), ref.Net(D_BN_SPEC, momentum=0.9)),
        objective=("nonsaturating", ref.NonSaturating()),
        g_opt=(optax.adam(1e-3, b1=0.9), ref.Adam(1e-3, b1=0.9)),
        d_opt=(optax.sgd(0.05), ref.Sgd(0.05)),
        latent=3,
    ),
}


def f64(x):
    return np.asarray(x, np.float64)


def to64(tree):
    """A Flax parameter/statistics pytree as nested dicts of float64 NumPy arrays."""
    if hasattr(tree, "items"):
        return {k: to64(v) for k, v in tree.items()}
    return f64(tree)


def snapshot(tree):
    return jax.tree.map(np.array, tree)


def compile_fast(jitted, *args):
    return jitted.lower(*args).compile(compiler_options=FAST_COMPILE)


class Setup:
    """A case's GAN, its reference pieces, an initial state and two batches of data and noise."""

    def __init__(self, name, seed=0):
        case = CASES[name]
        self.g_net, self.d_net = case["g"][1], case["d"][1]
        self.objective = case["objective"][1]
        self.g_opt, self.d_opt = case["g_opt"][1], case["d_opt"][1]
        self.gan = jaxgan.GAN(
            generator=jaxgan.from_linen(case["g"][0]),
            discriminator=jaxgan.from_linen(case["d"][0]),
            g_optimizer=case["g_opt"][0],
            d_optimizer=case["d_opt"][0],
            latent_shape=(case["latent"],),
            objective=case["objective"][0],
        )
        # Kept on the host: the compiled steps donate (delete) the state they are given.
        init = jax.jit(lambda key: jaxgan.init_state(self.gan, key))  # one compile, not one per op
        self.initial = snapshot(init(jax.random.PRNGKey(seed)))
        rng = np.random.default_rng(seed)
        self.real = rng.normal(1.0, 0.7, (2, BATCH, 2)).astype(np.float32)
        self.z = rng.normal(size=(2, BATCH, case["latent"])).astype(np.float32)

    def state(self):
        """A fresh device copy of the initial state."""
        return jax.tree.map(jnp.asarray, self.initial)

    def expected(self):
        """The initial G and D as :class:`Expected` reference players."""
        g, d = self.initial.g, self.initial.d
        return Expected(g, self.g_opt), Expected(d, self.d_opt)

    def d_step(self, g, d, real, z):
        """The reference D step: advances ``d``; returns the metrics."""
        new, metrics = ref.d_step(
            self.g_net, self.d_net, self.objective, self.d_opt, g.player, d.player,
            f64(real), f64(z),
        )  # fmt: skip
        d.advance(new)
        return metrics

    def g_step(self, g, d, z):
        """The reference G step: advances ``g``; returns the metrics."""
        new, metrics = ref.g_step(
            self.g_net, self.d_net, self.objective, self.g_opt, g.player, d.player, f64(z)
        )
        g.advance(new)
        return metrics


class Expected:
    """A reference player and how far the library's float32 player may be from it."""

    def __init__(self, player_state, optimizer):
        params = to64(player_state.params)
        stats = to64(player_state.stats)
        self.player = {"params": params, "stats": stats, "opt": optimizer.init(params)}
        self.optimizer = optimizer
        self.steps = 0
        self.grad_error = 0.0  # bound on the float32 error of any gradient so far
        self.grad_size = 0.0
        self.param_bound = ref.tree_map(np.zeros_like, params)

    def advance(self, new):
        grads = new["grads"]
        self.grad_size = max(self.grad_size, ref.max_abs(grads))
        self.grad_error = RTOL_GRAD * self.grad_size
        step_bound = self.optimizer.update_bound(new["opt"], grads, self.grad_error)
        rounding = ref.tree_map(lambda p: EPS32 * np.abs(p), new["params"])
        self.param_bound = ref.tree_map(
            lambda a, b, c: a + b + c, self.param_bound, step_bound, rounding
        )
        self.player = new
        self.steps += 1

    def check(self, lib):
        """Parameters, statistics and optimizer state of a library ``PlayerState``."""

        def check_params(x, expected, bound):
            err = np.abs(x - expected)
            assert x.shape == expected.shape and np.all(err <= bound), (
                f"max error {err.max():.3g} where the bound is {bound.min():.3g}..{bound.max():.3g}"
            )

        ref.tree_map(check_params, to64(lib.params), self.player["params"], self.param_bound)
        if self.player["stats"]:
            stats = self.player["stats"]
            assert_close(lib.stats, stats, RTOL_VALUE * ref.max_abs(stats))
        else:
            assert not lib.stats
        if isinstance(self.optimizer, ref.Adam):
            (adam,) = [s for s in lib.opt_state if isinstance(s, optax.ScaleByAdamState)]
            opt = self.player["opt"]
            assert int(adam.count) == opt["count"] == self.steps
            # mu averages the gradients, nu their squares: |d(g^2)| <= (2|g| + e) e.
            assert_close(adam.mu, opt["mu"], self.grad_error)
            assert_close(adam.nu, opt["nu"], 3 * self.grad_size * self.grad_error)


def assert_close(lib, expected, atol):
    def check(x, e):
        assert np.shape(x) == np.shape(e)
        np.testing.assert_allclose(f64(x), e, rtol=0, atol=atol)

    if isinstance(expected, dict):
        ref.tree_map(check, to64(lib), expected)
    else:
        check(lib, f64(expected))


def assert_metrics_match(lib, expected):
    assert set(lib) >= set(expected)
    for name, value in expected.items():
        assert_close(lib[name], value, RTOL_VALUE * abs(value))


def assert_trees_equal(a, b):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert jax.tree.structure(a) == jax.tree.structure(b) and la
    for x, y in zip(la, lb):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.fixture(scope="module", params=sorted(CASES))
def setup(request):
    return Setup(request.param)


# --------------------------------------------------------------------------------------------------
# The D step and the G step
# --------------------------------------------------------------------------------------------------


def test_d_step_matches_the_reference_and_leaves_g_untouched(setup):
    state = setup.state()
    d_step = compile_fast(jaxgan.make_d_step(setup.gan), state, setup.real[0], setup.z[0])
    g, d = setup.expected()
    for k in range(2):
        before = snapshot(state)
        state, metrics = d_step(state, setup.real[k], setup.z[k])
        assert_metrics_match(metrics, setup.d_step(g, d, setup.real[k], setup.z[k]))
        d.check(state.d)
        assert_trees_equal(state.g, before.g)  # G's parameters, statistics and optimizer state
        assert int(state.step) == 0  # a D step is not an iteration
        np.testing.assert_array_equal(state.key, before.key)  # no penalty: nothing random


def test_g_step_matches_the_reference_and_leaves_d_bit_identical(setup):
    state = setup.state()
    g_step = compile_fast(jaxgan.make_g_step(setup.gan), state, setup.z[0])
    g, d = setup.expected()
    for k in range(2):
        before = snapshot(state)
        state, metrics = g_step(state, setup.z[k])
        assert_metrics_match(metrics, setup.g_step(g, d, setup.z[k]))
        # Only G's gradient is taken, through D into G; G's running statistics become this
        # forward pass's.
        g.check(state.g)
        # D's parameters, running statistics and optimizer state pass through bit for bit: the G
        # step neither updates D nor keeps the statistics of D's forward pass.
        assert_trees_equal(state.d, before.d)
        assert int(state.step) == k + 1


# --------------------------------------------------------------------------------------------------
# The training loops: batches from the batch function, noise from the state's key
# --------------------------------------------------------------------------------------------------


def batch_by_index(data, key, index):
    """Batch ``index`` of ``data`` shaped ``(batches, batch, features)``; no key needed."""
    del key
    return data[index]


batch_by_index.uses_key = False


def documented_noise(key, shape):
    """As ``sample_noise``: the state's key is split (``take_key``), ``z ~ N(0, I)`` from the
    subkey."""
    key, sub = jax.random.split(key)
    return key, np.asarray(jax.random.normal(sub, shape, jnp.float32))


@pytest.mark.parametrize("loop", ["explicit", "modular"])
def test_training_loops_match_the_reference(setup, loop):
    """``build_train_step`` and the lecture's modular loop (``GANLoss`` inside G's loss) both do a
    reference D step and then a reference G step on the same noise, against the updated D.

    With ``n_critic = 1`` and ``reuse_noise`` the explicit loop's iteration is the fused
    ``build_d_then_g_step`` (one forward pass of G shared by both updates).
    """
    build = jaxgan.build_train_step if loop == "explicit" else jaxgan.build_modular_train_step
    state = setup.state()
    train_step = compile_fast(jax.jit(build(setup.gan, batch_by_index)), state, setup.real)
    g, d = setup.expected()
    key = np.asarray(state.key)
    for k in range(2):
        state, metrics = train_step(state, setup.real)
        key, z = documented_noise(key, (BATCH, *setup.gan.latent_shape))
        expected = setup.d_step(g, d, setup.real[k], z)
        expected.update(setup.g_step(g, d, z))
        assert_metrics_match(metrics, expected)
        d.check(state.d)
        g.check(state.g)
        assert int(state.step) == k + 1
        np.testing.assert_array_equal(state.key, key)


# --------------------------------------------------------------------------------------------------
# D's update treats G's output as a constant
# --------------------------------------------------------------------------------------------------


def test_d_step_update_has_zero_derivative_with_respect_to_g():
    """The library's D step sees ``stop_gradient(G(z))``: D's new parameters have derivative
    exactly 0 with respect to G's parameters, while they do depend on the real batch.

    D has SGD, so that its new parameters are a smooth function of its gradient: a path from G's
    parameters into D's update would show as a non-zero derivative.
    """
    gan = jaxgan.GAN(
        generator=jaxgan.from_linen(LinearGenerator(2)),
        discriminator=jaxgan.from_linen(MLP((20, 10), 2)),
        g_optimizer=optax.adam(1e-3),
        d_optimizer=optax.sgd(0.1),
        latent_shape=(2,),
    )
    state = jax.jit(lambda key: jaxgan.init_state(gan, key))(jax.random.PRNGKey(0))
    d_step = jaxgan.build_d_step(gan)
    rng = np.random.default_rng(1)
    real = jnp.asarray(rng.normal(size=(BATCH, 2)), jnp.float32)
    z = jnp.asarray(rng.normal(size=(BATCH, 2)), jnp.float32)
    # A random direction in D's parameter space: a non-zero Jacobian gives a non-zero product.
    direction = jnp.asarray(rng.normal(size=ravel_pytree(state.d.params)[0].shape), jnp.float32)

    def projected_new_d_params(g_params, real):
        s = state._replace(g=state.g._replace(params=g_params))
        return jnp.vdot(direction, ravel_pytree(d_step(s, real, z)[0].d.params)[0])

    grads = jax.jit(jax.grad(projected_new_d_params, argnums=(0, 1)))
    by_g, by_real = compile_fast(grads, state.g.params, real)(state.g.params, real)
    for leaf in jax.tree.leaves(by_g):
        np.testing.assert_array_equal(np.asarray(leaf), 0.0)
    assert np.any(np.asarray(by_real) != 0.0)  # the derivative is taken through the update
