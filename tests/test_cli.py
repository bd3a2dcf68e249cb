"""The command line and the Python API, end to end, including every way to fail."""
import hashlib
import wave
from pathlib import Path

import numpy as np
import pytest

from utagoe.cli import main
from utagoe.errors import LyricsError, ScoreFormatError

SONG = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1"><part-list><score-part id="P1"><part-name>Voice</part-name></score-part></part-list>
<part id="P1"><measure number="1"><attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time></attributes>
<direction><sound tempo="120"/></direction>
<note><rest/><duration>1</duration></note>
<note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration><lyric><text>{a}</text></lyric></note>
<note><pitch><step>D</step><octave>5</octave></pitch><duration>1</duration><lyric><text>{b}</text></lyric></note>
<note><pitch><step>E</step><octave>5</octave></pitch><duration>1</duration><lyric><text>た</text></lyric></note>
</measure></part></score-partwise>
"""


def write(tmp_path, text, name="song.musicxml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_render_writes_only_the_output_and_leaves_the_input_alone(tmp_path, capsys):
    src = write(tmp_path, SONG.format(a="う", b="た"))
    before = digest(src)
    out = tmp_path / "out.wav"
    assert main(["render", str(src), "-o", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav", "song.musicxml"]
    assert digest(src) == before
    with wave.open(str(out)) as w:
        assert w.getframerate() == 48000
        assert w.getnframes() / 48000 == pytest.approx(2.0, abs=0.35)
    assert "of real time" in capsys.readouterr().err


def test_render_flac_and_progress_bar(tmp_path, capsys):
    src = write(tmp_path, SONG.format(a="う", b="た"))
    out = tmp_path / "out.flac"
    assert main(["render", str(src), "-o", str(out), "--progress"]) == 0
    assert out.stat().st_size > 1000
    assert "rendering [" in capsys.readouterr().err


def test_singers_lists_licence_and_credit(capsys):
    assert main(["singers"]) == 0
    out = capsys.readouterr().out
    assert "song070" in out and "CC-BY 3.0" in out and "Nagoya Institute of Technology" in out


def test_info(tmp_path, capsys):
    src = write(tmp_path, SONG.format(a="う", b="た"))
    assert main(["info", str(src)]) == 0
    out = capsys.readouterr().out
    assert "3 notes" in out and "120" in out


@pytest.mark.parametrize("args, needle", [
    (["render", "{dir}/missing.musicxml", "-o", "{dir}/o.wav"], "missing.musicxml"),
    (["render", "{dir}/bad.musicxml", "-o", "{dir}/o.wav"], "bad.musicxml:"),
    (["render", "{dir}/song.musicxml", "-o", "{dir}/o.mp3"], ".wav or .flac"),
    (["render", "{dir}/song.musicxml", "-o", "{dir}/song.musicxml"], ".wav or .flac"),
    (["render", "{dir}/song.musicxml", "-o", "{dir}/nofolder/o.wav"], "does not exist"),
    (["render", "{dir}/song.musicxml", "-o", "{dir}/o.wav", "--singer", "nobody"], "song070"),
    (["render", "{dir}/song.musicxml", "-o", "{dir}/o.wav", "--part", "7"], "part"),
    (["render", "{dir}", "-o", "{dir}/o.wav"], "is a folder"),
    (["render", "{dir}/song.wav", "-o", "{dir}/song.wav", "--format", "musicxml"],
     "would overwrite the input"),
])
def test_errors_are_one_clear_message_and_status_2(tmp_path, capsys, args, needle):
    write(tmp_path, SONG.format(a="う", b="た"))
    write(tmp_path, SONG.format(a="う", b="た"), name="song.wav")
    write(tmp_path, "<score-partwise><part-list>", name="bad.musicxml")
    before = digest(tmp_path / "song.wav")
    args = [a.format(dir=tmp_path) for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("utagoe: error: ") and needle in err
    assert "Traceback" not in err
    assert not (tmp_path / "o.wav").exists()
    assert digest(tmp_path / "song.wav") == before


def test_unknown_lyrics_are_listed_with_positions_and_lenient_sings_them(tmp_path, capsys):
    src = write(tmp_path, SONG.format(a="xyz", b="qq"))
    assert main(["render", str(src), "-o", str(tmp_path / "o.wav")]) == 2
    err = capsys.readouterr().err
    assert "'xyz'" in err and "'qq'" in err and "measure 1" in err
    assert main(["render", str(src), "-o", str(tmp_path / "o.wav"), "--lenient"]) == 0
    assert "warning:" in capsys.readouterr().err


def test_api_load_render_save(tmp_path):
    import utagoe

    src = write(tmp_path, SONG.format(a="きゃ", b="っ"))
    project = utagoe.load(src)
    assert [n.lyric for n in project.tracks[0].notes] == ["きゃ", "っ", "た"]
    result = utagoe.render(project)
    audio = result.audio
    assert audio.sample_rate == 48000 and audio.samples.dtype.name == "float32"
    assert result.save(tmp_path / "a.wav").exists()
    assert [t.name for t in result.tracks] == ["Voice"] and result.tracks[0].singer == "song070"
    assert result.warnings == ()
    assert [s.name for s in utagoe.singers()][0] == "song070"


@pytest.mark.shared
def test_every_shared_musicxml_file_reads_and_sings_or_fails_clearly(shared_data):
    """Real files (mostly English, German, Italian lyrics): each either reads and
    makes phrases, or fails with ScoreFormatError / LyricsError -- nothing else."""
    from utagoe.api import load
    from utagoe.lyrics.registry import default_phonemizers
    from utagoe.phrase.build import build_track_phrases
    from utagoe.settings import RenderSettings

    files = [p for p in sorted((shared_data / "musicxml").rglob("*"))
             if p.suffix.lower() in (".xml", ".musicxml", ".mxl")]
    assert files
    ph = default_phonemizers().get("ja")
    outcomes = {}
    for f in files:
        try:
            project = load(f)
            build_track_phrases(project, 0, singer="song070", phonemizer=ph, settings=RenderSettings())
            outcomes[f.name] = "sung"
        except LyricsError as exc:
            assert str(f) in str(exc) and "note" in str(exc)
            lenient = build_track_phrases(project, 0, singer="song070", phonemizer=ph,
                                          settings=RenderSettings(lenient_lyrics=True))
            assert lenient.phrases and lenient.warnings
            outcomes[f.name] = "lyrics error"
        except ScoreFormatError as exc:
            assert str(f.name) in str(exc)
            outcomes[f.name] = "format error"
    assert len(outcomes) == len(files)


@pytest.mark.shared
def test_a_real_file_renders_leniently(shared_data, tmp_path):
    src = shared_data / "musicxml" / "musicxmlTestSuite" / "61d-Lyrics-Melisma.xml"
    if not src.exists():
        pytest.skip(f"{src} is absent")
    assert main(["render", str(src), "-o", str(tmp_path / "m.wav"), "--lenient", "-q"]) == 0
    assert (tmp_path / "m.wav").stat().st_size > 10000


USTX_TWO_TRACKS = """ustx_version: '0.7'
name: two
resolution: 480
bpm: 100
time_signatures: [{bar_position: 0, beat_per_bar: 3, beat_unit: 4}]
tempos: [{position: 0, bpm: 90}, {position: 1440, bpm: 150}]
tracks:
- {singer: Teto, track_name: Lead, mute: false, volume: 0, pan: 0}
- {singer: Teto, track_name: Echo, mute: true, volume: -6, pan: 0}
voice_parts:
- name: a
  track_no: 0
  position: 0
  notes:
  - {position: 0, duration: 480, tone: 60, lyric: か, pitch: {data: [{x: -20, y: 0, shape: io}, {x: 20, y: 0, shape: io}], snap_first: true}, vibrato: {length: 60, period: 180, depth: 25, in: 10, out: 10, shift: 0, drift: 0}}
  - {position: 480, duration: 480, tone: 62, lyric: storm}
  - {position: 960, duration: 960, tone: 64, lyric: +}
  curves: [{abbr: pitd, xs: [0, 5, 10], ys: [0, 10, 0]}]
- name: b
  track_no: 1
  position: 0
  notes:
  - {position: 0, duration: 480, tone: 67, lyric: な}
"""


def test_info_tells_tracks_tempi_coverage_and_what_will_not_be_sung(tmp_path, capsys):
    src = write(tmp_path, USTX_TWO_TRACKS, "two.ustx")
    assert main(["info", str(src)]) == 0
    out = capsys.readouterr().out
    assert "(ustx)" in out
    assert "tempo 90-150 bpm, 1 tempo change(s), time 3/4" in out
    assert "tracks: 2, notes: 4" in out
    assert "track 1: 'Lead', 3 notes, range C4-E4, lyrics 67% singable, 1 held (+)" in out
    assert "1 note with drawn pitch; 1 with vibrato; curves pitd; singer in the file: 'Teto'" in out
    assert "track 2: 'Echo' (muted)" in out
    not_sung = out.split("not sung:", 1)[1]
    assert "muted in the file" in not_sung
    assert "'storm'" in not_sung and "--lenient" in not_sung


def test_render_sings_every_unmuted_track_of_a_project(tmp_path, capsys):
    src = write(tmp_path, USTX_TWO_TRACKS, "two.ustx")
    out = tmp_path / "two.wav"
    assert main(["render", str(src), "-o", str(out), "--lenient", "-q", "-j", "1"]) == 0
    err = capsys.readouterr().err
    assert "muted in the file and is not sung" in err
    assert "'storm'" in err
    with wave.open(str(out)) as w:
        assert w.getnchannels() == 1 and w.getnframes() > 48000


def test_encoding_option_is_checked(tmp_path, capsys):
    src = write(tmp_path, SONG.format(a="う", b="た"))
    assert main(["info", str(src), "--encoding", "klingon"]) == 2
    assert "unknown text encoding 'klingon'" in capsys.readouterr().err


def test_render_takes_the_pitch_style_and_voice_controls(tmp_path, capsys):
    import soundfile

    src = write(tmp_path, SONG.format(a="あ", b="あ"))
    outs = {}
    for name, extra in (("plain", ["--pitch-style", "plain"]),
                        ("softer", ["--pitch-style", "plain", "--dynamics", "-6"]),
                        ("shaped", ["--pitch-style", "expressive", "--gender", "40",
                                    "--breathiness", "30", "--tension", "-20", "--voicing", "90",
                                    "--velocity", "150"])):
        out = tmp_path / f"{name}.wav"
        assert main(["render", str(src), "-o", str(out), "-q", *extra]) == 0
        outs[name], _ = soundfile.read(out)
    # a song made 6 dB softer comes out 6 dB softer, though the mix is scaled to its peak
    assert outs["softer"].std() == pytest.approx(outs["plain"].std() * 10 ** (-6 / 20), rel=0.1)
    assert not np.array_equal(outs["shaped"], outs["plain"])
    for flag, bad, field in (("--gender", "500", "ControlSettings.gender"),
                             ("--voicing", "nan", "ControlSettings.voicing")):
        assert main(["render", str(src), "-o", str(tmp_path / "x.wav"), flag, bad]) == 2
        assert field in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()
