"""CycleGAN's networks: the reference's parameter counts, shapes, receptive field, init and layers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from jaxgan.models.resnet_patchgan import (
    PatchDiscriminator,
    ResnetBlock,
    ResnetGenerator,
    conv2d,
    instance_norm,
    patch_receptive_field,
    reference_network,
    reflect_pad,
    upsample_subpixel,
    upsample_transpose,
)


def param_shapes(module, input_shape):
    variables = jax.eval_shape(lambda: module.init(jax.random.PRNGKey(0), jnp.zeros(input_shape)))
    return variables


def count(tree):
    return sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(tree))


def conv_params(cin, cout, k):
    """A PyTorch Conv2d / ConvTranspose2d with bias: ``cin * cout * k * k + cout``."""
    return cin * cout * k * k + cout


def test_parameter_counts_equal_the_reference_at_256x256():
    # The reference's layer lists (use_bias = True with InstanceNorm), input_nc = output_nc = 3.
    ngf = ndf = 64
    generator = (
        [conv_params(3, ngf, 7)]  # ReflectionPad3 Conv7
        + [conv_params(ngf, 2 * ngf, 3), conv_params(2 * ngf, 4 * ngf, 3)]  # two stride-2 convs
        + [conv_params(4 * ngf, 4 * ngf, 3)] * (2 * 9)  # 9 blocks of two convs
        + [conv_params(4 * ngf, 2 * ngf, 3), conv_params(2 * ngf, ngf, 3)]  # two ConvTranspose2d
        + [conv_params(ngf, 3, 7)]  # Conv7 -> Tanh
    )
    discriminator = [
        conv_params(3, ndf, 4),
        conv_params(ndf, 2 * ndf, 4),
        conv_params(2 * ndf, 4 * ndf, 4),
        conv_params(4 * ndf, 8 * ndf, 4),  # stride 1
        conv_params(8 * ndf, 1, 4),
    ]
    g = param_shapes(ResnetGenerator(3, ngf, 9), (1, 256, 256, 3))
    d = param_shapes(PatchDiscriminator(ndf, 3), (1, 256, 256, 3))
    assert count(g) == sum(generator)
    assert count(d) == sum(discriminator)
    # What the reference prints: "Total number of parameters : 11.378 M" (G) and "2.765 M" (D).
    assert round(count(g) / 1e6, 3) == 11.378 and round(count(d) / 1e6, 3) == 2.765
    # Only weights and biases: instance norm has no affine parameters and no running statistics.
    assert set(g) == {"params"} and set(d) == {"params"}
    names = {path[-1].key for path, _ in jax.tree_util.tree_flatten_with_path(g)[0]}
    assert names == {"kernel", "bias"}
    assert g["params"]["up0"]["kernel"].shape == (3, 3, 256, 128)


def test_output_shapes_at_256_and_small_sizes():
    gen, disc = ResnetGenerator(3, 64, 9), PatchDiscriminator(64, 3)
    x = jnp.zeros((1, 256, 256, 3))
    g_out = jax.eval_shape(lambda: gen.apply(gen.init(jax.random.PRNGKey(0), x), x))
    d_out = jax.eval_shape(lambda: disc.apply(disc.init(jax.random.PRNGKey(0), x), x))
    assert g_out.shape == (1, 256, 256, 3)
    assert d_out.shape == (1, 30, 30, 1)  # the 70x70 PatchGAN's 30x30 grid of patches
    small, x = ResnetGenerator(1, 4, 2), jnp.zeros((2, 12, 20, 1))
    assert jax.eval_shape(lambda: small.apply(small.init(jax.random.PRNGKey(0), x), x)).shape == x.shape
    assert jax.eval_shape(lambda: PatchDiscriminator(4, 2).init_with_output(jax.random.PRNGKey(0), x)[0]).shape == (2, 1, 3, 1)
    # bfloat16 compute: float32 parameters and float32 outputs (images, logits) for the losses.
    half = ResnetGenerator(1, 4, 1, dtype=jnp.bfloat16)
    out, variables = jax.eval_shape(lambda: half.init_with_output(jax.random.PRNGKey(0), x))
    assert out.dtype == jnp.float32 and {v.dtype for v in jax.tree_util.tree_leaves(variables)} == {jnp.dtype("float32")}
    with pytest.raises(ValueError, match="multiples of 4"):
        small.init(jax.random.PRNGKey(0), jnp.zeros((1, 10, 12, 1)))


def test_patchgan_receptive_field_is_70_at_three_layers():
    # Without the instance norms, whose statistics make every logit depend a little on every pixel.
    disc = PatchDiscriminator(ndf=2, n_layers=3, normalize=False)
    x = jax.random.normal(jax.random.PRNGKey(0), (1, 128, 128, 1))
    params = jax.jit(disc.init)(jax.random.PRNGKey(1), x)
    out_shape = jax.eval_shape(disc.apply, params, x).shape
    assert out_shape == (1, 14, 14, 1)
    grad = jax.jit(jax.grad(lambda x: disc.apply(params, x)[0, 7, 7, 0]))(x)
    rows, cols = np.nonzero(np.abs(np.asarray(grad[0, :, :, 0])) > 0)
    assert rows.min() > 0 and cols.min() > 0 and rows.max() < 127 and cols.max() < 127  # inside the image
    assert rows.max() - rows.min() + 1 == cols.max() - cols.min() + 1 == 70 == patch_receptive_field(3)
    assert [patch_receptive_field(n) for n in (1, 2)] == [16, 34]


def test_weights_are_normal_002_and_biases_zero():
    block = ResnetBlock()  # the generator's blocks at ngf = 64: 256 channels
    params = jax.jit(block.init)(jax.random.PRNGKey(0), jnp.zeros((1, 4, 4, 256)))["params"]
    kernel = np.asarray(params["conv1"]["kernel"])  # 3 * 3 * 256 * 256 draws
    assert abs(kernel.mean()) < 1e-3 and kernel.std() == pytest.approx(0.02, rel=0.01)
    assert all(np.all(np.asarray(b) == 0) for b in jax.tree_util.tree_leaves(params) if b.ndim == 1)
    # reference_network draws the same law in one go: kernels N(0, 0.02), biases 0, no statistics.
    params, stats = jax.jit(reference_network(ResnetGenerator(1, 64, 1)).init)(jax.random.PRNGKey(0), jnp.zeros((1, 8, 8, 1)))
    assert stats == {}
    kernel = np.asarray(params["block0"]["conv1"]["kernel"])
    assert abs(kernel.mean()) < 1e-3 and kernel.std() == pytest.approx(0.02, rel=0.01)
    assert not np.array_equal(kernel, np.asarray(params["block0"]["conv2"]["kernel"]))  # distinct draws
    assert all(np.all(np.asarray(b) == 0) for b in jax.tree_util.tree_leaves(params) if b.ndim == 1)


def torch_conv_transpose(x, weight):
    """PyTorch ``ConvTranspose2d(k=3, s=2, p=1, output_padding=1)`` by its definition:
    ``y[2i + k - 1] += x[i] @ W[:, :, k]`` for every input pixel and tap, rows kept in ``[0, 2H)``."""
    n, h, w, _ = x.shape
    out = np.zeros((n, 2 * h + 2, 2 * w + 2, weight.shape[1]))
    for i in range(h):
        for j in range(w):
            for ky in range(3):
                for kx in range(3):
                    out[:, 2 * i + ky, 2 * j + kx] += x[:, i, j] @ weight[:, :, ky, kx]
    return out[:, 1 : 2 * h + 1, 1 : 2 * w + 1]  # drop padding=1 rows; output_padding keeps the last


@pytest.mark.parametrize("upsample", [upsample_subpixel, upsample_transpose])
def test_upsampling_is_pytorch_conv_transpose_k3_s2_p1_output_padding_1(upsample):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 5, 2)).astype(np.float32)
    weight = rng.normal(size=(2, 4, 3, 3)).astype(np.float32)  # PyTorch [in, out, kh, kw]
    kernel = jnp.asarray(np.transpose(weight, (2, 3, 0, 1))[::-1, ::-1])  # Flax layout, flipped
    y = np.asarray(jax.jit(upsample)(jnp.asarray(x), kernel))
    assert y.shape == (2, 6, 10, 4)  # exactly 2H x 2W
    np.testing.assert_allclose(y, torch_conv_transpose(x, weight), rtol=1e-5, atol=1e-5)


def test_subpixel_and_transpose_upsampling_have_the_same_gradients():
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.normal(size=(2, 4, 4, 3)), jnp.float32)
    k = jnp.asarray(rng.normal(size=(3, 3, 3, 5)), jnp.float32)
    ct = jnp.asarray(rng.normal(size=(2, 8, 8, 5)), jnp.float32)
    grads = [jax.jit(jax.grad(lambda x, k: jnp.sum(f(x, k) * ct), (0, 1)))(x, k) for f in (upsample_subpixel, upsample_transpose)]
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cpu_forms", [False, True])
@pytest.mark.parametrize("size,kernel,stride,padding", [(9, 3, 2, 1), (10, 4, 2, 1), (11, 4, 2, 0), (7, 7, 1, 0), (6, 4, 1, 1)])
def test_conv2d_and_its_gradients_equal_xla_convolution(size, kernel, stride, padding, cpu_forms):
    rng = np.random.default_rng(size)
    x = jnp.asarray(rng.normal(size=(2, size, size + 1, 3)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(kernel, kernel, 3, 4)), jnp.float32)
    pads = ((padding, padding), (padding, padding))
    ref = lambda x, w: lax.conv_general_dilated(x, w, (stride, stride), pads, dimension_numbers=("NHWC", "HWIO", "NHWC"))
    ours = lambda x, w: conv2d(x, w, stride, padding, cpu_forms)

    def value_and_grads(f, ct):
        y, vjp = jax.vjp(f, x, w)
        return (y, *vjp(ct))

    shape = jax.eval_shape(ref, x, w).shape
    assert jax.eval_shape(ours, x, w).shape == shape
    ct = jnp.asarray(rng.normal(size=shape), jnp.float32)
    for a, b in zip(*[jax.jit(value_and_grads, static_argnums=0)(f, ct) for f in (ours, ref)]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_instance_norm_and_reflection_padding():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 5, 6, 3)) * 3.0 + 2.0
    y = np.asarray(instance_norm(x))
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(1, 2)), np.asarray(x).var(axis=(1, 2)) / (np.asarray(x).var(axis=(1, 2)) + 1e-5), rtol=1e-4)
    row = jnp.arange(4.0).reshape(1, 1, 4, 1)
    assert reflect_pad(row, 2)[0, 2, :, 0].tolist() == [2, 1, 0, 1, 2, 3, 2, 1]  # PyTorch ReflectionPad2d
