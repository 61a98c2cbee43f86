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
# # Lecture 17's toy GAN in JAX, cell by cell
#
# **What this notebook teaches.** The GAN of lecture 17 of CMU's Deep Learning Systems (10-414/714),
# written in *needle*, the course's own framework, next to its JAX counterpart built from jaxgan's
# public pieces, one cell at a time: the data, the two networks, `update_D` (where `detach()`
# becomes `stop_gradient`), `update_G` (which differentiates G's parameters only), the training loop,
# the comparison the lecture prints, and the modular version in which D becomes a loss (`GANLoss`).
# Then it answers, with evidence, a question a student asked in the lecture: *does computing G's
# gradient leave gradients in D that leak into D's next update?*
#
# **How long it takes.** The full run (2000 iterations, as in the lecture; the leak experiment on 32
# seeds) takes about a minute on a 2-core CPU: 52 s for the outputs below, 80 s while other jobs
# shared the machine (the last cell prints this run's time). `JAXGAN_NOTEBOOK_QUICK=1` shrinks it (fewer iterations and seeds, nothing
# written) to check that every cell runs: the test suite runs it that way.
#
# **Setup.** From the repository's root: `pip install -e ".[notebooks]"`, then open this notebook in
# Jupyter. The `.py` file beside it is the same notebook as a script (jupytext's percent format):
# edit either, and `jupytext --sync notebooks/toy_gan_lecture17.py` brings the other up to date.
#
# The needle code is quoted from the lecture's notebook; it is shown, not run (needle is not a
# package one installs).

# %%
import os
import time
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

import jaxgan
from jaxgan import losses
from jaxgan.data import LECTURE_A, LECTURE_MU, affine_gaussian, contiguous_batches
from jaxgan.metrics import gaussian_fit_errors
from jaxgan.models.mlp import MLP, LinearGenerator

QUICK = os.environ.get("JAXGAN_NOTEBOOK_QUICK", "0") not in ("", "0")
STEPS = 200 if QUICK else 2000  # the lecture's 2000 iterations of batch 32
SEEDS = 4 if QUICK else 32  # runs of each variant in the leak experiment
BATCH, N_SAMPLES, LR = 32, 3200, 0.01
started = time.perf_counter()
print(f"{'quick' if QUICK else 'full'} run: {STEPS} iterations, {SEEDS} seeds; jax {jax.__version__} on {jax.default_backend()}")

# %% [markdown]
# ## 1. The data: `N(0, I) @ A + mu`
#
# **needle (lecture 17)**
# ```python
# A = np.array([[1, 2], [-0.2, 0.5]])
# mu = np.array([2, 1])
# # total number of sample data to generated
# num_sample = 3200
# data = np.random.normal(0, 1, (num_sample, 2)) @ A + mu
# ```
#
# **JAX.** NumPy's global random state becomes an explicit key: every random draw below comes from a
# key split from one seed, so the whole notebook is reproducible. Run `r` of this notebook uses
# `fold_in(PRNGKey(0), r)`; its data set is drawn from `fold_in(key, 0)` and its networks from
# `fold_in(key, 1)`. The data are samples of `N(mu, A^T A)`.

# %%
def run_key(r):
    """Run ``r``'s key: its data set comes from ``fold_in(key, 0)``, its networks from ``fold_in(key, 1)``."""
    return jax.random.fold_in(jax.random.PRNGKey(0), r)


A, mu = np.asarray(LECTURE_A, np.float64), np.asarray(LECTURE_MU, np.float64)
data = affine_gaussian(jax.random.fold_in(run_key(0), 0), N_SAMPLES)  # = N(0, I) @ A + mu
print("data:", data.shape, data.dtype)
print("A^T A =", (A.T @ A).round(3).tolist(), "  the data's covariance =", np.cov(np.asarray(data).T, bias=True).round(3).tolist())

# %% [markdown]
# ## 2. G and D
#
# **needle**
# ```python
# model_G = nn.Sequential(nn.Linear(2, 2))
#
# model_D = nn.Sequential(
#     nn.Linear(2, 20),
#     nn.ReLU(),
#     nn.Linear(20, 10),
#     nn.ReLU(),
#     nn.Linear(10, 2)
# )
# loss_D = nn.SoftmaxLoss()
#
# opt_G = ndl.optim.Adam(model_G.parameters(), lr=0.01)
# opt_D = ndl.optim.Adam(model_D.parameters(), lr=0.01)
# ```
#
# **JAX.** A `jaxgan.GAN` holds what does not change: the two networks (Flax modules), their optax
# optimizers and the objective (`"softmax"`: the lecture's two-class softmax loss, class 1 = real).
# What changes lives in a state pytree, `GANState`: each player's parameters and optimizer state, the
# iteration count and the run's key. There is no `.grad` field anywhere in it.

# %%
gan = jaxgan.GAN(
    generator=LinearGenerator(2),  # G(z) = z W + b
    discriminator=MLP((20, 10), 2),  # 2 -> 20 -> ReLU -> 10 -> ReLU -> 2 logits
    g_optimizer=optax.adam(LR),
    d_optimizer=optax.adam(LR),
    latent_shape=2,
    objective="softmax",
)
state0 = jaxgan.init_state(gan, jax.random.fold_in(run_key(0), 1))
print("G:", jax.tree.map(jnp.shape, state0.g.params))
print("D:", jax.tree.map(jnp.shape, state0.d.params))

# %% [markdown]
# ## 3. `update_D`: `detach()` becomes `stop_gradient`
#
# **needle**
# ```python
# def update_D(X, Z, model_G, model_D, loss_D, opt_D):
#     fake_X = model_G(Z).detach()
#     fake_Y = model_D(fake_X)
#     real_Y = model_D(X)
#     assert X.shape[0] == Z.shape[0]
#     batch_size = X.shape[0]
#     ones = ndl.ones(batch_size, dtype="int32")
#     zeros = ndl.zeros(batch_size, dtype="int32")
#     loss = loss_D(real_Y, ones) + loss_D(fake_Y, zeros)
#     loss.backward()
#     opt_D.step()
# ```
#
# **JAX**, written out by hand: `jax.grad(loss_of)(d_params)` is `loss.backward()`, but it
# *returns* the gradient (of `loss_of` with respect to its argument, D's parameters, and nothing
# else) instead of storing it; `gan.d_optimizer.update` is `opt_D.step()`, with Adam's moments passed
# in and out. `stop_gradient` marks `fake_X` as a constant, as `detach()` does. Here it changes no
# number: `jax.grad` only differentiates with respect to `d_params`, and `fake_X` does not depend on
# them. It matters where G's output is computed *inside* a differentiated function, as in the modular
# version (section 7).

# %%
def update_D(state, X, Z):
    """The lecture's update_D, in JAX: one Adam step of D on the softmax loss."""
    fake_X, _ = gan.generator.apply(state.g.params, state.g.stats, Z, True)
    fake_X = jax.lax.stop_gradient(fake_X)  # fake_X = model_G(Z).detach()

    def loss_of(d_params):
        real_Y, _ = gan.discriminator.apply(d_params, state.d.stats, X, True)
        fake_Y, _ = gan.discriminator.apply(d_params, state.d.stats, fake_X, True)
        return losses.softmax_discriminator_loss(real_Y, fake_Y)  # loss_D(real_Y, ones) + loss_D(fake_Y, zeros)

    grads = jax.grad(loss_of)(state.d.params)  # loss.backward(): returned, not stored
    updates, opt_state = gan.d_optimizer.update(grads, state.d.opt_state, state.d.params)  # opt_D.step()
    d = jaxgan.PlayerState(optax.apply_updates(state.d.params, updates), state.d.stats, opt_state)
    return state._replace(d=d)


# jaxgan's D step is the same function: one batch, one key for Z, both ways.
X = data[:BATCH]
state, Z = jaxgan.sample_noise(gan, state0, BATCH)  # Z ~ N(0, I) from a key split from the state
by_hand, (by_jaxgan, _) = update_D(state, X, Z), jaxgan.build_d_step(gan)(state, X, Z)
gap = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(by_hand.d), jax.tree.leaves(by_jaxgan.d)))
assert gap < 1e-6, gap
print(f"update_D by hand vs jaxgan.build_d_step: largest difference in D's state {gap:.1e}")

# %% [markdown]
# ## 4. `update_G`: G's parameters, and only those, are differentiated
#
# **needle**
# ```python
# def update_G(Z, model_G, model_D, loss_D, opt_G):
#     fake_X = model_G(Z)
#     fake_Y = model_D(fake_X)
#     batch_size = Z.shape[0]
#     ones = ndl.ones(batch_size, dtype="int32")
#     loss = loss_D(fake_Y, ones)
#     loss.backward()
#     opt_G.step()
# ```
#
# G's loss is the non-saturating one: the softmax loss of `D(G(z))` against the label "real". In
# needle, `loss.backward()` walks the whole graph, D's layers included, so it also computes the
# gradient of this loss with respect to D's weights and stores it in their `.grad`; `opt_G.step()`
# then only uses G's. In JAX, `jax.grad(loss_of)(g_params)` differentiates with respect to its
# argument, G's parameters; D's parameters are constants of `loss_of`, and no gradient of them is
# formed (section 8 checks this in the compiled program).

# %%
def update_G(state, Z):
    """The lecture's update_G, in JAX: one Adam step of G against the current D."""

    def loss_of(g_params):
        fake_X, _ = gan.generator.apply(g_params, state.g.stats, Z, True)
        fake_Y, _ = gan.discriminator.apply(state.d.params, state.d.stats, fake_X, True)
        return losses.softmax_generator_loss(fake_Y)  # loss_D(fake_Y, ones)

    grads = jax.grad(loss_of)(state.g.params)  # with respect to G's parameters only
    updates, opt_state = gan.g_optimizer.update(grads, state.g.opt_state, state.g.params)  # opt_G.step()
    g = jaxgan.PlayerState(optax.apply_updates(state.g.params, updates), state.g.stats, opt_state)
    return state._replace(g=g, step=state.step + 1)


by_hand, (by_jaxgan, _) = update_G(by_jaxgan, Z), jaxgan.build_g_step(gan)(by_jaxgan, Z)
gap = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(by_hand), jax.tree.leaves(by_jaxgan)))
assert gap < 1e-6, gap
print(f"update_G by hand vs jaxgan.build_g_step: largest difference in the state {gap:.1e}")

# %% [markdown]
# ## 5. The training loop
#
# **needle**
# ```python
# def train_gan(data, batch_size, num_epochs):
#     assert data.shape[0] % batch_size == 0
#     for epoch in range(num_epochs):
#         begin = (batch_size * epoch) % data.shape[0]
#         X = data[begin: begin+batch_size, :]
#         Z = np.random.normal(0, 1, (batch_size, 2))
#         X = ndl.Tensor(X)
#         Z = ndl.Tensor(Z)
#         update_D(X, Z, model_G, model_D, loss_D, opt_D)
#         update_G(Z, model_G, model_D, loss_D, opt_G)
#
# train_gan(data, 32, 2000)
# ```
#
# **JAX.** The same loop over jaxgan's compiled steps (`make_d_step`, `make_g_step`: the functions
# above under `jax.jit`). Each step takes the state and returns the new one; `Z` comes from a key
# split from the state, and D and G see the same `Z`, as in the lecture.

# %%
d_step, g_step = jaxgan.make_d_step(gan), jaxgan.make_g_step(gan)


def train_gan(state, data, batch_size, num_epochs):
    assert data.shape[0] % batch_size == 0
    for epoch in range(num_epochs):
        begin = (batch_size * epoch) % data.shape[0]
        X = data[begin : begin + batch_size]
        state, Z = jaxgan.sample_noise(gan, state, batch_size)
        state, _ = d_step(state, X, Z)
        state, _ = g_step(state, Z)
    return state


t = time.perf_counter()
trained = train_gan(state0, data, BATCH, STEPS)
print(f"{STEPS} iterations in a Python loop: {time.perf_counter() - t:.1f} s (compilation included)")

# %% [markdown]
# `jaxgan.fit` runs the same iterations inside one compiled `lax.scan` (no Python between steps);
# `build_train_step` is "a D step, then a G step on the same `Z`", with contiguous batches as above.
# It computes exactly what the loop computed, bit for bit:

# %%
lecture_step = jaxgan.build_train_step(gan, contiguous_batches(BATCH))
fitted = jaxgan.fit(lecture_step, state0, data, STEPS, chunk_size=STEPS)
same = all(bool(jnp.array_equal(a, b)) for a, b in zip(jax.tree.leaves(fitted.state), jax.tree.leaves(trained)))
assert same
print(f"fit: the same state, bit for bit ({STEPS} iterations in {fitted.train_seconds:.2f} s after "
      f"{fitted.compile_seconds:.1f} s of compilation)")

# %% [markdown]
# ## 6. What G learned
#
# **needle**
# ```python
# gA, gmu = model_G.parameters()
# A.T @ A
# gA = gA.numpy()
# gA.T @ gA
# gmu, mu
# ```
#
# G is affine, `G(z) = z W + b`, so for `z ~ N(0, I)` it generates exactly `N(b, W^T W)`: compare
# `W^T W` with `A^T A` and `b` with `mu`. Compare covariances, not weights: any rotation of `A` gives
# the same distribution, so `W` need not look like `A`.

# %%
W = np.asarray(trained.g.params["linear"]["kernel"], np.float64)
b = np.asarray(trained.g.params["linear"]["bias"], np.float64)
cov_err, mean_err = (float(e) for e in gaussian_fit_errors(W, b, A, mu))
print("A^T A =", (A.T @ A).round(3).tolist(), "   W^T W =", (W.T @ W).round(3).tolist())
print("mu    =", mu.round(3).tolist(), "               b     =", b.round(3).tolist())
print(f"covariance error ||W^T W - A^T A||_F / ||A^T A||_F = {cov_err:.3f};  mean error ||b - mu|| = {mean_err:.3f}")

# %% [markdown]
# The lecture's own run printed `W^T W = [[0.808, 1.881], [1.881, 5.023]]` and `b = [2.000, 1.230]`:
# a covariance error of 0.157 and a mean error of 0.230. One run says little: with the lecture's
# constant step size the two players keep circling the equilibrium, and where a run stops depends on
# its seed (section 9 trains 32). The lecture's scatter plot: the data, G's samples before training
# and after.

# %%
z = jax.random.normal(jax.random.PRNGKey(1), (N_SAMPLES, 2))  # one noise batch for both samples
W0 = np.asarray(state0.g.params["linear"]["kernel"])
b0 = np.asarray(state0.g.params["linear"]["bias"])
fig, ax = plt.subplots(figsize=(5, 5))
ax.scatter(*np.asarray(data).T, s=3, alpha=0.5, color="tab:blue", label="real data")
ax.scatter(*(np.asarray(z) @ W0 + b0).T, s=3, alpha=0.5, color="tab:red", label="G(z) at init")
ax.scatter(*(np.asarray(z) @ W + b).T, s=3, alpha=0.5, color="tab:pink", label="G(z) trained")
ax.set_aspect("equal", adjustable="datalim")
ax.legend(loc="upper left", markerscale=4)
ax.set_title(f"lecture 17's toy GAN after {STEPS} iterations")
plt.show()

# %% [markdown]
# ## 7. The modular version: D as a loss, `GANLoss`
#
# **needle**
# ```python
# class GANLoss:
#     def __init__(self, model_D, opt_D):
#         self.model_D = model_D
#         self.opt_D = opt_D
#         self.loss_D = nn.SoftmaxLoss()
#
#     def _update_D(self, real_X, fake_X):
#         real_Y = self.model_D(real_X)
#         fake_Y = self.model_D(fake_X.detach())
#         batch_size = real_X.shape[0]
#         ones = ndl.ones(batch_size, dtype="int32")
#         zeros = ndl.zeros(batch_size, dtype="int32")
#         loss = self.loss_D(real_Y, ones) + self.loss_D(fake_Y, zeros)
#         loss.backward()
#         self.opt_D.step()
#
#     def forward(self, fake_X, real_X):
#         self._update_D(real_X, fake_X)
#         fake_Y = self.model_D(fake_X)
#         batch_size = real_X.shape[0]
#         ones = ndl.ones(batch_size, dtype="int32")
#         loss = self.loss_D(fake_Y, ones)
#         return loss
#
# gan_loss = GANLoss(model_D, opt_D)
#
# def train_gan(data, batch_size, num_epochs):
#     assert data.shape[0] % batch_size == 0
#     for epoch in range(num_epochs):
#         begin = (batch_size * epoch) % data.shape[0]
#         X = data[begin: begin+batch_size, :]
#         Z = np.random.normal(0, 1, (batch_size, 2))
#         X = ndl.Tensor(X)
#         Z = ndl.Tensor(Z)
#         fake_X = model_G(Z)
#         loss = gan_loss.forward(fake_X, X)
#         loss.backward()
#         opt_G.step()
# ```
#
# **JAX.** `jaxgan.GANLoss` is that class as a pure function of D's state:
# `gan_loss(d_state, fake_X, X)` updates D on `(X, stop_gradient(fake_X))` and returns G's loss
# against the updated D, with D's new state beside it. G's training is then ordinary gradient
# descent on a loss. Here `fake_X` is computed inside the differentiated function, so the
# `stop_gradient` inside `GANLoss` is what keeps D's update out of G's gradient.

# %%
gan_loss = jaxgan.GANLoss(gan.discriminator, gan.d_optimizer, "softmax")


@jax.jit
def modular_step(state, X, Z):
    def g_loss_of(g_params):
        fake_X, g_stats = gan.generator.apply(g_params, state.g.stats, Z, True)  # fake_X = model_G(Z)
        loss, (d, _) = gan_loss(state.d, fake_X, X)  # loss = gan_loss.forward(fake_X, X)
        return loss, (g_stats, d)

    grads, (g_stats, d) = jax.grad(g_loss_of, has_aux=True)(state.g.params)  # loss.backward()
    updates, opt_state = gan.g_optimizer.update(grads, state.g.opt_state, state.g.params)  # opt_G.step()
    g = jaxgan.PlayerState(optax.apply_updates(state.g.params, updates), g_stats, opt_state)
    return state._replace(g=g, d=d, step=state.step + 1)


def train_gan_modular(state, data, batch_size, num_epochs):
    for epoch in range(num_epochs):
        begin = (batch_size * epoch) % data.shape[0]
        state, Z = jaxgan.sample_noise(gan, state, batch_size)
        state = modular_step(state, data[begin : begin + batch_size], Z)
    return state


modular = train_gan_modular(state0, data, BATCH, STEPS)
W_mod = np.asarray(modular.g.params["linear"]["kernel"], np.float64)
b_mod = np.asarray(modular.g.params["linear"]["bias"], np.float64)
print("explicit steps: W^T W =", (W.T @ W).round(4).tolist(), " b =", b.round(4).tolist())
print("GANLoss:        W^T W =", (W_mod.T @ W_mod).round(4).tolist(), " b =", b_mod.round(4).tolist())
same = all(bool(jnp.array_equal(a, b)) for a, b in zip(jax.tree.leaves(modular), jax.tree.leaves(trained)))
assert same
print("the same numbers, bit for bit (G, D and both optimizers' states)")

# %% [markdown]
# `jaxgan.build_modular_train_step(gan, batch_fn)` is this loop as a train step for `fit`.
#
# ## 8. The student's question
#
# > Computing G's gradient also computes D's gradients, which stay in D's `.grad` and add to the next
# > D update. Shouldn't they be zeroed between the alternating steps?
#
# It depends on the framework, and the answer is different in each:
#
# * **PyTorch accumulates.** `loss.backward()` *adds* into the `.grad` of every parameter the loss
#   depends on, and the sum stays there until `zero_grad()`. G's backward runs through D, so it adds
#   G's loss's gradient to D's `.grad`. If D's gradients are not zeroed between G's backward and D's
#   next backward (for instance a loop that calls `opt_D.zero_grad()` right after `opt_D.step()`
#   instead of before `backward()`), D's next update uses that sum: the leak the student feared.
#   PyTorch's own DCGAN example calls `netD.zero_grad()` at the start of each D step, and
#   `netG.zero_grad()` before G's backward, for this reason. With no `zero_grad()` at all, `.grad`
#   would hold the sum of every gradient since the start: a worse bug still.
# * **needle, as far as the lecture and the course's code show, overwrites.** The lecture's loop never
#   calls `opt.reset_grad()`. In the course's needle code, `Tensor.backward()` calls
#   `compute_gradient_of_variables`, documented as "take gradient of output node with respect to each
#   node in node_list; store the computed result in the grad field of each Variable", and
#   `Optimizer.reset_grad()` sets each `p.grad = None`. The body of `compute_gradient_of_variables`
#   is a homework exercise; the algorithm it asks for sums the partial adjoints of *this* backward
#   pass and stores (assigns) them, so each backward overwrites the `.grad` of every node it reaches,
#   and every D parameter is reached by D's loss. Then G's backward computes D's gradients (wasted
#   work) and D's next backward overwrites them: no leak. What is checked here is that documented
#   contract and the lecture's code, not a needle run: an implementation of the exercise that added
#   to an existing `.grad` would leak exactly as PyTorch does.
# * **JAX has nothing to accumulate into.** `jax.grad` returns gradients as values; there is no
#   `.grad` buffer that outlives a call, and a gradient that is not returned is not kept. JAX also
#   differentiates only with respect to the arguments asked for, so jaxgan's G step does not even
#   form D's gradient. (a) shows this in the program itself; (b) shows what the feared leak would do,
#   by writing it on purpose.
#
# ### (a) The G step's program: no gradient with respect to D's parameters is formed
#
# `jax.make_jaxpr` traces jaxgan's G step into the program JAX compiles. Its matrix products
# (`dot_general`) tell what is computed: G's forward pass is one product (`z W`), D's forward three;
# the backward pass through D to G's samples is three more (one per D layer, with respect to that
# layer's *input*), and G's weight gradient one. A gradient with respect to a D layer's *weights*
# would be a product shaped like that layer's kernel (or its transpose): `(2, 20)`, `(20, 10)`,
# `(10, 2)`. The cell counts them in jaxgan's G step and, as a control, in the gradient of the same
# loss with respect to both players' parameters (`argnums=(0, 1)`, what a framework that
# differentiates everything computes).

# %%
def all_equations(jaxpr):
    """Every equation of a jaxpr, those of the sub-programs it calls included."""
    for eqn in jaxpr.eqns:
        yield eqn
        for param in eqn.params.values():
            for sub in param if isinstance(param, (tuple, list)) else (param,):
                sub = getattr(sub, "jaxpr", sub)  # a ClosedJaxpr's Jaxpr
                if hasattr(sub, "eqns"):
                    yield from all_equations(sub)


def products(closed_jaxpr):
    """The output shapes of the program's matrix products (``dot_general``), in order."""
    return [tuple(e.outvars[0].aval.shape) for e in all_equations(closed_jaxpr.jaxpr) if e.primitive.name == "dot_general"]


d_kernels = [k.shape for k in jax.tree.leaves(state0.d.params) if k.ndim == 2]
d_weight_shaped = {*d_kernels, *(s[::-1] for s in d_kernels)}

g_step_program = jax.make_jaxpr(jaxgan.build_g_step(gan))(state0, Z)
g_products = products(g_step_program)


def g_loss_of_both(g_params, d_params):
    fake_X, _ = gan.generator.apply(g_params, state0.g.stats, Z, True)
    fake_Y, _ = gan.discriminator.apply(d_params, state0.d.stats, fake_X, True)
    return losses.softmax_generator_loss(fake_Y)


both_products = products(jax.make_jaxpr(jax.grad(g_loss_of_both, argnums=(0, 1)))(state0.g.params, state0.d.params))
print("D's kernels:", d_kernels)
print(f"jaxgan's G step:         {len(g_products)} products {g_products}")
print(f"gradient w.r.t. G and D: {len(both_products)} products {both_products}")
n_g = sum(s in d_weight_shaped for s in g_products)
n_both = sum(s in d_weight_shaped for s in both_products)
print(f"products shaped like a D kernel: {n_g} in jaxgan's G step, {n_both} when D is differentiated too")
assert len(g_products) == 8 and n_g == 0, g_products  # 1 + 3 forward, 3 + 1 backward, none for D's weights
assert n_both == len(d_kernels) == 3, both_products  # the control: the count sees D's weight gradients

# %% [markdown]
# The state that comes out of the G step tells the same story: each of D's arrays (parameters and
# Adam's moments) is an *input* variable of the program returned as it is, untouched by any
# operation.

# %%
n_g_leaves, n_d_leaves = len(jax.tree.leaves(state0.g)), len(jax.tree.leaves(state0.d))
d_in = g_step_program.jaxpr.invars[n_g_leaves : n_g_leaves + n_d_leaves]
d_out = g_step_program.jaxpr.outvars[n_g_leaves : n_g_leaves + n_d_leaves]
passed_through = sum(a is b for a, b in zip(d_in, d_out))
print(f"{passed_through} of D's {n_d_leaves} arrays leave the G step as the very variables that entered it")
assert passed_through == n_d_leaves

# %% [markdown]
# ### (b) What the leak would do
#
# To see what the student feared, write it on purpose: before each D update, add the gradient that
# G's previous backward would have left in D's `.grad`, the gradient *with respect to D's
# parameters* of G's loss `softmax_loss(D(G(z)), real)`, evaluated where PyTorch would evaluate it
# (the D just updated, the G before its update, the same `z`). Writing it takes something the
# correct version does not have: a place for that gradient to persist from one iteration to the
# next. In JAX that place has to be explicit state; here it is a slot in D's optimizer state,
# `Leak(grad, weight)`, that a wrapper around Adam adds to D's gradient (`weight` 1: leaked; 0: the
# correct update, with the same program).
#
# Both variants then train on 32 seeds each, all 64 runs in one `vmap`ped, `lax.scan`ned program.
# Run `r` of either variant has the same data set and the same initial networks (`run_key(r)`), so
# the two are compared seed by seed.

# %%
class Leak(NamedTuple):
    """What a PyTorch-style ``.grad`` would carry into D's next update."""

    grad: Any  # the gradient of G's loss with respect to D's parameters, from G's last step
    weight: jax.Array  # 1.0: added to D's next gradient (no zero_grad); 0.0: dropped


def leaking(optimizer):
    """``optimizer`` on D's gradient plus ``weight * grad`` from its :class:`Leak` slot."""

    def init(params):
        return Leak(jax.tree.map(jnp.zeros_like, params), jnp.zeros((), jnp.float32)), optimizer.init(params)

    def update(grads, state, params=None):
        leak, inner = state
        grads = jax.tree.map(lambda g, stale: g + leak.weight * stale, grads, leak.grad)
        updates, inner = optimizer.update(grads, inner, params)
        return updates, (leak, inner)

    return optax.GradientTransformation(init, update)


leaky_gan = jaxgan.GAN(
    generator=gan.generator,
    discriminator=gan.discriminator,
    g_optimizer=gan.g_optimizer,
    d_optimizer=leaking(optax.adam(LR)),
    latent_shape=2,
    objective="softmax",
)
d_then_g = jaxgan.build_d_then_g_step(leaky_gan)  # jaxgan's D step, then its G step on the same z
batch_fn = contiguous_batches(BATCH)
A_T_A = jnp.asarray(A.T @ A, jnp.float32)


def leaky_train_step(state, data):
    """One iteration of jaxgan's lecture step, then what G's backward would leave in D's ``.grad``."""
    X = batch_fn(data, None, state.step)  # the lecture's contiguous batch
    state, Z = jaxgan.sample_noise(leaky_gan, state, BATCH)
    g_before = state.g
    state, metrics = d_then_g(state, X, Z)  # D's update (adding the leak), then G's

    def g_loss_wrt_d(d_params):  # G's loss, as a function of D's parameters
        fake_X, _ = leaky_gan.generator.apply(g_before.params, g_before.stats, Z, True)
        fake_Y, _ = leaky_gan.discriminator.apply(d_params, state.d.stats, fake_X, True)
        return losses.softmax_generator_loss(fake_Y)

    leak, inner = state.d.opt_state
    leak = leak._replace(grad=jax.grad(g_loss_wrt_d)(state.d.params))
    state = state._replace(d=state.d._replace(opt_state=(leak, inner)))
    kernel = state.g.params["linear"]["kernel"]
    metrics["cov_err"] = jnp.linalg.norm(kernel.T @ kernel - A_T_A) / jnp.linalg.norm(A_T_A)
    return state, metrics


def seeds_of(gan_, seeds):
    """Each run's data set and initial state, stacked on a leading run axis."""
    keys = jax.vmap(run_key)(jnp.arange(seeds))
    runs_data = jax.vmap(lambda k: affine_gaussian(jax.random.fold_in(k, 0), N_SAMPLES))(keys)
    states = jaxgan.init_states(lambda k: jaxgan.init_state(gan_, jax.random.fold_in(k, 1)), keys)
    return runs_data, states


runs_data, runs = seeds_of(leaky_gan, SEEDS)
both_data, both = jax.tree.map(lambda x: jnp.concatenate([x, x]), (runs_data, runs))  # correct, then leaking
leak, inner = both.d.opt_state
both = both._replace(d=both.d._replace(opt_state=(leak._replace(weight=jnp.repeat(jnp.array([0.0, 1.0]), SEEDS)), inner)))
weights = np.asarray(both.d.opt_state[0].weight)
print(f"{weights.size} runs: {np.sum(weights == 0)} with leak weight 0, then {np.sum(weights == 1)} with weight 1")

# %% [markdown]
# The weight-0 runs are jaxgan's update. Over a few iterations they agree with
# `jaxgan.build_train_step` (the program trained in section 5) to float32 rounding:

# %%
short = 25
check = jaxgan.fit(leaky_train_step, both, both_data, short, chunk_size=short, vmapped=True, vmap_data=True)
reference_data, reference = seeds_of(gan, SEEDS)
library = jaxgan.fit(lecture_step, reference, reference_data, short, chunk_size=short, vmapped=True, vmap_data=True)
gap = max(float(jnp.max(jnp.abs(a[:SEEDS] - b))) for a, b in zip(jax.tree.leaves(check.state.g.params), jax.tree.leaves(library.state.g.params)))
moved = max(float(jnp.max(jnp.abs(a[SEEDS:] - b))) for a, b in zip(jax.tree.leaves(check.state.g.params), jax.tree.leaves(library.state.g.params)))
print(f"after {short} iterations, G's parameters: weight 0 vs jaxgan {gap:.1e}; weight 1 vs jaxgan {moved:.1e}")
assert gap < 1e-5 and moved > 1e-3, (gap, moved)

# %% [markdown]
# Now the full runs: both variants, all seeds, one compiled program.

# %%
result = jaxgan.fit(leaky_train_step, both, both_data, STEPS, chunk_size=STEPS, vmapped=True, vmap_data=True)
errors = result.metrics["cov_err"]  # [runs, iterations]
final = errors[:, -1]
correct, leaked = final[:SEEDS], final[SEEDS:]


def summary(x):
    q25, q50, q75 = np.percentile(x, [25, 50, 75])
    return {"median": float(q50), "q25": float(q25), "q75": float(q75)}


table = {"zero_grad (correct)": summary(correct), "leaking": summary(leaked)}
print(f"{2 * SEEDS} runs x {STEPS} iterations in {result.train_seconds:.1f} s (+ {result.compile_seconds:.1f} s compiling)")
print("covariance error ||W^T W - A^T A||_F / ||A^T A||_F after", STEPS, "iterations:")
for name, s in table.items():
    print(f"  {name:20s} median {s['median']:.3f}  interquartile range {s['q25']:.3f}-{s['q75']:.3f}")
worse = int(np.sum(leaked > correct))
print(f"the leak's run is worse than the correct one on {worse} of {SEEDS} seeds (same data, same initial networks)")
d_fake = result.metrics["d_fake"][:, -100:].mean(axis=1)
print(f"D's mean P(real) on G's samples, last 100 iterations: correct {np.median(d_fake[:SEEDS]):.3f}, "
      f"leaking {np.median(d_fake[SEEDS:]):.3f} (medians over seeds)")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [2, 1]})
steps_axis = np.arange(1, STEPS + 1)
for name, runs_err, color in (("zero_grad (correct)", errors[:SEEDS], "tab:blue"), ("leaking", errors[SEEDS:], "tab:red")):
    q25, q50, q75 = np.percentile(runs_err, [25, 50, 75], axis=0)
    ax1.plot(steps_axis, q50, color=color, label=f"{name}: median")
    ax1.fill_between(steps_axis, q25, q75, color=color, alpha=0.2, label=f"{name}: interquartile range")
ax1.set_yscale("log")
ax1.set_xlabel("iteration")
ax1.set_ylabel("covariance error")
ax1.set_title(f"{SEEDS} seeds per variant, trained in one program")
ax1.legend()
for i in range(SEEDS):
    ax2.plot([0, 1], [correct[i], leaked[i]], color="grey", alpha=0.4, lw=0.8)
ax2.scatter(np.zeros(SEEDS), correct, color="tab:blue", s=12, zorder=3)
ax2.scatter(np.ones(SEEDS), leaked, color="tab:red", s=12, zorder=3)
ax2.set_xticks([0, 1], ["zero_grad\n(correct)", "leaking"])
ax2.set_xlim(-0.4, 1.4)
ax2.set_yscale("log")
ax2.set_title(f"after {STEPS} iterations, seed by seed")
fig.tight_layout()
plt.show()

# %% [markdown]
# **What the numbers mean.** D's update on G's samples follows the gradient of `-log P(fake)`; the
# leak adds the gradient of `-log P(real)` on G's samples of the iteration before. At a point `x`
# where the data have density `p_data` and G's samples `p_G`, D's loss becomes
# `-(p_data + p_G) log D(x) - p_G log(1 - D(x))` (with `D(x)` = P(real)), minimised by
# `D*(x) = (p_data + p_G) / (p_data + 2 p_G)` instead of the usual `p_data / (p_data + p_G)`. Where
# G matches the data, `D* = 2/3` instead of `1/2`: the leaking runs' D says 0.667 on G's samples
# (printed above). G's goal is unchanged: `D*` is constant, and so gives G no direction, exactly
# where `p_G = p_data`. But its signal is weaker: with `r = p_G / p_data`, G's loss `-log D*` changes
# with `r` at rate 1/6 near `r = 1` instead of 1/2. Far from the data the leak does not slow G
# down (in the left plot the leaking runs fall as fast at first), but close to it G is pulled back
# three times more weakly, and with the lecture's constant step size it stalls further from the
# data's covariance, on most seeds. (The derivation takes D at its optimum for the current G; the
# measured 0.667 says the trained D is close to it.)
#
# Whether this can happen at all is the framework's doing: PyTorch makes it happen unless `.grad` is
# zeroed at the right moment; needle's backward, as its code documents it, overwrites `.grad`; in
# JAX we had to add a state slot and write the addition ourselves.
#
# One more thing the numbers show: single runs are chaotic. The same 32 seeds through
# `jaxgan.build_train_step`, in a program of 32 runs instead of 64, round their products a little
# differently (`vmap` batches them), and 2000 iterations amplify that rounding:

# %%
library_full = jaxgan.fit(lecture_step, reference, reference_data, STEPS, chunk_size=STEPS, vmapped=True, vmap_data=True)
library_err = np.asarray(gaussian_fit_errors(library_full.state.g.params["linear"]["kernel"],
                                             library_full.state.g.params["linear"]["bias"], A, mu)[0])
table["jaxgan.build_train_step"] = summary(library_err)
s = table["jaxgan.build_train_step"]
print(f"jaxgan.build_train_step, {SEEDS} runs: median {s['median']:.3f}  interquartile range {s['q25']:.3f}-{s['q75']:.3f}")
print(f"largest difference of one seed's error from the weight-0 run of the same seed: {np.max(np.abs(library_err - correct)):.3f}")

# %% [markdown]
# The distributions are alike; single seeds are not. Compare distributions over seeds, not single
# runs: that is why the leak experiment trains 32 of each.

# %%
record = {
    "notebook": "notebooks/toy_gan_lecture17.ipynb",
    "steps": STEPS,
    "batch_size": BATCH,
    "lr": LR,
    "n_samples": N_SAMPLES,
    "seeds": SEEDS,
    "seed_0_alone": {"cov_rel_err": cov_err, "mean_err": mean_err,
                     "learned_cov": (W.T @ W).tolist(), "learned_mean": b.tolist()},
    "cov_rel_err": table,
    "leak_worse_on_seeds": worse,
    "cov_rel_err_per_seed": {"zero_grad": correct.tolist(), "leaking": leaked.tolist(),
                             "jaxgan.build_train_step": library_err.tolist()},
    "d_fake_last_100_median": {"zero_grad": float(np.median(d_fake[:SEEDS])), "leaking": float(np.median(d_fake[SEEDS:]))},
    "g_step_products": {"jaxgan_g_step": len(g_products), "d_kernel_shaped": n_g,
                        "with_d_differentiated": len(both_products), "d_kernel_shaped_with_d": n_both},
    "leak_program_seconds": {"compile": result.compile_seconds, "train": result.train_seconds},
    "jax": jax.__version__,
    "backend": jax.default_backend(),
    "device": jax.devices()[0].device_kind,
    "cpu_count": os.cpu_count(),
}

# %% [markdown]
# A full run records its numbers in the repository's results (`docs/results/<backend>/`); a quick
# run writes nothing.

# %%
record["notebook_seconds"] = time.perf_counter() - started
if not QUICK:
    import json

    root = next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "pyproject.toml").exists())
    out = root / "docs" / "results" / jax.default_backend() / "notebook_toy_leak.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print("wrote", out.relative_to(root))
print(f"this run took {record['notebook_seconds']:.0f} s")
