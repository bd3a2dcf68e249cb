"""Generated test signals, shared by the tests and the benchmarks.

Every function here is pure: the same arguments give the same array, and
whatever is random is drawn from a ``seed`` argument. Names carry their units
(``_hz``, ``_s``); nothing has a default sample rate. Spectral envelopes are
power spectra and aperiodicities ratios, both in WORLD's layout:
``(frames, fft_size // 2 + 1)``, bin k at ``k * sample_rate_hz / fft_size``.

Tests import this as ``import signals``: pytest puts ``tests/`` on ``sys.path``
when it loads ``tests/conftest.py`` (there is no ``tests/__init__.py``). The
benchmarks put ``tests/`` on ``sys.path`` themselves.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: (centre Hz, bandwidth Hz, gain) of the resonances of :func:`formant_envelope`
FORMANTS = ((700.0, 90.0, 1.0), (1200.0, 110.0, 0.6), (2600.0, 160.0, 0.25), (3500.0, 220.0, 0.15))


# --------------------------------------------------------------------------- grids


def bin_frequencies_hz(*, sample_rate_hz: int, fft_size: int) -> np.ndarray:
    """The centre frequency of each of the ``fft_size // 2 + 1`` bins of a real FFT."""
    return np.arange(fft_size // 2 + 1) * sample_rate_hz / fft_size


def frame_times_s(n_frames: int, *, frame_period_s: float) -> np.ndarray:
    """The time of each of ``n_frames`` frames, the first at 0."""
    return np.arange(n_frames) * frame_period_s


# --------------------------------------------------------------------------- waveforms


def sine(frequency_hz: float, *, duration_s: float, sample_rate_hz: int, amplitude: float = 1.0) -> np.ndarray:
    """``amplitude * sin(2 pi f t)`` sampled from t = 0 for ``duration_s`` (float64)."""
    t = np.arange(round(duration_s * sample_rate_hz)) / sample_rate_hz
    return amplitude * np.sin(2 * np.pi * frequency_hz * t)


# --------------------------------------------------------------------------- F0 curves


def f0_glide_hz(n_frames: int, *, start_hz: float, octaves: float) -> np.ndarray:
    """An F0 curve rising ``octaves`` octaves from ``start_hz``, linear in log
    frequency, over ``n_frames`` frames (the last frame just short of the top)."""
    return start_hz * 2 ** (np.arange(n_frames) / n_frames * octaves)


# --------------------------------------------------------------------------- spectral envelopes


def formant_envelope(n_frames: int, *, sample_rate_hz: int, fft_size: int,
                     shift: np.ndarray | None = None) -> np.ndarray:
    """Power envelope of a vowel: the four resonances of :data:`FORMANTS` over a
    spectral tilt (-6 dB/octave above 4 kHz) and a floor, at about -20 dBFS.

    ``shift`` (n_frames,) scales every formant frequency of each frame (1: as listed).
    """
    freqs_hz = bin_frequencies_hz(sample_rate_hz=sample_rate_hz, fft_size=fft_size)
    shift = np.ones(n_frames) if shift is None else np.asarray(shift)
    env = np.zeros((n_frames, freqs_hz.size))
    for centre_hz, bandwidth_hz, gain in FORMANTS:
        env += gain / (1.0 + ((freqs_hz[None, :] - centre_hz * shift[:, None]) / (bandwidth_hz / 2)) ** 2)
    env *= 1.0 / (1.0 + (freqs_hz / 4000.0) ** 2)[None, :]
    return (env + 1e-4) * 2e-2


def hiss_envelope(n_frames: int, *, sample_rate_hz: int, fft_size: int, peak_hz: float = 6000.0) -> np.ndarray:
    """Power envelope of a fricative: a broad hump peaking at ``peak_hz``, the same every frame."""
    x = bin_frequencies_hz(sample_rate_hz=sample_rate_hz, fft_size=fft_size) / peak_hz
    return np.tile(3e-3 * x ** 2 / (1 + x ** 4) + 1e-9, (n_frames, 1))


def voiced_aperiodicity(n_frames: int, *, sample_rate_hz: int, fft_size: int,
                        noise_above_hz: float = 5000.0) -> np.ndarray:
    """Aperiodicity of a sung vowel: periodic (0.001) below ``noise_above_hz``,
    noise (1) above it, a logistic step 600 Hz wide between; the same every frame."""
    freqs_hz = bin_frequencies_hz(sample_rate_hz=sample_rate_hz, fft_size=fft_size)
    ap = np.clip(1.0 / (1.0 + np.exp(-(freqs_hz - noise_above_hz) / 600.0)), 0.001, 1.0)
    return np.tile(ap, (n_frames, 1))


def broad_formant_log_amplitude(*, sample_rate_hz: int, fft_size: int, centre_hz: float = 800.0,
                                width_hz: float = 600.0) -> np.ndarray:
    """One broad formant as a log amplitude (natural log) per bin: a parabola
    peaking at 0 on ``centre_hz``, -1/4 at ``width_hz`` from it."""
    freqs_hz = bin_frequencies_hz(sample_rate_hz=sample_rate_hz, fft_size=fft_size)
    return -((freqs_hz - centre_hz) / width_hz) ** 2 / 4


def harmonic_ripple_log_amplitude(f0_hz: float, *, sample_rate_hz: int, fft_size: int,
                                  depth: float = 1.5) -> np.ndarray:
    """The ripple a harmonic analysis leaves in an envelope, as a log amplitude
    per bin: ``depth * cos(2 pi f / f0)``, peaks on the harmonics of ``f0_hz``."""
    freqs_hz = bin_frequencies_hz(sample_rate_hz=sample_rate_hz, fft_size=fft_size)
    return depth * np.cos(2 * np.pi * freqs_hz / f0_hz)


# --------------------------------------------------------------------------- vocoder inputs (F0, envelope, aperiodicity)


def sung_vocoder_inputs(*, sample_rate_hz: int, fft_size: int, frame_period_s: float, duration_s: float,
                        onset_s: float, glide_end_s: float, vibrato_end_s: float, hiss_end_s: float,
                        held_end_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f0_hz, power_envelope, aperiodicity) of a short sung line, frame by frame.

    Near silence until ``onset_s``; an octave glide from 220 Hz up to
    ``glide_end_s``; vibrato (5.5 Hz, +-50 cents) around 330 Hz up to
    ``vibrato_end_s``; an unvoiced hiss up to ``hiss_end_s``; 262 Hz held up to
    ``held_end_s``; unvoiced to ``duration_s``. The formants drift by +-8% at
    0.7 Hz throughout; voiced frames get :func:`voiced_aperiodicity`, the others 1.
    """
    n = round(duration_s / frame_period_s)
    t = frame_times_s(n, frame_period_s=frame_period_s)
    f0 = np.zeros(n)
    glide = (t >= onset_s) & (t < glide_end_s)
    f0[glide] = 220.0 * 2 ** ((t[glide] - onset_s) / (glide_end_s - onset_s))
    vibrato = (t >= glide_end_s) & (t < vibrato_end_s)
    f0[vibrato] = 330.0 * 2 ** (50 / 1200 * np.sin(2 * np.pi * 5.5 * (t[vibrato] - glide_end_s)))
    held = (t >= hiss_end_s) & (t < held_end_s)
    f0[held] = 262.0
    sp = formant_envelope(n, sample_rate_hz=sample_rate_hz, fft_size=fft_size,
                          shift=1.0 + 0.08 * np.sin(2 * np.pi * 0.7 * t))
    sp[t < onset_s] *= 1e-4
    hiss = (t >= vibrato_end_s) & (t < hiss_end_s)
    sp[hiss] = hiss_envelope(int(hiss.sum()), sample_rate_hz=sample_rate_hz, fft_size=fft_size)
    ap = np.ones_like(sp)
    ap[f0 > 0] = voiced_aperiodicity(int((f0 > 0).sum()), sample_rate_hz=sample_rate_hz, fft_size=fft_size)
    return f0, sp, ap


def random_vocoder_inputs(n_frames: int, *, seed: int, sample_rate_hz: int,
                          fft_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f0_hz, power_envelope, aperiodicity): about 70% of frames voiced at a
    random F0 in 80-900 Hz (jumping every frame), the formant envelope, and a
    uniformly random aperiodicity per bin."""
    rng = np.random.default_rng(seed)
    f0 = np.where(rng.random(n_frames) > 0.3, rng.uniform(80, 900, n_frames), 0.0)
    sp = formant_envelope(n_frames, sample_rate_hz=sample_rate_hz, fft_size=fft_size)
    ap = rng.random(sp.shape)
    return f0, sp, ap


def voicing_bursts(n_frames: int, *, seed: int, sample_rate_hz: int,
                   fft_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f0_hz, power_envelope, aperiodicity): runs of 6-13 frames, each at random
    one of a loud voiced burst (10x :func:`formant_envelope`, F0 150-600 Hz),
    a hiss (:func:`hiss_envelope`) or silence (-90 dB)."""
    rng = np.random.default_rng(seed)
    f0 = np.zeros(n_frames)
    sp = np.full((n_frames, fft_size // 2 + 1), 1e-9)
    pos = 0
    while pos < n_frames:
        run = int(rng.integers(6, 14))
        kind = int(rng.integers(0, 3))
        if kind == 0:
            f0[pos:pos + run] = rng.uniform(150, 600)
            sp[pos:pos + run] = formant_envelope(1, sample_rate_hz=sample_rate_hz, fft_size=fft_size) * 10
        elif kind == 1:
            sp[pos:pos + run] = hiss_envelope(1, sample_rate_hz=sample_rate_hz, fft_size=fft_size)
        pos += run
    ap = np.where(f0[:, None] > 0, voiced_aperiodicity(1, sample_rate_hz=sample_rate_hz, fft_size=fft_size), 1.0)
    return f0, sp, ap


# --------------------------------------------------------------------------- HTS-style parameters


def random_mel_cepstrum(n_frames: int, *, order: int, seed: int) -> np.ndarray:
    """(n_frames, order + 1) mel-cepstra shaped like speech: a gain term c0 in
    [-3, 6) and coefficients drawn from N(0, 1) decaying as 0.8^m."""
    rng = np.random.default_rng(seed)
    decay = 0.8 ** np.arange(order + 1)
    mc = rng.normal(0.0, 1.0, (n_frames, order + 1)) * decay
    mc[:, 0] = rng.uniform(-3.0, 6.0, n_frames)
    return mc


def windowed_sinc_lowpass(n_taps: int, *, cutoff_hz: float, sample_rate_hz: int) -> np.ndarray:
    """A linear-phase low-pass FIR filter (Hamming-windowed sinc, unit DC gain),
    as the HTS LPF stream carries one per frame."""
    cutoff = cutoff_hz / sample_rate_hz
    k = np.arange(n_taps) - (n_taps - 1) / 2
    h = 2 * cutoff * np.sinc(2 * cutoff * k) * np.hamming(n_taps)
    return h / h.sum()


def count_clicks(x: np.ndarray, rate: int) -> int:
    """Samples whose second difference stands far above its own local level
    (a discontinuity, not a loud or noisy passage)."""
    d2 = np.abs(np.diff(x, 2))
    win = int(0.02 * rate)
    local = np.sqrt(np.convolve(d2 ** 2, np.ones(win) / win, mode="same"))
    return int(np.sum(d2 > 12 * local + 0.01))


def count_sharp_steps(x: np.ndarray, rate: int) -> int:
    """Events where a sample's step (first difference) stands 12 times above the
    steps' RMS over the 20 ms around it (its own 2 ms left out) and above 0.01:
    a click, or a pulse so sharp and lonely that it sounds like one (a voice far
    below its model's pitch, ringing for a millisecond in a 10 ms period)."""
    d = np.diff(np.asarray(x, dtype=np.float64))
    cs = np.concatenate([[0.0], np.cumsum(d * d)])
    wide, narrow = int(0.010 * rate), int(0.001 * rate)
    i = np.arange(len(d))
    lo, hi = np.clip(i - wide, 0, len(d)), np.clip(i + wide + 1, 0, len(d))
    lo2, hi2 = np.clip(i - narrow, 0, len(d)), np.clip(i + narrow + 1, 0, len(d))
    around = (cs[hi] - cs[lo] - (cs[hi2] - cs[lo2])) / np.maximum((hi - lo) - (hi2 - lo2), 1)
    sharp = np.flatnonzero((np.abs(d) > 12.0 * np.sqrt(around + 1e-12)) & (np.abs(d) > 0.01))
    # steps within 3 ms of each other are one event
    return int(len(sharp) and 1 + np.count_nonzero(np.diff(sharp) > int(0.003 * rate)))


def mid_note_cents(f0_hz: np.ndarray, spans: list[tuple[float, float, float]], *,
                   frame_period_s: float = 0.005, keep: float = 0.6) -> list[np.ndarray]:
    """For each ``(start_s, end_s, midi)`` the cents from the note's pitch of the
    voiced frames in its middle ``keep`` part (the scorecard's mid-note frames)."""
    out = []
    for s, e, midi in spans:
        d = (e - s) * (1 - keep) / 2
        seg = f0_hz[int((s + d) / frame_period_s):int((e - d) / frame_period_s)]
        seg = seg[seg > 0]
        out.append((12 * np.log2(seg / 440.0) + 69 - midi) * 100)
    return out


def note_spans(project, track: int = 0) -> list[tuple[float, float, float]]:
    """``(start_s, end_s, midi)`` of every note of the project's track ``track``."""
    ax = project.time_axis()
    return [(ax.tick_to_seconds(n.start_ticks), ax.tick_to_seconds(n.end_ticks), n.pitch)
            for n in project.tracks[track].notes]


@dataclass(frozen=True)
class PitchCheck:
    """How sung audio keeps to its notes (the scorecard's pitch figures)."""

    #: share of the voiced mid-note frames within 50 cents of their note
    within_50c: float
    #: the largest |median| of a note's mid-note frames, cents
    worst_median_cents: float
    #: the smallest share of a note's mid-note frames that are voiced
    least_voiced: float


def pitch_check(x: np.ndarray, rate: int, spans: list[tuple[float, float, float]], *,
                keep: float = 0.6) -> PitchCheck:
    """Track the pitch of ``x`` (WORLD's Harvest, 5 ms) and judge each note's middle
    ``keep`` part against its pitch."""
    from utagoe.dsp.world import harvest_f0_hz

    f0 = harvest_f0_hz(np.asarray(x, dtype=np.float64), sample_rate_hz=rate, frame_period_s=0.005)
    cents = mid_note_cents(f0, spans, keep=keep)
    voiced = []
    for (s, e, _), c in zip(spans, cents):
        d = (e - s) * (1 - keep) / 2
        frames = max(1, int((e - d) / 0.005) - int((s + d) / 0.005))
        voiced.append(len(c) / frames)
    allc = np.concatenate(cents) if cents else np.zeros(0)
    return PitchCheck(float(np.mean(np.abs(allc) < 50)) if len(allc) else 0.0,
                      max((abs(float(np.median(c))) for c in cents if len(c)), default=float("inf")),
                      min(voiced, default=0.0))
