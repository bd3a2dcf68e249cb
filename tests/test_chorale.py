"""The four-part chorale example sung by four different built-in voices: each
part in tune on its own stem, the mix unclipped and at the loudness asked for."""
from pathlib import Path

import numpy as np
import pytest
from signals import count_clicks, count_sharp_steps, note_spans, pitch_check

import utagoe
from utagoe.mix.loudness import integrated_loudness
from utagoe.settings import MixSettings, RenderSettings, TrackSettings

CHORALE = Path(__file__).resolve().parents[1] / "examples" / "chorale_hotaru.musicxml"
SINGERS = {"Soprano": "song070", "Alto": "mei", "Tenor": "song070-deep", "Bass": "mei-deep"}


@pytest.fixture(scope="module")
def sung(builtin_voices):
    project = utagoe.load(CHORALE)
    settings = RenderSettings(
        workers=2, mix=MixSettings(loudness_lufs=-16.0),
        tracks=tuple(TrackSettings(name, singer=s, pan=p)
                     for (name, s), p in zip(SINGERS.items(), (-0.3, 0.3, -0.15, 0.15))))
    return project, utagoe.render(project, settings=settings, voices=builtin_voices)


def test_four_parts_four_voices(sung):
    project, result = sung
    assert [t.name for t in project.tracks] == list(SINGERS)
    assert [(t.name, t.singer) for t in result.tracks] == list(SINGERS.items())
    assert result.audio.channels == 2


def test_each_stem_sings_its_part_in_tune(sung):
    project, result = sung
    for k, (track, stem) in enumerate(zip(project.tracks, result.stems())):
        x = stem.samples.mean(axis=0).astype(np.float64)
        assert count_clicks(x, stem.sample_rate) == 0, track.name
        # the bass sings F#2, half the pitch the voice's model gives it: before
        # HTSTuning.harmonic_min_ratio its pulses were lonely blips (62 of them);
        # a period of 10.8 ms leaves a pulse alone in the detector's 20 ms window,
        # so a few pulses of that note still count (1-3, by the GV cap)
        assert count_sharp_steps(x, stem.sample_rate) <= 5, track.name
        check = pitch_check(x, stem.sample_rate, note_spans(project, k))
        assert check.least_voiced > 0, f"{track.name}: a note without voice"
        assert check.worst_median_cents < 25, track.name
        assert check.within_50c >= 0.95, f"{track.name}: {check.within_50c:.1%} within 50 cents"


def test_the_mix_is_unclipped_and_at_the_loudness_asked(sung):
    _, result = sung
    x = result.audio.samples
    assert np.max(np.abs(x)) <= 10 ** (-1 / 20) + 1e-6
    assert integrated_loudness(result.audio) == pytest.approx(-16.0, abs=1.0)
    # and the parts are heard: no stem more than 6 LU under the others
    stems = [integrated_loudness(s) for s in result.stems()]
    assert max(stems) - min(stems) < 6, stems
