"""Winograd's F(m, r): the constant matrices are exact, and the 2D convolution built on them is the
convolution (values and gradients), including where its tiles overhang the output."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from jaxgan.speedups import translator_convs as cyclegan
from jaxgan.speedups.winograd import kernel_transform, toom_cook_matrices, winograd_conv

DIMS = ("NHWC", "HWIO", "NHWC")


def reference_conv(x, kernel, stride=1, padding=0):
    return lax.conv_general_dilated(x, kernel, (stride, stride), ((padding, padding),) * 2, dimension_numbers=DIMS,
                                    precision=lax.Precision.HIGHEST)


def max_rel_err(a, b):
    return float(jnp.max(jnp.abs(a - b)) / jnp.max(jnp.abs(b)))


@pytest.mark.parametrize("m,r", [(2, 2), (3, 2), (4, 2), (6, 2), (2, 3), (4, 3), (6, 3), (2, 4)])
def test_toom_cook_matrices_compute_the_1d_correlation(m, r):
    at, g, bt = toom_cook_matrices(m, r)
    n = m + r - 1
    assert at.shape == (m, n) and g.shape == (n, r) and bt.shape == (n, n)
    rng = np.random.default_rng(m * 10 + r)
    for _ in range(5):
        d, w = rng.normal(size=n), rng.normal(size=r)
        direct = np.array([d[i : i + r] @ w for i in range(m)])
        np.testing.assert_allclose(at @ ((g @ w) * (bt @ d)), direct, rtol=1e-12, atol=1e-12)
    # n multiplications where the direct form has m r: the point of the algorithm.
    assert n < m * r or min(m, r) == 1


def test_toom_cook_rejects_impossible_sizes():
    with pytest.raises(ValueError, match="m, r >= 1"):
        toom_cook_matrices(0, 3)
    with pytest.raises(ValueError, match="points"):
        toom_cook_matrices(9, 3)


@pytest.mark.parametrize("m,r", [(2, 2), (4, 2), (4, 3), (2, 4)])
def test_kernel_transform_is_g_kernel_g_transposed_with_its_transpose_as_gradient(m, r):
    """``U = G g G^T`` per channel pair, and ``dkernel = G^T dU G``: the einsum's numbers, in float64."""
    _, g, _ = toom_cook_matrices(m, r)
    n = m + r - 1
    rng = np.random.default_rng(m * 10 + r)
    kernel = rng.normal(size=(r, r, 3, 5))
    du = rng.normal(size=(n, n, 3, 5))
    u, vjp = jax.vjp(lambda k: kernel_transform(k, m), jnp.asarray(kernel, jnp.float32))
    (dk,) = vjp(jnp.asarray(du, jnp.float32))
    np.testing.assert_allclose(u, np.einsum("ak,bl,klcd->abcd", g, g, kernel), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dk, np.einsum("ak,bl,abcd->klcd", g, g, du), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("m", [2, 4])
def test_bfloat16_inputs_are_transformed_in_float32(m):
    """bfloat16 in, bfloat16 out, but no more error than rounding the inputs and the output: the
    F(4x4, 2x2) transforms summed in bfloat16 were off by 5% of the largest output."""
    rng = np.random.default_rng(m)
    x = jnp.asarray(rng.normal(size=(2, 17, 17, 32)), jnp.bfloat16)
    kernel = jnp.asarray(0.1 * rng.normal(size=(2, 2, 32, 16)), jnp.bfloat16)
    y = winograd_conv(x, kernel, m)
    assert y.dtype == jnp.bfloat16
    exact = reference_conv(x.astype(jnp.float32), kernel.astype(jnp.float32))
    assert max_rel_err(y.astype(jnp.float32), exact) < 0.01  # bfloat16's own rounding: 2^-8 = 0.4%


@pytest.mark.parametrize("m,r,shape,cout", [
    (2, 2, (2, 9, 7, 5), 3),    # odd output sizes: the last tiles overhang and are cropped
    (3, 2, (1, 10, 13, 4), 6),
    (4, 2, (2, 17, 17, 8), 6),
    (2, 3, (1, 10, 11, 4), 3),
    (4, 3, (2, 18, 18, 16), 8),
    (2, 4, (1, 9, 12, 3), 5),
])
def test_winograd_conv_is_the_convolution_with_its_gradients(m, r, shape, cout):
    rng = np.random.default_rng(r * 100 + m)
    x = jnp.asarray(rng.normal(size=shape), jnp.float32)
    kernel = jnp.asarray(rng.normal(size=(r, r, shape[3], cout)), jnp.float32)
    out_shape = (shape[0], shape[1] - r + 1, shape[2] - r + 1, cout)
    weights = jnp.asarray(rng.normal(size=out_shape), jnp.float32)  # every output weighted differently

    @jax.jit
    def both(x, kernel):
        def loss(fn):
            return lambda x, k: jnp.sum(weights * jnp.sin(fn(x, k)))
        fast = lambda x, k: winograd_conv(x, k, m)
        return (fast(x, kernel), reference_conv(x, kernel),
                jax.grad(loss(fast), (0, 1))(x, kernel), jax.grad(loss(reference_conv), (0, 1))(x, kernel))

    y, y_ref, grads, grads_ref = both(x, kernel)
    assert y.shape == y_ref.shape == out_shape
    assert max_rel_err(y, y_ref) < 1e-5
    for g, g_ref in zip(grads, grads_ref):
        assert g.shape == g_ref.shape and float(jnp.max(jnp.abs(g_ref))) > 0.1
        assert max_rel_err(g, g_ref) < 1e-4


def test_winograd_conv_rejects_kernels_that_do_not_fit():
    x = jnp.zeros((1, 4, 4, 3))
    with pytest.raises(ValueError, match="does not fit a square"):
        winograd_conv(x, jnp.zeros((3, 3, 2, 1)))
    with pytest.raises(ValueError, match="does not fit the 4x4"):
        winograd_conv(x, jnp.zeros((5, 5, 3, 1)))


@pytest.mark.parametrize("kernel,stride,padding", [(3, 1, 0), (3, 2, 1), (4, 2, 1), (4, 1, 1), (2, 1, 0)])
def test_cyclegan_convolutions_through_winograd_equal_xla(monkeypatch, kernel, stride, padding):
    """The CycleGAN layers' CPU forms take Winograd above a size (WINOGRAD_MIN_MACS); lowered to 0
    here, every supported kernel size and stride must still be the convolution, gradients included."""
    monkeypatch.setattr(cyclegan, "WINOGRAD_MIN_MACS", 0)
    calls = []
    monkeypatch.setattr(cyclegan, "winograd_conv", lambda *a, **k: calls.append(a[1].shape) or winograd_conv(*a, **k))
    rng = np.random.default_rng(kernel * 10 + stride)
    x = jnp.asarray(rng.normal(size=(2, 12, 14, 6)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(kernel, kernel, 6, 8)), jnp.float32)  # 4 x 8 > 4 x 6: not output-side
    y_ref = reference_conv(x, w, stride, padding)
    ct = jnp.asarray(rng.normal(size=y_ref.shape), jnp.float32)
    y = cyclegan.conv2d(x, w, stride, padding, cpu_forms=True)
    assert y.shape == y_ref.shape and max_rel_err(y, y_ref) < 1e-5
    grads = jax.grad(lambda x, w: jnp.sum(cyclegan.conv2d(x, w, stride, padding, cpu_forms=True) * ct), (0, 1))(x, w)
    grads_ref = jax.grad(lambda x, w: jnp.sum(reference_conv(x, w, stride, padding) * ct), (0, 1))(x, w)
    for g, g_ref in zip(grads, grads_ref):
        assert max_rel_err(g, g_ref) < 1e-4
    # the path taken was Winograd's (stride 2: on the space-to-depth kernel)
    assert calls and calls[0][0] == (kernel if stride == 1 else (kernel + 1) // 2)


def test_traced_as_direct_counts_the_work_of_the_direct_convolution():
    """The benchmark's GFLOP/s count the model's convolutions, not the fewer multiplications that
    Winograd executes: within ``traced_as_direct`` the lowered program is the direct convolution."""
    from experiments.bench.timing import traced_flops
    from jaxgan.speedups.winograd import traced_as_direct

    x, kernel = jnp.ones((2, 18, 18, 16)), jnp.ones((3, 3, 16, 32))
    direct_flops = 2 * 2 * 16 * 16 * 3 * 3 * 16 * 32
    with traced_as_direct():
        direct = traced_flops(lambda x, k: winograd_conv(x, k, 4), x, kernel)
    executed = traced_flops(lambda x, k: winograd_conv(x, k, 4), x, kernel)
    assert direct == pytest.approx(direct_flops, rel=0.01)
    assert executed < 0.5 * direct_flops  # F(4, 3): 36 products per 16 outputs instead of 144
