"""The Python API: load a score, render it, save it, list the singers.

    >>> import utagoe
    >>> project = utagoe.load("song.musicxml")
    >>> result = utagoe.render(project)
    >>> result.save("song.wav")
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .cancel import CancelToken
    from .formats.options import ReadOptions
    from .model.score import Project
    from .report import ScoreReport
    from .rendering.cache import RenderCache
    from .rendering.engine import RenderResult
    from .settings import RenderSettings, VoiceSettings
    from .voices.base import SingerInfo
    from .voices.registry import VoiceRegistry


def load(path: str | os.PathLike, options: ReadOptions | None = None, *,
         format: str | None = None) -> Project:
    """Read a score file: MusicXML, MIDI, UST, USTX, VSQX or SVP (format by
    extension, else by its first bytes; ``format`` names it instead).

    ``options`` (:class:`~utagoe.formats.options.ReadOptions`) chooses the part,
    verse and voice, lenient parsing, the text encoding and a default lyric.
    Every problem with the file raises :class:`~utagoe.errors.ScoreFormatError`
    naming the file and line; the file is never modified.
    """
    from .formats import read_score

    return read_score(path, options, format=format)


def save(project: Project, path: str | os.PathLike, *, format: str | None = None) -> Path:
    """Write the project as .ustx, .musicxml or .mid (by extension, or ``format``),
    atomically. Returns the path written."""
    from .formats import write_score

    return write_score(project, path, format=format)


def render(project: Project, singer: str | None = None, *,
           settings: RenderSettings | None = None, voices: VoiceRegistry | None = None,
           cache: RenderCache | None = None, progress: Callable[[int, int], None] | None = None,
           cancel: CancelToken | None = None) -> RenderResult:
    """Sing every unmuted track of the project and mix them.

    Returns a :class:`~utagoe.rendering.engine.RenderResult`: ``.audio`` (the mix,
    48 kHz by default, peak at -1 dBFS), ``.tracks`` (each track as sung),
    ``.warnings`` (what was not sung as written, and why) and ``.save(path)``.
    See :func:`utagoe.rendering.engine.render_project` for the arguments.
    """
    from .rendering.engine import render_project

    return render_project(project, singer=singer, settings=settings, voices=voices, cache=cache,
                          progress=progress, cancel=cancel)


def voice_registry(settings: VoiceSettings | None = None, *,
                   plugins: bool = True) -> VoiceRegistry:
    """The voice catalogue (built-in singers, then plug-ins), each voice made on
    first use with ``settings``. Keep one in a long-lived program and pass it to
    :func:`render` so voices are read once."""
    from .voices.registry import default_voices

    return default_voices(settings, plugins=plugins)


def singers() -> list[SingerInfo]:
    """The installed singers (name, language, licence, credit); a broken plug-in is
    left out (see ``voice_registry().warnings``)."""
    return voice_registry().infos()


def describe(project: Project, *, language: str = "ja") -> ScoreReport:
    """What the project holds and what of it will be sung, and why not (the data
    behind ``utagoe info``)."""
    from .report import describe as _describe

    return _describe(project, language=language)
