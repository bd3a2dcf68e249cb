"""A vectorised source-filter vocoder: WORLD's signal model, synthesised in batches.

:func:`synthesize` takes the arrays ``pyworld.synthesize`` takes (per frame an F0
in Hz, 0 = unvoiced, a power spectral envelope and a band aperiodicity, both
``(frames, fft_size // 2 + 1)``) and returns a waveform at the same level, in a
fraction of WORLD's time (see benchmarks/bench_vocoder.py).

The model
---------
*Periodic part.* F0 is piecewise linear in time: within a voiced run it is
interpolated linearly (in Hz) between frame centres and held over the half frame
at each end of the run; frame ``k`` is voiced over ``[k - 1/2, k + 1/2)`` hops.
The glottal phase is integrated exactly over that curve (it is quadratic in
time) from 0 at the first sample of each voiced run, and a pulse falls wherever
it reaches a whole cycle: pulse times are real numbers of samples, continuous
across frames whatever the glide (:func:`pulse_times`). Each pulse has height
``sqrt(period)`` (unit-power excitation) and the response of the minimum-phase
filter whose power is ``envelope * (1 - ap**2)``, interpolated linearly (complex
spectra, i.e. cross-faded impulse responses) between the two frames around the
pulse; an unvoiced frame counts as zero there, so pulses fade out over the half
frame at a voicing edge, as in WORLD.

Each frame's minimum-phase spectrum is computed once, from the real cepstrum
of its envelope (a DCT-I), folded and evaluated by a zero-padded rFFT directly
on the grid of a "tile" FFT of ``tile_fft`` points (at 48 kHz / 5 ms: 1350 for
WORLD's 2048-point envelopes, 864 for the built-in singers' 1024 points) --
exactly the filter WORLD builds, nothing interpolated. The pulses that start
within the hop after frame ``k``'s centre make up tile ``k``: their fractional
delays are linear phases (from two tables: whole samples, and 1/128 sample
steps) summed into two spectra ``A`` and ``B``, weighted by each pulse's height
and interpolation weight, so the tile's spectrum is ``G[k] * A + G[k+1] * B``.
One batched inverse rFFT per block turns the tiles into waveforms, overlap-added
at a stride of one hop. A response thus keeps at least ``tile_fft - hop - 33``
samples (1077 at 48 kHz with 2048-point envelopes, 591 with 1024; on sakura
the HTS singer's responses have a median -65 dB, at worst -47 dB, of their
energy beyond 1077, and -58 / -42 dB beyond 591, measured on each envelope's
own cepstrum); the rest wraps round to just before its
pulse. As in WORLD, each pulse's response is then made to sum to zero by
subtracting its sum times a Hann window of ``fft_size`` samples centred on the
pulse (this changes only the spectrum below ~50 Hz, and keeps the pulse train's
DC from stepping at voicing edges); that correction is smooth, so it is built
on a coarse grid and interpolated.

*Aperiodic part.* Each frame draws its own white noise, as a spectrum (seeded,
independent uniform real and imaginary parts per bin; see :class:`_NoiseSpectra`),
filtered in the frequency domain by the amplitude ``sqrt(envelope) * ap``
(voiced frames) or ``sqrt(envelope)`` (unvoiced frames), turned into two hops
of samples centred on the frame time, windowed by a sine window and
overlap-added at a stride of one hop. The squared windows sum to exactly 1 and
the frames' noises are independent, so the noise keeps its power, and the
filter cross-fades from frame to frame over one hop, also across voicing edges.

Level convention
----------------
WORLD's: the excitation has unit power (pulses of height ``sqrt(period in
samples)``, unit-variance noise), so noise through an envelope ``P(omega)``
has the mean square of ``P`` averaged over the two-sided spectrum, and a pulse
train that average taken at its harmonics (the same where ``P`` is smooth
over F0). ``pyworld.synthesize`` gives the same level for the same inputs
(measured within 0.1 dB on voiced frames, a few tenths of a dB on steady
unvoiced ones); an HTS power envelope divided by ``32768**2`` (see
:mod:`utagoe.dsp.mcep`) gives samples in [-1, 1].

Everything is vectorised (no Python loop per frame or per pulse) and runs in
blocks of ``BLOCK_FRAMES`` frames, so temporaries stay small on long inputs;
the transforms run in single precision, the output is float64. The same
inputs and ``seed`` give the same bytes.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from . import fft as sfft
from .hashing import splitmix64, stream_key

__all__ = ["synthesize", "pulse_times"]

#: frames handled per block (small blocks keep the temporaries in cache)
BLOCK_FRAMES = 128
#: samples a tile keeps before its first pulse, for the ringing of fractional delays
_PRE_SAMPLES = 32
#: fractional delays are quantised to 1/_FRAC_STEPS sample
_FRAC_STEPS = 128
#: added to the periodic power before its logarithm (WORLD's kMySafeGuardMinimum)
_SAFE_POWER = 1e-12


def pulse_times(f0_hz: np.ndarray, *, sample_rate_hz: int,
                frame_period_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Glottal pulse times for a per-frame F0 track (0 = unvoiced).

    Frame ``k`` is centred on sample ``k * hop`` (``hop = sample_rate_hz *
    frame_period_s``) and voiced over ``[k*hop - hop/2, k*hop + hop/2)``; the
    last frame's span runs on to ``len(f0_hz) * hop``. Within a voiced run F0
    is linear between frame centres and constant over the half frames at the
    run's ends; the phase, integrated exactly, starts at 0 on the run's first
    sample and a pulse falls wherever it reaches a whole number of cycles.

    Returns ``(times_samples, f0_at_pulse_hz)``, both float64 and sorted; the
    times are in samples from the first frame's centre, in
    ``[0, len(f0_hz) * hop)``.
    """
    f0 = np.asarray(f0_hz, dtype=np.float64).reshape(-1)
    fs = float(sample_rate_hz)
    hop = fs * float(frame_period_s)
    n = f0.shape[0]
    if n == 0:
        return np.zeros(0), np.zeros(0)
    voiced = f0 > 0.0
    f = np.where(voiced, f0, 0.0)
    prev_v = np.concatenate([[False], voiced[:-1]])
    next_v = np.concatenate([voiced[1:], [False]])
    f_prev = np.concatenate([[0.0], f[:-1]])
    f_next = np.concatenate([f[1:], [0.0]])
    f_left = np.where(prev_v, 0.5 * (f_prev + f), f)   # F0 at k*hop - hop/2
    f_right = np.where(next_v, 0.5 * (f + f_next), f)  # F0 at k*hop + hop/2

    # two segments per frame: left half [k hop - hop/2, k hop), right half [k hop, k hop + hop/2)
    k = np.arange(n, dtype=np.float64)
    start = np.empty(2 * n)
    dur = np.full(2 * n, 0.5 * hop)
    fa = np.empty(2 * n)
    fb = np.empty(2 * n)
    start[0::2] = k * hop - 0.5 * hop
    start[1::2] = k * hop
    fa[0::2], fb[0::2] = f_left, f
    fa[1::2], fb[1::2] = f, f_right
    start[0], dur[0] = 0.0, 0.0          # nothing before the first frame's centre
    dur[-1] = hop                        # the last frame holds until n * hop
    seg_voiced = np.repeat(voiced, 2)
    dur[~seg_voiced] = 0.0

    cycles = dur * (fa + fb) / (2.0 * fs)
    edges = np.concatenate([[0.0], np.cumsum(cycles)])  # cycles at segment starts (and the end)
    # restart the phase at each voiced run: subtract the run's starting cycle count
    run_start = seg_voiced & ~np.concatenate([[False], seg_voiced[:-1]])
    run_id = np.cumsum(run_start) - 1
    base = edges[:-1][run_start]
    if base.size == 0:
        return np.zeros(0), np.zeros(0)
    seg_base = base[np.maximum(run_id, 0)]
    rel_lo = edges[:-1] - seg_base
    rel_hi = edges[1:] - seg_base
    first = np.ceil(rel_lo)
    count = np.where(seg_voiced, np.ceil(rel_hi) - first, 0.0).astype(np.int64)
    np.maximum(count, 0, out=count)
    total = int(count.sum())
    if total == 0:
        return np.zeros(0), np.zeros(0)
    seg = np.repeat(np.arange(2 * n), count)
    offsets = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    r = first[seg] + offsets - rel_lo[seg]  # cycles still to go within the segment, >= 0
    np.maximum(r, 0.0, out=r)
    b = fa[seg] / fs
    a = (fb[seg] - fa[seg]) / (2.0 * dur[seg] * fs)
    disc = np.sqrt(np.maximum(b * b + 4.0 * a * r, 0.0))
    s = 2.0 * r / (b + disc)  # root of a s^2 + b s = r, stable for a -> 0
    np.clip(s, 0.0, dur[seg], out=s)
    t = start[seg] + s
    f_at = fa[seg] + (fb[seg] - fa[seg]) * s / dur[seg]
    return t, f_at


@lru_cache(maxsize=8)
def _tile_tables(hop: int, tile_fft: int):
    """Delay phases for the tiles (read-only): ``int_phase[n]`` delays by
    ``_PRE_SAMPLES + n`` samples, ``frac_phase[q]`` by ``q / _FRAC_STEPS``."""
    k = np.arange(tile_fft // 2 + 1)
    # a whole-sample delay n turns bin k by 2 pi (n k mod N) / N: N angles in all
    turn = np.exp(-2j * np.pi * np.arange(tile_fft) / tile_fft).astype(np.complex64)
    int_phase = turn[np.outer(_PRE_SAMPLES + np.arange(hop), k) % tile_fft]
    theta = np.outer(np.arange(_FRAC_STEPS + 1) / _FRAC_STEPS, 2.0 * np.pi * k / tile_fft)
    frac_phase = np.empty(theta.shape, dtype=np.complex64)
    frac_phase.real = np.cos(theta)
    frac_phase.imag = -np.sin(theta)
    for x in (int_phase, frac_phase):
        x.flags.writeable = False
    return int_phase, frac_phase


@lru_cache(maxsize=16)
def _bin_map(n_bins: int, target_fft: int):
    """Linear interpolation from ``n_bins`` envelope bins onto a ``target_fft``-point
    rFFT grid: ``value = env[:, lo] * (1 - w) + env[:, lo + 1] * w`` (read-only)."""
    fft_size = 2 * (n_bins - 1)
    pos = np.arange(target_fft // 2 + 1) * (fft_size / target_fft)
    lo = np.minimum(np.floor(pos).astype(np.int64), n_bins - 2)
    w = (pos - lo).astype(np.float32)
    lo.flags.writeable = False
    w.flags.writeable = False
    return lo, w


@lru_cache(maxsize=8)
def _sine_window(hop: int) -> np.ndarray:
    """Sine window of two hops: its square overlap-adds to 1 at a stride of one hop."""
    window = np.sin(np.pi * (np.arange(2 * hop) + 0.5) / (2 * hop)).astype(np.float32)
    window.flags.writeable = False
    return window


@lru_cache(maxsize=8)
def _dc_kernel(width: int, step: int) -> np.ndarray:
    """WORLD's DC remover (a Hann window ``width`` samples wide, centred on the
    pulse, summing to 1 over all samples) at every ``step``-th sample."""
    full = 0.5 + 0.5 * np.cos(2.0 * np.pi * np.arange(-(width // 2), width // 2 + 1) / (width + 1))
    kernel = full[::step] / full.sum()
    kernel.flags.writeable = False
    return kernel


def _to_grid(values: np.ndarray, lo: np.ndarray, w: np.ndarray) -> np.ndarray:
    out = values[:, lo + 1] * w
    out += values[:, lo] * (1.0 - w)
    return out


def _periodic_spectra(power: np.ndarray, *, tile_fft: int) -> np.ndarray:
    """Minimum-phase spectra (rows, tile_fft//2+1), complex64, on the tile's rFFT grid,
    of the filters whose power on the envelope's bins is ``power`` (float32).

    Through the real cepstrum: ``c = irfft(log|H|)`` (a DCT-I of the log
    amplitude); the minimum-phase filter has the folded cepstrum ``c[0], 2 c[1:N/2],
    c[N/2]``, and its log spectrum at any frequency is that cosine-and-sine series,
    so a zero-padded rFFT of the folded cepstrum evaluates it on the tile grid
    exactly (no interpolation of the envelope).
    """
    n_bins = power.shape[1]
    fft_size = 2 * (n_bins - 1)
    power += _SAFE_POWER
    log_amp = np.log(power)
    log_amp *= 0.5 / fft_size
    cep = sfft.dct1(log_amp)                               # irfft(log_amp)[: n_bins]
    cep[:, 1:-1] *= 2.0
    log_spec = sfft.rfft(cep, n=tile_fft, axis=1)
    mag = np.exp(log_spec.real)
    arg = np.ascontiguousarray(log_spec.imag)
    spec = np.empty(log_spec.shape, dtype=np.complex64)
    spec.real = mag * np.cos(arg)
    spec.imag = mag * np.sin(arg)
    return spec


def _as_float(x) -> np.ndarray:
    """float32 or float64 as given (no copy of a big array); anything else as float64."""
    x = np.asarray(x)
    return x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)


def _check_inputs(f0_hz, power_envelope, aperiodicity, sample_rate_hz, frame_period_s):
    f0 = np.asarray(f0_hz, dtype=np.float64)
    sp = _as_float(power_envelope)
    ap = _as_float(aperiodicity)
    if f0.ndim != 1:
        raise ValueError(f"f0_hz must be 1-D (frames,), got shape {f0.shape}")
    if sp.ndim != 2 or sp.shape[1] < 3 or sp.shape[1] % 2 == 0:
        raise ValueError(f"power_envelope must be (frames, fft_size//2 + 1) for an even "
                         f"fft_size >= 4, got shape {sp.shape}")
    if ap.shape != sp.shape:
        raise ValueError(f"aperiodicity has shape {ap.shape} but power_envelope has {sp.shape}")
    if sp.shape[0] != f0.shape[0]:
        raise ValueError(f"frame counts differ: f0 {f0.shape[0]}, envelope {sp.shape[0]}")
    if isinstance(sample_rate_hz, bool) or not isinstance(sample_rate_hz, (int, np.integer)) \
            or sample_rate_hz <= 0:
        raise ValueError(f"sample_rate_hz must be a positive integer, got {sample_rate_hz!r}")
    if not frame_period_s > 0:
        raise ValueError(f"frame_period_s must be positive, got {frame_period_s!r}")
    hop_f = sample_rate_hz * frame_period_s
    hop = int(round(hop_f))
    if hop < 1 or abs(hop_f - hop) > 1e-6 * max(1.0, hop_f):
        raise ValueError(f"sample_rate_hz * frame_period_s must be a whole number of samples, "
                         f"got {hop_f}")
    if f0.size and not (np.all(np.isfinite(f0)) and f0.min() >= 0 and f0.max() < sample_rate_hz / 2):
        raise ValueError(f"f0_hz must be finite and within [0, {sample_rate_hz / 2}) Hz (0 = unvoiced)")
    return f0, sp, ap, hop


class _NoiseSpectra:
    """Spectra of unit-variance white noise, one per frame, complex64: frame ``m``'s
    row, turned back by an inverse real FFT of ``n_fft`` points, is ``n_fft``
    samples of white noise of unit variance. Each bin's real and imaginary parts
    are independent uniform draws (each sample, a sum over all the bins, is
    near-Gaussian); the DC and Nyquist bins are real. Frames come in
    chunks of ``CHUNK``, each the bytes of a SplitMix64 stream keyed by
    ``(seed, chunk)`` (:mod:`utagoe.dsp.hashing`), so a frame's spectrum is
    the same however the frames are cut.

    Drawing the noise as spectra saves the forward transform of a time-domain
    noise (and a Gaussian draw per sample): on sakura the vocoder took 0.22 s
    instead of 0.26 s.
    """

    #: frames per chunk: a block of the synthesis is one chunk (no copy)
    CHUNK = BLOCK_FRAMES

    def __init__(self, seed: int, n_fft: int) -> None:
        self.seed = seed
        self.n_bins = n_fft // 2 + 1
        self.n_fft = n_fft
        # int8 draws are uniform on [-128, 127]: variance (256**2 - 1) / 12; each of
        # the N/2 - 1 complex bins needs variance N/2 per part for unit-variance samples
        self.scale = np.float32(np.sqrt(n_fft / 2.0) / np.sqrt((256.0 ** 2 - 1.0) / 12.0))
        self.chunks: dict[int, np.ndarray] = {}

    def _chunk(self, j: int) -> np.ndarray:
        if j not in self.chunks:
            n_bytes = self.CHUNK * self.n_bins * 2
            words = splitmix64(stream_key(self.seed, j), -(-n_bytes // 8))
            raw = words.astype("<u8", copy=False).view(np.int8)[:n_bytes]   # the same bytes on any machine
            spec = raw.astype(np.float32).view(np.complex64).reshape(self.CHUNK, self.n_bins)
            spec *= self.scale
            # DC and Nyquist are real, with the whole variance of a complex bin
            spec[:, 0] = spec[:, 0].real * np.float32(np.sqrt(2.0))
            if self.n_fft % 2 == 0:
                spec[:, -1] = spec[:, -1].real * np.float32(np.sqrt(2.0))
            spec.flags.writeable = False
            self.chunks[j] = spec
        return self.chunks[j]

    def take(self, a: int, b: int) -> np.ndarray:
        """Frames ``[a, b)``, read-only (a view where they lie in one chunk);
        forgets the chunks before ``a``."""
        j0, j1 = a // self.CHUNK, (b - 1) // self.CHUNK
        for j in [k for k in self.chunks if k < j0]:
            del self.chunks[j]
        if j0 == j1:
            block = self._chunk(j0)
        else:
            block = np.concatenate([self._chunk(j) for j in range(j0, j1 + 1)])
        return block[a - j0 * self.CHUNK:b - j0 * self.CHUNK]


def synthesize(f0_hz: np.ndarray, power_envelope: np.ndarray, aperiodicity: np.ndarray, *,
               sample_rate_hz: int, frame_period_s: float, seed: int = 0) -> np.ndarray:
    """Waveform (float64, ``frames * hop`` samples) from per-frame F0, power envelope
    and aperiodicity -- the arrays ``pyworld.synthesize`` takes, at its level.

    ``f0_hz`` is (frames,) in Hz, 0 where unvoiced (as in WORLD, values below
    ``sample_rate_hz / fft_size + 1`` count as unvoiced). ``power_envelope`` and
    ``aperiodicity`` are (frames, fft_size // 2 + 1) on the bins
    ``k * sample_rate_hz / fft_size`` (any even fft_size; WORLD's is 2048 at
    48 kHz), float64 or float32 (used as given, not copied: the work is done in
    single precision). The aperiodicity's square is the share of the envelope's
    power that is noise (values above 1 count as 1); unvoiced frames are all
    noise whatever it says. ``hop = sample_rate_hz * frame_period_s`` must be a
    whole number of samples; frame ``k`` is centred on sample ``k * hop``.
    ``seed`` (a non-negative integer) seeds the noise: the same inputs give the
    same bytes. See the module docstring for the model and the level convention.
    """
    f0, sp, ap, hop = _check_inputs(f0_hz, power_envelope, aperiodicity,
                                    sample_rate_hz, frame_period_s)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    n_frames, n_bins = sp.shape
    fft_size = 2 * (n_bins - 1)
    n_out = n_frames * hop
    if n_frames == 0:
        return np.zeros(0)
    f0 = np.where(f0 >= sample_rate_hz / fft_size + 1.0, f0, 0.0)
    voiced = f0 > 0.0

    # tiles: the pulses of one hop, each response at least fft_size / 2 samples long
    tile_fft = sfft.next_fast_len(_PRE_SAMPLES + hop + fft_size // 2 + _PRE_SAMPLES)
    n_chunks = -(-tile_fft // hop)                          # hops a tile's waveform covers
    int_phase, frac_phase = _tile_tables(hop, tile_fft)
    noise_fft = sfft.next_fast_len(4 * hop)
    noise_lo, noise_w = _bin_map(n_bins, noise_fft)
    window = _sine_window(hop)
    dc_width = 2 * (fft_size // 2)
    dc_step = max(1, fft_size // 64)

    # out[lead + n] is sample n: room before 0 for the tiles' lead-in, the first noise
    # frame and the DC correction, and after the end for the last tiles
    lead = _PRE_SAMPLES + hop + dc_width // 2 + dc_step
    out = np.zeros(lead + n_out + (n_chunks + 2) * hop + dc_width + 2 * dc_step)
    tiles_out = out[lead - _PRE_SAMPLES:][: (n_frames + n_chunks) * hop].reshape(-1, hop)

    # pulses: a few numbers each, all at once
    t_p, f_p = pulse_times(f0, sample_rate_hz=sample_rate_hz, frame_period_s=frame_period_s)
    lo_p = np.minimum((t_p // hop).astype(np.int64), n_frames - 1)
    w_p = np.clip(t_p / hop - lo_p, 0.0, 1.0).astype(np.float32)
    amp = np.sqrt(sample_rate_hz / f_p).astype(np.float32)
    whole = np.floor(t_p)
    n_int = np.clip(whole.astype(np.int64) - lo_p * hop, 0, hop - 1)
    q_p = np.rint((t_p - whole) * _FRAC_STEPS).astype(np.int64)
    dc_p = np.zeros(t_p.size)
    bounds = np.searchsorted(lo_p, np.arange(0, n_frames + BLOCK_FRAMES, BLOCK_FRAMES))

    noise = _NoiseSpectra(seed, noise_fft)  # row m is frame m's

    for bi, b0 in enumerate(range(0, n_frames, BLOCK_FRAMES)):
        b1 = min(n_frames, b0 + BLOCK_FRAMES)
        g1 = min(n_frames, b1 + 1)  # frames [b0, g1): the block and its right neighbour
        sp_blk = sp[b0:g1]
        if not sp_blk.min() >= 0:  # also false for NaN
            raise ValueError(f"power_envelope must not be negative or NaN (frames {b0}..{g1 - 1})")
        ap2 = np.square(ap[b0:g1], dtype=np.float32)
        np.minimum(ap2, 1.0, out=ap2)

        # ---- periodic: tile k holds the pulses in [k hop, (k+1) hop) -------------------
        p0, p1 = int(bounds[bi]), int(bounds[bi + 1])
        if p1 > p0:
            v_idx = np.flatnonzero(voiced[b0:g1])
            spectra = np.zeros((g1 - b0, tile_fft // 2 + 1), dtype=np.complex64)
            power = 1.0 - ap2[v_idx]
            power *= sp_blk[v_idx]
            spectra[v_idx] = _periodic_spectra(power, tile_fft=tile_fft)
            tile = lo_p[p0:p1] - b0
            c_hi = amp[p0:p1] * w_p[p0:p1]
            c_lo = amp[p0:p1] - c_hi
            hi = np.minimum(tile + 1, g1 - b0 - 1)
            dc_p[p0:p1] = c_lo * spectra[tile, 0].real + c_hi * spectra[hi, 0].real
            phases = int_phase[n_int[p0:p1]]
            phases *= frac_phase[q_p[p0:p1]]
            # sum the pulses of each tile: the first of each directly, then the second...
            first = np.flatnonzero(np.concatenate([[True], tile[1:] != tile[:-1]]))
            counts = np.diff(np.concatenate([first, [tile.size]]))
            slot = np.repeat(np.arange(first.size), counts)
            rank = np.arange(tile.size) - np.repeat(first, counts)
            a_sum = phases[first] * c_lo[first, None]
            b_sum = phases[first] * c_hi[first, None]
            for r in range(1, int(counts.max())):
                sel = np.flatnonzero(rank == r)
                a_sum[slot[sel]] += phases[sel] * c_lo[sel, None]
                b_sum[slot[sel]] += phases[sel] * c_hi[sel, None]
            used = tile[first]
            a_sum *= spectra[used]
            b_sum *= spectra[np.minimum(used + 1, g1 - b0 - 1)]
            a_sum += b_sum
            waves = np.zeros((b1 - b0, n_chunks * hop), dtype=np.float32)
            waves[used, :tile_fft] = sfft.irfft(a_sum, n=tile_fft, axis=1)
            for c in range(n_chunks):
                tiles_out[b0 + c:b1 + c] += waves[:, c * hop:(c + 1) * hop]

        # ---- aperiodic: frames [b0, b1), plus a copy of the last frame past the end -----
        m1 = b1 + 1 if b1 == n_frames else b1
        m = np.arange(b0, m1)
        src = np.minimum(m, n_frames - 1) - b0
        power = sp_blk[src].astype(np.float32)
        v = voiced[b0 + src]
        power[v] *= ap2[src[v]]
        amp_n = _to_grid(power, noise_lo, noise_w)
        np.sqrt(amp_n, out=amp_n)
        spec_n = noise.take(b0, m1) * amp_n
        y = sfft.irfft(spec_n, n=noise_fft, axis=1)[:, :2 * hop]
        y *= window
        s0 = lead + (b0 - 1) * hop
        out[s0:s0 + m.size * hop] += y[:, :hop].ravel()
        out[s0 + hop:s0 + (m.size + 1) * hop] += y[:, hop:].ravel()

    # ---- DC removal (as WORLD): each pulse's response loses its sum, spread by a Hann
    # window centred on the pulse; built on a coarse grid and interpolated (it is < 50 Hz)
    if t_p.size:
        half = dc_width // 2
        u = (t_p + half) / dc_step              # grid point i is sample i * dc_step - half
        i0 = np.floor(u).astype(np.int64)
        fr = u - i0
        n_grid = (n_out + dc_width) // dc_step + 3
        e = np.bincount(i0, dc_p * (1.0 - fr), minlength=n_grid)
        e += np.bincount(i0 + 1, dc_p * fr, minlength=n_grid)
        kernel = _dc_kernel(dc_width, dc_step)
        corr = np.convolve(e, kernel)[kernel.size // 2:][:n_grid]
        frac = np.arange(dc_step) / dc_step
        g0 = lead - half
        rows_per_block = max(1, (BLOCK_FRAMES * hop) // dc_step)
        for r0 in range(0, n_grid - 1, rows_per_block):
            r1 = min(n_grid - 1, r0 + rows_per_block)
            c0 = corr[r0:r1]
            seg = c0[:, None] + np.outer(corr[r0 + 1:r1 + 1] - c0, frac)
            a = g0 + r0 * dc_step
            b = min(out.size, a + seg.size)
            out[a:b] -= seg.ravel()[:b - a]

    result = out[lead:lead + n_out]
    if not np.isfinite(result).all():
        raise ValueError("the output is not finite: power_envelope or aperiodicity hold inf or NaN")
    return result
