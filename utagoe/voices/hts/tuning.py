"""The HTS singer's tuning: where it departs from plain HTS, with the values that
measurement chose (see docs/architecture.md). Reachable from the API as
``RenderSettings(voice=VoiceSettings(hts=HTSTuning(...)))``."""
from __future__ import annotations

from dataclasses import dataclass

from ...validation import check_choice, check_fields

#: how a stretched phoneme's states share its length: "sustain" (its steadiest
#: state takes the extra time) or "hts" (the HTS engine's own split)
DURATION_FITS = ("sustain", "hts")


@dataclass(frozen=True, slots=True)
class HTSTuning:
    #: global variance may widen the spectrum's spread at most this much (a held
    #: vowel has almost none, and unbounded GV would blow it up)
    gv_max_ratio: float = 2.0
    #: the voice's loudness swings about 30 dB from low to high notes; keep this share
    dynamics_ratio: float = 0.5
    #: frames over which the slow loudness swing is measured
    dynamics_smooth_frames: int = 40
    #: rests fall to this level (dB) within ``rest_fade_frames`` of the sung phonemes
    rest_floor_db: float = -60.0
    rest_fade_frames: int = 8
    #: fade at each phrase's edges
    edge_fade_s: float = 0.01
    duration_fit: str = "sustain"
    #: the utterance a phrase's parameters are generated in (GV and the loudness
    #: compression's median are statistics of it): -1 the whole track; k >= 0 the
    #: phrase and up to k phrases on each side, so an edit re-sings only the
    #: phrases within k of it
    context_phrases: int = -1

    def __post_init__(self) -> None:
        check_fields(self, "HTSTuning", {
            "gv_max_ratio": (0.0, 100.0, True, False), "dynamics_ratio": (0.0, 1.0),
            "dynamics_smooth_frames": (1, 10_000), "rest_floor_db": (-200.0, 0.0),
            "rest_fade_frames": (1, 10_000), "edge_fade_s": (0.0, 1.0),
            "context_phrases": (-1, 10_000)})
        check_choice("HTSTuning", "duration_fit", self.duration_fit, DURATION_FITS)
