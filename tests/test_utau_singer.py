"""UTAU voicebanks as singers: placement of samples, joins, the catalogue, the CLI,
and singing in tune with our own and with real voicebanks."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import real_folder
from signals import count_clicks, mid_note_cents, note_spans
from voicebanks import make_cv_bank

from utagoe.dsp.world import harvest_f0_hz
from utagoe.errors import UtagoeError
from utagoe.model import Note, Project, Tempo, Track
from utagoe.phrase.phrase import PhraseNote
from utagoe.rendering.engine import render_project
from utagoe.settings import RenderSettings, VoiceSettings
from utagoe.userconfig import (
    ConfigError,
    InstalledBank,
    UserConfig,
    load_config,
    save_config,
)
from utagoe.voices.registry import default_voices
from utagoe.voices.utau.aliases import NoteAliases
from utagoe.voices.utau.catalogue import resolve_source_singer
from utagoe.voices.utau.placement import MIN_FADE_S, place_units
from utagoe.timing.align import velocity_factor
from utagoe.voices.utau.singer import envelope_gain
from utagoe.voices.utau.voicebank import OtoEntry


def entry(alias="a", *, pre=100.0, ovl=40.0, cons=150.0, offset=0.0, cutoff=-800.0) -> OtoEntry:
    return OtoEntry(alias=alias, wav_path=Path("/bank/a.wav"), offset_ms=offset,
                    consonant_ms=cons, cutoff_ms=cutoff, preutter_ms=pre, overlap_ms=ovl,
                    source="oto.ini:1")


def note(i, start, end, *, lyric="あ", cont=False, **kw) -> PhraseNote:
    return PhraseNote(index=i, start_s=start, end_s=end, pitch=60, lyric=lyric,
                      syllables=() if cont else (("a",),), continuation=cont, **kw)


def al(*parts, tail=None) -> NoteAliases:
    return NoteAliases(parts=tuple(parts), tail=tail, tried=())


# -- placement ---------------------------------------------------------------------------

def test_preutterance_lands_on_the_note_and_overlap_crossfades():
    notes = [note(0, 1.0, 1.5), note(1, 1.5, 2.0)]
    units = place_units(notes, [al(entry(pre=100, ovl=40)), al(entry(pre=120, ovl=50))])
    assert len(units) == 2
    a, b = units
    assert a.start_s == pytest.approx(1.0 - 0.1)
    assert b.start_s == pytest.approx(1.5 - 0.12)
    # the first sample lasts until the second one's overlap ends, and fades out there
    assert a.end_s == pytest.approx(b.start_s + 0.05)
    assert a.fade_out_s == pytest.approx(0.05)
    assert b.fade_in_s == pytest.approx(0.05)
    # the last sample ends with its note
    assert b.end_s == pytest.approx(2.0)


def test_short_previous_note_scales_preutterance_and_overlap():
    notes = [note(0, 1.0, 1.1), note(1, 1.1, 2.0)]
    units = place_units(notes, [al(entry(pre=50, ovl=0)), al(entry(pre=300, ovl=100))])
    # preutter - overlap (200 ms) may take at most half of the 100 ms note before
    b = units[1]
    assert 1.1 - b.start_s == pytest.approx(0.3 * 0.05 / 0.2)
    assert b.fade_in_s == pytest.approx(0.1 * 0.05 / 0.2)


def test_velocity_scales_preutterance():
    assert velocity_factor(100) == 1.0
    assert velocity_factor(200) == pytest.approx(0.5)
    assert velocity_factor(0) == pytest.approx(2.0)
    fast = place_units([note(0, 1.0, 2.0, velocity_pct=200.0)], [al(entry(pre=100))])[0]
    slow = place_units([note(0, 1.0, 2.0, velocity_pct=0.0)], [al(entry(pre=100))])[0]
    assert 1.0 - fast.start_s == pytest.approx(0.05)
    assert 1.0 - slow.start_s == pytest.approx(0.2)


def test_project_preutterance_and_overlap_win_over_the_oto():
    u = place_units([note(0, 1.0, 2.0), note(1, 2.0, 3.0, preutter_ms=30.0, overlap_ms=10.0)],
                    [al(entry()), al(entry(pre=200, ovl=80))])
    assert 2.0 - u[1].start_s == pytest.approx(0.03)
    assert u[1].fade_in_s == pytest.approx(0.01)


def test_continuation_extends_the_sample_before_it():
    notes = [note(0, 1.0, 1.5), note(1, 1.5, 2.5, lyric="+", cont=True)]
    units = place_units(notes, [al(entry()), None])
    assert len(units) == 1 and units[0].end_s == pytest.approx(2.5)


def test_two_syllables_share_a_note_and_silent_notes_sound_nothing():
    units = place_units([note(0, 1.0, 2.0)], [al(entry("か", pre=0, ovl=0), entry("ろ", pre=0, ovl=0))])
    assert [u.start_s for u in units] == pytest.approx([1.0, 1.5])
    assert place_units([note(0, 1.0, 2.0)], [al()]) == []


def test_endings_and_vc_links():
    end = entry("a R", pre=20, ovl=30, cons=100)
    vc = entry("a k", pre=60, ovl=30)
    notes = [note(0, 1.0, 2.0), note(1, 2.0, 3.0)]
    units = place_units(notes, [al(entry(pre=80), tail=vc), al(entry("か", pre=90), tail=end)])
    roles = [u.role for u in units]
    assert roles == ["note", "vc", "note", "end"]
    link = units[1]
    # the link sits at the end of its note, as long as the next preutterance
    assert link.start_s == pytest.approx(2.0 - 0.09 - 0.06)
    ending = units[3]
    assert ending.start_s == pytest.approx(3.0 - 0.02)
    assert ending.end_s > 3.0


def test_every_unit_fades_in_and_out():
    notes = [note(i, 1.0 + 0.3 * i, 1.3 + 0.3 * i) for i in range(5)]
    units = place_units(notes, [al(entry(pre=p, ovl=o)) for p, o in
                                [(0, 0), (50, -20), (100, 0), (30, 30), (200, 150)]])
    for u in units:
        assert u.fade_in_s >= MIN_FADE_S - 1e-12 and u.fade_out_s >= MIN_FADE_S - 1e-12
        assert u.length_s > 0


def test_envelope_gain_follows_utau_points():
    t = np.array([0.0, 0.005, 0.05, 0.965, 1.0]) - 1e-9
    g = envelope_gain((0, 5, 35, 0, 100, 100, 0), 1.0, t.clip(0))
    assert g[0] == pytest.approx(0.0, abs=1e-3)
    assert g[2] == pytest.approx(1.0)
    assert g[-1] == pytest.approx(0.0, abs=1e-3)
    loud = envelope_gain((0, 5, 35, 0, 150, 150, 0), 1.0, np.array([0.5]))
    assert loud[0] == pytest.approx(1.5)
    assert envelope_gain((), 1.0, t) is None


# -- the user's settings and the project's singer ---------------------------------------

def test_config_round_trip_and_errors(tmp_path):
    path = tmp_path / "c" / "config.json"
    cfg = load_config(path)
    assert cfg.voicebanks == () and cfg.voice_folders == ()
    cfg = cfg.with_bank(InstalledBank("uta", "/v/uta", "Uta", "me", "free")).with_folder("/v")
    save_config(cfg)
    again = load_config(path)
    assert again.bank("uta") == InstalledBank("uta", "/v/uta", "Uta", "me", "free")
    assert again.voice_folders == ("/v",)
    with pytest.raises(ConfigError, match="already installed"):
        again.with_bank(InstalledBank("uta", "/x"))
    with pytest.raises(ConfigError, match="no installed voicebank is named 'nope'"):
        again.without_bank("nope")
    path.write_text("{not json")
    with pytest.raises(ConfigError, match=str(path)):
        load_config(path)
    path.write_text(json.dumps({"voicebanks": [{"name": 3}]}))
    with pytest.raises(ConfigError, match=r"voicebanks\[0\]"):
        load_config(path)


def test_voice_dir_resolves_only_inside_configured_folders(tmp_path):
    voice = tmp_path / "voice"
    (voice / "uta").mkdir(parents=True)
    outside = tmp_path / "elsewhere" / "bank"
    outside.mkdir(parents=True)
    cfg = UserConfig(tmp_path / "config.json", (), (str(voice),))
    assert resolve_source_singer("%VOICE%uta", cfg) == str((voice / "uta").resolve())
    assert resolve_source_singer(str(voice / "uta"), cfg) == str((voice / "uta").resolve())
    assert resolve_source_singer("%VOICE%..\\elsewhere\\bank", cfg) is None
    assert resolve_source_singer(str(outside), cfg) is None
    assert resolve_source_singer("%VOICE%missing", cfg) is None
    # a link inside the voice folder that leads outside is not followed
    (voice / "link").symlink_to(outside, target_is_directory=True)
    assert resolve_source_singer("%VOICE%link", cfg) is None
    named = UserConfig(tmp_path / "c.json", (InstalledBank("uta-v2", str(outside)),), ())
    assert resolve_source_singer("C:\\UTAU\\voice\\bank", named) == "uta-v2"
    assert resolve_source_singer("uta-v2", named) == "uta-v2"
    assert resolve_source_singer("", named) is None


# -- singing -----------------------------------------------------------------------------


Q = 480


def song(lyrics_pitches, *, bpm=120.0, rest_every=0):
    notes, t = [], Q
    for k, (lyr, p) in enumerate(lyrics_pitches):
        notes.append(Note(t, Q, p, lyr, source=f"note {k + 1}"))
        t += Q
        if rest_every and (k + 1) % rest_every == 0:
            t += Q
    return Project((Track("v", tuple(notes)),), tempos=(Tempo(0, bpm),), source_path="song")


def sing(project, singer, tmp_path, **kw):
    vs = VoiceSettings(analysis_cache_dir=str(tmp_path / "analysis"))
    reg = default_voices(vs, plugins=False, config=UserConfig(tmp_path / "none.json"))
    settings = RenderSettings(voice=vs, **kw)
    return render_project(project, singer=singer, settings=settings, voices=reg), reg


def spans(project):
    return note_spans(project)


def in_tune(result, project):
    x = result.audio.samples[0].astype(np.float64)
    f0 = harvest_f0_hz(x, sample_rate_hz=result.audio.sample_rate, frame_period_s=0.005)
    cents = mid_note_cents(f0, spans(project))
    for c, (s, _, _) in zip(cents, spans(project)):
        assert len(c) > 5, f"the note at {s:.2f} s is not sung"
    allc = np.concatenate(cents)
    return float(np.mean(np.abs(allc) < 50)), x


@pytest.fixture(scope="module")
def cv_bank(tmp_path_factory):
    return make_cv_bank(tmp_path_factory.mktemp("banks") / "testcv")


def test_a_voicebank_sings_in_tune_without_clicks(cv_bank, tmp_path):
    lyr = ["あ", "か", "い", "さ", "う", "た", "え", "な", "お", "か"]
    pitches = [57, 60, 62, 64, 65, 67, 69, 67, 64, 60]
    project = song(list(zip(lyr, pitches)), rest_every=5)
    result, _ = sing(project, str(cv_bank), tmp_path)
    ok, x = in_tune(result, project)
    assert ok >= 0.95
    assert count_clicks(x, result.audio.sample_rate) == 0
    assert not [w for w in result.warnings if "missing" in w]


def test_same_input_same_bytes_and_the_analysis_is_cached(cv_bank, tmp_path):
    project = song([("か", 60), ("さ", 62), ("た", 64)])
    a, _ = sing(project, str(cv_bank), tmp_path)
    files = sorted(p.name for p in (tmp_path / "analysis").rglob("*") if p.is_file())
    assert files, "the analysis was not written to the cache folder"
    b, _ = sing(project, str(cv_bank), tmp_path)
    assert a.audio.samples.tobytes() == b.audio.samples.tobytes()
    c, _ = sing(project, str(cv_bank), tmp_path, workers=2)
    assert a.audio.samples.tobytes() == c.audio.samples.tobytes()


def test_missing_aliases_fall_back_with_a_warning(cv_bank, tmp_path):
    project = song([("あ", 60), ("ぬ", 62), ("き", 64)])
    result, _ = sing(project, str(cv_bank), tmp_path)
    text = "\n".join(result.warnings)
    assert "ぬ" in text and "き" in text


def test_a_bad_entry_is_reported_with_its_line_and_the_rest_sings(tmp_path):
    bank = make_cv_bank(tmp_path / "bank")
    oto = (bank / "oto.ini").read_bytes().decode("cp932")
    # the 'か' entry's offset now lies past the end of ka.wav; the file is missing for 'さ'
    oto = oto.replace("ka.wav=か,0,", "ka.wav=か,99000,")
    (bank / "sa.wav").unlink()
    (bank / "oto.ini").write_bytes(oto.encode("cp932"))
    project = song([("あ", 60), ("か", 62), ("さ", 64)])
    result, _ = sing(project, str(bank), tmp_path)
    text = "\n".join(result.warnings)
    assert "oto.ini:" in text and "past the end" in text
    assert "sa.wav" in text
    assert np.max(np.abs(result.audio.samples)) > 0.1


def test_a_folder_that_is_no_voicebank_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UtagoeError, match="oto.ini"):
        sing(song([("あ", 60)]), str(tmp_path / "empty"), tmp_path)


def _cli(*args, env_dir: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, UTAGOE_CONFIG_DIR=str(env_dir / "config"),
               UTAGOE_CACHE_DIR=str(env_dir / "cache"))
    return subprocess.run([sys.executable, "-m", "utagoe", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


UST = """[#VERSION]
UST Version1.2
[#SETTING]
Tempo=120.00
VoiceDir=%VOICE%testcv
[#0000]
Length=480
Lyric=R
NoteNum=60
[#0001]
Length=480
Lyric=あ
NoteNum=60
[#0002]
Length=480
Lyric=か
NoteNum=64
[#0003]
Length=960
Lyric=さ
NoteNum=67
[#TRACKEND]
"""


def test_cli_installs_lists_shows_and_sings_a_voicebank(tmp_path):
    voice = tmp_path / "voice"
    bank = make_cv_bank(voice / "testcv")
    (tmp_path / "song.ust").write_bytes(UST.encode("cp932"))
    before = (tmp_path / "song.ust").read_bytes()
    # not installed: the built-in singer sings, and says so
    r = _cli("render", "song.ust", "-o", "a.wav", "-q", env_dir=tmp_path, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "utagoe does not have" in r.stderr and "testcv" in r.stderr
    # a voice folder makes the UST's VoiceDir find its bank
    r = _cli("singers", "add-folder", str(voice), env_dir=tmp_path, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = _cli("render", "song.ust", "-o", "b.wav", "-q", env_dir=tmp_path, cwd=tmp_path)
    assert r.returncode == 0 and "does not have" not in r.stderr, r.stderr
    # installed by name
    r = _cli("singers", "add", str(bank), "--name", "tcv", env_dir=tmp_path, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = _cli("singers", env_dir=tmp_path, cwd=tmp_path)
    assert "tcv" in r.stdout and "Test CV" in r.stdout and "song070" in r.stdout
    r = _cli("singers", "show", "tcv", env_dir=tmp_path, cwd=tmp_path)
    assert r.returncode == 0 and "A voicebank the tests made." in r.stdout
    r = _cli("render", "song.ust", "-o", "c.wav", "-q", "--singer", "tcv", env_dir=tmp_path,
             cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    import soundfile

    b, _ = soundfile.read(tmp_path / "b.wav")
    c, _ = soundfile.read(tmp_path / "c.wav")
    assert np.array_equal(b, c)
    r = _cli("singers", "remove", "tcv", env_dir=tmp_path, cwd=tmp_path)
    assert r.returncode == 0
    r = _cli("render", "song.ust", "-o", "d.wav", "--singer", "tcv", env_dir=tmp_path, cwd=tmp_path)
    assert r.returncode == 2 and "tcv" in r.stderr
    assert (tmp_path / "song.ust").read_bytes() == before
    assert bank.joinpath("oto.ini").exists()


# -- real voicebanks ---------------------------------------------------------------------

def _bank(shared, rel):
    return real_folder(shared, "voicebank", rel)


@pytest.mark.shared
def test_iona_cv_bank_sings_in_tune(shared_data, tmp_path):
    bank = _bank(shared_data, "utsu-Iona_Beta-subset")
    lyr = ["a", "ka", "i", "sa", "u", "ta", "e", "na", "o", "ka", "a", "n"]
    pitches = [60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 60]
    project = song(list(zip(lyr, pitches)), rest_every=4)
    result, _ = sing(project, str(bank), tmp_path)
    ok, x = in_tune(result, project)
    assert ok >= 0.95
    assert count_clicks(x, result.audio.sample_rate) == 0
    assert not [w for w in result.warnings if "missing" in w or "instead" in w]


@pytest.mark.shared
def test_alys_vcv_bank_sings_in_tune(shared_data, tmp_path):
    bank = _bank(shared_data, "ALYS-jpn-plus-subset")
    phrase1 = ["あ", "か", "い", "か", "う", "か", "け"]
    phrase2 = ["な", "に", "な", "ぬ", "な", "ね"]
    pitches1 = [60, 62, 64, 62, 60, 57, 60]
    pitches2 = [64, 65, 67, 65, 64, 62]
    project = song(list(zip(phrase1, pitches1)) + list(zip(phrase2, pitches2)), rest_every=0)
    notes = list(project.tracks[0].notes)
    # a rest between the two phrases
    notes = notes[:7] + [Note(n.start_ticks + Q, n.duration_ticks, n.pitch, n.lyric) for n in notes[7:]]
    project = Project((Track("v", tuple(notes)),), tempos=project.tempos)
    result, _ = sing(project, str(bank), tmp_path)
    ok, x = in_tune(result, project)
    assert ok >= 0.95
    assert count_clicks(x, result.audio.sample_rate) == 0
    assert not [w for w in result.warnings if "missing" in w or "instead" in w], result.warnings


def test_an_edit_resings_only_the_phrase_it_touched(cv_bank, tmp_path):
    from dataclasses import replace

    from utagoe.rendering.cache import RenderCache

    project = song([("あ", 60), ("か", 62), ("さ", 64), ("た", 62), ("な", 60), ("い", 57)],
                   rest_every=2)
    vs = VoiceSettings(analysis_cache_dir=str(tmp_path / "analysis"))
    reg = default_voices(vs, plugins=False, config=UserConfig(tmp_path / "none.json"))
    settings = RenderSettings(voice=vs)
    cache = RenderCache()
    first = render_project(project, singer=str(cv_bank), settings=settings, voices=reg, cache=cache)
    assert first.phrases_rendered == 3
    notes = list(project.tracks[0].notes)
    notes[3] = replace(notes[3], pitch=65)
    edited = replace(project, tracks=(replace(project.tracks[0], notes=tuple(notes)),))
    again = render_project(edited, singer=str(cv_bank), settings=settings, voices=reg, cache=cache)
    assert (again.phrases_rendered, again.phrases_cached) == (1, 2)
    fresh = render_project(edited, singer=str(cv_bank), settings=settings, voices=reg)
    assert again.audio.samples.tobytes() == fresh.audio.samples.tobytes()
