"""The built-in singer's phrase windows (``HTSTuning.context_phrases``): each
phrase generated in an utterance of itself and up to k neighbours, so an edit
re-sings only the phrases whose window holds it, with the same bytes as a fresh
render of the edited song."""
import dataclasses

import numpy as np
import pytest

from utagoe.errors import InvalidValueError
from utagoe.model import Note, Project, Tempo, Track
from utagoe.rendering.cache import RenderCache
from utagoe.rendering.engine import render_project
from utagoe.rendering.plan import plan_render
from utagoe.settings import RenderSettings, VoiceSettings
from utagoe.voices.hts.tuning import HTSTuning
from utagoe.voices.registry import default_voices

Q = 480
LYRICS = ["さ", "く", "ら", "か", "な", "い"]
N_PHRASES = 6


def song(edit: int | None = None) -> Project:
    """Six two-note phrases, each followed by a quarter rest; ``edit`` moves the
    first note of that phrase up a tone."""
    notes = []
    for j in range(N_PHRASES):
        t0 = Q + j * 3 * Q
        up = 2 if edit == j else 0
        notes.append(Note(t0, Q, 64 + j % 3 + up, LYRICS[j]))
        notes.append(Note(t0 + Q, Q, 67 - j % 2, LYRICS[(j + 1) % 6]))
    return Project((Track("v", tuple(notes)),), tempos=(Tempo(0, 120.0),))


def settings(k: int) -> RenderSettings:
    return RenderSettings(voice=VoiceSettings(hts=HTSTuning(context_phrases=k)))


@pytest.fixture(scope="module")
def registries():
    return {k: default_voices(settings(k).voice, plugins=False) for k in (-1, 0, 1, 2, 5)}


def keys(p: Project, k: int, voices) -> tuple[str, ...]:
    plan = plan_render(p, singer=None, settings=settings(k), voices=voices)
    (track,) = plan.tracks
    assert len(track.phrases) == N_PHRASES
    return track.keys


def test_context_phrases_is_checked():
    with pytest.raises(InvalidValueError, match="HTSTuning.context_phrases"):
        HTSTuning(context_phrases=-2)
    with pytest.raises(InvalidValueError, match="HTSTuning.context_phrases"):
        HTSTuning(context_phrases=1.5)


def own_changes(j: int, voices) -> set[int]:
    """Phrases whose own content an edit of phrase ``j``'s first note changes: that
    phrase, and the one before it (its labels name the next note, its pitch curve
    prepares for it)."""
    a = plan_render(song(), singer=None, settings=settings(-1), voices=voices).tracks[0].phrases
    b = plan_render(song(edit=j), singer=None, settings=settings(-1), voices=voices).tracks[0].phrases
    return {i for i in range(N_PHRASES) if a[i].key() != b[i].key()}


def resung(j: int, k: int, voices) -> set[int]:
    """The phrases whose window holds a phrase the edit of phrase ``j`` changed."""
    own = own_changes(j, voices)
    return {i for i in range(N_PHRASES) if any(abs(i - c) <= k for c in own)}


@pytest.mark.parametrize("k", [-1, 0, 1, 2])
def test_keys_change_exactly_where_the_window_holds_the_edit(registries, k):
    voices = registries[k]
    before = keys(song(), k, voices)
    assert len(set(before)) == N_PHRASES
    for j in (0, 2, 5):
        own = own_changes(j, voices)
        assert own == ({j} if j == 0 else {j - 1, j})
        after = keys(song(edit=j), k, voices)
        changed = {i for i in range(N_PHRASES) if before[i] != after[i]}
        expect = set(range(N_PHRASES)) if k < 0 else resung(j, k, voices)
        assert changed == expect, f"k={k}, edit in phrase {j}"


def test_keys_differ_between_window_sizes(registries):
    assert not set(keys(song(), 0, registries[0])) & set(keys(song(), 1, registries[1]))
    assert not set(keys(song(), 1, registries[1])) & set(keys(song(), -1, registries[-1]))


@pytest.mark.parametrize("k", [0, 1])
def test_an_edit_with_a_warm_cache_is_a_fresh_render(registries, k):
    voices = registries[k]
    cache = RenderCache()
    first = render_project(song(), settings=settings(k), voices=voices, cache=cache)
    assert first.phrases_rendered == N_PHRASES
    j = 3
    again = resung(j, k, voices)   # k=0: phrases 2 and 3; k=1: 1 to 4
    assert len(again) == 2 * k + 2
    edited = render_project(song(edit=j), settings=settings(k), voices=voices, cache=cache)
    assert edited.phrases_rendered == len(again)
    assert edited.phrases_cached == N_PHRASES - len(again)
    fresh = render_project(song(edit=j), settings=settings(k), voices=voices)
    assert fresh.phrases_rendered == N_PHRASES
    assert np.array_equal(edited.audio.samples, fresh.audio.samples)
    assert np.all(np.isfinite(fresh.audio.samples))
    # and the phrases whose windows the edit did not reach sound exactly as before
    plan = plan_render(song(), singer=None, settings=settings(k), voices=voices)
    phrases = plan.tracks[0].phrases
    rate = first.audio.sample_rate
    a, b = first.tracks[0].audio.samples, edited.tracks[0].audio.samples
    upto = int(phrases[min(again)].start_s * rate)
    assert upto > rate // 2
    assert np.array_equal(a[:, :upto], b[:, :upto])


def test_a_window_over_the_whole_track_is_the_whole_track(registries):
    """k at least the number of phrases: every window is the track, so each phrase
    is generated in the same utterance as with -1, with the same bytes."""
    whole = render_project(song(), settings=settings(-1), voices=registries[-1])
    wide = render_project(song(), settings=settings(5), voices=registries[5])
    assert np.array_equal(whole.audio.samples, wide.audio.samples)


def test_windows_sing_differently_from_the_whole_track(registries):
    whole = render_project(song(), settings=settings(-1), voices=registries[-1]).audio.samples
    local = render_project(song(), settings=settings(0), voices=registries[0]).audio.samples
    assert whole.shape == local.shape
    assert not np.array_equal(whole, local)


def test_a_shared_tree_search_gives_the_same_parameters(registries):
    from utagoe.voices.hts.generate import TreeSearch, generate_parameters

    voice = registries[-1].get("song070").voice
    plan = plan_render(song(), singer=None, settings=settings(-1), voices=registries[-1])
    from utagoe.voices.hts.singer import phoneme_frames

    phrases = plan.tracks[0].phrases
    search = TreeSearch(voice)
    for ph in (phrases[1], phrases[2], phrases[1]):
        frames = phoneme_frames(ph)
        a = generate_parameters(voice, ph.labels, frames, duration_fit="sustain", gv_max_ratio=2.0)
        b = generate_parameters(voice, ph.labels, frames, duration_fit="sustain", gv_max_ratio=2.0,
                                search=search)
        for name in ("mgc", "lf0", "lpf", "voiced", "state_frames"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert search.leaves
    other = dataclasses.replace(voice)
    with pytest.raises(ValueError, match="another voice"):
        generate_parameters(other, phrases[1].labels, phoneme_frames(phrases[1]), search=search)


@pytest.mark.parametrize("notes", [
    [Note(480 * 3 * i, 40, 60 + i, "っ") for i in range(10)],      # ten phrases of one short note
    [Note(480 + i, 1, 60 + i % 5, "か") for i in range(100)],      # one-tick notes, finer frames
    [Note(0, 480 * 20, 60, "あ"), Note(480 * 22, 5, 62, "い")],    # a long phrase beside a tiny one
], ids=["ten-short-phrases", "one-tick", "long-and-tiny"])
def test_absurd_scores_in_windows_give_finite_bounded_audio(registries, notes):
    p = Project((Track("v", tuple(notes)),), tempos=(Tempo(0, 120.0),))
    for k in (0, 1):
        a = render_project(p, settings=settings(k), voices=registries[k]).audio
        assert np.all(np.isfinite(a.samples))
        assert np.max(np.abs(a.samples)) <= 10 ** (-1 / 20) + 1e-6
        assert a.duration_s >= p.duration_s() - 0.01
