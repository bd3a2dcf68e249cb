"""UST reader: timing, lyrics, pitch, encodings, plugin files, broken input, real files."""
from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import SHARED
from utagoe.errors import InvalidValueError, ScoreFormatError
from utagoe.formats import limits
from utagoe.formats import ReadOptions
from utagoe.formats.common import MAX_WARNINGS
from utagoe.formats.ust import read, sniff
from utagoe.model import CONTINUATION, PitchPoint, Tempo, TimeSignature, Vibrato

# --------------------------------------------------------------------------------------
# Writing USTs inline


def note(lyric="a", length=480, num=60, *extra: tuple[str, object], header=None):
    """One note section's (key, value) lines; ``header`` overrides ``[#nnnn]``."""
    lines = [("Length", length), ("Lyric", lyric), ("NoteNum", num)] + list(extra)
    return header, [(k, v) for k, v in lines if v is not None]


def ust(*notes, tempo="120.00", setting=(), version="UST Version1.2", before="",
        trackend=True, newline="\n", encoding="cp932", bom=False) -> bytes:
    """A whole UST. ``notes``: from :func:`note`; ``setting``: extra (key, value) pairs."""
    out = []
    if version is not None:
        out += ["[#VERSION]", version]
    out.append("[#SETTING]")
    if tempo is not None:
        out.append(f"Tempo={tempo}")
    out += [f"{k}={v}" for k, v in setting]
    for i, (header, lines) in enumerate(notes):
        out.append(header or f"[#{i:04d}]")
        out += [f"{k}={v}" for k, v in lines]
    if trackend:
        out.append("[#TRACKEND]")
    text = before + newline.join(out) + newline
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def read_ust(data: bytes, *, path: str | None = None, **kw):
    return read(data, path=path, options=ReadOptions(**kw))


def rd(data: bytes, **kw):
    return read_ust(data, path="song.ust", **kw)


def notes_of(project):
    return [(n.start_ticks, n.duration_ticks, n.pitch, n.lyric) for n in project.tracks[0].notes]


def lyrics(project):
    return [n.lyric for n in project.tracks[0].notes]


def error(data: bytes, match=None, **kw) -> ScoreFormatError:
    with pytest.raises(ScoreFormatError, match=match) as e:
        rd(data, **kw)
    return e.value


def where(e: ScoreFormatError) -> str:
    return str(e).split(": ", 1)[0]


def line_of(data: bytes, needle: bytes) -> int:
    return data[:data.index(needle)].count(b"\n") + 1


# --------------------------------------------------------------------------------------
# Sniffing and the registry contract


def test_sniff():
    assert sniff(ust(note()))
    assert sniff(b"\xef\xbb\xbf[#SETTING]\r\nTempo=120\r\n")
    assert sniff(b"\n\n[#PREV]\nLength=480\n")
    assert sniff(b"[#0000]\nLength=480\n")
    assert not sniff(b"")
    assert not sniff(b"MThd\x00\x00\x00\x06")
    assert not sniff(b"<?xml version='1.0'?><score-partwise/>")
    assert not sniff(b"name: song\n[#SETTING]\n")  # not at the start: YAML, not a UST
    assert not sniff(b"[#SETTINGS]\n")
    assert sniff(b"[#VERSION]") and not sniff(b"[#VERSION")


def test_read_takes_options_and_path():
    data = ust(note("か", num=62), setting=[("ProjectName", "Song")])
    p = read(data, path="x/song.ust", options=ReadOptions(part="song", lenient=True))
    assert p.source_path == "x/song.ust"
    assert p.title == "Song" and p.tracks[0].name == "Song"
    assert notes_of(p) == [(0, 480, 62, "か")]
    assert read(data).source_path is None


def test_part_selection():
    data = ust(note(), setting=[("ProjectName", "Vocal")])
    for part in (None, 1, "vocal", "VOCAL", "1"):
        assert len(rd(data, part=part).tracks) == 1
    for part in (2, "Piano"):
        e = error(data, part=part)
        assert "track 'Vocal' (--part 1, 1 note)" in str(e)
    with pytest.raises(InvalidValueError, match="ReadOptions.part"):
        rd(data, part=0)
    assert rd(ust(note())).tracks[0].name == "UST"


# --------------------------------------------------------------------------------------
# Timing


def test_notes_are_consecutive_and_rests_are_gaps():
    data = ust(note("a", 480, 60), note("R", 240, 60), note("i", 960, 62),
               note("r", 120, 70), note("", 120, 70), note("u", 240, 64))
    assert notes_of(rd(data)) == [(0, 480, 60, "a"), (720, 960, 62, "i"), (1920, 240, 64, "u")]


def test_note_numbers_are_not_authoritative():
    data = ust(note("a", header="[#0007]"), note("i", header="[#0003]"),
               note("u", header="[#12345]"))
    assert notes_of(rd(data)) == [(0, 480, 60, "a"), (480, 480, 60, "i"), (960, 480, 60, "u")]


def test_ust2_delta_duration_length():
    data = ust(note("a", 480, 60, ("Delta", 0), ("Duration", 400)),
               note("i", 960, 62, ("Delta", 480), ("Duration", 900)),
               note("u", 480, 64, ("Delta", 1440), ("Duration", 480)),
               version="UST Version2.0\nCharset=UTF-8", encoding="utf-8")
    assert notes_of(rd(data)) == [(0, 400, 60, "a"), (480, 900, 62, "i"), (1920, 480, 64, "u")]


def test_ust2_note_without_delta_follows_the_previous_end():
    data = ust(note("a", 480, 60, ("Delta", 240), ("Duration", 300)), note("i", 480, 62),
               version="UST Version2.0")
    assert notes_of(rd(data)) == [(240, 300, 60, "a"), (540, 480, 62, "i")]


def test_whole_float_lengths_are_fine_others_are_not():
    assert notes_of(rd(ust(note("a", "480.0")))) == [(0, 480, 60, "a")]
    data = ust(note("a", "480.5"), note("i"))
    assert where(error(data, "whole number")) == f"song.ust:{line_of(data, b'Length=480.5')}"
    p = rd(data, lenient=True)
    assert notes_of(p)[1][0] == 480 and any("rounded" in w for w in p.warnings)


@pytest.mark.parametrize("length", ["0", "-480"])
def test_length_not_positive(length):
    data = ust(note("a"), note("i", length), note("u"))
    e = error(data, "must be > 0")
    assert where(e) == f"song.ust:{line_of(data, f'Length={length}'.encode())}"
    p = rd(data, lenient=True)
    assert notes_of(p) == [(0, 480, 60, "a"), (480, 480, 60, "u")]
    assert any("note dropped" in w for w in p.warnings)


def test_missing_length():
    data = ust(note("a"), (None, [("Lyric", "i"), ("NoteNum", 60)]), note("u"))
    assert where(error(data, "no Length")) == f"song.ust:{line_of(data, b'[#0001]')}"
    assert lyrics(rd(data, lenient=True)) == ["a", "u"]


@pytest.mark.parametrize("value", ["1e9", "691200001", "1e400", "-1e12"])
def test_absurd_lengths_are_refused_even_leniently(value):
    data = ust(note("a"), note("i", value))
    for lenient in (False, True):
        e = error(data, "limit", lenient=lenient)
        assert where(e) == f"song.ust:{line_of(data, f'Length={value}'.encode())}"


@pytest.mark.parametrize("value", ["nan", "inf", "long", "0x10"])
def test_non_numeric_lengths(value):
    data = ust(note("a"), note("i", value), note("u"))
    e = error(data, "not a number")
    assert where(e) == f"song.ust:{line_of(data, f'Length={value}'.encode())}"
    assert notes_of(rd(data, lenient=True)) == [(0, 480, 60, "a"), (480, 480, 60, "u")]


def test_positions_beyond_max_ticks_are_refused():
    step = limits.MAX_TICKS // 2 + 1
    data = ust(note("a", step), note("i", step), note("u", step))
    e = error(data, "past the limit", lenient=True)
    assert where(e) == f"song.ust:{line_of(data, b'Lyric=i') - 1}"


def test_song_longer_than_a_day_is_refused():
    data = ust(note("a", 700_000), tempo="1")
    error(data, "hours")


# --------------------------------------------------------------------------------------
# Lyrics


def test_lyrics_are_kept_as_written_after_the_question_mark():
    data = ust(note("?か"), note("a か"), note("かD4"), note("い弱"), note("- か"),
               note("* え"), note("o れ_B3"), note(" e r'u "), note("+"), note("+~"))
    assert lyrics(rd(data)) == ["か", "a か", "かD4", "い弱", "- か", "* え", "o れ_B3",
                                "e r'u", CONTINUATION, CONTINUATION]


def test_vcv_into_rest_is_a_rest():
    data = ust(note("- a"), note("a R"), note("- R"), note("i r"), note("?R"), note("u"))
    assert notes_of(rd(data)) == [(0, 480, 60, "- a"), (2400, 480, 60, "u")]


def test_breaths_advance_time_with_a_warning():
    data = ust(note("a"), note("息"), note("br"), note("a breath"), note("吸"), note("i"))
    p = rd(data)
    assert notes_of(p) == [(0, 480, 60, "a"), (2400, 480, 60, "i")]
    (w,) = [w for w in p.warnings if "breath" in w]
    assert "breath notes are not sung yet" in w and "4 breath" in w


def test_missing_lyric_is_a_rest_with_a_warning():
    data = ust(note("a"), (None, [("Length", 480), ("NoteNum", 60)]), note("i"))
    p = rd(data)
    assert notes_of(p) == [(0, 480, 60, "a"), (960, 480, 60, "i")]
    assert any("no Lyric" in w for w in p.warnings)


def test_note_source_names_the_line():
    data = ust(note("a"), note("i"))
    n = rd(data).tracks[0].notes[1]
    assert n.source == f"line {line_of(data, b'[#0001]')} ([#0001])"


# --------------------------------------------------------------------------------------
# Pitch numbers


@pytest.mark.parametrize("num", ["128", "-1", "60.5", "C4", "nan", ""])
def test_bad_notenum(num):
    data = ust(note("a"), note("i", 480, num), note("u", 480, 62))
    e = error(data, "NoteNum")
    assert where(e) == f"song.ust:{line_of(data, ('NoteNum=' + num + chr(10)).encode())}"
    p = rd(data, lenient=True)
    assert notes_of(p) == [(0, 480, 60, "a"), (960, 480, 62, "u")]


def test_rests_may_carry_any_notenum():
    assert notes_of(rd(ust(note("R", 480, 999), note("a")))) == [(480, 480, 60, "a")]


def test_notenum_range_edges():
    assert [n[2] for n in notes_of(rd(ust(note("a", num=0), note("i", num=127))))] == [0, 127]


# --------------------------------------------------------------------------------------
# Tempo and time signatures


def test_setting_and_note_tempos():
    data = ust(note("a"), note("i", 480, 60, ("Tempo", "150.5")), note("R", 480, 60, ("Tempo", 90)),
               note("u", 480, 60, ("Tempo", 90)), tempo="120.00")
    p = rd(data)
    assert p.tempos == (Tempo(0, 120.0), Tempo(480, 150.5), Tempo(960, 90.0))


def test_first_note_tempo_replaces_the_setting_at_tick_zero():
    p = rd(ust(note("a", 480, 60, ("Tempo", 140)), tempo="120"))
    assert p.tempos == (Tempo(0, 140.0),)


def test_missing_tempo_takes_the_first_note_else_120():
    p = rd(ust(note("a", 480, 60, ("Tempo", 140)), tempo=None))
    assert p.tempos == (Tempo(0, 140.0),) and not any("Tempo" in w for w in p.warnings)
    p = rd(ust(note("a"), tempo=None))
    assert p.tempos == (Tempo(0, 120.0),)
    assert any("120 BPM" in w for w in p.warnings)


@pytest.mark.parametrize("bpm", ["0", "-120", "1e9", "nan", "inf", "fast", "1000.5", ""])
def test_absurd_setting_tempo(bpm):
    data = ust(note("a"), tempo=bpm)
    e = error(data, "Tempo")
    assert where(e) == f"song.ust:{line_of(data, b'Tempo=')}"
    assert rd(data, lenient=True).tempos == (Tempo(0, 120.0),)
    # OpenUtau's repair: the first note's tempo
    data = ust(note("a", 480, 60, ("Tempo", 95)), tempo=bpm)
    assert rd(data, lenient=True).tempos == (Tempo(0, 95.0),)


@pytest.mark.parametrize("bpm", ["0", "-1", "5000", "nan"])
def test_absurd_note_tempo(bpm):
    data = ust(note("a"), note("i", 480, 60, ("Tempo", bpm)))
    assert where(error(data, "Tempo")) == f"song.ust:{line_of(data, f'Tempo={bpm}'.encode())}"
    p = rd(data, lenient=True)
    assert p.tempos == (Tempo(0, 120.0),) and len(p.tracks[0].notes) == 2


def test_time_signatures_from_ust2():
    data = ust(note("a"), setting=[("TimeSignatures", "(3/4/0),(6/8/2),(4/4/4),")],
               version="UST Version2.0")
    assert rd(data).time_signatures == (TimeSignature(0, 3, 4), TimeSignature(2880, 6, 8),
                                        TimeSignature(5760, 4, 4))
    data = ust(note("a"), setting=[("TimeSignatures", "(3/4/2),")])
    assert rd(data).time_signatures == (TimeSignature(0, 4, 4), TimeSignature(3840, 3, 4))
    assert rd(ust(note("a"))).time_signatures == (TimeSignature(0, 4, 4),)


@pytest.mark.parametrize("sig", ["(3/5/0),", "(0/4/0),", "3/4", "(4/4/2),(3/4/1),"])
def test_bad_time_signatures(sig):
    data = ust(note("a"), setting=[("TimeSignatures", sig)])
    error(data, "ime ?[sS]ignature")
    assert rd(data, lenient=True).time_signatures[0] == TimeSignature(0, 4, 4)


# --------------------------------------------------------------------------------------
# Settings and note fields


def test_settings():
    data = ust(note("a"), setting=[("ProjectName", "My Song"), ("VoiceDir", "%VOICE%uta"),
                                   ("Mode2", "True"), ("Tracks", 1), ("OutFile", "x.wav"),
                                   ("UstVersion", "1.19"), ("Tool2", r"C:\r.exe")])
    p = rd(data)
    assert p.title == "My Song"
    assert p.tracks[0].name == "My Song"
    assert p.tracks[0].source_singer == "%VOICE%uta"


def test_expressions_and_flags():
    data = ust(note("a", 480, 60, ("Velocity", "81.28"), ("Intensity", 90), ("Moduration", 30),
                    ("PreUtterance", "12.5"), ("VoiceOverlap", "-3"), ("StartPoint", 4),
                    ("Flags", "g-5B0")),
               note("i", 480, 60, ("Modulation", 10), ("Moduration", 20), ("PreUtterance", ""),
                    ("VoiceOverlap", "")),
               setting=[("Flags", "Y0H0")])
    a, i = rd(data).tracks[0].notes
    assert a.expressions == (("vel", 81.28), ("vol", 90.0), ("mod", 30.0), ("preutter_ms", 12.5),
                             ("overlap_ms", -3.0), ("stp_ms", 4.0))
    assert a.flags == "g-5B0Y0H0"
    assert i.expressions == (("mod", 10.0),)
    assert i.flags == "Y0H0"
    assert a.expression("vel") == 81.28


def test_non_numeric_preutterance_is_a_warning():
    p = rd(ust(note("a", 480, 60, ("PreUtterance", "あ"))))
    assert p.tracks[0].notes[0].expressions == ()
    assert any("PreUtterance" in w and "voicebank" in w for w in p.warnings)


@pytest.mark.parametrize("value", ["nan", "1e9", "loud"])
def test_bad_expression_values(value):
    data = ust(note("a", 480, 60, ("Velocity", value), ("Intensity", 50)))
    assert where(error(data, "Velocity")) == f"song.ust:{line_of(data, b'Velocity=')}"
    assert rd(data, lenient=True).tracks[0].notes[0].expressions == (("vol", 50.0),)


def test_out_of_range_expressions_are_clamped():
    p = rd(ust(note("a", 480, 60, ("Velocity", 250), ("Intensity", -5))))
    assert p.tracks[0].notes[0].expressions == (("vel", 200.0), ("vol", 0.0))
    assert sum("clamped" in w for w in p.warnings) == 2


@pytest.mark.parametrize("env, want", [
    ("0,5,35,0,100,100,0", (0, 5, 35, 0, 100, 100, 0)),
    ("0,5,35,0,100,100,0,%", (0, 5, 35, 0, 100, 100, 0)),
    ("5,35,0,100,100,0,0,%,0", (5, 35, 0, 100, 100, 0, 0, 0)),
    ("0,5,35,0,100,100,0,%,0,26,84", (0, 5, 35, 0, 100, 100, 0, 0, 26, 84)),
    ("0,5,35,0,100,101,0,12.5,0,26,84", (0, 5, 35, 0, 100, 101, 0, 0, 26, 84)),
])
def test_envelope(env, want):
    assert rd(ust(note("a", 480, 60, ("Envelope", env)))).tracks[0].notes[0].envelope == want


def test_envelope_with_utsu_extras_warns():
    env = "0,5,35,0,100,100,0,0,0,26,84,0.0,1.0,100.0,1.0,100.0"
    p = rd(ust(note("a", 480, 60, ("Envelope", env))))
    assert p.tracks[0].notes[0].envelope == (0, 5, 35, 0, 100, 100, 0, 0, 26, 84)
    assert any("Envelope" in w for w in p.warnings)


@pytest.mark.parametrize("env", ["0,5,35,0,100,100", "0,5,35,0,100,100,0,%,0,26",
                                 "0,5,35,0,x,100,0", "0,5,nan,0,100,100,0", "1e9,5,35,0,1,1,0"])
def test_bad_envelope(env):
    data = ust(note("a", 480, 60, ("Envelope", env)))
    assert where(error(data, "Envelope")) == f"song.ust:{line_of(data, b'Envelope=')}"
    p = rd(data, lenient=True)
    assert p.tracks[0].notes[0].envelope == () and any("envelope dropped" in w for w in p.warnings)


# --------------------------------------------------------------------------------------
# Pitch curves


def test_mode2_points_after_a_rest_use_pbs_height():
    data = ust(note("a", 480, 62, ("PBS", "-40;-20"), ("PBW", "60,30,40"), ("PBY", "10,-5"),
                    ("PBM", ",s,r")))
    pts = rd(data).tracks[0].notes[0].pitch_points
    assert pts == (PitchPoint(-40, -200, "io"), PitchPoint(20, 100, "l"),
                   PitchPoint(50, -50, "o"), PitchPoint(90, 0, "io"))


def test_mode2_first_point_snaps_to_an_adjacent_sung_note():
    data = ust(note("a", 480, 60), note("i", 480, 64, ("PBS", "-30;-40"), ("PBW", "60")),
               note("R", 480, 60), note("u", 480, 67, ("PBS", "-30"), ("PBW", "60")),
               note("e", 480, 64, ("PBS", "-25"), ("PBW", "50"), ("PBY", "5"), ("PBM", "j")))
    _, i, u, e = rd(data).tracks[0].notes
    assert i.pitch_points == (PitchPoint(-30, -400), PitchPoint(30, 0))   # prev a: 60 - 64
    assert u.pitch_points == (PitchPoint(-30, 0), PitchPoint(30, 0))      # after a rest
    assert e.pitch_points == (PitchPoint(-25, 300, "i"), PitchPoint(25, 50))


def test_mode2_odd_but_real_spellings():
    data = ust(note("a", 480, 60, ("PBS", "-212;-40"), ("PBW", "180.5,180.5,147,148.5"),
                    ("PBY", "-20,,-10.7,"), ("PBM", "s,r,j")),
               note("R"),
               note("i", 480, 60, ("PBS", "-30,5"), ("PBW", "75.0"), ("PBY", "0.0")),
               note("R"),
               note("u", 480, 60, ("PBS", "-50;"), ("PBW", "100,100,50"), ("PBM", ",")))
    a, i, u = rd(data).tracks[0].notes
    assert a.pitch_points == (PitchPoint(-212, -400, "l"), PitchPoint(-31.5, -200, "o"),
                              PitchPoint(149, 0, "i"), PitchPoint(296, -107, "io"),
                              PitchPoint(444.5, 0, "io"))
    assert i.pitch_points == (PitchPoint(-30, 50), PitchPoint(45, 0))
    assert [p.offset_ms for p in u.pitch_points] == [-50, 50, 150, 200]
    assert all(p.cents == 0 and p.shape == "io" for p in u.pitch_points)


def test_mode2_without_widths_is_no_curve():
    assert rd(ust(note("a", 480, 60, ("PBS", "-40")))).tracks[0].notes[0].pitch_points == ()


@pytest.mark.parametrize("field, value", [("PBS", "x;0"), ("PBW", "50,nan"), ("PBW", "-10"),
                                          ("PBY", "1e9"), ("PBS", "1e12")])
def test_bad_mode2(field, value):
    fields = {"PBS": "-40;0", "PBW": "80", "PBY": "0"}
    fields[field] = value
    data = ust(note("a", 480, 60, *fields.items()))
    assert where(error(data, field)) == f"song.ust:{line_of(data, f'{field}={value}'.encode())}"
    p = rd(data, lenient=True)
    assert p.tracks[0].notes[0].pitch_points == ()
    assert any("pitch curve dropped" in w for w in p.warnings)


def test_mode1_pitchbend_becomes_lines_in_ms():
    # tempo 125: one tick is 1 ms; PBType 5 ticks = 5 ms between values
    data = ust(note("a", 480, 60, ("PBType", 5), ("PBStart", "-9.5"),
                    ("PitchBend", "0,10,20,30,30,,,-5")), tempo="125")
    pts = rd(data).tracks[0].notes[0].pitch_points
    assert pts == (PitchPoint(-9.5, 0, "l"), PitchPoint(5.5, 30, "l"), PitchPoint(10.5, 30, "l"),
                   PitchPoint(15.5, 0, "l"), PitchPoint(20.5, 0, "l"), PitchPoint(25.5, -5, "l"))


def test_mode1_old_spellings_and_note_tempo():
    data = ust(note("a", 480, 60, ("Piches", "0,100"), ("Tempo", 250)), tempo="125")
    assert rd(data).tracks[0].notes[0].pitch_points == (PitchPoint(0, 0, "l"),
                                                        PitchPoint(2.5, 100, "l"))
    data = ust(note("a", 480, 60, ("Pitches", "0,100"), ("PBType", 10)), tempo="125")
    assert rd(data).tracks[0].notes[0].pitch_points[-1] == PitchPoint(10, 100, "l")


def test_mode2_wins_over_mode1():
    data = ust(note("a", 480, 60, ("PitchBend", "0,50,100"), ("PBS", "-10;0"), ("PBW", "20")))
    assert rd(data).tracks[0].notes[0].pitch_points == (PitchPoint(-10, 0), PitchPoint(10, 0))


@pytest.mark.parametrize("extra", [("PBType", "0"), ("PBType", "2.5"), ("PBStart", "nan"),
                                   ("PitchBend", "0,abc")])
def test_bad_mode1(extra):
    fields = dict([("PitchBend", "0,10"), ("PBType", "5")])
    fields[extra[0]] = extra[1]
    data = ust(note("a", 480, 60, *fields.items()))
    error(data, extra[0])
    assert rd(data, lenient=True).tracks[0].notes[0].pitch_points == ()


def test_too_many_pitch_values_are_refused():
    values = ",".join(["1"] * (limits.MAX_NOTE_PITCH_POINTS + 1))
    data = ust(note("a", 480, 60, ("PitchBend", values)))
    error(data, "more than")


# --------------------------------------------------------------------------------------
# Vibrato


def test_vibrato_8_and_10_and_7_values():
    data = ust(note("a", 480, 60, ("VBR", "65,180,35,20,20,0,0,100")),
               note("i", 480, 60, ("VBR", "70,200,50,10,30,25,-10,0,5,0")),
               note("u", 480, 60, ("VBR", "60,170,60,,,50,0")))
    a, i, u = rd(data).tracks[0].notes
    assert a.vibrato == Vibrato(65, 180, 35, 20, 20, 0, 0)
    assert i.vibrato == Vibrato(70, 200, 50, 10, 30, 25, -10)
    assert u.vibrato == Vibrato(60, 170, 60, 0, 0, 50, 0)
    assert rd(ust(note("a"))).tracks[0].notes[0].vibrato is None


def test_vibrato_out_of_range_is_clamped_with_a_warning():
    p = rd(ust(note("a", 480, 60, ("VBR", "150,1000,300,20,20,0,-150,0"))))
    assert p.tracks[0].notes[0].vibrato == Vibrato(100, 512, 200, 20, 20, 0, -100)
    assert any("clamped" in w and "period 1000 -> 512" in w for w in p.warnings)


@pytest.mark.parametrize("vbr", ["65,0,35,20,20,0,0,0", "65,-180,35,20,20,0,0,0",
                                 "65,nan,35,20,20,0,0,0", "65,180,inf,20,20,0,0,0",
                                 "65,180", "65,180,35,20,20,0,0,0,0,0,0", "a,180,35,20,20,0,0,0",
                                 "65,180,35,20,20,0,1e99,0"])
def test_absurd_vibrato(vbr):
    data = ust(note("a", 480, 60, ("VBR", vbr)))
    assert where(error(data, "VBR")) == f"song.ust:{line_of(data, b'VBR=')}"
    p = rd(data, lenient=True)
    assert p.tracks[0].notes[0].vibrato is None and any("vibrato dropped" in w for w in p.warnings)


# --------------------------------------------------------------------------------------
# Structure


def test_line_without_equals_names_its_line():
    data = ust(note("a"), note("i", 480, 60, ("Bogus", None)))
    data = data.replace(b"Lyric=i\n", b"Lyric=i\nLengt480\n")
    e = error(data, "expected key=value")
    assert where(e) == f"song.ust:{line_of(data, b'Lengt480')}" and "Lengt480" in str(e)
    p = rd(data, lenient=True)
    assert lyrics(p) == ["a", "i"] and any("Lengt480" in w for w in p.warnings)


def test_text_before_the_first_section():
    data = ust(note("a"), before="hello\n")
    assert where(error(data, "before the first section")) == "song.ust:1"
    assert lyrics(rd(data, lenient=True)) == ["a"]
    assert lyrics(rd(ust(note("a"), before="\n  \n"))) == ["a"]


def test_duplicate_keys():
    same = ust(note("a", 480, 60, ("Lyric", "a")))
    assert notes_of(rd(same)) == [(0, 480, 60, "a")]
    data = ust(note("a", 480, 60, ("Lyric", "b")))
    e = error(data, "given twice")
    assert where(e) == f"song.ust:{line_of(data, b'Lyric=b')}"
    p = rd(data, lenient=True)
    assert lyrics(p) == ["b"] and any("last one is used" in w for w in p.warnings)


def test_unknown_keys_are_ignored_and_unknown_sections_warn():
    data = ust(note("a", 480, 60, ("Label", "x"), ("$direct", "true"), ("@alias", "あ"),
                    ("VoiceColor", "soft")),
               (None, []), note("i"))
    data = data.replace(b"[#0001]", b"[#FOO]")
    p = rd(data)
    assert lyrics(p) == ["a", "i"]
    assert any("unknown section [#FOO]" in w for w in p.warnings)


def test_trackend_ends_the_track():
    data = ust(note("a")) + b"[#0005]\nLength=480\nLyric=i\nNoteNum=60\n"
    p = rd(data)
    assert lyrics(p) == ["a"] and any("after [#TRACKEND]" in w for w in p.warnings)
    assert lyrics(rd(ust(note("a"), note("i"), trackend=False))) == ["a", "i"]


def test_plugin_sections():
    data = ust(note("い", 480, 62, header="[#PREV]"),
               note("か", 480, 60, ("PBS", "-40;0"), ("PBW", "80"), header="[#0003]"),
               note("x", 480, 60, header="[#DELETE]"),
               note("き", 240, 64, header="[#INSERT]"),
               note("く", 480, 65, header="[#0004]"),
               note("け", 480, 67, header="[#NEXT]"), trackend=False)
    p = rd(data)
    assert notes_of(p) == [(0, 480, 60, "か"), (480, 240, 64, "き"), (720, 480, 65, "く")]
    assert p.tracks[0].notes[0].pitch_points[0] == PitchPoint(-40, 200)  # from PREV's pitch 62
    assert any("[#PREV]" in w and "not sung" in w for w in p.warnings)
    assert any("[#NEXT]" in w and "not sung" in w for w in p.warnings)
    assert any("[#DELETE]" in w for w in p.warnings)


def test_rest_prev_does_not_snap():
    data = ust(note("R", 480, 62, header="[#PREV]"),
               note("か", 480, 60, ("PBS", "-40;-10"), ("PBW", "80"), header="[#0001]"))
    assert rd(data).tracks[0].notes[0].pitch_points[0] == PitchPoint(-40, -100)


def test_no_sections_at_all():
    e = error(b"Tempo=120\nLength=480\n", "not a UST")
    assert str(e).startswith("song.ust: ")
    error(b"", "empty")
    error(b"  \n\r\n", "empty")


def test_a_file_without_sung_notes_is_refused_or_read_empty_with_a_warning():
    error(ust(note("R")), "the file has no notes")
    p = rd(ust(note("R")), keep_tracks_without_lyrics=True)
    assert p.tracks == () and any("no notes" in w for w in p.warnings)


def test_layer_notes_are_not_sung():
    data = ust(note("a", 480, 60, ("Delta", 0), ("Duration", 480)),
               note("x", 480, 70, ("Delta", 0), ("Duration", 480), ("layer", 1)),
               note("i", 480, 62, ("Delta", 480), ("Duration", 480)), version="UST Version2.0")
    p = rd(data)
    assert notes_of(p) == [(0, 480, 60, "a"), (480, 480, 62, "i")]
    assert any("layer" in w for w in p.warnings)


def test_negative_delta():
    data = ust(note("a", 480, 60, ("Delta", 0), ("Duration", 480)),
               note("i", 480, 62, ("Delta", -240), ("Duration", 480)), version="UST Version2.0")
    assert where(error(data, "Delta")) == f"song.ust:{line_of(data, b'Delta=-240')}"
    p = rd(data, lenient=True)   # both notes start at 0: the later one is sung
    assert notes_of(p) == [(0, 480, 62, "i")] and any("same tick" in w for w in p.warnings)


def test_setting_after_the_notes_still_applies():
    data = ust(note("a"), tempo=None) + b"[#SETTING]\nTempo=90\n"
    data = data.replace(b"[#TRACKEND]\n", b"") + b"[#TRACKEND]\n"
    p = rd(data)
    assert p.tempos == (Tempo(0, 90.0),) and any("after the first note" in w for w in p.warnings)


def test_newer_version_warns():
    p = rd(ust(note("a"), version="UST Version 3.1"))
    assert lyrics(p) == ["a"] and any("3.1" in w for w in p.warnings)


def test_paths_in_the_file_are_only_text(tmp_path):
    secret = tmp_path / "voice"
    data = ust(note("a"), setting=[("VoiceDir", str(secret)), ("CacheDir", "/etc"),
                                   ("OutFile", "/etc/passwd"), ("Project", "/etc/shadow")])
    p = rd(data)
    assert p.tracks[0].source_singer == str(secret) and not secret.exists()


def test_sniff_never_raises():
    for junk in (None, 12, "text", b"\xff" * 5000, bytearray(b"[#SETTING]\n")):
        assert sniff(junk) in (True, False)


# --------------------------------------------------------------------------------------
# Encodings and line endings


def test_shift_jis_by_default_and_line_endings():
    base = notes_of(rd(ust(note("か"), note("ぱ"))))
    assert base == [(0, 480, 60, "か"), (480, 480, 60, "ぱ")]
    for newline in ("\r\n", "\r"):
        assert notes_of(rd(ust(note("か"), note("ぱ"), newline=newline))) == base
    no_final = ust(note("か"), note("ぱ"), trackend=False).rstrip(b"\n")
    assert notes_of(rd(no_final)) == base


def test_utf8_with_bom_or_charset():
    for data in (ust(note("か"), encoding="utf-8", bom=True),
                 ust(note("か"), version="Charset=UTF-8", encoding="utf-8"),
                 ust(note("か"), version="UST Version1.2\ncharset=utf-8", encoding="utf-8")):
        p = rd(data)
        assert lyrics(p) == ["か"] and not p.warnings
    data = ust(note("か"), version="Charset=Shift_JIS")
    assert lyrics(rd(data)) == ["か"]


def test_utf8_without_a_marker_is_detected_with_a_warning():
    p = rd(ust(note("か"), setting=[("VoiceDir", "重音テト")], encoding="utf-8"))
    assert lyrics(p) == ["か"] and p.tracks[0].source_singer == "重音テト"
    assert any("UTF-8" in w for w in p.warnings)


def test_declared_charset_that_lies_falls_back_to_utf8():
    p = rd(ust(note("か"), version="Charset=Shift_JIS", encoding="utf-8"))
    assert lyrics(p) == ["か"] and any("Charset=Shift_JIS" in w for w in p.warnings)


def test_forced_encoding():
    data = ust(note("é"), encoding="latin-1")
    assert lyrics(rd(data, encoding="latin-1")) == ["é"]
    assert lyrics(rd(ust(note("か"), encoding="utf-8"), encoding="utf-8")) == ["か"]
    e = error(data, "unknown text encoding", encoding="no-such-codec")
    assert "no-such-codec" in str(e)
    error(data, "unknown text encoding", encoding="rot13")  # not a text encoding
    error(data, "unknown text encoding", encoding="../../etc")


def test_unknown_charset_line():
    data = ust(note("a"), version="Charset=klingon")
    assert where(error(data, "Charset")) == "song.ust:2"
    p = rd(data, lenient=True)
    assert lyrics(p) == ["a"]


def test_undecodable_bytes():
    data = ust(note("a"), note("XX")).replace(b"XX", b"\x82\xff")
    e = error(data, "not valid cp932")
    assert where(e) == f"song.ust:{line_of(data, bytes([0x82, 0xff]))}"
    p = rd(data, lenient=True)
    assert lyrics(p) == ["a", "\ufffd\ufffd"] or lyrics(p)[1].startswith("\ufffd")
    assert any("U+FFFD" in w for w in p.warnings)
    data = ust(note("a"), note("XX"), version="Charset=UTF-8").replace(b"XX", b"\xff")
    assert where(error(data, "utf-8")) == f"song.ust:{line_of(data, bytes([0xff]))}"


# --------------------------------------------------------------------------------------
# Limits


def test_more_than_max_notes_is_refused_at_the_header_past_the_limit():
    body = b"[#%d]\nLength=1\nLyric=a\nNoteNum=60\n"
    data = b"".join([b"[#SETTING]\nTempo=120\n"]
                    + [body % i for i in range(limits.MAX_NOTES + 1)])
    e = error(data, f"more than {limits.MAX_NOTES} notes")
    assert e.line == 3 + 4 * limits.MAX_NOTES


def test_max_notes_boundary(monkeypatch):
    monkeypatch.setattr(limits, "MAX_NOTES", 20)
    ok = ust(*[note("a", 10)] * 20)
    assert len(rd(ok).tracks[0].notes) == 20
    error(ust(*[note("a", 10)] * 21), "more than 20 notes")


def test_a_million_bad_lines_stay_bounded_in_lenient_mode():
    data = (ust(note("a"), trackend=False) + b"[#0001]\n" + b"junk\n" * 200_000
            + b"Length=480\nLyric=i\nNoteNum=60\n")
    p = rd(data, lenient=True)
    assert lyrics(p) == ["a", "i"]
    assert len(p.warnings) == MAX_WARNINGS + 1 and "more warnings" in p.warnings[-1]


def test_huge_numbers_do_not_break_the_parser():
    big = "9" * 5000
    for field in ("Length", "NoteNum", "Tempo", "Velocity", "PBS", "PBW", "PBY", "VBR",
                  "Envelope", "PitchBend", "PBStart"):
        fields = {"Length": 480, "NoteNum": 60, "PBS": "-40", "PBW": "80"}
        if field in ("PitchBend", "PBStart"):  # mode 1 is read only without PBS
            fields = {"Length": 480, "NoteNum": 60, "PitchBend": "0,1"}
        fields[field] = big
        data = ust((None, list(fields.items()) + [("Lyric", "a")]))
        with pytest.raises(ScoreFormatError):
            rd(data)
        try:
            rd(data, lenient=True)
        except ScoreFormatError:
            pass


# --------------------------------------------------------------------------------------
# Real files from ../shared/data


def _ust_files(shared: Path) -> list[Path]:
    root = shared / "ust"
    return sorted(p for p in root.rglob("*") if p.is_file() and "LICENSE" not in p.name)


def _real(shared: Path, rel: str, **kw):
    f = shared / "ust" / rel
    if not f.is_file():
        pytest.skip(f"{rel} is absent from ../shared/data")
    return read_ust(f.read_bytes(), path=str(f), **kw)


@pytest.mark.shared
def test_every_real_file_reads_strictly_and_sniffs(shared_data):
    files = _ust_files(shared_data)
    if not files:
        pytest.skip("no UST files in ../shared/data/ust")
    assert len(files) >= 20
    for f in files:
        data = f.read_bytes()
        assert sniff(data[:4096]), f
        p = read_ust(data, path=str(f), keep_tracks_without_lyrics=True)
        assert p.source_path == str(f)
        assert len(p.tracks) == (1 if f.name != "_dummy.ust" else 0) and p.tempos[0].tick == 0
        if not p.tracks:   # an OpenUtau test file that holds a rest only
            with pytest.raises(ScoreFormatError, match="no notes"):
                read_ust(data, path=str(f))
            continue
        assert read_ust(data, path=str(f)) == p
        notes = p.tracks[0].notes
        assert all(a.start_ticks <= b.start_ticks for a, b in zip(notes, notes[1:]))
        assert all(n.duration_ticks > 0 and n.lyric and n.lyric.split()[-1] not in ("R", "r")
                   for n in notes)
        assert read_ust(data, path=str(f), lenient=True) == p


@pytest.mark.shared
def test_real_hello_utau(shared_data):
    p = _real(shared_data, "HelloUtau/test.ust")
    t = p.tracks[0]
    assert p.title == "alumina_p" and t.source_singer == "%VOICE%--VCVs RUS text"
    assert p.tempos == (Tempo(0, 92.0),)
    assert len(t.notes) == 66
    assert [n.lyric for n in t.notes[:4]] == ["- v'e", "e r'u", "u f", "to"]
    assert [(n.start_ticks, n.duration_ticks, n.pitch) for n in t.notes[:2]] == \
        [(1920, 240, 53), (2160, 180, 53)]  # after rests of 1740 + 180 ticks
    assert sum(n.vibrato is not None for n in t.notes) == 25
    assert all(n.pitch_points for n in t.notes)
    assert t.notes[1].vibrato == Vibrato(65, 180, 35, 20, 20, 0, 0)
    assert t.notes[0].pitch_points == (PitchPoint(-27, 0), PitchPoint(25, 0))
    assert t.notes[0].expression("vel") == 150
    assert sum(n.flags == "Mo-30Mt-60b-10" for n in t.notes) == 3
    assert "'i R" not in [n.lyric for n in t.notes]  # VCV into a rest
    assert p.end_ticks == 19140 and p.warnings == ()


@pytest.mark.shared
def test_real_easyust(shared_data):
    p = _real(shared_data, "easyust/example.ust")
    t = p.tracks[0]
    assert p.tempos == (Tempo(0, 173.22),) and p.title == "Untitled0"
    assert len(t.notes) == 57
    assert [n.lyric for n in t.notes[:4]] == ["wo", "xiang", "he", "ni"]
    assert t.notes[4].start_ticks == 2400  # the rest at 1920
    assert t.notes[0].expressions == (("vel", 81.28),)
    assert t.notes[0].envelope == (10, 139, 35, 101, 101, 101, 0, 0)
    assert (t.notes[-1].lyric, t.notes[-1].start_ticks, t.notes[-1].duration_ticks) == \
        ("ni", 29760, 960)


@pytest.mark.shared
def test_real_openutau_dummy(shared_data):
    p = _real(shared_data, "OpenUtau/_dummy.ust", keep_tracks_without_lyrics=True)
    assert p.tracks == () and p.tempos == (Tempo(0, 84.0),)
    assert p.title == "Main"
    assert any("UTF-8" in w for w in p.warnings) and any("no notes" in w for w in p.warnings)
    with pytest.raises(ScoreFormatError, match="_dummy.ust: the file has no notes"):
        _real(shared_data, "OpenUtau/_dummy.ust")


@pytest.mark.shared
def test_real_gotau(shared_data):
    full = _real(shared_data, "gotau/Full.ust").tracks[0].notes[0]
    assert (full.start_ticks, full.duration_ticks, full.pitch, full.lyric) == (0, 720, 69, "a")
    # PBM=l,s: "l" is OpenUtau's name for UTAU's "s" (straight line)
    assert full.pitch_points == (PitchPoint(-40, 0, "l"), PitchPoint(25, 0, "l"),
                                 PitchPoint(94, 420, "io"))
    assert full.expressions == (("vel", 100), ("vol", 100), ("mod", 0), ("preutter_ms", 42),
                                ("overlap_ms", 42), ("stp_ms", 42))
    assert full.flags == "g0" and full.envelope == (5, 35, 0, 100, 100, 0, 0, 0)
    empty = _real(shared_data, "gotau/EmptyOptionalValues.ust").tracks[0].notes[0]
    assert empty.expressions == (("mod", 0),) and empty.pitch == 69
    sj = _real(shared_data, "gotau/OpenUtau_ShiftJIS.ust")
    u8 = _real(shared_data, "gotau/OpenUtau_UTF-8.ust")
    assert [replace(n, source="") for n in sj.tracks[0].notes] == \
        [replace(n, source="") for n in u8.tracks[0].notes]
    assert sj.tracks[0].source_singer == u8.tracks[0].source_singer
    assert "重音テト" in sj.tracks[0].source_singer
    assert sj.tracks[0].notes[0].flags == "g0B0H0P86"


@pytest.mark.shared
def test_real_tsuru(shared_data):
    cv = _real(shared_data, "tsuru/testustCV.ust")
    assert lyrics(cv) == ["か", "* え", "る", "の", "* う", "た", "が"]
    assert [n.start_ticks for n in cv.tracks[0].notes][:2] == [480, 960]
    assert cv.title == "新規プロジェクト"
    assert cv.tracks[0].notes[-1].vibrato == Vibrato(70, 180, 65, 20, 20, 50, 0)
    assert cv.tracks[0].notes[1].pitch_points[0] == PitchPoint(-45, -200)  # snapped 48 -> 50
    vcv = _real(shared_data, "tsuru/testustVCV.ust")
    assert lyrics(vcv)[:2] == ["- か", "a え"]


@pytest.mark.shared
def test_real_utaformatix(shared_data):
    breath = _real(shared_data, "utaformatix-ts/breath.ust")
    assert notes_of(breath) == [(0, 480, 60, "- あ"), (480, 480, 62, "a あ"),
                                (960, 480, 64, "a あ")]
    assert breath.tracks[0].notes[1].expression("vol") == 106
    gen = _real(shared_data, "utaformatix-ts/generated_utau.ust")
    assert lyrics(gen) == ["ど", "れ", "み", "ふぁ", "そ", "ら", "し", "ど"]
    assert [n.pitch for n in gen.tracks[0].notes] == [60, 62, 64, 65, 67, 69, 71, 72]
    assert gen.title == "Track 1"
    vcv = _real(shared_data, "utaformatix-ts/tsukuyomi_vcv.ust")
    assert lyrics(vcv)[:2] == ["- ど_B3", "o れ_B3"] and len(vcv.tracks[0].notes) == 8
    assert vcv.tracks[0].source_singer == "*つくよみちゃんUTAU音源"
    assert lyrics(_real(shared_data, "utaformatix-ts/utau.ust")) == lyrics(gen)


@pytest.mark.shared
@pytest.mark.parametrize("name", ["test100.tmp", "test101.tmp", "test111.tmp", "test119.tmp",
                                  "test120.tmp", "error.txt"])
def test_real_plugin_files(shared_data, name):
    p = _real(shared_data, f"utauPlugin-tmp/{name}")
    assert notes_of(p) == [(0, 480, 60, "い"), (480, 240, 64, "う"), (720, 480, 60, "え")]
    assert p.tempos == (Tempo(0, 150.0), Tempo(480, 125.0))
    i, u, e = p.tracks[0].notes
    assert i.pitch_points == (PitchPoint(-40, 0), PitchPoint(40, 0))  # PREV あ is 60 too
    assert u.pitch_points[0] == PitchPoint(-212, -400, "l")           # snapped to い
    assert u.vibrato == Vibrato(65, 180, 35, 20, 20, 0, 0)
    assert u.envelope == (0, 5, 35, 0, 100, 100, 0, 0, 26, 84)
    assert u.flags == "g5"
    assert dict(u.expressions) == {"vel": 3, "vol": 50, "mod": 10, "preutter_ms": 1,
                                   "overlap_ms": 2, "stp_ms": 4}
    assert e.pitch_points[0] == PitchPoint(-40, 400)
    assert any("[#PREV]" in w and "'あ'" in w for w in p.warnings)
    assert any("[#NEXT]" in w and "'お'" in w for w in p.warnings)
    if name == "error.txt":  # UTF-8 with BOM; PreUtterance=あ
        assert any("PreUtterance 'あ'" in w for w in p.warnings)


@pytest.mark.shared
def test_real_plugin_files_2019(shared_data):
    p = _real(shared_data, "utauPlugin-tmp/error20190110.txt")
    t = p.tracks[0]
    assert len(t.notes) == 12 and lyrics(p)[:3] == ["は", "る", "こ"]
    assert t.notes[7].start_ticks == 3840  # after the rest [#0008]
    assert t.notes[0].pitch_points[0] == PitchPoint(-60, -200)  # PREV is a rest: PBS height
    p = _real(shared_data, "utauPlugin-tmp/20190103Error.txt")
    assert notes_of(p) == [(0, 240, 66, "か弱")] and p.tempos == (Tempo(0, 193.0),)


# --------------------------------------------------------------------------------------
# Robustness: truncation and mutation


def _read_any(data: bytes, lenient: bool = False) -> None:
    """Read: a Project or ScoreFormatError, nothing else."""
    try:
        p = read_ust(data, path="fuzz.ust", lenient=lenient)
    except ScoreFormatError as e:
        assert str(e).startswith("fuzz.ust")
        return
    for n in p.tracks[0].notes:
        assert 0 <= n.pitch <= 127 and n.duration_ticks > 0
        assert 0 <= n.start_ticks and n.end_ticks <= limits.MAX_TICKS
        assert all(math.isfinite(x) for x in n.envelope)
        assert all(math.isfinite(v) for _, v in n.expressions)
    assert all(limits.bpm_ok(t.bpm) for t in p.tempos)


_INLINE_SEEDS = [
    ust(note("a", 480, 60, ("PBS", "-40;5"), ("PBW", "80,20"), ("PBY", "3"), ("PBM", "s,j"),
             ("VBR", "65,180,35,20,20,0,0,0"), ("Envelope", "0,5,35,0,100,100,0,%,0,26,84"),
             ("Velocity", 120), ("Intensity", 90), ("Modulation", 0), ("Flags", "g-5")),
        note("R", 240), note("か", 960, 62, ("PitchBend", "0,10,,20"), ("PBStart", "-10"),
                              ("PBType", 5), ("Tempo", 140))),
    ust(note("a", 480, 60, ("Delta", 0), ("Duration", 400)),
        note("i", 480, 64, ("Delta", 480), ("Duration", 480), ("PBS", "-30,10"), ("PBW", "60")),
        version="UST Version2.0\nCharset=UTF-8",
        setting=[("TimeSignatures", "(3/4/0),(4/4/2),")], encoding="utf-8"),
    ust(note("い", 480, 62, header="[#PREV]"), note("か", 480, 60, ("PBS", "-40"), ("PBW", "80"),
                                                    header="[#0003]"),
        note("x", header="[#DELETE]"), note("き", 240, 64, header="[#INSERT]"),
        note("け", 480, 67, header="[#NEXT]"), trackend=False, newline="\r\n"),
]


def _seeds() -> list[bytes]:
    seeds = list(_INLINE_SEEDS)
    root = SHARED / "ust"
    if root.is_dir():
        seeds += [p.read_bytes() for p in sorted(root.rglob("*"))
                  if p.is_file() and "LICENSE" not in p.name and p.stat().st_size <= 8192]
    return seeds


SEEDS = _seeds()
_NUMBER = re.compile(rb"-?[0-9]+(?:\.[0-9]+)?")
ABSURD = [b"0", b"-1", b"1e9", b"nan", b"inf", b"-inf", b"1e400", b"99999999999999999999999",
          b"691200001", b"-0.0", b"", b"4.5", b"128", b"1000.1", b"0.001", b"1" * 6000]


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["number", "number", "flip", "insert", "delete", "line"]))
        if kind == "number":
            spans = [m.span() for m in _NUMBER.finditer(bytes(data))]
            if spans:
                a, b = draw(st.sampled_from(spans))
                data[a:b] = draw(st.sampled_from(ABSURD))
        elif kind == "flip" and data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        elif kind == "insert":
            i = draw(st.integers(0, len(data)))
            data[i:i] = draw(st.sampled_from([b"\n", b"=", b",", b";", b"[#", b"]", b"\xff",
                                              b"\x82", b"[#0001]\n", b"[#PREV]\n",
                                              b"[#TRACKEND]\n", b"Tempo=0\n", b"Length=-1\n",
                                              b"\r", b"\x00", b"%", b"?", b"R"]))
        elif kind == "delete" and data:
            i = draw(st.integers(0, len(data) - 1))
            del data[i:i + draw(st.integers(1, 40))]
        elif kind == "line":
            lines = bytes(data).split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[j])
            data = bytearray(b"\n".join(lines))
    return bytes(data)


@pytest.mark.slow
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated(), lenient=st.booleans())
def test_mutated_files_read_or_raise_score_format_error(data, lenient):
    _read_any(data, lenient)


@pytest.mark.slow
@settings(max_examples=200)
@given(fields=st.lists(st.tuples(
    st.sampled_from(["Length", "Lyric", "NoteNum", "PBS", "PBW", "PBY", "PBM", "VBR", "Envelope",
                     "Tempo", "Delta", "Duration", "PitchBend", "PBType", "PBStart", "Velocity",
                     "PreUtterance", "Flags", "Modulation"]),
    st.text(alphabet="0123456789-.,;%eE Rr?naif", max_size=24)), max_size=12),
    lenient=st.booleans())
def test_random_note_fields_read_or_raise_score_format_error(fields, lenient):
    data = ust(note("a", 480, 60), (None, fields),
               note("i", 480, 62, ("PBS", "-20"), ("PBW", "40")))
    _read_any(data, lenient)
