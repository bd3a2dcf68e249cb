"""The render boundary: project -> phrases -> voices -> mix.

Phrases are rendered through a cache keyed by ``RenderPhrase.key()``, so
rendering an edited project again only sings the phrases the edit changed.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..audio import Audio
from ..errors import UtagoeError
from ..lyrics.registry import default_phonemizers
from ..mix.mixer import mix, normalize_peak, place, resample
from ..model.score import Project
from ..phrase.build import build_track_phrases
from ..settings import RenderSettings
from ..voices.base import CancelToken, VoiceRegistry, default_voices

#: progress(done_phrases, total_phrases)
Progress = Callable[[int, int], None]


class RenderCache:
    """Rendered phrases by key, least recently used dropped past ``max_phrases``."""

    def __init__(self, max_phrases: int = 2048) -> None:
        self.max_phrases = max_phrases
        self._items: OrderedDict[str, Audio] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Audio | None:
        a = self._items.get(key)
        if a is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end(key)
        return a

    def put(self, key: str, audio: Audio) -> None:
        self._items[key] = audio
        self._items.move_to_end(key)
        while len(self._items) > self.max_phrases:
            self._items.popitem(last=False)


@dataclass(frozen=True, slots=True)
class RenderResult:
    mix: Audio
    stems: tuple[Audio, ...]
    warnings: tuple[str, ...]
    phrases_rendered: int
    phrases_cached: int


def render_project(project: Project, *, singer: str | None = None,
                   settings: RenderSettings | None = None,
                   voices: VoiceRegistry | None = None, cache: RenderCache | None = None,
                   progress: Progress | None = None, cancel: CancelToken | None = None) -> RenderResult:
    settings = settings or RenderSettings()
    voices = voices or default_voices()
    phonemizer = default_phonemizers().get(settings.language)
    rate = settings.sample_rate_hz
    where = project.source_path or "project"
    if not project.tracks or not any(t.notes for t in project.tracks):
        raise UtagoeError(f"{where}: nothing to sing (no notes)")
    length_s = project.duration_s()
    if length_s > settings.max_duration_s:
        raise UtagoeError(
            f"{where}: the song is {length_s / 60:.1f} min long; utagoe renders at most "
            f"{settings.max_duration_s / 60:.0f} min (RenderSettings.max_duration_s)")

    # phrases first, so progress knows the total
    plans = []
    warnings: list[str] = list(project.warnings)
    for i, track in enumerate(project.tracks):
        if not track.notes:
            continue
        if track.muted:
            warnings.append(f"{where}: track {i + 1} ({track.name!r}) is muted in the file "
                            "and is not sung")
            continue
        name = singer or track.singer or voices.default_name
        voice = voices.get(name)
        tp = build_track_phrases(project, i, singer=voice.info.name, phonemizer=phonemizer,
                                 settings=settings)
        warnings.extend(tp.warnings)
        plans.append((voice, tp, track))
    total = sum(len(tp.phrases) for _, tp, _ in plans)
    end_s = max((p.end_s for _, tp, _ in plans for p in tp.phrases), default=0.0)
    n_out = int(np.ceil(max(end_s, project.duration_s()) * rate)) + 1

    done = rendered = cached = 0
    stems = []
    if progress:
        progress(0, total)
    for voice, tp, _ in plans:
        buf = np.zeros(n_out, dtype=np.float32)
        phrases = list(tp.phrases)
        keys = [p.key() for p in phrases]
        audios = [cache.get(k) if cache is not None else None for k in keys]
        need = [a is None for a in audios]
        cached += need.count(False)
        done += need.count(False)

        def finished(i: int, audio: Audio) -> None:
            nonlocal done, rendered
            audios[i] = audio
            rendered += 1
            done += 1
            if cache is not None:
                cache.put(keys[i], audio)
            if progress:
                progress(done, total)

        if cancel is not None:
            cancel.check()
        if hasattr(voice, "render_phrases"):
            # voices that sing a track as one utterance (HTS: global variance)
            voice.render_phrases(phrases, need=need, cancel=cancel, on_done=finished,
                                 workers=settings.workers)
        else:
            for i, phrase in enumerate(phrases):
                if need[i]:
                    if cancel is not None:
                        cancel.check()
                    finished(i, voice.render(phrase, cancel=cancel))
        for phrase, audio in zip(phrases, audios):
            audio = resample(audio, sample_rate_hz=rate)
            place(audio, buf, start_sample=int(round(phrase.start_s * rate)))
        stems.append(Audio(buf[None, :], rate))
    if not plans:
        raise UtagoeError(f"{where}: nothing to sing (every track with notes is muted)")
    tracks = [t for _, _, t in plans]
    if len(stems) == 1 and tracks[0].pan == 0:
        mixed = stems[0]
    else:
        mixed = mix(stems, gains_db=[t.volume_db for t in tracks], pans=[t.pan for t in tracks])
    mixed = normalize_peak(mixed, peak_dbfs=settings.peak_dbfs)
    return RenderResult(mixed, tuple(stems), tuple(warnings), rendered, cached)
