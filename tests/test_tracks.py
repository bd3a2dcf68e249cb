"""Songs with several tracks: singers per track, mute and solo, gain and pan, the
master (level, loudness, limiter), stems, and the singers' variants."""
from dataclasses import replace

import numpy as np
import pytest

from utagoe.audio import Audio
from utagoe.cli import main
from utagoe.errors import InvalidValueError, UtagoeError
from utagoe.model import Note, Project, Tempo, Track
from utagoe.model.units import midi_to_hz
from utagoe.rendering.engine import render_project, render_to_file
from utagoe.rendering.master import stem_file_name
from utagoe.settings import MixSettings, PhraseSettings, RenderSettings, TrackSettings
from utagoe.voices.base import PhraseVoice, SingerInfo
from utagoe.voices.registry import VoiceRegistry

RATE = 16000


class ToneVoice(PhraseVoice):
    """Sings the phrase's pitch as a sine of its own loudness (so each voice can be
    told apart in a mix by its level)."""

    sample_rate_hz = RATE

    def __init__(self, name: str, amplitude: float):
        self.info = SingerInfo(name, name.title(), "ja", "none", "test voice")
        self.amplitude = amplitude
        self.sung: list[float] = []

    def settings_key(self) -> str:
        return f"{self.amplitude}"

    def render(self, phrase, *, cancel=None):
        self.sung.append(phrase.start_s)
        n = int(round(phrase.duration_s * RATE))
        t = phrase.start_s + np.arange(n) / RATE
        hz = midi_to_hz(np.interp(t, phrase.pitch.times_s(), phrase.pitch.values))
        return Audio((self.amplitude * np.sin(2 * np.pi * np.cumsum(hz) / RATE)).astype(np.float32),
                     RATE)


def voices(*vs):
    reg = VoiceRegistry()
    for v in vs:
        reg.register(v.info, lambda settings, v=v: v)
    return reg


def duet(**track2):
    a = Track("Lead", (Note(0, 960, 60, "ら"), Note(960, 960, 62, "ら")))
    b = Track("Harmony", (Note(0, 960, 64, "ら"), Note(960, 960, 65, "ら")), **track2)
    return Project((a, b), tempos=(Tempo(0, 120.0),))


def settings(*tracks, **mix):
    return RenderSettings(mix=MixSettings(sample_rate_hz=RATE, **mix), tracks=tracks)


def level(audio: Audio) -> np.ndarray:
    """RMS per channel."""
    return np.sqrt(np.mean(audio.samples.astype(np.float64) ** 2, axis=1))


# -- settings ---------------------------------------------------------------------------

def test_track_settings_check_their_fields():
    with pytest.raises(InvalidValueError, match="TrackSettings.track"):
        TrackSettings(0)
    with pytest.raises(InvalidValueError, match="TrackSettings.pan"):
        TrackSettings(1, pan=2.0)
    with pytest.raises(InvalidValueError, match="TrackSettings.singer"):
        TrackSettings("Alto", singer=" ")
    with pytest.raises(InvalidValueError, match="MixSettings.loudness_lufs"):
        MixSettings(loudness_lufs=5.0)
    with pytest.raises(InvalidValueError, match="MixSettings.channels"):
        MixSettings(channels=3)
    with pytest.raises(InvalidValueError, match=r"RenderSettings.tracks\[0\]"):
        RenderSettings(tracks=("1=mei",))


# -- singers, mute, solo ----------------------------------------------------------------

def test_each_track_sings_with_its_own_singer():
    soft, loud = ToneVoice("soft", 0.1), ToneVoice("loud", 0.4)
    res = render_project(duet(), voices=voices(soft, loud),
                         settings=settings(TrackSettings(2, singer="loud")))
    assert [t.singer for t in res.tracks] == ["soft", "loud"]   # the first is the default
    assert level(res.tracks[1].audio)[0] == pytest.approx(4 * level(res.tracks[0].audio)[0], rel=0.05)
    # by name, case folded, and through the API's mapping
    import utagoe

    res = utagoe.render(duet(), {"harmony": "loud", 1: "loud"}, voices=voices(soft, loud),
                        settings=settings())
    assert [t.singer for t in res.tracks] == ["loud", "loud"]


def test_a_track_chosen_by_a_name_or_number_that_is_not_there_lists_the_tracks():
    v = ToneVoice("soft", 0.1)
    with pytest.raises(UtagoeError, match=r"no track is named 'Bass'.*1 \('Lead'\), 2 \('Harmony'\)"):
        render_project(duet(), voices=voices(v), settings=settings(TrackSettings("Bass", mute=True)))
    with pytest.raises(UtagoeError, match="there is no track 3"):
        render_project(duet(), voices=voices(v), settings=settings(TrackSettings(3, mute=True)))
    with pytest.raises(UtagoeError, match="given settings twice"):
        render_project(duet(), voices=voices(v),
                       settings=settings(TrackSettings(2, mute=True), TrackSettings("Harmony")))


def test_mute_and_solo():
    v = ToneVoice("soft", 0.1)
    res = render_project(duet(), voices=voices(v), settings=settings(TrackSettings(1, mute=True)))
    assert [t.name for t in res.tracks] == ["Harmony"]
    res = render_project(duet(), voices=voices(v), settings=settings(TrackSettings(2, solo=True)))
    assert [t.name for t in res.tracks] == ["Harmony"]
    # a track muted in the file sings when soloed, and says nothing then
    res = render_project(duet(muted=True), voices=voices(v),
                         settings=settings(TrackSettings(2, solo=True)))
    assert [t.name for t in res.tracks] == ["Harmony"]
    assert not any("muted" in w for w in res.warnings)
    res = render_project(duet(muted=True), voices=voices(v), settings=settings())
    assert [t.name for t in res.tracks] == ["Lead"]
    assert any("--solo 2" in w for w in res.warnings)
    with pytest.raises(UtagoeError, match="every track with notes is muted"):
        render_project(duet(), voices=voices(v),
                       settings=settings(TrackSettings(1, mute=True), TrackSettings(2, mute=True)))


def test_a_singer_the_project_names_but_we_do_not_have_is_replaced_and_said():
    v = ToneVoice("soft", 0.1)
    p = duet(source_singer="Miku_V4X")
    p = replace(p, source_format="vsqx", source_path="duet.vsqx")
    res = render_project(p, voices=voices(v), settings=settings())
    said = [w for w in res.warnings if "Miku_V4X" in w]
    assert len(said) == 1
    assert "soft sings it instead" in said[0] and "--singer 2=NAME" in said[0]
    # chosen by the user: nothing to say
    res = render_project(p, voices=voices(v), settings=settings(TrackSettings(2, singer="soft")))
    assert not any("Miku_V4X" in w for w in res.warnings)


# -- gain, pan, the master --------------------------------------------------------------

def test_gain_and_equal_power_pan_shape_the_stereo_mix():
    v = ToneVoice("soft", 0.1)
    res = render_project(duet(), voices=voices(v),
                         settings=settings(TrackSettings(1, pan=-1.0), TrackSettings(2, pan=1.0,
                                                                                     gain_db=-6.0)))
    assert res.audio.channels == 2
    left, right = level(res.audio)
    assert right / left == pytest.approx(10 ** (-6 / 20), rel=0.05)
    # centred, both tracks: stereo by default, both sides alike
    res = render_project(duet(), voices=voices(v), settings=settings())
    assert res.audio.channels == 2
    assert np.array_equal(res.audio.samples[0], res.audio.samples[1])
    res = render_project(duet(), voices=voices(v), settings=settings(channels=1))
    assert res.audio.channels == 1


def test_the_mix_is_scaled_to_its_peak_and_master_gain_goes_through_the_limiter():
    v = ToneVoice("soft", 0.1)
    res = render_project(duet(), voices=voices(v), settings=settings())
    assert np.max(np.abs(res.audio.samples)) == pytest.approx(10 ** (-1 / 20), rel=1e-4)
    res = render_project(duet(), voices=voices(v), settings=settings(master_gain_db=-6.0))
    assert np.max(np.abs(res.audio.samples)) == pytest.approx(10 ** (-7 / 20), rel=1e-4)
    loud = render_project(duet(), voices=voices(v), settings=settings(master_gain_db=12.0))
    assert np.max(np.abs(loud.audio.samples)) <= 10 ** (-1 / 20) + 1e-6
    assert level(loud.audio)[0] > 2 * level(res.audio)[0]
    clipped = render_project(duet(), voices=voices(v), settings=settings(master_gain_db=12.0,
                                                                         limiter=False))
    assert np.max(np.abs(clipped.audio.samples)) > 1.5


def test_loudness_normalisation_lands_within_a_tenth_of_a_lu():
    from utagoe.mix.loudness import integrated_loudness

    v = ToneVoice("soft", 0.1)
    long_duet = replace(duet(), tempos=(Tempo(0, 30.0),))   # 8 s: long enough to gate
    for target in (-23.0, -16.0):
        res = render_project(long_duet, voices=voices(v), settings=settings(loudness_lufs=target))
        assert integrated_loudness(res.audio) == pytest.approx(target, abs=0.1)


# -- stems and files --------------------------------------------------------------------

def test_stems_add_up_to_the_mix_and_the_file_has_the_same_bytes(tmp_path):
    v = ToneVoice("soft", 0.1)
    s = settings(TrackSettings(1, pan=-0.5), TrackSettings(2, gain_db=-3.0))
    res = render_project(duet(), voices=voices(v), settings=s)
    stems = res.stems()
    assert [st.channels for st in stems] == [2, 2]
    total = np.sum([st.samples.astype(np.float64) for st in stems], axis=0)
    assert np.max(np.abs(total - res.audio.samples)) < 1e-6
    (tmp_path / "mem").mkdir()
    paths = res.save_stems(tmp_path / "mem")
    assert [p.name for p in paths] == ["01-Lead.wav", "02-Harmony.wav"]
    (tmp_path / "file").mkdir()
    out = render_to_file(duet(), tmp_path / "song.wav", voices=voices(v), settings=s,
                         stems_dir=tmp_path / "file", block_samples=5000)
    res.save(tmp_path / "whole.wav")
    assert (tmp_path / "song.wav").read_bytes() == (tmp_path / "whole.wav").read_bytes()
    assert [p.name for p in out.stems] == ["01-Lead.wav", "02-Harmony.wav"]
    for a, b in zip(out.stems, paths):
        assert a.read_bytes() == b.read_bytes()
    with pytest.raises(UtagoeError, match="would overwrite the mix"):
        render_to_file(duet(), tmp_path / "file" / "02-Harmony.wav", voices=voices(v), settings=s,
                       stems_dir=tmp_path / "file")


def test_the_limited_and_loudness_normalised_file_has_the_bytes_of_the_api(tmp_path):
    v = ToneVoice("soft", 0.1)
    long_duet = replace(duet(), tempos=(Tempo(0, 30.0),))
    for mix in (dict(master_gain_db=9.0), dict(loudness_lufs=-10.0)):
        s = settings(TrackSettings(2, pan=0.3), **mix)
        res = render_project(long_duet, voices=voices(v), settings=s)
        res.save(tmp_path / "whole.wav", subtype="PCM_24")   # float WAVs carry a time stamp
        render_to_file(long_duet, tmp_path / "song.wav", voices=voices(v), settings=s,
                       block_samples=3001, subtype="PCM_24")
        assert (tmp_path / "song.wav").read_bytes() == (tmp_path / "whole.wav").read_bytes()


def test_stem_file_names_are_safe():
    assert stem_file_name(3, "Alto", ".wav") == "03-Alto.wav"
    assert stem_file_name(12, "a/b\\c:d", ".flac") == "12-a_b_c_d.flac"
    assert stem_file_name(1, "..", ".wav") == "01-track.wav"
    assert stem_file_name(1, "x" * 300, ".wav") == "01-" + "x" * 80 + ".wav"


# -- the command line -------------------------------------------------------------------

def test_the_command_line_assigns_singers_and_mixes(tmp_path, capsys):
    from utagoe.formats import write_score

    score = tmp_path / "duet.ustx"
    write_score(duet(), score)
    stems = tmp_path / "stems"
    stems.mkdir()
    out = tmp_path / "duet.flac"
    rc = main(["render", str(score), "-o", str(out), "-j", "1", "--singer", "2=song070-deep",
               "--pan", "1=-0.5", "--gain", "Harmony=-3", "--stems", str(stems),
               "--sample-format", "24", "--sample-rate", "44100"])
    assert rc == 0, capsys.readouterr().err
    import soundfile as sf

    info = sf.info(str(out))
    assert (info.samplerate, info.channels, info.subtype) == (44100, 2, "PCM_24")
    assert sorted(p.name for p in stems.iterdir()) == ["01-Lead.flac", "02-Harmony.flac"]
    # a track name that is not there, a float FLAC, a missing stems folder
    for bad, said in ((["--singer", "Bass=mei"], "no track is named 'Bass'"),
                      (["--sample-format", "float"], "FLAC holds 16- or 24-bit"),
                      (["--stems", str(tmp_path / "nope")], "no such folder"),
                      (["--gain", "1"], "TRACK=VALUE")):
        assert main(["render", str(score), "-o", str(out), "-j", "1", *bad]) == 2
        assert said in capsys.readouterr().err


# -- the built-in singers' variants -----------------------------------------------------

def test_the_variants_are_listed_and_sing_deeper_and_brighter():
    import utagoe

    names = [s.name for s in utagoe.singers()]
    for n in ("song070-deep", "song070-bright"):
        assert n in names
    p = Project((Track("v", (Note(0, 1920, 64, "あ"),)),), tempos=(Tempo(0, 120.0),))

    def centroid(singer):
        x = utagoe.render(p, singer).audio.samples[0].astype(np.float64)
        spec = np.abs(np.fft.rfft(x)) ** 2
        f = np.fft.rfftfreq(len(x), 1 / 48000)
        return float(np.sum(spec * f) / np.sum(spec))

    plain, deep, bright = centroid("song070"), centroid("song070-deep"), centroid("song070-bright")
    assert deep < 0.85 * plain and bright > 1.1 * plain


def test_a_ust_set_sings_as_one_song_each_file_a_track(tmp_path, capsys):
    import utagoe

    def ust(tempo, notes):
        out = ["[#VERSION]", "UST Version1.2", "[#SETTING]", f"Tempo={tempo}", "VoiceDir=%VOICE%uta"]
        for k, (length, lyric, pitch) in enumerate(notes):
            out += [f"[#{k:04d}]", f"Length={length}", f"Lyric={lyric}", f"NoteNum={pitch}"]
        return "\r\n".join(out + ["[#TRACKEND]", ""])

    (tmp_path / "lead.ust").write_text(ust(120, [(480, "R", 60), (960, "ら", 64), (960, "ら", 62)]),
                                       encoding="utf-8")
    (tmp_path / "alto.ust").write_text(ust(60, [(240, "R", 60), (480, "あ", 60), (480, "あ", 59)]),
                                       encoding="utf-8")
    song = utagoe.load_set([tmp_path / "lead.ust", tmp_path / "alto.ust"])
    assert [t.name for t in song.tracks] == ["lead", "alto"]
    # the second file's notes at its own seconds, on the first file's tempo
    assert [n.start_ticks for n in song.tracks[1].notes] == [480, 1440]
    assert any("alto" in w and "tempo" in w for w in song.warnings)
    out = tmp_path / "duet.wav"
    rc = main(["render", str(tmp_path / "lead.ust"), str(tmp_path / "alto.ust"), "-o", str(out),
               "-j", "1", "--singer", "alto=mei"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "track 1 ('lead') names the singer '%VOICE%uta'" in err and "--singer 1=NAME" in err
    assert "track 2 ('alto') names" not in err   # its singer was chosen
    assert "track 1 ('lead'): song070" in err and "track 2 ('alto'): mei" in err
    # and into one OpenUtau project
    both = tmp_path / "duet.ustx"
    assert main(["convert", str(tmp_path / "lead.ust"), str(tmp_path / "alto.ust"), str(both)]) == 0
    back = utagoe.load(both)
    assert [t.name for t in back.tracks] == ["lead", "alto"]
    assert [n.start_ticks for n in back.tracks[1].notes] == [480, 1440]


def test_tracks_are_balanced_to_one_loudness_before_their_gain():
    soft, loud = ToneVoice("soft", 0.05), ToneVoice("loud", 0.4)
    long_duet = replace(duet(), tempos=(Tempo(0, 30.0),))
    s = settings(TrackSettings(2, singer="loud"))
    res = render_project(long_duet, voices=voices(soft, loud), settings=s)
    quiet, strong = (level(st)[0] for st in res.stems())
    assert strong / quiet == pytest.approx(1.0, rel=0.05)
    assert res.tracks[0].balance_db - res.tracks[1].balance_db == pytest.approx(18.06, abs=0.2)
    # the file's volume and the user's gain still count, after the balance
    res = render_project(long_duet, voices=voices(soft, loud),
                         settings=settings(TrackSettings(2, singer="loud", gain_db=-6.0)))
    quiet, strong = (level(st)[0] for st in res.stems())
    assert strong / quiet == pytest.approx(10 ** (-6 / 20), rel=0.05)
    raw = render_project(long_duet, voices=voices(soft, loud),
                         settings=settings(TrackSettings(2, singer="loud"), balance_tracks=False))
    quiet, strong = (level(st)[0] for st in raw.stems())
    assert strong / quiet == pytest.approx(8.0, rel=0.05)


def test_a_song_too_short_to_measure_is_scaled_to_its_peak_and_says_so():
    v = ToneVoice("soft", 0.1)
    short = Project((Track("v", (Note(0, 60, 60, "ら"),)),), tempos=(Tempo(0, 240.0),))
    res = render_project(short, voices=voices(v),
                         settings=replace(settings(loudness_lufs=-16.0),
                                          phrase=PhraseSettings(rest_margin_s=0.0, lead_in_s=0.0)))
    assert res.audio.duration_s < 0.4
    assert np.max(np.abs(res.audio.samples)) == pytest.approx(10 ** (-1 / 20), rel=1e-4)
    assert any("cannot be measured" in w for w in res.warnings)


from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.floats(0.01, 0.9), st.floats(-1, 1), st.floats(-30, 12), st.booleans()),
                min_size=1, max_size=4),
       st.sampled_from([None, -30.0, -16.0, -8.0]), st.floats(-12, 12), st.sampled_from([None, 1, 2]),
       st.integers(700, 9000))
def test_any_mix_is_the_same_in_the_file_and_stays_under_its_ceiling(tmp_path, tracks, lufs, master,
                                                                     channels, block):
    """Whatever the tracks' singers, gains and pans and the master's settings, the
    file has the API's bytes, no sample passes the ceiling (the limiter is on),
    and the stems add up to the mix where nothing was limited."""
    vs = [ToneVoice(f"v{i}", amp) for i, (amp, _, _, _) in enumerate(tracks)]
    notes = (Note(0, 960, 60, "ら"), Note(1200, 1440, 64, "ら"))
    song = Project(tuple(Track(f"t{i}", notes) for i in range(len(tracks))), tempos=(Tempo(0, 60.0),))
    s = settings(*(TrackSettings(i + 1, singer=f"v{i}", pan=pan, gain_db=gain, mute=False)
                   for i, (_, pan, gain, _) in enumerate(tracks)),
                 loudness_lufs=lufs, master_gain_db=master, channels=channels,
                 balance_tracks=tracks[0][3])
    reg = voices(*vs)
    res = render_project(song, voices=reg, settings=s)
    assert np.max(np.abs(res.audio.samples)) <= 10 ** (-1 / 20) + 1e-6
    res.save(tmp_path / "whole.wav", subtype="PCM_24")
    render_to_file(song, tmp_path / "song.wav", voices=reg, settings=s, block_samples=block,
                   subtype="PCM_24")
    assert (tmp_path / "song.wav").read_bytes() == (tmp_path / "whole.wav").read_bytes()
    if res.level is not None and not res.level.limiting:
        total = np.sum([st.samples.astype(np.float64) for st in res.stems()], axis=0)
        assert np.max(np.abs(total - res.audio.samples)) < 1e-5
