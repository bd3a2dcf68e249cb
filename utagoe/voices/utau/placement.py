"""Where each sample of a phrase goes: UTAU's preutterance and overlap, in seconds.

Pure functions from a phrase's notes and their resolved aliases to
:class:`Unit` s, each one resampler call: which oto entry, where its output
starts on the song's clock, how long it lasts, and its fade in and out. The
rules are UTAU's (as OpenUtau keeps them):

* A note's sample is placed so that its **preutterance** point falls on the
  note's start: the sample starts ``preutter`` before the note.
* The sample before it lasts until ``overlap`` after that point, and the two
  cross-fade over the overlap (a negative overlap leaves a gap).
* Where the previous note is too short for ``preutter - overlap``, both are
  scaled down so the previous note keeps at least half of its length.
* **Velocity** scales preutterance and overlap (and, in the resampler, the
  consonant) by ``2 ** ((100 - velocity) / 100)``.
* A note's own PreUtterance / VoiceOverlap from the project replace the oto's.
* Several syllables on one note share it equally, one sample each.
* A CVVC link (``a k``) is placed at the end of its note, as long as the next
  note's preutterance (at most half of the note); an ending (``a R``) starts on
  the note's end and keeps its natural length (at most :data:`MAX_ENDING_S`).
* A continuation note (melisma) extends the previous note's sample.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ...phrase.phrase import PhraseNote
from .aliases import NoteAliases
from ...timing.align import velocity_factor
from .voicebank import OtoEntry

#: longest an ending sample (``a R``) sounds after its note
MAX_ENDING_S = 0.6
#: shortest fade at a sample's edges, so no sample starts or stops with a click
MIN_FADE_S = 0.005


@dataclass(frozen=True, slots=True)
class Unit:
    """One resampler call and where its output goes."""

    entry: OtoEntry
    #: song time of the first output sample (the oto offset point)
    start_s: float
    #: output length
    length_s: float
    #: linear fade in from start_s, and out before start_s + length_s
    fade_in_s: float
    fade_out_s: float
    #: the note whose settings (velocity, flags, envelope ...) apply
    note: PhraseNote
    #: "note", "vc" or "end"
    role: str = "note"
    #: UTAU StartPoint: ms of the sample's output skipped at its start
    skip_s: float = 0.0

    @property
    def end_s(self) -> float:
        return self.start_s + self.length_s


@dataclass(slots=True)
class _Draft:
    entry: OtoEntry
    #: the point aligned with the note start (song seconds)
    at_s: float
    preutter_s: float
    overlap_s: float
    note: PhraseNote
    role: str
    #: where the sample must end if nothing follows it
    natural_end_s: float


def _timing(entry: OtoEntry, note: PhraseNote, *, first: bool) -> tuple[float, float]:
    pre = note.preutter_ms if (first and note.preutter_ms is not None) else entry.preutter_ms
    ovl = note.overlap_ms if (first and note.overlap_ms is not None) else entry.overlap_ms
    f = velocity_factor(note.velocity_pct)
    return max(0.0, pre) * f / 1000.0, ovl * f / 1000.0


def place_units(notes: Sequence[PhraseNote], aliases: Sequence[NoteAliases | None]) -> list[Unit]:
    """The units that sing ``notes`` (one phrase), given each note's aliases
    (None for continuation notes)."""
    if len(notes) != len(aliases):
        raise ValueError("one NoteAliases (or None) per note is needed")
    # the span each sung note holds: its own, extended over the continuations after it
    spans: list[tuple[PhraseNote, NoteAliases, float, float]] = []
    for note, al in zip(notes, aliases):
        if al is None or note.continuation:
            if spans:
                n0, a0, s0, _ = spans[-1]
                spans[-1] = (n0, a0, s0, note.end_s)
            continue
        spans.append((note, al, note.start_s, note.end_s))

    drafts: list[_Draft] = []
    for k, (note, al, a, b) in enumerate(spans):
        if not al.parts:
            continue  # a silent note (っ): nothing sounds
        nxt = spans[k + 1] if k + 1 < len(spans) else None
        step = (b - a) / len(al.parts)
        for j, entry in enumerate(al.parts):
            pre, ovl = _timing(entry, note, first=(j == 0))
            at = a + j * step
            drafts.append(_Draft(entry, at, pre, ovl, note, "note", at + step))
        if al.tail is None:
            continue
        pre, ovl = _timing(al.tail, note, first=False)
        if nxt is not None and nxt[1].parts:
            # a CVVC link into the next note: as long as the next sample's preutterance
            next_pre, _ = _timing(nxt[1].parts[0], nxt[0], first=True)
            length = min(max(next_pre, 0.03), (b - a) / 2)
            drafts.append(_Draft(al.tail, b - length, pre, ovl, note, "vc", b))
        elif nxt is None:
            natural = max(0.0, pre) + min(MAX_ENDING_S, max(0.1, al.tail.consonant_ms / 1000.0))
            drafts.append(_Draft(al.tail, b, pre, ovl, note, "end", b + natural))

    # a sample may take at most half of the one before it
    for prev, cur in zip(drafts, drafts[1:]):
        room = (cur.at_s - prev.at_s) / 2
        need = cur.preutter_s - cur.overlap_s
        if need > room > 0:
            scale = room / need
            cur.preutter_s *= scale
            cur.overlap_s *= scale

    units: list[Unit] = []
    for i, d in enumerate(drafts):
        start = d.at_s - d.preutter_s
        fade_in = max(MIN_FADE_S, d.overlap_s) if i > 0 else MIN_FADE_S
        if i + 1 < len(drafts):
            nxt_d = drafts[i + 1]
            nxt_start = nxt_d.at_s - nxt_d.preutter_s
            end = nxt_start + max(nxt_d.overlap_s, MIN_FADE_S)
            fade_out = max(MIN_FADE_S, min(nxt_d.overlap_s, end - nxt_start))
        else:
            end = d.natural_end_s
            fade_out = 0.03 if d.role == "end" else MIN_FADE_S
        length = max(end - start, 2 * MIN_FADE_S)
        fade_in = min(fade_in, length / 2)
        fade_out = min(fade_out, length / 2)
        skip = d.note.start_point_ms / 1000.0 if d.role == "note" else 0.0
        units.append(Unit(d.entry, start, length, fade_in, fade_out, d.note, d.role,
                          max(0.0, min(skip, length / 2))))
    return units
