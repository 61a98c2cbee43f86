"""The mode-collapse metrics of the mixtures (``jaxgan.metrics.mixtures``): modes, HQ %, reverse KL, counts."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.data import mixtures as data
from jaxgan.metrics import mixtures as mm

RING = data.get_mixture("ring")
GRID = data.get_mixture("grid")


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
