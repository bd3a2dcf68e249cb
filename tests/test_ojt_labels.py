"""Open JTalk full-context labels for mei (utagoe/voices/hts/ojt_labels.py)."""
from __future__ import annotations

import importlib.util
import re

import pytest

from utagoe.errors import VoiceError
from utagoe.lyrics.ja import JA_PHONEME_SET, JA_PHONEMES, read_lyric
from utagoe.timing.align import TimedPhoneme
from utagoe.voices.hts.ojt_labels import (
    OJT_PHONEMES, ojt_symbol, track_labels, utterance_labels)

HAS_PYOPENJTALK = importlib.util.find_spec("pyopenjtalk") is not None
FIELDS = re.compile(r"^(?P<p>[^/]+)/A:(?P<A>[^/]+)/B:(?P<B>[^/]+)/C:(?P<C>[^/]+)/D:(?P<D>[^/]+)"
                    r"/E:(?P<E>[^/]+)/F:(?P<F>[^/]+)/G:(?P<G>[^/]+)/H:(?P<H>[^/]+)"
                    r"/I:(?P<I>[^/]+)/J:(?P<J>[^/]+)/K:(?P<K>[^/]+)$")


def phrase(lyrics: list[str], *, first_note: int = 0, t0_s: float = 0.0,
           rests: bool = True) -> list[TimedPhoneme]:
    """A phrase's phonemes the way the timing stage lays them out: a leading and a
    trailing rest, one note per lyric (``+`` holds the vowel), 0.1 s per phoneme."""
    out: list[TimedPhoneme] = []
    t = t0_s

    def add(sym: str, kind: str, note: int, syl: int = 0) -> None:
        nonlocal t
        out.append(TimedPhoneme(sym, t, t + 0.1, note, kind, syl))
        t += 0.1

    if rests:
        add("pau", "rest", -1)
    last = "a"
    for k, lyric in enumerate(lyrics):
        note = first_note + k
        if lyric == "+":
            add(last, "vowel", note)
            continue
        for j, syl in enumerate(read_lyric(lyric).syllables):
            for c in syl.consonants:
                add(c, "consonant", note, j)
            add(syl.nucleus, "vowel", note, j)
            if syl.nucleus in JA_PHONEME_SET.sung_nuclei:
                last = syl.nucleus
    if rests:
        add("pau", "rest", -1)
    return out


def fields(label: str) -> dict[str, str]:
    m = FIELDS.match(label)
    assert m is not None, label
    return m.groupdict()


def test_every_phoneme_of_the_japanese_phonemizer_is_a_mei_phoneme():
    for sym in JA_PHONEMES | {JA_PHONEME_SET.rest}:
        assert ojt_symbol(sym) in OJT_PHONEMES
    with pytest.raises(VoiceError):
        ojt_symbol("br")


def test_mei_inventory_is_what_its_questions_ask_about():
    from utagoe.voices.hts.mei import find_mei
    from utagoe.voices.hts.voicecache import load_htsvoice

    try:
        path = find_mei()
    except VoiceError as exc:
        pytest.skip(str(exc))
    voice = load_htsvoice(path, cache_dir=None)
    asked = {m.group(1) for q in voice.questions for pat in q.patterns
             if (m := re.fullmatch(r"\*-([A-Za-z]+)\+\*", pat))}
    assert asked == set(OJT_PHONEMES)


def test_one_label_per_phoneme_and_structure():
    phrases = [phrase(["さ", "く", "ら"]), phrase(["さ", "く", "ら"], first_note=3, t0_s=1.0)]
    labels = utterance_labels(phrases, accent_phrase_morae=4)
    assert len(labels) == sum(len(p) for p in phrases)
    f = [fields(lab) for lab in labels]
    assert [x["p"].split("-")[1].split("+")[0] for x in f] == [
        "sil", "s", "a", "k", "u", "r", "a", "pau", "pau", "s", "a", "k", "u", "r", "a", "sil"]
    # the two rests between the phrases are one pause: same label, and the
    # phonemes around it see one pause
    assert labels[7] == labels[8]
    assert f[6]["p"] == "u^r-a+pau=s" and f[9]["p"] == "a^pau-s+a=k"
    # a flat 3-mora accent phrase: A counts to the phrase's length
    assert [f[i]["A"] for i in (1, 2, 3, 4, 5, 6)] == ["-2+1+3", "-2+1+3", "-1+2+2", "-1+2+2",
                                                       "0+3+1", "0+3+1"]
    assert f[1]["I"] == "1-3@1+2&1-2|1+6" and f[9]["I"] == "1-3@2+1&2-1|4+3"
    assert f[1]["K"] == "2+2-6"


def test_sentence_per_phrase_makes_each_phrase_its_own_utterance():
    phrases = [phrase(["か", "き"]), phrase(["く"], first_note=2, t0_s=1.0)]
    labels = track_labels(phrases, sentence_per_phrase=True)
    f = [fields(lab) for lab in labels]
    assert f[0]["p"].startswith("xx^xx-sil") and f[5]["p"].split("-")[1].startswith("sil")
    assert f[6]["p"].startswith("xx^xx-sil")
    assert f[1]["K"] == "1+1-2" and f[7]["K"] == "1+1-1"


def test_long_breath_group_is_cut_into_even_accent_phrases():
    lyrics = list("あいうえおかきくけこ")          # ten morae, at most four per phrase: 4 3 3
    labels = utterance_labels([phrase(lyrics)], accent_phrase_morae=4)
    f = [fields(lab) for lab in labels if "-pau+" not in lab and "-sil+" not in lab]
    per_phrase = [x["F"].split("#")[0] for x in f]
    assert per_phrase[0] == "4_4" and per_phrase[-1] == "3_3"
    assert len({x["F"] for x in f}) == 3


def test_continuation_cl_and_n_are_morae():
    labels = utterance_labels([phrase(["か", "+", "っ", "ぱ", "ん"])], accent_phrase_morae=9)
    f = [fields(lab) for lab in labels]
    syms = [x["p"].split("-")[1].split("+")[0] for x in f]
    assert syms == ["sil", "k", "a", "a", "cl", "p", "a", "N", "sil"]
    assert f[1]["F"].startswith("5_5")          # ka a cl pa N: five morae
    assert [x["A"].split("+")[1] for x in f[1:-1]] == ["1", "1", "2", "3", "4", "4", "5"]


def test_labels_do_not_depend_on_times():
    a = utterance_labels([phrase(["さ", "く", "ら"])])
    b = utterance_labels([phrase(["さ", "く", "ら"], t0_s=12.5)])
    assert a == b


def _ojt_phonemes(label: str) -> str:
    return label.split("-")[1].split("+")[0]


@pytest.mark.reference
@pytest.mark.skipif(not HAS_PYOPENJTALK, reason="pyopenjtalk is not installed")
@pytest.mark.parametrize("text, lyrics, morae, accent", [
    ("さくら、さくら。", [["さ", "く", "ら"], ["さ", "く", "ら"]], 3, 3),
    ("かっぱ", [["か", "っ", "ぱ"]], 3, 3),
    ("ウィーン", [["うぃ", "+", "ん"]], 3, 1),
    ("あめ、あめ", [["あ", "め"], ["あ", "め"]], 2, 2),
])
def test_fields_match_open_jtalk(text, lyrics, morae, accent):
    """Phonemes, mora positions, accent phrases, breath groups and the utterance
    (p, A, E..K) as Open JTalk's frontend writes them for the same reading;
    the words' parts of speech (B, C, D) are ours (every word a noun), and the
    unused 4th fields of E, F and G are written ``xx`` as the voice's Open JTalk
    version wrote them."""
    import pyopenjtalk

    ref = pyopenjtalk.extract_fullcontext(text)
    phrases, note = [], 0
    for k, words in enumerate(lyrics):
        phrases.append(phrase(words, first_note=note, t0_s=2.0 * k))
        note += len(words)
    ours = utterance_labels(phrases, accent_phrase_morae=morae, accent_type=accent)
    # our phrases each carry a leading and trailing rest; Open JTalk writes one pause
    dedup = [lab for i, lab in enumerate(ours) if i == 0 or lab != ours[i - 1]]
    assert [_ojt_phonemes(x) for x in dedup] == [_ojt_phonemes(x) for x in ref]

    def masked(label: str) -> dict[str, str]:
        f = fields(label)
        for key in ("E", "F", "G"):
            f[key] = re.sub(r"^([^!#%]+[!#%][^_]+)_[^-@_]+", r"\1_?", f[key])
        del f["B"], f["C"], f["D"]
        return f

    for got, want in zip(dedup, ref):
        assert masked(got) == masked(want), (got, want)
