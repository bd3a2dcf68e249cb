"""What every score reader shares: where it is, its warnings, and the tracks it builds.

:class:`ReadContext` knows the file, whether parsing is lenient, and gathers
warnings (at most :data:`MAX_WARNINGS`, then a count); its ``error`` names the
file and line (or byte offset, for binary formats). :func:`select_tracks`
implements the ``part`` option the same way for every multi-track format.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from ..errors import ScoreFormatError
from ..model.score import CONTINUATION, Note, Tempo, Track, TrackCurve
from ..model.timeaxis import TimeAxis
from ..model.units import TICKS_PER_QUARTER
from . import limits

#: warnings kept per file; the rest are counted in one last line
MAX_WARNINGS = 500

_DIGITS_RE = re.compile(r"^[0-9]{1,9}$")


def check_size_and_content(data: bytes, ctx: "ReadContext", *, limit: int,
                           blank: bytes = b" \t\r\n") -> None:
    """Refuse data over ``limit`` bytes, and data that is empty once ``blank`` is stripped."""
    if len(data) > limit:
        raise ctx.error(f"file is too large to be a score ({len(data) / 2**20:.1f} MiB; the "
                        f"limit is {limit // 2**20} MiB)")
    if not data.strip(blank):
        raise ctx.error("the file is empty")


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
        if self.by_offset:
            return ScoreFormatError(self._msg(message), path=self.path, offset=at)
        return ScoreFormatError(self._msg(message), path=self.path, line=at)

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

    def all_warnings(self) -> tuple[str, ...]:
        more = (f"... and {self.dropped} more warnings",) if self.dropped else ()
        return tuple(self.warnings) + more


# --------------------------------------------------------------------------------------
# Tracks while they are read: note tidying, track choice, lengths


@dataclass(slots=True)
class TrackDraft:
    """A track while it is read: notes in file order, not yet checked for overlaps."""

    name: str
    notes: list[Note] = field(default_factory=list)
    curves: list[TrackCurve] = field(default_factory=list)
    source_singer: str = ""
    volume_db: float = 0.0
    pan: float = 0.0
    muted: bool = False
    line: int | None = None

    @property
    def has_lyrics(self) -> bool:
        return any(n.lyric and n.lyric != CONTINUATION for n in self.notes)

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
            out[-1] = _replace_duration(prev, n.start_ticks - prev.start_ticks)
            shortened += 1
            break
        out.append(n)
    if shortened:
        ctx.warn(f"{where}: {shortened} note(s) overlapping the next note shortened")
    if dropped:
        ctx.warn(f"{where}: {dropped} note(s) starting on the same tick as a later note "
                 "dropped (the later note is sung)")
    return out


def _replace_duration(n: Note, duration: int) -> Note:
    return replace(n, duration_ticks=duration)


@dataclass(frozen=True, slots=True)
class TrackChoice:
    """What :func:`choose_tracks` needs to know of a reader's own track objects."""

    name: Callable[[Any], str]
    note_count: Callable[[Any], int]
    has_lyrics: Callable[[Any], bool]
    line: Callable[[Any], int | None] = lambda t: None


def describe_tracks(tracks: list, how: TrackChoice) -> str:
    """``1 'Vocal' (43 notes); 2 'Piano' (12 notes, no lyrics)`` -- numbered as
    ``part`` counts them, for messages."""
    items = []
    for i, t in enumerate(tracks, 1):
        extra = "" if how.has_lyrics(t) else ", no lyrics"
        items.append(f"{i} {how.name(t)!r} ({how.note_count(t)} notes{extra})")
    return "; ".join(items) or "(none)"


def choose_tracks(tracks: list, part, ctx: ReadContext, how: TrackChoice, *,
                  lyrics_needed: bool = False, hint: str = "",
                  error: Callable[..., ScoreFormatError] | None = None) -> list:
    """The tracks ``part`` asks for among ``tracks`` (those with notes, in file order).

    ``None``: every track with lyrics; each other one is reported in a warning
    that gives its ``--part`` number. An int N: the Nth track (1-based); a str:
    the track of that name (any case), else a number written as text. Anything
    unknown raises, listing the tracks. ``lyrics_needed``: a chosen track without
    lyrics is refused. ``hint`` ends the messages about tracks without lyrics.
    ``error`` makes the exceptions (default ``ctx.error``).
    """
    error = error or ctx.error
    if part is None:
        chosen = []
        for i, t in enumerate(tracks, 1):
            if how.has_lyrics(t):
                chosen.append(t)
            else:
                ctx.warn(f"track {how.name(t)!r} (--part {i}, {how.note_count(t)} notes) has "
                         f"no lyrics and is not sung{hint}", how.line(t))
        return chosen
    if isinstance(part, bool) or not isinstance(part, (int, str)):
        raise error(f"part must be a 1-based track number or a track name, not {part!r}")
    pick = None
    if isinstance(part, int):
        if not 1 <= part <= len(tracks):
            raise error(f"there is no track {part} with notes; the tracks with notes are: "
                        f"{describe_tracks(tracks, how)}")
        pick = tracks[part - 1]
    else:
        want = part.strip().casefold()
        pick = next((t for t in tracks if how.name(t).strip().casefold() == want), None)
        if pick is None and _DIGITS_RE.match(want) and 1 <= int(want) <= len(tracks):
            pick = tracks[int(want) - 1]
        if pick is None:
            raise error(f"no track named {part!r}; the tracks with notes are: "
                        f"{describe_tracks(tracks, how)}")
    if lyrics_needed and not how.has_lyrics(pick):
        raise error(f"track {how.name(pick)!r} has no lyrics{hint}")
    return [pick]


_DRAFTS = TrackChoice(name=lambda d: d.name, note_count=lambda d: len(d.notes),
                      has_lyrics=lambda d: d.has_lyrics, line=lambda d: d.line)


def select_tracks(drafts: list[TrackDraft], part, ctx: ReadContext) -> list[TrackDraft]:
    """:func:`choose_tracks` among the drafts that have notes; a file without notes,
    or whose tracks all lack lyrics when ``part`` is None, is refused."""
    with_notes = [d for d in drafts if d.notes]
    if not with_notes:
        raise ctx.error("the file has no notes")
    if part is None and not any(d.has_lyrics for d in with_notes):
        raise ctx.error("no track has lyrics; choose one to sing on '+' with part=N; "
                        f"the tracks are: {describe_tracks(with_notes, _DRAFTS)}")
    return choose_tracks(with_notes, part, ctx, _DRAFTS)


def bar_start_ticks(bars: list[tuple[int, int, int]]) -> list[int]:
    """Where each time signature starts, in ticks (480 per quarter), for signatures
    given as (bar, numerator, denominator), sorted by bar, the first at bar 0.
    Linear in the number of signatures."""
    ticks: list[int] = []
    tick = 0
    for i, (bar, num, den) in enumerate(bars):
        if i:
            prev_bar, prev_num, prev_den = bars[i - 1]
            tick += (bar - prev_bar) * (prev_num * TICKS_PER_QUARTER * 4 // prev_den)
        ticks.append(tick)
    return ticks


def check_song_length(tracks: list[TrackDraft], tempos: tuple[Tempo, ...], ctx: ReadContext) -> None:
    """Refuse a song longer than :data:`limits.MAX_SONG_SECONDS`."""
    end = max((n.end_ticks for d in tracks for n in d.notes), default=0)
    if end > limits.MAX_TICKS:
        raise ctx.error(f"the song ends at tick {end}, beyond the limit of {limits.MAX_TICKS}")
    end_s = TimeAxis.from_tempos(tempos).tick_to_seconds(end)
    if end_s > limits.MAX_SONG_SECONDS:
        raise ctx.error(f"the song would last {end_s / 3600:.1f} hours; the limit is "
                        f"{limits.MAX_SONG_SECONDS // 3600} hours")


def lyric_from_file(text: str, default_lyric: str | None) -> str:
    """A lyric as a reader keeps it: ``-`` is a continuation, empty is the default lyric."""
    t = text.strip()
    if t == "-":
        return CONTINUATION
    if not t:
        return default_lyric.strip() if default_lyric and default_lyric.strip() \
            else CONTINUATION
    return t


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
