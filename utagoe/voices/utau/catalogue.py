"""UTAU voicebanks in the voice catalogue: by folder, installed by name, or by a UST's VoiceDir.

* A folder given as the singer (``--singer path/to/bank``) is loaded as it is.
* ``utagoe singers add PATH`` records a bank in the user's settings
  (:mod:`utagoe.userconfig`); the catalogue lists it by name without opening it.
* A project's singer (a UST ``VoiceDir`` such as ``%VOICE%uta``, an OpenUtau
  singer id) is followed only to an installed bank of that name or folder name,
  or to a folder *inside* one of the user's voice folders: a path written in a
  project file never leads utagoe anywhere the user did not configure, and a
  path outside is never opened, listed or even looked at.
"""
from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING

from ..base import SingerInfo

if TYPE_CHECKING:
    from ...settings import VoiceSettings
    from ...userconfig import InstalledBank, UserConfig
    from .singer import UtauVoice


def make_cache(settings: "VoiceSettings"):
    from .analysis import AnalysisCache, default_cache_folder

    folder = settings.analysis_cache_dir
    if folder is None:
        return AnalysisCache(None)
    return AnalysisCache(Path(folder) if folder else default_cache_folder())


def folder_voice(folder: str | os.PathLike, settings: "VoiceSettings", *,
                 name: str | None = None) -> "UtauVoice":
    """The voicebank in ``folder`` as a voice called ``name`` (default: the folder as given)."""
    from .singer import UtauVoice
    from .voicebank import load_voicebank

    bank = load_voicebank(folder)
    return UtauVoice(bank, name=name or os.fspath(folder), cache=make_cache(settings),
                     vocoder=settings.vocoder)


def installed_info(bank: "InstalledBank") -> SingerInfo:
    return SingerInfo(
        name=bank.name, display_name=bank.display_name or bank.name, language="ja",
        licence=bank.licence or "see the voicebank's readme and terms",
        credit=bank.author or "the voicebank's author (see its readme)",
        description=f"UTAU voicebank at {bank.path}")


def installed_factory(bank: "InstalledBank"):
    def make(settings: "VoiceSettings") -> "UtauVoice":
        return folder_voice(bank.path, settings, name=bank.name)
    return make


def _inside(path: str, folder: str) -> bool:
    """Is ``path`` inside ``folder``, by text alone (both absolute and normalised)?"""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def resolve_source_singer(text: str, config: "UserConfig") -> str | None:
    """The catalogue name (an installed bank) or the folder a project's singer text
    names, if the user configured it; None otherwise (see the module documentation)."""
    raw = text.strip().replace("\\", "/")
    if not raw or "\0" in raw:
        return None
    for prefix in ("%VOICE%", "%voice%"):
        if raw.startswith(prefix):
            raw = raw[len(prefix):].lstrip("/")
    last = posixpath.basename(raw.rstrip("/"))
    for b in config.voicebanks:
        if b.name == raw or b.name == last or (last and Path(b.path).name == last):
            return b.name
    is_abs = raw.startswith("/") or (len(raw) > 1 and raw[1] == ":")
    for folder in config.voice_folders:
        base = posixpath.normpath(os.path.abspath(folder))
        cand = posixpath.normpath(raw if is_abs else posixpath.join(base, raw))
        if not _inside(cand, base) or cand == base:
            continue  # decided on the text: nothing outside is ever touched
        real = os.path.realpath(cand)
        if _inside(real, os.path.realpath(base)) and os.path.isdir(real):
            return real
    return None
