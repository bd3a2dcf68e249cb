"""The few transforms the vocoder needs, from numpy alone.

Importing ``scipy.fft`` pulls in ``scipy.special`` and scipy's array-API layer
(together about a tenth of a second, more than a one-note render's synthesis).
numpy's pocketfft gives the same float64 results; on float32 input it works
in double precision and rounds once at the end (so its float32 results differ
from scipy's single-precision transforms in the last bits, and are closer to
exact).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["dct1", "next_fast_len", "rfft", "irfft"]

rfft = np.fft.rfft
irfft = np.fft.irfft


def dct1(x: np.ndarray) -> np.ndarray:
    """The type-I DCT (unnormalised, as ``scipy.fft.dct(x, type=1)``) along the last
    axis: the real part of the rFFT of the even extension ``x[0..N-1], x[N-2..1]``."""
    x = np.asarray(x)
    if x.shape[-1] < 2:
        raise ValueError("dct1 needs at least 2 points")
    ext = np.concatenate([x, x[..., -2:0:-1]], axis=-1)
    out = np.fft.rfft(ext, axis=-1).real
    return out.astype(x.dtype, copy=False) if x.dtype == np.float32 else out


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
