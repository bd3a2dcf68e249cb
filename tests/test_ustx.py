"""OpenUtau .ustx reader and writer: inline projects, hostile YAML, real files, round trips."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from utagoe.errors import InvalidValueError, ScoreFormatError
from utagoe.formats import limits
from utagoe.formats import ReadOptions
from utagoe.formats.ustx import (CURVE_EXPRESSIONS, MAX_DEPTH, NOTE_EXPRESSIONS,
                                 PHONEMIZER_DEFAULT, PHONEMIZER_JAPANESE, read, sniff, write)
from utagoe.model import (CONTINUATION, KeySignature, Note, PitchPoint, Project, Tempo,
                          TimeSignature, Track, TrackCurve, Vibrato)

from conftest import SHARED
from scaling import assert_scales_linearly

# --------------------------------------------------------------------------------------
# Writing USTX inline (our own minimal projects, in the shape OpenUtau writes)

HEAD = """ustx_version: "0.7"
name: Inline song
resolution: 480
bpm: 120
beat_per_bar: 4
beat_unit: 4
"""

TRACK = """- singer: My Singer
  phonemizer: OpenUtau.Core.DefaultPhonemizer
  track_name: {name}
  mute: {mute}
  volume: {volume}
  pan: {pan}
"""


def n(pos, dur, tone, lyric, *, pitch=None, snap="true", vibrato=None, extra=""):
    """One note in flow style. ``pitch``: list of (x, y, shape)."""
    parts = [f"position: {pos}", f"duration: {dur}", f"tone: {tone}", f"lyric: {lyric}"]
    if pitch is not None:
        pts = ", ".join(f"{{x: {x}, y: {y}, shape: {s}}}" for x, y, s in pitch)
        parts.append(f"pitch: {{data: [{pts}], snap_first: {snap}}}")
    if vibrato is not None:
        parts.append(f"vibrato: {vibrato}")
    if extra:
        parts.append(extra)
    return "{" + ", ".join(parts) + "}"


def part(notes, *, track_no=0, position=0, name="Part", curves=""):
    body = "".join(f"\n  - {x}" for x in notes) if notes else " []"
    return (f"- name: {name}\n  track_no: {track_no}\n  position: {position}\n"
            f"  notes:{body}\n  curves:{curves or ' []'}\n")


def project(*parts, tracks=None, head=HEAD, tempos="- {position: 0, bpm: 120}",
            sigs="- {bar_position: 0, beat_per_bar: 4, beat_unit: 4}", extra="") -> bytes:
    """A whole project; ``tracks``: list of (name, mute, volume, pan)."""
    tracks = tracks if tracks is not None else [("Vocal", "false", 0, 0)]
    ts = "".join(TRACK.format(name=a, mute=b, volume=c, pan=d) for a, b, c, d in tracks)
    text = head
    if sigs is not None:
        text += f"time_signatures:\n{sigs}\n"
    if tempos is not None:
        text += f"tempos:\n{tempos}\n"
    body = "\n" + "".join(parts) if parts else " []\n"
    text += f"tracks:\n{ts}voice_parts:{body}{extra}"
    return text.encode("utf-8")


SIMPLE = project(part([n(0, 480, 60, "あ"), n(480, 480, 62, "い"), n(1440, 240, 64, "+")]))


def rd(data: bytes, **kw) -> Project:
    return read(data, path="song.ustx", options=ReadOptions(**kw))


def notes(p: Project, track: int = 0):
    return [(x.start_ticks, x.duration_ticks, x.pitch, x.lyric) for x in p.tracks[track].notes]


def raises(data: bytes, match=None, **kw) -> ScoreFormatError:
    with pytest.raises(ScoreFormatError, match=match) as e:
        rd(data, **kw)
    assert e.value.path == "song.ustx"
    return e.value


def sane(p: Project) -> None:
    """Invariants every Project we return must hold."""
    assert p.tempos and p.tempos[0].tick == 0
    assert all(limits.bpm_ok(t.bpm) for t in p.tempos)
    assert p.time_signatures and p.time_signatures[0].tick == 0
    for t in p.tracks:
        assert t.notes
        assert -1.0 <= t.pan <= 1.0
        starts = [x.start_ticks for x in t.notes]
        assert starts == sorted(starts)
        for x in t.notes:
            assert 0 <= x.pitch <= 127 and x.duration_ticks > 0 and x.start_ticks >= 0
            assert x.end_ticks <= limits.MAX_TICKS
    assert all(isinstance(w, str) for w in p.warnings)


# --------------------------------------------------------------------------------------
# Reading: the basics


def test_simple_project():
    p = rd(SIMPLE)
    assert notes(p) == [(0, 480, 60, "あ"), (480, 480, 62, "い"), (1440, 240, 64, CONTINUATION)]
    assert p.title == "Inline song" and p.source_path == "song.ustx"
    assert p.tempos == (Tempo(0, 120.0),)
    assert p.time_signatures == (TimeSignature(0, 4, 4),)
    t = p.tracks[0]
    assert (t.name, t.source_singer, t.singer, t.muted) == ("Vocal", "My Singer", None, False)
    assert t.notes[0].source.startswith("line ")
    # a '+' after a rest sings the vowel before it again, as in every format: no warning
    assert p.warnings == ()
    sane(p)


def test_a_continuation_with_no_note_before_it_is_named():
    p = rd(project(part([n(0, 480, 60, "+"), n(480, 480, 62, "a")])))
    assert any("nothing to continue" in w for w in p.warnings)


def test_sniff():
    assert sniff(SIMPLE[:4096])
    assert sniff(b"\xef\xbb\xbfname: x\nustx_version: \"0.6\"\n")
    assert sniff(b"name: x\nustx_version:0.6")
    assert not sniff(b"name: x\nversion: 0.6\n")
    assert not sniff(b"<?xml version='1.0'?><score-partwise/>")
    assert not sniff(b"")
    assert not sniff(bytes(range(256)) * 20)
    assert sniff(write(Project(tracks=())))


def test_part_position_is_added_and_parts_of_a_track_merge():
    data = project(part([n(0, 480, 60, "a"), n(480, 480, 62, "b")], position=1920, name="B"),
                   part([n(0, 240, 67, "c")], position=0, name="A"))
    assert notes(rd(data)) == [(0, 240, 67, "c"), (1920, 480, 60, "a"), (2400, 480, 62, "b")]


def test_notes_are_sorted_within_a_part():
    data = project(part([n(960, 480, 64, "c"), n(0, 480, 60, "a"), n(480, 480, 62, "b")]))
    assert [x[3] for x in notes(rd(data))] == ["a", "b", "c"]


def test_tempo_and_time_signature_lists_win_over_legacy_values():
    head = HEAD.replace("bpm: 120", "bpm: 100").replace("beat_per_bar: 4", "beat_per_bar: 3")
    p = rd(project(part([n(0, 480, 60, "a")]), head=head,
                   tempos="- {position: 0, bpm: 130}\n- {position: 3840, bpm: 90.5}",
                   sigs="- {bar_position: 0, beat_per_bar: 2, beat_unit: 4}"))
    assert p.tempos == (Tempo(0, 130.0), Tempo(3840, 90.5))
    assert p.time_signatures == (TimeSignature(0, 2, 4),)


def test_legacy_values_are_used_without_lists():
    head = HEAD.replace('"0.7"', '"0.5"').replace("bpm: 120", "bpm: 140").replace(
        "beat_per_bar: 4", "beat_per_bar: 3").replace("beat_unit: 4", "beat_unit: 8")
    p = rd(project(part([n(0, 480, 60, "a")]), head=head, tempos=None, sigs=None))
    assert p.tempos == (Tempo(0, 140.0),)
    assert p.time_signatures == (TimeSignature(0, 3, 8),)


def test_time_signatures_walk_the_bars():
    sigs = ("- {bar_position: 0, beat_per_bar: 3, beat_unit: 4}\n"
            "- {bar_position: 2, beat_per_bar: 4, beat_unit: 4}\n"
            "- {bar_position: 3, beat_per_bar: 6, beat_unit: 8}\n"
            "- {bar_position: 5, beat_per_bar: 5, beat_unit: 16}")
    p = rd(project(part([n(0, 480, 60, "a")]), sigs=sigs))
    # 2 bars of 3/4 (1440 each), 1 bar of 4/4, 2 bars of 6/8 (1440 each)
    assert p.time_signatures == (TimeSignature(0, 3, 4), TimeSignature(2880, 4, 4),
                                 TimeSignature(4800, 6, 8), TimeSignature(7680, 5, 16))


def test_first_tempo_and_signature_not_at_zero():
    p = rd(project(part([n(0, 480, 60, "a")]), tempos="- {position: 960, bpm: 90}",
                   sigs="- {bar_position: 1, beat_per_bar: 3, beat_unit: 4}"))
    assert p.tempos == (Tempo(0, 90.0), Tempo(960, 90.0))
    assert p.time_signatures == (TimeSignature(0, 4, 4), TimeSignature(1920, 3, 4))
    assert len(p.warnings) == 2


def test_key():
    p = rd(project(part([n(0, 480, 60, "a")]), extra="key: 7\n"))
    assert p.key_signatures == (KeySignature(0, fifths=1, mode="major"),)
    p = rd(project(part([n(0, 480, 60, "a")]), extra="key: 5\n"))
    assert p.key_signatures[0].fifths == -1


def test_track_fields():
    data = project(part([n(0, 480, 60, "a")]), part([n(0, 480, 50, "b")], track_no=1),
                   tracks=[("Lead", "false", -3.5, 50), ("Back", "true", 6, -150)])
    p = rd(data)
    a, b = p.tracks
    assert (a.name, a.volume_db, a.pan, a.muted) == ("Lead", -3.5, 0.5, False)
    assert (b.name, b.volume_db, b.pan, b.muted) == ("Back", 6.0, -1.0, True)
    assert any("pan -150" in w and "clamped" in w for w in p.warnings)


def test_tracks_without_notes_and_wave_parts_are_left_out_with_warnings():
    wave = "wave_parts:\n- {name: backing.wav, track_no: 1, position: 0, relative_path: a.wav}\n"
    p = rd(project(part([n(0, 480, 60, "a")]), tracks=[("V", "false", 0, 0),
                                                       ("Audio", "false", 0, 0)], extra=wave))
    assert [t.name for t in p.tracks] == ["V"]
    assert any("wave part 'backing.wav' (audio) is not played" in w for w in p.warnings)
    assert any("track 'Audio' has no notes" in w for w in p.warnings)


def test_a_project_without_notes():
    raises(project(), match="the file has no notes")
    p = rd(project(), keep_tracks_without_lyrics=True)
    assert p.tracks == () and any("no notes" in w for w in p.warnings)


def test_a_track_without_lyrics_is_not_sung():
    data = project(part([n(0, 480, 60, "a")]), part([n(0, 480, 48, "''")], track_no=1),
                   tracks=[("V", "false", 0, 0), ("Bass", "false", 0, 0)])
    p = rd(data)
    assert [t.name for t in p.tracks] == ["V"]
    assert any("'Bass' (--part 2, 1 note) has no lyrics and is not sung" in w for w in p.warnings)
    raises(data, match="'Bass' .* has no lyrics; give --default-lyric", part=2)
    assert [t.name for t in rd(data, part=2, keep_tracks_without_lyrics=True).tracks] == ["Bass"]
    assert [t.name for t in rd(data, keep_tracks_without_lyrics=True).tracks] == ["V", "Bass"]
    assert [x.lyric for x in rd(data, part=2, default_lyric="la").tracks[0].notes] == ["la"]


def test_part_option():
    data = project(part([n(0, 480, 60, "a")]), part([n(0, 480, 50, "b")], track_no=2),
                   tracks=[("Lead", "false", 0, 0), ("Empty", "false", 0, 0),
                           ("Harmony", "false", 0, 0)])
    assert [t.name for t in rd(data).tracks] == ["Lead", "Harmony"]
    assert [t.name for t in rd(data, part=2).tracks] == ["Harmony"]
    assert [t.name for t in rd(data, part="harmony").tracks] == ["Harmony"]
    assert [t.name for t in rd(data, part="1").tracks] == ["Lead"]
    e = raises(data, match="no track named 'Empty'", part="Empty")
    assert "track 'Lead' (--part 1, 1 note); track 'Harmony' (--part 2, 1 note)" in e.message
    raises(data, match="no track 3 with notes", part=3)
    with pytest.raises(InvalidValueError, match="1-based"):
        rd(data, part=1.5)


def test_lyrics():
    data = project(part([n(0, 10, 60, "a"), n(10, 10, 60, "+"), n(20, 10, 60, "+~"),
                         n(30, 10, 60, "+*"), n(40, 10, 60, "'storm[s t o m]'"),
                         n(50, 10, 60, "'?ka'"), n(60, 10, 60, "'[a i]'"),
                         n(70, 10, 60, "'+[u]'"), n(80, 10, 60, "'on'"), n(90, 10, 60, "on"),
                         n(100, 10, 60, "123")]))
    got = [(x.lyric, x.phonemes) for x in rd(data).tracks[0].notes]
    assert got == [("a", ()), ("+", ()), ("+", ()), ("+", ()), ("storm", ("s", "t", "o", "m")),
                   ("ka", ()), ("", ("a", "i")), ("+", ("u",)), ("on", ()), ("on", ()),
                   ("123", ())]


def test_pre_0_5_ellipsis_is_a_continuation():
    head = HEAD.replace('"0.7"', "0.4")
    data = project(part([n(0, 480, 60, "a"), n(480, 480, 62, "'...'")]), head=head)
    assert [x.lyric for x in rd(data).tracks[0].notes] == ["a", "+"]


def test_pitch_points_and_snap_first():
    pts = [(-40, 5, "io"), (10, -20, "l"), (30, 7.5, "i"), (60, 0, "o")]
    data = project(part([
        n(0, 480, 60, "a", pitch=pts),                       # first note: snaps to 0
        n(480, 480, 64, "b", pitch=pts),                     # adjacent: (60-64)*100
        n(1440, 480, 62, "c", pitch=pts),                    # after a rest: 0
        n(1920, 480, 65, "d", pitch=pts, snap="false"),      # as written
        n(2400, 480, 65, "e", pitch=[(-10, 3, "sp"), (5, 0, "io")], snap="false"),
    ]))
    p = rd(data)
    ns = p.tracks[0].notes
    assert ns[0].pitch_points == (PitchPoint(-40, 0, "io"), PitchPoint(10, -200, "l"),
                                  PitchPoint(30, 75, "i"), PitchPoint(60, 0, "o"))
    assert ns[1].pitch_points[0] == PitchPoint(-40, -400, "io")
    assert ns[2].pitch_points[0].cents == 0
    assert ns[3].pitch_points[0] == PitchPoint(-40, 50, "io")
    assert ns[4].pitch_points[0] == PitchPoint(-10, 30, "io")
    assert any("unknown shape 'sp'" in w for w in p.warnings)


def test_unsorted_pitch_points_are_sorted():
    data = project(part([n(0, 480, 60, "a", pitch=[(40, 0, "io"), (-40, 10, "l")],
                           snap="false")]))
    p = rd(data)
    assert [pp.offset_ms for pp in p.tracks[0].notes[0].pitch_points] == [-40, 40]
    assert any("not in time order" in w for w in p.warnings)


def test_vibrato():
    vib = "{length: 60, period: 180, depth: 40, in: 20, out: 30, shift: 25, drift: -10}"
    off = "{length: 0, period: 175, depth: 25, in: 10, out: 10, shift: 0, drift: 0}"
    wild = "{length: 150, period: 1, depth: 25, in: 90, out: 40, shift: 0, drift: 0}"
    p = rd(project(part([n(0, 480, 60, "a", vibrato=vib), n(480, 480, 60, "b", vibrato=off),
                         n(960, 480, 60, "c"), n(1440, 480, 60, "d", vibrato=wild)])))
    a, b, c, d = p.tracks[0].notes
    assert a.vibrato == Vibrato(60, 180, 40, 20, 30, 25, -10)
    assert b.vibrato == Vibrato(0, 175, 25, 10, 10, 0, 0) and b.vibrato.is_off
    assert c.vibrato is None
    # clamped as OpenUtau does: length <= 100, period >= 5, in + out <= 100 (out wins)
    assert d.vibrato == Vibrato(100, 5, 25, 60, 40, 0, 0)
    assert sum("clamped" in w for w in p.warnings) == 2


def test_phoneme_expressions():
    ex = ("phoneme_expressions: [{index: 1, abbr: vel, value: 50}, {index: 0, abbr: vel, "
          "value: 120}, {abbr: mod, value: 30.5}, {index: 0, abbr: acc, value: 90}]")
    p = rd(project(part([n(0, 480, 60, "a", extra=ex)])))
    assert p.tracks[0].notes[0].expressions == (("vel", 120.0), ("mod", 30.5), ("acc", 90.0))
    assert p.tracks[0].notes[0].expression("vel") == 120.0
    old = HEAD.replace('"0.7"', '"0.3"')
    p = rd(project(part([n(0, 480, 60, "a", extra=ex)]), head=old))
    assert ("atk", 90.0) in p.tracks[0].notes[0].expressions


def test_phoneme_overrides():
    full = "phoneme_overrides: [{index: 1, phoneme: i}, {index: 0, phoneme: ge, offset: 44}]"
    some = "phoneme_overrides: [{index: 0, phoneme: ge}, {index: 2, offset: -20}]"
    timing = "phoneme_overrides: [{index: 0, preutter_delta: 10}]"
    p = rd(project(part([n(0, 480, 60, "gei", extra=full), n(480, 480, 60, "'a[x y]'", extra=some),
                         n(960, 480, 60, "b", extra=timing)])))
    a, b, c = p.tracks[0].notes
    assert (a.lyric, a.phonemes) == ("gei", ("ge", "i"))
    assert (b.lyric, b.phonemes) == ("a", ("x", "y"))
    assert c.phonemes == ()
    assert any("name only some of the note's phonemes" in w for w in p.warnings)
    assert any("3 phoneme timing overrides" in w for w in p.warnings)


def test_curves_merge_across_parts_on_absolute_ticks():
    c1 = "\n  - {abbr: pitd, xs: [0, 5, 10], ys: [0, -50, 0]}\n  - {abbr: dyn, xs: [0], ys: [-10]}"
    c2 = ("\n  - {abbr: pitd, xs: [10, 20], ys: [30, 40]}"
          "\n  - {abbr: voic, xs: [0, 5], ys: [50, 60]}")
    data = project(part([n(0, 480, 60, "a")], position=0, curves=c1),
                   part([n(0, 480, 62, "b")], position=1920, curves=c2))
    t = rd(data).tracks[0]
    pitd = t.curve("pitd")
    # the first part's curve ends on the default, the second part's starts away from it
    assert pitd.ticks == (0, 5, 10, 1929, 1930, 1940)
    assert pitd.values == (0, -50, 0, 0, 30, 40)
    assert t.curve("dyn").ticks == (0,) and t.curve("dyn").values == (-10,)
    voic = t.curve("voic")
    assert (voic.ticks, voic.values, voic.default) == ((1920, 1925), (50, 60), 100.0)
    assert float(pitd.sample([7.5])[0]) == -25.0


def test_curve_problems():
    unsorted = "\n  - {abbr: dyn, xs: [10, 0, 5], ys: [1, 2, 3]}"
    p = rd(project(part([n(0, 480, 60, "a")], curves=unsorted)))
    c = p.tracks[0].curve("dyn")
    assert (c.ticks, c.values) == ((0, 5, 10), (2, 3, 1))
    assert any("not in order; sorted" in w for w in p.warnings)
    uneven = "\n  - {abbr: dyn, xs: [0, 5, 10], ys: [1, 2]}"
    e = raises(project(part([n(0, 480, 60, "a")], curves=uneven)), match="3 xs but 2 ys")
    assert e.line is not None
    p = rd(project(part([n(0, 480, 60, "a")], curves=uneven)), lenient=True)
    assert p.tracks[0].curve("dyn").ticks == (0, 5)
    for bad in ("[0, x]", "[0, .nan]", "[0, [1]]", "[0, null]"):
        curve = f"\n  - {{abbr: dyn, xs: {bad}, ys: [1, 2]}}"
        raises(project(part([n(0, 480, 60, "a")], curves=curve)), match="xs must hold")
        p = rd(project(part([n(0, 480, 60, "a")], curves=curve)), lenient=True)
        assert p.tracks[0].curve("dyn") is None and p.tracks[0].notes


def test_overlapping_notes_are_not_sung():
    data = project(part([n(0, 480, 60, "a"), n(240, 480, 62, "b"), n(720, 240, 64, "c")]))
    p = rd(data)
    assert [x[3] for x in notes(p)] == ["a", "c"]
    assert any("overlaps the note before it" in w for w in p.warnings)


def test_versions():
    ok = rd(project(part([n(0, 480, 60, "a")]), head=HEAD.replace('"0.7"', "0.9")))
    assert notes(ok)
    raises(project(part([n(0, 480, 60, "a")]), head=HEAD.replace('"0.7"', '"0.10"')),
           match="newer OpenUtau")
    raises(project(part([n(0, 480, 60, "a")]), head=HEAD.replace('"0.7"', "1.0")),
           match="newer OpenUtau", lenient=True)
    raises(project(part([n(0, 480, 60, "a")]), head=HEAD.replace('"0.7"', "abc")),
           match="not a version")
    no_version = project(part([n(0, 480, 60, "a")]), head="name: x\n")
    raises(no_version, match="no ustx_version")
    assert notes(rd(no_version, lenient=True))


# --------------------------------------------------------------------------------------
# Broken and hostile input


@pytest.mark.parametrize("data,match,line", [
    (b"", "empty", 1),
    (b"  \n\n", "empty", 1),
    (b"- a\n- b\n", "a list, not a mapping", 1),
    (b"just text", "not a mapping", 1),
    (b"a: 1\nb: 2\n", "no ustx_version, tracks or voice_parts", 1),
    (b"ustx_version: 0.7\nname: [1, 2\n", "not valid YAML", 3),
    (b"ustx_version: 0.7\nname: \xff\xfe\n", "not UTF-8", 2),
    (b"ustx_version: 0.7\n\nname: a\x01b\n", "U\\+0001", 3),
    (b"ustx_version: 0.7\nvoice_parts: 5\n", "voice_parts must be a list", 2),
    (b"ustx_version: 0.7\ntracks: {a: 1}\n", "tracks must be a list", 2),
    (b"ustx_version: 0.7\n? [a]\n: 1\n", "key must be plain text", 2),
])
def test_broken_files(data, match, line):
    e = raises(data, match=match)
    assert e.line == line


def test_bom_and_utf16_and_encoding_option():
    assert notes(rd(b"\xef\xbb\xbf" + SIMPLE)) == notes(rd(SIMPLE))
    assert notes(rd(SIMPLE.decode("utf-8").encode("utf-16"))) == notes(rd(SIMPLE))
    assert notes(rd(SIMPLE, encoding="utf-8")) == notes(rd(SIMPLE))
    with pytest.raises(ScoreFormatError, match="unknown text encoding 'no-such-codec'"):
        rd(SIMPLE, encoding="no-such-codec")
    with pytest.raises(ScoreFormatError, match="not a text encoding"):
        rd(SIMPLE, encoding="base64")


def test_control_characters_lenient():
    data = SIMPLE.replace("い".encode(), b"i\x07")
    raises(data, match="U\\+0007")
    p = rd(data, lenient=True)
    assert p.tracks[0].notes[1].lyric == "i"
    assert any("removed" in w for w in p.warnings)


@pytest.mark.parametrize("field,value,match", [
    ("tone", "200", "outside the MIDI range"),
    ("tone", "-1", "outside the MIDI range"),
    ("tone", "[60]", "tone must be a number, not a list"),
    ("tone", "{a: 1}", "must be a number, not a mapping"),
    ("tone", "abc", "tone must be a number, not 'abc'"),
    ("tone", ".nan", "must be a number"),
    ("tone", "nan", "must be a finite number"),
    ("tone", "1e999", "must be a finite number"),
    ("tone", "null", "has no tone"),
    ("duration", "0", "not positive"),
    ("duration", "-480", "not positive"),
    ("duration", "99999999999999999999999", "outside"),
    ("position", "1e300", "out of range"),
    ("position", "-100", "starts before the song"),
    ("position", "60.5", "whole number"),
    ("position", str(limits.MAX_TICKS), "beyond the longest song"),
    ("lyric", "[a]", "lyric must be text"),
    ("pitch", "[1]", "pitch must be a mapping"),
    ("pitch", "{data: 5}", "data must be a list"),
    ("pitch", "{data: [{x: 1e300, y: 0}]}", "x 1e\\+300 ms is absurd"),
    ("pitch", "{data: [{x: 0, y: 1e9}]}", "is absurd"),
    ("pitch", "{data: [5]}", "pitch point 1 must be a mapping"),
    ("pitch", "{data: [], snap_first: maybe}", "true or false"),
    ("vibrato", "{length: inf}", "finite"),
    ("vibrato", "[]", "vibrato must be a mapping"),
    ("phoneme_expressions", "[{abbr: vel, value: x}]", "value must be a number"),
    ("phoneme_expressions", "[{abbr: [vel], value: 1}]", "abbr must be text"),
    ("phoneme_overrides", "[{index: -1, phoneme: a}]", "index -1 is outside"),
])
def test_bad_note_fields(field, value, match):
    fields = {"position": "0", "duration": "480", "tone": "60", "lyric": "a"}
    fields[field] = value
    bad = "{" + ", ".join(f"{k}: {v}" for k, v in fields.items()) + "}"
    data = project(part([n(0, 240, 60, "ok"), bad, n(960, 480, 62, "ok2")]))
    e = raises(data, match=match)
    assert e.line == data.split(b"\n").index(b"  - " + bad.encode()) + 1  # the bad note's line
    p = rd(data, lenient=True)
    assert [x.lyric for x in p.tracks[0].notes] in (["ok", "ok2"], ["ok", "a", "ok2"])
    assert p.warnings
    sane(p)


@pytest.mark.parametrize("tempos,match", [
    ("- {position: 0, bpm: 0}", "bpm 0 is outside"),
    ("- {position: 0, bpm: -120}", "bpm -120 is outside"),
    ("- {position: 0, bpm: 1e9}", "bpm 1e\\+09 is outside"),
    ("- {position: 0, bpm: .inf}", "must be a number"),
    ("- {position: 0, bpm: nan}", "finite"),
    ("- {position: 0}", "has no bpm"),
    ("- {position: -5, bpm: 120}", "position -5 is outside"),
    ("- [0, 120]", "tempo 1 must be a mapping"),
    (f"- {{position: {limits.MAX_TICKS + 1}, bpm: 120}}", "outside"),
    ("  5", "tempos must be a list"),
])
def test_bad_tempos(tempos, match):
    data = project(part([n(0, 480, 60, "a")]), tempos=tempos)
    raises(data, match=match)
    p = rd(data, lenient=True)
    assert p.tempos == (Tempo(0, 120.0),)  # falls back to the legacy bpm


@pytest.mark.parametrize("sigs,match", [
    ("- {bar_position: 0, beat_per_bar: 0, beat_unit: 4}", "beat_per_bar 0 is outside"),
    ("- {bar_position: 0, beat_per_bar: 4, beat_unit: 3}", "not a power of two"),
    ("- {bar_position: 0, beat_per_bar: 4, beat_unit: 0}", "beat_unit 0 is outside"),
    ("- {bar_position: -1, beat_per_bar: 4, beat_unit: 4}", "bar_position -1"),
    ("- {bar_position: x, beat_per_bar: 4, beat_unit: 4}", "must be a number"),
])
def test_bad_time_signatures(sigs, match):
    data = project(part([n(0, 480, 60, "a")]), sigs=sigs)
    raises(data, match=match)
    assert rd(data, lenient=True).time_signatures == (TimeSignature(0, 4, 4),)


def test_legacy_bpm_absurd():
    head = HEAD.replace("bpm: 120", "bpm: 0")
    data = project(part([n(0, 480, 60, "a")]), head=head, tempos=None)
    raises(data, match="bpm 0 is outside")
    assert rd(data, lenient=True).tempos == (Tempo(0, 120.0),)


def test_part_problems():
    bad_track = project(part([n(0, 480, 60, "a")], track_no=3))
    raises(bad_track, match="belongs to track 4, but the project has 1 track")
    raises(bad_track, match="no notes", lenient=True)
    p = rd(bad_track, lenient=True, keep_tracks_without_lyrics=True)
    assert p.tracks == ()
    raises(project(part([n(0, 480, 60, "a")], position=-5)), match="position -5 is outside")
    raises(project("- 5\n"), match="voice part 1 must be a mapping")


def test_song_too_long():
    tempos = "- {position: 0, bpm: 1}"
    data = project(part([n(0, 480, 60, "a"), n(480 * 1500, 480, 60, "b")]), tempos=tempos)
    raises(data, match="hours; the limit")


def test_anchors_and_aliases_are_refused_in_milliseconds():
    lol = ["ustx_version: 0.7", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 12):
        lol.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    e = raises("\n".join(lol).encode(), match="anchors")
    assert e.line == 2
    e = raises(b"ustx_version: 0.7\nname: x\ncomment: *x\n", match="aliases")
    assert e.line == 3
    raises(b"ustx_version: 0.7\nvoice_parts: &p []\n", match="anchors")


def test_merge_keys_are_just_keys():
    # '<<' is a merge key only to loaders that expand it; to us it is an ignored key
    p = rd(SIMPLE + b"\n<<: {a: 1}\n")
    assert len(notes(p)) == 3


def test_deep_nesting_is_refused_fast():
    for opener, closer in ((b"[", b"]"), (b"{a: ", b"}")):
        for depth in (MAX_DEPTH + 1, 100_000):  # ours, then libyaml's own limit
            deep = b"ustx_version: 0.7\nname: " + opener * depth + b"1" + closer * depth
            e = raises(deep, match="nested more than|nesting depth")
            assert e.line == 2
        e = raises(b"ustx_version: 0.7\nname: " + opener * (MAX_DEPTH + 1),
                   match=f"nested more than {MAX_DEPTH} levels")
    block = "ustx_version: 0.7\nx:\n" + "".join("  " * i + "- \n" for i in range(200))
    raises(block.encode(), match="nested more than")
    ok = b"ustx_version: 0.7\ncomment: " + b"[" * 60 + b"1" + b"]" * 60 + b"\n"
    assert rd(ok, keep_tracks_without_lyrics=True).tracks == ()


@pytest.mark.parametrize("tagged", [
    b"name: !!python/object:os.system echo",
    b"name: !!python/object/apply:os.system [echo]",
    b"name: !!python/name:os.system",
    b"voice_parts: !!set {a, b}",
    b"name: !custom x",
    b"tracks: !!omap [a: 1]",
])
def test_tags_are_refused(tagged):
    e = raises(b"ustx_version: 0.7\n" + tagged + b"\n", match="YAML tag")
    assert e.line == 2


def test_standard_tags_are_fine():
    data = SIMPLE.replace(b"name: Inline song", b"name: !!str 5")
    assert rd(data).title == "5"
    assert rd(SIMPLE.replace(b"tone: 60", b"tone: !!int 60")).tracks[0].notes[0].pitch == 60


def test_pathological_lyric_is_linear():
    def run(size):
        p = rd(project(part([n(0, 480, 60, "'" + "[" * size + "'")])))
        assert len(p.tracks[0].notes[0].lyric) == size
    assert_scales_linearly(run, 250_000)


def test_a_10_mb_string_is_fine():
    big = b"x" * (10 * 2**20)
    p = rd(SIMPLE.replace(b"name: Inline song", b"name: '" + big + b"'"))
    assert len(p.title) == 10 * 2**20


def test_more_than_max_notes_is_refused_quickly():
    head = b"ustx_version: 0.7\ntracks: [{track_name: a}]\nvoice_parts:\n- track_no: 0\n  notes:\n"
    data = head + b"  - {tone: 60}\n" * (limits.MAX_NOTES + 1)
    with pytest.raises(ScoreFormatError, match=f"more than {limits.MAX_NOTES} notes") as e:
        read(data, path="big.ustx", options=ReadOptions(lenient=True))
    assert e.value.line == 5 + limits.MAX_NOTES + 1  # counted while parsing, not after


def test_too_many_tracks():
    data = b"ustx_version: 0.7\ntracks:\n" + b"- {track_name: a}\n" * (limits.MAX_TRACKS + 1)
    raises(data, match="tracks; the limit", lenient=True)


def test_duplicate_keys_warn():
    p = rd(SIMPLE.replace(b"name: Inline song", b"name: a\nname: b"))
    assert p.title == "b" and any("appears twice" in w for w in p.warnings)


def test_second_document_is_ignored():
    p = rd(SIMPLE + b"---\nname: other\n")
    assert p.title == "Inline song" and any("more than one YAML document" in w
                                            for w in p.warnings)


# --------------------------------------------------------------------------------------
# Writing


def rich_project() -> Project:
    lead = Track(
        name="Lead",
        notes=(
            Note(0, 480, 60, "あ",
                 pitch_points=(PitchPoint(-40, -200, "io"), PitchPoint(20, 30.5, "l"),
                               PitchPoint(60, 0, "i"), PitchPoint(100, 12.25, "o")),
                 vibrato=Vibrato(60, 180, 40, 20, 30, 25, -10)),
            Note(480, 240, 62, CONTINUATION),
            Note(960, 480, 64, "storm", phonemes=("s", "t", "o", "m"),
                 expressions=(("vel", 120.0), ("vol", 80.0), ("mod", 30.0))),
            Note(1920, 480, 65, "い", vibrato=Vibrato(0, 175, 25, 10, 10)),
            Note(2400, 360, 67, "う", pitch_points=(PitchPoint(-25.5, 33.3, "io"),
                                                    PitchPoint(0, 0, "io"))),
        ),
        curves=(TrackCurve("pitd", (-5, 0, 5, 100), (0, -50, 20, 0)),
                TrackCurve("dyn", (480, 960), (-10, 10)),
                TrackCurve("voic", (0, 10), (100, 40), default=100.0)),
        source_singer="重音テト", volume_db=-3.5, pan=0.25)
    harmony = Track(name="Harmony", notes=(Note(3840, 960, 55, "la"),), muted=True, pan=-0.3)
    return Project(tracks=(lead, harmony), tempos=(Tempo(0, 130.0), Tempo(1920, 95.5)),
                   time_signatures=(TimeSignature(0, 3, 4), TimeSignature(2880, 6, 8)),
                   key_signatures=(KeySignature(0, fifths=-2),), title="Round trip")


def normalised(p: Project) -> list:
    """What a write-then-read keeps: the documented normalisations applied, sources dropped."""
    out = []
    for t in p.tracks:
        ns = []
        prev = None
        for x in t.notes:
            pts = x.pitch_points
            if not pts:
                snapped = (prev.pitch - x.pitch) * 100 if prev and prev.end_ticks == \
                    x.start_ticks else 0
                pts = (PitchPoint(-40, snapped, "io"), PitchPoint(40, 0, "io"))
            vib = x.vibrato or Vibrato(0, 175, 25, 10, 10, 0, 0)
            exprs = tuple(e for e in x.expressions if e[0] in NOTE_EXPRESSIONS)
            ns.append(dataclasses.replace(x, source="", pitch_points=pts, vibrato=vib,
                                          expressions=exprs))
            prev = x
        curves = tuple(TrackCurve(c.name, c.ticks, tuple(float(round(v)) for v in c.values),
                                  c.default) for c in t.curves if c.name in CURVE_EXPRESSIONS)
        out.append((t.name, t.source_singer, t.volume_db, t.pan, t.muted, curves, tuple(ns)))
    return out


def test_round_trip_of_a_rich_project():
    src = rich_project()
    data = write(src)
    back = rd(data)
    assert back.warnings == ()
    assert normalised(back) == normalised(src)
    assert back.tempos == src.tempos
    assert back.time_signatures == src.time_signatures
    assert back.key_signatures == src.key_signatures
    assert back.title == "Round trip"
    # and a second round trip is exact
    assert write(back) == write(rd(write(back)))
    assert write(src) == data  # same input, same bytes


def test_written_yaml_has_openutau_structure():
    doc = yaml.safe_load(write(rich_project()))
    assert list(doc) == TOP_KEYS
    assert doc["ustx_version"] == "0.7" and doc["resolution"] == 480
    assert doc["bpm"] == 130 and (doc["beat_per_bar"], doc["beat_unit"]) == (3, 4)
    assert doc["time_signatures"] == [{"bar_position": 0, "beat_per_bar": 3, "beat_unit": 4},
                                      {"bar_position": 2, "beat_per_bar": 6, "beat_unit": 8}]
    assert doc["tempos"] == [{"position": 0, "bpm": 130}, {"position": 1920, "bpm": 95.5}]
    assert doc["key"] == 10
    assert list(doc["expressions"]) == EXPRESSION_ABBRS
    assert list(doc["tracks"][0]) == TRACK_KEYS
    t0, t1 = doc["tracks"]
    assert (t0["singer"], t0["phonemizer"], t0["volume"], t0["pan"], t0["mute"]) == \
        ("重音テト", PHONEMIZER_JAPANESE, -3.5, 25, False)
    assert (t1["singer"], t1["phonemizer"], t1["pan"], t1["mute"]) == \
        ("", PHONEMIZER_DEFAULT, -30, True)
    p0 = doc["voice_parts"][0]
    assert list(p0) == PART_KEYS and p0["track_no"] == 0 and p0["position"] == 0
    assert p0["duration"] >= 2760
    note = p0["notes"][0]
    assert list(note) == NOTE_KEYS
    assert list(note["vibrato"]) == VIBRATO_KEYS
    assert note["pitch"] == {"data": [{"x": -40, "y": -20, "shape": "io"},
                                      {"x": 20, "y": 3.05, "shape": "l"},
                                      {"x": 60, "y": 0, "shape": "i"},
                                      {"x": 100, "y": 1.225, "shape": "o"}],
                             "snap_first": False}
    cont = p0["notes"][1]
    assert cont["lyric"] == "+" and cont["pitch"]["snap_first"] is True
    assert [(pt["x"], pt["y"]) for pt in cont["pitch"]["data"]] == [(-40, 0), (40, 0)]
    assert cont["vibrato"]["length"] == 0
    storm = p0["notes"][2]
    assert storm["lyric"] == "storm[s t o m]"
    assert storm["phoneme_expressions"] == [{"index": 0, "abbr": "vel", "value": 120},
                                            {"index": 0, "abbr": "vol", "value": 80},
                                            {"index": 0, "abbr": "mod", "value": 30}]
    assert p0["curves"][0] == {"xs": [-5, 0, 5, 100], "ys": [0, -50, 20, 0], "abbr": "pitd"}
    assert doc["voice_parts"][1]["track_no"] == 1
    assert doc["wave_parts"] == []


# what OpenUtau 0.7 writes (checked against the real files in test_written_keys_match_real)
TOP_KEYS = ["name", "comment", "output_dir", "cache_dir", "ustx_version", "resolution", "bpm",
            "beat_per_bar", "beat_unit", "expressions", "exp_selectors", "exp_primary",
            "exp_secondary", "key", "time_signatures", "tempos", "tracks", "voice_parts",
            "wave_parts"]
TRACK_KEYS = ["singer", "phonemizer", "renderer_settings", "track_name", "track_color", "mute",
              "solo", "volume", "pan", "track_expressions", "voice_color_names"]
PART_KEYS = ["duration", "name", "comment", "track_no", "position", "notes", "curves"]
NOTE_KEYS = ["position", "duration", "tone", "lyric", "pitch", "vibrato", "phoneme_expressions",
             "phoneme_overrides"]
VIBRATO_KEYS = ["length", "period", "depth", "in", "out", "shift", "drift", "vol_link"]
EXPRESSION_ABBRS = ["dyn", "pitd", "clr", "eng", "vel", "vol", "atk", "dec", "gen", "genc",
                    "bre", "brec", "lpf", "norm", "mod", "mod+", "alt", "dir", "shft", "shfc",
                    "tenc", "voic"]


def test_writer_edge_cases():
    empty = rd(write(Project(tracks=())), keep_tracks_without_lyrics=True)
    assert empty.tracks == ()
    # an odd signature change off a bar line moves to the next bar
    p = Project(tracks=(Track("T", (Note(0, 480, 60, "a"),)),),
                time_signatures=(TimeSignature(0, 4, 4), TimeSignature(1000, 3, 4)))
    assert rd(write(p)).time_signatures == (TimeSignature(0, 4, 4), TimeSignature(1920, 3, 4))
    # vibrato outside OpenUtau's ranges is clamped; a depth of 0 is written as length 0
    wild = Vibrato(150, 1000, 500, 80, 80, -25, 300)
    p = Project(tracks=(Track("T", (Note(0, 480, 60, "a", vibrato=wild),
                                    Note(480, 480, 60, "b", vibrato=Vibrato(50, 100, 0)))),))
    a, b = rd(write(p)).tracks[0].notes
    assert a.vibrato == Vibrato(100, 500, 200, 20, 80, 75, 100)
    assert b.vibrato.length_pct == 0
    # unknown curves and expressions are left out
    t = Track("T", (Note(0, 480, 60, "a", expressions=(("preutter_ms", 30.0),)),),
              curves=(TrackCurve("mystery", (0,), (1,)),))
    doc = yaml.safe_load(write(Project(tracks=(t,))))
    assert doc["voice_parts"][0]["curves"] == []
    assert doc["voice_parts"][0]["notes"][0]["phoneme_expressions"] == []


def test_writer_output_is_plain_safe_yaml():
    text = write(rich_project()).decode("utf-8")
    assert "&" not in text and "*" not in text.replace("'*", "")
    assert "!!" not in text
    assert text.startswith("name: Round trip\n")
    assert re.search(r"(?m)^ustx_version: '0\.7'$", text)


# --------------------------------------------------------------------------------------
# Real files from ../shared/data


def _real(shared: Path, rel: str) -> Path:
    f = shared / "ustx" / rel
    if not f.is_file():
        pytest.skip(f"{rel} is absent from ../shared/data")
    return f


REAL = ["OpenUtau/Untitled-autosave.ustx", "utaformatix-ts/generated_openutau.ustx",
        "utaformatix-ts/openutau.ustx", "vocaloid-projects/hhddd.ustx",
        "vocaloid-projects/nova.ustx", "vocaloid-projects/test.ustx"]


def _read_real(f: Path, **kw) -> Project:
    return read(f.read_bytes(), path=str(f), options=ReadOptions(**kw))


@pytest.mark.shared
def test_real_test_ustx(shared_data):
    p = _read_real(_real(shared_data, "vocaloid-projects/test.ustx"))
    assert p.tempos == (Tempo(0, 130.0),)  # the list, not the legacy bpm 120
    (t,) = p.tracks
    assert (t.name, t.source_singer, round(t.volume_db, 3)) == \
        ("Track1", "重音テト音声ライブラリー", 6.293)
    assert len(t.notes) == 19
    storm = t.notes[3]
    assert (storm.start_ticks, storm.pitch, storm.lyric, storm.phonemes) == \
        (1440, 65, "storm", ("s", "t", "o", "m"))
    assert [x.lyric for x in t.notes[:3]] == ["i", "am", "the"]
    assert t.notes[1].phonemes == ("{", "m")
    assert sum(x.lyric == CONTINUATION for x in t.notes) == 7
    # snap_first: the first point sits on the previous note's pitch
    assert t.notes[3].pitch_points[0] == PitchPoint(-40, -100, "io")
    assert p.warnings == ()


@pytest.mark.shared
def test_real_nova(shared_data):
    p = _read_real(_real(shared_data, "vocaloid-projects/nova.ustx"))
    assert p.time_signatures == (TimeSignature(0, 2, 4),)  # not the legacy 4/4
    assert p.tempos == (Tempo(0, 133.0),)
    assert [t.name for t in p.tracks] == ["Track1"]
    assert len(p.tracks[0].notes) == 199
    assert notes(p)[:2] == [(25440, 720, 67, "huai"), (26160, 120, 67, "zhe")]
    assert any("wave part 'novabg.mp3' (audio) is not played" in w for w in p.warnings)
    assert any("'Track2' has no notes" in w for w in p.warnings)


@pytest.mark.shared
def test_real_hhddd(shared_data):
    p = _read_real(_real(shared_data, "vocaloid-projects/hhddd.ustx"))
    assert p.tempos == (Tempo(0, 118.0),)
    vocal, ha = p.tracks
    assert (vocal.name, len(vocal.notes), vocal.muted) == ("VOCAL", 134, False)
    assert (ha.name, len(ha.notes), ha.muted) == ("HA", 3, True)
    assert notes(p)[:2] == [(0, 360, 64, "wang"), (360, 120, 64, "hou")]
    assert vocal.curve("pitd") is not None and len(vocal.curve("pitd").ticks) > 10
    assert ha.curve("pitd") is not None
    assert vocal.curve("voic").default == 100.0
    zi = [x for x in vocal.notes if x.lyric == "zi"]
    assert zi and all(x.phonemes == ("zi", "i") for x in zi)
    assert any("phoneme timing overrides" in w for w in p.warnings)
    assert [t.name for t in _read_real(_real(shared_data, "vocaloid-projects/hhddd.ustx"),
                                       part="ha").tracks] == ["HA"]


@pytest.mark.shared
def test_real_small_files(shared_data):
    auto = _read_real(_real(shared_data, "OpenUtau/Untitled-autosave.ustx"),
                      keep_tracks_without_lyrics=True)
    assert auto.tracks == () and auto.title == "New Project"
    with pytest.raises(ScoreFormatError, match="the file has no notes"):
        _read_real(_real(shared_data, "OpenUtau/Untitled-autosave.ustx"))
    gen = _read_real(_real(shared_data, "utaformatix-ts/generated_openutau.ustx"))
    ou = _read_real(_real(shared_data, "utaformatix-ts/openutau.ustx"))
    assert notes(gen) == notes(ou)
    assert [x[3] for x in notes(ou)] == ["ど", "れ", "み", "ふぁ", "そ", "ら", "し", "ど"]
    assert [x[2] for x in notes(ou)] == [60, 62, 64, 65, 67, 69, 71, 72]
    assert gen.title == "data.mid" and gen.tracks[0].name == "Track 1"
    assert ou.tracks[0].source_singer == "つくよみちゃんUTAU音源"


@pytest.mark.shared
@pytest.mark.parametrize("rel", REAL)
def test_real_files_round_trip(shared_data, rel):
    f = _real(shared_data, rel)
    src = _read_real(f, keep_tracks_without_lyrics=True)
    out = write(src)
    assert sniff(out[:4096])
    back = read(out, path="out.ustx", options=ReadOptions(keep_tracks_without_lyrics=True))
    assert normalised(back) == normalised(src)
    assert (back.tempos, back.time_signatures, back.title) == \
        (src.tempos, src.time_signatures, src.title)
    assert write(back) == out


@pytest.mark.shared
@pytest.mark.parametrize("rel", ["vocaloid-projects/test.ustx", "vocaloid-projects/nova.ustx"])
def test_written_keys_match_real(shared_data, rel):
    # BaseLoader: every scalar as its text, so that OpenUtau's unquoted 'off' stays text
    real = yaml.load(_real(shared_data, rel).read_bytes().decode("utf-8-sig"),
                     Loader=yaml.BaseLoader)
    ours = yaml.load(write(rich_project()), Loader=yaml.BaseLoader)
    assert list(real) == list(ours) == TOP_KEYS
    assert list(real["expressions"]) == list(ours["expressions"])
    for abbr in real["expressions"]:
        assert real["expressions"][abbr] == ours["expressions"][abbr], abbr
    assert len(real["exp_selectors"]) == len(ours["exp_selectors"]) == 10  # 0.7 pads to 10
    assert list(real["tracks"][0]) == list(ours["tracks"][0])
    assert list(real["voice_parts"][0]) == list(ours["voice_parts"][0])
    assert list(real["voice_parts"][0]["notes"][0]) == list(ours["voice_parts"][0]["notes"][0])
    rn, on = real["voice_parts"][0]["notes"][0], ours["voice_parts"][0]["notes"][0]
    assert list(rn["vibrato"]) == list(on["vibrato"]) and list(rn["pitch"]) == list(on["pitch"])
    assert list(rn["pitch"]["data"][0]) == list(on["pitch"]["data"][0])


# --------------------------------------------------------------------------------------
# Robustness: truncation, random bytes, mutations


def _must_read_or_refuse(data: bytes, lenient: bool = False) -> None:
    try:
        p = read(data, path="fuzz.ustx", options=ReadOptions(lenient=lenient))
    except ScoreFormatError as e:
        assert str(e).startswith("fuzz.ustx")
        return
    sane(p)


def test_truncated_inline_file():
    data = write(rich_project())
    for cut in range(0, len(data), max(1, len(data) // 250)):
        _must_read_or_refuse(data[:cut])


SEEDS = [SIMPLE, write(rich_project())] + \
    [(SHARED / "ustx" / r).read_bytes() for r in REAL
     if (SHARED / "ustx" / r).is_file() and (SHARED / "ustx" / r).stat().st_size < 12_000]

ABSURD = [b"-1", b"0", b"1e9", b"-1e400", b"nan", b".inf", b"1e308", b"99999999999999999999",
          b"[]", b"{}", b"null", b"''", b"'x'", b"-0", b"0.5", b"1e-320", b"&a 1", b"*a",
          b"!!python/object:os.system 1", b"[[[[[[", b"{a: [1, {b: 2}]}", b"~", b"true",
          b"\xff", b"\x00", b"\"\\u0000\"", str(limits.MAX_TICKS * 10).encode()]
_NUMBER = re.compile(rb"-?\b[0-9]+(?:\.[0-9]+)?\b")


@pytest.mark.slow
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SEEDS) - 1),
       st.lists(st.tuples(st.sampled_from("fid"), st.floats(0, 1), st.binary(min_size=1,
                                                                            max_size=4)),
                min_size=1, max_size=8),
       st.booleans())
def test_mutated_files(seed, edits, lenient):
    data = bytearray(SEEDS[seed])
    for op, where, chunk in edits:
        i = int(where * (len(data) - 1)) if data else 0
        if op == "f" and data:
            data[i] ^= chunk[0] or 0xFF
        elif op == "i":
            data[i:i] = chunk
        elif data:
            del data[i:i + len(chunk)]
    _must_read_or_refuse(bytes(data), lenient)


@pytest.mark.slow
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SEEDS) - 1),
       st.lists(st.tuples(st.floats(0, 1), st.sampled_from(ABSURD)), min_size=1, max_size=4),
       st.booleans())
def test_absurd_numbers(seed, swaps, lenient):
    data = SEEDS[seed]
    spots = [m.span() for m in _NUMBER.finditer(data)]
    for where, value in swaps:
        a, b = spots[int(where * (len(spots) - 1))]
        data = data[:a] + value + data[b:]
        spots = [m.span() for m in _NUMBER.finditer(data)] or [(0, 0)]
    _must_read_or_refuse(data, lenient)


@pytest.mark.slow
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda kids: st.lists(kids, max_size=4) |
                    st.dictionaries(st.sampled_from(
                        ["ustx_version", "tracks", "voice_parts", "notes", "position", "tone",
                         "duration", "lyric", "pitch", "data", "x", "y", "vibrato", "tempos",
                         "bpm", "curves", "xs", "ys", "abbr", "track_no", "time_signatures",
                         "bar_position", "beat_unit", "beat_per_bar", "phoneme_overrides",
                         "phoneme_expressions", "index", "phoneme", "value"]), kids, max_size=5),
                    max_leaves=30),
       st.booleans())
def test_type_confusion(tree, lenient):
    """Valid YAML of any shape, with OpenUtau's key names in random places."""
    doc = {"ustx_version": "0.7", "tracks": [{"track_name": "a"}],
           "voice_parts": [{"track_no": 0, "notes": [tree, {"position": 0, "duration": 10,
                                                           "tone": 60, "lyric": tree}]}],
           "tempos": tree}
    _must_read_or_refuse(yaml.safe_dump(doc, allow_unicode=True).encode("utf-8"), lenient)
    _must_read_or_refuse(yaml.safe_dump({"ustx_version": "0.7", "voice_parts": tree})
                         .encode("utf-8"), lenient)


@pytest.mark.slow
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 4000), st.integers(1, 960), st.integers(0, 127),
                          st.sampled_from(["a", "+", "ど", "storm", "x"]),
                          st.lists(st.tuples(st.floats(-200, 200), st.floats(-1200, 1200),
                                             st.sampled_from(["io", "l", "i", "o"])),
                                   max_size=4)),
                max_size=12))
def test_write_read_property(specs):
    """Any note list of our model survives write -> read (overlaps are dropped on reading)."""
    ns = []
    for start, dur, pitch, lyric, pts in sorted(specs, key=lambda s: s[0]):
        if ns and start < ns[-1].end_ticks:
            continue
        ns.append(Note(start, dur, pitch, lyric,
                       pitch_points=tuple(PitchPoint(x, c, s) for x, c, s in
                                          sorted(pts, key=lambda p: p[0]))))
    src = Project(tracks=(Track("T", tuple(ns)),) if ns else ())
    back = read(write(src), options=ReadOptions(keep_tracks_without_lyrics=True))
    expect = normalised(src)
    got = normalised(back)
    assert len(got) == len(expect)
    for g, e in zip(got, expect):
        assert [(x.start_ticks, x.duration_ticks, x.pitch, x.lyric) for x in g[-1]] == \
            [(x.start_ticks, x.duration_ticks, x.pitch, x.lyric) for x in e[-1]]
        for gx, ex in zip(g[-1], e[-1]):
            assert [(p.offset_ms, p.shape) for p in gx.pitch_points] == \
                [(p.offset_ms, p.shape) for p in ex.pitch_points]
            assert all(abs(a.cents - b.cents) < 1e-5
                       for a, b in zip(gx.pitch_points, ex.pitch_points))


# --------------------------------------------------------------------------------------
# A resolution other than 480 (some converters write 10080 ticks per quarter)


def _at(resolution: int, scale: int) -> bytes:
    """The same song with every position and length written at ``resolution``."""
    head = HEAD.replace("resolution: 480", f"resolution: {resolution}")
    curve = (f"\n  - {{abbr: pitd, xs: [{0 * scale}, {240 * scale}, {480 * scale}], "
             "ys: [0, -50, 0]}")
    return project(part([n(0, 480 * scale, 60, "あ", pitch=[(-40, 0, "io"), (40, 0, "io")]),
                         n(480 * scale, 240 * scale, 62, "い"),
                         n(960 * scale, 480 * scale, 64, "う")],
                        position=1920 * scale, curves=curve),
                   head=head,
                   tempos=f"- {{position: 0, bpm: 120}}\n- {{position: {960 * scale}, bpm: 90}}")


def test_a_resolution_other_than_480_is_read_at_its_own_scale():
    plain = rd(_at(480, 1))
    fine = rd(_at(10080, 21))
    assert notes(fine) == notes(plain) == [(1920, 480, 60, "あ"), (2400, 240, 62, "い"),
                                           (2880, 480, 64, "う")]
    assert fine.tempos == plain.tempos == (Tempo(0, 120.0), Tempo(960, 90.0))
    assert fine.tracks[0].curves == plain.tracks[0].curves
    assert fine.tracks[0].curves[0].ticks == (1920, 2160, 2400)
    # pitch points are in milliseconds: no scaling
    assert fine.tracks[0].notes[0].pitch_points == plain.tracks[0].notes[0].pitch_points
    assert any("resolution 10080 ticks per quarter note; positions and lengths scaled to 480"
               in w for w in fine.warnings)
    assert plain.warnings == ()


def test_positions_at_another_resolution_round_to_the_nearest_tick():
    head = HEAD.replace("resolution: 480", "resolution: 1000")
    p = rd(project(part([n(1001, 1000, 60, "a")]), head=head))
    assert notes(p) == [(480, 480, 60, "a")]   # 1001 * 0.48 = 480.48, 2001 * 0.48 = 960.48
    # a note shorter than one of our ticks once scaled is a problem
    data = project(part([n(0, 1000, 60, "a"), n(1000, 1, 62, "b")]), head=head)
    raises(data, match="shorter than one tick")
    p = rd(data, lenient=True)
    assert notes(p) == [(0, 480, 60, "a")] and any("shorter than one tick" in w
                                                   for w in p.warnings)


@pytest.mark.parametrize("value", ["0", "-480", "1000000000", "abc", "4.5", "[480]"])
def test_an_absurd_resolution_is_refused_or_taken_as_480_leniently(value):
    data = project(part([n(0, 480, 60, "a")]),
                   head=HEAD.replace("resolution: 480", f"resolution: {value}"))
    e = raises(data, match="resolution")
    assert e.line == 3
    p = rd(data, lenient=True)
    assert notes(p) == [(0, 480, 60, "a")] and any("assuming 480" in w for w in p.warnings)


def test_a_missing_resolution_is_480():
    p = rd(project(part([n(0, 480, 60, "a")]), head=HEAD.replace("resolution: 480\n", "")))
    assert notes(p) == [(0, 480, 60, "a")] and p.warnings == ()


def test_a_note_sung_on_its_phonemes_alone_keeps_its_empty_lyric_through_a_round_trip():
    p = rd(project(part([n(0, 480, 60, "a"), n(480, 480, 62, "'[k a]'")])))
    assert [(x.lyric, x.phonemes) for x in p.tracks[0].notes] == [("a", ()), ("", ("k", "a"))]
    back = rd(write(p))
    assert [(x.lyric, x.phonemes) for x in back.tracks[0].notes] == [("a", ()), ("", ("k", "a"))]
