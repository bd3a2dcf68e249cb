"""RenderCache: rendered phrases by cache key, kept between renders."""
from __future__ import annotations

from collections import OrderedDict

from ..audio import Audio
from ..validation import check_int


class RenderCache:
    """Rendered phrases by key (see :meth:`utagoe.voices.base.Voice.cache_keys`), the
    least recently used dropped past ``max_phrases``. Keep one between renders of
    an edited project so that only the phrases whose key changed are sung again."""

    def __init__(self, max_phrases: int = 2048) -> None:
        self.max_phrases = check_int("RenderCache", "max_phrases", max_phrases, lo=1)
        self._items: OrderedDict[str, Audio] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

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
