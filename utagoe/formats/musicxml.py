"""MusicXML reader: partwise ``.musicxml`` / ``.xml`` and compressed ``.mxl``.

Reads the sung parts into a :class:`~utagoe.model.Project` on the
480-ticks-per-quarter clock, one :class:`~utagoe.model.Track` per part (named
after the part's name, else its id), in score order. Rests are gaps; a note
without a lyric (melisma, extender, slur) gets :data:`~utagoe.model.CONTINUATION`;
tied notes become one note; of a chord the top note is sung; grace and cue notes
are not sung.

The parts follow the rule every reader shares (:mod:`utagoe.formats.common`):
by default every part with lyrics is a track; ``options.part`` N chooses the Nth
``<part>`` of the score alone (or a part id or name). A part without lyrics
follows :func:`~utagoe.formats.common.settle_lyrics`: left out with a warning
that names it with its ``--part`` number ("part 'Piano' (--part 1, 12 notes) has
no lyrics and is not sung ..."), sung on ``options.default_lyric``, or kept on
:data:`~utagoe.model.score.NO_LYRIC` with ``keep_tracks_without_lyrics``; a
score where no part has lyrics is refused with an error that names the parts.
``verse`` and ``voice`` apply to each part: each part sings its own verse 1 (or
its first verse) and its lowest voice with lyrics by default; when they are
asked for, a part that has lyrics but not that verse, or not that voice, is left
out with a warning (an error where no part has them, or where the part was asked
for by ``--part``).

All tracks share one clock: the measures, time and key signatures of the
reference part (the part asked for, else the first with lyrics) with the tempo
marks of every part (on one tick a ``<sound tempo>`` wins over a metronome mark,
then the earlier part). A measure is as long as the reference part's durations
say, stretched up to its time signature where another part fills more of it. A
sung part whose time signatures or sharps and flats differ from the reference's is
named in a warning. Tempo marks outside limits.MIN_BPM..MAX_BPM are a problem (lenient:
ignored), as in every other reader. What was repaired in a part's notes (ties
onto a new syllable, overlaps in a voice, grace-note lyrics, unpitched notes,
other voices) is said after the part's name, and only for parts that are kept.

Safety: the XML is parsed with expat, which never loads external DTDs or
entities here; a DOCTYPE that declares any entity is refused at once (billion
laughs, quadratic blowup, external and parameter entities). Sizes, note counts,
tempi and the song's length are bounded, and every problem raises
:class:`~utagoe.errors.ScoreFormatError` naming the file and line.
"""
from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

from ..errors import ScoreFormatError
from ..model.score import CONTINUATION, KeySignature, Note, Project, Tempo, TimeSignature
from ..model.units import TICKS_PER_QUARTER
from . import limits
from .common import NO_LYRIC, TrackDraft, check_size_and_content, finish
from .common import ReadContext as _Ctx
from .common import (clean_default_lyric, no_lyrics_error, notes, settle_lyrics,
                     tempo_list)
from .options import ReadOptions
from .xmltree import Elem as _Elem
from .xmltree import parse_xml

if TYPE_CHECKING:
    import zipfile

#: positions are integers on a clock this much finer than ticks: exact for every
#: <divisions> that divides 480 * 240240 (1-16, 20, 21, 24, 480, 10080, ...), and
#: off by far less than a tick otherwise, so that ties and chords still line up
UNITS_PER_TICK = 240240
UNITS_PER_QUARTER = TICKS_PER_QUARTER * UNITS_PER_TICK
MAX_UNITS = limits.MAX_QUARTERS * UNITS_PER_QUARTER
#: an .mxl member that expands more than this many times is taken for a zip bomb
MAX_ZIP_RATIO = 200

_MUSICXML_MEDIA_TYPES = ("application/vnd.recordare.musicxml+xml",
                         "application/vnd.recordare.musicxml")

#: the only elements the reader looks at; everything else (and all below it) is not kept
_KEEP = frozenset("""
score-partwise score-timewise work work-title movement-title credit credit-type
credit-words part-list score-part part-name part measure attributes divisions key fifths
mode time beats beat-type senza-misura transpose chromatic octave-change note grace cue
chord pitch step alter octave unpitched rest duration tie tied voice notations lyric text
elision extend syllabic humming laughing backup forward direction direction-type
metronome beat-unit beat-unit-dot per-minute metronome-note sound offset barline repeat
""".split())

#: elements whose text we read
_TEXT = frozenset("""
work-title movement-title credit-type credit-words part-name divisions fifths mode beats
beat-type chromatic octave-change step alter octave duration voice text syllabic
beat-unit per-minute offset
""".split())

def _parse_xml(data: bytes, ctx: _Ctx, *, score: bool = True) -> _Elem:
    """The score's tree (only the tags the reader uses), or with ``score=False`` every
    tag (the .mxl container file)."""
    if not score:
        return parse_xml(data, ctx, keep=None, max_elements=limits.MAX_XML_ELEMENTS)
    return parse_xml(data, ctx, keep=_KEEP, text_tags=_TEXT, count_tag="note",
                     max_count=limits.MAX_NOTES, max_elements=limits.MAX_XML_ELEMENTS,
                     lenient_root="score-partwise")


# --------------------------------------------------------------------------------------
# Reading the bytes: plain XML or .mxl


def sniff(head: bytes) -> bool:
    """Do these first bytes look like MusicXML (plain or .mxl)?"""
    if head.startswith(b"PK\x03\x04"):
        return (b"application/vnd.recordare.musicxml" in head
                or b"META-INF/container.xml" in head[:512])
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.decode("latin-1")
    return "<score-partwise" in text or "<score-timewise" in text


def _looks_binary(data: bytes) -> bool:
    head = data[:1024]
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00",
                        b"\x00<", b"<\x00")):
        return False  # UTF-16/32
    return b"\x00" in head


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, ctx: _Ctx,
                 limit: int = limits.MAX_SCORE_BYTES) -> bytes:
    name = info.filename
    if info.file_size > limit:
        raise ctx.error(f".mxl member {name!r} is {info.file_size / 2**20:.1f} MiB "
                        f"uncompressed; the limit is {limit // 2**20} MiB")
    ratio = info.file_size // max(info.compress_size, 1)
    if info.file_size > 1 << 20 and ratio > MAX_ZIP_RATIO:
        raise ctx.error(f".mxl member {name!r} expands {ratio} times; refusing what looks "
                        "like a zip bomb")
    try:
        with zf.open(info) as f:
            out = f.read(limit + 1)
    except Exception as e:  # encrypted, bad CRC, zlib.error, unsupported method, ...
        raise ctx.error(f"cannot read .mxl member {name!r}: {e}") from None
    if len(out) > limit:
        raise ctx.error(f".mxl member {name!r} is larger than its header says "
                        f"(over {limit // 2**20} MiB)")
    return out


def _unpack_mxl(data: bytes, ctx: _Ctx) -> tuple[bytes, str]:
    """The root MusicXML document inside an .mxl, and its member name."""
    import zipfile   # here: a plain .musicxml need not import it

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except Exception as e:  # BadZipFile, NotImplementedError, EOFError, ValueError, ...
        raise ctx.error(f"not a valid .mxl (zip) file: {e}") from None
    if len(infos) > 10_000:
        raise ctx.error(f".mxl holds {len(infos)} files; refusing")
    by_name = {i.filename: i for i in infos}
    chosen: str | None = None
    container = by_name.get("META-INF/container.xml")
    if container is not None:
        cdata = _read_member(zf, container, ctx, limit=1 << 20)
        ctx.member = "META-INF/container.xml"
        croot = _parse_xml(cdata, ctx, score=False)
        ctx.member = None
        for el in _iter(croot):
            if el.tag != "rootfile":
                continue
            full = el.get("full-path")
            media = el.get("media-type")
            if full and (media is None or media in _MUSICXML_MEDIA_TYPES):
                chosen = full
                break
        if chosen is not None and chosen not in by_name:
            ctx.warn(f".mxl container names {chosen!r}, which is not in the archive")
            chosen = None
    if chosen is None:
        for i in infos:
            n = i.filename
            if (not i.is_dir() and not n.upper().startswith("META-INF/")
                    and n.lower().endswith((".xml", ".musicxml"))):
                chosen = n
                break
    if chosen is None:
        raise ctx.error(".mxl holds no MusicXML document (no rootfile in "
                        "META-INF/container.xml and no .xml/.musicxml member)")
    return _read_member(zf, by_name[chosen], ctx), chosen


def _iter(root: _Elem) -> Iterator[_Elem]:
    todo = [root]
    while todo:
        el = todo.pop()
        yield el
        todo.extend(reversed(el.children))


# --------------------------------------------------------------------------------------
# Small value parsers

_DECIMAL_RE = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_DIGITS_RE = re.compile(r"^[0-9]+$")
_NUMBER_IN_TEXT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_BEAT_UNIT_QUARTERS = {
    "maxima": Fraction(32), "long": Fraction(16), "breve": Fraction(8), "whole": Fraction(4),
    "half": Fraction(2), "quarter": Fraction(1), "eighth": Fraction(1, 2),
    "16th": Fraction(1, 4), "32nd": Fraction(1, 8), "64th": Fraction(1, 16),
    "128th": Fraction(1, 32), "256th": Fraction(1, 64), "512th": Fraction(1, 128),
    "1024th": Fraction(1, 256),
}


def _decimal(text: str | None, what: str, el: _Elem | None, ctx: _Ctx) -> Fraction:
    t = (text or "").strip()
    if len(t) > 40 or not _DECIMAL_RE.match(t):
        raise ctx.error(f"{what} is not a number: {t[:40]!r}", el.line if el else None)
    return Fraction(t)


def _integer(text: str | None, what: str, el: _Elem | None, ctx: _Ctx) -> int:
    t = (text or "").strip()
    if len(t) > 12 or not _INT_RE.match(t):
        # some writers put "4.0" where an integer belongs
        if len(t) <= 40 and _DECIMAL_RE.match(t) and Fraction(t).denominator == 1:
            return int(Fraction(t))
        raise ctx.error(f"{what} is not an integer: {t[:40]!r}", el.line if el else None)
    return int(t)


def _units_to_ticks(u: int) -> int:
    """A position in units to the nearest tick (halves round up)."""
    return (u + UNITS_PER_TICK // 2) // UNITS_PER_TICK


def _nominal_units(numerator: int, denominator: int) -> int:
    """How long a measure of this time signature is, in units."""
    return (4 * numerator * UNITS_PER_QUARTER + denominator // 2) // denominator


# --------------------------------------------------------------------------------------
# Scanning a part


@dataclass(slots=True)
class _Lyric:
    number: int          # verse number
    name: str | None     # lyric name= (lowercase), e.g. "chorus"
    text: str | None     # None: no text (only <extend/>, humming, ...)
    line: int


@dataclass(slots=True)
class _NoteEv:
    measure: int             # measure index (0-based)
    offset: int              # units from the measure start
    duration: int            # units (0 for grace notes)
    voice: str
    pitch: int
    grace: bool
    tie_start: bool
    tie_stop: bool
    lyrics: list[_Lyric]
    measure_number: str
    line: int
    seq: int                 # document order


@dataclass(slots=True)
class _Measure:
    number: str
    line: int
    length: int              # units: the actual length, by the durations read


@dataclass(slots=True)
class _Part:
    index: int               # 0-based, document order
    id: str
    name: str
    line: int
    measures: list[_Measure] = field(default_factory=list)
    notes: list[_NoteEv] = field(default_factory=list)
    #: (measure index, offset, priority (0 sound, 1 metronome), bpm, line)
    tempos: list[tuple[int, int, int, float, int]] = field(default_factory=list)
    #: measure index -> (numerator, denominator)
    times: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: (measure index, offset, fifths, mode)
    keys: list[tuple[int, int, int, str]] = field(default_factory=list)
    unpitched: int = 0
    lyric_on_rest: int = 0
    repeats: bool = False

    def describe(self) -> str:
        name = f" {self.name!r}" if self.name and self.name != self.id else ""
        return f"part {self.index + 1} (id {self.id!r}{name})"


def _verse_number(attr: str | None, position: int) -> int:
    if attr is not None:
        a = attr.strip()
        if _DIGITS_RE.match(a) and len(a) < 10:
            return int(a)
        m = re.search(r"([0-9]{1,9})$", a)
        if m:
            return int(m.group(1))
    return position


def _strip_hyphens(text: str, syllabic: str | None) -> str:
    if syllabic in ("begin", "middle") and text.endswith(("-", "\u2010")) and len(text) > 1:
        text = text[:-1].rstrip()
    if syllabic in ("middle", "end") and text.startswith(("-", "\u2010")) and len(text) > 1:
        text = text[1:].lstrip()
    return text


def _read_lyrics(note: _Elem) -> list[_Lyric]:
    out: list[_Lyric] = []
    position = 0
    for ly in note.children:
        if ly.tag != "lyric":
            continue
        position += 1
        texts = [t.text.strip() for t in ly.children if t.tag == "text"]
        text = "".join(texts)
        syllabic = ly.findtext("syllabic")
        text = _strip_hyphens(text, syllabic.strip() if syllabic else None)
        name = ly.get("name")
        out.append(_Lyric(number=_verse_number(ly.get("number"), position),
                          name=name.strip().lower() if name else None,
                          text=text or None, line=ly.line))
    return out


def _tie_flags(note: _Elem) -> tuple[bool, bool]:
    start = stop = False
    types = [t.get("type", "") for t in note.findall("tie")]
    notations = note.find("notations")
    if notations is not None:
        types += [t.get("type", "") for t in notations.findall("tied")]
    for t in types:
        if t == "start":
            start = True
        elif t == "stop":
            stop = True
        elif t == "continue":
            start = stop = True
    return start, stop


def _metronome_bpm(met: _Elem, ctx: _Ctx) -> float | None:
    """Quarter notes per minute from a <metronome>, or None when it gives no tempo."""
    if met.find("metronome-note") is not None:
        return None
    units: list[list] = []  # [undotted quarters, dots]
    for c in met.children:
        if c.tag == "beat-unit":
            q = _BEAT_UNIT_QUARTERS.get(c.text.strip())
            if q is None:
                ctx.warn(f"metronome mark with unknown beat unit {c.text.strip()!r} ignored",
                         c.line)
                return None
            units.append([q, 0])
        elif c.tag == "beat-unit-dot" and units:
            units[-1][1] += 1
    pm = met.find("per-minute")
    if pm is None or len(units) != 1:
        return None  # e.g. a metric modulation (beat-unit = beat-unit)
    m = _NUMBER_IN_TEXT.search(pm.text)
    if not m:
        ctx.warn(f"metronome mark without a number ({pm.text.strip()!r}) ignored", pm.line)
        return None
    return float(Fraction(m.group(0)) * _dotted(units[0][0], units[0][1]))


def _dotted(undotted: Fraction, dots: int) -> Fraction:
    """A dotted value: each dot adds half of what the previous one added."""
    return undotted * (2 - Fraction(1, 2 ** min(dots, 16)))


class _PartScanner:
    """Walks one <part>, measure by measure, keeping the cursor in exact quarter notes."""

    def __init__(self, pel: _Elem, index: int, name: str, ctx: _Ctx, seq: list[int]) -> None:
        self.pel = pel
        self.ctx = ctx
        self.seq = seq  # shared document-order counter
        self.part = _Part(index=index, id=pel.get("id", ""), name=name, line=pel.line)
        self.divisions: Fraction | None = None
        self.transpose = 0         # semitones: sounding = written + transpose
        self.transpose_fifths = 0  # the same, on the circle of fifths
        self.warned_no_divisions = False
        self._units_cache: dict[tuple[str, Fraction | None], int] = {}
        self._pitch_cache: dict[tuple, int] = {}

    # -- durations --------------------------------------------------------------------
    def units(self, el: _Elem, what: str, *, signed: bool = False) -> int:
        """A duration element's value in units. Bad numbers raise ScoreFormatError;
        absurd ones raise it even when lenient (ReadContext.fatal)."""
        text = el.text.strip()
        cached = self._units_cache.get((text, self.divisions))
        if cached is not None and (signed or cached >= 0):
            return cached
        ctx = self.ctx
        d = _decimal(text, what, el, ctx)
        if d < 0 and not signed:
            raise ctx.error(f"negative {what}: {el.text.strip()}", el.line)
        if self.divisions is None:
            if not ctx.lenient:
                raise ctx.error(f"{what} before any <divisions> in {self.part.describe()}",
                                el.line)
            if not self.warned_no_divisions:
                ctx.warn("no <divisions> before the first duration; assuming 1 per quarter "
                         "note", el.line)
                self.warned_no_divisions = True
            self.divisions = Fraction(1)
        if abs(d) > limits.MAX_QUARTERS * self.divisions:
            raise ctx.fatal(f"{what} {text} is absurdly long (the song would last more than "
                            f"{limits.MAX_SONG_SECONDS // 3600} hours)", el.line)
        u = math.floor(d * UNITS_PER_QUARTER / self.divisions + Fraction(1, 2))
        if len(self._units_cache) < 10_000:
            self._units_cache[(text, self.divisions)] = u
        return u

    def lenient_units(self, el: _Elem, what: str, *, signed: bool = False) -> int | None:
        """Like ``units``, but with ``lenient`` a bad value is a warning and gives None."""
        return self.ctx.attempt(self.units, el, what, signed=signed, repair="")

    # -- the part ---------------------------------------------------------------------
    def scan(self) -> _Part:
        ctx, part = self.ctx, self.part
        total = 0  # units so far (a guard against absurd lengths)
        for mi, mel in enumerate(self.pel.findall("measure")):
            number = (mel.get("number") or str(mi + 1)).strip()
            pos = maxpos = last_start = 0
            for child in mel.children:
                tag = child.tag
                if tag == "note":
                    pos, last_start = self._note(child, mi, number, pos, last_start)
                elif tag == "backup" or tag == "forward":
                    pos = self._move(child, tag, pos, number)
                elif tag == "attributes":
                    self._attributes(child, mi, pos)
                elif tag == "direction":
                    self._direction(child, mi, pos)
                elif tag == "sound":
                    self._sound(child, mi, pos)
                elif tag == "barline":
                    if child.find("repeat") is not None:
                        part.repeats = True
                if pos > maxpos:
                    maxpos = pos
            total += maxpos
            if total > MAX_UNITS:
                raise ctx.error(f"the song would last more than 24 hours (measure {number})",
                                mel.line)
            part.measures.append(_Measure(number=number, line=mel.line, length=maxpos))
        return part

    def _move(self, el: _Elem, tag: str, pos: int, number: str) -> int:
        dur = el.find("duration")
        if dur is None:
            self.ctx.problem(f"<{tag}> without a <duration>", el.line)
            return pos
        q = self.lenient_units(dur, f"<{tag}> duration")
        if q is None:
            return pos
        if tag == "forward":
            return pos + q
        if q > pos:
            self.ctx.problem(f"<backup> of {dur.text.strip()} goes back past the start of "
                             f"measure {number}", el.line)
            return 0
        return pos - q

    def _note(self, nel: _Elem, mi: int, number: str, pos: int,
              last_start: int) -> tuple[int, int]:
        """Read one <note>; returns the new cursor and this note's start."""
        ctx, part = self.ctx, self.part
        grace = nel.find("grace") is not None
        chord = nel.find("chord") is not None
        duration = 0
        if not grace:
            dur = nel.find("duration")
            if dur is None:
                ctx.problem(f"note in measure {number} has no <duration>; dropped", nel.line)
                return pos, last_start
            q = self.lenient_units(dur, "note <duration>")
            if q is None:
                return pos, last_start
            duration = q
        start = last_start if chord else pos
        new_pos = pos if (chord or grace) else pos + duration
        for snd in nel.findall("sound"):  # not in the schema, but written by some programs
            self._sound(snd, mi, start)
        if nel.find("cue") is not None:
            return new_pos, start
        lyrics = _read_lyrics(nel)
        if nel.find("rest") is not None:
            if any(ly.text for ly in lyrics):
                part.lyric_on_rest += 1
            return new_pos, start
        pitch_el = nel.find("pitch")
        if pitch_el is None:
            part.unpitched += 1
            return new_pos, start
        key = (pitch_el.findtext("step"), pitch_el.findtext("octave"),
               pitch_el.findtext("alter"), self.transpose)
        pitch = self._pitch_cache.get(key)
        if pitch is None:
            pitch = _read_pitch(pitch_el, self.transpose, ctx)
            exact = key[2] is None or _INT_RE.match(key[2].strip())  # no microtones
            if pitch is not None and exact and len(self._pitch_cache) < 10_000:
                self._pitch_cache[key] = pitch
        if pitch is None:
            return new_pos, start
        if not grace and duration == 0:
            ctx.warn(f"note of zero duration in measure {number} dropped", nel.line)
            return new_pos, start
        voice = (nel.findtext("voice") or "").strip() or "1"
        tie_start, tie_stop = _tie_flags(nel)
        self.seq[0] += 1
        part.notes.append(_NoteEv(measure=mi, offset=start, duration=duration, voice=voice,
                                  pitch=pitch, grace=grace, tie_start=tie_start,
                                  tie_stop=tie_stop, lyrics=lyrics, measure_number=number,
                                  line=nel.line, seq=self.seq[0]))
        return new_pos, start

    def _attributes(self, el: _Elem, mi: int, pos: int) -> None:
        ctx = self.ctx
        for a in el.children:
            if a.tag == "divisions":
                try:
                    d = _decimal(a.text, "<divisions>", a, ctx)
                    if d <= 0:
                        raise ctx.error(f"<divisions> must be > 0, got {a.text.strip()}",
                                        a.line)
                except ScoreFormatError as e:
                    if not ctx.lenient or self.divisions is None:
                        raise
                    ctx.warn(f"{e.message}; keeping {self.divisions}", a.line)
                    continue
                self.divisions = d
            elif a.tag == "transpose" and a.get("number") in (None, "1"):
                chrom = a.findtext("chromatic")
                octv = a.findtext("octave-change")
                c = _integer(chrom, "<chromatic>", a, ctx) if chrom is not None else 0
                o = _integer(octv, "<octave-change>", a, ctx) if octv is not None else 0
                if abs(c) > 48 or abs(o) > 4:
                    raise ctx.error(f"absurd <transpose>: chromatic {c}, octave-change {o}",
                                    a.line)
                self.transpose = c + 12 * o
                self.transpose_fifths = 7 * c
        _scan_time_and_key(el, self.part, mi, pos, self.transpose_fifths, ctx)

    def _direction(self, el: _Elem, mi: int, pos: int) -> None:
        at = pos
        off = el.find("offset")
        if off is not None and off.get("sound") == "yes":
            q = self.lenient_units(off, "<offset>", signed=True)
            if q is not None:
                at = max(0, pos + q)
        for dt in el.findall("direction-type"):
            for met in dt.findall("metronome"):
                bpm = _metronome_bpm(met, self.ctx)
                if bpm is not None:
                    _add_tempo(self.part, mi, at, 1, bpm, met.line, self.ctx)
        for snd in el.findall("sound"):
            self._sound(snd, mi, at)

    def _sound(self, el: _Elem, mi: int, at: int) -> None:
        tempo = el.get("tempo")
        if tempo is None:
            return
        t = tempo.strip()
        if len(t) > 40 or not _DECIMAL_RE.match(t):
            self.ctx.problem(f"<sound tempo={tempo!r}> is not a number", el.line)
            return
        _add_tempo(self.part, mi, at, 0, float(Fraction(t)), el.line, self.ctx)


def _read_pitch(pel: _Elem, transpose: int, ctx: _Ctx) -> int | None:
    """MIDI note number of a <pitch> (sounding), or None (lenient) for a bad one."""
    step_el = pel.find("step")
    step = (step_el.text.strip().upper() if step_el is not None else "")
    if step not in _STEPS:
        ctx.problem(f"bad pitch step {step!r}; note dropped", pel.line)
        return None
    got = ctx.attempt(_octave_and_alter, pel, ctx, repair="note dropped")
    if got is None:
        return None
    octave, alter = got
    if abs(octave) > 20 or abs(alter) > 12:
        ctx.problem(f"absurd pitch: {step}, octave {octave}, alter {alter}; note dropped",
                    pel.line)
        return None
    midi_exact = (octave + 1) * 12 + _STEPS[step] + alter + transpose
    midi = math.floor(midi_exact + Fraction(1, 2))
    if midi != midi_exact:
        ctx.warn(f"microtonal pitch (alter {alter}) rounded to the nearest semitone", pel.line)
    if not 0 <= midi <= 127:
        ctx.problem(f"pitch {step}{octave} (alter {alter}) is outside the MIDI range 0-127; "
                    "note dropped", pel.line)
        return None
    return midi


def _octave_and_alter(pel: _Elem, ctx: _Ctx) -> tuple[int, Fraction]:
    oct_el = pel.find("octave")
    octave = _integer(oct_el.text if oct_el is not None else None, "<octave>", pel, ctx)
    alter_el = pel.find("alter")
    alter = Fraction(0)
    if alter_el is not None and alter_el.text.strip():
        alter = _decimal(alter_el.text, "<alter>", alter_el, ctx)
    return octave, alter


def _scan_time_and_key(attrs: _Elem, part: _Part, mi: int, pos: int,
                       transpose_fifths: int, ctx: _Ctx) -> None:
    key = next((k for k in attrs.findall("key") if k.find("fifths") is not None), None)
    if key is not None:
        fifths = _integer(key.findtext("fifths"), "<fifths>", key, ctx)
        if abs(fifths) > 15:
            ctx.problem(f"absurd key signature: {fifths} fifths", key.line)
        else:
            f = fifths + transpose_fifths
            while f > 7:
                f -= 12
            while f < -7:
                f += 12
            mode = (key.findtext("mode") or "").strip().lower()
            part.keys.append((mi, pos, f, "minor" if mode == "minor" else "major"))
    for t in attrs.findall("time"):
        if t.find("senza-misura") is not None:
            continue
        beats = [b for b in t.children if b.tag == "beats"]
        types = [b for b in t.children if b.tag == "beat-type"]
        if not beats or len(beats) != len(types):
            ctx.problem("<time> without matching <beats> and <beat-type>", t.line)
            continue
        total = Fraction(0)
        dens = []
        try:
            for b, bt in zip(beats, types):
                num = sum(_integer(x, "<beats>", b, ctx) for x in b.text.split("+"))
                den = _integer(bt.text, "<beat-type>", bt, ctx)
                if not (0 < num <= 1000 and 0 < den <= 1024):
                    raise ctx.error(f"absurd time signature {num}/{den}", t.line)
                total += Fraction(num, den)
                dens.append(den)
        except ScoreFormatError as e:
            if not ctx.lenient:
                raise
            ctx.warn(e.message, t.line)
            continue
        den = math.lcm(*dens)
        part.times.setdefault(mi, (int(total * den), den))
        break  # one time signature per <attributes> (others are per staff)


def _add_tempo(part: _Part, mi: int, at: int, priority: int, bpm: float, line: int,
               ctx: _Ctx) -> None:
    if not limits.bpm_ok(bpm):
        ctx.problem(f"tempo {bpm:g} bpm is outside {limits.MIN_BPM:g}..{limits.MAX_BPM:g} bpm",
                    line, "ignored")
        return
    part.tempos.append((mi, at, priority, bpm, line))


# --------------------------------------------------------------------------------------
# Choosing what to sing


def _voice_key(v: str):
    return (0, int(v), v) if _DIGITS_RE.match(v) and len(v) < 10 else (1, 0, v)


def _lyric_for(ev: _NoteEv, verse: int | str) -> _Lyric | None:
    for ly in ev.lyrics:
        if (ly.name == verse) if isinstance(verse, str) else (ly.number == verse):
            return ly
    return None


def _has_lyrics(part: _Part, verse: int | str | None = None, voice: str | None = None) -> bool:
    for ev in part.notes:
        if voice is not None and ev.voice != voice:
            continue
        for ly in ev.lyrics:
            if ly.text and (verse is None or (ly.name == verse if isinstance(verse, str)
                                              else ly.number == verse)):
                return True
    return False


def _parts_listing(parts: list[_Part]) -> str:
    return "; ".join(p.describe() for p in parts)


def _choose_part(parts: list[_Part], want, ctx: _Ctx) -> _Part:
    """The part ``--part`` asks for: an int N is the Nth ``<part>`` of the score; a str
    is a part id, else a part name (any case), else a number written as text."""
    if isinstance(want, bool) or not isinstance(want, (int, str)):
        raise ctx.error(f"part must be a 1-based number or a part id or name, not {want!r}")
    if isinstance(want, int):
        if 1 <= want <= len(parts):
            return parts[want - 1]
        raise ctx.error(f"there is no part {want}; the score has {len(parts)}: "
                        f"{_parts_listing(parts)}")
    w = want.strip()
    for p in parts:
        if p.id == w:
            return p
    for p in parts:
        if p.name.strip().lower() == w.lower():
            return p
    if _DIGITS_RE.match(w) and len(w) < 10 and 1 <= int(w) <= len(parts):
        return parts[int(w) - 1]
    raise ctx.error(f"no part with id or name {want!r}; the parts are: {_parts_listing(parts)}")


def _reference_part(parts: list[_Part], verse: int | str | None) -> _Part:
    """The part whose measures, time and key signatures the song follows when no part is
    asked for: the first with lyrics (in ``verse``, where one is asked for), else the
    first with notes."""
    if verse is not None:
        for p in parts:
            if _has_lyrics(p, verse):
                return p
    for p in parts:
        if _has_lyrics(p):
            return p
    return next((p for p in parts if _note_count(p)), parts[0])


def _verse_spec(want, ctx: _Ctx) -> int | str | None:
    """The verse asked for: None, a number >= 1, or a lowercase lyric name."""
    if want is None:
        return None
    if isinstance(want, bool) or not isinstance(want, (int, str)):
        raise ctx.error(f"verse must be a 1-based number or a lyric name, not {want!r}")
    if isinstance(want, str):
        w = want.strip()
        if not (_DIGITS_RE.match(w) and len(w) < 10):
            if not w:
                raise ctx.error("empty verse name")
            return w.lower()
        want = int(w)
    if want < 1:
        raise ctx.error(f"verse numbers start at 1, got {want}")
    return want


def _choose_verse(part: _Part, want: int | str | None, ctx: _Ctx) -> int | str:
    numbers = sorted({ly.number for ev in part.notes for ly in ev.lyrics if ly.text})
    names = sorted({ly.name for ev in part.notes for ly in ev.lyrics if ly.text and ly.name})
    listing = (f"verses {', '.join(map(str, numbers)) or '(none)'}"
               + (f"; lyric names {', '.join(names)}" if names else ""))
    if want is None:
        if not numbers or 1 in numbers:
            return 1
        ctx.warn(f"{part.describe()} has no verse 1; singing verse {numbers[0]}", part.line)
        return numbers[0]
    if isinstance(want, int):
        if numbers and want not in numbers:
            raise ctx.error(f"{part.describe()} has no verse {want}; it has {listing}",
                            part.line)
        return want
    if want not in names:
        raise ctx.error(f"{part.describe()} has no lyrics named {want!r}; it has {listing}",
                        part.line)
    return want


def _choose_voice(part: _Part, want, verse, ctx: _Ctx) -> str:
    voices = sorted({ev.voice for ev in part.notes if not ev.grace}, key=_voice_key)
    if not voices:
        raise ctx.error(f"{part.describe()} has no notes", part.line)
    if want is None:
        for v in voices:
            if _has_lyrics(part, verse, v):
                return v
        return voices[0]
    if isinstance(want, bool) or not isinstance(want, (int, str)):
        raise ctx.error(f"voice must be a 1-based number or a voice id, not {want!r}")
    w = str(want).strip()
    if w not in voices:
        raise ctx.error(f"{part.describe()} has no voice {w}; its voices are "
                        f"{', '.join(voices)}", part.line)
    return w


# --------------------------------------------------------------------------------------
# Building the project


@dataclass(slots=True)
class _Sung:
    start: int   # units
    end: int
    pitch: int
    lyric: str | None
    lyric_line: int | None
    tie_start: bool
    tie_stop: bool
    measure_number: str
    line: int


def _sung_notes(part: _Part, voice: str, verse, starts: list[int],
                warn: Callable[[str, int | None], None]) -> list[_Sung]:
    """The notes one voice of a part sings (ties joined, the top note of a chord), in
    units; ``warn(message, line)`` hears what was repaired on the way."""
    evs = [ev for ev in part.notes if ev.voice == voice]
    evs.sort(key=lambda e: (starts[e.measure] + e.offset, 0 if e.grace else 1, e.seq))
    groups: list[list[_NoteEv]] = []
    own_lyric: list[_Lyric | None] = []    # from the group's own notes
    grace_lyric: list[_Lyric | None] = []  # from grace notes just before the group
    pending: _Lyric | None = None
    for ev in evs:
        ly = _lyric_for(ev, verse)
        if ly is not None and not ly.text:
            ly = None
        if ev.grace:
            if ly is not None and pending is None:
                pending = ly
            continue
        start = starts[ev.measure] + ev.offset
        if groups and starts[groups[-1][0].measure] + groups[-1][0].offset == start:
            groups[-1].append(ev)  # a chord (or notes written at the same time)
            if own_lyric[-1] is None:
                own_lyric[-1] = ly
            continue
        groups.append([ev])
        own_lyric.append(ly)
        grace_lyric.append(pending)
        pending = None
    if pending is not None:
        warn(f"lyric {pending.text!r} on a grace note with no note after it dropped",
             pending.line)
    lyrics: list[_Lyric | None] = []
    for own, grace in zip(own_lyric, grace_lyric):
        if own is not None and grace is not None:
            warn(f"lyric {grace.text!r} on a grace note dropped: the next note has its "
                 f"own lyric {own.text!r}", grace.line)
        lyrics.append(own if own is not None else grace)

    sung: list[_Sung] = []
    for grp, ly in zip(groups, lyrics):
        top = max(grp, key=lambda e: (e.pitch, -e.seq))
        start = starts[top.measure] + top.offset
        cur = _Sung(start=start, end=start + top.duration, pitch=top.pitch,
                    lyric=ly.text if ly else None, lyric_line=ly.line if ly else None,
                    tie_start=top.tie_start, tie_stop=top.tie_stop,
                    measure_number=top.measure_number, line=top.line)
        if sung:
            prev = sung[-1]
            if ((prev.tie_start or cur.tie_stop) and prev.pitch == cur.pitch
                    and prev.end == cur.start):
                if cur.lyric is None:
                    prev.end = cur.end  # a tie: one sung note
                    prev.tie_start = cur.tie_start
                    continue
                # a new syllable under a tie: the tie is a slip, the syllable is sung
                warn(f"tied-to note in measure {cur.measure_number} has its own lyric "
                     f"{cur.lyric!r}; sung as a new note", cur.lyric_line)
            if cur.start < prev.end:
                warn(f"notes overlap in voice {voice} (measure {cur.measure_number}); "
                     "the earlier one is shortened", cur.line)
                prev.end = cur.start
        sung.append(cur)
    return sung


def _measure_starts(parts: list[_Part], reference: _Part) -> tuple[list[int], list[int]]:
    """Start (units) of every measure, and each measure's length.

    A measure is as long as the reference part's durations say (so a pickup is short). If
    the reference part falls short of its time signature while another part fills more of
    the measure (rests left out of the reference part), the measure is stretched up to the
    time signature's length, never beyond, so an overfull measure in an accompanying
    part cannot shift the song.
    """
    n = max(len(p.measures) for p in parts)
    lengths: list[int] = []
    times = reference.times or next((p.times for p in parts if p.times), {})
    ts: tuple[int, int] | None = None
    for i in range(n):
        ts = times.get(i, ts)
        nominal = _nominal_units(*ts) if ts else None
        own = reference.measures[i].length if i < len(reference.measures) else 0
        length = own
        if nominal is None or own < nominal:
            others = max((p.measures[i].length for p in parts if i < len(p.measures)),
                         default=0)
            length = max(own, others if nominal is None else min(others, nominal))
        if length == 0:  # an empty measure everywhere: its time signature says how long
            length = nominal if nominal is not None else 4 * UNITS_PER_QUARTER
        lengths.append(length)
    starts = [0] * (n + 1)
    for i, length in enumerate(lengths):
        starts[i + 1] = starts[i] + length
    return starts, lengths


def _time_signatures(parts: list[_Part], reference: _Part, starts: list[int],
                     lengths: list[int]) -> tuple[TimeSignature, ...]:
    times = reference.times or next((p.times for p in parts if p.times), {})
    if not times:
        return (TimeSignature(0, 4, 4),)
    out: list[TimeSignature] = []
    cur: tuple[int, int] | None = None
    realign = False
    for i, length in enumerate(lengths):
        new = times.get(i)
        if new is not None or (realign and cur is not None):
            cur = new or cur
            if cur is None:
                continue
            tick = _units_to_ticks(starts[i])
            if out and (out[-1].numerator, out[-1].denominator) == cur and \
                    (tick - out[-1].tick) % max(out[-1].measure_ticks, 1) == 0:
                pass  # nothing changes: same signature, bars still line up
            else:
                out.append(TimeSignature(tick, cur[0], cur[1]))
        # after a measure whose real length is not what its signature says (a pickup,
        # a cadenza), say the signature again so bar lines line up from there on
        realign = cur is not None and length != _nominal_units(*cur)
    return tuple(out) or (TimeSignature(0, 4, 4),)


def _key_signatures(reference: _Part, starts: list[int]) -> tuple[KeySignature, ...]:
    out: list[KeySignature] = []
    for mi, off, fifths, mode in reference.keys:
        tick = _units_to_ticks(starts[mi] + off)
        if out and (out[-1].fifths, out[-1].mode) == (fifths, mode):
            continue
        if out and out[-1].tick == tick:
            out[-1] = KeySignature(tick, fifths, mode)
        else:
            out.append(KeySignature(tick, fifths, mode))
    return tuple(out) or (KeySignature(0),)


def _tempos(parts: list[_Part], starts: list[int], ctx: _Ctx) -> tuple[Tempo, ...]:
    """The tempo map from every part's marks. Of marks on one tick a <sound tempo> wins
    over a <metronome>, then the earlier part, then the earlier mark. A first mark
    within the first two measures (after a pickup, say) holds from the start; a later
    one leaves the unmarked beginning at MusicXML's default of 120 bpm."""
    events = []
    for p in parts:
        for k, (mi, off, prio, bpm, line) in enumerate(p.tempos):
            events.append((_units_to_ticks(starts[mi] + off), prio, p.index, k, bpm, line))
    # the mark that wins a tick comes last, as tempo_list wants it
    events.sort(key=lambda e: (e[0], -e[1], -e[2], -e[3]))
    if not events:
        ctx.warn(f"no tempo marking; assuming {limits.DEFAULT_BPM:g} bpm")
        return (Tempo(0, limits.DEFAULT_BPM),)
    out = tempo_list([(tick, bpm, line) for tick, _p, _i, _k, bpm, line in events], ctx,
                     start="default", warn_start=False)
    if events[0][0] != 0 and len(out) > 1:
        first = out[1]
        early = _units_to_ticks(starts[min(2, len(starts) - 1)])
        if first.tick <= early:
            return (Tempo(0, first.bpm),) + out[2:]
        ctx.warn(f"no tempo marking before tick {first.tick}; assuming "
                 f"{limits.DEFAULT_BPM:g} bpm there")
    return out


def _title(root: _Elem) -> str:
    work = root.find("work")
    for text in ((work.findtext("work-title") if work is not None else None),
                 root.findtext("movement-title")):
        if text and text.strip():
            return " ".join(text.split())
    for credit in root.findall("credit"):
        if (credit.findtext("credit-type") or "").strip() == "title":
            words = " ".join(w.text.strip() for w in credit.findall("credit-words"))
            if words.strip():
                return " ".join(words.split())
    return ""


def _note_count(part: _Part) -> int:
    return sum(1 for ev in part.notes if not ev.grace)


def _part_mention(p: _Part) -> str:
    """``part 'Alto' (--part 2, 31 notes)``: a part as --part counts it (every part)."""
    return f"part {p.name!r} (--part {p.index + 1}, {notes(_note_count(p))})"


def _voices(part: _Part) -> list[str]:
    return sorted({ev.voice for ev in part.notes if not ev.grace}, key=_voice_key)


def _verses_listing(part: _Part) -> str:
    numbers = sorted({ly.number for ev in part.notes for ly in ev.lyrics if ly.text})
    return ", ".join(map(str, numbers)) or "(none)"


def _sings(part: _Part, verse: int | str | None, voice: str | None, ctx: _Ctx) -> bool:
    """Whether a part that nobody asked for by --part has what --verse and --voice ask
    for; if not, a warning says why it is not sung. A part without any lyric is left
    to the lyric rule (settle_lyrics)."""
    if voice is not None and voice not in _voices(part):
        ctx.warn(f"{_part_mention(part)} has no voice {voice} (its voices are "
                 f"{', '.join(_voices(part))}) and is not sung", part.line)
        return False
    if verse is not None and _has_lyrics(part) and not _has_lyrics(part, verse):
        what = f"lyrics named {verse!r}" if isinstance(verse, str) else f"verse {verse}"
        ctx.warn(f"{_part_mention(part)} has no {what} (it has verses "
                 f"{_verses_listing(part)}) and is not sung", part.line)
        return False
    return True


def _candidates(parts: list[_Part], options: ReadOptions, verse: int | str | None,
                ctx: _Ctx) -> tuple[list[_Part], _Part]:
    """The parts that may be sung, in score order, and the reference part (whose
    measures, time and key signatures the song follows).

    ``--part``: that part alone. Otherwise every part with notes that has the verse and
    voice asked for (each left out is named in a warning); when none has them, the
    error is the one the reference part gives. A score where no part has lyrics (and
    nothing says to sing or keep such parts) is refused, naming the parts."""
    if options.part is not None:
        chosen = _choose_part(parts, options.part, ctx)
        if not _note_count(chosen):
            raise ctx.error(f"{chosen.describe()} has no notes", chosen.line)
        return [chosen], chosen
    with_notes = [p for p in parts if _note_count(p)]
    if not with_notes:
        raise ctx.error("the score has no notes", parts[0].line)
    if not any(_has_lyrics(p) for p in parts) and not options.keep_tracks_without_lyrics \
            and not clean_default_lyric(options):
        raise no_lyrics_error("; ".join(_part_mention(p) for p in with_notes), ctx, "part")
    reference = _reference_part(parts, verse)
    voice = None if options.voice is None else str(options.voice).strip()
    # where no part has the verse or the voice asked for, the reference part's own
    # error says what the score has instead
    if verse is not None and any(_has_lyrics(p) for p in with_notes) \
            and not any(_has_lyrics(p, verse) for p in with_notes):
        _choose_verse(reference, verse, ctx)
    if voice is not None and not any(voice in _voices(p) for p in with_notes):
        _choose_voice(reference, options.voice, verse, ctx)
    return [p for p in with_notes if _sings(p, verse, voice, ctx)], reference


def _draft(part: _Part, options: ReadOptions, verse_spec: int | str | None,
           starts: list[int], ctx: _Ctx) -> TrackDraft | None:
    """The part's track as read (its notes in ticks); what was repaired on the way
    becomes the draft's notices, said only if the track is kept. None (with a warning)
    for a part nobody asked for whose notes all fall shorter than a tick."""
    verse = _choose_verse(part, verse_spec, ctx) if _has_lyrics(part) else (verse_spec or 1)
    voice = _choose_voice(part, options.voice, verse, ctx)
    draft = TrackDraft(name=part.name, line=part.line)

    def notice(message: str, at: int | None) -> None:
        draft.notices.append((message, at))

    sung = _sung_notes(part, voice, verse, starts, notice)
    # a note without a lyric holds the syllable before it (a melisma); in a part
    # without any lyric, it has none (NO_LYRIC) until the lyric rule settles it
    missing = CONTINUATION if any(s.lyric for s in sung) else NO_LYRIC
    for s in sung:
        a, b = _units_to_ticks(s.start), _units_to_ticks(s.end)
        if b <= a:
            notice(f"note shorter than one tick in measure {s.measure_number} dropped", s.line)
            continue
        draft.notes.append(Note(start_ticks=a, duration_ticks=b - a, pitch=s.pitch,
                                lyric=s.lyric if s.lyric else missing,
                                source=f"measure {s.measure_number}"))
    if not draft.notes:
        message = f"{part.describe()} has no notes in voice {voice}"
        if options.part is not None:
            raise ctx.error(message, part.line)
        ctx.warn(f"{message} longer than a tick; it is not sung", part.line)
        return None
    if part.unpitched:
        notice(f"{part.unpitched} unpitched note(s) dropped", part.line)
    if part.lyric_on_rest:
        notice(f"{part.lyric_on_rest} lyric(s) on rests ignored", part.line)
    other_voices = [v for v in _voices(part) if v != voice]
    if other_voices:
        notice(f"singing voice {voice}; voice(s) {', '.join(other_voices)} ignored", part.line)
    return draft


def _key_text(k: KeySignature) -> str:
    count = abs(k.fifths)
    accidentals = "no sharps or flats" if not count else \
        f"{count} {'sharp' if k.fifths > 0 else 'flat'}{'s' if count > 1 else ''}"
    return f"{accidentals}, {k.mode}"


def _time_text(sig: tuple[int, int] | None) -> str:
    return f"{sig[0]}/{sig[1]}" if sig else "none"


def _accidentals(keys: tuple[KeySignature, ...]) -> list[tuple[int, int]]:
    """Where the sharps and flats change (a mode alone that differs is not a
    disagreement: writers fill it in loosely)."""
    out: list[tuple[int, int]] = []
    for k in keys:
        if not out or out[-1][1] != k.fifths:
            out.append((k.tick, k.fifths))
    return out


def _check_agreement(parts: list[_Part], reference: _Part, kept: list[_Part],
                     starts: list[int], keys: tuple[KeySignature, ...], ctx: _Ctx) -> None:
    """Warn where a sung part's time signatures or sharps and flats differ from the
    reference's (the first difference of each kind): every track follows the reference
    part's."""
    ref_times = reference.times or next((p.times for p in parts if p.times), {})
    ref = f"part {reference.name!r} (--part {reference.index + 1})"
    for p in kept:
        if p is reference:
            continue
        if p.times and ref_times and p.times != ref_times:
            mi = min(m for m in set(p.times) | set(ref_times)
                     if p.times.get(m) != ref_times.get(m))
            theirs, ours = p.times.get(mi), ref_times.get(mi)
            ctx.warn(f"{_part_mention(p)} has time signature {_time_text(theirs)} in measure "
                     f"{p.measures[mi].number if mi < len(p.measures) else mi + 1} where {ref} "
                     f"has {_time_text(ours)}; the song follows {ref}", p.line)
        own = _key_signatures(p, starts)
        if p.keys and _accidentals(own) != _accidentals(keys):
            k = next((i for i, (a, b) in enumerate(zip(own, keys))
                      if (a.tick, a.fifths) != (b.tick, b.fifths)), min(len(own), len(keys)))
            theirs_k = own[min(k, len(own) - 1)]
            ours_k = keys[min(k, len(keys) - 1)]
            ctx.warn(f"{_part_mention(p)} has key signature {_key_text(theirs_k)} at tick "
                     f"{theirs_k.tick} where {ref} has {_key_text(ours_k)} at tick "
                     f"{ours_k.tick}; the song follows {ref}", p.line)


def _interpret(root: _Elem, ctx: _Ctx, options: ReadOptions) -> Project:
    if root.tag == "score-timewise":
        raise ctx.error("timewise MusicXML (<score-timewise>) is not supported; convert it "
                        "to partwise (MusicXML's timewise-to-partwise XSLT, or re-export "
                        "from the notation program)", root.line)
    if root.tag != "score-partwise":
        raise ctx.error(f"not a MusicXML score: the root element is <{root.tag}>, "
                        "not <score-partwise>", root.line)
    names: dict[str, str] = {}
    part_list = root.find("part-list")
    if part_list is not None:
        for sp in part_list.findall("score-part"):
            pid = sp.get("id")
            if pid:
                names[pid] = " ".join((sp.findtext("part-name") or "").split())
    part_els = root.findall("part")
    if not part_els:
        raise ctx.error("the score has no <part>", root.line)
    seq = [0]
    parts = [_PartScanner(pel, i, names.get(pel.get("id", ""), "") or pel.get("id", "")
                          or f"Part {i + 1}", ctx, seq).scan()
             for i, pel in enumerate(part_els)]
    if not any(p.notes for p in parts):
        raise ctx.error("the score has no notes", root.line)

    verse_spec = _verse_spec(options.verse, ctx)
    candidates, reference = _candidates(parts, options, verse_spec, ctx)
    starts, lengths = _measure_starts(parts, reference)
    drafted = [(p, _draft(p, options, verse_spec, starts, ctx)) for p in candidates]
    if any(p.repeats for p in parts):
        ctx.warn("repeat signs are not expanded: the score is sung once, as written")
    tempos = _tempos(parts, starts, ctx)
    kept = [(p, d) for p, d in drafted
            if d is not None and settle_lyrics(d, p.index + 1, options, ctx, noun="part",
                                               asked=options.part is not None,
                                               fill_missing=False, count=_note_count(p))]
    if not kept:
        asked = "".join(f" {what} {value}" for what, value in
                        (("--verse", options.verse), ("--voice", options.voice))
                        if value is not None)
        raise ctx.error(f"no part has lyrics to sing with{asked}; the parts with notes are: "
                        + "; ".join(_part_mention(p) for p in parts if _note_count(p)),
                        root.line)
    keys = _key_signatures(reference, starts)
    _check_agreement(parts, reference, [p for p, _d in kept], starts, keys, ctx)
    drafts = [d for _p, d in kept]
    return finish(ctx, drafts, options, tempos=tempos,
                  time_signatures=_time_signatures(parts, reference, starts, lengths),
                  key_signatures=keys, title=_title(root), noun="part", tidy=False,
                  select=lambda _all: drafts)


# --------------------------------------------------------------------------------------
# Public entry points


def read(data: bytes, *, path: str | None = None, options: ReadOptions | None = None) -> Project:
    """Read MusicXML bytes (plain partwise XML or a compressed .mxl) into a Project with
    a track per sung part (see :class:`~utagoe.formats.options.ReadOptions` for
    ``part``, ``verse``, ``voice``, ``lenient``, ``default_lyric`` and
    ``keep_tracks_without_lyrics``). The registry's read function.

    ``path`` only names the file in messages and ``Project.source_path``.
    """
    options = options or ReadOptions()
    ctx = _Ctx(path, options.lenient)
    check_size_and_content(data, ctx)
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        data, member = _unpack_mxl(data, ctx)
        ctx.member = member
        if not data.strip():
            raise ctx.error("the MusicXML document in the .mxl is empty")
    if _looks_binary(data):
        raise ctx.error("binary data, not MusicXML", 1)
    root = _parse_xml(data, ctx)
    return _interpret(root, ctx, options)
