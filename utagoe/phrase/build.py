"""Project -> RenderPhrases: lyrics, timing, labels and pitch, split at rests."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..errors import LyricsError
from ..expression.controls import note_control_values, phrase_controls
from ..expression.pitch import SungNote, pitch_curve
from ..lyrics.base import Phonemizer
from ..model.curves import Curve
from ..model.score import Project, Track
from ..settings import RenderSettings
from ..timing.align import TimedPhoneme, align
from .labels import full_context_labels
from .phrase import FRAME_PERIOD_S, PhraseNote, RenderPhrase

#: the sung pitch stays within MIDI notes 0 (8.2 Hz) and 127 (12.5 kHz)
MIN_SUNG_PITCH = 0.0
MAX_SUNG_PITCH = 127.0


@dataclass(frozen=True, slots=True)
class TrackPhrases:
    track_index: int
    phrases: tuple[RenderPhrase, ...]
    warnings: tuple[str, ...]


def _floor_frame(t_s: float) -> float:
    return math.floor(t_s / FRAME_PERIOD_S + 1e-9) * FRAME_PERIOD_S


def _ceil_frame(t_s: float) -> float:
    return math.ceil(t_s / FRAME_PERIOD_S - 1e-9) * FRAME_PERIOD_S


def _clip(p: TimedPhoneme, start_s: float, end_s: float) -> TimedPhoneme:
    return TimedPhoneme(p.symbol, max(p.start_s, start_s), min(p.end_s, end_s),
                        p.note_index, p.kind, p.syllable_index)


def sung_notes(timed: list[TimedPhoneme], notes, axis) -> list[SungNote]:
    """Each sung note's written span in seconds (cut where the next one starts) with
    its pitch: pitch moves on the written beat, whatever the vowel's lead."""
    sung = sorted({p.note_index for p in timed if p.kind == "vowel" and p.note_index >= 0})
    starts = [axis.tick_to_seconds(notes[i].start_ticks) for i in sung]
    out = []
    for k, i in enumerate(sung):
        end = axis.tick_to_seconds(notes[i].end_ticks)
        if k + 1 < len(sung):
            end = min(end, starts[k + 1])
        n = notes[i]
        points = tuple((p.offset_ms / 1000.0, p.cents, p.shape) for p in n.pitch_points)
        out.append(SungNote(
            starts[k], end, float(n.pitch), points, n.vibrato,
            portamento_s=None if n.portamento_ms is None else n.portamento_ms / 1000.0,
            portamento_offset_s=None if n.portamento_offset_ms is None else n.portamento_offset_ms / 1000.0,
            tuning_cents=n.tuning_cents))
    return out


def note_velocities(notes, settings: RenderSettings) -> list[float]:
    """Each note's consonant velocity (%): its own (100 if it sets none), moved by
    the song's ``controls.velocity_pct``, within 0..200."""
    shift = settings.controls.velocity_pct - 100.0
    return [min(200.0, max(0.0, float(n.expression("vel", 100.0) or 0.0) + shift)) for n in notes]


def phrase_notes(timed: list[TimedPhoneme], notes, readings, axis,
                 velocities: list[float] | None = None) -> dict[int, PhraseNote]:
    """Every sung note as a :class:`PhraseNote`, by its index in ``notes``
    (``velocities``: each note's consonant velocity, else its own ``vel``)."""
    sung = sorted({p.note_index for p in timed if p.kind != "rest" and p.note_index >= 0})
    starts = [axis.tick_to_seconds(notes[i].start_ticks) for i in sung]
    out: dict[int, PhraseNote] = {}
    for k, i in enumerate(sung):
        n = notes[i]
        end = axis.tick_to_seconds(n.end_ticks)
        if k + 1 < len(sung):
            end = min(end, starts[k + 1])
        reading = readings[i]
        preutter = n.expression("preutter_ms")
        overlap = n.expression("overlap_ms")
        out[i] = PhraseNote(
            index=i, start_s=starts[k], end_s=max(end, starts[k]), pitch=n.pitch, lyric=n.lyric,
            syllables=tuple(s.phonemes for s in reading.syllables),
            continuation=reading.continuation,
            velocity_pct=(velocities[i] if velocities is not None
                          else float(n.expression("vel", 100.0) or 0.0)),
            intensity_pct=float(n.expression("vol", 100.0) or 0.0),
            modulation_pct=float(n.expression("mod", 0.0) or 0.0),
            flags=n.flags, envelope=n.envelope,
            preutter_ms=None if preutter is None else float(preutter),
            overlap_ms=None if overlap is None else float(overlap),
            start_point_ms=float(n.expression("stp_ms", 0.0) or 0.0))
    return out


def pitch_deviation(track: Track, times_s: np.ndarray, axis) -> np.ndarray | None:
    """The track's ``pitd`` curve (cents) at ``times_s``, in MIDI units; None if it has none."""
    curve = track.curve("pitd")
    if curve is None or not curve.ticks:
        return None
    return curve.sample(axis.seconds_to_ticks(times_s)) / 100.0


def _phonemize(phonemizer: Phonemizer, notes: list, *, lenient: bool, where: str,
               sings_as_written: Callable[[str], bool] | None):
    """The phonemizer's reading of ``notes``. Lyrics it cannot read but the singer
    sings as written (an UTAU alias such as ``breath``) are timed as a plain vowel."""
    try:
        return phonemizer.phonemize(notes, lenient=lenient, where=where)
    except LyricsError as exc:
        direct = {p.lyric for p in exc.problems if sings_as_written and sings_as_written(p.lyric)}
        if not direct:
            raise
    stand_in = min(phonemizer.phonemes.vowels)
    timed_as = [replace(n, lyric=stand_in) if n.lyric in direct else n for n in notes]
    return phonemizer.phonemize(timed_as, lenient=lenient, where=where)


def build_track_phrases(project: Project, track_index: int, *, singer: str, phonemizer: Phonemizer,
                        settings: RenderSettings,
                        sings_as_written: Callable[[str], bool] | None = None) -> TrackPhrases:
    """The phrases of one track: its lyrics read by ``phonemizer``, timed, labelled,
    given their pitch curve, and cut at every rest. ``sings_as_written(lyric)``: does
    the singer sing this lyric as it is (an alias of its own), whatever the phonemizer
    makes of it?"""
    track: Track = project.tracks[track_index]
    notes = sorted(track.notes, key=lambda n: (n.start_ticks, -n.pitch))
    where = f"{project.source_path or 'project'}: track {track_index + 1} ({track.name})"
    result = _phonemize(phonemizer, notes, lenient=settings.lenient_lyrics, where=where,
                        sings_as_written=sings_as_written)
    axis = project.time_axis()
    velocities = note_velocities(notes, settings)
    timed = align(notes, list(result.notes), axis, phonemes=phonemizer.phonemes,
                  settings=settings.timing, lead_in_s=settings.phrase.lead_in_s,
                  velocity_pct=velocities)
    if not timed:
        return TrackPhrases(track_index, (), tuple(result.warnings))
    labels = full_context_labels(timed, notes, project, phonemizer=phonemizer)
    sung = sung_notes(timed, notes, axis)
    by_index = phrase_notes(timed, notes, result.notes, axis, velocities)
    sung_starts = np.array([n.start_s for n in sung])
    note_values = note_control_values(notes)

    # runs of sung phonemes between rests
    rest_idx = [i for i, p in enumerate(timed) if p.kind == "rest"]
    bounds = [-1] + rest_idx + [len(timed)]
    phrases: list[RenderPhrase] = []
    warnings = list(result.warnings)
    clipped = 0
    margin = settings.phrase.rest_margin_s
    for a, b in zip(bounds, bounds[1:]):
        if b - a <= 1:
            continue  # no sung phoneme between these rests
        items: list[tuple[TimedPhoneme, str]] = []
        if a >= 0:
            r = timed[a]
            keep = min(margin, r.duration_s / 2)
            items.append((_clip(r, r.end_s - keep, r.end_s), labels[a]))
        items.extend((timed[k], labels[k]) for k in range(a + 1, b))
        if b < len(timed):
            r = timed[b]
            keep = min(margin, r.duration_s / 2)
            items.append((_clip(r, r.start_s, r.start_s + keep), labels[b]))
        start_s = _ceil_frame(items[0][0].start_s)
        end_s = _floor_frame(items[-1][0].end_s)
        items = [(_clip(p, start_s, end_s), lab) for p, lab in items]
        items = [(p, lab) for p, lab in items if p.end_s > p.start_s]
        if end_s - start_s < 2 * FRAME_PERIOD_S or not items:
            continue
        n_frames = int(round((end_s - start_s) / FRAME_PERIOD_S))
        times = start_s + np.arange(n_frames) * FRAME_PERIOD_S
        lo = max(0, int(np.searchsorted(sung_starts, start_s - 2.0)) - 1)
        hi = int(np.searchsorted(sung_starts, end_s + 2.0)) + 1
        curve = pitch_curve(sung[lo:hi], times, settings=settings.pitch)
        deviation = pitch_deviation(track, times, axis)
        if deviation is not None:
            curve = curve + deviation
        # drawn pitch may leave the MIDI range; the singer sings at its edges
        out_of_range = (curve < MIN_SUNG_PITCH) | (curve > MAX_SUNG_PITCH)
        if np.any(out_of_range):
            clipped += int(out_of_range.sum())
            curve = np.clip(curve, MIN_SUNG_PITCH, MAX_SUNG_PITCH)
        in_phrase = sorted({p.note_index for p, _ in items if p.note_index in by_index})
        phonemes = tuple(p for p, _ in items)
        controls = phrase_controls(track, note_values, phonemes, times, axis, settings.controls)
        phrases.append(RenderPhrase(
            singer=singer, start_s=start_s, end_s=end_s,
            phonemes=phonemes, labels=tuple(lab for _, lab in items),
            pitch=Curve(curve, start_s, FRAME_PERIOD_S),
            notes=tuple(by_index[i] for i in in_phrase), controls=controls))
    if clipped:
        warnings.append(f"{where}: the pitch leaves the MIDI range 0-127 for "
                        f"{clipped * FRAME_PERIOD_S:.2f} s; sung at the edge of the range there")
    return TrackPhrases(track_index, tuple(phrases), tuple(warnings))
