"""The user's own settings file: installed voicebanks and voice folders.

One small JSON file, read when the voice catalogue is made and written only by
``utagoe singers add/remove/add-folder`` (:func:`save_config`, atomically).
Where it lives: ``$UTAGOE_CONFIG_DIR/config.json``, else
``$XDG_CONFIG_HOME/utagoe/config.json``, else ``~/.config/utagoe/config.json``.
Nothing else in utagoe reads the environment for it: the path is resolved once
and handed on (:class:`UserConfig` carries it).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import UtagoeError
from .fileio import read_limited, write_atomic

#: the file is tiny; anything beyond this is not ours
MAX_CONFIG_BYTES = 4 * 1024 * 1024
CONFIG_VERSION = 1


class ConfigError(UtagoeError):
    """The settings file cannot be read or written; names the file."""


@dataclass(frozen=True, slots=True)
class InstalledBank:
    """A voicebank recorded by ``utagoe singers add``: what the catalogue shows
    without opening it."""

    name: str
    path: str
    display_name: str = ""
    author: str = ""
    licence: str = ""


@dataclass(frozen=True, slots=True)
class UserConfig:
    #: the file it was read from (and is written to)
    path: Path
    voicebanks: tuple[InstalledBank, ...] = ()
    #: folders whose sub-folders are voicebanks (UTAU's ``voice`` folder): a UST's
    #: ``VoiceDir`` resolves only inside these, or to an installed bank
    voice_folders: tuple[str, ...] = field(default=())

    def bank(self, name: str) -> InstalledBank | None:
        return next((b for b in self.voicebanks if b.name == name), None)

    def with_bank(self, bank: InstalledBank) -> "UserConfig":
        if self.bank(bank.name) is not None:
            raise ConfigError(f"a singer named {bank.name!r} is already installed; remove it "
                              f"first (utagoe singers remove {bank.name}) or choose another "
                              "name (--name)")
        return replace(self, voicebanks=self.voicebanks + (bank,))

    def without_bank(self, name: str) -> "UserConfig":
        if self.bank(name) is None:
            known = ", ".join(b.name for b in self.voicebanks) or "(none)"
            raise ConfigError(f"no installed voicebank is named {name!r}; installed: {known}")
        return replace(self, voicebanks=tuple(b for b in self.voicebanks if b.name != name))

    def with_folder(self, folder: str) -> "UserConfig":
        if folder in self.voice_folders:
            return self
        return replace(self, voice_folders=self.voice_folders + (folder,))


def config_path() -> Path:
    """Where the settings file lives (see the module documentation)."""
    own = os.environ.get("UTAGOE_CONFIG_DIR")
    if own:
        return Path(own) / "config.json"
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg else Path.home() / ".config"
    return base / "utagoe" / "config.json"


def load_config(path: str | os.PathLike | None = None) -> UserConfig:
    """The settings at ``path`` (default :func:`config_path`); a missing file is an
    empty configuration, a broken one a :class:`ConfigError` naming it."""
    p = Path(path) if path is not None else config_path()
    if not p.exists():
        return UserConfig(p)
    raw = read_limited(p, limit=MAX_CONFIG_BYTES,
                       error=lambda f, why: ConfigError(f"{f}: cannot read the utagoe settings: {why}"))
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{p}: the utagoe settings file is not valid JSON ({exc}); fix or "
                          "delete it") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: the utagoe settings file must hold a JSON object")
    banks = []
    for i, b in enumerate(data.get("voicebanks", [])):
        if not (isinstance(b, dict) and isinstance(b.get("name"), str)
                and isinstance(b.get("path"), str)):
            raise ConfigError(f"{p}: voicebanks[{i}] needs a 'name' and a 'path' (text)")
        banks.append(InstalledBank(b["name"], b["path"], str(b.get("display_name", "")),
                                   str(b.get("author", "")), str(b.get("licence", ""))))
    folders = data.get("voice_folders", [])
    if not (isinstance(folders, list) and all(isinstance(f, str) for f in folders)):
        raise ConfigError(f"{p}: voice_folders must be a list of folder paths")
    return UserConfig(p, tuple(banks), tuple(folders))


def save_config(config: UserConfig) -> Path:
    """Write ``config`` to its file, atomically (folders made as needed)."""
    data = {
        "version": CONFIG_VERSION,
        "voicebanks": [{"name": b.name, "path": b.path, "display_name": b.display_name,
                        "author": b.author, "licence": b.licence} for b in config.voicebanks],
        "voice_folders": list(config.voice_folders),
    }
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    try:
        config.path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{config.path.parent}: cannot make the settings folder: "
                          f"{exc.strerror or exc}") from None
    return write_atomic(config.path, text.encode("utf-8"))
