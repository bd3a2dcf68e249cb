"""Mel-cepstrum to spectral envelope, and the HTS LPF stream to aperiodicity.

Mel-cepstrum (all-pass constant ``alpha``, gamma 0) describes a minimum-phase
filter ``H(z) = exp(sum_m c_m z~^-m)`` with the all-pass warped delay
``z~^-1 = (z^-1 - alpha) / (1 - alpha z^-1)``. On the unit circle
``z~^-1 = exp(-j beta(omega))`` with the warped frequency

    beta(omega) = omega + 2 atan(alpha sin(omega) / (1 - alpha cos(omega)))

so the log amplitude is exactly the cosine series
``log|H(omega)| = sum_m c_m cos(m beta(omega))``: one matrix product for all
frames. ``pysptk.mc2sp`` computes the same thing through ``freqt`` (a
truncated recursion back to the linear cepstrum) and an FFT; the results agree
to ~1e-12 relative (see tests/test_mcep.py).

Gain convention (for WORLD): :func:`mcep_to_power_envelope` returns
``|H(omega)|**2``. The HTS vocoder drives ``H`` with unit-power excitation
(pulses of height ``sqrt(period)``, unit-variance noise), and WORLD's
``synthesize`` treats its spectrogram the same way (each pulse is scaled by
``sqrt(period)``, noise has unit variance), so ``|H|**2`` *is* the spectrogram
``pyworld.synthesize`` expects, at the level of the HTS engine's output. HTS
voices are trained on 16-bit samples, so that level is int16 scale: divide
the power by ``INT16_FULL_SCALE**2`` (or subtract ``log(INT16_FULL_SCALE)``
from ``c_0``) for a float waveform in [-1, 1].
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "INT16_FULL_SCALE",
    "warped_frequency",
    "mcep_to_log_amplitude",
    "mcep_to_power_envelope",
    "emphasize_formants",
    "lpf_to_aperiodicity",
]

#: Full scale of the 16-bit samples HTS voices were trained on.
INT16_FULL_SCALE = 32768.0


def warped_frequency(omega: np.ndarray, *, alpha: float) -> np.ndarray:
    """Phase response of the first-order all-pass: radian frequency -> warped radian frequency."""
    omega = np.asarray(omega, dtype=np.float64)
    return omega + 2.0 * np.arctan2(alpha * np.sin(omega), 1.0 - alpha * np.cos(omega))


@lru_cache(maxsize=16)
def _cosine_matrix(order: int, alpha: float, fft_size: int) -> np.ndarray:
    omega = 2.0 * np.pi * np.arange(fft_size // 2 + 1) / fft_size
    beta = warped_frequency(omega, alpha=alpha)
    mat = np.cos(np.arange(order + 1)[:, None] * beta[None, :])
    mat.flags.writeable = False
    return mat


def _check(mcep: np.ndarray, alpha: float, fft_size: int) -> np.ndarray:
    mcep = np.asarray(mcep, dtype=np.float64)
    if mcep.ndim == 0 or mcep.shape[-1] == 0:
        raise ValueError("mcep must have at least one coefficient on its last axis")
    if not -1.0 < alpha < 1.0:
        raise ValueError(f"alpha must be within (-1, 1), got {alpha}")
    if fft_size < 2 or fft_size % 2:
        raise ValueError(f"fft_size must be a positive even number, got {fft_size}")
    return mcep


def mcep_to_log_amplitude(mcep: np.ndarray, *, alpha: float, fft_size: int,
                          dtype: type = np.float64) -> np.ndarray:
    """Natural-log amplitude ``log|H|`` at the ``fft_size//2 + 1`` bins of a real FFT.

    ``mcep`` is (..., order+1); the result is (..., fft_size//2 + 1), of
    ``dtype`` (float32: a single-precision product, half the time).
    """
    mcep = _check(mcep, alpha, fft_size)
    mat = _cosine_matrix(mcep.shape[-1] - 1, float(alpha), int(fft_size))
    if dtype != np.float64:
        return mcep.astype(dtype) @ mat.astype(dtype)
    return mcep @ mat


def mcep_to_power_envelope(mcep: np.ndarray, *, alpha: float, fft_size: int) -> np.ndarray:
    """Power envelope ``|H|**2`` (..., fft_size//2 + 1), as ``pysptk.mc2sp`` returns.

    See the module docstring for the level (int16 scale for HTS voices) and
    how it maps onto ``pyworld.synthesize``'s spectrogram.
    """
    log_amp = mcep_to_log_amplitude(mcep, alpha=alpha, fft_size=fft_size)
    log_amp *= 2.0
    return np.exp(log_amp, out=log_amp)


def emphasize_formants(mcep: np.ndarray, *, beta: float, alpha: float,
                       energy_fft_size: int = 512) -> np.ndarray:
    """Mel-cepstra with their spectral detail deepened: coefficients 2 and up
    scaled by ``1 + beta`` (peaks higher, valleys deeper, in log amplitude),
    then ``c_0`` moved so each frame keeps its energy (the sum of ``|H|**2``
    over linear frequency). ``beta`` 0 returns a copy unchanged.

    Generated mel-cepstra are smoothed by the statistics they come from and
    sound muffled; deepening the detail is the usual remedy (a "postfilter").
    ``c_1`` (the overall tilt) is left alone, so the balance of low and high
    frequencies stays. ``mcep`` is (..., order+1).
    """
    mcep = _check(mcep, alpha, energy_fft_size)
    out = np.array(mcep, dtype=np.float64, copy=True)
    if beta == 0.0 or out.shape[-1] < 3:
        return out
    out[..., 2:] *= 1.0 + beta
    mat = _cosine_matrix(out.shape[-1] - 1, float(alpha), int(energy_fft_size))
    before = np.log(np.mean(np.exp(2.0 * (mcep @ mat)), axis=-1))
    after = np.log(np.mean(np.exp(2.0 * (out @ mat)), axis=-1))
    out[..., 0] += 0.5 * (before - after)
    return out


def lpf_to_aperiodicity(lpf: np.ndarray, *, fft_size: int, voiced: np.ndarray | None = None,
                        floor: float = 0.001, dtype: type = np.float64) -> np.ndarray:
    """WORLD band aperiodicity (T, fft_size//2 + 1) from the HTS LPF stream (T, n_taps).

    In voiced frames the HTS vocoder sends the pulse train through the FIR
    low-pass ``lpf`` (taps centred on ``c = (n_taps - 1) / 2``) and the noise
    through its complement ``delta[n - c] - lpf[n]``. With
    ``Z(omega) = sum_n lpf[n] exp(-j omega (n - c))`` the periodic amplitude is
    ``|Z|`` and the noise amplitude ``|1 - Z|``. WORLD instead splits the
    envelope's power into ``1 - ap**2`` periodic and ``ap**2`` aperiodic, so we
    keep HTS's ratio: ``ap = |1 - Z| / sqrt(|Z|**2 + |1 - Z|**2)``, clipped to
    ``[floor, 1]``. (HTS's total excitation power ``|Z|**2 + |1 - Z|**2`` dips
    by up to 3 dB around the cut-off; WORLD's does not.)

    Bins are at ``k * sample_rate / fft_size`` of the *voice's* sample rate.
    Unvoiced frames (``voiced`` False) get 1.0 everywhere. The result has
    ``dtype`` (float32 halves a vocoder's reading of it).
    """
    lpf = np.asarray(lpf, dtype=np.float64)
    if lpf.ndim != 2 or lpf.shape[1] == 0:
        raise ValueError(f"lpf must be (frames, taps), got shape {lpf.shape}")
    n_taps = lpf.shape[1]
    if fft_size < n_taps or fft_size % 2:
        raise ValueError(f"fft_size must be even and at least the {n_taps} taps, got {fft_size}")
    n_bins = fft_size // 2 + 1
    out: np.ndarray = np.ones((lpf.shape[0], n_bins), dtype=dtype)
    if lpf.shape[0] == 0:
        return out
    # the filter changes seldom (the built-in voice's never): one transform per run
    # of equal rows (np.unique would sort the rows, which costs more than it saves)
    starts = np.empty(lpf.shape[0], dtype=bool)
    starts[0] = True
    np.any(lpf[1:] != lpf[:-1], axis=1, out=starts[1:])
    rows = lpf[starts]
    inverse = np.cumsum(starts) - 1
    omega = 2.0 * np.pi * np.arange(n_bins) / fft_size
    centre = (n_taps - 1) / 2.0
    z = np.fft.rfft(rows, n=fft_size, axis=1) * np.exp(1j * omega * centre)[None, :]
    periodic = np.abs(z)
    noise = np.abs(1.0 - z)
    ap = noise / np.sqrt(periodic * periodic + noise * noise)
    np.clip(ap, floor, 1.0, out=ap)
    if len(rows) == 1:   # one filter for every frame (the built-in voices): no gather
        out[:] = ap[0].astype(dtype)
    else:
        out[:] = ap.astype(dtype)[inverse]
    if voiced is not None:
        voiced = np.asarray(voiced, dtype=bool).reshape(-1)
        if voiced.shape[0] != lpf.shape[0]:
            raise ValueError(f"voiced has {voiced.shape[0]} frames but lpf has {lpf.shape[0]}")
        out[~voiced] = 1.0
    return out
