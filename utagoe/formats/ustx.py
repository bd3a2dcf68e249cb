"""OpenUtau ``.ustx`` projects (YAML): reader and writer.

Reading merges every voice part of a track into one :class:`~utagoe.model.Track`
(note tick = part position + note position), with the track's name, singer id
(text only), volume, pan and mute. Positions, lengths, tempo positions and curve
xs are read at the file's own ``resolution`` (ticks per quarter; OpenUtau writes
480, some converters 10080) and scaled to 480 exactly where they divide, else to
the nearest tick (a warning says so); an absurd resolution is a problem (lenient:
480). Pitch points are in milliseconds and need no scaling. Per note it
keeps the tone, the lyric (``+``, ``+~``, ``+*`` ... become
:data:`~utagoe.model.CONTINUATION`; ``word[p h]`` gives lyric ``word`` and
phonemes ``("p", "h")``), the pitch points (ms and cents), the vibrato, and the
per-note expressions. With ``snap_first`` the first pitch point is recomputed as
OpenUtau's ``UNote.Validate`` does: the previous note's tone minus this one's when
the previous note of the part ends exactly here, else 0. A note that overlaps the
note before it in its part is not sung (OpenUtau marks it as an error). A ``+``
after a rest sings the vowel before it again, as a continuation after a rest does
in every format (OpenUtau itself extends only a note that touches the one before).
A note without a ``lyric`` key sings OpenUtau's default, ``a`` (a warning says so);
an empty lyric is no lyric (:data:`~utagoe.model.score.NO_LYRIC`), and a track
without any lyric follows the rule every reader shares
(:func:`utagoe.formats.common.select_tracks`). Part curves become track curves on
absolute ticks. Wave (audio) parts are not played; a warning says so.

Safety: the YAML is read event by event with libyaml where available, and the
node tree is built here without recursion; anchors, aliases, explicit tags other
than the standard scalar ones, more than :data:`MAX_DEPTH` levels of nesting and
more than :data:`MAX_NODES` nodes are refused, so no file can expand, recurse or
construct objects. Every value the reader uses is type- and range-checked; every
problem raises :class:`~utagoe.errors.ScoreFormatError` naming the file and line
(with ``lenient``, a broken note, tempo, curve or part is left out with a warning
instead, and values OpenUtau itself would clamp are clamped with a warning).

Writing produces ``ustx_version: "0.7"`` in the schema OpenUtau 0.7 writes (the
version of the newest real files we compared against); OpenUtau upgrades it on load.
Normalisations of a write-then-read round trip: notes without pitch points come
back with OpenUtau's default two points (x -40 and 40 ms, snapped to the previous
note), notes without vibrato come back with a zero-length vibrato, curve values
are rounded to integers (OpenUtau stores ``List<int>``), cents to 1e-6 and pan to
1e-8, vibrato values are clamped to OpenUtau's ranges, only expressions and curves
OpenUtau knows are written, overlapping notes are dropped on reading, and a note
without a lyric (NO_LYRIC) is written with OpenUtau's default lyric ``a`` -- what
OpenUtau's own MIDI import gives such a note -- and so comes back sung on ``a``.
"""
from __future__ import annotations

import math
import re
from typing import overload
from dataclasses import dataclass, field

import yaml

from ..errors import ScoreFormatError
from ..model.score import (CONTINUATION, PITCH_SHAPES, KeySignature, Note, PitchPoint, Project,
                           Tempo, TimeSignature, Track, TrackCurve, Vibrato)
from ..model.units import TICKS_PER_QUARTER
from . import limits
from .common import (NO_LYRIC, ReadContext, TrackDraft, bar_start_ticks, check_size_and_content,
                     finish, tempo_list)
from .options import ReadOptions

#: nesting depth of YAML collections we accept (OpenUtau files use 6)
MAX_DEPTH = 64
#: YAML nodes (scalars and collections) in one file: a project at limits.MAX_NOTES with
#: OpenUtau's ~30 values per note still fits; memory stays under about 1 GB
MAX_NODES = 8_000_000
#: the newest ``ustx_version`` we read (OpenUtau's own, ``Ustx.kUstxVersion``)
NEWEST_VERSION = (0, 9)
#: the version the writer writes: its schema is what :func:`write` produces
WRITE_VERSION = "0.7"
#: no pitch point may be further than this from its note (ms)
MAX_POINT_OFFSET_MS = float(limits.MAX_SONG_SECONDS * 1000)
#: pitch points and curve values are bounded by this (cents, 128 semitones)
MAX_CENTS = 12_800.0
#: expression and curve values are bounded by this (OpenUtau's units)
MAX_EXPRESSION_VALUE = 1e6
#: track volume bound (dB)
MAX_VOLUME_DB = 1000.0

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_BOM = b"\xef\xbb\xbf"
_SNIFF_RE = re.compile(rb"(?m)^ustx_version[ \t]*:")
#: characters YAML does not allow in a stream (as PyYAML's reader defines them)
_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD"
                            "\U00010000-\U0010FFFF]")
_INT_RE = re.compile(r"[-+]?[0-9]+")
_VERSION_RE = re.compile(r"\s*([0-9]{1,4})\.([0-9]{1,4})(?:\.[0-9]{1,6}){0,2}\s*")
_KANA_RE = re.compile("[\u3040-\u30ff]")

_YAML_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_YAML_TAG + t for t in ("str", "int", "float", "bool", "null"))
_PLAIN_TAGS = frozenset(_YAML_TAG + t for t in ("int", "float", "bool", "null"))
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_TRUE = frozenset(("true", "yes", "on", "1", "y"))
_FALSE = frozenset(("false", "no", "off", "0", "n"))

#: OpenUtau's lyric for a note that has none (``UNote.lyric``'s default, and what its
#: MIDI import gives a note without a lyric event); the writer writes it for NO_LYRIC
DEFAULT_LYRIC = "a"


# --------------------------------------------------------------------------------------
# Errors and warnings


_Ctx = ReadContext


@dataclass(frozen=True, slots=True)
class _Clock:
    """The file's ticks (``resolution`` per quarter note) to ours (480 per quarter)."""

    resolution: int = TICKS_PER_QUARTER

    @property
    def max_raw(self) -> int:
        """The largest position in file ticks that stays within limits.MAX_TICKS."""
        return limits.MAX_TICKS * self.resolution // TICKS_PER_QUARTER

    def ticks(self, raw: int) -> int:
        """File ticks to ours, exactly where they divide, else to the nearest (halves up)."""
        r = self.resolution
        if r == TICKS_PER_QUARTER:
            return raw
        return (2 * raw * TICKS_PER_QUARTER + r) // (2 * r)


# --------------------------------------------------------------------------------------
# A YAML node tree that remembers lines, built from events without recursion


class _Map(dict):
    """A YAML mapping (keys are the key scalars' text) and the line it starts on."""

    __slots__ = ("line",)
    line: int | None


class _Seq(list):
    """A YAML sequence and the line it starts on."""

    __slots__ = ("line",)
    line: int | None


class _Scalar:
    """A YAML scalar: its text, the line it is on, and whether it was plain (untagged
    and unquoted, or tagged int/float/bool/null), i.e. may mean null."""

    __slots__ = ("text", "line", "plain")

    def __init__(self, text: str, line: int, plain: bool) -> None:
        self.text = text
        self.line = line
        self.plain = plain

    def is_null(self) -> bool:
        return self.plain and self.text in _NULLS


def _line(node, default: int | None = None) -> int | None:
    return getattr(node, "line", default)


def _describe(node) -> str:
    if isinstance(node, _Map):
        return "a mapping"
    if isinstance(node, _Seq):
        return "a list"
    if isinstance(node, _Scalar):
        if node.is_null():
            return "empty"
        t = node.text
        return repr(t if len(t) <= 40 else t[:40] + "...")
    return "missing"


def _event_line(ev) -> int | None:
    mark = getattr(ev, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def _yaml_error(e: yaml.YAMLError, text: str, ctx: _Ctx) -> ScoreFormatError:
    line = None
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    if mark is not None:
        line = mark.line + 1
    else:
        position = getattr(e, "position", None)
        if isinstance(position, int):
            line = text.count("\n", 0, position) + 1
    problem = getattr(e, "problem", None) or getattr(e, "reason", None) or str(e)
    context = getattr(e, "context", None)
    msg = f"not valid YAML: {problem}" + (f" ({context})" if context else "")
    return ctx.fatal(" ".join(msg.split()), line)


def _compose(text: str, ctx: _Ctx):
    """The first YAML document of ``text`` as a tree of _Map, _Seq and _Scalar (or None)."""
    loader = _Loader(text)
    try:
        return _build(loader, ctx)
    except yaml.YAMLError as e:
        raise _yaml_error(e, text, ctx) from None
    finally:
        loader.dispose()


def _build(loader, ctx: _Ctx):
    """Consume events up to the end of the first document, building the tree."""
    get = loader.get_event
    Scalar, MStart, SStart = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    MEnd, SEnd = yaml.MappingEndEvent, yaml.SequenceEndEvent
    NOKEY = _NOKEY
    scalar_tags, plain_tags = _SCALAR_TAGS, _PLAIN_TAGS
    # frames: [container, pending key (NOKEY while a key is expected), is_map, own key]
    stack: list[list] = []
    top: list | None = None
    root: _Node | None = None
    nodes = 0
    notes = 0
    started = False
    while True:
        ev = get()
        if ev is None:
            break
        cls = ev.__class__
        if cls is Scalar:
            tag = ev.tag
            if ev.anchor is not None or (tag is not None and tag not in scalar_tags
                                         and tag != "!"):
                _refuse_node(ev, ctx)
            if top is not None and top[2] and top[1] is NOKEY:
                top[1] = ev.value  # a mapping key
                continue
            node = _Scalar(ev.value, ev.start_mark.line + 1,
                           ev.implicit[0] if tag is None else tag in plain_tags)
            nodes += 1
            if nodes > MAX_NODES:
                raise ctx.fatal(f"more than {MAX_NODES} YAML values; refusing", node.line)
            if top is None:
                root = node
            elif top[2]:
                key = top[1]
                if key in top[0]:
                    ctx.warn(f"key {key!r} appears twice in one mapping; the last wins",
                             node.line)
                top[0][key] = node
                top[1] = NOKEY
            else:
                top[0].append(node)
        elif cls is MStart or cls is SStart:
            line = ev.start_mark.line + 1
            tag = ev.tag
            if ev.anchor is not None or (tag is not None and tag != (
                    _YAML_TAG + "map" if cls is MStart else _YAML_TAG + "seq")):
                _refuse_node(ev, ctx)
            if len(stack) >= MAX_DEPTH:
                raise ctx.fatal(f"YAML nested more than {MAX_DEPTH} levels deep", line)
            container: _Map | _Seq = _Map() if cls is MStart else _Seq()
            container.line = line
            nodes += 1
            if nodes > MAX_NODES:
                raise ctx.fatal(f"more than {MAX_NODES} YAML values; refusing", line)
            own_key = None
            if top is None:
                root = container
            elif top[2]:
                key = top[1]
                if key is NOKEY:
                    raise ctx.fatal("a mapping key must be plain text, not a "
                                    f"{'mapping' if cls is MStart else 'list'}", line)
                if key in top[0]:
                    ctx.warn(f"key {key!r} appears twice in one mapping; the last wins", line)
                top[0][key] = container
                top[1] = NOKEY
                own_key = key
            else:
                top[0].append(container)
                if top[3] == "notes" and cls is MStart:
                    notes += 1
                    if notes > limits.MAX_NOTES:
                        raise ctx.fatal(f"more than {limits.MAX_NOTES} notes; refusing", line)
            top = [container, NOKEY, cls is MStart, own_key]
            stack.append(top)
        elif cls is MEnd or cls is SEnd:
            stack.pop()
            top = stack[-1] if stack else None
        elif cls is yaml.AliasEvent:
            raise ctx.fatal(f"YAML aliases (*{ev.anchor}) are not allowed in a project file",
                            _event_line(ev))
        elif cls is yaml.DocumentStartEvent:
            started = True
        elif cls is yaml.DocumentEndEvent:
            if loader.check_event(yaml.DocumentStartEvent):
                ctx.warn("the file holds more than one YAML document; only the first is read",
                         _event_line(loader.peek_event()))
            break
        elif cls is yaml.StreamEndEvent:
            break
    if not started:
        raise ctx.fatal("the file is empty (no YAML document)", 1)
    return root


def _refuse_node(ev, ctx: _Ctx) -> None:
    line = _event_line(ev)
    if ev.anchor is not None:
        raise ctx.fatal(f"YAML anchors (&{ev.anchor}) are not allowed in a project file", line)
    raise ctx.fatal(f"YAML tag {ev.tag!r} is not allowed in a project file", line)


#: a node of the tree
_Node = _Map | _Seq | _Scalar


class _NoKey:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<no key>"


_NOKEY = _NoKey()


# --------------------------------------------------------------------------------------
# Typed access to fields, with errors that name the line


def _get(m: _Map, key: str):
    """The node under ``key``, or None if absent or null."""
    node = m.get(key)
    if node is None or (isinstance(node, _Scalar) and node.is_null()):
        return None
    return node


def _parse_number(text: str) -> int | float | None:
    t = text.strip()
    if not t or len(t) > 64:
        return None
    if _INT_RE.fullmatch(t):
        return int(t)
    try:
        return float(t)
    except ValueError:
        return None


@overload
def _num(m: _Map, key: str, where: str, ctx: _Ctx, default: float) -> float: ...


@overload
def _num(m: _Map, key: str, where: str, ctx: _Ctx, default: None = None) -> float | None: ...


def _num(m: _Map, key: str, where: str, ctx: _Ctx, default: float | None = None) -> float | None:
    """A finite number under ``key`` (int or float), ``default`` when absent or null."""
    node = _get(m, key)
    if node is None:
        return default
    line = _line(node, m.line)
    if not isinstance(node, _Scalar):
        raise ctx.error(f"{where}: {key} must be a number, not {_describe(node)}", line)
    v = _parse_number(node.text)
    if v is None:
        raise ctx.error(f"{where}: {key} must be a number, not {_describe(node)}", line)
    if isinstance(v, float) and not math.isfinite(v):
        raise ctx.error(f"{where}: {key} must be a finite number, not {_describe(node)}", line)
    return v


@overload
def _int(m: _Map, key: str, where: str, ctx: _Ctx, default: int, *,
         lo: int | None = None, hi: int | None = None) -> int: ...


@overload
def _int(m: _Map, key: str, where: str, ctx: _Ctx, default: None = None, *,
         lo: int | None = None, hi: int | None = None) -> int | None: ...


def _int(m: _Map, key: str, where: str, ctx: _Ctx, default: int | None = None, *,
         lo: int | None = None, hi: int | None = None) -> int | None:
    """An integer under ``key`` within ``lo..hi``; a fraction is an error (lenient: rounded)."""
    v = _num(m, key, where, ctx, None)
    if v is None:
        return default
    line = _line(m.get(key), m.line)
    if isinstance(v, float):
        if abs(v) > 1e18:
            raise ctx.error(f"{where}: {key} {v:g} is out of range", line)
        if not v.is_integer():
            ctx.problem(f"{where}: {key} must be a whole number, not {v!r}; rounded", line)
        v = int(round(v))
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        shown = f"{v}" if abs(v) < 10**15 else f"{v:.3g}"
        raise ctx.error(f"{where}: {key} {shown} is outside {lo if lo is not None else '-inf'}.."
                        f"{hi if hi is not None else 'inf'}", line)
    return v


def _str(m: _Map, key: str, where: str, ctx: _Ctx, default: str = "") -> str:
    """Text under ``key`` (numbers and words as written), ``default`` when absent or null."""
    node = _get(m, key)
    if node is None:
        return default
    if not isinstance(node, _Scalar):
        raise ctx.error(f"{where}: {key} must be text, not {_describe(node)}",
                        _line(node, m.line))
    return node.text


def _bool(m: _Map, key: str, where: str, ctx: _Ctx, default: bool = False) -> bool:
    node = _get(m, key)
    if node is None:
        return default
    if isinstance(node, _Scalar):
        t = node.text.strip().lower()
        if t in _TRUE:
            return True
        if t in _FALSE:
            return False
    raise ctx.error(f"{where}: {key} must be true or false, not {_describe(node)}",
                    _line(node, m.line))


def _seq(m: _Map, key: str, where: str, ctx: _Ctx) -> _Seq:
    """The list under ``key``; an empty one when absent or null."""
    node = _get(m, key)
    if node is None:
        out = _Seq()
        out.line = m.line
        return out
    if not isinstance(node, _Seq):
        raise ctx.error(f"{where}: {key} must be a list, not {_describe(node)}",
                        _line(node, m.line))
    return node


def _as_map(node, where: str, ctx: _Ctx, line: int | None) -> _Map:
    if not isinstance(node, _Map):
        raise ctx.error(f"{where} must be a mapping, not {_describe(node)}", _line(node, line))
    return node


def _clamp(v: float, lo: float, hi: float) -> float:
    return lo if v < lo else hi if v > hi else v


# --------------------------------------------------------------------------------------
# Sniffing and decoding


def sniff(head: bytes) -> bool:
    """Does this look like an OpenUtau project (``ustx_version:`` at a line start)?"""
    try:
        h = bytes(head[:4096])
        if h.startswith(_BOM):
            h = h[3:]
        return _SNIFF_RE.search(h) is not None
    except Exception:  # a sniffer must never raise
        return False


def _decode(data: bytes, ctx: _Ctx, encoding: str | None) -> str:
    if encoding:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as e:
            raise ctx.fatal(f"not valid {encoding} text: {e.reason}",
                            data.count(b"\n", 0, e.start) + 1) from None
        except (LookupError, ValueError, TypeError) as e:
            raise ctx.fatal(f"cannot decode the file as {encoding!r}: {e}") from None
        return text[1:] if text.startswith("\ufeff") else text
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise ctx.fatal(f"not valid UTF-16 text: {e.reason} at byte {e.start}") from None
    if data.startswith(_BOM):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ctx.fatal(f"not UTF-8 text (byte 0x{data[e.start]:02x} at byte {e.start}); "
                        "OpenUtau writes UTF-8", line) from None


def _check_characters(text: str, ctx: _Ctx) -> str:
    m = _NON_PRINTABLE.search(text)
    if m is None:
        return text
    line = text.count("\n", 0, m.start()) + 1
    msg = (f"character U+{ord(m.group()):04X} is not allowed in a YAML file")
    if not ctx.lenient:
        raise ctx.fatal(msg, line)
    ctx.warn(msg + "; such characters were removed", line)
    return _NON_PRINTABLE.sub("", text)


# --------------------------------------------------------------------------------------
# Reading: what we gather


@dataclass
class _TrackInfo:
    index: int
    name: str
    singer: str = ""
    volume_db: float = 0.0
    pan: float = 0.0
    muted: bool = False
    line: int | None = None
    notes: list[Note] = field(default_factory=list)
    #: abbr -> list of segments (one per part), each a list of (tick, value)
    curves: dict[str, list[list[tuple[int, float]]]] = field(default_factory=dict)
    vol_links: int = 0
    timing_overrides: int = 0
    first_timing_override: int | None = None

    def describe(self) -> str:
        return f"track {self.name!r}"


@dataclass
class _RawNote:
    start: int          # absolute ticks (ours)
    end: int
    rel: int            # file ticks relative to the part
    duration: int       # file ticks
    tone: int
    lyric: str
    phonemes: tuple[str, ...]
    points: list[list]  # [offset_ms, cents, shape]
    snap_first: bool
    vibrato: Vibrato | None
    expressions: tuple[tuple[str, float], ...]
    line: int | None
    source: str


def _parse_version(m: _Map, ctx: _Ctx) -> tuple[int, int]:
    node = _get(m, "ustx_version")
    if node is None:
        ctx.problem("no ustx_version: not an OpenUtau project (reading it as 0.7)", m.line)
        return (0, 7)
    if not isinstance(node, _Scalar):
        raise ctx.fatal(f"ustx_version must be a version number, not {_describe(node)}",
                        node.line)
    mv = _VERSION_RE.fullmatch(node.text)
    if mv is None:
        raise ctx.fatal(f"ustx_version {_describe(node)} is not a version number", node.line)
    version = (int(mv.group(1)), int(mv.group(2)))
    if version > NEWEST_VERSION:
        raise ctx.fatal(f"the project was made by a newer OpenUtau (ustx_version "
                        f"{node.text.strip()}); this reader knows versions up to "
                        f"{NEWEST_VERSION[0]}.{NEWEST_VERSION[1]}", node.line)
    return version


def _read_tempos(m: _Map, clock: _Clock, ctx: _Ctx) -> tuple[Tempo, ...]:
    node = _get(m, "tempos")
    found: list[tuple[int, float, int | None]] = []
    if node is not None and not isinstance(node, _Seq):
        ctx.problem(f"tempos must be a list, not {_describe(node)}; using the legacy bpm",
                    node.line)
        node = None
    if node is not None:
        for i, item in enumerate(node):
            got = ctx.attempt(_read_tempo, item, i, clock, ctx, node.line)
            if got is not None:
                found.append(got)
    if not found:
        if node is not None:
            ctx.warn("the tempo list is empty; using the legacy bpm", node.line)
        bpm = ctx.attempt(_num, m, "bpm", "project", ctx, limits.DEFAULT_BPM)
        if bpm is None:
            bpm = limits.DEFAULT_BPM
        if not limits.bpm_ok(bpm):
            ctx.problem(f"bpm {bpm:g} is outside {limits.MIN_BPM:g}..{limits.MAX_BPM:g}; using "
                        f"{limits.DEFAULT_BPM:g}", _line(m.get("bpm"), m.line))
            bpm = limits.DEFAULT_BPM
        return (Tempo(0, float(bpm)),)
    return tempo_list(found, ctx, start="copy", drop_repeats=False)


def _read_tempo(item: object, i: int, clock: _Clock, ctx: _Ctx,
                line: int | None) -> tuple[int, float, int | None]:
    where = f"tempo {i + 1}"
    t = _as_map(item, where, ctx, line)
    pos = clock.ticks(_int(t, "position", where, ctx, 0, lo=0, hi=clock.max_raw) or 0)
    bpm = _num(t, "bpm", where, ctx, None)
    if bpm is None:
        raise ctx.error(f"{where} has no bpm", t.line)
    if not limits.bpm_ok(bpm):
        raise ctx.error(f"{where}: bpm {bpm:g} is outside {limits.MIN_BPM:g}.."
                        f"{limits.MAX_BPM:g}", _line(t.get("bpm"), t.line))
    return pos, float(bpm), t.line


def _read_signature_values(t: _Map, where: str, ctx: _Ctx, per_key: str = "beat_per_bar",
                           unit_key: str = "beat_unit") -> tuple[int, int]:
    num = _int(t, per_key, where, ctx, 4, lo=1, hi=1024)
    den = _int(t, unit_key, where, ctx, 4, lo=1, hi=128)
    if den & (den - 1):
        raise ctx.error(f"{where}: {unit_key} {den} is not a power of two",
                        _line(t.get(unit_key), t.line))
    return num, den


def _read_time_signatures(m: _Map, ctx: _Ctx) -> tuple[TimeSignature, ...]:
    node = _get(m, "time_signatures")
    found: list[tuple[int, int, int, int | None]] = []
    if node is not None and not isinstance(node, _Seq):
        ctx.problem(f"time_signatures must be a list, not {_describe(node)}; using the legacy "
                    "beat_per_bar and beat_unit", node.line)
        node = None
    if node is not None:
        for i, item in enumerate(node):
            got = ctx.attempt(_read_time_signature, item, i, ctx, node.line)
            if got is not None:
                found.append(got)
    if not found:
        if node is not None:
            ctx.warn("the time signature list is empty; using the legacy beat_per_bar and "
                     "beat_unit", node.line)
        got = ctx.attempt(_read_signature_values, m, "project", ctx)
        num, den = got if got is not None else (4, 4)
        return (TimeSignature(0, num, den),)
    found.sort(key=lambda s: s[0])
    bars: list[tuple[int, int, int]] = []
    for bar, num, den, line in found:
        if bars and bars[-1][0] == bar:
            ctx.warn(f"two time signatures at bar {bar}; the last ({num}/{den}) wins", line)
            bars[-1] = (bar, num, den)
        else:
            bars.append((bar, num, den))
    if bars[0][0] != 0:
        ctx.warn(f"the first time signature is at bar {bars[0][0]}; 4/4 holds before it",
                 found[0][3])
        bars.insert(0, (0, 4, 4))
    out: list[TimeSignature] = []
    for (bar, num, den), tick in zip(bars, bar_start_ticks(bars)):
        if tick > limits.MAX_TICKS:
            raise ctx.error(f"time signature at bar {bar} lies beyond the longest song "
                            f"({limits.MAX_TICKS} ticks)", found[-1][3])
        out.append(TimeSignature(tick, num, den))
    return tuple(out)


def _read_time_signature(item, i: int, ctx: _Ctx, line: int | None):
    where = f"time signature {i + 1}"
    t = _as_map(item, where, ctx, line)
    bar = _int(t, "bar_position", where, ctx, 0, lo=0, hi=limits.MAX_TICKS)
    num, den = _read_signature_values(t, where, ctx)
    return bar, num, den, t.line


def _read_key(m: _Map, ctx: _Ctx) -> tuple[KeySignature, ...]:
    key = ctx.attempt(_int, m, "key", "project", ctx, 0)
    if key is None:
        return (KeySignature(0),)
    if not 0 <= key <= 11:
        ctx.warn(f"key {key} is outside 0..11; using C", _line(m.get("key"), m.line))
        key = 0
    return (KeySignature(0, fifths=(key * 7 + 5) % 12 - 5, mode="major"),)


def _read_track(item, i: int, ctx: _Ctx, line: int | None) -> _TrackInfo:
    where = f"track {i + 1}"
    t = _as_map(item, where, ctx, line)
    info = _TrackInfo(index=i, name=f"Track {i + 1}", line=t.line)
    info.name = _str(t, "track_name", where, ctx, "").strip() or info.name
    where = info.describe()
    info.singer = _str(t, "singer", where, ctx, "")
    vol = _num(t, "volume", where, ctx, 0.0)
    if abs(vol) > MAX_VOLUME_DB:
        raise ctx.error(f"{where}: volume {vol:g} dB is absurd", _line(t.get("volume"), t.line))
    info.volume_db = float(vol)
    pan = _num(t, "pan", where, ctx, 0.0) / 100.0
    if not -1.0 <= pan <= 1.0:
        ctx.warn(f"{where}: pan {pan * 100:g} is outside -100..100; clamped",
                 _line(t.get("pan"), t.line))
        pan = _clamp(pan, -1.0, 1.0)
    info.pan = round(pan, 8) + 0.0
    info.muted = _bool(t, "mute", where, ctx, False)
    return info


def _read_tracks(m: _Map, ctx: _Ctx) -> list[_TrackInfo]:
    node = _get(m, "tracks")
    if node is None:
        return []
    if not isinstance(node, _Seq):
        raise ctx.fatal(f"tracks must be a list, not {_describe(node)}", node.line)
    if len(node) > limits.MAX_TRACKS:
        raise ctx.fatal(f"{len(node)} tracks; the limit is {limits.MAX_TRACKS}", node.line)
    out = []
    for i, item in enumerate(node):
        info = ctx.attempt(_read_track, item, i, ctx, node.line)
        if info is None:  # lenient: keep the index with a plain track
            info = _TrackInfo(index=i, name=f"Track {i + 1}", line=_line(item, node.line))
        out.append(info)
    return out


# --------------------------------------------------------------------------------------
# Notes


def _split_lyric(raw: str, version: tuple[int, int]) -> tuple[str, tuple[str, ...]]:
    """OpenUtau lyric -> (lyric, phonemes): ``?`` prefix off, ``[...]`` hint split off,
    ``+...`` -> CONTINUATION, pre-0.5 ``...`` -> CONTINUATION."""
    lyric = raw
    if version < (0, 5) and lyric.startswith("..."):
        lyric = "+" + lyric[3:]
    if lyric.startswith("?"):
        lyric = lyric[1:]
    phonemes: tuple[str, ...] = ()
    # OpenUtau's hint is the greedy "\[(.*)\]": from the first "[" to the last "]"
    # (found without a regex, which would backtrack quadratically on "[[[[...")
    i = lyric.find("[")
    j = lyric.rfind("]")
    if 0 <= i < j:
        phonemes = tuple(lyric[i + 1:j].split())
        lyric = (lyric[:i] + lyric[j + 1:]).strip()
    if lyric.startswith("+"):
        lyric = CONTINUATION
    return lyric, phonemes


def _read_points(n: _Map, where: str, ctx: _Ctx) -> tuple[list[list], bool]:
    pitch = _get(n, "pitch")
    if pitch is None:
        return [], False
    p = _as_map(pitch, f"{where}: pitch", ctx, n.line)
    snap = _bool(p, "snap_first", where, ctx, True)
    data = _seq(p, "data", f"{where}: pitch", ctx)
    if len(data) > limits.MAX_NOTE_PITCH_POINTS:
        raise ctx.error(f"{where}: {len(data)} pitch points; the limit is "
                        f"{limits.MAX_NOTE_PITCH_POINTS}", data.line)
    points: list[list] = []
    for k, item in enumerate(data):
        pw = f"{where}: pitch point {k + 1}"
        pt = _as_map(item, pw, ctx, data.line)
        x = _num(pt, "x", pw, ctx, 0.0)
        y = _num(pt, "y", pw, ctx, 0.0)
        if abs(x) > MAX_POINT_OFFSET_MS:
            raise ctx.error(f"{pw}: x {x:g} ms is absurd", pt.line)
        cents = round(y * 10.0, 6) + 0.0
        if abs(cents) > MAX_CENTS:
            raise ctx.error(f"{pw}: y {y:g} (tenths of a semitone) is absurd", pt.line)
        shape = _str(pt, "shape", pw, ctx, "io").strip()
        if shape not in PITCH_SHAPES:
            ctx.warn(f"{pw}: unknown shape {shape!r}; read as 'io'", pt.line)
            shape = "io"
        points.append([float(x), cents, shape])
    return points, snap


#: (field, model name, default, lo, hi): OpenUtau's UVibrato defaults and clamps
_VIBRATO_FIELDS = (
    ("length", 0.0, 0.0, 100.0),
    ("period", 175.0, 5.0, 500.0),
    ("depth", 25.0, 5.0, 200.0),
    ("in", 10.0, 0.0, 100.0),
    ("out", 10.0, 0.0, 100.0),
    ("shift", 0.0, 0.0, 100.0),
    ("drift", 0.0, -100.0, 100.0),
    ("vol_link", 0.0, -100.0, 100.0),
)


def _read_vibrato(n: _Map, where: str, ctx: _Ctx) -> tuple[Vibrato | None, float]:
    node = _get(n, "vibrato")
    if node is None:
        return None, 0.0
    v = _as_map(node, f"{where}: vibrato", ctx, n.line)
    vals: dict[str, float] = {}
    for name, default, lo, hi in _VIBRATO_FIELDS:
        x = float(_num(v, name, f"{where}: vibrato", ctx, default))
        if not lo <= x <= hi:
            ctx.warn(f"{where}: vibrato {name} {x:g} is outside {lo:g}..{hi:g}; clamped as "
                     "OpenUtau does", v.line)
            x = _clamp(x, lo, hi)
        vals[name] = x
    fade_in = min(vals["in"], 100.0 - vals["out"])
    vib = Vibrato(length_pct=vals["length"], period_ms=vals["period"],
                  depth_cents=vals["depth"], fade_in_pct=fade_in, fade_out_pct=vals["out"],
                  phase_pct=vals["shift"], drift_pct=vals["drift"])
    return vib, vals["vol_link"]


def _read_expressions(n: _Map, where: str, ctx: _Ctx, version) -> tuple[tuple[str, float], ...]:
    items = _seq(n, "phoneme_expressions", where, ctx)
    best: dict[str, tuple[int, float]] = {}
    for k, item in enumerate(items):
        ew = f"{where}: phoneme expression {k + 1}"
        e = _as_map(item, ew, ctx, items.line)
        abbr = _str(e, "abbr", ew, ctx, "").strip()
        if not abbr or len(abbr) > 32:
            raise ctx.error(f"{ew}: abbr {abbr!r} is not an expression name", e.line)
        if version < (0, 4) and abbr == "acc":
            abbr = "atk"
        index = _int(e, "index", ew, ctx, 0, lo=0, hi=10_000)
        value = float(_num(e, "value", ew, ctx, 0.0))
        if abs(value) > MAX_EXPRESSION_VALUE:
            raise ctx.error(f"{ew}: value {value:g} is absurd", e.line)
        if abbr not in best or index < best[abbr][0]:
            best[abbr] = (index, value)
    return tuple((abbr, v) for abbr, (_, v) in best.items())


def _read_overrides(n: _Map, where: str, ctx: _Ctx, info: _TrackInfo) -> tuple[str, ...] | None:
    """Phonemes the overrides give for every index 0..k-1, else None (with a warning)."""
    items = _seq(n, "phoneme_overrides", where, ctx)
    if not items:
        return None
    named: dict[int, str] = {}
    mentioned: set[int] = set()
    for k, item in enumerate(items):
        ow = f"{where}: phoneme override {k + 1}"
        o = _as_map(item, ow, ctx, items.line)
        index = _int(o, "index", ow, ctx, 0, lo=0, hi=10_000)
        mentioned.add(index)
        ph = _str(o, "phoneme", ow, ctx, "").strip()
        if ph:
            named[index] = ph
        for key in ("offset", "preutter_delta", "overlap_delta"):
            val = _num(o, key, ow, ctx, 0.0)
            if val:
                info.timing_overrides += 1
                if info.first_timing_override is None:
                    info.first_timing_override = o.line
                break
    if not named:
        return None
    if set(named) == set(range(len(named))) and mentioned <= set(named):
        return tuple(named[i] for i in range(len(named)))
    ctx.warn(f"{where}: phoneme overrides name only some of the note's phonemes "
             f"(indices {sorted(named)}); they are not honoured", items.line)
    return None


def _read_note(item: object, k: int, part_pos: int, part_where: str, clock: _Clock,
               ctx: _Ctx, version: tuple[int, int], info: _TrackInfo,
               line: int | None) -> _RawNote:
    """One note; ``part_pos`` and the note's own position and duration in file ticks."""
    where = f"note {k + 1} of {part_where}"
    n = _as_map(item, where, ctx, line)
    source = f"line {n.line}, {where}" if n.line is not None else where
    rel = _int(n, "position", where, ctx, None, lo=-clock.max_raw, hi=clock.max_raw)
    if rel is None:
        raise ctx.error(f"{where} has no position", n.line)
    raw_start = part_pos + rel
    if raw_start < 0:
        raise ctx.error(f"{where} starts before the song (tick {clock.ticks(raw_start)})",
                        n.line)
    dur = _int(n, "duration", where, ctx, None, lo=-clock.max_raw, hi=clock.max_raw)
    if dur is None:
        raise ctx.error(f"{where} has no duration", n.line)
    if dur <= 0:
        raise ctx.error(f"{where}: duration {dur} is not positive", n.line)
    start, end = clock.ticks(raw_start), clock.ticks(raw_start + dur)
    if end > limits.MAX_TICKS:
        raise ctx.error(f"{where} ends beyond the longest song ({limits.MAX_TICKS} ticks)",
                        n.line)
    if end <= start:
        raise ctx.error(f"{where}: duration {dur} at {clock.resolution} ticks per quarter is "
                        "shorter than one tick at 480", n.line)
    tone = _int(n, "tone", where, ctx, None, lo=-10**9, hi=10**9)
    if tone is None:
        raise ctx.error(f"{where} has no tone", n.line)
    if not limits.MIN_PITCH <= tone <= limits.MAX_PITCH:
        raise ctx.error(f"{where}: tone {tone} is outside the MIDI range "
                        f"{limits.MIN_PITCH}..{limits.MAX_PITCH}", _line(n.get("tone"), n.line))
    if "lyric" in n:
        raw = _str(n, "lyric", where, ctx, NO_LYRIC)
    else:
        ctx.warn(f"{where} has no lyric; OpenUtau sings {DEFAULT_LYRIC!r}", n.line)
        raw = DEFAULT_LYRIC
    lyric, phonemes = _split_lyric(raw, version)
    points, snap = _read_points(n, where, ctx)
    vibrato, vol_link = _read_vibrato(n, where, ctx)
    if vol_link:
        info.vol_links += 1
    expressions = _read_expressions(n, where, ctx, version)
    override = _read_overrides(n, where, ctx, info)
    if override is not None:
        phonemes = override
    return _RawNote(start=start, end=end, rel=rel, duration=dur, tone=tone, lyric=lyric,
                    phonemes=phonemes, points=points, snap_first=snap, vibrato=vibrato,
                    expressions=expressions, line=n.line, source=source)


def _finish_part_notes(raw: list[_RawNote], part_where: str, ctx: _Ctx) -> list[Note]:
    """Sort, drop what OpenUtau does not sing (overlaps), snap first points, build Notes."""
    raw.sort(key=lambda r: r.rel)
    out: list[Note] = []
    for i, r in enumerate(raw):
        prev = raw[i - 1] if i else None
        if prev is not None and prev.rel + prev.duration > r.rel:
            ctx.warn(f"{r.source}: the note overlaps the note before it (line {prev.line}); "
                     "OpenUtau does not sing it, nor does utagoe", r.line)
            continue
        points = r.points
        if r.snap_first and points:
            if prev is not None and prev.rel + prev.duration == r.rel:
                points[0][1] = float((prev.tone - r.tone) * 100)
            else:
                points[0][1] = 0.0
        if any(b[0] < a[0] for a, b in zip(points, points[1:])):
            ctx.warn(f"{r.source}: pitch points are not in time order; sorted", r.line)
            points = sorted(points, key=lambda p: p[0])
        if r.lyric == CONTINUATION and prev is None:
            # after a rest, a '+' sings the vowel before it again, as in every format
            ctx.warn(f"{r.source}: a '+' note with no note before it in its part has "
                     "nothing to continue", r.line)
        out.append(Note(start_ticks=r.start, duration_ticks=r.end - r.start, pitch=r.tone,
                        lyric=r.lyric, source=r.source,
                        pitch_points=tuple(PitchPoint(x, c, s) for x, c, s in points),
                        vibrato=r.vibrato, phonemes=r.phonemes, expressions=r.expressions))
    return out


# --------------------------------------------------------------------------------------
# Parts and curves


def _read_curve(item: object, k: int, part_pos: int, part_where: str, clock: _Clock,
                ctx: _Ctx, line: int | None) -> tuple[str, list[tuple[int, float]]] | None:
    """One part curve as (tick, value) points; ``part_pos`` and the xs in file ticks."""
    where = f"curve {k + 1} of {part_where}"
    c = _as_map(item, where, ctx, line)
    abbr = _str(c, "abbr", where, ctx, "").strip()
    if not abbr or len(abbr) > 32:
        raise ctx.error(f"{where}: abbr {abbr!r} is not an expression name", c.line)
    where = f"curve {abbr!r} of {part_where}"
    xs = _seq(c, "xs", where, ctx)
    ys = _seq(c, "ys", where, ctx)
    if len(xs) > limits.MAX_CURVE_POINTS or len(ys) > limits.MAX_CURVE_POINTS:
        raise ctx.error(f"{where}: more than {limits.MAX_CURVE_POINTS} points", c.line)
    if len(xs) != len(ys):
        ctx.problem(f"{where}: {len(xs)} xs but {len(ys)} ys; the extra ones are ignored",
                    c.line)
    pts: list[tuple[int, float]] = []
    for x_node, y_node in zip(xs, ys):
        x = _scalar_number(x_node, where, "xs", ctx, c.line)
        y = _scalar_number(y_node, where, "ys", ctx, c.line)
        if isinstance(x, float):
            if not x.is_integer():
                ctx.problem(f"{where}: xs must be whole ticks, not {x!r}; rounded",
                            _line(x_node, c.line))
            x = int(round(x))
        if abs(part_pos + x) > clock.max_raw:
            raise ctx.error(f"{where}: x {x} lies beyond the longest song", _line(x_node, c.line))
        tick = clock.ticks(part_pos + x)
        if abs(y) > MAX_EXPRESSION_VALUE:
            raise ctx.error(f"{where}: value {y:g} is absurd", _line(y_node, c.line))
        pts.append((tick, float(y)))
    if any(b[0] < a[0] for a, b in zip(pts, pts[1:])):
        ctx.warn(f"{where}: xs are not in order; sorted", c.line)
        pts.sort(key=lambda p: p[0])
    if not pts:
        return None
    if clock.resolution != TICKS_PER_QUARTER:  # points closer than one of our ticks: the last wins
        merged: list[tuple[int, float]] = []
        for t, v in pts:
            if merged and merged[-1][0] == t:
                merged[-1] = (t, v)
            else:
                merged.append((t, v))
        pts = merged
    return abbr, pts


def _scalar_number(node, where: str, what: str, ctx: _Ctx, line: int | None) -> int | float:
    if not isinstance(node, _Scalar) or node.is_null():
        raise ctx.error(f"{where}: {what} must hold numbers, not {_describe(node)}",
                        _line(node, line))
    v = _parse_number(node.text)
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        raise ctx.error(f"{where}: {what} must hold finite numbers, not {_describe(node)}",
                        node.line)
    return v


def _read_part(item: object, i: int, tracks: list[_TrackInfo], clock: _Clock, ctx: _Ctx,
               version: tuple[int, int], line: int | None) -> None:
    where = f"voice part {i + 1}"
    p = _as_map(item, where, ctx, line)
    name = _str(p, "name", where, ctx, "")
    where = f"voice part {i + 1} {name!r}" if name else where
    track_no = _int(p, "track_no", where, ctx, 0, lo=0, hi=limits.MAX_TRACKS)
    if track_no >= len(tracks):
        raise ctx.error(f"{where} belongs to track {track_no + 1}, but the project has "
                        f"{len(tracks)} track(s)", p.line)
    info = tracks[track_no]
    pos = _int(p, "position", where, ctx, 0, lo=0, hi=clock.max_raw) or 0
    notes_node = _seq(p, "notes", where, ctx)
    raw: list[_RawNote] = []
    for k, n in enumerate(notes_node):
        r = ctx.attempt(_read_note, n, k, pos, where, clock, ctx, version, info,
                        notes_node.line)
        if r is not None:
            raw.append(r)
    curves_node = _seq(p, "curves", where, ctx)
    curves: list[tuple[str, list[tuple[int, float]]]] = []
    for k, c in enumerate(curves_node):
        got = ctx.attempt(_read_curve, c, k, pos, where, clock, ctx, curves_node.line)
        if got is not None:
            curves.append(got)
    info.notes.extend(_finish_part_notes(raw, where, ctx))
    for abbr, pts in curves:
        info.curves.setdefault(abbr, []).append(pts)


def _merge_segments(segments: list[list[tuple[int, float]]],
                    default: float) -> list[tuple[int, float]]:
    """One curve from the parts' curves of one abbr. Between parts that do not touch, the
    curve returns to ``default`` (as OpenUtau's per-part curves do)."""
    segments = sorted((s for s in segments if s), key=lambda s: s[0][0])
    points: list[tuple[int, float]] = []
    for i, seg in enumerate(segments):
        if i:
            prev_end = segments[i - 1][-1][0]
            first = seg[0]
            if first[0] > prev_end + 1:
                if points[-1][1] != default:
                    points.append((prev_end + 1, default))
                if first[1] != default and first[0] - 1 > points[-1][0]:
                    points.append((first[0] - 1, default))
        points.extend(seg)
    points.sort(key=lambda p: p[0])
    return points


def _curve_defaults(m: _Map) -> dict[str, float]:
    """Default value per expression abbr: the file's descriptors, else OpenUtau's."""
    out = {d[0]: float(d[5]) for d in _EXPRESSIONS}
    node = _get(m, "expressions")
    if isinstance(node, _Map):
        for abbr, desc in node.items():
            if isinstance(desc, _Map):
                dv = desc.get("default_value")
                if isinstance(dv, _Scalar):
                    v = _parse_number(dv.text)
                    if v is not None and math.isfinite(v) and abs(v) <= MAX_EXPRESSION_VALUE:
                        out[abbr] = float(v)
    return out


# --------------------------------------------------------------------------------------
# Public entry points: reading


def read(data: bytes, *, path: str | None = None, options: ReadOptions | None = None) -> Project:
    """Read an OpenUtau ``.ustx`` project (bytes) into a Project. The registry's read function.

    ``path`` only names the file in messages and becomes ``Project.source_path``.
    ``options.part``: None = every track with lyrics; an int = the Nth track
    that has notes (1-based); a str = the track with that name (case-insensitive).
    """
    options = options or ReadOptions()
    ctx = _Ctx(path, options.lenient)
    try:
        return _read(bytes(data), ctx, options)
    except ScoreFormatError:
        raise
    except (RecursionError, MemoryError):
        raise ctx.error("the project is too large or too deeply nested to read") from None


def _read_resolution(m: _Map, ctx: _Ctx) -> _Clock:
    """The file's ticks per quarter note (``resolution``; OpenUtau itself writes 480)."""
    node = m.get("resolution")
    if node is None or (isinstance(node, _Scalar) and node.is_null()):
        return _Clock()
    v = ctx.attempt(_num, m, "resolution", "project", ctx, None,
                    repair=f"assuming {TICKS_PER_QUARTER}")
    if v is None:
        return _Clock()
    if v != int(v) or not limits.MIN_RESOLUTION <= v <= limits.MAX_RESOLUTION:
        ctx.problem(f"resolution {v:g} is not a whole number of ticks per quarter note from "
                    f"{limits.MIN_RESOLUTION} to {limits.MAX_RESOLUTION}", _line(node, m.line),
                    f"assuming {TICKS_PER_QUARTER}")
        return _Clock()
    r = int(v)
    if r == TICKS_PER_QUARTER:
        return _Clock()
    ctx.warn(f"resolution {r} ticks per quarter note; positions and lengths scaled to "
             f"{TICKS_PER_QUARTER}", _line(node, m.line))
    return _Clock(r)


def _read(data: bytes, ctx: _Ctx, options: ReadOptions) -> Project:
    check_size_and_content(data, ctx, blank=None)
    text = _decode(data, ctx, options.encoding)
    if not text.strip():
        raise ctx.fatal("the file is empty", 1)
    text = _check_characters(text, ctx)
    root = _compose(text, ctx)
    if not isinstance(root, _Map):
        raise ctx.fatal(f"not an OpenUtau project: the YAML document is {_describe(root)}, "
                        "not a mapping", _line(root, 1))
    if not any(k in root for k in ("ustx_version", "voice_parts", "tracks")):
        raise ctx.fatal("not an OpenUtau project: no ustx_version, tracks or voice_parts",
                        root.line)
    version = _parse_version(root, ctx)
    title = ctx.attempt(_str, root, "name", "project", ctx, "") or ""
    clock = _read_resolution(root, ctx)
    tempos = _read_tempos(root, clock, ctx)
    signatures = _read_time_signatures(root, ctx)
    keys = _read_key(root, ctx)
    tracks = _read_tracks(root, ctx)
    defaults = _curve_defaults(root)

    parts = ctx.attempt(_seq, root, "voice_parts", "project", ctx)
    if parts:
        if not tracks:  # hand-written files: parts without a track list
            count = 0
            for item in parts:
                if isinstance(item, _Map):
                    no = ctx.attempt(_int, item, "track_no", "voice part", ctx, 0, lo=0,
                                     hi=limits.MAX_TRACKS - 1)
                    count = max(count, (no or 0) + 1)
            tracks = [_TrackInfo(index=i, name=f"Track {i + 1}") for i in range(count)]
        for i, item in enumerate(parts):
            ctx.attempt(_read_part, item, i, tracks, clock, ctx, version, parts.line)

    waves = ctx.attempt(_seq, root, "wave_parts", "project", ctx)
    for i, item in enumerate(waves or ()):
        name = f"wave part {i + 1}"
        if isinstance(item, _Map) and isinstance(item.get("name"), _Scalar):
            name = f"wave part {item['name'].text!r}"
        ctx.warn(f"{name} (audio) is not played", _line(item, waves.line if waves else None))

    for t in tracks:
        if t.vol_links:
            ctx.warn(f"{t.describe()}: vibrato vol_link (volume following the vibrato) is not "
                     f"honoured ({t.vol_links} notes)", t.line)
        if t.timing_overrides:
            ctx.warn(f"{t.describe()}: {t.timing_overrides} phoneme timing overrides (offset, "
                     "preutter_delta, overlap_delta) are not honoured",
                     t.first_timing_override)
    drafts = []
    for t in tracks:
        if not t.notes:
            ctx.warn(f"{t.describe()} has no notes and is left out", t.line)
            continue
        curves = []
        for abbr, segments in t.curves.items():
            default = defaults.get(abbr, 0.0)
            points = _merge_segments(segments, default)
            if points:
                curves.append(TrackCurve(name=abbr, ticks=tuple(p[0] for p in points),
                                         values=tuple(p[1] for p in points), default=default))
        drafts.append(TrackDraft(name=t.name, notes=t.notes, curves=curves,
                                 source_singer=t.singer, volume_db=t.volume_db, pan=t.pan,
                                 muted=t.muted, line=t.line))
    # an empty lyric next to lyrics stays empty (a "[p h]" note is sung on its phonemes)
    return finish(ctx, drafts, options, tempos=tempos, time_signatures=signatures,
                  key_signatures=keys, title=title, fill_missing=False)


# --------------------------------------------------------------------------------------
# Writing

#: OpenUtau's default expressions, in the order it writes them:
#: (abbr, name, type, min, max, default, is_flag, flag, options)
_EXPRESSIONS: tuple[tuple, ...] = (
    ("dyn", "dynamics (curve)", "Curve", -240, 120, 0, False, "", None),
    ("pitd", "pitch deviation (curve)", "Curve", -1200, 1200, 0, False, "", None),
    ("clr", "voice color", "Options", 0, -1, 0, False, None, ()),
    ("eng", "resampler engine", "Options", 0, 1, 0, False, None, ("", "worldline")),
    ("vel", "velocity", "Numerical", 0, 200, 100, False, "", None),
    ("vol", "volume", "Numerical", 0, 200, 100, False, "", None),
    ("atk", "attack", "Numerical", 0, 200, 100, False, "", None),
    ("dec", "decay", "Numerical", 0, 100, 0, False, "", None),
    ("gen", "gender", "Numerical", -100, 100, 0, True, "g", None),
    ("genc", "gender (curve)", "Curve", -100, 100, 0, False, "", None),
    ("bre", "breath", "Numerical", 0, 100, 0, True, "B", None),
    ("brec", "breathiness (curve)", "Curve", -100, 100, 0, False, "", None),
    ("lpf", "lowpass", "Numerical", 0, 100, 0, True, "H", None),
    ("norm", "normalize", "Numerical", 0, 100, 86, True, "P", None),
    ("mod", "modulation", "Numerical", 0, 100, 0, False, "", None),
    ("mod+", "modulation plus", "Numerical", 0, 100, 0, False, "", None),
    ("alt", "alternate", "Numerical", 0, 16, 0, False, "", None),
    ("dir", "direct", "Options", 0, 1, 0, False, None, ("off", "on")),
    ("shft", "tone shift", "Numerical", -36, 36, 0, False, "", None),
    ("shfc", "tone shift (curve)", "Curve", -1200, 1200, 0, False, "", None),
    ("tenc", "tension (curve)", "Curve", -100, 100, 0, False, "", None),
    ("voic", "voicing (curve)", "Curve", 0, 100, 100, False, "", None),
)
#: abbrs of per-note (phoneme) expressions and of curves OpenUtau knows
NOTE_EXPRESSIONS = frozenset(d[0] for d in _EXPRESSIONS if d[2] != "Curve")
CURVE_EXPRESSIONS = frozenset(d[0] for d in _EXPRESSIONS if d[2] == "Curve")
_EXP_SELECTORS = ("dyn", "pitd", "clr", "eng", "vel", "vol", "atk", "dec", "gen", "bre")

PHONEMIZER_DEFAULT = "OpenUtau.Core.DefaultPhonemizer"
#: OpenUtau's built-in Japanese phonemizer for CV, VCV and CVVC voicebanks (reads presamp.ini)
PHONEMIZER_JAPANESE = "OpenUtau.Plugin.Builtin.JapanesePresampPhonemizer"
#: OpenUtau's default pitch points of a new note: (x ms, y tenths of a semitone)
DEFAULT_PITCH_POINTS = ((-40, 0), (40, 0))


def _yaml_number(x: float) -> int | float:
    """An int when ``x`` is whole (as OpenUtau writes them), else the float."""
    if isinstance(x, int):
        return x
    if math.isfinite(x) and x.is_integer() and abs(x) < 2**53:
        return int(x)
    return float(x)


def _expression_descriptors() -> dict:
    out = {}
    for abbr, name, typ, lo, hi, default, is_flag, flag, options in _EXPRESSIONS:
        d = {"name": name, "abbr": abbr, "type": typ, "min": lo, "max": hi,
             "default_value": default, "is_flag": is_flag}
        if options is not None:
            d["options"] = list(options)
        else:
            d["flag"] = flag
        out[abbr] = d
    return out


def _phonemizer_for(track: Track) -> str:
    sung = [n.lyric for n in track.notes if n.lyric and n.lyric != CONTINUATION]
    kana = sum(1 for ly in sung if _KANA_RE.search(ly))
    return PHONEMIZER_JAPANESE if sung and kana * 2 > len(sung) else PHONEMIZER_DEFAULT


def _bar_positions(signatures) -> list[tuple[int, int, int]]:
    """(bar, numerator, denominator) per signature; a signature off a bar line moves to the
    next bar line."""
    sigs = sorted(signatures, key=lambda s: s.tick) or [TimeSignature(0, 4, 4)]
    if sigs[0].tick != 0:
        sigs.insert(0, TimeSignature(0, 4, 4))
    out: list[tuple[int, int, int]] = []
    bar_tick = 0
    for s in sigs:
        if out:
            pbar, pnum, pden = out[-1]
            length = max(1, pnum * TICKS_PER_QUARTER * 4 // pden)
            bars = -(-(s.tick - bar_tick) // length)
            if bars <= 0:
                out[-1] = (pbar, s.numerator, s.denominator)
                continue
            bar_tick += bars * length
            out.append((pbar + bars, s.numerator, s.denominator))
        else:
            out.append((0, s.numerator, s.denominator))
    return out


def _lyric_text(note: Note) -> str:
    if note.phonemes:
        return f"{note.lyric}[{' '.join(note.phonemes)}]"
    # NO_LYRIC: the lyric OpenUtau itself gives a note that has none
    return note.lyric if note.lyric.strip() else DEFAULT_LYRIC


def _vibrato_yaml(v: Vibrato | None) -> dict:
    if v is None or v.is_off:
        length = 0.0
    else:
        length = _clamp(v.length_pct, 0.0, 100.0)
    if v is None:
        period, depth, fin, fout, shift, drift = 175.0, 25.0, 10.0, 10.0, 0.0, 0.0
    else:
        period = _clamp(v.period_ms, 5.0, 500.0)
        depth = _clamp(abs(v.depth_cents), 5.0, 200.0)
        fout = _clamp(v.fade_out_pct, 0.0, 100.0)
        fin = min(_clamp(v.fade_in_pct, 0.0, 100.0), 100.0 - fout)
        shift = v.phase_pct if 0.0 <= v.phase_pct <= 100.0 else v.phase_pct % 100.0
        drift = _clamp(v.drift_pct, -100.0, 100.0)
    return {"length": _yaml_number(length), "period": _yaml_number(period),
            "depth": _yaml_number(depth), "in": _yaml_number(fin), "out": _yaml_number(fout),
            "shift": _yaml_number(shift), "drift": _yaml_number(drift), "vol_link": 0}


def _note_yaml(note: Note, part_pos: int) -> dict:
    if note.pitch_points:
        data = [{"x": _yaml_number(p.offset_ms), "y": _yaml_number(round(p.cents, 6) / 10.0),
                 "shape": p.shape} for p in note.pitch_points]
        pitch = {"data": data, "snap_first": False}
    else:
        data = [{"x": x, "y": y, "shape": "io"} for x, y in DEFAULT_PITCH_POINTS]
        pitch = {"data": data, "snap_first": True}
    expressions = [{"index": 0, "abbr": abbr, "value": _yaml_number(float(value))}
                   for abbr, value in note.expressions
                   if abbr in NOTE_EXPRESSIONS and math.isfinite(value)]
    return {
        "position": note.start_ticks - part_pos,
        "duration": note.duration_ticks,
        "tone": note.pitch,
        "lyric": _lyric_text(note),
        "pitch": pitch,
        "vibrato": _vibrato_yaml(note.vibrato),
        "phoneme_expressions": expressions,
        "phoneme_overrides": [],
    }


def _curve_yaml(curve: TrackCurve, part_pos: int) -> dict | None:
    if curve.name not in CURVE_EXPRESSIONS or not curve.ticks:
        return None
    pairs = [(int(t) - part_pos, int(round(v))) for t, v in zip(curve.ticks, curve.values)
             if math.isfinite(v)]
    return {"xs": [x for x, _ in pairs], "ys": [y for _, y in pairs], "abbr": curve.name}


def write(project: Project) -> bytes:
    """The project as an OpenUtau ``.ustx`` file (UTF-8 YAML, ``ustx_version`` 0.7).

    One track and one voice part (at tick 0) per Track; the part holds all the track's
    notes and its curves that OpenUtau knows. See the module docstring for what a
    write-then-read round trip normalises.
    """
    tempos = sorted(project.tempos, key=lambda t: t.tick) or [Tempo(0, limits.DEFAULT_BPM)]
    if tempos[0].tick != 0:
        tempos.insert(0, Tempo(0, tempos[0].bpm))
    bars = _bar_positions(project.time_signatures)
    key = project.key_signatures[0].fifths * 7 % 12 if project.key_signatures else 0
    tracks = list(project.tracks) or [Track(name="Track1", notes=())]

    track_docs = []
    part_docs = []
    for i, t in enumerate(tracks):
        singer = t.source_singer or ""
        track_docs.append({
            "singer": singer,
            "phonemizer": _phonemizer_for(t),
            "renderer_settings": {"renderer": "WORLDLINE-R"} if singer else {},
            "track_name": t.name or f"Track{i + 1}",
            "track_color": "Blue",
            "mute": bool(t.muted),
            "solo": False,
            "volume": _yaml_number(float(t.volume_db)),
            "pan": _yaml_number(round(_clamp(float(t.pan), -1.0, 1.0) * 100.0, 6)),
            "track_expressions": [],
            "voice_color_names": [""],
        })
        curves = [c for c in (_curve_yaml(c, 0) for c in t.curves) if c is not None]
        if not t.notes and not curves:
            continue
        end = max([n.end_ticks for n in t.notes] + [x for c in curves for x in c["xs"]] + [1])
        duration = -(-end // TICKS_PER_QUARTER) * TICKS_PER_QUARTER
        part_docs.append({
            "duration": duration,
            "name": t.name or f"Track{i + 1}",
            "comment": "",
            "track_no": i,
            "position": 0,
            "notes": [_note_yaml(n, 0) for n in sorted(t.notes, key=lambda n: n.start_ticks)],
            "curves": curves,
        })

    doc = {
        "name": project.title,
        "comment": "",
        "output_dir": "Vocal",
        "cache_dir": "UCache",
        "ustx_version": WRITE_VERSION,
        "resolution": TICKS_PER_QUARTER,
        "bpm": _yaml_number(float(tempos[0].bpm)),
        "beat_per_bar": bars[0][1],
        "beat_unit": bars[0][2],
        "expressions": _expression_descriptors(),
        "exp_selectors": list(_EXP_SELECTORS),
        "exp_primary": 0,
        "exp_secondary": 1,
        "key": key,
        "time_signatures": [{"bar_position": b, "beat_per_bar": n, "beat_unit": d}
                            for b, n, d in bars],
        "tempos": [{"position": t.tick, "bpm": _yaml_number(float(t.bpm))} for t in tempos],
        "tracks": track_docs,
        "voice_parts": part_docs,
        "wave_parts": [],
    }
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=1000)
    return text.encode("utf-8")


__all__ = ["sniff", "read", "write", "MAX_DEPTH", "MAX_NODES", "NEWEST_VERSION",
           "WRITE_VERSION", "NOTE_EXPRESSIONS", "CURVE_EXPRESSIONS"]
