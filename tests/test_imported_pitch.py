"""Pitch curves, vibratos and pitch deviation that come with a score reach the phrases."""
from dataclasses import replace

import numpy as np
import pytest

from utagoe.lyrics import JapanesePhonemizer
from utagoe.model import Note, PitchPoint, Project, Tempo, Track, TrackCurve, Vibrato
from utagoe.phrase.build import build_track_phrases
from utagoe.settings import RenderSettings


def project(notes, curves=()):
    return Project(tracks=(Track("t", tuple(notes), curves=tuple(curves)),),
                   tempos=(Tempo(0, 120.0),))


def phrase_pitch(proj):
    tp = build_track_phrases(proj, 0, singer="x", phonemizer=JapanesePhonemizer(),
                             settings=RenderSettings())
    (ph,) = tp.phrases
    return ph.pitch.times_s(), ph.pitch.values


def test_track_curve_is_linear_inside_and_default_outside():
    c = TrackCurve("pitd", (0, 100, 200), (0.0, 100.0, 0.0), default=-5.0)
    assert list(c.sample([-1, 0, 50, 100, 150, 200, 201])) == [-5, 0, 50, 100, 50, 0, -5]
    assert TrackCurve("x", (), ()).sample([1, 2]).tolist() == [0, 0]
    with pytest.raises(ValueError):
        TrackCurve("x", (2, 1), (0, 0))


def test_pitch_deviation_curve_moves_the_sung_pitch_by_its_cents():
    notes = [Note(480, 960, 60, "ら"), Note(1440, 960, 62, "ら")]
    t, plain = phrase_pitch(project(notes))
    # +100 cents over the second note only (ticks 1440..2400 = 1.5..2.5 s at 120 bpm)
    curve = TrackCurve("pitd", (1440, 2399), (100.0, 100.0))
    t2, bent = phrase_pitch(project(notes, [curve]))
    assert np.array_equal(t, t2)
    diff = bent - plain
    assert np.allclose(diff[(t >= 1.5) & (t < 2.49)], 1.0)
    assert np.allclose(diff[t < 1.49], 0.0)


def test_note_points_and_vibrato_reach_the_phrase():
    glide = (PitchPoint(-100, -200, "l"), PitchPoint(0, 0, "io"))
    notes = [Note(480, 960, 58, "ら"),
             Note(1440, 960, 60, "ら", pitch_points=glide,
                  vibrato=Vibrato(50, 200, 30))]
    t, p = phrase_pitch(project(notes))
    i = int(np.argmin(np.abs(t - 1.45)))
    assert p[i] == pytest.approx(59.0, abs=0.02)      # half way along the straight glide
    vib = p[(t >= 2.0) & (t < 2.5)] - 60.0
    assert vib.max() == pytest.approx(0.30, abs=0.02)
    assert vib.min() == pytest.approx(-0.30, abs=0.02)
    flat = p[(t >= 1.55) & (t < 1.95)]
    assert np.allclose(flat, 60.0)                     # drawn notes get no automatic wobble


def test_an_edit_to_a_pitch_point_changes_the_phrase_key():
    a = project([Note(480, 960, 60, "ら", pitch_points=(PitchPoint(-50, -100),
                                                         PitchPoint(0, 0)))])
    n = a.tracks[0].notes[0]
    b = replace(a, tracks=(replace(a.tracks[0], notes=(replace(
        n, pitch_points=(PitchPoint(-50, -150), PitchPoint(0, 0))),)),))
    ka = build_track_phrases(a, 0, singer="x", phonemizer=JapanesePhonemizer(),
                             settings=RenderSettings()).phrases[0].key()
    kb = build_track_phrases(b, 0, singer="x", phonemizer=JapanesePhonemizer(),
                             settings=RenderSettings()).phrases[0].key()
    assert ka != kb


def test_drawn_pitch_beyond_the_midi_range_is_sung_at_its_edge_with_a_warning():
    wild = (PitchPoint(-50, 90_000), PitchPoint(50, -90_000))
    proj = project([Note(480, 960, 120, "ら", pitch_points=wild,
                         vibrato=Vibrato(100, 100, 200, drift_pct=100))],
                   [TrackCurve("pitd", (0, 5000), (5000.0, -5000.0))])
    tp = build_track_phrases(proj, 0, singer="x", phonemizer=JapanesePhonemizer(),
                             settings=RenderSettings())
    values = tp.phrases[0].pitch.values
    assert np.all(np.isfinite(values)) and values.min() >= 0 and values.max() <= 127
    assert any("MIDI range" in w for w in tp.warnings)


def test_track_curves_must_be_finite():
    with pytest.raises(ValueError):
        TrackCurve("pitd", (0,), (float("nan"),))
