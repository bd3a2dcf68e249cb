"""MusicXML writer: round trips through our reader, document structure, bad projects."""
from __future__ import annotations

import re
from pathlib import Path
from xml.dom import minidom

import pytest
from hypothesis import given, settings, strategies as st

from utagoe.errors import InvalidValueError, ScoreFormatError
from utagoe.formats import limits
from utagoe.formats.common import NO_LYRIC
from utagoe.formats.musicxml import read as read_musicxml_bytes
from utagoe.formats.options import ReadOptions
from utagoe.formats.musicxml_write import note_values, spell_pitch, write, write_musicxml
from utagoe.formats.registry import FormatRegistry, ScoreWriter, default_registry
from utagoe.model import (CONTINUATION, KeySignature, Note, PitchPoint, Project, Tempo,
                          TimeSignature, Track, Vibrato)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# --------------------------------------------------------------------------------------
# Helpers: projects, reading back, and what a round trip must give


def read_musicxml(data: bytes, *, path: str | None = None, **kw):
    return read_musicxml_bytes(data, path=path, options=ReadOptions(**kw))


def N(start, dur, pitch=60, lyric="a", **kw):
    return Note(start_ticks=start, duration_ticks=dur, pitch=pitch, lyric=lyric, **kw)


def P(*tracks, tempos=(Tempo(0, 120.0),), sigs=(TimeSignature(0, 4, 4),),
      keys=(KeySignature(0),), title="Song"):
    """A project; each track is a list of notes or a (name, notes) pair."""
    ts = []
    for i, t in enumerate(tracks):
        name, notes = t if isinstance(t, tuple) else (f"Track {i + 1}", t)
        ts.append(Track(name=name, notes=tuple(notes)))
    return Project(tracks=tuple(ts), tempos=tuple(tempos), time_signatures=tuple(sigs),
                   key_signatures=tuple(keys), title=title)


def tuples(notes) -> list[tuple]:
    return [(n.start_ticks, n.duration_ticks, n.pitch, n.lyric) for n in notes]


_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def expected_lyric(lyric: str) -> str:
    text = _BAD_XML_CHARS.sub("", lyric).strip()
    return text if text else CONTINUATION


def expected_notes(notes) -> list[tuple]:
    """Sorted, monophonic (cut at the next start; highest of a chord), lyrics cleaned; a
    track without any lyric comes back with NO_LYRIC on every note."""
    ns = sorted(notes, key=lambda n: (n.start_ticks, n.pitch))
    out = []
    for k, n in enumerate(ns):
        if k + 1 < len(ns) and ns[k + 1].start_ticks == n.start_ticks:
            continue
        end = n.end_ticks
        if k + 1 < len(ns):
            end = min(end, ns[k + 1].start_ticks)
        out.append((n.start_ticks, end - n.start_ticks, n.pitch, expected_lyric(n.lyric)))
    if all(lyric == CONTINUATION for *_, lyric in out):
        out = [(a, b, c, NO_LYRIC) for a, b, c, _ in out]
    return out


def _per_tick(events, key):
    out = []
    for e in sorted(events, key=lambda e: e.tick):
        if out and out[-1][0] == e.tick:
            out[-1] = (e.tick,) + key(e)
        else:
            out.append((e.tick,) + key(e))
    if out:
        out[0] = (0,) + out[0][1:]
    return out


def expected_tempos(tempos) -> list[Tempo]:
    out = []
    for t in _per_tick(tempos, lambda e: (e.bpm,)) or [(0, 120.0)]:
        if not out or out[-1].bpm != t[1]:
            out.append(Tempo(t[0], t[1]))
    return out


def expected_signatures(sigs) -> list[TimeSignature]:
    out: list[TimeSignature] = []
    for tick, num, den in _per_tick(sigs, lambda e: (e.numerator, e.denominator)):
        if out and (out[-1].numerator, out[-1].denominator) == (num, den) and \
                (tick - out[-1].tick) % out[-1].measure_ticks == 0:
            continue
        out.append(TimeSignature(tick, num, den))
    return out or [TimeSignature(0, 4, 4)]


def check_structure(data: bytes) -> list[list[int]]:
    """Well-formed XML; every measure of every part has the same length, which fills its
    time signature unless the next measure starts a new signature (an irregular measure).
    Returns each part's measure lengths (divisions = ticks)."""
    doc = minidom.parseString(data)
    root = doc.documentElement
    assert root.tagName == "score-partwise" and root.getAttribute("version") == "4.0"
    assert doc.doctype is not None and doc.doctype.publicId == \
        "-//Recordare//DTD MusicXML 4.0 Partwise//EN"
    all_lengths = []
    for part in root.getElementsByTagName("part"):
        lengths, times = [], []
        bar = None
        for m in part.getElementsByTagName("measure"):
            for t in m.getElementsByTagName("time"):
                beats = int(t.getElementsByTagName("beats")[0].firstChild.data)
                beat_type = int(t.getElementsByTagName("beat-type")[0].firstChild.data)
                bar = 1920 * beats // beat_type
            per_voice: dict[str, int] = {}
            for nel in m.getElementsByTagName("note"):
                assert not nel.getElementsByTagName("chord")
                v = nel.getElementsByTagName("voice")[0].firstChild.data
                d = int(nel.getElementsByTagName("duration")[0].firstChild.data)
                assert d > 0
                per_voice[v] = per_voice.get(v, 0) + d
            assert list(per_voice) == ["1"]
            assert not m.getElementsByTagName("backup") and not m.getElementsByTagName("forward")
            lengths.append(per_voice["1"])
            times.append((bar, bool(m.getElementsByTagName("time"))))
        for i, (length, (bar, _)) in enumerate(zip(lengths, times)):
            next_has_time = i + 1 < len(times) and times[i + 1][1]
            assert length == bar or (next_has_time and 0 < length < bar), (i, length, bar)
        all_lengths.append(lengths)
    assert all(x == all_lengths[0] for x in all_lengths)
    return all_lengths


def roundtrip(project: Project, *, warnings_ok=False) -> list[Project]:
    """Write, check the structure, read every part back, compare with what it must give."""
    data = write(project)
    check_structure(data)
    got = []
    for i, track in enumerate(project.tracks):
        if not track.notes:  # an empty track is an empty part
            with pytest.raises(ScoreFormatError, match="no notes"):
                read_musicxml(data, part=i + 1)
            continue
        q = read_musicxml(data, path="out.musicxml", part=i + 1, keep_tracks_without_lyrics=True)
        got.append(q)
        assert tuples(q.tracks[0].notes) == expected_notes(track.notes)
        assert list(q.tempos) == expected_tempos(project.tempos)
        assert list(q.time_signatures) == expected_signatures(project.time_signatures)
        assert q.title == " ".join(_BAD_XML_CHARS.sub("", project.title).split())
        name = " ".join(_BAD_XML_CHARS.sub("", track.name).split())
        assert q.tracks[0].name == (name or f"P{i + 1}")
        if not warnings_ok and any(lyric != NO_LYRIC for *_, lyric in tuples(q.tracks[0].notes)):
            assert q.warnings == ()
    return got


def xml_notes(data: bytes):
    return minidom.parseString(data).getElementsByTagName("note")


def text_of(el, tag):
    found = el.getElementsByTagName(tag)
    return found[0].firstChild.data if found and found[0].firstChild else None


# --------------------------------------------------------------------------------------
# Round trips


def test_simple_song_round_trips_with_rests_and_a_title():
    notes = [N(0, 480, 60, "さ"), N(480, 480, 62, "く"), N(1440, 480, 64, "ら"),
             N(1920, 960, 65, "さ"), N(3360, 240, 67, "く")]
    q = roundtrip(P(("Vocal", notes), title="さくら  test"))[0]
    assert q.tracks[0].name == "Vocal"
    assert q.title == "さくら test"
    data = write(P(notes))
    rests = [n for n in xml_notes(data) if n.getElementsByTagName("rest")]
    # a quarter rest in bar 1; in bar 2 a quarter rest, and an eighth padding the bar
    assert [int(text_of(r, "duration")) for r in rests] == [480, 480, 240]
    assert text_of(xml_notes(data)[0], "type") == "quarter"


def test_same_project_gives_the_same_bytes():
    p = P([N(0, 700, 61, "x"), N(700, 5, 70, "+")], tempos=[Tempo(0, 90), Tempo(300, 91.5)])
    assert write(p) == write(p)


def test_note_crossing_bar_lines_is_split_and_tied_with_one_lyric():
    # starts on beat 4 of bar 1, lasts through bar 2 into bar 3
    p = P([N(1440, 480 + 1920 + 240, 67, "long"), N(4080, 240, 69, "b")])
    q = roundtrip(p)[0]
    assert tuples(q.tracks[0].notes) == [(1440, 2640, 67, "long"), (4080, 240, 69, "b")]
    pieces = [n for n in xml_notes(write(p)) if not n.getElementsByTagName("rest")]
    assert [int(text_of(n, "duration")) for n in pieces] == [480, 1920, 240, 240]
    ties = [[t.getAttribute("type") for t in n.getElementsByTagName("tie")] for n in pieces]
    assert ties == [["start"], ["stop", "start"], ["stop"], []]
    tied = [[t.getAttribute("type") for t in n.getElementsByTagName("tied")] for n in pieces]
    assert tied == ties
    assert [text_of(n, "text") for n in pieces] == ["long", None, None, "b"]


def test_three_four_six_eight_and_changing_signatures():
    sigs = [TimeSignature(0, 3, 4), TimeSignature(2880, 6, 8), TimeSignature(5760, 2, 4),
            TimeSignature(6720, 5, 8)]
    notes = [N(i * 360, 360, 60 + i % 12, f"s{i}") for i in range(24)]
    roundtrip(P(notes, sigs=sigs))
    lengths = check_structure(write(P(notes, sigs=sigs)))[0]
    assert lengths == [1440, 1440, 1440, 1440, 960, 1200, 1200]


def test_signature_off_the_bar_line_makes_an_irregular_measure():
    # 4/4 bar lines at 0, 1920; 3/4 starts at 2400 (a beat into bar 2)
    sigs = [TimeSignature(0, 4, 4), TimeSignature(2400, 3, 4)]
    notes = [N(0, 1920, 60, "a"), N(1920, 960, 62, "b"), N(2880, 1440, 64, "c")]
    q = roundtrip(P(notes, sigs=sigs))[0]
    assert list(q.time_signatures) == sigs
    assert check_structure(write(P(notes, sigs=sigs)))[0] == [1920, 480, 1440, 1440]
    # the note over the irregular bar line is tied across it
    assert tuples(q.tracks[0].notes)[1] == (1920, 960, 62, "b")


def test_same_signature_restated_off_the_bar_line_is_kept():
    sigs = [TimeSignature(0, 4, 4), TimeSignature(2400, 4, 4), TimeSignature(4320, 4, 4)]
    q = roundtrip(P([N(0, 480, 60, "a"), N(4400, 480, 62, "b")], sigs=sigs))[0]
    assert list(q.time_signatures) == sigs[:2]  # the third is on a bar line: redundant


def test_first_signature_and_tempo_hold_from_tick_zero():
    p = P([N(0, 480, 60, "a")], tempos=[Tempo(960, 100.0)], sigs=[TimeSignature(960, 3, 4)])
    q = roundtrip(p)[0]
    assert q.tempos == (Tempo(0, 100.0),) and q.time_signatures == (TimeSignature(0, 3, 4),)


def test_tempo_changes_mid_measure_inside_rests_and_notes():
    tempos = [Tempo(0, 84.0), Tempo(720, 78.0), Tempo(1200, 66.5), Tempo(2100, 60.25),
              Tempo(2160, 61.0), Tempo(5000, 84.0)]
    notes = [N(0, 480, 65, "a"), N(960, 960, 67, "b"), N(1920, 960, 69, "c")]
    q = roundtrip(P(notes, tempos=tempos))[0]
    assert list(q.tempos) == tempos
    data = write(P(notes, tempos=tempos))
    offsets = [int(o.firstChild.data) for o in
               minidom.parseString(data).getElementsByTagName("offset")]
    # 1200 is inside note b (960..1920): offset 240; 2100 and 2160 inside note c
    assert offsets == [240, 180, 240]
    # 720 is inside the rest 480..960: the rest is split there, no offset needed
    rests = [int(text_of(n, "duration")) for n in xml_notes(data)[:4]
             if n.getElementsByTagName("rest")]
    assert rests == [240, 240]
    sounds = [s.getAttribute("tempo") for s in
              minidom.parseString(data).getElementsByTagName("sound")]
    assert sounds == ["84", "78", "66.5", "60.25", "61", "84"]


def test_tempos_normalised_like_the_time_axis():
    # unsorted, two at one tick (the last wins), a repeat (dropped), none at tick 0
    tempos = [Tempo(1920, 90.0), Tempo(480, 100.0), Tempo(1920, 95.0), Tempo(2400, 95.0)]
    q = roundtrip(P([N(0, 3000, 60, "a")], tempos=tempos))[0]
    assert q.tempos == (Tempo(0, 100.0), Tempo(1920, 95.0))
    assert roundtrip(P([N(0, 10, 60, "a")], tempos=()))[0].tempos == (Tempo(0, 120.0),)


def test_continuation_notes_get_extend_and_a_slur():
    notes = [N(0, 480, 60, "ゆ"), N(480, 240, 62, CONTINUATION), N(720, 240, 60, "+"),
             N(960, 480, 64, "め"), N(1920, 480, 65, "+"),  # after a rest: no melisma
             N(2400, 480, 65, "+")]
    q = roundtrip(P(notes))[0]
    assert [n.lyric for n in q.tracks[0].notes] == ["ゆ", "+", "+", "め", "+", "+"]
    pitched = [n for n in xml_notes(write(P(notes))) if not n.getElementsByTagName("rest")]
    extends = [[e.getAttribute("type") for e in n.getElementsByTagName("extend")]
               for n in pitched]
    assert extends == [["start"], [], ["stop"], [], [], []]
    slurs = [[s.getAttribute("type") for s in n.getElementsByTagName("slur")] for n in pitched]
    assert slurs == [["start"], [], ["stop"], [], [], []]
    assert [len(n.getElementsByTagName("text")) for n in pitched] == [1, 0, 0, 1, 0, 0]


def test_melisma_ending_on_a_tied_note_ends_on_its_last_piece():
    notes = [N(1440, 480, 60, "a"), N(1920, 480, 62, "+"), N(2400, 1920, 64, "+")]
    q = roundtrip(P(notes))[0]
    assert tuples(q.tracks[0].notes) == [(1440, 480, 60, "a"), (1920, 480, 62, "+"),
                                         (2400, 1920, 64, "+")]
    pitched = [n for n in xml_notes(write(P(notes))) if not n.getElementsByTagName("rest")]
    marks = [([e.getAttribute("type") for e in n.getElementsByTagName("extend")],
              [s.getAttribute("type") for s in n.getElementsByTagName("slur")])
             for n in pitched]
    assert marks == [(["start"], ["start"]), ([], []), ([], []), (["stop"], ["stop"])]


def test_continuation_of_the_same_pitch_is_not_taken_for_a_tie():
    notes = [N(0, 2400, 60, "a"), N(2400, 480, 60, "+"), N(2880, 480, 60, "b")]
    q = roundtrip(P(notes))[0]
    assert tuples(q.tracks[0].notes) == [(0, 2400, 60, "a"), (2400, 480, 60, "+"),
                                         (2880, 480, 60, "b")]


@pytest.mark.parametrize("fifths,expected", [
    (3, [("C", 1), ("D", 1), ("F", 1), ("G", 1), ("A", 1)]),     # A major: sharps
    (-3, [("D", -1), ("E", -1), ("G", -1), ("A", -1), ("B", -1)]),  # E flat major: flats
    (0, [("C", 1), ("E", -1), ("F", 1), ("G", 1), ("B", -1)]),
])
def test_black_keys_are_spelt_by_the_key(fifths, expected):
    pitches = [61, 63, 66, 68, 70]
    notes = [N(i * 480, 480, p, f"n{i}") for i, p in enumerate(pitches)]
    p = P(notes, keys=[KeySignature(0, fifths, "minor")])
    q = roundtrip(p)[0]
    assert [n.pitch for n in q.tracks[0].notes] == pitches
    assert q.key_signatures == (KeySignature(0, fifths, "minor"),)
    got = [(text_of(n, "step"), int(text_of(n, "alter") or 0)) for n in xml_notes(write(p))
           if not n.getElementsByTagName("rest")]
    assert got == expected


def test_spelling_in_extreme_keys_and_octaves():
    assert spell_pitch(65, 6) == ("E", 1, 4)    # E#4 in F# major
    assert spell_pitch(59, -6) == ("C", -1, 4)  # Cb4 in Gb major is B3
    assert spell_pitch(60, 7) == ("B", 1, 3)    # B#3 in C# major is C4
    assert spell_pitch(12, 7) == ("C", 0, 0)    # B#-1 would leave MusicXML's octaves
    assert spell_pitch(127, -7) == ("G", 0, 9)
    for fifths in range(-7, 8):
        notes = [N(i * 30, 30, p, "x") for i, p in enumerate(range(12, 128))]
        q = roundtrip(P(notes, keys=[KeySignature(0, fifths)]))[0]
        assert [n.pitch for n in q.tracks[0].notes] == list(range(12, 128))


def test_key_changes_at_bar_lines_in_rests_and_inside_notes():
    keys = [KeySignature(0, 2), KeySignature(1920, -3, "minor"), KeySignature(2880, 1),
            KeySignature(4000, 1), KeySignature(4200, 0)]
    notes = [N(0, 480, 66, "a"), N(1920, 480, 63, "b"), N(3840, 960, 66, "c")]
    p = P(notes, keys=keys)
    q = roundtrip(p)[0]
    # 2880 is inside a rest (split there); 4200 falls inside note c: written before it;
    # 4000 repeats the key before it
    assert q.key_signatures == (KeySignature(0, 2), KeySignature(1920, -3, "minor"),
                                KeySignature(2880, 1), KeySignature(3840, 0))
    got = [(text_of(n, "step"), text_of(n, "alter")) for n in xml_notes(write(p))
           if not n.getElementsByTagName("rest")]
    assert got == [("F", "1"), ("E", "-1"), ("F", "1")]


def test_lyrics_with_xml_special_characters_japanese_and_control_characters():
    lyrics = ["R&B", "<tag>", 'say "hi"', "it's", "]]>", "a&amp;b", "きゃ", "ー",
              "a\x00b\x1f", "\ud800x", "\ufffe", "  spaced  ", "line\rbreak", "tab\there",
              "\U0001F3B5", "&#38;", "--", "-", " + "]
    notes = [N(i * 480, 480, 60 + i % 5, ly) for i, ly in enumerate(lyrics)]
    q = roundtrip(P(("Voice <1> & \"co\"", notes), title="A & B <\x01>"))[0]
    assert [n.lyric for n in q.tracks[0].notes] == [
        "R&B", "<tag>", 'say "hi"', "it's", "]]>", "a&amp;b", "きゃ", "ー", "ab", "x", "+",
        "spaced", "line\rbreak", "tab\there", "\U0001F3B5", "&#38;", "--", "-", "+"]
    assert q.tracks[0].name == 'Voice <1> & "co"'
    assert q.title == "A & B <>"


def test_several_tracks_are_parts_with_their_own_names():
    v1 = [N(0, 960, 72, "la"), N(960, 960, 74, "li")]
    v2 = [N(480, 480, 48, "lo"), N(2000, 100, 50, "+"), N(2100, 200, 52, "lu")]
    p = P(("Soprano", v1), ("Bass", v2), tempos=[Tempo(0, 70), Tempo(1000, 72)],
          sigs=[TimeSignature(0, 3, 4)])
    q1, q2 = roundtrip(p)
    assert (q1.tracks[0].name, q2.tracks[0].name) == ("Soprano", "Bass")
    assert read_musicxml(write(p), part="bass").tracks[0].notes == q2.tracks[0].notes
    doc = minidom.parseString(write(p))
    parts = doc.getElementsByTagName("part")
    # tempos are written once, in the first part; both parts read them
    assert [len(pt.getElementsByTagName("sound")) for pt in parts] == [2, 0]
    clefs = [text_of(pt, "sign") for pt in parts]
    assert clefs == ["G", "F"]


def test_empty_track_is_written_as_rests():
    p = P(("Empty", []), ("Vocal", [N(0, 480, 60, "a"), N(5000, 480, 62, "b")]))
    data = write(p)
    lengths = check_structure(data)
    assert len(lengths) == 2 and len(lengths[0]) == 3
    assert tuples(read_musicxml(data, part=2).tracks[0].notes) == \
        [(0, 480, 60, "a"), (5000, 480, 62, "b")]
    with pytest.raises(ScoreFormatError, match="no notes"):
        read_musicxml(data, part=1)


def test_overlapping_notes_are_cut_and_chords_keep_the_top_note():
    notes = [N(0, 960, 60, "a"), N(480, 480, 62, "b"), N(960, 480, 64, "c"),
             N(960, 480, 67, "top"), N(1440, 480, 65, "d")]
    data, remarks = write_musicxml(P(notes))
    q = read_musicxml(data)
    assert tuples(q.tracks[0].notes) == [(0, 480, 60, "a"), (480, 480, 62, "b"),
                                         (960, 480, 67, "top"), (1440, 480, 65, "d")]
    assert remarks == (
        "track 1 'Track 1': 1 note(s) starting together with a higher note left out "
        "(first at tick 960)",
        "track 1 'Track 1': 1 overlapping note(s) cut at the next note's start "
        "(first at tick 0)")
    assert write_musicxml(P([N(0, 480, 60, "a")]))[1] == ()


def test_unsorted_notes_are_sorted():
    notes = [N(960, 480, 64, "c"), N(0, 480, 60, "a"), N(480, 480, 62, "b")]
    assert tuples(read_musicxml(write(P(notes))).tracks[0].notes) == \
        [(0, 480, 60, "a"), (480, 480, 62, "b"), (960, 480, 64, "c")]


def test_durations_that_are_not_standard_values_stay_exact():
    assert note_values(720) == [(720, "quarter", 1)]
    assert note_values(840) == [(840, "quarter", 2)]
    assert note_values(1200) == [(960, "half", 0), (240, "eighth", 0)]
    assert note_values(7) == [(7, None, 0)]
    assert note_values(1925) == [(1925, None, 0)]
    assert note_values(1935) == [(1920, "whole", 0), (15, "128th", 0)]
    assert all(sum(v for v, _, _ in note_values(t)) == t for t in range(1, 8000))
    notes = [N(0, 7, 60, "a"), N(7, 1200, 62, "b"), N(1207, 1, 64, "c"), N(1500, 333, 65, "d"),
             N(3840, 3840, 67, "e")]
    q = roundtrip(P(notes, sigs=[TimeSignature(0, 4, 2)]))[0]
    assert tuples(q.tracks[0].notes)[0] == (0, 7, 60, "a")
    pitched = [n for n in xml_notes(write(P(notes, sigs=[TimeSignature(0, 4, 2)])))
               if not n.getElementsByTagName("rest")]
    assert [text_of(n, "type") for n in pitched[:4]] == [None, "half", "eighth", None]
    assert text_of(pitched[-1], "type") == "breve"


def test_curves_vibrato_and_expressions_are_dropped_silently():
    n = N(0, 480, 60, "a", pitch_points=(PitchPoint(0, 0), PitchPoint(50, 100)),
          vibrato=Vibrato(50, 180, 30), expressions=(("vel", 120.0),), flags="g-5",
          phonemes=("a",))
    data, remarks = write_musicxml(P([n]))
    assert remarks == ()
    assert tuples(read_musicxml(data).tracks[0].notes) == [(0, 480, 60, "a")]


def test_registry_can_register_and_use_the_writer(tmp_path):
    reg = FormatRegistry()
    reg.register_writer(ScoreWriter("musicxml", (".musicxml",), "utagoe.formats.musicxml_write"))
    out = reg.write(P([N(0, 480, 62, "a")]), tmp_path / "song.musicxml")
    q = default_registry().read(out)
    assert tuples(q.tracks[0].notes) == [(0, 480, 62, "a")]


def test_music21_reads_the_output_the_same_way():
    music21 = pytest.importorskip("music21")
    notes = [N(0, 720, 61, "a"), N(720, 240, 63, "+"), N(1440, 2400, 66, "b"),
             N(3840, 480, 70, "c"), N(4800, 600, 68, "d")]
    p = P(notes, sigs=[TimeSignature(0, 3, 4), TimeSignature(2880, 6, 8)],
          keys=[KeySignature(0, -2)], tempos=[Tempo(0, 80), Tempo(1700, 90)])
    s = music21.converter.parseData(write(p).decode("utf-8"), format="musicxml")
    part = s.parts[0].stripTies()
    got = [(round(float(n.getOffsetInHierarchy(part)) * 480),
            round(float(n.duration.quarterLength) * 480), n.pitch.midi)
           for n in part.recurse().notes]
    assert got == [(a, b, c) for a, b, c, _ in expected_notes(notes)]
    # (music21 keeps the text-less <extend type="stop"/> lyric as an empty one)
    assert [ly.text for n in part.recurse().notes for ly in n.lyrics if ly.text] == \
        ["a", "b", "c", "d"]


# --------------------------------------------------------------------------------------
# Projects that cannot be written


@pytest.mark.parametrize("note,match", [
    (N(0, 480, 11), "below C0"),
    (N(limits.MAX_TICKS, 10), "start tick|beyond"),
])
def test_bad_notes_are_refused_naming_the_track_and_note(note, match):
    p = P([N(0, 10, 60, "x"), note]) if note.start_ticks != 0 else P([note])
    with pytest.raises(ScoreFormatError, match=match) as e:
        write(p)
    assert "cannot write MusicXML" in str(e.value) and "track 1 'Track 1', note" in str(e.value)


@pytest.mark.parametrize("make,field", [
    (lambda: N(0, 480, 200), "Note.pitch"),
    (lambda: N(0, 480, -1), "Note.pitch"),
    (lambda: N(-5, 480), "Note.start_ticks"),
    (lambda: N(0, 0), "Note.duration_ticks"),
    (lambda: N(0, -480), "Note.duration_ticks"),
    (lambda: N(0.5, 480), "Note.start_ticks"),
    (lambda: N(True, 480), "Note.start_ticks"),
    (lambda: N(0, float("nan")), "Note.duration_ticks"),
    (lambda: N(0, 480, 60.0), "Note.pitch"),
    (lambda: N(0, 480, None), "Note.pitch"),
    (lambda: N(0, 480, 60, lyric=5), "Note.lyric"),
    (lambda: Tempo(0, 0.0), "Tempo.bpm"),
    (lambda: Tempo(0, -120.0), "Tempo.bpm"),
    (lambda: Tempo(0, float("nan")), "Tempo.bpm"),
    (lambda: Tempo(0, float("inf")), "Tempo.bpm"),
    (lambda: Tempo(0, "fast"), "Tempo.bpm"),
    (lambda: Tempo(-1, 120.0), "Tempo.tick"),
    (lambda: TimeSignature(0, 0, 4), "TimeSignature.numerator"),
    (lambda: TimeSignature(0, 4, 0), "TimeSignature.denominator"),
    (lambda: KeySignature(0, 0, None), "KeySignature.mode"),
])
def test_notes_tempos_and_signatures_musicxml_cannot_hold_cannot_be_built(make, field):
    with pytest.raises(InvalidValueError, match=field):
        make()


@pytest.mark.parametrize("kw,match", [
    (dict(tempos=[Tempo(0, 0.5)]), "bpm"),
    (dict(tempos=[Tempo(0, 1e9)]), "bpm"),
    (dict(sigs=[TimeSignature(0, 1, 1024)]), "whole number of ticks"),
    (dict(sigs=[TimeSignature(0, 4, 4), TimeSignature(limits.MAX_TICKS + 1, 3, 4)]), "tick"),
    (dict(keys=[KeySignature(0, 9)]), "fifths"),
])
def test_bad_tempos_and_signatures_are_refused(kw, match):
    with pytest.raises(ScoreFormatError, match=match):
        write(P([N(0, 480, 60, "a")], **kw))


def test_a_project_without_tracks_or_with_odd_types_is_refused():
    with pytest.raises(ScoreFormatError, match="no tracks"):
        write(Project(tracks=()))
    with pytest.raises(ScoreFormatError, match="Project"):
        write("not a project")  # type: ignore[arg-type]


def test_too_many_notes_are_refused():
    many = tuple(N(i, 1, 60, "a") for i in range(limits.MAX_NOTES + 1))
    p = Project(tracks=(Track("a", many[:1000]), Track("b", many[1000:])))
    with pytest.raises(ScoreFormatError, match="more than 200000 notes"):
        write(p)


def test_absurdly_long_scores_are_refused_before_the_measures_are_laid_out():
    # one note near the end of 24 hours in 1/64 bars: millions of measures
    with pytest.raises(ScoreFormatError, match="measures"):
        write(P([N(limits.MAX_TICKS - 100, 10)], tempos=[Tempo(0, 1000.0)],
                sigs=[TimeSignature(0, 1, 64)]))
    # a note days long at 1 bpm
    with pytest.raises(ScoreFormatError, match="24 hours"):
        write(P([N(0, 480 * 60 * 25)], tempos=[Tempo(0, 1.0)]))


# --------------------------------------------------------------------------------------
# Real files


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.musicxml")), ids=lambda p: p.name)
def test_examples_read_write_read_give_the_same_song(path):
    p = read_musicxml(path.read_bytes(), path=str(path))
    data = write(p)
    check_structure(data)
    q = read_musicxml(data)
    assert q.tracks[0].notes == p.tracks[0].notes
    assert (q.tempos, q.time_signatures, q.key_signatures, q.title) == \
        (p.tempos, p.time_signatures, p.key_signatures, p.title)
    assert q.tracks[0].name == p.tracks[0].name and q.warnings == ()


def test_examples_are_present_and_sakura_reads_as_documented():
    files = sorted(EXAMPLES.glob("*.musicxml"))
    assert len(files) == 17  # sixteen songs and the four-part chorale
    q = read_musicxml(write(read_musicxml((EXAMPLES / "sakura.musicxml").read_bytes())))
    notes = q.tracks[0].notes
    assert len(notes) == 50 and sum(n.lyric == "+" for n in notes) == 5
    assert (notes[0].start_ticks, notes[0].pitch, notes[0].lyric) == (1920, 69, "さ")
    assert q.tempos == (Tempo(0, 69.0),)


def _shared_files(shared: Path) -> list[Path]:
    root = shared / "musicxml"
    return sorted(p for p in root.rglob("*")
                  if p.is_file() and p.suffix.lower() in (".xml", ".musicxml", ".mxl"))


@pytest.mark.shared
def test_shared_musicxml_files_survive_read_write_read(shared_data):
    files = _shared_files(shared_data)
    if not files:
        pytest.skip("no MusicXML files in ../shared/data/musicxml")
    done = 0
    for f in files:
        try:
            p = read_musicxml(f.read_bytes(), path=str(f))
        except ScoreFormatError:
            continue
        data = write(p)
        check_structure(data)
        q = read_musicxml(data)
        # (Note.source differs where the file numbers its measures otherwise, e.g. a pickup 0)
        assert tuples(q.tracks[0].notes) == tuples(p.tracks[0].notes), f.name
        assert q.tempos == p.tempos and q.time_signatures == p.time_signatures, f.name
        assert q.key_signatures == p.key_signatures and q.title == p.title, f.name
        done += 1
    assert done >= 15  # 21 files there today: music21 corpus and the MusicXML test suite


# --------------------------------------------------------------------------------------
# Property tests


_ODD = st.sampled_from(["\x00", "\ud800", "\udfff", "\ufffe", "\uffff", "\r", "\n", "\t",
                        "&", "<", ">", '"', "'", "]]>", "\u3000", "\x85", "\xa0", "\U0001F600",
                        "\u200b", "\u0301", "+", "-", "ー", "ん", " "])
_LYRIC = st.one_of(st.just(CONTINUATION), st.just(""),
                   st.lists(st.one_of(st.characters(), _ODD), max_size=6).map("".join))
_SIGS = [(4, 4), (3, 4), (6, 8), (2, 4), (5, 8), (7, 8), (2, 2), (3, 8), (12, 8), (1, 4),
         (9, 16), (3, 2)]


@st.composite
def projects(draw):
    n_tracks = draw(st.integers(1, 3))
    tracks = []
    for i in range(n_tracks):
        notes, pos = [], 0
        for _ in range(draw(st.integers(0 if i else 1, 14))):
            pos += draw(st.one_of(st.just(0), st.integers(0, 2000)))
            dur = draw(st.one_of(st.sampled_from([15, 120, 240, 480, 720, 960, 1920]),
                                 st.integers(1, 3000)))
            notes.append(N(pos, dur, draw(st.integers(12, 127)), draw(_LYRIC)))
            pos += dur
            if draw(st.integers(0, 9)) == 0:  # now and then an overlap
                pos -= draw(st.integers(0, dur))
        notes = draw(st.permutations(notes))
        tracks.append((draw(st.text(max_size=6)), notes))
    sigs = [TimeSignature(draw(st.integers(0, 3000)), *draw(st.sampled_from(_SIGS)))
            for _ in range(draw(st.integers(0, 4)))]
    tempos = [Tempo(draw(st.integers(0, 40000)),
                    draw(st.floats(1.0, 1000.0, allow_nan=False, allow_infinity=False)))
              for _ in range(draw(st.integers(0, 5)))]
    keys = [KeySignature(0, draw(st.integers(-7, 7)), draw(st.sampled_from(["major", "minor"])))]
    return P(*tracks, tempos=tempos, sigs=sigs, keys=keys,
             title=draw(st.text(max_size=8)))


@pytest.mark.slow
@settings(max_examples=120)
@given(projects())
def test_random_projects_round_trip_exactly(project):
    roundtrip(project, warnings_ok=True)


_ANY = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                 st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3),
                 st.integers(0, 2000), st.integers(0, 127))


@pytest.mark.slow
@settings(max_examples=150)
@given(st.lists(st.tuples(_ANY, _ANY, _ANY, _ANY), min_size=1, max_size=5),
       st.lists(st.tuples(_ANY, _ANY), max_size=3),
       st.lists(st.tuples(_ANY, _ANY, _ANY), max_size=3),
       st.lists(st.tuples(_ANY, _ANY, _ANY), max_size=2))
def test_any_field_values_give_a_document_or_score_format_error(notes, tempos, sigs, keys):
    try:   # the model refuses most bad values itself; the writer meets the rest
        p = Project(tracks=(Track("t", tuple(Note(*n) for n in notes)),),
                    tempos=tuple(Tempo(*t) for t in tempos),
                    time_signatures=tuple(TimeSignature(*s) for s in sigs),
                    key_signatures=tuple(KeySignature(*k) for k in keys))
    except InvalidValueError:
        return
    try:
        data = write(p)
    except ScoreFormatError:
        return
    check_structure(data)
    read_musicxml(data, lenient=True)


@pytest.mark.slow
@settings(max_examples=60)
@given(st.binary(max_size=64), st.integers(0, 10**6))
def test_document_truncated_anywhere_reads_or_raises_score_format_error(junk, cut):
    data = write(P([N(0, 480, 61, "a&b"), N(480, 960, 63, "+"), N(2000, 30, 70, "ん")],
                   tempos=[Tempo(0, 100), Tempo(700, 80)]))
    cut %= len(data) + 1
    for blob in (data[:cut], data[:cut] + junk):
        try:
            read_musicxml(blob)
        except ScoreFormatError:
            pass


def test_documents_beyond_what_our_reader_accepts_are_refused(monkeypatch):
    from utagoe.formats import musicxml_write

    notes = [N(i * 960, 480, 60, "a") for i in range(30)]  # 30 notes + 30 rests
    assert write(P(notes))
    monkeypatch.setattr(musicxml_write, "MAX_NOTE_ELEMENTS", 50)
    with pytest.raises(ScoreFormatError, match="more than 50 <note> elements"):
        write(P(notes))
    monkeypatch.setattr(musicxml_write, "MAX_NOTE_ELEMENTS", 10**9)
    monkeypatch.setattr(musicxml_write, "MAX_ELEMENTS", 200)
    with pytest.raises(ScoreFormatError, match="more than 200 elements"):
        write(P(notes))
    monkeypatch.setattr(musicxml_write, "MAX_ELEMENTS", 10**9)
    monkeypatch.setattr(musicxml_write, "MAX_OUTPUT_BYTES", 2000)
    with pytest.raises(ScoreFormatError, match="larger than"):
        write(P(notes))
