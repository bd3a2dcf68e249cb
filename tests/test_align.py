import pytest

from utagoe.lyrics.base import NotePhonemes, Syllable
from utagoe.lyrics.ja import JA_PHONEME_SET as JA
from utagoe.model import Note, Tempo, TimeAxis
from utagoe.timing.align import TimingSettings, align

AX = TimeAxis.from_tempos([Tempo(0, 120.0)])  # 480 ticks = 0.5 s
NO_LEAD = TimingSettings(vowel_lead_s=0.0)


def syl(*p):
    return NotePhonemes((Syllable(tuple(p)),))


def test_vowels_land_on_the_beat_and_consonants_come_before():
    notes = [Note(480, 480, 60, "か"), Note(960, 480, 62, "さ")]
    timed = align(notes, [syl("k", "a"), syl("s", "a")], AX, phonemes=JA, settings=NO_LEAD)
    assert [p.symbol for p in timed] == ["pau", "k", "a", "s", "a", "pau"]
    vowels = [p for p in timed if p.kind == "vowel"]
    assert vowels[0].start_s == pytest.approx(0.5)
    assert vowels[1].start_s == pytest.approx(1.0)
    k, s = timed[1], timed[3]
    assert k.end_s == pytest.approx(0.5) and k.duration_s > 0.03
    assert s.end_s == pytest.approx(1.0) and s.duration_s > 0.05
    # contiguous and increasing
    for a, b in zip(timed, timed[1:]):
        assert a.end_s == pytest.approx(b.start_s)
        assert b.end_s > b.start_s


def test_consonants_shrink_on_short_notes():
    # 32nd notes at 120 bpm: 62.5 ms each
    notes = [Note(480 + i * 60, 60, 60, "さ") for i in range(4)]
    timed = align(notes, [syl("s", "a")] * 4, AX, phonemes=JA, settings=NO_LEAD)
    vowels = [p for p in timed if p.kind == "vowel"]
    for v in vowels[:-1]:
        assert v.duration_s >= 0.5 * 0.0625 - 1e-9  # the vowel keeps at least half
    cons = [p for p in timed if p.kind == "consonant"][1:]
    for c in cons:
        assert c.duration_s <= 0.5 * 0.0625 + 1e-9


def test_several_syllables_share_a_note_and_continuations_repeat_the_vowel():
    notes = [Note(0, 960, 60, "かん"), Note(960, 480, 64, "+")]
    nph = [NotePhonemes((Syllable(("k", "a")), Syllable(("N",)))), NotePhonemes((), continuation=True)]
    timed = align(notes, nph, AX, phonemes=JA, lead_in_s=0.3)
    syms = [p.symbol for p in timed]
    assert syms == ["pau", "k", "a", "N", "N", "pau"]
    n1 = timed[3]
    assert n1.start_s == pytest.approx(0.5) and n1.syllable_index == 1
    assert timed[4].note_index == 1 and timed[4].start_s == pytest.approx(1.0)


def test_rests_become_pau_and_overlaps_are_cut():
    notes = [Note(0, 600, 60, "あ"), Note(480, 480, 62, "い"), Note(1440, 480, 64, "う")]
    timed = align(notes, [syl("a"), syl("i"), syl("u")], AX, phonemes=JA, lead_in_s=0.2, settings=NO_LEAD)
    assert [p.symbol for p in timed] == ["pau", "a", "i", "pau", "u", "pau"]
    assert timed[1].end_s == pytest.approx(0.5)
    assert timed[3].start_s == pytest.approx(1.0) and timed[3].end_s == pytest.approx(1.5)


def test_consonant_scale_setting():
    notes = [Note(960, 480, 60, "さ")]
    short = align(notes, [syl("s", "a")], AX, phonemes=JA, settings=TimingSettings(consonant_scale=0.5))
    long = align(notes, [syl("s", "a")], AX, phonemes=JA)
    assert short[1].duration_s == pytest.approx(long[1].duration_s / 2)


def test_first_vowels_lead_their_note_but_later_syllables_and_continuations_do_not():
    notes = [Note(480, 480, 60, "かん"), Note(960, 480, 62, "+"), Note(1440, 480, 64, "さ")]
    nph = [NotePhonemes((Syllable(("k", "a")), Syllable(("N",)))), NotePhonemes((), continuation=True),
           syl("s", "a")]
    timed = align(notes, nph, AX, phonemes=JA, settings=TimingSettings(vowel_lead_s=0.04, max_share_of_previous=0.5))
    assert [p.symbol for p in timed] == ["pau", "k", "a", "N", "N", "s", "a", "pau"]
    assert timed[2].start_s == pytest.approx(0.46)       # a leads its note by 40 ms
    assert timed[3].start_s == pytest.approx(0.75)       # N on its half of the note
    assert timed[4].start_s == pytest.approx(1.0)        # the continuation is on the beat
    assert timed[6].start_s == pytest.approx(1.46)       # さ's vowel leads too
    assert timed[5].end_s == pytest.approx(1.46)         # with its consonant before it
    for a, b in zip(timed, timed[1:]):
        assert a.end_s == pytest.approx(b.start_s)


def test_no_lead_out_of_a_short_note():
    # a 16th note (125 ms at 120 bpm) then a quarter: the quarter's vowel is on the beat
    notes = [Note(480, 480, 60, "あ"), Note(960, 120, 62, "だ"), Note(1080, 480, 60, "せ")]
    timed = align(notes, [syl("a"), syl("d", "a"), syl("s", "e")], AX, phonemes=JA)
    vowels = [p for p in timed if p.kind == "vowel"]
    assert vowels[1].start_s == pytest.approx(1.0 - 0.03)    # after a long note: leads
    assert vowels[2].start_s == pytest.approx(1.125)         # after a short one: on the beat
    s = [p for p in timed if p.symbol == "s"][0]
    assert s.duration_s <= 0.25 * (vowels[1].end_s - vowels[1].start_s + s.duration_s) + 1e-9
