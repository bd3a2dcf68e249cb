"""The second built-in singer, mei (the HTS speech voice in pyopenjtalk-plus),
end to end: in tune, clean, deterministic, and a voice of its own.

pyopenjtalk-plus (which ships the voice file) is a dependency: where it is
missing the singer cannot be made and these tests fail, saying why.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from signals import count_clicks, note_spans, pitch_check

from utagoe.errors import VoiceError
from utagoe.model import Note, Project, Tempo, Track
from utagoe.rendering.engine import render_project

BPM = 100.0
Q = 480


@pytest.fixture(scope="module")
def voices(builtin_voices):
    try:
        builtin_voices.get("mei")
    except VoiceError as exc:
        pytest.fail(f"the singer 'mei' cannot be made: {exc}", pytrace=False)
    return builtin_voices


def score():
    # rest, a phrase with a leap and close vowels, a rest, a held note with a melisma
    lyr = [("さ", 67), ("く", 69), ("ら", 72), ("い", 64), ("す", 65), ("ん", 67)]
    notes = [Note(Q + i * Q, Q, p, l) for i, (l, p) in enumerate(lyr)]
    notes.append(Note(8 * Q, 3 * Q, 69, "お"))
    notes.append(Note(11 * Q, Q, 67, "+"))
    return Project((Track("v", tuple(notes)),), tempos=(Tempo(0, BPM),))


@pytest.fixture(scope="module")
def rendered(voices):
    return render_project(score(), singer="mei", voices=voices)


def test_mei_is_registered_after_song070_with_its_credit(builtin_voices):
    names = builtin_voices.names()
    assert names[0] == "song070" and builtin_voices.default_name == "song070"
    info = next(i for i in builtin_voices.infos() if i.name == "mei")
    assert info.licence == "CC-BY 3.0" and info.language == "ja"
    assert "Nagoya Institute of Technology" in info.credit and "pyopenjtalk-plus" in info.credit


def test_find_mei_does_not_import_pyopenjtalk():
    code = ("import sys; from utagoe.voices.hts.mei import find_mei; p = find_mei(); "
            "assert p.name == 'mei_normal.htsvoice' and p.is_file(); "
            "assert 'pyopenjtalk' not in sys.modules, 'imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_listing_the_singers_does_not_read_mei():
    code = ("import sys; from utagoe.voices.registry import default_voices; "
            "r = default_voices(plugins=False); r.infos(); "
            "assert 'utagoe.voices.hts.singer' not in sys.modules; "
            "assert 'utagoe.voices.hts.ojt_labels' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sings_in_tune(rendered):
    a = rendered.audio
    assert a.sample_rate == 48000
    assert np.all(np.isfinite(a.samples))
    check = pitch_check(a.samples[0], 48000, note_spans(score()))
    assert check.least_voiced > 0.8, "a note is mostly unvoiced"
    assert check.within_50c >= 0.95


def test_every_note_is_heard(rendered):
    """Close vowels (い, す) are quiet in speech; sung, every vowel stays within
    12 dB of the loudest note's level. ん (a hum) is quieter still, as it is in
    mei's speech: within 30 dB."""
    x = rendered.audio.samples[0].astype(np.float64)
    p = score()
    levels = []
    for s, e, _ in note_spans(p):
        d = e - s
        seg = x[int((s + 0.2 * d) * 48000):int((e - 0.2 * d) * 48000)]
        levels.append(10 * np.log10(np.mean(seg ** 2) + 1e-12))
    hum = [lv for lv, n in zip(levels, p.tracks[0].notes) if n.lyric == "ん"]
    vowels = [lv for lv, n in zip(levels, p.tracks[0].notes) if n.lyric != "ん"]
    assert max(levels) - min(vowels) < 12, np.round(levels, 1)
    assert max(levels) - min(hum) < 30, np.round(levels, 1)


def test_no_clicks_and_silent_rests(rendered):
    x = rendered.audio.samples[0].astype(np.float64)
    assert count_clicks(x, 48000) == 0
    ax = score().time_axis()
    mid = ax.tick_to_seconds(7.5 * Q)
    rest = x[int((mid - 0.05) * 48000):int((mid + 0.05) * 48000)]
    assert np.sqrt(np.mean(rest ** 2)) < 1e-3


def test_same_input_same_bytes(voices, rendered):
    again = render_project(score(), singer="mei", voices=voices)
    assert np.array_equal(again.audio.samples, rendered.audio.samples)


def test_a_different_voice_from_song070(voices, rendered):
    other = render_project(score(), singer="song070", voices=voices).audio.samples[0]
    ours = rendered.audio.samples[0]
    n = min(len(other), len(ours))
    # different spectra: the log spectra of the sung middle differ clearly
    a, b = ours[int(1.0 * 48000):int(4.0 * 48000)], other[int(1.0 * 48000):int(4.0 * 48000)]

    def spectrum_db(x):
        frames = x[: len(x) // 2048 * 2048].reshape(-1, 2048) * np.hanning(2048)
        return 10 * np.log10(np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0) + 1e-12)

    assert n > 0 and not np.array_equal(ours[:n], other[:n])
    assert np.mean(np.abs(spectrum_db(a) - spectrum_db(b))) > 2.0


def test_cache_keys_name_the_labeller(voices):
    from utagoe.phrase.build import build_track_phrases
    from utagoe.lyrics.registry import default_phonemizers
    from utagoe.settings import RenderSettings

    p = score()
    song, mei = voices.get("song070"), voices.get("mei")
    phr = {}
    for name in ("song070", "mei"):
        phr[name] = build_track_phrases(p, 0, singer="x", phonemizer=default_phonemizers().get("ja"),
                                        settings=RenderSettings()).phrases
    assert song.labeller is None and mei.labeller is not None
    assert set(song.cache_keys(phr["song070"])).isdisjoint(mei.cache_keys(phr["mei"]))
    assert "openjtalk" in mei.labeller.name


def test_missing_pyopenjtalk_is_a_clear_error(monkeypatch):
    import importlib.util

    from utagoe.voices.hts import mei

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(VoiceError, match="pyopenjtalk-plus"):
        mei.find_mei()


def test_mei_tuning_fills_the_fields_the_user_leaves_at_their_defaults():
    from utagoe.settings import VoiceSettings
    from utagoe.voices.hts.mei import make_mei, mei_tuning
    from utagoe.voices.hts.tuning import HTSTuning

    own = mei_tuning()
    assert own != HTSTuning()
    assert make_mei(VoiceSettings()).tuning == own
    mine = make_mei(VoiceSettings(hts=HTSTuning(context_phrases=1, dynamics_ratio=0.3))).tuning
    assert mine.context_phrases == 1 and mine.dynamics_ratio == 0.3
    assert mine.gv_max_ratio == own.gv_max_ratio


def test_phrase_windows_sing_too(voices):
    """With ``context_phrases`` each window is an utterance of its own labels."""
    from utagoe.settings import VoiceSettings
    from utagoe.voices.hts.mei import MEI_INFO, make_mei
    from utagoe.voices.hts.tuning import HTSTuning
    from utagoe.voices.registry import VoiceRegistry

    reg = VoiceRegistry(VoiceSettings(hts=HTSTuning(context_phrases=0)))
    reg.register(MEI_INFO, make_mei)
    a = render_project(score(), singer="mei", voices=reg).audio
    x = a.samples[0]
    assert np.all(np.isfinite(x)) and a.duration_s >= score().duration_s() - 0.01
    assert count_clicks(x.astype(np.float64), 48000) == 0
