"""The score: frozen dataclasses on one musical clock (integer ticks, 480 per quarter).

Edits return new objects (``dataclasses.replace``). Rests are the gaps between
notes. Seconds exist only through :class:`utagoe.model.timeaxis.TimeAxis`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidValueError
from ..validation import as_tuple, check_int, check_number, check_text
from .units import TICKS_PER_QUARTER, midi_to_name

#: Lyric of a note that continues the previous note's vowel (a melisma or slur).
#: After a rest it sings the previous note's last vowel again.
CONTINUATION = "+"

#: Lyric of a note that has none (a melody read without lyrics, kept by
#: ``ReadOptions(keep_tracks_without_lyrics=True)``). Such a note is not sung:
#: rendering refuses it unless lenient lyrics sing it as a vowel; give the
#: reader a ``default_lyric`` to sing it on one syllable.
NO_LYRIC = ""

#: Shapes of a pitch-curve segment (OpenUtau's names): ``io`` S-curve (cosine ease
#: in and out; UTAU's default), ``l`` straight line (UTAU ``s``), ``i`` ease in:
#: slow start, fast end (UTAU ``j``), ``o`` ease out: fast start, slow end (UTAU ``r``).
PITCH_SHAPES = ("io", "l", "i", "o")


@dataclass(frozen=True, slots=True)
class PitchPoint:
    """One point of a note's own pitch curve (UTAU PBS/PBW/PBY, OpenUtau pitch points).

    ``offset_ms``: from the note's start (negative: before it). ``cents``: from the
    note's pitch. ``shape``: of the segment from this point to the next (see
    :data:`PITCH_SHAPES`). The curve runs from the first point to the last; outside
    that span the note sits on its written pitch.
    """

    offset_ms: float
    cents: float
    shape: str = "io"

    def __post_init__(self) -> None:
        if self.shape not in PITCH_SHAPES:
            raise InvalidValueError(f"PitchPoint.shape: unknown pitch shape {self.shape!r}; "
                                    f"known: {PITCH_SHAPES}")
        check_number("PitchPoint", "offset_ms", self.offset_ms)
        check_number("PitchPoint", "cents", self.cents)


@dataclass(frozen=True, slots=True)
class Vibrato:
    """A note's own vibrato (UTAU ``VBR``, OpenUtau ``vibrato``).

    It covers the last ``length_pct`` % of the note. At time ``t`` after it starts
    the pitch moves by ``depth_cents * (sin(2*pi*(t/period + phase_pct/100)) +
    drift_pct/100)``, faded in linearly over the first ``fade_in_pct`` % of the
    vibrato and out over the last ``fade_out_pct`` %. ``length_pct == 0`` or
    ``depth_cents == 0`` means "no vibrato here", which is not the same as a note
    with ``vibrato=None`` (the singer's automatic vibrato).
    """

    length_pct: float
    period_ms: float
    depth_cents: float
    fade_in_pct: float = 0.0
    fade_out_pct: float = 0.0
    phase_pct: float = 0.0
    drift_pct: float = 0.0

    def __post_init__(self) -> None:
        for name in ("length_pct", "depth_cents", "fade_in_pct", "fade_out_pct", "phase_pct",
                     "drift_pct"):
            check_number("Vibrato", name, getattr(self, name))
        check_number("Vibrato", "period_ms", self.period_ms, lo=0.0, lo_open=True)

    @property
    def is_off(self) -> bool:
        return self.length_pct <= 0 or self.depth_cents == 0


@dataclass(frozen=True, slots=True)
class Note:
    """One sung note. ``pitch`` is a MIDI note number (60 = C4)."""

    start_ticks: int
    duration_ticks: int
    pitch: int
    #: the text to sing; :data:`CONTINUATION` holds the previous vowel,
    #: :data:`NO_LYRIC` means the note has no lyric
    lyric: str
    #: where the note came from, for error messages ("measure 4", "line 120")
    source: str = ""
    #: the note's own pitch curve; empty: the singer's automatic pitch
    pitch_points: tuple[PitchPoint, ...] = ()
    #: the note's own vibrato; None: the singer's automatic vibrato
    vibrato: Vibrato | None = None
    #: phonemes the file gives for this note, in the file's own phoneme set
    #: (OpenUtau ``word[p h]`` hints, VSQX ``phnms``, SVP ``phonemes``); kept for
    #: round trips and for singers that share that phoneme set
    phonemes: tuple[str, ...] = ()
    #: per-note expression values by OpenUtau abbreviation: ``vel`` (consonant
    #: velocity %), ``vol`` (intensity %), ``mod`` (modulation %), and UTAU's
    #: ``preutter_ms``, ``overlap_ms``, ``stp_ms`` where the file sets them
    expressions: tuple[tuple[str, float], ...] = ()
    #: UTAU resampler flags, e.g. ``"g-5B0"``
    flags: str = ""
    #: UTAU envelope ``p1,p2,p3,v1,v2,v3,v4[,p4[,p5,v5]]`` (ms and %), empty if unset
    envelope: tuple[float, ...] = ()
    #: the note's own pitch transition into it: its length, and where it starts
    #: relative to the note's start (negative: before); None: the automatic one
    portamento_ms: float | None = None
    portamento_offset_ms: float | None = None
    #: the note is sung this many cents off its written pitch (its vibrato centred there)
    tuning_cents: float = 0.0

    def __post_init__(self) -> None:
        if self.portamento_ms is not None:
            check_number("Note", "portamento_ms", self.portamento_ms, lo=0.0, hi=10_000.0)
        if self.portamento_offset_ms is not None:
            check_number("Note", "portamento_offset_ms", self.portamento_offset_ms,
                         lo=-10_000.0, hi=10_000.0)
        check_number("Note", "tuning_cents", self.tuning_cents, lo=-1200.0, hi=1200.0)
        check_int("Note", "start_ticks", self.start_ticks, lo=0)
        check_int("Note", "duration_ticks", self.duration_ticks, lo=1)
        check_int("Note", "pitch", self.pitch, lo=0, hi=127)
        check_text("Note", "lyric", self.lyric)

    @property
    def end_ticks(self) -> int:
        return self.start_ticks + self.duration_ticks

    def describe(self) -> str:
        at = f" ({self.source})" if self.source else ""
        return f"{midi_to_name(self.pitch)} at tick {self.start_ticks}{at}"

    def expression(self, name: str, default: float | None = None) -> float | None:
        for k, v in self.expressions:
            if k == name:
                return v
        return default


@dataclass(frozen=True, slots=True)
class TrackCurve:
    """An expression curve over a whole track, on the musical clock.

    ``values[i]`` holds at ``ticks[i]`` (ascending); between points the curve is
    linear, and outside ``[ticks[0], ticks[-1]]`` it takes ``default`` (as in
    OpenUtau). Names are OpenUtau's abbreviations: ``pitd`` (pitch deviation,
    cents), ``dyn``, ``bre``, ``gen``, ``tenc`` ... in OpenUtau's units.
    """

    name: str
    ticks: tuple[int, ...]
    values: tuple[float, ...]
    default: float = 0.0

    def __post_init__(self) -> None:
        if len(self.ticks) != len(self.values):
            raise ValueError("a TrackCurve needs one value per tick")
        if any(b < a for a, b in zip(self.ticks, self.ticks[1:])):
            raise ValueError("TrackCurve ticks must be ascending")
        if not all(math.isfinite(v) for v in self.values) or not math.isfinite(self.default):
            raise InvalidValueError(f"TrackCurve.values of {self.name!r} must be finite")

    def sample(self, ticks) -> np.ndarray:
        """The curve at ``ticks`` (array-like, float ticks allowed)."""
        t = np.asarray(ticks, dtype=np.float64)
        if not self.ticks:
            return np.full(t.shape, self.default)
        xs = np.asarray(self.ticks, dtype=np.float64)
        ys = np.asarray(self.values, dtype=np.float64)
        out = np.interp(t, xs, ys)
        out[(t < xs[0]) | (t > xs[-1])] = self.default
        return out


@dataclass(frozen=True, slots=True)
class Tempo:
    tick: int
    bpm: float

    def __post_init__(self) -> None:
        check_int("Tempo", "tick", self.tick, lo=0)
        check_number("Tempo", "bpm", self.bpm, lo=0.0, lo_open=True)


@dataclass(frozen=True, slots=True)
class TimeSignature:
    tick: int
    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        check_int("TimeSignature", "tick", self.tick, lo=0)
        check_int("TimeSignature", "numerator", self.numerator, lo=1)
        check_int("TimeSignature", "denominator", self.denominator, lo=1)

    @property
    def measure_ticks(self) -> int:
        return self.numerator * TICKS_PER_QUARTER * 4 // self.denominator


@dataclass(frozen=True, slots=True)
class KeySignature:
    """``fifths``: sharps (>0) or flats (<0); ``mode``: 'major' or 'minor'."""

    tick: int
    fifths: int = 0
    mode: str = "major"

    def __post_init__(self) -> None:
        check_int("KeySignature", "tick", self.tick, lo=0)
        check_int("KeySignature", "fifths", self.fifths)
        check_text("KeySignature", "mode", self.mode)


@dataclass(frozen=True, slots=True)
class Track:
    name: str
    notes: tuple[Note, ...]
    #: a utagoe singer name (see ``utagoe singers``); None: the default singer
    singer: str | None = None
    #: track-wide expression curves (pitch deviation, dynamics ...)
    curves: tuple[TrackCurve, ...] = ()
    #: the singer the file names (UTAU VoiceDir, OpenUtau singer id ...), kept as
    #: text only: utagoe never opens a path it finds inside a project file
    source_singer: str = ""
    volume_db: float = 0.0
    #: -1 (left) .. 1 (right)
    pan: float = 0.0
    muted: bool = False

    def __post_init__(self) -> None:
        check_text("Track", "name", self.name)
        object.__setattr__(self, "notes", as_tuple("Track", "notes", self.notes))
        object.__setattr__(self, "curves", as_tuple("Track", "curves", self.curves))
        for i, n in enumerate(self.notes):
            if not isinstance(n, Note):
                raise InvalidValueError(f"Track.notes[{i}] must be a Note, got {n!r:.60}")
        if self.singer is not None:
            check_text("Track", "singer", self.singer)
        check_number("Track", "volume_db", self.volume_db)
        check_number("Track", "pan", self.pan, lo=-1.0, hi=1.0)

    def curve(self, name: str) -> TrackCurve | None:
        for c in self.curves:
            if c.name == name:
                return c
        return None


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
    #: the score format the project was read from ("musicxml", "ust" ...); "" if built in code
    source_format: str = ""

    def __post_init__(self) -> None:
        for name in ("tracks", "tempos", "time_signatures", "key_signatures", "warnings"):
            object.__setattr__(self, name, as_tuple("Project", name, getattr(self, name)))
        for i, t in enumerate(self.tracks):
            if not isinstance(t, Track):
                raise InvalidValueError(f"Project.tracks[{i}] must be a Track, got {t!r:.60}")
        check_text("Project", "title", self.title)
        check_text("Project", "source_format", self.source_format)

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
