"""Lyrics to phonemes: the Phonemizer protocol, the registry, and the Japanese phonemizer."""
from .base import NotePhonemes, PhonemeSet, Phonemizer, PhonemizeResult, Syllable
from .ja import (JA_PHONEME_SET, JA_PHONEMES, NUCLEI, REST, VOWELS, JapanesePhonemizer, is_continuation, is_nucleus, is_vowel,
                 katakana_to_hiragana, read_lyric, romaji_to_kana, vowel_of)
from .registry import PhonemizerRegistry, default_phonemizers

__all__ = [
    "NUCLEI", "REST", "VOWELS", "NotePhonemes", "PhonemeSet", "Phonemizer", "PhonemizeResult",
    "Syllable", "JA_PHONEME_SET",
    "JA_PHONEMES", "JapanesePhonemizer", "is_continuation", "is_nucleus", "is_vowel",
    "katakana_to_hiragana", "read_lyric", "romaji_to_kana", "vowel_of",
    "PhonemizerRegistry", "default_phonemizers",
]
