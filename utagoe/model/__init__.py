from .score import (CONTINUATION, NO_LYRIC, PITCH_SHAPES, KeySignature, Note, PitchPoint, Project, Tempo,
                    TimeSignature, Track, TrackCurve, Vibrato)
from .timeaxis import TimeAxis
from .curves import Curve

__all__ = ["CONTINUATION", "NO_LYRIC", "PITCH_SHAPES", "Curve", "KeySignature", "Note", "PitchPoint",
           "Project", "Tempo", "TimeAxis", "TimeSignature", "Track", "TrackCurve", "Vibrato"]
