"""Lyrics to phonemes: the Phonemizer protocol, the registry, and the Japanese phonemizer."""
from .base import NUCLEI, REST, VOWELS, NotePhonemes, Phonemizer, PhonemizeResult, Syllable
from .ja import (JA_PHONEMES, JapanesePhonemizer, is_continuation, is_nucleus, is_vowel,
                 katakana_to_hiragana, read_lyric, romaji_to_kana, vowel_of)
from .registry import PhonemizerRegistry, default_phonemizers

__all__ = [
    "NUCLEI", "REST", "VOWELS", "NotePhonemes", "Phonemizer", "PhonemizeResult", "Syllable",
    "JA_PHONEMES", "JapanesePhonemizer", "is_continuation", "is_nucleus", "is_vowel",
    "katakana_to_hiragana", "read_lyric", "romaji_to_kana", "vowel_of",
    "PhonemizerRegistry", "default_phonemizers",
]
