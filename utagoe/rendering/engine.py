"""The render: plan, sing each track, mix.

:func:`render_project` is the one entry point: :mod:`~utagoe.rendering.plan`
checks the input and cuts every track into phrases, :mod:`~utagoe.rendering.track`
sings each track's phrases (from the :class:`RenderCache` where it can, on the
:class:`~utagoe.rendering.workers.WorkerPool` otherwise), and
:mod:`utagoe.mix.mixer` mixes the tracks. :func:`render_to_file` does the same
into a file, with the stems spooled to disk and the mix written block by block.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from typing import Callable, Iterator

from ..audio import Audio
from ..cancel import CancelToken
from ..mix.mixer import mix, sample_peak, scale_to_peak
from ..model.units import db_to_gain
from ..model.score import Project
from ..settings import RenderSettings
from ..voices.registry import VoiceRegistry, default_voices
from .cache import RenderCache
from .plan import RenderPlan, plan_render
from .track import SpooledStem, TrackRender, render_track
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


@dataclass(frozen=True, slots=True, eq=False)
class RenderResult:
    """What a render gives: the mix, each track, and what the user should know."""

    #: the mix: every sung track at its volume and pan, peak at ``peak_dbfs`` (lower
    #: by the song's ``controls.dynamics_db`` when that is below 0)
    audio: Audio
    tracks: tuple[TrackAudio, ...]
    #: reading, lyrics, muted tracks, plug-in problems ... one sentence each
    warnings: tuple[str, ...]
    phrases_rendered: int
    phrases_cached: int

    def save(self, path: str | Path, *, subtype: str = "PCM_16") -> Path:
        """Save the mix (.wav or .flac), atomically."""
        return self.audio.save(path, subtype=subtype)


class _Counter:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        if progress is not None:
            progress(0, total)

    def advance(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total)


def _master(audio: Audio, *, peak: float, settings: RenderSettings) -> Audio:
    """The mix (or a block of it) scaled so that ``peak`` (the whole mix's) is at
    ``settings.mix.peak_dbfs``, lower by the song's dynamics when they are below 0."""
    audio = scale_to_peak(audio, peak=peak, peak_dbfs=settings.mix.peak_dbfs)
    if settings.controls.dynamics_db < 0:
        # the peak scaling would undo a song made softer as a whole; louder
        # singing cannot pass the peak, so it keeps only its brightness
        audio = Audio((audio.samples * db_to_gain(settings.controls.dynamics_db)).astype(np.float32),
                      audio.sample_rate)
    return audio


def _sing_tracks(plan: RenderPlan, *, settings: RenderSettings, cache: RenderCache | None,
                 progress: Progress | None, cancel: CancelToken | None,
                 new_stem: Callable[[], SpooledStem] | None = None) -> list[TrackRender]:
    """Every track of ``plan`` sung on one worker pool, each onto ``new_stem()`` (default:
    held in memory)."""
    counter = _Counter(progress, plan.total_phrases)
    with WorkerPool(settings.workers) as pool:
        return [render_track(tp, num_samples=plan.num_samples, sample_rate_hz=settings.mix.sample_rate_hz,
                             pool=pool, cache=cache, cancel=cancel, advance=counter.advance,
                             stem=None if new_stem is None else new_stem())
                for tp in plan.tracks]


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
    stems = [r.audio for r in renders if r.audio is not None]
    mixed = mix(stems, gains_db=[t.track.volume_db for t in plan.tracks],
                pans=[t.track.pan for t in plan.tracks])
    mixed = _master(mixed, peak=sample_peak(mixed), settings=settings)
    tracks = tuple(TrackAudio(t.number, t.track.name, t.voice.info.name, a)
                   for t, a in zip(plan.tracks, stems))
    return RenderResult(mixed, tracks, plan.warnings, sum(r.rendered for r in renders),
                        sum(r.cached for r in renders))


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

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.sample_rate


#: samples per block when a mix is written block by block (a few MiB at most)
BLOCK_SAMPLES = 1 << 18


def render_to_file(project: Project, path: str | os.PathLike, *, singer: str | None = None,
                   settings: RenderSettings | None = None,
                   voices: VoiceRegistry | None = None, cache: RenderCache | None = None,
                   progress: Progress | None = None, cancel: CancelToken | None = None,
                   subtype: str = "PCM_16", block_samples: int = BLOCK_SAMPLES) -> RenderedFile:
    """Sing ``project`` like :func:`render_project` and write the mix to ``path`` (.wav
    or .flac, atomically): the same bytes as ``render_project(...).save(path)``,
    without holding the song.

    Each track's stem goes to an unnamed temporary file in ``path``'s folder as
    its phrases are placed (:class:`~utagoe.rendering.track.SpooledStem`); the
    mix is then read back in blocks of ``block_samples``, once for its peak and
    once to scale and write it. What memory still grows with the song's length
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
    rate = settings.mix.sample_rate_hz
    n = plan.num_samples
    folder = path.parent if str(path.parent) else Path(".")
    gains = [t.track.volume_db for t in plan.tracks]
    pans = [t.track.pan for t in plan.tracks]
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

        def blocks() -> Iterator[Audio]:
            for a in range(0, n, block_samples):
                b = min(a + block_samples, n)
                yield mix([Audio(s.read(a, b)[None, :], rate) for s in stems],
                          gains_db=gains, pans=pans)

        peak = 0.0 if n == 0 else float("-inf")
        channels = 1
        for block in blocks():
            # np.max as in sample_peak: a NaN anywhere is the peak
            peak = float(np.max([peak, sample_peak(block)]))
            channels = block.channels
        written = write_audio_blocks(path, (_master(b, peak=peak, settings=settings) for b in blocks()),
                                     sample_rate=rate, channels=channels, subtype=subtype)
    finally:
        for s in stems:
            s.close()
    return RenderedFile(written, rate, channels, n, plan.warnings,
                        sum(r.rendered for r in renders), sum(r.cached for r in renders))
