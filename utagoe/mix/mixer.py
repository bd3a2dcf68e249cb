"""Mixing stems and keeping the peak in bounds. Pure functions over Audio.

Every function works sample by sample (the peak aside, which :func:`sample_peak`
measures and :func:`scale_to_peak` takes as a number), so a long song can be
mixed block by block, with the same samples as mixed whole.
"""
from __future__ import annotations

import math

import numpy as np

from ..audio import Audio
from ..model.units import db_to_gain
from .resample import resample  # noqa: F401  (re-exported: mixer.resample is its old home)


def place(audio: Audio, buffer: np.ndarray, *, start_sample: int) -> None:
    """Add ``audio`` (mono) into ``buffer`` at ``start_sample``; what falls outside is cut."""
    x = audio.samples[0]
    a, b = start_sample, start_sample + len(x)
    lo, hi = max(a, 0), min(b, len(buffer))
    if hi > lo:
        buffer[lo:hi] += x[lo - a:hi - a]


def pan_gains(pan: float) -> tuple[float, float]:
    """Left and right gains for ``pan`` in [-1, 1] (clamped), by the equal-power law:
    theta = (pan + 1) * pi / 4, left = cos(theta), right = sin(theta). Centre is
    cos(pi/4) = 0.7071 (-3 dB) on each side, hard left (1, 0), hard right (0, 1);
    left**2 + right**2 == 1 everywhere, so a track keeps its power wherever it sits."""
    p = min(max(float(pan), -1.0), 1.0)
    if p == -1.0:
        return 1.0, 0.0
    if p == 1.0:
        return 0.0, 1.0
    theta = (p + 1.0) * (math.pi / 4.0)
    return math.cos(theta), math.sin(theta)


def mix(stems: list[Audio], *, gains_db: list[float] | None = None,
        pans: list[float] | None = None, channels: int | None = None) -> Audio:
    """Sum stems of one sample rate (shorter ones padded with silence), in float64,
    returned as float32.

    ``gains_db``: one gain per stem. ``pans``: one pan per stem in [-1, 1]
    (:func:`pan_gains`, equal power). Stems must be mono or stereo.

    ``channels``: ``None`` chooses as before: stereo when any pan is off centre
    or any stem is stereo, mono otherwise (and one centred mono stem at 0 dB is
    returned as it is). ``2`` forces stereo: every mono stem is panned by its
    pan (a centred one at -3 dB each side), stereo stems are kept as they are.
    ``1`` forces mono: pans are ignored, mono stems are summed as they are and
    stereo stems contribute the mean of their two channels.

    Works sample by sample: a song mixed block by block gives the same samples
    as mixed whole (the channel count depends only on the arguments and the
    stems' channel counts, not on their samples).
    """
    if not stems:
        raise ValueError("nothing to mix")
    rate = stems[0].sample_rate
    if any(s.sample_rate != rate for s in stems):
        raise ValueError("stems must share one sample rate")
    if any(s.channels not in (1, 2) for s in stems):
        raise ValueError("stems must be mono or stereo")
    if channels not in (None, 1, 2):
        raise ValueError(f"channels must be None, 1 or 2, got {channels!r}")
    n = max(s.num_samples for s in stems)
    pans = list(pans) if pans is not None else [0.0] * len(stems)
    gains = list(gains_db) if gains_db is not None else [0.0] * len(stems)
    if len(pans) != len(stems) or len(gains) != len(stems):
        raise ValueError(f"{len(stems)} stems need as many gains and pans, got "
                         f"{len(gains)} gains and {len(pans)} pans")
    if channels is None:
        ch = 2 if any(p != 0 for p in pans) or any(s.channels == 2 for s in stems) else 1
    else:
        ch = channels
    if len(stems) == 1 and ch == 1 and stems[0].channels == 1:
        # one track: no sum to hold (a long song's float64 buffer would double the memory)
        g = float(db_to_gain(gains[0]))
        return stems[0] if g == 1.0 else Audio((stems[0].samples * g).astype(np.float32), rate)
    out = np.zeros((ch, n), dtype=np.float64)
    for s, g, p in zip(stems, gains, pans):
        x = s.samples * db_to_gain(g)
        if ch == 2 and s.channels == 1:
            left, right = pan_gains(p)
            out[0, : s.num_samples] += x[0] * left
            out[1, : s.num_samples] += x[0] * right
        elif ch == 1 and s.channels == 2:
            out[0, : s.num_samples] += (x[0] + x[1]) * 0.5
        else:
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
