"""Placing phonemes in time: consonants before the note, vowels on it."""
from __future__ import annotations

from dataclasses import dataclass

from ..lyrics.base import PhonemeSet
from ..validation import check_fields


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


def velocity_factor(velocity_pct: float) -> float:
    """How much a consonant's length is multiplied by at a velocity (UTAU's and
    OpenUtau's consonant velocity, %): ``2 ** ((100 - velocity) / 100)``, so 100 %
    keeps the length, 200 % halves it and 0 % doubles it."""
    return float(2.0 ** ((100.0 - velocity_pct) / 100.0))


@dataclass(frozen=True, slots=True)
class TimingSettings:
    #: all consonant lengths are multiplied by this
    consonant_scale: float = 1.0
    #: a consonant takes at most this share of the sung time before it (previous vowel)
    max_share_of_previous: float = 0.25
    #: and at most this share of a rest before it
    max_share_of_rest: float = 0.8
    #: no phoneme is shorter than this
    min_phoneme_s: float = 0.015
    #: a note's first vowel starts this much before the note: a sung vowel takes
    #: a few tens of ms to build up, so its audible onset then lands on the beat
    vowel_lead_s: float = 0.03
    #: the lead takes at most this share of the segment before (vowel or rest),
    #: and none when that segment is shorter than ``lead_min_previous_s``
    max_lead_share: float = 0.3
    lead_min_previous_s: float = 0.25

    def __post_init__(self) -> None:
        check_fields(self, "TimingSettings", {
            "consonant_scale": (0.0, 100.0), "max_share_of_previous": (0.0, 1.0),
            "max_share_of_rest": (0.0, 1.0), "min_phoneme_s": (0.0, 1.0),
            "vowel_lead_s": (0.0, 1.0), "max_lead_share": (0.0, 1.0),
            "lead_min_previous_s": (0.0, 3600.0)})


def align(notes, note_phonemes, time_axis, *, phonemes: PhonemeSet,
          settings: TimingSettings = TimingSettings(), lead_in_s: float = 0.0,
          velocity_pct=None) -> list[TimedPhoneme]:
    """Place every phoneme of a track in time.

    A note's first vowel starts ``vowel_lead_s`` before the note (its audible
    onset, after the build-up, lands on the beat; later syllables start exactly
    on their share of the note); consonants sit just before, taking their time
    from the previous vowel or rest and shrinking when that is short. Several
    syllables on one note share its length equally. Rests become one ``pau``
    each; a rest is also put before the first note (from ``-lead_in_s``).
    Overlapping notes are cut where the next one starts. ``phonemes`` (the
    phonemizer's set) gives the consonants' lengths and which nuclei a
    continuation note can hold. ``velocity_pct`` (one per note, optional): each
    note's consonant velocity (:func:`velocity_factor` scales its consonants).
    """
    if len(notes) != len(note_phonemes):
        raise ValueError("one NotePhonemes per note is needed")
    # 1. sung spans per note, in seconds; overlapping notes are cut
    starts = [time_axis.tick_to_seconds(n.start_ticks) for n in notes]
    ends = [time_axis.tick_to_seconds(n.end_ticks) for n in notes]
    for i in range(len(notes) - 1):
        ends[i] = min(ends[i], starts[i + 1])

    # 2. segments: (kind, symbol, start, end, note_index, syllable_index), before consonants
    segs: list[list] = []  # mutable while we place consonants
    cursor = -lead_in_s
    last_vowel = "a"
    for i, (note, nph) in enumerate(zip(notes, note_phonemes)):
        s, e = starts[i], ends[i]
        if e - s <= 0:
            continue  # fully overlapped by the next note
        if s > cursor + 1e-9:
            segs.append(["rest", phonemes.rest, cursor, s, -1, 0, ()])
        if nph.continuation or not nph.syllables:
            segs.append(["vowel", last_vowel, s, e, i, 0, ()])
        else:
            k = len(nph.syllables)
            for j, syl in enumerate(nph.syllables):
                ss = s + (e - s) * j / k
                se = s + (e - s) * (j + 1) / k
                segs.append(["vowel", syl.nucleus, ss, se, i, j, syl.consonants])
                if syl.nucleus in phonemes.sung_nuclei:
                    last_vowel = syl.nucleus
        cursor = e
    if not segs:
        return []
    # a short release rest after the last note
    segs.append(["rest", phonemes.rest, cursor, cursor + 0.3, -1, 0, ()])

    # 2b. each note's first vowel leads its note a little (not continuations)
    for k in range(1, len(segs)):
        kind, _, s, _, ni, si, _ = segs[k]
        if kind != "vowel" or si != 0 or ni < 0:
            continue
        if note_phonemes[ni].continuation or not note_phonemes[ni].syllables:
            continue
        before = segs[k - 1]
        if before[3] - before[2] < settings.lead_min_previous_s:
            continue
        lead = min(settings.vowel_lead_s, settings.max_lead_share * (before[3] - before[2]))
        if lead > 0 and abs(before[3] - s) < 1e-9:
            before[3] -= lead
            segs[k][2] -= lead

    # 3. consonants: carve them out of the end of the segment before
    out: list[TimedPhoneme] = []
    for k, seg in enumerate(segs):
        kind, sym, s, e, ni, si, cons = seg
        if cons:
            prev = out[-1] if out else None
            scale_c = settings.consonant_scale
            if velocity_pct is not None and velocity_pct[ni] != 100.0:
                scale_c *= velocity_factor(velocity_pct[ni])
            wanted = [phonemes.consonant_s(c) * scale_c for c in cons]
            total = sum(wanted)
            if prev is None:
                room = max(0.0, s - (-lead_in_s))
            else:
                share = settings.max_share_of_rest if prev.kind == "rest" else settings.max_share_of_previous
                room = max(0.0, (prev.end_s - prev.start_s) * share)
            scale = min(1.0, room / total) if total > 0 else 1.0
            lengths = [max(w * scale, settings.min_phoneme_s) for w in wanted]
            c_start = s - sum(lengths)
            if prev is not None:
                # the segment before keeps at least its minimum (or half, if shorter)
                keep = min(settings.min_phoneme_s, 0.5 * (prev.end_s - prev.start_s))
                c_start = max(c_start, prev.start_s + keep)
            else:
                c_start = max(c_start, -lead_in_s)
            if c_start >= s - 1e-9:
                cons = ()  # no room at all: the syllable starts on its vowel
            elif prev is not None:
                out[-1] = TimedPhoneme(prev.symbol, prev.start_s, c_start, prev.note_index,
                                       prev.kind, prev.syllable_index)
            # spread the consonants over [c_start, s] in proportion to their lengths
            span = s - c_start
            t = c_start
            tot = sum(lengths)
            for c, ln in zip(cons, lengths):
                d = span * ln / tot if tot > 0 else 0.0
                out.append(TimedPhoneme(c, t, t + d, ni, "consonant", si))
                t += d
        out.append(TimedPhoneme(sym, s, e, ni, kind, si))
    return [p for p in out if p.end_s > p.start_s]
