"""The Python API: load a score, render it, save it, list the singers.

    >>> import utagoe
    >>> project = utagoe.load("song.musicxml")
    >>> result = utagoe.render(project)
    >>> result.save("song.wav")
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

if TYPE_CHECKING:
    from .cancel import CancelToken
    from .formats.options import ReadOptions
    from .model.score import Project
    from .report import ScoreReport
    from .rendering.cache import RenderCache
    from .rendering.engine import RenderedFile, RenderResult
    from .settings import RenderSettings, VoiceSettings
    from .voices.base import SingerInfo
    from .voices.registry import VoiceRegistry
    from .voices.utau.voicebank import Voicebank


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


def load_set(paths: "Sequence[str | os.PathLike]", options: ReadOptions | None = None, *,
             format: str | None = None) -> Project:
    """Read several score files as one song (a "UST set": one .ust per singer), each
    with ``options``: their tracks in order, on the first file's tempo map (a later
    file with another tempo map is moved onto it through seconds, with a warning);
    see :func:`utagoe.formats.merge.merge_projects`. A UST's track is named after
    its file (a .ust holds one track and no track name). One file is
    :func:`load` of it."""
    from dataclasses import replace

    from .formats.merge import merge_projects

    paths = list(paths)
    if len(paths) == 1:
        return load(paths[0], options, format=format)
    labels = [Path(p).stem for p in paths]
    projects = []
    for p, label in zip(paths, labels):
        project = load(p, options, format=format)
        if project.source_format == "ust":
            project = replace(project, tracks=tuple(replace(t, name=label) for t in project.tracks))
        projects.append(project)
    return merge_projects(projects, labels=labels)


def save(project: Project, path: str | os.PathLike, *, format: str | None = None) -> Path:
    """Write the project as .ustx, .musicxml or .mid (by extension, or ``format``),
    atomically. Returns the path written."""
    from .formats import write_score

    return write_score(project, path, format=format)


def _singer_choices(singer, settings: RenderSettings | None) -> tuple[str | None, RenderSettings | None]:
    """``singer`` as the render takes it: a name for every track, or a mapping of
    tracks (numbers from 1, or names) to singer names, folded into ``settings.tracks``."""
    if singer is None or isinstance(singer, str):
        return singer, settings
    from collections.abc import Mapping
    from dataclasses import replace

    from .errors import InvalidValueError
    from .settings import RenderSettings, TrackSettings

    if not isinstance(singer, Mapping):
        raise InvalidValueError(f"singer must be a singer name or a mapping of tracks to singer "
                                f"names, got {singer!r:.60}")
    settings = settings if settings is not None else RenderSettings()
    tracks = list(settings.tracks)
    for track, name in singer.items():
        probe = TrackSettings(track, singer=name)   # checks the track and the name
        for i, ts in enumerate(tracks):
            if ts.track == probe.track:
                tracks[i] = replace(ts, singer=name)
                break
        else:
            tracks.append(probe)
    return None, replace(settings, tracks=tuple(tracks))


def render(project: Project, singer: str | Mapping[int | str, str] | None = None, *,
           settings: RenderSettings | None = None, voices: VoiceRegistry | None = None,
           cache: RenderCache | None = None, progress: Callable[[int, int], None] | None = None,
           cancel: CancelToken | None = None) -> RenderResult:
    """Sing every unmuted track of the project and mix them.

    ``singer``: one singer name for every track, or ``{track: name}`` per track
    (tracks by number from 1, as ``utagoe info`` lists them, or by name); per-track
    gain, pan, mute and solo are ``settings.tracks``
    (:class:`~utagoe.settings.TrackSettings`), the master is ``settings.mix``.
    Returns a :class:`~utagoe.rendering.engine.RenderResult`: ``.audio`` (the mix,
    48 kHz by default, peak at -1 dBFS), ``.tracks`` (each track as sung),
    ``.stems()`` / ``.save_stems(folder)`` (each track as it sits in the mix),
    ``.warnings`` (what was not sung as written, and why) and ``.save(path)``.
    See :func:`utagoe.rendering.engine.render_project` for the arguments.
    """
    from .rendering.engine import render_project

    singer, settings = _singer_choices(singer, settings)
    return render_project(project, singer=singer, settings=settings, voices=voices, cache=cache,
                          progress=progress, cancel=cancel)


def render_to_file(project: Project, path: str | os.PathLike,
                   singer: str | Mapping[int | str, str] | None = None, *,
                   settings: RenderSettings | None = None, voices: VoiceRegistry | None = None,
                   cache: RenderCache | None = None,
                   progress: Callable[[int, int], None] | None = None,
                   cancel: CancelToken | None = None, subtype: str = "PCM_16",
                   stems_dir: str | os.PathLike | None = None) -> RenderedFile:
    """Sing the project and write the mix to ``path`` (.wav or .flac, atomically),
    never holding the whole song: the same bytes as ``render(...).save(path)``, in
    memory that does not grow with the song but for what the voice needs.
    ``singer`` as for :func:`render`; ``subtype`` ``PCM_16``, ``PCM_24`` or
    ``FLOAT`` (WAV only); ``stems_dir``: also write each track there, named after
    it, as :meth:`RenderResult.save_stems` does.

    Returns a :class:`~utagoe.rendering.engine.RenderedFile` (the path, sample
    rate, channels, length, stems, loudness and the warnings). The stems wait in
    unnamed temporary files in the output's folder while the song is sung.
    """
    from .rendering.engine import render_to_file as _render_to_file

    singer, settings = _singer_choices(singer, settings)
    return _render_to_file(project, path, singer=singer, settings=settings, voices=voices,
                           cache=cache, progress=progress, cancel=cancel, subtype=subtype,
                           stems_dir=stems_dir)


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


def load_voicebank(folder: str | os.PathLike) -> Voicebank:
    """Read an UTAU voicebank folder: every oto.ini in it, character.txt/.yaml,
    prefix.map, readme and terms. Bad entries are left out and listed in
    ``.warnings`` (file and line); no audio is read. To sing with it, pass the
    folder as the singer: ``utagoe.render(project, "path/to/bank")``."""
    from .voices.utau.voicebank import load_voicebank as _load

    return _load(folder)


def install_voicebank(folder: str | os.PathLike, *, name: str | None = None,
                      config_file: str | os.PathLike | None = None) -> SingerInfo:
    """Record the voicebank in ``folder`` in the user's settings under ``name``
    (default: the folder's name), so ``render(project, name)`` and ``utagoe
    singers`` find it. Its files are not copied or changed."""
    from .userconfig import InstalledBank, load_config, save_config
    from .voices.utau.catalogue import installed_info
    from .voices.utau.voicebank import load_voicebank as _load

    root = Path(folder).resolve()
    bank = _load(root)
    entry = InstalledBank(name or root.name, str(root), bank.name, bank.author, bank.licence_line)
    if entry.name == "song070" or "/" in entry.name or os.sep in entry.name or not entry.name.strip():
        from .errors import UtagoeError

        raise UtagoeError(f"{entry.name!r} cannot name a singer; choose another name")
    save_config(load_config(config_file).with_bank(entry))
    return installed_info(entry)


def remove_voicebank(name: str, *, config_file: str | os.PathLike | None = None) -> None:
    """Forget an installed voicebank (its files stay)."""
    from .userconfig import load_config, save_config

    save_config(load_config(config_file).without_bank(name))


def add_voice_folder(folder: str | os.PathLike, *,
                     config_file: str | os.PathLike | None = None) -> Path:
    """Add a folder of voicebanks (UTAU's ``voice`` folder): a project's VoiceDir
    that lies inside it finds its bank. Returns the folder, made absolute."""
    from .errors import UtagoeError
    from .userconfig import load_config, save_config

    root = Path(folder).resolve()
    if not root.is_dir():
        raise UtagoeError(f"{folder}: not a folder")
    save_config(load_config(config_file).with_folder(str(root)))
    return root


def describe_singer(singer: str) -> str:
    """A singer's details as text: for a voicebank, its folder, author, aliases,
    problems, readme and terms of use."""
    reg = voice_registry(plugins=False)
    voice = reg.get(singer)
    info = voice.info
    lines = [f"{info.name}: {info.display_name}", f"language: {info.language}",
             f"licence: {info.licence}", f"credit: {info.credit}"]
    if info.description:
        lines.append(info.description)
    bank = getattr(voice, "bank", None)
    if bank is not None:
        lines.append(f"aliases: {len(bank.entries)}")
        for w in bank.warnings[:20]:
            lines.append(f"problem: {w}")
        if len(bank.warnings) > 20:
            lines.append(f"... and {len(bank.warnings) - 20} more problems")
        if bank.readme.strip():
            lines += ["", "readme:", bank.readme.strip()]
        if bank.licence.strip():
            lines += ["", "terms of use:", bank.licence.strip()]
    return "\n".join(lines)
