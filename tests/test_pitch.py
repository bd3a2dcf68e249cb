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
                      jitter_cents=0, vibrato_depth_cents=0)
    notes = [SungNote(0.5, 1.0, 60), SungNote(1.0, 1.5, 67)]
    p = pitch_curve(notes, T, settings=s)
    seg = p[(T > 0.6) & (T < 1.4)]
    assert np.all(np.diff(seg) >= -1e-9)
    assert seg[0] == pytest.approx(60) and seg[-1] == pytest.approx(67)


def test_overshoot_goes_past_the_target_then_settles():
    s = PitchSettings(fluctuation=False, vibrato_depth_cents=0, scoop_cents=0)
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
    late = v[(T > 1.5) & (T < 2.4)] * 100
    # the natural style's extent: around 32 cents, never above 42 (in tune within 50)
    assert 15 < late.max() <= 42 + 1e-9 and -42 - 1e-9 <= late.min() < -15
    # about 5-7 Hz: count zero crossings over 0.9 s
    crossings = np.sum(np.diff(np.sign(late)) != 0)
    assert 9 <= crossings <= 13


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
    p = pitch_curve([off], T, settings=PitchSettings(fluctuation=False))
    assert np.allclose(p[(T > 0.3) & (T < 2.0)], 60.0)
    fading = SungNote(0.0, 1.0, 60, vibrato=Vibrato(100, 100, 50, fade_in_pct=50))
    c = note_vibrato_cents(fading, np.arange(0, 1.0, 0.005))
    assert np.abs(c[:25]).max() < 0.25 * 50 + 1e-9   # the first 125 ms: under a quarter
    assert np.abs(c[100:]).max() == pytest.approx(50, abs=1)


# -- the natural automatic pitch: shaped by the music, different on every note, reproducible

from dataclasses import FrozenInstanceError  # noqa: E402

from utagoe.errors import InvalidValueError  # noqa: E402
from utagoe.expression.pitch import (PITCH_STYLES, style_profile, transition_length_s,  # noqa: E402
                                      transitions, vibrato_plan)

QUIET = dict(fluctuation=False)


def _song(n_notes: int = 60, *, seed: int = 3) -> list[SungNote]:
    """A made-up song: legato runs of short and long notes, leaps, rests, tuned notes."""
    rng = np.random.default_rng(seed)
    notes, t, pitch = [], 0.3, 64
    for i in range(n_notes):
        d = float(rng.choice([0.18, 0.25, 0.4, 0.6, 1.2, 2.0]))
        pitch = int(np.clip(pitch + rng.choice([-7, -4, -2, -1, 0, 1, 2, 3, 5, 12]), 55, 79))
        tuning = float(rng.choice([0.0, 0.0, 0.0, 15.0, -10.0]))
        notes.append(SungNote(round(t, 3), round(t + d, 3), pitch, tuning_cents=tuning))
        t += d + (float(rng.choice([0.3, 0.8])) if rng.random() < 0.15 else 0.0)
    return notes


def _crossing_times(t: np.ndarray, y: np.ndarray, level: float) -> np.ndarray:
    """Times where y first reaches ``level`` going up (linear between frames)."""
    i = np.nonzero((y[:-1] < level) & (y[1:] >= level))[0]
    return t[i] + (level - y[i]) / (y[i + 1] - y[i]) * (t[i + 1] - t[i])


def _rise_10_90_s(p: np.ndarray, t: np.ndarray, lo: float, hi: float) -> float:
    """The time from the last 10 % crossing to the first 90 % one of a move lo -> hi."""
    y = (p - lo) / (hi - lo)
    t90 = _crossing_times(t, y, 0.9)[0]
    before = t < t90
    t10 = _crossing_times(t[before], y[before], 0.1)[-1]
    return float(t90 - t10)


def test_styles_validate_and_resolve():
    for style in PITCH_STYLES:
        s = PitchSettings(style=style)
        assert s.profile() == style_profile(style)
    assert PitchSettings().style == "natural"
    with pytest.raises(InvalidValueError, match=r"^PitchSettings\.style must be one of"):
        PitchSettings(style="wild")
    with pytest.raises(InvalidValueError, match=r"^PitchSettings\.fluctuation"):
        PitchSettings(fluctuation="no")
    with pytest.raises(InvalidValueError, match=r"^PitchSettings\.vibrato_rate_wander"):
        PitchSettings(vibrato_rate_wander=-0.1)
    s = PitchSettings(style="plain", vibrato_depth_cents=25.0)
    assert s.profile().vibrato_depth_cents == 25.0 and s.profile().overshoot_ratio == 0.0
    assert PitchSettings(fluctuation=False).profile().jitter_cents == 0.0
    with pytest.raises(FrozenInstanceError):
        s.style = "natural"  # type: ignore[misc]
    assert not hasattr(s, "__dict__")
    nat, exp = style_profile("natural"), style_profile("expressive")
    assert exp.vibrato_depth_cents > nat.vibrato_depth_cents
    assert exp.overshoot_max_cents > nat.overshoot_max_cents and exp.scoop_cents > nat.scoop_cents


def test_every_long_note_has_its_own_vibrato_within_the_ranges():
    notes = [SungNote(0.5 + 1.5 * i, 1.7 + 1.5 * i, 60 + i % 12) for i in range(40)]
    for style, (rate_lo, rate_hi), (depth_lo, depth_hi) in (
            ("natural", (5.0, 7.0), (20.0, 42.0)), ("expressive", (4.7, 7.0), (27.0, 50.0))):
        plan = vibrato_plan(notes, settings=PitchSettings(style=style))
        rates = np.array([v.rate_hz for v in plan])
        depths = np.array([v.depth_cents for v in plan])
        assert np.all((rates >= rate_lo) & (rates <= rate_hi)), rates
        assert np.all((depths >= depth_lo) & (depths <= depth_hi)), depths
        assert len(set(rates.round(3))) > 30 and len(set(depths.round(2))) > 30
        assert 0.1 < rates.std() < 0.6 and 2.0 < depths.std() < 8.0
    # and on the curve: every note's measured extent differs, none beyond the ceiling
    t = np.arange(0, 61.0, 0.005)
    p = pitch_curve(notes, t, settings=PitchSettings(**QUIET))
    extents = []
    for n in notes:
        sel = (t > n.start_s + 0.75) & (t < n.end_s - 0.1)
        c = (p[sel] - n.pitch) * 100
        extents.append((c.max() - c.min()) / 2)
        assert np.max(np.abs(c)) <= 42.0 + 1e-6
    assert np.std(extents) > 1.5


def test_vibrato_rate_and_depth_wander_within_a_note():
    n = SungNote(0.0, 4.0, 60)
    t = np.arange(0, 4.0, 0.001)

    def periods_and_peaks(s):
        c = (apply_vibrato(np.full_like(t, 60.0), [n], t, settings=s) - 60.0) * 100
        zc = _crossing_times(t, c, 0.0)
        peaks = [c[(t >= a) & (t < b)].max() for a, b in zip(zc[:-1], zc[1:])]
        return np.diff(zc), np.array(peaks)

    s = PitchSettings(**QUIET)
    v = vibrato_plan([n], settings=s)[0]
    periods, peaks = periods_and_peaks(s)
    # the local rate and depth move ...
    assert periods.std() > 0.002 and np.ptp(peaks[1:-1]) > 2.0
    # ... around the note's own rate
    assert 1 / np.mean(periods) == pytest.approx(v.rate_hz, rel=0.06)
    # without the wander the rate only rises toward the end of the note (Prame 1994)
    steady, _ = periods_and_peaks(PitchSettings(vibrato_rate_wander=0, **QUIET))
    assert np.all(np.diff(steady) <= 1e-4) and steady[-1] < steady[0] * 0.97
    still, flat_peaks = periods_and_peaks(PitchSettings(vibrato_rate_wander=0, vibrato_end_rise=0,
                                                        vibrato_depth_wander=0, **QUIET))
    assert np.ptp(still) < 2e-3 and np.ptp(flat_peaks[3:-1]) < 0.5


def test_same_seed_same_bytes_other_seed_other_curve():
    notes = _song()
    t = np.arange(0, notes[-1].end_s + 1, 0.005)
    a = pitch_curve(notes, t, settings=PitchSettings(seed=7))
    b = pitch_curve(list(notes), t.copy(), settings=PitchSettings(seed=7))
    c = pitch_curve(notes, t, settings=PitchSettings(seed=8))
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, c)
    assert np.all(np.isfinite(a))


@pytest.mark.parametrize("style", PITCH_STYLES)
def test_a_window_of_notes_and_frames_is_the_slice_of_the_whole_curve(style):
    notes = _song()
    s = PitchSettings(style=style, seed=11)
    t = np.round(np.arange(0, notes[-1].end_s + 1, 0.005), 6)
    whole = pitch_curve(notes, t, settings=s)
    starts = np.array([n.start_s for n in notes])
    for a_s, b_s in ((2.0, 5.5), (7.3, 9.0), (11.0, 20.0), (0.0, 3.0)):
        i0, i1 = np.searchsorted(t, (a_s, b_s))
        # the notes near the window, as phrase/build.py picks them
        lo = max(0, int(np.searchsorted(starts, a_s - 2.0)) - 1)
        hi = int(np.searchsorted(starts, b_s + 2.0)) + 1
        part = pitch_curve(notes[lo:hi], t[i0:i1], settings=s)
        assert np.array_equal(part, whole[i0:i1]), (a_s, b_s)


def test_transition_time_grows_with_the_interval():
    s = PitchSettings(overshoot_ratio=0, preparation_ratio=0, vibrato_depth_cents=0,
                      variation=0, **QUIET)
    t = np.arange(0, 2.0, 0.0005)
    times = {}
    for step in (1, 3, 7, 12):
        for sign in (1, -1):
            notes = [SungNote(0.2, 1.0, 60), SungNote(1.0, 1.8, 60 + sign * step)]
            p = pitch_curve(notes, t, settings=s)
            y = p if sign > 0 else -p
            lo, hi = (60, 60 + step) if sign > 0 else (-60, -60 + step)
            times[sign * step] = _rise_10_90_s(y, t, lo, hi)
    assert times[1] < times[3] < times[7] < times[12]
    assert times[-1] < times[-3] < times[-7] < times[-12]
    assert 0.03 < times[1] and times[12] < 0.2
    # large rises take longer than large falls (Xu & Sun 2002)
    assert times[12] > times[-12]
    prof = s.profile()
    # and shorter notes (a faster tempo) shorten them, within their share of the note
    long = transition_length_s(5, 0.8, 0.8, profile=prof)
    short = transition_length_s(5, 0.2, 0.2, profile=prof)
    assert short < long and short <= prof.portamento_max_share * 0.2


def test_upward_moves_overshoot_more_than_downward_and_prepare_the_other_way():
    s = PitchSettings(vibrato_depth_cents=0, variation=0, **QUIET)
    t = np.arange(0, 2.0, 0.001)
    up = pitch_curve([SungNote(0.2, 1.0, 60), SungNote(1.0, 1.8, 65)], t, settings=s)
    down = pitch_curve([SungNote(0.2, 1.0, 65), SungNote(1.0, 1.8, 60)], t, settings=s)
    after = (t > 0.95) & (t < 1.4)
    over_up = (up[after].max() - 65) * 100
    over_down = (60 - down[after].min()) * 100
    assert 20 <= over_up <= 60
    assert 0 < over_down < over_up
    # the overshoot is gone within about 150 ms of the move's end
    assert np.allclose(up[(t > 1.3) & (t < 1.8)], 65.0)
    before = (t > 0.75) & (t < 1.0)
    assert up[before].min() < 60 - 0.03 and down[before].max() > 65 + 0.03  # preparation


def test_no_transition_across_a_rest_but_a_scoop_into_the_phrase():
    s = PitchSettings(vibrato_depth_cents=0, **QUIET)
    t = np.arange(0, 2.5, 0.005)
    notes = [SungNote(0.5, 1.0, 60), SungNote(1.3, 2.0, 67)]
    assert transitions(notes, settings=s) == [None, None]
    p = pitch_curve(notes, t, settings=s)
    # nothing between the notes' pitches but the scoop's 30-odd cents below the new one
    between = (p > 60.01) & (p < 67 - 0.5)
    assert not np.any(between)
    assert p[int(round(1.3 / 0.005))] < 67 - 0.15
    assert p[(t > 1.5) & (t < 2.0)] == pytest.approx(67.0)
    # legato notes do get a transition
    legato = [SungNote(0.5, 1.0, 60), SungNote(1.03, 2.0, 67)]
    assert transitions(legato, settings=s)[1] is not None


def test_plain_is_steps_with_short_transitions_and_flat_notes():
    s = PitchSettings(style="plain")
    notes = _song(30)
    t = np.arange(0, notes[-1].end_s + 1, 0.005)
    p = pitch_curve(notes, t, settings=s)
    for n in notes:
        if n.duration_s >= 0.4:
            held = (t > n.start_s + 0.05) & (t < n.end_s - 0.05)
            assert np.ptp(p[held]) * 100 < 1.0
            assert p[held] == pytest.approx(n.sung_pitch)
    for m in transitions(notes, settings=s):
        if m is not None:
            assert 0.02 <= m.length_s <= 0.05


def test_held_notes_fluctuate_a_few_cents_unless_turned_off():
    n = [SungNote(0.2, 3.0, 62)]
    t = np.arange(0, 3.0, 0.005)
    held = (t > 0.5) & (t < 2.9)
    wavy = (pitch_curve(n, t, settings=PitchSettings(vibrato_depth_cents=0))[held] - 62) * 100
    assert 0.5 < wavy.std() < 6 and np.max(np.abs(wavy)) < 15
    # the jitter is fine, the drift slow: both move, neither jumps
    assert np.max(np.abs(np.diff(wavy))) < 1.5
    flat = pitch_curve(n, t, settings=PitchSettings(vibrato_depth_cents=0, fluctuation=False))
    assert np.all(flat[held] == 62.0)


def test_per_note_portamento_length_and_offset_move_the_transition():
    s = PitchSettings(overshoot_ratio=0, preparation_ratio=0, vibrato_depth_cents=0, **QUIET)
    t = np.arange(0, 2.0, 0.001)
    auto = [SungNote(0.2, 1.0, 60), SungNote(1.0, 1.8, 64)]
    slow = [auto[0], SungNote(1.0, 1.8, 64, portamento_s=0.3, portamento_offset_s=0.0)]
    early = [auto[0], SungNote(1.0, 1.8, 64, portamento_s=0.1, portamento_offset_s=-0.2)]
    pa = pitch_curve(auto, t, settings=s)
    ps = pitch_curve(slow, t, settings=s)
    pe = pitch_curve(early, t, settings=s)
    at = lambda p, x: p[int(round(x / 0.001))]  # noqa: E731
    assert at(ps, 1.0) == pytest.approx(60.0) and at(ps, 1.15) == pytest.approx(62.0)
    assert at(ps, 1.3) == pytest.approx(64.0)
    assert at(pe, 0.8) == pytest.approx(60.0) and at(pe, 0.85) == pytest.approx(62.0)
    assert at(pe, 0.9) == pytest.approx(64.0)
    assert at(pa, 1.0) not in (pytest.approx(60.0), pytest.approx(64.0))
    # a note after a rest: its scoop takes the note's portamento
    scoop = pitch_curve([SungNote(0.5, 1.5, 64, portamento_s=0.4)], t,
                        settings=PitchSettings(vibrato_depth_cents=0, variation=0, **QUIET))
    assert at(scoop, 0.7) == pytest.approx(64 - 0.15) and at(scoop, 0.95) == pytest.approx(64.0)


def test_per_note_tuning_shifts_the_note_and_centres_its_vibrato():
    t = np.arange(0, 3.0, 0.005)
    s = PitchSettings(**QUIET)
    plain = pitch_curve([SungNote(0.2, 2.8, 60)], t, settings=s)
    sharp = pitch_curve([SungNote(0.2, 2.8, 60, tuning_cents=20.0)], t, settings=s)
    inside = (t > 0.3) & (t < 2.7)
    assert np.allclose(sharp[inside] - plain[inside], 0.2)  # the same vibrato, 20 cents up
    steps = [SungNote(0.2, 1.0, 60), SungNote(1.0, 2.0, 62, tuning_cents=-30.0)]
    q = pitch_curve(steps, t, settings=PitchSettings(style="plain"))
    assert q[(t > 1.2) & (t < 1.9)] == pytest.approx(61.7)


def test_own_vibrato_and_points_still_win_over_the_automatic_ones():
    t = np.arange(0, 3.0, 0.005)
    s = PitchSettings(**QUIET)
    v = Vibrato(length_pct=50, period_ms=150, depth_cents=20)
    own = SungNote(0.2, 2.8, 60, vibrato=v)
    p = pitch_curve([own], t, settings=s)
    inside = (t > 0.4) & (t < 2.8)
    np.testing.assert_allclose((p[inside] - 60) * 100, note_vibrato_cents(own, t)[inside], atol=1e-9)
    pts = ((0.0, -100.0, "l"), (0.5, 0.0, "l"))
    drawn = SungNote(1.0, 2.8, 64, points=pts, portamento_s=0.3)
    q = pitch_curve([SungNote(0.2, 1.0, 60), drawn], t, settings=PitchSettings())
    assert q[int(round(1.25 / 0.005))] == pytest.approx(63.5)
    assert np.allclose(q[(t >= 1.5) & (t < 2.8)], 64.0)  # no vibrato, drift or jitter


def test_a_song_curve_costs_a_few_ms_per_phrase():
    import time

    notes = _song(200)
    starts = np.array([n.start_s for n in notes])
    t = np.arange(0, notes[-1].end_s, 0.005)
    t0 = time.perf_counter()
    for a_s in np.arange(0, notes[-1].end_s, 5.0):
        i0, i1 = np.searchsorted(t, (a_s, a_s + 5.0))
        lo = max(0, int(np.searchsorted(starts, a_s - 2.0)) - 1)
        hi = int(np.searchsorted(starts, a_s + 7.0)) + 1
        pitch_curve(notes[lo:hi], t[i0:i1], settings=PitchSettings(style="expressive"))
    per_phrase_s = (time.perf_counter() - t0) / len(np.arange(0, notes[-1].end_s, 5.0))
    assert per_phrase_s < 0.05  # generous: a few ms on a quiet machine
