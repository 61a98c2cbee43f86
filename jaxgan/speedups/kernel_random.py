"""``jax.random``'s ``split`` and ``normal`` written out in element-wise integer and float operations, so
that a Pallas kernel (Triton, for GPUs) can draw the same numbers as the library's loops inside it.

Keys are raw ``uint32[2]`` keys passed as two words ``(k0, k1)``; Threefry-2x32 in JAX's
partitionable mode (``jax_threefry_partitionable``, the default since JAX 0.5): counter ``i`` of a
draw of ``shape`` is ``(0, i)`` in row-major order. ``tests/test_toy_gan_kernel.py`` checks both
functions against ``jax.random`` bit for bit.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["threefry2x32", "split", "normal"]

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _rotate_left(x, r: int):
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def threefry2x32(k0, k1, x0, x1):
    """Threefry-2x32 with 20 rounds (Salmon et al. 2011) of counters ``(x0, x1)``, as ``jax.random``
    computes it."""
    ks = (k0, k1, k0 ^ k1 ^ np.uint32(0x1BD11BDA))
    x0, x1 = x0 + ks[0], x1 + ks[1]
    for block in range(5):
        for r in _ROTATIONS[block % 2]:
            x0 = x0 + x1
            x1 = _rotate_left(x1, r) ^ x0
        x0 = x0 + ks[(block + 1) % 3]
        x1 = x1 + ks[(block + 2) % 3] + np.uint32(block + 1)
    return x0, x1


def split(k0, k1):
    """``jax.random.split(key)`` -> ``((k0, k1) of the new key, (k0, k1) of the subkey)``: the hashes
    of counters 0 and 1."""
    zero = jnp.zeros((), jnp.uint32)
    return threefry2x32(k0, k1, zero, zero), threefry2x32(k0, k1, zero, zero + np.uint32(1))


def normal(k0, k1, shape: tuple[int, int]):
    """``jax.random.normal(key, shape, float32)`` for a 2-d ``shape``: a uniform draw in ``(-1, 1)``
    from 23 random mantissa bits, then ``sqrt(2) erfinv(u)``."""
    counter = (lax.broadcasted_iota(jnp.uint32, shape, 0) * np.uint32(shape[1])
               + lax.broadcasted_iota(jnp.uint32, shape, 1))  # fmt: skip
    b0, b1 = threefry2x32(k0, k1, jnp.zeros(shape, jnp.uint32), counter)
    bits = (b0 ^ b1) >> np.uint32(9) | np.uint32(0x3F800000)
    floats = lax.bitcast_convert_type(bits, jnp.float32) - np.float32(1.0)
    lo = np.nextafter(np.float32(-1.0), np.float32(0.0))
    u = lax.max(lo, floats * (np.float32(1.0) - lo) + lo)
    return np.float32(np.sqrt(2)) * lax.erf_inv(u)
