"""Standard MIDI File reader and writer: events, lyrics, encodings, broken input, real files."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from utagoe.errors import InvalidValueError, ScoreFormatError
from utagoe.formats import limits, midi
from utagoe.formats import ReadOptions
from utagoe.formats.common import MAX_WARNINGS, NO_LYRIC
from utagoe.model import CONTINUATION, KeySignature, Note, Project, Tempo, TimeSignature, Track

# --------------------------------------------------------------------------------------
# Writing MIDI inline


def vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def meta(mtype: int, payload: bytes | str) -> bytes:
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return bytes((0xFF, mtype)) + vlq(len(payload)) + payload


def ev(delta: int, body: bytes) -> bytes:
    return vlq(delta) + body


def on(key: int, vel: int = 100, ch: int = 0) -> bytes:
    return bytes((0x90 | ch, key, vel))


def off(key: int, ch: int = 0) -> bytes:
    return bytes((0x80 | ch, key, 0))


def tempo_us(us: int) -> bytes:
    return meta(0x51, us.to_bytes(3, "big"))


def mtrk(*events: bytes, end: bool = True) -> bytes:
    body = b"".join(events) + (b"\x00\xff\x2f\x00" if end else b"")
    return b"MTrk" + len(body).to_bytes(4, "big") + body


def smf(*tracks: bytes, fmt: int = 1, ppq: int = 480, ntrks: int | None = None) -> bytes:
    n = len(tracks) if ntrks is None else ntrks
    return b"MThd" + struct.pack(">IHHH", 6, fmt, n, ppq) + b"".join(tracks)


def melody(notes, *, name: str | None = "Vocal", ch: int = 0, encoding: str = "utf-8",
           lyric_type: int = 0x05) -> bytes:
    """An MTrk of (start, duration, key, lyric-or-None) notes (sorted, non-overlapping)."""
    events = [ev(0, meta(0x03, name.encode(encoding)))] if name is not None else []
    now = 0
    for start, dur, key, lyric in notes:
        if lyric is not None:
            events.append(ev(start - now, meta(lyric_type, lyric.encode(encoding))))
            now = start
        events.append(ev(start - now, on(key, ch=ch)))
        events.append(ev(dur, off(key, ch=ch)))
        now = start + dur
    return mtrk(*events)


def conductor(*extra: bytes, name: str | None = None, bpm_us: int = 500_000) -> bytes:
    events = [ev(0, meta(0x03, name))] if name else []
    events.append(ev(0, tempo_us(bpm_us)))
    return mtrk(*events, *extra)


def read(data: bytes, **kw) -> Project:
    return midi.read(data, path="test.mid", options=ReadOptions(**kw))


def notes_of(project: Project, track: int = 0):
    return [(n.start_ticks, n.duration_ticks, n.pitch, n.lyric)
            for n in project.tracks[track].notes]


def lyrics_of(project: Project, track: int = 0):
    return [n.lyric for n in project.tracks[track].notes]


def warned(project: Project, text: str) -> bool:
    return any(text in w for w in project.warnings)


DOREMI = [(0, 480, 60, "ど"), (480, 480, 62, "れ"), (960, 480, 64, "み")]


# --------------------------------------------------------------------------------------
# Sniffing and the container


def test_sniff():
    assert midi.sniff(smf(melody(DOREMI)))
    assert midi.sniff(b"RIFF\x10\x00\x00\x00RMIDdata")
    assert not midi.sniff(b"RIFF\x10\x00\x00\x00WAVEfmt ")
    assert not midi.sniff(b"<?xml version='1.0'?><score-partwise>")
    assert not midi.sniff(b"")
    assert not midi.sniff(b"MTh")


@given(st.binary(max_size=64))
@settings(max_examples=200)
def test_sniff_never_raises(head):
    assert midi.sniff(head) in (True, False)


def test_minimal_format0_file_from_hex():
    # MThd, format 0, 1 track, 96 ticks per quarter; tempo 100 bpm (600000 us = 09 27 C0),
    # lyric "la" then C4 for one quarter, lyric "-" then D4 for an eighth (running status,
    # note-on velocity 0 as note-off)
    data = bytes.fromhex(
        "4d546864 00000006 0000 0001 0060"
        "4d54726b 00000023"
        "00 ff5103 0927c0"
        "00 ff0502 6c61"
        "00 903c64"
        "60 3c00"
        "00 ff0501 2d"
        "00 3e64"
        "30 3e00"
        "00 ff2f00")
    p = read(data)
    assert notes_of(p) == [(0, 480, 60, "la"), (480, 240, 62, CONTINUATION)]
    assert p.tempos == (Tempo(0, 100.0),)
    assert p.time_signatures == (TimeSignature(0, 4, 4),)
    assert p.source_path == "test.mid"
    assert p.warnings == ()
    assert p.tracks[0].notes[1].source.startswith("note 2 of track 1")
    assert "byte" in p.tracks[0].notes[1].source


def test_rmid_wrapper_is_unpacked():
    inner = smf(melody(DOREMI))
    size = 4 + 8 + len(inner)
    data = (b"RIFF" + size.to_bytes(4, "little") + b"RMID" + b"data"
            + len(inner).to_bytes(4, "little") + inner)
    assert notes_of(read(data)) == DOREMI


def test_running_status_and_note_on_velocity_zero():
    trk = mtrk(ev(0, meta(0x05, "a")), ev(0, on(60)), ev(240, bytes((60, 0))),
               ev(0, meta(0x05, "i")), ev(0, bytes((62, 90))), ev(240, bytes((62, 0))),
               ev(0, meta(0x05, "u")), ev(0, bytes((64, 80))), ev(480, off(64)))
    assert notes_of(read(smf(trk))) == [(0, 240, 60, "a"), (240, 240, 62, "i"),
                                        (480, 480, 64, "u")]


@pytest.mark.parametrize("ppq,expect", [
    (96, [(0, 480, 60), (480, 240, 62), (720, 160, 64)]),
    (100, [(0, 480, 60), (480, 240, 62), (720, 158, 64)]),
    (960, [(0, 480, 60), (480, 240, 62), (720, 160, 64)]),
])
def test_division_is_converted_to_480_with_rounding(ppq, expect):
    q = ppq
    notes = [(0, q, 60, "a"), (q, q // 2, 62, "b"), (q + q // 2, q // 3, 64, "c")]
    got = [(s, d, k) for s, d, k, _ in notes_of(read(smf(melody(notes), ppq=ppq)))]
    # 100 PPQ: 33 ticks = 158.4 -> 150..308 rounded as 720 + 158
    assert got == expect


def test_smpte_and_zero_division_are_refused():
    with pytest.raises(ScoreFormatError, match="SMPTE") as e:
        read(smf(melody(DOREMI), ppq=0xE728))
    assert e.value.offset == 12 and "test.mid:byte 12" in str(e.value)
    with pytest.raises(ScoreFormatError, match="0 ticks per quarter"):
        read(smf(melody(DOREMI), ppq=0))


@pytest.mark.parametrize("data,match", [
    (b"", "empty"),
    (b"MThd", "cut short"),
    (b"RIFF\x04\x00\x00\x00RMID", "without a 'data' chunk"),
    (b"hello world, not midi", "MThd"),
    (b"MThd\x00\x00\x00\x02\x00\x00\x00\x01\x00\x60", "needs 6"),
    (b"MThd\x00\x00\x01\x00\x00\x00\x00\x01\x00\x60", "past the end"),
])
def test_not_midi_or_broken_header(data, match):
    with pytest.raises(ScoreFormatError, match=match):
        read(data)


def test_unknown_chunks_are_skipped_and_trailing_bytes_warned():
    junk = b"XFIH" + (5).to_bytes(4, "big") + b"12345"
    p = read(smf(conductor(), junk, melody(DOREMI), ntrks=2) + b"\x00\x00")
    assert notes_of(p) == DOREMI
    assert warned(p, "trailing data")


def test_format2_is_read_with_a_warning_and_unknown_format_is_a_problem():
    p = read(smf(melody(DOREMI), fmt=2))
    assert notes_of(p) == DOREMI and warned(p, "format 2")
    with pytest.raises(ScoreFormatError, match="unknown SMF format 7"):
        read(smf(melody(DOREMI), fmt=7))
    assert notes_of(read(smf(melody(DOREMI), fmt=7), lenient=True)) == DOREMI


# --------------------------------------------------------------------------------------
# Truncation and malformed events


def test_track_length_that_lies_is_an_error_with_offset_or_kept_when_lenient():
    data = smf(conductor(), melody(DOREMI))
    cut = data[:-10]                       # inside the last track: its length now lies
    with pytest.raises(ScoreFormatError, match="track 2 says it is") as e:
        read(cut)
    assert e.value.offset is not None and e.value.offset < len(cut)
    p = read(cut, lenient=True)
    assert [n[3] for n in notes_of(p)][:2] == ["ど", "れ"]
    assert warned(p, "truncated")


def test_fewer_tracks_than_the_header_says():
    data = smf(conductor(), melody(DOREMI), ntrks=3)
    with pytest.raises(ScoreFormatError, match="announces 3 tracks"):
        read(data)
    p = read(data, lenient=True)
    assert notes_of(p) == DOREMI and warned(p, "announces 3 tracks")


def test_variable_length_quantity_of_five_bytes_is_refused():
    trk = mtrk(ev(0, meta(0x05, "a")), b"\x81\x80\x80\x80\x00" + on(60), ev(10, off(60)))
    with pytest.raises(ScoreFormatError, match="longer than 4 bytes"):
        read(smf(trk))


@pytest.mark.parametrize("body,match", [
    (b"\x00\xf8", "real-time"),
    (b"\x00\x90\x3c\xff", "data byte expected"),
    (b"\x00\xff\x05\x10ab", "runs past"),
    (b"\x00\xf0\x7f\x01", "sysex"),
])
def test_malformed_events(body, match):
    good = [ev(0, meta(0x05, "a")), ev(0, on(60)), ev(480, off(60))]
    data = smf(mtrk(*good, body, end=False))
    with pytest.raises(ScoreFormatError, match=match) as e:
        read(data)
    assert e.value.offset is not None
    p = read(data, lenient=True)          # the notes before the bad event are kept
    assert notes_of(p) == [(0, 480, 60, "a")] and warned(p, match)


def test_data_byte_without_status_at_the_start_of_a_track():
    data = smf(melody(DOREMI), mtrk(b"\x00\x3c\x64"))
    with pytest.raises(ScoreFormatError, match="without a status byte"):
        read(data)
    p = read(data, lenient=True)
    assert notes_of(p) == DOREMI and warned(p, "track 2: data byte 0x3C")


def test_sysex_and_other_meta_events_are_skipped():
    trk = mtrk(ev(0, b"\xf0\x05\x7e\x7f\x09\x01\xf7"), ev(0, meta(0x7F, b"\x00\x00\x41")),
               ev(0, meta(0x21, b"\x00")), ev(0, b"\xf7\x02\x01\x02"),
               ev(0, meta(0x05, "a")), ev(0, on(60)), ev(480, off(60)))
    assert notes_of(read(smf(trk))) == [(0, 480, 60, "a")]


# --------------------------------------------------------------------------------------
# Tempo map, signatures, names, title


def test_tempo_time_and_key_signatures_from_any_track_are_merged():
    cond = mtrk(ev(0, meta(0x03, "My Song")), ev(0, tempo_us(500_000)),
                ev(0, meta(0x58, b"\x03\x02\x18\x08")), ev(0, meta(0x59, b"\xfe\x01")),
                ev(1440, meta(0x58, b"\x06\x03\x18\x08")))
    trk = mtrk(ev(0, meta(0x03, "Vocal")), ev(0, meta(0x05, "a")), ev(0, on(60)),
               ev(960, tempo_us(400_000)), ev(0, off(60)))
    p = read(smf(cond, trk))
    assert p.tempos == (Tempo(0, 120.0), Tempo(960, 150.0))
    assert p.time_signatures == (TimeSignature(0, 3, 4), TimeSignature(1440, 6, 8))
    assert p.key_signatures == (KeySignature(0, -2, "minor"),)
    assert p.title == "My Song"
    assert p.tracks[0].name == "Vocal"


def test_no_tempo_means_120_bpm_and_a_later_first_tempo_keeps_120_before_it():
    p = read(smf(mtrk(ev(0, meta(0x05, "a")), ev(0, on(60)), ev(960, tempo_us(1_000_000)),
                      ev(0, off(60)))))
    assert p.tempos == (Tempo(0, 120.0), Tempo(960, 60.0))


@pytest.mark.parametrize("us,match", [(0, "0 microseconds"), (1, "outside"),
                                      (59_999, "outside")])
def test_absurd_tempo_is_refused_or_dropped(us, match):
    data = smf(conductor(bpm_us=us), melody(DOREMI))
    with pytest.raises(ScoreFormatError, match=match):
        read(data)
    p = read(data, lenient=True)
    assert p.tempos == (Tempo(0, 120.0),) and warned(p, match)


def test_bad_time_and_key_signatures():
    data = smf(conductor(ev(0, meta(0x58, b"\x04\x09\x18\x08")),
                         ev(0, meta(0x59, b"\x09\x00"))), melody(DOREMI))
    with pytest.raises(ScoreFormatError, match="time signature"):
        read(data)
    p = read(data, lenient=True)
    assert p.time_signatures == (TimeSignature(0, 4, 4),)
    assert warned(p, "key signature")


def test_positions_beyond_the_limit_are_refused():
    far = b"\xff\xff\xff\x7f"               # 0x0FFFFFFF ticks
    trk = mtrk(ev(0, meta(0x05, "a")), ev(0, on(60)), far + off(60), far + on(62),
               far + off(62))
    with pytest.raises(ScoreFormatError, match="hour limit"):
        read(smf(trk), lenient=True)


def test_a_song_longer_than_24_hours_is_refused():
    slow = 0xFFFFFF                         # 3.576 bpm
    trk = melody([(0, 3_000_000, 60, "a")])
    with pytest.raises(ScoreFormatError, match="would last"):
        read(smf(conductor(bpm_us=slow), trk))


def test_generic_conductor_names_are_not_titles_and_tracks_get_default_names():
    p = read(smf(conductor(name="Master Track"), melody(DOREMI, name=None)))
    assert p.title == "" and p.tracks[0].name == "Track 2"


# --------------------------------------------------------------------------------------
# Notes: pairing, monophony, drums


def test_note_offs_pair_fifo_per_channel_and_key():
    # two overlapping C4s on one channel: the first note-off ends the first note
    trk = mtrk(ev(0, meta(0x05, "a")), ev(0, on(60)), ev(240, meta(0x05, "b")),
               ev(0, on(60)), ev(240, off(60)), ev(240, off(60)))
    # a is cut where b starts (monophony); b lasts until the second note-off
    assert notes_of(read(smf(trk))) == [(0, 240, 60, "a"), (240, 480, 60, "b")]


def test_chords_keep_the_highest_note_and_overlaps_are_cut():
    trk = mtrk(ev(0, meta(0x05, "a")), ev(0, on(60)), ev(0, on(67)), ev(0, on(64)),
               ev(480, off(60)), ev(0, off(64)), ev(0, meta(0x05, "b")), ev(0, on(62)),
               ev(240, off(67)), ev(240, off(62)))
    p = read(smf(trk))
    assert notes_of(p) == [(0, 480, 67, "a"), (480, 480, 62, "b")]
    assert warned(p, "2 note(s) starting together")


def test_zero_length_notes_are_dropped():
    trk = mtrk(ev(0, meta(0x05, "a")), ev(0, on(61)), ev(0, off(61)), ev(0, on(60)),
               ev(480, off(60)))
    p = read(smf(trk))
    assert notes_of(p) == [(0, 480, 60, "a")] and warned(p, "zero-length")


def test_unreleased_notes_end_with_the_track_and_orphan_offs_are_ignored():
    trk = mtrk(ev(0, off(50)), ev(0, meta(0x05, "a")), ev(0, on(60)),
               ev(960, meta(0x01, "end")))
    p = read(smf(trk))
    assert notes_of(p) == [(0, 960, 60, "a")]
    assert warned(p, "never released") and warned(p, "without a sounding note")


def test_drum_channel_is_never_sung():
    drums = melody([(0, 240, 36, "bum"), (480, 240, 38, "tss")], name="Drums", ch=9)
    p = read(smf(conductor(), melody(DOREMI), drums))
    assert [t.name for t in p.tracks] == ["Vocal"]
    assert warned(p, "drum channel")


def test_format0_with_several_channels_is_split_and_lyrics_go_to_the_melody():
    events = [ev(0, meta(0x03, "Song"))]
    # melody on channel 1 with lyrics, bass on channel 2 starting off the beat
    for i, (lyr, key) in enumerate([("la", 67), ("li", 69), ("lu", 71)]):
        events += [ev(0, meta(0x05, lyr)), ev(0, on(key)), ev(120, on(40, ch=1)),
                   ev(360, off(key)), ev(0, off(40, ch=1))]
    p = read(smf(mtrk(*events), fmt=0))
    assert p.title == "Song"
    assert [t.name for t in p.tracks] == ["Channel 1"]
    assert lyrics_of(p) == ["la", "li", "lu"]
    assert warned(p, "track 'Channel 2' (--part 2, 3 notes) has no lyrics")


# --------------------------------------------------------------------------------------
# Lyrics


def test_continuation_marks_and_notes_without_lyrics():
    notes = [(0, 240, 60, None), (480, 240, 60, "ka"), (720, 240, 62, "-"),
             (960, 240, 64, None), (1200, 240, 65, "+"), (1440, 240, 67, "+~"),
             (1920, 240, 60, "na")]
    p = read(smf(melody(notes)))
    # the note before the first lyric is not sung; a lyric-less note continues
    assert notes_of(p) == [(480, 240, 60, "ka"), (720, 240, 62, "+"), (960, 240, 64, "+"),
                           (1200, 240, 65, "+"), (1440, 240, 67, "+"),
                           (1920, 240, 60, "na")]
    assert warned(p, "before the first lyric")
    q = read(smf(melody(notes)), default_lyric="la")
    assert lyrics_of(q)[0] == "la" and lyrics_of(q)[3] == "+"


def test_lyric_text_is_cleaned_and_empty_lyrics_ignored():
    trk = mtrk(ev(0, meta(0x05, " \r\n")), ev(0, meta(0x05, "  ka\r\n")), ev(0, on(60)),
               ev(480, off(60)), ev(0, meta(0x05, "sa\x00")), ev(0, on(62)), ev(480, off(62)))
    assert lyrics_of(read(smf(trk))) == ["ka", "sa"]


def test_lyric_tolerance_and_first_lyric_wins():
    trk = mtrk(ev(0, on(60)), ev(477, meta(0x05, "ka")), ev(3, off(60)), ev(0, on(62)),
               ev(0, meta(0x05, "extra")), ev(240, meta(0x05, "mid")), ev(240, off(62)),
               ev(0, on(64)), ev(480, off(64)))
    p = read(smf(trk))
    # "ka" 3 ticks early reaches note 2 (tolerance 10 ticks at 480 PPQ); "extra" loses;
    # "mid" falls inside a sounding note and is not sung; note 1 precedes all lyrics
    assert notes_of(p) == [(480, 480, 62, "ka"), (960, 480, 64, "+")]
    assert warned(p, "already has one") and warned(p, "'mid' at tick 720")


def test_lyric_in_a_rest_goes_to_the_next_note():
    trk = mtrk(ev(0, meta(0x05, "a")), ev(0, on(60)), ev(240, off(60)),
               ev(60, meta(0x05, "b")), ev(180, on(62)), ev(240, off(62)))
    assert notes_of(read(smf(trk))) == [(0, 240, 60, "a"), (480, 240, 62, "b")]


def test_lyrics_in_a_note_less_track_attach_to_the_matching_melody():
    words = mtrk(ev(0, meta(0x03, "Lyrics")), ev(480, meta(0x05, "ha")),
                 ev(480, meta(0x05, "ru")))
    piano = melody([(0, 240, 48, None), (240, 240, 50, None)], name="Piano", ch=1)
    voice = melody([(480, 480, 60, None), (960, 480, 62, None)], name="Voice")
    p = read(smf(conductor(), words, piano, voice))
    assert [t.name for t in p.tracks] == ["Voice"]
    assert lyrics_of(p) == ["ha", "ru"]
    assert warned(p, "'Piano' (--part 1, 2 notes) has no lyrics and is not sung")
    assert warned(p, "--default-lyric")


def test_soft_karaoke_words_track():
    info = mtrk(ev(0, meta(0x01, "@KMIDI KARAOKE FILE")), ev(0, meta(0x01, "@V0100")),
                ev(0, meta(0x01, "Some remark that is not sung")))
    words = mtrk(ev(0, meta(0x03, "Words")), ev(0, meta(0x01, "@LENGL")),
                 ev(0, meta(0x01, "@TTwinkle Song")), ev(0, meta(0x01, "@TTraditional")),
                 ev(0, meta(0x01, "\\Twin")), ev(480, meta(0x01, "kle, ")),
                 ev(480, meta(0x01, "/lit")), ev(480, meta(0x01, "tle! ")))
    tune = melody([(0, 480, 60, None), (480, 480, 60, None), (960, 480, 67, None),
                   (1440, 480, 67, None)], name="Melody", ch=2)
    p = read(smf(info, words, tune))
    assert p.title == "Twinkle Song"
    assert notes_of(p) == [(0, 480, 60, "Twin"), (480, 480, 60, "kle"),
                           (960, 480, 67, "lit"), (1440, 480, 67, "tle")]


def test_text_events_are_not_lyrics_without_karaoke_markers():
    trk = mtrk(ev(0, meta(0x01, "la")), ev(0, on(60)), ev(480, off(60)))
    with pytest.raises(ScoreFormatError, match="no track has lyrics"):
        read(smf(trk))
    p = read(smf(trk), keep_tracks_without_lyrics=True)
    assert lyrics_of(p) == [NO_LYRIC] and warned(p, "has no lyrics")


def test_default_lyric_sings_lyricless_tracks():
    tune = melody([(0, 480, 60, None), (480, 480, 62, None)], name="Flute")
    p = read(smf(tune), default_lyric="la")
    assert notes_of(p) == [(0, 480, 60, "la"), (480, 480, 62, "la")]
    assert warned(p, "sung on 'la'")


# --------------------------------------------------------------------------------------
# Choosing tracks


def _three_tracks() -> bytes:
    return smf(conductor(name="Song"),
               melody(DOREMI, name="Soprano"),
               melody([(0, 960, 48, None)], name="Piano", ch=1),
               melody([(0, 480, 55, "a"), (480, 480, 57, "i")], name="Alto", ch=2))


def test_part_none_sings_every_track_with_lyrics():
    p = read(_three_tracks())
    assert [t.name for t in p.tracks] == ["Soprano", "Alto"]
    assert warned(p, "track 'Piano' (--part 2, 1 note) has no lyrics and is not sung (give "
                     "--default-lyric ら to sing it on one syllable)")


def test_part_by_number_and_name():
    assert read(_three_tracks(), part=3).tracks[0].name == "Alto"
    assert read(_three_tracks(), part="alto").tracks[0].name == "Alto"
    assert read(_three_tracks(), part="1").tracks[0].name == "Soprano"
    p = read(_three_tracks(), part="Piano", default_lyric="la")
    assert notes_of(p) == [(0, 960, 48, "la")]


@pytest.mark.parametrize("part,match", [(4, "no track 4"), ("Tenor", "no track named 'Tenor'"),
                                        (2, "has no lyrics")])
def test_bad_parts_list_the_tracks(part, match):
    with pytest.raises(ScoreFormatError, match=match) as e:
        read(_three_tracks(), part=part)
    if "no track" in match:
        assert ("track 'Soprano' (--part 1, 3 notes); track 'Piano' (--part 2, 1 note, no "
                "lyrics); track 'Alto' (--part 3, 2 notes)") in str(e.value)


@pytest.mark.parametrize("part", [0, 1.5])
def test_parts_that_are_no_track_number_are_refused_by_the_options(part):
    with pytest.raises(InvalidValueError, match="ReadOptions.part must be"):
        read(_three_tracks(), part=part)


def test_files_without_notes_are_refused_or_read_empty_with_a_warning():
    data = smf(conductor(ev(0, meta(0x01, "hello"))))
    with pytest.raises(ScoreFormatError, match="the file has no notes"):
        read(data)
    p = read(data, keep_tracks_without_lyrics=True)
    assert p.tracks == () and warned(p, "no notes")
    with pytest.raises(ScoreFormatError, match="the file has no notes"):
        read(data, part=1)


# --------------------------------------------------------------------------------------
# Encodings


SAKURA = ["さ", "く", "ら", "さ", "く", "ら", "や", "よ", "い", "の", "そ", "ら", "は"]


def _lyric_file(syllables, encoding: str, name: str = "うた") -> bytes:
    notes = [(i * 480, 480, 60 + i % 12, s) for i, s in enumerate(syllables)]
    return smf(conductor(), melody(notes, name=name, encoding=encoding))


@pytest.mark.parametrize("encoding,syllables,name", [
    ("cp932", SAKURA, "うた"),
    ("cp932", ["春", "の", "小", "川", "は", "さ", "ら", "さ", "ら", "行", "く", "よ"], "歌"),
    ("gbk", ["明", "山", "涌", "水", "郁", "郁", "葱", "-", "葱", "钟", "灵"], "音轨1"),
    ("gbk", ["我", "爱", "你", "中", "国"], "歌声"),
    ("euc_kr", ["빛", "날", "세", "라", "영", "웅", "열", "-", "사"], "노래"),
    ("euc_kr", ["사", "랑", "해", "요", "나", "의", "노", "래"], "트랙"),
    ("utf-8", SAKURA, "うた"),
    ("cp1252", ["ca", "fé", "na", "ïve", "Se", "ñor"], "Chanson"),
])
def test_encoding_is_detected_over_the_whole_file(encoding, syllables, name):
    p = read(_lyric_file(syllables, encoding, name))
    expected = [CONTINUATION if s == "-" else s for s in syllables]
    assert lyrics_of(p) == expected
    assert p.tracks[0].name == name
    assert not warned(p, "encoding")


def test_utf8_bom_is_dropped():
    trk = mtrk(ev(0, meta(0x05, b"\xef\xbb\xbf" + "ら".encode())), ev(0, on(60)),
               ev(480, off(60)))
    assert lyrics_of(read(smf(trk))) == ["ら"]


def test_forced_encoding():
    data = _lyric_file(SAKURA, "cp932")
    assert lyrics_of(read(data, encoding="shift_jis")) == SAKURA
    with pytest.raises(ScoreFormatError, match="unknown text encoding 'klingon'"):
        read(data, encoding="klingon")
    with pytest.raises(ScoreFormatError, match="not a text encoding"):
        read(data, encoding="base64")
    with pytest.raises(ScoreFormatError, match="cannot be decoded as utf-8") as e:
        read(data, encoding="utf-8")
    assert e.value.offset == data.index("うた".encode("cp932"))
    p = read(data, encoding="utf-8", lenient=True)
    assert "\ufffd" in lyrics_of(p)[0] and warned(p, "replaced")


def test_undecidable_bytes_say_the_encoding_is_a_guess():
    # bytes no CJK encoding reads well: decoded as Western, with a warning
    trk = mtrk(ev(0, meta(0x05, b"\x80\x81\x8d\x8f\x90")), ev(0, on(60)), ev(480, off(60)))
    p = read(smf(trk))
    assert len(p.tracks[0].notes) == 1 and warned(p, "encoding")


# --------------------------------------------------------------------------------------
# VOCALOID .vsq


def _vsq(text: str, chunk_size: int = 100) -> bytes:
    raw = text.encode("cp932")
    events = [ev(0, meta(0x03, "Voice"))]
    for i in range(0, len(raw), chunk_size):
        events.append(ev(0, meta(0x01, f"DM:{i // chunk_size:04d}:".encode() +
                                 raw[i:i + chunk_size])))
    return smf(conductor(name="Master Track"), mtrk(*events))


VSQ_TEXT = """[Common]
Version=DSB301
Name=Miku
[EventList]
0=ID#0000
1920=ID#0001
2400=ID#0002
2880=EOS
[ID#0000]
Type=Singer
IconHandle=h#0000
[ID#0001]
Type=Anote
Length=480
Note#=64
LyricHandle=h#0001
[ID#0002]
Type=Anote
Length=240
Note#=65
LyricHandle=h#0002
[h#0000]
IDS=Miku
[h#0001]
L0="か","k a",0.000000,64,0
[h#0002]
L0="-","a",0.000000,64,0
"""


def test_vsq_text_is_read():
    p = read(_vsq(VSQ_TEXT))
    assert [t.name for t in p.tracks] == ["Miku"]
    assert notes_of(p) == [(1920, 480, 64, "か"), (2400, 240, 65, "+")]
    assert p.tracks[0].notes[0].phonemes == ("k", "a")


def test_broken_vsq_text():
    broken = VSQ_TEXT.replace("Note#=65", "Note#=999").replace("2400=ID#0002",
                                                               "2400=ID#0009")
    with pytest.raises(ScoreFormatError, match="VSQ"):
        read(_vsq(broken))
    p = read(_vsq(broken), lenient=True)
    assert notes_of(p) == [(1920, 480, 64, "か")] and warned(p, "ID#0009")


# --------------------------------------------------------------------------------------
# Writing


def _project() -> Project:
    vocal = Track(name="Vocal", notes=(
        Note(0, 480, 60, "さ"), Note(480, 240, 62, "く"), Note(720, 240, 64, CONTINUATION),
        Note(1440, 960, 67, "ら"), Note(2400, 120, 69, "la"), Note(4000, 480, 72, "end")))
    second = Track(name="Harmony ハモ", muted=True, notes=(
        Note(0, 960, 55, "a"), Note(960, 960, 57, "i")))
    return Project(
        tracks=(vocal, second),
        tempos=(Tempo(0, 120.0), Tempo(1440, 97.5), Tempo(2400, 133.333)),
        time_signatures=(TimeSignature(0, 4, 4), TimeSignature(1920, 3, 4),
                         TimeSignature(3360, 6, 8)),
        key_signatures=(KeySignature(0, 3, "major"), KeySignature(1920, -4, "minor")),
        title="Round Trip")


def test_round_trip():
    project = _project()
    data = midi.write(project)
    assert data[:14] == b"MThd" + struct.pack(">IHHH", 6, 1, 3, 480)
    back = midi.read(data)
    assert back.title == "Round Trip"
    assert [t.name for t in back.tracks] == ["Vocal", "Harmony ハモ"]
    for a, b in zip(project.tracks, back.tracks):
        assert [(n.start_ticks, n.duration_ticks, n.pitch, n.lyric) for n in a.notes] == \
            [(n.start_ticks, n.duration_ticks, n.pitch, n.lyric) for n in b.notes]
    assert [t.tick for t in back.tempos] == [t.tick for t in project.tempos]
    for a, b in zip(project.tempos, back.tempos):
        assert abs(round(a.bpm, 3) - b.bpm) < 1e-3
    assert back.time_signatures == project.time_signatures
    assert back.key_signatures == project.key_signatures
    assert back.warnings == ()
    assert midi.write(project) == data          # same input, same bytes


def test_writer_writes_continuation_as_dash_and_skips_the_drum_channel():
    tracks = tuple(Track(name=f"T{i}", notes=(Note(0, 480, 60, ""),)) for i in range(11))
    data = midi.write(Project(tracks=tracks))
    for i in (8, 9, 10):
        name = meta(0x03, f"T{i}")
        at = data.index(name) + len(name) + 1       # after the name event and a delta
        assert data[at] == 0x90 | (i if i < 9 else i + 1)
    one = midi.write(Project(tracks=(Track("V", (Note(0, 480, 60, CONTINUATION),)),)))
    assert meta(0x05, "-") in one


def test_writer_keeps_overlaps_and_the_reader_cuts_them():
    t = Track("V", (Note(0, 960, 60, "a"), Note(480, 480, 60, "b"), Note(480, 240, 55, "c")))
    back = midi.read(midi.write(Project(tracks=(t,))))
    assert notes_of(back) == [(0, 480, 60, "a"), (480, 480, 60, "b")]


@pytest.mark.parametrize("project,match", [
    (Project(tracks=(), tempos=(Tempo(0, 0.5),)), "tempo"),
    (Project(tracks=(), tempos=(Tempo(0, 2.0),)), "slower than MIDI can store"),
    (Project(tracks=(), time_signatures=(TimeSignature(0, 4, 3),)), "power of two"),
    (Project(tracks=(Track("V", (Note(limits.MAX_TICKS, 10, 60, "a"),)),)), "beyond"),
])
def test_writer_refuses_what_midi_cannot_hold(project, match):
    with pytest.raises(ScoreFormatError, match=match):
        midi.write(project)


@pytest.mark.parametrize("make,field", [
    (lambda: Note(0, 480, 128, "a"), "Note.pitch"),
    (lambda: Note(-5, 480, 60, "a"), "Note.start_ticks"),
    (lambda: Tempo(0, 0.0), "Tempo.bpm"),
])
def test_notes_and_tempos_midi_cannot_hold_cannot_be_built(make, field):
    with pytest.raises(InvalidValueError, match=field):
        make()


_syllable = st.sampled_from(["a", "ka", "さ", "ら", "明", "빛", CONTINUATION, "la la"])


@st.composite
def _projects(draw):
    tracks = []
    for ti in range(draw(st.integers(1, 3))):
        notes, now = [], 0
        for _ in range(draw(st.integers(1, 12))):
            now += draw(st.integers(0, 2000))
            dur = draw(st.integers(1, 3000))
            lyric = draw(_syllable)
            if not notes and lyric == CONTINUATION:
                lyric = "a"
            notes.append(Note(now, dur, draw(st.integers(0, 127)), lyric))
            now += dur
        tracks.append(Track(name=f"Track {ti + 1}", notes=tuple(notes)))
    tempos = [Tempo(0, draw(st.floats(20, 300)))]
    for _ in range(draw(st.integers(0, 3))):
        tempos.append(Tempo(tempos[-1].tick + draw(st.integers(1, 5000)),
                            draw(st.floats(midi.MIN_WRITABLE_BPM + 1e-6, 1000))))
    return Project(tracks=tuple(tracks), tempos=tuple(tempos))


@given(_projects())
@settings(max_examples=60)
def test_round_trip_property(project):
    back = midi.read(midi.write(project))
    assert len(back.tracks) == len(project.tracks)
    for a, b in zip(project.tracks, back.tracks):
        assert [(n.start_ticks, n.duration_ticks, n.pitch, n.lyric) for n in a.notes] == \
            [(n.start_ticks, n.duration_ticks, n.pitch, n.lyric) for n in b.notes]
    assert [t.tick for t in back.tempos] == [t.tick for t in project.tempos]
    for a, b in zip(project.tempos, back.tempos):
        assert abs(60e6 / a.bpm - 60e6 / b.bpm) <= 1 + 1e-3 * 60e6 / b.bpm


# --------------------------------------------------------------------------------------
# Limits


def test_a_million_notes_are_refused_where_the_limit_is_passed():
    body = b"\x00\x90\x3c\x64\x01\x80\x3c\x00" * 10**6
    data = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + \
        len(body).to_bytes(4, "big") + body
    with pytest.raises(ScoreFormatError, match=f"more than {limits.MAX_NOTES} notes") as e:
        read(data, lenient=True)
    # counted while scanning: the byte offset is that of the note-on past the limit
    assert e.value.offset == 22 + 8 * limits.MAX_NOTES


def test_too_many_events_and_texts_are_refused(monkeypatch):
    monkeypatch.setattr(midi, "MAX_EVENTS", 1000)
    body = b"\x00\xe0\x00\x40" + b"\x00\x00\x40" * 2000
    with pytest.raises(ScoreFormatError, match="more than 1000 MIDI events"):
        read(smf(mtrk(body)))
    monkeypatch.setattr(midi, "MAX_TEXT_EVENTS", 50)
    with pytest.raises(ScoreFormatError, match="more than 50 text"):
        read(smf(mtrk(*(ev(0, meta(0x05, "a")) for _ in range(60)))))


def test_warnings_are_bounded():
    trk = mtrk(ev(0, meta(0x05, "a")), ev(0, on(60)), ev(480, off(60)),
               *(ev(0, meta(0x51, b"\x00")) for _ in range(MAX_WARNINGS + 10)))
    p = read(smf(trk), lenient=True)
    assert len(p.warnings) <= MAX_WARNINGS + 1 and "more warning" in p.warnings[-1]


# --------------------------------------------------------------------------------------
# Robustness: any bytes give a Project or a ScoreFormatError


def _attempt(data: bytes, **kw) -> None:
    try:
        p = midi.read(data, path="fuzz.mid", options=ReadOptions(**kw))
    except ScoreFormatError as e:
        assert str(e).startswith("fuzz.mid")
        return
    assert isinstance(p, Project)
    for t in p.tracks:
        for a, b in zip(t.notes, t.notes[1:]):
            assert a.start_ticks < b.start_ticks and a.end_ticks <= b.start_ticks
        for n in t.notes:
            assert 0 <= n.pitch <= 127 and n.duration_ticks > 0 and n.lyric


_INLINE = [smf(melody(DOREMI)), _three_tracks(), _lyric_file(SAKURA, "cp932"),
           _vsq(VSQ_TEXT), midi.write(_project())]

_ABSURD = [b"\xff\xff\xff\x7f", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x80" * 5,
           b"\xff\x51\x03\x00\x00\x00", b"\xff\x51\x03\x00\x00\x01", b"\xff\x58\x04\x00\xff",
           b"\x7f\xff", b"\xe7\x28", b"\x00\x00", b"MTrk\xff\xff\xff\xf0"]


@st.composite
def _mutated(draw, sources):
    data = bytearray(draw(st.sampled_from(sources)))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        op = draw(st.integers(0, 4))
        if op == 0 and data:
            data[i] = draw(st.integers(0, 255))
        elif op == 1:
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == 2:
            del data[i:i + draw(st.integers(1, 16))]
        else:
            absurd = draw(st.sampled_from(_ABSURD))
            data[i:i + len(absurd) * (op - 3)] = absurd   # insert, or overwrite
    return bytes(data)


@pytest.mark.slow
@given(_mutated(_INLINE), st.booleans(), st.sampled_from([None, 1, 2, "vocal"]),
       st.sampled_from([None, "cp932", "utf-8", "latin-1"]), st.sampled_from([None, "la"]))
@settings(max_examples=800)
def test_mutated_inline_files(data, lenient, part, encoding, default_lyric):
    _attempt(data, lenient=lenient, part=part, encoding=encoding,
             default_lyric=default_lyric)


_TEXTS = [b"la", b"-", b"+", b"", b"@TTitle", b"@LENGL", b"\\Ma", b"/ry ",
          "さ".encode("cp932"), "明".encode("gbk"), "빛".encode("euc_kr"), "ら".encode(),
          b"DM:0000:[EventList]\n0=ID#0001\n[ID#0001]\nType=Anote\nLength=480\nNote#=60\n",
          b"\xff\xfe\x00"]


@st.composite
def _event(draw, ppq):
    kind = draw(st.integers(0, 10))
    delta = draw(st.sampled_from([0, 0, 1, ppq // 4, ppq, 3 * ppq]))
    ch = draw(st.sampled_from([0, 1, 9, 15]))
    key = draw(st.integers(0, 127))
    if kind <= 3:
        return ev(delta, on(key, draw(st.sampled_from([0, 1, 100])), ch=ch))
    if kind <= 5:
        return ev(delta, off(key, ch=ch))
    if kind <= 7:
        return ev(delta, meta(draw(st.sampled_from([0x01, 0x03, 0x05, 0x05])),
                              draw(st.sampled_from(_TEXTS))))
    if kind == 8:
        return ev(delta, tempo_us(draw(st.sampled_from([0, 1, 60_000, 500_000, 0xFFFFFF]))))
    if kind == 9:
        return ev(delta, meta(0x58, bytes((draw(st.integers(0, 12)),
                                           draw(st.integers(0, 9)), 24, 8))))
    return ev(delta, meta(0x59, bytes((draw(st.integers(0, 255)), draw(st.integers(0, 2))))))


@st.composite
def _well_formed(draw):
    ppq = draw(st.sampled_from([1, 24, 96, 100, 480, 960, 0x7FFF]))
    tracks = [mtrk(*draw(st.lists(_event(ppq), max_size=30)))
              for _ in range(draw(st.integers(1, 4)))]
    return smf(*tracks, fmt=draw(st.sampled_from([0, 1, 2])), ppq=ppq)


@pytest.mark.slow
@given(_well_formed(), st.booleans(), st.sampled_from([None, 1, 3, "Track 2"]),
       st.sampled_from([None, "la"]))
@settings(max_examples=250)
def test_generated_files(data, lenient, part, default_lyric):
    _attempt(data, lenient=lenient, part=part, default_lyric=default_lyric)


# --------------------------------------------------------------------------------------
# Real files from ../shared/data


def _real_files(shared: Path) -> list[Path]:
    files = sorted((shared / "midi").rglob("*.mid"))
    if not files:
        pytest.skip("no MIDI files in ../shared/data/midi")
    return files


def _real(shared: Path, rel: str) -> bytes:
    f = shared / "midi" / rel
    if not f.is_file():
        pytest.skip(f"{rel} is absent from ../shared/data")
    return f.read_bytes()


@pytest.mark.shared
def test_every_real_file_reads(shared_data):
    for f in _real_files(shared_data):
        p = midi.read(f.read_bytes(), path=str(f),
                      options=ReadOptions(keep_tracks_without_lyrics=True))
        assert p.source_path == str(f)
        assert p.tempos[0].tick == 0


# music21's own expectations for these files (music21/midi/tests.py), "" being its
# melisma, which we read as "+"
_ZH = ["明", "山", "涌", "水", "郁", "郁", "葱", "+", "葱", "钟", "灵", "毓", "秀", "海", "天",
       "+", "东", "济", "济", "多", "士", "四", "方", "所", "+", "崇", "早", "+", "育", "+", "文",
       "明", "+", "种"]
_KO = ["빛", "날", "세", "라", "영", "웅", "열", "+", "사", "만", "세", "불", "망", "하", "실",
       "+", "이", "옛", "적", "이", "나", "지", "금", "이", "+", "나", "항", "상", "앙", "모", "합",
       "니", "+", "다"]


@pytest.mark.shared
@pytest.mark.parametrize("name,expected,track", [
    ("test18.mid", _ZH, "音轨1"), ("test19.mid", _ZH, "音轨1"),
    ("test20.mid", _KO, "New Track"), ("test21.mid", _KO, "New Track")])
def test_real_music21_encodings(shared_data, name, expected, track):
    p = midi.read(_real(shared_data, f"music21/{name}"))
    assert len(p.tracks) == 1 and p.tracks[0].name == track
    assert lyrics_of(p) == expected
    assert notes_of(p)[0][:3] == (1920, 720, 60 if expected is _ZH else 57)
    assert p.tempos == (Tempo(0, 120.0),)
    assert not warned(p, "encoding")


@pytest.mark.shared
@pytest.mark.parametrize("name", ["standard.mid", "generated_standard.mid",
                                  "generated_vocaloid.mid"])
def test_real_utaformatix_files(shared_data, name):
    p = midi.read(_real(shared_data, f"utaformatix-ts/{name}"))
    assert lyrics_of(p) == ["ど", "れ", "み", "ふぁ", "そ", "ら", "し", "ど"]
    first = 1920 if "vocaloid" in name else 0       # the VSQ keeps its pre-measure
    assert [(n.start_ticks, n.duration_ticks) for n in p.tracks[0].notes] == \
        [(first + 480 * i, 480) for i in range(8)]
    assert [n.pitch for n in p.tracks[0].notes] == [60, 62, 64, 65, 67, 69, 71, 72]
    assert p.tempos == (Tempo(0, 120.0),)


@pytest.mark.shared
def test_real_karaoke_file(shared_data):
    p = midi.read(_real(shared_data, "jazz-soft/test-karaoke-kar.mid"))
    assert p.title == "Mary Was A Little Lame"
    assert p.tempos == (Tempo(0, 90.0),)
    assert len(p.tracks) == 1 and len(p.tracks[0].notes) == 27
    assert notes_of(p)[:4] == [(0, 360, 64, "Ma"), (360, 120, 62, "ry"),
                               (480, 240, 60, "was"), (720, 240, 62, "a")]
    assert lyrics_of(p)[-6:] == ["lit", "tle", "lame", "was", "she", "+"]


@pytest.mark.shared
def test_real_text_only_file(shared_data):
    data = _real(shared_data, "jazz-soft/test-silence-text-metaevent.mid")
    p = midi.read(data, options=ReadOptions(keep_tracks_without_lyrics=True))
    assert p.tracks == () and p.title == "Sound of Silence - End of Track"
    assert warned(p, "no notes")
    with pytest.raises(ScoreFormatError, match="the file has no notes"):
        midi.read(data)


# --------------------------------------------------------------------------------------
# A melody without lyrics: refused for singing, kept for converting


def _no_lyrics() -> bytes:
    return smf(conductor(name="Song"),
               melody([(0, 480, 60, None), (480, 480, 62, None)], name="Melody"),
               melody([(0, 960, 48, None)], name="Bass", ch=1))


def test_a_file_where_no_track_has_lyrics_is_refused_naming_the_tracks():
    with pytest.raises(ScoreFormatError) as e:
        read(_no_lyrics())
    assert str(e.value) == (
        "test.mid: no track has lyrics, so there is nothing to sing; the tracks with notes "
        "are: track 'Melody' (--part 1, 2 notes, no lyrics); track 'Bass' (--part 2, 1 note, "
        "no lyrics); give --default-lyric ら to sing their notes on one syllable (and --part "
        "N to choose one track)")


def test_a_file_without_lyrics_keeps_every_track_when_asked():
    p = read(_no_lyrics(), keep_tracks_without_lyrics=True)
    assert [t.name for t in p.tracks] == ["Melody", "Bass"]
    assert notes_of(p) == [(0, 480, 60, NO_LYRIC), (480, 480, 62, NO_LYRIC)]
    assert notes_of(p, 1) == [(0, 960, 48, NO_LYRIC)]
    assert p.warnings == (
        "test.mid: track 'Melody' (--part 1, 2 notes) has no lyrics; its notes are kept "
        "without lyrics and are not sung unless given --default-lyric",
        "test.mid: track 'Bass' (--part 2, 1 note) has no lyrics; its notes are kept without "
        "lyrics and are not sung unless given --default-lyric")


def test_the_default_lyric_warning_numbers_tracks_as_part_does():
    # the lyricless track is the third chunk of the file but the second with notes
    p = read(_three_tracks(), default_lyric="la")
    assert [t.name for t in p.tracks] == ["Soprano", "Piano", "Alto"]
    assert warned(p, "track 'Piano' (--part 2, 1 note) has no lyrics; its notes are sung on "
                     "'la'")
    assert read(_three_tracks(), part=2, default_lyric="la").tracks[0].name == "Piano"


def test_notes_without_lyrics_are_written_without_lyric_events():
    p = read(_no_lyrics(), keep_tracks_without_lyrics=True)
    data = midi.write(p)
    assert b"\xff\x05" not in data
    back = read(data, keep_tracks_without_lyrics=True)
    assert [notes_of(back, i) for i in (0, 1)] == [notes_of(p, i) for i in (0, 1)]
