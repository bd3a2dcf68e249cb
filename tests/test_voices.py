"""The voice contract and the voice catalogue: cache keys that cover what the audio
depends on, plug-ins made lazily, broken plug-ins reported while the built-in
singer still sings, and the singer's language checked."""
from dataclasses import replace

import numpy as np
import pytest

from utagoe.audio import Audio
from utagoe.errors import UnknownNameError, UtagoeError, VoiceError
from utagoe.model import Note, Project, Tempo, Track
from utagoe.rendering.engine import RenderCache, render_project
from utagoe.settings import MixSettings, RenderSettings, VoiceSettings
from utagoe.voices.base import PhraseVoice, RenderJob, SingerInfo, Voice
from utagoe.voices.registry import VoiceRegistry, default_voices

RATE = 8000
AT_RATE = RenderSettings(mix=MixSettings(sample_rate_hz=RATE))


class ToneVoice(PhraseVoice):
    """Each phrase as a constant tone at its first pitch (a phrase-by-phrase voice)."""

    sample_rate_hz = RATE

    def __init__(self, name="tone", language="ja", level=0.3):
        self.info = SingerInfo(name, name.title(), language, "none", "test voice")
        self.level = level
        self.calls = 0

    def settings_key(self):
        return f"level={self.level}"

    def render(self, phrase, *, cancel=None):
        self.calls += 1
        n = int(round(phrase.duration_s * RATE))
        hz = 440.0 * 2 ** ((phrase.pitch.values[0] - 69) / 12)
        return Audio((self.level * np.sin(2 * np.pi * hz * np.arange(n) / RATE)).astype(np.float32),
                     RATE)


class TrackJob:
    def __init__(self, n, level):
        self.n, self.level = n, level

    def run(self, *, cancel=None):
        return Audio(np.full(self.n, self.level, dtype=np.float32), RATE)


class WholeTrackVoice:
    """A voice whose every phrase depends on the whole track (like the HTS singer's
    global variance): each phrase's level is the track's phrase count."""

    info = SingerInfo("whole", "Whole", "ja", "none", "test voice")
    sample_rate_hz = RATE

    def __init__(self):
        self.jobs = 0

    def cache_keys(self, phrases):
        track = "|".join(p.key() for p in phrases)
        return [f"{track}#{i}" for i in range(len(phrases))]

    def track_jobs(self, phrases, *, need, cancel=None):
        level = 0.1 * len(phrases)
        for i, (p, wanted) in enumerate(zip(phrases, need)):
            if wanted:
                self.jobs += 1
                yield i, TrackJob(int(round(p.duration_s * RATE)), level)


def registry(*voices):
    reg = VoiceRegistry()
    for v in voices:
        reg.register(v.info, lambda settings, v=v: v)
    return reg


def song(n_phrases=2):
    notes = []
    for k in range(n_phrases):
        notes += [Note(480 + 1920 * k, 480, 60 + k, "か"), Note(960 + 1920 * k, 480, 62 + k, "き")]
    return Project((Track("v", tuple(notes)),), tempos=(Tempo(0, 120.0),))


def test_both_kinds_of_voice_implement_the_protocol():
    assert isinstance(ToneVoice(), Voice) and isinstance(WholeTrackVoice(), Voice)
    assert isinstance(TrackJob(1, 0.1), RenderJob)


def test_a_phrase_voice_sings_each_phrase_once_and_its_keys_cover_its_settings():
    v = ToneVoice()
    cache = RenderCache()
    render_project(song(3), voices=registry(v), settings=AT_RATE, cache=cache)
    assert v.calls == 3
    again = render_project(song(3), voices=registry(v), settings=AT_RATE, cache=cache)
    assert v.calls == 3 and again.phrases_cached == 3
    louder = ToneVoice(level=0.6)   # same name, other settings: nothing may come from the cache
    res = render_project(song(3), voices=registry(louder), settings=AT_RATE, cache=cache)
    assert res.phrases_rendered == 3 and louder.calls == 3


def test_a_track_context_voice_re_sings_the_track_and_matches_a_full_render():
    """An edit in one phrase changes what the track's other phrases sound like: the
    cache must not return their old audio."""
    v = WholeTrackVoice()
    cache = RenderCache()
    render_project(song(2), voices=registry(v), settings=AT_RATE, cache=cache)
    longer = song(3)   # one more phrase: every phrase's level changes
    cached = render_project(longer, voices=registry(v), settings=AT_RATE, cache=cache)
    fresh = render_project(longer, voices=registry(WholeTrackVoice()), settings=AT_RATE)
    assert cached.phrases_rendered == 3
    assert np.array_equal(cached.audio.samples, fresh.audio.samples)


def test_a_voice_returning_bad_audio_is_named():
    class Stereo(ToneVoice):
        def render(self, phrase, *, cancel=None):
            return Audio(np.zeros((2, 100), np.float32), RATE)

    class WrongRate(ToneVoice):
        def render(self, phrase, *, cancel=None):
            return Audio(np.zeros(100, np.float32), RATE * 2)

    class NaNs(ToneVoice):
        def render(self, phrase, *, cancel=None):
            return Audio(np.full(100, np.nan, np.float32), RATE)

    for cls, needle in ((Stereo, "mono"), (WrongRate, "Hz"), (NaNs, "NaN")):
        with pytest.raises(VoiceError, match=needle) as err:
            render_project(song(), voices=registry(cls("bad")), settings=AT_RATE)
        assert "'bad'" in str(err.value)


def test_the_singers_language_must_be_the_lyrics_language():
    v = ToneVoice("english", language="en")
    with pytest.raises(UtagoeError, match=r"singer 'english' sings 'en' lyrics, but "
                                          r"RenderSettings.language is 'ja'"):
        render_project(song(), voices=registry(v), settings=AT_RATE)
    ok = ToneVoice("nihongo", language="ja-JP")
    assert render_project(song(), voices=registry(ok), settings=AT_RATE).phrases_rendered == 2


class FakeEntryPoint:
    def __init__(self, name, factory, value="pkg.mod:factory"):
        self.name, self.value, self._factory = name, value, factory
        self.loaded = 0

    def load(self):
        self.loaded += 1
        if isinstance(self._factory, Exception):
            raise self._factory
        return self._factory


def test_plug_ins_are_made_on_first_use_with_the_settings():
    seen = []

    def factory(settings):
        seen.append(settings)
        return ToneVoice("plug")

    ep = FakeEntryPoint("plug", factory)
    reg = VoiceRegistry(VoiceSettings(vocoder="world"))
    reg.register(ToneVoice("builtin").info, lambda s: ToneVoice("builtin"))
    reg.add_plugins([ep])
    assert reg.names() == ["builtin", "plug"] and ep.loaded == 0
    assert reg.default_name == "builtin"
    res = render_project(song(), singer="plug", voices=reg, settings=AT_RATE)
    assert res.phrases_rendered == 2 and ep.loaded == 1
    assert seen[0].vocoder == "world"
    reg.get("plug")
    assert ep.loaded == 1   # made once


def test_a_broken_plug_in_is_a_warning_and_the_built_in_singer_still_sings():
    broken = FakeEntryPoint("broken", ImportError("No module named 'numpyy'"))
    not_a_voice = FakeEntryPoint("junk", lambda settings: object())
    clash = FakeEntryPoint("builtin", lambda settings: ToneVoice("builtin"))
    reg = VoiceRegistry()
    reg.register(ToneVoice("builtin").info, lambda s: ToneVoice("builtin"))
    reg.add_plugins([broken, not_a_voice, clash])
    assert [i.name for i in reg.infos()] == ["builtin"]
    text = "\n".join(reg.warnings)
    assert "'broken' (pkg.mod:factory) failed to load: ImportError" in text
    assert "'junk'" in text and "Voice protocol" in text
    assert "already installed" in text
    res = render_project(song(), voices=reg, settings=AT_RATE)
    assert res.phrases_rendered == 2
    assert any("broken" in w for w in res.warnings)
    with pytest.raises(VoiceError, match="failed to load"):
        render_project(song(), singer="broken", voices=reg, settings=AT_RATE)
    with pytest.raises(UnknownNameError, match="builtin, broken, junk"):
        reg.get("nobody")


def test_default_voices_lists_the_built_in_singer_first_without_loading_it():
    reg = default_voices(plugins=False)
    assert reg.names()[0] == "song070" and reg.default_name == "song070"
    assert reg.infos()[0].licence == "CC-BY 3.0"
    assert not reg._made   # listing did not read the voice file


def song070_phrases(voices, project):
    from utagoe.lyrics.registry import default_phonemizers
    from utagoe.phrase.build import build_track_phrases

    v = voices.get("song070")
    return v, build_track_phrases(project, 0, singer="song070",
                                  phonemizer=default_phonemizers().get("ja"),
                                  settings=RenderSettings()).phrases


def test_the_built_in_singers_keys_cover_the_track_and_its_settings(builtin_voices):
    v, phrases = song070_phrases(builtin_voices, song(3))
    keys = v.cache_keys(phrases)
    assert len(set(keys)) == 3
    # the first phrase's key changes when a later phrase changes (one utterance)
    _, edited = song070_phrases(builtin_voices, replace(song(3), tracks=(
        replace(song(3).tracks[0], notes=song(3).tracks[0].notes[:-1]
                + (replace(song(3).tracks[0].notes[-1], pitch=70),)),)))
    assert v.cache_keys(edited)[0] != keys[0]
    world = default_voices(VoiceSettings(vocoder="world"), plugins=False).get("song070")
    assert world.cache_keys(phrases) != keys


def test_the_built_in_singer_after_an_edit_with_a_cache_is_a_full_render(builtin_voices):
    cache = RenderCache()
    render_project(song(2), voices=builtin_voices, cache=cache)
    t = song(2).tracks[0]
    edited = replace(song(2), tracks=(replace(t, notes=t.notes[:-1] + (replace(t.notes[-1], pitch=65),)),))
    cached = render_project(edited, voices=builtin_voices, cache=cache)
    fresh = render_project(edited, voices=builtin_voices)
    assert np.array_equal(cached.audio.samples, fresh.audio.samples)
    again = render_project(edited, voices=builtin_voices, cache=cache)
    assert again.phrases_rendered == 0 and np.array_equal(again.audio.samples, fresh.audio.samples)
