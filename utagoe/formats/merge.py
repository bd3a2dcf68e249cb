"""Several score files as one song: a "UST set" (one .ust per singer) and the like.

UTAU keeps one singer per project, so a duet is often two .ust files side by side.
:func:`merge_projects` makes one :class:`~utagoe.model.Project` of projects already
read (by any reader), without reading anything itself:

* its tracks are every input's tracks, in order; each keeps its own name, or takes
  its input's label (the file's stem, say) where it has none, and names that
  repeat are made unique (``Vocal``, ``Vocal (alto)``, then numbers);
* tempo map, time and key signatures and title are the first input's; where a
  later input's tempo map differs, its notes (start and length), its tracks'
  curves and so everything on its clock are moved onto the first map through
  seconds (:class:`~utagoe.model.timeaxis.TimeAxis`), rounding to the tick, so
  each note sounds when its own file says; one warning per re-timed input says
  so. A note's own pitch points, vibrato and other timings are in milliseconds
  from the note's start and travel with it unchanged. A note that re-timing
  leaves shorter than a tick is dropped, counted in that warning;
* the warnings of every input are kept, each prefixed with its label;
* ``source_format`` is the inputs' common one, or ``"mixed"``; ``source_path``
  is the first input's.

Pure: the inputs are frozen and are not changed; edits are ``dataclasses.replace``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ..errors import InvalidValueError
from ..model.score import Note, Project, Tempo, Track, TrackCurve
from ..model.timeaxis import TimeAxis

#: ``source_format`` of a merge of projects read from different formats
MIXED_FORMAT = "mixed"


def merge_projects(projects: Sequence[Project], *, labels: Sequence[str]) -> Project:
    """One project of ``projects`` (see the module docstring); ``labels[i]`` names
    ``projects[i]`` in track names and warnings (a file's stem, say).

    Raises :class:`~utagoe.errors.InvalidValueError` for no projects, or labels that
    do not match the projects one for one.
    """
    projects = list(projects)
    labels = [str(label) for label in labels]
    if not projects:
        raise InvalidValueError("merge_projects needs at least one project, got none")
    if len(labels) != len(projects):
        raise InvalidValueError(f"merge_projects needs one label per project: "
                                f"{len(projects)} projects, {len(labels)} labels")
    for i, p in enumerate(projects):
        if not isinstance(p, Project):
            raise InvalidValueError(f"merge_projects: projects[{i}] must be a Project, "
                                    f"got {p!r:.60}")
    first = projects[0]
    axis = first.time_axis()
    clock = _tempo_steps(first.tempos)
    tracks: list[Track] = []
    warnings: list[str] = []
    for project, label in zip(projects, labels):
        warnings += [f"{label}: {w}" for w in project.warnings]
        own = list(project.tracks)
        if project is not first and _tempo_steps(project.tempos) != clock:
            own, dropped = _retime_tracks(own, project.time_axis(), axis)
            more = (f"; {dropped} note(s) shorter than a tick there dropped"
                    if dropped else "")
            warnings.append(f"{label}: its tempo map differs from {labels[0]}'s; its notes "
                            f"and curves are moved onto {labels[0]}'s tempo map, keeping "
                            f"their times in seconds (to the nearest tick){more}")
        tracks += [replace(t, name=t.name.strip() or label) for t in own]
    formats = {p.source_format for p in projects}
    return Project(tracks=tuple(_unique_names(tracks, _track_labels(projects, labels))),
                   tempos=first.tempos, time_signatures=first.time_signatures,
                   key_signatures=first.key_signatures, title=first.title,
                   source_path=first.source_path, warnings=tuple(warnings),
                   source_format=first.source_format if len(formats) == 1 else MIXED_FORMAT)


def _tempo_steps(tempos: Sequence[Tempo]) -> list[tuple[int, float]]:
    """A tempo map as its changes only (a tempo at tick 0, none repeated), to compare."""
    out: list[tuple[int, float]] = []
    for t in TimeAxis.from_tempos(tempos).tempos:
        if not out or out[-1][1] != t.bpm:
            out.append((t.tick, t.bpm))
    return out


def _retime_tracks(tracks: list[Track], source: TimeAxis,
                   target: TimeAxis) -> tuple[list[Track], int]:
    """``tracks`` moved from the clock ``source`` onto ``target`` through seconds, and
    how many notes came out shorter than a tick (dropped)."""
    def move(tick: int) -> int:
        return max(0, round(target.seconds_to_tick(source.tick_to_seconds(tick))))

    out: list[Track] = []
    dropped = 0
    for t in tracks:
        notes: list[Note] = []
        for n in t.notes:
            start, end = move(n.start_ticks), move(n.end_ticks)
            if end <= start:
                dropped += 1
                continue
            notes.append(replace(n, start_ticks=start, duration_ticks=end - start))
        curves = [_retime_curve(c, move) for c in t.curves]
        out.append(replace(t, notes=tuple(notes), curves=tuple(curves)))
    return out, dropped


def _retime_curve(curve: TrackCurve, move: Callable[[int], int]) -> TrackCurve:
    # rounding is monotonic, so the ticks stay ascending
    return replace(curve, ticks=tuple(move(tick) for tick in curve.ticks))


def _track_labels(projects: Sequence[Project], labels: Sequence[str]) -> list[str]:
    """Each track's input label, in merged order."""
    return [label for p, label in zip(projects, labels) for _t in p.tracks]


def _unique_names(tracks: list[Track], labels: list[str]) -> list[Track]:
    """Tracks whose names repeat an earlier one renamed: ``name (label)``, else
    ``name (label) 2``, ``3`` ... (names compared without case)."""
    seen: set[str] = set()
    out: list[Track] = []
    for track, label in zip(tracks, labels):
        name = track.name
        if name.casefold() in seen:
            base = f"{name} ({label})" if label and label != name else name
            name, k = base, 2
            while name.casefold() in seen:
                name, k = f"{base} {k}", k + 1
            track = replace(track, name=name)
        seen.add(name.casefold())
        out.append(track)
    return out


__all__ = ["MIXED_FORMAT", "merge_projects"]
