"""The lecture's toy GAN: a whole training loop as ONE GPU kernel (Pallas, Triton).

On a GPU the toy's ``lax.scan`` loop is bound by kernel launches, not arithmetic: a loop trip is
60-70 tiny kernels, each paying a launch, whether the trip carries 1 seed or 64
(``docs/performance.md``). Here the loop runs inside one kernel: each program keeps one run's
parameters and Adam moments in registers for all ``length`` iterations and reads only its real
batches from memory. Under :func:`jax.vmap` (``vmapped=True``) the runs become the kernel's grid,
one program per run.

It computes what ``make_chunk_runner(build_train_step(gan, contiguous_batches(B)), length)`` computes
for the lecture's GAN (the toy GAN experiment's ``lecture`` recipe): per iteration

* ``key, sub = split(key)``, ``z = normal(sub, (B, latent))``: the same draws, bit for bit
  (:mod:`jaxgan.speedups.kernel_random`);
* ``real = data[B * step % n : ... + B]``; ``fake = z W_G + b_G``;
* D step: ``L_D = mean softplus(-r(real)) + mean softplus(r(fake))`` with ``r = l_1 - l_0`` the
  real log-odds of D's two logits; D = ReLU MLP; Adam on D;
* G step (same ``z``, the updated D): ``L_G = mean softplus(-r(fake))``; Adam on G; ``step + 1``;
* metrics ``d_loss``, ``d_real``, ``d_fake``, ``g_loss``, ``d_fake_after`` per iteration.

Gradients are JAX's own (``jax.value_and_grad`` inside the kernel, lowered through Triton with it);
the products are Triton's float32 ``dot`` (no TF32) or, where a side is under 16, sums of broadcast
products, so the rounding order differs from the library's loops: the results agree to float32
rounding, not bit for bit (the tests compare it with the library's ``scan`` loop). D's hidden
widths are zero-padded to powers of two, as Triton needs: padded units have zero weights in and
out, so their activations, gradients and Adam updates stay exactly zero.

Adam is optax's own ``update`` (``optax.adam`` of :class:`AdamSettings`), run inside the kernel on the
arrays; the library's players run it on optax.flatten's vector, the same element-wise update.

``interpret=True`` runs the same kernel on any backend through Pallas's interpreter (slow; what the
CPU tests use).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from jaxgan.speedups import kernel_random

__all__ = ["AdamSettings", "METRICS", "NUM_WARPS", "make_toy_gan_loop", "toy_gan_loop_unavailable"]

METRICS = ("d_loss", "d_real", "d_fake", "g_loss", "d_fake_after")
# Triton warps per program. With 4, ptxas puts the lecture's loop in 255 registers and spills more
# of it to memory than with 8, yet 4 warps train many runs as fast as 8 and one run faster
# (docs/results.md; ``python -m experiments.bench.toy_kernel --warps 4,8`` measures it).
NUM_WARPS = 4


class _Carry(NamedTuple):
    """What the kernel's loop carries: G's ``(W, b)``, D's ``[(W, b)]`` (hidden widths padded), each
    player's optax Adam state on those arrays, ``step`` and the key's two words."""

    g: tuple
    d: list
    g_opt: tuple
    d_opt: tuple
    step: jax.Array
    k0: jax.Array
    k1: jax.Array


class AdamSettings(NamedTuple):
    """optax.adam's hyperparameters, which the kernel must be told (the GAN's optimizers are opaque).

    Attributes:
      lr: the constant step size.
      b1: the first moment's decay.
      b2: the second moment's decay.
      eps: added to the root of the second moment.
    """

    lr: float = 0.01
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8

    def optimizer(self):
        """Builds ``optax.adam`` with these settings: the kernel runs optax's own update on its arrays.

        Returns:
          An ``optax.GradientTransformation``.
        """
        import optax

        return optax.adam(self.lr, b1=self.b1, b2=self.b2, eps=self.eps)


# --------------------------------------------------------------------------------------------------
# One training iteration on a batch in registers (gradients by jax.value_and_grad)
# --------------------------------------------------------------------------------------------------


def _dot(a, b):
    """``a @ b`` in float32: Triton's ``dot`` (``HIGHEST``: no TF32) where every side is >= 16, which
    its ``dot`` needs; else (the layers next to the 2-d data and logits) a sum of broadcast products."""
    if min(*a.shape, b.shape[1]) >= 16:
        return jnp.dot(a, b, precision=lax.Precision.HIGHEST, preferred_element_type=jnp.float32)
    return jnp.sum(a[:, :, None] * b[None, :, :], axis=1)


def _d_logits(layers, x):
    """D's logits: ``Dense -> ReLU -> ... -> Dense`` (``jax.nn.relu``, as the library's MLP: its
    derivative at 0 is 0)."""
    for i, (w, b) in enumerate(layers):
        x = _dot(x, w) + b[None, :]
        if i < len(layers) - 1:
            x = jax.nn.relu(x)
    return x


def _g_samples(layer, z):
    return _dot(z, layer[0]) + layer[1][None, :]


def _log_odds(logits):
    """``l_1 - l_0``, the log-odds of "real" (``jaxgan.steps.real_log_odds``) as a masked sum:
    Triton has no slicing."""
    sign = jnp.where(lax.broadcasted_iota(jnp.int32, logits.shape, 1) == 1, 1.0, -1.0)
    return jnp.sum(logits * sign, axis=1)


def _adam_step(optimizer, params, grads, opt_state):
    """One optax update of ``params`` (optax's own code; Adam is element-wise, so its update on the
    arrays equals its update on optax.flatten's vector)."""
    import optax

    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state


def _iteration(carry: _Carry, real, optimizer):
    """One D step then one G step on the same ``z``: ``(carry, metrics)``."""
    g, d, g_opt, d_opt, step, k0, k1 = carry
    softplus, sigmoid = jax.nn.softplus, jax.nn.sigmoid
    batch = real.shape[0]
    (k0, k1), sub = kernel_random.split(k0, k1)
    z = kernel_random.normal(*sub, (batch, g[0].shape[0]))
    fake = _g_samples(g, z)

    def d_loss_fn(d):  # the D step's loss: mean softplus(-r(real)) + mean softplus(r(fake))
        r_real, r_fake = _log_odds(_d_logits(d, real)), _log_odds(_d_logits(d, fake))
        return jnp.mean(softplus(-r_real)) + jnp.mean(softplus(r_fake)), (r_real, r_fake)

    (d_loss, (r_real, r_fake)), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(d)
    d_real, d_fake = jnp.mean(sigmoid(r_real)), jnp.mean(sigmoid(r_fake))
    d, d_opt = _adam_step(optimizer, d, d_grads, d_opt)

    def g_loss_fn(g):  # the G step's, with the updated D: mean softplus(-r(D(G(z))))
        r = _log_odds(_d_logits(d, _g_samples(g, z)))
        return jnp.mean(softplus(-r)), r

    (g_loss, r), g_grads = jax.value_and_grad(g_loss_fn, has_aux=True)(g)
    d_fake_after = jnp.mean(sigmoid(r))
    g, g_opt = _adam_step(optimizer, g, g_grads, g_opt)
    metrics = (d_loss, d_real, d_fake, g_loss, d_fake_after)
    return _Carry(g, d, g_opt, d_opt, step + 1, k0, k1), metrics


# --------------------------------------------------------------------------------------------------
# The kernel and the state it is given
# --------------------------------------------------------------------------------------------------


def _next_power_of_two(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def _is_power_of_two(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


def toy_gan_loop_unavailable(state, data, batch_size: int):
    """Says why :func:`make_toy_gan_loop` cannot run this (single-run) state and data, if it cannot.

    It needs the lecture GAN's structure: G one ``linear`` layer, D ``Dense_0..`` layers, each player's
    optax state ``(ScaleByAdamState, EmptyState)`` on its flat parameter vector, float32; and powers of
    two where Triton needs them (batch, noise and data widths), with whole batches (``n % batch == 0``).

    Args:
      state: a single-run :class:`jaxgan.GANState`.
      data: ``[n, width]`` real samples.
      batch_size: the batch size ``B``.

    Returns:
      A one-line reason, or ``None`` where the kernel can run them.
    """
    import optax
    from jax.flatten_util import ravel_pytree

    g, d = state.g.params, state.d.params
    if set(g) != {"linear"} or set(g["linear"]) != {"kernel", "bias"}:
        return f"G is not one linear layer (parameters {sorted(g)})"
    if set(d) != {f"Dense_{i}" for i in range(len(d))} or len(d) < 2:
        return f"D is not an MLP of Dense layers (parameters {sorted(d)})"
    if d[f"Dense_{len(d) - 1}"]["kernel"].shape[1] != 2:
        return "D does not end in two logits (the lecture's 2-class softmax loss)"
    for name, player in (("G", state.g), ("D", state.d)):
        opt = player.opt_state
        if not (isinstance(opt, tuple) and len(opt) == 2 and hasattr(opt[0], "mu") and hasattr(opt[0], "nu")):
            return f"{name}'s optimizer state is not optax.adam's"
        if not isinstance(opt[1], optax.EmptyState):
            return f"{name}'s Adam has a step-size schedule (the kernel takes a constant one)"
        if opt[0].mu.shape != ravel_pytree(player.params)[0].shape:
            return f"{name}'s Adam is not on its flat parameter vector (optax.flatten)"
        if any(leaf.dtype != jnp.float32 for leaf in jax.tree.leaves(player.params)):
            return f"{name}'s parameters are not float32"
    latent, width = g["linear"]["kernel"].shape
    n = data.shape[0]
    if data.ndim != 2 or data.shape[1] != width:
        return f"data of shape {data.shape}, G makes {width}-d samples"
    for what, size in (("batch size", batch_size), ("noise width", latent), ("sample width", width)):
        if not _is_power_of_two(size):
            return f"{what} {size} is not a power of two (Triton's blocks are)"
    if n % batch_size:
        return f"{n} samples are not whole batches of {batch_size}"
    return None


def _d_names(d_params) -> list[str]:
    return sorted(d_params, key=lambda k: int(k.split("_")[1]))


def _kernel_carry(state):
    """The kernel's carry from a single-run :class:`jaxgan.GANState` (D's hidden widths padded)."""
    from jax.flatten_util import ravel_pytree

    names = _d_names(state.d.params)
    last = len(names) - 1

    def d_layers(tree):
        out = []
        for i, name in enumerate(names):
            w, b = tree[name]["kernel"], tree[name]["bias"]
            rows = w.shape[0] if i == 0 else _next_power_of_two(w.shape[0])  # D's input: the data's width
            cols = w.shape[1] if i == last else _next_power_of_two(w.shape[1])  # the 2 logits
            out.append((jnp.pad(w, [(0, rows - w.shape[0]), (0, cols - w.shape[1])]), jnp.pad(b, [(0, cols - b.shape[0])])))
        return out

    def g_layer(tree):
        return (tree["linear"]["kernel"], tree["linear"]["bias"])

    def optimizer_state(player, arrays):
        """optax.flatten's Adam state with its moments as the kernel's arrays (count, EmptyState kept)."""
        unravel = ravel_pytree(player.params)[1]
        adam = player.opt_state[0]
        return (adam._replace(mu=arrays(unravel(adam.mu)), nu=arrays(unravel(adam.nu))), *player.opt_state[1:])

    return _Carry(g_layer(state.g.params), d_layers(state.d.params), optimizer_state(state.g, g_layer),
                  optimizer_state(state.d, d_layers), state.step, state.key[0], state.key[1])


def _state_from_carry(state, carry):
    """``state`` with the kernel's final carry written back (D's padding dropped, Adam's moments
    flattened again as optax.flatten keeps them)."""
    from jax.flatten_util import ravel_pytree

    g, d, g_opt, d_opt, step, k0, k1 = carry

    def g_tree(layer):
        return {"linear": {"kernel": layer[0], "bias": layer[1]}}

    def d_tree(layers):
        tree = {}
        for name, (w, b) in zip(_d_names(state.d.params), layers):
            rows, cols = state.d.params[name]["kernel"].shape
            tree[name] = {"kernel": w[:rows, :cols], "bias": b[:cols]}
        return tree

    def player(old, params, opt, tree):
        adam = opt[0]._replace(mu=ravel_pytree(tree(opt[0].mu))[0], nu=ravel_pytree(tree(opt[0].nu))[0])
        return old._replace(params=tree(params), opt_state=(adam, *opt[1:]))

    g_state = player(state.g, g, g_opt, g_tree)
    d_state = player(state.d, d, d_opt, d_tree)
    return state._replace(g=g_state, d=d_state, step=step, key=jnp.stack([k0, k1]))


def _loop_kernel(length: int, batch_size: int, optimizer, treedef, n_leaves: int):
    from jax.experimental import pallas as pl

    def kernel(data_ref, *refs):
        in_refs, state_refs, metric_refs = refs[:n_leaves], refs[n_leaves : 2 * n_leaves], refs[2 * n_leaves :]
        carry = jax.tree.unflatten(treedef, [r[...] for r in in_refs])
        n = data_ref.shape[0]

        def body(t, carry):
            begin = pl.multiple_of((carry.step * batch_size) % n, batch_size)
            real = data_ref[pl.ds(begin, batch_size), :]
            carry, metrics = _iteration(carry, real, optimizer)
            for ref, value in zip(metric_refs, metrics):
                ref[t] = value
            return carry

        carry = lax.fori_loop(0, length, body, carry)
        for ref, leaf in zip(state_refs, jax.tree.leaves(carry)):
            ref[...] = leaf

    return kernel


def make_toy_gan_loop(length: int, *, batch_size: int, adam: AdamSettings = AdamSettings(),
                      vmapped: bool = False, vmap_data: bool = False, interpret: bool = False,
                      num_warps: int = NUM_WARPS):
    """Builds the toy GAN's training loop of ``length`` iterations as one GPU kernel.

    The result trains as :func:`jaxgan.make_chunk_runner` does for the lecture's toy GAN (module
    docstring), with the ``length`` iterations in one kernel; it can be :func:`jaxgan.fit`'s
    ``chunk_runner``. The input state is donated.

    Args:
      length: iterations per call, at least 1.
      batch_size: the batch size ``B``.
      adam: the GAN's optimizer settings (both players).
      vmapped: ``state`` has a leading run axis (``jaxgan.init_states``); the runs become the
        kernel's grid.
      vmap_data: with ``vmapped``, ``data`` has a run axis too (as ``make_chunk_runner``'s);
        otherwise it is shared.
      interpret: run the kernel through Pallas's interpreter, on any backend (slow).
      num_warps: Triton warps per program (per run).

    Returns:
      A jitted ``run(state, data) -> (state, metrics)``, ``metrics`` a dict of :data:`METRICS`
      arrays ``[length]`` (``[runs, length]`` with ``vmapped``).

    Raises:
      ValueError: if ``length < 1``, if ``jax_threefry_partitionable`` is off, or off a GPU unless
        ``interpret``; when ``run`` is traced, where :func:`toy_gan_loop_unavailable` gives a reason.
    """
    from jax.experimental import pallas as pl

    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if not jax.config.jax_threefry_partitionable:
        raise ValueError("the toy GAN kernel draws as jax_threefry_partitionable=True does (JAX's default)")
    if not interpret and jax.default_backend() != "gpu":
        raise ValueError(f"the toy GAN kernel is compiled by Triton for GPUs (backend here: "
                         f"{jax.default_backend()}); interpret=True runs it anywhere, slowly")

    def run_one(state, data):
        why = toy_gan_loop_unavailable(state, data, batch_size)
        if why is not None:
            raise ValueError(f"the toy GAN kernel cannot run this: {why}")
        carry = _kernel_carry(state)
        leaves, treedef = jax.tree.flatten(carry)
        shapes = [jax.ShapeDtypeStruct(x.shape, x.dtype) for x in leaves]
        metrics = [jax.ShapeDtypeStruct((length,), jnp.float32)] * len(METRICS)
        options = {}
        if not interpret:
            from jax.experimental.pallas import triton as plt

            options["compiler_params"] = plt.CompilerParams(num_warps=num_warps, num_stages=1)
        outs = pl.pallas_call(
            _loop_kernel(length, batch_size, adam.optimizer(), treedef, len(leaves)),
            out_shape=(*shapes, *metrics),
            interpret=interpret,
            name="toy_gan_loop",
            **options,
        )(data, *leaves)
        carry = jax.tree.unflatten(treedef, outs[: len(leaves)])
        return _state_from_carry(state, carry), dict(zip(METRICS, outs[len(leaves) :]))

    run = jax.vmap(run_one, in_axes=(0, 0 if vmap_data else None)) if vmapped else run_one
    return jax.jit(run, donate_argnums=0)
