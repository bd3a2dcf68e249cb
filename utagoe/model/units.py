"""Unit converters. Every name says what it converts from and to."""
from __future__ import annotations

import numpy as np

TICKS_PER_QUARTER = 480
A4_HZ = 440.0
A4_MIDI = 69.0


def midi_to_hz(midi):
    """MIDI note number (float or array) to frequency in Hz."""
    return A4_HZ * np.power(2.0, (np.asarray(midi, dtype=np.float64) - A4_MIDI) / 12.0)


def hz_to_midi(hz):
    """Frequency in Hz (float or array, > 0) to a float MIDI note number."""
    return A4_MIDI + 12.0 * np.log2(np.asarray(hz, dtype=np.float64) / A4_HZ)


def cents_to_ratio(cents):
    return np.power(2.0, np.asarray(cents, dtype=np.float64) / 1200.0)


def db_to_gain(db):
    return np.power(10.0, np.asarray(db, dtype=np.float64) / 20.0)


NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def midi_to_name(midi: int) -> str:
    """60 -> 'C4'."""
    m = int(midi)
    return f"{NOTE_NAMES[m % 12]}{m // 12 - 1}"
