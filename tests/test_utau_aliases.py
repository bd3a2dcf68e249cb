"""Lyrics to oto.ini aliases: CV, VCV, CVVC links, endings, fallbacks and their warnings."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import real_file, real_folder

from utagoe.lyrics.ja import is_continuation, read_lyric
from utagoe.voices.utau.aliases import (
    AliasRequest,
    NoteAliases,
    resolve_phrase,
    syllable_forms,
)
from utagoe.voices.utau.voicebank import Voicebank, VoicebankError, load_voicebank


def bank_of(root: Path, aliases: list[str], *, files: dict[str, str] | None = None) -> Voicebank:
    """A bank (configuration only) whose oto.ini has one entry per alias; entry k has offset k."""
    root.mkdir(parents=True, exist_ok=True)
    lines = "".join(f"s.wav={a},{k},10,-100,20,5\n" for k, a in enumerate(aliases))
    (root / "oto.ini").write_bytes(("#Charset:UTF-8\n" + lines).encode())
    for name, text in (files or {}).items():
        (root / name).write_bytes(text.encode())
    return load_voicebank(root, check_files=False)


def req(lyric: str, pitch: int = 60, *, start: bool = False, syllables=None) -> AliasRequest:
    if is_continuation(lyric):
        return AliasRequest(lyric, pitch, (), continuation=True)
    if syllables is None:
        syllables = tuple(s.phonemes for s in read_lyric(lyric).syllables)
    return AliasRequest(lyric, pitch, syllables, phrase_start=start)


def sing(bank: Voicebank, lyrics: list[str], pitch: int = 60, **kw):
    res, warnings = resolve_phrase(bank, [req(x, pitch) for x in lyrics], **kw)
    return res, warnings


def used(res: list[NoteAliases | None]) -> list:
    return [None if r is None else ([e.alias for e in r.parts], r.tail.alias if r.tail else None)
            for r in res]


# --------------------------------------------------------------------------- spellings

def test_syllable_spellings():
    assert syllable_forms(("k", "a")) == ("か", ("ka",))
    assert syllable_forms(("sh", "i")) == ("し", ("shi", "si"))
    assert syllable_forms(("ch", "i")) == ("ち", ("chi", "ti"))
    assert syllable_forms(("ts", "u")) == ("つ", ("tsu", "tu"))
    assert syllable_forms(("f", "u")) == ("ふ", ("fu", "hu"))
    assert syllable_forms(("j", "i")) == ("じ", ("ji", "zi"))
    assert syllable_forms(("ky", "a")) == ("きゃ", ("kya",))
    assert syllable_forms(("o",)) == ("お", ("o",))          # not を
    assert syllable_forms(("w", "a")) == ("わ", ("wa",))
    assert syllable_forms(("N",)) == ("ん", ("n", "N"))
    assert syllable_forms(("cl",)) == ("っ", ("cl",))


# --------------------------------------------------------------------------- CV banks

def test_cv_bank_in_hiragana_katakana_and_romaji(tmp_path):
    hira = bank_of(tmp_path / "h", ["あ", "か", "し", "ん"])
    assert used(sing(hira, ["か", "あ", "し", "ん"])[0]) == [(["か"], None), (["あ"], None), (["し"], None),
                                                           (["ん"], None)]
    kata = bank_of(tmp_path / "k", ["ア", "カ"])
    assert used(sing(kata, ["か", "あ"])[0]) == [(["カ"], None), (["ア"], None)]
    roma = bank_of(tmp_path / "r", ["a", "ka", "si", "tu", "n"])
    res, warnings = sing(roma, ["か", "し", "つ", "ん", "あ"])
    assert used(res) == [(["ka"], None), (["si"], None), (["tu"], None), (["n"], None), (["a"], None)]
    assert warnings == []      # a CV bank sings CV: no fallback


def test_one_result_per_request_and_continuations(tmp_path):
    bank = bank_of(tmp_path, ["- あ", "a か", "a あ", "- か"])
    res, _ = sing(bank, ["あ", "+", "ー", "か"])
    assert len(res) == 4
    assert res[1] is None and res[2] is None
    assert used(res)[3] == (["a か"], None)        # the held vowel is still a


def test_vcv_bank(tmp_path):
    bank = bank_of(tmp_path, ["- か", "a か", "a さ", "a あ", "- あ", "a ん", "n か", "o ろ", "a ろ"])
    res, warnings = sing(bank, ["か", "さ", "あ", "ん", "か", "かろ"])
    assert used(res) == [(["- か"], None), (["a さ"], None), (["a あ"], None), (["a ん"], None),
                         (["n か"], None), (["a か", "a ろ"], None)]
    assert warnings == []
    # a note marked as a phrase's start begins afresh
    res, _ = resolve_phrase(bank, [req("か"), req("か", start=True)])
    assert used(res) == [(["- か"], None), (["- か"], None)]


def test_small_tsu_is_silent_and_the_next_syllable_starts_afresh(tmp_path):
    bank = bank_of(tmp_path, ["- か", "a か", "- た", "a た"])
    res, warnings = sing(bank, ["か", "っ", "た"])
    assert used(res) == [(["- か"], None), ([], None), (["- た"], None)]
    res, _ = sing(bank, ["かっ", "た"])
    assert used(res) == [(["- か"], None), (["- た"], None)]
    assert warnings == []


def test_the_lyric_as_written_comes_first(tmp_path):
    bank = bank_of(tmp_path, ["a か", "o か", "- お", "breath", "あC4", "- か"])
    res, warnings = resolve_phrase(bank, [req("お", start=True), req("a か"), req("あC4"),
                                          req("breath", syllables=(("a",),))])
    # the user typed "a か" after an お: as written; "あC4" and "breath" are aliases
    assert used(res) == [(["- お"], None), (["a か"], None), (["あC4"], None), (["breath"], None)]
    assert warnings == []


def test_a_plain_reading_does_not_skip_vcv(tmp_path):
    bank = bank_of(tmp_path, ["か", "a か", "- あ", "ぢ", "a じ"])
    res, _ = sing(bank, ["あ", "か", "ぢ"])
    # "か" is a reading, not an alias typed: VCV first; "ぢ" as written beats じ's CV forms
    assert used(res) == [(["- あ"], None), (["a か"], None), (["a じ"], None)]
    bank2 = bank_of(tmp_path / "2", ["か", "ぢ", "- あ"])
    res, _ = sing(bank2, ["あ", "ぢ"])
    assert used(res)[1] == (["ぢ"], None)


def test_prefix_map_decorates_and_plain_is_the_fallback(tmp_path):
    bank = bank_of(tmp_path, ["か", "かC4", "*かC4", "a か"],
                   files={"prefix.map": "C4\t*\tC4\nD4\t\tD4\nE4\t\t\n"})
    assert used(sing(bank, ["か"], pitch=60)[0]) == [(["*かC4"], None)]
    assert used(sing(bank, ["か"], pitch=62)[0]) == [(["か"], None)]    # no かD4: plain
    # decorated VCV is tried before plain VCV, and plain VCV before decorated CV
    bank2 = bank_of(tmp_path / "2", ["- あD4", "a か", "かD4"], files={"prefix.map": "D4\t\tD4\n"})
    assert used(sing(bank2, ["あ", "か"], pitch=62)[0]) == [(["- あD4"], None), (["a か"], None)]


def test_colour_subbanks(tmp_path):
    yml = ("subbanks:\n- {color: '', suffix: _N, tone_ranges: [C1-B7]}\n"
           "- {color: 強, suffix: _S, tone_ranges: [C1-B7]}\n")
    bank = bank_of(tmp_path, ["か_N", "か_S"], files={"character.yaml": yml})
    assert used(sing(bank, ["か"])[0]) == [(["か_N"], None)]
    assert used(sing(bank, ["か"], color="強")[0]) == [(["か_S"], None)]


# --------------------------------------------------------------------------- fallbacks

def test_vcv_bank_falling_back_warns_once_per_lyric(tmp_path):
    bank = bank_of(tmp_path, ["- あ", "a あ", "o あ", "a か", "- こ", "a お"])
    lyrics = ["あ", "こ", "あ", "こ", "あ", "こ"]
    res, warnings = sing(bank, lyrics, where="track 1")
    assert used(res)[1] == (["- こ"], None)
    assert len(warnings) == 1
    w = warnings[0]
    assert w.startswith("track 1: 'こ' (3 notes: note 2, note 4, note 6)")
    assert "'a こ'" in w and "sang '- こ' instead" in w
    assert res[1].tried[:2] == ("a こ", "a ko")


def test_a_bare_vowel_always_warns(tmp_path):
    bank = bank_of(tmp_path, ["あ", "か"])          # a CV bank without ぱ
    res, warnings = sing(bank, ["か", "ぱ"], where="song.ust")
    assert used(res) == [(["か"], None), (["あ"], None)]
    assert len(warnings) == 1
    assert warnings[0].startswith("song.ust: 'ぱ' (note 2): the voicebank has none of 'a ぱ'")
    assert "sang 'あ' instead" in warnings[0]


def test_another_vowels_vcv_beats_the_bare_vowel(tmp_path):
    bank = bank_of(tmp_path, ["- あ", "o ん", "a あ"])
    res, warnings = sing(bank, ["あ", "ん"])
    assert used(res)[1] == (["o ん"], None)
    assert len(warnings) == 1 and "sang 'o ん'" in warnings[0]


def test_nothing_at_all_raises_listing_what_was_tried(tmp_path):
    bank = bank_of(tmp_path, ["breath"])
    with pytest.raises(VoicebankError) as exc:
        resolve_phrase(bank, [req("か"), req("か"), req("ん")], where="track 2")
    text = str(exc.value)
    assert text.startswith("track 2: the voicebank")
    assert "3 note(s)" in text
    assert "'か' (2 notes: note 1, note 2): tried '- か'" in text
    assert "'ん' (note 3)" in text


def test_empty_phrase(tmp_path):
    bank = bank_of(tmp_path, ["あ"])
    assert resolve_phrase(bank, []) == ([], [])
    assert resolve_phrase(bank, [req("+")]) == ([None], [])


# --------------------------------------------------------------------------- tails

def test_cvvc_links_and_no_link_across_a_rest(tmp_path):
    bank = bank_of(tmp_path, ["- か", "か", "さ", "しゃ", "あ", "a k", "a s", "a sh", "a R"])
    res, warnings = resolve_phrase(bank, [req("か", start=True), req("さ"), req("しゃ"),
                                          req("か", start=True), req("あ")])
    assert used(res) == [(["- か"], "a s"), (["さ"], "a sh"), (["しゃ"], "a R"),
                         (["- か"], None), (["あ"], "a R")]
    assert warnings == []


def test_cvvc_link_falls_back_to_the_plain_consonant_and_follows_continuations(tmp_path):
    bank = bank_of(tmp_path, ["か", "きゃ", "a k", "o k"])
    res, _ = sing(bank, ["か", "+", "きゃ"])
    assert used(res) == [(["か"], "a k"), None, (["きゃ"], None)]


def test_no_cvvc_link_before_a_vcv_alias(tmp_path):
    bank = bank_of(tmp_path, ["- か", "a か", "a k", "か"])
    res, _ = sing(bank, ["か", "か"])
    assert used(res) == [(["- か"], None), (["a か"], None)]


@pytest.mark.parametrize("ending", ["a R", "a -", "a-", "aR", "-"])
def test_endings(tmp_path, ending):
    bank = bank_of(tmp_path, ["か", ending])
    res, warnings = sing(bank, ["か"])
    assert used(res) == [(["か"], ending)]
    assert warnings == []


def test_endings_are_decorated_and_optional(tmp_path):
    bank = bank_of(tmp_path, ["かC4", "a RC4", "a R"], files={"prefix.map": "C4\t\tC4\n"})
    assert used(sing(bank, ["か"])[0]) == [(["かC4"], "a RC4")]
    plain = bank_of(tmp_path / "p", ["か"])
    res, warnings = sing(plain, ["か"])
    assert res == [NoteAliases((plain.get("か"),), None, ("- か", "-か", "- ka"))]
    assert warnings == []
    stop = bank_of(tmp_path / "s", ["か", "a R"])
    assert used(sing(stop, ["かっ"])[0]) == [(["か"], None)]     # after っ: silence, no ending


# --------------------------------------------------------------------------- real voicebanks

def real_dir(shared: Path, rel: str) -> Path:
    return real_folder(shared, "voicebank", rel)


@pytest.mark.shared
def test_iona_cv(shared_data):
    bank = load_voicebank(real_dir(shared_data, "utsu-Iona_Beta-subset"))
    res, warnings = resolve_phrase(bank, [req("か", start=True), req("ka"), req("な"), req("ん"),
                                          req("- あ", start=True), req("あ"), req("さ")])
    assert used(res) == [(["ka"], None), (["ka"], None), (["na"], None), (["n"], None),
                         (["- a"], None), (["a"], None), (["sa"], None)]
    assert warnings == []
    res, _ = resolve_phrase(bank, [req("あ", start=True)])
    assert used(res) == [(["- a"], None)]


@pytest.mark.shared
def test_alys_vcv(shared_data):
    bank = load_voicebank(real_dir(shared_data, "ALYS-jpn-plus-subset"))
    res, warnings = sing(bank, ["あ", "か", "さ", "な", "た", "え"])
    assert used(res) == [(["- あC4"], None), (["a かC4"], None), (["a さC4"], None),
                         (["a なC4"], None), (["a たC4"], None), (["a えC4"], "e-C4")]
    assert warnings == []
    assert used(sing(bank, ["か"])[0]) == [(["- かC4"], None)]     # the subset has no "a-C4"
    # ALYS has no "a こ": a warning names what was missing and what was sung
    res, warnings = sing(bank, ["あ", "こ"], where="demo")
    assert res[1] is not None and res[1].parts
    assert len(warnings) == 1 and warnings[0].startswith("demo: 'こ' (note 2): the voicebank has none of 'a こC4'")


@pytest.mark.shared
def test_openutau_cvvc_config(shared_data, tmp_path):
    bank = load_voicebank(real_dir(shared_data, "OpenUtau-test-configs/ja_cvvc"), check_files=False)
    res, warnings = sing(bank, ["あ", "か", "さ", "しゃ", "ん", "た"])
    assert used(res) == [(["- あ_C4"], "a k_C4"), (["か_C4"], "a s_C4"), (["さ_C4"], "a sh_C4"),
                         (["しゃ_C4"], None), (["a ん_C4"], "n t_C4"), (["た_C4"], None)]
    assert warnings == []
    # its 弱 colour, in a bank of our own (a temporary copy of the config)
    oto = real_file(shared_data, "voicebank", "OpenUtau-test-configs/ja_cvvc_弱_C4_oto.ini")
    yml = real_file(shared_data, "voicebank", "OpenUtau-test-configs/ja_cvvc/character.yaml")
    (tmp_path / "弱" / "弱_C4").mkdir(parents=True)
    (tmp_path / "弱" / "弱_C4" / "oto.ini").write_bytes(oto)
    (tmp_path / "character.yaml").write_bytes(yml)
    weak = load_voicebank(tmp_path, check_files=False)
    res, _ = sing(weak, ["か", "か"], color="弱")
    assert used(res) == [(["か_弱C4"], "a k_弱C4"), (["か_弱C4"], None)]


@pytest.mark.shared
def test_openutau_vcv_config_colour_and_ending(shared_data):
    bank = load_voicebank(real_dir(shared_data, "OpenUtau-test-configs/ja_vcv"), check_files=False)
    res, warnings = sing(bank, ["あ", "か", "さ", "ん", "た"], pitch=62, color="Clear")
    assert used(res) == [(["- あCD4"], None), (["a かCD4"], None), (["a さCD4"], None),
                         (["a んCD4"], None), (["n たCD4"], "a RCD4")]
    assert warnings == []
    with pytest.raises(VoicebankError, match="has nothing to sing"):
        sing(bank, ["か"], pitch=62)       # the plain colour's samples are not in the config


@pytest.mark.shared
def test_openutau_cv_config(shared_data):
    bank = load_voicebank(real_dir(shared_data, "OpenUtau-test-configs/ja_cv"), check_files=False)
    res, warnings = sing(bank, ["か", "きゃ", "ん", "っ", "を"])
    # "を" as written is the first CV form of its reading (o)
    assert used(res) == [(["か"], None), (["きゃ"], None), (["ん"], None), ([], None), (["を"], None)]
    assert warnings == []


def test_last_resort_is_the_vowel_after_another_vowel(tmp_path):
    # a VCV bank that has え only as "a え": れ after o falls back to it, with a warning
    bank = bank_of(tmp_path / "v", ["a え", "- お"])
    res, warnings = resolve_phrase(bank, [req("お", start=True), req("れ")])
    assert used(res)[1][0] == ["a え"]
    assert warnings and "れ" in warnings[0]
