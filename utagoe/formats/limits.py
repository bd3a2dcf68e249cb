"""Bounds every score reader enforces, so that no file can hang a reader or exhaust memory.

The one place for them: the readers, the writers and the registry take every bound
from here. A file beyond them is refused with :class:`~utagoe.errors.ScoreFormatError`
(or, where a reader can repair it and ``lenient`` is set, repaired with a warning).
"""
from __future__ import annotations

from ..model.units import TICKS_PER_QUARTER

#: no score file may be larger than this (bytes); members of compressed containers
#: (.mxl) are held to the same limit once uncompressed, and so are documents we write
MAX_SCORE_BYTES = 64 * 1024 * 1024
#: notes in one file, all tracks together
MAX_NOTES = 200_000
#: tracks (or parts) in one file
MAX_TRACKS = 1_000
#: points in one curve, and pitch points of one note
MAX_CURVE_POINTS = 2_000_000
MAX_NOTE_PITCH_POINTS = 10_000
#: XML elements one reader keeps in memory (only the elements it uses are kept)
MAX_XML_ELEMENTS = 3_000_000
#: tempo range, beats per minute
MIN_BPM = 1.0
MAX_BPM = 1000.0
#: the tempo where a file gives none (the MIDI, MusicXML and UTAU default)
DEFAULT_BPM = 120.0
#: no song may be longer than this
MAX_SONG_SECONDS = 24 * 3600
#: no song may be longer than this many quarter notes (MAX_SONG_SECONDS at MAX_BPM)
MAX_QUARTERS = int(MAX_SONG_SECONDS / 60 * MAX_BPM)
#: no position or length may exceed this many ticks (24 h at MAX_BPM)
MAX_TICKS = MAX_QUARTERS * TICKS_PER_QUARTER
#: ticks per quarter note a file may declare for its own clock (VSQX, USTX ``resolution``)
MIN_RESOLUTION = 1
MAX_RESOLUTION = 1_000_000
#: MIDI note numbers a note may have
MIN_PITCH = 0
MAX_PITCH = 127


def bpm_ok(bpm: float) -> bool:
    """Is ``bpm`` a finite tempo within [MIN_BPM, MAX_BPM]?"""
    try:
        return MIN_BPM <= float(bpm) <= MAX_BPM
    except (TypeError, ValueError, OverflowError):
        return False
