"""jaxgan.losses against independent float64 NumPy formulas, plus gradients and stability (the
penalties are in test_penalties.py)."""

import zlib

import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxgan import losses as L
from tests.jaxgan.losses.loss_references import REDUCTIONS, RTOL, np_align, np_log_softmax, np_reduce, np_sigmoid


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


def test_hinge_d_loss_has_margins_of_one_by_default():
    """``mean(max(0, 1 - D(x))) + mean(max(0, 1 + D(G(z))))``: scores between the margins 1 and 2
    tell a margin of 1 from one of 2 (here 0.25 + 0.5)."""
    real, fake = jnp.array([1.5, 0.5]), jnp.array([-1.5, 0.0])
    assert float(L.wasserstein_hinge_discriminator_loss(real, fake)) == 0.75


def test_relativistic_g_loss_weighs_each_term_once_by_default():
    """D's outputs all 0: each of the two terms is ``softplus(0) = log 2``."""
    zeros = jnp.zeros((3,))
    np.testing.assert_allclose(float(L.relativistic_generator_loss(zeros, zeros)), 2 * np.log(2.0), rtol=1e-6)


# The formulas with each loss's documented defaults (weights 1, the mean; label smoothing 0, margins
# of 1, least-squares labels 1 and 0), where CASES gives other options.
DEFAULT_FORMULAS = {
    "minimax_d": lambda r, f: (_np_bce(r, 1.0), -np.log(1 - np_sigmoid(f))),
    "hinge_d": lambda r, f: (np.maximum(0, 1 - r), np.maximum(0, 1 + f)),
    "least_squares_d": lambda r, f: (0.5 * (r - 1) ** 2, 0.5 * f**2),
    "least_squares_g": lambda f: 0.5 * (f - 1) ** 2,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_loss_given_only_logits_is_its_formula_with_its_defaults(name):
    """Called with the logits alone, each loss is its formula with its documented defaults: every
    example weighted 1, each term averaged over its batch (float64 NumPy)."""
    fn, kind, _, formula = CASES[name]
    formula = DEFAULT_FORMULAS.get(name, formula)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    real, fake = logits_for(name, rng, (6,)), logits_for(name, rng, (6,))
    r64, f64 = real.astype(np.float64), fake.astype(np.float64)
    if kind == "g":
        got, expected = fn(fake), np.mean(formula(f64))
    elif kind == "g_rel":
        got, expected = fn(fake, real), sum(np.mean(terms) for terms in formula(f64, r64))
    else:
        got, expected = fn(real, fake), sum(np.mean(terms) for terms in formula(r64, f64))
    np.testing.assert_allclose(float(got), expected, rtol=RTOL)


def test_two_class_losses_name_the_argument_that_is_not_two_logits():
    """The softmax losses say which argument lacks the ``(batch, 2)`` shape: D's real or fake logits."""
    two, one = jnp.zeros((3, 2)), jnp.zeros((3, 1))
    with pytest.raises(ValueError, match=r"^real_logits must have shape \(batch, 2\)"):
        L.softmax_discriminator_loss(one, two)
    with pytest.raises(ValueError, match=r"^fake_logits must have shape \(batch, 2\)"):
        L.softmax_discriminator_loss(two, one)
    with pytest.raises(ValueError, match=r"^fake_logits must have shape \(batch, 2\)"):
        L.softmax_generator_loss(one)
