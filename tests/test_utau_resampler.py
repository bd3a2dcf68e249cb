"""Our UTAU resampler (utagoe.voices.utau.resampler) and the analysis cache
(utagoe.voices.utau.analysis).

The synthetic sample is made here with WORLD: 50 ms of near silence, a 100 ms
hiss (an unvoiced consonant), then a 700 ms vowel at 220 Hz with a slow
vibrato of +-15 cents, the formants of tests/signals.py, some breath above
1 kHz, and a level falling 4 dB over the vowel. Its oto region starts at the hiss (offset 50 ms), its fixed region ends
30 ms into the vowel (consonant 130 ms) and it ends at 830 ms (cutoff -780 ms).
The outputs are judged by what they sound like: their F0 and envelope analysed
again, their spectra, their level; the real Iona and ALYS samples
(../shared/data) are sung at C4, A4 and E3.
"""
from __future__ import annotations

import itertools
import math
import os
import pickle
import time
from pathlib import Path

import numpy as np
import pytest
import signals
import soundfile

from utagoe.dsp.world import cheaptrick_envelope, harvest_f0_hz, world_synthesize
from utagoe.errors import InvalidValueError, VoiceError
from utagoe.voices.utau import analysis as analysis_module
from utagoe.voices.utau.analysis import (
    ANALYSIS_RATE_HZ,
    FRAME_PERIOD_S,
    MAX_SAMPLE_S,
    AnalysisCache,
    SampleAnalysis,
    analyse_samples,
    default_cache_folder,
    read_sample,
)
from utagoe.voices.utau.resampler import (
    ResampleError,
    ResampleRequest,
    parse_flags,
    resample,
    source_times_ms,
)

FS = ANALYSIS_RATE_HZ
FFT = 2048
FRAME_MS = 1000 * FRAME_PERIOD_S
FREQS = signals.bin_frequencies_hz(sample_rate_hz=FS, fft_size=FFT)

# the synthetic sample's timeline (ms) and its oto entry
HISS_MS = (50.0, 150.0)
VOWEL_MS = (150.0, 850.0)
SOURCE_HZ = 220.0
OFFSET_MS, CONSONANT_MS, CUTOFF_MS = 50.0, 130.0, -780.0
VOWEL_IN_REGION_MS = 830.0 - (OFFSET_MS + CONSONANT_MS)   # 650 ms of vowel after the fixed region


#: the vowel grows this much quieter from its start to its end (so a loop would jump)
VOWEL_FADE_DB = 4.0
#: a glottal source's low-frequency hump under the formants (a voice's fundamental is strong)
GLOTTAL = 0.15 / (1.0 + (FREQS / 250.0) ** 2)


def synthetic_sample(*, seed_hz: float = SOURCE_HZ, vibrato_cents: float = 15.0) -> np.ndarray:
    """The synthetic sample (float64 at FS), see the module documentation; the
    vowel's envelope is :func:`signals.formant_envelope` plus :data:`GLOTTAL`."""
    n = 180  # 900 ms
    t_ms = np.arange(n) * FRAME_MS
    vowel = (t_ms >= VOWEL_MS[0]) & (t_ms < VOWEL_MS[1])
    hiss = (t_ms >= HISS_MS[0]) & (t_ms < HISS_MS[1])
    f0 = np.where(vowel, seed_hz * 2 ** (vibrato_cents / 1200 * np.sin(2 * np.pi * 5.5 * t_ms / 1000)), 0.0)
    vowel_env = signals.formant_envelope(1, sample_rate_hz=FS, fft_size=FFT)[0] + GLOTTAL * 2e-2
    sp = np.tile(vowel_env * 1e-4, (n, 1))
    fade_db = -VOWEL_FADE_DB * (t_ms[vowel] - VOWEL_MS[0]) / (VOWEL_MS[1] - VOWEL_MS[0])
    sp[vowel] = vowel_env[None, :] * 10 ** (fade_db / 10)[:, None]
    sp[hiss] = signals.hiss_envelope(int(hiss.sum()), sample_rate_hz=FS, fft_size=FFT)
    breath = np.maximum(signals.voiced_aperiodicity(1, sample_rate_hz=FS, fft_size=FFT)[0],
                        np.where(FREQS > 1000, 0.3, 0.01))
    ap = np.where(vowel[:, None], breath[None, :], 1.0)
    return world_synthesize(f0, sp, ap, sample_rate_hz=FS, frame_period_s=FRAME_PERIOD_S)


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    return synthetic_sample()


@pytest.fixture(scope="module")
def analysed(sample) -> SampleAnalysis:
    return analyse_samples(sample, sample_rate_hz=FS)


def request(length_ms: float, **kw) -> ResampleRequest:
    return ResampleRequest(offset_ms=OFFSET_MS, consonant_ms=CONSONANT_MS, cutoff_ms=CUTOFF_MS,
                           length_ms=length_ms, **kw)


def steady(length_ms: float, hz: float) -> np.ndarray:
    return np.full(math.ceil(length_ms / FRAME_MS) + 1, hz)


def sing(analysed, length_ms: float, hz: float = SOURCE_HZ, **kw) -> np.ndarray:
    return resample(analysed, request(length_ms, **kw), steady(length_ms, hz)).astype(np.float64)


def f0_of(x: np.ndarray) -> np.ndarray:
    return harvest_f0_hz(x, sample_rate_hz=FS, frame_period_s=FRAME_PERIOD_S)


def vowel_frames(n_frames: int, *, length_ms: float, start_ms: float = CONSONANT_MS + 30.0,
                 end_margin_ms: float = 30.0) -> np.ndarray:
    t = np.arange(n_frames) * FRAME_MS
    return (t >= start_ms) & (t < length_ms - end_margin_ms)


def band_energy_ratio(x: np.ndarray, f0_hz: float, *, lo_hz: float, hi_hz: float) -> float:
    """Energy between the harmonics of ``f0_hz`` over energy on them, in lo..hi Hz
    (a noise-to-harmonics ratio; the signal's F0 must be steady)."""
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / FS)
    band = (freqs >= lo_hz) & (freqs < hi_hz)
    dist = np.abs(freqs / f0_hz - np.round(freqs / f0_hz)) * f0_hz
    on = band & (dist < f0_hz * 0.1)
    off = band & (dist > f0_hz * 0.25)
    return float(spec[off].mean() / spec[on].mean())


# --------------------------------------------------------------------------- length, determinism


@pytest.mark.parametrize("length_ms", [0.0, 3.0, 5.0, 15.0, 137.2, 517.3, 1234.5])
@pytest.mark.parametrize("velocity", [0.0, 100.0, 200.0])
def test_the_output_length_is_exact(analysed, length_ms, velocity):
    y = resample(analysed, request(length_ms, velocity_pct=velocity), steady(length_ms, 300.0))
    assert y.dtype == np.float32 and y.ndim == 1
    assert len(y) == round(length_ms * FS / 1000)
    assert np.all(np.isfinite(y))


def test_exactly_the_frames_asked_for_are_enough(analysed):
    length_ms = 517.3
    y = resample(analysed, request(length_ms), np.full(math.ceil(length_ms / FRAME_MS), 300.0))
    assert len(y) == round(length_ms * FS / 1000)
    with pytest.raises(InvalidValueError, match="at least 104 values"):
        resample(analysed, request(length_ms), np.full(103, 300.0))


def test_same_input_same_bytes(analysed):
    a = resample(analysed, request(900.0, flags="g-20B70"), steady(900.0, 330.0))
    b = resample(analysed, request(900.0, flags="g-20B70"), steady(900.0, 330.0))
    assert a.tobytes() == b.tobytes()


def test_only_the_output_frames_are_synthesised(analysed, monkeypatch):
    from utagoe.dsp import world

    seen = []
    real = world.world_synthesize

    def spy(f0_hz, *args, **kw):
        seen.append(len(f0_hz))
        return real(f0_hz, *args, **kw)

    monkeypatch.setattr(world, "world_synthesize", spy)
    resample(analysed, request(500.0), steady(500.0, 300.0))
    assert seen == [math.ceil(500.0 * FS / 1000 / (FS * FRAME_PERIOD_S)) + 1]  # 101 frames for 100 asked


# --------------------------------------------------------------------------- pitch


def test_f0_follows_a_steady_and_a_gliding_target(analysed):
    length_ms = 1500.0
    n = math.ceil(length_ms / FRAME_MS) + 1
    glide = 200.0 * 2 ** (np.arange(n) / n)   # an octave up over the note
    for target in (np.full(n, 330.0), glide):
        y = resample(analysed, request(length_ms), target).astype(np.float64)
        f0 = f0_of(y)
        mid = vowel_frames(len(f0), length_ms=length_ms) & (f0 > 0)
        assert mid.sum() > 0.9 * vowel_frames(len(f0), length_ms=length_ms).sum()
        cents = 1200 * np.log2(f0[mid] / target[:len(f0)][mid])
        assert np.median(np.abs(cents)) < 5
        assert np.percentile(np.abs(cents), 95) < 20


def test_the_consonant_stays_unvoiced(analysed, monkeypatch):
    from utagoe.dsp import world

    sung = []
    real = world.world_synthesize

    def spy(f0_hz, *args, **kw):
        sung.append(np.array(f0_hz))
        return real(f0_hz, *args, **kw)

    monkeypatch.setattr(world, "world_synthesize", spy)
    for velocity in (0.0, 100.0, 200.0):
        sung.clear()
        resample(analysed, request(600.0, velocity_pct=velocity), steady(600.0, 330.0))
        hiss_ms = 100.0 * 2 ** ((100 - velocity) / 100)   # the hiss, after the offset point
        t = np.arange(len(sung[0])) * FRAME_MS
        assert np.all(sung[0][t < hiss_ms - 5] == 0)
        assert np.all(sung[0][(t > hiss_ms + 20) & (t < 560)] > 0)
    monkeypatch.undo()
    # the hiss is still there, as loud as in the sample (P0: no normalisation)
    y0 = sing(analysed, 600.0, 330.0, flags="P0")
    src = synthetic_sample()[int(0.065 * FS):int(0.135 * FS)]
    out = y0[int(0.015 * FS):int(0.085 * FS)]
    assert 0.7 < np.sqrt(np.mean(out ** 2)) / np.sqrt(np.mean(src ** 2)) < 1.4


def test_the_t_flag_is_in_cents(analysed):
    length_ms = 800.0
    for t_cents in (-100.0, 100.0, 250.0):
        f0 = f0_of(sing(analysed, length_ms, 300.0, flags=f"t{t_cents:+g}"))
        mid = vowel_frames(len(f0), length_ms=length_ms) & (f0 > 0)
        cents = 1200 * np.log2(f0[mid] / 300.0)
        assert abs(np.median(cents) - t_cents) < 5


def test_modulation_keeps_the_samples_own_movement(analysed):
    length_ms = 700.0  # natural speed: the source's vibrato (+-15 cents, 5.5 Hz) as it was

    def wobble(mod):
        f0 = f0_of(sing(analysed, length_ms, 300.0, modulation_pct=mod))
        mid = vowel_frames(len(f0), length_ms=length_ms) & (f0 > 0)
        cents = 1200 * np.log2(f0[mid] / 300.0)
        return np.std(cents), np.median(cents)

    flat, _ = wobble(0.0)
    full, full_median = wobble(100.0)
    half, _ = wobble(50.0)
    assert flat < 2.0
    assert 15 / math.sqrt(2) * 0.7 < full < 15 / math.sqrt(2) * 1.3   # a sine of +-15 cents
    assert 0.35 * full < half < 0.65 * full
    assert abs(full_median) < 5   # movement around the target, not a transposition


# --------------------------------------------------------------------------- timing


def test_velocity_shortens_and_lengthens_the_consonant(analysed):
    """The hiss lasts 100 ms in the sample: 200 ms at velocity 0, 50 ms at 200."""
    onsets = []
    hop = int(FRAME_PERIOD_S * FS)
    for velocity in (0.0, 50.0, 100.0, 150.0, 200.0):
        y = sing(analysed, 700.0, 300.0, velocity_pct=velocity, flags="P0")
        frames = y[:len(y) // hop * hop].reshape(-1, hop)
        spec = np.abs(np.fft.rfft(frames * np.hanning(hop), axis=1)) ** 2
        low = spec[:, np.fft.rfftfreq(hop, 1 / FS) < 1200].sum(axis=1)   # the vowel's F1, not the hiss
        onsets.append(np.argmax(low > 0.25 * np.median(low[-40:])) * FRAME_MS)
        expected = 100.0 * 2 ** ((100 - velocity) / 100)
        assert abs(onsets[-1] - expected) <= 15, (velocity, onsets)
    assert all(a > b for a, b in itertools.pairwise(onsets))


def test_the_time_map_plays_naturally_then_slows_smoothly():
    kw = {"start_ms": 100.0, "consonant_end_ms": 200.0, "end_ms": 500.0, "consonant_scale": 1.0}
    # shorter than the sample: natural speed throughout
    t = np.arange(0.0, 400.0, 5.0)
    assert np.allclose(source_times_ms(t, length_ms=400.0, **kw), 100.0 + t)
    # longer: natural speed at first, then slower, ending exactly at the region's end
    t = np.arange(0.0, 2001.0, 1.0)
    s = source_times_ms(t, length_ms=2000.0, **kw)
    speed = np.diff(s)
    assert np.allclose(s[:100], 100.0 + t[:100])
    assert abs(s[-1] - 500.0) < 1e-9
    assert np.all(speed[100:] > 0) and np.all(np.diff(speed[100:]) <= 1e-9)   # slows, never speeds up
    assert np.max(np.abs(np.diff(speed))) < 0.05   # smooth: no jump in speed after the consonant
    # velocity: the fixed region takes twice as long at 0, its speed halved
    s0 = source_times_ms(np.array([0.0, 100.0, 200.0]), length_ms=600.0,
                         **{**kw, "consonant_scale": 2.0})
    assert np.allclose(s0, [100.0, 150.0, 200.0])


def test_a_long_stretch_has_no_click_and_keeps_its_level(analysed):
    natural_ms = VOWEL_IN_REGION_MS + CONSONANT_MS
    natural = sing(analysed, natural_ms, 262.0, flags="P0")
    long = sing(analysed, 4000.0, 262.0, flags="P0")   # the vowel slowed about 6 times
    win = int(0.020 * FS)

    def level_db(x, lo_ms, hi_ms):
        seg = x[int(lo_ms * FS / 1000):int(hi_ms * FS / 1000)]
        seg = seg[:len(seg) // win * win].reshape(-1, win)
        return 10 * np.log10((seg ** 2).mean(axis=1))

    nat = level_db(natural, 250.0, natural_ms - 50.0)
    lng = level_db(long, 250.0, 3950.0)
    # no drop, no swell: the stretched vowel stays within the levels the sample has
    assert nat.min() - 1.5 < lng.min() and lng.max() < nat.max() + 1.5, (nat.min(), nat.max(), lng.min(), lng.max())
    # no jump: the level moves from window to window no more than at natural speed
    # (a loop back to the vowel's start would jump by the vowel's 4 dB fade)
    assert np.max(np.abs(np.diff(lng))) < np.max(np.abs(np.diff(nat))) + 0.5
    # no click: no sample-to-sample jump beyond what the natural-speed output has
    jump_nat = np.max(np.abs(np.diff(natural[int(0.25 * FS):])))
    jump_long = np.max(np.abs(np.diff(long[int(0.25 * FS):])))
    assert jump_long < 1.3 * jump_nat
    # the stretched vowel is still in tune
    f0 = f0_of(long)
    mid = vowel_frames(len(f0), length_ms=4000.0) & (f0 > 0)
    assert mid.sum() > 0.9 * vowel_frames(len(f0), length_ms=4000.0).sum()
    assert np.percentile(np.abs(1200 * np.log2(f0[mid] / 262.0)), 95) < 20


def test_a_shorter_note_stops_at_natural_speed(analysed):
    """The first 400 ms of a 400 ms note and of a 900 ms note are the same sound."""
    short = sing(analysed, 400.0, 262.0, flags="P0")
    long = sing(analysed, 600.0, 262.0, flags="P0")
    n = int(0.35 * FS)   # away from the end, where WORLD's last frame differs
    assert np.max(np.abs(short[:n] - long[:n])) < 1e-6


# --------------------------------------------------------------------------- formants and flags


def harmonic_levels_db(x: np.ndarray, f0_hz: float, *, hi_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies, dB) of the harmonics of a steady ``f0_hz`` up to ``hi_hz``."""
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / FS)
    ks = np.arange(1, int(hi_hz / f0_hz) + 1)
    levels = [spec[np.abs(freqs - k * f0_hz) < f0_hz / 4].max() for k in ks]
    return ks * f0_hz, 10 * np.log10(levels)


def test_formants_are_kept_when_the_pitch_moves_an_octave(analysed):
    """Sung an octave up or down, the harmonics still trace the sample's envelope
    (a pitch shift that moved the formants would be 5-10 dB off)."""
    source_db = 10 * np.log10(analysed.envelope[40:160].mean(axis=0))
    for hz in (110.0, 220.0, 440.0):
        y = sing(analysed, 800.0, hz)
        freqs, levels = harmonic_levels_db(y[int(0.25 * FS):int(0.75 * FS)], hz, hi_hz=4500.0)
        expected = np.interp(freqs, FREQS, source_db)
        err = levels - expected
        err -= err.mean()
        assert np.sqrt(np.mean(err ** 2)) < 2.0, (hz, np.round(err, 1))
        moved = np.interp(freqs / (hz / SOURCE_HZ), FREQS, source_db)   # formants moved with the pitch
        if hz != SOURCE_HZ:
            wrong = levels - moved
            assert np.sqrt(np.mean((wrong - wrong.mean()) ** 2)) > 4.0


def test_g_moves_the_formants_the_documented_way(analysed):
    """F1 (700 Hz) moves to 700 * 10 ** (-g / 200); the spectrum's centroid falls as g rises."""
    centroids = []
    for g in (-40.0, -20.0, 0.0, 20.0, 40.0):
        y = sing(analysed, 800.0, 110.0, flags=f"g{g:+g}")[int(0.25 * FS):int(0.75 * FS)]
        freqs, levels = harmonic_levels_db(y, 110.0, hi_hz=1600.0)
        f1 = freqs[np.argmax(levels)]
        assert abs(f1 - 700.0 * 10 ** (-g / 200)) <= 60.0, (g, f1)
        spec = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
        f = np.fft.rfftfreq(len(y), 1 / FS)
        band = f < 8000
        centroids.append(float((f[band] * spec[band]).sum() / spec[band].sum()))
    assert all(a > b for a, b in itertools.pairwise(centroids)), centroids   # positive g: lower


def test_B_raises_the_breath_noise_monotonically(analysed):
    length_ms = 1000.0
    ratios = []
    for b in (0, 25, 50, 75, 100):
        y = sing(analysed, length_ms, 262.0, flags=f"B{b}P0")
        seg = y[int(0.3 * FS):int(0.9 * FS)]
        ratios.append(band_energy_ratio(seg, 262.0, lo_hz=1500.0, hi_hz=5000.0))
    assert all(a < b for a, b in itertools.pairwise(ratios)), ratios
    assert ratios[-1] > 3 * ratios[2] and ratios[0] < ratios[2] / 3, ratios


def test_P_normalises_the_peak_and_intensity_scales_it(analysed):
    raw = sing(analysed, 700.0, 262.0, flags="P0")
    peak = np.max(np.abs(raw))
    full = sing(analysed, 700.0, 262.0, flags="P100")
    assert np.max(np.abs(full)) == pytest.approx(0.5, rel=1e-5)
    half = sing(analysed, 700.0, 262.0, flags="P50")
    assert np.max(np.abs(half)) == pytest.approx(0.5 * peak + 0.5 * 0.5, rel=1e-5)
    default = sing(analysed, 700.0, 262.0)
    assert np.max(np.abs(default)) == pytest.approx(0.14 * peak + 0.86 * 0.5, rel=1e-5)
    quiet = sing(analysed, 700.0, 262.0, flags="P100", intensity_pct=50.0)
    assert np.max(np.abs(quiet)) == pytest.approx(0.25, rel=1e-5)
    assert np.allclose(sing(analysed, 700.0, 262.0, flags="P0", intensity_pct=200.0), 2 * raw, atol=1e-6)


def test_parse_flags():
    f = parse_flags("g-5B40P86t10")
    assert dict(f) == {"g": -5.0, "B": 40.0, "P": 86.0, "t": 10.0} and f.unknown == ()
    f = parse_flags("Mt50 fe30 eg+12.5 Hb100 g B70 t-1300 P150 y!")
    assert dict(f) == {"g": 12.5, "B": 70.0, "t": -1200.0, "P": 100.0}
    assert f.unknown == ("Mt50", "fe30", "e", "Hb100", "g (no value)", "y", "!")
    assert dict(parse_flags("g10g-10")) == {"g": -10.0}   # the last one counts
    assert parse_flags("").value("P") == 86.0 and parse_flags("").value("B") == 50.0


def test_unknown_flags_change_nothing(analysed):
    a = resample(analysed, request(500.0), steady(500.0, 300.0))
    b = resample(analysed, request(500.0, flags="Mt50fe30H"), steady(500.0, 300.0))
    assert a.tobytes() == b.tobytes()


# --------------------------------------------------------------------------- bad requests


def test_a_region_outside_the_sample_is_refused(analysed):
    dur = analysed.duration_ms
    with pytest.raises(ResampleError, match="past the end"):
        resample(analysed, ResampleRequest(offset_ms=dur + 10, consonant_ms=0, cutoff_ms=0, length_ms=100),
                 steady(100, 300))
    with pytest.raises(ResampleError, match="region is empty"):
        resample(analysed, ResampleRequest(offset_ms=500, consonant_ms=0, cutoff_ms=dur - 400, length_ms=100),
                 steady(100, 300))
    assert issubclass(ResampleError, VoiceError)
    # a cutoff past the file's end is clamped to it
    y = resample(analysed, ResampleRequest(offset_ms=500, consonant_ms=0, cutoff_ms=-5000, length_ms=800),
                 steady(800, 300))
    assert len(y) == round(800 * FS / 1000) and np.all(np.isfinite(y))


@pytest.mark.parametrize("field,value", [("length_ms", -1.0), ("velocity_pct", 250.0), ("consonant_ms", -5.0),
                                         ("intensity_pct", float("nan")), ("offset_ms", float("inf"))])
def test_a_bad_request_names_its_field(field, value):
    kw = {"offset_ms": 0.0, "consonant_ms": 0.0, "cutoff_ms": 0.0, "length_ms": 100.0}
    kw[field] = value
    with pytest.raises(InvalidValueError, match=f"ResampleRequest.{field}"):
        ResampleRequest(**kw)


def test_a_bad_pitch_is_refused(analysed):
    for bad in (np.full(30, np.nan), np.full(30, 0.0), np.full((30, 2), 300.0)):
        with pytest.raises(InvalidValueError, match="f0_target_hz"):
            resample(analysed, request(100.0), bad)


# --------------------------------------------------------------------------- analysis


def test_analysis_finds_the_samples_pitch_and_voicing(analysed):
    assert analysed.sample_rate_hz == FS and analysed.frame_period_s == FRAME_PERIOD_S
    assert analysed.duration_ms == pytest.approx(900.0, abs=0.1)
    assert analysed.envelope.shape == analysed.aperiodicity.shape == (analysed.frames, FFT // 2 + 1)
    t = np.arange(analysed.frames) * FRAME_MS
    vowel = (t > VOWEL_MS[0] + 20) & (t < VOWEL_MS[1] - 20)
    hiss = (t > HISS_MS[0] + 10) & (t < HISS_MS[1] - 10)
    assert np.all(analysed.f0_hz[vowel] > 0) and np.all(analysed.f0_hz[hiss] == 0)
    assert np.median(np.abs(1200 * np.log2(analysed.f0_hz[vowel] / SOURCE_HZ))) < 12
    with pytest.raises(ValueError):
        analysed.envelope[0, 0] = 1.0   # handed out read-only


def test_analysis_of_other_rates_and_stereo(sample):
    rate = 48000
    from scipy.signal import resample_poly

    at48 = resample_poly(sample, 160, 147)
    stereo = np.stack([at48, at48 * 0.5], axis=1)
    a = analyse_samples(stereo, sample_rate_hz=rate)
    assert a.sample_rate_hz == FS
    assert a.duration_ms == pytest.approx(1000 * len(at48) / rate)
    t = np.arange(a.frames) * FRAME_MS
    vowel = (t > VOWEL_MS[0] + 20) & (t < VOWEL_MS[1] - 20)
    assert np.median(np.abs(1200 * np.log2(a.f0_hz[vowel] / SOURCE_HZ))) < 12


def test_analysis_refuses_what_is_not_a_sample():
    with pytest.raises(VoiceError, match="no audio"):
        analyse_samples(np.zeros(0), sample_rate_hz=FS)
    with pytest.raises(VoiceError, match="not finite"):
        analyse_samples(np.array([0.0, np.nan, 0.0]), sample_rate_hz=FS)
    with pytest.raises(VoiceError, match="at most 60 s"):
        analyse_samples(np.zeros(61 * 8000), sample_rate_hz=8000)
    with pytest.raises(InvalidValueError):
        analyse_samples(np.zeros(100), sample_rate_hz=0)


def test_silence_and_a_very_short_sample_are_analysed():
    for x in (np.zeros(4410), np.random.default_rng(0).normal(0, 0.1, 50)):
        a = analyse_samples(x, sample_rate_hz=FS)
        assert a.frames >= 1 and np.all(np.isfinite(a.envelope)) and np.all(a.f0_hz == 0)
        y = resample(a, ResampleRequest(offset_ms=0, consonant_ms=0, cutoff_ms=0, length_ms=300), steady(300, 300))
        assert len(y) == round(0.3 * FS) and np.all(np.isfinite(y))


# --------------------------------------------------------------------------- the cache


def write_wav(path: Path, x: np.ndarray, rate: int = FS) -> Path:
    soundfile.write(str(path), x, rate, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def short_wav(tmp_path_factory, sample) -> Path:
    return write_wav(tmp_path_factory.mktemp("wav") / "ka.wav", sample[:int(0.5 * FS)])


def same_analysis(a: SampleAnalysis, b: SampleAnalysis) -> bool:
    return (a.duration_ms == b.duration_ms and np.array_equal(a.f0_hz, b.f0_hz)
            and np.array_equal(a.envelope, b.envelope) and np.array_equal(a.aperiodicity, b.aperiodicity))


def test_the_cache_hits_in_memory_and_on_disk_and_hands_out_the_same(short_wav, tmp_path):
    folder = tmp_path / "cache"
    cache = AnalysisCache(folder)
    t0 = time.perf_counter()
    first = cache.get(short_wav)
    t_analyse = time.perf_counter() - t0
    assert (cache.hits, cache.misses) == (0, 1)
    assert [p.suffix for p in folder.iterdir()] == [".npz"]
    t0 = time.perf_counter()
    again = cache.get(short_wav)
    t_memory = time.perf_counter() - t0
    assert again is first and (cache.hits, cache.memory_hits, cache.misses) == (1, 1, 1)
    fresh = AnalysisCache(folder)
    t0 = time.perf_counter()
    stored = fresh.get(short_wav)
    t_disk = time.perf_counter() - t0
    assert (fresh.hits, fresh.disk_hits, fresh.misses) == (1, 1, 0)
    assert same_analysis(stored, first)   # a cold cache sings exactly as a warm one
    assert t_memory < t_analyse / 5 and t_disk < t_analyse / 2, (t_analyse, t_disk, t_memory)
    assert fresh.problems == [] and cache.problems == []


def test_the_stored_analysis_is_close_to_the_analysis(short_wav):
    x, rate = read_sample(short_wav)
    raw = analyse_samples(x, sample_rate_hz=rate)
    stored = AnalysisCache(None).get(short_wav)
    assert np.allclose(stored.f0_hz, raw.f0_hz, rtol=1e-6)
    level = 10 * np.log10(raw.envelope.sum(axis=1))
    loud = level > level.max() - 40
    band = FREQS < 16000
    diff_db = 10 * np.log10(stored.envelope[loud][:, band] / raw.envelope[loud][:, band])
    assert np.sqrt((diff_db ** 2).mean(axis=1)).mean() < 0.3   # measured 0.1-0.25 dB
    assert np.max(np.abs(stored.aperiodicity - raw.aperiodicity)) < 0.05


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "other key", "nan"])
def test_a_damaged_cache_file_is_analysed_again_and_rewritten(short_wav, tmp_path, damage):
    folder = tmp_path / "cache"
    good = AnalysisCache(folder).get(short_wav)
    (stored,) = folder.iterdir()
    data = stored.read_bytes()
    if damage == "garbage":
        stored.write_bytes(b"not a cache file" * 100)
    elif damage == "truncated":
        stored.write_bytes(data[:len(data) // 2])
    elif damage == "empty":
        stored.write_bytes(b"")
    else:
        with np.load(stored) as z:
            arrays = {k: z[k] for k in z.files}
        if damage == "other key":
            arrays["meta"] = np.array(str(arrays["meta"][()]).replace('"key": "', '"key": "0'))
        else:
            arrays["f0_hz"] = arrays["f0_hz"].copy()
            arrays["f0_hz"][3] = np.nan
        with open(stored, "wb") as f:
            np.savez(f, **arrays)
    cache = AnalysisCache(folder)
    again = cache.get(short_wav)
    assert (cache.misses, cache.hits) == (1, 0)
    assert same_analysis(again, good)
    assert len(cache.problems) == 1 and "damaged" in cache.problems[0] and str(stored) in cache.problems[0]
    check = AnalysisCache(folder)
    assert same_analysis(check.get(short_wav), good) and check.disk_hits == 1   # rewritten


def test_a_changed_sample_is_analysed_again_and_a_renamed_one_is_not(sample, tmp_path):
    wav = write_wav(tmp_path / "a.wav", sample[:int(0.5 * FS)])
    cache = AnalysisCache(tmp_path / "cache")
    first = cache.get(wav)
    higher = synthetic_sample(seed_hz=300.0)[:int(0.5 * FS)]
    write_wav(wav, higher)   # same name, same size, perhaps the same mtime
    second = cache.get(wav)
    assert cache.misses == 2
    vowel = second.f0_hz > 0
    assert np.median(second.f0_hz[vowel]) > 1.2 * np.median(first.f0_hz[first.f0_hz > 0])
    os.replace(wav, tmp_path / "renamed.wav")
    fresh = AnalysisCache(tmp_path / "cache")
    assert same_analysis(fresh.get(tmp_path / "renamed.wav"), second)
    assert (fresh.misses, fresh.disk_hits) == (0, 1)


def test_an_unwritable_cache_folder_still_sings(short_wav, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    cache = AnalysisCache(blocker / "cache")   # a folder under a file cannot be made, even by root
    a = cache.get(short_wav)
    b = cache.get(short_wav)
    assert b is a and cache.misses == 1
    assert len(cache.problems) == 1 and "cannot be written" in cache.problems[0]
    y = resample(a, ResampleRequest(offset_ms=0, consonant_ms=100, cutoff_ms=0, length_ms=300), steady(300, 300))
    assert np.all(np.isfinite(y)) and np.max(np.abs(y)) > 0.1


def test_a_cache_that_cannot_be_written_is_still_read(sample, short_wav, tmp_path, monkeypatch):
    import utagoe.fileio as fileio
    from utagoe.fileio import FileError

    folder = tmp_path / "cache"
    AnalysisCache(folder).get(short_wav)
    other = write_wav(tmp_path / "other.wav", sample[:int(0.4 * FS)])

    def read_only(path, data):
        raise FileError(path, "the file system is read-only")

    monkeypatch.setattr(fileio, "write_atomic", read_only)
    cache = AnalysisCache(folder)
    cache.get(other)
    assert cache.misses == 1 and len(cache.problems) == 1 and "read-only" in cache.problems[0]
    cache.get(short_wav)
    assert cache.disk_hits == 1


def test_the_memory_cache_is_bounded_and_pickles_empty(sample, tmp_path):
    wavs = [write_wav(tmp_path / f"{i}.wav", sample[:int((0.3 + 0.1 * i) * FS)]) for i in range(3)]
    one = AnalysisCache(None).get(wavs[0]).nbytes
    cache = AnalysisCache(None, memory_limit_bytes=int(2.5 * one))
    for w in wavs:
        cache.get(w)
    cache.get(wavs[0])   # evicted by the third: analysed again
    assert cache.misses == 4 and cache.memory_hits == 0
    cache.get(wavs[0])
    assert cache.memory_hits == 1
    copy = pickle.loads(pickle.dumps(cache))
    assert copy.folder is None and copy.memory_limit_bytes == cache.memory_limit_bytes
    assert len(pickle.dumps(cache)) < 1000   # no analyses travel to a worker
    assert copy.hits == 0 and copy.get(wavs[0]).frames == cache.get(wavs[0]).frames


def test_the_default_cache_folder():
    assert default_cache_folder({"UTAGOE_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x"}) == Path("/c/utau-analysis")
    assert default_cache_folder({"XDG_CACHE_HOME": "/x"}) == Path("/x/utagoe/utau-analysis")
    home = Path.home() / ".cache" / "utagoe" / "utau-analysis"
    assert default_cache_folder({"XDG_CACHE_HOME": "relative"}) == home   # XDG: relative paths are ignored
    assert default_cache_folder({}) == home


def test_a_too_long_or_unreadable_sample_is_refused_naming_it(tmp_path):
    long = write_wav(tmp_path / "long.wav", np.zeros(int((MAX_SAMPLE_S + 1) * 8000)), rate=8000)
    cache = AnalysisCache(tmp_path / "cache")
    t0 = time.perf_counter()
    with pytest.raises(VoiceError, match=rf"cannot read {long}: it is 61.0 s long; a sample may be at most 60 s"):
        cache.get(long)
    assert time.perf_counter() - t0 < 2.0   # refused from its header, not analysed
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 10)
    with pytest.raises(VoiceError, match=rf"cannot read {junk}: not a sound file that can be read"):
        cache.get(junk)
    with pytest.raises(VoiceError, match=rf"cannot read {tmp_path / 'missing.wav'}: no such file"):
        cache.get(tmp_path / "missing.wav")
    empty = write_wav(tmp_path / "empty.wav", np.zeros(0))
    with pytest.raises(VoiceError, match="no audio"):
        read_sample(empty)
    with pytest.raises(VoiceError, match=rf"cannot read {tmp_path}: is a folder"):
        cache.get(tmp_path)
    big = tmp_path / "big.wav"
    with open(big, "wb") as f:
        f.truncate(analysis_module.MAX_SAMPLE_BYTES + 1)
    with pytest.raises(VoiceError, match="too large"):
        cache.get(big)
    assert cache.misses == 0 and list((tmp_path / "cache").glob("*")) == []


# --------------------------------------------------------------------------- real samples


#: (folder, wav, alias, offset, consonant, cutoff) from the banks' oto.ini
REAL = [
    ("utsu-Iona_Beta-subset", "a.wav", "a", 0.0, 404.9, 357.2),
    ("utsu-Iona_Beta-subset", "ka.wav", "ka", 0.0, 256.7, 1498.5),
    ("ALYS-jpn-plus-subset", "C4/ka_ka_ki_ka_ku_ka_ke_k.wav", "a かC4", 820.456, 318.313, -1001.263),
    ("ALYS-jpn-plus-subset", "C4/i_i_u_i_e_i_o.wav", "i うC4", 1812.365, 192.658, -967.628),
]


@pytest.fixture(scope="module")
def real_cache():
    return AnalysisCache(None)


@pytest.mark.shared
@pytest.mark.parametrize("folder,wav,alias,offset,consonant,cutoff", REAL)
def test_real_samples_sing_in_tune_with_their_own_timbre(shared_data, real_cache, folder, wav, alias,
                                                          offset, consonant, cutoff):
    path = shared_data / "voicebank" / folder / wav
    if not path.is_file():
        pytest.skip(f"{folder}/{wav} is absent from ../shared/data")
    analysis = real_cache.get(path)
    length_ms = 1200.0
    req = ResampleRequest(offset_ms=offset, consonant_ms=consonant, cutoff_ms=cutoff, length_ms=length_ms)
    end_ms = offset - cutoff if cutoff < 0 else analysis.duration_ms - cutoff
    band = (FREQS > 60) & (FREQS < 8000)
    for name, hz in (("C4", 261.63), ("A4", 440.0), ("E3", 164.81)):
        y = resample(analysis, req, steady(length_ms, hz)).astype(np.float64)
        assert len(y) == round(length_ms * FS / 1000) and np.all(np.isfinite(y))
        f0 = f0_of(y)
        t = np.arange(len(f0)) * FRAME_MS
        mid = (t > consonant + 30) & (t < length_ms - 30) & (f0 > 0)
        assert mid.sum() > 100
        cents = 1200 * np.log2(f0[mid] / hz)
        assert np.mean(np.abs(cents) < 50) >= 0.95, (alias, name)
        # the envelope against the source's on the same vowel frames (the level, set by P, aside)
        env = cheaptrick_envelope(y, f0, sample_rate_hz=FS, frame_period_s=FRAME_PERIOD_S)
        src_ms = source_times_ms(t[mid], start_ms=offset, consonant_end_ms=offset + consonant, end_ms=end_ms,
                                 length_ms=length_ms, consonant_scale=1.0)
        src = analysis.envelope[np.clip(np.rint(src_ms / FRAME_MS).astype(int), 0, analysis.frames - 1)]
        d = 10 * np.log10(env[mid][:, band] / src[:, band])
        d -= d.mean()
        lsd_db = np.sqrt((d ** 2).mean(axis=1)).mean()
        # measured 2.8-5.3 dB (3.1-3.3 dB sung at the sample's own pitch: the floor of
        # analysing WORLD's output again); higher notes sample the envelope more coarsely
        assert lsd_db < 6.5, (alias, name, lsd_db)


@pytest.mark.shared
def test_real_sample_cache_round_trip(shared_data, tmp_path):
    path = shared_data / "voicebank" / "utsu-Iona_Beta-subset" / "i.wav"
    if not path.is_file():
        pytest.skip("utsu-Iona_Beta-subset/i.wav is absent from ../shared/data")
    cache = AnalysisCache(tmp_path)
    a = cache.get(path)
    (stored,) = tmp_path.iterdir()
    per_second = stored.stat().st_size / (a.duration_ms / 1000)
    assert 80_000 < per_second < 130_000   # about 108 kB per second of sample
    assert same_analysis(AnalysisCache(tmp_path).get(path), a)



def test_sings_at_another_rate_directly_with_the_same_pitch_level_and_formants():
    from voicebanks import RATE, sung_sample

    an = analyse_samples(sung_sample("a"), sample_rate_hz=RATE)
    req = ResampleRequest(offset_ms=0.0, consonant_ms=100.0, cutoff_ms=-1100.0, length_ms=1500.0,
                          flags="P0")
    target = np.full(400, 196.0)
    a = resample(an, req, target).astype(np.float64)
    b = resample(an, req, target, output_rate_hz=48000).astype(np.float64)
    assert len(a) == round(1.5 * 44100) and len(b) == round(1.5 * 48000)
    assert 20 * np.log10(np.sqrt(np.mean(b ** 2)) / np.sqrt(np.mean(a ** 2))) == pytest.approx(0, abs=0.5)
    f0 = harvest_f0_hz(b, sample_rate_hz=48000, frame_period_s=0.005)
    mid = f0[60:240]
    assert np.median(np.abs(1200 * np.log2(mid[mid > 0] / 196.0))) < 10
    sa = np.abs(np.fft.rfft(a[22050:44100] * np.hanning(22050)))
    sb = np.abs(np.fft.rfft(b[24000:48000] * np.hanning(24000)))
    ca = np.sum(np.fft.rfftfreq(22050, 1 / 44100) * sa) / np.sum(sa)
    cb = np.sum(np.fft.rfftfreq(24000, 1 / 48000) * sb) / np.sum(sb)
    assert cb == pytest.approx(ca, rel=0.05)
