"""Full-context labels for the HTS singer ``nitech_jp_song070_f001``, in Sinsy's format.

The voice's decision trees were trained on labels written by Sinsy, so we write
the same strings Sinsy would write for the same score, one per phoneme of *our*
timing stage (without the leading ``start end`` times)::

    p1@p2^p3-p4+p5=p6_p7%p8^p9_p10~p11-p12!p13[p14$p15]p16
    /A:a1-a2-a3@a4~a5/B:b1_b2_b3@b4|b5/C:c1+c2+c3@c4&c5
    /D:d1!d2#d3$d4%d5|d6&d7;d8-d9
    /E:e1]e2^e3=e4~e5!e6@e7#e8+e9]e10$e11|e12[e13&e14]e15=e16^e17~e18#e19_e20;e21$e22&e23%e24[e25|e26]e27-e28^e29+...~e57+e58!e59^e60
    /F:f1#f2#f3-f4$f5$f6+f7%f8;f9/G:g1_g2/H:h1_h2/I:i1_i2/J:j1~j2@j3

``xx`` marks a field that does not apply. What the fields mean (as Sinsy fills them):

* **p** -- phonemes. p1 type of the current phoneme (``v`` vowel a i u e o N,
  ``b`` cl, ``c`` consonant, ``p`` pau, ``s`` sil); p2..p6 the phonemes two
  before .. two after (rests included); p7..p11 their score flags (always
  ``00``); p12/p13 position in the syllable from the front/back (cap 9);
  p14/p15 for consonants only, distance from the previous / to the next vowel
  inside the syllable (cap 9); p16 unused.
* **a/b/c** -- previous / current / next syllable (rests skipped for a and c):
  number of phonemes (cap 9), position in its note from the front/back (cap 9),
  language (``JPN``; ``xx`` for rests) and the language-dependent flag: ``1`` on
  the syllables of a note written ``ー`` (a melisma), else ``0``.
* **d/e/f** -- previous note / current note / next note (rests skipped for d and
  f; a rest is a "note" of its own for e): 1 pitch name (``C4``, ``Db4`` -- flats
  only), 2 pitch relative to the key's tonic (minor keys from the minor tonic),
  3 key as sharps mod 12 (3 flats -> 9), 4 time signature ``4/4``, 5 tempo
  (rounded, cap 199), 6 syllables in the note (cap 3), 7 length in 10 ms (cap
  499), 8 length in 96th notes (cap 199).  e10..e17: position of the note in its
  measure -- note count from the front/back (cap 49), seconds*10 from the
  front/back (cap 49), 96ths from the front/back (cap 96), percent of the
  measure's time from the front/back.  e18..e25: the same within the phrase
  (caps 49, 199, 499).  e26/e27 slur from the previous / to the next note
  (a score has no slurs; we slur every continuation note to the note before
  it, as MusicXML writes melismas); e28 dynamics (always ``n``); e29..e56
  accents, staccatos, crescendos and diminuendos (not in our score: ``xx``);
  e57/e58 pitch difference in semitones from the previous / to the next note
  (``p2``, ``m3``, ``p0``; rests skipped); e59/e60 unused.
* **g/h/i** -- previous / current / next phrase (a phrase is the notes between
  rests): number of syllables, number of notes.  Rests have no phrase of their
  own; they see the phrases on either side.
* **j** -- the whole song: syllables per measure, notes (rests included) per
  measure (both integer division, cap 99), number of phrases.

How we get Sinsy's numbers
--------------------------
Sinsy counts musical time its own way, so we rebuild the score as Sinsy would
see it had it been read from MusicXML, then do its arithmetic:

* Durations are in Sinsy's 960 divisions per quarter.  Every note and rest is
  cut at barlines and tempo changes into "pieces" (tied notes in MusicXML);
  seconds are summed piece by piece in Sinsy's order with the same float
  operations, because the fields truncate (``int(seconds*10)``) and Sinsy's
  rounding noise shows (e.g. 0.6 s + 0.6 s + 0.6 s -> 17, not 18).
* A measure's "position" of a note is what Sinsy accumulates: the seconds of
  all earlier notes that *start* in the measure, whole, plus whatever
  overflowed from the previous measure.
* Sinsy always begins and ends with a rest: a score whose first note starts at
  tick 0 gets one measure of rest in front (and so one measure more), and the
  song ends with a rest filling the last measure (a whole measure if the last
  note ends on a barline).  These rests exist for the counts even when our
  timing stage gives them no ``pau``.
* Sinsy splits long rests at barlines (a rest covering a whole measure and the
  next one), making several rest "notes" (``pau``, then ``sil`` between rests).
  Our timing stage gives one ``pau`` per gap; it takes the context of the piece
  next to the following note (or, at the end of the song, the first piece),
  and the other pieces still appear as its neighbours, as they did in training.

Mapping our phonemes onto that score
------------------------------------
* Each ``pau`` (``note_index`` -1) is the rest in the gap where it stands.  A gap
  between notes with no ``pau`` in our sequence is sung through: the earlier
  note is lengthened to the next one.  A ``pau`` between notes that touch is a
  rest of length 0 (Sinsy cannot write that; it still ends the phrase).
* A sung note's syllables are our syllables, regrouped the way Sinsy groups
  ``っ`` within a note: ``かっ`` is one syllable ``k a cl``; ``っか`` is one syllable
  ``cl k a``.
* A continuation note (a melisma: ``+``, ``-``, ``ー`` ..., whatever
  the phonemizer's ``is_continuation`` accepts) is labelled as
  Sinsy labels a note written ``ー``: one syllable made of the vowel our timing
  stage gives it, with the language flag 1.  (A note with *no* lyric is, to
  Sinsy, an unknown phoneme ``xx`` -- plainly a bug, so we do not copy it; a
  tie merges same-pitch notes into one.)

Where we are not Sinsy
----------------------
* Phonemes: Sinsy drops a repeated vowel inside one note (``かあ`` sings
  ``k a``), sings ``っ`` alone on a note as the previous vowel plus ``cl``, and
  moves the ``cl`` of ``かっ`` onto a following ``ー`` note; we label the phonemes
  our timing stage gives.
* A continuation straight after a rest: Sinsy cannot read ``ー`` there (it
  writes the unknown phoneme ``xx``); we label the vowel we are given, flag 1.
* A MusicXML file may write one rest (or one tied note) as several elements
  inside a measure; Sinsy sums their seconds element by element, a Project
  cannot tell, and in rare cases a truncated seconds field (e5, e7, e12, e13,
  e16, e17) is one off.  Rests after the last note's measure are not in a
  Project either (they change j1/j2 only).
* Sinsy assumes 100 bpm when a MusicXML file gives no tempo.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Sequence

from ..lyrics.base import PhonemeSet, Phonemizer
from ..model.score import KeySignature, Note, Project
from ..timing.align import TimedPhoneme

__all__ = ["full_context_labels", "phoneme_type"]

_DIV = 960  # Sinsy's divisions per quarter note
_SCALE = _DIV // 480  # ours are 480 per quarter
_XX = "xx"
_STEP_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")


def _distance_from_vowel(symbols, phonemes: PhonemeSet) -> int:
    """Walking ``symbols`` in order: how many steps past the last vowel the walk
    ends (1 right after it), or 0 if it met no vowel."""
    c = 0
    for sym in symbols:
        if phoneme_type(sym, phonemes) == "v":
            c = 1
        elif c > 0:
            c += 1
    return c


def phoneme_type(symbol: str, phonemes: PhonemeSet) -> str:
    """Sinsy's phoneme type letter: v(owel: a sounding nucleus), b(reak: a silent
    nucleus, cl), p(ause), s(ilence), c(onsonant)."""
    if symbol in phonemes.sung_nuclei:
        return "v"
    if symbol in phonemes.silent_nuclei:
        return "b"
    if symbol == phonemes.rest:
        return "p"
    if symbol == "sil":
        return "s"
    return "c"


# ---------------------------------------------------------------------------
# Sinsy's position arithmetic: (count, seconds, points*960, divisions)


@dataclass(slots=True)
class _Pos:
    count: int = 0
    time: float = 0.0
    point: int = 0  # 96ths of a whole note, times 960 (Sinsy divides when it reads)
    dur: int = 0

    def copy(self) -> "_Pos":
        return _Pos(self.count, self.time, self.point, self.dur)

    def add_piece(self, dur: int, bpm: float) -> None:
        self.time += _piece_seconds(dur, bpm)
        self.point += dur * 24
        self.dur += dur


def _piece_seconds(dur: int, bpm: float) -> float:
    # Sinsy: size_t(dur * 60) / (double(960) * tempo)
    return (dur * 60) / (_DIV * bpm)


@dataclass(slots=True)
class _Piece:
    start: int  # Sinsy divisions on the virtual timeline
    dur: int
    bpm: float


@dataclass(slots=True)
class _Unit:
    """One of Sinsy's notes: a sung note or a rest, made of pieces."""

    rest: bool
    start: int
    end: int
    key: KeySignature
    beat: str
    pitch: int | None = None
    syllables: list[list[str]] = field(default_factory=list)
    macron: bool = False
    pieces: list[_Piece] = field(default_factory=list)
    measure: int = 0
    phrase: int | None = None
    # filled in by the arithmetic
    length: _Pos = field(default_factory=_Pos)
    measure_idx: _Pos = field(default_factory=_Pos)
    phrase_idx: _Pos = field(default_factory=_Pos)
    tempo: int = 0


@dataclass(slots=True)
class _Measure:
    start: int
    length: int
    pieces: list[_Piece] = field(default_factory=list)
    max_pos: _Pos = field(default_factory=_Pos)


# ---------------------------------------------------------------------------
# the virtual score


class _Timeline:
    """Measures and tempos on Sinsy's timeline: 960 per quarter, shifted by
    ``offset`` when Sinsy put a measure of rest before a note at tick 0."""

    def __init__(self, project: Project, offset_measure: bool):
        self.project = project
        ts0 = project.time_signature_at(0)
        self.offset = _measure_len(ts0) if offset_measure else 0
        axis = project.time_axis()
        self._tempo_ticks = [t.tick * _SCALE + self.offset for t in axis.tempos]
        self._tempo_bpm = [float(t.bpm) for t in axis.tempos]
        self._tempo_ticks[0] = 0  # the first tempo also covers the inserted measure
        self.measures: list[_Measure] = []
        self._starts: list[int] = []
        if self.offset:
            self._push(0, self.offset)

    def v(self, tick: int) -> int:
        return tick * _SCALE + self.offset

    def tick(self, v: int) -> int:
        return max(0, (v - self.offset) // _SCALE)

    def _push(self, start: int, length: int) -> None:
        self.measures.append(_Measure(start, length))
        self._starts.append(start)

    def extend_to(self, v: int) -> None:
        """Make sure measures cover the timeline up to (and including) ``v``."""
        while not self.measures or self.measures[-1].start + self.measures[-1].length <= v:
            start = self.measures[-1].start + self.measures[-1].length if self.measures else 0
            ts = self.project.time_signature_at(self.tick(start))
            self._push(start, _measure_len(ts))

    def measure_at(self, v: int) -> int:
        self.extend_to(v)
        return bisect.bisect_right(self._starts, v) - 1

    def bpm_at(self, v: int) -> float:
        return self._tempo_bpm[bisect.bisect_right(self._tempo_ticks, v) - 1]

    def cut_points(self, a: int, b: int) -> list[int]:
        """Barlines and tempo changes strictly inside (a, b), in order."""
        self.extend_to(b)
        cuts = set()
        i = bisect.bisect_right(self._starts, a)
        while i < len(self._starts) and self._starts[i] < b:
            cuts.add(self._starts[i])
            i += 1
        j = bisect.bisect_right(self._tempo_ticks, a)
        while j < len(self._tempo_ticks) and self._tempo_ticks[j] < b:
            cuts.add(self._tempo_ticks[j])
            j += 1
        return sorted(cuts)

    def pieces(self, a: int, b: int) -> list[_Piece]:
        if b <= a:
            return [_Piece(a, 0, self.bpm_at(a))]
        edges = [a, *self.cut_points(a, b), b]
        return [_Piece(s, e - s, self.bpm_at(s)) for s, e in zip(edges, edges[1:])]


def _measure_len(ts) -> int:
    return _DIV * 4 * ts.numerator // ts.denominator


def _regroup_syllables(syllables: list[list[str]], silent: frozenset[str]) -> list[list[str]]:
    """Group a silent nucleus (``cl``) the way Sinsy does inside one note."""
    out: list[list[str]] = []
    waiting = False  # a leading cl waits for the next syllable
    for syl in syllables:
        if len(syl) == 1 and syl[0] in silent:
            if not out:
                out.append(list(syl))
                waiting = True
            else:
                out[-1].append(syl[0])
            continue
        if waiting:
            out[-1].extend(syl)
            waiting = False
        else:
            out.append(list(syl))
    return out


def _build_units(timed: Sequence[TimedPhoneme], notes: Sequence[Note], project: Project,
                 phonemizer: Phonemizer):
    """Sinsy's notes and rests, and for each of our phonemes (unit, syllable, phoneme)."""
    # our sequence: rests and note groups
    groups: list[tuple[int, list[int]]] = []  # (note_index or -1, indices into timed)
    for k, tp in enumerate(timed):
        if tp.note_index < 0:
            groups.append((-1, [k]))
        elif groups and groups[-1][0] == tp.note_index:
            groups[-1][1].append(k)
        else:
            groups.append((tp.note_index, [k]))
    sung = [g for g in groups if g[0] >= 0]
    last_seen = -1
    for idx, _ in sung:
        if idx <= last_seen:
            raise ValueError(f"phonemes of note {idx} are not in note order (after note {last_seen})")
        if not 0 <= idx < len(notes):
            raise ValueError(f"phoneme note_index {idx} outside the {len(notes)} notes")
        if last_seen >= 0 and notes[idx].start_ticks < notes[last_seen].start_ticks:
            raise ValueError(f"notes are not in time order: {notes[idx].describe()}")
        last_seen = idx

    first_tick = notes[sung[0][0]].start_ticks if sung else 0
    tl = _Timeline(project, offset_measure=bool(sung) and first_tick == 0)

    def unit(rest: bool, a: int, b: int, **kw) -> _Unit:
        t = tl.tick(a)
        ts = project.time_signature_at(t)
        return _Unit(rest, a, b, project.key_signature_at(t), f"{ts.numerator}/{ts.denominator}",
                     pieces=tl.pieces(a, b), **kw)

    units: list[_Unit] = []
    where: list[tuple[int, int, int] | None] = [None] * len(timed)
    rest_slots: list[tuple[list[int], int]] = []  # (timed indices, unit index) placeholders

    # leading rest (always there in Sinsy)
    lead_end = tl.v(first_tick) if sung else tl.offset or _measure_len(project.time_signature_at(0))
    units.append(unit(True, 0, lead_end))
    pending_rest: list[int] = []  # our pau indices waiting for their gap
    gi = 0
    while gi < len(groups) and groups[gi][0] < 0:
        pending_rest.extend(groups[gi][1])
        gi += 1
    rest_slots.append((pending_rest, 0))

    sung_pos = 0
    while gi < len(groups):
        idx, ks = groups[gi]
        gi += 1
        note = notes[idx]
        # what follows: rests, then the next sung note
        paus: list[int] = []
        while gi < len(groups) and groups[gi][0] < 0:
            paus.extend(groups[gi][1])
            gi += 1
        sung_pos += 1
        nxt = notes[sung[sung_pos][0]] if sung_pos < len(sung) else None
        start = tl.v(note.start_ticks)
        if nxt is None:
            end = max(tl.v(note.end_ticks), start)
        elif paus:
            end = max(min(tl.v(note.end_ticks), tl.v(nxt.start_ticks)), start)
        else:
            end = max(tl.v(nxt.start_ticks), start)

        # syllables, as our timing stage gives them
        syls: list[list[str]] = []
        prev_si = None
        for k in ks:
            tp = timed[k]
            if prev_si is None or tp.syllable_index != prev_si:
                syls.append([])
                prev_si = tp.syllable_index
            syls[-1].append(tp.symbol)
        macron = phonemizer.is_continuation(note.lyric)
        grouped = syls if macron else _regroup_syllables(syls, phonemizer.phonemes.silent_nuclei)
        u = unit(False, start, end, pitch=note.pitch, syllables=grouped, macron=macron)
        ui = len(units)
        units.append(u)
        flat = [(si, pi) for si, s in enumerate(grouped) for pi in range(len(s))]
        for k, (si, pi) in zip(ks, flat):
            where[k] = (ui, si, pi)

        if nxt is not None and paus:
            units.append(unit(True, end, max(tl.v(nxt.start_ticks), end)))
            rest_slots.append((paus, len(units) - 1))
        elif nxt is None:
            # trailing rest: to the end of the measure, or a whole measure after a barline
            m = tl.measures[tl.measure_at(end)]
            tail = end + m.length if end == m.start else m.start + m.length
            units.append(unit(True, end, tail))
            rest_slots.append((paus, len(units) - 1))

    # Sinsy splits long rests at barlines
    units, first_piece_of, split_at = _split_rests(units, tl)

    for k, w in enumerate(where):
        if w is not None:
            where[k] = (first_piece_of[w[0]], w[1], w[2])
    # our pau: the piece next to the following note, or the first piece at the end
    n_units = len(units)
    for ks, orig in rest_slots:
        lo, hi = first_piece_of[orig], first_piece_of[orig + 1] if orig + 1 < len(first_piece_of) else n_units
        target = hi - 1 if hi < n_units else lo
        for k in ks:
            where[k] = (target, 0, 0)
    return units, where, tl, split_at


def _split_rests(units: list[_Unit], tl: _Timeline):
    """Sinsy's ``separateWholeNoteRests``: returns the new units, for each old unit
    the index of its first piece in the new list, and the measures at whose end
    a rest was split (Sinsy carries no overflow into the next measure there)."""
    out: list[_Unit] = []
    first_of: list[int] = []
    split_at: set[int] = set()
    for u in units:
        first_of.append(len(out))
        u.measure = tl.measure_at(u.start)
        if not u.rest or u.end <= u.start:
            out.append(u)
            continue
        cur_start, cur_m = u.start, u.measure
        splits: list[tuple[int, int]] = []
        m = cur_m
        ms = tl.measures
        while True:
            tl.extend_to(ms[m].start + ms[m].length)
            if m + 1 >= len(ms) or ms[m + 1].start >= u.end:
                break
            if cur_m == m:
                off = cur_start - ms[m].start
                d = ms[m].length - off
                rest_len = u.end - cur_start
                nxt = ms[m + 1].length
                if off == 0:
                    if nxt + d <= rest_len:
                        cur_start, cur_m = ms[m + 1].start, m + 1
                        splits.append((cur_start, cur_m))
                        split_at.add(m)
                elif nxt + d < rest_len:
                    tl.extend_to(ms[m + 1].start + nxt)
                    if m + 2 < len(ms) and nxt + ms[m + 2].length + d <= rest_len:
                        cur_start, cur_m = ms[m + 2].start, m + 2
                        splits.append((cur_start, cur_m))
                        split_at.add(m)
            m += 1
        if not splits:
            out.append(u)
            continue
        bounds = [u.start] + [s for s, _ in splits] + [u.end]
        measures = [u.measure] + [mm for _, mm in splits]
        for a, b, mm in zip(bounds, bounds[1:], measures):
            out.append(_Unit(True, a, b, u.key, u.beat,
                             pieces=[p for p in u.pieces if a <= p.start < b], measure=mm))
    return out, first_of, split_at


# ---------------------------------------------------------------------------
# Sinsy's arithmetic


def _compute_positions(units: list[_Unit], tl: _Timeline, n_measures: int,
                       split_at: set[int]) -> list[_Pos]:
    """Fill lengths, tempos, measure and phrase positions; return each phrase's extent."""
    for u in units:
        length = _Pos()
        inv = 0.0
        for p in u.pieces:
            length.add_piece(p.dur, p.bpm)
            inv += p.dur / p.bpm
        length.count = 1
        u.length = length
        total = sum(p.dur for p in u.pieces)
        u.tempo = int(total / inv + 0.5) if inv > 0 else int(u.pieces[0].bpm + 0.5)

    measures = tl.measures[:n_measures]
    for m in measures:
        m.pieces = []
    for u in units:
        for p in u.pieces:
            if p.dur:
                measures[tl.measure_at(p.start)].pieces.append(p)
    for m in measures:
        mp = _Pos()
        for p in m.pieces:
            mp.add_piece(p.dur, p.bpm)
        m.max_pos = mp

    by_measure: dict[int, list[_Unit]] = {}
    for u in units:
        by_measure.setdefault(u.measure, []).append(u)
    carry: _Pos | None = None
    for mi, m in enumerate(measures):
        pos = _Pos()
        if carry is not None:
            pos.time += carry.time
            pos.point += carry.point
            pos.dur += carry.dur
        for u in by_measure.get(mi, ()):
            u.measure_idx = pos.copy()
            pos.count += 1
            for p in u.pieces:
                pos.add_piece(p.dur, p.bpm)
        m.max_pos.count = pos.count
        carry = None
        if mi not in split_at and m.max_pos.time < pos.time:
            carry = _Pos(0, pos.time - m.max_pos.time, pos.point - m.max_pos.point,
                         pos.dur - m.max_pos.dur)

    # phrases: runs of notes between rests
    phrase = -1
    phrase_pos: list[_Pos] = []
    prev_rest = True
    for u in units:
        if u.rest:
            prev_rest = True
            continue
        if prev_rest:
            phrase += 1
            phrase_pos.append(_Pos())
            prev_rest = False
        u.phrase = phrase
        pp = phrase_pos[phrase]
        u.phrase_idx = pp.copy()
        pp.count += 1
        pp.time += u.length.time
        pp.point += u.length.point
        pp.dur += u.length.dur
    return phrase_pos


# ---------------------------------------------------------------------------
# formatting


def _pitch_name(midi: int) -> str:
    return f"{_STEP_NAMES[midi % 12]}{midi // 12 - 1}"


def _relative_pitch(midi: int, key: KeySignature) -> int:
    step = midi % 12 + (3 if key.mode == "minor" else 0)
    return (step - 7 * key.fifths) % 12


def _signed(diff: int) -> str:
    return f"m{-diff}" if diff < 0 else f"p{diff}"


def _note_fields(u: _Unit) -> list[str]:
    """d1..d8 / f1..f8 (and e1..e8) of a unit."""
    if u.rest or u.pitch is None:
        pitch, rel = _XX, _XX
    else:
        pitch, rel = _pitch_name(u.pitch), str(_relative_pitch(u.pitch, u.key))
    return [pitch, rel, str(u.key.fifths % 12), u.beat, str(min(u.tempo, 199)),
            str(min(len(u.syllables), 3)), str(min(int(u.length.time * 100), 499)),
            str(min(u.length.point // _DIV, 199))]


def _position_fields(idx: _Pos, whole: _Pos, caps: tuple[int, int, int]) -> list[str]:
    cap_n, cap_t, cap_p = caps
    rest_t = whole.time - idx.time
    pct = int(idx.time * 100 / whole.time) if whole.time > 0 else 0
    return [str(min(idx.count + 1, cap_n)), str(min(whole.count - idx.count, cap_n)),
            str(min(int(idx.time * 10), cap_t)), str(min(max(int(rest_t * 10), 0), cap_t)),
            str(min(idx.point // _DIV, cap_p)), str(min((whole.point - idx.point) // _DIV, cap_p)),
            str(pct), str(100 - pct)]


_E_SEPS = ("/E:", "]", "^", "=", "~", "!", "@", "#", "+", "]",
           "$", "|", "[", "&", "]", "=", "^", "~", "#", "_",
           ";", "$", "&", "%", "[", "|", "]", "-", "^", "+",
           "~", "=", "@", "$", "!", "%", "#", "|", "|", "-",
           "&", "&", "+", "[", ";", "]", ";", "~", "~", "^",
           "^", "@", "[", "#", "=", "!", "~", "+", "!", "^")


def _join(seps: Sequence[str], values: Sequence[str]) -> str:
    return "".join(s + v for s, v in zip(seps, values))


def full_context_labels(timed: Sequence[TimedPhoneme], notes: Sequence[Note],
                        project: Project, *, phonemizer: Phonemizer) -> list[str]:
    """One Sinsy full-context label per phoneme of ``timed`` (no times in front).

    ``timed`` is the whole track's phoneme sequence from our timing stage, in time
    order; ``notes`` the track's notes it indexes into; ``project`` supplies tempo,
    time and key signatures; ``phonemizer`` the phoneme set (phoneme types) and
    what a continuation lyric is. Deterministic, and linear in the number of phonemes.
    """
    if not timed:
        return []
    units, where, tl, split_at = _build_units(timed, notes, project, phonemizer)
    phonemes = phonemizer.phonemes
    n_measures = tl.measure_at(max(units[-1].end - 1, 0)) + 1

    # rest names: pau next to a note, sil between rests (and at the ends)
    for i, u in enumerate(units):
        if u.rest:
            name = "sil"
            if (i > 0 and not units[i - 1].rest) or (i + 1 < len(units) and not units[i + 1].rest):
                name = phonemizer.phonemes.rest
            u.syllables = [[name]]

    phrase_pos = _compute_positions(units, tl, n_measures, split_at)
    n_phrases = len(phrase_pos)
    phrase_syls = [0] * n_phrases
    for u in units:
        if u.phrase is not None:
            phrase_syls[u.phrase] += len(u.syllables)

    # song-level fields
    total_syls = sum(len(u.syllables) for u in units)
    j_str = _join(("/J:", "~", "@"), (str(min(total_syls // n_measures, 99)),
                                      str(min(len(units) // n_measures, 99)), str(n_phrases)))

    # neighbouring notes (rests skipped), previous/next phrase (Sinsy's sticky rule)
    n = len(units)
    prev_note: list[int | None] = [None] * n
    next_note: list[int | None] = [None] * n
    last = None
    for i in range(n):
        prev_note[i] = last
        if not units[i].rest:
            last = i
    last = None
    for i in range(n - 1, -1, -1):
        next_note[i] = last
        if not units[i].rest:
            last = i
    prev_phrase: list[int | None] = [None] * n
    next_phrase: list[int | None] = [None] * n
    cur = None
    for i in range(1, n):
        p_old, p = units[i - 1].phrase, units[i].phrase
        if p_old is not None and p_old != p:
            cur = p_old
        prev_phrase[i] = cur
    cur = None
    for i in range(n - 2, -1, -1):
        p_old, p = units[i + 1].phrase, units[i].phrase
        if p_old is not None and p_old != p:
            cur = p_old
        next_phrase[i] = cur

    def phrase_str(tag: str, ph: int | None) -> str:
        if ph is None:
            return f"/{tag}:xx_xx"
        return f"/{tag}:{phrase_syls[ph]}_{phrase_pos[ph].count}"

    # per-unit strings, computed lazily (only units our phonemes land on, and their neighbours)
    note_cache: dict[int, list[str]] = {}

    def nf(i: int) -> list[str]:
        f = note_cache.get(i)
        if f is None:
            f = note_cache[i] = _note_fields(units[i])
        return f

    unit_cache: dict[int, str] = {}

    def unit_str(i: int) -> str:
        """/D: .. /I: of unit i."""
        s = unit_cache.get(i)
        if s is not None:
            return s
        u = units[i]
        pn, nn = prev_note[i], next_note[i]
        d = nf(pn) + [_XX] if pn is not None else [_XX] * 9
        f = nf(nn) + [_XX] if nn is not None else [_XX] * 9
        e = nf(i) + [_XX]
        m = tl.measures[u.measure]
        e += _position_fields(u.measure_idx, m.max_pos, (49, 49, 96))
        if u.phrase is not None:
            e += _position_fields(u.phrase_idx, phrase_pos[u.phrase], (49, 199, 499))
        else:
            e += [_XX] * 8
        # slurs: a melisma is slurred from the note before it (Sinsy reads slur marks)
        slur_from = u.macron and i > 0 and not units[i - 1].rest
        slur_to = not u.rest and i + 1 < n and units[i + 1].macron
        e += ["1" if slur_from else "0", "1" if slur_to else "0", "n"] + [_XX] * 28
        if u.rest:
            e += [_XX, _XX]
        else:
            e += [_signed(units[pn].pitch - u.pitch) if pn is not None else _XX,
                  _signed(units[nn].pitch - u.pitch) if nn is not None else _XX]
        e += [_XX, _XX]
        s = (_join(("/D:", "!", "#", "$", "%", "|", "&", ";", "-"), d) + _join(_E_SEPS, e)
             + _join(("/F:", "#", "#", "-", "$", "$", "+", "%", ";"), f)
             + phrase_str("G", prev_phrase[i]) + phrase_str("H", u.phrase)
             + phrase_str("I", next_phrase[i]))
        unit_cache[i] = s
        return s

    def syl_fields(i: int, si: int) -> list[str]:
        u = units[i]
        syl = u.syllables[si]
        n_syl = len(u.syllables)
        lang, info = (_XX, _XX) if u.rest else ("JPN", "1" if u.macron else "0")
        return [str(min(len(syl), 9)), str(min(si + 1, 9)), str(min(n_syl - si, 9)), lang, info]

    def prev_syllable(i: int, si: int) -> tuple[int, int] | None:
        if si > 0:
            return i, si - 1
        pn = prev_note[i]
        return (pn, len(units[pn].syllables) - 1) if pn is not None else None

    def next_syllable(i: int, si: int) -> tuple[int, int] | None:
        if si + 1 < len(units[i].syllables):
            return i, si + 1
        nn = next_note[i]
        return (nn, 0) if nn is not None else None

    # the flat phoneme sequence (all units, rests included), for p2..p6
    flat_names: list[str] = []
    flat_start: list[int] = []
    for u in units:
        flat_start.append(len(flat_names))
        for syl in u.syllables:
            flat_names.extend(syl)
    n_flat = len(flat_names)

    out: list[str] = []
    for k, tp in enumerate(timed):
        i, si, pi = where[k]
        u = units[i]
        syl = u.syllables[si]
        fi = flat_start[i] + sum(len(s) for s in u.syllables[:si]) + pi
        name = syl[pi]
        ptype = phoneme_type(name, phonemes)
        nb = [flat_names[j] if 0 <= j < n_flat else _XX for j in (fi - 2, fi - 1, fi, fi + 1, fi + 2)]
        flags = ["00" if 0 <= j < n_flat else _XX for j in (fi - 2, fi - 1, fi, fi + 1, fi + 2)]
        p14 = p15 = _XX
        if ptype == "c":
            # distance from the previous vowel / to the next vowel inside the syllable
            c = _distance_from_vowel((syl[q] for q in range(pi)), phonemes)
            if c > 0:
                p14 = str(min(c, 9))
            c = _distance_from_vowel((syl[q] for q in range(len(syl) - 1, pi, -1)), phonemes)
            if c > 0:
                p15 = str(min(c, 9))
        p = _join(("", "@", "^", "-", "+", "=", "_", "%", "^", "_", "~", "-", "!", "[", "$", "]"),
                  [ptype, *nb, *flags, str(min(pi + 1, 9)), str(min(len(syl) - pi, 9)), p14, p15, _XX])
        ps, ns = prev_syllable(i, si), next_syllable(i, si)
        a = syl_fields(*ps) if ps is not None else [_XX] * 5
        c_ = syl_fields(*ns) if ns is not None else [_XX] * 5
        b = syl_fields(i, si)
        out.append(p + _join(("/A:", "-", "-", "@", "~"), a) + _join(("/B:", "_", "_", "@", "|"), b)
                   + _join(("/C:", "+", "+", "@", "&"), c_) + unit_str(i) + j_str)
    return out
