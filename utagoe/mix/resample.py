"""Sample-rate conversion by a rational factor, the same samples whole or block by block.

A polyphase FIR of our own (numpy only, no scipy): the anti-alias low-pass is a
Kaiser-windowed sinc designed once per rate pair (:class:`ResampleFilter`), and
output sample ``k`` sits at input time ``k * in_rate / out_rate`` (no delay, as
``scipy.signal.resample_poly``) and is computed from the input samples around
that time. The input is taken as silent before its first and after its last
sample; ``n`` input samples give exactly ``ceil(n * out_rate / in_rate)`` output
samples.

**Exact arithmetic.** The taps are rounded to multiples of 2**-20 and the input
to multiples of 2**-23 (24-bit resolution at full scale), so every product is a
multiple of 2**-43 and, for inputs within ``MAX_ABS_SAMPLE``, every partial sum
of an output's products is exactly representable in float64: the sum is the
same whatever the order of its terms. So the work can go to one matrix product
per stretch (BLAS, any blocking, any threads) and each output sample is still
exactly the same number whether the signal is resampled whole
(:func:`resample`) or block by block with any cuts (:class:`Resampler`); only
the final rounding to float32 remains, and it is the same everywhere.

The filter: pass band flat to 0.001 dB up to 0.9 of the lower of the two
Nyquist frequencies, stop band from that Nyquist frequency on, 80 dB down (so
whatever would alias is at least 80 dB down; the band between 0.9 and 1.0 of
the Nyquist frequency is the transition).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..audio import Audio

#: pass band edge, as a fraction of the lower Nyquist frequency
PASS_FRACTION = 0.9
#: stop band attenuation of the anti-alias filter, dB
STOPBAND_DB = 80.0
#: taps are multiples of 2**-TAP_BITS, input samples of 2**-SAMPLE_BITS
TAP_BITS = 20
SAMPLE_BITS = 23
#: the largest input magnitude for which every sum is exact (ValueError beyond)
MAX_ABS_SAMPLE = 256.0
#: float64 elements of the windowed input copied per matrix product (about 4 MiB)
_STEP_ELEMENTS = 1 << 19


@dataclass(frozen=True, slots=True, eq=False)
class ResampleFilter:
    """The polyphase filter from ``in_rate_hz`` to ``out_rate_hz`` (reduced to
    ``up``/``down``). Output ``k = i * up + s`` is
    ``sum_t taps[phase[s], t] * x[i * down + offset[s] - t]`` for the ``t`` whose tap
    is not zero, in increasing ``t``. Build it with :meth:`design`."""

    in_rate_hz: int
    out_rate_hz: int
    up: int
    down: int
    #: (up, num_taps) float64: row p holds the prototype's taps of phase p (gain ``up`` included)
    taps: np.ndarray = field(repr=False)
    #: per s in [0, up): the phase row and the input offset of output ``i * up + s``
    phase: np.ndarray = field(repr=False)
    offset: np.ndarray = field(repr=False)

    @staticmethod
    def design(*, in_rate_hz: int, out_rate_hz: int) -> ResampleFilter:
        """Kaiser-windowed sinc for the rate pair (both positive integers)."""
        for name, v in (("in_rate_hz", in_rate_hz), ("out_rate_hz", out_rate_hz)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        g = math.gcd(int(in_rate_hz), int(out_rate_hz))
        up, down = int(out_rate_hz) // g, int(in_rate_hz) // g
        # the prototype runs at up * in_rate; frequencies below in cycles per sample of it
        f_stop = 0.5 / max(up, down)
        f_pass = PASS_FRACTION * f_stop
        f_cut = 0.5 * (f_pass + f_stop)
        beta = 0.1102 * (STOPBAND_DB - 8.7)
        n = math.ceil((STOPBAND_DB - 7.95) / (2.285 * 2 * math.pi * (f_stop - f_pass))) + 1
        half = n // 2
        m = np.arange(-half, half + 1, dtype=np.float64)
        h = 2 * f_cut * np.sinc(2 * f_cut * m) * np.kaiser(2 * half + 1, beta)
        h *= up / h.sum()
        h = np.round(h * 2.0 ** TAP_BITS) * 2.0 ** -TAP_BITS
        # phase p, tap t: h[p + (t + j_lo) * up] (index relative to the centre)
        j_lo = -((half + up - 1) // up)
        j_hi = half // up
        num = j_hi - j_lo + 1
        rel = np.arange(up)[:, None] + (np.arange(num)[None, :] + j_lo) * up
        inside = np.abs(rel) <= half
        taps = np.where(inside, h[np.clip(rel + half, 0, 2 * half)], 0.0)
        s = np.arange(up)
        phase = (s * down) % up
        # x index of tap t is i*down + (s*down)//up - (t + j_lo)
        offset = (s * down) // up - j_lo
        # exactness: any partial sum stays below 2**(53 - TAP_BITS - SAMPLE_BITS)
        if np.abs(taps).sum(axis=1).max() * MAX_ABS_SAMPLE >= 2.0 ** (53 - TAP_BITS - SAMPLE_BITS):
            raise AssertionError("resampling filter too large for exact sums")  # by construction
        return ResampleFilter(int(in_rate_hz), int(out_rate_hz), up, down, taps, phase, offset)

    @property
    def num_taps(self) -> int:
        """Taps per output sample (per phase, zeros included)."""
        return int(self.taps.shape[1])

    def output_length(self, num_input_samples: int) -> int:
        """``ceil(num_input_samples * up / down)``: the samples :func:`resample` gives."""
        return -((-num_input_samples * self.up) // self.down)


class Resampler:
    """Streaming form of :func:`resample` for ``channels`` channels: feed blocks of
    any sizes (``(channels, n)`` arrays, n may be 0) to :meth:`process`, then call
    :meth:`finish` once; the concatenated outputs (float32) are bit-identical to
    ``resample`` of the whole signal.

    Output is given out in whole frames (``up`` output samples for ``down``
    input samples, both multiplied so that a frame has at least 64 outputs)
    once the input a frame needs has arrived, so the object holds back fewer
    than ``down + num_taps`` input samples of its frame (a few ms) plus up to
    one frame; :meth:`finish` gives the rest (the input taken as silent after
    its end). Memory: the block being processed plus a few MiB of work space.
    """

    def __init__(self, *, in_rate_hz: int, out_rate_hz: int, channels: int,
                 filter: ResampleFilter | None = None) -> None:
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {channels!r}")
        f = filter if filter is not None else ResampleFilter.design(in_rate_hz=in_rate_hz,
                                                                    out_rate_hz=out_rate_hz)
        if (f.in_rate_hz, f.out_rate_hz) != (in_rate_hz, out_rate_hz):
            raise ValueError("the filter was designed for another pair of rates")
        self.filter = f
        self.channels = channels
        # a frame: `group` periods of the filter, so that the matrix product has
        # enough columns to run well (up * group >= 64 outputs per frame)
        group = -(-64 // f.up) if f.up < 64 else 1
        self._up, self._down = f.up * group, f.down * group
        offset = (f.offset[None, :] + f.down * np.arange(group)[:, None]).ravel()
        phase = np.tile(f.phase, group)
        # x[i*down + c] for c in [c_min, c_max] feeds frame i
        c_all = offset[:, None] - np.arange(f.num_taps)[None, :]
        self._c_min = int(c_all.min())
        self._c_max = int(c_all.max())
        self._span = self._c_max - self._c_min + 1
        # one matrix for all phases: column s holds the taps of output i*up + s,
        # row u multiplies x[i*down + c_min + u]
        m = np.zeros((self._span, self._up))
        for s in range(self._up):
            m[offset[s] - np.arange(f.num_taps) - self._c_min, s] = f.taps[phase[s]]
        self._matrix = m
        self._frames_per_step = max(1, _STEP_ELEMENTS // (channels * self._span))
        # the input kept from absolute index self._t0 on (silence before the signal);
        # the block being processed is self._block, from absolute index self._b0
        self._t0 = min(self._c_min, 0)
        self._tail: np.ndarray = np.zeros((channels, -self._t0))
        self._block: np.ndarray = np.zeros((channels, 0))
        self._b0 = 0
        self._received = 0
        self._next_frame = 0
        self._finished = False

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Take the next ``(channels, n)`` input samples (finite, within
        ``MAX_ABS_SAMPLE``, else ValueError); return the output samples (float32,
        ``(channels, m)``) that are now complete (m may be 0)."""
        if self._finished:
            raise ValueError("process() after finish()")
        x = np.asarray(samples)
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(f"expected samples shaped ({self.channels}, n), got {x.shape}")
        _check_range(x)
        self._received += x.shape[1]
        # frame i is complete when x[i*down + c_max] has arrived
        ready = (self._received - 1 - self._c_max) // self._down + 1
        return self._emit(x, max(ready, self._next_frame))

    def finish(self) -> np.ndarray:
        """The remaining output samples (the input taken as silent after its end)."""
        if self._finished:
            raise ValueError("finish() called twice")
        self._finished = True
        total = self.filter.output_length(self._received)
        frames = max(-(-total // self._up), self._next_frame)
        first = self._next_frame * self._up
        need = (frames - 1) * self._down + self._c_max + 1 if frames else 0
        pad = np.zeros((self.channels, max(0, need - self._received)))
        return self._emit(pad, frames)[:, : max(0, total - first)]

    def _emit(self, block: np.ndarray, end_frame: int) -> np.ndarray:
        """Frames up to ``end_frame`` with ``block`` appended to the input; keeps what
        later frames need."""
        self._block, self._b0 = block, self._t0 + self._tail.shape[1]
        start = self._next_frame
        out = np.empty((self.channels, max(0, end_frame - start) * self._up), dtype=np.float32)
        while self._next_frame < end_frame:
            i0 = self._next_frame
            i1 = min(end_frame, i0 + self._frames_per_step)
            out[:, (i0 - start) * self._up:(i1 - start) * self._up] = self._frames(i0, i1)
            self._next_frame = i1
        # keep only the input later frames need (less than ``down + span`` samples)
        keep_from = self._next_frame * self._down + self._c_min
        end = self._b0 + block.shape[1]
        self._tail = np.array(self._window(keep_from, end)) if keep_from < end else \
            np.zeros((self.channels, 0))
        self._t0 = min(keep_from, end)
        self._block = np.zeros((self.channels, 0))
        return out

    def _window(self, a: int, b: int) -> np.ndarray:
        """Input samples [a, b) (absolute) from the tail and the current block."""
        parts = []
        t_end = self._t0 + self._tail.shape[1]
        if a < t_end:
            parts.append(self._tail[:, a - self._t0: min(b, t_end) - self._t0])
        if b > self._b0:
            parts.append(self._block[:, max(a, self._b0) - self._b0: b - self._b0])
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def _frames(self, i0: int, i1: int) -> np.ndarray:
        """Output frames [i0, i1) as (channels, (i1 - i0) * up) float64."""
        nf = i1 - i0
        ch = self.channels
        a = i0 * self._down + self._c_min
        z = _quantise(self._window(a, a + (nf - 1) * self._down + self._span))
        # windows[c, i, u] = x[(i0 + i)*down + c_min + u]
        windows = np.lib.stride_tricks.as_strided(
            z, shape=(ch, nf, self._span),
            strides=(z.strides[0], z.strides[1] * self._down, z.strides[1]), writeable=False)
        y = np.ascontiguousarray(windows).reshape(ch * nf, self._span) @ self._matrix
        return y.reshape(ch, nf * self._up)


def _check_range(x: np.ndarray) -> None:
    """ValueError unless every sample is finite and within ``MAX_ABS_SAMPLE`` (beyond,
    the sums would no longer be exact)."""
    if x.size:
        lo, hi = float(np.min(x)), float(np.max(x))
        if not (lo >= -MAX_ABS_SAMPLE and hi <= MAX_ABS_SAMPLE):
            raise ValueError(f"cannot resample samples that are not finite or beyond "
                             f"+-{MAX_ABS_SAMPLE:g} (found {lo} .. {hi})")


def _quantise(x: np.ndarray) -> np.ndarray:
    """``x`` as contiguous float64 multiples of 2**-SAMPLE_BITS."""
    y = np.array(x, dtype=np.float64, order="C")
    y *= 2.0 ** SAMPLE_BITS
    np.round(y, out=y)
    y *= 2.0 ** -SAMPLE_BITS
    return y


def resample_samples(samples: np.ndarray, *, in_rate_hz: int, out_rate_hz: int,
                     filter: ResampleFilter | None = None) -> np.ndarray:
    """``(channels, n)`` samples at ``in_rate_hz`` to ``(channels, ceil(n*out/in))``
    float32 samples at ``out_rate_hz`` (a float32 copy when the rates are equal)."""
    x = np.asarray(samples)
    if x.ndim != 2:
        raise ValueError(f"expected samples shaped (channels, n), got {x.shape}")
    if in_rate_hz == out_rate_hz:
        return x.astype(np.float32)
    r = Resampler(in_rate_hz=in_rate_hz, out_rate_hz=out_rate_hz, channels=x.shape[0],
                  filter=filter)
    return np.concatenate([r.process(x), r.finish()], axis=1)


def resample(audio: Audio, *, sample_rate_hz: int) -> Audio:
    """``audio`` at ``sample_rate_hz`` (the same object when it is already there);
    ``ceil(n * sample_rate_hz / audio.sample_rate)`` samples, bit-identical to
    :class:`Resampler` fed the same samples in blocks."""
    if audio.sample_rate == sample_rate_hz:
        return audio
    return Audio(resample_samples(audio.samples, in_rate_hz=audio.sample_rate,
                                  out_rate_hz=sample_rate_hz), sample_rate_hz)
