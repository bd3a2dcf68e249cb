"""RenderSettings: every knob of a render, by stage, passed explicitly (no globals).

Every settings class checks its fields when it is made and raises
:class:`~utagoe.errors.InvalidValueError` naming the field, so a NaN or a zero
fails where it is given rather than deep inside numpy later.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from .dsp.controls import VOICE_CONTROL_RANGES
from .dsp.vocoders import VOCODERS
from .expression.pitch import PitchSettings
from .timing.align import TimingSettings
from .errors import InvalidValueError
from .validation import (as_tuple, check_bool, check_choice, check_fields, check_instance, check_int,
                         check_number, check_text)
from .voices.hts.tuning import HTSTuning

#: no render uses more worker processes than this, whatever is asked
MAX_WORKERS = 64


@dataclass(frozen=True, slots=True)
class PhraseSettings:
    """How a track is cut into phrases."""

    #: longest stretch of a rest kept inside a phrase on each side
    rest_margin_s: float = 0.3
    #: audio before the first note that may hold its consonant
    lead_in_s: float = 0.3

    def __post_init__(self) -> None:
        check_fields(self, "PhraseSettings", {"rest_margin_s": (0.0, 10.0),
                                              "lead_in_s": (0.0, 10.0)})


@dataclass(frozen=True, slots=True)
class VoiceSettings:
    """Settings handed to every voice's factory. A voice uses what applies to it."""

    #: the vocoder that turns frames into samples (see :mod:`utagoe.dsp.vocoders`)
    vocoder: str = "utagoe"
    #: the built-in HTS singer's tuning
    hts: HTSTuning = field(default_factory=HTSTuning)
    #: where UTAU voicebanks keep the analysis of their samples: "" the default
    #: folder (``$UTAGOE_CACHE_DIR``, else ``~/.cache/utagoe``), None no disk cache
    analysis_cache_dir: str | None = ""
    #: where the built-in singer keeps a compact copy of its voice file, checked
    #: against the file's hash on every load: "" the default folder, None no copy
    voice_cache_dir: str | None = ""

    def __post_init__(self) -> None:
        check_choice("VoiceSettings", "vocoder", self.vocoder, VOCODERS)
        check_instance("VoiceSettings", "hts", self.hts, HTSTuning)
        for name in ("analysis_cache_dir", "voice_cache_dir"):
            if getattr(self, name) is not None:
                check_text("VoiceSettings", name, getattr(self, name))


@dataclass(frozen=True, slots=True)
class MixSettings:
    """The master: sample rate, channels, level and limiter.

    The mix is scaled to its level first: so that its sample peak is exactly
    ``peak_dbfs`` (default), or, with ``loudness_lufs``, so that its integrated
    loudness (ITU-R BS.1770) is that many LUFS. Then ``master_gain_db`` is
    applied, and the limiter (``limiter``, on by default) keeps every sample
    under ``peak_dbfs``; it touches nothing when nothing goes over. Several
    tracks are first brought to one loudness (``balance_tracks``), then each
    takes its own volume, gain and pan.
    """

    #: the mix's sample rate; voices singing at another rate are resampled
    #: (polyphase filter) phrase by phrase
    sample_rate_hz: int = 48000
    #: the peak the mix is scaled to (no ``loudness_lufs``), and the limiter's ceiling
    peak_dbfs: float = -1.0
    #: scale the mix to this integrated loudness instead of to its peak (e.g. -16)
    loudness_lufs: float | None = None
    #: gain on the whole mix after it is scaled to its level
    master_gain_db: float = 0.0
    #: keep every sample under ``peak_dbfs`` with a gentle look-ahead limiter
    limiter: bool = True
    #: 1 (mono) or 2 (stereo); None: mono for one centred track, else stereo
    channels: int | None = None
    #: with several tracks, bring each to the same loudness (ITU-R BS.1770) before
    #: its own volume and gain: voices sing at levels of their own, which change
    #: with their range (the built-in singer is 10 dB softer low than high)
    balance_tracks: bool = True

    def __post_init__(self) -> None:
        check_fields(self, "MixSettings", {"sample_rate_hz": (8000, 384000),
                                           "peak_dbfs": (-120.0, 0.0),
                                           "master_gain_db": (-120.0, 24.0)})
        if self.loudness_lufs is not None:
            check_number("MixSettings", "loudness_lufs", self.loudness_lufs, lo=-70.0, hi=0.0)
        check_bool("MixSettings", "limiter", self.limiter)
        check_bool("MixSettings", "balance_tracks", self.balance_tracks)
        if self.channels is not None:
            check_int("MixSettings", "channels", self.channels, lo=1, hi=2)


@dataclass(frozen=True, slots=True)
class TrackSettings:
    """The user's choices for one track of the project, over what the file says
    (the command line's ``--singer N=NAME``, ``--mute``, ``--solo``, ``--gain``,
    ``--pan``).

    ``track`` is the track's number as ``utagoe info`` lists it (1 = the first
    track of the project) or its name. When any track is soloed, only soloed
    tracks are sung (a track muted in the file sings when soloed; ``mute`` wins
    over ``solo``).
    """

    track: int | str
    #: the singer of this track (a singer name, or an UTAU voicebank folder)
    singer: str | None = None
    #: added to the track's own volume
    gain_db: float = 0.0
    #: replaces the track's own pan: -1 (left) .. 1 (right); None keeps it
    pan: float | None = None
    mute: bool = False
    solo: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.track, str):
            if not self.track.strip():
                raise InvalidValueError("TrackSettings.track must be a track number or name, got ''")
        else:
            check_int("TrackSettings", "track", self.track, lo=1)
        if self.singer is not None and not check_text("TrackSettings", "singer", self.singer).strip():
            raise InvalidValueError("TrackSettings.singer must be a singer name, got ''")
        check_number("TrackSettings", "gain_db", self.gain_db, lo=-120.0, hi=24.0)
        if self.pan is not None:
            check_number("TrackSettings", "pan", self.pan, lo=-1.0, hi=1.0)
        check_bool("TrackSettings", "mute", self.mute)
        check_bool("TrackSettings", "solo", self.solo)


#: the voice controls, OpenUtau's units: name -> (lowest, highest, neutral); the
#: frame controls are :mod:`utagoe.dsp.controls`'s, velocity times consonants
CONTROL_RANGES: dict[str, tuple[float, float, float]] = {
    **VOICE_CONTROL_RANGES, "velocity_pct": (0.0, 200.0, 100.0)}


@dataclass(frozen=True, slots=True)
class ControlSettings:
    """The voice controls for the whole song (the CLI's ``--dynamics`` ...), in
    OpenUtau's units; a project's own curves and note values add to them.

    ``dynamics_db``: louder or softer singing, with its brightness (-24..12 dB).
    ``breathiness``: -100 (clean) .. 100 (breathy, near a whisper).
    ``gender``: -100 (brighter, higher formants) .. 100 (deeper), as UTAU's ``g``.
    ``tension``: -100 (lax) .. 100 (pressed, more high harmonics).
    ``voicing``: 100 (voiced) .. 0 (a whisper).
    ``velocity_pct``: consonant speed, 0..200 (200: consonants half as long).
    """

    dynamics_db: float = 0.0
    breathiness: float = 0.0
    gender: float = 0.0
    tension: float = 0.0
    voicing: float = 100.0
    velocity_pct: float = 100.0

    def __post_init__(self) -> None:
        check_fields(self, "ControlSettings",
                     {name: (lo, hi) for name, (lo, hi, _) in CONTROL_RANGES.items()})

    def is_neutral(self, name: str) -> bool:
        return getattr(self, name) == CONTROL_RANGES[name][2]


@dataclass(frozen=True, slots=True)
class RenderSettings:
    timing: TimingSettings = field(default_factory=TimingSettings)
    pitch: PitchSettings = field(default_factory=PitchSettings)
    phrase: PhraseSettings = field(default_factory=PhraseSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    mix: MixSettings = field(default_factory=MixSettings)
    #: voice controls for the whole song
    controls: ControlSettings = field(default_factory=ControlSettings)
    #: sing unknown lyrics as the nearest vowel (with warnings) instead of failing
    lenient_lyrics: bool = False
    #: lyrics language of the phonemizer; must be the language the singer sings
    language: str = "ja"
    #: worker processes that sing phrases (1 = all in this process); the result is
    #: the same whatever the number; at most one per core is used
    workers: int = 1
    #: longest song rendered (memory grows with length); longer ones are refused
    max_duration_s: float = 1800.0
    #: the user's choices per track (singer, gain, pan, mute, solo), at most one per track
    tracks: tuple[TrackSettings, ...] = ()

    def __post_init__(self) -> None:
        for name, kind in (("timing", TimingSettings), ("pitch", PitchSettings),
                           ("phrase", PhraseSettings), ("voice", VoiceSettings),
                           ("mix", MixSettings), ("controls", ControlSettings)):
            check_instance("RenderSettings", name, getattr(self, name), kind)
        check_bool("RenderSettings", "lenient_lyrics", self.lenient_lyrics)
        if not check_text("RenderSettings", "language", self.language).strip():
            raise InvalidValueError("RenderSettings.language must be a language code, got ''")
        check_fields(self, "RenderSettings", {"workers": (1, 1_000_000),
                                              "max_duration_s": (0.0, 7 * 86400.0, True)})
        object.__setattr__(self, "tracks", as_tuple("RenderSettings", "tracks", self.tracks))
        for i, t in enumerate(self.tracks):
            check_instance("RenderSettings", f"tracks[{i}]", t, TrackSettings)


def effective_workers(asked: int) -> int:
    """Workers a render really uses: what was asked, at most one per core and
    :data:`MAX_WORKERS`."""
    return max(1, min(int(asked), os.cpu_count() or 1, MAX_WORKERS))
