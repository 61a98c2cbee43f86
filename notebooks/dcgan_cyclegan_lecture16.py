# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lecture 16's GAN variants in JAX: DCGAN and CycleGAN
#
# **What this notebook teaches.** The two GAN variants of lecture 16 of CMU's Deep Learning
# Systems (10-414/714), DCGAN and CycleGAN, trained and judged with jaxgan's public pieces and its
# experiments' own functions:
#
# 1. **The transposed convolution**, DCGAN's upsampling layer, with shapes and a picture: how a
#    4x4 kernel at stride 2 turns a 4x4 input into an 8x8 output, how many kernel taps land on each
#    output pixel, and why a 3x3 kernel at stride 2 paints a checkerboard. Every claim is an
#    `assert` against `flax.linen.ConvTranspose` and `jax.lax.conv_transpose`.
# 2. **DCGAN** on scikit-learn's offline 8x8 digits (shown at 16x16, as the experiment trains
#    them), trained from scratch to recognisable samples and judged as `python -m experiments.dcgan`
#    judges it: a classifier's score and a Frechet distance beside the real-data floor.
# 3. **CycleGAN** on a translation task whose right answer is known (`digits-thick`: domain B is
#    domain A's digits with thicker strokes, and training never sees a pair): an input, its
#    translation, its cycle back and the true answer side by side; how often the translation keeps
#    the digit, and how far its pixels are from the answer.
# 4. **The thread**: in both, the adversarial part is the same loss module, `jaxgan.GANLoss`, the
#    lecture's `GANLoss` class: DCGAN's training step is it, and each CycleGAN direction has its own.
#
# **How long it takes.** The full run (DCGAN 4000 iterations, CycleGAN 2000) took 17 minutes on a
# 2-core CPU (AMD EPYC) shared with other jobs (load average 8 to 20); the two trainings took
# 562 s and 325 s of that. On an idle machine the same trainings take about 130 s each (the
# experiments' rows in `docs/results.md`). The last cell prints this run's time.
# `JAXGAN_NOTEBOOK_QUICK=1` shrinks it (a few iterations, small judges, nothing written) to check
# that every cell runs: the test suite runs it that way.
#
# **Setup.** From the repository's root: `pip install -e ".[notebooks]"`, then open this notebook in
# Jupyter. The `.py` file beside it is the same notebook as a script (jupytext's percent format):
# edit either, and `jupytext --sync notebooks/dcgan_cyclegan_lecture16.py` brings the other up to
# date.

# %%
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import jaxgan
from jaxgan.cyclegan import init_cyclegan
from jaxgan.data import epoch_batches
from jaxgan.data.unpaired import unpaired_batches
from jaxgan.speedups.layers import UpsampleConv, subpixel_kernel

ROOT = next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "pyproject.toml").exists())  # the repository
sys.path.insert(0, str(ROOT))  # its experiments are not installed with jaxgan
from experiments import cyclegan as cyclegan_experiment  # noqa: E402  (the repository's experiments)
from experiments import dcgan as dcgan_experiment  # noqa: E402

QUICK = os.environ.get("JAXGAN_NOTEBOOK_QUICK", "0") not in ("", "0")
DCGAN_STEPS = 20 if QUICK else 4000  # the digits preset's 4000 iterations of batch 64
CYCLE_STEPS = 10 if QUICK else 2000  # half of the experiment's default 4000, batch 8
JUDGE_STEPS = 20 if QUICK else None  # training steps of the judging classifiers (None: the experiments' own)
started = time.perf_counter()
print(f"{'quick' if QUICK else 'full'} run: DCGAN {DCGAN_STEPS} iterations, CycleGAN {CYCLE_STEPS}; "
      f"jax {jax.__version__} on {jax.default_backend()}")

# %% [markdown]
# ## 1. The transposed convolution, with shapes and a picture
#
# A convolution at stride 2 reads a 4x4 window every 2 pixels and writes one number: it halves the
# image. The transposed convolution runs the other way: every *input* pixel writes a copy of the
# kernel, scaled by its value, into the output, at a place that moves by 2 output pixels per input
# pixel. Where the copies overlap they add up. Then `padding` pixels are cut from each border.
#
# With a `K x K` kernel, stride `s` and padding `p`, an `H x H` input gives
# `s (H - 1) + K - 2p` pixels a side: DCGAN's `K = 4, s = 2, p = 1` gives `2H`, a 4x4 input becomes
# 8x8. Written out in NumPy:

# %%
def transposed_conv_by_stamps(x, kernel, stride, padding):
    """The transposed convolution of one 2D image: each input pixel adds ``x[i, j] * kernel`` at
    ``(stride i, stride j)``, then ``padding`` pixels are cut from every border (PyTorch's convention)."""
    (h, w), k = x.shape, kernel.shape[0]
    full = np.zeros((stride * (h - 1) + k, stride * (w - 1) + k))
    for i in range(h):
        for j in range(w):
            full[stride * i : stride * i + k, stride * j : stride * j + k] += x[i, j] * kernel
    return full[padding : full.shape[0] - padding, padding : full.shape[1] - padding]


rng = np.random.default_rng(0)
x = rng.normal(size=(4, 4)).astype(np.float32)
kernel = rng.normal(size=(4, 4)).astype(np.float32)
by_stamps = transposed_conv_by_stamps(x, kernel, stride=2, padding=1)
print("input", x.shape, "-> output", by_stamps.shape)
assert by_stamps.shape == (8, 8)

# %% [markdown]
# Flax and `jax.lax` compute the same thing. Two conventions differ from PyTorch's: padding is
# given as the padding of the equivalent stride-1 convolution over the input with zeros inserted
# between its pixels, `K - 1 - p` on each side (here 2); and by default the kernel is stored
# flipped (Flax's layout). `transpose_kernel=True` takes it as PyTorch does. Shapes are
# `[batch, height, width, channels]`, kernels `[K, K, in, out]`.

# %%
x4 = jnp.asarray(x)[None, :, :, None]  # one 4x4 image, one channel
k4 = jnp.asarray(kernel)[:, :, None, None]  # one channel in, one out
pad = ((2, 2), (2, 2))  # K - 1 - p on each side
flax_layer = nn.ConvTranspose(1, (4, 4), strides=(2, 2), padding=pad, use_bias=False, transpose_kernel=True)
by_flax = flax_layer.apply({"params": {"kernel": k4}}, x4)[0, :, :, 0]
by_lax = jax.lax.conv_transpose(x4, k4, (2, 2), pad, dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                transpose_kernel=True)[0, :, :, 0]
for name, out in (("flax.linen.ConvTranspose", by_flax), ("jax.lax.conv_transpose", by_lax)):
    gap = float(np.max(np.abs(np.asarray(out) - by_stamps)))
    assert gap < 1e-5, (name, gap)
    print(f"{name:26s} vs the stamps: largest difference {gap:.1e}")

# Flax's default layout: the same stamps with the kernel turned by 180 degrees.
by_flax_layout = nn.ConvTranspose(1, (4, 4), strides=(2, 2), padding=pad, use_bias=False).apply({"params": {"kernel": k4}}, x4)
assert np.allclose(by_flax_layout[0, :, :, 0], transposed_conv_by_stamps(x, kernel[::-1, ::-1], 2, 1), atol=1e-5)

# %% [markdown]
# **How many taps land on each output pixel?** Stamp a kernel of ones on an input of ones: each
# output pixel then counts the kernel taps that reach it. Along one axis, input pixel `i` covers
# output pixels `2i .. 2i + K - 1` (before the padding is cut). With `K = 4` every pixel inside the
# border is covered by exactly 2 stamps per axis, so by 2 x 2 = 4 taps; with `K = 3` the covered
# counts alternate 2, 1, 2, 1 along each axis, and in 2D the pixels get 4, 2 or 1 taps in a
# checkerboard. On an even input, `K = 3` paints a pattern on the output before anything is
# learned: the checkerboard artefacts of Odena et al. (2016), which come whenever the kernel size is
# not divisible by the stride. (3x3 at stride 2, padding 1 with one extra row and column, PyTorch's
# `output_padding=1`, also doubles the size.)

# %%
ones_in = np.ones((8, 8))
counts_4 = transposed_conv_by_stamps(ones_in, np.ones((4, 4)), stride=2, padding=1)
counts_3 = transposed_conv_by_stamps(ones_in, np.ones((3, 3)), stride=2, padding=0)[1:17, 1:17]  # p = 1, output_padding = 1
print("4x4, stride 2: taps per pixel, top-left corner\n", counts_4[:5, :5].astype(int))
print("3x3, stride 2: taps per pixel, top-left corner\n", counts_3[:5, :5].astype(int))
inside = (slice(1, -1), slice(1, -1))
assert counts_4.shape == counts_3.shape == (16, 16)
assert set(np.unique(counts_4[inside])) == {4}  # uniform inside the border
assert set(np.unique(counts_3[inside])) == {1, 2, 4}  # a checkerboard
assert counts_4.sum() == 16 * 64 - 4 * 4 * 8 + 4  # every tap that is not cut off by the padding

# The same counts from Flax (a kernel and an input of ones): 3x3 with output_padding 1 is padding (1, 2).
flax_3 = nn.ConvTranspose(1, (3, 3), strides=(2, 2), padding=((1, 2), (1, 2)), use_bias=False)
flax_counts_3 = flax_3.apply({"params": {"kernel": jnp.ones((3, 3, 1, 1))}}, jnp.ones((1, 8, 8, 1)))[0, :, :, 0]
flax_counts_4 = flax_layer.apply({"params": {"kernel": jnp.ones((4, 4, 1, 1))}}, jnp.ones((1, 8, 8, 1)))[0, :, :, 0]
assert np.array_equal(np.asarray(flax_counts_3), counts_3) and np.array_equal(np.asarray(flax_counts_4), counts_4)

fig, axes = plt.subplots(1, 2, figsize=(9, 4.6))
for ax, counts, title in ((axes[0], counts_3, "3x3 kernel, stride 2"), (axes[1], counts_4, "4x4 kernel, stride 2")):
    im = ax.imshow(counts, cmap="viridis", vmin=0, vmax=4)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(im, ax=axes, shrink=0.8, ticks=[0, 1, 2, 3, 4])
fig.suptitle("taps per output pixel: an 8x8 input of ones through a kernel of ones (16x16 output)")
plt.show()

# %% [markdown]
# Equal counts are not the whole story: each output pixel of a 4x4, stride-2 layer gets its 4 taps
# from one of four *different* 2x2 sub-kernels, chosen by the parity of its row and column (the
# "phase"), so a badly balanced kernel can still make a pattern; training usually evens it out.
# This is how jaxgan computes DCGAN's layer (`jaxgan.speedups.layers.UpsampleConv`): the 4x4
# kernel is split into its four 2x2 phase kernels (`subpixel_kernel`), each a stride-1 convolution
# of the input, and their outputs are interleaved. It is the same function:

# %%
phases = subpixel_kernel(k4)  # [2, 2, in, 4 * out]: phase (ry, rx) uses the taps kernel[ry::2, rx::2]
print("4x4 kernel", k4.shape, "-> four 2x2 phase kernels", phases.shape)
dcgan_layer = UpsampleConv(1, "matmul")  # DCGAN's stride-2 layer; the kernel in Flax's layout
by_jaxgan = dcgan_layer.apply({"params": {"kernel": k4}}, x4)
gap = float(jnp.max(jnp.abs(by_jaxgan - by_flax_layout)))
assert gap < 1e-5, gap
print(f"jaxgan's UpsampleConv vs flax.linen.ConvTranspose (Flax's layout): largest difference {gap:.1e}")

# %% [markdown]
# ## 2. DCGAN on the digits
#
# DCGAN (Radford et al. 2015) is a GAN whose G is a stack of these transposed convolutions and whose
# D is a stack of stride-2 convolutions, with BatchNorm between. The networks, optimizers and
# objective come from the experiment (`python -m experiments.dcgan --dataset digits`): its
# settings (`DCGANConfig` with the digits preset, `--r1 1 --steps 4000`: an R1 penalty on D), its
# data split (287 digits held out to judge the run) and its `build_gan`, which returns a
# `jaxgan.GAN`. The digits are scikit-learn's 8x8 images, resized to 16x16 (the smallest size with
# two stride-2 stages).

# %%
config = dataclasses.replace(
    dcgan_experiment.DCGANConfig(dataset="digits", **dcgan_experiment.PRESETS["digits"]),
    steps=DCGAN_STEPS,
    # quick: a small judge, and the layers' plain matrix-product forms (the same functions, compiled sooner)
    **({"score_samples": 287, "classifier_steps": JUDGE_STEPS, "upsample": "matmul", "downsample": "matmul"} if QUICK else {}),
)
print("DCGAN settings:", {k: getattr(config, k) for k in ("dataset", "steps", "batch_size", "lr", "beta1", "r1", "latent_dim")})
train_ds, holdout_ds = dcgan_experiment.load_data(config)
print(f"training digits {train_ds.images.shape}, held out {holdout_ds.images.shape}, pixels in [-1, 1]")
gan = dcgan_experiment.build_gan(config, channels=1)
print("objective:", gan.objective.d_loss.__name__, "/", gan.objective.g_loss.__name__, "; D penalty:", gan.d_penalty is not None)

# %% [markdown]
# G maps 100 numbers of noise to a 4x4 map with a dense layer (the stride-1 transposed convolution
# of a 1x1 input), then doubles the side twice with the 4x4, stride-2 layers of section 1:
# 4x4 -> 8x8 -> 16x16. D mirrors it with stride-2 convolutions and ends in one logit.

# %%
state = jax.jit(lambda key: jaxgan.init_state(gan, key))(jax.random.PRNGKey(config.seed))
for name, p in state.g.params.items():
    if "kernel" in p:
        print(f"G {name:9s} kernel {tuple(p['kernel'].shape)}  (K, K, in, out)")
noise = jax.ShapeDtypeStruct((config.batch_size, config.latent_dim), jnp.float32)  # shapes only: nothing is computed
images = jax.ShapeDtypeStruct((config.batch_size, *train_ds.image_shape), jnp.float32)
g_out = jax.eval_shape(lambda z: gan.generator.apply(state.g.params, state.g.stats, z, True)[0], noise)
d_out = jax.eval_shape(lambda x: gan.discriminator.apply(state.d.params, state.d.stats, x, True)[0], images)
print("G: noise", noise.shape, "-> images", g_out.shape, "   D: images", images.shape, "-> logits", d_out.shape)

# %% [markdown]
# **Training with D as a loss.** Each iteration is the lecture's modular loop,
# `jaxgan.build_modular_train_step`: G's loss is `GANLoss(D, D's optimizer, objective, penalty)`
# (section 4), which first takes one step of D on a real batch and `stop_gradient(G(z))`, then
# returns G's non-saturating loss against the updated D; G takes one Adam step on it. `jaxgan.fit`
# compiles the iterations in chunks (`lax.scan`). The batches walk through the training digits in
# epochs (`epoch_batches`), as the experiment's do.

# %%
batches = epoch_batches(config.batch_size, jax.random.PRNGKey(config.seed + 1))
train_step = jaxgan.build_modular_train_step(gan, batches)
dcgan_fit = jaxgan.fit(train_step, state, jnp.asarray(train_ds.images), config.steps,
                       chunk_size=min(config.steps, 500), donate=True)
metrics = dcgan_fit.metrics
print(f"{config.steps} iterations of batch {config.batch_size}: {dcgan_fit.train_seconds:.0f} s "
      f"(+{dcgan_fit.compile_seconds:.0f} s compiling)")
last = slice(-min(50, config.steps), None)
print(f"last 50 iterations: Loss_D {metrics['d_loss'][last].mean():.3f}  Loss_G {metrics['g_loss'][last].mean():.3f}  "
      f"D(x) {metrics['d_real'][last].mean():.3f}  D(G(z)) after D's step {metrics['d_fake_after'][last].mean():.3f}")

# %% [markdown]
# G's samples, in evaluation mode (BatchNorm's running statistics), from the experiment's fixed
# noise batch (`make_generate`, `image_grid`):

# %%
generate = dcgan_experiment.make_generate(gan, 64)
sampler = dcgan_experiment.make_sampling_generator(config, gan)(dcgan_fit.state)
fixed_noise = jax.random.normal(jax.random.PRNGKey(config.seed + 3), (dcgan_experiment.SAMPLE_GRID, config.latent_dim))
samples = generate(*sampler, fixed_noise)
fig, axes = plt.subplots(1, 2, figsize=(10, 5))
for ax, images, title in ((axes[0], samples, f"G's samples after {config.steps} iterations"),
                          (axes[1], train_ds.images[:64], "real training digits")):
    ax.imshow(dcgan_experiment.image_grid(images, ncol=8)[..., 0], cmap="gray", vmin=0, vmax=255)
    ax.set_title(title)
    ax.axis("off")
plt.show()

# %% [markdown]
# **The judge.** The experiment's `evaluate`: a small CNN trained on the training digits (once;
# cached under `~/.cache/jaxgan`) reads 5000 generated digits. Its *classifier score* is the
# Inception score's formula, `exp E_x KL(p(y|x) || p(y))`: high (at most 10) when each digit is
# read confidently as one class and the classes are used evenly. The *Frechet distance* compares
# the mean and covariance of its 128 features on 287 generated digits and on the training digits;
# both are shown beside the real floor, the held-out real digits scored the same way.

# %%
t = time.perf_counter()
judged = dcgan_experiment.evaluate(config, generate, sampler, train_ds, holdout_ds)
print(f"classifier score {judged['classifier_score']:.3f} (real held-out digits: {judged['real_classifier_score']:.3f}; "
      f"the experiment's goal: >= 8)")
print(f"Frechet distance {judged['frechet_distance']:.2f} (real floor {judged['real_frechet_floor']:.2f}: "
      f"{judged['frechet_distance'] / judged['real_frechet_floor']:.2f}x)   class KL {judged['class_kl']:.4f}")
print(f"the judge reads {judged['classifier_accuracy']:.1%} of the held-out digits right; evaluation took {time.perf_counter() - t:.0f} s")

# %% [markdown]
# These are, to every printed digit, the numbers of the experiment's own run,
# `python -m experiments.dcgan --dataset digits --r1 1 --steps 4000` (its row in
# `docs/results.md`: score 8.370, Frechet distance 17.96): the same settings, seed and batches, and
# the modular loop computes the experiment's iterations bit for bit.
#
# ## 3. CycleGAN on a task whose answer is known
#
# CycleGAN (Zhu et al. 2017) learns two translators, `G_AB: A -> B` and `G_BA: B -> A`, from two
# *unpaired* sets of images. Each is trained against its own discriminator (does `G_AB(a)` look
# like a B image?) and both together against the cycle loss `|G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b|`
# (plus an identity loss). On real photographs there is no right answer to compare with; here
# there is. In `digits-thick`, domain A is digits and domain B is *other* digits with strokes
# thickened by a 3x3 maximum, `T(x)`; training never sees a pair `(x, T(x))`. On 360 held-out
# digits the answer is known: `G_AB(x)` should be `T(x)`.
#
# The settings, data, networks (ResNet translators, PatchGAN discriminators, LSGAN objective, the
# reference's learning-rate decay over the second half) come from `python -m experiments.cyclegan`;
# this run is half as long as its default (2000 iterations instead of 4000).

# %%
quick = {"classifier_steps": JUDGE_STEPS, "n_blocks": 1} if QUICK else {}  # quick: 1 residual block, not 3
cycle_config = cyclegan_experiment.CycleGANConfig(dataset="digits-thick", steps=CYCLE_STEPS, **quick).resolved()
(train_a, train_b), (test_a, test_b), task = cyclegan_experiment.load_data(cycle_config)
print(f"domain A {train_a.shape}, domain B {train_b.shape}: unpaired; held out: x {test_a.shape} and T(x) {test_b.shape}")
model = cyclegan_experiment.build_model(cycle_config, channels_a=1, channels_b=1)
cycle_state = init_cyclegan(model, jax.random.PRNGKey(cycle_config.seed), train_a.shape[1:], train_b.shape[1:])
cycle_step = jaxgan.cyclegan.build_train_step(model, unpaired_batches(cycle_config.batch_size, seed=cycle_config.seed))
cycle_fit = jaxgan.fit(cycle_step, cycle_state, (jnp.asarray(train_a), jnp.asarray(train_b)), cycle_config.steps,
                       chunk_size=min(cycle_config.steps, 500))
print(f"{cycle_config.steps} iterations of batch {cycle_config.batch_size}: {cycle_fit.train_seconds:.0f} s "
      f"(+{cycle_fit.compile_seconds:.0f} s compiling)")

# %% [markdown]
# The held-out digits through both translators (the experiment's `translate_all`), and its
# `evaluate`: the pixel error of `G_AB(x)` against the true answer `T(x)` on the [0, 1] scale (doing
# nothing, `x` itself, errs by 0.176), and label preservation: a classifier trained on each
# domain's digits (never on translations) reads the translations, and we count how often it reads
# the digit that went in.

# %%
translated = cyclegan_experiment.translate_all(model, cycle_fit.state, test_a, test_b)
cycle_judged = cyclegan_experiment.evaluate(translated, (test_a, test_b), task, cycle_config.seed, cycle_config.classifier_steps)
print(f"pixel MAE, G_AB(x) vs T(x): {cycle_judged['pixel_mae_ab']:.4f} (doing nothing: {cycle_judged['pixel_mae_identity']:.4f}); "
      f"G_BA(T(x)) vs x: {cycle_judged['pixel_mae_ba']:.4f}")
print(f"label preserved: A->B {cycle_judged['label_acc_ab']:.1%}, B->A {cycle_judged['label_acc_ba']:.1%} "
      f"(the classifiers on real held-out digits: {cycle_judged['label_acc_real_a']:.1%}, {cycle_judged['label_acc_real_b']:.1%})")
print(f"cycle MAE: A {cycle_judged['cycle_mae_a']:.4f}, B {cycle_judged['cycle_mae_b']:.4f}")

# %%
rows = [("input x", test_a), ("G_AB(x)", translated["fake_b"]), ("G_BA(G_AB(x))", translated["rec_a"]), ("true answer T(x)", test_b)]
n = 10
fig, axes = plt.subplots(len(rows), n, figsize=(1.1 * n + 1.5, 1.15 * len(rows)), squeeze=False)
for r, (label, images) in enumerate(rows):
    for c in range(n):
        axes[r, c].imshow((np.clip(images[c, :, :, 0], -1, 1) + 1) / 2, cmap="gray", vmin=0, vmax=1)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
fig.suptitle(f"CycleGAN on digits-thick after {cycle_config.steps} iterations: held-out digits")
plt.show()

# %% [markdown]
# ## 4. The thread: the discriminator as a loss module, `GANLoss`
#
# The lectures "implement the whole discriminator as a loss function": lecture 17's `GANLoss`
# holds D and its optimizer; called on G's output and a real batch, it first takes one step of D
# and then returns G's loss against the updated D. Any generator can then be trained "with a GAN
# loss" beside its other losses, and lecture 16's variants are just that. jaxgan's `GANLoss` is a
# pure function of D's state, and both models above use it:
#
# * **DCGAN.** Section 2 trained it with `jaxgan.build_modular_train_step(gan, batches)`, whose
#   G loss is `GANLoss(gan.discriminator, gan.d_optimizer, gan.objective, gan.d_penalty)`: D's
#   update, R1 penalty included, happens inside the loss. (It computes the same iteration as
#   `jaxgan.build_train_step`, a D step then a G step with no loss object, bit for bit: the
#   lecture 17 notebook checks it on the toy GAN.)
# * **CycleGAN.** Each direction has its own: `model.gan_loss_b` judges `G_AB`'s translations
#   against real B digits, `model.gan_loss_a` judges `G_BA`'s against real A digits. The generator
#   step adds the two `GANLoss.generator_loss` terms to the cycle and identity losses; the
#   discriminator step is the two `GANLoss.update_discriminator` calls. We check, on held-out
#   digits and the trained CycleGAN, that the generator step's adversarial terms are exactly what
#   the two `GANLoss` objects return.

# %%
gan_loss = jaxgan.GANLoss(gan.discriminator, gan.d_optimizer, gan.objective, gan.d_penalty)
for name, loss in (("DCGAN", gan_loss), ("CycleGAN, A -> B (D_B)", model.gan_loss_b), ("CycleGAN, B -> A (D_A)", model.gan_loss_a)):
    assert isinstance(loss, jaxgan.GANLoss)
    print(f"{name:23s} {type(loss).__name__}: D's loss {loss.objective.d_loss.__name__}, G's {loss.objective.g_loss.__name__}")


@jax.jit
def cyclegan_adversarial_terms(state, real_a, real_b):
    """The generator step's adversarial terms, and the same from the two GANLoss objects."""
    _, _, g_metrics = jaxgan.cyclegan.build_generator_step(model)(state, real_a, real_b)
    fake_b = model.generator_ab.apply(state.g_ab.params, state.g_ab.stats, real_a, True)[0]
    fake_a = model.generator_ba.apply(state.g_ba.params, state.g_ba.stats, real_b, True)[0]
    adv_ab, _ = model.gan_loss_b.generator_loss(state.d_b, fake_b, real_b)
    adv_ba, _ = model.gan_loss_a.generator_loss(state.d_a, fake_a, real_a)
    return (g_metrics["g_adv_ab"], adv_ab), (g_metrics["g_adv_ba"], adv_ba)


(step_ab, loss_ab), (step_ba, loss_ba) = cyclegan_adversarial_terms(cycle_fit.state, jnp.asarray(test_a[:8]), jnp.asarray(test_b[:8]))
print(f"CycleGAN generator step, adversarial terms: A->B {float(step_ab):.6f}, GANLoss of D_B {float(loss_ab):.6f}; "
      f"B->A {float(step_ba):.6f}, GANLoss of D_A {float(loss_ba):.6f}")
assert np.allclose(step_ab, loss_ab, rtol=1e-6) and np.allclose(step_ba, loss_ba, rtol=1e-6)

# %% [markdown]
# A full run records its numbers in the repository's results (`docs/results/<backend>/`); a quick
# run writes nothing.

# %%
record = {
    "notebook": "notebooks/dcgan_cyclegan_lecture16.ipynb",
    "dcgan": {"dataset": config.dataset, "image_size": config.size, "steps": config.steps,
              "batch_size": config.batch_size, "r1": config.r1, "seed": config.seed,
              **judged, "compile_seconds": dcgan_fit.compile_seconds, "train_seconds": dcgan_fit.train_seconds},
    "cyclegan": {"dataset": cycle_config.dataset, "steps": cycle_config.steps, "batch_size": cycle_config.batch_size,
                 "decay_steps": cycle_config.decay_steps, "seed": cycle_config.seed, **cycle_judged,
                 "compile_seconds": cycle_fit.compile_seconds, "train_seconds": cycle_fit.train_seconds},
    "ganloss_check": {"cyclegan_g_adv_ab": [float(step_ab), float(loss_ab)], "cyclegan_g_adv_ba": [float(step_ba), float(loss_ba)]},
    "jax": jax.__version__,
    "backend": jax.default_backend(),
    "device": jax.devices()[0].device_kind,
    "cpu_count": os.cpu_count(),
}
record["notebook_seconds"] = time.perf_counter() - started
text = json.dumps(record, indent=2) + "\n"
if not QUICK:
    out = ROOT / "docs" / "results" / jax.default_backend() / "notebook_dcgan_cyclegan.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print("wrote", out.relative_to(ROOT))
print(f"this run took {record['notebook_seconds']:.0f} s")
