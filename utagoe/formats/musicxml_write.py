"""MusicXML writer: a :class:`~utagoe.model.Project` as a partwise MusicXML 4.0 document.

``write(project) -> bytes`` is the registry's write function; :func:`write_musicxml`
also returns notes on what had to change (overlapping notes cut, for example).

What is written:

* one ``<score-part>`` / ``<part>`` per track (``<part-name>`` = the track's name),
  tracks without notes included (their measures hold rests);
* ``<divisions>480</divisions>``: one division per tick, so every duration is exact;
* measures laid out from the time signatures. A signature change starts a new
  measure. When a signature's tick does not fall on a bar line of the signature
  before it, the measure before it is cut short there (an *irregular* measure: its
  content is shorter than its time signature says; MusicXML needs nothing more,
  and readers take the measure's length from its content) and the new signature
  starts at that tick;
* key signatures (``<fifths>``, ``<mode>``) in ``<attributes>`` at their tick. A key
  change that falls inside a note is written just before that note;
* tempo changes as ``<direction>`` with a ``<metronome>`` (quarter = bpm) and a
  ``<sound tempo>`` (exact bpm) in the first part only. One inside a rest splits the
  rest there; one inside a note is written before the note with
  ``<offset sound="yes">`` (divisions from the note's start);
* notes with ``<pitch>`` (spelt in the key: sharps in sharp keys, flats in flat
  keys), exact ``<duration>``, ``<voice>1</voice>``, and ``<type>`` (plus dots) where
  the duration is a standard value. A note crossing a bar line is split and tied
  (``<tie>`` + ``<tied>``); a duration that is no single standard value is written
  as tied standard values where it is a multiple of a 128th note (15 ticks), else as
  one piece without ``<type>`` (legal; its ``<duration>`` is exact). The lyric goes on
  the first piece;
* gaps as rests (a whole empty measure as ``<rest measure="yes"/>``); the last
  measure is padded with rests to its full length;
* lyrics as ``<lyric number="1"><syllabic>single</syllabic><text>``. A note whose
  lyric is :data:`~utagoe.model.CONTINUATION` (``"+"``) or blank gets no lyric (our
  reader and MuseScore take it as a melisma); the syllable before a run of such
  notes gets ``<extend type="start"/>`` and a slur; the run's last note gets the slur's
  end and a text-less ``<lyric><extend type="stop"/></lyric>`` (MuseScore ends the
  extender line there; our reader takes a lyric without text as no lyric). A track
  without any lyric (its notes on :data:`~utagoe.model.score.NO_LYRIC`, a melody
  read to be given lyrics later) is written without ``<lyric>``, extender or slur,
  and reads back the same way.

A sung part is monophonic: a note overlapping the next one is cut at the next
note's start; of notes starting together the highest is kept (as our reader keeps
the top note of a chord). Pitch curves, vibrato, expressions, phonemes, UTAU flags
and envelopes, track curves, singers, volume, pan and mute have no MusicXML form
and are left out silently.

Characters XML 1.0 forbids (most control characters, lone surrogates, U+FFFE,
U+FFFF) are dropped from lyrics, names and the title; everything else is escaped.
Output is deterministic: the same project gives the same bytes.

A project that cannot be written (a pitch outside MIDI 12..127, since MusicXML has
no octave below 0; negative or absurd ticks; a tempo outside limits.MIN_BPM..MAX_BPM;
a time signature whose bar is not a whole number of ticks; more than limits.MAX_NOTES
notes; a document larger than our own reader accepts: 64 MiB, 200,000 ``<note>``
elements counting rests and tied pieces, 3,000,000 elements) raises
:class:`~utagoe.errors.ScoreFormatError` naming the track and note.
"""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

from ..errors import ScoreFormatError
from ..model.score import CONTINUATION, Project, Tempo
from ..model.timeaxis import TimeAxis
from ..model.units import TICKS_PER_QUARTER
from . import limits

#: divisions per quarter note: one division per tick
DIVISIONS = TICKS_PER_QUARTER
#: the lowest MIDI note MusicXML can write (C0: its octaves run 0..9)
MIN_WRITABLE_PITCH = 12
#: the most measures the document may hold, all parts together
MAX_MEASURES = 400_000
#: the largest document we write (what our own reader accepts)
MAX_OUTPUT_BYTES = limits.MAX_SCORE_BYTES
#: tempo, time and key signature changes (each)
MAX_EVENTS = limits.MAX_NOTES
#: <note> elements (notes, tied pieces, rests) and elements in all that our reader accepts
MAX_NOTE_ELEMENTS = limits.MAX_NOTES
MAX_ELEMENTS = limits.MAX_XML_ELEMENTS

_DOCTYPE = ('<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
            '"http://www.musicxml.org/dtds/partwise.dtd">')

#: (ticks, <type>, dots), longest first: breve .. 128th, plain, dotted, double-dotted
_NOTE_VALUES: tuple[tuple[int, str, int], ...] = tuple(sorted(
    ((ticks, name, dots)
     for base, name in ((3840, "breve"), (1920, "whole"), (960, "half"), (480, "quarter"),
                        (240, "eighth"), (120, "16th"), (60, "32nd"), (30, "64th"),
                        (15, "128th"))
     for dots, ticks in ((0, base), (1, base * 3 // 2), (2, base * 7 // 4))
     if ticks * 4 == base * (4, 6, 7)[dots]),
    reverse=True))
_VALUE_BY_TICKS = {t: (name, dots) for t, name, dots in _NOTE_VALUES}
#: the smallest standard value; every multiple of it splits into standard values
_SMALLEST_VALUE = 15

_STEP_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SHARP_ORDER = "FCGDAEB"
_CHROMATIC = {  # pitch class -> (step, alter) when the key does not spell it
    "sharp": (("C", 0), ("C", 1), ("D", 0), ("D", 1), ("E", 0), ("F", 0), ("F", 1), ("G", 0),
              ("G", 1), ("A", 0), ("A", 1), ("B", 0)),
    "flat": (("C", 0), ("D", -1), ("D", 0), ("E", -1), ("E", 0), ("F", 0), ("G", -1), ("G", 0),
             ("A", -1), ("A", 0), ("B", -1), ("B", 0)),
    "plain": (("C", 0), ("C", 1), ("D", 0), ("E", -1), ("E", 0), ("F", 0), ("F", 1), ("G", 0),
              ("G", 1), ("A", 0), ("B", -1), ("B", 0)),
}
_MODES = frozenset("major minor dorian phrygian lydian mixolydian aeolian ionian locrian "
                   "none".split())
#: characters XML 1.0 does not allow anywhere
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# --------------------------------------------------------------------------------------
# Public entry points


def write(project: Project) -> bytes:
    """The project as a MusicXML 4.0 partwise document (UTF-8). The registry's write function."""
    return write_musicxml(project)[0]


def write_musicxml(project: Project) -> tuple[bytes, tuple[str, ...]]:
    """The document, and notes on what was changed to fit MusicXML (overlaps cut ...).

    Raises :class:`~utagoe.errors.ScoreFormatError` for a project that cannot be
    written (see the module's docstring).
    """
    if not isinstance(project, Project):
        raise _error(f"expected a Project, got {type(project).__name__}")
    tracks = _as_tuple(project.tracks, "project tracks")
    if not tracks:
        raise _error("the project has no tracks")
    if len(tracks) > limits.MAX_TRACKS:
        raise _error(f"{len(tracks)} tracks; the limit is {limits.MAX_TRACKS}")
    total = 0
    for t in tracks:
        total += len(_as_tuple(getattr(t, "notes", None), "track notes"))
        if total > limits.MAX_NOTES:
            raise _error(f"more than {limits.MAX_NOTES} notes; refusing to write such a "
                         "large score")
    remarks: list[str] = []
    sung = [_track_notes(t, i, remarks) for i, t in enumerate(tracks)]
    tempos = _tempo_map(project.tempos)
    signatures = _signature_map(project.time_signatures)
    keys = _key_map(project.key_signatures)

    end = max((s[-1].end for s in sung if s), default=0)
    _check_length(tempos, end)
    end = max(end, 1, signatures[-1][0] + 1, tempos[-1][0] + 1, keys[-1][0] + 1)
    bars = _bars(signatures, end, len(tracks))

    out = _Out()
    out.add('<?xml version="1.0" encoding="UTF-8" standalone="no"?>')
    out.add(_DOCTYPE)
    out.add('<score-partwise version="4.0">')
    title = " ".join(_clean_text(_as_str(project.title, "project title")).split())
    if title:
        out.add(f"  <work><work-title>{_escape(title)}</work-title></work>")
    out.add("  <identification><encoding><software>utagoe</software>"
            '<supports element="accidental" type="no"/>'
            '<supports element="beam" type="no"/></encoding></identification>')
    out.add("  <part-list>")
    for i, t in enumerate(tracks):
        name = _clean_text(_as_str(getattr(t, "name", ""), f"track {i + 1} name")).strip()
        out.add(f'    <score-part id="P{i + 1}"><part-name>{_escape(name)}</part-name>'
                "</score-part>")
    out.add("  </part-list>")
    for i, notes in enumerate(sung):
        _write_part(out, i, notes, bars, tempos if i == 0 else [], keys)
    out.add("</score-partwise>")
    data = out.bytes()
    if len(data) > MAX_OUTPUT_BYTES:
        raise _error(_too_large())
    return data, tuple(remarks)


# --------------------------------------------------------------------------------------
# Checking the project


def _error(message: str) -> ScoreFormatError:
    return ScoreFormatError(f"cannot write MusicXML: {message}")


def _too_large() -> str:
    return (f"the document would be larger than {MAX_OUTPUT_BYTES // 2**20} MiB, more "
            "than a score reader accepts")


def _as_tuple(value, what: str) -> tuple:
    if isinstance(value, (tuple, list)):
        return tuple(value)
    raise _error(f"{what} must be a tuple, not {type(value).__name__}")


def _as_str(value, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _error(f"{what} must be text, not {type(value).__name__}")
    return value


def _as_int(value, what: str, lo: int, hi: int) -> int:
    """An integer within [lo, hi], or ScoreFormatError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _error(f"{what} must be a whole number, not {value!r:.60}")
    v = int(value)
    if not lo <= v <= hi:
        raise _error(f"{what} {v} is out of range [{lo}, {hi}]")
    return v


@dataclass(slots=True)
class _Sung:
    """One note as it will be written: ticks, pitch, lyric and melisma marks."""

    start: int
    end: int
    pitch: int
    lyric: str | None       # None: no lyric (a continuation)
    extend: bool = False    # the syllable of a melisma: <extend/> and a slur start
    slur_stop: bool = False  # the last note of a melisma


def _clean_text(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids."""
    return _FORBIDDEN.sub("", text)


def _lyric_text(lyric: str) -> str | None:
    """The text written for a lyric, or None for a continuation (or a blank lyric)."""
    text = _clean_text(lyric).strip()
    if not text or text == CONTINUATION:
        return None
    return text


def _describe_track(index: int, track) -> str:
    name = getattr(track, "name", "")
    return f"track {index + 1}" + (f" {name!r:.60}" if isinstance(name, str) and name else "")


def _track_notes(track, index: int, remarks: list[str]) -> list[_Sung]:
    """The track's notes, checked, sorted and made monophonic, with melisma marks."""
    where = _describe_track(index, track)
    raw: list[tuple[int, int, int, int, str | None]] = []
    for j, n in enumerate(track.notes):
        src = getattr(n, "source", "")
        what = f"{where}, note {j + 1}" + (f" ({src:.60})" if isinstance(src, str) and src
                                            else "")
        start = _as_int(getattr(n, "start_ticks", None), f"{what}: start tick", 0,
                        limits.MAX_TICKS)
        dur = _as_int(getattr(n, "duration_ticks", None), f"{what}: duration in ticks", 1,
                      limits.MAX_TICKS)
        if start + dur > limits.MAX_TICKS:
            raise _error(f"{what}: ends at tick {start + dur}, beyond the limit "
                         f"{limits.MAX_TICKS}")
        pitch = _as_int(getattr(n, "pitch", None), f"{what}: pitch (MIDI note number)",
                        limits.MIN_PITCH, limits.MAX_PITCH)
        if pitch < MIN_WRITABLE_PITCH:
            raise _error(f"{what}: pitch {pitch} is below C0 (MIDI {MIN_WRITABLE_PITCH}), "
                         "the lowest note MusicXML can write")
        lyric = _lyric_text(_as_str(getattr(n, "lyric", ""), f"{what}: lyric"))
        raw.append((start, pitch, j, start + dur, lyric))
    raw.sort()
    kept: list[_Sung] = []
    dropped: list[int] = []  # start ticks
    cut: list[int] = []
    for k, (start, pitch, _j, end, lyric) in enumerate(raw):
        if k + 1 < len(raw) and raw[k + 1][0] == start:
            dropped.append(start)  # a higher note starts here too: sing that one
            continue
        if k + 1 < len(raw) and raw[k + 1][0] < end:
            end = raw[k + 1][0]
            cut.append(start)
        kept.append(_Sung(start, end, pitch, lyric))
    if dropped:
        remarks.append(f"{where}: {len(dropped)} note(s) starting together with a higher "
                       f"note left out (first at tick {dropped[0]})")
    if cut:
        remarks.append(f"{where}: {len(cut)} overlapping note(s) cut at the next note's "
                       f"start (first at tick {cut[0]})")
    _mark_melismas(kept)
    return kept


def _mark_melismas(notes: list[_Sung]) -> None:
    """Mark each syllable followed, without a gap, by notes without a lyric."""
    in_melisma = [False] * len(notes)
    for i in range(1, len(notes)):
        prev, cur = notes[i - 1], notes[i]
        if cur.lyric is None and prev.end == cur.start and (
                prev.lyric is not None or in_melisma[i - 1]):
            in_melisma[i] = True
            if prev.lyric is not None:
                prev.extend = True
    for i, mel in enumerate(in_melisma):
        if mel and (i + 1 == len(notes) or not in_melisma[i + 1]):
            notes[i].slur_stop = True


def _finite_bpm(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _error(f"{what} must be a number, not {value!r:.60}")
    try:
        bpm = float(value)
    except (OverflowError, ValueError):
        bpm = math.inf
    if not limits.bpm_ok(bpm) or not math.isfinite(bpm):
        raise _error(f"{what} {bpm:g} bpm is out of range [{limits.MIN_BPM:g}, "
                     f"{limits.MAX_BPM:g}]")
    return bpm


def _last_per_tick(events: list[tuple]) -> list[tuple]:
    """Sorted by tick (stable); of events at one tick the last wins; the first moves to 0."""
    events = sorted(events, key=lambda e: e[0])
    out: list[tuple] = []
    for e in events:
        if out and out[-1][0] == e[0]:
            out[-1] = e
        else:
            out.append(e)
    if out:
        out[0] = (0,) + tuple(out[0][1:])
    return out


def _drop_repeats(events: list[tuple]) -> list[tuple]:
    out: list[tuple] = []
    for e in events:
        if not out or out[-1][1:] != e[1:]:
            out.append(e)
    return out


def _events(value, what: str) -> tuple:
    items = _as_tuple(value, what)
    if len(items) > MAX_EVENTS:
        raise _error(f"{len(items)} {what}; the limit is {MAX_EVENTS}")
    return items


def _tempo_map(tempos) -> list[tuple[int, float]]:
    """(tick, bpm), first at tick 0, one per tick (the last), no repeats; 120 if none.

    The first tempo holds from tick 0 wherever it stands (as in TimeAxis)."""
    raw = []
    for k, t in enumerate(_events(tempos, "tempos")):
        tick = _as_int(getattr(t, "tick", None), f"tempo {k + 1}: tick", 0, limits.MAX_TICKS)
        raw.append((tick, _finite_bpm(getattr(t, "bpm", None), f"tempo {k + 1}")))
    return _drop_repeats(_last_per_tick(raw)) or [(0, limits.DEFAULT_BPM)]


def _signature_map(signatures) -> list[tuple[int, int, int]]:
    """(tick, numerator, denominator), first at tick 0, one per tick; 4/4 if none."""
    raw = []
    for k, s in enumerate(_events(signatures, "time signatures")):
        what = f"time signature {k + 1}"
        tick = _as_int(getattr(s, "tick", None), f"{what}: tick", 0, limits.MAX_TICKS)
        num = _as_int(getattr(s, "numerator", None), f"{what}: numerator", 1, 1000)
        den = _as_int(getattr(s, "denominator", None), f"{what}: denominator", 1, 1024)
        if (4 * TICKS_PER_QUARTER * num) % den:
            raise _error(f"{what}: a bar of {num}/{den} is not a whole number of ticks")
        raw.append((tick, num, den))
    return _last_per_tick(raw) or [(0, 4, 4)]


def _key_map(keys) -> list[tuple[int, int, str]]:
    """(tick, fifths, mode), first at tick 0, one per tick, no repeats; C major if none."""
    raw = []
    for k, ks in enumerate(_events(keys, "key signatures")):
        what = f"key signature {k + 1}"
        tick = _as_int(getattr(ks, "tick", None), f"{what}: tick", 0, limits.MAX_TICKS)
        fifths = _as_int(getattr(ks, "fifths", None), f"{what}: fifths", -7, 7)
        mode = _as_str(getattr(ks, "mode", "major"), f"{what}: mode").strip().lower()
        raw.append((tick, fifths, mode if mode in _MODES else "major"))
    return _drop_repeats(_last_per_tick(raw)) or [(0, 0, "major")]


def _check_length(tempos: list[tuple[int, float]], end: int) -> None:
    """Refuse a song longer than limits.MAX_SONG_SECONDS (``end`` in ticks)."""
    seconds = TimeAxis.from_tempos([Tempo(t, b) for t, b in tempos]).tick_to_seconds(end)
    if seconds > limits.MAX_SONG_SECONDS:
        raise _error(f"the song would last {seconds / 3600:.1f} hours; the limit is "
                     f"{limits.MAX_SONG_SECONDS / 3600:g} hours")


# --------------------------------------------------------------------------------------
# Measures


@dataclass(frozen=True, slots=True)
class _Bar:
    start: int            # ticks
    length: int           # ticks (shorter than the signature's bar when irregular)
    numerator: int
    denominator: int
    show_time: bool       # write <time> here


def _bars(signatures: list[tuple[int, int, int]], end: int, parts: int) -> list[_Bar]:
    """Measures from tick 0 until ``end`` is covered.

    A signature starts a measure at its tick; the measure before it is cut short
    when the tick is not on its bar line. ``<time>`` is written where the signature
    differs from the previous measure's, or after a measure cut short.
    """
    limit = MAX_MEASURES // max(parts, 1)
    count = 0
    for k, (tick, num, den) in enumerate(signatures):  # count first: refuse at once
        seg_end = signatures[k + 1][0] if k + 1 < len(signatures) else end
        count += -(-(seg_end - tick) * den // (4 * TICKS_PER_QUARTER * num))
        if count > limit:
            raise _error(f"the score would have more than {limit} measures per part; "
                         "refusing to write such a long score")
    bars: list[_Bar] = []
    k = 0
    pos = 0
    prev: tuple[int, int] | None = None
    prev_short = False
    while pos < end:
        while k + 1 < len(signatures) and signatures[k + 1][0] <= pos:
            k += 1
        _, num, den = signatures[k]
        length = 4 * TICKS_PER_QUARTER * num // den
        short = False
        if k + 1 < len(signatures) and pos + length > signatures[k + 1][0]:
            length = signatures[k + 1][0] - pos
            short = True
        bars.append(_Bar(pos, length, num, den,
                         show_time=prev != (num, den) or prev_short))
        prev, prev_short = (num, den), short
        pos += length
    return bars


def note_values(ticks: int) -> list[tuple[int, str | None, int]]:
    """``ticks`` as (ticks, <type> or None, dots) pieces, longest first.

    A standard value (breve .. 128th, plain, dotted or double-dotted) is one piece;
    another multiple of 15 ticks (a 128th) is split greedily into standard values;
    any other length is one piece without a type (its <duration> is exact).
    """
    single = _VALUE_BY_TICKS.get(ticks)
    if single is not None:
        return [(ticks, single[0], single[1])]
    if ticks % _SMALLEST_VALUE:
        return [(ticks, None, 0)]
    out: list[tuple[int, str | None, int]] = []
    left = ticks
    for value, name, dots in _NOTE_VALUES:
        while left >= value:
            out.append((value, name, dots))
            left -= value
    return out


def spell_pitch(midi: int, fifths: int) -> tuple[str, int, int]:
    """(step, alter, octave) of a MIDI note in a key with ``fifths`` sharps (<0: flats).

    Notes of the key's scale are spelt as the key has them (E# in F# major, Cb in Gb
    major); others with sharps in sharp keys, flats in flat keys, and in C with C#,
    Eb, F#, G#, Bb. The octave is kept within MusicXML's 0..9.
    """
    pc = midi % 12
    step_alter = None
    for step in _STEP_PC:
        pos = _SHARP_ORDER.index(step)
        alter = 1 if fifths > pos else (-1 if -fifths > 6 - pos else 0)
        if (_STEP_PC[step] + alter) % 12 == pc:
            step_alter = (step, alter)
            break
    table = _CHROMATIC["sharp" if fifths > 0 else "flat" if fifths < 0 else "plain"]
    for step, alter in ((step_alter,) if step_alter else ()) + (table[pc], _CHROMATIC["plain"][pc]):
        octave = (midi - alter - _STEP_PC[step]) // 12 - 1
        if 0 <= octave <= 9:
            return step, alter, octave
    raise _error(f"MIDI note {midi} has no MusicXML spelling")


# --------------------------------------------------------------------------------------
# Writing


class _Out:
    """Lines of the document, bounded in size and in elements (what our reader accepts)."""

    __slots__ = ("lines", "chars", "elements", "notes")

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.chars = 0
        self.elements = 0
        self.notes = 0

    def add(self, line: str) -> None:
        self.chars += len(line) + 1
        self.elements += line.count("<") - line.count("</")
        if self.chars > MAX_OUTPUT_BYTES:
            raise _error(_too_large())
        if self.elements > MAX_ELEMENTS:
            raise _error(f"the document would hold more than {MAX_ELEMENTS} elements, more "
                         "than a score reader accepts")
        self.lines.append(line)

    def add_note(self, line: str) -> None:
        self.notes += 1
        if self.notes > MAX_NOTE_ELEMENTS:
            raise _error(f"the document would hold more than {MAX_NOTE_ELEMENTS} <note> "
                         "elements (notes, their tied pieces and rests), more than a score "
                         "reader accepts")
        self.add(line)

    def bytes(self) -> bytes:
        self.lines.append("")
        return "\n".join(self.lines).encode("utf-8")


def _escape(text: str) -> str:
    """Text for element content or a double-quoted attribute (already cleaned)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\r", "&#13;"))


def _number(x: float) -> str:
    """A decimal without exponent that reads back as the same float."""
    if float(x).is_integer():
        return str(int(x))
    return repr(float(x))


@dataclass(slots=True)
class _Piece:
    """One <note> element: a piece of a sung note, or a rest."""

    start: int
    duration: int
    type: str | None
    dots: int
    note: _Sung | None = None
    first: bool = False       # the note's first piece (carries the lyric)
    last: bool = False        # the note's last piece
    measure_rest: bool = False


def _pieces(bar: _Bar, notes: list[_Sung], ni: int, cuts: list[int]) -> tuple[list[_Piece], int]:
    """The <note> elements of one measure, and the index of the first note still open.

    ``cuts``: ticks inside the measure where a rest is split (tempo and key changes).
    """
    s, e = bar.start, bar.start + bar.length
    while ni < len(notes) and notes[ni].end <= s:
        ni += 1
    out: list[_Piece] = []
    pos = s

    def rest(a: int, b: int) -> None:
        points = [a] + [c for c in cuts if a < c < b] + [b]
        for x, y in zip(points, points[1:]):
            t = x
            for value, name, dots in note_values(y - x):
                out.append(_Piece(t, value, name, dots))
                t += value

    j = ni
    while j < len(notes) and notes[j].start < e:
        n = notes[j]
        a, b = max(n.start, s), min(n.end, e)
        if a > pos:
            rest(pos, a)
        t = a
        for value, name, dots in note_values(b - a):
            out.append(_Piece(t, value, name, dots, note=n, first=t == n.start,
                              last=t + value == n.end))
            t += value
        pos = b
        if n.end > e:
            break
        j += 1
    if pos < e:
        if pos == s and not any(s < c < e for c in cuts):
            out.append(_Piece(s, bar.length, None, 0, measure_rest=True))
        else:
            rest(pos, e)
    return out, ni


def _note_xml(p: _Piece, fifths: int) -> str:
    """One <note> element, on one line."""
    if p.note is None:
        rest = '<rest measure="yes"/>' if p.measure_rest else "<rest/>"
        typ = f"<type>{p.type}</type>" + "<dot/>" * p.dots if p.type else ""
        return f"      <note>{rest}<duration>{p.duration}</duration><voice>1</voice>{typ}</note>"
    n = p.note
    step, alter, octave = spell_pitch(n.pitch, fifths)
    alt = f"<alter>{alter}</alter>" if alter else ""
    parts = [f"      <note><pitch><step>{step}</step>{alt}<octave>{octave}</octave></pitch>"
             f"<duration>{p.duration}</duration>"]
    tie_stop, tie_start = not p.first, not p.last
    if tie_stop:
        parts.append('<tie type="stop"/>')
    if tie_start:
        parts.append('<tie type="start"/>')
    parts.append("<voice>1</voice>")
    if p.type:
        parts.append(f"<type>{p.type}</type>" + "<dot/>" * p.dots)
    marks = []
    if tie_stop:
        marks.append('<tied type="stop"/>')
    if tie_start:
        marks.append('<tied type="start"/>')
    if p.first and n.extend:
        marks.append('<slur type="start" number="1"/>')
    if p.last and n.slur_stop:
        marks.append('<slur type="stop" number="1"/>')
    if marks:
        parts.append(f"<notations>{''.join(marks)}</notations>")
    if p.first and n.lyric is not None:
        ext = '<extend type="start"/>' if n.extend else ""
        parts.append(f'<lyric number="1"><syllabic>single</syllabic>'
                     f"<text>{_escape(n.lyric)}</text>{ext}</lyric>")
    elif p.last and n.slur_stop:  # where the melisma's extender line ends
        parts.append('<lyric number="1"><extend type="stop"/></lyric>')
    parts.append("</note>")
    return "".join(parts)


def _tempo_xml(bpm: float, offset: int) -> str:
    """A tempo mark: metronome (shown, rounded) and sound (exact); one line."""
    shown = f"{bpm:.2f}".rstrip("0").rstrip(".")
    off = f'<offset sound="yes">{offset}</offset>' if offset else ""
    return ('      <direction placement="above"><direction-type><metronome>'
            f"<beat-unit>quarter</beat-unit><per-minute>{shown}</per-minute></metronome>"
            f'</direction-type>{off}<sound tempo="{_number(bpm)}"/></direction>')


def _key_xml(fifths: int, mode: str) -> str:
    return f"<key><fifths>{fifths}</fifths><mode>{mode}</mode></key>"


def _clef_xml(notes: list[_Sung]) -> str:
    """Treble clef, or bass clef for a part that lies low (median below G3)."""
    if notes:
        pitches = sorted(n.pitch for n in notes)
        if pitches[len(pitches) // 2] < 55:
            return "<clef><sign>F</sign><line>4</line></clef>"
    return "<clef><sign>G</sign><line>2</line></clef>"


def _ticks_before(events: list[tuple], i: int, end: int) -> list[int]:
    """Ticks of ``events[i:]`` before ``end`` (events are sorted by tick)."""
    out = []
    while i < len(events) and events[i][0] < end:
        out.append(events[i][0])
        i += 1
    return out


def _write_part(out: _Out, index: int, notes: list[_Sung], bars: list[_Bar],
                tempos: list[tuple[int, float]], keys: list[tuple[int, int, str]]) -> None:
    out.add(f'  <part id="P{index + 1}">')
    ni = ti = 0
    ki = 1  # keys[0] is written in the first measure
    fifths, mode = keys[0][1], keys[0][2]
    for m, bar in enumerate(bars):
        e = bar.start + bar.length
        cuts = _ticks_before(tempos, ti, e) + _ticks_before(keys, ki, e)
        cuts = sorted({c for c in cuts if c > bar.start})
        pieces, ni = _pieces(bar, notes, ni, cuts)
        out.add(f'    <measure number="{m + 1}">')
        for pi, p in enumerate(pieces):
            pend = p.start + p.duration
            changed = False
            while ki < len(keys) and keys[ki][0] < pend:
                if (keys[ki][1], keys[ki][2]) != (fifths, mode):
                    fifths, mode = keys[ki][1], keys[ki][2]
                    changed = True
                ki += 1
            attrs = []
            if pi == 0 and m == 0:
                attrs.append(f"<divisions>{DIVISIONS}</divisions>")
            if changed or (pi == 0 and m == 0):
                attrs.append(_key_xml(fifths, mode))
            if pi == 0 and bar.show_time:
                attrs.append(f"<time><beats>{bar.numerator}</beats>"
                             f"<beat-type>{bar.denominator}</beat-type></time>")
            if pi == 0 and m == 0:
                attrs.append(_clef_xml(notes))
            if attrs:
                out.add(f"      <attributes>{''.join(attrs)}</attributes>")
            while ti < len(tempos) and tempos[ti][0] < pend:
                out.add(_tempo_xml(tempos[ti][1], max(0, tempos[ti][0] - p.start)))
                ti += 1
            out.add_note(_note_xml(p, fifths))
        out.add("    </measure>")
    out.add("  </part>")
