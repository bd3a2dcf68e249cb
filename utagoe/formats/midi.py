"""Standard MIDI File (SMF) reader and writer, written from the SMF 1.0 specification.

Reading (:func:`read`)
    * SMF format 0 and 1, any division in ticks per quarter (converted to 480 with
      rounding: ``tick * 480 / PPQ``); format 2 is read as if its patterns played
      together (with a warning); SMPTE (frames per second) division is refused.
      A RIFF ``RMID`` wrapper is unpacked. Running status, sysex (F0/F7), every meta
      event, and chunks of unknown type are handled; variable-length numbers may
      have at most 4 bytes. Running status is kept across meta and sysex events
      (some writers rely on it; no valid file is read differently for it).
    * A truncated file (a chunk whose length field runs past the end of the file,
      an event cut short, fewer tracks than the header announces) raises
      :class:`~utagoe.errors.ScoreFormatError` naming the byte offset; with
      ``lenient`` what was read is kept and a warning says what was lost.
    * Notes: note-on with velocity 0 is a note-off; note-offs close the oldest open
      note of the same channel and key (FIFO). A sung track is monophonic: of notes
      starting together the highest is kept, and a note still sounding when the
      next starts is cut there. Zero-length notes are dropped. Channel 10 (drums,
      channel index 9) is never sung. A format-0 file with notes on several
      channels is split into one track per channel ("Channel N").
    * Tempo (FF 51), time signature (FF 58) and key signature (FF 59) events from
      every track make one tempo map (of events at the same tick the last in the
      file wins); without a tempo at tick 0 the SMF default of 120 bpm holds there.
      Track names come from FF 03 (default "Track N", N the 1-based number of the
      track chunk). The title is the first karaoke ``@T``, else the name of the
      first track where that track has no notes (format 1) or is the only one
      (format 0), unless it is a generic name such as "Master Track".
    * Lyrics: FF 05 lyric events. A file without any FF 05 but with Soft Karaoke
      markers (FF 01 texts ``@K`` ``@L`` ``@T`` ``@I`` ``@V`` ``@W``) takes its lyrics
      from the FF 01 texts of the track(s) holding ``@T``/``@L`` markers; markers are
      metadata (the first ``@T`` is the title), a leading ``\\`` or ``/`` (new
      paragraph / line) and surrounding punctuation (``lame,`` ``she!``) are
      stripped. Every lyric is stripped of surrounding whitespace and control
      characters; empty ones are ignored.
    * A lyric belongs to the note whose note-on is nearest to it, within
      ``PPQ // 48`` ticks of the file's own resolution (10 ticks at 480 PPQ, a
      little under a 128th-note triplet); a lyric that falls in a rest belongs to
      the note after the rest (karaoke files show words ahead of time). The first
      lyric that reaches a note wins; the others are listed in a warning.
      Lyrics that sit in a track without notes (a karaoke "Words" track, the
      conductor track, or the single track of a multi-channel format-0 file) go to
      the track whose note-ons coincide with most of them.
    * Lyric ``-`` (music21, OpenUtau, VOCALOID melisma mark), ``+``, ``+~`` and
      ``+*`` become :data:`~utagoe.model.CONTINUATION`. In a track that has lyrics,
      a note without a lyric continues the previous syllable (``+``), which is what
      music21-written files mean; notes before the track's first lyric are not
      sung (or sung on ``options.default_lyric`` where one is given). A track with
      notes and no lyrics at all follows the rule every reader shares
      (:func:`utagoe.formats.common.select_tracks`): sung on ``default_lyric``, else
      kept on :data:`~utagoe.model.score.NO_LYRIC` with
      ``keep_tracks_without_lyrics``, else left out with a warning; a file where no
      track has lyrics is refused, naming the tracks. Tracks are named by their
      ``--part`` number (the Nth track with notes), not by their chunk.
    * Encoding: SMF has no encoding field. The raw bytes of all text, name and
      lyric events are decoded with one encoding for the whole file: strict UTF-8
      (a BOM is dropped) when every event decodes, else the most plausible of
      Shift-JIS (cp932), GB18030/GBK, EUC-KR, cp1252 and latin-1, judged by how many
      decoded characters are kana, common hanzi, everyday hangul or Western
      letters rather than mojibake. A warning names the guess only when it was a
      close call or a weak one. ``options.encoding`` forces a codec.
    * VOCALOID ``.vsq`` data (INI text in FF 01 events ``DM:nnnn:``, Shift-JIS)
      is read: notes, lyrics and phonemes of each VSQ track. Positions are kept
      as the file has them, so the pre-measure (``PreMeasure``) stays a lead-in
      rest.

Writing (:func:`write`)
    SMF format 1 at 480 ticks per quarter: a conductor track (the title as its
    name, every tempo, time and key signature), then one track per project track
    with its name, a UTF-8 FF 05 lyric at each note-on (``+`` written as ``-``,
    which this reader and OpenUtau read as a continuation; a note without a lyric,
    NO_LYRIC, gets no lyric event), note-on velocity 100
    and note-off. Track ``i`` (0-based) uses channel ``i mod 15``, skipping the
    drum channel. Muted tracks are written too; overlapping notes are written as
    they are.

Everything above is bounded by :mod:`utagoe.formats.limits`; any input bytes
give a :class:`~utagoe.model.Project` or a :class:`~utagoe.errors.ScoreFormatError`.
"""
from __future__ import annotations

import bisect
import io
import re
import struct
import unicodedata
from collections import Counter, deque
from dataclasses import dataclass, field

from ..errors import ScoreFormatError
from ..model.score import (CONTINUATION, KeySignature, Note, Project, Tempo, TimeSignature,
                           Track)
from ..model.units import TICKS_PER_QUARTER
from . import limits
from .common import (NO_LYRIC, Problem, ReadContext, TrackDraft, check_size_and_content, finish,
                     tempo_list)
from .options import ReadOptions, check_encoding

#: events (of any kind) one file may hold; each costs time even when skipped
MAX_EVENTS = 4_000_000
#: text, name and lyric events one file may hold
MAX_TEXT_EVENTS = 2 * limits.MAX_NOTES
#: tempo, time- and key-signature events one file may hold
MAX_MAP_EVENTS = limits.MAX_NOTES
#: channel index (0-based) of General MIDI drums: never sung
DRUM_CHANNEL = 9
#: lyric-to-note tolerance: PPQ // this many ticks of the file's own resolution
LYRIC_TOLERANCE_DIVISOR = 48
#: the slowest tempo an SMF can hold (0xFFFFFF microseconds per quarter)
MIN_WRITABLE_BPM = 60_000_000 / 0xFFFFFF
#: velocity the writer gives every note
WRITE_VELOCITY = 100
#: VOCALOID VSQ text one track may hold, bytes
MAX_VSQ_TEXT = 16 * 1024 * 1024
#: loose lyrics looked at, all groups together, to choose the track they belong to
_ATTACH_SAMPLE = 4096
#: at most this many non-ASCII text bytes are looked at to guess the encoding
_DETECT_BYTES = 64 * 1024

_CONTINUATION_MARKS = frozenset({"-", "+", "+~", "+*"})
_KARAOKE_MARKERS = frozenset("KLTIVW")
_KARAOKE_PUNCTUATION = ",.!?;:\"'()"
_GENERIC_CONDUCTOR_NAMES = frozenset({"master track", "conductor", "conductor track",
                                      "tempo track", "tempo map", "system track", "tempo"})
_DM_RE = re.compile(rb"^DM:(\d{4}):")


# --------------------------------------------------------------------------------------
# Context: file name, strictness, warnings


class _Ctx(ReadContext):
    """Problems in a MIDI file are placed by byte offset."""

    __slots__ = ()
    by_offset = True


# --------------------------------------------------------------------------------------
# Raw containers filled while scanning


@dataclass(slots=True)
class _Text:
    tick: int            # file ticks
    kind: int            # meta type: 1 text, 3 track name, 5 lyric
    raw: bytes
    offset: int          # byte offset of the text in the file
    chunk: int           # 0-based index of its MTrk chunk
    seq: int             # file order
    text: str = ""       # decoded


@dataclass(slots=True)
class _Chunk:
    index: int                   # 0-based among MTrk chunks
    offset: int                  # byte offset of the chunk header
    #: closed notes: (start, end, channel, key, byte offset of the note-on), file ticks
    notes: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    texts: list[_Text] = field(default_factory=list)
    #: VOCALOID DM texts: (dm number, content, byte offset)
    dm: list[tuple[int, bytes, int]] = field(default_factory=list)
    end_tick: int = 0
    orphan_offs: int = 0
    unclosed: int = 0

    @property
    def number(self) -> int:
        return self.index + 1


class _State:
    """Counters and the tempo map shared by all tracks of one file."""

    __slots__ = ("ctx", "ppq", "max_raw_tick", "notes", "events", "texts", "seq",
                 "tempos", "times", "keys")

    def __init__(self, ctx: _Ctx, ppq: int) -> None:
        self.ctx = ctx
        self.ppq = ppq
        #: largest position (file ticks) that stays within limits.MAX_TICKS
        self.max_raw_tick = limits.MAX_TICKS * ppq // TICKS_PER_QUARTER
        self.notes = 0
        self.events = 0
        self.texts = 0
        self.seq = 0
        self.tempos: list[tuple[int, int, float]] = []          # (tick, seq, bpm)
        self.times: list[tuple[int, int, int, int]] = []        # (tick, seq, num, den)
        self.keys: list[tuple[int, int, int, str]] = []         # (tick, seq, fifths, mode)


# --------------------------------------------------------------------------------------
# Sniffing and the container


def sniff(head: bytes) -> bool:
    """Do these first bytes look like a Standard MIDI File (plain or RIFF RMID)?"""
    try:
        h = bytes(head[:4096])
        if h.startswith(b"MThd"):
            return True
        return h[:4] == b"RIFF" and h[8:12] == b"RMID"
    except Exception:  # a sniffer never raises
        return False


def _u32(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos:pos + 4], "big")


def _smf_span(data: bytes, ctx: _Ctx) -> tuple[int, int]:
    """Where the SMF starts and ends inside ``data`` (unwrapping RIFF RMID)."""
    if data[:4] != b"RIFF":
        return 0, len(data)
    if data[8:12] != b"RMID":
        raise ctx.error("a RIFF file but not RIFF MIDI (RMID); not a MIDI file", 8)
    pos = 12
    while pos + 8 <= len(data):
        cid = data[pos:pos + 4]
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        if cid == b"data":
            end = pos + 8 + size
            if end > len(data):
                ctx.problem(f"RMID data chunk says {size} bytes but the file ends "
                            f"{len(data) - pos - 8} bytes after it", pos)
                end = len(data)
            return pos + 8, end
        pos += 8 + size + (size & 1)
    raise ctx.error("RIFF MIDI (RMID) file without a 'data' chunk", 12)


def _header(data: bytes, start: int, stop: int, ctx: _Ctx) -> tuple[int, int, int, int]:
    """(format, announced tracks, ticks per quarter, offset after the header)."""
    if data[start:start + 4] != b"MThd":
        raise ctx.error("not a Standard MIDI File: it does not start with 'MThd'", start)
    if start + 14 > stop:
        raise ctx.error("the MIDI header is cut short (the file ends inside it)", start)
    hlen = _u32(data, start + 4)
    if hlen < 6:
        raise ctx.error(f"the MIDI header says it is {hlen} bytes long; it needs 6",
                        start + 4)
    fmt, ntrks, division = struct.unpack_from(">HHH", data, start + 8)
    after = start + 8 + hlen
    if after > stop:
        raise ctx.error(f"the MIDI header says it is {hlen} bytes long, past the end of "
                        "the file", start + 4)
    if division & 0x8000:
        fps = 256 - (division >> 8)
        raise ctx.error(f"SMPTE time division ({fps} frames per second, {division & 0xFF} "
                        "ticks per frame) is not supported; only ticks per quarter note",
                        start + 12)
    if division == 0:
        raise ctx.error("the MIDI header gives 0 ticks per quarter note", start + 12)
    if fmt > 2:
        ctx.problem(f"unknown SMF format {fmt} (known: 0, 1, 2); reading it as format 1",
                    start + 8)
        fmt = 1
    return fmt, ntrks, division, after


# --------------------------------------------------------------------------------------
# Scanning one track chunk


def _vlq(data: bytes, pos: int, end: int, what: str) -> tuple[int, int]:
    """A variable-length quantity (at most 4 bytes) at ``pos``: (value, next position)."""
    value = 0
    for _ in range(4):
        if pos >= end:
            raise Problem(f"{what} is cut short by the end of the track", pos)
        b = data[pos]
        pos += 1
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, pos
    raise Problem(f"{what} is longer than 4 bytes", pos - 4)


def _scan_track(data: bytes, body: int, end: int, chunk: _Chunk, st: _State) -> None:
    """Read the events of one MTrk chunk (``data[body:end]``) into ``chunk`` and ``st``."""
    ctx = st.ctx
    pos = body
    tick = 0
    running = 0
    max_tick = st.max_raw_tick
    event_limit = MAX_EVENTS - st.events
    note_limit = limits.MAX_NOTES - st.notes
    events = 0
    notes_on = 0
    notes = chunk.notes
    pending: dict[int, deque] = {}
    bad: Problem | None = None
    try:
        while pos < end:
            start = pos
            # delta time, at most 4 bytes
            b = data[pos]
            pos += 1
            if b < 0x80:
                tick += b
            else:
                delta, pos = _vlq(data, pos - 1, end, "delta time")
                tick += delta
            if tick > max_tick:
                raise ctx.error(f"track {chunk.number}: an event at tick "
                                f"{_to480(tick, st.ppq)} lies beyond the "
                                f"{limits.MAX_SONG_SECONDS // 3600}-hour limit of a song", start)
            events += 1
            if events > event_limit:
                raise ctx.error(f"more than {MAX_EVENTS} MIDI events; refusing a file this "
                                "large", start)
            if pos >= end:
                raise Problem("delta time without an event after it", start)
            status = data[pos]
            if status >= 0x80:
                pos += 1
                if status < 0xF0:
                    running = status
            elif running:
                status = running
            else:
                raise Problem(f"data byte 0x{status:02X} without a status byte before it", pos)

            if status < 0xF0:  # channel message
                hi = status & 0xF0
                if hi == 0xC0 or hi == 0xD0:
                    if pos >= end:
                        raise Problem("channel message cut short by the end of the track", start)
                    if data[pos] >= 0x80:
                        raise Problem(f"data byte expected, found 0x{data[pos]:02X}", pos)
                    pos += 1
                    continue
                if pos + 2 > end:
                    raise Problem("channel message cut short by the end of the track", start)
                key = data[pos]
                vel = data[pos + 1]
                if key >= 0x80 or vel >= 0x80:
                    raise Problem("data byte expected, found a status byte "
                                  f"(0x{max(key, vel):02X})", pos)
                pos += 2
                if hi == 0x90 and vel:
                    notes_on += 1
                    if notes_on > note_limit:
                        raise ctx.error(f"more than {limits.MAX_NOTES} notes; refusing a file "
                                        "this large", start)
                    k = ((status & 0x0F) << 7) | key
                    q = pending.get(k)
                    if q is None:
                        q = pending[k] = deque()
                    q.append((tick, start))
                elif hi == 0x80 or hi == 0x90:
                    q = pending.get((status & 0x0F) << 7 | key)
                    if q:
                        s, off = q.popleft()
                        notes.append((s, tick, status & 0x0F, key, off))
                    else:
                        chunk.orphan_offs += 1
                continue

            if status == 0xFF:  # meta event
                if pos >= end:
                    raise Problem("meta event cut short by the end of the track", start)
                mtype = data[pos]
                length, pos = _vlq(data, pos + 1, end, "meta event length")
                if pos + length > end:
                    raise Problem(f"meta event (type 0x{mtype:02X}) of {length} bytes runs past "
                                  "the end of the track", start)
                payload = pos
                pos += length
                if mtype == 0x2F:
                    break
                if mtype in (0x01, 0x03, 0x05):
                    _text_event(data, payload, pos, mtype, tick, chunk, st)
                elif mtype in (0x51, 0x58, 0x59):
                    _map_event(data, payload, pos, mtype, tick, start, chunk, st)
                continue

            if status == 0xF0 or status == 0xF7:  # sysex, or escaped bytes
                length, pos = _vlq(data, pos, end, "sysex length")
                if pos + length > end:
                    raise Problem(f"sysex of {length} bytes runs past the end of the track",
                                  start)
                pos += length
                continue
            raise Problem(f"status byte 0x{status:02X} (a real-time or system common message) "
                          "cannot appear in a MIDI file", pos - 1)
    except Problem as e:
        bad = e
    finally:
        st.events += events
        st.notes += notes_on
    chunk.end_tick = tick
    _close_pending(pending, tick, chunk)
    if bad is not None:
        ctx.problem(f"track {chunk.number}: {bad.message}"
                    + ("; the rest of this track is skipped" if ctx.lenient else ""),
                    bad.at)


def _close_pending(pending: dict[int, deque], tick: int, chunk: _Chunk) -> None:
    """Notes never released end where the track ends."""
    for k, q in pending.items():
        for s, off in q:
            chunk.notes.append((s, tick, k >> 7, k & 0x7F, off))
            chunk.unclosed += 1


def _text_event(data: bytes, a: int, b: int, mtype: int, tick: int, chunk: _Chunk,
                st: _State) -> None:
    raw = data[a:b]
    if mtype == 0x01:
        m = _DM_RE.match(raw)
        if m:
            chunk.dm.append((int(m.group(1)), raw[8:], a))
            return
    st.texts += 1
    if st.texts > MAX_TEXT_EVENTS:
        raise st.ctx.error(f"more than {MAX_TEXT_EVENTS} text and lyric events; refusing a "
                           "file this large", a)
    st.seq += 1
    chunk.texts.append(_Text(tick=tick, kind=mtype, raw=raw, offset=a, chunk=chunk.index,
                             seq=st.seq))


def _map_event(data: bytes, a: int, b: int, mtype: int, tick: int, start: int,
               chunk: _Chunk, st: _State) -> None:
    """Tempo (51), time signature (58) and key signature (59) meta events."""
    ctx = st.ctx
    if len(st.tempos) + len(st.times) + len(st.keys) >= MAX_MAP_EVENTS:
        raise ctx.error(f"more than {MAX_MAP_EVENTS} tempo and signature events; refusing "
                        "a file this large", start)
    st.seq += 1
    where = f"track {chunk.number}"
    if mtype == 0x51:
        if b - a != 3:
            ctx.problem(f"{where}: tempo event of {b - a} bytes (it needs 3); ignored", start)
            return
        us = int.from_bytes(data[a:b], "big")
        if us == 0:
            ctx.problem(f"{where}: tempo of 0 microseconds per quarter note; ignored", start)
            return
        bpm = round(60_000_000 / us, 3)   # microsecond steps: 3 decimals say it all
        if not limits.bpm_ok(bpm):
            ctx.problem(f"{where}: tempo of {us} microseconds per quarter note ({bpm:.6g} "
                        f"bpm) is outside {limits.MIN_BPM:g}-{limits.MAX_BPM:g} bpm; ignored",
                        start)
            return
        st.tempos.append((tick, st.seq, bpm))
    elif mtype == 0x58:
        if b - a < 2:
            ctx.problem(f"{where}: time signature event of {b - a} bytes (it needs 4); "
                        "ignored", start)
            return
        num, dd = data[a], data[a + 1]
        if num < 1 or dd > 7:
            ctx.problem(f"{where}: time signature {num}/2^{dd} is not valid; ignored", start)
            return
        st.times.append((tick, st.seq, num, 1 << dd))
    else:
        if b - a < 2:
            ctx.problem(f"{where}: key signature event of {b - a} bytes (it needs 2); "
                        "ignored", start)
            return
        sf = data[a] - 256 if data[a] >= 128 else data[a]
        mi = data[a + 1]
        if not -7 <= sf <= 7 or mi > 1:
            ctx.problem(f"{where}: key signature ({sf} sharps, mode {mi}) is not valid; "
                        "ignored", start)
            return
        st.keys.append((tick, st.seq, sf, "minor" if mi else "major"))


def _scan_chunks(data: bytes, pos: int, stop: int, ntrks: int, st: _State) -> list[_Chunk]:
    """Every MTrk chunk from ``pos``; other chunk types are skipped."""
    ctx = st.ctx
    chunks: list[_Chunk] = []
    while pos + 8 <= stop:
        cid = data[pos:pos + 4]
        clen = _u32(data, pos + 4)
        body = pos + 8
        end = body + clen
        if cid == b"MTrk":
            if len(chunks) >= limits.MAX_TRACKS:
                raise ctx.error(f"more than {limits.MAX_TRACKS} tracks; refusing", pos)
            chunk = _Chunk(index=len(chunks), offset=pos)
            chunks.append(chunk)
            if end > stop:
                ctx.problem(f"track {chunk.number} says it is {clen} bytes long but the file "
                            f"ends {stop - body} bytes into it (truncated file?)"
                            + ("; keeping what is there" if ctx.lenient else ""), pos + 4)
                end = stop
            _scan_track(data, body, end, chunk, st)
        else:
            printable = all(0x20 <= c < 0x7F for c in cid)
            if not printable or end > stop:
                if len(chunks) >= ntrks:
                    ctx.warn(f"{stop - pos} bytes of trailing data after the last track "
                             "ignored", pos)
                    return chunks
                ctx.problem(f"expected a track chunk ('MTrk'), found {bytes(cid)!r}"
                            + ("; the rest of the file is skipped" if ctx.lenient else ""),
                            pos)
                return chunks
        pos = end
    if pos < stop and len(chunks) < ntrks:
        ctx.problem(f"the file ends inside a chunk header ({stop - pos} bytes)", pos)
    elif pos < stop:
        ctx.warn(f"{stop - pos} bytes of trailing data after the last track ignored", pos)
    return chunks


# --------------------------------------------------------------------------------------
# Encodings


def _plausible_ja(ch: str) -> float:
    o = ord(ch)
    if 0x3040 <= o <= 0x30FF or 0x3000 <= o <= 0x303F or 0xFF01 <= o <= 0xFF5E:
        return 1.0
    if 0x4E00 <= o <= 0x9FFF:
        try:
            lead = ch.encode("cp932")[0]
        except UnicodeEncodeError:
            return 0.2
        return 1.0 if 0x88 <= lead <= 0x98 else 0.6   # JIS level 1 kanji are common
    if 0xFF61 <= o <= 0xFF9F:                         # halfwidth katakana: usually mojibake
        return 0.1
    return 0.0


def _plausible_zh(ch: str) -> float:
    o = ord(ch)
    if 0x3000 <= o <= 0x303F or 0xFF01 <= o <= 0xFF5E:
        return 1.0
    if 0x4E00 <= o <= 0x9FFF:
        try:
            code = ch.encode("gb2312")
        except UnicodeEncodeError:
            return 0.3                                # outside GB2312: rare hanzi
        if code[0] >= 0xD8:
            return 0.7                                # GB2312 level 2
        # Korean EUC-KR hangul decode as level-1 hanzi with lead bytes B0..C8 only; real
        # Chinese text also uses C9..D7, so those earn more
        return 0.75 if code[0] <= 0xC8 else 1.0
    if 0x3040 <= o <= 0x30FF:
        return 0.3
    return 0.0


#: hangul final consonants (jongseong index) common in everyday Korean
_COMMON_FINALS = frozenset({0, 1, 4, 8, 16, 17, 19, 20, 21})   # none, ㄱ ㄴ ㄹ ㅁ ㅂ ㅅ ㅆ ㅇ


def _plausible_ko(ch: str) -> float:
    o = ord(ch)
    if 0xAC00 <= o <= 0xD7A3:
        # real Korean mostly has syllables without a final or with a common one; hangul
        # decoded from other encodings' bytes are spread over every final
        return 1.0 if (o - 0xAC00) % 28 in _COMMON_FINALS else 0.3
    if 0x3000 <= o <= 0x303F or 0xFF01 <= o <= 0xFF5E:
        return 1.0
    if 0x4E00 <= o <= 0x9FFF:
        return 0.2                                    # hanja: rare in lyrics
    return 0.0


def _plausible_western(ch: str, prev: str) -> float:
    if unicodedata.category(ch).startswith("L"):
        # accented letters sit between ASCII letters; runs of them are mojibake
        return 1.0 if prev < "\x80" else 0.25
    if ch in "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00a0\u00bf\u00a1":
        return 0.8 if prev < "\x80" else 0.2
    return 0.0


_DETECT = (("cp932", "Shift-JIS"), ("gb18030", "GBK/GB18030"), ("euc_kr", "EUC-KR"),
           ("cp1252", "Windows-1252"), ("latin-1", "Latin-1"))


def _score(codec: str, texts: list[str]) -> float:
    total = 0.0
    count = 0
    for t in texts:
        prev = ""
        for ch in t:
            if ch >= "\x80":
                count += 1
                if codec == "cp932":
                    total += _plausible_ja(ch)
                elif codec == "gb18030":
                    total += _plausible_zh(ch)
                elif codec == "euc_kr":
                    total += _plausible_ko(ch)
                else:
                    total += _plausible_western(ch, prev)
            prev = ch
    return total / count if count else 0.0


def _detect_encoding(raws: list[bytes]) -> tuple[str, str | None]:
    """The codec to decode every text of the file with, and a warning if it was a guess."""
    high = [r for r in raws if not r.isascii()]
    if not high:
        return "utf-8", None
    try:
        for r in high:
            r.decode("utf-8")
        return "utf-8", None
    except UnicodeDecodeError:
        pass
    sample: list[bytes] = []
    size = 0
    for r in high:
        sample.append(r)
        size += len(r)
        if size > _DETECT_BYTES:
            break
    scored: list[tuple[float, int, str, str]] = []
    for rank, (codec, label) in enumerate(_DETECT):
        if codec == "latin-1" and any(c == "cp1252" for _, _, c, _ in scored):
            continue  # the same letters as cp1252; only its fallback
        try:
            texts = [r.decode(codec) for r in sample]
        except UnicodeDecodeError:
            continue
        scored.append((_score(codec, texts), -rank, codec, label))
    scored.sort(reverse=True)
    best_score, _, codec, label = scored[0]   # latin-1 always decodes
    note = None
    if best_score < 0.5:
        note = (f"cannot tell the encoding of the lyrics and texts; decoded them as {label} "
                "(give the encoding, e.g. --encoding cp932, to choose another)")
    elif len(scored) > 1 and scored[1][0] > best_score - 0.1:
        note = (f"the lyrics' encoding is a guess: {label} (next best: {scored[1][3]}); "
                "give the encoding, e.g. --encoding cp932, if the lyrics look wrong")
    return codec, note


def _decode_all(texts: list[_Text], options: ReadOptions, ctx: _Ctx) -> None:
    """Decode every text event in place with one encoding (forced or detected)."""
    forced = options.encoding
    if forced is not None:
        codec = check_encoding(forced)
    else:
        codec, note = _detect_encoding([t.raw for t in texts])
        if note:
            ctx.warn(note)
    for t in texts:
        t.text = _decode(t.raw, codec, t.offset, ctx)


def _decode(raw: bytes, codec: str, offset: int, ctx: _Ctx) -> str:
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as e:
        where = offset + max(0, min(e.start, len(raw)))
        ctx.problem(f"text {raw[:40]!r} cannot be decoded as {codec} ({e.reason})"
                    + ("; undecodable bytes replaced" if ctx.lenient else ""), where)
        text = raw.decode(codec, errors="replace")
    except Exception as e:  # a codec that misbehaves on these bytes
        raise ctx.error(f"cannot decode text with {codec}: {e}", offset) from None
    if not isinstance(text, str):
        raise ctx.error(f"{codec} is not a text encoding", offset)
    return text[1:] if text.startswith("\ufeff") else text


# --------------------------------------------------------------------------------------
# Lyrics


def _clean_text(text: str) -> str:
    """Control characters to spaces, runs of whitespace to one space, ends stripped."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _clean_lyric(text: str, karaoke: bool) -> str | None:
    """A lyric as sung: None when empty; continuation marks become ``+``."""
    t = _clean_text(text)
    if karaoke:
        # "\\" new paragraph, "/" new line; punctuation is there to be read, not sung
        t = t.lstrip("\\/").strip().strip(_KARAOKE_PUNCTUATION).strip()
    if not t:
        return None
    if t in _CONTINUATION_MARKS:
        return CONTINUATION
    return t


@dataclass(slots=True)
class _Lyric:
    tick: int
    text: str
    offset: int
    own: bool            # from the track's own chunk (wins over attached lyrics)
    seq: int


def _karaoke_marker(text: str) -> str | None:
    t = text.lstrip()
    if len(t) >= 2 and t[0] == "@" and t[1] in _KARAOKE_MARKERS:
        return t[1]
    return None


# --------------------------------------------------------------------------------------
# Logical tracks: what may be sung


#: a note of a logical track: (start, end, key, byte offset, lyric or None, phonemes)
_LogicalNote = tuple[int, int, int, int, str | None, tuple[str, ...]]


@dataclass(slots=True)
class _Logical:
    number: int                     # 1-based number of its MTrk chunk
    chunk: int                      # 0-based chunk index
    name: str
    #: (start, end, key, byte offset, lyric or None, phonemes), file ticks
    notes: list[_LogicalNote]
    lyrics: list[_Lyric] = field(default_factory=list)
    fixed_lyrics: bool = False      # VSQ: lyrics came with the notes
    placed: int = 0                 # lyrics that landed on notes
    chords_dropped: int = 0
    too_short: int = 0
    #: its --part number: 1-based among the tracks with notes (0 until known)
    part: int = 0
    #: warnings about its notes, shown if the track is kept (see TrackDraft.notices)
    notices: list[tuple[str, int | None]] = field(default_factory=list)

    def describe(self) -> str:
        return f"track {self.name!r} (--part {self.part})"


def _monophonic(notes: list) -> tuple[list, int, int]:
    """Highest of notes starting together; each note cut where the next starts.

    Returns (notes, chord notes dropped, zero-length notes dropped).
    """
    ordered = sorted((n for n in notes if n[1] > n[0]), key=lambda n: (n[0], -n[2], n[3]))
    zero = len(notes) - len(ordered)
    out: list = []
    dropped = 0
    for n in ordered:
        if out:
            last = out[-1]
            if last[0] == n[0]:
                dropped += 1
                continue
            if last[1] > n[0]:
                out[-1] = (last[0], n[0]) + last[2:]
        out.append(n)
    return out, dropped, zero


def _target(starts: list[int], ends: list[int], tick: int, tol: int) -> int | None:
    """The note a lyric at ``tick`` belongs to: the nearest note-on within ``tol``, else
    (a lyric shown ahead of its note, as karaoke files do) the note after the rest the
    lyric falls in."""
    i = _nearest(starts, tick, tol)
    if i is not None:
        return i
    i = bisect.bisect_left(starts, tick)
    if i < len(starts) and (i == 0 or ends[i - 1] <= tick):
        return i
    return None


def _nearest(starts: list[int], tick: int, tol: int) -> int | None:
    """Index of the note-on nearest ``tick`` within ``tol`` (a later one wins ties)."""
    i = bisect.bisect_left(starts, tick)
    best = None
    if i < len(starts) and starts[i] - tick <= tol:
        best = i
    if i > 0 and tick - starts[i - 1] <= tol:
        if best is None or tick - starts[i - 1] < starts[best] - tick:
            best = i - 1
    return best


def _place_lyrics(track: _Logical, tol: int, ppq: int, ctx: _Ctx) -> None:
    """Give each note the first lyric that reaches it; warn about the others."""
    if track.fixed_lyrics or not track.lyrics:
        return
    starts = [n[0] for n in track.notes]
    ends = [n[1] for n in track.notes]
    lyric_of: list[str | None] = [None] * len(starts)
    unplaced: list[_Lyric] = []
    extra: list[_Lyric] = []
    for ly in sorted(track.lyrics, key=lambda ly: (ly.tick, not ly.own, ly.seq)):
        i = _target(starts, ends, ly.tick, tol)
        if i is None:
            unplaced.append(ly)
        elif lyric_of[i] is None:
            lyric_of[i] = ly.text
        else:
            extra.append(ly)
    track.notes = [n[:4] + (lyric_of[i], n[5]) for i, n in enumerate(track.notes)]
    track.placed = sum(1 for x in lyric_of if x is not None)
    if unplaced:
        ctx.warn(f"{track.describe()}: {len(unplaced)} lyric(s) fall on no note start and "
                 f"are not sung: {_examples(unplaced, ppq)}", unplaced[0].offset)
    if extra:
        ctx.warn(f"{track.describe()}: {len(extra)} lyric(s) on a note that already has one "
                 f"are ignored: {_examples(extra, ppq)}", extra[0].offset)


def _examples(lyrics: list[_Lyric], ppq: int) -> str:
    shown = ", ".join(f"{ly.text!r} at tick {_to480(ly.tick, ppq)}" for ly in lyrics[:3])
    return shown + (", ..." if len(lyrics) > 3 else "")


def _chunk_name(chunk: _Chunk) -> str:
    for t in chunk.texts:
        if t.kind == 0x03:
            name = _clean_text(t.text)
            if name:
                return name
    return ""


def _logical_tracks(chunks: list[_Chunk], fmt: int, ctx: _Ctx) -> list[_Logical]:
    """The tracks that could be sung: notes off the drum channel, by chunk (or channel)."""
    out: list[_Logical] = []
    for ch in chunks:
        if ch.orphan_offs:
            ctx.warn(f"track {ch.number}: {ch.orphan_offs} note-off(s) without a sounding "
                     "note ignored", ch.offset)
        if ch.unclosed:
            ctx.warn(f"track {ch.number}: {ch.unclosed} note(s) never released end where the "
                     "track ends", ch.offset)
        name = _chunk_name(ch) or f"Track {ch.number}"
        drums = sum(1 for n in ch.notes if n[2] == DRUM_CHANNEL)
        if drums:
            what = "all its notes are" if drums == len(ch.notes) else f"{drums} notes are"
            ctx.warn(f"track {ch.number} {name!r}: {what} on the drum channel (10) and not "
                     "sung", ch.offset)
        sung: list[_LogicalNote] = [(s, e, k, off, None, ()) for s, e, c, k, off in ch.notes
                                    if c != DRUM_CHANNEL]
        if not sung:
            continue
        channels = sorted({n[2] for n in ch.notes if n[2] != DRUM_CHANNEL})
        if fmt == 0 and len(channels) > 1:
            for c in channels:
                of_channel: list[_LogicalNote] = [(s, e, k, off, None, ())
                                                  for s, e, cc, k, off in ch.notes if cc == c]
                out.append(_Logical(number=ch.number, chunk=ch.index, name=f"Channel {c + 1}",
                                    notes=of_channel))
        else:
            out.append(_Logical(number=ch.number, chunk=ch.index, name=name, notes=sung))
    return out


def _attach_lyrics(tracks: list[_Logical], lyrics: list[_Text], karaoke: bool,
                   chunks: list[_Chunk], tol: int, ctx: _Ctx) -> None:
    """Each lyric event to its own track, or (from a note-less chunk) to the best match."""
    per_chunk = Counter(t.chunk for t in tracks)
    own_chunk = {t.chunk: t for t in tracks if per_chunk[t.chunk] == 1 and not t.fixed_lyrics}
    loose: dict[int, list[_Lyric]] = {}
    for ev in lyrics:
        text = _clean_lyric(ev.text, karaoke)
        if text is None:
            continue
        target = own_chunk.get(ev.chunk)
        if target is not None:
            target.lyrics.append(_Lyric(ev.tick, text, ev.offset, True, ev.seq))
        else:
            loose.setdefault(ev.chunk, []).append(_Lyric(ev.tick, text, ev.offset, False,
                                                         ev.seq))
    if not loose:
        return
    candidates = [t for t in tracks if not t.fixed_lyrics]
    # every note-on of every candidate, in one sorted list: (start, candidate index)
    onsets = sorted((n[0], k) for k, t in enumerate(candidates) for n in t.notes)
    ticks = [o[0] for o in onsets]
    share = max(16, _ATTACH_SAMPLE // len(loose))
    for chunk_index, group in loose.items():
        hits: Counter = Counter()
        for ly in group[:share]:
            lo = bisect.bisect_left(ticks, ly.tick - tol)
            hi = min(bisect.bisect_right(ticks, ly.tick + tol), lo + 64)
            hits.update({onsets[j][1] for j in range(lo, hi)})
        where = f"track {chunk_index + 1} {(_chunk_name(chunks[chunk_index]) or '')!r}"
        if not hits:
            ctx.warn(f"{len(group)} lyric(s) in {where} fall on no note of any track and are "
                     "not sung", group[0].offset)
            continue
        best = min(hits, key=lambda k: (-hits[k], k))   # most hits; the first track on ties
        candidates[best].lyrics.extend(group)


# --------------------------------------------------------------------------------------
# VOCALOID .vsq (INI text in DM:nnnn: text events)


def _vsq_track(chunk: _Chunk, st: _State, options: ReadOptions) -> _Logical | None:
    """Notes and lyrics of a VSQ track; None when its text holds no notes."""
    ctx = st.ctx
    parts = sorted(chunk.dm, key=lambda p: p[0])
    raw = b"".join(p[1] for p in parts)
    where = f"track {chunk.number} (VOCALOID VSQ text)"
    if len(raw) > MAX_VSQ_TEXT:
        raise ctx.error(f"{where} is {len(raw) / 2**20:.1f} MiB; the limit is "
                        f"{MAX_VSQ_TEXT // 2**20} MiB", chunk.offset)
    codec = check_encoding(options.encoding) if options.encoding else "cp932"
    text = _decode(raw, codec, parts[0][2], ctx)
    sections: dict[str, dict[str, str]] = {}
    events: list[tuple[str, str]] = []
    current: dict[str, str] | None = None
    in_events = False
    bad_lines: list[int] = []
    for lineno, line in enumerate(io.StringIO(text), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1]
            in_events = name == "EventList"
            keep = name == "Common" or name.startswith(("ID#", "h#"))
            current = sections.setdefault(name, {}) if keep else None
            continue
        key, sep, value = line.partition("=")
        if not sep:
            bad_lines.append(lineno)
        elif in_events:
            events.append((key.strip(), value.strip()))
        elif current is not None:
            current[key.strip()] = value.strip()
    if bad_lines:
        ctx.problem(f"{where}: {len(bad_lines)} line(s) are not key=value (line "
                    f"{bad_lines[0]} first)", parts[0][2])
    notes: list = []
    problems: list[str] = []
    for tick_text, ids in events:
        for ident in ids.split(","):
            ident = ident.strip()
            if ident == "EOS":
                continue
            ev = sections.get(ident)
            if ev is None:
                problems.append(f"the event list names {ident!r}, which has no section")
                continue
            if ev.get("Type") != "Anote":
                continue
            tick = _vsq_int(tick_text, f"position of {ident}", 0, st.max_raw_tick, problems)
            length = _vsq_int(ev.get("Length", ""), f"Length of {ident}", 0, st.max_raw_tick,
                              problems)
            pitch = _vsq_int(ev.get("Note#", ""), f"Note# of {ident}", limits.MIN_PITCH,
                             limits.MAX_PITCH, problems)
            if tick is None or length is None or pitch is None:
                continue
            if tick + length > st.max_raw_tick:
                raise ctx.error(f"{where}: note {ident} ends beyond the "
                                f"{limits.MAX_SONG_SECONDS // 3600}-hour limit of a song",
                                chunk.offset)
            st.notes += 1
            if st.notes > limits.MAX_NOTES:
                raise ctx.error(f"more than {limits.MAX_NOTES} notes; refusing a file this "
                                "large", chunk.offset)
            lyric, phonemes = _vsq_lyric(sections.get(ev.get("LyricHandle", ""), {}))
            notes.append((tick, tick + length, pitch, parts[0][2], lyric, phonemes))
    if problems:
        ctx.problem(f"{where}: {len(problems)} bad note event(s), the first: {problems[0]}"
                    + ("; they are skipped" if ctx.lenient else ""), parts[0][2])
    if not notes:
        return None
    name = _clean_text(sections.get("Common", {}).get("Name", "")) or _chunk_name(chunk) \
        or f"Track {chunk.number}"
    return _Logical(number=chunk.number, chunk=chunk.index, name=name, notes=notes,
                    fixed_lyrics=True, placed=sum(1 for n in notes if n[4]))


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _vsq_int(text: str, what: str, lo: int, hi: int, problems: list[str]) -> int | None:
    t = text.strip()
    if not (t.isascii() and t.lstrip("-").isdigit() and len(t) <= 12):
        problems.append(f"{what} is not a whole number: {t[:40]!r}")
        return None
    v = int(t)
    if not lo <= v <= hi:
        problems.append(f"{what} {v} is outside {lo}..{hi}")
        return None
    return v


def _vsq_lyric(handle: dict[str, str]) -> tuple[str | None, tuple[str, ...]]:
    """``L0="ど","d o",...`` -> ("ど", ("d", "o"))."""
    quoted = _QUOTED.findall(handle.get("L0", ""))
    if not quoted:
        return None, ()
    lyric = _clean_lyric(quoted[0], False)
    phonemes = tuple(quoted[1].split()) if len(quoted) > 1 else ()
    return lyric, phonemes[:64]


# --------------------------------------------------------------------------------------
# Maps and title


def _to480(tick: int, ppq: int) -> int:
    """File ticks to 480 per quarter, rounding halves up."""
    return (tick * 2 * TICKS_PER_QUARTER + ppq) // (2 * ppq)


def _by_tick(events, ppq: int, make) -> list:
    """``make(tick, *values)`` for each ``(tick, seq, *values)`` in file order, at 480
    ticks per quarter; of events on the same tick the last in the file wins."""
    out: list = []
    for tick, _seq, *values in sorted(events):
        item = make(_to480(tick, ppq), *values)
        if out and out[-1].tick == item.tick:
            out[-1] = item
        else:
            out.append(item)
    return out


def _tempo_map(st: _State) -> tuple[Tempo, ...]:
    """Every tempo event (file order within a tick: the last wins); the SMF default of
    120 bpm holds before the first."""
    changes = [(_to480(tick, st.ppq), bpm, None) for tick, _seq, bpm in sorted(st.tempos)]
    return tempo_list(changes, st.ctx, start="default", drop_repeats=False, warn_start=False,
                      warn_missing=False)


def _time_map(st: _State) -> tuple[TimeSignature, ...]:
    out = _by_tick(st.times, st.ppq, TimeSignature)
    if not out or out[0].tick != 0:
        out.insert(0, TimeSignature(0, 4, 4))
    return tuple(out)


def _key_map(st: _State) -> tuple[KeySignature, ...]:
    out = _by_tick(st.keys, st.ppq, KeySignature)
    if not out:
        return (KeySignature(0),)
    if out[0].tick != 0:
        out.insert(0, KeySignature(0, out[0].fifths, out[0].mode))
    return tuple(out)


def _title(chunks: list[_Chunk], fmt: int, karaoke_title: str | None) -> str:
    if karaoke_title:
        return karaoke_title
    if not chunks:
        return ""
    first = chunks[0]
    if fmt == 0 or not any(n[2] != DRUM_CHANNEL for n in first.notes):
        name = _chunk_name(first)
        if name and name.lower() not in _GENERIC_CONDUCTOR_NAMES:
            return name
    return ""


# --------------------------------------------------------------------------------------
# What is sung


def _sung_notes(t: _Logical, ppq: int, default_lyric: str | None) -> list[Note]:
    """The track's notes at 480 per quarter, with their lyrics. In a track with lyrics a
    note without one continues the syllable before it; notes before the first lyric
    are sung on ``default_lyric``, else left out. A track without lyrics keeps its
    notes on NO_LYRIC (:func:`~utagoe.formats.common.select_tracks` decides)."""
    out: list[Note] = []
    has_lyrics = t.placed > 0
    seen_lyric = False
    before_first = 0
    for i, (s, e, key, off, lyric, phonemes) in enumerate(t.notes):
        a, b = _to480(s, ppq), _to480(e, ppq)
        if b <= a:
            t.too_short += 1
            continue
        if lyric is not None:
            seen_lyric = True
        elif not has_lyrics:
            lyric = NO_LYRIC
        elif seen_lyric:
            lyric = CONTINUATION
        elif default_lyric:
            lyric = default_lyric
        else:
            before_first += 1
            continue
        out.append(Note(start_ticks=a, duration_ticks=b - a, pitch=key, lyric=lyric,
                        source=f"note {i + 1} of track {t.number} {t.name!r} (byte {off})",
                        phonemes=phonemes))
    if t.chords_dropped:
        t.notices.append((f"{t.chords_dropped} note(s) starting together with a higher note "
                          "dropped (a sung track is monophonic)", None))
    if t.too_short:
        t.notices.append((f"{t.too_short} note(s) shorter than one tick at 480 per quarter "
                          "dropped", None))
    if before_first:
        t.notices.append((f"{before_first} note(s) before the first lyric are not sung (give "
                          "--default-lyric to sing them)", None))
    return out


# --------------------------------------------------------------------------------------
# Reading


def read(data: bytes, *, path: str | None = None,
         options: ReadOptions | None = None) -> Project:
    """Read a Standard MIDI File (bytes) into a Project; see the module docstring.

    ``path`` only names the file in messages and becomes ``Project.source_path``.
    Raises :class:`~utagoe.errors.ScoreFormatError` for anything it cannot read.
    """
    options = options or ReadOptions()
    ctx = _Ctx(path, options.lenient)
    try:
        data = bytes(data)
    except Exception:
        raise ctx.error("MIDI data must be bytes") from None
    check_size_and_content(data, ctx, blank=b"")
    default_lyric = _clean_lyric(options.default_lyric, False) if options.default_lyric \
        else None

    start, stop = _smf_span(data, ctx)
    fmt, ntrks, ppq, pos = _header(data, start, stop, ctx)
    st = _State(ctx, ppq)
    chunks = _scan_chunks(data, pos, stop, ntrks, st)
    if len(chunks) < ntrks:
        ctx.problem(f"the header announces {ntrks} tracks but the file holds {len(chunks)} "
                    "(truncated file?)", stop)
    elif len(chunks) > ntrks:
        ctx.warn(f"the header announces {ntrks} tracks but the file holds {len(chunks)}; "
                 "reading them all", start + 10)
    if fmt == 2:
        ctx.warn("SMF format 2 (independent patterns): the tracks are read as if they all "
                 "started together")
    if fmt == 0 and len(chunks) > 1:
        ctx.warn(f"SMF format 0 should hold one track, this one holds {len(chunks)}; "
                 "reading it as format 1")
        fmt = 1

    texts = [t for ch in chunks for t in ch.texts]
    _decode_all(texts, options, ctx)

    # which events are lyrics
    karaoke = False
    karaoke_title: str | None = None
    markers: dict[int, set[str]] = {}
    for t in texts:
        if t.kind == 0x01:
            m = _karaoke_marker(t.text)
            if m:
                markers.setdefault(t.chunk, set()).add(m)
                if m == "T" and karaoke_title is None:
                    karaoke_title = _clean_text(t.text.lstrip()[2:]) or None
    lyric_events = [t for t in texts if t.kind == 0x05]
    if markers and not any(_clean_lyric(t.text, False) for t in lyric_events):
        karaoke = True
        words = {c for c, ms in markers.items() if ms & {"T", "L"}} or set(markers)
        lyric_events = [t for t in texts if t.kind == 0x01 and t.chunk in words
                        and _karaoke_marker(t.text) is None]

    tracks = _logical_tracks(chunks, fmt, ctx)
    for ch in chunks:
        if ch.dm:
            vsq = _vsq_track(ch, st, options)
            if vsq is not None:
                tracks = [lt for lt in tracks if lt.chunk != ch.index]
                tracks.append(vsq)
    tracks.sort(key=lambda lt: lt.chunk)   # stable: channels of a format-0 file stay in order
    tol = ppq // LYRIC_TOLERANCE_DIVISOR
    for lt in tracks:
        lt.notes, lt.chords_dropped, zero = _monophonic(lt.notes)
        if zero:
            lt.notices.append((f"{zero} zero-length note(s) dropped", None))
    tracks = [lt for lt in tracks if lt.notes]
    for number, lt in enumerate(tracks, 1):
        lt.part = number
    _attach_lyrics(tracks, lyric_events, karaoke, chunks, tol, ctx)
    for lt in tracks:
        _place_lyrics(lt, tol, ppq, ctx)

    if not tracks and any(c.notes for c in chunks):
        message = "the file has no notes outside the drum channel (10), which is never sung"
        if not options.keep_tracks_without_lyrics:
            raise ctx.fatal(message)
        ctx.warn(message)
    drafts = [TrackDraft(name=lt.name, notes=_sung_notes(lt, ppq, default_lyric),
                         notices=lt.notices) for lt in tracks]
    return finish(ctx, drafts, options, tempos=_tempo_map(st), time_signatures=_time_map(st),
                  key_signatures=_key_map(st), title=_title(chunks, fmt, karaoke_title))


# --------------------------------------------------------------------------------------
# Writing


def _wvlq(value: int) -> bytes:
    """A variable-length quantity (value < 2**28)."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _meta(mtype: int, payload: bytes) -> bytes:
    return bytes((0xFF, mtype)) + _wvlq(len(payload)) + payload


def _werror(message: str) -> ScoreFormatError:
    return ScoreFormatError(f"cannot write MIDI: {message}")


def _track_chunk(events: list[tuple[int, int, int, bytes]]) -> bytes:
    """An MTrk chunk from (tick, priority, order, event bytes), ending with End of Track."""
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    body = bytearray()
    last = 0
    for tick, _p, _o, ev in events:
        body += _wvlq(tick - last)
        body += ev
        last = tick
    body += b"\x00\xff\x2f\x00"
    return b"MTrk" + len(body).to_bytes(4, "big") + bytes(body)


def _check_tick(tick: object, what: str) -> int:
    if isinstance(tick, bool) or not isinstance(tick, int):
        raise _werror(f"{what} must be a whole number of ticks, not {tick!r:.60}")
    if not 0 <= tick <= limits.MAX_TICKS:
        raise _werror(f"{what} {tick} is outside 0..{limits.MAX_TICKS}")
    return tick


def _text_bytes(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise _werror(f"{what} must be text, not {type(text).__name__}")
    return text.encode("utf-8", errors="replace")


def _conductor(project: Project) -> bytes:
    events: list[tuple[int, int, int, bytes]] = []
    if project.title:
        events.append((0, 0, 0, _meta(0x03, _text_bytes(project.title, "title"))))
    for i, ts in enumerate(project.time_signatures):
        tick = _check_tick(ts.tick, "time signature position")
        num, den = ts.numerator, ts.denominator
        if not (isinstance(num, int) and isinstance(den, int) and 1 <= num <= 255
                and 1 <= den <= 128 and den & (den - 1) == 0):
            raise _werror(f"time signature {num}/{den} at tick {tick} cannot be written "
                          "(numerator 1-255, denominator a power of two up to 128)")
        events.append((tick, 1, i, _meta(0x58, bytes((num, den.bit_length() - 1, 24, 8)))))
    for i, ks in enumerate(project.key_signatures):
        tick = _check_tick(ks.tick, "key signature position")
        if not (isinstance(ks.fifths, int) and -7 <= ks.fifths <= 7):
            raise _werror(f"key signature with {ks.fifths} fifths at tick {tick}")
        events.append((tick, 2, i, _meta(0x59, bytes((ks.fifths & 0xFF,
                                                       1 if ks.mode == "minor" else 0)))))
    for i, tempo in enumerate(project.tempos):
        tick = _check_tick(tempo.tick, "tempo position")
        if not limits.bpm_ok(tempo.bpm):
            raise _werror(f"tempo {tempo.bpm!r} bpm at tick {tick} is outside "
                          f"{limits.MIN_BPM:g}-{limits.MAX_BPM:g}")
        us = round(60_000_000 / float(tempo.bpm))
        if us > 0xFFFFFF:
            raise _werror(f"tempo {tempo.bpm:g} bpm at tick {tick} is slower than MIDI can "
                          f"store ({MIN_WRITABLE_BPM:.3f} bpm)")
        events.append((tick, 3, i, _meta(0x51, us.to_bytes(3, "big"))))
    return _track_chunk(events)


_WRITE_CHANNELS = tuple(c for c in range(16) if c != DRUM_CHANNEL)


def _note_track(track: Track, index: int) -> bytes:
    channel = _WRITE_CHANNELS[index % len(_WRITE_CHANNELS)]
    events: list[tuple[int, int, int, bytes]] = [
        (0, 0, 0, _meta(0x03, _text_bytes(track.name, f"name of track {index + 1}")))]
    for i, n in enumerate(track.notes):
        what = f"note {i + 1} of track {index + 1} {track.name!r}"
        start = _check_tick(n.start_ticks, f"{what}: start")
        dur = _check_tick(n.duration_ticks, f"{what}: duration")
        if start + dur > limits.MAX_TICKS:
            raise _werror(f"{what} ends beyond tick {limits.MAX_TICKS}")
        pitch = n.pitch
        if isinstance(pitch, bool) or not isinstance(pitch, int) or not 0 <= pitch <= 127:
            raise _werror(f"{what}: pitch {pitch!r} is not a MIDI note number 0-127")
        if dur == 0:
            continue
        lyric = "-" if n.lyric == CONTINUATION else n.lyric
        if lyric:
            events.append((start, 1, i, _meta(0x05, _text_bytes(lyric, f"{what}: lyric"))))
        events.append((start, 2, i, bytes((0x90 | channel, pitch, WRITE_VELOCITY))))
        events.append((start + dur, 0, i, bytes((0x80 | channel, pitch, 0))))
    return _track_chunk(events)


def write(project: Project) -> bytes:
    """The project as a Standard MIDI File (format 1, 480 ticks per quarter); see above."""
    if not isinstance(project, Project):
        raise _werror(f"expected a Project, got {type(project).__name__}")
    if len(project.tracks) + 1 > limits.MAX_TRACKS:
        raise _werror(f"{len(project.tracks)} tracks; the limit is {limits.MAX_TRACKS - 1}")
    if sum(len(t.notes) for t in project.tracks) > limits.MAX_NOTES:
        raise _werror(f"more than {limits.MAX_NOTES} notes")
    chunks = [_conductor(project)]
    chunks += [_note_track(t, i) for i, t in enumerate(project.tracks)]
    header = b"MThd" + struct.pack(">IHHH", 6, 1, len(chunks), TICKS_PER_QUARTER)
    return header + b"".join(chunks)


__all__ = ["DRUM_CHANNEL", "MAX_EVENTS", "MAX_TEXT_EVENTS", "read", "sniff",
           "write"]
