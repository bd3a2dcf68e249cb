"""Automatic pitch: an F0 curve (float MIDI note numbers on a fixed frame grid).

Each stage is a pure function over a frame grid: the notes as steps, smooth
portamento between legato notes with a small preparation before and overshoot
after, a scoop into notes that follow a rest, vibrato on long notes, and a slow
seeded drift. Nothing here knows Hz; the vocoder converts at the end.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class SungNote:
    """A note as sung: its span in seconds and its pitch (MIDI)."""

    start_s: float
    end_s: float
    pitch: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True, slots=True)
class PitchSettings:
    #: longest pitch transition between legato notes
    portamento_s: float = 0.10
    #: a transition takes at most this share of the shorter of its two notes
    portamento_max_share: float = 0.35
    #: notes closer than this are legato (a transition); farther ones are re-attacked
    legato_gap_s: float = 0.06
    overshoot_ratio: float = 0.10
    overshoot_max_cents: float = 35.0
    overshoot_s: float = 0.10
    preparation_ratio: float = 0.05
    preparation_max_cents: float = 20.0
    preparation_s: float = 0.07
    #: a note after a rest starts this far below and rises to pitch
    scoop_cents: float = 30.0
    scoop_s: float = 0.06
    vibrato_min_note_s: float = 0.45
    vibrato_delay_s: float = 0.22
    vibrato_rate_hz: float = 5.5
    vibrato_depth_cents: float = 30.0
    vibrato_fade_in_s: float = 0.25
    vibrato_fade_out_s: float = 0.06
    drift_cents: float = 4.0
    drift_period_s: float = 0.35
    seed: int = 0


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def _bump(times_s: np.ndarray, start_s: float, length_s: float) -> np.ndarray:
    """Half a sine from start to start + length, zero elsewhere."""
    if length_s <= 0:
        return np.zeros_like(times_s)
    x = (times_s - start_s) / length_s
    return np.where((x > 0) & (x < 1), np.sin(np.pi * np.clip(x, 0, 1)), 0.0)


def _ornament_room(duration_s: float) -> float:
    """Overshoot and preparation need room: none on notes under 120 ms, full from 250 ms."""
    return float(np.clip((duration_s - 0.12) / 0.13, 0.0, 1.0))


def step_pitch(notes: list[SungNote], times_s: np.ndarray, *, release_s: float = 0.1) -> np.ndarray:
    """Each frame takes the pitch of the note it lies in; in a rest, the previous
    note's pitch for ``release_s``, then the next note's (so consonants before a
    note already carry its pitch)."""
    if not notes:
        return np.full_like(times_s, 60.0)
    starts = np.array([n.start_s for n in notes])
    ends = np.array([n.end_s for n in notes])
    pitches = np.array([n.pitch for n in notes], dtype=np.float64)
    nxt = np.clip(np.searchsorted(starts, times_s, side="right"), 0, len(notes) - 1)
    cur = np.searchsorted(starts, times_s, side="right") - 1
    out = pitches[nxt].copy()
    inside = (cur >= 0)
    cur_c = np.clip(cur, 0, None)
    hold = inside & (times_s < ends[cur_c] + release_s)
    out[hold] = pitches[cur_c[hold]]
    return out


def apply_transitions(pitch: np.ndarray, notes: list[SungNote], times_s: np.ndarray, *,
                      settings: PitchSettings) -> np.ndarray:
    """Portamento, preparation and overshoot between legato notes (in MIDI units)."""
    out = pitch.copy()
    for a, b in zip(notes, notes[1:]):
        if b.start_s - a.end_s > settings.legato_gap_s:
            continue
        delta = b.pitch - a.pitch
        if delta == 0:
            continue
        d = min(settings.portamento_s, settings.portamento_max_share * min(a.duration_s, b.duration_s))
        t0 = b.start_s - 0.6 * d
        t1 = b.start_s + 0.4 * d
        sel = (times_s >= t0 - 1e-9) & (times_s < b.end_s)
        sel_prev = (times_s >= t0) & (times_s < b.start_s)
        # the curve from a's pitch to b's over [t0, t1]
        ramp = a.pitch + delta * _smoothstep((times_s - t0) / max(t1 - t0, 1e-6))
        out = np.where(sel | sel_prev, ramp, out)
        cents = abs(delta) * 100.0
        sign = np.sign(delta)
        prep = min(settings.preparation_ratio * cents, settings.preparation_max_cents) / 100.0
        prep *= _ornament_room(a.duration_s)
        prep_len = min(settings.preparation_s, 0.2 * a.duration_s)
        out -= sign * prep * _bump(times_s, t0 - prep_len, prep_len)
        over = min(settings.overshoot_ratio * cents, settings.overshoot_max_cents) / 100.0
        over *= _ornament_room(b.duration_s)
        over_len = min(settings.overshoot_s, 0.25 * b.duration_s)
        out += sign * over * _bump(times_s, t1, over_len)
    return out


def apply_scoops(pitch: np.ndarray, notes: list[SungNote], times_s: np.ndarray, *,
                 settings: PitchSettings) -> np.ndarray:
    """Notes after a rest start a little below their pitch and rise into it."""
    out = pitch.copy()
    prev_end = -np.inf
    for n in notes:
        if n.start_s - prev_end > settings.legato_gap_s:
            length = min(settings.scoop_s, 0.25 * n.duration_s)
            x = (times_s - n.start_s) / max(length, 1e-6)
            w = np.where((times_s >= n.start_s - 0.15) & (x < 1), 1.0 - _smoothstep(x), 0.0)
            out -= settings.scoop_cents / 100.0 * w
        prev_end = n.end_s
    return out


def apply_vibrato(pitch: np.ndarray, notes: list[SungNote], times_s: np.ndarray, *,
                  settings: PitchSettings) -> np.ndarray:
    """Vibrato on long notes: delayed onset, fade in, fade out at the note's end."""
    out = pitch.copy()
    depth = settings.vibrato_depth_cents / 100.0
    for n in notes:
        if n.duration_s < settings.vibrato_min_note_s or depth <= 0:
            continue
        on = n.start_s + max(settings.vibrato_delay_s, 0.3 * n.duration_s)
        sel = (times_s >= on) & (times_s < n.end_s)
        if not np.any(sel):
            continue
        t = times_s[sel] - on
        fade = np.minimum(1.0, t / settings.vibrato_fade_in_s)
        fade *= np.clip((n.end_s - times_s[sel]) / settings.vibrato_fade_out_s, 0.0, 1.0)
        out[sel] += depth * fade * np.sin(2 * np.pi * settings.vibrato_rate_hz * t)
    return out


def drift_cents(times_s: np.ndarray, *, amount_cents: float, period_s: float, seed: int) -> np.ndarray:
    """Slow, smooth, seeded wandering: the same times and seed give the same curve."""
    if amount_cents <= 0 or len(times_s) == 0:
        return np.zeros_like(times_s)
    k0 = int(np.floor(times_s[0] / period_s)) - 1
    k1 = int(np.ceil(times_s[-1] / period_s)) + 2
    knots = np.arange(k0, k1)
    # one value per knot, from the knot index and the seed alone
    vals = np.array([np.random.default_rng([seed & 0xFFFFFFFF, int(k) & 0xFFFFFFFF]).standard_normal()
                     for k in knots])
    x = times_s / period_s
    i = np.floor(x).astype(int) - k0
    f = x - np.floor(x)
    w = 0.5 - 0.5 * np.cos(np.pi * f)
    return amount_cents * 0.5 * (vals[i] * (1 - w) + vals[np.minimum(i + 1, len(vals) - 1)] * w)


def pitch_curve(notes: list[SungNote], times_s: np.ndarray, *, settings: PitchSettings) -> np.ndarray:
    """The automatic F0 curve (MIDI) at ``times_s`` for notes sorted by start."""
    base = step_pitch(notes, times_s)
    p = apply_transitions(base, notes, times_s, settings=settings)
    p = apply_scoops(p, notes, times_s, settings=settings)
    p = apply_vibrato(p, notes, times_s, settings=settings)
    p = p + drift_cents(times_s, amount_cents=settings.drift_cents,
                        period_s=settings.drift_period_s, seed=settings.seed) / 100.0
    return p
