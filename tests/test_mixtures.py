"""The ring / grid mixtures and the mode-collapse metrics (modes, HQ %, reverse KL, counts)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.data import mixtures as data
from jaxgan.data.synthetic import affine_gaussian
from jaxgan.metrics import mixtures as mm

RING = data.get_mixture("ring")
GRID = data.get_mixture("grid")


# ----------------------------------------------------------------------------------------- data


def test_ring_has_eight_distinct_means_on_the_unit_circle():
    means = data.ring_means()
    assert means.shape == (8, 2)
    # all pairwise distances are the chord of 2 pi / 8 or more: no repeated endpoint (linspace bug)
    d = np.linalg.norm(means[:, None] - means[None], axis=-1)
    off_diag = d[~np.eye(8, dtype=bool)]
    assert off_diag.min() == pytest.approx(2 * math.sin(math.pi / 8), rel=1e-5)
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(means[0], [1.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(means[2], [0.0, 1.0], atol=1e-6)
    assert RING.std == 0.01


def test_grid_means_are_the_25_points_of_minus4_to_4_step_2():
    means = data.grid_means()
    assert means.shape == (25, 2)
    expected = {(float(x), float(y)) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert {tuple(map(float, m)) for m in means} == expected
    assert GRID.std == 0.05


def test_unknown_mixture_name_fails():
    with pytest.raises(ValueError, match="unknown mixture"):
        data.get_mixture("spiral")


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_samples_are_uniform_over_modes_with_the_right_spread(name):
    mix = data.get_mixture(name)
    n = 40_000
    x = np.asarray(data.sample_mixture(jax.random.PRNGKey(3), mix.means, mix.std, n))
    assert x.shape == (n, 2) and x.dtype == np.float32
    nearest = np.argmin(((x[:, None] - mix.means[None]) ** 2).sum(-1), axis=1)
    k = len(mix.means)
    freq = np.bincount(nearest, minlength=k) / n
    # binomial std of one frequency is <= 0.0018 here: 0.012 is > 6 std
    np.testing.assert_allclose(freq, 1.0 / k, atol=0.012)
    residual = x - mix.means[nearest]
    # per-coordinate std estimated from 80k values: relative error ~0.25%, tolerance 2%
    assert residual.std() == pytest.approx(mix.std, rel=0.02)
    assert abs(residual.mean()) < 5 * mix.std / math.sqrt(2 * n)


def test_named_samplers_and_batch_fn_are_deterministic_in_the_key():
    key = jax.random.PRNGKey(7)
    np.testing.assert_array_equal(data.ring(key, 64), data.sample_mixture(key, RING.means, RING.std, 64))
    np.testing.assert_array_equal(data.grid(key, 64), data.sample_mixture(key, GRID.means, GRID.std, 64))
    batch_fn = data.mixture_batches(32, RING.std)
    a = batch_fn(jnp.asarray(RING.means), key, 0)
    b = batch_fn(jnp.asarray(RING.means), key, 5)  # index is unused: the key decides
    c = batch_fn(jnp.asarray(RING.means), jax.random.PRNGKey(8), 0)
    assert a.shape == (32, 2)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_affine_gaussian_is_re_exported_not_copied():
    assert data.affine_gaussian is affine_gaussian


def test_bad_sizes_fail():
    with pytest.raises(ValueError):
        data.mixture_batches(0, 0.1)
    with pytest.raises(ValueError):
        data.sample_mixture(jax.random.PRNGKey(0), RING.means, RING.std, 0)


# -------------------------------------------------------------------------------------- metrics


def _on_means(means, per_mode):
    return np.repeat(np.asarray(means), per_mode, axis=0)


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_samples_on_every_mean_cover_all_modes_with_full_quality_and_zero_kl(name):
    mix = data.get_mixture(name)
    m = mm.mixture_metrics(_on_means(mix.means, 10), mix.means, mix.std)
    k = len(mix.means)
    assert int(m["modes"]) == k
    assert float(m["hq_percent"]) == pytest.approx(100.0)
    assert float(m["reverse_kl"]) == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_array_equal(m["counts"], np.full(k, 10))


def test_samples_on_three_of_eight_means_cover_three_modes():
    means = RING.means
    samples = _on_means(means[[0, 3, 5]], 7)
    m = mm.mixture_metrics(samples, means, RING.std)
    assert int(m["modes"]) == 3
    assert float(m["hq_percent"]) == pytest.approx(100.0)
    np.testing.assert_array_equal(np.nonzero(np.asarray(m["counts"]))[0], [0, 3, 5])
    # three equal modes out of 8: KL = log(8 / 3)
    assert float(m["reverse_kl"]) == pytest.approx(math.log(8 / 3), rel=1e-5)


def test_samples_four_std_away_are_not_high_quality():
    means = RING.means
    direction = np.array([[0.6, 0.8]], np.float32)
    samples = _on_means(means, 5) + 4 * RING.std * direction
    m = mm.mixture_metrics(samples, means, RING.std)
    assert float(m["hq_percent"]) == 0.0
    assert int(m["modes"]) == 0
    assert np.isnan(float(m["reverse_kl"]))  # no HQ sample: the histogram is undefined


def test_the_three_std_threshold_is_where_quality_ends():
    means = GRID.means
    offsets = np.array([[2.9, 0.0], [0.0, -2.99], [3.01, 0.0], [0.0, 3.2]], np.float32) * GRID.std
    samples = means[12] + offsets  # the centre mode (0, 0)
    counts = np.asarray(mm.mode_counts(samples, means, GRID.std))
    assert counts[12] == 2 and counts.sum() == 2
    assert float(mm.high_quality_percent(counts, 4)) == pytest.approx(50.0)


def test_reverse_kl_matches_the_formula_and_its_extremes():
    counts = np.array([5, 0, 3, 2], np.int32)
    p = counts / counts.sum()
    expected = sum(pi * math.log(4 * pi) for pi in p if pi > 0)
    assert float(mm.reverse_kl(counts)) == pytest.approx(expected, rel=1e-5)
    assert float(mm.reverse_kl(np.array([0, 9, 0, 0]))) == pytest.approx(math.log(4), rel=1e-6)
    assert float(mm.reverse_kl(np.array([4, 4, 4, 4]))) == pytest.approx(0.0, abs=1e-7)


def test_nearest_mode_assigns_each_sample_to_its_closest_mean():
    means = GRID.means
    samples = np.array([[0.9, 0.1], [1.1, 0.1], [-3.7, 3.9]], np.float32)
    index, dist = mm.nearest_mode(samples, means)
    np.testing.assert_allclose(means[np.asarray(index)], [[0, 0], [2, 0], [-4, 4]])
    np.testing.assert_allclose(dist, [math.hypot(0.9, 0.1), math.hypot(0.9, 0.1), math.hypot(0.3, 0.1)], rtol=1e-5)


def test_true_ring_samples_are_98_9_percent_high_quality():
    # For x ~ N(m, s^2 I) in 2D, P(||x - m|| < 3 s) = 1 - exp(-9 / 2) = 98.89%: the data's own ceiling.
    x = data.ring(jax.random.PRNGKey(11), 20_000)
    m = mm.mixture_metrics(x, RING.means, RING.std)
    assert int(m["modes"]) == 8
    assert float(m["hq_percent"]) == pytest.approx(100 * (1 - math.exp(-4.5)), abs=0.5)
    assert float(m["reverse_kl"]) < 0.005


def test_metrics_vmap_over_seeds_equals_one_call_per_seed():
    keys = jax.random.split(jax.random.PRNGKey(5), 3)
    # three "runs": the true grid, the grid squeezed onto 9 modes, and a blurred grid
    good = data.grid(keys[0], 500)
    squeezed = jnp.clip(data.grid(keys[1], 500), -2.0, 2.0)
    blurred = data.sample_mixture(keys[2], GRID.means, 4 * GRID.std, 500)
    runs = jnp.stack([good, squeezed, blurred])
    batched = jax.jit(jax.vmap(lambda s: mm.mixture_metrics(s, GRID.means, GRID.std)))(runs)
    for r in range(3):
        single = mm.mixture_metrics(runs[r], GRID.means, GRID.std)
        for name in ("modes", "hq_percent", "reverse_kl", "counts"):
            np.testing.assert_allclose(batched[name][r], single[name], rtol=1e-6)
    # the three runs really differ: all modes, clipped onto the inner 3 x 3, mostly out of 3 std
    np.testing.assert_array_equal(batched["modes"][:2], [25, 9])
    assert float(batched["hq_percent"][2]) < 40.0  # P(||x - m|| < 0.75 s') = 1 - exp(-0.28) = 24%


# ------------------------------------------------------------------------------- PacGAN's networks


def test_maxout_mlp_takes_the_max_over_each_units_pieces():
    from jaxgan.models.mixture import MaxoutMLP

    net = MaxoutMLP(width=3, depth=1, pieces=2, out=1)
    x = jax.random.normal(jax.random.PRNGKey(0), (5, 2))
    params = net.init(jax.random.PRNGKey(1), x)["params"]
    w, b = params["Dense_0"]["kernel"], params["Dense_0"]["bias"]
    h = (x @ w + b).reshape(5, 3, 2)  # unit j's pieces are columns 2j and 2j + 1
    expected = jnp.max(h, axis=-1) @ params["Dense_1"]["kernel"] + params["Dense_1"]["bias"]
    np.testing.assert_allclose(net.apply({"params": params}, x), expected, rtol=1e-5, atol=1e-6)
    assert float(jnp.std(w)) == pytest.approx(0.02, rel=0.5)  # N(0, 0.02^2) init


def test_batchnorm_mlp_uses_batch_statistics_in_training_and_running_ones_in_evaluation():
    import jaxgan
    from jaxgan.models.mixture import BatchNormMLP

    g = jaxgan.from_linen(BatchNormMLP(width=4, depth=2, out=2))
    z = jax.random.normal(jax.random.PRNGKey(0), (16, 2))
    params, stats = g.init(jax.random.PRNGKey(1), z)
    assert "batch_stats" in stats
    y_train, new_stats = g.apply(params, stats, z, True)
    mean0 = new_stats["batch_stats"]["BatchNorm_0"]["mean"]
    # running mean <- 0.95 * 0 + 0.05 * batch mean of the first layer's pre-activations
    pre = z @ params["Dense_0"]["kernel"]
    np.testing.assert_allclose(mean0, 0.05 * pre.mean(0), rtol=1e-4, atol=1e-7)
    y_eval, same = g.apply(params, stats, z, False)
    assert same is stats
    assert not np.allclose(y_train, y_eval)
    # in training mode one example's output depends on the others (batch statistics)
    y_half, _ = g.apply(params, stats, z[:8], True)
    assert not np.allclose(y_half, y_train[:8])


def test_scaled_mlp_is_an_mlp_in_normalised_units():
    from jaxgan.models.mixture import ScaledMLP
    from jaxgan.models.mlp import MLP

    net = ScaledMLP((6, 5), out=2, activation="relu", input_scale=4.0, output_scale=3.0)
    x = jax.random.normal(jax.random.PRNGKey(0), (7, 2)) * 4
    params = net.init(jax.random.PRNGKey(1), x)["params"]
    inner = MLP(hidden=(6, 5), out=2, activation="relu")
    expected = 3.0 * inner.apply({"params": params["MLP_0"]}, x / 4.0)
    np.testing.assert_allclose(net.apply({"params": params}, x), expected, rtol=1e-6)
