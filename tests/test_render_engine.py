"""The render boundary with a test voice: placement, caching, peak, cancellation."""
from dataclasses import replace

import numpy as np
import pytest

from utagoe.audio import Audio
from utagoe.cancel import CancelToken
from utagoe.errors import RenderCancelled
from utagoe.model import Note, Project, Tempo, Track
from utagoe.model.units import midi_to_hz
from utagoe.rendering.engine import RenderCache, render_project
from utagoe.settings import MixSettings, RenderSettings
from utagoe.voices.base import PhraseVoice, SingerInfo
from utagoe.voices.registry import VoiceRegistry

RATE = 16000
AT_RATE = RenderSettings(mix=MixSettings(sample_rate_hz=RATE))


class SineVoice(PhraseVoice):
    """Sings the phrase's pitch curve as a sine: enough to test the plumbing."""

    info = SingerInfo("sine", "Sine", "ja", "none", "test voice")
    sample_rate_hz = RATE

    def __init__(self):
        self.rendered = []

    def render(self, phrase, *, cancel=None):
        self.rendered.append(phrase.key())
        n = int(round(phrase.duration_s * RATE))
        t_frames = phrase.pitch.times_s()
        t = phrase.start_s + np.arange(n) / RATE
        hz = midi_to_hz(np.interp(t, t_frames, phrase.pitch.values))
        phase = 2 * np.pi * np.cumsum(hz) / RATE
        return Audio((0.3 * np.sin(phase)).astype(np.float32), RATE)


def registry(voice):
    reg = VoiceRegistry()
    reg.register(voice.info, lambda settings: voice)
    return reg


def song():
    # two phrases separated by a half-note rest, at 120 bpm
    notes = (Note(480, 480, 60, "か"), Note(960, 480, 64, "き"),
             Note(2400, 480, 67, "く"), Note(2880, 960, 65, "け"))
    return Project((Track("v", notes),), tempos=(Tempo(0, 120.0),))


def test_phrases_are_placed_on_the_song_clock():
    v = SineVoice()
    res = render_project(song(), voices=registry(v), settings=AT_RATE)
    assert res.phrases_rendered == 2 and len(v.rendered) == 2
    x = res.audio.samples[0]
    assert res.audio.sample_rate == RATE
    # silence in the middle of the rest, sound in the middle of each note
    mid_rest = x[int(1.95 * RATE):int(2.05 * RATE)]
    assert np.max(np.abs(mid_rest)) == 0
    assert np.max(np.abs(x[int(0.6 * RATE):int(0.9 * RATE)])) > 0.5
    # peak normalised to -1 dBFS
    assert np.max(np.abs(x)) == pytest.approx(10 ** (-1 / 20), rel=1e-4)
    assert np.all(np.isfinite(x))


def test_an_edit_re_renders_only_the_phrase_it_touched():
    v = SineVoice()
    reg = registry(v)
    cache = RenderCache()
    settings = AT_RATE
    p = song()
    render_project(p, voices=reg, cache=cache, settings=settings)
    t = p.tracks[0]
    edited = replace(p, tracks=(replace(t, notes=t.notes[:3] + (replace(t.notes[3], pitch=62),)),))
    res = render_project(edited, voices=reg, cache=cache, settings=settings)
    assert res.phrases_rendered == 1 and res.phrases_cached == 1
    again = render_project(edited, voices=reg, cache=cache, settings=settings)
    assert again.phrases_rendered == 0
    assert np.array_equal(again.audio.samples, res.audio.samples)


def test_same_input_gives_the_same_phrase_keys():
    from utagoe.lyrics.registry import default_phonemizers
    from utagoe.phrase.build import build_track_phrases

    ph = default_phonemizers().get("ja")
    a = build_track_phrases(song(), 0, singer="x", phonemizer=ph, settings=RenderSettings())
    b = build_track_phrases(song(), 0, singer="x", phonemizer=ph, settings=RenderSettings())
    assert [p.key() for p in a.phrases] == [p.key() for p in b.phrases]
    assert len({p.key() for p in a.phrases}) == len(a.phrases)
    for ph_ in a.phrases:
        # phonemes are contiguous, inside the phrase, one label each
        assert ph_.phonemes[0].start_s == pytest.approx(ph_.start_s)
        assert ph_.phonemes[-1].end_s == pytest.approx(ph_.end_s)
        for x, y in zip(ph_.phonemes, ph_.phonemes[1:]):
            assert x.end_s == pytest.approx(y.start_s)
        assert len(ph_.labels) == len(ph_.phonemes)
        assert len(ph_.pitch.values) == ph_.frame_count()


def test_progress_and_cancel():
    v = SineVoice()
    seen = []
    render_project(song(), voices=registry(v), settings=AT_RATE,
                   progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)
    tok = CancelToken()
    tok.cancel()
    with pytest.raises(RenderCancelled):
        render_project(song(), voices=registry(SineVoice()), cancel=tok,
                       settings=AT_RATE)


def test_unknown_singer_lists_the_known_ones():
    from utagoe.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="sine"):
        render_project(song(), singer="nobody", voices=registry(SineVoice()))


def test_absurdly_long_songs_are_refused_before_any_work():
    from utagoe.errors import UtagoeError

    v = SineVoice()
    p = Project((Track("v", (Note(0, 480, 60, "あ"), Note(480 * 10 ** 6, 480, 62, "い"))),),
                tempos=(Tempo(0, 120.0),), source_path="long.musicxml")
    with pytest.raises(UtagoeError, match=r"long.musicxml: the song is .* min long"):
        render_project(p, voices=registry(v))
    assert v.rendered == []


from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402

LYRICS = ["あ", "か", "きゃ", "っ", "ん", "かん", "+", "ー", "しゃっ", "a か", "to"]


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 20000), st.integers(1, 3000), st.integers(0, 127),
                          st.sampled_from(LYRICS)), min_size=1, max_size=40),
       st.floats(20.0, 400.0))
def test_any_score_makes_contiguous_labelled_phrases(raw, bpm):
    from utagoe.lyrics.registry import default_phonemizers
    from utagoe.phrase.build import build_track_phrases

    notes = tuple(Note(s, d, p, lyr) for s, d, p, lyr in raw)
    project = Project((Track("v", notes),), tempos=(Tempo(0, bpm),))
    tp = build_track_phrases(project, 0, singer="x", phonemizer=default_phonemizers().get("ja"),
                             settings=RenderSettings())
    last_end = -1.0
    for ph in tp.phrases:
        assert ph.start_s >= last_end - 1e-9          # phrases do not overlap
        last_end = ph.end_s
        assert len(ph.labels) == len(ph.phonemes) and ph.labels
        assert ph.phonemes[0].start_s == pytest.approx(ph.start_s)
        assert ph.phonemes[-1].end_s == pytest.approx(ph.end_s)
        for a, b in zip(ph.phonemes, ph.phonemes[1:]):
            assert a.end_s == pytest.approx(b.start_s) and b.end_s > b.start_s
        assert len(ph.pitch.values) == ph.frame_count()
        assert np.all(np.isfinite(ph.pitch.values))


def test_muted_tracks_are_not_sung_and_volume_and_pan_shape_the_mix():
    base = song().tracks[0]
    quiet = replace(base, name="quiet", volume_db=-20.0, pan=-1.0)
    loud = replace(base, name="loud", pan=1.0)
    muted = replace(base, name="muted", muted=True)
    proj = replace(song(), tracks=(quiet, loud, muted))
    v = SineVoice()
    res = render_project(proj, voices=registry(v), settings=AT_RATE)
    assert len(res.tracks) == 2
    assert any("muted" in w for w in res.warnings)
    left, right = res.audio.samples
    # hard left holds only the quiet track, hard right only the loud one: 20 dB apart
    ratio = np.max(np.abs(right)) / np.max(np.abs(left))
    assert 20 * np.log10(ratio) == pytest.approx(20.0, abs=0.1)


def test_a_song_whose_every_track_is_muted_is_refused():
    proj = replace(song(), tracks=(replace(song().tracks[0], muted=True),))
    with pytest.raises(Exception, match="muted"):
        render_project(proj, voices=registry(SineVoice()),
                       settings=AT_RATE)


def test_notes_without_lyrics_are_refused_with_a_hint():
    from utagoe.errors import UtagoeError

    t = song().tracks[0]
    bare = replace(song(), tracks=(replace(t, notes=t.notes[:2] + tuple(
        replace(n, lyric="") for n in t.notes[2:])),), source_path="melody.mid")
    with pytest.raises(UtagoeError, match=r"melody.mid: track 1 \('v'\): 2 of its 4 notes have "
                                          r"no lyric.*--default-lyric"):
        render_project(bare, voices=registry(SineVoice()), settings=AT_RATE)
    lenient = RenderSettings(mix=MixSettings(sample_rate_hz=RATE), lenient_lyrics=True)
    res = render_project(bare, voices=registry(SineVoice()), settings=lenient)
    assert res.phrases_rendered == 2 and res.warnings


@pytest.mark.parametrize("bad", [np.nan, 1000.0])
def test_a_voice_that_returns_unplayable_audio_is_named(bad):
    from utagoe.errors import VoiceError

    class BadVoice(SineVoice):
        info = SingerInfo("bad", "Bad", "ja", "none", "test voice")

        def render(self, phrase, *, cancel=None):
            a = super().render(phrase, cancel=cancel)
            x = a.samples.copy()
            x[0, 10] = bad
            return Audio(x, RATE)

    with pytest.raises(VoiceError, match="voice 'bad', phrase at"):
        render_project(song(), voices=registry(BadVoice()), settings=AT_RATE)
