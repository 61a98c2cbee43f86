"""jaxgan.losses.penalties (through jaxgan.losses): gradient penalties (WGAN-GP, DRAGAN, R1, R2) against
linear critics whose gradients are known and float64 NumPy formulas, under jit, vmap and grad,
and plugged into a GAN's D step."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from jaxgan import losses as L
from jaxgan.models.mlp import MLP, LinearGenerator
from tests.jaxgan.losses.loss_references import REDUCTIONS, RTOL, np_reduce

KEY = jax.random.PRNGKey(0)


def linear_d(w):
    """``D(x) = <w, x_i> + 0.3`` per example; x of shape (batch, *w.shape)."""
    return lambda x: jnp.sum(x * w, axis=tuple(range(1, x.ndim))) + 0.3


def test_gradient_penalty_zero_for_unit_norm_linear_d_and_positive_otherwise():
    rng = np.random.default_rng(5)
    real, fake = rng.normal(size=(2, 5, 2, 2, 1)).astype(np.float32)
    w = rng.normal(size=(2, 2, 1)).astype(np.float32)
    unit = w / np.linalg.norm(w)
    gp, norms = L.wasserstein_gradient_penalty(linear_d(unit), real, fake, KEY, return_norms=True)
    assert float(gp) == pytest.approx(0.0, abs=1e-10)
    np.testing.assert_allclose(np.asarray(norms), np.ones(5), rtol=RTOL)  # per example, not per batch
    assert norms.shape == (5,) and norms.dtype == jnp.float32
    # slope 2: (2/1 - 1)^2 = 1; with target 2 it is 0; one-sided ignores slopes below target
    assert float(L.wasserstein_gradient_penalty(linear_d(2 * unit), real, fake, KEY)) == pytest.approx(1.0, rel=RTOL)
    assert float(L.wasserstein_gradient_penalty(linear_d(2 * unit), real, fake, KEY, target=2.0)) == pytest.approx(0.0, abs=1e-10)
    assert float(L.wasserstein_gradient_penalty(linear_d(0.5 * unit), real, fake, KEY)) == pytest.approx(0.25, rel=RTOL)
    assert float(L.wasserstein_gradient_penalty(linear_d(0.5 * unit), real, fake, KEY, one_sided=True)) == 0.0
    assert float(L.dragan_penalty(linear_d(unit), real, KEY)) == pytest.approx(0.0, abs=1e-10)
    assert float(L.dragan_penalty(linear_d(3 * unit), real, KEY)) == pytest.approx(4.0, rel=RTOL)
    assert float(L.dragan_penalty(linear_d(0.5 * unit), real, KEY)) == pytest.approx(0.25, rel=RTOL)  # two-sided


def test_gradient_penalty_interpolates_per_example_and_matches_numpy():
    """With D(x) = ||x||^2 / 2, grad D(x_hat) = x_hat = a_i * fake_i (real = 0): the returned norms
    reveal one interpolation coefficient a_i in [0, 1) per example, and GP follows from them."""
    rng = np.random.default_rng(6)
    fake = rng.normal(size=(8, 3)).astype(np.float32)
    real = np.zeros_like(fake)
    d_fn = lambda x: 0.5 * jnp.sum(x**2, axis=1)
    gp, norms = L.wasserstein_gradient_penalty(d_fn, real, fake, KEY, return_norms=True)
    alpha = np.asarray(norms, np.float64) / np.linalg.norm(fake.astype(np.float64), axis=1)
    assert np.all((alpha >= 0) & (alpha < 1)) and len(np.unique(alpha.round(6))) == 8
    np.testing.assert_allclose(float(gp), np.mean((np.asarray(norms, np.float64) - 1) ** 2), rtol=RTOL)
    # same key, same penalty; another key, another interpolation
    assert float(L.wasserstein_gradient_penalty(d_fn, real, fake, KEY)) == float(gp)
    assert float(L.wasserstein_gradient_penalty(d_fn, real, fake, jax.random.PRNGKey(1))) != float(gp)


def test_r1_r2_of_linear_d_equal_squared_weight_norm_and_match_numpy():
    rng = np.random.default_rng(7)
    real, fake = rng.normal(size=(2, 4, 3)).astype(np.float32)
    w = rng.normal(size=(3,)).astype(np.float32)
    sq = float(np.sum(w.astype(np.float64) ** 2))
    assert float(L.r1_penalty(linear_d(w), real)) == pytest.approx(sq, rel=RTOL)
    assert float(L.r2_penalty(linear_d(w), fake)) == pytest.approx(sq, rel=RTOL)
    # a non-linear D: D(x) = sum x^3, grad = 3 x^2, ||grad||^2 = sum 9 x^4 per example
    cubic = lambda x: jnp.sum(x**3, axis=1)
    weights = np.array([1.0, 0.0, 2.0, 0.5], np.float32)
    per_example = np.sum(9 * real.astype(np.float64) ** 4, axis=1)
    for reduction in REDUCTIONS:
        np.testing.assert_allclose(
            np.asarray(L.r1_penalty(cubic, real, weights=weights, reduction=reduction), np.float64),
            np_reduce(per_example, weights, reduction), rtol=RTOL)
    _, norms = L.r1_penalty(cubic, real, return_norms=True)
    np.testing.assert_allclose(np.asarray(norms, np.float64), np.sqrt(per_example), rtol=RTOL)
    _, norms = L.r2_penalty(cubic, fake, return_norms=True)  # at the fake points
    np.testing.assert_allclose(np.asarray(norms, np.float64), np.sqrt(np.sum(9 * fake.astype(np.float64) ** 4, axis=1)),
                               rtol=RTOL)
    with pytest.raises(ValueError, match="per example"):
        L.r1_penalty(cubic, real, weights=np.ones((4, 3)))


def test_penalties_work_under_jit_vmap_and_grad():
    rng = np.random.default_rng(8)
    real, fake = rng.normal(size=(2, 6, 3)).astype(np.float32)
    ws = rng.normal(size=(4, 3)).astype(np.float32)  # 4 linear critics

    def gp_of(w, key):
        return L.wasserstein_gradient_penalty(linear_d(w), real, fake, key)

    def r1_of(w):
        return L.r1_penalty(linear_d(w), real)

    norms = np.linalg.norm(ws.astype(np.float64), axis=1)
    keys = jax.random.split(KEY, 4)
    np.testing.assert_allclose(np.asarray(jax.jit(jax.vmap(gp_of))(ws, keys)), (norms - 1) ** 2, rtol=RTOL)
    np.testing.assert_allclose(np.asarray(jax.vmap(r1_of)(ws)), norms**2, rtol=RTOL)
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||;  d/dw ||w||^2 = 2 w
    grad_gp = jax.jit(jax.vmap(jax.grad(gp_of)))(ws, keys)
    np.testing.assert_allclose(np.asarray(grad_gp), 2 * ((norms - 1) / norms)[:, None] * ws, rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(np.asarray(jax.vmap(jax.grad(r1_of))(ws)), 2 * ws, rtol=RTOL)
    # a D whose input gradient is exactly zero: the norm's gradient is 0, not NaN
    flat = lambda c: L.wasserstein_gradient_penalty(lambda x: c * jnp.sum(x, axis=1), real, fake, KEY)
    assert float(flat(0.0)) == 1.0 and np.isfinite(float(jax.grad(flat)(0.0)))


def test_penalties_on_bfloat16_inputs_return_float32():
    real = jnp.ones((3, 2), jnp.bfloat16)
    d_fn = lambda x: jnp.sum(x * jnp.array([0.6, 0.8], x.dtype), axis=1)
    for value, expected in (
        (L.wasserstein_gradient_penalty(d_fn, real, -real, KEY), 0.0),
        (L.r1_penalty(d_fn, real), 1.0),
        (L.dragan_penalty(d_fn, real, KEY), 0.0),
    ):
        # bfloat16 gradients carry ~3 significant digits
        assert value.dtype == jnp.float32 and float(value) == pytest.approx(expected, abs=1e-2)


def test_interpolating_penalties_give_d_inputs_of_the_datas_dtype():
    """WGAN-GP's and DRAGAN's points between or around the data keep its dtype (bfloat16 here)."""
    seen = []

    def d_fn(x):
        seen.append(x.dtype)
        return jnp.sum(x, axis=1)

    real = jnp.ones((3, 2), jnp.bfloat16)
    L.wasserstein_gradient_penalty(d_fn, real, -real, KEY)
    L.dragan_penalty(d_fn, real, KEY)
    assert seen and set(seen) == {jnp.dtype(jnp.bfloat16)}
    seen.clear()  # real and fake of two dtypes: the interpolates take the wider
    L.wasserstein_gradient_penalty(d_fn, real, -real.astype(jnp.float32), KEY)
    L.wasserstein_gradient_penalty(d_fn, real.astype(jnp.float32), -real, KEY)
    assert seen and set(seen) == {jnp.dtype(jnp.float32)}


def test_dragan_neighbours_lie_above_the_real_points_within_scale_times_std():
    """``x_hat = x + a * scale * std(x) * u`` with ``a, u`` in ``[0, 1)``: for ``D(x) = |x|^2 / 2``
    the gradient's norm is ``|x_hat|``, between ``|x|`` and ``|x + scale * std(x)|`` for positive
    data."""
    real = jnp.asarray(np.random.default_rng(3).uniform(1.0, 2.0, size=(6, 3)), jnp.float32)
    half_sq = lambda x: 0.5 * jnp.sum(x**2, axis=1)
    _, norms = L.dragan_penalty(half_sq, real, KEY, scale=0.5, return_norms=True)
    low = np.linalg.norm(np.asarray(real), axis=1)
    high = np.linalg.norm(np.asarray(real) + 0.5 * np.std(np.asarray(real)), axis=1)
    assert np.all(np.asarray(norms) > low) and np.all(np.asarray(norms) <= high * (1 + 1e-6))
    _, by_default = L.dragan_penalty(half_sq, real, KEY, return_norms=True)  # the default scale is 0.5
    np.testing.assert_array_equal(np.asarray(by_default), np.asarray(norms))


def test_interpolating_penalties_compute_in_float32_with_64_bit_types_enabled_too():
    """WGAN-GP and DRAGAN draw and interpolate in float32 whatever ``jax_enable_x64`` says: on float32
    data their values and per-example norms are bit for bit those computed without 64-bit types
    (a D with ``grad D(x) = x``, so that the norms are those of the points themselves; float64
    weights), and D gets float32 points around integer data."""
    rng = np.random.default_rng(11)
    real, fake = rng.normal(1.0, 2.0, size=(2, 64, 3)).astype(np.float32)
    seen = []

    def half_sq(x):
        seen.append(x.dtype)
        return 0.5 * jnp.sum(x**2, axis=1)

    def penalties(real, fake, key):
        integers = real.astype(jnp.int32)
        L.wasserstein_gradient_penalty(half_sq, integers, integers, key)
        L.dragan_penalty(half_sq, integers, key)
        weights = np.linspace(0.0, 2.0, 64)  # float64 weights: the penalties stay float32
        return (L.wasserstein_gradient_penalty(half_sq, real, fake, key, weights=weights, return_norms=True),
                L.dragan_penalty(half_sq, real, key, weights=weights, reduction="sum_by_nonzero_weights",
                                 return_norms=True))

    def run():  # compiled without LLVM's optimisations: the same program, compiled faster
        compiled = jax.jit(penalties).lower(real, fake, KEY).compile({"xla_backend_optimization_level": 0})
        return compiled(real, fake, KEY)

    plain = run()
    with jax.enable_x64(True):
        wide = run()
    for got, expected in zip(jax.tree.leaves(wide), jax.tree.leaves(plain)):
        assert got.dtype == jnp.float32
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))
    assert len(seen) == 8 and set(seen) == {jnp.dtype(jnp.float32)}


def test_penalty_weights_are_one_per_example():
    """Weights of shape ``(batch,)``, ``(batch, 1)`` or ``(1,)``, one per example; any other length is
    refused. ``sum_by_nonzero_weights`` divides by the number of non-zero weights (one, or all of
    them), and is 0 when there is none, even where D's gradient is infinite (NumPy: for
    ``D(x) = sum x^3`` the squared norm is ``sum 9 x^4``)."""
    real = np.random.default_rng(12).normal(size=(4, 3)).astype(np.float32)
    cubic = lambda x: jnp.sum(x**3, axis=1)
    per_example = np.sum(9 * real.astype(np.float64) ** 4, axis=1)
    w = np.array([0.5, 1.0, 2.0, 0.0], np.float32)
    by_example = float(L.r1_penalty(cubic, real, weights=w))
    assert by_example == pytest.approx(np.mean(w * per_example), rel=RTOL)
    assert float(L.r1_penalty(cubic, real, weights=w[:, None])) == by_example
    assert float(L.r1_penalty(cubic, real, weights=np.full((1,), 3.0))) == pytest.approx(3 * per_example.mean(), rel=RTOL)
    with pytest.raises(ValueError, match="per example"):
        L.r1_penalty(cubic, real, weights=np.ones(3))
    by_nonzero = lambda weights, d_fn=cubic: float(L.r1_penalty(d_fn, real, weights=weights,
                                                                reduction="sum_by_nonzero_weights"))
    assert by_nonzero(np.array([0.0, 2.0, 0.0, 0.0])) == pytest.approx(2 * per_example[1], rel=RTOL)
    assert by_nonzero(np.ones(4)) == pytest.approx(per_example.mean(), rel=RTOL)
    assert by_nonzero(np.zeros(4), lambda x: jnp.inf * jnp.sum(x, axis=1)) == 0.0


def test_a_flat_d_gives_the_gradient_penalty_a_zero_gradient_not_nan():
    """Where D's input gradient is 0 its norm is 0 and the penalty's gradient through that norm is
    0, not the NaN of ``sqrt``'s derivative at 0: ``(c * sqrt(3) - 1)^2`` at ``c = 0`` is 1."""
    real = jnp.ones((4, 3))
    flat = lambda c: L.wasserstein_gradient_penalty(lambda x: c * jnp.sum(x, axis=1), real, -real, KEY)
    value, grad = jax.jit(jax.value_and_grad(flat))(0.0)
    assert float(value) == 1.0 and float(grad) == 0.0


def test_make_penalty_weights_and_routes_arguments():
    rng = np.random.default_rng(9)
    real, fake = rng.normal(size=(2, 4, 3)).astype(np.float32)
    half_sq = lambda x: 0.5 * jnp.sum(x**2, axis=1)  # grad = x
    mean_sq = lambda a: np.mean(np.sum(a.astype(np.float64) ** 2, axis=1))
    assert set(L.penalty_names()) == {"gp", "r1", "r2", "dragan"}
    assert float(L.make_penalty("r1", 5.0)(half_sq, real, fake, KEY)) == pytest.approx(5 * mean_sq(real), rel=RTOL)
    assert float(L.make_penalty("r2", 5.0)(half_sq, real, fake, KEY)) == pytest.approx(5 * mean_sq(fake), rel=RTOL)
    for name, batch in (("r1", real), ("r2", fake)):  # options reach the function: a sum of 4 examples
        summed = L.make_penalty(name, 5.0, reduction="sum")(half_sq, real, fake, KEY)
        assert float(summed) == pytest.approx(5 * 4 * mean_sq(batch), rel=RTOL)
    gp = L.make_penalty("gp", 10.0, target=2.0)(half_sq, real, fake, KEY)
    assert float(gp) == pytest.approx(10 * float(L.wasserstein_gradient_penalty(half_sq, real, fake, KEY, target=2.0)), rel=RTOL)
    dragan = L.make_penalty("dragan", 10.0, scale=1.0)(half_sq, real, fake, KEY)
    assert float(dragan) == pytest.approx(10 * float(L.dragan_penalty(half_sq, real, KEY, scale=1.0)), rel=RTOL)
    with pytest.raises(ValueError, match="known penalties: dragan, gp, r1, r2"):
        L.make_penalty("r3", 1.0)
    with pytest.raises(ValueError, match="unknown options"):
        L.make_penalty("r1", 1.0, target=2.0)
    with pytest.raises(ValueError, match="scalar"):
        L.make_penalty("gp", 1.0, return_norms=True)
    with pytest.raises(ValueError, match="scalar"):
        L.make_penalty("r1", 1.0, reduction="none")
    assert float(L.make_penalty("r1", 0.0)(half_sq, real, fake, KEY)) == 0.0  # a weight of 0 turns it off
    with pytest.raises(ValueError, match="weight must be >= 0"):
        L.make_penalty("r1", -1.0)


def test_make_penalty_plugs_into_a_gan_d_step():
    gan = jaxgan.GAN(
        generator=jaxgan.from_linen(LinearGenerator(2)),
        discriminator=jaxgan.from_linen(MLP((8,), 1)),
        g_optimizer=optax.adam(1e-3),
        d_optimizer=optax.adam(1e-3),
        latent_shape=(2,),
        objective="wasserstein",
        d_penalty=L.make_penalty("gp", 10.0),
    )
    state = jaxgan.init_state(gan, jax.random.PRNGKey(0))
    state, z = jaxgan.sample_noise(gan, state, 8)
    real = jax.random.normal(jax.random.PRNGKey(1), (8, 2))
    _, metrics = jaxgan.make_d_step(gan)(state, real, z)
    assert metrics["d_penalty"].dtype == jnp.float32 and float(metrics["d_penalty"]) > 0
