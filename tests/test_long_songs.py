"""Long songs in bounded memory: a render streamed to its file has the bytes of
RenderResult.save(); the stems spooled to disk are the stems held in memory."""
from pathlib import Path

import numpy as np
import pytest

from utagoe.audio import Audio, write_audio_blocks
from utagoe.cli import main
from utagoe.model import Note, Project, Tempo, Track
from utagoe.model.units import midi_to_hz
from utagoe.rendering.engine import RenderCache, render_project, render_to_file
from utagoe.rendering.track import MemoryStem, SpooledStem
from utagoe.settings import ControlSettings, MixSettings, RenderSettings
from utagoe.voices.base import PhraseVoice, SingerInfo
from utagoe.voices.registry import VoiceRegistry

RATE = 16000
AT_RATE = RenderSettings(mix=MixSettings(sample_rate_hz=RATE))


class SineVoice(PhraseVoice):
    """Sings the phrase's pitch curve as a sine (enough for the plumbing)."""

    info = SingerInfo("sine", "Sine", "ja", "none", "test voice")
    sample_rate_hz = RATE

    def render(self, phrase, *, cancel=None):
        n = int(round(phrase.duration_s * RATE))
        t = phrase.start_s + np.arange(n) / RATE
        hz = midi_to_hz(np.interp(t, phrase.pitch.times_s(), phrase.pitch.values))
        return Audio((0.3 * np.sin(2 * np.pi * np.cumsum(hz) / RATE)).astype(np.float32), RATE)


def registry():
    reg = VoiceRegistry()
    voice = SineVoice()
    reg.register(voice.info, lambda settings: voice)
    return reg


def notes(offset=0, pitch=60):
    # three phrases separated by rests, at 120 bpm
    return tuple(Note(offset + s, 480, pitch + k, ly) for k, (s, ly) in enumerate(
        [(480, "か"), (960, "き"), (2400, "く"), (2880, "け"), (4800, "こ"), (5280, "さ")]))


def one_track():
    return Project((Track("v", notes()),), tempos=(Tempo(0, 120.0),))


def two_tracks():
    return Project((Track("a", notes(), volume_db=-3.0, pan=-0.5),
                    Track("b", notes(240, 55), volume_db=2.0, pan=0.25)),
                   tempos=(Tempo(0, 120.0),))


@pytest.mark.parametrize("project, settings, suffix, subtype", [
    (one_track, AT_RATE, ".wav", "PCM_16"),
    (one_track, RenderSettings(mix=MixSettings(sample_rate_hz=RATE, peak_dbfs=-6.0),
                               controls=ControlSettings(dynamics_db=-6.0)), ".wav", "PCM_24"),
    (two_tracks, AT_RATE, ".wav", "PCM_16"),
    (two_tracks, AT_RATE, ".flac", "PCM_16"),
    (one_track, AT_RATE, ".wav", "FLOAT"),
])
def test_streamed_file_has_the_bytes_of_render_result_save(tmp_path, project, settings, suffix, subtype):
    saved = render_project(project(), voices=registry(), settings=settings).save(
        tmp_path / f"saved{suffix}", subtype=subtype)
    # blocks much shorter than a phrase, and one block for the whole song
    for block in (1000, 1 << 22):
        out = tmp_path / f"streamed{block}{suffix}"
        done = render_to_file(project(), out, voices=registry(), settings=settings,
                              subtype=subtype, block_samples=block)
        assert done.path == out and out.read_bytes() == saved.read_bytes()
        assert done.sample_rate == RATE and done.phrases_rendered == 3 * len(project().tracks)
    # nothing left behind: the stems lived in unnamed temporary files
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"saved{suffix}", f"streamed1000{suffix}", f"streamed{1 << 22}{suffix}"])


def test_streamed_render_with_a_cache_counts_and_sounds_the_same(tmp_path):
    cache = RenderCache()
    first = render_to_file(one_track(), tmp_path / "a.wav", voices=registry(), settings=AT_RATE,
                           cache=cache)
    again = render_to_file(one_track(), tmp_path / "b.wav", voices=registry(), settings=AT_RATE,
                           cache=cache)
    assert (first.phrases_rendered, first.phrases_cached) == (3, 0)
    assert (again.phrases_rendered, again.phrases_cached) == (0, 3)
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


def test_a_bad_output_is_refused_before_any_work(tmp_path):
    from utagoe.errors import UtagoeError

    with pytest.raises(UtagoeError, match="cannot write .mp3"):
        render_to_file(one_track(), tmp_path / "x.mp3", voices=registry(), settings=AT_RATE)
    with pytest.raises(UtagoeError, match="subtype"):
        render_to_file(one_track(), tmp_path / "x.flac", voices=registry(), settings=AT_RATE,
                       subtype="FLOAT")
    assert list(tmp_path.iterdir()) == []


def test_spooled_stem_holds_the_samples_of_a_memory_stem_whatever_the_arrival(tmp_path):
    rng = np.random.default_rng(3)
    n = 5000
    phrases = [(int(s), rng.standard_normal(int(k)).astype(np.float32))
               for s, k in [(-50, 400), (300, 900), (1190, 20), (1200, 1500), (2690, 700),
                            (4800, 900)]]   # overlaps, a gap, past both ends
    mem = MemoryStem(n)
    for s, x in phrases:
        mem.add(Audio(x, RATE), start_sample=s)
    spool = SpooledStem(n, folder=tmp_path)
    try:
        # phrases that came early wait on disk until their turn
        held = {i: spool.hold(Audio(x, RATE)) for i, (s, x) in reversed(list(enumerate(phrases)))}
        starts = [s for s, _ in phrases]
        for i, (s, _) in enumerate(phrases):
            spool.add(spool.take(held[i]), start_sample=s)
            spool.release(min(starts[i + 1:], default=n))
            assert len(spool.buf) <= 1500   # only what later phrases may still reach
        spool.finish()
        assert spool.parked == 0
        assert np.array_equal(spool.read(0, n), mem.samples)
        assert np.array_equal(spool.read(1234, 2345), mem.samples[1234:2345])
        with pytest.raises(RuntimeError, match="released"):
            spool.add(Audio(np.ones(10, np.float32), RATE), start_sample=100)
    finally:
        spool.close()


def test_write_audio_blocks_is_audio_save_of_the_joined_blocks(tmp_path):
    rng = np.random.default_rng(5)
    x = (0.5 * rng.standard_normal((2, 10007))).astype(np.float32)
    for suffix in (".wav", ".flac"):
        whole = Audio(x, 44100).save(tmp_path / f"whole{suffix}")
        parts = [Audio(x[:, a:a + 999], 44100) for a in range(0, x.shape[1], 999)]
        streamed = write_audio_blocks(tmp_path / f"parts{suffix}", iter(parts), sample_rate=44100,
                                      channels=2)
        assert streamed.read_bytes() == whole.read_bytes()


@pytest.mark.parametrize("channels", [1, 2])
def test_the_16_bit_wav_writer_gives_soundfiles_bytes(tmp_path, channels):
    """16-bit WAV is written by utagoe itself (soundfile's own writes go through
    Python one small piece at a time); the file must be the one soundfile writes:
    the same header and the same rounding and clipping of every sample."""
    import soundfile as sf

    from utagoe.errors import UtagoeError

    rng = np.random.default_rng(8)
    edges = np.array([1.0, -1.0, np.nextafter(1.0, 0.0), -np.nextafter(1.0, 0.0), 0.0, -0.0,
                      1 / 65536, -1 / 65536, 3 / 65536, 1.5, -7.0])
    steps = np.arange(-40000, 40000) / 32768.0
    x = np.concatenate([rng.uniform(-1.3, 1.3, 60000), rng.normal(0.0, 1e-4, 20000),
                        steps, steps + 0.5 / 32768.0, edges]).astype(np.float32)
    x = x[:x.size // channels * channels].reshape(channels, -1)
    ours = write_audio_blocks(tmp_path / "ours.wav",
                              [Audio(x[:, a:a + 7777], 48000) for a in range(0, x.shape[1], 7777)]
                              + [Audio(np.zeros((channels, 0), np.float32), 48000)],
                              sample_rate=48000, channels=channels)
    sf.write(tmp_path / "sf.wav", x.T, 48000, subtype="PCM_16")
    assert ours.read_bytes() == (tmp_path / "sf.wav").read_bytes()
    back, rate = sf.read(ours, dtype="int16", always_2d=True)
    assert rate == 48000 and back.shape == (x.shape[1], channels)
    bad = x.copy()
    bad[0, 5] = np.nan
    with pytest.raises(UtagoeError, match="NaN"):
        Audio(bad, 48000).save(tmp_path / "bad.wav")
    assert not (tmp_path / "bad.wav").exists()


SONG = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1"><part-list><score-part id="P1"><part-name>Voice</part-name></score-part></part-list>
<part id="P1"><measure number="1"><attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time></attributes>
<direction><sound tempo="120"/></direction>
<note><rest/><duration>1</duration></note>
<note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration><lyric><text>さ</text></lyric></note>
<note><pitch><step>D</step><octave>5</octave></pitch><duration>1</duration><lyric><text>く</text></lyric></note>
<note><rest/><duration>1</duration></note>
</measure><measure number="2">
<note><pitch><step>E</step><octave>5</octave></pitch><duration>2</duration><lyric><text>ら</text></lyric></note>
<note><rest/><duration>2</duration></note>
</measure></part></score-partwise>
"""


def test_the_command_streams_the_bytes_the_api_saves(tmp_path):
    """The built-in singer through ``utagoe render`` (streamed) and through
    ``utagoe.render(...).save`` (held whole): the same file."""
    import utagoe

    src = tmp_path / "song.musicxml"
    src.write_text(SONG, encoding="utf-8")
    assert main(["render", str(src), "-o", str(tmp_path / "cli.wav"), "-q", "-j", "1"]) == 0
    saved = utagoe.render(utagoe.load(src)).save(tmp_path / "api.wav")
    assert Path(tmp_path / "cli.wav").read_bytes() == saved.read_bytes()
