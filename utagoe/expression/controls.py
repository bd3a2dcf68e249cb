"""Voice controls over time: the song's settings, the track's curves and the
notes' own values, combined and sampled on a phrase's frames.

Units are OpenUtau's (see :class:`utagoe.settings.ControlSettings`). A project's
curves are read in their own units and mapped here:

=============  ===========================  ==============================================
curve          from                         to
=============  ===========================  ==============================================
``dyn``        OpenUtau dynamics, 0.1 dB    ``dynamics_db`` = value / 10
``genc``       OpenUtau gender curve        ``gender`` (-100..100, the same scale)
``brec``       OpenUtau breathiness curve   ``breathiness`` (-100..100)
``tenc``       OpenUtau tension curve       ``tension`` (-100..100)
``voic``       OpenUtau voicing curve       ``voicing`` (0..100)
``loudness``   Synthesizer V, dB            ``dynamics_db``
``gender``     Synthesizer V, -1..1         ``gender`` = value * 100 (positive: deeper)
``breathiness`` Synthesizer V, -1..1        ``breathiness`` = value * 100
``tension``    Synthesizer V, -1..1         ``tension`` = value * 100
=============  ===========================  ==============================================

Per note: OpenUtau's ``gen`` expression (-100..100) adds to ``gender`` and its
``bre`` (0..100) to ``breathiness`` over the note's phonemes (its consonants
included). A note's intensity (UST ``Intensity``, OpenUtau ``vol``) and velocity
are not here: intensity travels with the note (:class:`~utagoe.phrase.phrase.PhraseNote`)
and each voice applies it as its tradition does; velocity times the consonants.

Combining: dynamics, breathiness, gender and tension add up (song + curve +
note); voicing multiplies (song 50 and curve 50 give 25). The sum is held within
the control's range.
"""
from __future__ import annotations

import numpy as np

from ..model.score import Track
from ..phrase.phrase import CONTROL_NAMES, PhraseControls
from ..settings import CONTROL_RANGES, ControlSettings
from ..timing.align import TimedPhoneme

#: track curve name -> (control, factor from the curve's unit to the control's)
CURVES: dict[str, tuple[str, float]] = {
    "dyn": ("dynamics_db", 0.1),
    "genc": ("gender", 1.0),
    "brec": ("breathiness", 1.0),
    "tenc": ("tension", 1.0),
    "voic": ("voicing", 1.0),
    "loudness": ("dynamics_db", 1.0),
    "gender": ("gender", 100.0),
    "breathiness": ("breathiness", 100.0),
    "tension": ("tension", 100.0),
}

#: note expression -> (control, factor)
NOTE_VALUES: dict[str, tuple[str, float]] = {
    "gen": ("gender", 1.0),
    "bre": ("breathiness", 1.0),
}


def frame_note_index(phonemes: tuple[TimedPhoneme, ...], times_s: np.ndarray) -> np.ndarray:
    """For each frame time, the index of the note whose phoneme sounds there (-1 in rests)."""
    if not phonemes:
        return np.full(times_s.shape, -1, dtype=np.intp)
    starts = np.array([p.start_s for p in phonemes])
    owner = np.array([p.note_index for p in phonemes], dtype=np.intp)
    k = np.clip(np.searchsorted(starts, times_s + 1e-9, side="right") - 1, 0, len(phonemes) - 1)
    return owner[k]


def note_control_values(notes) -> dict[str, np.ndarray]:
    """The notes' own control values (:data:`NOTE_VALUES`), one array per control
    that some note sets, indexed by note, with a 0 appended for rests (index -1).
    Made once per track."""
    out: dict[str, np.ndarray] = {}
    for expr, (name, factor) in NOTE_VALUES.items():
        per_note = np.array([float(n.expression(expr, 0.0) or 0.0) * factor for n in notes] + [0.0])
        if np.any(per_note != 0.0):
            out[name] = out[name] + per_note if name in out else per_note
    return out


def phrase_controls(track: Track, note_values: dict[str, np.ndarray],
                    phonemes: tuple[TimedPhoneme, ...], times_s: np.ndarray,
                    axis, settings: ControlSettings) -> PhraseControls | None:
    """The controls over a phrase's frames (``times_s``, song seconds), or None
    when every control is neutral on every frame. ``note_values``: the track's
    :func:`note_control_values`, indexed as the phonemes' ``note_index``."""
    values: dict[str, np.ndarray] = {}

    def add(name: str, v: np.ndarray) -> None:
        if name == "voicing":
            values[name] = values.get(name, np.full(times_s.shape, 100.0)) * v / 100.0
        else:
            values[name] = values.get(name, np.zeros(times_s.shape)) + v

    for name in CONTROL_NAMES:
        if not settings.is_neutral(name):
            add(name, np.full(times_s.shape, float(getattr(settings, name))))
    ticks = None
    for curve in track.curves:
        target = CURVES.get(curve.name)
        if target is None:
            continue
        if ticks is None:
            ticks = axis.seconds_to_ticks(times_s)
        sampled = curve.sample(ticks) * target[1]
        if np.all(sampled == CONTROL_RANGES[target[0]][2]):
            continue
        add(target[0], sampled)
    if note_values:
        owner = frame_note_index(phonemes, times_s)
        for name, per_note in note_values.items():
            v = per_note[owner]  # -1 (rests) takes the appended 0
            if np.any(v != 0.0):
                add(name, v)
    if not values:
        return None
    out = {}
    for name, v in values.items():
        lo, hi, neutral = CONTROL_RANGES[name]
        v = np.clip(v, lo, hi)
        if not np.all(v == neutral):
            out[name] = v
    return PhraseControls(**out) if out else None
