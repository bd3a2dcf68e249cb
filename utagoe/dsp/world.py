"""The WORLD vocoder. The only module that imports pyworld."""
from __future__ import annotations

import numpy as np


def world_fft_size(*, sample_rate_hz: int) -> int:
    """The FFT size WORLD's CheapTrick uses at this rate (2048 at 48 kHz)."""
    import pyworld

    return int(pyworld.get_cheaptrick_fft_size(sample_rate_hz))


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
