"""Score files in and out: MusicXML (more formats register in ``registry.default_registry``).

    >>> from utagoe.formats import read_score
    >>> project = read_score("song.musicxml", verse=2)
"""
from __future__ import annotations

import os

from ..model.score import Project
from .registry import (MAX_SCORE_BYTES, FormatRegistry, ReadOptions, ScoreReader,
                       default_registry)


def read_score(path: str | os.PathLike, *, part: int | str | None = None,
               verse: int | str | None = None, voice: int | str | None = None,
               lenient: bool = False, format: str | None = None,
               registry: FormatRegistry | None = None) -> Project:
    """Read a score file into a :class:`~utagoe.model.Project` (one track: the sung part).

    ``part``: 1-based number, or a part id or name (default: the first part with
    lyrics, else the first part). ``verse``: 1-based lyric line, or its name
    (default 1). ``voice``: 1-based voice number (default: voice 1, or the lowest
    voice that carries lyrics). ``lenient``: recoverable problems become
    ``Project.warnings`` instead of errors. ``format``: a format name (e.g.
    ``"musicxml"``) to skip detection. ``registry``: defaults to
    :func:`default_registry`. Every problem with the file raises
    :class:`~utagoe.errors.ScoreFormatError`; the file is never modified.
    """
    registry = registry if registry is not None else default_registry()
    options = ReadOptions(part=part, verse=verse, voice=voice, lenient=lenient)
    return registry.read(path, options, format_name=format)


__all__ = ["MAX_SCORE_BYTES", "FormatRegistry", "ReadOptions", "ScoreReader",
           "default_registry", "read_score"]
