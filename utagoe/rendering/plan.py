"""Planning a render: what will be sung, by whom, in which phrases.

:func:`plan_render` checks the project and the settings, picks each track's
voice, reads its lyrics and cuts it into phrases, and asks the voice for each
phrase's cache key. Nothing is sung here, so every problem with the input is
found before any audio is made.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UtagoeError
from ..lyrics.registry import PhonemizerRegistry, default_phonemizers
from ..model.score import NO_LYRIC, Project, Track
from ..phrase.build import build_track_phrases
from ..phrase.phrase import RenderPhrase
from ..settings import RenderSettings
from ..voices.base import Voice
from ..voices.registry import VoiceRegistry


@dataclass(frozen=True, slots=True, eq=False)
class TrackPlan:
    #: 1-based position of the track in ``project.tracks``
    number: int
    track: Track
    voice: Voice
    phrases: tuple[RenderPhrase, ...]
    #: one cache key per phrase, from the voice
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True, eq=False)
class RenderPlan:
    tracks: tuple[TrackPlan, ...]
    #: length of the mix in samples (at ``settings.mix.sample_rate_hz``)
    num_samples: int
    warnings: tuple[str, ...]

    @property
    def total_phrases(self) -> int:
        return sum(len(t.phrases) for t in self.tracks)


def _language(code: str) -> str:
    return code.strip().lower().replace("_", "-").split("-", 1)[0]


def check_language(voice: Voice, settings: RenderSettings) -> None:
    """The singer must sing the lyrics' language (``RenderSettings.language``)."""
    if _language(voice.info.language) != _language(settings.language):
        raise UtagoeError(
            f"singer {voice.info.name!r} sings {voice.info.language!r} lyrics, but "
            f"RenderSettings.language is {settings.language!r}; choose a singer of that "
            f"language (see 'utagoe singers') or set language={voice.info.language!r}")


def _source_voice(project: Project, index: int, voices: VoiceRegistry,
                  warnings: list[str]) -> str | None:
    """The voice the track's own singer (UST VoiceDir ...) leads to, if the user
    installed it; a UTAU project naming one that is not installed is told so."""
    track = project.tracks[index]
    found = voices.for_source_singer(track.source_singer)
    if found is None and track.source_singer and project.source_format in ("ust", "ustx"):
        warnings.append(
            f"{project.source_path or 'project'}: track {index + 1} ({track.name!r}) names the "
            f"singer {track.source_singer!r}, which is not installed; {voices.default_name} "
            "sings instead (install a voicebank with 'utagoe singers add FOLDER', or choose a "
            "singer with --singer)")
    return found


def plan_render(project: Project, *, singer: str | None, settings: RenderSettings,
                voices: VoiceRegistry, phonemizers: PhonemizerRegistry | None = None) -> RenderPlan:
    """Check ``project`` and plan its render (see the module documentation)."""
    where = project.source_path or "project"
    if not any(t.notes for t in project.tracks):
        raise UtagoeError(f"{where}: nothing to sing: the project has no notes")
    length_s = project.duration_s()
    if length_s > settings.max_duration_s:
        raise UtagoeError(
            f"{where}: the song is {length_s / 60:.1f} min long; utagoe renders at most "
            f"{settings.max_duration_s / 60:.0f} min (RenderSettings.max_duration_s)")
    phonemizer = (phonemizers or default_phonemizers()).get(settings.language)
    warnings: list[str] = list(project.warnings)
    plans: list[TrackPlan] = []
    for i, track in enumerate(project.tracks):
        if not track.notes:
            continue
        if track.muted:
            warnings.append(f"{where}: track {i + 1} ({track.name!r}) is muted in the file "
                            "and is not sung")
            continue
        bare = sum(1 for n in track.notes if n.lyric == NO_LYRIC)
        if bare and not settings.lenient_lyrics:
            raise UtagoeError(
                f"{where}: track {i + 1} ({track.name!r}): {bare} of its {len(track.notes)} "
                "notes have no lyric, so they cannot be sung; write lyrics for them, or read "
                "the file with --default-lyric ら (ReadOptions.default_lyric) to sing them on "
                "one syllable")
        voice = voices.get(singer or track.singer or _source_voice(project, i, voices, warnings)
                           or voices.default_name)
        check_language(voice, settings)
        tp = build_track_phrases(project, i, singer=voice.info.name, phonemizer=phonemizer,
                                 settings=settings,
                                 sings_as_written=getattr(voice, "sings_as_written", None))
        warnings.extend(tp.warnings)
        # voices that resolve something of their own before singing (an UTAU bank's
        # aliases and samples) report it here, before any audio is made
        voice_check = getattr(voice, "check", None)
        if callable(voice_check):
            warnings.extend(w for w in voice_check(
                tp.phrases, where=f"{where}: track {i + 1} ({track.name})") if w not in warnings)
        keys = tuple(voice.cache_keys(tp.phrases))
        if len(keys) != len(tp.phrases):
            raise UtagoeError(f"voice {voice.info.name!r} gave {len(keys)} cache keys for "
                              f"{len(tp.phrases)} phrases")
        plans.append(TrackPlan(i + 1, track, voice, tp.phrases, keys))
    if not plans:
        raise UtagoeError(f"{where}: nothing to sing: every track with notes is muted")
    warnings.extend(w for w in voices.warnings if w not in warnings)
    rate = settings.mix.sample_rate_hz
    end_s = max((p.end_s for t in plans for p in t.phrases), default=0.0)
    num_samples = int(np.ceil(max(end_s, length_s) * rate)) + 1
    return RenderPlan(tuple(plans), num_samples, tuple(warnings))
