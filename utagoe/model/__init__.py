from .score import (CONTINUATION, PITCH_SHAPES, KeySignature, Note, PitchPoint, Project, Tempo,
                    TimeSignature, Track, TrackCurve, Vibrato)
from .timeaxis import TimeAxis
from .curves import Curve

__all__ = ["CONTINUATION", "PITCH_SHAPES", "Curve", "KeySignature", "Note", "PitchPoint",
           "Project", "Tempo", "TimeAxis", "TimeSignature", "Track", "TrackCurve", "Vibrato"]
