"""Ticks <-> seconds, from a tempo map. The only place seconds are born."""
from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from .score import Tempo
from .units import TICKS_PER_QUARTER


@dataclass(frozen=True, slots=True)
class TimeAxis:
    """A piecewise-constant tempo map, as segment starts in ticks and seconds."""

    tempos: tuple[Tempo, ...]
    _seg_ticks: tuple[int, ...]
    _seg_seconds: tuple[float, ...]

    @classmethod
    def from_tempos(cls, tempos) -> "TimeAxis":
        ts = sorted(tempos, key=lambda t: t.tick)
        if not ts or ts[0].tick != 0:
            first_bpm = ts[0].bpm if ts else 120.0
            ts = [Tempo(0, first_bpm)] + list(ts)
        # last tempo at a tick wins
        dedup: list[Tempo] = []
        for t in ts:
            if dedup and dedup[-1].tick == t.tick:
                dedup[-1] = t
            else:
                dedup.append(t)
        seg_s = [0.0]
        for a, b in zip(dedup, dedup[1:]):
            seg_s.append(seg_s[-1] + (b.tick - a.tick) * 60.0 / (a.bpm * TICKS_PER_QUARTER))
        return cls(tuple(dedup), tuple(t.tick for t in dedup), tuple(seg_s))

    def tick_to_seconds(self, tick: float) -> float:
        i = max(0, bisect.bisect_right(self._seg_ticks, tick) - 1)
        t = self.tempos[i]
        return self._seg_seconds[i] + (tick - t.tick) * 60.0 / (t.bpm * TICKS_PER_QUARTER)

    def ticks_to_seconds(self, ticks) -> np.ndarray:
        ticks = np.asarray(ticks, dtype=np.float64)
        seg_ticks = np.asarray(self._seg_ticks, dtype=np.float64)
        i = np.clip(np.searchsorted(seg_ticks, ticks, side="right") - 1, 0, None)
        bpm = np.asarray([t.bpm for t in self.tempos])[i]
        return np.asarray(self._seg_seconds)[i] + (ticks - seg_ticks[i]) * 60.0 / (bpm * TICKS_PER_QUARTER)

    def seconds_to_tick(self, seconds: float) -> float:
        i = max(0, bisect.bisect_right(self._seg_seconds, seconds) - 1)
        t = self.tempos[i]
        return t.tick + (seconds - self._seg_seconds[i]) * t.bpm * TICKS_PER_QUARTER / 60.0

    def seconds_to_ticks(self, seconds) -> np.ndarray:
        seconds = np.asarray(seconds, dtype=np.float64)
        seg_s = np.asarray(self._seg_seconds, dtype=np.float64)
        i = np.clip(np.searchsorted(seg_s, seconds, side="right") - 1, 0, None)
        ticks = np.asarray(self._seg_ticks, dtype=np.float64)[i]
        bpm = np.asarray([t.bpm for t in self.tempos])[i]
        return ticks + (seconds - seg_s[i]) * bpm * TICKS_PER_QUARTER / 60.0

    def bpm_at(self, tick: float) -> float:
        i = max(0, bisect.bisect_right(self._seg_ticks, tick) - 1)
        return self.tempos[i].bpm
