"""The fast transposed-convolution forms compute exactly the transposed convolution."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.speedups.layers import (
    WINOGRAD_MIN_IN_CHANNELS,
    DownsampleConv,
    ProjectConv,
    UpsampleConv,
    conv_covering_input,
    conv_matmul,
    conv_transpose,
    downsample_conv,
    kernel_from_torch_conv,
    kernel_from_torch_transposed,
    project_transposed,
    subpixel_kernel,
    upsample_subpixel,
    winograd_tile_down,
)


def transposed_conv_definition(x, torch_weight, stride, padding):
    """PyTorch's ConvTranspose2d by its definition, in float64:
    ``y[s i + k - p, s j + l - p] += x[i, j] @ W[:, :, k, l]``."""
    x = np.asarray(x, np.float64)
    w = np.asarray(torch_weight, np.float64)  # [in, out, K, K]
    n, h, wd, _ = x.shape
    k = w.shape[2]
    full = np.zeros((n, stride * (h - 1) + k, stride * (wd - 1) + k, w.shape[1]))
    for i in range(h):
        for j in range(wd):
            for a in range(k):
                for b in range(k):
                    full[:, stride * i + a, stride * j + b] += x[:, i, j] @ w[:, :, a, b]
    return full[:, padding : full.shape[1] - padding, padding : full.shape[2] - padding]


def random(key, shape, scale=1.0):
    return scale * jax.random.normal(jax.random.PRNGKey(key), shape, jnp.float32)


def max_rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30)


def test_subpixel_equals_the_transposed_convolution_by_definition():
    x = random(0, (2, 3, 5, 3))  # non-square, odd sizes
    torch_weight = random(1, (3, 4, 4, 4))  # [in, out, K, K]
    kernel = kernel_from_torch_transposed(torch_weight)
    expected = transposed_conv_definition(x, torch_weight, 2, 1)
    assert expected.shape == (2, 6, 10, 4)
    np.testing.assert_allclose(conv_transpose(x, kernel, stride=2, padding=1), expected, rtol=1e-5, atol=1e-5)
    for conv in ("matmul", "xla", "winograd"):
        y = jax.jit(lambda x, k: upsample_subpixel(x, k, conv=conv))(x, kernel)
        np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_subpixel_gradients_equal_the_transposed_convolution_gradients():
    x = random(2, (3, 4, 4, 5))
    kernel = random(3, (4, 4, 5, 6), 0.1)
    weights = random(4, (3, 8, 8, 6))  # a loss that weights every output differently

    def loss(fn):
        return lambda x, k: jnp.sum(weights * jnp.sin(fn(x, k)))

    @jax.jit
    def all_grads(x, kernel):
        ref = jax.grad(loss(lambda x, k: conv_transpose(x, k, stride=2, padding=1)), argnums=(0, 1))(x, kernel)
        fast = [
            jax.grad(loss(lambda x, k: upsample_subpixel(x, k, conv=c)), argnums=(0, 1))(x, kernel)
            for c in ("matmul", "xla", "winograd")
        ]
        return ref, fast

    ref, fast = all_grads(x, kernel)
    for grads in fast:
        for r, f in zip(ref, grads):
            assert r.shape == f.shape
            assert float(jnp.max(jnp.abs(r))) > 0.1  # the check is not vacuous
            assert max_rel_err(f, r) < 1e-5


def test_winograd_downsampling_picks_its_form_by_channels_and_side(monkeypatch):
    """D's first layer (3 channels) is a patch product; wider layers go through Winograd with the
    tile of their output side."""
    import jaxgan.speedups.layers as layers

    tiles = []
    real = layers.winograd_conv
    monkeypatch.setattr(layers, "winograd_conv", lambda x, k, m, **kw: tiles.append(m) or real(x, k, m, **kw))
    for shape in [(1, 16, 16, 3), (1, 8, 8, 16), (1, 12, 12, 16), (1, 16, 16, 16)]:
        downsample_conv(jnp.zeros(shape), jnp.zeros((4, 4, shape[3], 2)), method="winograd")
    assert tiles == [4, 2, 4]


def test_winograd_upsampling_picks_its_form_by_channels(monkeypatch):
    """G's "winograd" layers: phase by phase with >= 64 outputs, on the output side with few
    (``4 x 4 out <= in``: 64 -> 3, 32 -> 1, G's image layers), else one F(3x3, 2x2) convolution."""
    import jaxgan.speedups.layers as layers

    forms = []
    real_side, real_winograd = layers.conv_output_side, layers.winograd_conv
    monkeypatch.setattr(layers, "conv_output_side", lambda x, k: forms.append("side") or real_side(x, k))
    monkeypatch.setattr(layers, "winograd_conv", lambda x, k, m, **kw: forms.append(m) or real_winograd(x, k, m, **kw))
    for cin, cout in [(64, 3), (32, 1), (32, 3), (16, 4), (8, 64)]:
        upsample_subpixel(jnp.zeros((1, 4, 4, cin)), jnp.zeros((4, 4, cin, cout)), conv="winograd")
    assert forms == ["side", "side", 3, 3, 4, 4, 4, 4]


def test_auto_layers_pick_winograd_on_cpu_and_the_matrix_products_elsewhere():
    """``"auto"`` (the DCGAN experiment's and benchmark's default) is Winograd's layers on CPU, where
    they measured fastest, and the matrix-product forms on other platforms; both are real methods."""
    from jaxgan.speedups.layers import DOWNSAMPLE_METHODS, UPSAMPLE_METHODS, auto_layers

    assert auto_layers("cpu") == ("winograd", "winograd")
    for platform in ("gpu", "cuda", "rocm", "tpu"):
        assert auto_layers(platform) == ("matmul", "matmul")
    for platform in ("cpu", "gpu"):
        up, down = auto_layers(platform)
        assert up in UPSAMPLE_METHODS and down in DOWNSAMPLE_METHODS


def test_winograd_layers_in_each_tile_form_equal_the_convolutions():
    """The Winograd forms the DCGAN layers pick by size: G's sub-pixel convolution phase by phase
    (>= 64 output channels; odd, non-square sides crop the 4x4 tiles) and on the output side (few
    outputs: G's last layer, 48 -> 3), D's F(4x4, 2x2) (output side
    a multiple of 4, 16 input channels: 64 after space-to-depth), D's F(2x2, 2x2) (output side 6)
    and D's patch product (3 input channels, D's first layer): values and gradients against XLA's
    transposed / strided convolution."""
    assert [winograd_tile_down(side) for side in (4, 6, 8, 12, 16, 32)] == [4, 2, 4, 4, 4, 4]
    assert 4 * 3 < WINOGRAD_MIN_IN_CHANNELS <= 4 * 16
    x_up, k_up = random(20, (2, 3, 5, 4)), random(21, (4, 4, 4, 64), 0.1)
    downs = [(random(22, (2, 16, 16, 3)), random(23, (4, 4, 3, 8), 0.1)),
             (random(24, (2, 8, 8, 16)), random(25, (4, 4, 16, 8), 0.1)),
             (random(26, (2, 12, 12, 16)), random(27, (4, 4, 16, 8), 0.1))]
    strided = lambda x, k: jax.lax.conv_general_dilated(x, k, (2, 2), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC"))
    ups = [(x_up, k_up), (random(28, (2, 3, 5, 48)), random(29, (4, 4, 48, 3), 0.1))]  # the second: G's last layer
    upsample = lambda x, k: upsample_subpixel(x, k, conv="winograd")
    transposed = lambda x, k: conv_transpose(x, k, stride=2, padding=1)
    pairs = [(upsample, transposed, x, k) for x, k in ups] + [(lambda x, k: downsample_conv(x, k, method="winograd"), strided, x, k) for x, k in downs]  # fmt: skip
    for fast, reference, x, kernel in pairs:
        loss = lambda fn: lambda x, k: jnp.sum(jnp.sin(fn(x, k)) * jnp.arange(fn(x, k).size).reshape(fn(x, k).shape) / 100)
        y, y_ref = jax.jit(fast)(x, kernel), jax.jit(reference)(x, kernel)
        assert y.shape == y_ref.shape
        np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5)
        grads = jax.jit(jax.grad(loss(fast), argnums=(0, 1)))(x, kernel)
        grads_ref = jax.jit(jax.grad(loss(reference), argnums=(0, 1)))(x, kernel)
        for g, g_ref in zip(grads, grads_ref):
            assert float(jnp.max(jnp.abs(g_ref))) > 0.1
            assert max_rel_err(g, g_ref) < 1e-5


def test_subpixel_kernel_holds_each_phase_taps():
    kernel = random(5, (4, 4, 2, 3))
    sub = subpixel_kernel(kernel).reshape(2, 2, 2, 2, 2, 3)  # ty, tx, in, ry, rx, out
    for ry in range(2):
        for rx in range(2):
            np.testing.assert_array_equal(sub[:, :, :, ry, rx], kernel[ry::2, rx::2])
    with pytest.raises(ValueError, match="4x4"):
        subpixel_kernel(jnp.zeros((3, 3, 2, 2)))


def test_upsample_module_methods_and_flax_conv_transpose_agree():
    x = random(6, (2, 4, 4, 8))
    params = UpsampleConv(5, kernel_init=nn.initializers.normal(0.1)).init(jax.random.PRNGKey(0), x)
    assert jax.tree_util.tree_map(jnp.shape, params) == {"params": {"kernel": (4, 4, 8, 5)}}
    flax_ref = nn.ConvTranspose(5, (4, 4), strides=(2, 2), padding=((2, 2), (2, 2)), use_bias=False)
    expected = flax_ref.apply(params, x)
    assert expected.shape == (2, 8, 8, 5)
    for method in ("matmul", "subpixel", "transpose", "winograd"):
        np.testing.assert_allclose(UpsampleConv(5, method).apply(params, x), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="unknown upsampling"):
        UpsampleConv(5, "nearest").init(jax.random.PRNGKey(0), x)


@pytest.mark.parametrize("stride,padding", [(2, 1), (1, 0), (1, 1), (3, 2)])
def test_conv_matmul_is_the_convolution(stride, padding):
    x = random(12, (2, 6, 10, 3))
    kernel = random(13, (4, 4, 3, 5))
    expected = jax.lax.conv_general_dilated(
        x, kernel, (stride, stride), ((padding, padding),) * 2, dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    np.testing.assert_allclose(conv_matmul(x, kernel, stride=stride, padding=padding), expected, rtol=1e-5, atol=1e-5)


def test_downsample_module_equals_flax_conv_with_gradients():
    x = random(14, (2, 8, 8, 3))
    params = DownsampleConv(6, kernel_init=nn.initializers.normal(0.1)).init(jax.random.PRNGKey(0), x)
    flax_ref = nn.Conv(6, (4, 4), strides=(2, 2), padding=((1, 1), (1, 1)), use_bias=False)
    weights = random(15, (2, 4, 4, 6))

    @jax.jit
    def outputs_and_grads(params, x):
        out = []
        methods = ("matmul", "conv", "winograd")
        for fn in [DownsampleConv(6, m).apply for m in methods] + [flax_ref.apply]:
            loss = lambda p, x: jnp.sum(weights * jnp.sin(fn(p, x)))
            out.append((fn(params, x), jax.grad(loss, argnums=(0, 1))(params, x)))
        return out

    results = outputs_and_grads(params, x)
    (y_ref, g_ref) = results[-1]
    assert y_ref.shape == (2, 4, 4, 6)
    for y, g in results[:-1]:
        np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-6)
        for a, b in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(g_ref)):
            assert max_rel_err(a, b) < 1e-5
    with pytest.raises(ValueError, match="unknown downsampling"):
        downsample_conv(x, params["params"]["kernel"], method="pool")


def test_projection_is_the_4x4_transposed_convolution_of_a_1x1_input():
    z = random(7, (3, 6))
    torch_weight = random(8, (6, 5, 4, 4))
    kernel = kernel_from_torch_transposed(torch_weight)
    expected = transposed_conv_definition(z[:, None, None, :], torch_weight, 1, 0)
    assert expected.shape == (3, 4, 4, 5)
    np.testing.assert_allclose(project_transposed(z, kernel), expected, rtol=1e-5, atol=1e-5)
    params = {"params": {"kernel": kernel}}
    flax_ref = nn.ConvTranspose(5, (4, 4), padding=((3, 3), (3, 3)), use_bias=False)
    np.testing.assert_allclose(ProjectConv(5).apply(params, z), flax_ref.apply(params, z[:, None, None]), rtol=1e-5, atol=1e-5)


def test_conv_covering_input_is_a_valid_convolution():
    x = random(9, (2, 4, 4, 7))
    kernel = random(10, (4, 4, 7, 3))
    conv = nn.Conv(3, (4, 4), padding="VALID", use_bias=False)
    expected = conv.apply({"params": {"kernel": kernel}}, x)[:, 0, 0]
    np.testing.assert_allclose(conv_covering_input(x, kernel), expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="cover"):
        conv_covering_input(x, jnp.zeros((3, 3, 7, 1)))


def test_compute_dtype_is_separate_from_parameter_dtype():
    x = random(11, (2, 4, 4, 3))
    layer = UpsampleConv(4, dtype=jnp.bfloat16)
    params = layer.init(jax.random.PRNGKey(0), x)
    assert params["params"]["kernel"].dtype == jnp.float32
    y = layer.apply(params, x)
    assert y.dtype == jnp.bfloat16
    y32 = UpsampleConv(4).apply(params, x)
    np.testing.assert_allclose(np.asarray(y, np.float32), y32, rtol=0.05, atol=0.05)


def test_matches_pytorch_layers_when_torch_is_installed():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x = torch.randn(2, 6, 3, 3)  # NCHW
    up = torch.nn.ConvTranspose2d(6, 4, 4, 2, 1, bias=False)
    proj = torch.nn.ConvTranspose2d(6, 4, 4, 1, 0, bias=False)
    down = torch.nn.Conv2d(6, 4, 4, 2, 1, bias=False)
    z = torch.randn(2, 6, 1, 1)
    with torch.no_grad():
        y_up, y_proj, y_down = up(x).numpy(), proj(z).numpy(), down(x).numpy()
    to_nhwc = lambda a: np.transpose(a, (0, 2, 3, 1))
    xj = jnp.asarray(to_nhwc(x.numpy()))
    np.testing.assert_allclose(
        upsample_subpixel(xj, kernel_from_torch_transposed(up.weight.detach().numpy())), to_nhwc(y_up), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        downsample_conv(xj, kernel_from_torch_conv(down.weight.detach().numpy())), to_nhwc(y_down), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        project_transposed(jnp.asarray(z.numpy()[:, :, 0, 0]), kernel_from_torch_transposed(proj.weight.detach().numpy())),
        to_nhwc(y_proj),
        rtol=1e-5,
        atol=1e-5,
    )
    conv = nn.Conv(4, (4, 4), strides=(2, 2), padding=((1, 1), (1, 1)), use_bias=False)
    kernel = kernel_from_torch_conv(down.weight.detach().numpy())
    np.testing.assert_allclose(conv.apply({"params": {"kernel": kernel}}, xj), to_nhwc(y_down), rtol=1e-5, atol=1e-5)
