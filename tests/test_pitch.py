import numpy as np
import pytest

from utagoe.expression.pitch import (PitchSettings, SungNote, apply_vibrato, drift_cents,
                                      pitch_curve)

T = np.arange(0, 4.0, 0.005)


def test_mid_note_pitch_is_the_written_pitch():
    notes = [SungNote(0.5, 1.0, 60), SungNote(1.0, 1.5, 64), SungNote(1.5, 2.5, 62)]
    p = pitch_curve(notes, T, settings=PitchSettings())
    for n in notes:
        d = n.end_s - n.start_s
        mid = (T >= n.start_s + 0.2 * d) & (T < n.end_s - 0.2 * d)
        cents = (p[mid] - n.pitch) * 100
        assert np.mean(np.abs(cents) < 50) >= 0.95
        assert abs(np.median(cents)) < 25


def test_no_jumps_inside_the_curve():
    notes = [SungNote(0.5, 0.7, 60), SungNote(0.7, 0.8, 72), SungNote(0.8, 1.6, 55)]
    p = pitch_curve(notes, T, settings=PitchSettings())
    sung = (T > 0.45) & (T < 1.6)
    # even a 17-semitone leap out of a 100 ms note is spread over several frames
    assert np.max(np.abs(np.diff(p[sung]))) < 0.25 * 17
    steps = [SungNote(0.5 + 0.25 * i, 0.75 + 0.25 * i, 60 + 2 * (i % 2)) for i in range(10)]
    q = pitch_curve(steps, T, settings=PitchSettings())
    assert np.max(np.abs(np.diff(q[(T > 0.45) & (T < 3.0)]))) < 0.3


def test_portamento_is_monotonic_without_ornaments():
    s = PitchSettings(overshoot_ratio=0, preparation_ratio=0, scoop_cents=0, drift_cents=0,
                      vibrato_depth_cents=0)
    notes = [SungNote(0.5, 1.0, 60), SungNote(1.0, 1.5, 67)]
    p = pitch_curve(notes, T, settings=s)
    seg = p[(T > 0.6) & (T < 1.4)]
    assert np.all(np.diff(seg) >= -1e-9)
    assert seg[0] == pytest.approx(60) and seg[-1] == pytest.approx(67)


def test_overshoot_goes_past_the_target_then_settles():
    s = PitchSettings(drift_cents=0, vibrato_depth_cents=0, scoop_cents=0)
    notes = [SungNote(0.5, 1.0, 60), SungNote(1.0, 2.0, 65)]
    p = pitch_curve(notes, T, settings=s)
    after = p[(T > 1.0) & (T < 1.3)]
    assert after.max() > 65.05
    assert p[(T > 1.5) & (T < 1.9)] == pytest.approx(65.0)


def test_vibrato_only_on_long_notes_with_delayed_onset():
    s = PitchSettings()
    short = [SungNote(0.5, 0.8, 60)]
    long = [SungNote(0.5, 2.5, 60)]
    base = np.full_like(T, 60.0)
    assert np.all(apply_vibrato(base, short, T, settings=s) == 60.0)
    v = apply_vibrato(base, long, T, settings=s) - 60.0
    assert np.all(v[(T >= 0.5) & (T < 0.7)] == 0)
    late = v[(T > 1.5) & (T < 2.4)]
    assert late.max() == pytest.approx(0.30, abs=0.02) and late.min() == pytest.approx(-0.30, abs=0.02)
    # about 5.5 Hz: count zero crossings over 0.9 s
    crossings = np.sum(np.diff(np.sign(late)) != 0)
    assert 8 <= crossings <= 12


def test_drift_is_seeded_small_and_smooth():
    a = drift_cents(T, amount_cents=4, period_s=0.35, seed=1)
    b = drift_cents(T, amount_cents=4, period_s=0.35, seed=1)
    c = drift_cents(T, amount_cents=4, period_s=0.35, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.max(np.abs(a)) < 12
    assert np.max(np.abs(np.diff(a))) < 0.5
    # a window of the same times gives the same values (phrases can be cut anywhere)
    w = drift_cents(T[100:300], amount_cents=4, period_s=0.35, seed=1)
    np.testing.assert_allclose(w, a[100:300])
