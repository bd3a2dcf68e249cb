"""Automatic pitch: an F0 curve (float MIDI note numbers on a fixed frame grid).

Each stage is a pure function over a frame grid: the notes as steps, smooth
portamento between legato notes with a small preparation before and overshoot
after, a scoop into notes that follow a rest, vibrato on long notes, and a slow
seeded drift. Nothing here knows Hz; the vocoder converts at the end.

A note that brings its own pitch points (imported from .ust/.ustx/...) is sung
on them instead: no automatic transition, scoop or drift into or on it. A note
that brings its own vibrato gets that one instead of the automatic vibrato (a
vibrato of length 0 means none).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import check_fields

from ..model.score import Vibrato


@dataclass(frozen=True, slots=True)
class SungNote:
    """A note as sung: its span in seconds and its pitch (MIDI)."""

    start_s: float
    end_s: float
    pitch: float
    #: the note's own pitch curve: (seconds from start_s, cents from pitch, shape)
    points: tuple[tuple[float, float, str], ...] = ()
    #: the note's own vibrato; None: the automatic one
    vibrato: Vibrato | None = None

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

    def __post_init__(self) -> None:
        check_fields(self, "PitchSettings", {
            "portamento_s": (0.0, 10.0), "portamento_max_share": (0.0, 1.0),
            "legato_gap_s": (0.0, 10.0), "overshoot_ratio": (0.0, 10.0),
            "overshoot_max_cents": (0.0, 1200.0), "overshoot_s": (0.0, 10.0),
            "preparation_ratio": (0.0, 10.0), "preparation_max_cents": (0.0, 1200.0),
            "preparation_s": (0.0, 10.0), "scoop_cents": (0.0, 1200.0), "scoop_s": (0.0, 10.0),
            "vibrato_min_note_s": (0.0, 3600.0), "vibrato_delay_s": (0.0, 3600.0),
            "vibrato_rate_hz": (0.0, 50.0, True), "vibrato_depth_cents": (0.0, 1200.0),
            "vibrato_fade_in_s": (0.0, 3600.0), "vibrato_fade_out_s": (0.0, 3600.0),
            "drift_cents": (0.0, 1200.0), "drift_period_s": (0.0, 3600.0, True),
            "seed": (0, 2**63 - 1)})


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
        if b.start_s - a.end_s > settings.legato_gap_s or b.points:
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
        if n.start_s - prev_end > settings.legato_gap_s and not n.points:
            length = min(settings.scoop_s, 0.25 * n.duration_s)
            x = (times_s - n.start_s) / max(length, 1e-6)
            w = np.where((times_s >= n.start_s - 0.15) & (x < 1), 1.0 - _smoothstep(x), 0.0)
            out -= settings.scoop_cents / 100.0 * w
        prev_end = n.end_s
    return out


def apply_vibrato(pitch: np.ndarray, notes: list[SungNote], times_s: np.ndarray, *,
                  settings: PitchSettings) -> np.ndarray:
    """Automatic vibrato on long notes: delayed onset, fade in, fade out at the note's
    end. Notes with their own vibrato or pitch points get none here."""
    out = pitch.copy()
    depth = settings.vibrato_depth_cents / 100.0
    for n in notes:
        if n.vibrato is not None or n.points or n.duration_s < settings.vibrato_min_note_s or depth <= 0:
            continue  # a note with a hand-drawn curve and no vibrato of its own has none
        on = n.start_s + max(settings.vibrato_delay_s, 0.3 * n.duration_s)
        sel = (times_s >= on) & (times_s < n.end_s)
        if not np.any(sel):
            continue
        t = times_s[sel] - on
        fade = np.minimum(1.0, t / settings.vibrato_fade_in_s)
        fade *= np.clip((n.end_s - times_s[sel]) / settings.vibrato_fade_out_s, 0.0, 1.0)
        out[sel] += depth * fade * np.sin(2 * np.pi * settings.vibrato_rate_hz * t)
    return out


def shape_curve(x: np.ndarray, shape: str) -> np.ndarray:
    """0 -> 1 over x in [0, 1]: ``io`` cosine S-curve, ``l`` line, ``i`` ease in, ``o`` ease out."""
    x = np.clip(x, 0.0, 1.0)
    if shape == "l":
        return x
    if shape == "i":
        return 1.0 - np.cos(0.5 * np.pi * x)
    if shape == "o":
        return np.sin(0.5 * np.pi * x)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def note_points_curve(note: SungNote, times_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A note's own pitch points as (mask of covered frames, pitch in MIDI there)."""
    pts = sorted(note.points, key=lambda p: p[0])
    value = np.full(times_s.shape, note.pitch, dtype=np.float64)
    t0 = note.start_s + pts[0][0]
    t1 = note.start_s + pts[-1][0]
    mask = (times_s >= t0) & (times_s <= t1)
    if len(pts) == 1:
        value[mask] = note.pitch + pts[0][1] / 100.0
        return mask, value
    for (xa, ya, shape), (xb, yb, _) in zip(pts, pts[1:]):
        a, b = note.start_s + xa, note.start_s + xb
        sel = (times_s >= a) & (times_s <= b)
        if not np.any(sel):
            continue
        w = shape_curve((times_s[sel] - a) / (b - a), shape) if b > a else np.ones(int(sel.sum()))
        value[sel] = note.pitch + (ya + (yb - ya) * w) / 100.0
    return mask, value


def apply_note_points(pitch: np.ndarray, notes: list[SungNote],
                      times_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Notes with their own pitch points overwrite the curve over their points' span
    (later notes over earlier ones, as in OpenUtau). Returns the curve and the mask
    of frames that are drawn: the points' spans and the notes that have points."""
    out = pitch.copy()
    drawn = np.zeros(times_s.shape, dtype=bool)
    for n in notes:
        if n.points:
            mask, value = note_points_curve(n, times_s)
            out[mask] = value[mask]
            drawn |= mask | ((times_s >= n.start_s) & (times_s < n.end_s))
    return out, drawn


def note_vibrato_cents(note: SungNote, times_s: np.ndarray) -> np.ndarray:
    """A note's own vibrato (see :class:`~utagoe.model.Vibrato`), in cents at ``times_s``."""
    v = note.vibrato
    out = np.zeros(times_s.shape, dtype=np.float64)
    if v is None or v.is_off or note.duration_s <= 0:
        return out
    length_s = note.duration_s * min(v.length_pct, 100.0) / 100.0
    start = note.end_s - length_s
    sel = (times_s >= start) & (times_s < note.end_s)
    if not np.any(sel) or length_s <= 0:
        return out
    t = times_s[sel] - start
    period_s = v.period_ms / 1000.0
    y = np.sin(2 * np.pi * (t / period_s + v.phase_pct / 100.0)) + v.drift_pct / 100.0
    fade = np.ones_like(t)
    fin = length_s * min(max(v.fade_in_pct, 0.0), 100.0) / 100.0
    fout = length_s * min(max(v.fade_out_pct, 0.0), 100.0) / 100.0
    if fin > 0:
        fade = np.minimum(fade, t / fin)
    if fout > 0:
        fade = np.minimum(fade, (length_s - t) / fout)
    out[sel] = v.depth_cents * y * np.clip(fade, 0.0, 1.0)
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
    p, drawn = apply_note_points(p, notes, times_s)
    for n in notes:
        if n.vibrato is not None:
            p = p + note_vibrato_cents(n, times_s) / 100.0
    drift = drift_cents(times_s, amount_cents=settings.drift_cents,
                        period_s=settings.drift_period_s, seed=settings.seed) / 100.0
    drift[drawn] = 0.0  # a hand-drawn pitch curve is sung as drawn
    return p + drift
