"""RenderPhrase: everything a voice needs to sing one phrase, frozen and hashed.

Times are in seconds on the song's clock. ``key()`` hashes the phrase's own
content (relative to its start): two phrases with the same key hold the same
phonemes, labels and pitch. Whether they *sound* the same is the voice's to
say: a voice's cache keys (:meth:`utagoe.voices.base.Voice.cache_keys`) add
what else its audio depends on (its settings; for the HTS singer, the whole
track).
"""
from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import numpy as np

from ..model.curves import Curve
from ..timing.align import TimedPhoneme

FRAME_PERIOD_S = 0.005


@dataclass(frozen=True, slots=True)
class PhraseNote:
    """One note of a phrase as the score writes it, for voices that sing note by
    note (UTAU voicebanks): its span, pitch, lyric and the UTAU note settings.

    Times are song seconds: ``start_s`` is the written start, ``end_s`` the written
    end cut where the next sung note starts. ``syllables`` is the phonemizer's
    reading of the lyric (empty for a continuation note, which holds the previous
    note's sound).
    """

    #: position of the note in the track's notes sorted by start
    index: int
    start_s: float
    end_s: float
    #: MIDI note number
    pitch: int
    lyric: str
    syllables: tuple[tuple[str, ...], ...]
    continuation: bool = False
    #: UTAU Velocity (consonant speed), Intensity and Modulation, percent
    velocity_pct: float = 100.0
    intensity_pct: float = 100.0
    modulation_pct: float = 0.0
    #: UTAU resampler flags and envelope as the file gives them
    flags: str = ""
    envelope: tuple[float, ...] = ()
    #: the file's own preutterance, overlap and start point for this note (UTAU
    #: PreUtterance, VoiceOverlap, StartPoint), None where it sets none
    preutter_ms: float | None = None
    overlap_ms: float | None = None
    start_point_ms: float = 0.0

    def describe(self) -> str:
        return f"note {self.index + 1} ({self.lyric!r} at {self.start_s:.2f} s)"


#: the voice controls a phrase can carry, in OpenUtau's units (see
#: :class:`utagoe.settings.ControlSettings`); velocity is not here: it times the
#: consonants, so it is already in the phonemes
CONTROL_NAMES = ("dynamics_db", "breathiness", "gender", "tension", "voicing")


@dataclass(frozen=True, slots=True, eq=False)
class PhraseControls:
    """The voice controls over a phrase: for each control that is not neutral
    somewhere in the phrase, one value per frame of the phrase's pitch grid
    (``RenderPhrase.pitch``); None where it is neutral throughout."""

    dynamics_db: np.ndarray | None = None
    breathiness: np.ndarray | None = None
    gender: np.ndarray | None = None
    tension: np.ndarray | None = None
    voicing: np.ndarray | None = None

    def items(self) -> list[tuple[str, np.ndarray]]:
        """The controls that are set, by name."""
        out = []
        for name in CONTROL_NAMES:
            v = getattr(self, name)
            if v is not None:
                out.append((name, v))
        return out

    def at(self, times_s: np.ndarray, grid_start_s: float, period_s: float) -> dict[str, np.ndarray]:
        """The set controls at ``times_s`` (song seconds), linearly between frames of
        the grid that starts at ``grid_start_s``; the edge values hold beyond it."""
        grid = None
        out = {}
        for name, v in self.items():
            if grid is None:
                grid = grid_start_s + np.arange(len(v)) * period_s
            out[name] = np.interp(times_s, grid, v)
        return out


@dataclass(frozen=True, slots=True, eq=False)
class RenderPhrase:
    singer: str
    #: span to render, in song seconds: the first phoneme's start to the last one's end
    start_s: float
    end_s: float
    phonemes: tuple[TimedPhoneme, ...]
    #: one Sinsy-format full-context label per phoneme (the lingua franca of HTS,
    #: NNSVS and ENUNU singers), without times
    labels: tuple[str, ...]
    #: the F0 to sing, as float MIDI note numbers on a grid starting at start_s
    pitch: Curve
    #: loudness offset of the whole phrase, dB
    gain_db: float = 0.0
    #: the notes sung in the phrase, in order (for voices that sing note by note)
    notes: tuple[PhraseNote, ...] = ()
    #: the voice controls on the pitch grid; None: all neutral
    controls: PhraseControls | None = None

    def __post_init__(self) -> None:
        if len(self.labels) != len(self.phonemes):
            raise ValueError("one label per phoneme is needed")
        if self.end_s <= self.start_s:
            raise ValueError("a phrase must have a positive length")

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def frame_count(self, period_s: float = FRAME_PERIOD_S) -> int:
        return int(round((self.end_s - self.start_s) / period_s))

    def key(self, *, labels: bool = True) -> str:
        """A hex SHA-256 of the phrase's own content, relative to its start.

        ``labels=False`` leaves out the phonemes and their labels, for a voice that
        sings from the notes and the pitch alone (the labels describe neighbouring
        notes too, so they change with edits outside the phrase)."""
        h = hashlib.sha256()
        h.update(self.singer.encode())
        # relative to the phrase start, so a phrase moved in time keeps its key
        t0 = self.start_s
        h.update(struct.pack("<2d", self.end_s - t0, self.gain_db))
        for p, lab in zip(self.phonemes, self.labels) if labels else ():
            h.update(f"{p.symbol}|{p.start_s - t0:.6f}|{p.end_s - t0:.6f}|{p.kind}|{lab}\n".encode())
        h.update(struct.pack("<2d", self.pitch.start_s - t0, self.pitch.period_s))
        h.update(np.ascontiguousarray(self.pitch.values, dtype=np.float64).tobytes())
        for name, values in self.controls.items() if self.controls is not None else ():
            h.update(name.encode() + b"\0")
            h.update(np.ascontiguousarray(values, dtype=np.float64).tobytes())
        for n in self.notes:
            # not the note's index: a phrase moved by an edit before it keeps its key
            fields = (f"{n.start_s - t0:.6f}", f"{n.end_s - t0:.6f}", n.pitch, n.lyric,
                      n.syllables, n.continuation, n.velocity_pct, n.intensity_pct,
                      n.modulation_pct, n.flags, n.envelope, n.preutter_ms, n.overlap_ms,
                      n.start_point_ms)
            h.update(repr(fields).encode("utf-8", "surrogatepass") + b"\n")
        return h.hexdigest()
