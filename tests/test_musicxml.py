"""MusicXML reader: timing, lyrics, structure, hostile and broken input, real files."""
from __future__ import annotations

import io
import random
import socket
import urllib.request
import zipfile
from pathlib import Path

import pytest

from utagoe.errors import InvalidValueError, ScoreFormatError
from utagoe.formats import read_score
from utagoe.formats.common import NO_LYRIC
from utagoe.formats.musicxml import read as read_musicxml_bytes
from utagoe.formats.musicxml import sniff
from utagoe.formats.options import ReadOptions
from utagoe.model import CONTINUATION, KeySignature, Tempo, TimeSignature

# --------------------------------------------------------------------------------------
# Writing MusicXML inline


def note(step="C", octave=4, dur=1, lyric=None, *, alter=None, voice=None, extra="",
         before="", lyrics=None):
    """One <note>; ``lyric`` is verse 1's text, ``lyrics`` raw <lyric> elements."""
    alt = f"<alter>{alter}</alter>" if alter is not None else ""
    v = f"<voice>{voice}</voice>" if voice is not None else ""
    ly = f'<lyric number="1"><syllabic>single</syllabic><text>{lyric}</text></lyric>' \
        if lyric is not None else ""
    return (f"<note>{before}<pitch><step>{step}</step>{alt}<octave>{octave}</octave></pitch>"
            f"<duration>{dur}</duration>{v}{extra}{ly}{lyrics or ''}</note>")


def rest(dur=1, voice=None):
    v = f"<voice>{voice}</voice>" if voice is not None else ""
    return f"<note><rest/><duration>{dur}</duration>{v}</note>"


def attrs(divisions=1, beats=4, beat_type=4, fifths=None, mode="major"):
    key = f"<key><fifths>{fifths}</fifths><mode>{mode}</mode></key>" if fifths is not None else ""
    time_ = f"<time><beats>{beats}</beats><beat-type>{beat_type}</beat-type></time>" \
        if beats else ""
    div = f"<divisions>{divisions}</divisions>" if divisions is not None else ""
    return f"<attributes>{div}{key}{time_}</attributes>"


def measure(number, *content):
    return f'<measure number="{number}">{"".join(content)}</measure>'


def score(*measures, parts=None, title="", header="", names=None) -> bytes:
    """A partwise score. ``parts``: a list of lists of measures (several parts)."""
    parts = parts if parts is not None else [list(measures)]
    names = names or [f"Part {i + 1}" for i in range(len(parts))]
    plist = "".join(f'<score-part id="P{i + 1}"><part-name>{names[i]}</part-name></score-part>'
                    for i in range(len(parts)))
    body = "".join(f'<part id="P{i + 1}">{"".join(ms)}</part>' for i, ms in enumerate(parts))
    work = f"<work><work-title>{title}</work-title></work>" if title else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{header}<score-partwise version="4.0">'
            f"{work}<part-list>{plist}</part-list>{body}</score-partwise>\n").encode("utf-8")


def read_musicxml(data: bytes, *, path: str | None = None, **kw):
    return read_musicxml_bytes(data, path=path, options=ReadOptions(**kw))


def read(data: bytes, **kw):
    return read_musicxml(data, path="test.musicxml", **kw)


def notes(project):
    return [(n.start_ticks, n.duration_ticks, n.pitch, n.lyric) for n in project.tracks[0].notes]


def lyrics(project):
    return [n.lyric for n in project.tracks[0].notes]


def raises(data: bytes, match=None, **kw) -> ScoreFormatError:
    with pytest.raises(ScoreFormatError, match=match) as e:
        read(data, **kw)
    return e.value


# --------------------------------------------------------------------------------------
# Time


@pytest.mark.parametrize("divisions", [2, 6, 480, 10080])
def test_ticks_for_divisions(divisions):
    # quarter, eighth, eighth, half
    q = divisions
    data = score(measure(1, attrs(divisions), note("C", 4, q, "a"), note("D", 4, q // 2, "b"),
                         note("E", 4, q // 2, "c"), note("F", 4, 2 * q, "d")))
    assert notes(read(data)) == [(0, 480, 60, "a"), (480, 240, 62, "b"),
                                 (720, 240, 64, "c"), (960, 960, 65, "d")]


def test_ticks_for_divisions_1():
    data = score(measure(1, attrs(1), note("C", 4, 1, "a"), note("D", 4, 3, "b")),
                 measure(2, note("E", 4, 4, "c")))
    assert notes(read(data)) == [(0, 480, 60, "a"), (480, 1440, 62, "b"), (1920, 1920, 64, "c")]


@pytest.mark.parametrize("divisions", [3, 10080])
def test_triplets_are_exact(divisions):
    third = divisions // 3
    data = score(measure(1, attrs(divisions), *[note("C", 4, third, x) for x in "abc"],
                         note("D", 4, 3 * divisions, "d")))
    assert [(s, d) for s, d, _, _ in notes(read(data))] == [(0, 160), (160, 160), (320, 160),
                                                          (480, 1440)]


def test_quintuplets_round_without_drift():
    # divisions 5: a fifth of a quarter is 96 ticks exactly; divisions 7 is not exact
    data = score(measure(1, attrs(7), *[note("C", 4, 1, str(i)) for i in range(7)],
                         note("D", 4, 21, "x")))
    got = notes(read(data))
    ends = [s + d for s, d, _, _ in got]
    assert [s for s, _, _, _ in got][1:] == ends[:-1]  # no gaps, no overlaps
    assert got[-1][:2] == (480, 1440)  # back on the beat after the septuplet
    assert sum(d for _, d, _, _ in got[:7]) == 480


def test_divisions_change_mid_piece():
    data = score(measure(1, attrs(1), note("C", 4, 4, "a")),
                 measure(2, "<attributes><divisions>4</divisions></attributes>",
                         note("D", 4, 2, "b"), note("E", 4, 14, "c")))
    assert notes(read(data)) == [(0, 1920, 60, "a"), (1920, 240, 62, "b"), (2160, 1680, 64, "c")]


def test_rests_are_gaps():
    data = score(measure(1, attrs(1), note("C", 4, 1, "a"), rest(2), note("D", 4, 1, "b")))
    assert notes(read(data)) == [(0, 480, 60, "a"), (1440, 480, 62, "b")]


def test_backup_and_forward():
    data = score(measure(1, attrs(2), note("C", 5, 4, "a", voice=1),
                         "<backup><duration>4</duration></backup>",
                         "<forward><duration>2</duration><voice>2</voice></forward>",
                         note("E", 4, 2, "x", voice=2),
                         note("D", 5, 4, "b", voice=1)))
    p = read(data)
    assert notes(p) == [(0, 960, 72, "a"), (960, 960, 74, "b")]
    assert notes(read(data, voice=2)) == [(480, 480, 64, "x")]


def test_tempo_from_sound_and_changes():
    d1 = '<direction><direction-type><words>Andante</words></direction-type>' \
         '<sound tempo="90"/></direction>'
    d2 = '<direction><sound tempo="140.5"/></direction>'
    data = score(measure(1, attrs(1), d1, note("C", 4, 4, "a")),
                 measure(2, note("D", 4, 2, "b"), d2, note("E", 4, 2, "c")))
    p = read(data)
    assert p.tempos == (Tempo(0, 90.0), Tempo(2880, 140.5))
    assert p.duration_s() == pytest.approx(4 * 60 / 90 + 2 * 60 / 90 + 2 * 60 / 140.5)


def test_tempo_from_sound_inside_a_note_and_as_measure_child():
    data = score(measure(1, attrs(1), '<sound tempo="70"/>', note("C", 4, 2, "a"),
                         note("D", 4, 2, "b", before='<sound tempo="150"/>')))
    assert read(data).tempos == (Tempo(0, 70.0), Tempo(960, 150.0))


@pytest.mark.parametrize("unit,dots,per_minute,bpm", [
    ("quarter", 0, "100", 100.0),
    ("quarter", 1, "60", 90.0),
    ("half", 0, "40", 80.0),
    ("eighth", 0, "c. 132", 66.0),
    ("half", 2, "30", 105.0),
])
def test_metronome_marks(unit, dots, per_minute, bpm):
    met = (f"<direction><direction-type><metronome><beat-unit>{unit}</beat-unit>"
           f"{'<beat-unit-dot/>' * dots}<per-minute>{per_minute}</per-minute></metronome>"
           "</direction-type></direction>")
    data = score(measure(1, attrs(1), met, note("C", 4, 4, "a")))
    assert read(data).tempos == (Tempo(0, bpm),)


def test_sound_tempo_wins_over_metronome_at_the_same_place():
    d = ("<direction><direction-type><metronome><beat-unit>quarter</beat-unit>"
         "<per-minute>100</per-minute></metronome></direction-type>"
         '<sound tempo="96"/></direction>')
    assert read(score(measure(1, attrs(1), d, note("C", 4, 4, "a")))).tempos == (Tempo(0, 96.0),)


def test_tempo_in_another_part_applies():
    d = '<direction><sound tempo="66"/></direction>'
    piano = [measure(1, attrs(1), d, note("C", 3, 4))]
    voice = [measure(1, attrs(1), note("C", 4, 4, "la"))]
    p = read(score(parts=[piano, voice], names=["Piano", "Voice"]))
    assert p.tracks[0].name == "Voice"
    assert p.tempos == (Tempo(0, 66.0),)


def test_no_tempo_means_120_with_a_warning():
    p = read(score(measure(1, attrs(1), note("C", 4, 4, "a"))))
    assert p.tempos == (Tempo(0, 120.0),)
    assert any("tempo" in w for w in p.warnings)


def test_time_signature_changes():
    data = score(measure(1, attrs(1, 4, 4), note("C", 4, 4, "a")),
                 measure(2, attrs(None, 3, 4), note("D", 4, 3, "b")),
                 measure(3, note("E", 4, 3, "c")),
                 measure(4, attrs(None, 6, 8), note("F", 4, 3, "d")))
    p = read(data)
    assert p.time_signatures == (TimeSignature(0, 4, 4), TimeSignature(1920, 3, 4),
                                 TimeSignature(4800, 6, 8))
    assert [n.start_ticks for n in p.tracks[0].notes] == [0, 1920, 3360, 4800]


def test_composite_time_signature():
    data = score(measure(1, "<attributes><divisions>2</divisions><time><beats>3+2</beats>"
                            "<beat-type>8</beat-type></time></attributes>",
                         note("C", 4, 5, "a")))
    assert read(data).time_signatures == (TimeSignature(0, 5, 8),)


def test_key_signatures():
    data = score(measure(1, attrs(1, fifths=-3, mode="minor"), note("C", 4, 4, "a")),
                 measure(2, attrs(None, None, fifths=2), note("D", 4, 4, "b")))
    assert read(data).key_signatures == (KeySignature(0, -3, "minor"),
                                         KeySignature(1920, 2, "major"))


def test_transposing_part_sounds_at_concert_pitch():
    tr = "<transpose><diatonic>-1</diatonic><chromatic>-2</chromatic></transpose>"
    data = score(measure(1, f"<attributes><divisions>1</divisions><key><fifths>2</fifths></key>"
                            f"{tr}</attributes>", note("D", 4, 4, "a")))
    p = read(data)
    assert notes(p) == [(0, 1920, 60, "a")]
    assert p.key_signatures == (KeySignature(0, 0, "major"),)


def test_pickup_measure_uses_the_durations_read():
    data = score(measure(0, attrs(1, 3, 4), note("G", 4, 1, "up")),
                 measure(1, note("C", 5, 3, "one")),
                 measure(2, note("D", 5, 3, "two")))
    p = read(data)
    assert [n.start_ticks for n in p.tracks[0].notes] == [0, 480, 1920]
    assert [n.source for n in p.tracks[0].notes] == ["measure 0", "measure 1", "measure 2"]
    # the signature is stated again at the first full measure, so bar lines line up
    assert p.time_signatures == (TimeSignature(0, 3, 4), TimeSignature(480, 3, 4))


def test_sung_part_missing_rests_is_filled_by_the_other_parts():
    piano = [measure(1, attrs(1), note("C", 3, 4)), measure(2, note("C", 3, 4))]
    voice = [measure(1, attrs(1), note("C", 4, 2, "a")), measure(2, note("D", 4, 4, "b"))]
    p = read(score(parts=[piano, voice]))
    assert notes(p) == [(0, 960, 60, "a"), (1920, 1920, 62, "b")]


def test_overfull_measure_in_another_part_does_not_shift_the_song():
    piano = [measure(1, attrs(1), note("C", 3, 4), note("C", 3, 2)), measure(2, note("C", 3, 4))]
    voice = [measure(1, attrs(1), note("C", 4, 4, "a")), measure(2, note("D", 4, 4, "b"))]
    p = read(score(parts=[piano, voice]))
    assert notes(p) == [(0, 1920, 60, "a"), (1920, 1920, 62, "b")]


# --------------------------------------------------------------------------------------
# Notes and lyrics


TIE_START = '<tie type="start"/>'
TIE_STOP = '<tie type="stop"/>'


def test_ties_across_bar_lines_make_one_note():
    data = score(measure(1, attrs(1), note("C", 4, 2, "a"),
                         note("E", 4, 2, "long", extra=TIE_START)),
                 measure(2, note("E", 4, 4, extra=TIE_STOP + TIE_START)),
                 measure(3, note("E", 4, 1, extra=TIE_STOP), note("F", 4, 3, "b")))
    assert notes(read(data)) == [(0, 960, 60, "a"), (960, 3360, 64, "long"), (4320, 1440, 65, "b")]


def test_tied_notation_alone_is_a_tie():
    tied_start = '<notations><tied type="start"/></notations>'
    tied_stop = '<notations><tied type="stop"/></notations>'
    data = score(measure(1, attrs(1), note("C", 4, 2, "a", extra=tied_start),
                         note("C", 4, 2, extra=tied_stop)))
    assert notes(read(data)) == [(0, 1920, 60, "a")]


def test_tie_between_different_pitches_is_not_merged():
    data = score(measure(1, attrs(1), note("C", 4, 2, "a", extra=TIE_START),
                         note("D", 4, 2, extra=TIE_STOP)))
    assert notes(read(data)) == [(0, 960, 60, "a"), (960, 960, 62, CONTINUATION)]


def test_chord_sings_the_top_note_with_the_lyric_of_any_chord_note():
    chord = "<chord/>"
    data = score(measure(1, attrs(1),
                         note("E", 4, 2, "ly"), note("C", 5, 2, before=chord),
                         note("A", 4, 2, before=""), note("F", 5, 2, "rics", before=chord),
                         note("G", 4, 2, before=chord)))
    assert notes(read(data)) == [(0, 960, 72, "ly"), (960, 960, 77, "rics")]


def test_voices_default_and_choice():
    data = score(measure(1, attrs(1),
                         note("E", 5, 2, "top1", voice=1), note("D", 5, 2, "top2", voice=1),
                         "<backup><duration>4</duration></backup>",
                         note("C", 4, 4, "low", voice=2)))
    p = read(data)
    assert notes(p) == [(0, 960, 76, "top1"), (960, 960, 74, "top2")]
    assert any("voice" in w and "ignored" in w for w in p.warnings)
    assert notes(read(data, voice=2)) == [(0, 1920, 60, "low")]
    assert notes(read(data, voice="2")) == [(0, 1920, 60, "low")]
    with pytest.raises(ScoreFormatError, match="voices are 1, 2"):
        read(data, voice=3)


def test_default_voice_is_the_lowest_with_lyrics():
    data = score(measure(1, attrs(1), note("E", 5, 4, voice=1),
                         "<backup><duration>4</duration></backup>",
                         note("C", 4, 4, "sung", voice=2)))
    assert notes(read(data)) == [(0, 1920, 60, "sung")]


def _verses(*texts, names=None):
    names = names or [None] * len(texts)
    return "".join(
        f'<lyric number="{i + 1}"{f" name={chr(34)}{n}{chr(34)}" if n else ""}>'
        f"<text>{t}</text></lyric>"
        for i, (t, n) in enumerate(zip(texts, names)) if t is not None)


def test_verses():
    data = score(measure(1, attrs(1),
                         note("C", 4, 2, lyrics=_verses("one", "uno", names=[None, "chorus"])),
                         note("D", 4, 2, lyrics=_verses("two", "dos", names=[None, "chorus"]))))
    assert lyrics(read(data)) == ["one", "two"]
    assert lyrics(read(data, verse=2)) == ["uno", "dos"]
    assert lyrics(read(data, verse="2")) == ["uno", "dos"]
    assert lyrics(read(data, verse="Chorus")) == ["uno", "dos"]
    with pytest.raises(ScoreFormatError, match="no verse 3; it has verses 1, 2"):
        read(data, verse=3)
    with pytest.raises(ScoreFormatError, match="bridge"):
        read(data, verse="bridge")
    with pytest.raises(InvalidValueError, match="ReadOptions.verse"):
        read(data, verse=0)


def test_unnumbered_lyrics_count_by_position():
    ly = "<lyric><text>first</text></lyric><lyric><text>second</text></lyric>"
    data = score(measure(1, attrs(1), note("C", 4, 4, lyrics=ly)))
    assert lyrics(read(data)) == ["first"]
    assert lyrics(read(data, verse=2)) == ["second"]


def test_melisma_extend_and_lyricless_notes_are_continuations():
    ext = '<lyric number="1"><syllabic>single</syllabic><text>Ah</text><extend/></lyric>'
    data = score(measure(1, attrs(1), note("C", 4, 1, lyrics=ext), note("D", 4, 1),
                         note("E", 4, 1), rest(1)),
                 measure(2, note("F", 4, 1), note("G", 4, 1, "la"),
                         note("A", 4, 2, lyrics='<lyric number="1"><extend type="stop"/></lyric>')))
    assert lyrics(read(data)) == ["Ah", "+", "+", "+", "la", "+"]
    assert CONTINUATION == "+"


def test_elision_joins_syllables_without_separator():
    ly = ('<lyric number="1"><syllabic>single</syllabic><text>か</text><elision>‿</elision>'
          '<syllabic>single</syllabic><text>ろ</text></lyric>')
    data = score(measure(1, attrs(1), note("C", 4, 4, lyrics=ly)))
    assert lyrics(read(data)) == ["かろ"]


def test_syllabic_hyphens_and_whitespace_are_not_part_of_the_lyric():
    def ly(syl, text):
        return f'<lyric number="1"><syllabic>{syl}</syllabic><text>{text}</text></lyric>'
    data = score(measure(1, attrs(1), note("C", 4, 1, lyrics=ly("begin", " Hal- ")),
                         note("D", 4, 1, lyrics=ly("middle", "-le-")),
                         note("E", 4, 1, lyrics=ly("end", "lu")),
                         note("F", 4, 1, lyrics=ly("single", "\u3000あ\n"))))
    assert lyrics(read(data)) == ["Hal", "le", "lu", "あ"]


def test_grace_notes_are_dropped_and_give_their_lyric_to_the_next_note():
    grace = "<grace/>"
    g = '<note><grace slash="yes"/><pitch><step>D</step><octave>5</octave></pitch>' \
        '<voice>1</voice><lyric number="1"><text>ka</text></lyric></note>'
    data = score(measure(1, attrs(1), note("C", 5, 2, "a"), g, note("C", 5, 1),
                         note("B", 4, 1, "b", before=grace), note("C", 5, 1, "c")))
    assert notes(read(data)) == [(0, 960, 72, "a"), (960, 480, 72, "ka"), (1440, 480, 72, "c")]


def test_cue_notes_are_dropped_but_take_time():
    cue = "<note><cue/><pitch><step>G</step><octave>4</octave></pitch><duration>2</duration></note>"
    data = score(measure(1, attrs(1), cue, note("C", 4, 2, "a")))
    assert notes(read(data)) == [(960, 960, 60, "a")]


def test_unpitched_notes_are_dropped_with_a_warning():
    un = ("<note><unpitched><display-step>E</display-step><display-octave>4</display-octave>"
          "</unpitched><duration>1</duration></note>")
    p = read(score(measure(1, attrs(1), un, note("C", 4, 3, "a"))))
    assert notes(p) == [(480, 1440, 60, "a")]
    assert any("unpitched" in w for w in p.warnings)


def test_alter_and_octaves():
    data = score(measure(1, attrs(1), note("F", 4, 1, "a", alter=1), note("B", 3, 1, "b", alter=-1),
                         note("C", 0, 1, "c"), note("A", 4, 1, "d")))
    assert [n.pitch for n in read(data).tracks[0].notes] == [66, 58, 12, 69]


def test_parts_by_number_id_and_name_and_default():
    piano = [measure(1, attrs(1), note("C", 3, 4))]
    alto = [measure(1, attrs(1), note("A", 4, 4, "alto"))]
    sop = [measure(1, attrs(1), note("E", 5, 4, "sop"))]
    data = score(parts=[piano, sop, alto], names=["Piano", "Soprano", "Alto"])
    p = read(data)
    # every part with lyrics is a track, in score order; the part without is named,
    # with its --part number
    assert [t.name for t in p.tracks] == ["Soprano", "Alto"]
    assert ("test.musicxml:2: part 'Piano' (--part 1, 1 note) has no lyrics and is not sung "
            "(give --default-lyric ら to sing it on one syllable)") in p.warnings
    assert not any("Alto" in w or "Soprano" in w for w in p.warnings)
    assert [t.name for t in read(data, part=3).tracks] == ["Alto"]
    assert read(data, part="P3").tracks[0].name == "Alto"
    assert read(data, part="alto").tracks[0].name == "Alto"
    with pytest.raises(ScoreFormatError, match="part 'Piano' \\(--part 1, 1 note\\) has no "
                       "lyrics; give --default-lyric ら"):
        read(data, part=1)
    p = read(data, part=1, keep_tracks_without_lyrics=True)
    assert lyrics(p) == [NO_LYRIC] and any("kept without lyrics" in w for w in p.warnings)
    assert lyrics(read(data, part=1, default_lyric="la")) == ["la"]
    with pytest.raises(ScoreFormatError, match="Soprano"):
        read(data, part=4)
    with pytest.raises(ScoreFormatError, match="Piano"):
        read(data, part="Tenor")


def track_notes(project):
    """{track name: [(start, duration, pitch, lyric), ...]}, in track order."""
    return {t.name: [(n.start_ticks, n.duration_ticks, n.pitch, n.lyric) for n in t.notes]
            for t in project.tracks}


def test_two_parts_with_lyrics_are_two_tracks_in_score_order():
    sop = [measure(1, attrs(1), note("E", 5, 2, "さ"), note("D", 5, 2, "く")),
           measure(2, note("C", 5, 4, "ら"))]
    alto = [measure(1, attrs(1), note("C", 5, 4, "あ")),
            measure(2, note("A", 4, 2, "い"), note("G", 4, 2))]
    p = read(score(parts=[sop, alto], names=["Soprano", "Alto"]))
    assert track_notes(p) == {
        "Soprano": [(0, 960, 76, "さ"), (960, 960, 74, "く"), (1920, 1920, 72, "ら")],
        "Alto": [(0, 1920, 72, "あ"), (1920, 960, 69, "い"), (2880, 960, 67, CONTINUATION)]}
    assert [t.name for t in p.tracks] == ["Soprano", "Alto"]
    assert p.warnings == ("test.musicxml: no tempo marking; assuming 120 bpm",)
    # --part N is the Nth <part>; a part id or name chooses one too
    assert track_notes(read(score(parts=[sop, alto], names=["Soprano", "Alto"]), part=2)) == \
        {"Alto": [(0, 1920, 72, "あ"), (1920, 960, 69, "い"), (2880, 960, 67, CONTINUATION)]}
    assert [t.name for t in read(score(parts=[sop, alto]), part="P1").tracks] == ["Part 1"]


SATB = [("Soprano", [("E", 5), ("D", 5), ("C", 5), ("D", 5)], ["は", "る", "の", "う"]),
        ("Alto", [("C", 5), ("B", 4), ("A", 4), ("B", 4)], ["な", "つ", "の", "や"]),
        ("Tenor", [("G", 4), ("G", 4), ("E", 4), ("G", 4)], ["あ", "き", "の", "そ"]),
        ("Bass", [("C", 3), ("G", 2), ("A", 2), ("G", 2)], ["ふ", "ゆ", "の", "よ"])]


def _satb(*, lyrics=(True, True, True, True), verse2=False):
    parts = []
    for (_name, pitches, texts), sung in zip(SATB, lyrics):
        ns = []
        for (step, octave), text in zip(pitches, texts):
            if not sung:
                ns.append(note(step, octave, 2))
            elif verse2:
                ns.append(note(step, octave, 2, lyrics=_verses(text, text + "2")))
            else:
                ns.append(note(step, octave, 2, text))
        parts.append([measure(1, attrs(1), '<direction><sound tempo="80"/></direction>',
                              *ns[:2]), measure(2, *ns[2:])])
    return score(parts=parts, names=[name for name, _p, _t in SATB])


def test_four_parts_are_four_tracks_sharing_one_clock():
    p = read(_satb())
    assert [t.name for t in p.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    steps = {"C": 0, "D": 2, "E": 4, "G": 7, "A": 9, "B": 11}
    for track, (_name, pitches, texts) in zip(p.tracks, SATB):
        assert [(n.start_ticks, n.duration_ticks) for n in track.notes] == \
            [(0, 960), (960, 960), (1920, 960), (2880, 960)]
        assert [n.pitch for n in track.notes] == [12 * (o + 1) + steps[s] for s, o in pitches]
        assert [n.lyric for n in track.notes] == texts
        assert [n.source for n in track.notes] == ["measure 1"] * 2 + ["measure 2"] * 2
    assert p.tempos == (Tempo(0, 80.0),)
    assert p.time_signatures == (TimeSignature(0, 4, 4),)
    assert not p.warnings
    assert [t.name for t in read(_satb(), part=3).tracks] == ["Tenor"]
    assert [t.name for t in read(_satb(), part="bass").tracks] == ["Bass"]


def test_a_part_without_lyrics_is_left_out_naming_its_part_number():
    data = _satb(lyrics=(True, False, True, True))
    p = read(data)
    assert [t.name for t in p.tracks] == ["Soprano", "Tenor", "Bass"]
    assert p.warnings == ("test.musicxml:2: part 'Alto' (--part 2, 4 notes) has no lyrics and "
                          "is not sung (give --default-lyric ら to sing it on one syllable)",)
    # the rule every reader shares: sung on the default lyric, or kept without lyrics
    sung = read(data, default_lyric="ら")
    assert [n.lyric for n in sung.tracks[1].notes] == ["ら"] * 4
    kept = read(data, keep_tracks_without_lyrics=True)
    assert [t.name for t in kept.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert [n.lyric for n in kept.tracks[1].notes] == [NO_LYRIC] * 4
    with pytest.raises(ScoreFormatError, match="part 'Alto' \\(--part 2, 4 notes\\) has no "
                       "lyrics; give --default-lyric ら"):
        read(data, part=2)


def test_a_part_without_a_name_is_named_after_its_id():
    data = score(parts=[[measure(1, attrs(1), note("C", 5, 4, "a"))],
                        [measure(1, attrs(1), note("C", 4, 4, "b"))]]).replace(
        b"<part-name>Part 2</part-name>", b"")
    assert [t.name for t in read(data).tracks] == ["Part 1", "P2"]


def test_verse_applies_to_every_part_and_a_part_without_it_is_left_out():
    p = read(_satb(verse2=True), verse=2)
    assert [[n.lyric for n in t.notes] for t in p.tracks] == \
        [[text + "2" for text in texts] for _name, _p, texts in SATB]
    # only the soprano has a second verse: the others are named and left out
    sop2 = [measure(1, attrs(1), note("E", 5, 4, lyrics=_verses("one", "uno")))]
    alto1 = [measure(1, attrs(1), note("C", 5, 4, "ah"))]
    data = score(parts=[sop2, alto1], names=["Soprano", "Alto"])
    assert track_notes(read(data)) == {"Soprano": [(0, 1920, 76, "one")],
                                       "Alto": [(0, 1920, 72, "ah")]}
    p = read(data, verse=2)
    assert track_notes(p) == {"Soprano": [(0, 1920, 76, "uno")]}
    assert ("test.musicxml:2: part 'Alto' (--part 2, 1 note) has no verse 2 (it has verses 1) "
            "and is not sung") in p.warnings
    with pytest.raises(ScoreFormatError, match="has no verse 3; it has verses 1, 2"):
        read(data, verse=3)
    with pytest.raises(ScoreFormatError, match="has no verse 2; it has verses 1"):
        read(data, verse=2, part=2)


def test_voice_applies_to_every_part():
    def two_voices(hi, lo):
        return [measure(1, attrs(1), note(*hi, 4, "hi", voice=1),
                        "<backup><duration>4</duration></backup>",
                        note(*lo, 4, "lo", voice=2))]
    data = score(parts=[two_voices(("E", 5), ("C", 5)), two_voices(("G", 3), ("C", 3))],
                 names=["Women", "Men"])
    p = read(data)
    assert track_notes(p) == {"Women": [(0, 1920, 76, "hi")], "Men": [(0, 1920, 55, "hi")]}
    # the other voice is said once per part, after the part's name
    assert ("test.musicxml:2: part 'Women' (--part 1): singing voice 1; voice(s) 2 ignored"
            in p.warnings)
    assert ("test.musicxml:2: part 'Men' (--part 2): singing voice 1; voice(s) 2 ignored"
            in p.warnings)
    assert track_notes(read(data, voice=2)) == {"Women": [(0, 1920, 72, "lo")],
                                                "Men": [(0, 1920, 48, "lo")]}
    # a part without the voice asked for is named and left out
    solo = [measure(1, attrs(1), note("A", 4, 4, "solo"))]
    data = score(parts=[solo, two_voices(("G", 3), ("C", 3))], names=["Solo", "Men"])
    p = read(data, voice=2)
    assert track_notes(p) == {"Men": [(0, 1920, 48, "lo")]}
    assert ("test.musicxml:2: part 'Solo' (--part 1, 1 note) has no voice 2 (its voices are 1) "
            "and is not sung") in p.warnings
    with pytest.raises(ScoreFormatError, match="^test.musicxml:2: part 1 \\(id 'P1' 'Solo'\\) "
                       "has no voice 3; its voices are 1$"):
        read(data, voice=3)


def test_repairs_in_a_part_left_out_are_not_reported():
    piano = [measure(1, attrs(1), note("C", 4, 4, extra=TIE_START)),
             measure(2, note("C", 4, 4, "oops", extra=TIE_STOP))]
    voice = [measure(1, attrs(1), note("G", 4, 4, "a", extra=TIE_START)),
             measure(2, note("G", 4, 4, "b", extra=TIE_STOP))]
    p = read(score(parts=[piano, voice], names=["Piano", "Voice"]))
    assert [t.name for t in p.tracks] == ["Piano", "Voice"]  # the piano has a lyric: sung
    assert sum("own lyric" in w for w in p.warnings) == 2
    assert any("part 'Voice' (--part 2): tied-to note in measure 2 has its own lyric 'b'" in w
               for w in p.warnings)


def test_parts_that_disagree_follow_the_first_sung_part_with_a_warning():
    sop = [measure(1, attrs(1, 4, 4, fifths=1), note("G", 4, 4, "a")),
           measure(2, note("A", 4, 4, "b"))]
    alto = [measure(1, attrs(1, 4, 4, fifths=-2), note("D", 4, 4, "c")),
            measure(2, attrs(None, 3, 4), note("E", 4, 3, "d"))]
    p = read(score(parts=[sop, alto], names=["Soprano", "Alto"]))
    assert p.key_signatures == (KeySignature(0, 1, "major"),)
    assert p.time_signatures == (TimeSignature(0, 4, 4),)
    assert ("test.musicxml:2: part 'Alto' (--part 2, 2 notes) has time signature 3/4 in "
            "measure 2 where part 'Soprano' (--part 1) has none; the song follows part "
            "'Soprano' (--part 1)") in p.warnings
    assert ("test.musicxml:2: part 'Alto' (--part 2, 2 notes) has key signature 2 flats, major "
            "at tick 0 where part 'Soprano' (--part 1) has 1 sharp, major at tick 0; the song "
            "follows part 'Soprano' (--part 1)") in p.warnings
    # --part 2 alone follows its own signatures, as before
    alone = read(score(parts=[sop, alto], names=["Soprano", "Alto"]), part=2)
    assert alone.key_signatures == (KeySignature(0, -2, "major"),)
    assert not any("follows" in w for w in alone.warnings)


def test_an_error_in_a_later_part_names_the_file_and_line():
    sop = [measure(1, attrs(1), note("C", 5, 4, "a"))]
    alto = [measure(1, attrs(1), note("C", 4, 4, "b").replace("<duration>4", "<duration>x"))]
    data = score(parts=[sop, alto])
    e = raises(data.replace(b"<part id=\"P2\">", b"\n<part id=\"P2\">"), "not a number")
    assert str(e).startswith("test.musicxml:3: ")


def test_the_example_chorale_is_four_tracks_in_their_ranges():
    path = Path(__file__).resolve().parents[1] / "examples" / "chorale_hotaru.musicxml"
    p = read_musicxml(path.read_bytes(), path=str(path))
    assert [t.name for t in p.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    assert p.warnings == () and p.tempos == (Tempo(0, 76.0),)
    ranges = {"Soprano": (60, 79), "Alto": (55, 74), "Tenor": (48, 67), "Bass": (40, 60)}
    words = "ほたるのひかりまどのゆきふみよむつきひかさねつついつしかとしもすぎのとをあけてぞけさわわかれゆく"
    for t in p.tracks:
        low, high = ranges[t.name]
        assert all(low <= n.pitch <= high for n in t.notes), t.name
        assert "".join(n.lyric for n in t.notes if n.lyric != CONTINUATION) == words
        # homophonic: every part sings each syllable at the same time
        assert [(n.start_ticks, n.lyric) for n in t.notes if n.lyric != CONTINUATION] == \
            [(n.start_ticks, n.lyric) for n in p.tracks[0].notes if n.lyric != CONTINUATION]
    assert [t.notes for t in p.tracks] == \
        [read_musicxml(path.read_bytes(), part=i).tracks[0].notes for i in range(1, 5)]


def test_title_track_name_source_path_and_measure_numbers():
    data = score(measure("12a", attrs(1), note("C", 4, 4, "a")), title="Sakura",
                 names=["Vocal"])
    p = read_musicxml(data, path="songs/sakura.xml")
    assert p.title == "Sakura" and p.tracks[0].name == "Vocal"
    assert p.source_path == "songs/sakura.xml"
    assert p.tracks[0].notes[0].source == "measure 12a"


def test_movement_title_when_no_work_title():
    data = score(measure(1, attrs(1), note("C", 4, 4, "a"))).replace(
        b"<part-list>", b"<movement-title>Furusato</movement-title><part-list>")
    assert read(data).title == "Furusato"


def test_standard_doctype_is_read_without_touching_the_network(monkeypatch):
    def no_network(*a, **k):
        raise AssertionError("the reader tried to open a URL")
    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    doctype = ('<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
               '"http://www.musicxml.org/dtds/partwise.dtd">\n')
    p = read(score(measure(1, attrs(1), note("C", 4, 4, "a")), header=doctype))
    assert lyrics(p) == ["a"]


def test_other_encodings():
    data = score(measure(1, attrs(1), note("C", 4, 4, "さくら")))
    sjis = data.decode("utf-8").replace('encoding="UTF-8"', 'encoding="Shift_JIS"')
    assert lyrics(read(sjis.encode("shift_jis"))) == ["さくら"]
    utf16 = data.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert lyrics(read(utf16.encode("utf-16"))) == ["さくら"]


# --------------------------------------------------------------------------------------
# .mxl


def _zip(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


CONTAINER = (b'<?xml version="1.0" encoding="UTF-8"?><container><rootfiles>'
             b'<rootfile full-path="score/song.musicxml" '
             b'media-type="application/vnd.recordare.musicxml+xml"/>'
             b'<rootfile full-path="song.pdf" media-type="application/pdf"/>'
             b'</rootfiles></container>')


def test_mxl_round_trip(tmp_path):
    plain = score(measure(1, attrs(2), note("C", 4, 2, "a"), note("D", 4, 6, "b")), title="Z")
    mxl = _zip({"mimetype": b"application/vnd.recordare.musicxml",
                "META-INF/container.xml": CONTAINER,
                "other.xml": b"<not-this/>",
                "score/song.musicxml": plain,
                "song.pdf": b"%PDF-1.4"})
    f = tmp_path / "song.mxl"
    f.write_bytes(mxl)
    a, b = read(plain), read_score(f)
    assert notes(a) == notes(b) == [(0, 480, 60, "a"), (480, 1440, 62, "b")]
    assert b.title == "Z" and b.source_path == str(f)
    assert sniff(mxl[:4096])


def test_mxl_without_container_uses_the_first_musicxml_member():
    plain = score(measure(1, attrs(1), note("C", 4, 4, "a")))
    mxl = _zip({"META-INF/other.xml": b"<x/>", "song.xml": plain})
    assert lyrics(read(mxl)) == ["a"]


def test_mxl_problems():
    with pytest.raises(ScoreFormatError, match="zip"):
        read(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(ScoreFormatError, match="no MusicXML"):
        read(_zip({"readme.txt": b"hello"}))
    hostile_container = (b'<!DOCTYPE c [<!ENTITY a "aaaa">]><container><rootfiles>'
                         b'<rootfile full-path="&a;.xml"/></rootfiles></container>')
    raises(_zip({"META-INF/container.xml": hostile_container, "x.xml": b"<a/>"}),
                match="declares")


def test_mxl_zip_bomb_is_refused_fast():
    bomb = _zip({"song.xml": b"<score-partwise>" + b" " * (8 << 20)})
    assert len(bomb) < 100_000
    raises(bomb, match="zip bomb")


# --------------------------------------------------------------------------------------
# Hostile XML


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE score-partwise [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<score-partwise><part-list><score-part id="P1"><part-name>&lol9;</part-name></score-part>
</part-list></score-partwise>
"""


def test_billion_laughs_is_refused_fast():
    e = raises(BILLION_LAUGHS, match="declares")
    assert e.line == 3


def test_quadratic_blowup_is_refused_fast():
    big = b"x" * 200_000
    data = (b'<?xml version="1.0"?><!DOCTYPE score-partwise [<!ENTITY a "' + big + b'">]>'
            b"<score-partwise><work><work-title>" + b"&a;" * 20_000 +
            b"</work-title></work></score-partwise>")
    raises(data, match="declares")


@pytest.mark.parametrize("decl", [
    b'<!ENTITY xxe SYSTEM "file:///etc/passwd">',
    b'<!ENTITY xxe SYSTEM "http://127.0.0.1:9/evil">',
    b'<!ENTITY % pe SYSTEM "file:///etc/passwd"> %pe;',
    b'<!ENTITY % pe "<!ENTITY xxe SYSTEM \'file:///etc/passwd\'>"> %pe;',
    b'<!ENTITY img SYSTEM "pic.png" NDATA png>',
])
def test_external_and_parameter_entities_are_refused(decl, monkeypatch):
    def no_io(*a, **k):
        raise AssertionError("the reader tried to open something named in the XML")
    monkeypatch.setattr(socket, "socket", no_io)
    monkeypatch.setattr(urllib.request, "urlopen", no_io)
    data = (b'<?xml version="1.0"?>\n<!DOCTYPE score-partwise [\n' + decl + b"\n]>\n"
            + score(measure(1, attrs(1), note("C", 4, 4, "&xxe;"))).split(b"?>", 1)[1])
    e = raises(data, match="declares")
    assert "root:" not in str(e)
    with pytest.raises(ScoreFormatError):  # lenient does not let it through either
        read(data, lenient=True)


def test_undefined_entity_is_an_error_or_with_lenient_dropped():
    doctype = ('<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
               '"http://www.musicxml.org/dtds/partwise.dtd">\n')
    data = score(measure(1, attrs(1), note("C", 4, 4, "a&unknown;b")), header=doctype)
    with pytest.raises(ScoreFormatError, match="unknown"):
        read(data)
    assert lyrics(read(data, lenient=True)) == ["ab"]


# --------------------------------------------------------------------------------------
# Broken input


GOOD = score(measure(1, attrs(1, fifths=0), '<direction><sound tempo="100"/></direction>',
                     note("C", 4, 2, "a"), note("D", 4, 2, "b")),
             measure(2, note("E", 4, 4, "c")), title="Good")


@pytest.mark.parametrize("fraction", [0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
def test_truncated_files_raise(fraction):
    cut = GOOD[: int(len(GOOD) * fraction)]
    e = raises(cut)
    assert e.path == "test.musicxml"
    assert e.line is not None


def test_truncated_file_with_lenient_keeps_what_came_before():
    cut = GOOD[: GOOD.index(b"</part>") - 3]
    p = read(cut, lenient=True)
    assert lyrics(p) == ["a", "b", "c"]
    assert any("not well-formed" in w for w in p.warnings)


@pytest.mark.parametrize("data,match", [
    (b"", "empty"),
    (b"   \n\t ", "empty"),
    (bytes(random.Random(7).randrange(256) for _ in range(4000)), None),
    (b"\x00\x01\x02\x03binary\x00junk", "binary"),
    (b"hello, I am not XML", "well-formed"),
    (b"<html><body>hi</body></html>", "root element is <html>"),
    (b'<?xml version="1.0"?><score-timewise><measure number="1"/></score-timewise>',
     "timewise"),
    (b"<score-partwise><part-list/></score-partwise>", "no <part>"),
])
def test_empty_binary_and_foreign_input(data, match):
    raises(data, match=match)


def test_a_part_with_no_notes():
    data = score(measure(1, attrs(1), rest(4)), measure(2, rest(4)))
    raises(data, match="no notes")
    two = score(parts=[[measure(1, attrs(1), rest(4))],
                       [measure(1, attrs(1), note("C", 4, 4, "a"))]])
    assert lyrics(read(two)) == ["a"]
    with pytest.raises(ScoreFormatError, match="part 1 .* has no notes"):
        read(two, part=1)


def _line_of(data: bytes, needle: bytes) -> int:
    return data[: data.index(needle)].count(b"\n") + 1


@pytest.mark.parametrize("bad,needle,match", [
    ("<divisions>0</divisions>", b"<divisions>0", "divisions"),
    ("<divisions>-4</divisions>", b"<divisions>-4", "divisions"),
    ("<divisions>lots</divisions>", b"<divisions>lots", "divisions"),
])
def test_bad_divisions(bad, needle, match):
    data = score(measure(1, f"<attributes>\n{bad}\n</attributes>", note("C", 4, 4, "a")))
    e = raises(data, match=match)
    assert e.line == _line_of(data, needle)


@pytest.mark.parametrize("tempo", ["0", "-60", "1001", "5000", "fast", "nan", "0.5", "0.999"])
def test_absurd_tempo(tempo):
    d = f'<direction>\n<sound tempo="{tempo}"/></direction>'
    data = score(measure(1, attrs(1), d, note("C", 4, 4, "a")))
    e = raises(data, match="tempo")
    assert e.line == _line_of(data, b"<sound")
    p = read(data, lenient=True)
    assert p.tempos == (Tempo(0, 120.0),) and any("tempo" in w for w in p.warnings)


def test_negative_and_absurd_durations():
    neg = score(measure(1, attrs(1), "\n" + note("C", 4, -1, "a")))
    e = raises(neg, match="negative")
    assert e.line == _line_of(neg, b"<note><pitch><step>C")
    huge = score(measure(1, attrs(1), note("C", 4, 10 ** 15, "a")))
    raises(huge, match="24 hours", lenient=True)
    # 200 000 quarters at 120 bpm: more than a day
    long = score(measure(1, attrs(1), note("C", 4, 200_000, "a")))
    raises(long, match="24 hours")


def test_strict_errors_point_at_the_line_and_lenient_skips_the_note():
    bad = "<note><pitch><step>H</step><octave>4</octave></pitch><duration>1</duration></note>"
    data = score(measure(1, attrs(1), note("C", 4, 1, "a"), "\n\n", bad, note("D", 4, 1, "b")))
    line = _line_of(data, b"<step>H")
    e = raises(data, match="step")
    assert e.line == line and e.path == "test.musicxml"
    assert str(e).startswith(f"test.musicxml:{line}: ")
    p = read(data, lenient=True)
    assert notes(p) == [(0, 480, 60, "a"), (960, 480, 62, "b")]
    assert any(w.startswith(f"test.musicxml:{line}: ") for w in p.warnings)


def test_missing_duration_and_bad_backup():
    nodur = "<note><pitch><step>C</step><octave>4</octave></pitch></note>"
    data = score(measure(1, attrs(1), nodur, note("D", 4, 4, "b")))
    raises(data, match="duration")
    assert lyrics(read(data, lenient=True)) == ["b"]
    back = score(measure(1, attrs(1), note("C", 4, 1, "a"),
                         "<backup><duration>3</duration></backup>",
                         note("D", 4, 1, "b", voice=2)))
    raises(back, match="backup")


def test_duration_before_divisions():
    data = score(measure(1, attrs(None), note("C", 4, 1, "a")))
    raises(data, match="divisions")
    p = read(data, lenient=True)
    assert notes(p) == [(0, 480, 60, "a")]


def test_pitch_out_of_range():
    raises(score(measure(1, attrs(1), note("C", 11, 4, "a"))), match="MIDI range")


def test_sniff():
    assert sniff(GOOD[:4096])
    assert sniff(b'<?xml version="1.0"?><score-timewise>')
    assert not sniff(b"<html>")
    assert not sniff(b"PK\x03\x04 some other zip")


# --------------------------------------------------------------------------------------
# Real files from ../shared/data


def _real_files(shared: Path) -> list[Path]:
    root = shared / "musicxml"
    return sorted(p for p in root.rglob("*")
                  if p.is_file() and p.suffix.lower() in (".xml", ".musicxml", ".mxl"))


@pytest.mark.shared
def test_every_real_file_reads_or_raises_score_format_error(shared_data):
    files = _real_files(shared_data)
    if not files:
        pytest.skip("no MusicXML files in ../shared/data/musicxml")
    problems = []
    for f in files:
        try:
            p = read_score(f)
        except ScoreFormatError:
            continue
        except Exception as e:  # anything but ScoreFormatError is a bug
            problems.append(f"{f.name}: {type(e).__name__}: {e}")
            continue
        if not p.tracks or not all(t.notes for t in p.tracks):
            problems.append(f"{f.name}: no notes")
        for t in p.tracks:
            track = t.notes
            if any(b.start_ticks < a.end_ticks for a, b in zip(track, track[1:])):
                problems.append(f"{f.name}: {t.name}: overlapping notes")
            if any(n.duration_ticks <= 0 or not n.lyric for n in track):
                problems.append(f"{f.name}: {t.name}: empty note or lyric")
    assert not problems, "\n".join(problems)


def _shared_xml(shared: Path, folder: str, rel: str) -> Path:
    """``../shared/data/musicxml/FOLDER/REL``, or skip where it is absent."""
    f = shared / "musicxml" / folder / rel
    if not f.is_file():
        pytest.skip(f"{folder}/{rel} is absent from ../shared/data")
    return f


def _suite(shared: Path, name: str) -> Path:
    return _shared_xml(shared, "musicxmlTestSuite", name)


@pytest.mark.shared
def test_real_61d_melisma(shared_data):
    p = read_score(_suite(shared_data, "61d-Lyrics-Melisma.xml"))
    assert lyrics(p) == ["Me", "+", "+", "+", "lis", "ma.", "+"]
    n = p.tracks[0].notes
    assert (n[1].start_ticks, n[1].pitch) == (480, 76)  # chord A4+E5: the top note
    assert (n[4].start_ticks, n[4].duration_ticks) == (1920, 960)  # tied C5


@pytest.mark.shared
def test_real_61j_elision(shared_data):
    assert lyrics(read_score(_suite(shared_data, "61j-Lyrics-Elisions.xml"))) == \
        ["a", "b c", "de", "fgh"]


@pytest.mark.shared
def test_real_61b_verses(shared_data):
    f = _suite(shared_data, "61b-MultipleLyrics.xml")
    assert lyrics(read_score(f)) == ["1.Tra", "la", "la,", "ja!", "+", "Tra", "+", "ra..."]
    assert lyrics(read_score(f, ReadOptions(verse=2)))[:2] == ["2.tra", "la"]
    assert lyrics(read_score(f, ReadOptions(verse=3)))[-1] == "RA..."


@pytest.mark.shared
def test_real_61f_grace_notes_and_61g_lyric_names(shared_data):
    assert lyrics(read_score(_suite(shared_data, "61f-Lyrics-GracedNotes.xml"))) == \
        ["Ly", "+", "rics", "on", "notes", "with", "graces"]
    g = _suite(shared_data, "61g-Lyrics-NameNumber.xml")
    assert lyrics(read_score(g, ReadOptions(verse="chorus")))[0] == "Chorus1A"


@pytest.mark.shared
def test_real_90a_compressed(shared_data):
    path = _suite(shared_data, "90a-Compressed-MusicXML.mxl")
    with pytest.raises(ScoreFormatError, match="no part has lyrics"):
        read_score(path)
    p = read_score(path, ReadOptions(keep_tracks_without_lyrics=True))
    assert p.title == "Compressed MusicXML file"
    assert p.tracks[0].name == "Voice"
    assert len(p.tracks[0].notes) == 4
    assert p.key_signatures[0].fifths == 3 and p.time_signatures[0].denominator == 2


def _corpus(shared: Path, rel: str) -> Path:
    return _shared_xml(shared, "music21-corpus", rel)


@pytest.mark.shared
def test_real_bach_chorale_reads_as_four_tracks(shared_data):
    # bwv84.5: four parts (SATB); the words are written under the soprano only
    f = _corpus(shared_data, "bach/bwv84.5.mxl")
    sung = read_score(f)
    assert [t.name for t in sung.tracks] == ["Soprano"]
    for number, name in ((2, "Alto"), (3, "Tenor"), (4, "Bass")):
        assert any(f"part {name!r} (--part {number}, " in w and "has no lyrics and is not sung"
                   in w for w in sung.warnings)
    for options in (ReadOptions(keep_tracks_without_lyrics=True),
                    ReadOptions(default_lyric="ら")):
        p = read_score(f, options)
        assert [t.name for t in p.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
        assert p.tracks[0].notes == sung.tracks[0].notes
        for i, t in enumerate(p.tracks):
            assert [(n.start_ticks, n.pitch) for n in t.notes] == _music21_notes(f, i)
        # one clock: every part ends on the same final chord
        assert len({t.notes[-1].end_ticks for t in p.tracks}) == 1
    assert read_score(f, ReadOptions(part=4, default_lyric="ら")).tracks[0].notes == \
        read_score(f, ReadOptions(default_lyric="ら")).tracks[3].notes


@pytest.mark.shared
def test_real_score_with_several_sung_parts(shared_data):
    # aloha_oe: choir (words under soprano and tenor), a solo voice with words, piano
    f = _corpus(shared_data, "liliuokalani/aloha_oe.mxl")
    p = read_score(f)
    assert [t.name for t in p.tracks] == ["Soprano", "Tenor", "Solo Voice"]
    for t, i in zip(p.tracks, (0, 2, 4)):
        assert [(n.start_ticks, n.pitch) for n in t.notes] == _music21_notes(f, i)
        assert t.notes == read_score(f, ReadOptions(part=i + 1)).tracks[0].notes
    assert sum("has no lyrics and is not sung" in w for w in p.warnings) == 3


def _music21_notes(path: Path, part_index: int = 0):
    music21 = pytest.importorskip("music21")
    s = music21.converter.parse(str(path), forceSource=True)
    part = s.parts[part_index].stripTies()
    out = {}
    for n in part.recurse().notes:
        if n.duration.isGrace or not hasattr(n, "pitches") or type(n).__name__ == "ChordSymbol":
            continue
        start = round(float(n.getOffsetInHierarchy(part)) * 480)
        top = max(p.midi for p in n.pitches)
        out[start] = max(out.get(start, top), top)
    return sorted(out.items())


@pytest.mark.shared
@pytest.mark.parametrize("rel", [
    "musicxmlTestSuite/61h-Lyrics-BeamsMelismata.xml",
    "musicxmlTestSuite/61d-Lyrics-Melisma.xml",
    "music21-corpus/schumann_robert/opus48no2.mxl",
])
def test_note_starts_and_pitches_match_music21(shared_data, rel):
    f = shared_data / "musicxml" / rel
    if not f.is_file():
        pytest.skip(f"{rel} is absent from ../shared/data")
    ours = [(n.start_ticks, n.pitch) for n in read_score(f).tracks[0].notes]
    assert ours == _music21_notes(f)


def test_grace_lyric_is_dropped_with_a_warning_when_the_next_note_has_one():
    g = ("<note><grace/><pitch><step>D</step><octave>5</octave></pitch>"
         "<lyric><text>g</text></lyric></note>")
    chord = note("E", 5, 4, "own", before="<chord/>")
    p = read(score(measure(1, attrs(1), g, note("C", 5, 4), chord)))
    assert notes(p) == [(0, 1920, 76, "own")]
    assert any("grace" in w and "'g'" in w for w in p.warnings)


@pytest.mark.slow
def test_mutated_input_reads_or_raises_score_format_error():
    rng = random.Random(11)
    sources = [GOOD, _zip({"META-INF/container.xml": CONTAINER, "score/song.musicxml": GOOD})]
    tokens = [b"<chord/>", b"<grace/>", b"<backup><duration>3</duration></backup>",
              b'<tie type="start"/>', b"<duration>-2</duration>", b"<voice>2</voice>",
              b"<divisions>7</divisions>", b'<sound tempo="0"/>', b"<rest/>", b"</note>",
              b"<note>", b"<alter>0.5</alter>", b"<octave>99</octave>", b"\x00", b"\xff"]
    for i in range(300):
        d = bytearray(sources[i % 2])
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(len(d))
            r = rng.random()
            if r < 0.35:
                del d[pos:pos + rng.randint(1, 40)]
            elif r < 0.7 and i % 2 == 0:
                d[pos:pos] = rng.choice(tokens)
            else:
                d[pos] = rng.randrange(256)
        for lenient in (False, True):
            try:
                p = read(bytes(d), lenient=lenient)
            except ScoreFormatError:
                continue
            assert p.tracks[0].notes


def test_tie_into_a_note_with_its_own_lyric_sings_that_syllable():
    data = score(measure(1, attrs(1), note("G", 4, 4, "Kin", extra=TIE_START)),
                 measure(2, note("G", 4, 4, "des", extra=TIE_STOP)))
    p = read(data)
    assert notes(p) == [(0, 1920, 67, "Kin"), (1920, 1920, 67, "des")]
    assert any("own lyric" in w for w in p.warnings)


def test_first_tempo_mark_after_a_pickup_holds_from_the_start():
    d = '<direction><sound tempo="90"/></direction>'
    data = score(measure(0, attrs(1, 3, 4), note("G", 4, 1, "up")),
                 measure(1, d, note("C", 5, 3, "one")))
    assert read(data).tempos == (Tempo(0, 90.0),)


def test_a_late_first_tempo_mark_leaves_the_start_at_120():
    d = '<direction><sound tempo="90"/></direction>'
    data = score(measure(1, attrs(1), note("C", 4, 4, "a")), measure(2, note("C", 4, 4, "b")),
                 measure(3, note("C", 4, 4, "c")), measure(4, d, note("C", 4, 4, "d")))
    p = read(data)
    assert p.tempos == (Tempo(0, 120.0), Tempo(5760, 90.0))
    assert any("before tick 5760" in w for w in p.warnings)


@pytest.mark.parametrize("mark", ['<sound tempo="0.5"/>',
                                  "<direction-type><metronome><beat-unit>quarter</beat-unit>"
                                  "<per-minute>0.25</per-minute></metronome></direction-type>"])
def test_tempos_below_one_bpm_are_refused_as_every_reader_refuses_them(mark):
    data = score(measure(1, attrs(1), f"<direction>\n{mark}</direction>", note("C", 4, 4, "a")))
    with pytest.raises(ScoreFormatError, match="is outside 1..1000 bpm"):
        read(data)
    p = read(data, lenient=True)
    assert p.tempos == (Tempo(0, 120.0),)
    assert any("is outside 1..1000 bpm; ignored" in w for w in p.warnings)


def test_a_part_without_lyrics_is_sung_on_the_default_lyric_or_kept_or_refused():
    data = score(measure(1, attrs(1), note("C", 4, 2), note("D", 4, 2)), names=["Flute"])
    with pytest.raises(ScoreFormatError, match="no part has lyrics, so there is nothing to "
                       "sing; the parts with notes are: part 'Flute' \\(--part 1, 2 notes\\); "
                       "give --default-lyric ら"):
        read(data)
    assert lyrics(read(data, default_lyric="ら")) == ["ら", "ら"]
    kept = read(data, keep_tracks_without_lyrics=True)
    assert lyrics(kept) == [NO_LYRIC, NO_LYRIC]
    assert kept.warnings[-1] == ("test.musicxml:2: part 'Flute' (--part 1, 2 notes) has no "
                                 "lyrics; its notes are kept without lyrics and are not sung "
                                 "unless given --default-lyric")
