"""What a phonemizer gives back, and the protocol every phonemizer follows.

Phoneme symbols are the phonemizer's own; it describes them in its
:class:`PhonemeSet` (the Japanese phonemizer uses Sinsy's set, see ``ja.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Protocol, Sequence

from ..model.score import Note

@dataclass(frozen=True, slots=True)
class PhonemeSet:
    """What the stages after the phonemizer need to know of its phonemes.

    Timing, the full-context labels, the singers and ``utagoe info`` take this
    from the phonemizer instead of keeping their own lists.
    """

    #: a name for the set, e.g. "sinsy-ja" (part of cache keys)
    name: str
    #: the plain vowels (a held note's vowel is one of these, or a sung nucleus)
    vowels: frozenset[str]
    #: everything that can end a syllable (vowels, and e.g. N and cl)
    nuclei: frozenset[str]
    #: nuclei that are silence (a glottal stop / geminate closure: っ's ``cl``)
    silent_nuclei: frozenset[str]
    #: consonants sung with the voice on
    voiced_consonants: frozenset[str]
    #: typical onset length of each consonant, in seconds
    consonant_length_s: Mapping[str, float]
    default_consonant_length_s: float
    #: the rest (pause) symbol
    rest: str

    @property
    def sung_nuclei(self) -> frozenset[str]:
        """Nuclei that sound (every nucleus but the silent ones)."""
        return self.nuclei - self.silent_nuclei

    def is_voiced(self, symbol: str) -> bool:
        """Is ``symbol`` always sung with the voice on (a sounding nucleus or a
        voiced consonant)?"""
        return symbol in self.voiced_consonants or symbol in self.sung_nuclei

    def consonant_s(self, symbol: str) -> float:
        return self.consonant_length_s.get(symbol, self.default_consonant_length_s)


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
    #: the phonemes it produces, for timing, labels, singers and reports
    phonemes: PhonemeSet

    def is_continuation(self, lyric: str) -> bool:
        """Does ``lyric`` continue the previous note's vowel (a melisma: ``+``, ``ー`` ...)?"""
        ...

    def phonemize(self, notes: Sequence[Note], *, lenient: bool = False,
                  where: str = "") -> PhonemizeResult:
        """One NotePhonemes per note. Unknown lyrics raise LyricsError listing every one
        (with ``where`` -- e.g. the file and track -- and the note's position), or with
        ``lenient=True`` are sung as the nearest vowel and reported in ``warnings``."""
        ...
