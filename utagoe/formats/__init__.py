"""Score files in and out. Every format is listed in ``registry.default_registry``.

    >>> from utagoe.formats import read_score, write_score
    >>> project = read_score("song.ust")
    >>> write_score(project, "song.ustx")
"""
from __future__ import annotations

import os

from ..model.score import Project
from .registry import (MAX_SCORE_BYTES, FormatRegistry, ReadOptions, ScoreReader,
                       ScoreWriter, default_registry)


def read_score(path: str | os.PathLike, *, part: int | str | None = None,
               verse: int | str | None = None, voice: int | str | None = None,
               lenient: bool = False, encoding: str | None = None,
               default_lyric: str | None = None, format: str | None = None,
               registry: FormatRegistry | None = None) -> Project:
    """Read a score file into a :class:`~utagoe.model.Project` (one track: the sung part).

    ``part``: 1-based number, or a part id or name (default: the first part with
    lyrics, else the first part). ``verse``: 1-based lyric line, or its name
    (default 1). ``voice``: 1-based voice number (default: voice 1, or the lowest
    voice that carries lyrics). ``lenient``: recoverable problems become
    ``Project.warnings`` instead of errors. ``encoding``: a codec name that forces
    how text in the file is decoded (MIDI, UST). ``default_lyric``: MIDI tracks
    without lyrics are sung on this syllable. ``format``: a format name (e.g.
    ``"musicxml"``) to skip detection. ``registry``: defaults to
    :func:`default_registry`. Every problem with the file raises
    :class:`~utagoe.errors.ScoreFormatError`; the file is never modified.
    """
    registry = registry if registry is not None else default_registry()
    if encoding is not None:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            from ..errors import ScoreFormatError
            raise ScoreFormatError(f"unknown text encoding {encoding!r}") from None
    options = ReadOptions(part=part, verse=verse, voice=voice, lenient=lenient,
                          encoding=encoding, default_lyric=default_lyric)
    return registry.read(path, options, format_name=format)


def write_score(project: Project, path: str | os.PathLike, *, format: str | None = None,
                registry: FormatRegistry | None = None):
    """Write ``project`` to ``path`` (.ustx, .musicxml/.xml, .mid), atomically."""
    registry = registry if registry is not None else default_registry()
    return registry.write(project, path, format_name=format)


__all__ = ["MAX_SCORE_BYTES", "FormatRegistry", "ReadOptions", "ScoreReader", "ScoreWriter",
           "default_registry", "read_score", "write_score"]
