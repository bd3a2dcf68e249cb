"""A gentle look-ahead peak limiter for the master, the same samples whole or in blocks.

Per sample ``n`` (all channels share one gain):

1. required gain ``r[n] = min(1, ceiling / max_c |x[c, n]|)`` (0 where a sample is
   not finite; the signal counts as silent, ``r = 1``, outside itself);
2. hold and look-ahead: ``g1[n] = min r[n - A - H .. n + A]``;
3. release: the reduction in nepers, ``L = -ln g1``, decays no faster than
   ``exp(-t / release)``: ``L2[n] = max over m <= n of L[m] exp(-(n - m) / R)``
   (a running maximum in the log domain, so exact and vectorised); where ``L2`` is
   under 1e-4 (0.00087 dB) the release is over and ``g1`` is kept as it is, else
   ``g2 = min(g1, exp(-L2))``;
4. attack and smoothing: ``g[n]`` = mean of ``g2`` over ``[n - A, n + A]``, computed
   on integers (``g2`` rounded down to multiples of 2**-30, an int64 running sum),
   so every sample's gain depends only on its window's values;
5. ``y = x * g``, rounded to float32 and clipped to the largest float32 not above
   the ceiling (which moves a sample by at most a rounding step).

Every ``g2`` in the window of ``n`` is at most ``r[n]`` (each one's hold window
contains ``n``), so ``g[n] <= r[n]`` and the output never exceeds the ceiling;
the gain ramps down over ``2A + 1`` samples (the look-ahead) before a peak,
holds for ``H`` samples after it, then comes back along the release curve and
a last ``2A + 1``-sample ramp, and changes by at most ``1 / (2A + 1)`` of its
swing per sample. Where nothing within reach is over the ceiling the gain is
exactly 1.0 and the samples pass through bit for bit (float32 in, float32
out). Everything a sample's gain depends on is a function of its absolute
position and of the samples around it, never of where a block starts, so
:func:`limit` and :class:`Limiter` (blocks of any sizes) give identical bytes.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import numpy as np

from ..audio import Audio

#: the gain is quantised to multiples of 2**-GAIN_BITS before the moving average
GAIN_BITS = 30
#: reduction (nepers, 1e-4 is 0.00087 dB) under which the release has ended: from a
#: reduction of 12 dB it takes 9.5 release time constants
RELEASE_END_NEPERS = 1e-4
#: samples handled per internal step (bounds the work space)
_STEP = 1 << 16


def _ceiling32(ceiling: float) -> np.float32:
    c = np.float32(ceiling)
    return c if float(c) <= ceiling else np.nextafter(c, np.float32(0.0))


class Limiter:
    """Streaming look-ahead limiter (see the module's notes for the law).

    ``process(samples)`` takes the next ``(channels, n)`` block (any float dtype,
    any n, also shorter than the look-ahead) and returns the float32 output
    samples now complete; ``finish()`` returns the rest. Together they give
    exactly :func:`limit` of the whole. The latency is ``2 * A`` samples
    (:attr:`latency_samples`, about ``lookahead_ms``): a call returns the
    samples up to ``latency_samples`` before the end of what it has been given.
    State: about ``latency_samples + hold`` samples of history.

    ``ceiling_dbfs``: sample-peak ceiling (finite, at most +20). ``lookahead_ms``:
    attack ramp (>= 0.05 ms, A = round(lookahead_ms * rate / 2000), at least 1).
    ``hold_ms`` (>= 0): the gain stays down this long after a peak.
    ``release_ms`` (>= 0, 0 = none beyond the attack ramp): time constant of the
    recovery of the reduction in dB.
    """

    def __init__(self, *, sample_rate_hz: int, channels: int, ceiling_dbfs: float,
                 lookahead_ms: float = 5.0, hold_ms: float = 10.0,
                 release_ms: float = 50.0) -> None:
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {channels!r}")
        if isinstance(sample_rate_hz, bool) or not isinstance(sample_rate_hz, (int, np.integer)) \
                or sample_rate_hz <= 0:
            raise ValueError(f"sample_rate_hz must be a positive integer, got {sample_rate_hz!r}")
        for name, v, lo in (("lookahead_ms", lookahead_ms, 0.05), ("hold_ms", hold_ms, 0.0),
                            ("release_ms", release_ms, 0.0)):
            if not (isinstance(v, (int, float)) and math.isfinite(v) and lo <= v <= 10000.0):
                raise ValueError(f"{name} must be a finite number >= {lo:g} and <= 10000, "
                                 f"got {v!r}")
        if not (isinstance(ceiling_dbfs, (int, float)) and math.isfinite(ceiling_dbfs)
                and ceiling_dbfs <= 20.0):
            raise ValueError(f"ceiling_dbfs must be a finite number <= 20, got {ceiling_dbfs!r}")
        self.sample_rate_hz = int(sample_rate_hz)
        self.channels = channels
        self.ceiling = 10.0 ** (float(ceiling_dbfs) / 20.0)
        self._c32 = _ceiling32(self.ceiling)
        rate_per_ms = self.sample_rate_hz / 1000.0
        self.half = max(1, round(lookahead_ms * rate_per_ms / 2))      # A
        self.hold = round(hold_ms * rate_per_ms)                        # H
        self._beta = 1.0 / (release_ms * rate_per_ms) if release_ms > 0 else math.inf
        a, h = self.half, self.hold
        # r from absolute index self._r0 (silence before the signal)
        self._r0 = -2 * a - h
        self._r = np.ones(2 * a + h)
        # quantised gains from absolute index self._q0 (the first one needed is -A)
        self._q0 = -a
        self._q = np.zeros(0, dtype=np.int64)
        self._e_max = -math.inf           # running max of ln L[m] + beta m
        self._x0 = 0                      # absolute index of self._x[:, 0]
        self._x = np.zeros((channels, 0), dtype=np.float32)  # input not yet given out
        self._received = 0
        self._finished = False

    @property
    def latency_samples(self) -> int:
        """How far the output of :meth:`process` lags the input given so far."""
        return 2 * self.half

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Take the next ``(channels, n)`` samples; return the float32 output samples
        now complete (``(channels, m)``, m may be 0)."""
        if self._finished:
            raise ValueError("process() after finish()")
        x = np.asarray(samples)
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(f"expected samples shaped ({self.channels}, n), got {x.shape}")
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(np.float64)
        return self._run(x, padding=0)

    def finish(self) -> np.ndarray:
        """The output samples still held back (the signal taken as silent after its end)."""
        if self._finished:
            raise ValueError("finish() called twice")
        self._finished = True
        return self._run(np.zeros((self.channels, 0), dtype=np.float32),
                         padding=2 * self.half)

    def _run(self, x: np.ndarray, *, padding: int) -> np.ndarray:
        a = self.half
        n_in = x.shape[1]
        start = self._x0
        end_out = self._received + n_in - 2 * a + padding
        out = np.empty((self.channels, max(0, end_out - start)), dtype=np.float32)
        # input in steps; then the gains and outputs each step makes possible
        pos = 0
        while True:
            take = min(_STEP, n_in - pos)
            if take > 0:
                blk = x[:, pos: pos + take]
                self._add_r(blk)
                self._x = np.concatenate([self._x, blk], axis=1) if self._x.shape[1] \
                    else blk.copy()
                pos += take
                self._received += take
            elif padding:
                self._r = np.concatenate([self._r, np.ones(padding)])
                padding = 0
            else:
                break
            self._gains()
            self._output(out, start)
        return out

    def _add_r(self, x: np.ndarray) -> None:
        if x.dtype == np.float64:
            peak = np.max(np.abs(x), axis=0)
        else:
            peak = np.max(np.abs(x), axis=0).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(peak <= self.ceiling, 1.0, self.ceiling / peak)
        r[~np.isfinite(peak)] = 0.0
        self._r = np.concatenate([self._r, r])

    def _gains(self) -> None:
        """Quantised gains for every index whose hold window has arrived."""
        a, h = self.half, self.hold
        m0 = self._q0 + self._q.shape[0]
        m1 = self._r0 + self._r.shape[0] - a
        if m1 <= m0:
            return
        seg = self._r[m0 - a - h - self._r0: m1 + a - self._r0]
        if np.all(seg == 1.0):
            g1 = np.ones(m1 - m0)
        else:
            g1 = _sliding_min(seg, 2 * a + h + 1)
        g2 = self._release(g1, m0)
        q = np.floor(g2 * 2.0 ** GAIN_BITS).astype(np.int64)
        self._q = np.concatenate([self._q, q])
        # keep the r the next hold windows need
        keep = m1 - a - h - self._r0
        self._r = self._r[keep:]
        self._r0 += keep

    def _release(self, g1: np.ndarray, m0: int) -> np.ndarray:
        beta = self._beta
        if beta == math.inf:
            return g1
        cut = math.log(RELEASE_END_NEPERS)
        if np.all(g1 == 1.0) and self._e_max - beta * m0 < cut:
            return g1   # the release is over and nothing new: L2 stays under the cut
        m = np.arange(m0, m0 + g1.shape[0], dtype=np.float64) * beta
        with np.errstate(divide="ignore"):
            loss = np.minimum(-np.log(g1), 745.0)     # nepers; inf (a gain of 0) capped
            e = np.log(loss) + m
        e_max = np.maximum.accumulate(np.concatenate([[self._e_max], e]))[1:]
        self._e_max = float(e_max[-1])
        log_l2 = e_max - m
        released = log_l2 >= cut
        if not np.any(released):
            return g1
        g2 = g1.copy()
        g2[released] = np.minimum(g1[released], np.exp(-np.exp(log_l2[released])))
        return g2

    def _output(self, out: np.ndarray, start: int) -> None:
        a = self.half
        n0 = self._x0
        n1 = self._q0 + self._q.shape[0] - a
        if n1 <= n0:
            return
        q = self._q[n0 - a - self._q0: n1 + a - self._q0]
        x = self._x[:, : n1 - n0]
        full = np.int64(1) << GAIN_BITS
        if np.all(q == full):
            y = x.astype(np.float32)
        else:
            s = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(q)])
            w = s[2 * a + 1:] - s[: -(2 * a + 1)]
            g = w.astype(np.float64) / (2 * a + 1) * 2.0 ** -GAIN_BITS
            y = (x.astype(np.float64) * g).astype(np.float32)
            np.clip(y, -self._c32, self._c32, out=y)
        out[:, n0 - start: n1 - start] = y
        self._x = self._x[:, n1 - n0:]
        self._x0 = n1
        drop = n1 - a - self._q0
        self._q = self._q[drop:]
        self._q0 += drop


def _sliding_min(s: np.ndarray, width: int) -> np.ndarray:
    """``out[i] = min(s[i : i + width])`` for every full window (van Herk / Gil-Werman)."""
    n_out = s.shape[0] - width + 1
    blocks = -(-s.shape[0] // width)
    padded = np.full(blocks * width, np.inf)
    padded[: s.shape[0]] = s
    b = padded.reshape(blocks, width)
    prefix = np.minimum.accumulate(b, axis=1).ravel()
    suffix = np.minimum.accumulate(b[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(suffix[:n_out], prefix[width - 1: width - 1 + n_out])


def limit(samples: np.ndarray, *, sample_rate_hz: int, ceiling_dbfs: float,
          lookahead_ms: float = 5.0, hold_ms: float = 10.0,
          release_ms: float = 50.0) -> np.ndarray:
    """Limit a whole ``(channels, n)`` signal to ``ceiling_dbfs`` (sample peak); float32,
    same shape. See :class:`Limiter` for the parameters."""
    x = np.asarray(samples)
    if x.ndim != 2:
        raise ValueError(f"expected samples shaped (channels, n), got {x.shape}")
    lim = Limiter(sample_rate_hz=sample_rate_hz, channels=x.shape[0], ceiling_dbfs=ceiling_dbfs,
                  lookahead_ms=lookahead_ms, hold_ms=hold_ms, release_ms=release_ms)
    head = lim.process(x)
    return np.concatenate([head, lim.finish()], axis=1)


def limit_blocks(blocks: Iterable[Audio], *, ceiling_dbfs: float, lookahead_ms: float = 5.0,
                 hold_ms: float = 10.0, release_ms: float = 50.0) -> Iterator[Audio]:
    """Limit a stream of blocks (one rate, one channel count); yields non-empty
    blocks whose concatenation is :func:`limit` of the blocks joined."""
    lim: Limiter | None = None
    for b in blocks:
        if lim is None:
            lim = Limiter(sample_rate_hz=b.sample_rate, channels=b.channels,
                          ceiling_dbfs=ceiling_dbfs, lookahead_ms=lookahead_ms,
                          hold_ms=hold_ms, release_ms=release_ms)
        elif (b.sample_rate, b.channels) != (lim.sample_rate_hz, lim.channels):
            raise ValueError("every block must share the first block's rate and channels")
        y = lim.process(b.samples)
        if y.shape[1]:
            yield Audio(y, b.sample_rate)
    if lim is not None:
        y = lim.finish()
        if y.shape[1]:
            yield Audio(y, lim.sample_rate_hz)
