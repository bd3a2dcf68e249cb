from .score import CONTINUATION, KeySignature, Note, Project, Tempo, TimeSignature, Track
from .timeaxis import TimeAxis
from .curves import Curve

__all__ = ["CONTINUATION", "Curve", "KeySignature", "Note", "Project", "Tempo",
           "TimeAxis", "TimeSignature", "Track"]
