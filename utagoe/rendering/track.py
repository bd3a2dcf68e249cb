"""Rendering one track: cache first, then the voice's jobs on the worker pool."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..audio import Audio
from ..cancel import CancelToken, check
from ..errors import VoiceError
from ..mix.mixer import place, resample
from .cache import RenderCache
from .plan import TrackPlan
from .workers import WorkerPool


@dataclass(frozen=True, slots=True, eq=False)
class TrackRender:
    #: the track as sung, mono, on the song's clock, before its volume and pan
    audio: Audio
    rendered: int
    cached: int


def _checked(audio: object, plan: TrackPlan, index: int) -> Audio:
    phrase = plan.phrases[index]
    who = f"voice {plan.voice.info.name!r}, phrase at {phrase.start_s:.2f} s"
    if not isinstance(audio, Audio) or audio.channels != 1:
        raise VoiceError(f"{who}: a voice must return mono Audio, got {audio!r:.80}")
    if audio.sample_rate != plan.voice.sample_rate_hz:
        raise VoiceError(f"{who}: audio at {audio.sample_rate} Hz, but the voice declares "
                         f"{plan.voice.sample_rate_hz} Hz")
    if not np.all(np.isfinite(audio.samples)):
        raise VoiceError(f"{who}: the audio holds NaN or infinite samples")
    return audio


def render_track(plan: TrackPlan, *, num_samples: int, sample_rate_hz: int, pool: WorkerPool,
                 cache: RenderCache | None = None, cancel: CancelToken | None = None,
                 advance: Callable[[int], None] = lambda n: None) -> TrackRender:
    """Sing the phrases of ``plan`` not found in ``cache`` and place every phrase on
    a buffer of ``num_samples`` at ``sample_rate_hz``. ``advance(n)`` is called as
    phrases are done (cached ones first)."""
    audios: list[Audio | None] = [cache.get(k) if cache is not None else None for k in plan.keys]
    need = [a is None for a in audios]
    cached = need.count(False)
    if cached:
        advance(cached)
    check(cancel)
    rendered = 0
    if any(need):
        jobs = plan.voice.track_jobs(plan.phrases, need=need, cancel=cancel)
        audio_s = sum(p.end_s - p.start_s for p, n in zip(plan.phrases, need) if n)
        for i, audio in pool.run(jobs, cancel=cancel, audio_s=audio_s):
            if not (0 <= i < len(audios)) or not need[i] or audios[i] is not None:
                raise VoiceError(f"voice {plan.voice.info.name!r} returned phrase {i}, which "
                                 "was not asked for")
            checked = audios[i] = _checked(audio, plan, i)
            if cache is not None:
                cache.put(plan.keys[i], checked)
            rendered += 1
            advance(1)
    missing = [i for i, a in enumerate(audios) if a is None]
    if missing:
        raise VoiceError(f"voice {plan.voice.info.name!r} gave no audio for {len(missing)} "
                         f"phrase(s), the first at {plan.phrases[missing[0]].start_s:.2f} s")
    buf = np.zeros(num_samples, dtype=np.float32)
    for phrase, sung in zip(plan.phrases, audios):
        assert sung is not None
        place(resample(sung, sample_rate_hz=sample_rate_hz), buf,
              start_sample=int(round(phrase.start_s * sample_rate_hz)))
    return TrackRender(Audio(buf[None, :], sample_rate_hz), rendered, cached)
