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


# -- pitch curves and vibratos that come with the notes (imported from .ust/.ustx)

from utagoe.expression.pitch import note_vibrato_cents, shape_curve  # noqa: E402
from utagoe.model.score import Vibrato  # noqa: E402


@pytest.mark.parametrize("shape", ["io", "l", "i", "o"])
def test_shapes_run_from_zero_to_one_monotonically(shape):
    x = np.linspace(0, 1, 101)
    y = shape_curve(x, shape)
    assert y[0] == pytest.approx(0) and y[-1] == pytest.approx(1)
    assert np.all(np.diff(y) >= -1e-12)
    mid = float(shape_curve(np.array([0.25]), shape)[0])
    # ease in is slow at first, ease out fast, line exact
    assert {"l": 0.25, "io": 0.1464, "i": 0.0761, "o": 0.3827}[shape] == pytest.approx(mid, abs=1e-3)


def test_a_note_with_points_is_sung_on_them_not_on_the_automatic_curve():
    s = PitchSettings(drift_cents=4.0)
    # glide from the previous note (-500 cents) into the note over 100 ms before its start
    pts = ((-0.1, -500.0, "l"), (0.0, 0.0, "io"))
    notes = [SungNote(0.5, 1.0, 55), SungNote(1.0, 2.0, 60, points=pts)]
    p = pitch_curve(notes, T, settings=s)
    at = lambda t: p[int(round(t / 0.005))]
    assert at(0.9) == pytest.approx(55.0, abs=0.05)  # the previous note drifts a little
    assert at(0.95) == pytest.approx(57.5)
    assert at(1.0) == pytest.approx(60.0)
    # no overshoot, scoop, vibrato or drift on a hand-drawn note
    inside = (T >= 1.0) & (T < 2.0)
    assert np.allclose(p[inside], 60.0)


def test_a_note_without_points_keeps_the_automatic_curve():
    notes = [SungNote(0.5, 1.0, 55), SungNote(1.0, 2.0, 60)]
    p = pitch_curve(notes, T, settings=PitchSettings())
    inside = (T >= 1.0) & (T < 2.0)
    assert np.ptp(p[inside]) > 0.3  # overshoot and vibrato move it


def test_a_note_vibrato_follows_the_utau_formula():
    v = Vibrato(length_pct=50, period_ms=200, depth_cents=40, fade_in_pct=0, fade_out_pct=0,
                phase_pct=25, drift_pct=10)
    n = SungNote(0.0, 2.0, 60, vibrato=v)
    t = np.arange(0, 2.0, 0.005)
    c = note_vibrato_cents(n, t)
    assert np.all(c[t < 1.0] == 0)
    # starts at sin(2*pi*0.25) + 0.1 = 1.1 times the depth
    assert c[200] == pytest.approx(44.0)
    assert c[t >= 1.0].max() == pytest.approx(44.0, abs=0.5)
    assert c[t >= 1.0].min() == pytest.approx(-36.0, abs=0.5)
    period = np.argmax(c[221:]) + 221 - 200
    assert period * 0.005 == pytest.approx(0.2, abs=0.006)


def test_a_vibrato_of_length_zero_means_none_and_fades_are_linear():
    off = SungNote(0.0, 2.0, 60, vibrato=Vibrato(0, 200, 40))
    p = pitch_curve([off], T, settings=PitchSettings(drift_cents=0))
    assert np.allclose(p[(T > 0.3) & (T < 2.0)], 60.0)
    fading = SungNote(0.0, 1.0, 60, vibrato=Vibrato(100, 100, 50, fade_in_pct=50))
    c = note_vibrato_cents(fading, np.arange(0, 1.0, 0.005))
    assert np.abs(c[:25]).max() < 0.25 * 50 + 1e-9   # the first 125 ms: under a quarter
    assert np.abs(c[100:]).max() == pytest.approx(50, abs=1)
