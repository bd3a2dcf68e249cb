"""Voice controls (utagoe.dsp.controls), judged on the sound.

A sung vowel (four formants, F0 220 Hz, periodic below 5 kHz; unvoiced frames
at both ends) is changed by each control at five or more settings, vocoded with
our vocoder at 48 kHz, and measured on the audio of its steady middle: spectral
centroid and F0 (gender), harmonic-to-noise ratio (breathiness, voicing),
level and spectral tilt (dynamics, tension).
"""
import numpy as np
import pytest
import signals
from scipy.signal import welch

from utagoe.dsp import controls as ctl
from utagoe.dsp.controls import (
    VOICE_CONTROL_RANGES,
    apply_voice_controls,
    dynamics_gain,
    gender_factor,
    warp_frequency,
)
from utagoe.dsp.vocoders import vocode_frames
from utagoe.dsp.world import harvest_f0_hz
from utagoe.errors import InvalidValueError

FS = 48000
FRAME_S = 0.005
FFT = 2048
F0_HZ = 220.0
N = 200                      # 1 s
EDGE = 10                    # unvoiced frames at each end
MID = slice(int(0.25 * FS), int(0.75 * FS))   # the steady middle half second


def vowel() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    f0 = np.full(N, F0_HZ)
    f0[:EDGE] = f0[-EDGE:] = 0.0
    sp = signals.formant_envelope(N, sample_rate_hz=FS, fft_size=FFT)
    ap = signals.voiced_aperiodicity(N, sample_rate_hz=FS, fft_size=FFT)
    ap[f0 == 0] = 1.0
    return f0, sp, ap


def sing(**controls) -> np.ndarray:
    f0, sp, ap = vowel()
    sp2, ap2 = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, **controls)
    return vocode_frames("utagoe", f0, sp2, ap2, sample_rate_hz=FS, frame_period_s=FRAME_S, seed=1)


# --------------------------------------------------------------------------- measures


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x[MID] ** 2)))


def _psd(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return welch(x[MID], fs=FS, nperseg=4096)


def tilt_db(x: np.ndarray) -> float:
    """Energy above 2 kHz against below 1 kHz, dB."""
    f, p = _psd(x)
    return float(10 * np.log10(p[f >= 2000].sum() / p[f < 1000].sum()))


def centroid_hz(x: np.ndarray) -> float:
    f, p = _psd(x)
    band = f <= 10000
    return float((f[band] * p[band]).sum() / p[band].sum())


def hnr_db(x: np.ndarray) -> float:
    """Harmonics-to-noise ratio: the mean power density on the harmonics of F0
    (within 12 Hz) over that between them (more than 40 Hz away), 0-8 kHz, from
    one 0.5 s Hann-windowed spectrum. 0 dB for noise."""
    seg = x[MID] * np.hanning(MID.stop - MID.start)
    p = np.abs(np.fft.rfft(seg)) ** 2
    f = np.fft.rfftfreq(len(seg), 1 / FS)
    dist = np.abs(f - F0_HZ * np.round(f / F0_HZ))
    band = (f > 100) & (f < 8000)
    on = band & (dist <= 12)
    off = band & (dist > 40)
    return float(10 * np.log10(p[on].mean() / p[off].mean()))


def median_f0_cents(x: np.ndarray) -> float:
    f0 = harvest_f0_hz(x, sample_rate_hz=FS, frame_period_s=FRAME_S)[60:140]
    return float(1200 * np.log2(np.median(f0[f0 > 0]) / F0_HZ))


def strictly(values, *, rising: bool) -> bool:
    d = np.diff(values)
    return bool(np.all(d > 0) if rising else np.all(d < 0))


# --------------------------------------------------------------------------- the sound


def test_gender_lowers_the_formants_and_keeps_pitch_and_level():
    settings = [-100, -50, -20, 0, 20, 50, 100]
    audio = [sing(gender=g) for g in settings]
    centroids = [centroid_hz(a) for a in audio]
    assert strictly(centroids, rising=False), dict(zip(settings, centroids))
    # +-20 move the formants by a factor of 0.79 or 1.26 (the centroid of the harmonics
    # moves less: the lowest harmonics and the noise above 5 kHz stay where they are)
    base = centroids[settings.index(0)]
    assert 0.8 < centroids[settings.index(20)] / base < 0.95
    assert 1.08 < centroids[settings.index(-20)] / base < 1.3
    for g, a in zip(settings, audio):
        assert abs(median_f0_cents(a)) < 5, g
        assert abs(rms_db(a) - rms_db(audio[settings.index(0)])) < 1.0, g


def test_breathiness_lowers_the_harmonics_to_noise_ratio():
    settings = [-100, -50, 0, 25, 50, 75, 100]
    audio = [sing(breathiness=b) for b in settings]
    hnr = [hnr_db(a) for a in audio]
    assert strictly(hnr, rising=False), dict(zip(settings, hnr))
    assert hnr[0] > hnr[2] + 3          # -100: cleaner (the noise above 5 kHz is gone)
    assert hnr[-1] < hnr[2] - 20        # +100: near a whisper (noise above 1.5 kHz, half below)
    neutral = rms_db(audio[2])
    for b, a in zip(settings, audio):
        assert abs(rms_db(a) - neutral) < 1.0, b


def test_voicing_fades_to_a_whisper_at_the_same_level():
    settings = [100, 75, 50, 25, 0]
    audio = [sing(voicing=v) for v in settings]
    hnr = [hnr_db(a) for a in audio]
    assert strictly(hnr, rising=False), dict(zip(settings, hnr))
    assert hnr[0] > 30
    assert abs(hnr[-1]) < 1.5           # all noise: as much between the harmonics as on them
    for v, a in zip(settings, audio):
        assert abs(rms_db(a) - rms_db(audio[0])) < 1.0, v


def test_dynamics_is_level_and_brightness():
    settings = [-24, -12, -6, 0, 6, 12]
    audio = [sing(dynamics_db=d) for d in settings]
    levels = np.array([rms_db(a) for a in audio])
    tilts = [tilt_db(a) for a in audio]
    assert strictly(levels, rising=True)
    assert np.all(np.abs((levels - levels[3]) - np.array(settings)) < 1.0), levels - levels[3]
    assert strictly(tilts, rising=True), dict(zip(settings, tilts))
    # louder is brighter by about the research figure: about 0.3-1 dB of tilt per dB
    slope = (tilts[-1] - tilts[0]) / (settings[-1] - settings[0])
    assert 0.3 < slope < 1.0, slope


def test_dynamics_without_level_keeps_the_tilt_only():
    base = sing()
    loud = sing(dynamics_db=12.0)
    flat = sing(dynamics_db=12.0, level=False)
    assert abs(rms_db(flat) - rms_db(base)) < 0.5
    assert abs(tilt_db(flat) - tilt_db(loud)) < 0.3
    assert dynamics_gain(12.0) == pytest.approx(10 ** 0.6)
    assert np.allclose(dynamics_gain(np.array([0.0, -6.0])), [1.0, 10 ** -0.3])


def test_tension_brightens_at_about_the_same_level():
    settings = [-100, -50, 0, 50, 100]
    audio = [sing(tension=t) for t in settings]
    tilts = [tilt_db(a) for a in audio]
    hnr = [hnr_db(a) for a in audio]
    assert strictly(tilts, rising=True), dict(zip(settings, tilts))
    assert tilts[-1] - tilts[0] > 6
    neutral = rms_db(audio[2])
    for t, a in zip(settings, audio):
        assert abs(rms_db(a) - neutral) < 2.0, t
    assert hnr[0] < hnr[2] - 3          # lax: a little breath
    f0, sp, ap = vowel()
    mean_ap = [apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, tension=t)[1][f0 > 0].mean()
               for t in settings]
    assert strictly(mean_ap, rising=False)   # pressed: less noise


# --------------------------------------------------------------------------- the arrays


def test_neutral_controls_return_the_inputs():
    f0, sp, ap = vowel()
    sp2, ap2 = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS)
    assert sp2 is sp and ap2 is ap
    sp3, ap3 = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, dynamics_db=np.zeros(N),
                                    breathiness=[0.0] * N, gender=np.zeros(N), tension=0,
                                    voicing=np.full(N, 100.0), level=False)
    assert sp3 is sp and ap3 is ap
    # a control that touches only one output leaves the other as it was given
    sp4, ap4 = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, breathiness=30)
    assert sp4 is sp and ap4 is not ap
    sp5, ap5 = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, gender=30)
    assert sp5 is not sp and ap5 is ap


@pytest.mark.parametrize("controls", [{"gender": 40}, {"dynamics_db": -6}, {"tension": 70},
                                      {"breathiness": -60}, {"voicing": 30},
                                      {"gender": np.linspace(-50, 50, N), "voicing": np.linspace(0, 100, N)}])
def test_inputs_are_never_modified(controls):
    f0, sp, ap = vowel()
    copies = (f0.copy(), sp.copy(), ap.copy())
    apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, **controls)
    for a, b in zip((f0, sp, ap), copies):
        assert np.array_equal(a, b)


def test_frames_neutral_on_every_control_keep_their_values():
    f0, sp, ap = vowel()
    curve = np.zeros(N)
    curve[80:120] = np.linspace(10, 60, 40)
    voicing = np.full(N, 100.0)
    voicing[50:70] = 40.0
    sp2, ap2 = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, gender=curve, tension=-curve,
                                    breathiness=curve, voicing=voicing)
    untouched = np.ones(N, dtype=bool)
    untouched[80:120] = False
    assert np.array_equal(sp2[untouched], sp[untouched])
    untouched[50:70] = False
    assert np.array_equal(ap2[untouched], ap[untouched])
    assert not np.array_equal(sp2[80:120], sp[80:120])
    assert not np.array_equal(ap2[50:70], ap[50:70])


def test_unvoiced_frames_keep_their_aperiodicity_but_take_the_warp_and_tilt():
    f0, sp, ap = vowel()
    for controls in ({"breathiness": 80}, {"voicing": 0}, {"tension": -100}, {"tension": 100}):
        _, ap2 = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, **controls)
        assert np.array_equal(ap2[f0 == 0], ap[f0 == 0]), controls
        assert not np.array_equal(ap2[f0 > 0], ap[f0 > 0]), controls
        assert np.all((ap2 >= 0) & (ap2 <= 1))
    for controls in ({"gender": 50}, {"dynamics_db": 6}, {"tension": 50}):
        sp2, _ = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, **controls)
        assert not np.array_equal(sp2[:EDGE], sp[:EDGE]), controls


def test_breathiness_reaches_the_high_bands_first():
    f0, sp, ap = vowel()
    freqs = signals.bin_frequencies_hz(sample_rate_hz=FS, fft_size=FFT)
    low, high = freqs < 300, (freqs > 2000) & (freqs < 4000)
    ap_low, ap_high = [], []
    for b in (0, 25, 50, 75, 100):
        _, ap2 = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, breathiness=b)
        ap_low.append(ap2[100, low].mean())
        ap_high.append(ap2[100, high].mean())
    assert strictly(ap_low, rising=True) and strictly(ap_high, rising=True)
    assert all(h > lo for h, lo in zip(ap_high[1:], ap_low[1:]))
    # +100: all noise above 1.5 kHz, 0.7 of the way to noise below 400 Hz
    assert ap_high[-1] == pytest.approx(1.0) and 0.65 < ap_low[-1] < 0.75
    _, clean = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, breathiness=-100)
    assert np.all(clean[f0 > 0] == 0.0)


def test_a_phrase_in_chunks_is_the_whole():
    f0, sp, ap = vowel()
    rng = np.random.default_rng(3)
    controls = {"dynamics_db": rng.uniform(-24, 12, N), "breathiness": rng.uniform(-100, 100, N),
                    "gender": rng.uniform(-100, 100, N), "tension": rng.uniform(-100, 100, N),
                    "voicing": rng.uniform(0, 100, N)}
    whole = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, **controls)
    cut = 77
    parts = [apply_voice_controls(f0[s], sp[s], ap[s], sample_rate_hz=FS,
                                  **{k: v[s] for k, v in controls.items()})
             for s in (slice(0, cut), slice(cut, N))]
    # the same to rounding (a frame's level sums as many harmonics as its block's
    # lowest F0 has, zeros beyond its own Nyquist)
    assert np.allclose(whole[0], np.concatenate([parts[0][0], parts[1][0]]), rtol=1e-12, atol=0)
    assert np.array_equal(whole[1], np.concatenate([parts[0][1], parts[1][1]]))
    assert np.all(np.isfinite(whole[0])) and np.all(np.isfinite(whole[1]))


def test_one_number_equals_the_same_number_on_every_frame():
    f0, sp, ap = vowel()
    for name, value in (("gender", 35.0), ("dynamics_db", -7.5), ("tension", -40.0),
                        ("breathiness", 65.0), ("voicing", 20.0)):
        a = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, **{name: value})
        b = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, **{name: np.full(N, value)})
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]), name


def level_at_harmonics(sp: np.ndarray, f0_hz: float) -> np.ndarray:
    """Each row's mean power at the harmonics of ``f0_hz`` (the pulse train's level)."""
    freqs = signals.bin_frequencies_hz(sample_rate_hz=FS, fft_size=FFT)
    harmonics = np.arange(1, int(FS / 2 // f0_hz) + 1) * f0_hz
    return np.array([np.interp(harmonics, freqs, row).mean() for row in sp])


def test_gender_and_tension_keep_each_frames_level():
    """Voiced frames keep their power at the harmonics (what the pulse train sings),
    unvoiced ones their mean power over the spectrum (what the noise sings)."""
    f0, sp, ap = vowel()
    voiced = f0 > 0
    for controls in ({"gender": -100}, {"gender": -30}, {"gender": 30}, {"gender": 90},
                     {"tension": 100}, {"tension": -70, "gender": 20}, {"dynamics_db": 0.0, "tension": 40}):
        sp2, _ = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, **controls)
        assert np.allclose(level_at_harmonics(sp2[voiced], F0_HZ), level_at_harmonics(sp[voiced], F0_HZ),
                           rtol=1e-9), controls
        mean = sp[~voiced, 1:-1].sum(axis=1) + 0.5 * (sp[~voiced, 0] + sp[~voiced, -1])
        mean2 = sp2[~voiced, 1:-1].sum(axis=1) + 0.5 * (sp2[~voiced, 0] + sp2[~voiced, -1])
        assert np.allclose(mean2, mean, rtol=1e-9), controls
    sp2, _ = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, dynamics_db=-6.0)
    assert np.allclose(level_at_harmonics(sp2[voiced], F0_HZ), level_at_harmonics(sp[voiced], F0_HZ) / 10 ** 0.6,
                       rtol=1e-9)


# --------------------------------------------------------------------------- the warp


def test_warp_moves_a_peak_by_the_factor():
    bins = FFT // 2 + 1
    env = np.zeros((2, bins))
    env[:, 300] = 1.0
    for factor in (0.5, 0.8, 1.25):
        out = warp_frequency(env, factor)
        assert abs(int(np.argmax(out[0])) - 300 * factor) <= 1
    rows = warp_frequency(env, np.array([0.8, 1.25]))
    assert np.array_equal(rows[0], warp_frequency(env[:1], 0.8)[0])
    assert np.array_equal(rows[1], warp_frequency(env[1:], 1.25)[0])
    assert warp_frequency(env, 1.0) is not env and np.array_equal(warp_frequency(env, 1.0), env)
    assert gender_factor(100) == pytest.approx(10 ** -0.5)
    assert gender_factor(-20) == pytest.approx(10 ** 0.1)


# --------------------------------------------------------------------------- bad values


@pytest.mark.parametrize("name", sorted(VOICE_CONTROL_RANGES))
def test_values_out_of_range_are_refused_by_name(name):
    f0, sp, ap = vowel()
    lo, hi, _ = VOICE_CONTROL_RANGES[name]
    for bad in (hi + 1, lo - 1, float("nan"), float("inf"), "loud", None, True):
        with pytest.raises(InvalidValueError, match=name) as info:
            apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, **{name: bad})
        if isinstance(bad, float) or bad in (hi + 1, lo - 1):
            assert f"{lo:g}" in str(info.value) and f"{hi:g}" in str(info.value)
    curve = np.full(N, (lo + hi) / 2)
    curve[17] = hi + 0.5
    with pytest.raises(InvalidValueError, match=f"{name}.*frame 17"):
        apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, **{name: curve})
    curve[17] = np.nan
    with pytest.raises(InvalidValueError, match=name):
        apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, **{name: curve})
    for length in (N - 1, N + 1, 1):
        with pytest.raises(InvalidValueError, match=name):
            apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, **{name: np.full(length, lo)})
    with pytest.raises(InvalidValueError, match=name):
        apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, **{name: np.full((N, 2), lo)})


def test_inconsistent_frames_are_refused():
    f0, sp, ap = vowel()
    with pytest.raises(InvalidValueError, match="aperiodicity"):
        apply_voice_controls(f0, sp, ap[:, :-1], sample_rate_hz=FS, gender=10)
    with pytest.raises(InvalidValueError, match="spectrogram"):
        apply_voice_controls(f0[:-1], sp, ap, sample_rate_hz=FS, gender=10)
    with pytest.raises(InvalidValueError, match="sample_rate_hz"):
        apply_voice_controls(f0, sp, ap, sample_rate_hz=0, gender=10)
    with pytest.raises(InvalidValueError, match="factor"):
        warp_frequency(sp, 0.0)
    with pytest.raises(InvalidValueError, match="factor"):
        warp_frequency(sp, np.ones(3))


def test_the_ranges_are_openutaus():
    assert VOICE_CONTROL_RANGES == {"dynamics_db": (-24.0, 12.0, 0.0), "breathiness": (-100.0, 100.0, 0.0),
                                    "gender": (-100.0, 100.0, 0.0), "tension": (-100.0, 100.0, 0.0),
                                    "voicing": (0.0, 100.0, 100.0)}
    with pytest.raises(TypeError):
        ctl.VOICE_CONTROL_RANGES["gender"] = (0.0, 1.0, 0.0)  # type: ignore[index]


def test_controls_by_name_are_the_keywords():
    f0, sp, ap = vowel()
    curves = {"gender": np.linspace(-30, 30, N), "voicing": 60.0}
    by_name = ctl.apply_control_curves(f0, sp, ap, curves, sample_rate_hz=FS)
    by_keyword = apply_voice_controls(f0, sp, ap, sample_rate_hz=FS, **curves)
    assert np.array_equal(by_name[0], by_keyword[0]) and np.array_equal(by_name[1], by_keyword[1])
    same = ctl.apply_control_curves(f0, sp, ap, {}, sample_rate_hz=FS)
    assert same[0] is sp and same[1] is ap
    with pytest.raises(InvalidValueError, match="'genre'.*known: dynamics_db"):
        ctl.apply_control_curves(f0, sp, ap, {"genre": 1.0}, sample_rate_hz=FS)
