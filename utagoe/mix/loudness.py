"""Integrated loudness (ITU-R BS.1770-4, gated as EBU R 128), whole or streamed.

The signal is K-weighted (a high shelf, then a high-pass: the standard's two
pre-filter stages), each channel's mean square is taken over 400 ms gating
blocks that overlap by 75 % (a block every 100 ms), a block's loudness is
``-0.691 + 10 log10(sum of channel weight * mean square)``, and the integrated
loudness is the same expression over the mean of the blocks that pass the
absolute gate (above -70 LUFS) and the relative gate (above the loudness of
the blocks passing the absolute gate, minus 10 LU).

The pre-filters for any sample rate: the standard gives their coefficients at
48 kHz only. Each stage is the bilinear transform of an analogue biquad (a
shelf, and a high-pass), so we invert the transform at 48 kHz to get the
analogue prototype (its frequency, Q and gains) and transform it again at the
wanted rate, with the same frequency pre-warping. At 48 kHz this gives back
the standard's coefficients (to rounding).

Block boundaries: block ``j`` covers samples ``[floor(j*rate/10), floor((j+4)*rate/10))``
(exactly 400 ms when the rate is a multiple of 10 Hz); only whole blocks
count, so a signal shorter than 400 ms has no block and its loudness is
``-inf``, as is that of silence (every block under the absolute gate).
"""
from __future__ import annotations

import copy
import math
from functools import lru_cache
from typing import Callable

import numpy as np

from ..audio import Audio

#: the standard's pre-filter at 48 kHz: stage 1 (shelf) and stage 2 (high-pass), (b, a)
_STAGE1_48K = ((1.53512485958697, -2.69169618940638, 1.19839281085285),
               (1.0, -1.69065929318241, 0.73248077421585))
_STAGE2_48K = ((1.0, -2.0, 1.0), (1.0, -1.99004745483398, 0.99007225036621))
#: channel weights, BS.1770 order: left, right, centre, left surround, right surround
CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
#: 100 ms steps per gating block (400 ms)
_STEPS_PER_BLOCK = 4


def _prototype(b: tuple[float, float, float], a: tuple[float, float, float]
               ) -> tuple[float, float, float, float, float]:
    """The analogue biquad behind a digital one made by the bilinear transform with
    the pre-warped ``K = tan(pi f0 / rate)``, ``s`` in units of ``w0 = 2 pi f0``:
    ``H(s) = (vh s^2 + vb s/Q + dc) / (s^2 + s/Q + 1)``, returned as
    (K, Q, vh, vb, dc) at the rate it was made for; the caller recomputes K for
    another rate. (With a0 == 1 and ``D = 1 + K/Q + K^2``: ``1 + a1 + a2 = 4 K^2/D``,
    ``1 - a1 + a2 = 4/D``, ``1 - a2 = 2 (K/Q)/D``, ``b0 - b1 + b2 = 4 vh/D``,
    ``b0 - b2 = 2 vb (K/Q)/D``, ``b0 + b1 + b2 = 4 dc K^2/D``.)"""
    b0, b1, b2 = b
    _, a1, a2 = a
    d = 4.0 / (1 - a1 + a2)
    k2 = (1 + a1 + a2) / (1 - a1 + a2)
    k = math.sqrt(k2)
    k_over_q = (1 - a2) * d / 2
    vh = (b0 - b1 + b2) * d / 4
    vb = (b0 - b2) * d / (2 * k_over_q)
    dc = (b0 + b1 + b2) * d / (4 * k2)
    return k, k / k_over_q, vh, vb, dc


def _biquad(k: float, q: float, vh: float, vb: float, dc: float
            ) -> tuple[np.ndarray, np.ndarray]:
    """The digital biquad (b, a) of the prototype at pre-warped ``k``: numerator
    ``vh s^2 + vb s/Q + dc`` over ``s^2 + s/Q + 1`` (s in units of w0)."""
    d = 1 + k / q + k * k
    a = np.array([1.0, 2 * (k * k - 1) / d, (1 - k / q + k * k) / d])
    b = np.array([(vh + vb * k / q + dc * k * k) / d, 2 * (dc * k * k - vh) / d,
                  (vh - vb * k / q + dc * k * k) / d])
    return b, a


def k_weighting(*, sample_rate_hz: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The two K-weighting stages at ``sample_rate_hz``: ((b, a) shelf, (b, a) high-pass)."""
    if isinstance(sample_rate_hz, bool) or not isinstance(sample_rate_hz, (int, np.integer)) \
            or sample_rate_hz <= 0:
        raise ValueError(f"sample_rate_hz must be a positive integer, got {sample_rate_hz!r}")
    stages = []
    for b, a in (_STAGE1_48K, _STAGE2_48K):
        k48, q, vh, vb, dc = _prototype(b, a)
        f0_hz = 48000.0 * math.atan(k48) / math.pi
        if f0_hz >= sample_rate_hz / 2:
            raise ValueError(f"K-weighting needs a sample rate above {2 * f0_hz:.0f} Hz, "
                             f"got {sample_rate_hz}")
        k = math.tan(math.pi * f0_hz / sample_rate_hz)
        stages.append(_biquad(k, q, vh, vb, dc))
    return tuple(stages)


#: the K-weighting's impulse response is kept until it falls under this share of its peak
_RESPONSE_FLOOR = 1e-17


@lru_cache(maxsize=8)
def k_weighting_response(*, sample_rate_hz: int) -> np.ndarray:
    """The impulse response of both K-weighting stages at ``sample_rate_hz``, until it
    has fallen under :data:`_RESPONSE_FLOOR` of its peak for good (the filters' poles
    lie inside the unit circle, so it decays geometrically: about 8,000 samples at
    48 kHz). Filtering with it is the recursive filter to about 1e-16."""
    stages = k_weighting(sample_rate_hz=sample_rate_hz)
    radius = max(float(np.max(np.abs(np.roots(a)))) for _, a in stages)
    n = int(math.ceil(math.log(_RESPONSE_FLOOR) / math.log(radius))) + 64
    h = np.zeros(n)
    h[0] = 1.0
    for b, a in stages:   # the direct-form recursion, once, over n samples
        x, y = h, np.zeros(n)
        b0, b1, b2 = (float(v) for v in b)
        _, a1, a2 = (float(v) for v in a)
        x1 = x2 = y1 = y2 = 0.0
        for i in range(n):
            xi = float(x[i])
            yi = b0 * xi + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
            y[i] = yi
            x2, x1, y2, y1 = x1, xi, y1, yi
        h = y
    return h


class _KFilter:
    """K-weighting of a signal fed in pieces of any sizes, the same samples however
    it is cut: the input is filtered in chunks of a fixed length at fixed places
    of the signal (a fast convolution with :func:`k_weighting_response`, whose
    tail is carried to the next chunk). numpy only: scipy.signal's recursive
    filter would cost its import, about a second of CPU, on every command."""

    def __init__(self, sample_rate_hz: int, channels: int) -> None:
        h = k_weighting_response(sample_rate_hz=sample_rate_hz)
        self.taps = len(h)
        self.nfft = 1 << max(15, int(math.ceil(math.log2(4 * self.taps))))
        self.chunk = self.nfft - self.taps + 1
        self.spectrum = np.fft.rfft(h, self.nfft)
        self.raw = np.zeros((channels, 0))
        self.tail = np.zeros((channels, self.taps - 1))

    def _convolve(self, x: np.ndarray) -> np.ndarray:
        y = np.fft.irfft(np.fft.rfft(x, self.nfft, axis=1) * self.spectrum, self.nfft, axis=1)
        y = y[:, :x.shape[1] + self.taps - 1]
        y[:, :self.taps - 1] += self.tail[:, :y.shape[1]]
        return y

    def push(self, x: np.ndarray, sink: Callable[[np.ndarray], None]) -> None:
        """Hand ``sink`` the filtered samples of every chunk ``x`` completes, in order."""
        raw = np.concatenate([self.raw, x], axis=1) if self.raw.shape[1] else x
        start = 0
        while raw.shape[1] - start >= self.chunk:
            y = self._convolve(raw[:, start:start + self.chunk])
            self.tail = y[:, self.chunk:].copy()
            sink(y[:, :self.chunk])
            start += self.chunk
        self.raw = np.array(raw[:, start:])

    def peek(self) -> np.ndarray:
        """The filtered samples of the part chunk held back (nothing changes)."""
        n = self.raw.shape[1]
        if not n:
            return np.zeros((self.raw.shape[0], 0))
        return self._convolve(self.raw)[:, :n]


class LoudnessMeter:
    """Integrated loudness of a signal fed in blocks of any sizes.

    ``channels`` may be left out: the first :meth:`add` sets it.
    ``add(samples)`` takes the next ``(channels, n)`` samples (any float dtype; n
    may be 0); ``integrated_lufs()`` may be called at any time and gives the
    loudness of everything added so far. The filter works on fixed chunks of
    the signal and the 100 ms steps that make the gating blocks are summed only
    once whole, so the result is exactly the same however the signal was cut.
    Channels: 1 (mono, weight 1) up to 5 (BS.1770 order L, R, C, Ls, Rs).
    Memory: one float per channel per 100 ms (about 300 KiB for an hour of stereo).
    """

    def __init__(self, sample_rate_hz: int, channels: int | None = None) -> None:
        self.sample_rate_hz = int(sample_rate_hz)
        k_weighting(sample_rate_hz=sample_rate_hz)   # a rate it cannot take fails here
        self.channels: int | None = None
        self._received = 0   # filtered samples taken into steps
        self._steps = 0  # whole 100 ms steps so far
        self._step_power: list[np.ndarray] = []  # per step and channel: sum of squares
        if channels is not None:
            self._setup(channels)

    def _setup(self, channels: int) -> None:
        if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) \
                or not 1 <= channels <= len(CHANNEL_WEIGHTS):
            raise ValueError(f"channels must be 1 to {len(CHANNEL_WEIGHTS)}, got {channels!r}")
        self.channels = int(channels)
        self._filter = _KFilter(self.sample_rate_hz, self.channels)
        self._weights = np.array(CHANNEL_WEIGHTS[: self.channels])
        # filtered samples of the 100 ms step not yet whole
        self._pending = np.zeros((self.channels, 0))

    def _step_start(self, j: int) -> int:
        return j * self.sample_rate_hz // 10

    def add(self, samples: np.ndarray) -> None:
        """Add the next ``(channels, n)`` samples."""
        x = np.asarray(samples, dtype=np.float64)
        if self.channels is None and x.ndim == 2:
            self._setup(x.shape[0])
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(f"expected samples shaped ({self.channels}, n), got {x.shape}")
        if not x.shape[1]:
            return
        self._filter.push(x, self._take)

    def _take(self, y: np.ndarray) -> None:
        """Sum the whole 100 ms steps that the filtered samples ``y`` complete."""
        if not y.shape[1]:
            return
        self._received += y.shape[1]
        y = np.concatenate([self._pending, y], axis=1)
        offset = self._step_start(self._steps)  # absolute index of y[:, 0]
        sums = []
        while self._step_start(self._steps + 1) <= self._received:
            a = self._step_start(self._steps) - offset
            b = self._step_start(self._steps + 1) - offset
            seg = y[:, a:b]
            # squares, then numpy's pairwise sum along the contiguous rows: its order
            # depends only on the length, so the same sum whatever the cutting
            sums.append(np.add.reduce(seg * seg, axis=1))
            self._steps += 1
        self._pending = np.ascontiguousarray(y[:, self._step_start(self._steps) - offset:])
        if sums:
            self._step_power.append(np.array(sums))

    def block_powers(self) -> np.ndarray:
        """Per whole gating block so far: the weighted mean square
        ``sum_c weight_c * mean square_c`` (``10 log10`` of it minus 0.691 is its loudness)."""
        if self.channels is None:
            return np.zeros(0)
        # the steps the filter's held-back part chunk completes, counted without
        # changing the meter (more may be added after)
        held = copy.copy(self)
        held._step_power = list(self._step_power)
        held._take(self._filter.peek())
        if held._steps < _STEPS_PER_BLOCK:
            return np.zeros(0)
        steps = np.concatenate(held._step_power, axis=0)  # (steps, channels)
        n_blocks = held._steps - _STEPS_PER_BLOCK + 1
        j = np.arange(n_blocks)
        starts = j * self.sample_rate_hz // 10
        ends = (j + _STEPS_PER_BLOCK) * self.sample_rate_hz // 10
        total = sum(steps[k: k + n_blocks] for k in range(_STEPS_PER_BLOCK))
        return np.sum(total / (ends - starts)[:, None] * self._weights, axis=1)

    def integrated_lufs(self) -> float:
        """Gated integrated loudness of everything added so far, in LUFS; ``-inf``
        when there is no whole 400 ms block or every block is under -70 LUFS."""
        power = self.block_powers()
        return _gated_lufs(power)


def _gated_lufs(power: np.ndarray) -> float:
    with np.errstate(divide="ignore"):
        loud = -0.691 + 10 * np.log10(power)
    kept = power[loud > ABSOLUTE_GATE_LUFS]
    if not kept.size:
        return float("-inf")
    relative = -0.691 + 10 * math.log10(float(np.mean(kept))) + RELATIVE_GATE_LU
    kept = power[(loud > ABSOLUTE_GATE_LUFS) & (loud > relative)]
    if not kept.size:  # cannot happen (the loudest block passes), kept for safety
        return float("-inf")
    return -0.691 + 10 * math.log10(float(np.mean(kept)))


def integrated_loudness(audio: Audio) -> float:
    """Integrated loudness of ``audio`` in LUFS (:class:`LoudnessMeter` over the
    whole; ``-inf`` for silence or under 400 ms)."""
    meter = LoudnessMeter(sample_rate_hz=audio.sample_rate, channels=audio.channels)
    meter.add(audio.samples)
    return meter.integrated_lufs()
