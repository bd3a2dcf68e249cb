"""Symmetric positive-definite banded systems, solved with numpy alone.

:func:`solve_spd_banded` takes the same lower banded form as LAPACK's ``pbsv``
(and ``scipy.linalg.solveh_banded(..., lower=True)``) and solves many systems
at once. It exists so that singing does not import ``scipy.linalg`` (about a
fifth of a one-note render's start-up); the systems it meets (the HTS
parameter generation's normal equations, bandwidth 2) are well conditioned.

The method is block cyclic reduction: the frames are grouped into blocks as
wide as the band, which makes the matrix block tridiagonal; every odd block is
eliminated at once, which leaves a block tridiagonal system half as long over
the even blocks, and so on down to one block; then the odd blocks are filled
in on the way back. It is Gaussian elimination on a symmetric reordering of
the matrix, so it is stable for positive-definite matrices without pivoting,
and every step is a numpy operation over all blocks and all systems together
(log2 of the length steps, not one per frame).
"""
from __future__ import annotations

import numpy as np

__all__ = ["solve_spd_banded"]

#: block-level elements (systems x blocks) reduced at once: more spills the caches
#: on long songs, fewer costs Python overhead on short ones
_CACHE_ELEMENTS = 80_000


def solve_spd_banded(band: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``A x = rhs`` for each of ``D`` symmetric positive-definite banded ``A``.

    ``band`` is (D, p + 1, L) in lower form: ``band[d, j, t] = A_d[t + j, t]``
    (entries past the end are ignored); ``rhs`` is (D, L). Returns x, (D, L),
    float64.
    """
    band = np.asarray(band, dtype=np.float64)
    rhs = np.asarray(rhs, dtype=np.float64)
    if band.ndim != 3 or rhs.ndim != 2 or band.shape[0] != rhs.shape[0] or band.shape[2] != rhs.shape[1]:
        raise ValueError(f"band (D, p+1, L) and rhs (D, L) expected, got {band.shape} and {rhs.shape}")
    n_sys, width, length = band.shape
    if length == 0 or n_sys == 0:
        return np.zeros((n_sys, length))
    p = max(1, width - 1)
    n_blocks = -(-length // p)
    padded = n_blocks * p
    # the band, padded with identity rows, as block tridiagonal: diagonal blocks
    # a[d, i] (p, p) and below-diagonal blocks b[d, i] coupling block i to i-1
    bd = np.zeros((n_sys, p + 1, padded))
    bd[:, :width, :length] = band
    if padded > length:
        bd[:, 0, length:] = 1.0
    for j in range(1, p + 1):   # entries past the end of the matrix do not exist
        bd[:, j, max(0, length - j):] = 0.0
    a = np.empty((n_sys, n_blocks, p, p))
    b = np.zeros((n_sys, n_blocks, p, p))
    for r in range(p):
        for c in range(p):
            if r >= c:
                a[:, :, r, c] = a[:, :, c, r] = bd[:, r - c, c::p]
            if r <= c:   # A[i p + r, (i - 1) p + c] = band[p + r - c, (i - 1) p + c]
                b[:, 1:, r, c] = bd[:, p + r - c, c:padded - p:p]
    r0 = np.zeros((n_sys, padded))
    r0[:, :length] = rhs
    if p == 2:   # the usual case (windows three frames wide): 2 x 2 blocks entry by entry
        x = np.empty((n_sys, padded))
        ea, eb, r_even, r_odd = _entries(a), _entries(b), r0[:, 0::2], r0[:, 1::2]
        # a few systems at a time on long inputs, so the level arrays stay in cache
        # (each system's arithmetic is its own: the grouping does not change a bit)
        step = max(1, min(n_sys, _CACHE_ELEMENTS // n_blocks))
        for d0 in range(0, n_sys, step):
            d = slice(d0, d0 + step)
            x0, x1 = _reduce2(tuple(e[d] for e in ea), tuple(e[d] for e in eb), (r_even[d], r_odd[d]))
            x[d, 0::2], x[d, 1::2] = x0, x1
        return x[:, :length]
    x = _reduce(a, b, r0.reshape(n_sys, n_blocks, p, 1))
    return x.reshape(n_sys, padded)[:, :length]


def _inv(m: np.ndarray) -> np.ndarray:
    """Inverses of stacked symmetric (p, p) blocks; closed forms for p <= 2."""
    p = m.shape[-1]
    if p == 1:
        return 1.0 / m
    if p == 2:
        a, b, c, d = m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1]
        det = a * d - b * c
        out = np.empty_like(m)
        out[..., 0, 0] = d / det
        out[..., 0, 1] = -b / det
        out[..., 1, 0] = -c / det
        out[..., 1, 1] = a / det
        return out
    return np.linalg.inv(m)


def _t(m: np.ndarray) -> np.ndarray:
    return np.swapaxes(m, -1, -2)


def _reduce(a: np.ndarray, b: np.ndarray, r: np.ndarray) -> np.ndarray:
    """x for the block tridiagonal system (a: diagonal blocks, b: below-diagonal
    blocks, b[:, 0] unused, r: right-hand sides (.., m, p, 1))."""
    m = a.shape[1]
    if m == 1:
        return _inv(a) @ r
    ne, no = (m + 1) // 2, m // 2
    ao, bo, ro = a[:, 1::2], b[:, 1::2], r[:, 1::2]        # odd blocks 2k+1
    ae, be, re = a[:, 0::2], b[:, 0::2], r[:, 0::2]        # even blocks 2k
    inv_o = _inv(ao)
    xo = inv_o @ bo                                        # A_o^-1 B_o
    yo = inv_o @ ro                                        # A_o^-1 r_o
    # the even blocks' system once the odd ones are eliminated
    a2 = ae.copy()
    r2 = re.copy()
    a2[:, :no] -= _t(bo) @ xo                              # through the odd block to the right
    r2[:, :no] -= _t(bo) @ yo
    b2 = np.zeros_like(ae)
    if ne > 1:
        g = be[:, 1:] @ inv_o[:, :ne - 1]                  # through the odd block to the left
        a2[:, 1:] -= g @ _t(be[:, 1:])
        r2[:, 1:] -= g @ ro[:, :ne - 1]
        b2[:, 1:] = -(g @ bo[:, :ne - 1])
    xe = _reduce(a2, b2, r2)
    # and the odd blocks from their even neighbours
    x_odd = yo - xo @ xe[:, :no]
    right = min(no, ne - 1)                                # odd blocks with an even block after them
    if right > 0:
        x_odd[:, :right] -= inv_o[:, :right] @ (_t(be[:, 1:right + 1]) @ xe[:, 1:right + 1])
    x = np.empty_like(r)
    x[:, 0::2] = xe
    x[:, 1::2] = x_odd
    return x


# -- 2 x 2 blocks as four arrays (m00, m01, m10, m11) over (systems, blocks) ------------
# numpy's matmul on stacks of tiny matrices costs far more per block than the
# same products written out entry by entry on whole arrays.

def _entries(m: np.ndarray) -> tuple[np.ndarray, ...]:
    return (m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1])


def _mm(x, y):
    return (x[0] * y[0] + x[1] * y[2], x[0] * y[1] + x[1] * y[3],
            x[2] * y[0] + x[3] * y[2], x[2] * y[1] + x[3] * y[3])


def _tm(x, y):
    """x transposed times y."""
    return (x[0] * y[0] + x[2] * y[2], x[0] * y[1] + x[2] * y[3],
            x[1] * y[0] + x[3] * y[2], x[1] * y[1] + x[3] * y[3])


def _mt(x, y):
    """x times y transposed."""
    return (x[0] * y[0] + x[1] * y[1], x[0] * y[2] + x[1] * y[3],
            x[2] * y[0] + x[3] * y[1], x[2] * y[2] + x[3] * y[3])


def _mv(x, v):
    return (x[0] * v[0] + x[1] * v[1], x[2] * v[0] + x[3] * v[1])


def _tv(x, v):
    return (x[0] * v[0] + x[2] * v[1], x[1] * v[0] + x[3] * v[1])


def _inv2(x):
    det = x[0] * x[3] - x[1] * x[2]
    return (x[3] / det, -x[1] / det, -x[2] / det, x[0] / det)


def _sel(x, sl):
    return tuple(e[:, sl] for e in x)


def _reduce2(a, b, r):
    """:func:`_reduce` for 2 x 2 blocks given entry by entry."""
    m = a[0].shape[1]
    if m == 1:
        return _mv(_inv2(a), r)
    ne, no = (m + 1) // 2, m // 2
    odd, even = slice(1, None, 2), slice(0, None, 2)
    ao, bo, ro = _sel(a, odd), _sel(b, odd), _sel(r, odd)
    ae, be, re = _sel(a, even), _sel(b, even), _sel(r, even)
    inv_o = _inv2(ao)
    xo = _mm(inv_o, bo)
    yo = _mv(inv_o, ro)
    a2 = tuple(e.copy() for e in ae)
    r2 = tuple(e.copy() for e in re)
    for e, d in zip(a2, _tm(bo, xo)):
        e[:, :no] -= d
    for e, d in zip(r2, _tv(bo, yo)):
        e[:, :no] -= d
    b2 = tuple(np.zeros_like(e) for e in ae)
    if ne > 1:
        be1 = _sel(be, slice(1, None))
        g = _mm(be1, _sel(inv_o, slice(0, ne - 1)))
        for e, d in zip(a2, _mt(g, be1)):
            e[:, 1:] -= d
        for e, d in zip(r2, _mv(g, _sel(ro, slice(0, ne - 1)))):
            e[:, 1:] -= d
        for e, d in zip(b2, _mm(g, _sel(bo, slice(0, ne - 1)))):
            e[:, 1:] = -d
    xe = _reduce2(a2, b2, r2)
    x_odd = tuple(y - d for y, d in zip(yo, _mv(xo, _sel(xe, slice(0, no)))))
    right = min(no, ne - 1)
    if right > 0:
        nxt = _tv(_sel(be, slice(1, right + 1)), _sel(xe, slice(1, right + 1)))
        for e, d in zip(x_odd, _mv(_sel(inv_o, slice(0, right)), nxt)):
            e[:, :right] -= d
    x0 = np.empty((a[0].shape[0], m))
    x1 = np.empty((a[0].shape[0], m))
    x0[:, 0::2], x1[:, 0::2] = xe
    x0[:, 1::2], x1[:, 1::2] = x_odd
    return x0, x1
