"""utagoe (歌声): a singing voice synthesizer.

    >>> import utagoe
    >>> project = utagoe.load("song.musicxml")
    >>> result = utagoe.render(project)
    >>> result.save("song.wav")

Names are imported on first use, so ``import utagoe`` stays light.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> module that defines it
_WHERE = {
    "load": ".api", "load_set": ".api", "save": ".api", "render": ".api", "render_to_file": ".api", "singers": ".api",
    "voice_registry": ".api",
    "describe": ".api", "load_voicebank": ".api", "install_voicebank": ".api",
    "remove_voicebank": ".api", "add_voice_folder": ".api", "describe_singer": ".api",
    "Audio": ".audio",
    "CancelToken": ".cancel",
    "UtagoeError": ".errors", "ScoreFormatError": ".errors", "LyricsError": ".errors",
    "VoiceError": ".errors", "InvalidValueError": ".errors", "RenderCancelled": ".errors",
    "Note": ".model.score", "Project": ".model.score", "Tempo": ".model.score",
    "TimeSignature": ".model.score", "Track": ".model.score", "TrackCurve": ".model.score",
    "PitchPoint": ".model.score", "Vibrato": ".model.score",
    "ReadOptions": ".formats.options",
    "RenderSettings": ".settings", "PhraseSettings": ".settings", "VoiceSettings": ".settings",
    "MixSettings": ".settings", "ControlSettings": ".settings", "TrackSettings": ".settings",
    "TimingSettings": ".timing.align", "PitchSettings": ".expression.pitch",
    "HTSTuning": ".voices.hts.tuning",
    "RenderCache": ".rendering.cache", "RenderResult": ".rendering.engine",
    "RenderedFile": ".rendering.engine",
    "TrackAudio": ".rendering.engine",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'utagoe' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


if TYPE_CHECKING:
    from .api import (add_voice_folder, describe, describe_singer, install_voicebank, load,
                      load_set, load_voicebank, remove_voicebank, render, render_to_file, save, singers,
                      voice_registry)
    from .audio import Audio
    from .cancel import CancelToken
    from .errors import (InvalidValueError, LyricsError, RenderCancelled, ScoreFormatError,
                         UtagoeError, VoiceError)
    from .expression.pitch import PitchSettings
    from .formats.options import ReadOptions
    from .model.score import Note, PitchPoint, Project, Tempo, TimeSignature, Track, TrackCurve, Vibrato
    from .rendering.cache import RenderCache
    from .rendering.engine import RenderedFile, RenderResult, TrackAudio
    from .settings import (ControlSettings, MixSettings, PhraseSettings, RenderSettings, TrackSettings,
                           VoiceSettings)
    from .timing.align import TimingSettings
    from .voices.hts.tuning import HTSTuning
