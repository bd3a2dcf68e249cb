"""The Python API: load a score, render it, list the singers."""
from __future__ import annotations

import os

from .audio import Audio
from .model.score import Project
from .settings import RenderSettings


def load(path: str | os.PathLike, *, part: int | str | None = None, verse: int | None = None,
         voice: int | None = None, lenient: bool = False, encoding: str | None = None,
         default_lyric: str | None = None, format: str | None = None) -> Project:
    """Read a score file: MusicXML, MIDI, UST, USTX, VSQX or SVP (format by
    extension, else by its first bytes). See :func:`utagoe.formats.read_score`."""
    from .formats import read_score

    return read_score(path, part=part, verse=verse, voice=voice, lenient=lenient,
                      encoding=encoding, default_lyric=default_lyric, format=format)


def save(project: Project, path: str | os.PathLike, *, format: str | None = None):
    """Write the project as .ustx, .musicxml or .mid (by extension, or ``format``),
    atomically. Returns the path written."""
    from .formats import write_score

    return write_score(project, path, format=format)


def render(project: Project, singer: str | None = None, *, settings: RenderSettings | None = None,
           progress=None, cancel=None) -> Audio:
    """Sing the project; returns the mix (48 kHz by default, peak at -1 dBFS)."""
    from .rendering.engine import render_project

    return render_project(project, singer=singer, settings=settings, progress=progress,
                          cancel=cancel).mix


def singers():
    """The installed singers (SingerInfo: name, language, licence, credit)."""
    from .voices.base import default_voices

    return default_voices().infos()
