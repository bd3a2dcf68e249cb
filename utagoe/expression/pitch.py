"""Automatic pitch: an F0 curve (float MIDI note numbers on a fixed frame grid).

The curve follows the model of Saitou et al. for Japanese singing: the notes as
steps, and on top of them four kinds of movement, each shaped by the music and
each different from note to note, but always the same for the same song and seed.

1. **Transitions** between legato notes (notes less than ``legato_gap_s`` apart):
   a smooth move from one pitch to the next that takes longer the larger the
   interval, a little longer upward than downward for large leaps, shorter on short
   notes (fast tempo), and never more than ``portamento_max_share`` of either note;
   before it a small *preparation* (a move away from the coming note), after it an
   *overshoot* past the new note (after upward moves; smaller after downward ones).
   Across a rest there is no transition: the next note starts with a *scoop* from
   below instead.
2. **Vibrato** on long notes: it starts after a delay, fades in, fades out at the
   note's end; every note draws its own rate and depth around the style's centre,
   and within a note the rate and depth wander slowly, the rate rising a little
   toward the end of the note.
3. **Fine fluctuation**: a slow drift (a few cents over a third of a second) and a
   small jitter (about 10 Hz, one or two cents), so held notes are never machine-flat.

What singing research reports, and what we chose (see also
``benchmarks/bench_pitch.py``, which measures the rendered songs against it):

- Saitou, Unoki & Akagi (2005), "Development of an F0 control model based on F0
  dynamic characteristics for singing-voice synthesis", Speech Communication 46;
  Saitou, Goto, Unoki & Akagi (2007), "Speech-to-singing synthesis", IEEE WASPAA:
  F0 of (Japanese) singing = note steps + overshoot + preparation + vibrato + fine
  fluctuation; overshoot and preparation are the responses of damped second-order
  systems to the note steps (here: smooth bumps of the same shape: quick rise,
  slower settling), vibrato about 5.5-6.5 Hz, fine fluctuation low-passed noise of a
  few cents (here: seeded noise interpolated between knots 40 ms apart).
- Seashore (1932, 1938, "Psychology of Music"): vibrato rate about 6-7 Hz, extent
  about half a semitone to a semitone on each side in the singers he measured.
- Sundberg (1987, "The Science of the Singing Voice"; 1994 on vibrato): rate about
  5.5-7.5 Hz; extent in classical singing up to about a semitone either way.
- Prame (1994), "Measurements of the vibrato rate of ten singers", JASA 96: rate
  about 5.5-6.5 Hz, mean about 6 Hz, and the rate rises toward the end of a tone.
  Prame (1997), "Vibrato extent and intonation in professional Western lyric
  singing", JASA 102: extent (half peak-to-peak) about 70 cents on average, varying
  from about 35 to over 100 cents between tones and singers.
- Sundberg (1979), "Maximum speed of pitch changes in singers and untrained
  subjects", J. Phonetics 7; Xu & Sun (2002), "Maximum speed of pitch change and how
  it may relate to speech", JASA 111: the time a pitch change takes grows about
  linearly with its size; Xu & Sun give about 90 ms + 9 ms per semitone for rises
  and about 100 ms + 6 ms per semitone for falls (whole excursion, at maximum
  speed), so large falls are faster than large rises; Sundberg found trained
  singers faster than untrained subjects and about as fast up as down.
- Overshoot after a note change: about 20-60 cents lasting about 50-150 ms in the
  analyses above (Saitou et al. model it as proportional to the interval).

Our centres are narrower than classical singing: the extents reported for opera
(Prame: about 70 cents) would put the pitch more than 50 cents off the written note
for much of every long note, while pop and Japanese singing use a narrower
vibrato. So ``natural`` draws each note's vibrato extent around 32 cents (spread 5,
never above 42) at about 5.8 Hz (spread 0.3 Hz), and ``expressive`` around 40 cents
(never above 50) at about 5.6 Hz: at least 95 % of mid-note frames stay within 50
cents of the written pitch, vibrato included.

**Styles.** ``PitchSettings(style=...)`` chooses the value of every numeric field
that is left at ``None`` (see :func:`style_profile`); a field given a number
overrides its style's value. ``plain``: steps joined by 40 ms transitions, nothing
else (no vibrato, drift, jitter, overshoot, preparation or scoop; long notes are
flat): for producers who draw everything themselves. ``natural`` (the default): the
model above. ``expressive``: larger and longer ornaments, wider and more varied
vibrato, more fluctuation. ``fluctuation=False`` turns drift and jitter off in any
style.

**Per note.** A note that brings its own pitch points (imported from .ust/.ustx/...)
is sung on them instead: no automatic transition, scoop, vibrato or fluctuation
into or on it (a drawn curve wins where drawn). A note that brings its own vibrato
gets that one instead of the automatic vibrato (a vibrato of length 0 means none).
``SungNote.portamento_s`` and ``portamento_offset_s`` set the length and the start
(from the note's start) of the transition into the note, or of its scoop after a
rest; ``tuning_cents`` sings the whole note (its points and vibrato too) that far
off its written pitch.

**Determinism.** Every random choice comes from ``settings.seed`` and either the
note's own identity (its start to the millisecond and its pitch) or absolute time
(knots of the drift and jitter), never from a note's place in the list or from the
first frame: a phrase's curve computed from the notes near it is exactly the slice
of the whole song's curve. Nothing here knows Hz; the vocoder converts at the end.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

from ..dsp.hashing import GOLDEN, mix64

from ..model.score import Vibrato
from ..validation import check_bool, check_choice, check_fields, check_int, check_number

#: the global styles of the automatic pitch (the default is "natural")
PITCH_STYLES = ("plain", "natural", "expressive")


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
    #: length of the transition into this note (or of its scoop after a rest); None: automatic
    portamento_s: float | None = None
    #: where that transition starts, from the note's start (negative: before); None: automatic
    portamento_offset_s: float | None = None
    #: the note is sung this many cents off its written pitch (its points and vibrato too)
    tuning_cents: float = 0.0

    def __post_init__(self) -> None:
        if self.portamento_s is not None:
            check_number("SungNote", "portamento_s", self.portamento_s, lo=0.0, hi=60.0)
        if self.portamento_offset_s is not None:
            check_number("SungNote", "portamento_offset_s", self.portamento_offset_s,
                         lo=-60.0, hi=60.0)
        check_number("SungNote", "tuning_cents", self.tuning_cents, lo=-2400.0, hi=2400.0)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def sung_pitch(self) -> float:
        """The pitch sung (MIDI): the written one moved by ``tuning_cents``."""
        return self.pitch + self.tuning_cents / 100.0


@dataclass(frozen=True, slots=True)
class PitchProfile:
    """Every number of the automatic pitch, resolved (see :meth:`PitchSettings.profile`)."""

    #: transition time of a step of no size; grows by the next two per semitone
    portamento_s: float
    portamento_rise_per_semitone_s: float
    portamento_fall_per_semitone_s: float
    #: a transition takes at most this share of the shorter of its two notes
    portamento_max_share: float
    #: notes closer than this are legato (a transition); farther ones are re-attacked
    legato_gap_s: float
    #: overshoot after an upward move: this share of the interval, at most the max
    overshoot_ratio: float
    #: after a downward move the overshoot is this share of the upward one
    overshoot_down_share: float
    overshoot_max_cents: float
    #: how long the overshoot lasts after the move has arrived
    overshoot_s: float
    preparation_ratio: float
    preparation_max_cents: float
    preparation_s: float
    #: a note after a rest starts this far below and rises to pitch over scoop_s
    scoop_cents: float
    scoop_s: float
    #: notes shorter than this get no automatic vibrato
    vibrato_min_note_s: float
    #: vibrato starts after this delay, or this share of the note if later
    vibrato_delay_s: float
    vibrato_delay_share: float
    #: centre of the notes' vibrato rates, and their spread (sd) from note to note
    vibrato_rate_hz: float
    vibrato_rate_spread_hz: float
    #: centre of the notes' vibrato extents (half peak-to-peak), spread and ceiling
    vibrato_depth_cents: float
    vibrato_depth_spread_cents: float
    vibrato_depth_max_cents: float
    #: slow wander within a note: of the rate and the depth, as shares of them
    vibrato_rate_wander: float
    vibrato_depth_wander: float
    #: the rate rises by this share toward the end of a note (Prame 1994)
    vibrato_end_rise: float
    vibrato_fade_in_s: float
    vibrato_fade_out_s: float
    #: slow drift: its size (about twice its sd) and the time between its knots
    drift_cents: float
    drift_period_s: float
    #: fine jitter (sd, cents)
    jitter_cents: float
    #: note-to-note spread (sd, as a share) of transition times and ornament sizes
    variation: float


def style_profile(style: str) -> PitchProfile:
    """The numbers of a style: ``plain``, ``natural`` or ``expressive``."""
    check_choice("PitchSettings", "style", style, PITCH_STYLES)
    natural = PitchProfile(
        portamento_s=0.095, portamento_rise_per_semitone_s=0.009,
        portamento_fall_per_semitone_s=0.006, portamento_max_share=0.35, legato_gap_s=0.06,
        overshoot_ratio=0.15, overshoot_down_share=0.4, overshoot_max_cents=32.0,
        overshoot_s=0.10, preparation_ratio=0.05, preparation_max_cents=15.0,
        preparation_s=0.07, scoop_cents=30.0, scoop_s=0.07,
        vibrato_min_note_s=0.45, vibrato_delay_s=0.22, vibrato_delay_share=0.25,
        vibrato_rate_hz=5.8, vibrato_rate_spread_hz=0.3,
        vibrato_depth_cents=32.0, vibrato_depth_spread_cents=5.0, vibrato_depth_max_cents=42.0,
        vibrato_rate_wander=0.04, vibrato_depth_wander=0.12, vibrato_end_rise=0.06,
        vibrato_fade_in_s=0.25, vibrato_fade_out_s=0.06,
        drift_cents=4.0, drift_period_s=0.35, jitter_cents=1.5, variation=0.15)
    if style == "natural":
        return natural
    if style == "expressive":
        return replace(
            natural, portamento_s=0.11, portamento_rise_per_semitone_s=0.011,
            portamento_fall_per_semitone_s=0.0075, portamento_max_share=0.4,
            overshoot_ratio=0.2, overshoot_down_share=0.5, overshoot_max_cents=45.0,
            overshoot_s=0.13, preparation_ratio=0.08, preparation_max_cents=25.0,
            preparation_s=0.09, scoop_cents=55.0, scoop_s=0.10,
            vibrato_min_note_s=0.35, vibrato_delay_s=0.16, vibrato_delay_share=0.2,
            vibrato_rate_hz=5.6, vibrato_rate_spread_hz=0.4,
            vibrato_depth_cents=40.0, vibrato_depth_spread_cents=6.0, vibrato_depth_max_cents=50.0,
            vibrato_rate_wander=0.06, vibrato_depth_wander=0.18, vibrato_end_rise=0.08,
            vibrato_fade_in_s=0.3, vibrato_fade_out_s=0.08,
            drift_cents=6.0, jitter_cents=2.0, variation=0.2)
    # plain: steps joined by short transitions, nothing else
    return replace(
        natural, portamento_s=0.04, portamento_rise_per_semitone_s=0.0,
        portamento_fall_per_semitone_s=0.0, overshoot_ratio=0.0, overshoot_down_share=0.0,
        overshoot_max_cents=0.0, preparation_ratio=0.0, preparation_max_cents=0.0,
        scoop_cents=0.0, vibrato_depth_cents=0.0, vibrato_depth_spread_cents=0.0,
        vibrato_depth_max_cents=0.0, vibrato_rate_spread_hz=0.0, vibrato_rate_wander=0.0,
        vibrato_depth_wander=0.0, vibrato_end_rise=0.0, drift_cents=0.0, jitter_cents=0.0,
        variation=0.0)


@dataclass(frozen=True, slots=True)
class PitchSettings:
    """How the automatic pitch sings: a style, and any of its numbers overridden.

    Every numeric field left at ``None`` takes its ``style``'s value (see
    :func:`style_profile` and :class:`PitchProfile` for what each means); a number
    given overrides it. ``fluctuation=False`` turns drift and jitter off.
    """

    style: str = "natural"
    seed: int = 0
    fluctuation: bool = True
    portamento_s: float | None = None
    portamento_rise_per_semitone_s: float | None = None
    portamento_fall_per_semitone_s: float | None = None
    portamento_max_share: float | None = None
    legato_gap_s: float | None = None
    overshoot_ratio: float | None = None
    overshoot_down_share: float | None = None
    overshoot_max_cents: float | None = None
    overshoot_s: float | None = None
    preparation_ratio: float | None = None
    preparation_max_cents: float | None = None
    preparation_s: float | None = None
    scoop_cents: float | None = None
    scoop_s: float | None = None
    vibrato_min_note_s: float | None = None
    vibrato_delay_s: float | None = None
    vibrato_delay_share: float | None = None
    vibrato_rate_hz: float | None = None
    vibrato_rate_spread_hz: float | None = None
    vibrato_depth_cents: float | None = None
    vibrato_depth_spread_cents: float | None = None
    vibrato_depth_max_cents: float | None = None
    vibrato_rate_wander: float | None = None
    vibrato_depth_wander: float | None = None
    vibrato_end_rise: float | None = None
    vibrato_fade_in_s: float | None = None
    vibrato_fade_out_s: float | None = None
    drift_cents: float | None = None
    drift_period_s: float | None = None
    jitter_cents: float | None = None
    variation: float | None = None

    def __post_init__(self) -> None:
        check_choice("PitchSettings", "style", self.style, PITCH_STYLES)
        check_bool("PitchSettings", "fluctuation", self.fluctuation)
        check_int("PitchSettings", "seed", self.seed, lo=0, hi=2**63 - 1)
        bounds: dict[str, tuple] = {
            "portamento_s": (0.0, 10.0), "portamento_rise_per_semitone_s": (0.0, 1.0),
            "portamento_fall_per_semitone_s": (0.0, 1.0), "portamento_max_share": (0.0, 1.0),
            "legato_gap_s": (0.0, 10.0), "overshoot_ratio": (0.0, 10.0),
            "overshoot_down_share": (0.0, 10.0), "overshoot_max_cents": (0.0, 1200.0),
            "overshoot_s": (0.0, 10.0), "preparation_ratio": (0.0, 10.0),
            "preparation_max_cents": (0.0, 1200.0), "preparation_s": (0.0, 10.0),
            "scoop_cents": (0.0, 1200.0), "scoop_s": (0.0, 10.0),
            "vibrato_min_note_s": (0.0, 3600.0), "vibrato_delay_s": (0.0, 3600.0),
            "vibrato_delay_share": (0.0, 1.0),
            "vibrato_rate_hz": (0.0, 50.0, True), "vibrato_rate_spread_hz": (0.0, 10.0),
            "vibrato_depth_cents": (0.0, 1200.0), "vibrato_depth_spread_cents": (0.0, 1200.0),
            "vibrato_depth_max_cents": (0.0, 1200.0), "vibrato_rate_wander": (0.0, 0.5),
            "vibrato_depth_wander": (0.0, 1.0), "vibrato_end_rise": (0.0, 1.0),
            "vibrato_fade_in_s": (0.0, 3600.0), "vibrato_fade_out_s": (0.0, 3600.0),
            "drift_cents": (0.0, 1200.0), "drift_period_s": (0.0, 3600.0, True),
            "jitter_cents": (0.0, 1200.0), "variation": (0.0, 1.0)}
        check_fields(self, "PitchSettings",
                     {k: b for k, b in bounds.items() if getattr(self, k) is not None})

    def profile(self) -> PitchProfile:
        """The style's numbers with this object's overrides (and ``fluctuation``) applied."""
        given = {f.name: getattr(self, f.name) for f in fields(PitchProfile)
                 if getattr(self, f.name) is not None}
        p = replace(style_profile(self.style), **given)
        if not self.fluctuation:
            p = replace(p, drift_cents=0.0, jitter_cents=0.0)
        return p


# -- seeded noise that depends on keys, not on positions in arrays (utagoe.dsp.hashing)


def _hash_uniform(seed: int, stream: int, *keys: np.ndarray) -> np.ndarray:
    """Uniform numbers in [0, 1), one per element of the (equally shaped) integer
    ``keys``, a function of the seed, the stream and the keys only."""
    shape = np.shape(keys[0])
    h = np.full(shape, (seed * 0x9E3779B1 + stream * 0x632BE5AB + 0x2545F491) % 2**64,
                dtype=np.uint64)
    h = mix64(h.reshape(-1))
    for k in keys:
        kk = np.ascontiguousarray(np.asarray(k, dtype=np.int64).reshape(-1)).view(np.uint64)
        h = mix64(h ^ (kk + GOLDEN))
    return ((h >> np.uint64(11)).astype(np.float64) * 2.0 ** -53).reshape(shape)


def _hash_normal(seed: int, stream: int, *keys: np.ndarray) -> np.ndarray:
    """Standard normal numbers keyed like :func:`_hash_uniform` (Box-Muller)."""
    u1 = _hash_uniform(seed, 2 * stream, *keys)
    u2 = _hash_uniform(seed, 2 * stream + 1, *keys)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def _knot_noise(times_s: np.ndarray, *, period_s: float, seed: int, stream: int) -> np.ndarray:
    """Smooth noise (sd about 0.8 between knots, 1 on them): one standard normal per
    knot of absolute time ``k * period_s``, joined by cosine steps."""
    if len(times_s) == 0:
        return np.zeros_like(times_s)
    x = times_s / period_s
    fl = np.floor(x)
    k = fl.astype(np.int64)
    w = 0.5 - 0.5 * np.cos(np.pi * (x - fl))
    return _hash_normal(seed, stream, k) * (1 - w) + _hash_normal(seed, stream, k + 1) * w


# -- shapes

def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def _bump(times_s: np.ndarray, start_s: float, length_s: float) -> np.ndarray:
    """Half a sine from start to start + length, zero elsewhere."""
    if length_s <= 0:
        return np.zeros_like(times_s)
    x = (times_s - start_s) / length_s
    return np.where((x > 0) & (x < 1), np.sin(np.pi * np.clip(x, 0, 1)), 0.0)


def _response_bump(times_s: np.ndarray, start_s: float, length_s: float, *,
                   late: bool = False) -> np.ndarray:
    """A smooth bump from 0 to a peak of 1 and back over [start, start + length]:
    quick to rise and slow to settle, like a damped second-order response (peak at
    about a third); ``late`` mirrors it (slow rise, quick fall: a preparation)."""
    if length_s <= 0:
        return np.zeros_like(times_s)
    x = np.clip((times_s - start_s) / length_s, 0.0, 1.0)
    if late:
        x = 1.0 - x
    return np.sin(np.pi * x ** 0.6) ** 2


def _ornament_room(duration_s: float) -> float:
    """Overshoot and preparation need room: none on notes under 120 ms, full from 250 ms."""
    return float(np.clip((duration_s - 0.12) / 0.13, 0.0, 1.0))


def _span(times_s: np.ndarray, t0: float, t1: float) -> slice:
    """The frames with t0 <= t < t1 (``times_s`` ascending)."""
    i0, i1 = np.searchsorted(times_s, (t0, t1), side="left")
    return slice(int(i0), int(i1))


def _note_normals(notes: list[SungNote], seed: int, stream: int) -> np.ndarray:
    """One standard normal per note, from the seed and the note's identity (its
    start to the millisecond and its written pitch to the cent) alone."""
    ms = np.array([int(round(n.start_s * 1000.0)) for n in notes], dtype=np.int64)
    pc = np.array([int(round(n.pitch * 100.0)) for n in notes], dtype=np.int64)
    return _hash_normal(seed, stream, ms, pc)


def _note_uniforms(notes: list[SungNote], seed: int, stream: int) -> np.ndarray:
    ms = np.array([int(round(n.start_s * 1000.0)) for n in notes], dtype=np.int64)
    pc = np.array([int(round(n.pitch * 100.0)) for n in notes], dtype=np.int64)
    return _hash_uniform(seed, stream, ms, pc)


# streams of the per-note draws
_S_TRANSITION, _S_OVERSHOOT, _S_PREPARATION, _S_SCOOP = 1, 2, 3, 4
_S_RATE, _S_DEPTH, _S_DELAY = 5, 6, 7
_S_WANDER_RATE_F, _S_WANDER_RATE_PHASE, _S_WANDER_DEPTH_F, _S_WANDER_DEPTH_PHASE = 8, 9, 10, 11
_S_DRIFT, _S_JITTER = 12, 13


def _vary(z: float, spread: float) -> float:
    """A factor around 1 from a standard normal, kept within two spreads."""
    return 1.0 + spread * float(np.clip(z, -2.0, 2.0))


# -- the stages

def step_pitch(notes: list[SungNote], times_s: np.ndarray, *, release_s: float = 0.1) -> np.ndarray:
    """Each frame takes the (sung) pitch of the note it lies in; in a rest, the
    previous note's pitch for ``release_s``, then the next note's (so consonants
    before a note already carry its pitch)."""
    if not notes:
        return np.full_like(times_s, 60.0)
    starts = np.array([n.start_s for n in notes])
    ends = np.array([n.end_s for n in notes])
    pitches = np.array([n.sung_pitch for n in notes], dtype=np.float64)
    nxt = np.clip(np.searchsorted(starts, times_s, side="right"), 0, len(notes) - 1)
    cur = np.searchsorted(starts, times_s, side="right") - 1
    out = pitches[nxt].copy()
    inside = (cur >= 0)
    cur_c = np.clip(cur, 0, None)
    hold = inside & (times_s < ends[cur_c] + release_s)
    out[hold] = pitches[cur_c[hold]]
    return out


@dataclass(frozen=True, slots=True)
class Transition:
    """One legato transition into note ``b``: the move over [start_s, end_s]."""

    start_s: float
    end_s: float
    from_pitch: float
    to_pitch: float

    @property
    def length_s(self) -> float:
        return self.end_s - self.start_s


def transition_length_s(interval: float, a_duration_s: float, b_duration_s: float, *,
                        profile: PitchProfile, spread: float = 1.0) -> float:
    """How long the automatic move over ``interval`` semitones (signed) takes: longer
    for larger intervals (rises grow faster than falls), shorter between short notes
    (a fast tempo), at most ``portamento_max_share`` of the shorter note.
    ``spread`` is the note's own variation factor."""
    per = (profile.portamento_rise_per_semitone_s if interval > 0
           else profile.portamento_fall_per_semitone_s)
    length = (profile.portamento_s + per * abs(interval)) * spread
    shorter = min(a_duration_s, b_duration_s)
    hurry = float(np.clip(math.sqrt(max(shorter, 0.0) / 0.3), 0.5, 1.0))
    return max(0.0, min(length * hurry, profile.portamento_max_share * shorter))


def _is_legato(a: SungNote, b: SungNote, profile: PitchProfile) -> bool:
    return b.start_s - a.end_s <= profile.legato_gap_s


def transitions(notes: list[SungNote], *, settings: PitchSettings) -> list[Transition | None]:
    """The transition into each note (None: none, after a rest, on a drawn note, or
    between equal pitches); the first note's is always None."""
    prof = settings.profile()
    out: list[Transition | None] = [None] * len(notes)
    if len(notes) < 2:
        return out
    zs = _note_normals(notes, settings.seed, _S_TRANSITION)
    prev_end = -math.inf
    for k in range(1, len(notes)):
        a, b = notes[k - 1], notes[k]
        if not _is_legato(a, b, prof) or b.points:
            prev_end = -math.inf
            continue
        delta = b.sung_pitch - a.sung_pitch
        if delta == 0:
            prev_end = -math.inf
            continue
        if b.portamento_s is not None:
            length = b.portamento_s
        else:
            length = transition_length_s(delta, a.duration_s, b.duration_s, profile=prof,
                                         spread=_vary(zs[k], prof.variation))
        offset = b.portamento_offset_s if b.portamento_offset_s is not None else -0.6 * length
        t0 = b.start_s + offset
        # never before the previous note starts, nor before the move into it ends
        t0 = max(t0, a.start_s, prev_end)
        t1 = min(t0 + length, max(b.end_s, t0))
        out[k] = Transition(t0, t1, a.sung_pitch, b.sung_pitch)
        prev_end = t1
    return out


def apply_transitions(pitch: np.ndarray, notes: list[SungNote], times_s: np.ndarray, *,
                      settings: PitchSettings) -> np.ndarray:
    """Portamento, preparation and overshoot between legato notes (in MIDI units);
    ``times_s`` ascending."""
    prof = settings.profile()
    out = pitch.copy()
    moves = transitions(notes, settings=settings)
    # the moves first, each over its span up to its note's end ...
    for b, m in zip(notes, moves):
        if m is None:
            continue
        sl = _span(times_s, m.start_s, max(b.end_s, m.end_s))
        x = (times_s[sl] - m.start_s) / max(m.length_s, 1e-6)
        out[sl] = m.from_pitch + (m.to_pitch - m.from_pitch) * _smoothstep(x)
    # ... then the ornaments around them, added (so neighbouring ones never cut each other)
    if prof.overshoot_ratio <= 0 and prof.preparation_ratio <= 0:
        return out
    z_over = _note_normals(notes, settings.seed, _S_OVERSHOOT)
    z_prep = _note_normals(notes, settings.seed, _S_PREPARATION)
    for k, m in enumerate(moves):
        if m is None:
            continue
        a, b = notes[k - 1], notes[k]
        delta = m.to_pitch - m.from_pitch
        cents = abs(delta) * 100.0
        sign = 1.0 if delta > 0 else -1.0
        mid = m.start_s + 0.5 * m.length_s
        over = min(prof.overshoot_ratio * cents * _vary(z_over[k], prof.variation),
                   prof.overshoot_max_cents)
        if delta < 0:
            over *= prof.overshoot_down_share
        over *= _ornament_room(b.duration_s)
        if over > 0:
            over_len = min(prof.overshoot_s, 0.3 * b.duration_s)
            end = m.end_s + over_len
            sl = _span(times_s, mid, end)
            out[sl] += sign * over / 100.0 * _response_bump(times_s[sl], mid, end - mid)
        prep = min(prof.preparation_ratio * cents * _vary(z_prep[k], prof.variation),
                   prof.preparation_max_cents)
        prep *= _ornament_room(a.duration_s)
        if prep > 0:
            prep_len = min(prof.preparation_s, 0.25 * a.duration_s)
            start = max(m.start_s - prep_len, a.start_s)
            sl = _span(times_s, start, mid)
            out[sl] -= sign * prep / 100.0 * _response_bump(times_s[sl], start, mid - start,
                                                            late=True)
    return out


def apply_scoops(pitch: np.ndarray, notes: list[SungNote], times_s: np.ndarray, *,
                 settings: PitchSettings, release_s: float = 0.1) -> np.ndarray:
    """Notes after a rest start a little below their pitch and rise into it (over the
    note's ``portamento_s`` from its ``portamento_offset_s`` where it has them)."""
    prof = settings.profile()
    out = pitch.copy()
    if prof.scoop_cents <= 0 or not notes:
        return out
    zs = _note_normals(notes, settings.seed, _S_SCOOP)
    prev_end = -math.inf
    for k, n in enumerate(notes):
        after_rest = k == 0 or not _is_legato(notes[k - 1], n, prof)
        if after_rest and not n.points:
            f = _vary(zs[k], prof.variation)
            length = (n.portamento_s if n.portamento_s is not None
                      else min(prof.scoop_s * f, 0.25 * n.duration_s))
            length = min(length, 0.5 * n.duration_s)
            rise = n.start_s + (n.portamento_offset_s or 0.0)
            rise = min(rise, n.end_s - length)
            low_from = max(min(n.start_s, rise) - 0.15, prev_end + release_s)
            if length > 0:
                sl = _span(times_s, low_from, rise + length)
                x = (times_s[sl] - rise) / length
                out[sl] -= prof.scoop_cents * f / 100.0 * (1.0 - _smoothstep(x))
        prev_end = n.end_s
    return out


@dataclass(frozen=True, slots=True)
class NoteVibrato:
    """The automatic vibrato drawn for one note."""

    onset_s: float
    rate_hz: float
    depth_cents: float


def vibrato_plan(notes: list[SungNote], *, settings: PitchSettings) -> list[NoteVibrato | None]:
    """Each note's automatic vibrato (None: none): its onset, its own rate and its
    own depth, drawn around the style's centre from the note's identity."""
    prof = settings.profile()
    out: list[NoteVibrato | None] = [None] * len(notes)
    if prof.vibrato_depth_cents <= 0 or not notes:
        return out
    z_rate = _note_normals(notes, settings.seed, _S_RATE)
    z_depth = _note_normals(notes, settings.seed, _S_DEPTH)
    z_delay = _note_normals(notes, settings.seed, _S_DELAY)
    for k, n in enumerate(notes):
        if n.vibrato is not None or n.points or n.duration_s < prof.vibrato_min_note_s:
            continue  # a note with a hand-drawn curve and no vibrato of its own has none
        rate = prof.vibrato_rate_hz + prof.vibrato_rate_spread_hz * float(np.clip(z_rate[k], -2, 2))
        depth = (prof.vibrato_depth_cents
                 + prof.vibrato_depth_spread_cents * float(np.clip(z_depth[k], -2, 2)))
        depth = min(max(depth, 0.0), prof.vibrato_depth_max_cents)
        delay = max(prof.vibrato_delay_s * _vary(z_delay[k], 2 * prof.variation),
                    prof.vibrato_delay_share * n.duration_s)
        if rate > 0 and depth > 0:
            out[k] = NoteVibrato(n.start_s + delay, rate, depth)
    return out


def apply_vibrato(pitch: np.ndarray, notes: list[SungNote], times_s: np.ndarray, *,
                  settings: PitchSettings) -> np.ndarray:
    """Automatic vibrato on long notes: delayed onset, fade in, fade out at the note's
    end; each note its own rate and depth, both wandering slowly within the note and
    the rate rising toward its end. Notes with their own vibrato or pitch points get
    none here. ``times_s`` ascending."""
    prof = settings.profile()
    out = pitch.copy()
    plan = vibrato_plan(notes, settings=settings)
    if not any(plan):
        return out
    u_fr = _note_uniforms(notes, settings.seed, _S_WANDER_RATE_F)
    u_pr = _note_uniforms(notes, settings.seed, _S_WANDER_RATE_PHASE)
    u_fd = _note_uniforms(notes, settings.seed, _S_WANDER_DEPTH_F)
    u_pd = _note_uniforms(notes, settings.seed, _S_WANDER_DEPTH_PHASE)
    for k, (n, v) in enumerate(zip(notes, plan)):
        if v is None:
            continue
        sl = _span(times_s, v.onset_s, n.end_s)
        if sl.stop <= sl.start:
            continue
        tau = times_s[sl] - v.onset_s
        span_s = n.end_s - v.onset_s
        # the rate: r * (1 + a sin(w t + p) + e * ramp^2 over the last 40 %), integrated
        wr = 2 * np.pi * (0.25 + 0.5 * float(u_fr[k]))
        pr = 2 * np.pi * float(u_pr[k])
        a = prof.vibrato_rate_wander
        s0 = 0.6 * span_s
        w = max(span_s - s0, 1e-6)
        late = np.clip(tau - s0, 0.0, None)
        rise = np.where(late < w, late ** 3 / (3 * w * w), w / 3 + (late - w))
        cycles = v.rate_hz * (tau - a / wr * (np.cos(wr * tau + pr) - math.cos(pr))
                              + prof.vibrato_end_rise * rise)
        wd = 2 * np.pi * (0.2 + 0.5 * float(u_fd[k]))
        pd = 2 * np.pi * float(u_pd[k])
        depth = np.minimum(v.depth_cents * (1 + prof.vibrato_depth_wander * np.sin(wd * tau + pd)),
                           prof.vibrato_depth_max_cents)
        fade = np.minimum(1.0, tau / max(prof.vibrato_fade_in_s, 1e-6))
        fade *= np.clip((n.end_s - times_s[sl]) / max(prof.vibrato_fade_out_s, 1e-6), 0.0, 1.0)
        out[sl] += depth / 100.0 * fade * np.sin(2 * np.pi * cycles)
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
    """A note's own pitch points as (mask of covered frames, pitch in MIDI there);
    the points are cents from the note's sung pitch (its tuning included)."""
    pts = sorted(note.points, key=lambda p: p[0])
    pitch = note.sung_pitch
    value = np.full(times_s.shape, pitch, dtype=np.float64)
    t0 = note.start_s + pts[0][0]
    t1 = note.start_s + pts[-1][0]
    mask = (times_s >= t0) & (times_s <= t1)
    if len(pts) == 1:
        value[mask] = pitch + pts[0][1] / 100.0
        return mask, value
    for (xa, ya, shape), (xb, yb, _) in zip(pts, pts[1:]):
        a, b = note.start_s + xa, note.start_s + xb
        sel = (times_s >= a) & (times_s <= b)
        if not np.any(sel):
            continue
        w = shape_curve((times_s[sel] - a) / (b - a), shape) if b > a else np.ones(int(sel.sum()))
        value[sel] = pitch + (ya + (yb - ya) * w) / 100.0
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
    """Slow, smooth, seeded wandering (sd about ``amount_cents / 2``): a value per
    knot of absolute time, so the same times and seed give the same curve, however
    the times are cut."""
    if amount_cents <= 0 or len(times_s) == 0:
        return np.zeros_like(times_s)
    return amount_cents * 0.5 * _knot_noise(times_s, period_s=period_s, seed=seed, stream=_S_DRIFT)


#: knots of the fine jitter: about 10 Hz of movement at most
JITTER_PERIOD_S = 0.04


def jitter_cents(times_s: np.ndarray, *, amount_cents: float, seed: int) -> np.ndarray:
    """Fine fluctuation (sd about ``amount_cents``): low-passed seeded noise with
    knots every :data:`JITTER_PERIOD_S` of absolute time."""
    if amount_cents <= 0 or len(times_s) == 0:
        return np.zeros_like(times_s)
    return amount_cents * _knot_noise(times_s, period_s=JITTER_PERIOD_S, seed=seed,
                                      stream=_S_JITTER)


def _pitch_curve_sorted(notes: list[SungNote], times_s: np.ndarray, *,
                        settings: PitchSettings) -> np.ndarray:
    prof = settings.profile()
    base = step_pitch(notes, times_s)
    p = apply_transitions(base, notes, times_s, settings=settings)
    p = apply_scoops(p, notes, times_s, settings=settings)
    p = apply_vibrato(p, notes, times_s, settings=settings)
    p, drawn = apply_note_points(p, notes, times_s)
    for n in notes:
        if n.vibrato is not None:
            p = p + note_vibrato_cents(n, times_s) / 100.0
    if prof.drift_cents <= 0 and prof.jitter_cents <= 0:
        return p
    wander = (drift_cents(times_s, amount_cents=prof.drift_cents, period_s=prof.drift_period_s,
                          seed=settings.seed)
              + jitter_cents(times_s, amount_cents=prof.jitter_cents, seed=settings.seed)) / 100.0
    wander[drawn] = 0.0  # a hand-drawn pitch curve is sung as drawn
    return p + wander


def pitch_curve(notes: list[SungNote], times_s: np.ndarray, *, settings: PitchSettings) -> np.ndarray:
    """The automatic F0 curve (MIDI) at ``times_s`` for notes sorted by start.

    Every frame's value depends only on the notes near it, the seed and its own
    time: a window of frames with the notes near them gives exactly the slice of
    the whole curve, and the same input the same bytes."""
    times_s = np.asarray(times_s, dtype=np.float64)
    if len(times_s) > 1 and np.any(np.diff(times_s) < 0):
        order = np.argsort(times_s, kind="stable")
        out = np.empty_like(times_s)
        out[order] = _pitch_curve_sorted(notes, times_s[order], settings=settings)
        return out
    return _pitch_curve_sorted(notes, times_s, settings=settings)
