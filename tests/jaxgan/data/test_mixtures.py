"""The ring and grid mixtures of Gaussians (``jaxgan.data.mixtures``): means, spread, samplers."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.data import mixtures as data
from jaxgan.data.synthetic import affine_gaussian

RING = data.get_mixture("ring")
GRID = data.get_mixture("grid")


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
