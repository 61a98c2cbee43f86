"""Precision, recall, density and coverage (``jaxgan.metrics.manifolds``) against ``prdc`` and known cases."""

import jax
import numpy as np
import pytest

from jaxgan.data import mixtures as data
from jaxgan.metrics import manifolds as mf

NAMES = ("precision", "recall", "density", "coverage")


def _floats(result) -> dict[str, float]:
    return {name: float(result[name]) for name in NAMES}


def _prdc64(real, fake, k=mf.DEFAULT_K, block_size=mf.DEFAULT_BLOCK):
    with jax.enable_x64(True):
        return _floats(mf.precision_recall_density_coverage(real, fake, k, block_size))


@pytest.mark.parametrize(
    "n, m, dim, k, block_size, scale, shift",
    [
        (300, 250, 16, 3, 64, 1.3, 0.3),
        (257, 301, 64, 5, 100, 1.0, 0.0),
        (120, 90, 2, 3, 1024, 1.3, 1.0),
        (200, 200, 8, 1, 33, 1.3, 0.5),
    ],
)
def test_agrees_with_the_reference_prdc_on_random_features(n, m, dim, k, block_size, scale, shift):
    prdc = pytest.importorskip("prdc")
    rng = np.random.default_rng(n + dim)
    real = rng.normal(size=(n, dim))
    fake = scale * rng.normal(size=(m, dim)) + shift
    expected = prdc.compute_prdc(real, fake, k)
    got = _prdc64(real, fake, k, block_size)
    for name in NAMES:
        assert got[name] == pytest.approx(float(expected[name]), abs=1e-6), name
    assert 0.0 < got["precision"] < 1.0 and 0.0 < got["recall"] < 1.0  # not a degenerate case


def test_radii_are_the_kth_neighbour_distances_of_a_brute_force_sort():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(101, 5))
    d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    for k in (1, 3, 7):
        expected = np.sort(d, axis=1)[:, k]  # column 0 is the point itself
        with jax.enable_x64(True):
            got = np.asarray(mf.knn_radii(x, k, 16))
        np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_identical_sets_score_one_on_everything():
    x = np.random.default_rng(0).normal(size=(150, 10)).astype(np.float32)
    got = _floats(mf.precision_recall_density_coverage(x, x, block_size=32))
    # each point lies in its own ball, and each ball holds exactly its k points (itself and k - 1 others)
    assert got == pytest.approx({name: 1.0 for name in NAMES}, abs=1e-6)


def test_two_draws_of_one_mixture_score_near_one_and_the_expected_coverage():
    mix = data.get_mixture("grid")
    real = data.sample_mixture(jax.random.PRNGKey(0), mix.means, mix.std, 2000)
    fake = data.sample_mixture(jax.random.PRNGKey(1), mix.means, mix.std, 2000)
    got = _floats(mf.precision_recall_density_coverage(real, fake))
    for name in ("precision", "recall", "density"):
        assert got[name] == pytest.approx(1.0, abs=0.1), name
    # a real ball holds none of M = N fakes from the same distribution with probability ~ 2^-k (Naeem et al.)
    assert got["coverage"] == pytest.approx(1.0 - 0.5**mf.DEFAULT_K, abs=0.03)


def _ring_samples(key, modes, n):
    mix = data.get_mixture("ring")
    return data.sample_mixture(key, mix.means[np.asarray(modes)], mix.std, n)


def test_a_generator_on_half_the_modes_has_half_the_recall_and_full_precision():
    real = _ring_samples(jax.random.PRNGKey(0), range(8), 2000)
    fake = _ring_samples(jax.random.PRNGKey(1), [0, 2, 4, 6], 2000)
    got = _floats(mf.precision_recall_density_coverage(real, fake))
    assert got["precision"] > 0.95
    assert got["recall"] == pytest.approx(0.5, abs=0.05)
    assert got["coverage"] == pytest.approx(0.5, abs=0.05)


def test_off_manifold_noise_costs_precision_not_recall():
    real = _ring_samples(jax.random.PRNGKey(0), range(8), 2000)
    good = _ring_samples(jax.random.PRNGKey(1), range(8), 1400)
    noise = jax.random.uniform(jax.random.PRNGKey(2), (600, 2), minval=-0.6, maxval=0.6)  # inside the ring
    clean = _floats(mf.precision_recall_density_coverage(real, good))
    noisy = _floats(mf.precision_recall_density_coverage(real, np.concatenate([good, noise])))
    assert clean["precision"] > 0.9
    assert noisy["precision"] == pytest.approx(0.7 * clean["precision"], abs=0.03)  # 30% of G is off the manifold
    assert noisy["recall"] >= clean["recall"] - 0.03
    assert noisy["coverage"] == pytest.approx(clean["coverage"], abs=0.03)
    assert noisy["density"] < 0.75 * clean["density"]


def test_the_blocked_result_equals_the_whole_matrix_result():
    rng = np.random.default_rng(7)
    real, fake = rng.normal(size=(203, 12)), 1.1 * rng.normal(size=(177, 12))
    whole = _prdc64(real, fake, 3, 1024)  # one block holds every row
    for block_size in (7, 64):
        assert _prdc64(real, fake, 3, block_size) == whole, block_size


def test_maps_over_runs():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(2, 60, 3)).astype(np.float32), rng.normal(size=(2, 50, 3)).astype(np.float32)
    batched = jax.vmap(lambda r, f: mf.precision_recall_density_coverage(r, f, block_size=16))(real, fake)
    for i in range(2):
        single = mf.precision_recall_density_coverage(real[i], fake[i], block_size=16)
        assert _floats({n: batched[n][i] for n in NAMES}) == _floats(single)


@pytest.mark.parametrize(
    "real, fake, k",
    [(np.zeros((5, 2)), np.zeros((5, 3)), 3), (np.zeros((3, 2)), np.zeros((5, 2)), 3), (np.zeros(5), np.zeros(5), 1)],
)
def test_rejects_mismatched_or_too_small_sets(real, fake, k):
    with pytest.raises(ValueError):
        mf.precision_recall_density_coverage(real, fake, k)
