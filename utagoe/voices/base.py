"""The Voice protocol, singer descriptions and the voice registry.

A voice turns one RenderPhrase into Audio. Voices are listed in one place,
:func:`default_voices`, plus any third-party package that declares an entry
point in the ``utagoe.voices`` group (a callable returning a Voice).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from ..audio import Audio
from ..errors import RenderCancelled, UnknownNameError, VoiceError
from ..phrase.phrase import RenderPhrase


@dataclass(frozen=True, slots=True)
class SingerInfo:
    name: str
    display_name: str
    language: str
    licence: str
    credit: str
    description: str = ""


class CancelToken:
    """Set ``cancel()`` from anywhere; long work calls ``check()`` between steps."""

    __slots__ = ("_cancelled",)

    def __init__(self) -> None:
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def check(self) -> None:
        if self._cancelled:
            raise RenderCancelled("render cancelled")


class Voice(Protocol):
    info: SingerInfo
    sample_rate_hz: int

    def render(self, phrase: RenderPhrase, *, cancel: CancelToken | None = None) -> Audio:
        """Sing one phrase: audio from phrase.start_s to phrase.end_s."""
        ...

    # A voice that sings better knowing the whole track (HTS: global variance is a
    # statistic of the utterance) may also offer
    #   render_phrases(phrases, *, need, cancel, on_done, workers) -> list[Audio | None]
    # which sings the phrases whose ``need`` flag is set, knowing all of them, in up
    # to ``workers`` processes, and calls on_done(i, audio) for each. The render
    # engine uses it where present.


class VoiceRegistry:
    """Voices by name, each made on first use."""

    def __init__(self) -> None:
        self._factories: dict[str, tuple[SingerInfo, Callable[[], Voice]]] = {}
        self._made: dict[str, Voice] = {}

    def register(self, info: SingerInfo, factory: Callable[[], Voice]) -> None:
        if info.name in self._factories:
            raise VoiceError(f"a voice named {info.name!r} is registered twice")
        self._factories[info.name] = (info, factory)

    def names(self) -> list[str]:
        return list(self._factories)

    def infos(self) -> list[SingerInfo]:
        return [info for info, _ in self._factories.values()]

    @property
    def default_name(self) -> str:
        if not self._factories:
            raise VoiceError("no voices are installed")
        return next(iter(self._factories))

    def get(self, name: str | None = None) -> Voice:
        name = name or self.default_name
        if name not in self._factories:
            raise UnknownNameError("singer", name, self.names())
        if name not in self._made:
            self._made[name] = self._factories[name][1]()
        return self._made[name]


def _entry_point_voices(registry: VoiceRegistry) -> None:
    from importlib.metadata import entry_points

    for ep in entry_points(group="utagoe.voices"):
        try:
            voice = ep.load()()
        except Exception as exc:  # a broken plug-in must not break the built-in singer
            raise VoiceError(f"voice plug-in {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
        registry.register(voice.info, lambda v=voice: v)


def default_voices(*, plugins: bool = True) -> VoiceRegistry:
    """The built-in singers, then the plug-ins' (filled here, in one place)."""
    from .hts.singer import SONG070_INFO, make_song070

    reg = VoiceRegistry()
    reg.register(SONG070_INFO, make_song070)
    if plugins:
        _entry_point_voices(reg)
    return reg
