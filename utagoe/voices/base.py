"""The contract between the render engine and a voice (a singer).

A voice sings the phrases of one track. The engine asks it for a cache key per
phrase (:meth:`Voice.cache_keys`: the key must cover exactly what that phrase's
audio depends on), then for the phrases not in the cache it asks for *jobs*
(:meth:`Voice.track_jobs`): picklable pieces of work, each of which sings one
phrase when run. The engine (``utagoe.rendering``) owns the worker processes
that run the jobs, so a voice never starts processes or threads of its own;
the audio must be the same whatever the number of workers.

Voices that sing each phrase on its own derive from :class:`PhraseVoice` and
implement only :meth:`PhraseVoice.render`. A voice whose audio depends on the
whole track (the built-in HTS singer: global variance is a statistic of the
utterance) implements both methods itself. A voice may also have
``check(phrases, *, where) -> list[str]``: the render plan calls it before any
audio is made, so the voice can raise a clear error for what it cannot sing
and return warnings for what it sings otherwise (an UTAU bank's missing
aliases). The catalogue of voices is :mod:`utagoe.voices.registry`.
"""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Iterator, Protocol, Sequence, runtime_checkable

from ..audio import Audio
from ..cancel import CancelToken
from ..phrase.phrase import RenderPhrase


@dataclass(frozen=True, slots=True)
class SingerInfo:
    """What ``utagoe singers`` shows of a voice."""

    name: str
    display_name: str
    #: the lyrics language it sings (a phonemizer language code, e.g. "ja")
    language: str
    licence: str
    credit: str
    description: str = ""


@runtime_checkable
class RenderJob(Protocol):
    """One phrase's work, handed by a voice to the engine's workers. It must be
    picklable (it may run in another process) and deterministic."""

    def run(self, *, cancel: CancelToken | None = None) -> Audio:
        """The phrase's audio, from ``phrase.start_s`` to ``phrase.end_s``, mono."""
        ...


@runtime_checkable
class Voice(Protocol):
    """What every voice implements; see the module documentation."""

    info: SingerInfo
    #: the sample rate of the audio its jobs return
    sample_rate_hz: int

    def cache_keys(self, phrases: Sequence[RenderPhrase]) -> list[str]:
        """One key per phrase of a track; equal keys must mean equal audio."""
        ...

    def track_jobs(self, phrases: Sequence[RenderPhrase], *, need: Sequence[bool],
                   cancel: CancelToken | None = None) -> Iterator[tuple[int, RenderJob]]:
        """``(index, job)`` for every phrase whose ``need`` flag is set, knowing all
        the track's ``phrases``."""
        ...


def digest(*parts: str) -> str:
    """A hex SHA-256 of the parts (for cache keys)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


class PhraseVoice(ABC):
    """A voice that sings each phrase on its own: implement :meth:`render` (and,
    where the audio depends on settings of the voice, :meth:`settings_key`)."""

    info: SingerInfo
    sample_rate_hz: int

    @abstractmethod
    def render(self, phrase: RenderPhrase, *, cancel: CancelToken | None = None) -> Audio:
        """Sing one phrase: audio from phrase.start_s to phrase.end_s."""

    def settings_key(self) -> str:
        """Text that changes whenever the voice's own settings change its audio."""
        return ""

    def check(self, phrases: Sequence[RenderPhrase], *, where: str = "") -> list[str]:
        """Problems found before singing: raise for what cannot be sung, return
        warnings for what is sung otherwise than written (none by default)."""
        return []

    def cache_keys(self, phrases: Sequence[RenderPhrase]) -> list[str]:
        """The phrase's own key, with the voice's name, class and settings."""
        own = f"{type(self).__module__}.{type(self).__qualname__}|{self.info.name}|{self.settings_key()}"
        return [digest(own, p.key()) for p in phrases]

    def track_jobs(self, phrases: Sequence[RenderPhrase], *, need: Sequence[bool],
                   cancel: CancelToken | None = None) -> Iterator[tuple[int, RenderJob]]:
        for i, (phrase, wanted) in enumerate(zip(phrases, need)):
            if wanted:
                yield i, PhraseJob(self, phrase)


@dataclass(frozen=True, slots=True, eq=False)
class PhraseJob:
    """Sing one phrase with a :class:`PhraseVoice` (the voice travels with the job)."""

    voice: PhraseVoice
    phrase: RenderPhrase

    def run(self, *, cancel: CancelToken | None = None) -> Audio:
        return self.voice.render(self.phrase, cancel=cancel)
