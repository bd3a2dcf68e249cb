"""RenderSettings: every knob of a render, passed explicitly (no globals)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .expression.pitch import PitchSettings
from .timing.align import TimingSettings


@dataclass(frozen=True, slots=True)
class RenderSettings:
    timing: TimingSettings = field(default_factory=TimingSettings)
    pitch: PitchSettings = field(default_factory=PitchSettings)
    #: sing unknown lyrics as the nearest vowel (with warnings) instead of failing
    lenient_lyrics: bool = False
    #: lyrics language of the phonemizer
    language: str = "ja"
    #: output sample rate of the mix
    sample_rate_hz: int = 48000
    #: the mix is scaled down so its peak is at most this
    peak_dbfs: float = -1.0
    #: worker processes that vocode phrases (1 = all in this process); the
    #: result is the same whatever the number
    workers: int = 1
    #: longest stretch of a rest kept inside a phrase on each side
    phrase_rest_margin_s: float = 0.3
    #: audio before the first note that may hold its consonant
    lead_in_s: float = 0.3
    #: longest song rendered (memory grows with length); longer ones are refused
    max_duration_s: float = 1800.0
