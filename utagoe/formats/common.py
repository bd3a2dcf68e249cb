"""What every score reader shares: where it is, its warnings, and the one way it finishes.

* :class:`ReadContext` knows the file, whether parsing is lenient, and gathers
  warnings (at most :data:`MAX_WARNINGS`, then a count); its ``error`` names the
  file and line (or byte offset, for binary formats). The one lenient idiom:
  :meth:`ReadContext.problem` (an error, or with ``lenient`` a warning that says
  what was done instead), :meth:`ReadContext.attempt` (run a step; a problem it
  raises is reported the same way and the step is skipped), :class:`Problem`
  (raised where no context is at hand) and :meth:`ReadContext.fatal` (an error
  ``lenient`` never softens).
* :func:`finish` is how every reader ends: a list of :class:`TrackDraft` becomes a
  :class:`~utagoe.model.Project` -- notes tidied (sorted, overlaps removed), tracks
  chosen by :func:`select_tracks` (the ``part`` option and the lyric rule, the same
  for every format), the song's length checked, the warnings gathered.
* :func:`tempo_list` builds a tempo map from a file's tempo changes (sorted, a
  tempo at tick 0, the last of one tick wins, bounds from :mod:`.limits`).
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ..errors import ScoreFormatError
from ..fileio import too_large_message
from ..model.score import (CONTINUATION, NO_LYRIC, KeySignature, Note, Project, Tempo, TimeSignature,
                           Track, TrackCurve)
from ..model.timeaxis import TimeAxis
from ..model.units import TICKS_PER_QUARTER
from . import limits

if TYPE_CHECKING:
    from .options import ReadOptions

#: warnings kept per file; the rest are counted in one last line
MAX_WARNINGS = 500

# NO_LYRIC (model.score): a note the file gives no lyric for, kept in a track that has
# no lyrics at all when ``ReadOptions.keep_tracks_without_lyrics`` is set (a melody
# imported to be given lyrics later); the writers write no lyric for it (MusicXML,
# MIDI) or OpenUtau's default lyric (USTX).

#: the syllable the messages suggest for --default-lyric
SUGGESTED_LYRIC = "ら"

_DIGITS_RE = re.compile(r"^[0-9]{1,9}$")

T = TypeVar("T")


# --------------------------------------------------------------------------------------
# Where we are, strictness, warnings


class Problem(Exception):
    """A recoverable problem found where no :class:`ReadContext` is at hand (in a value
    parser): the caller hands it to :meth:`ReadContext.problem` through
    :meth:`ReadContext.attempt`. ``at`` is a line or byte offset (None: unknown)."""

    def __init__(self, message: str, at: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.at = at


class Unrecoverable(ScoreFormatError):
    """A ScoreFormatError that ``lenient`` must not turn into a warning (a file too
    large, not of the format at all, or beyond a limit)."""


def check_size_and_content(data: bytes, ctx: ReadContext, *,
                           blank: bytes | None = b" \t\r\n") -> None:
    """Refuse data over limits.MAX_SCORE_BYTES, and data that is empty once ``blank``
    is stripped (``blank=None``: the size only; the caller checks emptiness itself)."""
    if len(data) > limits.MAX_SCORE_BYTES:
        raise ctx.fatal(too_large_message(len(data), limits.MAX_SCORE_BYTES))
    if blank is not None and not data.strip(blank):
        raise ctx.fatal("the file is empty")


class ReadContext:
    """The file being read (and the member of a container), strictness, warnings.

    ``at`` is a line number, or a byte offset where ``by_offset`` is set (binary
    formats subclass it so).
    """

    __slots__ = ("path", "member", "lenient", "warnings", "dropped")
    by_offset = False

    def __init__(self, path: str | None, lenient: bool) -> None:
        self.path = path
        self.member: str | None = None
        self.lenient = lenient
        self.warnings: list[str] = []
        self.dropped = 0

    def _msg(self, message: str) -> str:
        return f"{self.member}: {message}" if self.member else message

    def error(self, message: str, at: int | None = None) -> ScoreFormatError:
        """An error naming the file and where (raise it)."""
        if self.by_offset:
            return ScoreFormatError(self._msg(message), path=self.path, offset=at)
        return ScoreFormatError(self._msg(message), path=self.path, line=at)

    def fatal(self, message: str, at: int | None = None) -> Unrecoverable:
        """An error that :meth:`attempt` does not soften, even when lenient."""
        if self.by_offset:
            return Unrecoverable(self._msg(message), path=self.path, offset=at)
        return Unrecoverable(self._msg(message), path=self.path, line=at)

    def add(self, text: str) -> None:
        """Keep a finished warning text (at most MAX_WARNINGS; the rest are counted)."""
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(text)
        else:
            self.dropped += 1

    def warn(self, message: str, at: int | None = None) -> None:
        self.add(str(self.error(message, at)))

    def problem(self, message: str, at: int | None = None, repair: str = "") -> None:
        """A recoverable problem: an error, or with ``lenient`` a warning (``repair``
        says what was done instead)."""
        if not self.lenient:
            raise self.error(message, at)
        self.warn(f"{message}; {repair}" if repair else message, at)

    def attempt(self, step: Callable[..., T], *args: object, repair: str = "left out",
                **kwargs: object) -> T | None:
        """``step(*args, **kwargs)``; a :class:`Problem` or ScoreFormatError it raises is a
        :meth:`problem` (strict: raised; lenient: a warning ending in ``repair``, and
        None). :class:`Unrecoverable` errors pass through."""
        try:
            return step(*args, **kwargs)
        except Unrecoverable:
            raise
        except Problem as p:
            self.problem(p.message, p.at, repair)
        except ScoreFormatError as e:
            if not self.lenient:
                raise
            at = e.offset if self.by_offset else e.line
            self.warn(f"{e.message}; {repair}" if repair else e.message, at)
        return None

    def all_warnings(self) -> tuple[str, ...]:
        more = (f"... and {self.dropped} more warnings",) if self.dropped else ()
        return tuple(self.warnings) + more


# --------------------------------------------------------------------------------------
# Tracks while they are read


def is_sung_lyric(lyric: str) -> bool:
    """Is this a lyric of its own (not the empty NO_LYRIC, not a continuation)?"""
    t = lyric.strip()
    return bool(t) and t != CONTINUATION


@dataclass(slots=True)
class TrackDraft:
    """A track while it is read: notes in file order, not yet checked for overlaps.

    ``notices``: warnings about this track's notes, shown (after the track's name)
    only if the track is kept.
    """

    name: str
    notes: list[Note] = field(default_factory=list)
    curves: list[TrackCurve] = field(default_factory=list)
    source_singer: str = ""
    volume_db: float = 0.0
    pan: float = 0.0
    muted: bool = False
    line: int | None = None
    notices: list[tuple[str, int | None]] = field(default_factory=list)

    @property
    def has_lyrics(self) -> bool:
        return any(is_sung_lyric(n.lyric) for n in self.notes)

    def build(self) -> Track:
        return Track(name=self.name, notes=tuple(self.notes), curves=tuple(self.curves),
                     source_singer=self.source_singer, volume_db=self.volume_db,
                     pan=self.pan, muted=self.muted)


def tidy_notes(notes: list[Note], where: str, ctx: ReadContext) -> list[Note]:
    """Notes sorted by start (file order among equal starts), overlaps removed.

    A note that runs into the next one is shortened to end where the next starts;
    one that starts on the same tick as a later one in the file is dropped. Each
    kind of repair is reported once per track, as a warning.
    """
    order = sorted(range(len(notes)), key=lambda i: notes[i].start_ticks)
    out: list[Note] = []
    shortened = dropped = 0
    for i in order:
        n = notes[i]
        while out and out[-1].end_ticks > n.start_ticks:
            prev = out[-1]
            if prev.start_ticks >= n.start_ticks:
                out.pop()
                dropped += 1
                continue
            out[-1] = replace(prev, duration_ticks=n.start_ticks - prev.start_ticks)
            shortened += 1
            break
        out.append(n)
    if shortened:
        ctx.warn(f"{where}: {shortened} note(s) overlapping the next note shortened")
    if dropped:
        ctx.warn(f"{where}: {dropped} note(s) starting on the same tick as a later note "
                 "dropped (the later note is sung)")
    return out


def lyric_from_file(text: str) -> str:
    """A lyric as a reader keeps it: ``-`` is a continuation, blank is NO_LYRIC (which
    :func:`select_tracks` resolves), anything else is kept without surrounding spaces."""
    t = text.strip()
    if t == "-":
        return CONTINUATION
    return t


def clean_default_lyric(options: ReadOptions) -> str | None:
    """The default lyric asked for, without surrounding spaces; None when blank."""
    d = " ".join((options.default_lyric or "").split())
    return d or None


def notes(count: int) -> str:
    """``1 note``, ``12 notes``."""
    return f"{count} note" if count == 1 else f"{count} notes"


# --------------------------------------------------------------------------------------
# Choosing tracks: the ``part`` option and the lyric rule, the same for every format


@dataclass(frozen=True, slots=True)
class TrackChoice:
    """What :func:`choose_tracks` needs to know of a reader's own track objects."""

    name: Callable[[Any], str]
    note_count: Callable[[Any], int]
    has_lyrics: Callable[[Any], bool]


def describe_tracks(tracks: Sequence[object], how: TrackChoice, noun: str = "track") -> str:
    """``track 'Vocal' (--part 1, 43 notes); track 'Piano' (--part 2, 12 notes, no
    lyrics)`` -- numbered as ``part`` counts them, for messages."""
    items = []
    for i, t in enumerate(tracks, 1):
        extra = "" if how.has_lyrics(t) else ", no lyrics"
        items.append(f"{noun} {how.name(t)!r} (--part {i}, {notes(how.note_count(t))}{extra})")
    return "; ".join(items) or "(none)"


def choose_tracks(tracks: Sequence[T], part: int | str | None, ctx: ReadContext,
                  how: TrackChoice, *, noun: str = "track") -> list[T]:
    """The tracks ``part`` asks for among ``tracks`` (those with notes, in file order):
    all of them for None; an int N: the Nth (1-based); a str: the track of that
    name (any case), else a number written as text. Anything unknown raises,
    listing the tracks."""
    if part is None:
        return list(tracks)
    if isinstance(part, bool) or not isinstance(part, (int, str)):
        raise ctx.fatal(f"part must be a 1-based {noun} number or a {noun} name, not {part!r}")
    if isinstance(part, int):
        if not 1 <= part <= len(tracks):
            raise ctx.fatal(f"there is no {noun} {part} with notes; the {noun}s with notes "
                            f"are: {describe_tracks(tracks, how, noun)}")
        return [tracks[part - 1]]
    want = part.strip().casefold()
    pick = next((t for t in tracks if how.name(t).strip().casefold() == want), None)
    if pick is None and _DIGITS_RE.match(want) and 1 <= int(want) <= len(tracks):
        pick = tracks[int(want) - 1]
    if pick is None:
        raise ctx.fatal(f"no {noun} named {part!r}; the {noun}s with notes are: "
                        f"{describe_tracks(tracks, how, noun)}")
    return [pick]


_DRAFTS = TrackChoice(name=lambda d: d.name, note_count=lambda d: len(d.notes),
                      has_lyrics=lambda d: d.has_lyrics)


def no_lyrics_error(listing: str, ctx: ReadContext, noun: str = "track") -> ScoreFormatError:
    """The error for a file where no track has lyrics (and nothing says to sing anyway)."""
    return ctx.fatal(f"no {noun} has lyrics, so there is nothing to sing; the {noun}s with "
                     f"notes are: {listing}; give --default-lyric {SUGGESTED_LYRIC} to sing "
                     f"their notes on one syllable (and --part N to choose one {noun})")


def select_tracks(drafts: list[TrackDraft], options: ReadOptions, ctx: ReadContext, *,
                  noun: str = "track", fill_missing: bool = True) -> list[TrackDraft]:
    """The drafts to keep, by the one rule every reader follows.

    Only drafts with notes count; ``--part N`` is the Nth of them. ``part`` None:
    every track with lyrics; a track without lyrics is sung on
    ``options.default_lyric`` where one is given, else kept with its notes on
    NO_LYRIC where ``options.keep_tracks_without_lyrics`` is set, else left out --
    and when no track has lyrics at all, that is an error that names the tracks
    and suggests ``--default-lyric``. A track asked for by ``part`` that has no
    lyrics follows the same rule (see :func:`settle_lyrics`). A file without notes
    is an error, or with ``keep_tracks_without_lyrics`` an empty list and a warning.
    """
    with_notes = [d for d in drafts if d.notes]
    keep = options.keep_tracks_without_lyrics
    if not with_notes:
        if keep:
            ctx.warn("the file has no notes")
            return []
        raise ctx.fatal("the file has no notes")
    number = {id(d): i for i, d in enumerate(with_notes, 1)}
    picked = choose_tracks(with_notes, options.part, ctx, _DRAFTS, noun=noun)
    if options.part is None and not clean_default_lyric(options) and not keep \
            and not any(d.has_lyrics for d in with_notes):
        raise no_lyrics_error(describe_tracks(with_notes, _DRAFTS, noun), ctx, noun)
    return [d for d in picked
            if settle_lyrics(d, number[id(d)], options, ctx, noun=noun,
                             asked=options.part is not None, fill_missing=fill_missing)]


def settle_lyrics(d: TrackDraft, number: int, options: ReadOptions, ctx: ReadContext, *,
                  noun: str = "track", asked: bool = False, fill_missing: bool = True,
                  count: int | None = None) -> bool:
    """Whether the chosen draft ``d`` (``--part number``) is kept, and its lyrics settled.

    A draft with lyrics is kept; with ``fill_missing`` a note of it without a lyric
    (NO_LYRIC) continues the syllable before it, or is sung on ``default_lyric``.
    A draft without lyrics is sung on ``default_lyric`` where one is given, else kept
    on NO_LYRIC with ``keep_tracks_without_lyrics``, else left out with a warning, or
    refused with an error where the caller ``asked`` for it. Each case but the first
    is said in a warning naming the draft with its ``--part`` number; the draft's own
    ``notices`` follow for a draft that is kept. ``count``: the number of notes to
    name (default: the draft's).
    """
    default = clean_default_lyric(options)
    what = f"{noun} {d.name!r} (--part {number}, {notes(len(d.notes) if count is None else count)})"
    if d.has_lyrics:
        if fill_missing and any(n.lyric == NO_LYRIC for n in d.notes):
            fill = default or CONTINUATION
            d.notes = [replace(n, lyric=fill) if n.lyric == NO_LYRIC else n for n in d.notes]
    elif default:
        ctx.warn(f"{what} has no lyrics; its notes are sung on {default!r}", d.line)
        d.notes = [replace(n, lyric=default) if n.lyric == NO_LYRIC else n for n in d.notes]
    elif options.keep_tracks_without_lyrics:
        ctx.warn(f"{what} has no lyrics; its notes are kept without lyrics and are not sung "
                 "unless given --default-lyric", d.line)
    elif not asked:
        ctx.warn(f"{what} has no lyrics and is not sung (give --default-lyric "
                 f"{SUGGESTED_LYRIC} to sing it on one syllable)", d.line)
        return False
    else:
        raise ctx.fatal(f"{what} has no lyrics; give --default-lyric {SUGGESTED_LYRIC} to "
                        "sing its notes on one syllable")
    for message, at in d.notices:
        ctx.warn(f"{noun} {d.name!r} (--part {number}): {message}", at)
    return True


# --------------------------------------------------------------------------------------
# Tempo, bars, song length


def tempo_list(changes: Iterable[tuple[int, float, int | None]], ctx: ReadContext, *,
               start: Literal["move", "copy", "default"] = "move",
               drop_repeats: bool = True, warn_start: bool = True,
               warn_missing: bool = True) -> tuple[Tempo, ...]:
    """The tempo map of a file's tempo changes ``(tick, bpm, at)`` (ticks at 480 per
    quarter; ``at`` a line or byte offset for messages).

    A change outside limits.MIN_BPM..MAX_BPM or 0..MAX_TICKS is a problem (lenient:
    ignored). Changes are sorted by tick; of changes on one tick the later in
    ``changes`` wins (a warning when they differ). ``drop_repeats``: a change to the
    tempo already in force is dropped. No change at all: limits.DEFAULT_BPM (a
    warning if ``warn_missing``). No change at tick 0 (a warning if ``warn_start``):
    ``"move"`` the first change to 0, ``"copy"`` it to 0 as well, or put the
    ``"default"`` tempo at 0.
    """
    kept: list[tuple[int, float, int | None]] = []
    for tick, bpm, at in changes:
        if not limits.bpm_ok(bpm):
            ctx.problem(f"tempo {bpm:g} bpm is outside {limits.MIN_BPM:g}..{limits.MAX_BPM:g} "
                        "bpm", at, "ignored")
            continue
        if not 0 <= tick <= limits.MAX_TICKS:
            ctx.problem(f"tempo change at tick {tick} lies beyond the longest song "
                        f"({limits.MAX_TICKS} ticks)", at, "ignored")
            continue
        kept.append((tick, float(bpm), at))
    kept.sort(key=lambda c: c[0])
    out: list[Tempo] = []
    for tick, bpm, at in kept:
        if out and out[-1].tick == tick:
            if out[-1].bpm != bpm:
                ctx.warn(f"two tempos at tick {tick}; the last ({bpm:g} bpm) wins", at)
            out[-1] = Tempo(tick, bpm)
            if drop_repeats and len(out) > 1 and out[-2].bpm == bpm:
                out.pop()
        elif not (drop_repeats and out and out[-1].bpm == bpm):
            out.append(Tempo(tick, bpm))
    if not out:
        if warn_missing:
            ctx.warn(f"no tempo; assuming {limits.DEFAULT_BPM:g} bpm")
        return (Tempo(0, limits.DEFAULT_BPM),)
    if out[0].tick != 0:
        first = out[0]
        if start == "default":
            if warn_start:
                ctx.warn(f"no tempo before tick {first.tick}; assuming "
                         f"{limits.DEFAULT_BPM:g} bpm there")
            out.insert(0, Tempo(0, limits.DEFAULT_BPM))
        else:
            if warn_start:
                ctx.warn(f"no tempo before tick {first.tick}; the first tempo ({first.bpm:g} "
                         "bpm) holds from the start")
            if start == "move":
                out[0] = Tempo(0, first.bpm)
            else:
                out.insert(0, Tempo(0, first.bpm))
    return tuple(out)


def bar_start_ticks(bars: list[tuple[int, int, int]]) -> list[int]:
    """Where each time signature starts, in ticks (480 per quarter), for signatures
    given as (bar, numerator, denominator), sorted by bar, the first at bar 0.
    Linear in the number of signatures."""
    ticks: list[int] = []
    tick = 0
    for i, (bar, _num, _den) in enumerate(bars):
        if i:
            prev_bar, prev_num, prev_den = bars[i - 1]
            tick += (bar - prev_bar) * (prev_num * TICKS_PER_QUARTER * 4 // prev_den)
        ticks.append(tick)
    return ticks


def check_song_length(tracks: Iterable[TrackDraft], tempos: tuple[Tempo, ...],
                      ctx: ReadContext) -> None:
    """Refuse a song longer than :data:`limits.MAX_SONG_SECONDS`."""
    end = max((n.end_ticks for d in tracks for n in d.notes), default=0)
    if end > limits.MAX_TICKS:
        raise ctx.fatal(f"the song ends at tick {end}, beyond the limit of {limits.MAX_TICKS}")
    end_s = TimeAxis.from_tempos(tempos).tick_to_seconds(end)
    if not math.isfinite(end_s) or end_s > limits.MAX_SONG_SECONDS:
        raise ctx.fatal(f"the song would last {end_s / 3600:.1f} hours; the limit is "
                        f"{limits.MAX_SONG_SECONDS // 3600} hours")


def finish(ctx: ReadContext, drafts: list[TrackDraft], options: ReadOptions, *,
           tempos: tuple[Tempo, ...],
           time_signatures: tuple[TimeSignature, ...] = (TimeSignature(0, 4, 4),),
           key_signatures: tuple[KeySignature, ...] = (KeySignature(0),),
           title: str = "", noun: str = "track", tidy: bool = True,
           fill_missing: bool = True,
           select: Callable[[list[TrackDraft]], list[TrackDraft]] | None = None) -> Project:
    """How every reader ends: tidy each draft's notes (``tidy``), choose the tracks
    (:func:`select_tracks` with ``fill_missing``, or the reader's own ``select``,
    which must follow the same rule), check the song's length, and build the Project
    with the warnings gathered in ``ctx``."""
    if tidy:
        for d in drafts:
            if d.notes:
                d.notes = tidy_notes(d.notes, f"{noun} {d.name!r}", ctx)
    if select is None:
        chosen = select_tracks(drafts, options, ctx, noun=noun, fill_missing=fill_missing)
    else:
        chosen = select(drafts)
    check_song_length(chosen, tempos, ctx)
    return Project(tracks=tuple(d.build() for d in chosen), tempos=tempos,
                   time_signatures=time_signatures, key_signatures=key_signatures,
                   title=title, source_path=ctx.path, warnings=ctx.all_warnings())


def step_curve_points(changes: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Points of a step function for linear interpolation.

    ``changes``: (tick, value) sorted by tick, each value holding until the next
    change; equal ticks: the last wins. A point one tick before each change keeps
    the old value, so interpolating linearly between the points gives the steps.
    """
    pts: list[tuple[int, float]] = []
    for tick, value in changes:
        if pts and pts[-1][0] == tick:
            pts[-1] = (tick, value)
            if len(pts) >= 2 and pts[-2][0] == tick - 1 and pts[-2][1] == value:
                pts.pop()  # the change was undone on the same tick
            continue
        if pts:
            prev_tick, prev_value = pts[-1]
            if prev_value == value:
                continue
            if tick - 1 > prev_tick:
                pts.append((tick - 1, prev_value))
        pts.append((tick, value))
    return pts
