"""The WORLD vocoder. The only module that imports pyworld."""
from __future__ import annotations

import math

import numpy as np


def pyworld_version() -> str:
    """The installed pyworld's version (part of cache keys of stored analyses)."""
    import pyworld

    return str(getattr(pyworld, "__version__", "unknown"))


#: pyworld's default F0 floor, from which CheapTrick's FFT size follows
WORLD_F0_FLOOR_HZ = 71.0


def world_fft_size(*, sample_rate_hz: int) -> int:
    """The FFT size WORLD's CheapTrick uses at this rate with pyworld's default F0
    floor (2048 at 48 kHz): the power of two above three periods of the floor,
    ``2 ** (1 + floor(log2(3 * rate / floor + 1)))``. Computed here rather than
    asked of pyworld, whose import (about 70 ms) a render through our own vocoder
    does not need; a test holds it to pyworld's answer."""
    return int(2 ** (1 + int(math.log(3.0 * sample_rate_hz / WORLD_F0_FLOOR_HZ + 1.0) / math.log(2.0))))


def world_synthesize(f0_hz: np.ndarray, power_envelope: np.ndarray, aperiodicity: np.ndarray, *,
                     sample_rate_hz: int, frame_period_s: float) -> np.ndarray:
    """Waveform from per-frame F0 (0 = unvoiced), power spectral envelope and
    aperiodicity (both (frames, fft_size // 2 + 1)). Returns float64 samples."""
    import pyworld

    f0 = np.ascontiguousarray(f0_hz, dtype=np.float64)
    sp = np.ascontiguousarray(power_envelope, dtype=np.float64)
    ap = np.ascontiguousarray(aperiodicity, dtype=np.float64)
    if not (len(f0) == sp.shape[0] == ap.shape[0]):
        raise ValueError(f"frame counts differ: f0 {len(f0)}, envelope {sp.shape[0]}, aperiodicity {ap.shape[0]}")
    return pyworld.synthesize(f0, sp, ap, int(sample_rate_hz), frame_period_s * 1000.0)


def harvest_f0_hz(samples: np.ndarray, *, sample_rate_hz: int, frame_period_s: float,
                  f0_floor_hz: float = 70.0, f0_ceil_hz: float = 1100.0) -> np.ndarray:
    """F0 track (0 = unvoiced) of a mono signal, one value per frame."""
    import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, _ = pyworld.harvest(x, sample_rate_hz, f0_floor=f0_floor_hz, f0_ceil=f0_ceil_hz,
                            frame_period=frame_period_s * 1000.0)
    return f0


# --------------------------------------------------------------------------- analysis


def _writable(a: np.ndarray) -> np.ndarray:
    """A C-contiguous, writable float64 array (pyworld's buffers must be writable)."""
    return np.require(a, dtype=np.float64, requirements=["C", "W"])


def _time_axis_s(n_frames: int, *, frame_period_s: float) -> np.ndarray:
    return np.arange(n_frames, dtype=np.float64) * frame_period_s


def cheaptrick_envelope(samples: np.ndarray, f0_hz: np.ndarray, *, sample_rate_hz: int,
                        frame_period_s: float) -> np.ndarray:
    """WORLD's CheapTrick power spectral envelope, ``(frames, fft_size // 2 + 1)``
    with :func:`world_fft_size` bins, one frame per value of ``f0_hz`` (frame k at
    ``k * frame_period_s``; 0 = unvoiced)."""
    import pyworld

    x = _writable(samples)
    f0 = _writable(f0_hz)
    t = _time_axis_s(len(f0), frame_period_s=frame_period_s)
    return pyworld.cheaptrick(x, f0, t, int(sample_rate_hz),
                              fft_size=world_fft_size(sample_rate_hz=sample_rate_hz))


def d4c_aperiodicity(samples: np.ndarray, f0_hz: np.ndarray, *, sample_rate_hz: int,
                     frame_period_s: float, threshold: float = 0.85) -> np.ndarray:
    """WORLD's D4C aperiodicity (0 periodic .. 1 noise), shaped as
    :func:`cheaptrick_envelope`. Frames D4C judges unvoiced (its ``threshold``,
    WORLD's default 0.85) come out 1 at every bin."""
    import pyworld

    x = _writable(samples)
    f0 = _writable(f0_hz)
    t = _time_axis_s(len(f0), frame_period_s=frame_period_s)
    return pyworld.d4c(x, f0, t, int(sample_rate_hz), threshold=threshold,
                       fft_size=world_fft_size(sample_rate_hz=sample_rate_hz))


def code_aperiodicity(aperiodicity: np.ndarray, *, sample_rate_hz: int) -> np.ndarray:
    """WORLD's band coding of an aperiodicity: ``(frames, bands)`` in dB at 3 kHz
    steps (5 bands at 44.1 kHz). D4C itself estimates the aperiodicity on those
    bands, so :func:`decode_aperiodicity` gives it back to within ~0.1 dB."""
    import pyworld

    return pyworld.code_aperiodicity(_writable(aperiodicity),
                                     int(sample_rate_hz))


def decode_aperiodicity(coded: np.ndarray, *, sample_rate_hz: int) -> np.ndarray:
    """The aperiodicity ``(frames, fft_size // 2 + 1)`` (:func:`world_fft_size`) of
    a :func:`code_aperiodicity` coding."""
    import pyworld

    return pyworld.decode_aperiodicity(_writable(coded),
                                       int(sample_rate_hz),
                                       world_fft_size(sample_rate_hz=sample_rate_hz))
