"""Japanese lyrics (kana, romaji, UTAU VCV lyrics) to the phonemes of the built-in singer.

The phoneme set is Sinsy's Japanese set, which the built-in HTS singer was
trained on: vowels ``a i u e o``, ``N`` (ん), ``cl`` (っ) and the consonants
``k ky g gy s sh z j t ty ch ts d dy n ny h hy f b by p py m my y r ry w v``.
Labialised kana (くゎ, くぁ, ぐぉ ...) are two consonants, as in Sinsy:
``k w a``.

How one note's lyric is read (:func:`read_lyric`):

* NFKC first, so full-width letters and half-width katakana work; katakana is
  read as hiragana; romaji is case-insensitive (Hepburn, kunrei/nihon-shiki and
  IME spellings: ``shi``/``si``, ``chi``/``ti``, ``tsu``/``tu``, ``fu``/``hu``,
  ``ji``/``zi``, ``n``/``nn``/``n'``, doubled consonants and ``tch`` for っ,
  ``m`` before b/p/m for ん, ``x``/``l`` small kana such as ``xtu``, ``texi``).
  Kana and romaji may be mixed.
* Several morae on one note give several syllables in order (``かろ``, ``きゃっ``).
* Small kana join the kana before them where the pair is a known syllable
  (きゃ, ふぁ, てぃ, くゎ); otherwise a small kana is sung as its own vowel
  (``かぁ`` -> ``k a`` + ``a``, a lone ``ゃ`` -> ``a``). Sinsy sings a lone ゃゅょゎ
  as ``y a``/``w a``; we follow the vowel rule.
* ``ー`` (and ``-``, ``~``, ``〜`` inside a lyric) after kana lengthens the vowel
  before it and adds no syllable: the note is simply held (``かー`` == ``か``). A
  ``ー`` with nothing before it in the note is ignored.
* A lyric made only of ``+ - ~ 〜 ー`` (``+``, ``-``, ``ー``, ``~``, ``+~``,
  ``+-``, ``+*``, ``ーー`` ...) is a continuation note (:func:`is_continuation`).
* UTAU VCV lyrics: a leading ``a``/``i``/``u``/``e``/``o``/``n``/``N``/``ん``/``-``/``*``
  followed by white space is dropped (``a か``, ``- か``, ``* え``). So ``a i`` sings
  ``i``, not ``あい``.
* UTAU alias decorations after the syllable are dropped: a pitch suffix
  (``かD4``, ``れ_B3``, ``kaC#4``) and a voice-colour suffix of kanji
  (``い弱``, ``あ_強``, ``か強C4``), as prefix.map and colour banks add them.
* Punctuation (、。!?「」 ...), white space and apostrophes are ignored; the
  devoicing mark ``’`` of Sinsy is ignored too (no devoiced vowels).
* ``R``, ``r``, ``pau``, ``sil`` (the rest lyrics of other editors) are reported
  as problems: a rest is a gap between notes, never a note.
* Anything else that cannot be read is a problem. In lenient mode the readable
  parts are sung and the rest is dropped; a lyric with nothing readable is
  sung as the first ASCII vowel letter in it (``y`` counts as ``i``), else ``a``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, Sequence

from ..errors import LyricProblem, LyricsError
from ..model.score import CONTINUATION, Note
from .base import NotePhonemes, PhonemeSet, PhonemizeResult, Syllable

#: Sinsy's Japanese vowels, the nuclei a syllable can end on, and its rest
VOWELS = frozenset({"a", "i", "u", "e", "o"})
NUCLEI = VOWELS | {"N", "cl"}
REST = "pau"

__all__ = [
    "JapanesePhonemizer", "JA_PHONEME_SET", "KANA_PHONEMES", "ROMAJI_TO_KANA", "JA_PHONEMES",
    "read_lyric", "is_continuation", "katakana_to_hiragana", "romaji_to_kana",
    "vowel_of", "is_vowel", "is_nucleus",
]


# --------------------------------------------------------------------------- helpers

def is_vowel(symbol: str) -> bool:
    """True for the five vowels ``a i u e o``."""
    return symbol in VOWELS


def is_nucleus(symbol: str) -> bool:
    """True for phonemes sung on their own as a syllable: the vowels, ``N`` and ``cl``."""
    return symbol in NUCLEI


def vowel_of(syllable: Syllable) -> str:
    """The nucleus a syllable is sung on: ``a i u e o``, ``N`` or ``cl``.

    Raises ValueError for a syllable that does not end in a nucleus.
    """
    if not syllable.phonemes or syllable.phonemes[-1] not in NUCLEI:
        raise ValueError(f"syllable {syllable.phonemes!r} has no nucleus")
    return syllable.phonemes[-1]


# --------------------------------------------------------------------------- kana table

def _build_kana() -> dict[str, tuple[str, ...]]:
    t: dict[str, tuple[str, ...]] = {}

    def put(kana: str, phonemes: str) -> None:
        t[kana] = tuple(phonemes.split())

    for kana, v in zip("あいうえお", "aiueo"):
        put(kana, v)
    rows = (
        ("かきくけこ", "k k k k k"), ("がぎぐげご", "g g g g g"),
        ("さしすせそ", "s sh s s s"), ("ざじずぜぞ", "z j z z z"),
        ("たちつてと", "t ch ts t t"), ("だぢづでど", "d j z d d"),
        ("なにぬねの", "n n n n n"), ("はひふへほ", "h h f h h"),
        ("ばびぶべぼ", "b b b b b"), ("ぱぴぷぺぽ", "p p p p p"),
        ("まみむめも", "m m m m m"), ("らりるれろ", "r r r r r"),
    )
    for kanas, cons in rows:
        for kana, c, v in zip(kanas, cons.split(), "aiueo"):
            put(kana, f"{c} {v}")
    for kana, ph in (("や", "y a"), ("ゆ", "y u"), ("よ", "y o"), ("わ", "w a"),
                     ("ゐ", "i"), ("ゑ", "e"), ("を", "o"), ("ん", "N"), ("っ", "cl"),
                     ("ゔ", "v u"),
                     # small kana on their own: their vowel (ゕ/ゖ as か/け)
                     ("ぁ", "a"), ("ぃ", "i"), ("ぅ", "u"), ("ぇ", "e"), ("ぉ", "o"),
                     ("ゃ", "a"), ("ゅ", "u"), ("ょ", "o"), ("ゎ", "a"),
                     ("ゕ", "k a"), ("ゖ", "k e")):
        put(kana, ph)
    # palatalised: き + ゃゅょぇ
    for kana, c in (("き", "ky"), ("ぎ", "gy"), ("し", "sh"), ("じ", "j"), ("ち", "ch"),
                    ("ぢ", "j"), ("に", "ny"), ("ひ", "hy"), ("び", "by"), ("ぴ", "py"),
                    ("み", "my"), ("り", "ry")):
        for small, v in zip("ゃゅょぇ", "auoe"):
            put(kana + small, f"{c} {v}")
    for pair, ph in (
        ("ゔぁ", "v a"), ("ゔぃ", "v i"), ("ゔぇ", "v e"), ("ゔぉ", "v o"),
        ("ゔゃ", "by a"), ("ゔゅ", "by u"), ("ゔょ", "by o"),
        ("てぃ", "t i"), ("てゃ", "ty a"), ("てゅ", "ty u"), ("てょ", "ty o"),
        ("でぃ", "d i"), ("でゃ", "dy a"), ("でゅ", "dy u"), ("でょ", "dy o"), ("でぇ", "dy e"),
        ("とぅ", "t u"), ("どぅ", "d u"),
        ("つぁ", "ts a"), ("つぃ", "ts i"), ("つぇ", "ts e"), ("つぉ", "ts o"),
        ("すぃ", "s i"), ("しぃ", "s i"), ("ずぃ", "z i"),
        ("ふぁ", "f a"), ("ふぃ", "f i"), ("ふぇ", "f e"), ("ふぉ", "f o"), ("ふゅ", "hy u"),
        ("うぁ", "w a"), ("うぃ", "w i"), ("うぇ", "w e"), ("うぉ", "w o"), ("いぇ", "y e"),
        ("くぁ", "k w a"), ("くぃ", "k w i"), ("くぅ", "k w u"), ("くぇ", "k w e"),
        ("くぉ", "k w o"), ("くゎ", "k w a"),
        ("ぐぁ", "g w a"), ("ぐぃ", "g w i"), ("ぐぅ", "g w u"), ("ぐぇ", "g w e"),
        ("ぐぉ", "g w o"), ("ぐゎ", "g w a"),
    ):
        put(pair, ph)
    return t


#: hiragana (one kana or a kana and a small kana) -> phonemes
KANA_PHONEMES: Mapping[str, tuple[str, ...]] = MappingProxyType(_build_kana())

#: every phoneme this module produces (a subset of Sinsy's Japanese set)
JA_PHONEMES: frozenset[str] = frozenset(p for ph in KANA_PHONEMES.values() for p in ph)

#: typical onset lengths of consonants in sung Japanese, in seconds (before timing
#: shrinks them to fit)
CONSONANT_LENGTH_S: Mapping[str, float] = MappingProxyType({
    "k": 0.055, "ky": 0.065, "g": 0.045, "gy": 0.055,
    "s": 0.090, "sh": 0.095, "z": 0.065, "j": 0.065,
    "t": 0.050, "ty": 0.060, "ch": 0.080, "ts": 0.080, "d": 0.040, "dy": 0.050,
    "n": 0.050, "ny": 0.060, "h": 0.065, "hy": 0.070, "f": 0.070,
    "b": 0.045, "by": 0.055, "p": 0.050, "py": 0.060,
    "m": 0.055, "my": 0.060, "y": 0.055, "r": 0.030, "ry": 0.045,
    "w": 0.055, "v": 0.055, "kw": 0.065, "gw": 0.055,
})

#: Sinsy's Japanese phonemes as the later stages need them
JA_PHONEME_SET = PhonemeSet(
    name="sinsy-ja",
    vowels=VOWELS,
    nuclei=NUCLEI,
    silent_nuclei=frozenset({"cl"}),
    voiced_consonants=frozenset({"m", "my", "n", "ny", "r", "ry", "y", "w", "v", "b", "by",
                                 "d", "dy", "g", "gy", "z", "j"}),
    consonant_length_s=CONSONANT_LENGTH_S,
    default_consonant_length_s=0.055,
    rest=REST,
)

_KATAKANA_SPECIAL = {"ヷ": "ゔぁ", "ヸ": "ゔぃ", "ヹ": "ゔぇ", "ヺ": "ゔぉ"}


def katakana_to_hiragana(text: str) -> str:
    """ァ..ヶ to ぁ..ゖ (ヷヸヹヺ to ゔぁ ゔぃ ゔぇ ゔぉ); everything else unchanged."""
    out = []
    for ch in text:
        o = ord(ch)
        if 0x30A1 <= o <= 0x30F6:
            out.append(chr(o - 0x60))
        else:
            out.append(_KATAKANA_SPECIAL.get(ch, ch))
    return "".join(out)


# --------------------------------------------------------------------------- romaji table

def _build_romaji() -> dict[str, str]:
    t: dict[str, str] = {}
    for v, kana in zip("aiueo", "あいうえお"):
        t[v] = kana
    rows = {
        "k": "かきくけこ", "g": "がぎぐげご", "s": "さしすせそ", "z": "ざじずぜぞ",
        "t": "たちつてと", "d": "だぢづでど", "n": "なにぬねの", "h": "はひふへほ",
        "b": "ばびぶべぼ", "p": "ぱぴぷぺぽ", "m": "まみむめも", "r": "らりるれろ",
        "c": "かしくせこ",
    }
    multi = {
        "y": ("や", "い", "ゆ", "いぇ", "よ"),
        "w": ("わ", "うぃ", "う", "うぇ", "を"),
        "f": ("ふぁ", "ふぃ", "ふ", "ふぇ", "ふぉ"),
        "v": ("ゔぁ", "ゔぃ", "ゔ", "ゔぇ", "ゔぉ"),
        "j": ("じゃ", "じ", "じゅ", "じぇ", "じょ"),
        "sh": ("しゃ", "し", "しゅ", "しぇ", "しょ"),
        "ch": ("ちゃ", "ち", "ちゅ", "ちぇ", "ちょ"),
        "ts": ("つぁ", "つぃ", "つ", "つぇ", "つぉ"),
        "x": ("ぁ", "ぃ", "ぅ", "ぇ", "ぉ"),
        "l": ("ぁ", "ぃ", "ぅ", "ぇ", "ぉ"),
        "kw": ("くゎ", "くぃ", "くぅ", "くぇ", "くぉ"),
        "gw": ("ぐゎ", "ぐぃ", "ぐぅ", "ぐぇ", "ぐぉ"),
    }
    for c, kanas in (*rows.items(), *multi.items()):
        for v, kana in zip("aiueo", kanas):
            t[c + v] = kana
    # palatalised: kya kyu kyo kye (kunrei sya, tya, zya; IME jya, cya; nihon-shiki dya)
    for c, kana in (("k", "き"), ("g", "ぎ"), ("s", "し"), ("z", "じ"), ("t", "ち"),
                    ("d", "ぢ"), ("n", "に"), ("h", "ひ"), ("b", "び"), ("p", "ぴ"),
                    ("m", "み"), ("r", "り"), ("j", "じ"), ("c", "ち")):
        for v, small in zip("auoe", "ゃゅょぇ"):
            t[c + "y" + v] = kana + small
    t.update({
        "vya": "ゔゃ", "vyu": "ゔゅ", "vyo": "ゔょ", "fyu": "ふゅ",
        "hu": "ふ", "si": "し", "zi": "じ", "ti": "ち", "tu": "つ", "di": "ぢ", "du": "づ",
        "thi": "てぃ", "tha": "てゃ", "thu": "てゅ", "tho": "てょ",
        "dhi": "でぃ", "dha": "でゃ", "dhu": "でゅ", "dho": "でょ", "dhe": "でぇ",
        "twu": "とぅ", "dwu": "どぅ", "swi": "すぃ", "zwi": "ずぃ",
        "xya": "ゃ", "xyu": "ゅ", "xyo": "ょ", "lya": "ゃ", "lyu": "ゅ", "lyo": "ょ",
        "xtu": "っ", "ltu": "っ", "xtsu": "っ", "ltsu": "っ", "xwa": "ゎ", "lwa": "ゎ",
        "xka": "ゕ", "lka": "ゕ", "xke": "ゖ", "lke": "ゖ", "xn": "ん",
    })
    return t


#: romaji (lower case) -> hiragana; ``n`` and doubled consonants are handled by the reader
ROMAJI_TO_KANA: Mapping[str, str] = MappingProxyType(_build_romaji())
_ROMAJI_MAX = max(len(k) for k in ROMAJI_TO_KANA)
_DOUBLING = frozenset("bcdfghjkpqrstvwyz")
_APOSTROPHES = "'’"


def _romaji_at(s: str, i: int) -> tuple[str, int] | None:
    """Read one romaji unit of the lower-case text ``s`` at ``i``: (kana, length) or None."""
    c = s[i]
    nxt = s[i + 1] if i + 1 < len(s) else ""
    if c == "n":
        if nxt and nxt in _APOSTROPHES:
            return "ん", 2
        if nxt == "n":
            after = s[i + 2] if i + 2 < len(s) else ""
            return ("ん", 1) if after and after in "aiueoy" else ("ん", 2)
        if not nxt or nxt not in "aiueoy":
            return "ん", 1
    elif c == "m" and nxt and nxt in "bpm":
        return "ん", 1
    elif c == "t" and s.startswith("ch", i + 1):
        return "っ", 1
    elif c in _DOUBLING and nxt == c:
        return "っ", 1
    for n in range(min(_ROMAJI_MAX, len(s) - i), 0, -1):
        kana = ROMAJI_TO_KANA.get(s[i:i + n])
        if kana is not None:
            return kana, n
    return None


def romaji_to_kana(text: str) -> str:
    """Romaji (any case) to hiragana; raises ValueError naming what cannot be read."""
    s = text.lower()
    out, i = [], 0
    while i < len(s):
        if s[i] in _APOSTROPHES or s[i].isspace():
            i += 1
            continue
        got = _romaji_at(s, i)
        if got is None:
            raise ValueError(f"cannot read {text[i:]!r} as romaji")
        out.append(got[0])
        i += got[1]
    return "".join(out)


# --------------------------------------------------------------------------- reading a lyric

_LONG = "ー"
#: characters that mean "hold the vowel" inside a lyric (after NFKC)
_LONG_MARKS = frozenset("ー-~〜‐‑–—―−～〰")
_CONTINUATION_CHARS = _LONG_MARKS | {"+", "*", CONTINUATION}
_VCV_PREFIX = re.compile(r"^(?:[aiueon*\-]|ん)\s+(?=\S)", re.IGNORECASE)
_REST_LYRICS = frozenset({"r", "pau", "sil", "rest"})
#: UTAU alias decorations after a readable syllable: colour kanji, then a pitch name
_UTAU_SUFFIX = re.compile(
    r"(?<=[\u3041-\u30ffa-zA-Z])_?(?:[\u4e00-\u9fff]+_?)?(?:[A-G][#b\u266f]?-?\d)?$")
_MACRON = str.maketrans({
    "ā": "aー", "ī": "iー", "ū": "uー", "ē": "eー", "ō": "oー",
    "â": "aー", "î": "iー", "û": "uー", "ê": "eー", "ô": "oー",
    "Ā": "aー", "Ī": "iー", "Ū": "uー", "Ē": "eー", "Ō": "oー",
    "Â": "aー", "Î": "iー", "Û": "uー", "Ê": "eー", "Ô": "oー",
})
_KANA_CHARS = frozenset(k for k in KANA_PHONEMES if len(k) == 1)


def _normalise(lyric: str) -> str:
    return unicodedata.normalize("NFKC", lyric).translate(_MACRON).strip()


def _is_continuation_text(text: str) -> bool:
    core = "".join(ch for ch in text if not ch.isspace())
    return (bool(core) and all(ch in _CONTINUATION_CHARS for ch in core)
            and any(ch != "*" for ch in core))


def is_continuation(lyric: str) -> bool:
    """True for lyrics that continue the previous note's vowel: ``+``, ``-``, ``ー``,
    ``~``, ``+~``, ``+*``, ``+-``, ``ーー``... (also after a VCV prefix: ``a -``)."""
    text = _normalise(lyric)
    if _is_continuation_text(text):
        return True
    m = _VCV_PREFIX.match(text)
    return m is not None and _is_continuation_text(text[m.end():])


@dataclass(frozen=True, slots=True)
class _Reading:
    phonemes: NotePhonemes
    problem: str | None = None     # why it cannot be sung (None: fine)


def _kana_to_syllables(kana: str) -> list[Syllable]:
    """Hiragana and ー (every character known) to syllables, longest match first."""
    out: list[Syllable] = []
    i = 0
    while i < len(kana):
        if kana[i] == _LONG:
            i += 1          # the note is held: no syllable added
            continue
        pair = KANA_PHONEMES.get(kana[i:i + 2]) if i + 1 < len(kana) else None
        if pair is not None:
            out.append(Syllable(pair))
            i += 2
        else:
            out.append(Syllable(KANA_PHONEMES[kana[i]]))
            i += 1
    return out


def _scan(text: str) -> tuple[str, list[str]]:
    """Text to hiragana (and ー); returns the kana and the runs that could not be read."""
    low = text.lower()
    kana: list[str] = []
    bad: list[str] = []
    last_bad = -2
    i = 0
    while i < len(low):
        ch = low[i]
        if ch.isspace() or ch in _APOSTROPHES:
            i += 1
            continue
        if ch in _LONG_MARKS:
            kana.append(_LONG)
            i += 1
            continue
        h = katakana_to_hiragana(ch)
        if all(c in _KANA_CHARS for c in h):
            kana.append(h)
            i += 1
            continue
        if "a" <= ch <= "z":
            got = _romaji_at(low, i)
            if got is not None:
                kana.append(got[0])
                i += got[1]
                continue
        elif ch == "*" or unicodedata.category(ch).startswith("P"):
            i += 1          # punctuation
            continue
        if last_bad == i - 1 and bad:
            bad[-1] += ch
        else:
            bad.append(ch)
        last_bad = i
        i += 1
    return "".join(kana), bad


def _guess_vowel(text: str) -> Syllable:
    for ch in text.lower():
        if ch in "aiueo":
            return Syllable((ch,))
        if ch == "y":
            return Syllable(("i",))
    return Syllable(("a",))


def _read(lyric: str) -> _Reading:
    text = _normalise(lyric)
    if _is_continuation_text(text):
        return _Reading(NotePhonemes((), continuation=True))
    m = _VCV_PREFIX.match(text)
    if m:
        text = text[m.end():].strip()
        if _is_continuation_text(text):
            return _Reading(NotePhonemes((), continuation=True))
    if not text:
        return _Reading(NotePhonemes((Syllable(("a",)),)), "empty lyric")
    text = strip_utau_suffix(text)
    if text.lower() in _REST_LYRICS:
        return _Reading(NotePhonemes((_guess_vowel(text),)),
                        "looks like a rest; a rest is a gap between notes, not a note")
    kana, bad = _scan(text)
    syllables = _kana_to_syllables(kana)
    problem = None
    if bad:
        problem = "cannot read " + ", ".join(repr(b) for b in bad)
    elif not syllables:
        problem = "nothing to sing"
    if not syllables:
        syllables = [_guess_vowel(text)]
    return _Reading(NotePhonemes(tuple(syllables)), problem)


def strip_utau_suffix(text: str) -> str:
    """``かD4`` -> ``か``, ``い弱`` -> ``い``, ``o れ_B3`` -> ``o れ``; other text unchanged."""
    m = _UTAU_SUFFIX.search(text)
    if m is None or m.start() == m.end() or m.start() == 0:
        return text
    return text[:m.start()]


def read_lyric(lyric: str) -> NotePhonemes:
    """One note's lyric to its phonemes; raises LyricsError if it cannot be read."""
    r = _read(lyric)
    if r.problem is not None:
        raise LyricsError([LyricProblem(lyric, "lyric", r.problem)])
    return r.phonemes


def _show(nph: NotePhonemes) -> str:
    return " ".join(" ".join(s.phonemes) for s in nph.syllables)


def _place(where: str, index: int, note: Note) -> str:
    here = f"note {index + 1} ({note.describe()})"
    return f"{where}, {here}" if where else here


# --------------------------------------------------------------------------- the phonemizer

class JapanesePhonemizer:
    """Kana, romaji and UTAU VCV lyrics to Sinsy's Japanese phonemes (see the module doc)."""

    language = "ja"
    phonemes = JA_PHONEME_SET

    def is_continuation(self, lyric: str) -> bool:
        return is_continuation(lyric)

    def phonemize(self, notes: Sequence[Note], *, lenient: bool = False,
                  where: str = "") -> PhonemizeResult:
        """One NotePhonemes per note. Unknown lyrics raise one LyricsError listing every
        one as ``"{where}, note {n} ({note.describe()})"`` (n counts from 1); with
        ``lenient=True`` they are sung as well as can be and each gives a warning."""
        out: list[NotePhonemes] = []
        problems: list[LyricProblem] = []
        warnings: list[str] = []
        for i, note in enumerate(notes):
            r = _read(note.lyric)
            out.append(r.phonemes)
            if r.problem is None:
                continue
            place = _place(where, i, note)
            if lenient:
                warnings.append(f"{place}: {note.lyric!r}: {r.problem}; "
                                f"sung as {_show(r.phonemes)!r}")
            else:
                problems.append(LyricProblem(note.lyric, place, r.problem))
        if problems:
            raise LyricsError(problems)
        return PhonemizeResult(tuple(out), tuple(warnings))

    def __repr__(self) -> str:
        return "JapanesePhonemizer()"
