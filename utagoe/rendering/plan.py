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
from ..settings import RenderSettings, TrackSettings
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
    #: the track's level in the mix: its own volume plus the user's gain
    gain_db: float = 0.0
    #: the track's pan in the mix: -1 (left) .. 1 (right)
    pan: float = 0.0


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


def _track_list(project: Project) -> str:
    return ", ".join(f"{i} ({t.name!r})" for i, t in enumerate(project.tracks, 1)) or "none"


def tracks_named(project: Project, name: str) -> list[int]:
    """The (0-based) tracks called ``name``: exactly, else ignoring case."""
    exact = [i for i, t in enumerate(project.tracks) if t.name == name]
    if exact:
        return exact
    folded = name.casefold()
    return [i for i, t in enumerate(project.tracks) if t.name.casefold() == folded]


def track_choices(project: Project, settings: RenderSettings) -> dict[int, TrackSettings]:
    """The user's :class:`TrackSettings` by track index (0-based), each matched to a
    track by number or name; one that matches no track, or a track chosen twice,
    is an error that lists the tracks."""
    where = project.source_path or "project"
    out: dict[int, TrackSettings] = {}
    for ts in settings.tracks:
        if isinstance(ts.track, int):
            if ts.track > len(project.tracks):
                raise UtagoeError(f"{where}: there is no track {ts.track}; the tracks are "
                                  f"{_track_list(project)} (see 'utagoe info')")
            index = ts.track - 1
        else:
            named = tracks_named(project, ts.track)
            if len(named) != 1:
                why = "no track is" if not named else f"{len(named)} tracks are"
                raise UtagoeError(f"{where}: {why} named {ts.track!r}; choose a track by number: "
                                  f"{_track_list(project)}")
            index = named[0]
        if index in out:
            raise UtagoeError(f"{where}: track {index + 1} ({project.tracks[index].name!r}) is "
                              "given settings twice; give each track's choices once")
        out[index] = ts
    return out


def _source_voice(project: Project, index: int, voices: VoiceRegistry,
                  warnings: list[str]) -> str | None:
    """The voice the track's own singer (UST VoiceDir, a VOCALOID or Synthesizer V
    voice ...) leads to, if the user installed it; a project naming one we do not
    have is told which singer sings instead and how to choose another."""
    track = project.tracks[index]
    found = voices.for_source_singer(track.source_singer)
    if found is None and track.source_singer:
        install = (", or install that voicebank with 'utagoe singers add FOLDER'"
                   if project.source_format in ("ust", "ustx") else "")
        warnings.append(
            f"{project.source_path or 'project'}: track {index + 1} ({track.name!r}) names the "
            f"singer {track.source_singer!r}, which utagoe does not have; {voices.default_name} "
            f"sings it instead; choose another with --singer {index + 1}=NAME (see 'utagoe "
            f"singers'){install}")
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
    chosen = track_choices(project, settings)
    soloed = any(ts.solo for ts in chosen.values())
    for i, track in enumerate(project.tracks):
        if not track.notes:
            continue
        choice = chosen.get(i, TrackSettings(i + 1))
        if choice.mute or (soloed and not choice.solo):
            continue
        if track.muted and not choice.solo:
            warnings.append(f"{where}: track {i + 1} ({track.name!r}) is muted in the file "
                            f"and is not sung (--solo {i + 1} sings it)")
            continue
        bare = sum(1 for n in track.notes if n.lyric == NO_LYRIC)
        if bare and not settings.lenient_lyrics:
            raise UtagoeError(
                f"{where}: track {i + 1} ({track.name!r}): {bare} of its {len(track.notes)} "
                "notes have no lyric, so they cannot be sung; write lyrics for them, or read "
                "the file with --default-lyric ら (ReadOptions.default_lyric) to sing them on "
                "one syllable")
        voice = voices.get(choice.singer or singer or track.singer
                           or _source_voice(project, i, voices, warnings) or voices.default_name)
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
        plans.append(TrackPlan(i + 1, track, voice, tp.phrases, keys,
                               gain_db=track.volume_db + choice.gain_db,
                               pan=track.pan if choice.pan is None else choice.pan))
    if not plans:
        raise UtagoeError(f"{where}: nothing to sing: every track with notes is muted "
                          f"(the tracks: {_track_list(project)})")
    warnings.extend(w for w in voices.warnings if w not in warnings)
    rate = settings.mix.sample_rate_hz
    end_s = max((p.end_s for t in plans for p in t.phrases), default=0.0)
    num_samples = int(np.ceil(max(end_s, length_s) * rate)) + 1
    return RenderPlan(tuple(plans), num_samples, tuple(warnings))
