"""Gradient penalties on the discriminator, per example (re-exported by :mod:`jaxgan.losses`).

Each penalty takes D as a function of its input, ``d_fn(x) -> logits`` (the core passes
``d_fn = lambda x: D.apply(params, stats, x, train=True)[0]``), and differentiates it with respect to
``x``. Gradients are taken of ``sum(d_fn(x))``: every output of an example (a PatchGAN's patches)
contributes, and the gradient of example ``i`` is the gradient of D's outputs on example ``i`` as long
as D treats examples independently. A D with BatchNorm in training mode couples the examples; WGAN-GP
and R1 are meant for Ds without it (use LayerNorm, or none). For the 2-logit softmax D, whose summed
outputs mean nothing, pass the real-vs-fake logit ``lambda x: d(x)[:, 1] - d(x)[:, 0]``.

Norms are over each example's features: ``||g_i|| = sqrt(sum_j g_ij^2)`` over all non-batch axes,
computed in float32 whatever the input dtype, with a gradient that is 0 (not NaN) at ``g_i = 0``.
Every penalty is a pure ``jnp`` function (jit/vmap/grad-safe), takes ``weights`` (per-example) and
``reduction`` (``"mean"``, ``"sum"``, ``"none"``, ``"sum_by_nonzero_weights"``, as in
:mod:`jaxgan.losses`: ``"mean"`` is the weighted sum divided by the batch size) and, with
``return_norms=True``, returns ``(penalty, norms)`` with the per-example gradient norms ``(batch,)``.

:func:`make_penalty` turns one into ``penalty(d_fn, real, fake, key) -> weight * value``, the form
``GAN.d_penalty`` takes.
"""

from __future__ import annotations

import inspect
from typing import Callable

import jax
import jax.numpy as jnp

__all__ = [
    "wasserstein_gradient_penalty",
    "r1_penalty",
    "r2_penalty",
    "dragan_penalty",
    "make_penalty",
    "penalty_names",
]

_REDUCTIONS = ("mean", "sum", "none", "sum_by_nonzero_weights")


def _reduce(values: jax.Array, weights, reduction: str) -> jax.Array:
    """Reduces per-example ``values`` (shape ``(batch,)``) with per-example ``weights``."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    w = jnp.asarray(weights).astype(jnp.float32)
    if w.ndim > 1 and w[0].size == 1:  # (batch, 1, ...) -> (batch,)
        w = w.reshape(w.shape[:1])
    if w.ndim > 1 or (w.ndim == 1 and w.shape[0] not in (1, values.shape[0])):
        raise ValueError(f"penalty weights are per example: shape (batch,), got {w.shape}")
    w = jnp.broadcast_to(w, values.shape)
    weighted = values * w
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return jnp.sum(weighted)
    if reduction == "mean":
        return jnp.sum(weighted) / values.shape[0]
    count = jnp.sum(w != 0).astype(jnp.float32)
    return jnp.where(count > 0, jnp.sum(weighted) / jnp.maximum(count, 1.0), 0.0)


def _input_gradients(d_fn: Callable, x: jax.Array) -> jax.Array:
    """``grad_x sum(d_fn(x))``: per-example input gradients for a D that treats examples apart."""
    return jax.grad(lambda inputs: jnp.sum(jnp.asarray(d_fn(inputs)).astype(jnp.float32)))(x)


def _squared_norms(gradients: jax.Array) -> jax.Array:
    """``||g_i||^2`` over each example's features, in float32."""
    g = gradients.astype(jnp.float32).reshape(gradients.shape[0], -1)
    return jnp.sum(jnp.square(g), axis=1)


def _safe_sqrt(squared: jax.Array) -> jax.Array:
    """``sqrt`` whose gradient at 0 is 0 instead of inf/NaN."""
    positive = squared > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, squared, 1.0)), 0.0)


def _per_example_uniform(key: jax.Array, like: jax.Array) -> jax.Array:
    """One ``U[0, 1)`` draw per example, shaped ``(batch, 1, ..., 1)`` to broadcast over ``like``."""
    return jax.random.uniform(key, (like.shape[0],) + (1,) * (like.ndim - 1), jnp.float32)


def _input_dtype(*arrays) -> jnp.dtype:
    dtype = jnp.result_type(*arrays)
    return dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.dtype(jnp.float32)


def _norm_penalty(d_fn, x_hat, target, one_sided, weights, reduction, return_norms):
    """``((||grad D(x_hat)_i|| / target - 1)_(+))^2`` per example, reduced."""
    norms = _safe_sqrt(_squared_norms(_input_gradients(d_fn, x_hat)))
    deviation = norms / target - 1.0
    if one_sided:
        deviation = jax.nn.relu(deviation)
    penalty = _reduce(jnp.square(deviation), weights, reduction)
    return (penalty, norms) if return_norms else penalty


def wasserstein_gradient_penalty(
    d_fn,
    real,
    fake,
    key,
    *,
    target=1.0,
    one_sided=False,
    weights=1.0,
    reduction="mean",
    return_norms=False,
):
    """WGAN-GP (Gulrajani et al. 2017) on random interpolates, as TF-GAN:

    ``x_hat_i = x_i + a_i (G(z)_i - x_i)``, ``a_i ~ U[0, 1)`` one per example (from ``key``);
    ``GP = E_i[(||grad D(x_hat_i)|| / target - 1)^2]``

    i.e. ``(||g|| - target)^2 / target^2`` (TF-GAN's normalisation, so one weight serves any target;
    the paper has target 1 and weight ``lambda = 10``). ``one_sided=True``: ``max(0, ||g||/target - 1)^2``
    (Petzka et al. 2018). Zero exactly when D's slope along every interpolate is ``target``.
    """
    real, fake = jnp.asarray(real), jnp.asarray(fake)
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {real.shape} and {fake.shape}")
    alpha = _per_example_uniform(key, real)
    dtype = _input_dtype(real, fake)
    real32, fake32 = real.astype(jnp.float32), fake.astype(jnp.float32)
    x_hat = (real32 + alpha * (fake32 - real32)).astype(dtype)
    return _norm_penalty(d_fn, x_hat, target, one_sided, weights, reduction, return_norms)


def _squared_gradient_penalty(d_fn, x, weights, reduction, return_norms):
    squared = _squared_norms(_input_gradients(d_fn, jnp.asarray(x)))
    penalty = _reduce(squared, weights, reduction)
    return (penalty, _safe_sqrt(squared)) if return_norms else penalty


def r1_penalty(d_fn, real, *, weights=1.0, reduction="mean", return_norms=False):
    """R1 (Mescheder et al. 2018) without its factor: ``R1 = E_x[||grad_x D(x)||^2]`` on real data.

    The paper's regulariser is ``(gamma / 2) * R1``: this function has neither the 1/2 nor gamma, so
    ``make_penalty("r1", weight)`` uses ``weight = gamma / 2`` (StyleGAN2's ``gamma = 10`` ->
    ``weight = 5``). For a linear ``D(x) = w.x + b`` it equals ``||w||^2``.
    """
    return _squared_gradient_penalty(d_fn, real, weights, reduction, return_norms)


def r2_penalty(d_fn, fake, *, weights=1.0, reduction="mean", return_norms=False):
    """R2 (Mescheder et al. 2018): ``R2 = E_z[||grad_x D(x)|_(x = G(z))||^2]`` on generated data.

    Same conventions as :func:`r1_penalty` (no 1/2, no gamma: ``weight = gamma / 2``).
    """
    return _squared_gradient_penalty(d_fn, fake, weights, reduction, return_norms)


def dragan_penalty(
    d_fn,
    real,
    key,
    *,
    scale=0.5,
    target=1.0,
    weights=1.0,
    reduction="mean",
    return_norms=False,
):
    """DRAGAN (Kodali et al. 2017): the gradient penalty on noisy neighbours of the real data.

    ``x_p = x + scale * std(x) * u``, ``u ~ U[0, 1)`` per element (``std`` over the whole batch);
    ``x_hat_i = x_i + a_i (x_p_i - x_i)``, ``a_i ~ U[0, 1)``; ``P = E_i[(||grad D(x_hat_i)|| / target - 1)^2]``.

    This follows the authors' reference code (``X + 0.5 * X.std() * np.random.random(X.shape)``);
    compare_gan centres the noise (``u - 0.5``) and clips to ``[0, 1]``.
    """
    real = jnp.asarray(real)
    k_noise, k_alpha = jax.random.split(key)
    real32 = real.astype(jnp.float32)
    spread = jax.lax.stop_gradient(jnp.std(real32))
    noise = scale * spread * jax.random.uniform(k_noise, real.shape, jnp.float32)
    alpha = _per_example_uniform(k_alpha, real)
    x_hat = (real32 + alpha * noise).astype(_input_dtype(real))
    return _norm_penalty(d_fn, x_hat, target, False, weights, reduction, return_norms)


def _gp(d_fn, real, fake, key, **options):
    return wasserstein_gradient_penalty(d_fn, real, fake, key, **options)


def _r1(d_fn, real, fake, key, **options):
    return r1_penalty(d_fn, real, **options)


def _r2(d_fn, real, fake, key, **options):
    return r2_penalty(d_fn, fake, **options)


def _dragan(d_fn, real, fake, key, **options):
    return dragan_penalty(d_fn, real, key, **options)


_PENALTIES: dict[str, tuple[Callable, Callable]] = {
    "gp": (_gp, wasserstein_gradient_penalty),
    "r1": (_r1, r1_penalty),
    "r2": (_r2, r2_penalty),
    "dragan": (_dragan, dragan_penalty),
}


def penalty_names() -> tuple[str, ...]:
    """Names accepted by :func:`make_penalty`."""
    return tuple(sorted(_PENALTIES))


def make_penalty(name: str, weight: float, **options) -> Callable:
    """``penalty(d_fn, real, fake, key) -> weight * P`` for ``GAN.d_penalty`` / ``GANLoss``.

    ``name``: ``"gp"`` (:func:`wasserstein_gradient_penalty` on real/fake interpolates, usual
    ``weight = lambda = 10``), ``"r1"`` (:func:`r1_penalty` on ``real``, ``weight = gamma / 2``),
    ``"r2"`` (:func:`r2_penalty` on ``fake``, ``weight = gamma / 2``), ``"dragan"``
    (:func:`dragan_penalty` around ``real``, paper's ``weight = 10``). ``options`` are the
    function's keyword options (e.g. ``target``, ``one_sided``, ``scale``, ``reduction``); unknown
    ones fail here. The result is a float32 scalar; ``weight`` multiplies it, nothing else does.
    """
    if name not in _PENALTIES:
        raise ValueError(f"unknown penalty {name!r}; known penalties: {', '.join(penalty_names())}")
    adapter, function = _PENALTIES[name]
    if "return_norms" in options:
        raise ValueError("make_penalty returns a scalar penalty; call the function for the norms")
    if options.get("reduction") == "none":
        raise ValueError("make_penalty needs a scalar: reduction='none' is not allowed")
    keyword_only = {
        p.name for p in inspect.signature(function).parameters.values() if p.kind == p.KEYWORD_ONLY
    }
    unknown = sorted(set(options) - keyword_only)
    if unknown:
        raise ValueError(f"unknown options {unknown} for {name!r}; known: {sorted(keyword_only)}")
    if isinstance(weight, (int, float)) and not weight >= 0:
        raise ValueError(f"weight must be >= 0, got {weight}")

    def penalty(d_fn, real, fake, key):
        return weight * adapter(d_fn, real, fake, key, **options)

    penalty.__name__ = f"{name}_penalty"
    penalty.__doc__ = f"{weight} * {function.__name__}(...) with options {options}."
    return penalty
