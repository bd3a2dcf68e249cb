"""The few transforms the vocoder needs, from numpy alone.

Importing ``scipy.fft`` pulls in ``scipy.special`` and scipy's array-API layer
(together about a tenth of a second, more than a one-note render's synthesis).
numpy's pocketfft gives the same float64 results. In single precision numpy
has a fast complex-to-real transform but computes real-to-complex ones in
double precision (three to four times slower than scipy's), so on float32
input :func:`rfft` and :func:`dct1` are built on the complex-to-real one:
their results agree with a double-precision transform to about 2e-7 of the
largest value, as scipy's single-precision ones do.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["dct1", "next_fast_len", "rfft", "irfft"]

irfft = np.fft.irfft


def rfft(x: np.ndarray, n: int | None = None, axis: int = -1) -> np.ndarray:
    """``np.fft.rfft(x, n, axis)``; complex64 for float32 ``x``, computed as below."""
    x = np.asarray(x)
    if x.dtype != np.float32:
        return np.fft.rfft(x, n=n, axis=axis)
    if axis not in (-1, x.ndim - 1):
        return np.moveaxis(_rfft32(np.moveaxis(x, axis, -1), n), -1, axis)
    return _rfft32(x, n)


def _rfft32(x: np.ndarray, n: int | None) -> np.ndarray:
    """The real FFT of float32 rows through one complex-to-real transform.

    With ``C[k] = sum_t x[t] cos(2 pi k t / n)`` and ``S[k]`` the same with sin,
    ``rfft(x)[k] = C[k] - j S[k]``. Samples past ``n / 2`` fold onto ``n - t``
    (``a`` adds them, ``b`` subtracts them); a complex-to-real transform of
    ``(a - j b) / 2`` (its DC and Nyquist terms ``a`` alone) gives
    ``y[k] = C[k] + S[k]``, and as C is even in k and S odd,
    ``C[k] = (y[k] + y[n - k]) / 2`` and ``S[k] = (y[k] - y[n - k]) / 2``.
    """
    length = x.shape[-1]
    n = length if n is None else int(n)
    if n < 1:
        raise ValueError(f"rfft needs n >= 1, got {n}")
    if length > n:
        x, length = x[..., :n], n
    half = n // 2
    m = half + 1
    a = np.zeros(x.shape[:-1] + (m,), np.float32)
    lo = min(length, m)
    a[..., :lo] = x[..., :lo]
    b = a.copy()
    if length > m:   # t in [m, length) folds onto n - t, i.e. [n - length + 1, n - m]
        tail = x[..., length - 1:m - 1:-1]
        a[..., n - length + 1:n - m + 1] += tail
        b[..., n - length + 1:n - m + 1] -= tail
    spec = np.empty(a.shape, np.complex64)
    # irfft divides by n (its norm="forward" would not, but takes a slow path)
    spec.real = a * np.float32(0.5 * n)
    spec.imag = b * np.float32(-0.5 * n)
    spec[..., 0] = a[..., 0] * np.float32(n)
    if n % 2 == 0:
        spec[..., half] = a[..., half] * np.float32(n)
    y = np.fft.irfft(spec, n=n, axis=-1)
    mirror = np.empty(a.shape, np.float32)
    mirror[..., 0] = y[..., 0]
    mirror[..., 1:] = y[..., n - 1:n - m:-1]
    out = np.empty(a.shape, np.complex64)
    np.add(y[..., :m], mirror, out=out.real)
    np.subtract(mirror, y[..., :m], out=out.imag)
    out *= np.float32(0.5)
    return out


def dct1(x: np.ndarray) -> np.ndarray:
    """The type-I DCT (unnormalised, as ``scipy.fft.dct(x, type=1)``) along the last
    axis. It is the inverse real FFT of ``x`` (a real half spectrum) times
    ``2 (N - 1)``; float32 stays float32."""
    x = np.asarray(x)
    size = x.shape[-1]
    if size < 2:
        raise ValueError("dct1 needs at least 2 points")
    n = 2 * (size - 1)
    if x.dtype == np.float32:
        spec = np.zeros(x.shape, np.complex64)
        np.multiply(x, np.float32(n), out=spec.real)
        return np.fft.irfft(spec, n=n, axis=-1)[..., :size]
    return np.fft.irfft(x * float(n), n=n, axis=-1)[..., :size]


@lru_cache(maxsize=64)
def next_fast_len(n: int) -> int:
    """The smallest ``2**a * 3**b * 5**c`` at least ``n`` (lengths the FFT does fastest)."""
    if n < 1:
        raise ValueError(f"next_fast_len needs n >= 1, got {n}")
    best = 1 << max(0, (n - 1).bit_length())   # a power of two always qualifies
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best
