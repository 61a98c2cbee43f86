"""Winograd's minimal filtering: a stride-1 convolution with fewer multiplications, exactly.

A VALID convolution of one axis, ``y[o] = sum_{k < r} d[o + k] g[k]``, computes ``m`` outputs from
``n = m + r - 1`` inputs with ``m r`` multiplications. Winograd's F(m, r) (Lavin & Gray 2016,
"Fast Algorithms for Convolutional Neural Networks") computes the same ``m`` outputs with ``n``::

    y = A^T [(G g) * (B^T d)]              (* element-wise)

where the constant matrices ``A^T`` ``[m, n]``, ``G`` ``[n, r]`` and ``B^T`` ``[n, n]`` come from
evaluating the polynomials ``d(x)`` and ``g(x)`` at ``n - 1`` points and infinity and interpolating
their product (Toom-Cook). In 2D the transforms apply along both axes::

    Y = A^T [(G g G^T) * (B^T d B)] A

For a layer with ``C`` input and ``D`` output channels the element-wise product becomes, per
position ``(a, b)`` of the ``n x n`` transformed tile, a matrix product over channels::

    M[a, b] = V[a, b] @ U[a, b],   V = B^T d B  [n, n, tiles, C],   U = G g G^T  [n, n, C, D]

so the layer costs ``n^2`` products of ``[tiles, C] @ [C, D]`` where the direct convolution (or
its im2col matrix product) costs ``m^2 r^2`` per tile: ``(m r / n)^2`` fewer multiply-adds, e.g.
``16/9 = 1.78x`` for F(2, 2), ``36/16 = 2.25x`` for F(3, 2), ``144/36 = 4x`` for F(4, 3). The
transforms are sums of strided slices with small constant weights, which XLA fuses into
element-wise loops; the gradient is written by hand (:func:`_winograd_tiles`) as the same kind of
program: products in the transformed domain, the transposed transforms around them.

It is the same function, not an approximation: only the rounding differs (the transforms add and
subtract before multiplying). In float32, against XLA's convolution and relative to the largest
value, the difference is of order 1e-7 (F(2, r)) to 5e-6 (F(6, 3)) in the outputs and up to 2e-5
in the gradients (the points 0, +-1, +-2, ... keep the constants small). cuDNN and oneDNN use the
same trick for 3x3 convolutions; XLA:CPU does not, so on CPU it lets a convolution run past XLA's
matrix-product speed (``docs/performance.md``). The transforms move ``(n/m)^2`` times the layer's
input through memory, so it pays for big layers only (the callers decide:
:mod:`jaxgan.speedups.layers`, :func:`jaxgan.speedups.translator_convs.conv_valid`).
"""

from __future__ import annotations

import contextlib
import functools

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["POINTS", "toom_cook_matrices", "kernel_transform", "winograd_conv", "traced_as_direct"]

# Interpolation points in the order they are used: small magnitudes keep the transforms' rounding low.
POINTS = (0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0)


_AS_DIRECT = [False]  # a stack of flags: contexts nest


@contextlib.contextmanager
def traced_as_direct():
    """Traces :func:`winograd_conv` as XLA's direct convolution (the same function) within the context.

    For counting a model's FLOPs as the convolutions it defines, not the fewer that the Winograd
    form executes (the benchmark's GFLOP/s); it affects tracing, not compiled programs. Contexts
    nest.

    Yields:
      Nothing; the direct form holds until the context exits.
    """
    _AS_DIRECT.append(True)
    try:
        yield
    finally:
        _AS_DIRECT.pop()


@functools.lru_cache(maxsize=None)
def toom_cook_matrices(m: int, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Builds the Toom-Cook matrices ``(A^T, G, B^T)`` of Winograd's F(m, r), in float64.

    With ``n = m + r - 1``, the finite points ``p_0 .. p_{n-2}`` (:data:`POINTS`) and infinity:
    ``A^T[i, j] = p_j^i`` and ``G[j, k] = p_j^k / prod_{l != j}(p_j - p_l)`` (the Lagrange
    weights), with the point at infinity picking the leading coefficients (``A^T[m-1, n-1] = 1``,
    ``G[n-1, r-1] = 1``). ``B^T`` is then the unique solution of the identity the algorithm must
    satisfy for every ``d`` and ``g``: ``sum_j A^T[i, j] G[j, k] B^T[j, l] = [l == i + k]``, solved
    in float64 and checked to be exact. Cached.

    Args:
      m: outputs per tile.
      r: kernel taps.

    Returns:
      ``(A^T [m, n], G [n, r], B^T [n, n])`` as NumPy float64 arrays.

    Raises:
      ValueError: if ``m`` or ``r`` is below 1, or F(m, r) needs more points than :data:`POINTS`.
      ArithmeticError: if no exact ``B^T`` exists for these points.
    """
    if m < 1 or r < 1:
        raise ValueError(f"F(m, r) needs m, r >= 1, got m={m}, r={r}")
    n = m + r - 1
    if n - 1 > len(POINTS):
        raise ValueError(f"F({m}, {r}) needs {n - 1} points; at most {len(POINTS)} are defined")
    p = np.array(POINTS[: n - 1], dtype=np.float64)
    at = np.zeros((m, n))
    g = np.zeros((n, r))
    for j in range(n - 1):
        at[:, j] = p[j] ** np.arange(m)
        g[j] = p[j] ** np.arange(r) / np.prod([p[j] - p[l] for l in range(n - 1) if l != j])
    at[m - 1, n - 1] = 1.0
    g[n - 1, r - 1] = 1.0
    # Unknowns B^T[j, l]; equations (i, k, l): sum_j at[i, j] g[j, k] bt[j, l] = [l == i + k].
    coeff = np.einsum("ij,jk->ikj", at, g).reshape(m * r, n)  # rows (i, k), columns j
    target = np.zeros((m * r, n))
    for i in range(m):
        for k in range(r):
            target[i * r + k, i + k] = 1.0
    bt, *_ = np.linalg.lstsq(coeff, target, rcond=None)
    # The entries are dyadic rationals (0, +-1, +-5/4, ...) up to the solver's rounding: snap them,
    # so that the transforms skip zeros and +-1 exactly (see _mix).
    snapped = np.round(bt * 2.0**20) / 2.0**20
    bt = np.where(np.abs(bt - snapped) < 1e-9, snapped, bt)
    if not np.allclose(coeff @ bt, target, rtol=0, atol=1e-12):
        raise ArithmeticError(f"no exact F({m}, {r}) for the points {tuple(p)}")
    return at, g, bt


def _mix(terms: list[jax.Array], weights: np.ndarray) -> list[jax.Array]:
    """``out[a] = sum_i weights[a, i] * terms[i]`` for every row ``a``; zero weights skipped,
    weights +-1 without a multiplication."""
    out = []
    for row in weights:
        total = None
        for weight, term in zip(row, terms):
            if weight == 0.0:
                continue
            part = term if weight == 1.0 else -term if weight == -1.0 else term * jnp.asarray(weight, term.dtype)
            total = part if total is None else total + part
        out.append(total if total is not None else jnp.zeros_like(terms[0]))
    return out


def _first_pass(terms: list[jax.Array], weights: np.ndarray, axis: int = 0) -> jax.Array:
    """``jnp.stack(_mix(terms, weights), axis)`` behind an optimisation barrier: the first pass of a
    separable transform is materialised once. (Without the barrier XLA fuses it into each of the
    second pass's ``n`` outputs, which then read and recompute it ``n`` times.)"""
    return jax.lax.optimization_barrier(jnp.stack(_mix(terms, weights), axis))


def _taps(x: jax.Array, axis: int, n: int, m: int, tiles: int) -> list[jax.Array]:
    """``taps[i][.., t, ..] = x[.., m t + i, ..]`` along ``axis``, for ``i < n`` and ``t < tiles``."""
    return [jax.lax.slice_in_dim(x, i, i + m * (tiles - 1) + 1, m, axis) for i in range(n)]


def _overlap_add(parts: list[jax.Array], axis: int, m: int, length: int) -> jax.Array:
    """The transpose of :func:`_taps`: ``x[.., p, ..] = sum_{(t, i) : m t + i = p} parts[i][.., t, ..]``.

    Written with stacks, reshapes and pads (no strided scatter): taps ``i = q m + s`` with the same
    ``q`` fill the positions ``m (t + q) + s`` of one contiguous block.
    """
    tiles = parts[0].shape[axis]
    total = None
    for q in range(-(-len(parts) // m)):
        group = [parts[q * m + s] if q * m + s < len(parts) else jnp.zeros_like(parts[0]) for s in range(m)]
        block = jnp.stack(group, axis=axis + 1)
        block = block.reshape(block.shape[:axis] + (tiles * m,) + block.shape[axis + 2 :])
        keep = min(tiles * m, length - q * m)
        block = jax.lax.slice_in_dim(block, 0, keep, axis=axis)
        pads = [(0, 0, 0)] * block.ndim
        pads[axis] = (q * m, length - q * m - keep, 0)
        block = jax.lax.pad(block, jnp.zeros((), block.dtype), pads)
        total = block if total is None else total + block
    return total


def _input_transform(x: jax.Array, bt: np.ndarray, m: int, tiles: tuple[int, int]) -> jax.Array:
    """``V[a, b, n, t, u] = (B^T d_{n t u} B)[a, b]`` for the ``n x n`` tiles ``d_{n t u}`` of ``x``
    starting at ``(m t, m u)`` (tiles overlap by ``r - 1``): rows, then columns of all rows at once."""
    rows = _first_pass(_taps(x, 1, bt.shape[0], m, tiles[0]), bt)  # [a, N, th, Wp, C]
    return jnp.stack(_mix(_taps(rows, 3, bt.shape[0], m, tiles[1]), bt), axis=1)  # [a, b, N, th, tw, C]


def _input_transform_transpose(dv: jax.Array, bt: np.ndarray, m: int, shape: tuple[int, ...]) -> jax.Array:
    """The transpose of :func:`_input_transform` (``dx`` from ``dV``) for an input of ``shape``."""
    n = bt.shape[0]
    rows = jax.lax.optimization_barrier(_overlap_add(_mix([dv[:, b] for b in range(n)], bt.T), 3, m, shape[2]))
    return _overlap_add(_mix([rows[a] for a in range(n)], bt.T), 1, m, shape[1])


def _output_transform(prod: jax.Array, at: np.ndarray) -> jax.Array:
    """``Y = A^T M A`` per tile, then the tiles in place: ``[n, n, N, th, tw, D] -> [N, th m, tw m, D]``."""
    m, n = at.shape
    rows = _first_pass([prod[a] for a in range(n)], at)  # [i, b, N, th, tw, D]
    y = jnp.stack(_mix([rows[:, b] for b in range(n)], at), axis=1)  # [i, j, N, th, tw, D]
    _, _, n_img, th, tw, d = y.shape
    return y.transpose(2, 3, 0, 4, 1, 5).reshape(n_img, th * m, tw * m, d)


def _output_transform_transpose(dy: jax.Array, at: np.ndarray) -> jax.Array:
    """The transpose of :func:`_output_transform`: ``[N, th m, tw m, D] -> [n, n, N, th, tw, D]``."""
    m, _ = at.shape
    n_img, hm, wm, d = dy.shape
    dy = dy.reshape(n_img, hm // m, m, wm // m, m, d).transpose(2, 4, 0, 1, 3, 5)  # [i, j, N, th, tw, D]
    rows = _first_pass([dy[:, j] for j in range(m)], at.T, axis=1)  # [i, b, N, th, tw, D]
    return jnp.stack(_mix([rows[i] for i in range(m)], at.T))  # [a, b, N, th, tw, D]


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def _winograd_tiles(x: jax.Array, u: jax.Array, m: int, r: int, precision) -> jax.Array:
    """F(m x m, r x r) of the padded ``x`` ``[N, th m + r - 1, tw m + r - 1, C]`` with the
    transformed kernel ``u`` ``[n^2, C, D]`` -> ``[N, th m, tw m, D]``.

    Differentiated by hand: ``dM = OutT^T(dY)``, ``dV = dM U^T``, ``dU = V^T dM``,
    ``dx = InT^T(dV)``: the transposed transforms as stacks, reshapes and pads (autodiff of the
    strided slices gives interior-padded scatters that XLA:CPU runs far slower).
    """
    return _winograd_tiles_fwd(x, u, m, r, precision)[0]


def _winograd_tiles_fwd(x, u, m, r, precision):
    at, _, bt = toom_cook_matrices(m, r)
    n = m + r - 1
    tiles = ((x.shape[1] - n) // m + 1, (x.shape[2] - n) // m + 1)
    v = _input_transform(x, bt, m, tiles)
    vshape = v.shape
    v = v.reshape(n * n, -1, x.shape[3])
    prod = jnp.einsum("tpc,tcd->tpd", v, u, precision=precision)
    return _output_transform(prod.reshape(vshape[:-1] + (-1,)), at), (v, u, x.shape)


def _winograd_tiles_bwd(m, r, precision, residuals, dy):
    v, u, shape = residuals
    at, _, bt = toom_cook_matrices(m, r)
    dm = _output_transform_transpose(dy, at)
    mshape = dm.shape
    dm = dm.reshape(v.shape[0], -1, mshape[-1])
    du = jnp.einsum("tpc,tpd->tcd", v, dm, precision=precision)
    dv = jnp.einsum("tpd,tcd->tpc", dm, u, precision=precision)
    return _input_transform_transpose(dv.reshape(mshape[:-1] + (-1,)), bt, m, shape), du


_winograd_tiles.defvjp(_winograd_tiles_fwd, _winograd_tiles_bwd)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def kernel_transform(kernel: jax.Array, m: int) -> jax.Array:
    """Transforms a kernel for Winograd's F(m x m, r x r): ``U = G g G^T``.

    ``U[a, b] = sum_{k, l} G[a, k] G[b, l] kernel[k, l]``: weighted sums of the kernel's
    ``[C, D]`` planes with the constants of ``G``, rows then columns (:func:`_first_pass`,
    :func:`_mix`), and the gradient the same way with ``G^T``:
    ``dkernel[k, l] = sum_{a, b} G[a, k] G[b, l] dU[a, b]``. It is a memory-bound pass over the
    planes; written as an ``einsum`` with ``G``, XLA:CPU would run it as matrix products with a
    contraction of only ``r`` plus transposes, a costly share of a big layer's step.

    Args:
      kernel: ``[r, r, C, D]`` kernel (Flax ``nn.Conv`` layout).
      m: outputs per tile side.

    Returns:
      ``[n, n, C, D]`` with ``n = m + r - 1``.
    """
    return _kernel_transform(kernel, toom_cook_matrices(m, kernel.shape[0])[1])


def _kernel_transform(kernel: jax.Array, g: np.ndarray) -> jax.Array:
    r = g.shape[1]
    rows = _first_pass([kernel[k] for k in range(r)], g)  # [a, l, C, D]
    return jnp.stack(_mix([rows[:, l] for l in range(r)], g), axis=1)  # [a, b, C, D]


def _kernel_transform_fwd(kernel, m):
    return _kernel_transform(kernel, toom_cook_matrices(m, kernel.shape[0])[1]), None


def _kernel_transform_bwd(m, _, du):
    g = toom_cook_matrices(m, du.shape[0] - m + 1)[1]
    return (_kernel_transform(du, g.T),)  # the same separable sums with G^T: [k, l, C, D]


kernel_transform.defvjp(_kernel_transform_fwd, _kernel_transform_bwd)


def winograd_conv(x: jax.Array, kernel: jax.Array, m: int = 2, *, precision=None) -> jax.Array:
    """Computes a VALID stride-1 convolution with Winograd's F(m x m, r x r) (module notes).

    ``y[n, o, p] = sum_{a, b} x[n, o + a, p + b] @ kernel[a, b]``. Output tiles that overhang the
    edge are computed on zero padding and cropped. The ``n^2`` channel products run as one batched
    matrix product with ``precision``. Inputs narrower than float32 (bfloat16) are computed in
    float32 and the result rounded once: the transforms' sums lose far more precision than a
    direct convolution's, too much to compute them in bfloat16.

    Args:
      x: ``[N, H, W, C]`` inputs.
      kernel: ``[r, r, C, D]`` kernel (Flax ``nn.Conv`` layout).
      m: outputs per tile side.
      precision: as the channel products' ``precision``.

    Returns:
      ``[N, H - r + 1, W - r + 1, D]``, in ``x``'s and ``kernel``'s common dtype.

    Raises:
      ValueError: if ``kernel`` is not square, does not take ``C`` channels, or is larger than ``x``.
    """
    _, h, w, c = x.shape
    r = kernel.shape[0]
    if kernel.shape[1] != r or kernel.shape[2] != c:
        raise ValueError(f"kernel {kernel.shape} does not fit a square convolution of {c}-channel inputs")
    ho, wo = h - r + 1, w - r + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"a {r}x{r} kernel does not fit the {h}x{w} input")
    if _AS_DIRECT[-1]:
        return jax.lax.conv_general_dilated(x, kernel, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                            precision=precision)
    n = m + r - 1
    th, tw = -(-ho // m), -(-wo // m)
    dtype = jnp.result_type(x, kernel)
    wide = jnp.promote_types(dtype, jnp.float32)
    x = x.astype(wide)
    pad_h, pad_w = th * m + r - 1 - h, tw * m + r - 1 - w
    if pad_h or pad_w:
        x = jnp.pad(x, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)))
    u = kernel_transform(kernel.astype(wide), m)
    y = _winograd_tiles(x, u.reshape(n * n, c, kernel.shape[3]), m, r, precision)
    return y[:, :ho, :wo].astype(dtype)
