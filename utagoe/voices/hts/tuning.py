"""The HTS singer's tuning: where it departs from plain HTS, with the values that
measurement chose (see docs/architecture.md). Reachable from the API as
``RenderSettings(voice=VoiceSettings(hts=HTSTuning(...)))``."""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import InvalidValueError
from ...validation import check_bool, check_choice, check_fields

#: how a stretched phoneme's states share its length: "sustain" (its steadiest
#: state takes the extra time) or "hts" (the HTS engine's own split)
DURATION_FITS = ("sustain", "hts")
#: whose pitch places the envelope's harmonics
HARMONIC_PITCHES = ("model", "sung")


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
    #: sample the envelope at the model's own harmonics and join the points
    #: (False: the generated envelope as it is)
    harmonic_envelope: bool = True
    #: and take each harmonic's value from the highest point within this share
    #: of a harmonic spacing on either side (robust to the model's pitch being a
    #: little off its envelope's ripple; 0: the value at the harmonic itself).
    #: 0.5: vowel identity 0.773 -> 0.808 over the example songs (0.3: 0.804,
    #: 0.7: 0.810 but broader formants), most on high notes (benchmarks/bench_vowels.py)
    harmonic_peak_search: float = 0.5
    #: whose pitch places those harmonics: "model" (the voice's own predicted
    #: pitch) or "sung" (the pitch we sing)
    harmonic_pitch: str = "model"
    #: frames sung lower than this share of the model's pitch keep the generated
    #: envelope as it is: joining points a model harmonic apart flattens its
    #: formants, and far below the model's pitch the pulses then ring for only
    #: a millisecond or two (a bass sung by these voices buzzed)
    harmonic_min_ratio: float = 0.5
    #: deepen the mel-cepstrum's detail by this share (formant emphasis; 0: none;
    #: below 0 flattens it)
    postfilter_beta: float = 0.0
    #: HTS global variance (GV) at all
    use_gv: bool = True
    #: GV on the spectrum only for its first this many mel-cepstral coefficients
    #: (the voice has 35; more means all, 0 none)
    gv_spectrum_orders: int = 99
    #: GV on the model's own pitch (used only to place the envelope's harmonics)
    gv_pitch: bool = True
    #: GV on the LPF stream (the pulse/noise split of the excitation)
    gv_lpf: bool = True
    #: the utterance a phrase's parameters are generated in (GV and the loudness
    #: compression's median are statistics of it): -1 the whole track; k >= 0 the
    #: phrase and up to k phrases on each side, so an edit re-sings only the
    #: phrases within k of it
    context_phrases: int = -1
    #: the FFT size of the spectral envelope the vocoder is given, at the voice's
    #: sample rate (0: WORLD's for that rate, 2048 at 48 kHz); the pulses' responses
    #: keep at least half of it. 1024 (47 Hz bins at 48 kHz) renders in about 0.65
    #: of 2048's time; vowel identity on the sixteen example songs 0.808 -> 0.816
    #: (13 above Sinsy instead of 12), as much in tune, worst onset p95 68 -> 51 ms
    #: (benchmarks/bench_vowels.py); mei keeps 1536 (see its tuning)
    envelope_fft_size: int = 1024

    def __post_init__(self) -> None:
        check_fields(self, "HTSTuning", {
            "gv_max_ratio": (0.0, 100.0, True, False), "dynamics_ratio": (0.0, 1.0),
            "dynamics_smooth_frames": (1, 10_000), "rest_floor_db": (-200.0, 0.0),
            "rest_fade_frames": (1, 10_000), "edge_fade_s": (0.0, 1.0),
            "postfilter_beta": (-0.9, 2.0), "harmonic_peak_search": (0.0, 2.0),
            "harmonic_min_ratio": (0.0, 1.0),
            "gv_spectrum_orders": (0, 10_000), "context_phrases": (-1, 10_000),
            "envelope_fft_size": (0, 16384)})
        if self.envelope_fft_size and (self.envelope_fft_size % 2 or self.envelope_fft_size < 64):
            raise InvalidValueError(f"HTSTuning.envelope_fft_size must be 0 (WORLD's) or an even "
                                    f"number from 64 to 16384, got {self.envelope_fft_size}")
        check_choice("HTSTuning", "duration_fit", self.duration_fit, DURATION_FITS)
        check_choice("HTSTuning", "harmonic_pitch", self.harmonic_pitch, HARMONIC_PITCHES)
        check_bool("HTSTuning", "harmonic_envelope", self.harmonic_envelope)
        for name in ("use_gv", "gv_pitch", "gv_lpf"):
            check_bool("HTSTuning", name, getattr(self, name))
