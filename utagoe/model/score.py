"""The score: frozen dataclasses on one musical clock (integer ticks, 480 per quarter).

Edits return new objects (``dataclasses.replace``). Rests are the gaps between
notes. Seconds exist only through :class:`utagoe.model.timeaxis.TimeAxis`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .units import TICKS_PER_QUARTER, midi_to_name

#: Lyric of a note that continues the previous note's vowel (a melisma or slur).
CONTINUATION = "+"


@dataclass(frozen=True, slots=True)
class Note:
    """One sung note. ``pitch`` is a MIDI note number (60 = C4)."""

    start_ticks: int
    duration_ticks: int
    pitch: int
    lyric: str
    #: where the note came from, for error messages ("measure 4", "line 120")
    source: str = ""

    @property
    def end_ticks(self) -> int:
        return self.start_ticks + self.duration_ticks

    def describe(self) -> str:
        at = f" ({self.source})" if self.source else ""
        return f"{midi_to_name(self.pitch)} at tick {self.start_ticks}{at}"


@dataclass(frozen=True, slots=True)
class Tempo:
    tick: int
    bpm: float


@dataclass(frozen=True, slots=True)
class TimeSignature:
    tick: int
    numerator: int
    denominator: int

    @property
    def measure_ticks(self) -> int:
        return self.numerator * TICKS_PER_QUARTER * 4 // self.denominator


@dataclass(frozen=True, slots=True)
class KeySignature:
    """``fifths``: sharps (>0) or flats (<0); ``mode``: 'major' or 'minor'."""

    tick: int
    fifths: int = 0
    mode: str = "major"


@dataclass(frozen=True, slots=True)
class Track:
    name: str
    notes: tuple[Note, ...]
    singer: str | None = None


@dataclass(frozen=True, slots=True)
class Project:
    tracks: tuple[Track, ...]
    tempos: tuple[Tempo, ...] = (Tempo(0, 120.0),)
    time_signatures: tuple[TimeSignature, ...] = (TimeSignature(0, 4, 4),)
    key_signatures: tuple[KeySignature, ...] = (KeySignature(0),)
    title: str = ""
    source_path: str | None = None
    #: non-fatal problems met while reading (lenient parsing, ignored elements)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def end_ticks(self) -> int:
        return max((n.end_ticks for t in self.tracks for n in t.notes), default=0)

    def time_axis(self):
        from .timeaxis import TimeAxis
        return TimeAxis.from_tempos(self.tempos)

    def duration_s(self) -> float:
        return self.time_axis().tick_to_seconds(self.end_ticks)

    def time_signature_at(self, tick: int) -> TimeSignature:
        best = self.time_signatures[0] if self.time_signatures else TimeSignature(0, 4, 4)
        for ts in self.time_signatures:
            if ts.tick <= tick:
                best = ts
        return best

    def key_signature_at(self, tick: int) -> KeySignature:
        best = self.key_signatures[0] if self.key_signatures else KeySignature(0)
        for ks in self.key_signatures:
            if ks.tick <= tick:
                best = ks
        return best
