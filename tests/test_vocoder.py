"""The vectorised vocoder (utagoe.dsp.vocoder), judged against WORLD.

WORLD (pyworld.synthesize) vocodes the same inputs in the same test, and the
properties asserted are the ones it has: F0 of the output on the requested
curve, the output's envelope on the input's, its level, no clicks.
"""
import numpy as np
import pytest

import utagoe.dsp.vocoder as vocoder
from utagoe.dsp.vocoder import pulse_times, synthesize

pyworld = pytest.importorskip("pyworld")

FS = 48000
FRAME_S = 0.005
HOP = 240
FFT = 2048
FREQS = np.arange(FFT // 2 + 1) * FS / FFT


def formants(n_frames: int, shift=None) -> np.ndarray:
    """Power envelope of four resonances and a tilt (about -20 dBFS voiced)."""
    shift = np.ones(n_frames) if shift is None else np.asarray(shift)
    env = np.zeros((n_frames, FREQS.size))
    for fc, bw, gain in [(700, 90, 1.0), (1200, 110, 0.6), (2600, 160, 0.25), (3500, 220, 0.15)]:
        env += gain / (1.0 + ((FREQS[None, :] - fc * shift[:, None]) / (bw / 2)) ** 2)
    env *= 1.0 / (1.0 + (FREQS / 4000.0) ** 2)[None, :]
    return (env + 1e-4) * 2e-2


def voiced_ap(n_frames: int) -> np.ndarray:
    """Periodic below ~5 kHz, noisy above."""
    ap = np.clip(1.0 / (1.0 + np.exp(-(FREQS - 5000.0) / 600.0)), 0.001, 1.0)
    return np.tile(ap, (n_frames, 1))


def hiss(n_frames: int) -> np.ndarray:
    """A fricative-like envelope peaking near 6 kHz."""
    x = FREQS / 6000.0
    return np.tile(3e-3 * x ** 2 / (1 + x ** 4) + 1e-9, (n_frames, 1))


def synthetic():
    """2.5 s: an octave glide, vibrato, an unvoiced hiss, a held note."""
    n = 500
    t = np.arange(n) * FRAME_S
    f0 = np.zeros(n)
    a = (t >= 0.05) & (t < 0.9)
    f0[a] = 220.0 * 2 ** ((t[a] - 0.05) / 0.85)
    b = (t >= 0.9) & (t < 1.6)
    f0[b] = 330.0 * 2 ** (50 / 1200 * np.sin(2 * np.pi * 5.5 * (t[b] - 0.9)))
    c = (t >= 1.75) & (t < 2.45)
    f0[c] = 262.0
    sp = formants(n, 1.0 + 0.08 * np.sin(2 * np.pi * 0.7 * t))
    sp[t < 0.05] *= 1e-4
    gap = (t >= 1.6) & (t < 1.75)
    sp[gap] = hiss(int(gap.sum()))
    ap = np.ones_like(sp)
    ap[f0 > 0] = voiced_ap(int((f0 > 0).sum()))
    return f0, sp, ap


def ours(f0, sp, ap, **kw):
    return synthesize(f0, sp, ap, sample_rate_hz=FS, frame_period_s=FRAME_S, **kw)


def world(f0, sp, ap):
    return pyworld.synthesize(f0, sp, ap, FS, FRAME_S * 1000.0)[: len(f0) * HOP]


def steady(mask: np.ndarray, margin: int) -> np.ndarray:
    """Frames of ``mask`` at least ``margin`` frames inside it."""
    keep = mask.copy()
    for k in range(1, margin + 1):
        keep[k:] &= mask[:-k]
        keep[:-k] &= mask[k:]
    return keep


def frame_power(y: np.ndarray, n_frames: int) -> np.ndarray:
    pad = np.concatenate([np.zeros(HOP // 2), y, np.zeros(HOP)])
    return np.mean(pad[: n_frames * HOP].reshape(n_frames, HOP) ** 2, axis=1)


def level_db(y, ref, sel) -> float:
    n = len(sel)
    return float(10 * np.log10(frame_power(y, n)[sel].sum() / frame_power(ref, n)[sel].sum()))


def count_clicks(x: np.ndarray) -> int:
    """As tests/test_singer.py: second-difference samples far above their local level."""
    d2 = np.abs(np.diff(x, 2))
    win = int(0.02 * FS)
    local = np.sqrt(np.convolve(d2 ** 2, np.ones(win) / win, mode="same"))
    return int(np.sum(d2 > 12 * local + 0.01))


def f0_hit_rate(y, f0) -> float:
    """Share of steady voiced frames where harvest finds F0 within 20 cents."""
    est, _ = pyworld.harvest(y, FS, f0_floor=70.0, f0_ceil=1100.0, frame_period=FRAME_S * 1000.0)
    m = min(len(est), len(f0))
    sel = steady(f0[:m] > 0, 3)
    e, r = est[:m][sel], f0[:m][sel]
    cents = np.where(e > 0, 1200 * np.abs(np.log2(np.maximum(e, 1e-9) / r)), np.inf)
    return float(np.mean(cents <= 20.0))


def envelope_error_db(y, f0, sp) -> float:
    """Mean |dB| of CheapTrick(y) against ``sp``, 100 Hz - 8 kHz, steady voiced frames."""
    t = np.arange(len(f0)) * FRAME_S
    est = pyworld.cheaptrick(y, np.ascontiguousarray(f0), t, FS, fft_size=FFT)
    band = (FREQS >= 100) & (FREQS <= 8000)
    sel = steady(f0 > 0, 3)
    return float(np.mean(np.abs(10 * np.log10(est[sel][:, band] / sp[sel][:, band]))))


@pytest.fixture(scope="module")
def synth_case():
    f0, sp, ap = synthetic()
    return f0, sp, ap, ours(f0, sp, ap), world(f0, sp, ap)


# ------------------------------------------------------------------ basics

@pytest.mark.parametrize("n_frames", [1, 2, 7, 300])
def test_length_finite_deterministic(n_frames):
    rng = np.random.default_rng(n_frames)
    f0 = np.where(rng.random(n_frames) > 0.3, rng.uniform(80, 900, n_frames), 0.0)
    sp = formants(n_frames)
    ap = rng.random(sp.shape)
    y = ours(f0, sp, ap)
    assert y.dtype == np.float64 and y.shape == (n_frames * HOP,)
    assert np.all(np.isfinite(y))
    assert ours(f0, sp, ap).tobytes() == y.tobytes()
    if n_frames > 2:
        assert not np.array_equal(ours(f0, sp, ap, seed=1), y)


@pytest.mark.parametrize("rate,frame_s,fft", [(16000, 0.005, 1024), (8000, 0.001, 256), (24000, 0.01, 1024)])
def test_other_rates_and_sizes(rate, frame_s, fft):
    n = round(0.6 / frame_s)
    hop = round(rate * frame_s)
    f0 = np.full(n, 200.0)
    f0[n // 2:n * 5 // 6] = 0  # 0.2 s unvoiced
    sp = np.full((n, fft // 2 + 1), 1e-3)
    ap = np.full(sp.shape, 0.2)
    y = synthesize(f0, sp, ap, sample_rate_hz=rate, frame_period_s=frame_s)
    assert y.shape == (n * hop,) and np.all(np.isfinite(y))
    w = pyworld.synthesize(f0, sp, ap, rate, frame_s * 1000.0)[: n * hop]
    for sel in (steady(f0 > 0, round(0.02 / frame_s)), steady(f0 == 0, round(0.02 / frame_s))):
        s = np.repeat(sel, hop)
        assert 10 * np.log10(np.mean(y[s] ** 2) / np.mean(w[s] ** 2)) == pytest.approx(0, abs=1.0)


def test_block_size_does_not_change_the_result(monkeypatch):
    f0, sp, ap = synthetic()
    y = ours(f0, sp, ap)
    monkeypatch.setattr(vocoder, "BLOCK_FRAMES", 7)
    y7 = ours(f0, sp, ap)
    assert np.allclose(y7, y, rtol=0, atol=1e-6 * np.max(np.abs(y)))


def test_rejects_bad_inputs():
    f0, sp, ap = np.full(4, 200.0), np.full((4, 1025), 1e-3), np.full((4, 1025), 0.1)
    with pytest.raises(ValueError, match="frame counts"):
        ours(f0[:3], sp, ap)
    with pytest.raises(ValueError, match="aperiodicity has shape"):
        ours(f0, sp, ap[:, :513])
    with pytest.raises(ValueError, match="whole number of samples"):
        synthesize(f0, sp, ap, sample_rate_hz=44100, frame_period_s=0.005)
    with pytest.raises(ValueError, match="sample_rate_hz"):
        synthesize(f0, sp, ap, sample_rate_hz=48000.0, frame_period_s=0.005)
    with pytest.raises(ValueError, match="f0_hz"):
        ours(np.array([200.0, -1.0, 0.0, 0.0]), sp, ap)
    with pytest.raises(ValueError, match="f0_hz"):
        ours(np.array([200.0, np.nan, 0.0, 0.0]), sp, ap)
    bad = sp.copy()
    bad[2, 5] = np.nan
    with pytest.raises(ValueError, match="power_envelope"):
        ours(f0, bad, ap)
    bad[2, 5] = -1.0
    with pytest.raises(ValueError, match="power_envelope"):
        ours(f0, bad, ap)
    with pytest.raises(ValueError, match="seed"):
        ours(f0, sp, ap, seed=-1)


# ------------------------------------------------------------------ pulses

def test_pulses_are_periodic_and_start_at_the_onset():
    f0 = np.zeros(100)
    f0[10:90] = 200.0
    t, f = pulse_times(f0, sample_rate_hz=FS, frame_period_s=FRAME_S)
    assert t[0] == pytest.approx(9.5 * HOP)        # frame 10 is voiced from 9.5 hops
    assert np.allclose(np.diff(t), FS / 200.0)
    assert t[-1] < 89.5 * HOP
    assert np.all(f == 200.0)


def test_pulses_follow_a_glide_without_phase_jumps():
    n = 400
    f0 = 150.0 * 2 ** (np.arange(n) / n * 2)       # two octaves, linear in log
    t, f = pulse_times(f0, sample_rate_hz=FS, frame_period_s=FRAME_S)
    # the period between pulses is the F0 curve's, to a fraction of a percent
    period = np.diff(t)
    mid = 0.5 * (t[1:] + t[:-1]) / HOP
    expect = FS / np.interp(mid, np.arange(n), f0)
    assert np.max(np.abs(period / expect - 1)) < 2e-3
    # consecutive periods change smoothly (no jumps at frame boundaries)
    assert np.max(np.abs(np.diff(period))) < 0.01 * period.mean()
    # as many pulses as cycles of the curve
    cycles = np.sum(f0[:-1] + f0[1:]) / 2 * FRAME_S + f0[-1] * FRAME_S
    assert len(t) == pytest.approx(cycles, abs=1.5)


# ------------------------------------------------------------------ sound, against WORLD

def test_harmonics_sit_on_the_envelope():
    """Steady 375 Hz (period 128 samples): harmonic amplitudes = envelope * 2 / sqrt(period)."""
    n = 320
    sp = formants(n)
    ap = np.full(sp.shape, 0.001)
    y = ours(np.full(n, 375.0), sp, ap)[12000:60000]
    spec = np.abs(np.fft.rfft(y)) / len(y) * 2
    k = np.arange(1, 22)
    amp = spec[(k * 375.0 * len(y) / FS).astype(int)]
    expect = 2 * np.sqrt(np.interp(k * 375.0, FREQS, sp[0])) / np.sqrt(128)
    assert np.max(np.abs(20 * np.log10(amp / expect))) < 0.1


def test_level_matches_world_and_the_convention():
    n = 200
    for f0, sp, ap in [(np.full(n, 300.0), formants(n), voiced_ap(n)),
                       (np.zeros(n), hiss(n), np.ones((n, FFT // 2 + 1)))]:
        y, w = ours(f0, sp, ap), world(f0, sp, ap)
        core = slice(20 * HOP, (n - 20) * HOP)
        expected = np.mean(np.concatenate([sp[0], sp[0, -2:0:-1]]))  # two-sided mean of P
        assert 10 * np.log10(np.mean(y[core] ** 2) / expected) == pytest.approx(0, abs=0.5)
        assert 10 * np.log10(np.mean(y[core] ** 2) / np.mean(w[core] ** 2)) == pytest.approx(0, abs=1.0)


def test_synthetic_tracks_f0_like_world(synth_case):
    f0, sp, ap, y, _ = synth_case
    assert f0_hit_rate(y, f0) >= 0.98


def test_synthetic_envelope_like_world(synth_case):
    f0, sp, ap, y, w = synth_case
    ours_err, world_err = envelope_error_db(y, f0, sp), envelope_error_db(w, f0, sp)
    assert ours_err < 3.0
    assert ours_err <= world_err + 1.0


def test_synthetic_level_like_world(synth_case):
    f0, sp, ap, y, w = synth_case
    assert level_db(y, w, steady(f0 > 0, 3)) == pytest.approx(0, abs=1.0)
    assert level_db(y, w, steady(f0 == 0, 6)) == pytest.approx(0, abs=1.0)


def test_synthetic_has_no_clicks(synth_case):
    *_, y, w = synth_case
    assert count_clicks(w) == 0  # the detector is fair to WORLD
    assert count_clicks(y) == 0


def test_voicing_edges_do_not_click():
    """Loud voiced bursts between silence and hiss, switching every 30-70 ms."""
    rng = np.random.default_rng(3)
    n = 400
    f0 = np.zeros(n)
    sp = np.full((n, FFT // 2 + 1), 1e-9)
    pos = 0
    while pos < n:
        run = int(rng.integers(6, 14))
        kind = int(rng.integers(0, 3))
        if kind == 0:
            f0[pos:pos + run] = rng.uniform(150, 600)
            sp[pos:pos + run] = formants(1) * 10
        elif kind == 1:
            sp[pos:pos + run] = hiss(1)
        pos += run
    ap = np.where(f0[:, None] > 0, voiced_ap(1), 1.0)
    y = ours(f0, sp, ap)
    assert np.all(np.isfinite(y))
    assert count_clicks(y) == 0


# ------------------------------------------------------------------ the HTS singer's parameters

@pytest.fixture(scope="module")
def hts_case():
    """What the built-in singer hands its vocoder for a short phrase: its vocoder
    function (WORLD's or ours) is swapped for a recorder during one render."""
    import utagoe.voices.hts.singer as singer_module
    from utagoe.dsp.world import world_synthesize
    from utagoe.errors import VoiceError
    from utagoe.model import Note, Project, Tempo, Track
    from utagoe.rendering.engine import render_project
    from utagoe.voices.base import default_voices

    try:
        voices = default_voices(plugins=False)
        voices.get("song070")
    except VoiceError as exc:
        pytest.skip(f"built-in singer unavailable: {exc}")
    names = [n for n, v in vars(singer_module).items()
             if v is world_synthesize or v is vocoder.synthesize]
    if not names:
        pytest.skip("the singer module calls neither world_synthesize nor vocoder.synthesize")
    q = 480
    lyr = [("さ", 67), ("く", 69), ("ら", 72), ("し", 64), ("す", 65), ("あ", 67)]
    notes = tuple(Note(q + i * q, q, p, s) for i, (s, p) in enumerate(lyr))
    project = Project((Track("v", notes),), tempos=(Tempo(0, 110.0),))
    captured = []

    def record(f0_hz, power_envelope, aperiodicity, *, sample_rate_hz, frame_period_s, **_):
        captured.append((np.array(f0_hz, dtype=np.float64), np.array(power_envelope, dtype=np.float64),
                         np.array(aperiodicity, dtype=np.float64)))
        return np.zeros(len(f0_hz) * round(sample_rate_hz * frame_period_s))

    with pytest.MonkeyPatch.context() as mp:
        for n in names:
            mp.setattr(singer_module, n, record)
        render_project(project, voices=voices)
    assert captured and captured[0][1].shape[1] == FFT // 2 + 1
    f0, sp, ap = max(captured, key=lambda c: len(c[0]))
    return f0, sp, ap, ours(f0, sp, ap), world(f0, sp, ap)


def test_hts_parameters_sound_like_world(hts_case):
    f0, sp, ap, y, w = hts_case
    assert np.all(np.isfinite(y))
    assert (f0 > 0).sum() > 200 and (f0 == 0).any()
    assert f0_hit_rate(y, f0) >= 0.98
    assert level_db(y, w, steady(f0 > 0, 3)) == pytest.approx(0, abs=1.0)
    ours_err, world_err = envelope_error_db(y, f0, sp), envelope_error_db(w, f0, sp)
    assert ours_err < 3.0
    assert ours_err <= world_err + 1.0
    assert count_clicks(y) == 0
    assert np.max(np.abs(y)) < 1.0
