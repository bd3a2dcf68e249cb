"""Voice controls: dynamics, breathiness, gender, tension and voicing, applied to
a voice's per-frame WORLD parameters before the vocoder.

Every function here is pure: the inputs are never modified, and a control that
is neutral on every frame costs nothing (all neutral: the very arrays given come
back). The parameters are WORLD's layout (see :mod:`utagoe.dsp.vocoders`): per
5 ms frame an F0 in Hz (0 = unvoiced), a power spectral envelope and an
aperiodicity in 0..1 (1 = all noise), both ``(frames, fft_size // 2 + 1)``, bin
k at ``k * sample_rate_hz / fft_size``. In WORLD's model a voiced frame's
periodic part has the power ``envelope * (1 - ap**2)`` and its noise
``envelope * ap**2``: the aperiodicity moves power between the two and never
changes the level.

Level: every envelope change (warp, tilts) keeps each frame's level as the
vocoder sings it: on a voiced frame (F0 >= 50 Hz) the mean of the envelope at the
harmonics of its F0 (the pulse train's power, WORLD's level convention), on the
others the mean over the spectrum (the noise's); the correction is at most 18 dB
(:data:`LEVEL_MAX_CORRECTION`). So moving a formant across the harmonics, or
tilting the spectrum, changes the colour and not the loudness of the sound, and
``dynamics_db`` then changes the level by exactly that many dB.

Units and ranges are OpenUtau's (:data:`VOICE_CONTROL_RANGES`):

``dynamics_db`` (-24..12 dB, neutral 0; OpenUtau's ``dyn``, SynthV loudness)
    Louder or softer singing: the frame's level changes by ``dynamics_db`` and its
    spectral balance with it. Nordenberg and Sundberg (2004, "Effect on LTAS of
    vocal loudness variation", Logopedics Phoniatrics Vocology 29:183-191) found
    the long-term spectrum level at every frequency up to 4 kHz to rise linearly
    with the overall level Leq (31 untrained voices over about 28 dB), at a rate
    (their "gain factor") of about 0.5 dB per dB at low frequencies rising to about
    1.5 dB per dB at 1.5-3 kHz. We take that curve (:data:`DYNAMICS_GAIN_FACTORS`:
    0.5 at and below 200 Hz, rising linearly in log frequency to 1.5 at 1500 Hz,
    held above, where it was not measured), apply ``(factor - 1) * dynamics_db``
    dB to each bin, restore the frame's level, and then scale it by
    ``dynamics_db``: +12 dB is 12 dB louder with the bands above 1.5 kHz about 6
    dB up against the level and those below 200 Hz about 6 dB down; -12 dB the
    reverse. (Sundberg and Nordenberg 2006, JASA 120:453-457, report the matching
    change of the alpha ratio, energy above against below 1 kHz: about 12-19 dB
    over their 28 dB range, i.e. about 0.4-0.7 dB per dB; ours measures about
    0.44 dB per dB on a sung vowel and on a song, see tests/test_controls.py and
    benchmarks/bench_controls.py.) ``level=False`` leaves the overall gain out
    (the caller applies :func:`dynamics_gain` to the samples) and keeps the tilt.
    -24 dB is 24 dB down here, not silence.

``breathiness`` (-100..100, neutral 0; OpenUtau's ``brec``, SynthV breathiness)
    On voiced frames, with ``b = breathiness / 100``: above 0 the aperiodicity
    moves toward 1 by ``mix = b * w + 0.7 * b**2 * (1 - w)`` of the way
    (:data:`BREATH_LOW_MAX`), where ``w`` (:func:`breath_weight`) is a raised
    cosine from 0 at 400 Hz to 1 at 1500 Hz: the bands above 1.5 kHz turn to noise
    in proportion to ``b``, the low ones later (as ``b**2``); +100 leaves only
    noise above 1.5 kHz and, below 400 Hz, aperiodicity 0.7 or more (as much noise
    as harmonic power): a whisper with a faint pitch (the voicing control goes all
    the way). Below 0 the aperiodicity is scaled by ``1 + b`` (-100: no noise at
    all in voiced frames, a clean, buzzier voice). The negative half and the
    ``b * w`` term are our UTAU resampler's ``B`` flag (``breathiness = 2 * B - 100``).

``gender`` (-100..100, neutral 0; UTAU's ``g`` flag, VOCALOID GEN, SynthV gender)
    The envelope's frequency axis is scaled by ``10 ** (-gender / 200)``
    (:func:`gender_factor`; tn_fnds' ratio, the same as our UTAU ``g`` flag): a
    formant at F moves to ``F * factor`` (+10: 11% lower, deeper; -10: 12%
    higher; +-100: a factor of 3.16 either way), whatever the pitch, which is
    untouched. The power envelope is interpolated linearly between bins
    (:func:`warp_frequency`; the UTAU flag interpolates the log envelope, which on
    envelopes smooth over a bin comes to nearly the same, and saves a log and an
    exp here), and each frame's level restored. The aperiodicity is not warped:
    it belongs to the source (the glottis), not to the length of the vocal tract,
    and warping it would make +g breathier and -g buzzier (the UTAU ``g`` flag
    does not warp it either).

``tension`` (-100..100, neutral 0; OpenUtau's ``tenc``, SynthV tension)
    Pressed against lax phonation. In pressed phonation the glottal flow pulse is
    small against its closing rate, so the source's fundamental is weak against
    its upper partials and the spectrum flatter; in lax, breathy phonation the
    reverse (Gauffin and Sundberg 1989, "Spectral correlates of glottal voice
    source waveform characteristics", J. Speech Hear. Res. 32:556-565: the level
    of the source fundamental follows the flow pulse amplitude, the upper partials
    the maximum flow declination rate). We tilt the envelope by
    ``tension / 100 * 3`` dB per octave about 1 kHz (:data:`TENSION_DB_PER_OCTAVE`,
    held below 125 Hz and above 8 kHz: +100 is about +9 dB at 8 kHz and -10 dB at
    125 Hz against 1 kHz; our choice, of the order of the few dB per octave that
    separate breathy, modal and pressed source spectra) and restore the frame's
    level: tension is not a volume knob. On voiced frames, +100 also halves the
    aperiodicity (a cleaner, "harder" tone) and -100 moves it a quarter of the
    way to 1 above about 1 kHz (:func:`breath_weight`: a little breath).

``voicing`` (0..100, neutral 100; OpenUtau's ``voic``)
    A fade from the voiced sound to a whisper: on voiced frames the periodic
    part's share of the power, ``1 - ap**2``, is scaled by ``voicing / 100``
    (50: as much noise as harmonic power where the voice was clean; 0: all noise,
    a whisper with the same envelope and level).

Frames: the tilts and the warp apply to every frame (consonants and breaths
too); the aperiodicity controls only to voiced ones (F0 > 0), since an
unvoiced frame is all noise already. The aperiodicity changes are applied in
the order tension, breathiness, voicing.

Speed: vectorised over frames, in blocks of :data:`BLOCK_FRAMES` that reuse
the same work arrays; a control neutral on every frame is skipped, and rows
where every control acting on an array is neutral are copied, not computed.
Measured at 48 kHz on 2000-frame chunks (a busy 2-core machine, CPU time): about
4 us a frame for dynamics, breathiness or voicing alone, 9-11 for gender or
tension, 21-24 for all five as per-frame curves, against 37-44 for our vocoder;
on a song through the built-in singer, 0.27 of the vocoder's time
(benchmarks/bench_controls.py ``--mode direct``).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np

from ..errors import InvalidValueError
from ..validation import check_number

__all__ = [
    "DYNAMICS_GAIN_FACTORS",
    "TENSION_DB_PER_OCTAVE",
    "VOICE_CONTROL_RANGES",
    "apply_control_curves",
    "apply_voice_controls",
    "breath_weight",
    "dynamics_gain",
    "dynamics_tilt_db",
    "gender_factor",
    "tension_tilt_db",
    "warp_frequency",
]

#: the voice controls, OpenUtau's units: name -> (lowest, highest, neutral)
VOICE_CONTROL_RANGES: Mapping[str, tuple[float, float, float]] = MappingProxyType({
    "dynamics_db": (-24.0, 12.0, 0.0),
    "breathiness": (-100.0, 100.0, 0.0),
    "gender": (-100.0, 100.0, 0.0),
    "tension": (-100.0, 100.0, 0.0),
    "voicing": (0.0, 100.0, 100.0),
})

#: Nordenberg and Sundberg's (2004) gain factors: (frequency Hz, dB of spectrum
#: level per dB of overall level); linear in log frequency between, held outside
DYNAMICS_GAIN_FACTORS: tuple[tuple[float, float], ...] = ((200.0, 0.5), (1500.0, 1.5))
#: tension +-100 tilts the envelope by this many dB per octave ...
TENSION_DB_PER_OCTAVE = 3.0
#: ... about this frequency ...
TENSION_PIVOT_HZ = 1000.0
#: ... between these (held beyond)
TENSION_BAND_HZ = (125.0, 8000.0)
#: tension +100 scales the aperiodicity of voiced frames by 1 - this
TENSION_CLEAN = 0.5
#: tension -100 moves the aperiodicity this much of the way to 1 (times breath_weight)
TENSION_BREATH = 0.25
#: the breath band: breath_weight rises from 0 at the first frequency to 1 at the second
BREATH_BAND_HZ = (400.0, 1500.0)
#: breathiness +100 moves the aperiodicity below the breath band this much of the way to 1
BREATH_LOW_MAX = 0.7
#: frames voiced at this F0 or above keep their level at their harmonics ...
LEVEL_F0_FLOOR_HZ = 50.0
#: ... and no frame's level is corrected by more than this factor of power (18 dB)
LEVEL_MAX_CORRECTION = 10.0 ** 1.8
#: frames handled at once
BLOCK_FRAMES = 128

_OWNER = "apply_voice_controls"
_DB_TO_LN_POWER = math.log(10.0) / 10.0


# --------------------------------------------------------------------------- helpers


def _bin_frequencies_hz(bins: int, *, sample_rate_hz: float) -> np.ndarray:
    return np.arange(bins, dtype=np.float64) * (sample_rate_hz / 2.0) / (bins - 1)


def gender_factor(gender: float | np.ndarray) -> float | np.ndarray:
    """The frequency factor of a gender value: ``10 ** (-gender / 200)`` (formants at
    F move to ``F * factor``; +100: 0.316, -100: 3.16). The UTAU ``g`` flag's."""
    if np.ndim(gender) == 0:
        return float(10.0 ** (-float(gender) / 200.0))
    return 10.0 ** (-np.asarray(gender, dtype=np.float64) / 200.0)


def dynamics_gain(dynamics_db: float | np.ndarray) -> float | np.ndarray:
    """The linear amplitude gain of a dynamics value in dB, ``10 ** (dB / 20)``
    (per frame where an array is given): what :func:`apply_voice_controls` applies
    to the level unless ``level=False``."""
    if np.ndim(dynamics_db) == 0:
        return float(10.0 ** (float(dynamics_db) / 20.0))
    return 10.0 ** (np.asarray(dynamics_db, dtype=np.float64) / 20.0)


def warp_frequency(log_env: np.ndarray, factor: float | np.ndarray) -> np.ndarray:
    """Move every feature of each row at bin k to bin ``k * factor`` (linear
    interpolation of the rows' values; the top bin held beyond the end).

    ``log_env``: (frames, bins), best a log envelope. ``factor``: one number > 0
    for every row, or one per row. A new array; the input is not modified. (The
    UTAU resampler's ``g`` flag warps with ``gender_factor(g)``.)
    """
    log_env = np.asarray(log_env)
    if log_env.ndim != 2:
        raise InvalidValueError(f"warp_frequency needs (frames, bins), got shape {log_env.shape}")
    bins = log_env.shape[1]
    if np.ndim(factor) == 0:
        f = check_number("warp_frequency", "factor", _scalar(factor), lo=0.0, lo_open=True)
        src = np.arange(bins, dtype=np.float64) / f
        src = np.minimum(src, bins - 1)
        j0 = np.floor(src).astype(np.intp)
        j1 = np.minimum(j0 + 1, bins - 1)
        frac = src - j0
        return log_env[:, j0] * (1 - frac) + log_env[:, j1] * frac
    fs = np.asarray(factor, dtype=np.float64)
    if fs.shape != (log_env.shape[0],):
        raise InvalidValueError(f"warp_frequency.factor must be one number or one per row "
                                f"({log_env.shape[0]}), got shape {fs.shape}")
    if not np.all(np.isfinite(fs) & (fs > 0)):
        raise InvalidValueError("warp_frequency.factor must be finite numbers > 0")
    rows = log_env.shape[0]
    out = np.empty((rows, bins), dtype=np.result_type(log_env.dtype, np.float64))
    _warp_rows_into(log_env, fs, out, np.empty((rows, bins)), np.empty((rows, bins)),
                    np.empty((rows, bins), dtype=np.intp))
    return out


def _warp_rows_into(rows_in: np.ndarray, factors: np.ndarray, out: np.ndarray, work: np.ndarray,
                    upper: np.ndarray, index: np.ndarray) -> None:
    """:func:`warp_frequency` with one factor per row, written into ``out``, using
    the scratch arrays given (all (rows, bins), ``index`` of intp): no temporaries
    as large as the rows, so blocks of frames cost no memory churn. Every value is
    computed as the one-factor case computes it (the same bytes)."""
    rows, bins = rows_in.shape
    flat = np.ascontiguousarray(rows_in).reshape(-1)
    # the source position of each bin, its bin below (at most bins - 2, so the one
    # above stays in the row; at the top the fraction is 1: the top bin comes out)
    np.divide(np.arange(bins, dtype=np.float64)[None, :], factors[:, None], out=work)
    np.minimum(work, bins - 1, out=work)
    np.copyto(index, work, casting="unsafe")
    np.minimum(index, bins - 2, out=index)
    work -= index
    index += (np.arange(rows, dtype=np.intp) * bins)[:, None]
    np.take(flat, index, out=out, mode="clip")
    index += 1
    np.take(flat, index, out=upper, mode="clip")
    upper *= work
    np.subtract(1.0, work, out=work)
    out *= work
    out += upper


def breath_weight(bins: int, *, sample_rate_hz: float) -> np.ndarray:
    """Per bin, how much breath a band takes first: a raised cosine from 0 at
    400 Hz to 1 at 1500 Hz (:data:`BREATH_BAND_HZ`). The UTAU ``B`` flag's shape."""
    freqs = _bin_frequencies_hz(bins, sample_rate_hz=sample_rate_hz)
    lo, hi = BREATH_BAND_HZ
    x = np.clip((freqs - lo) / (hi - lo), 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def dynamics_tilt_db(bins: int, *, sample_rate_hz: float) -> np.ndarray:
    """Per bin, the dB the envelope moves against the frame's level per dB of
    dynamics: ``gain factor - 1`` (-0.5 at and below 200 Hz, +0.5 from 1500 Hz up;
    :data:`DYNAMICS_GAIN_FACTORS`, after Nordenberg and Sundberg 2004)."""
    freqs = np.maximum(_bin_frequencies_hz(bins, sample_rate_hz=sample_rate_hz), 1.0)
    (f_lo, g_lo), (f_hi, g_hi) = DYNAMICS_GAIN_FACTORS
    x = np.clip((np.log2(freqs) - math.log2(f_lo)) / (math.log2(f_hi) - math.log2(f_lo)), 0.0, 1.0)
    return g_lo + (g_hi - g_lo) * x - 1.0


def tension_tilt_db(bins: int, *, sample_rate_hz: float) -> np.ndarray:
    """Per bin, the dB the envelope moves per unit of tension (tension 100 times
    this is the full tilt): :data:`TENSION_DB_PER_OCTAVE` / 100 per octave above
    :data:`TENSION_PIVOT_HZ` (negative below), held outside :data:`TENSION_BAND_HZ`."""
    freqs = np.maximum(_bin_frequencies_hz(bins, sample_rate_hz=sample_rate_hz), 1.0)
    lo, hi = TENSION_BAND_HZ
    octaves = np.log2(np.clip(freqs, lo, hi) / TENSION_PIVOT_HZ)
    return octaves * (TENSION_DB_PER_OCTAVE / 100.0)


# --------------------------------------------------------------------------- checks


def _scalar(value: object) -> object:
    """A 0-d array as its Python number (so the range check sees a number)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    return value


def _per_frame(name: str, value: object, n_frames: int) -> np.ndarray | None:
    """The control as one value per frame, or None when it is neutral on every
    frame; raises InvalidValueError naming the control and its range."""
    lo, hi, neutral = VOICE_CONTROL_RANGES[name]
    value = _scalar(value)
    if not isinstance(value, (list, tuple, np.ndarray)):
        v = check_number(_OWNER, name, value, lo=lo, hi=hi)
        return None if v == neutral else np.full(n_frames, v)
    expected = f"a finite number >= {lo:g} and <= {hi:g}, or one per frame ({n_frames})"
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{_OWNER}.{name} must be {expected}, got {value!r:.60}") from None
    if arr.shape != (n_frames,):
        raise InvalidValueError(f"{_OWNER}.{name} must be {expected}, got shape {arr.shape}")
    bad = ~(np.isfinite(arr) & (arr >= lo) & (arr <= hi))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise InvalidValueError(f"{_OWNER}.{name} must be {expected}, got {arr[i]!r} at frame {i}")
    if np.all(arr == neutral):
        return None
    return arr


def _check_frames(f0_hz: object, spectrogram: object, aperiodicity: object
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    f0 = np.asarray(f0_hz)
    sp = np.asarray(spectrogram)
    ap = np.asarray(aperiodicity)
    if f0.ndim != 1:
        raise InvalidValueError(f"{_OWNER}: f0_hz must be one value per frame, got shape {f0.shape}")
    if sp.ndim != 2 or sp.shape[0] != f0.shape[0] or sp.shape[1] < 2:
        raise InvalidValueError(f"{_OWNER}: spectrogram must be (frames, bins) with {f0.shape[0]} "
                                f"frames and at least 2 bins, got shape {sp.shape}")
    if ap.shape != sp.shape:
        raise InvalidValueError(f"{_OWNER}: aperiodicity must have the spectrogram's shape "
                                f"{sp.shape}, got {ap.shape}")
    return f0, sp, ap


# --------------------------------------------------------------------------- the controls


def _uniform(values: np.ndarray | None) -> bool:
    return values is None or bool(np.all(values == values[0]))


class _Scratch:
    """Work arrays for one call, reused block after block (numpy's temporaries of
    about a megabyte each, allocated and freed a few dozen times a block, can make
    the C allocator hand memory back and fault it in again, which costs more than
    the arithmetic). ``take(name, rows, cols)`` is a C-contiguous (rows, cols) view."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._arrays: dict[str, np.ndarray] = {}

    def take(self, name: str, rows: int, cols: int, dtype: type = np.float64) -> np.ndarray:
        a = self._arrays.get(name)
        if a is None or a.size < rows * cols:
            a = np.empty(max(self._size, rows * cols), dtype=dtype)
            self._arrays[name] = a
        return a[:rows * cols].reshape(rows, cols)


def _harmonic_table(f0_hz: np.ndarray, *, bins: int, sample_rate_hz: float, scratch: _Scratch
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Where the harmonics of the frames voiced at :data:`LEVEL_F0_FLOOR_HZ` or
    above fall among the bins: (those frames, flat index of the bin below each
    harmonic, the fraction towards the next, 1 up to Nyquist and 0 beyond)."""
    rows = np.flatnonzero(f0_hz >= LEVEL_F0_FLOOR_HZ)
    if rows.size == 0:
        return None
    nyquist_hz = sample_rate_hz / 2.0
    k_max = max(1, int(nyquist_hz // float(f0_hz[rows].min())))
    bin_hz = nyquist_hz / (bins - 1)
    pos = scratch.take("h_pos", rows.size, k_max)
    np.multiply(np.arange(1, k_max + 1, dtype=np.float64)[None, :], (f0_hz[rows] / bin_hz)[:, None], out=pos)
    inside = scratch.take("h_inside", rows.size, k_max)
    np.less_equal(pos, bins - 1, out=inside)
    np.minimum(pos, bins - 1, out=pos)
    below = scratch.take("h_below", rows.size, k_max, np.intp)
    np.copyto(below, pos, casting="unsafe")
    np.minimum(below, bins - 2, out=below)
    pos -= below
    below += (rows * bins)[:, None]
    return rows, below, pos, inside


def _frame_level(spectrogram: np.ndarray, harmonics, scratch: _Scratch) -> np.ndarray:
    """Each row's level as the vocoder sings it, up to a constant factor per row
    that does not depend on the envelope: the mean of the envelope at the
    harmonics of F0 on voiced rows (the pulse train's power), the mean over the
    two-sided spectrum (the end bins count half) on the others (the noise's)."""
    level = spectrogram.sum(axis=1) - 0.5 * (spectrogram[:, 0] + spectrogram[:, -1])
    if harmonics is not None:
        rows, below, frac, inside = harmonics
        flat = np.ascontiguousarray(spectrogram).reshape(-1)
        lower = scratch.take("h_lower", *below.shape)
        upper = scratch.take("h_upper", *below.shape)
        np.take(flat, below, out=lower, mode="clip")
        below += 1
        np.take(flat, below, out=upper, mode="clip")
        below -= 1
        upper -= lower
        upper *= frac
        lower += upper
        lower *= inside
        level[rows] = lower.sum(axis=1)
    return level


def _envelope_rows(sp: np.ndarray, f0_hz: np.ndarray, out: np.ndarray, scratch: _Scratch, *,
                   sample_rate_hz: float, gender: np.ndarray | None, dynamics: np.ndarray | None,
                   tension: np.ndarray | None, level: bool, dyn_shape: np.ndarray,
                   ten_shape: np.ndarray) -> None:
    """The new envelope of some frames (rows of ``sp``), written into ``out``; the
    per-row controls are given for those rows (None: neutral there)."""
    rows, bins = sp.shape
    if gender is not None:
        # the power itself is interpolated (not its log, as the UTAU g flag does): on
        # envelopes smooth over a bin the two agree closely, and this skips a log and an exp
        _warp_rows_into(sp, np.asarray(gender_factor(gender)), out, scratch.take("a", rows, bins),
                        scratch.take("b", rows, bins), scratch.take("index", rows, bins, np.intp))
    else:
        np.copyto(out, sp)
    # the tilt, natural log of power per bin: one row for all, or one per frame
    tilts = [(amounts, shape) for amounts, shape in ((dynamics, dyn_shape), (tension, ten_shape))
             if amounts is not None]
    if tilts and all(_uniform(amounts) for amounts, _ in tilts):
        out *= np.exp(sum(amounts[0] * _DB_TO_LN_POWER * shape for amounts, shape in tilts))
    elif tilts:
        tilt = scratch.take("a", rows, bins)
        part = scratch.take("b", rows, bins)
        tilt.fill(0.0)
        for amounts, shape in tilts:
            np.multiply((amounts * _DB_TO_LN_POWER)[:, None], shape[None, :], out=part)
            tilt += part
        np.exp(tilt, out=tilt)
        out *= tilt
    # each frame back to its own level as sung (at its harmonics where voiced)
    harmonics = _harmonic_table(f0_hz, bins=bins, sample_rate_hz=sample_rate_hz, scratch=scratch)
    before = _frame_level(sp, harmonics, scratch)
    after = _frame_level(out, harmonics, scratch)
    scale = np.divide(before, after, out=np.ones_like(before), where=after > 0)
    np.clip(scale, 1.0 / LEVEL_MAX_CORRECTION, LEVEL_MAX_CORRECTION, out=scale)
    if level and dynamics is not None:
        scale = scale * 10.0 ** (dynamics / 10.0)
    out *= scale[:, None]


def _aperiodicity_steps(rows: int, *, breathiness: np.ndarray | None, tension: np.ndarray | None,
                        weight: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tension's and breathiness's changes of the aperiodicity on bins whose breath
    weight is ``weight`` (one number, or one per bin), as ``ap -> ap * A + B`` with
    ``A`` and ``B`` per row (and per bin)."""
    w = np.asarray(weight, dtype=np.float64)[None, ...] if np.ndim(weight) else float(weight)
    a_mul, b_add = np.ones((rows, 1)), np.zeros((rows, 1))
    if tension is not None:
        t = tension[:, None] / 100.0
        # pressed: ap * (1 - c t); lax: ap + (1 - ap) * lax_mix
        lax_mix = (TENSION_BREATH * np.clip(-t, 0.0, None)) * w
        a_mul = (1.0 - TENSION_CLEAN * np.clip(t, 0.0, None)) * (1.0 - lax_mix)
        b_add = lax_mix + 0.0 * a_mul
    if breathiness is not None:
        b = breathiness[:, None] / 100.0
        more = np.clip(b, 0.0, None)
        keep = 1.0 - np.clip(-b, 0.0, None)          # less: ap * (1 + b)
        mix = more * w + (BREATH_LOW_MAX * more * more) * (1.0 - w)   # more: ap + (1 - ap) * mix
        a_mul = a_mul * keep * (1.0 - mix)
        b_add = b_add * keep * (1.0 - mix) + mix
    return a_mul, b_add


def _aperiodicity_rows(ap: np.ndarray, out: np.ndarray, *, breathiness: np.ndarray | None,
                       tension: np.ndarray | None, voicing: np.ndarray | None,
                       weight: np.ndarray) -> None:
    """The new aperiodicity of some voiced frames (rows of ``ap``), written into
    ``out``: tension, then breathiness (affine in ap per row on the bins below and
    above the breath band, per bin within it), then voicing."""
    np.copyto(out, ap)
    rows = out.shape[0]
    if tension is not None or breathiness is not None:
        low = int(np.searchsorted(weight, 0.0, side="right"))     # weight 0 below
        high = int(np.searchsorted(weight, 1.0, side="left"))     # weight 1 from here
        for cols, w in ((slice(0, low), 0.0), (slice(low, high), weight[low:high]),
                        (slice(high, None), 1.0)):
            a_mul, b_add = _aperiodicity_steps(rows, breathiness=breathiness, tension=tension, weight=w)
            part = out[:, cols]
            part *= a_mul
            part += b_add
    if voicing is not None:
        # the periodic share 1 - ap**2 scaled by v: ap**2 -> (1 - v) + v * ap**2
        v = (voicing / 100.0)[:, None]
        out *= out
        out *= v
        out += 1.0 - v
        np.sqrt(out, out=out)
    np.clip(out, 0.0, 1.0, out=out)


def _rows(values: np.ndarray | None, rows: slice | np.ndarray) -> np.ndarray | None:
    """The control on some rows (None: neutral on every frame)."""
    if values is None:
        return None
    return values[rows]


def _by_blocks(x: np.ndarray, active: np.ndarray,
               compute: Callable[[slice | np.ndarray, np.ndarray], None]) -> np.ndarray:
    """A new float64 array: ``compute(rows, out)`` writes the new values of the
    active rows of ``x`` into ``out``, block by block (small blocks keep the work
    arrays in cache); the other rows are copied."""
    n, bins = x.shape
    out = np.empty((n, bins), dtype=np.float64)
    spare = np.empty((BLOCK_FRAMES, bins))
    for b0 in range(0, n, BLOCK_FRAMES):
        b1 = min(b0 + BLOCK_FRAMES, n)
        block = slice(b0, b1)
        act = active[block]
        if act.all():
            compute(block, out[block])
            continue
        if 2 * np.count_nonzero(act) >= act.size:
            # mostly active: compute the block, then put the others back
            compute(block, out[block])
            rest = b0 + np.flatnonzero(~act)
            out[rest] = x[rest]
        else:
            out[block] = x[block]
            if act.any():
                rows = b0 + np.flatnonzero(act)
                part = spare[:rows.size]
                compute(rows, part)
                out[rows] = part
    return out


def apply_voice_controls(f0_hz: np.ndarray, spectrogram: np.ndarray, aperiodicity: np.ndarray, *,
                         sample_rate_hz: int, dynamics_db: float | np.ndarray = 0.0,
                         breathiness: float | np.ndarray = 0.0, gender: float | np.ndarray = 0.0,
                         tension: float | np.ndarray = 0.0, voicing: float | np.ndarray = 100.0,
                         level: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """New ``(spectrogram, aperiodicity)`` with the voice controls applied (see the
    module documentation for what each does and its units).

    ``f0_hz`` (frames,), 0 = unvoiced; ``spectrogram`` (power) and ``aperiodicity``
    (0..1) both (frames, fft_size // 2 + 1), WORLD's layout, bins at
    ``k * sample_rate_hz / fft_size``. Each control is one number or one value per
    frame, within :data:`VOICE_CONTROL_RANGES` (else :class:`InvalidValueError`,
    naming it). ``level=False`` leaves out the dynamics' overall gain (the caller
    applies :func:`dynamics_gain` as a sample gain, e.g. after a peak
    normalisation), keeping its tilt.

    Controls neutral on every frame change nothing: all neutral returns the very
    arrays given; an output that no control touches is the input array itself.
    The inputs are never modified. Frames where every control acting on an
    output is neutral keep their input values exactly.
    """
    f0, sp, ap = _check_frames(f0_hz, spectrogram, aperiodicity)
    rate = check_number(_OWNER, "sample_rate_hz", _scalar(sample_rate_hz), lo=0.0, lo_open=True)
    if not isinstance(level, bool):
        raise InvalidValueError(f"{_OWNER}.level must be True or False, got {level!r:.60}")
    n, bins = sp.shape
    dyn = _per_frame("dynamics_db", dynamics_db, n)
    bre = _per_frame("breathiness", breathiness, n)
    gen = _per_frame("gender", gender, n)
    ten = _per_frame("tension", tension, n)
    voi = _per_frame("voicing", voicing, n)

    # the envelope: gender (warp), dynamics and tension (tilt; dynamics' gain)
    neutral = VOICE_CONTROL_RANGES
    env_active = np.zeros(n, dtype=bool)
    for name, values in (("gender", gen), ("dynamics_db", dyn), ("tension", ten)):
        if values is not None:
            env_active |= values != neutral[name][2]
    new_sp: np.ndarray = sp
    if np.any(env_active):
        f0_level = np.where(np.isfinite(f0), f0, 0.0).astype(np.float64)
        dyn_shape = dynamics_tilt_db(bins, sample_rate_hz=rate)
        ten_shape = tension_tilt_db(bins, sample_rate_hz=rate)

        scratch = _Scratch(BLOCK_FRAMES * bins)

        def new_envelope(rows: slice | np.ndarray, out: np.ndarray) -> None:
            _envelope_rows(sp[rows], f0_level[rows], out, scratch, sample_rate_hz=rate,
                           gender=_rows(gen, rows), dynamics=_rows(dyn, rows),
                           tension=_rows(ten, rows), level=level,
                           dyn_shape=dyn_shape, ten_shape=ten_shape)

        new_sp = _by_blocks(sp, env_active, new_envelope)

    # the aperiodicity of voiced frames: tension, breathiness, voicing
    ap_active = np.zeros(n, dtype=bool)
    for name, values in (("tension", ten), ("breathiness", bre), ("voicing", voi)):
        if values is not None:
            ap_active |= values != neutral[name][2]
    ap_active &= f0 > 0
    new_ap: np.ndarray = ap
    if np.any(ap_active):
        weight = breath_weight(bins, sample_rate_hz=rate)

        def new_aperiodicity(rows: slice | np.ndarray, out: np.ndarray) -> None:
            _aperiodicity_rows(ap[rows], out, breathiness=_rows(bre, rows), tension=_rows(ten, rows),
                               voicing=_rows(voi, rows), weight=weight)

        new_ap = _by_blocks(ap, ap_active, new_aperiodicity)
    return new_sp, new_ap


def apply_control_curves(f0_hz: np.ndarray, spectrogram: np.ndarray, aperiodicity: np.ndarray,
                         curves: Mapping[str, float | np.ndarray], *, sample_rate_hz: int,
                         level: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """:func:`apply_voice_controls` with the controls given by name (a phrase's
    curves, say ``{"gender": per_frame_values}``); a name missing is neutral, an
    unknown one raises :class:`InvalidValueError` listing the known ones."""
    unknown = sorted(set(curves) - set(VOICE_CONTROL_RANGES))
    if unknown:
        raise InvalidValueError(f"{_OWNER}: unknown control(s) {', '.join(map(repr, unknown))}; "
                                f"known: {', '.join(VOICE_CONTROL_RANGES)}")

    def get(name: str) -> float | np.ndarray:
        return curves.get(name, VOICE_CONTROL_RANGES[name][2])

    return apply_voice_controls(f0_hz, spectrogram, aperiodicity, sample_rate_hz=sample_rate_hz,
                                dynamics_db=get("dynamics_db"), breathiness=get("breathiness"),
                                gender=get("gender"), tension=get("tension"), voicing=get("voicing"),
                                level=level)
