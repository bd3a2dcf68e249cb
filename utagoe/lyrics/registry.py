"""The phonemizer registry: lyrics language code -> phonemizer.

Filled in one place, :func:`default_phonemizers`; nothing lives at module
level. A failed lookup raises :class:`~utagoe.errors.UnknownNameError` listing
the languages that exist.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from ..errors import UnknownNameError
from .base import Phonemizer


def _key(language: str) -> str:
    return language.strip().lower().replace("_", "-")


class PhonemizerRegistry:
    """Phonemizers by language code ("ja"). Lookups ignore case, and a region
    subtag falls back to its language: ``"ja-JP"`` and ``"JA_jp"`` find ``"ja"``."""

    def __init__(self, phonemizers: Iterable[Phonemizer] = ()) -> None:
        self._by_language: dict[str, Phonemizer] = {}
        for p in phonemizers:
            self.register(p)

    def register(self, phonemizer: Phonemizer) -> None:
        """Add a phonemizer under its ``language``; a language may be registered once."""
        key = _key(phonemizer.language)
        if not key:
            raise ValueError(f"phonemizer {phonemizer!r} has no language code")
        if key in self._by_language:
            raise ValueError(f"a phonemizer for language {key!r} is already registered")
        self._by_language[key] = phonemizer

    def get(self, language: str) -> Phonemizer:
        """The phonemizer for ``language``; UnknownNameError lists the known languages."""
        key = _key(language)
        found = self._by_language.get(key)
        if found is None and "-" in key:
            found = self._by_language.get(key.split("-", 1)[0])
        if found is None:
            raise UnknownNameError("phonemizer language", language, self.languages())
        return found

    __getitem__ = get

    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_language))

    def __contains__(self, language: object) -> bool:
        if not isinstance(language, str):
            return False
        try:
            self.get(language)
        except UnknownNameError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self.languages())

    def __len__(self) -> int:
        return len(self._by_language)

    def __repr__(self) -> str:
        return f"PhonemizerRegistry({', '.join(self.languages())})"


def default_phonemizers() -> PhonemizerRegistry:
    """A new registry holding every built-in phonemizer (the one place they are listed)."""
    from .ja import JapanesePhonemizer

    return PhonemizerRegistry([JapanesePhonemizer()])
