"""The built-in singer end to end: in tune, on time, clean, deterministic.

These assert with our own code the properties the evalkit scorecard measures.
pysinsy (the voice file) and pyworld (pitch tracking) are dependencies of utagoe:
where either is broken these tests fail, they do not skip.
"""
import numpy as np
import pytest
import signals
from signals import count_clicks

from utagoe.dsp.world import harvest_f0_hz
from utagoe.model import Note, Project, Tempo, Track
from utagoe.model.units import hz_to_midi
from utagoe.rendering.engine import render_project


@pytest.fixture(scope="module")
def voices(builtin_voices):
    return builtin_voices


BPM = 100.0
Q = 480


def score():
    # rest, a legato phrase with a leap, a rest, a long note with vibrato
    lyr = [("さ", 67), ("く", 69), ("ら", 72), ("さ", 64), ("く", 65), ("ら", 67)]
    notes = [Note(Q + i * Q, Q, p, l) for i, (l, p) in enumerate(lyr)]
    notes.append(Note(8 * Q, 3 * Q, 69, "あ"))
    notes.append(Note(11 * Q, Q, 67, "+"))
    return Project((Track("v", tuple(notes)),), tempos=(Tempo(0, BPM),))


@pytest.fixture(scope="module")
def rendered(voices):
    return render_project(score(), voices=voices)


def test_audio_is_finite_48k_and_peaks_at_minus_1_dbfs(rendered):
    a = rendered.audio
    assert a.sample_rate == 48000
    x = a.samples[0]
    assert np.all(np.isfinite(x))
    assert np.max(np.abs(x)) <= 10 ** (-1 / 20) + 1e-6
    p = score()
    assert a.duration_s == pytest.approx(p.duration_s(), abs=0.05) or a.duration_s > p.duration_s()


def test_sings_in_tune(rendered):
    check = signals.pitch_check(rendered.audio.samples[0], 48000, signals.note_spans(score()))
    assert check.least_voiced > 0.8, "a note is mostly unvoiced"
    assert check.worst_median_cents < 25
    assert check.within_50c >= 0.95


def frame_db(x: np.ndarray, n_frames: int) -> np.ndarray:
    hop = 240
    fr = x[: n_frames * hop].reshape(-1, hop)
    return 10 * np.log10(np.mean(fr ** 2, axis=1) + 1e-12)


def test_vowel_onsets_on_the_beat(rendered):
    """The vowel onset (voiced and within 6 dB of the note's own level, as the
    scorecard defines it) is within 50 ms of the note's start, after a rest too."""
    x = rendered.audio.samples[0].astype(np.float64)
    f0 = harvest_f0_hz(x, sample_rate_hz=48000, frame_period_s=0.005)
    db = frame_db(x, len(f0) - 1)
    p = score()
    ax = p.time_axis()
    for n in p.tracks[0].notes[:7]:
        s, e = ax.tick_to_seconds(n.start_ticks), ax.tick_to_seconds(n.end_ticks)
        d = e - s
        level = np.median(db[int((s + 0.2 * d) / 0.005):int((e - 0.2 * d) / 0.005)])
        k0, k1 = int((s - 0.15) / 0.005), int((s + 0.15) / 0.005)
        ok = (f0[k0:k1] > 0) & (db[k0:k1] >= level - 6)
        # the first frame of the last stretch of >= 30 ms that holds to the window's end
        good = np.flatnonzero(~ok)
        first = (good[-1] + 1) if len(good) else 0
        onset = (s - 0.15) + first * 0.005
        assert abs(onset - s) <= 0.05, f"onset {onset:.3f}s for a note at {s:.3f}s"


def test_no_clicks_and_silent_rests(rendered):
    x = rendered.audio.samples[0].astype(np.float64)
    assert count_clicks(x, 48000) == 0
    # the middle of the rest between the phrases is (nearly) silent
    p = score()
    ax = p.time_axis()
    mid = ax.tick_to_seconds(7.5 * Q)
    rest = x[int((mid - 0.05) * 48000):int((mid + 0.05) * 48000)]
    assert np.sqrt(np.mean(rest ** 2)) < 1e-3


def test_click_detector_finds_a_click():
    x = signals.sine(220.0, duration_s=1.0, sample_rate_hz=48000, amplitude=0.3)
    assert count_clicks(x, 48000) == 0
    x[24000:] *= -1  # a polarity flip mid-wave
    x[24000] += 0.5
    assert count_clicks(x, 48000) > 0


def test_same_input_same_bytes(voices, rendered):
    again = render_project(score(), voices=voices)
    assert np.array_equal(again.audio.samples, rendered.audio.samples)


@pytest.mark.parametrize("notes", [
    [Note(480, 480, 0, "あ"), Note(960, 480, 127, "い"), Note(1440, 480, 20, "う")],   # pitch extremes
    [Note(480 + i, 1, 60 + i % 5, "か") for i in range(100)],                          # one-tick notes
    [Note(480 + 10 * i, 10, 60, "しゃ") for i in range(60)],                            # 12 ms notes
    [Note(480, 4800, 60, "あ"), Note(480, 480, 64, "い"), Note(500, 100, 65, "う")],   # overlaps
    [Note(0, 480 * 60, 60, "あ")],                                                     # one 30 s vowel
], ids=["pitch-extremes", "one-tick", "12ms", "overlaps", "held-30s"])
def test_absurd_scores_still_give_finite_bounded_audio(voices, notes):
    p = Project((Track("v", tuple(notes)),), tempos=(Tempo(0, 120.0),))
    a = render_project(p, voices=voices).audio
    assert np.all(np.isfinite(a.samples))
    assert np.max(np.abs(a.samples)) <= 10 ** (-1 / 20) + 1e-6
    assert a.duration_s >= p.duration_s() - 0.01


from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402


@hsettings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 4000), st.integers(1, 1500), st.integers(30, 100),
                          st.sampled_from(["あ", "か", "きゃ", "っ", "ん", "+", "さっ", "ら"])),
                min_size=1, max_size=8),
       st.floats(30.0, 300.0))
@pytest.mark.parametrize("singer", ["song070", "mei"])
def test_random_scores_sing_finite_bounded_audio(voices, singer, raw, bpm):
    notes = tuple(Note(s, d, p, lyr) for s, d, p, lyr in raw)
    a = render_project(Project((Track("v", notes),), tempos=(Tempo(0, bpm),)), singer=singer,
                       voices=voices).audio
    assert np.all(np.isfinite(a.samples))
    assert np.max(np.abs(a.samples)) <= 10 ** (-1 / 20) + 1e-6


def test_the_world_vocoder_sings_the_same_tune():
    from utagoe.errors import InvalidValueError
    from utagoe.settings import VoiceSettings
    from utagoe.voices.hts.song070 import SONG070_INFO, make_song070
    from utagoe.voices.registry import VoiceRegistry

    reg = VoiceRegistry(VoiceSettings(vocoder="world"))
    reg.register(SONG070_INFO, make_song070)
    assert reg.get("song070").vocoder == "world"
    notes = (Note(480, 960, 64, "あ"), Note(1440, 960, 67, "い"))
    p = Project((Track("v", notes),), tempos=(Tempo(0, 120.0),))
    x = render_project(p, voices=reg).audio.samples[0].astype(np.float64)
    f0 = harvest_f0_hz(x, sample_rate_hz=48000, frame_period_s=0.005)
    for n, (s, e) in zip(notes, ((0.5, 1.5), (1.5, 2.5))):
        seg = f0[int((s + 0.2) / 0.005):int((e - 0.2) / 0.005)]
        assert abs(np.median(hz_to_midi(seg[seg > 0])) - n.pitch) < 0.25
    with pytest.raises(InvalidValueError, match="world"):
        VoiceSettings(vocoder="mlsa")


def test_the_envelope_size_is_a_tuning_choice_and_both_sing_in_tune():
    """HTSTuning.envelope_fft_size reaches the vocoder (the default 1024 and
    WORLD's 2048 differ in their samples), and either sings the same notes."""
    from utagoe.settings import RenderSettings, VoiceSettings
    from utagoe.voices.hts.tuning import HTSTuning

    notes = (Note(480, 960, 64, "か"), Note(1440, 960, 69, "い"))
    p = Project((Track("v", notes),), tempos=(Tempo(0, 120.0),))
    out = {}
    for size in (1024, 2048):
        settings = RenderSettings(voice=VoiceSettings(hts=HTSTuning(envelope_fft_size=size)))
        out[size] = render_project(p, settings=settings).audio.samples[0].astype(np.float64)
    assert HTSTuning().envelope_fft_size == 1024
    assert out[1024].shape == out[2048].shape and not np.array_equal(out[1024], out[2048])
    for x in out.values():
        f0 = harvest_f0_hz(x, sample_rate_hz=48000, frame_period_s=0.005)
        for n, (s, e) in zip(notes, ((0.5, 1.5), (1.5, 2.5))):
            seg = f0[int((s + 0.2) / 0.005):int((e - 0.2) / 0.005)]
            assert abs(np.median(hz_to_midi(seg[seg > 0])) - n.pitch) < 0.25
    # the two envelopes give the same spectral balance within 1.5 dB per octave band
    def bands(x):
        spec = np.abs(np.fft.rfft(x)) ** 2
        freqs = np.fft.rfftfreq(len(x), 1 / 48000)
        return np.array([10 * np.log10(spec[(freqs >= lo) & (freqs < 2 * lo)].sum())
                         for lo in (250, 500, 1000, 2000, 4000)])
    assert np.max(np.abs(bands(out[1024]) - bands(out[2048]))) < 1.5


def test_worker_processes_give_the_same_bytes(voices, rendered, monkeypatch):
    import utagoe.rendering.workers as workers
    from utagoe.settings import RenderSettings

    monkeypatch.setattr(workers, "PARALLEL_MIN_AUDIO_S", 0.0)   # a worker even for a short song
    started = []
    real_pool = workers.fork_context().Pool

    class Ctx:
        def Pool(self, n, **kw):
            started.append(n)
            return real_pool(n, **kw)
    monkeypatch.setattr(workers, "fork_context", lambda: Ctx())
    parallel = render_project(score(), voices=voices, settings=RenderSettings(workers=2))
    assert started == [1], "-j 2 is this process and one worker"
    assert np.array_equal(parallel.audio.samples, rendered.audio.samples)


def test_vocoder_chunks_are_cut_in_unvoiced_stretches():
    from utagoe.voices.hts.singer import _chunk_cuts

    f0 = np.full(10000, 200.0)
    f0[3500:3530] = 0.0      # a consonant
    f0[7200:7210] = 0.0      # a short one, too short for the cross-fade
    cuts = _chunk_cuts(f0, chunk_frames=4000, overlap_frames=8)
    assert cuts[0] == 0 and cuts[-1] == 10000
    assert all(b - a <= 4000 for a, b in zip(cuts, cuts[1:]))
    assert np.all(f0[cuts[1] - 8:cuts[1] + 9] == 0)          # inside the consonant
    assert cuts[2] == cuts[1] + 4000                           # no room: a plain cut
