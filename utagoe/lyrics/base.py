"""What a phonemizer gives back, and the protocol every phonemizer follows.

Phoneme symbols are those of the built-in HTS singer (Sinsy's Japanese set):
vowels ``a i u e o``, ``N`` (ん), ``cl`` (っ), consonants such as ``k ky s sh ts
ch f ...``, and ``pau`` for rests.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from ..model.score import Note

VOWELS = frozenset({"a", "i", "u", "e", "o"})
#: phonemes that are sung on their own as a syllable nucleus
NUCLEI = VOWELS | {"N", "cl"}
REST = "pau"


@dataclass(frozen=True, slots=True)
class Syllable:
    """One mora: consonant(s) then a nucleus, e.g. ("ky", "a"), ("N",), ("cl",)."""

    phonemes: tuple[str, ...]

    @property
    def nucleus(self) -> str:
        return self.phonemes[-1]

    @property
    def consonants(self) -> tuple[str, ...]:
        return self.phonemes[:-1]


@dataclass(frozen=True, slots=True)
class NotePhonemes:
    """The syllables one note sings, in order, sharing the note's length.

    ``continuation`` notes (melisma, ``+``, ``-``, ``ー``) have no syllables:
    they go on singing the previous note's last vowel at the new pitch.
    """

    syllables: tuple[Syllable, ...]
    continuation: bool = False


@dataclass(frozen=True, slots=True)
class PhonemizeResult:
    notes: tuple[NotePhonemes, ...]
    warnings: tuple[str, ...] = ()


class Phonemizer(Protocol):
    language: str

    def phonemize(self, notes: Sequence[Note], *, lenient: bool = False,
                  where: str = "") -> PhonemizeResult:
        """One NotePhonemes per note. Unknown lyrics raise LyricsError listing every one
        (with ``where`` -- e.g. the file and track -- and the note's position), or with
        ``lenient=True`` are sung as the nearest vowel and reported in ``warnings``."""
        ...
