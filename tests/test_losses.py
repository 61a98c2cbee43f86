"""jaxgan.losses against independent float64 NumPy formulas, plus gradients, stability and penalties."""

import zlib

import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxgan
from jaxgan import losses as L
from jaxgan.models.mlp import MLP, LinearGenerator

REDUCTIONS = ("mean", "sum", "none", "sum_by_nonzero_weights")
RTOL = 1e-5


# ------------------------------------------------------------------------------------------------
# Independent float64 NumPy references: the formulas written literally.
# ------------------------------------------------------------------------------------------------


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def np_align(weights, shape):
    """Weights aligned with the leading (batch) axis, broadcast to ``shape``."""
    w = np.asarray(weights, np.float64)
    if 0 < w.ndim < len(shape):
        w = w.reshape(w.shape + (1,) * (len(shape) - w.ndim))
    return np.broadcast_to(w, shape)


def np_reduce(elementwise, weights, reduction):
    """Per-example mean over the non-batch axes of the weighted losses, then the reduction."""
    elementwise = np.asarray(elementwise, np.float64)
    w = np_align(weights, elementwise.shape)
    weighted = elementwise * w
    batch = elementwise.shape[0]
    if reduction == "sum_by_nonzero_weights":
        return weighted.sum() / np.count_nonzero(w)
    per_example = weighted.reshape(batch, -1).mean(axis=1)
    return {"none": per_example, "sum": per_example.sum(), "mean": per_example.sum() / batch}[
        reduction
    ]


# name -> (function, kind, options, numpy elementwise terms). kind "d": f(real, fake) with two
# terms (real_terms, fake_terms); "g": f(fake); "g_rel": f(fake, real) with two terms.
def _np_bce(logits, target):
    p = np_sigmoid(logits)
    return -(target * np.log(p) + (1 - target) * np.log(1 - p))


def _np_rel(r, f):
    return r - f.mean(), f - r.mean()


CASES = {
    "softmax_d": (
        L.softmax_discriminator_loss, "d", {},
        lambda r, f: (-np_log_softmax(r)[..., 1], -np_log_softmax(f)[..., 0]),
    ),
    "softmax_g": (L.softmax_generator_loss, "g", {}, lambda f: -np_log_softmax(f)[..., 1]),
    "minimax_d": (
        L.minimax_discriminator_loss, "d", {"label_smoothing": 0.2},
        lambda r, f: (_np_bce(r, 0.8), -np.log(1 - np_sigmoid(f))),
    ),
    "minimax_g": (L.minimax_generator_loss, "g", {}, lambda f: np.log(1 - np_sigmoid(f))),
    "modified_d": (
        L.modified_discriminator_loss, "d", {},
        lambda r, f: (-np.log(np_sigmoid(r)), -np.log(1 - np_sigmoid(f))),
    ),
    "modified_g": (L.modified_generator_loss, "g", {}, lambda f: -np.log(np_sigmoid(f))),
    "wasserstein_d": (L.wasserstein_discriminator_loss, "d", {}, lambda r, f: (-r, f)),
    "wasserstein_g": (L.wasserstein_generator_loss, "g", {}, lambda f: -f),
    "hinge_d": (
        L.wasserstein_hinge_discriminator_loss, "d", {"real_hinge": 0.7, "fake_hinge": 1.3},
        lambda r, f: (np.maximum(0, 0.7 - r), np.maximum(0, 1.3 + f)),
    ),
    "hinge_g": (L.wasserstein_hinge_generator_loss, "g", {}, lambda f: -f),
    "least_squares_d": (
        L.least_squares_discriminator_loss, "d", {"real_label": 0.9, "fake_label": -0.2},
        lambda r, f: (0.5 * (r - 0.9) ** 2, 0.5 * (f + 0.2) ** 2),
    ),
    "least_squares_g": (
        L.least_squares_generator_loss, "g", {"real_label": 0.8}, lambda f: 0.5 * (f - 0.8) ** 2
    ),
    "relativistic_d": (
        L.relativistic_discriminator_loss, "d", {},
        lambda r, f: (-np.log(np_sigmoid(_np_rel(r, f)[0])), -np.log(1 - np_sigmoid(_np_rel(r, f)[1]))),
    ),
    "relativistic_g": (
        L.relativistic_generator_loss, "g_rel", {},
        lambda f, r: (-np.log(np_sigmoid(_np_rel(r, f)[1])), -np.log(1 - np_sigmoid(_np_rel(r, f)[0]))),
    ),
}


def logits_for(name, rng, shape):
    shape = shape + (2,) if name.startswith("softmax") else shape
    return rng.normal(0.0, 3.0, shape).astype(np.float32)


def weights_for(rng, mode, shape):
    """Non-uniform positive weights with one zero (so sum_by_nonzero_weights differs from mean)."""
    if mode == "scalar":
        return np.float32(0.7)
    w_shape = shape[:1] if mode == "per_example" else shape
    w = rng.uniform(0.2, 2.0, w_shape).astype(np.float32)
    w.reshape(-1)[1] = 0.0
    return w


def call_and_expect(name, real, fake, w, w_real, w_fake, reduction):
    """Runs the jaxgan loss and the float64 NumPy reference the same way."""
    fn, kind, options, ref = CASES[name]
    r64, f64 = real.astype(np.float64), fake.astype(np.float64)
    if kind == "g":
        got = fn(fake, weights=w, reduction=reduction, **options)
        return got, np_reduce(ref(f64), w, reduction)
    if kind == "g_rel":
        got = fn(fake, real, weights=w, reduction=reduction, **options)
        fake_terms, real_terms = ref(f64, r64)
        return got, np_reduce(fake_terms, w, reduction) + np_reduce(real_terms, w, reduction)
    real_terms, fake_terms = ref(r64, f64)
    if name.startswith("relativistic"):  # one `weights` for both terms
        got = fn(real, fake, weights=w, reduction=reduction, **options)
        return got, np_reduce(real_terms, w, reduction) + np_reduce(fake_terms, w, reduction)
    got = fn(real, fake, weights=w, real_weights=w_real, fake_weights=w_fake, reduction=reduction, **options)
    shape = real_terms.shape
    expected = np_reduce(real_terms, np_align(w, shape) * np_align(w_real, shape), reduction) + np_reduce(
        fake_terms, np_align(w, shape) * np_align(w_fake, shape), reduction
    )
    return got, expected


# ------------------------------------------------------------------------------------------------
# Values
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_matches_float64_numpy_for_every_reduction_and_weighting(name):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    for shape in [(6,), (6, 3)]:
        real, fake = logits_for(name, rng, shape), logits_for(name, rng, shape)
        for mode in ["scalar", "per_example", "elementwise"]:
            w = weights_for(rng, mode, shape)
            w_real = rng.uniform(0.5, 1.5, shape[:1]).astype(np.float32)
            w_fake = rng.uniform(0.5, 1.5, shape[:1]).astype(np.float32)
            for reduction in REDUCTIONS:
                got, expected = call_and_expect(name, real, fake, w, w_real, w_fake, reduction)
                assert got.dtype == jnp.float32
                assert got.shape == np.shape(expected)
                np.testing.assert_allclose(np.asarray(got, np.float64), expected, rtol=RTOL,
                                           err_msg=f"{name} {shape} {mode} {reduction}")


def test_mean_divides_by_batch_size_not_by_weight_sum():
    fake = jnp.array([1.0, 2.0, 3.0, 4.0])
    w = jnp.array([1.0, 0.0, 0.0, 1.0])
    assert float(L.wasserstein_generator_loss(fake, weights=w)) == pytest.approx(-(1 + 4) / 4)
    # TF-GAN's default divides by the number of non-zero weights.
    assert float(
        L.wasserstein_generator_loss(fake, weights=w, reduction="sum_by_nonzero_weights")
    ) == pytest.approx(-(1 + 4) / 2)


def test_per_example_weights_align_with_batch_axis_not_numpy_trailing_broadcast():
    fake = jnp.arange(4.0).reshape(4, 1)
    w = jnp.array([1.0, 2.0, 3.0, 4.0])
    got = L.wasserstein_generator_loss(fake, weights=w, reduction="none")
    np.testing.assert_array_equal(np.asarray(got), -np.arange(4.0) * np.array([1, 2, 3, 4]))
    with pytest.raises(ValueError, match="leading batch axis"):
        L.wasserstein_generator_loss(fake, weights=jnp.ones(3))


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.modified_generator_loss(jnp.zeros(3), reduction="avg")
    with pytest.raises(ValueError, match="equal batch sizes"):
        L.minimax_discriminator_loss(jnp.zeros(3), jnp.zeros(4), reduction="none")
    with pytest.raises(ValueError, match=r"\(batch, 2\)"):
        L.softmax_generator_loss(jnp.zeros((3, 1)))
    with pytest.raises(ValueError, match="needs real_logits"):
        L.relativistic_generator_loss(jnp.zeros(3), None)


def test_defaults_and_documented_relations():
    rng = np.random.default_rng(0)
    r, f = rng.normal(size=(2, 8)).astype(np.float32)
    # modified D loss is the minimax D loss, default smoothing 0
    assert float(L.modified_discriminator_loss(r, f)) == float(L.minimax_discriminator_loss(r, f))
    np.testing.assert_allclose(
        float(L.minimax_discriminator_loss(r, f)),
        np.mean(-np.log(np_sigmoid(r.astype(np.float64)))) + np.mean(-np.log(1 - np_sigmoid(f.astype(np.float64)))),
        rtol=RTOL,
    )
    # the CycleGAN reference's D loss: 0.5 * (MSE(D(x), 1) + MSE(D(G(z)), 0))
    np.testing.assert_allclose(
        float(L.least_squares_discriminator_loss(r, f)),
        0.5 * (np.mean((r.astype(np.float64) - 1) ** 2) + np.mean(f.astype(np.float64) ** 2)),
        rtol=RTOL,
    )


# ------------------------------------------------------------------------------------------------
# Gradients
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_float64_finite_differences(name):
    """jax.grad (float32) vs central differences of the float64 NumPy formula."""
    fn, kind, options, ref = CASES[name]
    rng = np.random.default_rng(1)
    shape = (5, 2) if name.startswith("softmax") else (5,)
    real = rng.normal(0, 2.0, shape)
    fake = rng.normal(0, 2.0, shape)
    w = rng.uniform(0.5, 1.5, 5)

    def numpy_loss(r, f):
        if kind == "g":
            return np_reduce(ref(f), w, "mean")
        if kind == "g_rel":
            a, b = ref(f, r)
            return np_reduce(a, w, "mean") + np_reduce(b, w, "mean")
        a, b = ref(r, f)
        return np_reduce(a, w, "mean") + np_reduce(b, w, "mean")

    def jax_loss(r, f):
        if kind == "g":
            return fn(f, weights=w, **options)
        if kind == "g_rel":
            return fn(f, r, weights=w, **options)
        return fn(r, f, weights=w, **options)

    r32, f32 = real.astype(np.float32), fake.astype(np.float32)
    grads = jax.grad(jax_loss, argnums=(0, 1))(jnp.asarray(r32), jnp.asarray(f32))
    base = (r32.astype(np.float64), f32.astype(np.float64))
    h = 1e-6
    for arg in (0, 1):
        fd = np.zeros(shape)
        for idx in np.ndindex(shape):
            plus, minus = [list(base), list(base)]
            plus[arg], minus[arg] = base[arg].copy(), base[arg].copy()
            plus[arg][idx] += h
            minus[arg][idx] -= h
            fd[idx] = (numpy_loss(*plus) - numpy_loss(*minus)) / (2 * h)
        np.testing.assert_allclose(np.asarray(grads[arg], np.float64), fd, rtol=RTOL, atol=1e-8,
                                   err_msg=f"{name} d/d{'real' if arg == 0 else 'fake'}")


def test_nonsaturating_gradient_survives_where_minimax_vanishes():
    """D confidently rejects the fakes (logit -12): minimax's G gradient sigma(l) ~ 6e-6 vanishes,
    the non-saturating one 1 - sigma(l) stays ~1 (per example, before the 1/batch of the mean)."""
    fake = jnp.full((4,), -12.0)
    g_minimax = jax.grad(L.minimax_generator_loss)(fake) * 4
    g_modified = jax.grad(L.modified_generator_loss)(fake) * 4
    np.testing.assert_allclose(np.asarray(g_minimax), -np_sigmoid(-12.0), rtol=RTOL)
    np.testing.assert_allclose(np.asarray(g_modified), -(1 - np_sigmoid(-12.0)), rtol=RTOL)
    assert np.all(np.abs(g_modified) > 1e5 * np.abs(g_minimax))
    # and where D is fooled (logit +12) the roles swap: minimax's gradient is the strong one
    assert abs(float(jax.grad(L.minimax_generator_loss)(jnp.array([12.0]))[0])) > 0.99


# ------------------------------------------------------------------------------------------------
# Stability and dtypes
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_extreme_logits_give_finite_float32_values_and_gradients(dtype):
    base = jnp.array([-1e4, -30.0, 0.0, 30.0, 1e4], jnp.float32)
    for name, (fn, kind, options, _) in sorted(CASES.items()):
        logits = jnp.stack([base, -base], axis=-1) if name.startswith("softmax") else base
        real, fake = logits.astype(dtype), logits[::-1].astype(dtype)
        if kind == "g":
            loss_fn = lambda r, f: fn(f, **options)
        elif kind == "g_rel":
            loss_fn = lambda r, f: fn(f, r, **options)
        else:
            loss_fn = lambda r, f: fn(r, f, **options)
        value, grads = jax.value_and_grad(loss_fn, argnums=(0, 1))(real, fake)
        assert value.dtype == jnp.float32, name
        assert np.isfinite(float(value)), name
        for g in grads:
            assert g.dtype == dtype and np.all(np.isfinite(np.asarray(g, np.float32))), name
    # the values themselves are right at the extremes (log(sigmoid(x)) would give inf here)
    assert float(L.modified_generator_loss(jnp.array([-1e4], dtype))) == pytest.approx(1e4, rel=1e-2)
    assert float(L.minimax_generator_loss(jnp.array([1e4], dtype))) == pytest.approx(-1e4, rel=1e-2)


# ------------------------------------------------------------------------------------------------
# Translation losses
# ------------------------------------------------------------------------------------------------


def test_cycle_and_identity_losses_match_numpy():
    rng = np.random.default_rng(3)
    x, xr, y, yr = rng.normal(size=(4, 3, 4, 4, 2)).astype(np.float32)
    l1 = lambda a, b: np.mean(np.abs(a.astype(np.float64) - b.astype(np.float64)))
    np.testing.assert_allclose(float(L.cycle_consistency_loss(x, xr, y, yr)), (l1(x, xr) + l1(y, yr)) / 2, rtol=RTOL)
    np.testing.assert_allclose(float(L.identity_loss(x, xr, y, yr)), (l1(x, xr) + l1(y, yr)) / 2, rtol=RTOL)
    np.testing.assert_allclose(float(L.identity_loss(x, xr)), l1(x, xr), rtol=RTOL)
    w = np.array([0.5, 1.0, 2.0], np.float32)
    per_example = L.cycle_consistency_loss(x, xr, y, yr, weights=w, reduction="none")
    expected = 0.5 * w * (np.abs(x - xr).reshape(3, -1).mean(1) + np.abs(y - yr).reshape(3, -1).mean(1))
    np.testing.assert_allclose(np.asarray(per_example), expected, rtol=RTOL)
    with pytest.raises(ValueError, match="both"):
        L.identity_loss(x, xr, y)


# ------------------------------------------------------------------------------------------------
# Registry
# ------------------------------------------------------------------------------------------------


def test_registry_resolves_every_name_with_the_core_signatures():
    assert set(L.objective_names()) == {
        "softmax", "minimax", "nonsaturating", "wasserstein", "hinge", "least_squares", "relativistic"
    }
    rng = np.random.default_rng(4)
    for name in L.objective_names():
        shape = (4, 2) if name == "softmax" else (4, 1)
        r, f = rng.normal(size=(2, *shape)).astype(np.float32)
        obj = L.get_objective(name)
        assert obj.generator_needs_real == (name == "relativistic")
        assert np.isfinite(float(obj.d_loss(r, f)))
        assert np.isfinite(float(obj.g_loss(f, r)))
        if not obj.generator_needs_real:
            assert float(obj.g_loss(f, None)) == float(obj.g_loss(f, r))
    ns = L.get_objective("nonsaturating")
    r, f = rng.normal(size=(2, 4)).astype(np.float32)
    assert float(ns.g_loss(f)) == float(L.modified_generator_loss(f))
    assert float(L.get_objective("hinge").d_loss(r, f)) == float(L.wasserstein_hinge_discriminator_loss(r, f))
    assert float(L.get_objective("relativistic").g_loss(f, r)) == float(L.relativistic_generator_loss(f, r))
    assert L.get_objective(ns) is ns
    # objectives vmap over a leading axis of runs (e.g. seeds) like any jnp function
    runs_r, runs_f = rng.normal(size=(2, 3, 4, 1)).astype(np.float32)
    hinge = L.get_objective("hinge").d_loss
    np.testing.assert_allclose(
        np.asarray(jax.jit(jax.vmap(hinge))(runs_r, runs_f)),
        [float(hinge(a, b)) for a, b in zip(runs_r, runs_f)], rtol=RTOL)
    with pytest.raises(ValueError, match="known losses: hinge, least_squares"):
        L.get_objective("wgan")


def test_every_public_function_has_a_docstring_with_a_formula():
    for name in L.__all__:
        doc = getattr(L, name).__doc__
        assert doc and doc.strip(), name
        if name.endswith(("_loss", "_penalty")) and name != "make_penalty":
            assert "=" in doc and ("E" in doc or "mean" in doc), name


# ------------------------------------------------------------------------------------------------
# Penalties
# ------------------------------------------------------------------------------------------------

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


def test_make_penalty_weights_and_routes_arguments():
    rng = np.random.default_rng(9)
    real, fake = rng.normal(size=(2, 4, 3)).astype(np.float32)
    half_sq = lambda x: 0.5 * jnp.sum(x**2, axis=1)  # grad = x
    mean_sq = lambda a: np.mean(np.sum(a.astype(np.float64) ** 2, axis=1))
    assert set(L.penalty_names()) == {"gp", "r1", "r2", "dragan"}
    assert float(L.make_penalty("r1", 5.0)(half_sq, real, fake, KEY)) == pytest.approx(5 * mean_sq(real), rel=RTOL)
    assert float(L.make_penalty("r2", 5.0)(half_sq, real, fake, KEY)) == pytest.approx(5 * mean_sq(fake), rel=RTOL)
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


# ------------------------------------------------------------------------------------------------
# Property tests
# ------------------------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=15, deadline=None)


@st.composite
def logits_case(draw):
    batch = draw(st.integers(1, 4))
    extra = draw(st.sampled_from([(), (1,), (3,), (2, 2)]))
    dtype = draw(st.sampled_from([np.float32, jnp.bfloat16]))
    elements = st.floats(-1e4, 1e4, width=32)
    real = draw(hnp.arrays(np.float32, (batch, *extra), elements=elements))
    fake = draw(hnp.arrays(np.float32, (batch, *extra), elements=elements))
    scale = draw(st.floats(0.125, 8.0, width=32))
    return real.astype(dtype), fake.astype(dtype), np.float32(scale)


@PROPERTY_SETTINGS
@given(logits_case())
def test_property_finite_and_sum_equals_mean_times_batch(case):
    real, fake, scale = case
    batch = real.shape[0]
    for name, (fn, kind, options, _) in sorted(CASES.items()):
        if name.startswith("softmax"):
            r, f = np.stack([real, -real], -1), np.stack([fake, -fake], -1)
        else:
            r, f = real, fake
        call = {
            "g": lambda **kw: fn(f, **options, **kw),
            "g_rel": lambda **kw: fn(f, r, **options, **kw),
            "d": lambda **kw: fn(r, f, **options, **kw),
        }[kind]
        mean = call(weights=scale)
        total = call(weights=scale, reduction="sum")
        none = call(weights=scale, reduction="none")
        assert mean.dtype == total.dtype == none.dtype == jnp.float32, name
        assert none.shape == (batch,), name
        assert np.all(np.isfinite(np.asarray(none))), name
        tol = 1e-5 * (1.0 + float(jnp.sum(jnp.abs(none))))
        assert abs(float(total) - float(mean) * batch) <= tol, name
        assert abs(float(jnp.sum(none)) - float(total)) <= tol, name
