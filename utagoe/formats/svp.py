"""Synthesizer V Studio project reader (``.svp``, JSON).

What is read, and how (see ``../shared/data/FORMATS.md`` section 6):

* The file is UTF-8 JSON (a BOM is allowed). SV Studio ends its files with a NUL
  byte after the JSON; NULs and anything else after the last ``}`` are cut off
  before parsing (as UtaFormatix does).
* Time is in **blicks**, 705,600,000 per quarter note, so 1,470,000 per tick;
  every position is rounded to the nearest tick. ``time.meter`` (``index`` = bar,
  ``numerator``, ``denominator``) and ``time.tempo`` (``position`` in blicks,
  ``bpm``).
* One :class:`~utagoe.model.Track` per entry of ``tracks`` that has notes:
  ``name``; the notes of ``mainGroup`` (placed by ``mainRef``'s ``blickOffset`` and
  ``pitchOffset``, 0 in every file seen) and of every note group of ``library``
  that the track's ``groups`` refer to, each placed ``blickOffset`` later and
  ``pitchOffset`` semitones higher (references marked ``isInstrumental`` are audio,
  not sung, and are skipped with a warning). ``mixer``: ``gainDecibel`` ->
  ``volume_db``, ``pan`` (-1..1), ``mute``. ``mainRef.database.name`` (the voice)
  is kept as ``source_singer`` text.
* Notes: ``onset``, ``duration`` (blicks), ``pitch`` (MIDI), ``lyrics``,
  ``phonemes`` (split on spaces into ``Note.phonemes``). Lyric ``-`` (SV's
  continuation) becomes :data:`~utagoe.model.CONTINUATION`; ``br`` (a breath) is
  no note: it is left out with a warning. ``detune`` (cents) is added to the
  track's ``pitd`` curve over the note's span.
* Note vibrato, from the note's own ``attributes`` (SV's names and units):
  ``tF0VbrStart`` (s after the note starts), ``tF0VbrLeft`` / ``tF0VbrRight``
  (fade in / out, s), ``dF0Vbr`` (depth, semitones), ``fF0Vbr`` (rate, Hz),
  ``pF0Vbr`` (phase, radians). A note that sets none of them keeps
  ``vibrato=None`` (the singer's own vibrato). Where a note sets some, the others
  take SV's defaults (start 0.25 s, fades 0.2 s, depth 1 semitone, rate 5.5 Hz,
  phase 0 -- **approximations** of what SV Studio shows for a new note).
  ``length_pct`` is the part of the note after the start delay; fades are % of
  the vibrato's length; ``period_ms = 1000 / fF0Vbr``. SV does not say whether
  its depth is the swing from crest to trough or from the centre; utagoe reads it
  as **crest to trough**: ``depth_cents = dF0Vbr * 100 / 2`` (the default gives
  +-50 cents, a usual singer's vibrato).
* Note pitch transition, from the note's ``attributes``: ``tF0Offset`` (the
  transition's centre, s from the note's start), ``tF0Left`` / ``tF0Right`` (its
  time before and after the centre, s; one not given: 0.07 s, an approximation)
  become ``Note.portamento_ms = (left + right) * 1000`` and
  ``Note.portamento_offset_ms = (offset - left) * 1000``. ``dF0Left`` /
  ``dF0Right`` (the depths of SV's preparation and overshoot) are not read.
* Parameter curves of each group (``parameters.<name>.points`` is a flat list
  ``[blicks, value, blicks, value, ...]``, ``mode`` linear, cubic or cosine) become
  track curves with the group's offset applied; cubic (Catmull-Rom, an
  approximation of SV's spline) and cosine segments are sampled every few ticks
  so that the linear :class:`~utagoe.model.TrackCurve` follows them. Names and SV
  units: ``pitchDelta`` -> ``pitd`` (cents), ``vibratoEnv`` -> ``vibratoEnv``
  (vibrato depth multiplier, default 1), ``loudness`` -> ``loudness`` (dB),
  ``tension``, ``breathiness``, ``gender`` (each -1..1) under their own names.
  ``voicing``, ``toneShift`` and SV's own generated ``systemPitchDelta`` are not
  read.

``options.part``: None reads every track with lyrics, an int N the Nth track that
has notes (1-based, file order), a string the track of that name (any case). In a
track with lyrics a note with an empty lyric continues the syllable before it (or is
sung on ``options.default_lyric``); a track without lyrics follows the rule every
reader shares (:func:`utagoe.formats.common.select_tracks`).

Safety: ``json.loads`` with nesting depth guarded (RecursionError) and every value
type- and range-checked (numbers finite, positions within
:data:`limits.MAX_TICKS`, pitches 0..127, at most :data:`limits.MAX_NOTES` notes
placed, counting each reference to a library group). Every problem raises
:class:`~utagoe.errors.ScoreFormatError`, naming the file and the JSON path of
the bad value (SV writes the whole file on one line, so lines say little); with
``lenient=True`` recoverable ones become ``Project.warnings``.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from ..model.score import Note, Project, Tempo, TimeSignature, TrackCurve, Vibrato
from ..model.timeaxis import TimeAxis
from ..model.units import TICKS_PER_QUARTER
from . import limits
from .common import Problem, TrackDraft, bar_start_ticks, check_size_and_content, finish
from .common import ReadContext as _Ctx
from .common import lyric_from_file, tempo_list, tidy_notes
from .options import ReadOptions

T = TypeVar("T")

#: blicks per quarter note, and per tick (480 per quarter)
BLICKS_PER_QUARTER = 705_600_000
BLICKS_PER_TICK = BLICKS_PER_QUARTER // TICKS_PER_QUARTER
#: no position or length may be beyond this many blicks
MAX_BLICKS = limits.MAX_TICKS * BLICKS_PER_TICK
#: SV's vibrato defaults (approximations, see the module docstring)
DEFAULT_VIBRATO_START_S = 0.25
DEFAULT_VIBRATO_LEFT_S = 0.2
DEFAULT_VIBRATO_RIGHT_S = 0.2
DEFAULT_VIBRATO_DEPTH_SEMITONES = 1.0
DEFAULT_VIBRATO_RATE_HZ = 5.5
DEFAULT_VIBRATO_PHASE_RAD = 0.0
#: SV's pitch transition: its centre ``tF0Offset`` s after the note starts, reaching
#: ``tF0Left`` s before it and ``tF0Right`` s after (a side not given: about 0.07 s)
_TRANSITION_KEYS = ("tF0Offset", "tF0Left", "tF0Right")
DEFAULT_TRANSITION_SIDE_S = 0.07
_VIBRATO_KEYS = ("tF0VbrStart", "tF0VbrLeft", "tF0VbrRight", "dF0Vbr", "fF0Vbr", "pF0Vbr")
#: SV parameter -> (utagoe curve name, default value outside the curve's points)
CURVES = {
    "pitchDelta": ("pitd", 0.0),
    "vibratoEnv": ("vibratoEnv", 1.0),
    "loudness": ("loudness", 0.0),
    "tension": ("tension", 0.0),
    "breathiness": ("breathiness", 0.0),
    "gender": ("gender", 0.0),
}
#: curve values accepted (SV's ranges are far smaller; this only refuses absurd numbers)
MAX_CURVE_ABS = 1.0e6
#: a cubic or cosine segment is sampled every this many ticks (at most SEGMENT_SAMPLES)
SEGMENT_STEP_TICKS = 15
SEGMENT_SAMPLES = 32
_BREATH_LYRICS = frozenset({"br"})


# --------------------------------------------------------------------------------------
# Typed access to the JSON, with the path of each value for messages


def _show(v) -> str:
    if isinstance(v, (dict, list)):
        return "an object" if isinstance(v, dict) else "a list"
    try:
        r = repr(v)
    except ValueError:  # an integer too long to print
        return "a very long number"
    return r if len(r) <= 40 else r[:37] + "..."


def _number(v, where: str, *, lo: float | None = None, hi: float | None = None) -> float:
    """A finite JSON number (not a bool) within [lo, hi]."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise Problem(f"{where}: expected a number, got {_show(v)}")
    if isinstance(v, int):
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise Problem(f"{where}: {_show(v)} is out of range ({lo:g}..{hi:g})"
                          if lo is not None and hi is not None else
                          f"{where}: {_show(v)} is out of range")
        if abs(v) > 10 ** 300:
            raise Problem(f"{where}: {_show(v)} is too large a number")
        return float(v)
    if not math.isfinite(v):
        raise Problem(f"{where}: {v!r} is not a finite number")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise Problem(f"{where}: {v:g} is out of range"
                      + (f" ({lo:g}..{hi:g})" if lo is not None and hi is not None else ""))
    return float(v)


def _integer(v, where: str, *, lo: int, hi: int) -> int:
    """A JSON integer (or a float with an integral value) within [lo, hi]."""
    f = _number(v, where, lo=lo, hi=hi)
    if isinstance(v, float) and not f.is_integer():
        raise Problem(f"{where}: expected a whole number, got {v!r}")
    return int(v)


def _blicks(v: object, where: str) -> float:
    """A position or length in blicks, within +-MAX_BLICKS (an int stays an int, exact)."""
    f = _number(v, where, lo=-MAX_BLICKS, hi=MAX_BLICKS)
    return v if isinstance(v, int) else f


def _blicks_to_ticks(b: int | float) -> int:
    """Blicks to the nearest tick (halves round up)."""
    if isinstance(b, int):
        return (b + BLICKS_PER_TICK // 2) // BLICKS_PER_TICK
    return math.floor(b / BLICKS_PER_TICK + 0.5)


def _dict(v, where: str) -> dict:
    if not isinstance(v, dict):
        raise Problem(f"{where}: expected an object, got {_show(v)}")
    return v


def _list(v, where: str) -> list:
    if not isinstance(v, list):
        raise Problem(f"{where}: expected a list, got {_show(v)}")
    return v


def _text(v, where: str) -> str:
    if not isinstance(v, str):
        raise Problem(f"{where}: expected a string, got {_show(v)}")
    return v


def _bool(v, where: str) -> bool:
    if not isinstance(v, bool):
        raise Problem(f"{where}: expected true or false, got {_show(v)}")
    return v


def _optional(ctx: _Ctx, obj: dict, key: str, where: str, check: Callable[..., T],
              default: T, then: str, **kw: Any) -> T:
    """``obj[key]`` checked by ``check``; absent or null: ``default``; bad: a problem
    (lenient: ``default``, and a warning ending in ``then``)."""
    if key not in obj or obj[key] is None:
        return default
    got = ctx.attempt(check, obj[key], f"{where}.{key}", repair=then, **kw)
    return default if got is None else got


# --------------------------------------------------------------------------------------
# Bytes -> JSON


def sniff(head: bytes) -> bool:
    """Do these first bytes look like an .svp (a JSON object with SV's top-level keys)?"""
    try:
        h = bytes(head[:4096])
        if h.startswith(b"\xef\xbb\xbf"):
            h = h[3:]
        h = h.lstrip()
        if not h.startswith(b"{"):
            return False
        if b'"mainGroup"' in h:
            return True
        return b'"version"' in h and (b'"time"' in h or b'"tracks"' in h)
    except Exception:  # a sniffer never raises
        return False


def _decode(data: bytes, ctx: _Ctx) -> str:
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    end = body.rfind(b"}")
    if end < 0:
        raise ctx.error("not an .svp file: no JSON object (no '}')")
    tail = body[end + 1:]
    if tail.strip(b"\x00 \t\r\n"):
        ctx.warn(f"{len(tail)} byte(s) after the JSON ignored")
    body = body[:end + 1]
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        line = body[:e.start].count(b"\n") + 1
        if not ctx.lenient:
            raise ctx.error(f"not UTF-8 (byte {e.start}): {e.reason}", line) from None
        ctx.warn("the file is not valid UTF-8; bad bytes replaced", line)
        return body.decode("utf-8", errors="replace")


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _load(text: str, ctx: _Ctx):
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        hint = " (the file looks truncated)" if e.pos >= len(text.rstrip()) - 1 else ""
        raise ctx.error(f"not valid JSON: {e.msg} at column {e.colno}{hint}",
                        e.lineno) from None
    except RecursionError:
        raise ctx.error("the JSON is nested too deeply to be an .svp file") from None
    except (ValueError, OverflowError, MemoryError) as e:  # NaN/Infinity, 5000-digit ints
        raise ctx.error(f"not valid JSON: {e}") from None


def read(data: bytes, *, path: str | None = None, options: ReadOptions | None = None) -> Project:
    """Read .svp bytes into a Project. The registry's read function.

    ``path`` only names the file in messages and becomes ``Project.source_path``.
    """
    options = options or ReadOptions()
    ctx = _Ctx(path, options.lenient)
    check_size_and_content(data, ctx, blank=b"\x00 \t\r\n")
    doc = _load(_decode(data, ctx), ctx)
    return _interpret(doc, ctx, options)


# --------------------------------------------------------------------------------------
# The project


def _interpret(doc: object, ctx: _Ctx, options: ReadOptions) -> Project:
    if not isinstance(doc, dict):
        raise ctx.error(f"not an .svp project: the JSON is {_show(doc)}, not an object")
    try:
        tracks = _list(doc.get("tracks"), "tracks")
    except Problem as e:
        raise ctx.fatal(e.message) from None
    if len(tracks) > limits.MAX_TRACKS:
        raise ctx.error(f"{len(tracks)} tracks; the limit is {limits.MAX_TRACKS}")
    time = doc.get("time")
    if not isinstance(time, dict):
        ctx.problem(f"time: expected an object, got {_show(time)}", None,
                    "assuming 4/4 and 120 bpm")
        time = {}
    tempos = _read_tempos(time.get("tempo"), ctx)
    signatures = _read_meters(time.get("meter"), ctx)
    library = _read_library(doc.get("library"), ctx)
    placed = _count_placed_notes(tracks, library)
    if placed > limits.MAX_NOTES:
        raise ctx.error(f"{placed} notes (counting every placement of a note group); the "
                        f"limit is {limits.MAX_NOTES}; refusing to read such a large score")
    axis = TimeAxis.from_tempos(tempos)
    budget = _Budget()
    drafts = []
    for i, t in enumerate(tracks):
        draft, curve_parts, detunes = _read_track(t, i, library, axis, budget, ctx)
        draft.notes = tidy_notes(draft.notes, f"track {draft.name!r}", ctx)
        spans = [(n.start_ticks, n.end_ticks, detunes[n.source]) for n in draft.notes
                 if n.source in detunes]
        draft.curves = _build_curves(curve_parts, spans, draft.name, ctx)
        drafts.append(draft)
    return finish(ctx, drafts, options, tempos=tempos, time_signatures=signatures,
                  tidy=False)  # tidied above: the detunes follow the tidied notes


def _read_tempos(raw, ctx: _Ctx) -> tuple[Tempo, ...]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        ctx.problem(f"time.tempo: expected a list, got {_show(raw)}", None, "assuming 120 bpm")
        raw = []
    events: list[tuple[int, float, int | None]] = []
    for k, item in enumerate(raw):
        where = f"time.tempo[{k}]"
        try:
            item = _dict(item, where)
            pos = _blicks(item.get("position"), f"{where}.position")
            bpm = _number(item.get("bpm"), f"{where}.bpm")
            if not limits.bpm_ok(bpm):
                raise Problem(f"{where}.bpm: {bpm:g} is out of range ({limits.MIN_BPM:g}.."
                              f"{limits.MAX_BPM:g})")
        except Problem as e:
            ctx.problem(e.message, e.at, "tempo ignored")
            continue
        events.append((max(0, _blicks_to_ticks(pos)), bpm, None))
    return tempo_list(events, ctx)


def _read_meters(raw, ctx: _Ctx) -> tuple[TimeSignature, ...]:
    """Time signatures in ticks (bars counted from the meter list)."""
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        ctx.problem(f"time.meter: expected a list, got {_show(raw)}", None, "assuming 4/4")
        raw = []
    by_bar: dict[int, tuple[int, int]] = {}
    for k, item in enumerate(raw):
        where = f"time.meter[{k}]"
        try:
            item = _dict(item, where)
            bar = _integer(item.get("index"), f"{where}.index", lo=0,
                           hi=limits.MAX_TICKS // 30)
            num = _integer(item.get("numerator"), f"{where}.numerator", lo=1, hi=255)
            den = _integer(item.get("denominator"), f"{where}.denominator", lo=1, hi=64)
            if den & (den - 1):
                raise Problem(f"{where}.denominator: {den} is not 1, 2, 4 ... 64")
        except Problem as e:
            ctx.problem(e.message, e.at, "time signature ignored")
            continue
        by_bar[bar] = (num, den)
    bars = sorted((b, n, d) for b, (n, d) in by_bar.items())
    if not bars or bars[0][0] != 0:
        if raw:
            ctx.warn("no time signature at the first bar; assuming 4/4")
        bars.insert(0, (0, 4, 4))
    out: list[TimeSignature] = []
    for (b, num, den), tick in zip(bars, bar_start_ticks(bars)):
        if tick > limits.MAX_TICKS:
            break
        if not out or (out[-1].numerator, out[-1].denominator) != (num, den):
            out.append(TimeSignature(tick, num, den))
    return tuple(out)


def _read_library(raw, ctx: _Ctx) -> dict[str, tuple[dict, str]]:
    """Note groups by uuid, each with its JSON path."""
    out: dict[str, tuple[dict, str]] = {}
    if raw is None:
        return out
    if not isinstance(raw, list):
        ctx.problem(f"library: expected a list, got {_show(raw)}", None, "library ignored")
        return out
    for k, g in enumerate(raw):
        where = f"library[{k}]"
        try:
            g = _dict(g, where)
            uuid = _text(g.get("uuid"), f"{where}.uuid")
        except Problem as e:
            ctx.problem(e.message, e.at, "note group ignored")
            continue
        out.setdefault(uuid, (g, where))
    return out


def _count_placed_notes(tracks: list, library: dict[str, tuple[dict, str]]) -> int:
    """How many notes the tracks would place (a quick count before reading any)."""
    def size(g) -> int:
        n = g.get("notes") if isinstance(g, dict) else None
        return len(n) if isinstance(n, list) else 0

    total = 0
    for t in tracks:
        if not isinstance(t, dict):
            continue
        total += size(t.get("mainGroup"))
        refs = t.get("groups")
        for ref in refs if isinstance(refs, list) else ():
            gid = ref.get("groupID") if isinstance(ref, dict) else None
            if isinstance(gid, str) and gid in library:
                total += size(library[gid][0])
    return total


class _Budget:
    """Counts notes and curve points placed, across all tracks and group references."""

    __slots__ = ("notes", "points")

    def __init__(self) -> None:
        self.notes = 0
        self.points = 0

    def take_notes(self, n: int, ctx: _Ctx) -> None:
        self.notes += n
        if self.notes > limits.MAX_NOTES:
            raise ctx.error(f"more than {limits.MAX_NOTES} notes (counting every placement of "
                            "a note group); refusing to read such a large score")

    def take_points(self, n: int, ctx: _Ctx) -> None:
        self.points += n
        if self.points > limits.MAX_CURVE_POINTS:
            raise ctx.error(f"more than {limits.MAX_CURVE_POINTS} curve points; refusing to "
                            "read such a large score")


@dataclass(slots=True)
class _Placement:
    group: dict
    where: str
    label: str
    offset_blicks: int | float
    pitch_offset: int


def _read_track(raw: object, i: int, library: dict[str, tuple[dict, str]], axis: TimeAxis,
                budget: _Budget, ctx: _Ctx,
                ) -> tuple[TrackDraft, dict[str, list[list[tuple[int, float]]]], dict[str, float]]:
    """A track's notes (not yet tidied), its curves' points by group, and the detune
    (cents) of each note by ``Note.source``."""
    where = f"tracks[{i}]"
    try:
        t = _dict(raw, where)
    except Problem as e:
        ctx.problem(e.message, e.at, "track ignored")
        return TrackDraft(name=f"Track {i + 1}"), {}, {}
    name = _optional(ctx, t, "name", where, _text, "", "no name")
    name = " ".join(name.split()) or f"Track {i + 1}"
    draft = TrackDraft(name=name)
    mixer: dict = _optional(ctx, t, "mixer", where, _dict, {}, "mixer ignored")
    draft.volume_db = _optional(ctx, mixer, "gainDecibel", f"{where}.mixer", _number, 0.0,
                                "using 0 dB", lo=-200.0, hi=60.0)
    draft.pan = _optional(ctx, mixer, "pan", f"{where}.mixer", _number, 0.0, "using the centre",
                          lo=-1.0, hi=1.0)
    draft.muted = _optional(ctx, mixer, "mute", f"{where}.mixer", _bool, False, "not muted")

    placements = _placements(t, where, name, library, ctx)
    main_ref: dict = t["mainRef"] if isinstance(t.get("mainRef"), dict) else {}
    db = main_ref.get("database")
    if isinstance(db, dict) and isinstance(db.get("name"), str):
        draft.source_singer = " ".join(db["name"].split())

    breaths = before_zero = 0
    detunes: dict[str, float] = {}
    curve_parts: dict[str, list[list[tuple[int, float]]]] = {}
    count = 0
    for pl in placements:
        notes = pl.group.get("notes", [])
        if not isinstance(notes, list):
            ctx.problem(f"{pl.where}.notes: expected a list, got {_show(notes)}", None,
                        "group ignored")
            continue
        budget.take_notes(len(notes), ctx)
        for k, nraw in enumerate(notes):
            count += 1
            source = f"note {count} of track {name!r}{pl.label}"
            got = _read_note(nraw, f"{pl.where}.notes[{k}]", source, pl, axis, ctx)
            if got is None:
                continue
            if got == "breath":
                breaths += 1
                continue
            if got == "early":
                before_zero += 1
                continue
            note, detune = got
            draft.notes.append(note)
            if detune:
                detunes[note.source] = detune
        _read_curves(pl, curve_parts, budget, ctx)
    if breaths:
        ctx.warn(f"track {name!r}: {breaths} breath note(s) ('br') are not sung")
    if before_zero:
        ctx.warn(f"track {name!r}: {before_zero} note(s) starting before the song's start "
                 "dropped")
    return draft, curve_parts, detunes


def _placements(t: dict, where: str, name: str, library: dict[str, tuple[dict, str]],
                ctx: _Ctx) -> list[_Placement]:
    out: list[_Placement] = []
    main_ref: dict = _optional(ctx, t, "mainRef", where, _dict, {},
                               "main group read without offsets")
    offset, pitch_offset, instrumental = _ref_offsets(main_ref, f"{where}.mainRef", ctx)
    main = t.get("mainGroup")
    if main is not None:
        try:
            main = _dict(main, f"{where}.mainGroup")
            if instrumental and main.get("notes"):
                ctx.warn(f"track {name!r} is instrumental (mainRef.isInstrumental); its "
                         "notes are not sung")
            elif not instrumental:
                out.append(_Placement(main, f"{where}.mainGroup", "", offset, pitch_offset))
        except Problem as e:
            ctx.problem(e.message, e.at, "main group ignored")
    refs: list = _optional(ctx, t, "groups", where, _list, [], "group references ignored")
    for k, ref in enumerate(refs):
        rw = f"{where}.groups[{k}]"
        try:
            ref = _dict(ref, rw)
        except Problem as e:
            ctx.problem(e.message, e.at, "group reference ignored")
            continue
        offset, pitch_offset, instrumental = _ref_offsets(ref, rw, ctx)
        if instrumental:
            ctx.warn(f"track {name!r}: {rw} is an audio (instrumental) reference; not sung")
            continue
        gid = ref.get("groupID")
        if not isinstance(gid, str) or gid not in library:
            ctx.problem(f"{rw}.groupID: {_show(gid)} names no note group of the library", None,
                        "reference ignored")
            continue
        group, gwhere = library[gid]
        gname = group.get("name")
        label = f", group {gname!r}" if isinstance(gname, str) and gname else f", {gwhere}"
        out.append(_Placement(group, gwhere, label, offset, pitch_offset))
    return out


#: a placement's offset where none is given (an int, so that positions stay exact ints)
_NO_OFFSET: float = 0


def _ref_offsets(ref: dict, where: str, ctx: _Ctx) -> tuple[int | float, int, bool]:
    offset = _optional(ctx, ref, "blickOffset", where, _blicks, _NO_OFFSET, "offset 0")
    pitch = _optional(ctx, ref, "pitchOffset", where, _integer, 0, "pitch offset 0",
                      lo=-127, hi=127)
    instrumental = _optional(ctx, ref, "isInstrumental", where, _bool, False, "taken as sung")
    return offset, pitch, instrumental


def _read_note(raw: object, where: str, source: str, pl: _Placement, axis: TimeAxis,
               ctx: _Ctx) -> tuple[Note, float] | Literal["breath", "early"] | None:
    """A note and its detune (cents); "breath", "early" (before 0), or None (dropped)."""
    try:
        n = _dict(raw, where)
        onset = _blicks(n.get("onset"), f"{where}.onset")
        duration = _blicks(n.get("duration"), f"{where}.duration")
        if duration <= 0:
            raise Problem(f"{where}.duration: {_show(duration)} is not a positive length")
        pitch = _integer(n.get("pitch"), f"{where}.pitch", lo=-1000, hi=1000) \
            + pl.pitch_offset
        if not limits.MIN_PITCH <= pitch <= limits.MAX_PITCH:
            raise Problem(f"{where}.pitch: {pitch} (after the group's pitch offset) is "
                          "outside the MIDI range 0..127")
        start_b = onset + pl.offset_blicks
        start = _blicks_to_ticks(start_b)
        end = _blicks_to_ticks(start_b + duration)
        if end > limits.MAX_TICKS or start < -limits.MAX_TICKS:
            raise Problem(f"{where}: the note ends at tick {end}, beyond the limit of "
                          f"{limits.MAX_TICKS}")
        if end <= start:
            raise Problem(f"{where}.duration: shorter than one tick")
        lyric_raw = n.get("lyrics", "")
        lyric_raw = _text(lyric_raw, f"{where}.lyrics") if lyric_raw is not None else ""
        phon_raw = n.get("phonemes", "")
        phon_raw = _text(phon_raw, f"{where}.phonemes") if phon_raw is not None else ""
    except Problem as e:
        ctx.problem(e.message, e.at, f"{source} dropped")
        return None
    if lyric_raw.strip().lower() in _BREATH_LYRICS:
        return "breath"
    if start < 0:
        return "early"
    detune = _optional(ctx, n, "detune", where, _number, 0.0, "no detune", lo=-1200.0, hi=1200.0)
    vibrato = _note_vibrato(n, where, start, end, axis, ctx)
    portamento_ms, offset_ms = _note_transition(n, where, ctx)
    note = Note(start_ticks=start, duration_ticks=end - start, pitch=pitch,
                lyric=lyric_from_file(lyric_raw), source=source,
                vibrato=vibrato, phonemes=tuple(phon_raw.split()),
                portamento_ms=portamento_ms, portamento_offset_ms=offset_ms)
    return note, detune


def _note_transition(n: dict, where: str, ctx: _Ctx) -> tuple[float | None, float | None]:
    """The note's own pitch transition into it (``tF0Offset``, ``tF0Left``,
    ``tF0Right``, seconds) as (length ms, start ms from the note's start); (None,
    None) when the note sets none of them."""
    attrs = n.get("attributes")
    if not isinstance(attrs, dict) or not any(k in attrs for k in _TRANSITION_KEYS):
        return None, None
    w = f"{where}.attributes"
    then = "SV's default used"
    offset_s = _optional(ctx, attrs, "tF0Offset", w, _number, 0.0, then, lo=-10.0, hi=10.0)
    left_s = _optional(ctx, attrs, "tF0Left", w, _number, DEFAULT_TRANSITION_SIDE_S, then,
                       lo=0.0, hi=5.0)
    right_s = _optional(ctx, attrs, "tF0Right", w, _number, DEFAULT_TRANSITION_SIDE_S, then,
                        lo=0.0, hi=5.0)
    return (left_s + right_s) * 1000.0, (offset_s - left_s) * 1000.0


def _note_vibrato(n: dict, where: str, start: int, end: int, axis: TimeAxis,
                  ctx: _Ctx) -> Vibrato | None:
    attrs = n.get("attributes")
    if not isinstance(attrs, dict) or not any(k in attrs for k in _VIBRATO_KEYS):
        return None
    w = f"{where}.attributes"
    then = "SV's default used"
    start_s = _optional(ctx, attrs, "tF0VbrStart", w, _number, DEFAULT_VIBRATO_START_S, then,
                        lo=0.0, hi=3600.0)
    left_s = _optional(ctx, attrs, "tF0VbrLeft", w, _number, DEFAULT_VIBRATO_LEFT_S, then,
                       lo=0.0, hi=3600.0)
    right_s = _optional(ctx, attrs, "tF0VbrRight", w, _number, DEFAULT_VIBRATO_RIGHT_S, then,
                        lo=0.0, hi=3600.0)
    depth = _optional(ctx, attrs, "dF0Vbr", w, _number, DEFAULT_VIBRATO_DEPTH_SEMITONES, then,
                      lo=0.0, hi=24.0)
    rate = _optional(ctx, attrs, "fF0Vbr", w, _number, DEFAULT_VIBRATO_RATE_HZ, then,
                     lo=0.01, hi=100.0)
    phase = _optional(ctx, attrs, "pF0Vbr", w, _number, DEFAULT_VIBRATO_PHASE_RAD, then,
                      lo=-1000.0, hi=1000.0)
    note_s = axis.tick_to_seconds(end) - axis.tick_to_seconds(start)
    vib_s = note_s - start_s
    if note_s <= 0 or vib_s <= 0:
        length_pct = fade_in = fade_out = 0.0
    else:
        length_pct = min(100.0, 100.0 * vib_s / note_s)
        fade_in = min(100.0, 100.0 * left_s / vib_s)
        fade_out = min(100.0, 100.0 * right_s / vib_s)
    return Vibrato(length_pct=length_pct, period_ms=1000.0 / rate,
                   depth_cents=depth * 100.0 / 2.0, fade_in_pct=fade_in,
                   fade_out_pct=fade_out,
                   phase_pct=(phase / (2.0 * math.pi) * 100.0) % 100.0)


# --------------------------------------------------------------------------------------
# Curves


def _read_curves(pl: _Placement, parts: dict[str, list[list[tuple[int, float]]]],
                 budget: _Budget, ctx: _Ctx) -> None:
    params = pl.group.get("parameters")
    if params is None:
        return
    if not isinstance(params, dict):
        ctx.problem(f"{pl.where}.parameters: expected an object, got {_show(params)}", None,
                    "curves ignored")
        return
    for sv_name, (name, _default) in CURVES.items():
        raw = params.get(sv_name)
        if raw is None:
            continue
        where = f"{pl.where}.parameters.{sv_name}"
        try:
            pts = _curve_points(raw, where, pl.offset_blicks, budget, ctx)
        except Problem as e:
            ctx.problem(e.message, e.at, "curve ignored")
            continue
        if pts:
            parts.setdefault(name, []).append(pts)


def _curve_points(raw, where: str, offset: int | float, budget: _Budget,
                  ctx: _Ctx) -> list[tuple[int, float]]:
    """One group's curve as (tick, value), sampled densely enough for cubic/cosine."""
    raw = _dict(raw, where)
    mode = raw.get("mode", "linear")
    if mode not in ("linear", "cubic", "cosine"):
        mode = "cubic"  # unknown modes: SV's default
    flat = _list(raw.get("points", []), f"{where}.points")
    if len(flat) % 2:
        raise Problem(f"{where}.points: an odd number of values ({len(flat)}); expected "
                      "position, value pairs")
    budget.take_points(len(flat) // 2, ctx)
    xs: list[float] = []
    ys: list[float] = []
    for j in range(0, len(flat), 2):
        x = _blicks(flat[j], f"{where}.points[{j}]") + offset
        y = _number(flat[j + 1], f"{where}.points[{j + 1}]", lo=-MAX_CURVE_ABS,
                    hi=MAX_CURVE_ABS)
        xs.append(x / BLICKS_PER_TICK)
        ys.append(y)
    order = sorted(range(len(xs)), key=xs.__getitem__)
    xs = [xs[i] for i in order]
    ys = [ys[i] for i in order]
    if mode != "linear" and len(xs) >= 2:
        extra = sum(_segment_steps(b - a) for a, b in zip(xs, xs[1:]))
        if budget.points + extra <= limits.MAX_CURVE_POINTS:
            xs, ys = _densify(xs, ys, mode)
            budget.take_points(len(xs) - len(flat) // 2, ctx)
        else:
            ctx.warn(f"{where}: too many points to follow the {mode} shape; the points are "
                     "joined by straight lines")
    out: list[tuple[int, float]] = []
    for x, y in zip(xs, ys):
        t = math.floor(x + 0.5)
        if abs(t) > limits.MAX_TICKS:
            raise Problem(f"{where}: a point lies beyond the limit of {limits.MAX_TICKS} ticks")
        if out and out[-1][0] == t:
            out[-1] = (t, y)  # points closer than a tick: the last wins
        else:
            out.append((t, y))
    return out


def _densify(xs: list[float], ys: list[float], mode: str) -> tuple[list[float], list[float]]:
    """Sample cubic (Catmull-Rom) or cosine segments every few ticks."""
    ox, oy = [xs[0]], [ys[0]]
    n = len(xs)
    for i in range(n - 1):
        x0, x1, y0, y1 = xs[i], xs[i + 1], ys[i], ys[i + 1]
        span = x1 - x0
        steps = _segment_steps(span)
        if steps >= 2 and (y0 != y1 or mode == "cubic"):
            if mode == "cubic":
                m0 = _slope(xs, ys, i)
                m1 = _slope(xs, ys, i + 1)
            for s in range(1, steps):
                u = s / steps
                if mode == "cosine":
                    y = y0 + (y1 - y0) * (1.0 - math.cos(math.pi * u)) / 2.0
                else:
                    h00 = 2 * u ** 3 - 3 * u ** 2 + 1
                    h10 = u ** 3 - 2 * u ** 2 + u
                    h01 = -2 * u ** 3 + 3 * u ** 2
                    h11 = u ** 3 - u ** 2
                    y = h00 * y0 + h10 * span * m0 + h01 * y1 + h11 * span * m1
                ox.append(x0 + span * u)
                oy.append(y)
        ox.append(x1)
        oy.append(y1)
    return ox, oy


def _segment_steps(span_ticks: float) -> int:
    """Into how many pieces a cubic or cosine segment this long is cut (0: not cut)."""
    if not span_ticks > 0:
        return 0
    return int(min(SEGMENT_SAMPLES, span_ticks // SEGMENT_STEP_TICKS))


def _slope(xs: list[float], ys: list[float], i: int) -> float:
    """Catmull-Rom tangent at point i (0 at the ends)."""
    if i == 0 or i == len(xs) - 1:
        return 0.0
    dx = xs[i + 1] - xs[i - 1]
    return (ys[i + 1] - ys[i - 1]) / dx if dx > 0 else 0.0


def _build_curves(parts: dict[str, list[list[tuple[int, float]]]],
                  detunes: list[tuple[int, int, float]], track: str,
                  ctx: _Ctx) -> list[TrackCurve]:
    out: list[TrackCurve] = []
    for sv_name, (name, default) in CURVES.items():
        groups = parts.get(name, [])
        pts = _from_zero(_merge(groups))
        if name == "pitd" and detunes:
            pts = _add_detunes(pts, detunes)
        if not pts:
            continue
        if len(pts) > limits.MAX_CURVE_POINTS:
            raise ctx.error(f"track {track!r}: curve {sv_name} has more than "
                            f"{limits.MAX_CURVE_POINTS} points")
        out.append(TrackCurve(name, tuple(t for t, _ in pts), tuple(v for _, v in pts),
                              default=default))
    return out


def _merge(groups: list[list[tuple[int, float]]]) -> list[tuple[int, float]]:
    """The points of every group, sorted by tick (equal ticks: the later group wins)."""
    if len(groups) == 1:
        return groups[0]
    tagged = sorted((t, g, k, v) for g, pts in enumerate(groups)
                    for k, (t, v) in enumerate(pts))
    out: list[tuple[int, float]] = []
    for t, _g, _k, v in tagged:
        if out and out[-1][0] == t:
            out[-1] = (t, v)
        else:
            out.append((t, v))
    return out


def _from_zero(pts: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Points before tick 0 (a group placed early) cut off, the curve's value at 0 kept."""
    if not pts or pts[0][0] >= 0:
        return pts
    later = [p for p in pts if p[0] > 0]
    before = [p for p in pts if p[0] <= 0]
    t0, v0 = before[-1]
    if t0 < 0 and later:
        t1, v1 = later[0]
        v0 = v0 + (v1 - v0) * (0 - t0) / (t1 - t0)
    elif t0 < 0:
        return []  # the whole curve lies before the song
    return [(0, v0)] + later


def _add_detunes(pts: list[tuple[int, float]],
                 detunes: list[tuple[int, int, float]]) -> list[tuple[int, float]]:
    """``pts`` (linear, 0 outside) plus a step of ``cents`` over each [start, end) tick span."""
    ticks = {t for t, _ in pts}
    for s, e, _c in detunes:
        ticks.update((s - 1, s, e - 1, e))
    grid = sorted(t for t in ticks if t >= 0)
    base = TrackCurve("pitd", tuple(t for t, _ in pts), tuple(v for _, v in pts)) \
        if pts else None
    values = list(base.sample(grid)) if base is not None else [0.0] * len(grid)
    spans = sorted(detunes)
    # notes are few per tick; a sweep keeps this linear in points + notes
    j = 0
    active: list[tuple[int, float]] = []
    for i, t in enumerate(grid):
        while j < len(spans) and spans[j][0] <= t:
            active.append((spans[j][1], spans[j][2]))
            j += 1
        active = [(e, c) for e, c in active if e > t]
        if active:
            values[i] += active[-1][1]
    return [(t, float(v)) for t, v in zip(grid, values)]
