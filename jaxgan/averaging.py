"""An exponential moving average of a player's parameters, kept inside its optimizer state.

GAN iterates oscillate around a solution rather than settle on it; averaging G's weights over the
last few thousand steps (Yazici et al. 2019, "The unusual effectiveness of averaging in GAN
training"; the EMA generator of ProGAN, BigGAN and StyleGAN) gives better samples than the last
iterate. Here the average lives in the optimizer state, so it is part of ``GANState`` (checkpointed,
restored bit-exactly, sharded like the rest) and no step function changes::

    g_optimizer = with_params_ema(optax.adam(2e-4, b1=0.5), decay=0.999)
    ...
    averaged_params = params_ema(state.g.opt_state, decay=0.999)

After update ``t`` (``p_t`` the parameters it produced) the state holds
``m_t = decay * m_{t-1} + (1 - decay) * p_t`` with ``m_0 = 0`` and returns the debiased
``m_t / (1 - decay^t)``: a weighted mean of ``p_1 .. p_t`` whose weights sum to one (the first
update gives exactly ``p_1``), so early averages are not pulled towards zero.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = ["ParamsEMAState", "with_params_ema", "params_ema"]


class ParamsEMAState(NamedTuple):
    """The optimizer state of :func:`with_params_ema`: the wrapped state and the running average.

    Attributes:
      inner: the wrapped optimizer's state.
      ema: ``m_t``, not debiased (float32 or wider leaves, as the parameters).
      count: ``t``, the number of updates.
    """

    inner: Any
    ema: Any
    count: jax.Array


def with_params_ema(inner: optax.GradientTransformation, decay: float) -> optax.GradientTransformation:
    """Wraps an optimizer to keep an EMA of the parameters after each update; the updates are unchanged.

    ``update`` needs ``params`` (the steps of :mod:`jaxgan.steps` pass them) and raises
    ``ValueError`` without them.

    Args:
      inner: the optimizer to wrap.
      decay: in ``[0, 1)``: 0 keeps the last iterate; 0.999 averages over roughly the last 1000
        updates.

    Returns:
      An ``optax.GradientTransformation`` whose state is a :class:`ParamsEMAState`.

    Raises:
      ValueError: if ``decay`` is outside ``[0, 1)``.
    """
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"EMA decay must lie in [0, 1), got {decay}")

    def init(params):
        zeros = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=jnp.result_type(p, jnp.float32)), params)
        return ParamsEMAState(inner.init(params), zeros, jnp.zeros((), jnp.int32))

    def update(updates, state: ParamsEMAState, params=None):
        if params is None:
            raise ValueError("with_params_ema needs the parameters: call update(updates, state, params)")
        updates, inner_state = inner.update(updates, state.inner, params)
        new_params = optax.apply_updates(params, updates)
        ema = jax.tree.map(lambda m, p: decay * m + (1.0 - decay) * p, state.ema, new_params)
        return updates, ParamsEMAState(inner_state, ema, state.count + 1)

    return optax.GradientTransformation(init, update)


def params_ema(opt_state: ParamsEMAState, decay: float) -> Any:
    """Reads the debiased parameter average ``m_t / (1 - decay^t)`` from an optimizer state.

    Args:
      opt_state: the state of an optimizer built with :func:`with_params_ema`.
      decay: the ``decay`` given to :func:`with_params_ema`.

    Returns:
      The averaged parameters, a pytree like the parameters.

    Raises:
      TypeError: if ``opt_state`` is not a :class:`ParamsEMAState`.
      ValueError: before any update (``t = 0``), when there is nothing to average.
    """
    if not isinstance(opt_state, ParamsEMAState):
        raise TypeError("this optimizer state has no parameter average (build the optimizer with with_params_ema)")
    count = np.asarray(jax.device_get(opt_state.count))  # one per run for stacked runs
    if np.any(count == 0):
        raise ValueError("no update yet: the parameter average is undefined")
    scale = 1.0 / (1.0 - decay ** count.astype(np.float64))
    return jax.tree.map(lambda m: m * scale.reshape(scale.shape + (1,) * (m.ndim - scale.ndim)).astype(m.dtype),
                        opt_state.ema)
