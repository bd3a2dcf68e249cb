"""Score files in and out. Every format is listed in ``registry.default_registry``.

    >>> from utagoe.formats import ReadOptions, read_score, write_score
    >>> project = read_score("song.ust", ReadOptions(lenient=True))
    >>> write_score(project, "song.ustx")

Importing this package is light: the registry, and each reader, are imported when
first used.
"""
from __future__ import annotations

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .options import ReadOptions

if TYPE_CHECKING:
    from pathlib import Path

    from ..model.score import Project
    from .limits import MAX_SCORE_BYTES
    from .registry import FormatRegistry, ScoreReader, ScoreWriter, default_registry

#: public name -> module (relative to this package) that defines it
_WHERE = {"FormatRegistry": ".registry", "ScoreReader": ".registry", "ScoreWriter": ".registry",
          "default_registry": ".registry", "MAX_SCORE_BYTES": ".limits"}

def read_score(path: str | os.PathLike, options: ReadOptions | None = None, *,
               format: str | None = None, registry: FormatRegistry | None = None) -> Project:
    """Read a score file into a :class:`~utagoe.model.Project`.

    ``options``: a :class:`ReadOptions` (part, verse, voice, lenient, encoding,
    default_lyric, keep_tracks_without_lyrics), the one place read options
    live. ``format``: a format name (e.g. ``"musicxml"``) that skips
    detection. ``registry``: defaults to :func:`default_registry`. Every problem
    with the file raises :class:`~utagoe.errors.ScoreFormatError`; the file is
    never modified. ``Project.source_format`` names the format it was read as.
    """
    if registry is None:
        from .registry import default_registry as make
        registry = make()
    return registry.read(path, options, format_name=format)


def write_score(project: Project, path: str | os.PathLike, *, format: str | None = None,
                registry: FormatRegistry | None = None) -> Path:
    """Write ``project`` to ``path`` (.ustx, .musicxml/.xml, .mid), atomically."""
    if registry is None:
        from .registry import default_registry as make
        registry = make()
    return registry.write(project, path, format_name=format)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = ["MAX_SCORE_BYTES", "FormatRegistry", "ReadOptions", "ScoreReader", "ScoreWriter",
           "default_registry", "read_score", "write_score"]
