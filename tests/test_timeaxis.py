import numpy as np
import pytest

from utagoe.model import Note, Project, Tempo, TimeAxis, TimeSignature, Track
from utagoe.model.units import TICKS_PER_QUARTER, cents_to_ratio, hz_to_midi, midi_to_hz, midi_to_name


def test_constant_tempo():
    ax = TimeAxis.from_tempos([Tempo(0, 120.0)])
    assert ax.tick_to_seconds(480) == pytest.approx(0.5)
    assert ax.seconds_to_tick(1.0) == pytest.approx(960)


def test_tempo_changes_are_piecewise():
    ax = TimeAxis.from_tempos([Tempo(0, 120.0), Tempo(960, 60.0), Tempo(1920, 240.0)])
    assert ax.tick_to_seconds(960) == pytest.approx(1.0)
    assert ax.tick_to_seconds(1920) == pytest.approx(3.0)
    assert ax.tick_to_seconds(2400) == pytest.approx(3.25)
    ticks = np.array([0, 480, 960, 1440, 1920, 2400])
    np.testing.assert_allclose(ax.ticks_to_seconds(ticks), [ax.tick_to_seconds(t) for t in ticks])
    for t in ticks:
        assert ax.seconds_to_tick(ax.tick_to_seconds(t)) == pytest.approx(t)


def test_missing_tempo_at_zero_takes_the_first():
    ax = TimeAxis.from_tempos([Tempo(480, 60.0)])
    assert ax.tick_to_seconds(480) == pytest.approx(1.0)


def test_units_round_trip():
    assert midi_to_hz(69) == pytest.approx(440.0)
    assert hz_to_midi(880.0) == pytest.approx(81.0)
    assert cents_to_ratio(1200) == pytest.approx(2.0)
    assert midi_to_name(60) == "C4"


def test_project_duration_and_signatures():
    notes = (Note(0, 480, 60, "a"), Note(480, 960, 62, "i"))
    p = Project((Track("v", notes),), tempos=(Tempo(0, 60.0),),
                time_signatures=(TimeSignature(0, 4, 4), TimeSignature(960, 3, 4)))
    assert p.end_ticks == 1440
    assert p.duration_s() == pytest.approx(3.0)
    assert p.time_signature_at(1000).numerator == 3
    assert TimeSignature(0, 6, 8).measure_ticks == 3 * TICKS_PER_QUARTER
