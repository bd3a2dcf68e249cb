"""The render: plan, sing each track, mix.

:func:`render_project` is the one entry point: :mod:`~utagoe.rendering.plan`
checks the input and cuts every track into phrases, :mod:`~utagoe.rendering.track`
sings each track's phrases (from the :class:`RenderCache` where it can, on the
:class:`~utagoe.rendering.workers.WorkerPool` otherwise), and
:mod:`utagoe.mix.mixer` mixes the tracks.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from typing import Callable

from ..audio import Audio
from ..cancel import CancelToken
from ..mix.mixer import mix, normalize_peak
from ..model.units import db_to_gain
from ..model.score import Project
from ..settings import RenderSettings
from ..voices.registry import VoiceRegistry, default_voices
from .cache import RenderCache
from .plan import plan_render
from .track import render_track
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
    """
    settings = settings if settings is not None else RenderSettings()
    voices = voices if voices is not None else default_voices(settings.voice)
    plan = plan_render(project, singer=singer, settings=settings, voices=voices)
    counter = _Counter(progress, plan.total_phrases)
    rate = settings.mix.sample_rate_hz
    renders = []
    with WorkerPool(settings.workers) as pool:
        for tp in plan.tracks:
            renders.append(render_track(tp, num_samples=plan.num_samples, sample_rate_hz=rate,
                                        pool=pool, cache=cache, cancel=cancel,
                                        advance=counter.advance))
    mixed = mix([r.audio for r in renders], gains_db=[t.track.volume_db for t in plan.tracks],
                pans=[t.track.pan for t in plan.tracks])
    mixed = normalize_peak(mixed, peak_dbfs=settings.mix.peak_dbfs)
    if settings.controls.dynamics_db < 0:
        # the peak scaling would undo a song made softer as a whole; louder
        # singing cannot pass the peak, so it keeps only its brightness
        mixed = Audio((mixed.samples * db_to_gain(settings.controls.dynamics_db)).astype(np.float32),
                      mixed.sample_rate)
    tracks = tuple(TrackAudio(t.number, t.track.name, t.voice.info.name, r.audio)
                   for t, r in zip(plan.tracks, renders))
    return RenderResult(mixed, tracks, plan.warnings, sum(r.rendered for r in renders),
                        sum(r.cached for r in renders))
