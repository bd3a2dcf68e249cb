"""UTAU sequence (.ust) reader: UST 1.x, UST 2.0 and UTAU plugin temp files.

A UST is INI-like text: ``[#VERSION]``, ``[#SETTING]``, one ``[#nnnn]`` section per
note (rests included), ``[#TRACKEND]``. Plugin temp files add ``[#PREV]`` and
``[#NEXT]`` (context around the selection) and may hold ``[#INSERT]`` /
``[#DELETE]`` blocks. See ``shared/data/FORMATS.md`` section 1.

The reader returns one :class:`~utagoe.model.Track` (name: ``ProjectName``, else
``"UST"``) on the 480-ticks-per-quarter clock:

- Timing. UST 1.x notes are consecutive: each starts where the previous one ends.
  A note with ``Delta``, ``Duration`` and ``Length`` (UST 2.0) starts ``Delta``
  ticks after the previous note's start and lasts ``Duration``.
- Rests (``R``, ``r``, empty, and VCV into a rest such as ``a R``) and breaths
  (``息``, ``吸``, ``br``, ``breath``) advance time and are not notes; breaths are
  named in the warnings. Other lyrics are kept as written after a leading ``?``
  (UTAU's "no automatic alias" mark) is stripped: ``a か``, ``かD4``, ``い弱``.
- ``[#PREV]`` / ``[#NEXT]`` are not sung (a warning says so); a sung ``[#PREV]``
  gives the first note the pitch its portamento starts from. ``[#DELETE]`` is
  skipped; ``[#INSERT]`` is a note.
- Pitch: mode 2 (``PBS``/``PBW``/``PBY``/``PBM``) becomes ``Note.pitch_points``; the
  first point starts on the previous note's pitch when that note is sung and ends
  where this one starts (UTAU, OpenUtau and TSURU all snap it there), else at
  ``PBS``'s height. Mode 1 (``PitchBend``, also spelled ``Pitches``/``Piches``: one
  value in cents every ``PBType`` ticks from ``PBStart`` ms) becomes straight-line
  points. A note with both uses mode 2. ``VBR`` becomes ``Note.vibrato``.
- ``Velocity``, ``Intensity``, ``Modulation`` (or the typo ``Moduration``),
  ``PreUtterance``, ``VoiceOverlap`` and ``StartPoint`` become ``Note.expressions``
  (``vel``, ``vol``, ``mod``, ``preutter_ms``, ``overlap_ms``, ``stp_ms``);
  ``Flags`` (the note's, then the project's) and ``Envelope`` are kept.
- Tempo: ``[#SETTING] Tempo`` at tick 0 (missing: the first note's ``Tempo``, else
  120 BPM with a warning); a note's ``Tempo`` changes it from that note's start.
  ``TimeSignatures=(4/4/0),`` (UST 2.0) gives time signatures, else 4/4.
- Encoding: ``options.encoding`` if given; else UTF-8 after a BOM; else the
  ``Charset=`` line among the first 10 lines; else UTF-8 when the bytes hold
  non-ASCII text that is valid UTF-8 (UTAU never writes that by accident; a
  warning says so), else Shift-JIS (cp932). A declared charset the bytes do not
  follow falls back to UTF-8 when they are valid UTF-8 (warning).

Strict and lenient. Parsing is strict by default; with ``lenient=True`` the
recoverable problems below become ``Project.warnings``:

- lines that are not ``key=value`` (outside ``[#VERSION]``'s version line), text
  before the first section, a key given twice with different values (lenient:
  the last one counts; the same key twice with the same value is harmless and
  passes silently), numbers that do not parse, ``Length <= 0`` (lenient: the
  note is dropped), a missing or bad ``NoteNum`` (lenient: the note is not sung,
  time still advances), bad ``Tempo`` values (lenient: OpenUtau's repair: the
  first note's tempo, else 120 BPM), bad pitch curves, vibratos and envelopes
  (lenient: dropped), non-numeric, non-finite or absurd (beyond 1e5) ``Velocity``,
  ``Intensity`` and ``Modulation`` (lenient: ignored).
- Always warnings, never errors (harmless): unknown sections, sections after
  ``[#TRACKEND]``, a non-numeric ``PreUtterance``/``VoiceOverlap``/``StartPoint``
  (the voicebank's value is used; a real UTAU plugin file writes
  ``PreUtterance=あ``), a note without ``Lyric`` (a rest), extra ``Envelope`` values
  after the 11th (UTSU writes them), out-of-range but sane vibrato values and
  ``Velocity``/``Intensity``/``Modulation`` (clamped to UTAU's ranges); unknown
  keys are ignored silently.
- Always errors (no obvious repair): not a UST, undecodable text in strict mode,
  positions or lengths beyond ``limits.MAX_TICKS``, songs longer than
  ``limits.MAX_SONG_SECONDS``, more than ``limits.MAX_NOTES`` notes, and a file
  with no sung note (with ``keep_tracks_without_lyrics``: an empty project and a
  warning). Notes that overlap (UST 2.0 ``Delta``) are tidied as in every reader
  (:func:`utagoe.formats.common.tidy_notes`).

Safety: the reader only looks at the bytes it is given; ``VoiceDir`` and every
other path in the file is kept as text (``Track.source_singer``) and never opened.
Work and memory are bounded: note sections are counted before any is parsed,
unknown keys are not stored, warnings are capped.
"""
from __future__ import annotations

import codecs
import math
import re
from dataclasses import dataclass
from typing import Iterator

from ..model.score import CONTINUATION, Note, PitchPoint, Project, Tempo, TimeSignature, Vibrato
from ..model.units import TICKS_PER_QUARTER
from . import limits
from .common import (Problem, ReadContext, TrackDraft, check_size_and_content, finish,
                     tempo_list)
from .options import ReadOptions

#: sections of any kind (notes plus settings, context and unknown ones)
MAX_SECTIONS = 2 * limits.MAX_NOTES
#: default mode-1 pitch-bend interval (ticks)
DEFAULT_PBTYPE = 5
#: ms values (PBS, PBW, PreUtterance, Envelope points ...) beyond this are absurd
MAX_ABS_MS = 600_000.0
#: a pitch offset beyond this many cents is absurd (UTAU's own range is +-2048)
MAX_ABS_CENTS = 100_000.0
#: plain numbers (percentages, velocities) beyond this magnitude are absurd
MAX_ABS_VALUE = 100_000.0
#: number tokens longer than this are not numbers (bounds int()/float() work)
_MAX_NUMBER_CHARS = 48

_UTF8_BOM = b"\xef\xbb\xbf"

#: ``[#NAME]`` on a line of its own
_HEADER_RE = re.compile(r"^[ \t]*\[#([^\]\r\n]*)\][ \t\r]*$", re.M)
_DIGITS_RE = re.compile(r"[0-9]+")
_CODEC_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_VERSION_RE = re.compile(r"UST\s*Version\s*([0-9][0-9.]*)?", re.I)
_TIMESIG_RE = re.compile(r"\(\s*([0-9]{1,6})\s*/\s*([0-9]{1,6})\s*/\s*([0-9]{1,9})\s*\)")
_SNIFF_RE = re.compile(
    rb"\A[ \t\r\n]*\[#(?:VERSION|SETTING|PREV|[0-9]{1,8})\][ \t]*\r?(?:\n|\Z)")

#: keys read from note sections (lower-case spelling -> canonical)
_NOTE_KEYS = {k.lower(): k for k in (
    "Length", "Lyric", "NoteNum", "PreUtterance", "VoiceOverlap", "StartPoint", "Velocity",
    "Intensity", "Modulation", "Moduration", "Flags", "Envelope", "PBS", "PBW", "PBY", "PBM",
    "PitchBend", "Pitches", "Piches", "PBType", "PBStart", "VBR", "Tempo", "Delta",
    "Duration", "layer")}
_SETTING_KEYS = {k.lower(): k for k in (
    "Tempo", "ProjectName", "VoiceDir", "Mode2", "Flags", "UstVersion", "TimeSignatures",
    "Tracks", "Charset")}
_VERSION_KEYS = {"charset": "Charset"}
#: the keys a [#PREV] / [#NEXT] context note is read for
_CONTEXT_KEYS = {k.lower(): k for k in ("Length", "Lyric", "NoteNum", "Tempo", "Delta",
                                        "Duration")}

_REST_LYRICS = frozenset({"R", "r"})
_BREATH_RE = re.compile(r"(?:br|breath|息|吸)[0-9]*", re.I)
#: PBM letters -> our shapes; OpenUtau's own names (io, l, i, o) are accepted as well
_PBM_SHAPES = {"": "io", "s": "l", "r": "o", "j": "i", "io": "io", "l": "l", "i": "i", "o": "o"}
_CHARSET_ALIASES = {
    "utf8": "utf-8", "utf-8": "utf-8", "utf_8": "utf-8",
    "shift_jis": "cp932", "shift-jis": "cp932", "shiftjis": "cp932", "sjis": "cp932",
    "x-sjis": "cp932", "windows-31j": "cp932", "cp932": "cp932", "ms932": "cp932",
    "ms_kanji": "cp932",
}
#: UTAU's ranges for the note expressions (values beyond them are clamped)
_EXPRESSION_RANGES = {"vel": (0.0, 200.0), "vol": (0.0, 200.0), "mod": (-200.0, 200.0)}
#: UTAU's vibrato ranges: length %, period ms, depth cents, fade in %, fade out %,
#: phase %, height (drift) %; OpenUtau goes down to a 5 ms period
_VIBRATO_RANGES = ((0.0, 100.0), (5.0, 512.0), (0.0, 200.0), (0.0, 100.0), (0.0, 100.0),
                   (-100.0, 100.0), (-100.0, 100.0))
_VIBRATO_NAMES = ("length", "period", "depth", "fade-in", "fade-out", "phase", "height")


# --------------------------------------------------------------------------------------
# Entry points


def sniff(head: bytes) -> bool:
    """Do these first bytes (up to 4096) look like a UST or a UTAU plugin temp file?

    True when the first non-blank line (after an optional UTF-8 BOM) is a
    ``[#VERSION]``, ``[#SETTING]``, ``[#PREV]`` or numbered note header. Never raises.
    """
    try:
        h = bytes(head[:4096])
        if h.startswith(_UTF8_BOM):
            h = h[3:]
        return _SNIFF_RE.match(h) is not None
    except Exception:  # a sniffer must never raise
        return False


def read(data: bytes, *, path: str | None = None, options: ReadOptions | None = None) -> Project:
    """Read a UST (1.x or 2.0) or UTAU plugin temp file into a Project.

    ``path`` only names the file in messages and ``Project.source_path``.
    ``options.part``: a UST has one track: ``None``, ``1`` or its name select it.
    ``options.encoding``: a Python codec name that overrides detection. Every
    problem raises :class:`~utagoe.errors.ScoreFormatError` naming the file and line.
    """
    options = options or ReadOptions()
    ctx = _Ctx(path, options.lenient)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ctx.error(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    check_size_and_content(data, ctx)
    text = _decode(data, options.encoding, ctx)
    if "\n" not in text and "\r" in text:  # classic Mac line endings
        text = text.replace("\r", "\n")
    headers, prelude_end = _find_headers(text, ctx)
    return _Interpreter(text, headers, prelude_end, ctx).run(options)


# --------------------------------------------------------------------------------------
# Problems and warnings


_Ctx = ReadContext


def _show(s: str, limit: int = 60) -> str:
    """A value quoted for a message, cut to ``limit`` characters."""
    return repr(s if len(s) <= limit else s[:limit] + "...")


# --------------------------------------------------------------------------------------
# Text: encoding and lines


def _codec(name: str) -> str | None:
    """The Python codec for a charset name, or None if there is no such text codec."""
    key = name.strip().lower()
    if key in _CHARSET_ALIASES:
        return _CHARSET_ALIASES[key]
    if not _CODEC_NAME_RE.fullmatch(key):
        return None
    try:
        info = codecs.lookup(key)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def _declared_charset(data: bytes) -> tuple[str, int] | None:
    """The ``Charset=`` value among the first 10 lines, and its line number."""
    for i, raw in enumerate(data[:4096].split(b"\n")[:10]):
        s = raw.strip()
        if i == 0 and s.startswith(_UTF8_BOM):
            s = s[3:]
        if s[:8].lower() == b"charset=":
            return s[8:].strip().decode("latin-1"), i + 1
    return None


def _line_of_offset(data: bytes, offset: int) -> int:
    nl = b"\n" if b"\n" in data else b"\r"
    return data.count(nl, 0, max(0, offset)) + 1


def _try_decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except Exception:  # UnicodeDecodeError, and whatever an exotic codec raises
        return None


def _decode_as(data: bytes, codec: str, ctx: _Ctx, offset: int) -> str:
    """Decode strictly, or with ``lenient`` replace bad bytes (with a warning)."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError as e:
        line = _line_of_offset(data, e.start)
        bad = data[e.start:e.start + 1].hex()
        message = f"bytes that are not valid {codec} text (0x{bad} at byte {e.start + offset})"
        if not ctx.lenient:
            raise ctx.error(f"{message}; read it leniently or give its encoding", line) \
                from None
    except Exception as e:  # codecs that fail in other ways
        raise ctx.error(f"cannot decode the file as {codec}: {e}") from None
    try:
        text = data.decode(codec, errors="replace")
    except Exception as e:
        raise ctx.error(f"cannot decode the file as {codec}: {e}") from None
    ctx.warn(f"{message}; replaced with U+FFFD", line)
    return text


def _decode(data: bytes, forced: str | None, ctx: _Ctx) -> str:
    """The file's text (BOM removed), decoding as the module docstring says."""
    offset = 0
    if forced is not None:
        codec = _codec(str(forced))
        if codec is None:
            raise ctx.error(f"unknown text encoding {forced!r}")
        if codec == "utf-8" and data.startswith(_UTF8_BOM):
            data, offset = data[3:], 3
        text = _decode_as(data, codec, ctx, offset)
        return text[1:] if text.startswith("\ufeff") else text
    if data.startswith(_UTF8_BOM):
        return _decode_as(data[3:], "utf-8", ctx, 3)
    declared = _declared_charset(data)
    if declared is not None:
        name, line = declared
        codec = _codec(name)
        if codec is None:
            ctx.problem(f"unknown Charset {_show(name)}", line, "detecting the encoding")
        else:
            as_declared = _try_decode(data, codec)
            if as_declared is not None:
                return as_declared
            if codec != "utf-8":
                as_utf8 = _try_decode(data, "utf-8")
                if as_utf8 is not None:
                    ctx.warn(f"the file says Charset={name} but is not valid {codec}; "
                             "it is valid UTF-8 and was read as UTF-8", line)
                    return as_utf8
            return _decode_as(data, codec, ctx, 0)
    if not data.isascii():
        utf8 = _try_decode(data, "utf-8")
        if utf8 is not None:
            ctx.warn("no Charset line, but the text is valid UTF-8 (not the usual "
                     "Shift-JIS); read as UTF-8")
            return utf8
    return _decode_as(data, "cp932", ctx, 0)


def _body_lines(text: str, start: int, end: int, first_line: int) -> Iterator[tuple[int, str]]:
    """(line number, line without its line ending) for text[start:end]; lazily for
    large bodies, so that a section of millions of lines holds no list of them."""
    if end - start <= 65536:  # the usual case: a split is much faster
        body = text[start:end]
        if body.endswith("\n"):
            body = body[:-1]
        for i, s in enumerate(body.split("\n") if body else (), first_line):
            yield i, s[:-1] if s.endswith("\r") else s
        return
    line = first_line
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        if nl < 0:
            nl = end
        s = text[pos:nl]
        yield line, s[:-1] if s.endswith("\r") else s
        pos = nl + 1
        line += 1


@dataclass(frozen=True, slots=True)
class _Header:
    """One ``[#NAME]`` line and where its body lies in the text."""

    name: str        # upper case, as between "[#" and "]"
    line: int        # 1-based line of the header
    body_start: int  # text offsets of the body
    body_end: int
    body_line: int   # line number of the body's first line

    @property
    def is_note(self) -> bool:
        return self.name == "INSERT" or _DIGITS_RE.fullmatch(self.name) is not None

    @property
    def label(self) -> str:
        return f"[#{self.name}]"


def _find_headers(text: str, ctx: _Ctx) -> tuple[list[_Header], int]:
    """Every section header (refusing too many before any is parsed), and where the
    text before the first one ends."""
    found: list[tuple[str, int, int, int]] = []  # name, line, start, end of header line
    line, last, notes = 1, 0, 0
    for m in _HEADER_RE.finditer(text):
        line += text.count("\n", last, m.start())
        last = m.start()
        name = m.group(1).strip().upper()
        if name == "INSERT" or _DIGITS_RE.fullmatch(name):
            notes += 1
            if notes > limits.MAX_NOTES:
                raise ctx.error(f"more than {limits.MAX_NOTES} notes; refusing the file", line)
        if len(found) >= MAX_SECTIONS:
            raise ctx.error(f"more than {MAX_SECTIONS} sections; refusing the file", line)
        found.append((name, line, m.start(), m.end()))
    if not found:
        raise ctx.error("not a UST file: no [#SETTING], [#VERSION] or note section")
    headers = []
    for i, (name, hline, _start, hend) in enumerate(found):
        body_end = found[i + 1][2] if i + 1 < len(found) else len(text)
        body_start = min(hend + 1, body_end)
        headers.append(_Header(name, hline, body_start, body_end, hline + 1))
    return headers, found[0][2]


def _read_entries(text: str, h: _Header, known: dict[str, str], ctx: _Ctx, *,
                  version_section: bool = False) -> dict[str, tuple[str, int]]:
    """The known keys of one section: canonical key -> (raw value, line)."""
    out: dict[str, tuple[str, int]] = {}
    for line, s in _body_lines(text, h.body_start, h.body_end, h.body_line):
        key, eq, value = s.partition("=")
        if not eq:
            stripped = s.strip()
            if not stripped:
                continue
            if version_section and _VERSION_RE.match(stripped):
                out.setdefault("_version", (stripped, line))
                continue
            ctx.problem(f"expected key=value in {h.label}: {_show(stripped)}", line,
                        "line ignored")
            continue
        key = key.strip()
        canon = known.get(key.lower())
        if canon is None:
            continue  # keys we do not use (Label, $region, @filename, OutFile ...)
        old = out.get(canon)
        if old is not None:
            if old[0].strip() == value.strip():
                continue
            ctx.problem(f"{key} is given twice in {h.label} (first at line {old[1]}) with "
                        f"different values", line, "the last one is used")
        out[canon] = (value, line)
    return out


# --------------------------------------------------------------------------------------
# Values


def _number(raw: str) -> float | None:
    """A decimal number (``120``, ``-30.5``, ``1e3``), or None if it is not one.

    May return inf for huge exponents: callers check ``math.isfinite``."""
    t = raw.strip()
    if len(t) > _MAX_NUMBER_CHARS:
        return None
    if t.isdigit() and t.isascii():  # the common case, fast
        return float(t)
    if not _FLOAT_RE.fullmatch(t):
        return None
    return float(t)


def _finite(raw: str, what: str, line: int, bound: float) -> float:
    """A finite number within +-bound, else a Problem."""
    v = _number(raw)
    if v is None:
        raise Problem(f"{what} is not a number: {_show(raw.strip())}", line)
    if not math.isfinite(v) or abs(v) > bound:
        raise Problem(f"{what} is out of range: {_show(raw.strip())}", line)
    return v


def _number_list(raw: str, what: str, line: int, bound: float, limit: int) -> list[float]:
    """Comma-separated numbers; empty items are 0 (as UTAU writes them)."""
    if raw.count(",") + 1 > limit:
        raise Problem(f"{what} has more than {limit} values", line)
    out = []
    for item in raw.split(","):
        out.append(0.0 if not item.strip() else _finite(item, what, line, bound))
    return out


def _ticks(raw: str, what: str, line: int, ctx: _Ctx) -> int | None:
    """A tick count (integer; a whole float such as ``480.0`` is fine). None: a
    problem reported in lenient mode. Beyond MAX_TICKS: always an error."""
    v = _number(raw)
    if v is None:
        ctx.problem(f"{what} is not a number: {_show(raw.strip())}", line, "ignored")
        return None
    if not math.isfinite(v) or abs(v) > limits.MAX_TICKS:
        raise ctx.error(f"{what} {_show(raw.strip())} is beyond the limit of "
                        f"{limits.MAX_TICKS} ticks", line)
    if v != int(v):
        ctx.problem(f"{what} is not a whole number of ticks: {_show(raw.strip())}", line,
                    "rounded")
    return int(round(v))


def _lyric_kind(lyric: str) -> str:
    """'rest', 'breath' or 'sung' for a lyric (as written, ``?`` already stripped)."""
    tokens = lyric.split()
    if not tokens or tokens[-1] in _REST_LYRICS:
        return "rest"
    if _BREATH_RE.fullmatch(tokens[-1]):
        return "breath"
    return "sung"


def _clean_lyric(raw: str) -> str:
    lyric = raw.strip()
    if lyric.startswith("?"):
        lyric = lyric[1:].strip()
    if lyric in ("+", "+~", "+*"):  # OpenUtau's continuation notes, exported as is
        return CONTINUATION
    return lyric


# --------------------------------------------------------------------------------------
# Pitch, vibrato, envelope


def _mode2_points(e: dict[str, tuple[str, int]],
                  snap_cents: float | None) -> tuple[PitchPoint, ...]:
    """PBS/PBW/PBY/PBM as pitch points (ms from the note start, cents from its pitch).

    ``snap_cents``: where the previous sung note ends right at this one, its pitch
    relative to this note; the first point starts there (UTAU's behaviour)."""
    pbs_raw, pbs_line = e["PBS"]
    parts = pbs_raw.split(";", 2) if ";" in pbs_raw else pbs_raw.split(",", 2)
    x0 = _finite(parts[0], "PBS", pbs_line, MAX_ABS_MS) if parts[0].strip() else 0.0
    y0 = 0.0
    if len(parts) > 1 and parts[1].strip():
        y0 = _finite(parts[1], "PBS height", pbs_line, MAX_ABS_CENTS / 10) * 10.0
    if snap_cents is not None:
        y0 = snap_cents
    cap = limits.MAX_NOTE_PITCH_POINTS - 1
    widths: list[float] = []
    if "PBW" in e and e["PBW"][0].strip():
        widths = _number_list(e["PBW"][0], "PBW", e["PBW"][1], MAX_ABS_MS, cap)
    if not widths:
        return ()
    heights: list[float] = []
    if "PBY" in e and e["PBY"][0].strip():
        heights = _number_list(e["PBY"][0], "PBY", e["PBY"][1], MAX_ABS_CENTS / 10, cap + 1)
    shapes = e["PBM"][0].split(",", len(widths) + 1) if "PBM" in e else []
    points = [(x0, y0)]
    x = x0
    for i, w in enumerate(widths):
        if w < 0:
            raise Problem(f"PBW has a negative width ({w:g} ms)", e["PBW"][1])
        x += w
        points.append((x, heights[i] * 10.0 if i < len(heights) else 0.0))
    return tuple(PitchPoint(px, py, _PBM_SHAPES.get(shapes[i].strip() if i < len(shapes)
                                                    else "", "io"))
                 for i, (px, py) in enumerate(points))


def _mode1_points(e: dict[str, tuple[str, int]], key: str, ms_per_tick: float
                  ) -> tuple[PitchPoint, ...]:
    """Legacy PitchBend (cents every PBType ticks from PBStart ms) as straight-line
    points; points on a straight line between their neighbours are dropped."""
    raw, line = e[key]
    values = _number_list(raw, key, line, MAX_ABS_CENTS, limits.MAX_NOTE_PITCH_POINTS)
    step = DEFAULT_PBTYPE
    if "PBType" in e and e["PBType"][0].strip():
        t = _finite(e["PBType"][0], "PBType", e["PBType"][1], MAX_ABS_VALUE)
        if t != int(t) or not 1 <= t <= TICKS_PER_QUARTER:
            raise Problem(f"PBType must be a whole number of ticks from 1 to "
                          f"{TICKS_PER_QUARTER}: {_show(e['PBType'][0].strip())}", e["PBType"][1])
        step = int(t)
    start = 0.0
    if "PBStart" in e and e["PBStart"][0].strip():
        start = _finite(e["PBStart"][0], "PBStart", e["PBStart"][1], MAX_ABS_MS)
    if len(values) < 2:
        return ()
    dt = step * ms_per_tick
    keep = [0]
    for i in range(1, len(values) - 1):
        if values[i] - values[i - 1] != values[i + 1] - values[i]:
            keep.append(i)
    keep.append(len(values) - 1)
    return tuple(PitchPoint(start + i * dt, values[i], "l") for i in keep)


def _vibrato(raw: str, line: int, ctx: _Ctx) -> Vibrato:
    """VBR: ``length%, period ms, depth cents, fade in %, fade out %, phase %,
    height %[, unused[, frequency slope, unused]]`` (7 from OpenUtau, 8 from
    UTAU, 10 from UTAU-Synth). Finite values outside UTAU's ranges are clamped
    with a warning; non-finite values or a period <= 0 are a Problem."""
    items = raw.split(",", 10)
    if not 7 <= len(items) <= 10:
        count = "more" if len(items) > 10 else str(len(items))
        raise Problem(f"VBR needs 7 to 10 values, not {count}: {_show(raw.strip())}", line)
    values = [0.0 if not s.strip() else _finite(s, "VBR", line, MAX_ABS_VALUE)
              for s in items[:7]]
    for s in items[7:]:  # unused and the frequency slope: must still be numbers
        if s.strip():
            _finite(s, "VBR", line, MAX_ABS_VALUE)
    if values[1] <= 0:
        raise Problem(f"VBR period must be > 0 ms, not {values[1]:g}", line)
    clamped = []
    for i, (lo, hi) in enumerate(_VIBRATO_RANGES):
        v = min(max(values[i], lo), hi)
        if v != values[i]:
            clamped.append(f"{_VIBRATO_NAMES[i]} {values[i]:g} -> {v:g}")
            values[i] = v
    if clamped:
        ctx.warn(f"VBR values outside UTAU's ranges clamped: {', '.join(clamped)}", line)
    return Vibrato(length_pct=values[0], period_ms=values[1], depth_cents=values[2],
                   fade_in_pct=values[3], fade_out_pct=values[4], phase_pct=values[5],
                   drift_pct=values[6])


def _envelope(raw: str, line: int, ctx: _Ctx) -> tuple[float, ...]:
    """``p1,p2,p3,v1,v2,v3,v4[,%[,p4[,p5,v5]]]`` -> (p1..v4[, p4[, p5, v5]]).

    The 8th item is the overlap slot (``%``, or a number from UTSU) and is left
    out. Items after the 11th (UTSU adds some) are ignored with a warning."""
    if raw.count(",") >= 64:
        raise Problem("Envelope has more than 64 values; at most 11 are known", line)
    items = [s.strip() for s in raw.split(",")]
    if len(items) > 11:
        ctx.warn(f"Envelope has {len(items)} values; the ones after the 11th are ignored",
                 line)
        items = items[:11]
    if len(items) < 7 or len(items) == 10:
        raise Problem(f"Envelope needs 7, 8, 9 or 11 values, not {len(items)}: "
                      f"{_show(raw.strip())}", line)
    if len(items) >= 8 and items[7] not in ("%", ""):
        _finite(items[7], "Envelope overlap", line, MAX_ABS_MS)
    out = []
    for s in items[:7] + items[8:]:
        v = float(s) if s.isdigit() and s.isascii() and len(s) < 16 else _number(s)
        if v is None or not math.isfinite(v) or abs(v) > MAX_ABS_MS:
            raise Problem(f"Envelope value {_show(s)} is not a number within "
                          f"+-{MAX_ABS_MS:g}", line)
        out.append(v)
    return tuple(out)


# --------------------------------------------------------------------------------------
# The file


@dataclass(slots=True)
class _Prev:
    """The last note that was sung, for the next note's portamento start."""

    pitch: int
    end_ticks: int


class _Interpreter:
    """Walks the sections in order, keeping the time cursor and the tempo map."""

    def __init__(self, text: str, headers: list[_Header], prelude_end: int,
                 ctx: _Ctx) -> None:
        self.text = text
        self.headers = headers
        self.prelude_end = prelude_end
        self.ctx = ctx
        self.tempos: list[Tempo] = [Tempo(0, limits.DEFAULT_BPM)]
        self.tempo_from_setting = False
        self.time_signatures: list[TimeSignature] = [TimeSignature(0, 4, 4)]
        self.title = ""
        self.voice_dir = ""
        self.project_flags = ""
        self.notes: list[Note] = []
        self.last_pos = 0      # previous note's start (UST 2.0 Delta counts from it)
        self.cursor = 0        # previous note's end (UST 1.x notes start there)
        self.prev: _Prev | None = None
        self.seen_note = False
        self.breaths: list[int] = []
        self.context: list[str] = []
        self._note_tempo_at_zero = False

    # -- the whole file -----------------------------------------------------------

    def run(self, options: ReadOptions) -> Project:
        ctx = self.ctx
        for line, s in _body_lines(self.text, 0, self.prelude_end, 1):
            if s.strip():
                ctx.problem(f"text before the first section: {_show(s.strip())}", line,
                            "ignored")
                break
        live = self.headers
        for i, h in enumerate(self.headers):
            if h.name == "TRACKEND":
                live = self.headers[:i]
                rest = [x for x in self.headers[i + 1:]]
                if rest:
                    ctx.warn(f"{len(rest)} section(s) after [#TRACKEND] ignored (first: "
                             f"{rest[0].label})", rest[0].line)
                break
        first_note_line = next((h.line for h in live if h.is_note), None)
        for h in live:
            if h.name == "VERSION":
                self._version(h)
            elif h.name == "SETTING":
                if first_note_line is not None and h.line > first_note_line:
                    ctx.warn("[#SETTING] comes after the first note; it still applies", h.line)
                self._setting(h)
        for h in live:
            if h.is_note:
                self._note(h)
            elif h.name in ("PREV", "NEXT"):
                self._context(h)
            elif h.name == "DELETE":
                ctx.warn("[#DELETE]: a note a UTAU plugin deleted; skipped", h.line)
            elif h.name not in ("VERSION", "SETTING"):
                ctx.warn(f"unknown section {h.label} ignored", h.line)
        return self._project(options)

    def _project(self, options: ReadOptions) -> Project:
        ctx = self.ctx
        if not self.tempo_from_setting and not self._note_tempo_at_zero:
            ctx.warn(f"no usable Tempo in [#SETTING] or on the first note; using "
                     f"{limits.DEFAULT_BPM:g} BPM")
        if self.breaths:
            shown = ", ".join(str(n) for n in self.breaths[:10])
            more = " ..." if len(self.breaths) > 10 else ""
            ctx.warn(f"{len(self.breaths)} breath note(s) (lines {shown}{more}) are not sung: "
                     "breath notes are not sung yet")
        for message in self.context:
            ctx.warn(message)
        track = TrackDraft(name=self.title or "UST", notes=self.notes,
                           source_singer=self.voice_dir)
        tempos = tempo_list(((t.tick, t.bpm, None) for t in self.tempos), ctx)
        return finish(ctx, [track], options, tempos=tempos,
                      time_signatures=tuple(self.time_signatures), title=self.title)

    # -- [#VERSION] and [#SETTING] ------------------------------------------------

    def _version(self, h: _Header) -> None:
        e = _read_entries(self.text, h, _VERSION_KEYS, self.ctx, version_section=True)
        if "_version" in e:
            raw, line = e["_version"]
            m = _VERSION_RE.match(raw)
            if m is None:
                return
            v = _number(m.group(1) or "")
            if v is not None and math.isfinite(v) and v > 2.0:
                self.ctx.warn(f"UST version {m.group(1)} is newer than the 2.0 this reader "
                              "knows; reading it as 2.0", line)

    def _setting(self, h: _Header) -> None:
        ctx = self.ctx
        e = _read_entries(self.text, h, _SETTING_KEYS, ctx)
        if "Tempo" in e:
            raw, line = e["Tempo"]
            bpm = _number(raw)
            if bpm is not None and limits.bpm_ok(bpm):
                self.tempos[0] = Tempo(0, bpm)
                self.tempo_from_setting = True
            else:
                ctx.problem(f"Tempo {_show(raw.strip())} is not a tempo from "
                            f"{limits.MIN_BPM:g} to {limits.MAX_BPM:g} BPM", line,
                            "using the first note's tempo, else 120 BPM")
        if "ProjectName" in e:
            self.title = e["ProjectName"][0].strip()
        if "VoiceDir" in e:
            self.voice_dir = e["VoiceDir"][0].strip()
        if "Flags" in e:
            self.project_flags = e["Flags"][0].strip()
        if "TimeSignatures" in e:
            self._time_signatures(*e["TimeSignatures"])

    def _time_signatures(self, raw: str, line: int) -> None:
        """UST 2.0 ``TimeSignatures=(4/4/0),(3/4/8),``: numerator/denominator/bar."""
        ctx = self.ctx
        body = raw.strip()
        if not body:
            return
        if body.count("(") > 10_000:
            ctx.problem("TimeSignatures has more than 10000 entries", line, "using 4/4")
            return
        found = _TIMESIG_RE.findall(body)
        leftover = _TIMESIG_RE.sub("", body).replace(",", "").strip()
        if leftover or not found:
            ctx.problem(f"TimeSignatures is not a list of (numerator/denominator/bar): "
                        f"{_show(body)}", line, "using 4/4")
            return
        out: list[TimeSignature] = []
        bar0, tick0, measure = 0, 0, TimeSignature(0, 4, 4).measure_ticks
        for num_s, den_s, bar_s in found:
            num, den, bar = int(num_s), int(den_s), int(bar_s)
            if not 1 <= num <= 255 or den not in (1, 2, 4, 8, 16, 32, 64, 128):
                ctx.problem(f"time signature {num}/{den} is not valid", line, "skipped")
                continue
            if out and bar <= bar0:
                ctx.problem(f"time signature at bar {bar} does not come after bar {bar0}",
                            line, "skipped")
                continue
            tick = tick0 + (bar - bar0) * measure if out else bar * measure
            if tick > limits.MAX_TICKS:
                raise ctx.error(f"time signature at bar {bar} is beyond the song's limit", line)
            ts = TimeSignature(tick, num, den)
            out.append(ts)
            bar0, tick0, measure = bar, tick, ts.measure_ticks
        if not out:
            return
        if out[0].tick != 0:
            out.insert(0, TimeSignature(0, 4, 4))
        self.time_signatures = out

    # -- notes --------------------------------------------------------------------

    def _context(self, h: _Header) -> None:
        """[#PREV] / [#NEXT]: not sung; a sung PREV is where the first note comes from."""
        e = _read_entries(self.text, h, _CONTEXT_KEYS, self.ctx)
        lyric = _clean_lyric(e["Lyric"][0]) if "Lyric" in e else ""
        self.context.append(f"{h.label} (line {h.line}, lyric {lyric!r}) is the note "
                            f"{'before' if h.name == 'PREV' else 'after'} a UTAU plugin's "
                            "selection: context, not sung")
        if h.name != "PREV" or self.seen_note:
            return
        self.prev = None
        if _lyric_kind(lyric) != "sung" or "NoteNum" not in e:
            return
        pitch = _number(e["NoteNum"][0])
        if pitch is not None and 0 <= pitch <= 127 and pitch == int(pitch):
            self.prev = _Prev(int(pitch), 0)

    def _note(self, h: _Header) -> None:
        ctx = self.ctx
        full = _read_entries(self.text, h, _NOTE_KEYS, ctx)
        self.seen_note = True
        if "layer" in full and full["layer"][0].strip():
            # UTAU-Synth keeps notes of other layers in the same file; UTSU skips them
            ctx.warn(f"{h.label} is on layer {_show(full['layer'][0].strip())}, not the main "
                     "one; not sung", h.line)
            return
        where = f"line {h.line} ({h.label})"
        lyric = _clean_lyric(full["Lyric"][0]) if "Lyric" in full else ""
        if "Lyric" not in full:
            ctx.warn(f"{h.label} has no Lyric; treated as a rest", h.line)
        kind = _lyric_kind(lyric)

        start, duration = self._timing(h, full)
        if start is None:
            return  # dropped (lenient): time does not advance
        self._note_tempo(h, full, start)
        self.last_pos = start
        self.cursor = start + duration
        prev, self.prev = self.prev, None
        if kind == "breath":
            self.breaths.append(h.line)
        if kind != "sung" or duration <= 0:
            return
        pitch = self._pitch(h, full)
        if pitch is None:
            return
        snap = None
        if prev is not None and prev.end_ticks == start:
            snap = float((prev.pitch - pitch) * 100)
        note = Note(start_ticks=start, duration_ticks=duration, pitch=pitch, lyric=lyric,
                    source=where,
                    pitch_points=self._pitch_points(full, snap, self._ms_per_tick(start)),
                    vibrato=self._vibrato(full),
                    expressions=self._expressions(full),
                    flags=(full["Flags"][0].strip() if "Flags" in full else "")
                    + self.project_flags,
                    envelope=self._envelope(full))
        if len(self.notes) >= limits.MAX_NOTES:
            raise ctx.error(f"more than {limits.MAX_NOTES} notes; refusing the file", h.line)
        self.notes.append(note)
        self.prev = _Prev(pitch, start + duration)

    def _timing(self, h: _Header, e: dict[str, tuple[str, int]]) -> tuple[int | None, int]:
        """(start, duration) in ticks; (None, 0) when the note is dropped (lenient)."""
        ctx = self.ctx
        if "Length" not in e:
            ctx.problem(f"{h.label} has no Length", h.line, "note dropped")
            return None, 0
        length = _ticks(e["Length"][0], "Length", e["Length"][1], ctx)
        if length is None:
            return None, 0
        start, duration, dur_line = self.cursor, length, e["Length"][1]
        if "Delta" in e and "Duration" in e:  # UST 2.0
            delta = _ticks(e["Delta"][0], "Delta", e["Delta"][1], ctx)
            dur = _ticks(e["Duration"][0], "Duration", e["Duration"][1], ctx)
            if delta is not None and dur is not None:
                if delta < 0:
                    ctx.problem(f"Delta is negative ({delta})", e["Delta"][1], "using 0")
                    delta = 0
                start, duration, dur_line = self.last_pos + delta, dur, e["Duration"][1]
        if duration <= 0:
            what = "Duration" if dur_line != e["Length"][1] else "Length"
            ctx.problem(f"{what} must be > 0, not {duration}", dur_line, "note dropped")
            return None, 0
        if start + duration > limits.MAX_TICKS:
            raise ctx.error(f"the note ends past the limit of {limits.MAX_TICKS} ticks",
                            dur_line)
        return start, duration

    def _note_tempo(self, h: _Header, e: dict[str, tuple[str, int]], start: int) -> None:
        if "Tempo" not in e:
            return
        raw, line = e["Tempo"]
        bpm = _number(raw)
        if bpm is None or not limits.bpm_ok(bpm):
            self.ctx.problem(f"Tempo {_show(raw.strip())} is not a tempo from "
                             f"{limits.MIN_BPM:g} to {limits.MAX_BPM:g} BPM", line, "ignored")
            return
        if start == 0:
            self._note_tempo_at_zero = True
        if self.tempos[-1].tick == start:
            self.tempos[-1] = Tempo(start, bpm)
            if len(self.tempos) > 1 and self.tempos[-2].bpm == bpm:
                self.tempos.pop()
        elif self.tempos[-1].bpm != bpm:
            self.tempos.append(Tempo(start, bpm))

    def _ms_per_tick(self, tick: int) -> float:
        bpm = self.tempos[0].bpm
        for t in reversed(self.tempos):
            if t.tick <= tick:
                bpm = t.bpm
                break
        return 60_000.0 / (bpm * TICKS_PER_QUARTER)

    def _pitch(self, h: _Header, e: dict[str, tuple[str, int]]) -> int | None:
        ctx = self.ctx
        if "NoteNum" not in e:
            ctx.problem(f"{h.label} has no NoteNum", h.line, "note not sung")
            return None
        raw, line = e["NoteNum"]
        v = _number(raw)
        if v is None or not math.isfinite(v) or v != int(v) \
                or not limits.MIN_PITCH <= v <= limits.MAX_PITCH:
            ctx.problem(f"NoteNum must be a whole number from {limits.MIN_PITCH} to "
                        f"{limits.MAX_PITCH}, not {_show(raw.strip())}", line, "note not sung")
            return None
        return int(v)

    def _pitch_points(self, e: dict[str, tuple[str, int]], snap: float | None,
                      ms_per_tick: float) -> tuple[PitchPoint, ...]:
        try:
            if "PBS" in e and e["PBS"][0].strip():
                return _mode2_points(e, snap)
            for key in ("PitchBend", "Pitches", "Piches"):
                if key in e and e[key][0].strip():
                    return _mode1_points(e, key, ms_per_tick)
        except Problem as bad:
            self.ctx.problem(bad.message, bad.at, "pitch curve dropped")
        return ()

    def _vibrato(self, e: dict[str, tuple[str, int]]) -> Vibrato | None:
        if "VBR" not in e or not e["VBR"][0].strip():
            return None
        try:
            return _vibrato(e["VBR"][0], e["VBR"][1], self.ctx)
        except Problem as bad:
            self.ctx.problem(bad.message, bad.at, "vibrato dropped")
            return None

    def _envelope(self, e: dict[str, tuple[str, int]]) -> tuple[float, ...]:
        if "Envelope" not in e or not e["Envelope"][0].strip():
            return ()
        try:
            return _envelope(e["Envelope"][0], e["Envelope"][1], self.ctx)
        except Problem as bad:
            self.ctx.problem(bad.message, bad.at, "envelope dropped")
            return ()

    def _expressions(self, e: dict[str, tuple[str, int]]) -> tuple[tuple[str, float], ...]:
        ctx = self.ctx
        out: list[tuple[str, float]] = []
        mod_key = "Modulation" if "Modulation" in e else "Moduration"
        for key, name in (("Velocity", "vel"), ("Intensity", "vol"), (mod_key, "mod")):
            if key not in e or not e[key][0].strip():
                continue
            raw, line = e[key]
            try:
                v = _finite(raw, key, line, MAX_ABS_VALUE)
            except Problem as bad:
                ctx.problem(bad.message, bad.at, "ignored")
                continue
            lo, hi = _EXPRESSION_RANGES[name]
            if not lo <= v <= hi:  # finite and not absurd: clamp, as UTAU's own UI does
                c = min(max(v, lo), hi)
                ctx.warn(f"{key} {v:g} is outside UTAU's range {lo:g}..{hi:g}; clamped to "
                         f"{c:g}", line)
                v = c
            out.append((name, v))
        for key, name in (("PreUtterance", "preutter_ms"), ("VoiceOverlap", "overlap_ms"),
                          ("StartPoint", "stp_ms")):
            if key not in e or not e[key][0].strip():
                continue
            raw, line = e[key]
            ms = _number(raw)
            if ms is None:  # UTAU itself writes e.g. "PreUtterance=あ"; harmless
                ctx.warn(f"{key} {_show(raw.strip())} is not a number; the voicebank's value "
                         "is used", line)
                continue
            if not math.isfinite(ms) or abs(ms) > MAX_ABS_MS:
                ctx.problem(f"{key} {_show(raw.strip())} ms is out of range", line, "ignored")
                continue
            out.append((name, ms))
        return tuple(out)
