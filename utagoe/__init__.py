"""utagoe (歌声): a singing voice synthesizer.

    >>> import utagoe
    >>> project = utagoe.load("song.musicxml")
    >>> audio = utagoe.render(project)
    >>> audio.save("song.wav")
"""
from .api import load, render, save, singers
from .audio import Audio
from .errors import LyricsError, ScoreFormatError, UtagoeError, VoiceError
from .model import Note, Project, Tempo, TimeSignature, Track

__version__ = "0.1.0"
__all__ = ["Audio", "LyricsError", "Note", "Project", "ScoreFormatError", "Tempo",
           "TimeSignature", "Track", "UtagoeError", "VoiceError", "load", "render", "save", "singers"]
