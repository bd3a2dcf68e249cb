"""The voice catalogue: which singers exist, made on first use.

The built-in singers are listed in one place, :func:`default_voices`. Third-party
packages add voices through the ``utagoe.voices`` entry point group: each entry
point names a factory ``factory(settings: VoiceSettings) -> Voice`` and is
registered under the entry point's name. Plug-ins are loaded only when a voice
is asked for (or the catalogue is listed); a plug-in that fails to load, or
whose voice does not implement :class:`~utagoe.voices.base.Voice`, is reported in
:attr:`VoiceRegistry.warnings` and left out, and the built-in singer still sings.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..errors import UnknownNameError, VoiceError
from ..settings import VoiceSettings
from .base import SingerInfo, Voice

if TYPE_CHECKING:
    from ..userconfig import UserConfig

#: ``factory(settings) -> Voice``
VoiceFactory = Callable[[VoiceSettings], Voice]


@dataclass(frozen=True, slots=True)
class _Entry:
    #: known up front for built-in voices; None for a plug-in until it is loaded
    info: SingerInfo | None
    factory: VoiceFactory | None
    #: a plug-in's entry point (has .name, .value and .load()); None for built-ins
    entry_point: Any = None


class VoiceRegistry:
    """Voices by name, each made on first use with the registry's :class:`VoiceSettings`."""

    def __init__(self, settings: VoiceSettings | None = None, *,
                 folder_voice: Callable[[str, VoiceSettings], Voice] | None = None,
                 source_singer: Callable[[str], str | None] | None = None) -> None:
        self.settings = settings if settings is not None else VoiceSettings()
        #: makes a voice from a folder given as the singer's name (UTAU voicebanks)
        self.folder_voice = folder_voice
        #: follows a singer named in a project file (a UST VoiceDir) to a voice name
        #: or folder the user configured; None where it leads nowhere
        self.source_singer = source_singer
        self._entries: dict[str, _Entry] = {}
        #: where plug-in entry points come from, asked on first need (listing
        #: installed packages' metadata costs tens of milliseconds)
        self._plugin_source: Callable[[], Iterable[Any]] | None = None
        self._made: dict[str, Voice] = {}
        self._broken: dict[str, str] = {}
        #: problems with plug-ins met so far (each a full sentence)
        self.warnings: list[str] = []

    # -- filling ----------------------------------------------------------------------

    def register(self, info: SingerInfo, factory: VoiceFactory) -> None:
        """Add a voice; its factory is called with the settings on first use."""
        if info.name in self._entries:
            raise VoiceError(f"a voice named {info.name!r} is registered twice")
        self._entries[info.name] = _Entry(info, factory)

    def add_plugins(self, entry_points: Iterable[Any]) -> None:
        """Add plug-in voices from entry points (objects with ``name``, ``value`` and
        ``load()``), without loading them."""
        for ep in entry_points:
            if ep.name in self._entries:
                self._warn(f"voice plug-in {ep.name!r} ({ep.value}) is left out: a voice of "
                           "that name is already installed")
                continue
            self._entries[ep.name] = _Entry(None, None, ep)

    def add_plugin_source(self, source: Callable[[], Iterable[Any]]) -> None:
        """Add plug-ins from ``source()`` (entry points, as :meth:`add_plugins`) when
        they are first needed: when the catalogue is listed, or a name is asked
        for that is not registered. An error from ``source`` is a warning."""
        self._plugin_source = source

    def _discover(self) -> None:
        source, self._plugin_source = self._plugin_source, None
        if source is None:
            return
        try:
            eps = list(source())
        except Exception as exc:  # broken package metadata must not stop the built-in singer
            self._warn(f"voice plug-ins could not be listed: {type(exc).__name__}: {exc}")
            return
        self.add_plugins(eps)

    # -- looking up -------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every voice name, built-in first (plug-ins are not loaded for this)."""
        self._discover()
        return list(self._entries)

    @property
    def default_name(self) -> str:
        """The first built-in voice."""
        for name, entry in self._entries.items():
            if entry.entry_point is None:
                return name
        raise VoiceError("no voices are installed")

    def infos(self) -> list[SingerInfo]:
        """Every voice that can sing, built-in first; plug-ins are loaded to describe
        them, and a broken one is left out with a warning."""
        out = []
        for name, entry in self._entries.items():
            if entry.info is not None:
                out.append(entry.info)
                continue
            try:
                out.append(self.get(name).info)
            except VoiceError:
                continue  # already in self.warnings
        return out

    def for_source_singer(self, text: str) -> str | None:
        """The voice a project's own singer text (UST ``VoiceDir`` ...) leads to, if
        the user configured it (see :mod:`utagoe.voices.utau.catalogue`)."""
        if not text or self.source_singer is None:
            return None
        return self.source_singer(text)

    def get(self, name: str | None = None) -> Voice:
        """The voice called ``name`` (default: the first built-in), made on first use.
        A name that is a folder (holding a path separator, or existing) is loaded as an
        UTAU voicebank."""
        name = name or self.default_name
        if name in self._made:
            return self._made[name]
        entry = self._entries.get(name)
        if entry is None:
            self._discover()
            entry = self._entries.get(name)
        if entry is None and self.folder_voice is not None and _names_folder(name):
            voice = self.folder_voice(name, self.settings)
            self._made[name] = voice
            return voice
        if entry is None:
            raise UnknownNameError("singer", name, self.names())
        if name in self._broken:
            raise VoiceError(self._broken[name])
        if entry.entry_point is not None:
            voice = self._load_plugin(name, entry.entry_point)
        else:
            assert entry.factory is not None
            voice = entry.factory(self.settings)
        self._made[name] = voice
        return voice

    # -- inside -----------------------------------------------------------------------

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def _load_plugin(self, name: str, ep: Any) -> Voice:
        what = f"voice plug-in {name!r} ({ep.value})"
        try:
            factory = ep.load()
            voice = factory(self.settings)
        except Exception as exc:  # a broken plug-in must not break the other voices
            why = f"{what} failed to load: {type(exc).__name__}: {exc}"
            self._broken[name] = why
            self._warn(why)
            raise VoiceError(why) from exc
        missing = [m for m in ("info", "sample_rate_hz", "cache_keys", "track_jobs")
                   if not hasattr(voice, m)]
        if missing or not isinstance(voice, Voice):
            why = (f"{what} does not implement the Voice protocol (missing: "
                   f"{', '.join(missing) or 'a method'}); see utagoe.voices.base")
            self._broken[name] = why
            self._warn(why)
            raise VoiceError(why)
        return voice


def _names_folder(name: str) -> bool:
    return os.sep in name or "/" in name or name.startswith(".") or os.path.isdir(name)


def add_variants(reg: VoiceRegistry, info: SingerInfo) -> None:
    """Register the deeper and brighter variants of the voice ``info`` names
    (:data:`~utagoe.voices.variants.BUILTIN_VARIANTS`); each sings through the
    registry's one copy of that voice."""
    from .variants import BUILTIN_VARIANTS, VoiceVariant, variant_info

    def factory(vinfo: SingerInfo, gender: float) -> VoiceFactory:
        return lambda settings: VoiceVariant(reg.get(info.name), vinfo, gender=gender)

    for suffix, gender, description in BUILTIN_VARIANTS:
        vinfo = variant_info(info, suffix, description)
        reg.register(vinfo, factory(vinfo, gender))


def plugin_entry_points() -> list[Any]:
    """The installed ``utagoe.voices`` entry points."""
    from importlib.metadata import entry_points

    return list(entry_points(group="utagoe.voices"))


def default_voices(settings: VoiceSettings | None = None, *, plugins: bool = True,
                   config: "UserConfig | None" = None) -> VoiceRegistry:
    """The built-in singers, the voicebanks the user installed (``config``, default:
    the user's settings file), then the plug-ins' (filled here, in one place)."""
    from ..userconfig import ConfigError, load_config
    from .hts.mei import MEI_INFO, make_mei
    from .hts.song070 import SONG070_INFO, make_song070
    from .utau import catalogue

    problems: list[str] = []
    if config is None:
        try:
            config = load_config()
        except ConfigError as exc:  # a broken settings file must not stop the built-in singer
            problems.append(f"{exc}; installed voicebanks are left out")
    cfg = config
    reg = VoiceRegistry(
        settings,
        folder_voice=lambda folder, s: catalogue.folder_voice(folder, s),
        source_singer=(lambda text: catalogue.resolve_source_singer(text, cfg)) if cfg else None)
    reg.warnings.extend(problems)
    reg.register(SONG070_INFO, make_song070)
    add_variants(reg, SONG070_INFO)
    reg.register(MEI_INFO, make_mei)
    add_variants(reg, MEI_INFO)
    for bank in cfg.voicebanks if cfg else ():
        if bank.name in reg._entries:
            reg.warnings.append(f"installed voicebank {bank.name!r} is left out: a built-in "
                                "singer has that name")
            continue
        reg.register(catalogue.installed_info(bank), catalogue.installed_factory(bank))
    if plugins:
        reg.add_plugin_source(plugin_entry_points)
    return reg
