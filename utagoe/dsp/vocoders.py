"""The vocoders a voice can sing through, by name (the one place they are listed).

* ``utagoe``: our vectorised source-filter vocoder (:mod:`utagoe.dsp.vocoder`),
  about a fifth of WORLD's time with the same pitch, envelope and level.
* ``world``: the WORLD vocoder (pyworld), the yardstick.
"""
from __future__ import annotations

import numpy as np

from ..errors import UnknownNameError

VOCODERS = ("utagoe", "world")


def check_vocoder(name: str) -> str:
    if name not in VOCODERS:
        raise UnknownNameError("vocoder", name, VOCODERS)
    return name


def vocode_frames(vocoder: str, f0_hz: np.ndarray, spectrogram: np.ndarray,
                  aperiodicity: np.ndarray, *, sample_rate_hz: int, frame_period_s: float,
                  seed: int) -> np.ndarray:
    """Samples from per-frame F0 (Hz, 0 = unvoiced), power spectrogram and
    aperiodicity (WORLD's layout) with the named vocoder. ``seed`` seeds the noise
    of vocoders that draw any (same inputs and seed: same samples)."""
    if vocoder == "world":
        from .world import world_synthesize

        return world_synthesize(f0_hz, spectrogram, aperiodicity, sample_rate_hz=sample_rate_hz,
                                frame_period_s=frame_period_s)
    if vocoder == "utagoe":
        from .vocoder import synthesize

        return synthesize(f0_hz, spectrogram, aperiodicity, sample_rate_hz=sample_rate_hz,
                          frame_period_s=frame_period_s, seed=seed)
    raise UnknownNameError("vocoder", vocoder, VOCODERS)
