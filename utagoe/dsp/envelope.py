"""Spectral-envelope helpers: pure functions over (frames, bins) arrays."""
from __future__ import annotations

import numpy as np


def interpolate_unvoiced(f0_hz: np.ndarray) -> np.ndarray:
    """F0 with its unvoiced gaps (<= 0 or not finite) filled by interpolating log F0;
    all zeros where nothing is voiced."""
    f0 = np.asarray(f0_hz, dtype=np.float64)
    ok = np.isfinite(f0) & (f0 > 0)
    if not np.any(ok):
        return np.zeros_like(f0)
    idx = np.arange(len(f0))
    return np.exp(np.interp(idx, idx[ok], np.log(f0[ok])))


def harmonic_log_amplitude(log_amplitude: np.ndarray, f0_hz: np.ndarray, *,
                           sample_rate_hz: int, peak_search: float = 0.0) -> np.ndarray:
    """The envelope through its values at the harmonics of ``f0_hz``.

    An envelope estimated from a high voice keeps ripples at the harmonics of the
    F0 it was analysed (or generated) with; sung at another F0 its harmonics fall
    into the valleys and the vowel blurs. Sampling the log amplitude at
    ``k * f0`` and joining those points linearly over frequency gives an envelope
    that any F0 can sample. Below the first harmonic the first value holds.
    Frames with ``f0_hz <= 0`` are returned unchanged (in single precision).

    With ``peak_search`` > 0 each harmonic takes the highest value within that
    share of a harmonic spacing on either side of it (0.5: half a spacing)
    instead of the value at ``k * f0`` exactly, so an ``f0_hz`` a little off
    the ripple's own spacing still finds its peaks.

    ``log_amplitude``: (frames, fft_size // 2 + 1), natural log; bins at
    ``k * sample_rate_hz / fft_size``. The result is single precision (float32:
    the vocoder's own; within 2e-5 dB of double precision on sakura, in 0.7 of
    its time); the positions of the harmonics are found in double precision.
    """
    la = np.asarray(log_amplitude)
    f0 = np.asarray(f0_hz, dtype=np.float64)
    if la.ndim != 2 or la.shape[0] != f0.shape[0]:
        raise ValueError(f"need (frames, bins) and one F0 per frame, got {la.shape} and {f0.shape}")
    n_bins = la.shape[1]
    bin_hz = sample_rate_hz / (2 * (n_bins - 1))
    out = la.astype(np.float32)   # (a copy also when it is float32 already)
    v = f0 > bin_hz
    if not np.any(v):
        return out
    vi = np.flatnonzero(v)
    # in blocks of frames, so the (frames, bins) temporaries stay small and hot
    for b0 in range(0, len(vi), _BLOCK_FRAMES):
        sel = vi[b0:b0 + _BLOCK_FRAMES]
        src = _peaks_within(out[sel], peak_search * f0[sel] / bin_hz) if peak_search > 0 else out[sel]
        out[sel] = _through_harmonics(src, f0[sel], n_bins=n_bins, bin_hz=bin_hz,
                                      nyquist_hz=sample_rate_hz / 2)
    return out


_BLOCK_FRAMES = 256


def _peaks_within(lv: np.ndarray, reach_bins: np.ndarray) -> np.ndarray:
    """Each row's running maximum over +-its ``reach_bins`` (rows grouped by
    that reach in whole bins; beyond the ends the end values hold): the curve
    through the ripple's peaks, wherever they lie. (On a steep slope it leans
    towards the higher side, and it fills the valleys between formants by the
    reach.)"""
    half = np.floor(reach_bins).astype(np.int64)
    out = np.empty_like(lv)
    for h in sorted(set(half.tolist())):   # (np.unique would import numpy.ma: 10 ms of a start)
        rows = half == h
        out[rows] = running_max(lv[rows], h) if h > 0 else lv[rows]
    return out


def running_max(x: np.ndarray, half: int) -> np.ndarray:
    """The maximum of each row of ``x`` over ``half`` bins either side (a
    window of ``2 * half + 1``; beyond the ends the end values hold), by
    doubling: log2(window) passes of ``np.maximum`` over shifted views."""
    x = np.asarray(x)
    if half <= 0 or x.shape[-1] == 0:
        return x.copy()
    n = x.shape[-1]
    width = 2 * half + 1
    m = np.concatenate([np.repeat(x[..., :1], half, axis=-1), x,
                        np.repeat(x[..., -1:], half, axis=-1)], axis=-1)
    w = 1  # m[..., i] is the maximum of the padded row over [i, i + w)
    while 2 * w <= width:
        m = np.maximum(m[..., :-w], m[..., w:])
        w *= 2
    # [i, i + width) is covered by the two windows of w starting at i and at i + width - w
    return np.maximum(m[..., :n], m[..., width - w:width - w + n])


def _through_harmonics(lv: np.ndarray, fv: np.ndarray, *, n_bins: int, bin_hz: float,
                       nyquist_hz: float) -> np.ndarray:
    # flat indices and ``take``: the same values as 2-D fancy indexing, at half the cost
    n_rows = lv.shape[0]
    # 1. the envelope at every harmonic (a small (frames, harmonics) table)
    n_harm = int(np.ceil(nyquist_hz / fv.min())) + 2
    pos = np.minimum(np.arange(1, n_harm + 1)[None, :] * (fv[:, None] / bin_hz), n_bins - 1)
    i = pos.astype(np.int64)
    w = pos - i
    base = (np.arange(n_rows) * n_bins)[:, None]
    flat = lv.reshape(-1)
    w = w.astype(np.float32)
    at_harm = flat.take(i + base) * (1 - w) + flat.take(np.minimum(i + 1, n_bins - 1) + base) * w
    # 2. every bin between its two harmonics (below the first: the first)
    x = np.clip(np.arange(n_bins)[None, :] * (bin_hz / fv[:, None]), 1.0, n_harm - 1e-9)
    k = x.astype(np.int64)
    frac = (x - k).astype(np.float32)
    k += (np.arange(n_rows) * n_harm)[:, None]
    harm = at_harm.reshape(-1)
    return harm.take(k - 1) * (1 - frac) + harm.take(k) * frac


def _median(x: np.ndarray) -> float:
    """``np.median`` of a non-empty 1-D array, to the bit, without ``np.median``'s
    NaN check (which imports ``numpy.ma``, 20 ms of a one-note render)."""
    n = x.size
    part = np.partition(x, [(n - 1) // 2, n // 2])
    return float((part[(n - 1) // 2] + part[n // 2]) / 2.0)


def compress_log_gain(log_gain: np.ndarray, mask: np.ndarray, *, ratio: float,
                      smooth_frames: int) -> np.ndarray:
    """A gain curve (natural log amplitude, per frame) that compresses the slow
    level changes of ``log_gain`` over the ``mask`` frames towards their median by
    ``ratio`` (0.5 halves every distance in dB; 1 changes nothing).

    The level is smoothed over ``smooth_frames`` within the masked frames and
    held across the others, so consonants and rests move with their vowels and
    the fast contrasts (consonant against vowel) stay as they were.
    """
    g = np.asarray(log_gain, dtype=np.float64)
    m = np.asarray(mask, dtype=bool)
    if not np.any(m) or ratio == 1.0:
        return np.zeros_like(g)
    idx = np.arange(len(g))
    level = np.interp(idx, idx[m], g[m])
    if smooth_frames > 1:
        k = np.hanning(smooth_frames + 2)[1:-1]
        k /= k.sum()
        pad = smooth_frames
        padded = np.concatenate([np.full(pad, level[0]), level, np.full(pad, level[-1])])
        level = np.convolve(padded, k, mode="same")[pad:-pad]
    ref = _median(g[m])
    return (ratio - 1.0) * (level - ref)
