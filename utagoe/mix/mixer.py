"""Mixing stems and keeping the peak in bounds. Pure functions over Audio."""
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


def mix(stems: list[Audio], *, gains_db: list[float] | None = None) -> Audio:
    """Sum stems of one sample rate (shorter ones padded with silence)."""
    if not stems:
        raise ValueError("nothing to mix")
    rate = stems[0].sample_rate
    if any(s.sample_rate != rate for s in stems):
        raise ValueError("stems must share one sample rate")
    n = max(s.num_samples for s in stems)
    ch = max(s.channels for s in stems)
    out = np.zeros((ch, n), dtype=np.float64)
    gains = gains_db or [0.0] * len(stems)
    for s, g in zip(stems, gains):
        out[:, : s.num_samples] += s.samples * db_to_gain(g)
    return Audio(out.astype(np.float32), rate)


def normalize_peak(audio: Audio, *, peak_dbfs: float) -> Audio:
    """Scale so the highest sample peak is exactly ``peak_dbfs`` (silence stays silence)."""
    peak = float(np.max(np.abs(audio.samples))) if audio.num_samples else 0.0
    if peak <= 0 or not np.isfinite(peak):
        return audio
    target = float(db_to_gain(peak_dbfs))
    return Audio((audio.samples * (target / peak)).astype(np.float32), audio.sample_rate)
