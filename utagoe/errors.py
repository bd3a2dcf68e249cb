"""The one error hierarchy of utagoe.

Every error a user can meet derives from :class:`UtagoeError`; errors about an
input file name the file and, where known, the line (or byte offset) that is
wrong, in the form ``song.ust:42: expected key=value: 'Lengt480'``.
"""
from __future__ import annotations

from dataclasses import dataclass


class UtagoeError(Exception):
    """Base class of every error utagoe raises on purpose."""


def _where(path: str | None, line: int | None, offset: int | None) -> str:
    parts = []
    if path:
        parts.append(str(path))
    if line is not None:
        parts.append(str(line))
    elif offset is not None:
        parts.append(f"byte {offset}")
    return ":".join(parts)


class ScoreFormatError(UtagoeError):
    """A score file could not be read: names the file and line or byte offset."""

    def __init__(self, message: str, *, path: str | None = None,
                 line: int | None = None, offset: int | None = None) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.offset = offset
        where = _where(self.path, line, offset)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True, slots=True)
class LyricProblem:
    """One lyric that could not be turned into phonemes."""

    lyric: str
    where: str        # e.g. "track 1, note 12 (measure 4, beat 2)"
    reason: str


class LyricsError(UtagoeError):
    """One or more lyrics are unknown; lists each with its note position."""

    def __init__(self, problems: list[LyricProblem] | tuple[LyricProblem, ...],
                 *, path: str | None = None) -> None:
        self.problems = tuple(problems)
        self.path = path
        head = f"{path}: " if path else ""
        lines = [f"{head}{len(self.problems)} lyric(s) cannot be sung:"]
        for p in self.problems[:50]:
            lines.append(f"  {p.where}: {p.lyric!r}: {p.reason}")
        if len(self.problems) > 50:
            lines.append(f"  ... and {len(self.problems) - 50} more")
        lines.append("  (use lenient lyrics to sing unknown lyrics as the nearest vowel)")
        super().__init__("\n".join(lines))


class InvalidValueError(UtagoeError, ValueError):
    """A value given to a constructor (a setting, a note, a tempo) is out of its range;
    the message names the field: ``Tempo.bpm must be a finite number > 0, got 0``."""


class VoiceError(UtagoeError):
    """A voice (singer) is missing, unreadable or cannot sing what was asked."""


class RenderCancelled(UtagoeError):
    """A render was cancelled through its cancel token."""


class UnknownNameError(UtagoeError, LookupError):
    """A registry lookup failed; the message lists what exists."""

    def __init__(self, kind: str, name: str, known: list[str] | tuple[str, ...]) -> None:
        self.kind = kind
        self.name = name
        self.known = tuple(known)
        super().__init__(f"unknown {kind} {name!r}; known: {', '.join(self.known) or '(none)'}")
