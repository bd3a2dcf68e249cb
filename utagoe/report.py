"""What a score holds and what of it will be sung: the data behind ``utagoe info``."""
from __future__ import annotations

from dataclasses import dataclass

from .display import shown
from .errors import LyricProblem, LyricsError
from .lyrics.base import Phonemizer
from .model.score import Project, Track
from .model.units import midi_to_name


@dataclass(frozen=True, slots=True)
class TrackReport:
    number: int                 # 1-based, as --part takes it
    name: str
    notes: int
    continuations: int          # notes that hold the previous vowel ("+")
    unsingable: tuple[LyricProblem, ...]
    lowest: int | None
    highest: int | None
    drawn_pitch_notes: int      # notes with their own pitch points
    vibrato_notes: int          # notes with their own vibrato
    curves: tuple[str, ...]
    source_singer: str
    muted: bool
    #: notes that carry no lyric at all (a melody read without lyrics)
    without_lyric: int = 0

    @property
    def coverage(self) -> float:
        """Share of notes whose lyric the singer can sing (continuations count)."""
        bad = len(self.unsingable) + self.without_lyric
        return 1.0 - bad / self.notes if self.notes else 1.0


@dataclass(frozen=True, slots=True)
class ScoreReport:
    path: str
    format: str
    title: str
    duration_s: float
    notes: int
    bpm_min: float
    bpm_max: float
    tempo_changes: int
    time_signatures: tuple[str, ...]
    tracks: tuple[TrackReport, ...]
    #: what of the notes the singer cannot sing or was told not to, with the reason
    not_sung: tuple[str, ...]
    #: what the reader met: parts left out (tracks without lyrics, breaths, audio),
    #: repairs and assumptions
    warnings: tuple[str, ...]


def _track_report(number: int, track: Track, phonemizer: Phonemizer, where: str) -> TrackReport:
    notes = sorted(track.notes, key=lambda n: (n.start_ticks, -n.pitch))
    with_lyric = [n for n in notes if n.lyric.strip()]
    problems: tuple[LyricProblem, ...] = ()
    try:
        phonemizer.phonemize(with_lyric, lenient=False, where=where)
    except LyricsError as e:
        problems = e.problems
    pitches = [n.pitch for n in notes]
    return TrackReport(
        number=number, name=track.name, notes=len(notes),
        continuations=sum(1 for n in with_lyric if phonemizer.is_continuation(n.lyric)),
        unsingable=problems, lowest=min(pitches, default=None), highest=max(pitches, default=None),
        drawn_pitch_notes=sum(1 for n in notes if n.pitch_points),
        vibrato_notes=sum(1 for n in notes if n.vibrato is not None and not n.vibrato.is_off),
        curves=tuple(c.name for c in track.curves if c.ticks),
        source_singer=track.source_singer, muted=track.muted,
        without_lyric=len(notes) - len(with_lyric))


def describe(project: Project, *, format_name: str | None = None,
             language: str = "ja") -> ScoreReport:
    """Summarise ``project``: tracks, lengths, tempi, and what will not be sung and why.
    ``format_name`` defaults to the format the project was read from."""
    from .lyrics.registry import default_phonemizers

    phonemizer = default_phonemizers().get(language)
    path = project.source_path or ""
    tracks = tuple(_track_report(i, t, phonemizer, f"track {i} ({shown(t.name)})")
                   for i, t in enumerate(project.tracks, 1))
    not_sung: list[str] = []
    for tr in tracks:
        if tr.muted:
            not_sung.append(f"track {tr.number} ({tr.name!r}): muted in the file, so not sung")
        if tr.without_lyric:
            whole = "has no lyrics" if tr.without_lyric == tr.notes else \
                f"has {tr.without_lyric} note(s) without a lyric"
            not_sung.append(f"track {tr.number} ({tr.name!r}) {whole}, so not sung; "
                            "--default-lyric ら sings such notes on one syllable")
        if tr.unsingable:
            listed = ", ".join(repr(p.lyric) for p in tr.unsingable[:5])
            more = f" and {len(tr.unsingable) - 5} more" if len(tr.unsingable) > 5 else ""
            not_sung.append(
                f"track {tr.number} ({tr.name!r}): {len(tr.unsingable)} lyric(s) the "
                f"{language} singer cannot read ({listed}{more}); --lenient sings each as "
                "its nearest vowel")
    bpms = [t.bpm for t in project.tempos] or [120.0]
    sigs = tuple(f"{s.numerator}/{s.denominator}" for s in project.time_signatures)
    return ScoreReport(
        path=path, format=project.source_format if format_name is None else format_name,
        title=project.title, duration_s=project.duration_s(),
        notes=sum(t.notes for t in tracks), bpm_min=min(bpms), bpm_max=max(bpms),
        tempo_changes=max(0, len(project.tempos) - 1), time_signatures=sigs, tracks=tracks,
        not_sung=tuple(not_sung), warnings=tuple(project.warnings))


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60.0)
    return f"{int(m)}:{s:04.1f}"


def format_report(r: ScoreReport) -> str:
    """The report as ``utagoe info`` prints it."""
    lines = [f"file: {shown(r.path)}" + (f" ({r.format})" if r.format else "")]
    if r.title:
        lines.append(f"title: {shown(r.title)}")
    tempo = f"{r.bpm_min:g} bpm" if r.bpm_min == r.bpm_max else f"{r.bpm_min:g}-{r.bpm_max:g} bpm"
    changes = f", {r.tempo_changes} tempo change(s)" if r.tempo_changes else ""
    sigs = ", ".join(dict.fromkeys(r.time_signatures))
    lines.append(f"length: {_clock(r.duration_s)} ({r.duration_s:.1f} s), tempo {tempo}{changes}, "
                 f"time {sigs}")
    lines.append(f"tracks: {len(r.tracks)}, notes: {r.notes}")
    for t in r.tracks:
        rng = (f", range {midi_to_name(t.lowest)}-{midi_to_name(t.highest)}"
               if t.lowest is not None and t.highest is not None else "")
        lines.append(f"  track {t.number}: {t.name!r}{' (muted)' if t.muted else ''}, "
                     f"{_n(t.notes, 'note')}{rng}, lyrics {100 * t.coverage:.0f}% singable"
                     + (f", {t.continuations} held (+)" if t.continuations else ""))
        extra = []
        if t.drawn_pitch_notes:
            extra.append(f"{_n(t.drawn_pitch_notes, 'note')} with drawn pitch")
        if t.vibrato_notes:
            extra.append(f"{t.vibrato_notes} with vibrato")
        if t.curves:
            extra.append("curves " + ", ".join(shown(c) for c in t.curves))
        if t.source_singer:
            extra.append(f"singer in the file: {t.source_singer!r}")
        if extra:
            lines.append("    " + "; ".join(extra))
    if r.not_sung:
        lines.append("not sung:")
        lines.extend(f"  {shown(w)}" for w in r.not_sung)
    else:
        lines.append("not sung: nothing; every note read will be sung")
    if r.warnings:
        lines.append("read with warnings (parts left out and repairs):")
        lines.extend(f"  {shown(w)}" for w in r.warnings)
    return "\n".join(lines)
