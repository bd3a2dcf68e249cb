"""Placing phonemes in time: consonants before the note, vowels on it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TimedPhoneme:
    """One phoneme with its time in seconds.

    ``note_index`` indexes the track's notes; it is -1 for a rest (``pau``).
    ``kind`` is 'consonant', 'vowel' (any nucleus, N and cl included) or 'rest'.
    ``syllable_index`` is the syllable within the note (0 for rests and continuations).
    """

    symbol: str
    start_s: float
    end_s: float
    note_index: int
    kind: str
    syllable_index: int = 0

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s
