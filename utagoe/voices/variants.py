"""Variants of a voice: the same singer with its formants moved (deeper or brighter).

A :class:`VoiceVariant` wraps any voice and adds a constant to the ``gender``
voice control of every phrase it sings (OpenUtau's units: positive is deeper,
the formants lowered by ``10 ** (-gender / 200)``, as UTAU's ``g`` flag), before
the voice sees the phrases. The wrapped voice applies it as it applies a
project's own gender curve, so everything it does otherwise (timing, pitch,
cache keys, jobs) is unchanged, and the variant's cache keys differ from the
voice's because the phrases' controls do.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterator, Sequence

import numpy as np

from ..cancel import CancelToken
from ..dsp.controls import VOICE_CONTROL_RANGES
from ..phrase.phrase import PhraseControls, RenderPhrase
from .base import RenderJob, SingerInfo, Voice


def shift_gender(phrase: RenderPhrase, gender: float) -> RenderPhrase:
    """``phrase`` with ``gender`` added to its gender control (held in range)."""
    if gender == 0:
        return phrase
    lo, hi, _neutral = VOICE_CONTROL_RANGES["gender"]
    controls = phrase.controls if phrase.controls is not None else PhraseControls()
    n = len(phrase.pitch.values)
    base = controls.gender if controls.gender is not None else np.zeros(n)
    shifted = np.clip(np.asarray(base, dtype=np.float64) + gender, lo, hi)
    return replace(phrase, controls=replace(controls, gender=shifted))


class VoiceVariant:
    """``voice`` singing with its gender control moved by ``gender`` (see the module
    documentation); ``info`` names the variant."""

    def __init__(self, voice: Voice, info: SingerInfo, *, gender: float) -> None:
        self.voice = voice
        self.info = info
        self.gender = float(gender)
        self.sample_rate_hz = voice.sample_rate_hz
        # the phonemizer's reading of lyrics the voice sings as written (UTAU aliases)
        self.sings_as_written = getattr(voice, "sings_as_written", None)

    def _shifted(self, phrases: Sequence[RenderPhrase]) -> list[RenderPhrase]:
        return [shift_gender(p, self.gender) for p in phrases]

    def check(self, phrases: Sequence[RenderPhrase], *, where: str = "") -> list[str]:
        voice_check = getattr(self.voice, "check", None)
        return list(voice_check(self._shifted(phrases), where=where)) if callable(voice_check) else []

    def cache_keys(self, phrases: Sequence[RenderPhrase]) -> list[str]:
        return self.voice.cache_keys(self._shifted(phrases))

    def track_jobs(self, phrases: Sequence[RenderPhrase], *, need: Sequence[bool],
                   cancel: CancelToken | None = None) -> Iterator[tuple[int, RenderJob]]:
        return self.voice.track_jobs(self._shifted(phrases), need=need, cancel=cancel)


#: the variants every built-in singer gets: name suffix, gender, what it sounds like
BUILTIN_VARIANTS: tuple[tuple[str, float, str], ...] = (
    ("deep", 30.0, "deeper: formants lowered (gender +30), a darker, lower-sounding voice"),
    ("bright", -20.0, "brighter: formants raised (gender -20), a younger, lighter voice"),
)


def variant_info(info: SingerInfo, suffix: str, description: str) -> SingerInfo:
    """The :class:`SingerInfo` of ``info``'s variant ``suffix``."""
    return SingerInfo(name=f"{info.name}-{suffix}", display_name=f"{info.display_name}, {suffix}",
                      language=info.language, licence=info.licence, credit=info.credit,
                      description=f"{info.name}, {description}")
