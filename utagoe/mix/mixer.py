"""Mixing stems and keeping the peak in bounds. Pure functions over Audio.

Every function works sample by sample (the peak aside, which :func:`sample_peak`
measures and :func:`scale_to_peak` takes as a number), so a long song can be
mixed block by block, with the same samples as mixed whole.
"""
from __future__ import annotations

import numpy as np

from ..audio import Audio
from ..model.units import db_to_gain


def place(audio: Audio, buffer: np.ndarray, *, start_sample: int) -> None:
    """Add ``audio`` (mono) into ``buffer`` at ``start_sample``; what falls outside is cut."""
    x = audio.samples[0]
    a, b = start_sample, start_sample + len(x)
    lo, hi = max(a, 0), min(b, len(buffer))
    if hi > lo:
        buffer[lo:hi] += x[lo - a:hi - a]


def resample(audio: Audio, *, sample_rate_hz: int) -> Audio:
    if audio.sample_rate == sample_rate_hz:
        return audio
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(audio.sample_rate, sample_rate_hz)
    y = resample_poly(audio.samples, sample_rate_hz // g, audio.sample_rate // g, axis=1)
    return Audio(y.astype(np.float32), sample_rate_hz)


def pan_gains(pan: float) -> tuple[float, float]:
    """Left and right gains for ``pan`` in [-1, 1] (balance law: centre is 1, 1)."""
    p = min(max(float(pan), -1.0), 1.0)
    return min(1.0, 1.0 - p), min(1.0, 1.0 + p)


def mix(stems: list[Audio], *, gains_db: list[float] | None = None,
        pans: list[float] | None = None) -> Audio:
    """Sum stems of one sample rate (shorter ones padded with silence).

    ``gains_db``: one gain per stem. ``pans``: one pan per stem in [-1, 1]; when
    any is off centre the mix is stereo (mono stems are panned, stereo ones kept).
    """
    if not stems:
        raise ValueError("nothing to mix")
    rate = stems[0].sample_rate
    if any(s.sample_rate != rate for s in stems):
        raise ValueError("stems must share one sample rate")
    n = max(s.num_samples for s in stems)
    pans = list(pans) if pans is not None else [0.0] * len(stems)
    stereo = any(p != 0 for p in pans)
    gains = gains_db or [0.0] * len(stems)
    if len(stems) == 1 and not stereo:
        # one track: no sum to hold (a long song's float64 buffer would double the memory)
        g = float(db_to_gain(gains[0]))
        return stems[0] if g == 1.0 else Audio((stems[0].samples * g).astype(np.float32), rate)
    ch = 2 if stereo else max(s.channels for s in stems)
    out = np.zeros((ch, n), dtype=np.float64)
    for s, g, p in zip(stems, gains, pans):
        x = s.samples * db_to_gain(g)
        if stereo and s.channels == 1:
            left, right = pan_gains(p)
            x = np.vstack([x[0] * left, x[0] * right])
        out[:, : s.num_samples] += x
    return Audio(out.astype(np.float32), rate)


def sample_peak(audio: Audio) -> float:
    """The highest absolute sample (0.0 for no samples; NaN if any sample is NaN)."""
    return float(np.max(np.abs(audio.samples))) if audio.num_samples else 0.0


def scale_to_peak(audio: Audio, *, peak: float, peak_dbfs: float) -> Audio:
    """Scale ``audio`` so that ``peak`` (the highest sample of the whole of which
    ``audio`` may be one block) lands exactly on ``peak_dbfs``; a peak of 0 (silence)
    or not finite leaves it as it is. Per sample, so a song scaled block by block
    gives the same samples as scaled whole."""
    if peak <= 0 or not np.isfinite(peak):
        return audio
    target = float(db_to_gain(peak_dbfs))
    return Audio((audio.samples * (target / peak)).astype(np.float32), audio.sample_rate)


def normalize_peak(audio: Audio, *, peak_dbfs: float) -> Audio:
    """Scale so the highest sample peak is exactly ``peak_dbfs`` (silence stays silence)."""
    return scale_to_peak(audio, peak=sample_peak(audio), peak_dbfs=peak_dbfs)
