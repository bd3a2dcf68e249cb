"""The Japanese phonemizer: kana, romaji, VCV lyrics, continuations, errors."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from utagoe.errors import LyricsError, UnknownNameError
from utagoe.lyrics import (JA_PHONEMES, JapanesePhonemizer, NotePhonemes, PhonemizerRegistry,
                           Syllable, default_phonemizers, is_continuation, is_nucleus,
                           is_vowel, katakana_to_hiragana, read_lyric, romaji_to_kana,
                           vowel_of)
from utagoe.lyrics.ja import KANA_PHONEMES, ROMAJI_TO_KANA
from utagoe.model.score import CONTINUATION, Note


def phonemes(lyric: str) -> list[tuple[str, ...]]:
    return [s.phonemes for s in read_lyric(lyric).syllables]


def flat(lyric: str) -> tuple[str, ...]:
    return tuple(p for s in read_lyric(lyric).syllables for p in s.phonemes)


def notes(*lyrics: str) -> list[Note]:
    return [Note(480 * i, 480, 60 + i, lyric, source=f"measure {i + 1}")
            for i, lyric in enumerate(lyrics)]


def hiragana_to_katakana(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if 0x3041 <= ord(c) <= 0x3096 else c for c in text)


# --------------------------------------------------------------------------- Sinsy's table

def _sinsy_table() -> Path | None:
    spec = importlib.util.find_spec("pysinsy")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        path = Path(loc) / "_dic" / "japanese.utf_8.table"
        if path.is_file():
            return path
    return None


@pytest.fixture(scope="module")
def sinsy_table() -> dict[str, tuple[str, ...]]:
    path = _sinsy_table()
    if path is None:  # pysinsy is a dependency of utagoe: a broken install fails, never skips
        pytest.fail("pysinsy's _dic/japanese.utf_8.table is not installed; pysinsy==0.0.5 is a dependency "
                    "of utagoe: reinstall with pip install -e '.[test]'", pytrace=False)
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            kana, *ph = line.split()
            table[kana] = tuple(ph)
    return table


@pytest.mark.reference
def test_every_phoneme_we_produce_is_in_sinsys_set(sinsy_table):
    sinsy_phonemes = {p for ph in sinsy_table.values() for p in ph}
    assert JA_PHONEMES <= sinsy_phonemes, JA_PHONEMES - sinsy_phonemes
    for kana in KANA_PHONEMES:
        for lyric in (kana, hiragana_to_katakana(kana)):
            assert set(flat(lyric)) <= sinsy_phonemes, lyric
    for romaji in ROMAJI_TO_KANA:
        assert set(flat(romaji)) <= sinsy_phonemes, romaji


# a lone small ゃゅょゎ: Sinsy says "y a"/"w a", we sing the vowel (documented)
LONE_SMALL = {"ゃ": ("a",), "ゅ": ("u",), "ょ": ("o",), "ゎ": ("a",)}


@pytest.mark.reference
def test_every_entry_of_sinsys_table_reads_the_same(sinsy_table):
    for kana, ph in sinsy_table.items():
        hira = katakana_to_hiragana(kana)
        assert hira in KANA_PHONEMES, f"{kana} missing from our table"
        want = LONE_SMALL.get(hira, ph)
        got = read_lyric(kana)
        assert len(got.syllables) == 1, kana
        assert got.syllables[0].phonemes == want, kana


# --------------------------------------------------------------------------- kana

@pytest.mark.parametrize("lyric, expected", [
    ("あ", [("a",)]), ("か", [("k", "a")]), ("し", [("sh", "i")]), ("ち", [("ch", "i")]),
    ("つ", [("ts", "u")]), ("ふ", [("f", "u")]), ("ん", [("N",)]), ("っ", [("cl",)]),
    ("ぢ", [("j", "i")]), ("づ", [("z", "u")]), ("ゐ", [("i",)]), ("ゑ", [("e",)]),
    ("を", [("o",)]), ("ゔ", [("v", "u")]), ("きゃ", [("ky", "a")]), ("じょ", [("j", "o")]),
    ("てぃ", [("t", "i")]), ("でぃ", [("d", "i")]), ("とぅ", [("t", "u")]),
    ("どぅ", [("d", "u")]), ("ふぁ", [("f", "a")]), ("うぃ", [("w", "i")]),
    ("うぇ", [("w", "e")]), ("うぉ", [("w", "o")]), ("つぁ", [("ts", "a")]),
    ("くゎ", [("k", "w", "a")]), ("ぐぉ", [("g", "w", "o")]), ("いぇ", [("y", "e")]),
    ("でゅ", [("dy", "u")]), ("ゔぁ", [("v", "a")]), ("ヷ", [("v", "a")]),
    # several morae on one note
    ("かろ", [("k", "a"), ("r", "o")]),
    ("きゃっ", [("ky", "a"), ("cl",)]),
    ("かん", [("k", "a"), ("N",)]),
    ("ヴァイオリン", [("v", "a"), ("i",), ("o",), ("r", "i"), ("N",)]),
    # a small kana that does not combine is sung as its vowel
    ("かぁ", [("k", "a"), ("a",)]), ("ぁ", [("a",)]), ("ゃ", [("a",)]), ("ぉ", [("o",)]),
    # ー inside a lyric holds the vowel and adds nothing
    ("かー", [("k", "a")]), ("らーめん", [("r", "a"), ("m", "e"), ("N",)]),
    ("ーか", [("k", "a")]),
    # normalisation: half-width katakana, punctuation, white space
    ("ｶﾞｷﾞ", [("g", "a"), ("g", "i")]), ("「か」。", [("k", "a")]), ("か ら", [("k", "a"), ("r", "a")]),
])
def test_kana(lyric, expected):
    assert phonemes(lyric) == expected


def test_every_kana_is_one_syllable_and_katakana_matches_hiragana():
    for kana, ph in KANA_PHONEMES.items():
        got = read_lyric(kana)
        assert got == NotePhonemes((Syllable(ph),)), kana
        assert read_lyric(hiragana_to_katakana(kana)) == got, kana
        assert is_nucleus(got.syllables[0].nucleus)
        assert all(not is_nucleus(c) for c in got.syllables[0].consonants)


@given(st.lists(st.sampled_from(sorted(KANA_PHONEMES)), min_size=1, max_size=6))
@settings(max_examples=200, deadline=None)
def test_katakana_strings_read_like_hiragana(kanas):
    text = "".join(kanas)
    assert read_lyric(hiragana_to_katakana(text)) == read_lyric(text)


# --------------------------------------------------------------------------- romaji

COMMON = {
    "a": "あ", "i": "い", "u": "う", "e": "え", "o": "お",
    "ka": "か", "ki": "き", "ku": "く", "ke": "け", "ko": "こ", "kya": "きゃ", "kyu": "きゅ",
    "kyo": "きょ", "ga": "が", "gi": "ぎ", "gya": "ぎゃ",
    "sa": "さ", "shi": "し", "si": "し", "su": "す", "se": "せ", "so": "そ", "sha": "しゃ",
    "sya": "しゃ", "shu": "しゅ", "syu": "しゅ", "sho": "しょ", "she": "しぇ",
    "za": "ざ", "ji": "じ", "zi": "じ", "zu": "ず", "ja": "じゃ", "zya": "じゃ", "jya": "じゃ",
    "jo": "じょ", "ta": "た", "chi": "ち", "ti": "ち", "tsu": "つ", "tu": "つ", "te": "て",
    "to": "と", "cha": "ちゃ", "tya": "ちゃ", "cya": "ちゃ", "chu": "ちゅ", "che": "ちぇ",
    "da": "だ", "di": "ぢ", "du": "づ", "de": "で", "do": "ど",
    "na": "な", "ni": "に", "nu": "ぬ", "ne": "ね", "no": "の", "nya": "にゃ",
    "ha": "は", "hi": "ひ", "fu": "ふ", "hu": "ふ", "he": "へ", "ho": "ほ", "hya": "ひゃ",
    "fa": "ふぁ", "fi": "ふぃ", "fe": "ふぇ", "fo": "ふぉ",
    "ba": "ば", "bya": "びゃ", "pa": "ぱ", "pyo": "ぴょ", "ma": "ま", "mi": "み", "myu": "みゅ",
    "ya": "や", "yu": "ゆ", "yo": "よ", "ye": "いぇ",
    "ra": "ら", "ri": "り", "ru": "る", "re": "れ", "ro": "ろ", "rya": "りゃ",
    "wa": "わ", "wo": "を", "wi": "うぃ", "we": "うぇ", "n": "ん", "nn": "ん", "n'": "ん",
    "va": "ゔぁ", "vu": "ゔ", "thi": "てぃ", "dhi": "でぃ", "dhu": "でゅ", "twu": "とぅ",
    "tsa": "つぁ", "kwa": "くゎ", "xtu": "っ", "ltu": "っ", "xtsu": "っ", "xa": "ぁ",
    "la": "ぁ", "texi": "てぃ",
    # words: doubled consonants, syllabic n, Hepburn m
    "kakka": "かっか", "kitte": "きって", "zasshi": "ざっし", "matcha": "まっちゃ",
    "maccha": "まっちゃ", "mittsu": "みっつ", "konna": "こんな", "kanna": "かんな",
    "onnna": "おんな", "kan'i": "かんい", "kani": "かに", "kanji": "かんじ",
    "shimbun": "しんぶん", "sempai": "せんぱい", "semmon": "せんもん", "kyatto": "きゃっと",
    "sakura": "さくら", "arigatou": "ありがとう", "konnichiha": "こんにちは",
    "tookyoo": "とおきょお", "hon": "ほん", "honya": "ほにゃ", "hon'ya": "ほんや",
}


@pytest.mark.parametrize("romaji, kana", sorted(COMMON.items()))
def test_romaji_reads_like_kana(romaji, kana):
    assert read_lyric(romaji) == read_lyric(kana)
    assert read_lyric(romaji.upper()) == read_lyric(kana)
    assert romaji_to_kana(romaji) == kana


def test_every_romaji_in_the_table_reads_like_its_kana():
    for romaji, kana in ROMAJI_TO_KANA.items():
        assert read_lyric(romaji) == read_lyric(kana), romaji


def test_full_width_and_macron_romaji():
    assert read_lyric("ＫＡ") == read_lyric("か")
    assert read_lyric("ｓｈｉ") == read_lyric("し")
    assert read_lyric("tōkyō") == read_lyric("ときょ")


def test_mixed_kana_and_romaji():
    assert read_lyric("kaら") == read_lyric("から")


def test_romaji_to_kana_rejects_garbage():
    with pytest.raises(ValueError):
        romaji_to_kana("kq")


# --------------------------------------------------------------------------- continuations, VCV

@pytest.mark.parametrize("lyric", [
    "+", "-", "ー", "~", "〜", "～", "+~", "+*", "+-", CONTINUATION, "ーー", "ｰ", "－",
    " + ", "a -", "- ー",
])
def test_continuations(lyric):
    assert is_continuation(lyric)
    assert read_lyric(lyric) == NotePhonemes((), continuation=True)


@pytest.mark.parametrize("lyric", ["か", "*", "", "a", "+a", "R"])
def test_not_continuations(lyric):
    assert not is_continuation(lyric)


@pytest.mark.parametrize("lyric, same_as", [
    ("a か", "か"), ("- か", "か"), ("* え", "え"), ("i きゃ", "きゃ"), ("N か", "か"),
    ("n か", "か"), ("ん か", "か"), ("o  ka", "か"), ("a i", "い"), ("u ン", "ん"),
])
def test_vcv_prefix_is_dropped(lyric, same_as):
    assert read_lyric(lyric) == read_lyric(same_as)


@pytest.mark.parametrize("lyric", ["R", "r", "a R", "pau", "sil"])
def test_rest_lyrics_are_problems(lyric):
    with pytest.raises(LyricsError) as err:
        read_lyric(lyric)
    assert "rest" in err.value.problems[0].reason


# --------------------------------------------------------------------------- the phonemizer

def test_phonemize_one_result_per_note():
    ph = JapanesePhonemizer()
    result = ph.phonemize(notes("か", "+", "きゃっ", "a ら", "ー"))
    assert result.warnings == ()
    assert [n.continuation for n in result.notes] == [False, True, False, False, True]
    assert result.notes[2].syllables == (Syllable(("ky", "a")), Syllable(("cl",)))
    assert ph.phonemize([]).notes == ()


def test_unknown_lyrics_are_all_listed_with_positions():
    ph = JapanesePhonemizer()
    with pytest.raises(LyricsError) as err:
        ph.phonemize(notes("か", "漢", "", "ら", "R", "kq"), where="song.ust, track 1")
    problems = err.value.problems
    assert [p.lyric for p in problems] == ["漢", "", "R", "kq"]
    assert problems[0].where == "song.ust, track 1, note 2 (C#4 at tick 480 (measure 2))"
    assert problems[1].where.startswith("song.ust, track 1, note 3 ")
    assert "measure 5" in problems[2].where
    assert "'q'" in problems[3].reason or "kq" in problems[3].reason
    text = str(err.value)
    assert "4 lyric(s)" in text and "漢" in text and "note 6" in text


def test_lenient_sings_the_nearest_vowel_and_warns():
    ph = JapanesePhonemizer()
    result = ph.phonemize(notes("か", "漢", "", "xyz", "ほge?", "かq", "R"), lenient=True,
                          where="t1")
    got = [[s.phonemes for s in n.syllables] for n in result.notes]
    assert got == [[("k", "a")], [("a",)], [("a",)], [("i",)], [("h", "o"), ("g", "e")],
                   [("k", "a")], [("a",)]]
    # "ほge?" reads fine: punctuation is ignored
    assert [w.split(":")[0] for w in result.warnings] == [
        f"t1, note {n} ({notes(*'x' * 7)[n - 1].describe()})" for n in (2, 3, 4, 6, 7)]
    assert result.warnings[0].startswith("t1, note 2 (")
    assert all("sung as" in w for w in result.warnings)


def test_read_lyric_error():
    with pytest.raises(LyricsError):
        read_lyric("漢字")
    with pytest.raises(LyricsError):
        read_lyric("")


@given(st.text(max_size=12))
@settings(max_examples=400, deadline=None)
def test_random_text_strict_raises_only_lyrics_error(text):
    try:
        result = JapanesePhonemizer().phonemize(notes(text))
    except LyricsError as err:
        assert len(err.problems) == 1
        return
    nph = result.notes[0]
    assert nph.continuation or nph.syllables
    for syl in nph.syllables:
        assert set(syl.phonemes) <= JA_PHONEMES
        assert is_nucleus(syl.nucleus)


@given(st.lists(st.text(max_size=10), max_size=5))
@settings(max_examples=300, deadline=None)
def test_random_text_lenient_never_raises(lyrics):
    result = JapanesePhonemizer().phonemize(notes(*lyrics), lenient=True)
    assert len(result.notes) == len(lyrics)
    for nph in result.notes:
        assert nph.continuation != bool(nph.syllables)
        for syl in nph.syllables:
            assert set(syl.phonemes) <= JA_PHONEMES
            assert vowel_of(syl) == syl.nucleus


@given(st.text(alphabet="aiueokgsztdnhbpmyrwfvjcxl'-ー", max_size=12))
@settings(max_examples=300, deadline=None)
def test_romaji_like_text_never_raises_other_errors(text):
    try:
        read_lyric(text)
    except LyricsError:
        pass


# --------------------------------------------------------------------------- helpers, registry

def test_helpers():
    assert vowel_of(Syllable(("ky", "a"))) == "a"
    assert vowel_of(Syllable(("N",))) == "N"
    assert vowel_of(Syllable(("cl",))) == "cl"
    with pytest.raises(ValueError):
        vowel_of(Syllable(("k",)))
    with pytest.raises(ValueError):
        vowel_of(Syllable(()))
    assert is_vowel("a") and not is_vowel("N") and not is_vowel("k")
    assert is_nucleus("N") and is_nucleus("cl") and is_nucleus("o") and not is_nucleus("ky")
    assert katakana_to_hiragana("カタカナ・ー") == "かたかな・ー"


def test_registry():
    reg = default_phonemizers()
    assert isinstance(reg.get("ja"), JapanesePhonemizer)
    assert reg.get("JA-jp") is reg.get("ja") and reg.get("ja_JP") is reg["ja"]
    assert "ja" in reg and "en" not in reg and 3 not in reg
    assert reg.languages() == ("ja",) and list(reg) == ["ja"] and len(reg) == 1
    with pytest.raises(UnknownNameError) as err:
        reg.get("en")
    assert "ja" in str(err.value) and err.value.known == ("ja",)
    assert default_phonemizers() is not reg          # no shared state
    with pytest.raises(ValueError):
        reg.register(JapanesePhonemizer())
    assert len(PhonemizerRegistry()) == 0


@pytest.mark.parametrize("lyric,expected", [
    ("かD4", [("k", "a")]), ("a かD4", [("k", "a")]), ("o れ_B3", [("r", "e")]),
    ("い弱", [("i",)]), ("あ_強", [("a",)]), ("か強C4", [("k", "a")]), ("kaC#4", [("k", "a")]),
])
def test_utau_pitch_and_colour_suffixes_are_not_sung(lyric, expected):
    assert [s.phonemes for s in read_lyric(lyric).syllables] == expected


def test_a_bare_pitch_name_is_not_taken_for_a_suffix():
    with pytest.raises(LyricsError):
        read_lyric("D4")
