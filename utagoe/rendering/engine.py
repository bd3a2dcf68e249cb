"""The render: plan, sing each track, mix.

:func:`render_project` is the one entry point: :mod:`~utagoe.rendering.plan`
checks the input and cuts every track into phrases, :mod:`~utagoe.rendering.track`
sings every track's phrases (from the :class:`RenderCache` where it can, on one
:class:`~utagoe.rendering.workers.WorkerPool` otherwise), and
:mod:`~utagoe.rendering.master` mixes and masters the tracks. :func:`render_to_file`
does the same into a file (and the stems into a folder), with the stems spooled
to disk and the mix written block by block.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from typing import Callable, Iterator

import numpy as np

from ..audio import Audio
from ..cancel import CancelToken
from ..errors import UtagoeError
from ..model.score import Project
from ..settings import RenderSettings
from ..voices.registry import VoiceRegistry, default_voices
from .cache import RenderCache
from .master import (BLOCK_SAMPLES, Level, MixLayout, master_blocks, measure_level, mix_layout,
                     mixed_blocks, scaled, stem_paths)
from .plan import RenderPlan, plan_render
from .track import SpooledStem, TrackRender, TrackSink, sing_tracks
from .workers import WorkerPool

#: progress(done_phrases, total_phrases)
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True, eq=False)
class TrackAudio:
    """One sung track: as sung, mono, before its volume and pan."""

    #: 1-based position of the track in ``project.tracks``
    number: int
    name: str
    singer: str
    audio: Audio
    #: its level and place in the mix (the file's volume and pan with the user's choices)
    gain_db: float = 0.0
    pan: float = 0.0
    #: the gain that brought it to the other tracks' loudness (``MixSettings.balance_tracks``)
    balance_db: float = 0.0


@dataclass(frozen=True, slots=True, eq=False)
class RenderResult:
    """What a render gives: the mix, each track, and what the user should know."""

    #: the mix: every sung track at its gain and pan, scaled to its peak (or to
    #: ``settings.mix.loudness_lufs``), then limited under ``peak_dbfs``
    audio: Audio
    tracks: tuple[TrackAudio, ...]
    #: reading, lyrics, muted tracks, plug-in problems ... one sentence each
    warnings: tuple[str, ...]
    phrases_rendered: int
    phrases_cached: int
    #: how the master scaled the mix (its peak and loudness before it)
    level: Level | None = None
    settings: RenderSettings | None = None
    #: where each track sits in the mix
    layout: MixLayout | None = None

    def save(self, path: str | Path, *, subtype: str = "PCM_16") -> Path:
        """Save the mix (.wav or .flac), atomically."""
        return self.audio.save(path, subtype=subtype)

    def stems(self) -> list[Audio]:
        """Each track as it sits in the mix: at its gain and pan and the mix's scale,
        before the limiter (so the stems add up to the mix where nothing is limited)."""
        assert self.level is not None and self.settings is not None and self.layout is not None
        stems = [_MemoryReader(t.audio.samples[0]) for t in self.tracks]
        return [_joined(scaled(b, level=self.level, settings=self.settings)
                        for b in mixed_blocks(stems, self.layout, only=i))
                for i in range(len(stems))]

    def save_stems(self, folder: str | Path, *, suffix: str = ".wav",
                   subtype: str = "PCM_16") -> list[Path]:
        """Write :meth:`stems` into ``folder``, one file per track named after it
        (``02-Alto.wav``), atomically. Returns the paths written."""
        paths = stem_paths(Path(folder), [t.number for t in self.tracks],
                           [t.name for t in self.tracks], suffix)
        return [stem.save(p, subtype=subtype) for stem, p in zip(self.stems(), paths)]


class _MemoryReader:
    def __init__(self, samples) -> None:
        self.samples = samples

    def read(self, start: int, stop: int):
        return self.samples[start:stop]


def _joined(blocks: Iterator[Audio]) -> Audio:
    parts = list(blocks)
    return Audio(np.concatenate([b.samples for b in parts], axis=1), parts[0].sample_rate)


class _Counter:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        if progress is not None:
            progress(0, total)

    def advance(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total)


def _sing_tracks(plan: RenderPlan, *, settings: RenderSettings, cache: RenderCache | None,
                 progress: Progress | None, cancel: CancelToken | None,
                 new_stem: Callable[[], SpooledStem] | None = None) -> list[TrackRender]:
    """Every track of ``plan`` sung on one worker pool, each onto ``new_stem()`` (default:
    held in memory)."""
    counter = _Counter(progress, plan.total_phrases)
    rate = settings.mix.sample_rate_hz
    with WorkerPool(settings.workers) as pool:
        sinks = [TrackSink(tp, num_samples=plan.num_samples, sample_rate_hz=rate, cache=cache,
                           advance=counter.advance, stem=None if new_stem is None else new_stem())
                 for tp in plan.tracks]
        return sing_tracks(sinks, pool=pool, cancel=cancel)


def render_project(project: Project, *, singer: str | None = None,
                   settings: RenderSettings | None = None,
                   voices: VoiceRegistry | None = None, cache: RenderCache | None = None,
                   progress: Progress | None = None,
                   cancel: CancelToken | None = None) -> RenderResult:
    """Sing every unmuted track of ``project`` and mix them.

    ``singer`` names the voice for every track (default: the track's own, else
    the first built-in). ``voices`` defaults to :func:`default_voices` made with
    ``settings.voice``; keep one (and a ``cache``) in a long-lived program so the
    voices are read once and an edit re-sings only the phrases whose cache key
    changed. ``progress(done, total)`` is called as phrases finish; ``cancel``
    stops the render between steps with :class:`~utagoe.errors.RenderCancelled`.
    The same input and settings give the same samples, whatever ``settings.workers``.
    :func:`render_to_file` writes the same mix to a file without holding it.
    """
    settings = settings if settings is not None else RenderSettings()
    voices = voices if voices is not None else default_voices(settings.voice)
    plan = plan_render(project, singer=singer, settings=settings, voices=voices)
    renders = _sing_tracks(plan, settings=settings, cache=cache, progress=progress, cancel=cancel)
    stems = [r.stem for r in renders if r.stem is not None]
    layout = mix_layout(stems, [t.gain_db for t in plan.tracks], [t.pan for t in plan.tracks],
                        num_samples=plan.num_samples, settings=settings)
    level = measure_level(mixed_blocks(stems, layout), settings=settings)
    mixed = _joined(master_blocks(mixed_blocks(stems, layout), level=level, settings=settings))
    tracks = tuple(TrackAudio(t.number, t.track.name, t.voice.info.name, r.audio, t.gain_db, t.pan,
                              layout.balance_db[k])
                   for k, (t, r) in enumerate(zip(plan.tracks, renders)) if r.audio is not None)
    return RenderResult(mixed, tracks, _with(plan.warnings, level.warning(settings)),
                        sum(r.rendered for r in renders), sum(r.cached for r in renders), level,
                        settings, layout)


def _with(warnings: tuple[str, ...], more: str | None) -> tuple[str, ...]:
    return warnings + (more,) if more else warnings


@dataclass(frozen=True, slots=True, eq=False)
class RenderedFile:
    """What :func:`render_to_file` wrote, and what the user should know."""

    path: Path
    sample_rate: int
    channels: int
    num_samples: int
    warnings: tuple[str, ...]
    phrases_rendered: int
    phrases_cached: int
    #: the stems written (``stems_dir``), in track order
    stems: tuple[Path, ...] = ()
    #: the mix's integrated loudness as written (LUFS), where a loudness was asked
    loudness_lufs: float | None = None
    #: every sung track: (number, name, singer)
    tracks: tuple[tuple[int, str, str], ...] = ()

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.sample_rate


def render_to_file(project: Project, path: str | os.PathLike, *, singer: str | None = None,
                   settings: RenderSettings | None = None,
                   voices: VoiceRegistry | None = None, cache: RenderCache | None = None,
                   progress: Progress | None = None, cancel: CancelToken | None = None,
                   subtype: str = "PCM_16", block_samples: int = BLOCK_SAMPLES,
                   stems_dir: str | os.PathLike | None = None) -> RenderedFile:
    """Sing ``project`` like :func:`render_project` and write the mix to ``path`` (.wav
    or .flac, atomically): the same bytes as ``render_project(...).save(path)``,
    without holding the song. With ``stems_dir``, each track is also written there
    as :meth:`RenderResult.save_stems` writes it, in ``path``'s format.

    Each track's stem goes to an unnamed temporary file in ``path``'s folder as
    its phrases are placed (:class:`~utagoe.rendering.track.SpooledStem`); the
    mix is then read back in blocks of ``block_samples``, once for its level and
    once to master and write it. What memory still grows with the song's length
    is what the voices need (the HTS singer generates a track as one utterance).
    """
    from ..audio import audio_container, write_audio_blocks
    from ..fileio import FileError, check_output_path, describe_os_error

    path = Path(path)
    audio_container(path)
    check_output_path(path)
    settings = settings if settings is not None else RenderSettings()
    voices = voices if voices is not None else default_voices(settings.voice)
    plan = plan_render(project, singer=singer, settings=settings, voices=voices)
    stem_files: list[Path] = []
    if stems_dir is not None:
        stem_files = stem_paths(Path(stems_dir), [t.number for t in plan.tracks],
                                [t.track.name for t in plan.tracks], path.suffix)
        for p in stem_files:
            if p.resolve() == path.resolve():
                raise UtagoeError(f"{path}: the stem of track {p.name[:2]} would overwrite the mix; "
                                  "name the mix otherwise or write the stems to another folder")
            check_output_path(p)
    rate = settings.mix.sample_rate_hz
    n = plan.num_samples
    folder = path.parent if str(path.parent) else Path(".")
    stems: list[SpooledStem] = []

    def spooled() -> SpooledStem:
        stems.append(SpooledStem(n, folder=folder))
        return stems[-1]

    try:
        try:
            renders = _sing_tracks(plan, settings=settings, cache=cache, progress=progress,
                                   cancel=cancel, new_stem=spooled)
        except OSError as exc:
            if isinstance(exc, FileError):
                raise
            raise FileError(path, f"cannot keep the render's temporary audio in {folder}: "
                                  f"{describe_os_error(exc)}") from None
        layout = mix_layout(stems, [t.gain_db for t in plan.tracks], [t.pan for t in plan.tracks],
                            num_samples=n, settings=settings, block_samples=block_samples)
        level = measure_level(mixed_blocks(stems, layout, block_samples=block_samples),
                              settings=settings)
        meter = None
        if settings.mix.loudness_lufs is not None:
            from ..mix.loudness import LoudnessMeter

            meter = LoudnessMeter(rate)

        def metered(blocks: Iterator[Audio]) -> Iterator[Audio]:
            for b in blocks:
                if meter is not None:
                    meter.add(b.samples)
                yield b

        written = write_audio_blocks(
            path, metered(master_blocks(mixed_blocks(stems, layout, block_samples=block_samples),
                                        level=level, settings=settings)),
            sample_rate=rate, channels=layout.channels, subtype=subtype)
        for i, p in enumerate(stem_files):
            write_audio_blocks(p, (scaled(b, level=level, settings=settings)
                                   for b in mixed_blocks(stems, layout, only=i,
                                                         block_samples=block_samples)),
                               sample_rate=rate, channels=layout.channels, subtype=subtype)
    finally:
        for s in stems:
            s.close()
    loudness = meter.integrated_lufs() if meter is not None else None
    return RenderedFile(written, rate, layout.channels, n,
                        _with(plan.warnings, level.warning(settings)),
                        sum(r.rendered for r in renders), sum(r.cached for r in renders),
                        tuple(stem_files), loudness if level.by_loudness else None,
                        tuple((t.number, t.track.name, t.voice.info.name) for t in plan.tracks))
