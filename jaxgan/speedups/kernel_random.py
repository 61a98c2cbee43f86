"""``jax.random``'s ``split`` and ``normal`` in element-wise operations, for use inside a Pallas kernel.

Written out in element-wise integer and float operations, so that a Pallas kernel (Triton, for
GPUs) can draw the same numbers as the library's loops inside it
(:mod:`jaxgan.speedups.toy_gan_kernel`).

Keys are raw ``uint32[2]`` keys passed as two words ``(k0, k1)``; Threefry-2x32 in JAX's
partitionable mode (``jax_threefry_partitionable``, JAX's default): counter ``i`` of a draw of
``shape`` is ``(0, i)`` in row-major order. The tests check both functions against ``jax.random``
bit for bit.
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
    """Hashes the counters ``(x0, x1)`` with Threefry-2x32, 20 rounds, as ``jax.random`` does.

    Threefry-2x32 (Salmon et al. 2011): 5 groups of 4 rounds of add / rotate / xor; the key
    schedule ``(k0, k1, k0 ^ k1 ^ 0x1BD11BDA)`` is added before the first group and after each
    one (with the group's number added to ``x1``).

    Args:
      k0, k1: the key's two ``uint32`` words.
      x0, x1: ``uint32`` counters, scalars or arrays of one shape.

    Returns:
      The two ``uint32`` output words, of the counters' shape.
    """
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
    """Computes ``jax.random.split(key)`` of the key ``(k0, k1)``.

    Args:
      k0, k1: the key's two ``uint32`` words.

    Returns:
      ``((k0, k1) of the new key, (k0, k1) of the subkey)``: the hashes of counters 0 and 1.
    """
    zero = jnp.zeros((), jnp.uint32)
    return threefry2x32(k0, k1, zero, zero), threefry2x32(k0, k1, zero, zero + np.uint32(1))


def normal(k0, k1, shape: tuple[int, int]):
    """Computes ``jax.random.normal(key, shape, float32)`` of the key ``(k0, k1)``, bit for bit.

    A uniform draw ``u`` in ``(-1, 1)`` from 23 random mantissa bits of each element's hash, then
    ``sqrt(2) erfinv(u)``.

    Args:
      k0, k1: the key's two ``uint32`` words.
      shape: a 2-d shape ``(rows, columns)``.

    Returns:
      A float32 array of ``shape``.
    """
    counter = (lax.broadcasted_iota(jnp.uint32, shape, 0) * np.uint32(shape[1])
               + lax.broadcasted_iota(jnp.uint32, shape, 1))  # fmt: skip
    b0, b1 = threefry2x32(k0, k1, jnp.zeros(shape, jnp.uint32), counter)
    bits = (b0 ^ b1) >> np.uint32(9) | np.uint32(0x3F800000)
    floats = lax.bitcast_convert_type(bits, jnp.float32) - np.float32(1.0)
    lo = np.nextafter(np.float32(-1.0), np.float32(0.0))
    u = lax.max(lo, floats * (np.float32(1.0) - lo) + lo)
    return np.float32(np.sqrt(2)) * lax.erf_inv(u)
