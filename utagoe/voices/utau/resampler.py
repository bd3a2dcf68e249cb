"""Our own UTAU resampler, in process: one oto.ini region of a sample, sung at a
pitch curve for a length, from its WORLD analysis (:mod:`.analysis`).

What an UTAU resampler does (the command line is in ../shared/data/FORMATS.md
section 4), made smooth:

* **The region** runs from the oto offset to the cutoff's end: a negative cutoff
  ends ``|cutoff|`` ms after the offset, a positive one ``cutoff`` ms before the
  file's end, 0 at the file's end; it is clamped into the file. An offset at or
  past the end, or an empty region, raises :class:`ResampleError`.
* **The fixed (consonant) region**, the first ``consonant_ms`` of it, is played
  at its natural speed scaled by the consonant velocity: it lasts
  ``consonant_ms * 2 ** ((100 - velocity) / 100)`` in the output (velocity 200:
  half as long, 0: twice as long), as in UTAU.
* **The rest** (the vowel) fills the output. If the note is no longer than the
  sample's vowel, the vowel plays at its natural speed and stops. If it is
  longer, the vowel is stretched: it starts at its natural speed, slows down
  smoothly (a raised-cosine ramp of speed over the first ``min(vowel, 100 ms)``
  of it) to the one constant speed that makes it end exactly with the note.
  Analysed frames are interpolated between (log envelope, aperiodicity, log F0),
  and WORLD synthesises the new frames, so there is no loop, no splice and no
  phase to reset: nothing to click.
* **Pitch.** Frames voiced in the sample are sung at the requested F0 (one value
  per 5 ms frame of the output, frame k at ``k * 5 ms`` after the offset point)
  times ``2 ** (t / 1200)``; frames unvoiced in the sample (consonants, breath)
  stay unvoiced. ``modulation_pct`` keeps that much of the sample's own pitch
  movement around its mean (the median F0 of the region's voiced frames, as
  UTAU resamplers take one average pitch of the sample: tn_fnds' weighted
  average, straycat's ``base_frq``): 0 sings the target exactly, 100 adds the
  sample's own intonation (its drift, jitter, transitions) transposed.
* **Formants are kept**: the spectral envelope is never moved with pitch.
* **Level.** The ``P`` peak compression normalises the output's peak toward half
  of full scale (``gain = (1 - P/100) + (P/100) * 0.5 / peak``, default P86 as
  in UTAU's resampler and Moresampler), then ``intensity_pct`` scales it (100:
  unchanged).

Flags (:func:`parse_flags`; unknown ones are ignored and listed):

* ``g`` gender, -100..100: the envelope's frequency axis is scaled by
  ``10 ** (-g / 200)`` (formants at F move to ``F * 10 ** (-g / 200)``): positive
  is lower formants, a "male"/older voice (g+10: -11%), negative higher
  (g-10: +12%). This is tn_fnds' ratio (its ``gRatio``; PyRwu's ``1 - g/100``
  agrees to first order); straycat's ``2 ** (-g / 120)`` is about half as strong.
* ``B`` breathiness, 0..100, 50 neutral: above 50 the aperiodicity of voiced
  frames is raised toward 1 above ~1 kHz (raised-cosine from 400 to 1500 Hz),
  by ``(B - 50) / 50`` of the way (B100: noise above 1.5 kHz, harmonics below);
  below 50 it is scaled by ``B / 50`` (B0: no noise in voiced frames). The same
  shape as PyRwu's B; tn_fnds mixes a separately made noise with the same ratio.
* ``t`` pitch offset in cents (-1200..1200), as Moresampler, straycat and PyRwu
  document it (``2 ** (t / 1200)``). (tn_fnds' code uses ``2 ** (t / 120)``,
  ten cents a step, against its own documentation; we follow the documented one.)
* ``P`` peak compression, 0..100, default 86 (above).

A flag's number may carry a sign and decimals; out-of-range values are clamped,
as UTAU resamplers do; when a flag is given twice the last one counts (so a
note's flags appended to the project's override them). A run of letters is one
flag name (``Mt50``, ``fe30``, ``Hb100`` are other resamplers' flags, ignored),
except that switch letters written just before one of ours (``eg-5``) are
split off, unless that letter is ``M`` (Moresampler's prefix).

Speed: only the output's frames are built (a few hundred kB of envelope) and
synthesised. A 0.5 s note takes about 21 ms on one core (2 s: 87 ms), 95% of it
WORLD's synthesis; flags add under 1 ms.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ...dsp.controls import (apply_control_curves, breath_weight, dynamics_gain, gender_factor,
                             warp_frequency)
from ...errors import InvalidValueError, VoiceError
from ...timing.align import velocity_factor
from ...validation import check_number, check_text
from .analysis import SampleAnalysis

#: the flags we apply: name -> (lowest, highest, default)
FLAG_RANGES: dict[str, tuple[float, float, float]] = {
    "g": (-100.0, 100.0, 0.0),
    "B": (0.0, 100.0, 50.0),
    "t": (-1200.0, 1200.0, 0.0),
    "P": (0.0, 100.0, 86.0),
}
#: the level P100 normalises the peak to
PEAK_TARGET = 0.5
#: the longest output asked of one call
MAX_LENGTH_MS = 600_000.0
#: the raised-cosine slow-down at the start of a stretched vowel, at most this long
STRETCH_RAMP_MS = 100.0
#: the sample's own pitch movement is clamped to this many cents either way
MAX_MODULATION_CENTS = 1200.0
#: output F0 is kept within these bounds
F0_RANGE_HZ = (20.0, 4000.0)


class ResampleError(VoiceError):
    """A request a sample cannot sing (its region is outside the file); the singer
    reports it with the oto.ini line."""


@dataclass(frozen=True, slots=True)
class ResampleRequest:
    """One resampler call, UTAU's parameters (see the module documentation)."""

    offset_ms: float
    consonant_ms: float
    cutoff_ms: float             # as written in oto.ini: <0 from the offset, >0 from the end, 0 the end
    length_ms: float             # output length wanted, from the offset point
    velocity_pct: float = 100.0  # consonant velocity 0..200
    intensity_pct: float = 100.0  # volume %, 100 = unchanged
    modulation_pct: float = 0.0  # how much of the sample's own pitch movement is kept
    flags: str = ""              # UTAU flags, e.g. "g-5B40P86t10"

    def __post_init__(self) -> None:
        own = "ResampleRequest"
        check_number(own, "offset_ms", self.offset_ms)
        check_number(own, "consonant_ms", self.consonant_ms, lo=0.0)
        check_number(own, "cutoff_ms", self.cutoff_ms)
        check_number(own, "length_ms", self.length_ms, lo=0.0, hi=MAX_LENGTH_MS)
        check_number(own, "velocity_pct", self.velocity_pct, lo=0.0, hi=200.0)
        check_number(own, "intensity_pct", self.intensity_pct, lo=0.0, hi=1000.0)
        check_number(own, "modulation_pct", self.modulation_pct, lo=-200.0, hi=200.0)
        check_text(own, "flags", self.flags)

    @property
    def consonant_scale(self) -> float:
        """How much longer the fixed region lasts in the output (:func:`velocity_factor`)."""
        return velocity_factor(self.velocity_pct)


# --------------------------------------------------------------------------- flags


class Flags(dict[str, float]):
    """The flags we apply, by name (clamped to :data:`FLAG_RANGES`); ``unknown``
    lists what was ignored, as written (``"Mt50"``, ``"g (no value)"``)."""

    __slots__ = ("unknown",)

    def __init__(self, values: dict[str, float] | None = None, unknown: tuple[str, ...] = ()) -> None:
        super().__init__(values or {})
        self.unknown = unknown

    def value(self, name: str) -> float:
        """The flag's value, or its default."""
        return float(self.get(name, FLAG_RANGES[name][2]))


_TOKEN = re.compile(r"([A-Za-z]+)([+-]?(?:\d+(?:\.\d*)?|\.\d+))?|(\s+)|(.)")


def parse_flags(flags: str) -> Flags:
    """The UTAU flags string as values (see the module documentation). Never raises
    on content: what is not one of ours is listed in ``.unknown``."""
    values: dict[str, float] = {}
    unknown: list[str] = []
    for m in _TOKEN.finditer(flags):
        run, number, space, other = m.groups()
        if space:
            continue
        if other is not None:
            unknown.append(other)
            continue
        name = run
        if name not in FLAG_RANGES and len(run) > 1 and run[-1] in FLAG_RANGES and run[-2] != "M":
            unknown.extend(run[:-1])  # switches written before one of ours: "eg-5"
            name = run[-1]
        if name not in FLAG_RANGES:
            unknown.append(run + (number or ""))
            continue
        if number is None:
            unknown.append(f"{name} (no value)")
            continue
        lo, hi, _ = FLAG_RANGES[name]
        v = float(number)
        values[name] = min(max(v, lo), hi) if math.isfinite(v) else FLAG_RANGES[name][2]
    return Flags(values, tuple(unknown))


# --------------------------------------------------------------------------- timing


def _region_ms(analysis: SampleAnalysis, request: ResampleRequest) -> tuple[float, float, float]:
    """(start, consonant end, end) of the request's region in the sample, in ms."""
    dur = analysis.duration_ms
    offset = request.offset_ms
    if offset >= dur:
        raise ResampleError(f"the offset {offset:g} ms is at or past the end of the sample ({dur:.0f} ms)")
    start = max(offset, 0.0)
    cutoff = request.cutoff_ms
    end = offset - cutoff if cutoff < 0 else dur - cutoff
    end = min(end, dur)
    if end <= start:
        raise ResampleError(f"the region is empty (offset {offset:g} ms, cutoff {cutoff:g} ms, "
                            f"sample {dur:.0f} ms)")
    return start, min(start + request.consonant_ms, end), end


def source_times_ms(times_ms: np.ndarray, *, start_ms: float, consonant_end_ms: float,
                    end_ms: float, length_ms: float, consonant_scale: float) -> np.ndarray:
    """Where in the sample (ms) each output time (ms after the offset point) is taken
    from: the fixed region at ``1 / consonant_scale`` speed, then the vowel at its
    natural speed, or slowing down smoothly when the note is longer than the vowel
    (see the module documentation). Clamped into ``[start_ms, end_ms]``. Pure."""
    tau = np.asarray(times_ms, dtype=np.float64)
    cons_out = (consonant_end_ms - start_ms) * consonant_scale
    vowel_src = end_ms - consonant_end_ms
    vowel_out = length_ms - cons_out
    u = tau - cons_out
    if vowel_out <= vowel_src or vowel_src <= 0:
        vowel = consonant_end_ms + u
    else:
        ramp = min(vowel_src, STRETCH_RAMP_MS)
        r = (vowel_src - ramp / 2) / (vowel_out - ramp / 2)  # the final speed, 0 < r < 1
        in_ramp = u < ramp
        uu = np.clip(u, 0.0, ramp)
        ramp_part = r * uu + (1 - r) / 2 * (uu + ramp / math.pi * np.sin(math.pi * uu / ramp))
        vowel = consonant_end_ms + np.where(in_ramp, ramp_part, ramp * (1 + r) / 2 + r * (u - ramp))
    cons = start_ms + tau / consonant_scale if consonant_scale > 0 else np.full_like(tau, start_ms)
    return np.clip(np.where(tau < cons_out, cons, vowel), start_ms, end_ms)


# --------------------------------------------------------------------------- the resampler


def _reference_log2_f0(analysis: SampleAnalysis, start_ms: float, end_ms: float) -> float | None:
    period_ms = analysis.frame_period_s * 1000.0
    lo = max(math.ceil(start_ms / period_ms), 0)
    hi = min(math.floor(end_ms / period_ms), analysis.frames - 1)
    f0 = analysis.f0_hz[lo:hi + 1]
    voiced = f0[f0 > 0]
    if voiced.size == 0:
        return None
    return float(np.median(np.log2(voiced)))


def _remap_bins(spectra: np.ndarray, *, from_rate_hz: int, to_rate_hz: int) -> np.ndarray:
    """Rows of a spectrum on the bins of one rate's WORLD FFT, moved onto another's
    (linear interpolation in frequency; above the old Nyquist the top bin holds)."""
    from ...dsp.world import world_fft_size

    bins_in = spectra.shape[1]
    fft_out = world_fft_size(sample_rate_hz=to_rate_hz)
    f_out = np.arange(fft_out // 2 + 1) * (to_rate_hz / fft_out)
    pos = np.minimum(f_out / (from_rate_hz / (2 * (bins_in - 1))), bins_in - 1)
    j0 = np.floor(pos).astype(np.intp)
    j1 = np.minimum(j0 + 1, bins_in - 1)
    w = pos - j0
    return spectra[:, j0] * (1 - w) + spectra[:, j1] * w


def resample(analysis: SampleAnalysis, request: ResampleRequest, f0_target_hz: np.ndarray, *,
             output_rate_hz: int | None = None, vocoder: str = "world",
             seed: int = 0, controls: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The request's region of the analysed sample sung at ``f0_target_hz`` (one
    value per 5 ms frame of the output, frame k at ``k * 5 ms`` after the offset
    point, at least ``ceil(length_ms / 5)`` values; later frames hold the last).
    Returns float32 mono samples at ``output_rate_hz`` (default
    ``analysis.sample_rate_hz``; another rate is sung directly, the envelope and
    aperiodicity moved onto its frequency bins, so no audio resampling is needed),
    through ``vocoder`` (:mod:`utagoe.dsp.vocoders`; ``seed`` seeds its noise),
    exactly ``round(length_ms * rate / 1000)`` of them, synthesised by WORLD (our own
    vocoder needs a whole number of samples a frame, and 5 ms at 44.1 kHz is
    220.5). Deterministic. Raises :class:`ResampleError` when the region is
    outside the sample. ``controls``: voice controls by name
    (:func:`utagoe.dsp.controls.apply_voice_controls`), one value per output frame
    like ``f0_target_hz``; the dynamics' gain is applied after the ``P``
    normalisation, as the note's intensity is."""
    from ...dsp.vocoders import check_vocoder, vocode_frames
    from ...dsp.world import world_synthesize

    check_vocoder(vocoder)
    in_rate = analysis.sample_rate_hz
    rate = int(output_rate_hz) if output_rate_hz else in_rate
    period_s = analysis.frame_period_s
    period_ms = period_s * 1000.0
    n_out = round(request.length_ms * rate / 1000.0)
    start, cons_end, end = _region_ms(analysis, request)
    needed = math.ceil(request.length_ms / period_ms - 1e-9)
    target = np.asarray(f0_target_hz, dtype=np.float64)
    if target.ndim != 1 or target.size < max(needed, 1):
        raise InvalidValueError(f"f0_target_hz must be 1-D with at least {max(needed, 1)} values "
                                f"(one per {period_ms:g} ms of {request.length_ms:g} ms), got shape "
                                f"{target.shape}")
    if n_out == 0:
        return np.zeros(0, dtype=np.float32)
    hop = rate * period_s
    k_frames = math.ceil(n_out / hop) + 1
    used = target[:min(k_frames, target.size)]
    if not np.all(np.isfinite(used)) or np.any(used <= 0):
        raise InvalidValueError("f0_target_hz must be finite and > 0 on every frame sung")
    target = np.concatenate([used, np.full(max(k_frames - used.size, 0), used[-1])])

    # where each output frame is taken from
    last_ms = (analysis.frames - 1) * period_ms
    src_ms = source_times_ms(np.arange(k_frames) * period_ms, start_ms=start, consonant_end_ms=cons_end,
                             end_ms=min(end, last_ms), length_ms=request.length_ms,
                             consonant_scale=request.consonant_scale)
    pos = np.clip(src_ms / period_ms, 0.0, analysis.frames - 1)
    i0 = np.floor(pos).astype(np.intp)
    i1 = np.minimum(i0 + 1, analysis.frames - 1)
    w = (pos - i0)[:, None]
    near = np.rint(pos).astype(np.intp)

    flags = parse_flags(request.flags)
    log0 = np.log(np.maximum(analysis.envelope[i0], 1e-300))
    log_env = log0 + w * (np.log(np.maximum(analysis.envelope[i1], 1e-300)) - log0)
    g = flags.value("g")
    if g != 0:
        log_env = warp_frequency(log_env, gender_factor(g))
    a0 = analysis.aperiodicity[i0]
    ap = a0 + w * (analysis.aperiodicity[i1] - a0)
    if rate != in_rate:
        # the same spectrum on the output rate's bins; WORLD's power envelope scales
        # with the rate, so the level stays
        log_env = _remap_bins(log_env, from_rate_hz=in_rate, to_rate_hz=rate) + math.log(rate / in_rate)
        ap = _remap_bins(ap, from_rate_hz=in_rate, to_rate_hz=rate)
    envelope = np.exp(log_env)

    # pitch: the target on the sample's voiced frames, with some of its own movement
    src_f0 = analysis.f0_hz
    voiced = src_f0[near] > 0
    f0 = target * 2.0 ** (flags.value("t") / 1200.0)
    ref = _reference_log2_f0(analysis, start, end)
    if request.modulation_pct != 0 and ref is not None:
        both = (src_f0[i0] > 0) & (src_f0[i1] > 0)
        safe = np.where(src_f0 > 0, src_f0, 1.0)
        log_src = np.where(both, np.log2(safe[i0]) + w[:, 0] * (np.log2(safe[i1]) - np.log2(safe[i0])),
                           np.log2(safe[near]))
        own_cents = np.clip(1200.0 * (log_src - ref), -MAX_MODULATION_CENTS, MAX_MODULATION_CENTS)
        f0 = f0 * 2.0 ** (np.where(voiced, own_cents, 0.0) * request.modulation_pct / 100.0 / 1200.0)
    f0 = np.where(voiced, np.clip(f0, *F0_RANGE_HZ), 0.0)

    b = (flags.value("B") - 50.0) / 50.0
    if b != 0:
        if b > 0:
            weight = breath_weight(ap.shape[1], sample_rate_hz=rate)
            breathy = ap + (1.0 - ap) * (b * weight)[None, :]
        else:
            breathy = ap * (1.0 + b)
        ap = np.where(voiced[:, None], breathy, ap)
    ap = np.clip(ap, 0.0, 1.0)
    gain = None
    if controls:
        per_frame = {name: _frames(np.asarray(v, dtype=np.float64), k_frames)
                     for name, v in controls.items()}
        envelope, ap = apply_control_curves(f0, envelope, ap, per_frame, sample_rate_hz=rate,
                                            level=False)
        if "dynamics_db" in per_frame:
            gain = dynamics_gain(per_frame["dynamics_db"])

    if vocoder == "world":
        y = world_synthesize(f0, envelope, ap, sample_rate_hz=rate, frame_period_s=period_s)
    else:
        if abs(rate * period_s - round(rate * period_s)) > 1e-9:
            raise InvalidValueError(f"the {vocoder!r} vocoder needs a whole number of samples per "
                                    f"{period_ms:g} ms frame; {rate} Hz gives {rate * period_s:g}: "
                                    "sing at 48000 Hz or use the 'world' vocoder")
        y = vocode_frames(vocoder, f0, envelope, ap, sample_rate_hz=rate, frame_period_s=period_s,
                          seed=seed)
    y = y[:n_out]
    if y.size < n_out:
        y = np.concatenate([y, np.zeros(n_out - y.size)])
    y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)

    p = flags.value("P") / 100.0
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if p > 0 and peak > 0:
        y = y * ((1.0 - p) + p * PEAK_TARGET / peak)
    y = y * (request.intensity_pct / 100.0)
    if gain is not None:
        y = y * np.interp(np.arange(n_out) / hop, np.arange(k_frames), gain)
    return y.astype(np.float32)


def _frames(values: np.ndarray, count: int) -> np.ndarray:
    """``values`` cut or extended (the last value held) to ``count`` frames."""
    if values.size >= count:
        return values[:count]
    return np.concatenate([values, np.full(count - values.size, values[-1] if values.size else 0.0)])


__all__ = ["FLAG_RANGES", "Flags", "ResampleError", "ResampleRequest", "parse_flags", "resample",
           "source_times_ms"]
