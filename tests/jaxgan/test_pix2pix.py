"""pix2pix training: the reference's losses and order, who changes in which step, the dropout keys,
the networks' shapes (the reference's unet_256 and 70x70 PatchGAN), paired batches."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan.data.aligned import load_aligned_folder, paired_batches
from jaxgan.data.images import DatasetError
from jaxgan.models.resnet_patchgan import patch_receptive_field
from jaxgan.models.unet import BatchNormPatchDiscriminator, UnetGenerator
from jaxgan.networks import RNG_KEY, from_linen
from jaxgan.pix2pix import (
    Pix2Pix,
    build_discriminator_step,
    build_generator_step,
    build_train_step,
    init_pix2pix,
    translate,
)
from jaxgan.reliability.divergence import path_name
from jaxgan.train import fit

SHAPE = (8, 8, 1)
BATCH = 4


@pytest.fixture(scope="module", autouse=True)
def classic_threefry():
    """Every test here on the classic (non-partitionable) threefry, which XLA:CPU compiles several
    times faster (initialising a PatchGAN: 1.6 against 9 CPU seconds); what is tested does not
    depend on which random bits are drawn."""
    with jax.threefry_partitionable(False):
        yield


def tiny_model(optimizer):
    """3 downsamplings, dropout in block 1; XLA's convolutions, which compile faster than the default
    matrix-product layers (the file's CPU time 86 s against 115 s), tested equal to them below."""
    xla = dict(upsample="transpose", downsample="conv")
    gen = from_linen(UnetGenerator(1, ngf=2, dropout_blocks=1, **xla))
    disc = from_linen(BatchNormPatchDiscriminator(ndf=2, n_layers=1, downsample=xla["downsample"]))
    return Pix2Pix(gen, disc, optimizer, optimizer)


@pytest.fixture(scope="module")
def model():
    """Plain SGD with step 1, so that each update is minus the gradient of the reference's loss."""
    return tiny_model(optax.sgd(1.0))


@pytest.fixture(scope="module")
def initial_state(model):
    return init_pix2pix(model, jax.random.PRNGKey(0), SHAPE, SHAPE)


@pytest.fixture(scope="module")
def batch():
    k_a, k_b = jax.random.split(jax.random.PRNGKey(7))
    a = jax.random.uniform(k_a, (BATCH, *SHAPE), minval=-1, maxval=1)
    return a, jnp.tanh(a + 0.3 * jax.random.normal(k_b, (BATCH, *SHAPE)))


def constant_batches(batch):
    return lambda data, key, index: batch


@pytest.fixture(scope="module")
def train_step(model, batch):
    """One iteration on the fixed batch, compiled once for the module."""
    return jax.jit(build_train_step(model, constant_batches(batch)))


@pytest.fixture(scope="module")
def g_apply(model):
    """``(G(a), new stats)`` in training mode with ``key`` as the dropout key, compiled once for the
    module: ``g_apply(params, stats, a, key)``."""
    return jax.jit(lambda params, stats, a, key: model.generator.apply(params, {**stats, RNG_KEY: key}, a, True))


def assert_same(a, b):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(la) == len(lb) > 0
    for x, y in zip(la, lb):
        assert np.asarray(x).tobytes() == np.asarray(y).tobytes()


def assert_step_is_minus_the_gradient(new, old, grads):
    """``new == old - grads`` leaf by leaf (SGD with step 1)."""
    grads = {path_name(p): g for p, g in jax.tree_util.tree_leaves_with_path(grads)}
    for (path, x), y in zip(jax.tree_util.tree_leaves_with_path(new), jax.tree.leaves(old)):
        np.testing.assert_allclose(x, y - grads[path_name(path)], rtol=1e-4, atol=1e-6, err_msg=path_name(path))


# The reference's losses, written out independently of jaxgan.losses and GANLoss.
def bce(logits, target):
    """PyTorch's BCEWithLogitsLoss (mean): ``-[t log s(l) + (1 - t) log(1 - s(l))]``."""
    return jnp.mean(target * jnp.logaddexp(0.0, -logits) + (1 - target) * jnp.logaddexp(0.0, logits))


def d_of(model, params, stats, a, y):
    return model.discriminator.apply(params, stats, jnp.concatenate([a, y], axis=-1), True)[0]


def reference_d_loss(model, params, stats, a, b, fake_b):
    return 0.5 * (bce(d_of(model, params, stats, a, fake_b), 0.0) + bce(d_of(model, params, stats, a, b), 1.0))


def g_of(model, params, stats, a, key):
    return model.generator.apply(params, {**stats, RNG_KEY: key}, a, True)[0]


def reference_g_loss(model, g_params, g_stats, d_params, d_stats, a, b, key):
    fake = g_of(model, g_params, g_stats, a, key)
    return bce(d_of(model, d_params, d_stats, a, fake), 1.0) + 100.0 * jnp.mean(jnp.abs(fake - b))


def test_one_iteration_is_the_reference_d_step_then_g_step_against_the_updated_d(model, initial_state, batch, train_step,
                                                                                 g_apply):  # fmt: skip
    """One ``train_step``: keys taken from the state (batch, then dropout), ``fake = G(a)``, D takes
    the gradient step of ``0.5 [BCE(D(a, b), 1) + BCE(D(a, fake), 0)]``, then G the gradient step of
    ``BCE(D_new(a, G(a)), 1) + 100 L1(G(a), b)`` with the same dropout masks."""
    a, b = batch
    state = initial_state
    new, metrics = train_step(state, None)

    key, _batch_key = jax.random.split(state.key)
    key, dropout_key = jax.random.split(key)
    assert_same(new.key, key)
    assert int(new.step) == 1
    fake, once = g_apply(state.g.params, state.g.stats, a, dropout_key)
    d_loss, d_grads = jax.jit(jax.value_and_grad(lambda p: reference_d_loss(model, p, state.d.stats, a, b, fake)))(
        state.d.params
    )
    np.testing.assert_allclose(metrics["d_loss"], d_loss, rtol=1e-5)
    assert_step_is_minus_the_gradient(new.d.params, state.d.params, d_grads)

    g_loss_against = jax.jit(jax.value_and_grad(  # of G's parameters, against the D given (one compilation)
        lambda p, d_params: reference_g_loss(model, p, state.g.stats, d_params, state.d.stats, a, b, dropout_key)))  # fmt: skip
    g_loss, g_grads = g_loss_against(state.g.params, new.d.params)
    np.testing.assert_allclose(metrics["g_loss"], g_loss, rtol=1e-5)
    np.testing.assert_allclose(metrics["l1_loss"], jnp.mean(jnp.abs(fake - b)), rtol=1e-5)
    assert_step_is_minus_the_gradient(new.g.params, state.g.params, g_grads)
    # Against the old D, G's step would have been another one: the order matters and is tested.
    _, old_d = g_loss_against(state.g.params, state.d.params)
    assert any(not np.allclose(x, y, rtol=1e-3) for x, y in zip(jax.tree.leaves(old_d), jax.tree.leaves(g_grads)))
    # G's batch-norm averages moved once (its one forward pass); no PRNG key is kept in them.
    assert RNG_KEY not in new.g.stats and RNG_KEY not in initial_state.g.stats
    for x, y in zip(jax.tree.leaves(new.g.stats["batch_stats"]), jax.tree.leaves(once["batch_stats"])):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)


def test_the_g_step_leaves_d_bit_identical_and_the_d_step_leaves_g_bit_identical(model, initial_state, batch):
    a, b = batch
    state = initial_state
    g_step = jax.jit(build_generator_step(model))
    d_step = jax.jit(build_discriminator_step(model))
    after_g, fake, _ = g_step(state, a, b, jax.random.PRNGKey(3))
    assert_same(after_g.d, state.d)
    assert_same((after_g.key, after_g.step), (state.key, state.step))
    assert any(not np.array_equal(x, y) for x, y in zip(jax.tree.leaves(after_g.g), jax.tree.leaves(state.g)))
    after_d, _ = d_step(state, a, b, fake)
    assert_same(after_d.g, state.g)
    assert_same((after_d.key, after_d.step), (state.key, state.step))
    assert any(not np.array_equal(x, y) for x, y in zip(jax.tree.leaves(after_d.d.params), jax.tree.leaves(state.d.params)))


def test_dropout_masks_come_from_the_key_and_stay_on_at_test_time(model, initial_state, batch):
    a, _ = batch
    g = initial_state.g
    run = jax.jit(lambda k, train: translate(model.generator, g, a, k, train), static_argnums=1)
    k1, k2 = jax.random.PRNGKey(1), jax.random.PRNGKey(2)
    for batch_statistics in (True, False):
        assert_same(run(k1, batch_statistics), run(k1, batch_statistics))  # same key, same output
        assert not np.allclose(run(k1, batch_statistics), run(k2, batch_statistics))  # dropout is on
    # Without dropout the output would not depend on the key: the negative control.
    plain = from_linen(UnetGenerator(1, ngf=2, dropout_blocks=0))
    params, stats = plain.init(jax.random.PRNGKey(0), a)
    no_drop = jax.jit(lambda k: plain.apply(params, {**stats, RNG_KEY: k}, a, True)[0])
    assert_same(no_drop(k1), no_drop(k2))


def test_consecutive_steps_draw_new_masks_and_the_same_seed_repeats_the_run(model, batch, initial_state, train_step,
                                                                            g_apply):  # fmt: skip
    step, state = train_step, initial_state
    assert_same(init_pix2pix(model, jax.random.PRNGKey(0), SHAPE, SHAPE), state)  # same seed, same start
    one, one_metrics = step(state, None)
    assert_same(step(state, None), (one, one_metrics))  # and the same step
    # Another run key (same parameters) draws other masks, so G's step differs.
    other, _ = step(state._replace(key=jax.random.PRNGKey(99)), None)
    assert not np.allclose(jax.tree.leaves(other.g.params)[0], jax.tree.leaves(one.g.params)[0])
    # Steps 1 and 2 take their dropout keys from the state's key in turn: other keys, other masks.
    def dropout_key(s):
        key, _batch_key = jax.random.split(s.key)
        return jax.random.split(key)[1]

    a, _ = batch
    first, second = (g_apply(state.g.params, state.g.stats, a, dropout_key(s))[0] for s in (state, one))
    assert not np.allclose(first, second)


def test_fit_scan_equals_a_python_loop(batch, initial_state):
    """The same iterations compiled as a scan and one by one (SGD: Adam would blow the compilations'
    round-off of near-zero gradients up to +-lr)."""
    model = tiny_model(optax.sgd(0.05))
    state = initial_state  # the same networks; SGD keeps no state whatever its step size
    a, b = batch
    data = (jnp.concatenate([a, -a]), jnp.concatenate([b, -b]))
    train_step = build_train_step(model, paired_batches(2, seed=1))
    result = fit(train_step, state, data, 4, chunk_size=2)
    step = jax.jit(train_step)
    looped = state
    for _ in range(4):
        looped, metrics = step(looped, data)
    # Equal up to the round-off of two compilations (batch norm over 2 images of 2x2 pixels
    # amplifies it): every parameter within 1e-5 of the loop's, 50x below what one step moves.
    moved = max(float(jnp.max(jnp.abs(x - y))) for x, y in zip(jax.tree.leaves(looped.g.params), jax.tree.leaves(state.g.params)))
    assert moved > 5e-4
    for x, y in zip(jax.tree.leaves(result.state), jax.tree.leaves(looped)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(result.metrics["g_loss"][-1], metrics["g_loss"], rtol=1e-5)
    assert int(result.state.step) == 4


def unet_reference_count(num_downs, ngf, c_in, c_out):
    """The reference's UnetGenerator parameters, block by block (batch norm: no conv bias but the
    outermost up-convolution's; a norm after every down-conv but the outer- and innermost, and
    after every up-conv but the outermost: 2 parameters per channel)."""
    inner = [ngf * min(2**d, 8) for d in range(num_downs)]
    total = 0
    for d in range(num_downs):
        outer = c_out if d == 0 else inner[d - 1]
        c_down = c_in if d == 0 else outer
        innermost = d == num_downs - 1
        total += 16 * c_down * inner[d]  # down-conv
        total += 0 if d == 0 or innermost else 2 * inner[d]  # its norm
        total += 16 * (inner[d] if innermost else 2 * inner[d]) * outer  # up-conv (sees the skip's concat)
        total += outer if d == 0 else 2 * outer  # outermost bias, else the up-norm
    return total


def test_unet_256_has_the_reference_shapes_and_parameter_count():
    net = from_linen(UnetGenerator(3, ngf=64))
    x = jax.ShapeDtypeStruct((1, 256, 256, 3), jnp.float32)
    params, stats = jax.eval_shape(net.init, jax.random.PRNGKey(0), x)
    count = sum(leaf.size for leaf in jax.tree.leaves(params))
    assert count == unet_reference_count(8, 64, 3, 3) == 54_413_955  # printed by the reference as 54.414 M
    assert round(count / 1e6, 3) == 54.414
    # layer by layer: block d's down kernel [4, 4, outer_d, inner_d], up kernel [4, 4, 2 inner_d or inner_d, outer_d]
    inner = [64, 128, 256, 512, 512, 512, 512, 512]
    for d in range(8):
        outer, c_down = (3, 3) if d == 0 else (inner[d - 1], inner[d - 1])
        assert params[f"down{d}"]["kernel"].shape == (4, 4, c_down, inner[d])
        assert params[f"up{d}"]["kernel"].shape == (4, 4, inner[d] * (1 if d == 7 else 2), outer)
    assert set(params["up0"]) == {"kernel", "bias"} and set(params["down0"]) == {"kernel"}
    assert sorted(k for k in params if k.startswith("dropout")) == []  # dropout has no parameters
    y = jax.eval_shape(lambda p, s: net.apply(p, {**s, RNG_KEY: jax.random.PRNGKey(0)}, jnp.zeros((1, 256, 256, 3)), True)[0],
                       params, {k: v for k, v in stats.items() if k != RNG_KEY})  # fmt: skip
    assert y.shape == (1, 256, 256, 3)
    # the patch discriminator on the 6 channels of a pair: the reference's printed 2.769 M
    d_params, _ = jax.eval_shape(from_linen(BatchNormPatchDiscriminator()).init, jax.random.PRNGKey(0),
                                 jax.ShapeDtypeStruct((1, 256, 256, 6), jnp.float32))  # fmt: skip
    d_count = sum(leaf.size for leaf in jax.tree.leaves(d_params))
    ref = 16 * 6 * 64 + 64 + (16 * 64 * 128 + 256) + (16 * 128 * 256 + 512) + (16 * 256 * 512 + 1024) + 16 * 512 + 1
    assert d_count == ref == 2_768_705 and round(d_count / 1e6, 3) == 2.769


def test_matrix_product_layers_are_flax_convolutions_with_the_same_parameters():
    """The default ``matmul`` layers hold the parameters of ``upsample="transpose"`` /
    ``downsample="conv"`` (``nn.ConvTranspose`` / ``nn.Conv``'s computation) and compute the same
    U-Net and PatchGAN; and those are Flax's layers: one ``nn.ConvTranspose`` with bias on its own."""
    import flax.linen as nn

    from jaxgan.speedups.layers import UpsampleConv

    x = jax.random.uniform(jax.random.PRNGKey(0), (2, 8, 8, 2), minval=-1, maxval=1)
    key = jax.random.PRNGKey(1)
    for fast, xla in ((UnetGenerator(1, ngf=2, dropout_blocks=1), UnetGenerator(1, ngf=2, dropout_blocks=1, upsample="transpose", downsample="conv")),
                      (BatchNormPatchDiscriminator(ndf=2, n_layers=2), BatchNormPatchDiscriminator(ndf=2, n_layers=2, downsample="conv"))):  # fmt: skip
        variables = jax.jit(xla.init)({"params": key, "dropout": key}, x)
        assert jax.tree.structure(jax.eval_shape(fast.init, {"params": key, "dropout": key}, x)) == jax.tree.structure(variables)
        variables = jax.tree.map(lambda v: v + 0.05 * jax.random.normal(key, v.shape), variables)  # biases not 0
        run = jax.jit(lambda m, v: m.apply(v, x, True, rngs={"dropout": key}, mutable=["batch_stats"])[0], static_argnums=0)
        np.testing.assert_allclose(run(fast, variables), run(xla, variables), rtol=1e-4, atol=1e-5)
    y = jax.random.normal(key, (2, 4, 4, 3))
    layer = nn.ConvTranspose(5, (4, 4), strides=(2, 2), padding=((2, 2), (2, 2)))
    params = jax.tree.map(lambda v: v + 0.1, layer.init(key, y))
    assert jax.tree.structure(UpsampleConv(5, use_bias=True).init(key, y)) == jax.tree.structure(params)
    np.testing.assert_allclose(UpsampleConv(5, use_bias=True).apply(params, y), layer.apply(params, y), rtol=1e-5, atol=1e-5)


def test_unet_dropout_sits_in_the_reference_blocks():
    """unet_256: dropout in the 3 blocks of width 8 ngf above the innermost (d = 4, 5, 6)."""
    module = UnetGenerator(3, ngf=1)
    _, stats = jax.eval_shape(from_linen(module).init, jax.random.PRNGKey(0), jax.ShapeDtypeStruct((1, 256, 256, 3), jnp.float32))
    assert RNG_KEY in stats
    tabulated = module.tabulate(jax.random.PRNGKey(0), jnp.zeros((1, 256, 256, 3)), True, depth=1)
    assert [d for d in range(8) if f"dropout{d}" in tabulated] == [4, 5, 6]


@pytest.mark.parametrize("n_layers,side", [(3, 70), (2, 34), (1, 16)])
def test_patch_discriminator_receptive_field(n_layers, side):
    """The input pixels one logit depends on (gradient support, running averages so that batch
    statistics do not couple all pixels): a ``side x side`` square, 70x70 for 3 layers."""
    net = from_linen(BatchNormPatchDiscriminator(ndf=2, n_layers=n_layers))
    x = jax.random.normal(jax.random.PRNGKey(0), (1, 96, 96, 6))
    params, stats = jax.jit(net.init)(jax.random.PRNGKey(1), x)
    h, w = jax.eval_shape(lambda x: net.apply(params, stats, x, False)[0], x).shape[1:3]
    grad = jax.jit(jax.grad(lambda x: net.apply(params, stats, x, False)[0][0, h // 2, w // 2, 0]))(x)
    rows, cols = np.nonzero(np.abs(np.asarray(grad[0])).sum(-1))
    assert rows.max() - rows.min() + 1 == cols.max() - cols.min() + 1 == side == patch_receptive_field(n_layers)


def test_paired_batches_keep_pairs_and_crop_and_flip_both_alike():
    n = 6
    a = np.arange(n * 5 * 5, dtype=np.float32).reshape(n, 5, 5, 1) / 200.0
    b = np.concatenate([-a, 2 * a], axis=-1)  # two channels, a function of its partner
    batch_fn = jax.jit(paired_batches(3, crop_size=4, flip=True, seed=2))
    seen = set()
    for index in range(4):
        real_a, real_b = batch_fn((jnp.asarray(a), jnp.asarray(b)), jax.random.PRNGKey(index), index)
        assert real_a.shape == (3, 4, 4, 1) and real_b.shape == (3, 4, 4, 2)
        np.testing.assert_array_equal(real_b, jnp.concatenate([-real_a, 2 * real_a], -1))
        seen |= {float(x) for x in np.asarray(real_a).ravel()}
    assert len(seen) > 4 * 4 * 3  # different pairs and crops were drawn


def test_aligned_folder_splits_each_image_into_a_and_b(tmp_path):
    from PIL import Image

    (tmp_path / "train").mkdir()
    for i in range(2):
        image = np.zeros((4, 8, 3), np.uint8)
        image[:, :4] = 10 * (i + 1)  # A: a constant
        image[:, 4:] = 100 + i  # B: another
        Image.fromarray(image).save(tmp_path / "train" / f"{i}.png")
    data = load_aligned_folder(tmp_path, "train", load_size=6)
    assert data.images_a.shape == data.images_b.shape == (2, 6, 6, 3) and data.images_a.dtype == np.uint8
    assert (data.images_a[1] == 20).all() and (data.images_b[0] == 100).all()
    with pytest.raises(DatasetError, match="no test/ folder"):
        load_aligned_folder(tmp_path, "test")


def test_parallel_folders_pair_images_by_name_as_the_side_by_side_layout_does(tmp_path):
    """``A/train/x`` goes with ``B/train/x`` (any extension): the pairs, and their order, are those of
    the same images written side by side; an image without its partner is named."""
    from PIL import Image

    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 256, (2, 3, 4, 4, 3), dtype=np.uint8)
    for root in ("side", "A/train", "B/train"):
        (tmp_path / root / "train" if root == "side" else tmp_path / root).mkdir(parents=True)
    for i, name in enumerate(("b", "c", "a")):  # written out of order: both layouts sort by name
        Image.fromarray(np.concatenate([a[i], b[i]], axis=1)).save(tmp_path / "side" / "train" / f"{name}.png")
        Image.fromarray(a[i]).save(tmp_path / "A" / "train" / f"{name}.png")
        Image.fromarray(b[i]).save(tmp_path / "B" / "train" / f"{name}.bmp")  # another extension, the same name
    side, parallel = load_aligned_folder(tmp_path / "side", load_size=4), load_aligned_folder(tmp_path, load_size=4)
    np.testing.assert_array_equal(parallel.images_a, side.images_a)
    np.testing.assert_array_equal(parallel.images_b, side.images_b)
    np.testing.assert_array_equal(parallel.images_a, a[[2, 0, 1]])  # a, b, c
    np.testing.assert_array_equal(parallel.images_b, b[[2, 0, 1]])
    (tmp_path / "B" / "train" / "c.bmp").unlink()
    with pytest.raises(DatasetError, match=r"1 image\(s\) without a partner of the same name in .*B/train: c"):
        load_aligned_folder(tmp_path, load_size=4)
    with pytest.raises(DatasetError, match=r"no test/ folder \(expected train/ and test/ of A\|B images, or A/test/"):
        load_aligned_folder(tmp_path, "test")
