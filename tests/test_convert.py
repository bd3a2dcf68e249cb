"""Converting between formats keeps what both formats can hold (real files, via the CLI)."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SHARED
from utagoe.cli import main
from utagoe.formats import ReadOptions, default_registry, read_score
from utagoe.formats.common import NO_LYRIC
from utagoe.model import CONTINUATION, Note, Project, Tempo, Track

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

REAL = ["ust/utaformatix-ts/utau.ust", "ust/tsuru/testustVCV.ust", "ust/gotau/Full.ust",
        "ust/utauPlugin-tmp/test120.tmp", "ustx/utaformatix-ts/openutau.ustx",
        "ustx/vocaloid-projects/test.ustx", "vsqx/3c1u-vsqx/v4.vsqx",
        "vsqx/3c1u-vsqx/v3.vsqx", "svp/utaformatix-ts/10tracks.svp",
        "midi/utaformatix-ts/standard.mid", "midi/music21/test19.mid",
        "midi/jazz-soft/test-karaoke-kar.mid"]


def notes(track):
    return [(n.start_ticks, n.duration_ticks, n.pitch, n.lyric) for n in track.notes]


def read_back(path: Path, n_tracks: int):
    if path.suffix == ".musicxml":   # each part alone (parts without lyrics too)
        return [read_score(path, ReadOptions(part=i)).tracks[0] for i in range(1, n_tracks + 1)]
    return list(read_score(path).tracks)


def source(name: str) -> Path:
    if name.startswith("examples/"):
        return EXAMPLES / name.split("/", 1)[1]
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED / name


@pytest.mark.shared
@pytest.mark.parametrize("target", [".ustx", ".musicxml", ".mid"])
@pytest.mark.parametrize("name", REAL + ["examples/sakura.musicxml"])
def test_convert_keeps_notes_lyrics_tempo_and_signatures(name, target, tmp_path):
    src = source(name)
    before = src.read_bytes()
    fmt = ["--format", "ust"] if src.suffix == ".tmp" else []
    out = tmp_path / ("out" + target)
    assert main(["convert", str(src), str(out), "-q", *fmt]) == 0
    assert src.read_bytes() == before
    original = read_score(src, format="ust" if fmt else None)
    again = read_back(out, len(original.tracks))
    assert [notes(t) for t in again] == [notes(t) for t in original.tracks]
    assert [t.name for t in again] == [t.name for t in original.tracks]
    back = read_score(out, ReadOptions(part=1)) if target == ".musicxml" else read_score(out)
    assert [(t.tick, round(t.bpm, 3)) for t in back.tempos] == \
        [(t.tick, round(t.bpm, 3)) for t in original.tempos]
    assert [(s.tick, s.numerator, s.denominator) for s in back.time_signatures] == \
        [(s.tick, s.numerator, s.denominator) for s in original.time_signatures]


@pytest.mark.shared
def test_ust_to_ustx_keeps_the_drawn_pitch_and_vibrato(tmp_path):
    src = source("ust/HelloUtau/test.ust")
    out = tmp_path / "hello.ustx"
    assert main(["convert", str(src), str(out), "-q"]) == 0
    a = read_score(src).tracks[0].notes
    b = read_score(out).tracks[0].notes
    assert len(a) == len(b) == 66
    for x, y in zip(a, b):
        assert [(round(p.offset_ms, 3), round(p.cents, 3), p.shape) for p in x.pitch_points] == \
            [(round(p.offset_ms, 3), round(p.cents, 3), p.shape) for p in y.pitch_points]
        assert x.vibrato == y.vibrato or (x.vibrato is None and y.vibrato.is_off)


def test_convert_refuses_unknown_outputs_and_overwriting_the_input(tmp_path, capsys):
    src = tmp_path / "song.musicxml"
    src.write_bytes((EXAMPLES / "kana_scale.musicxml").read_bytes())
    assert main(["convert", str(src), str(tmp_path / "out.wav")]) == 2
    assert "cannot write 'out.wav'" in capsys.readouterr().err
    assert main(["convert", str(src), str(src)]) == 2
    assert "overwrite the input" in capsys.readouterr().err
    assert main(["convert", str(src), str(tmp_path / "x.data"), "--to", "midi", "-q"]) == 0
    assert read_score(tmp_path / "x.data", format="midi").tracks[0].notes


def test_converting_drawn_pitch_to_musicxml_warns_that_it_is_left_out(tmp_path, capsys):
    ust = tmp_path / "bend.ust"
    ust.write_bytes(b"[#SETTING]\r\nTempo=120\r\n[#0000]\r\nLength=480\r\nLyric=\xe3\x81\x82\r\n"
                    b"NoteNum=60\r\nPBS=-50;-20\r\nPBW=100\r\n")
    assert main(["convert", str(ust), str(tmp_path / "bend.musicxml"), "-q",
                 "--encoding", "utf-8"]) == 0
    assert "pitch curves" in capsys.readouterr().err


# --------------------------------------------------------------------------------------
# Between formats through the registry: nothing is lost or added without a word

REG = default_registry()
KEEP = ReadOptions(keep_tracks_without_lyrics=True)


def _through(project: Project, fmt: str, options: ReadOptions = ReadOptions()) -> Project:
    """``project`` written as MIDI, read, written as ``fmt``, read again."""
    first = REG.read_bytes(_write("midi", project), options, name="song.mid")
    return REG.read_bytes(_write(fmt, first), options, name=f"song.{_EXT[fmt]}")


_EXT = {"midi": "mid", "musicxml": "musicxml", "ustx": "ustx"}


def _write(fmt: str, project: Project) -> bytes:
    return next(w for w in REG.writers if w.name == fmt).write(project)


def _bare(warnings) -> set[str]:
    """Warnings without the file name they start with."""
    return {w.split(": ", 1)[1] for w in warnings}


def test_a_second_lyric_track_comes_back_from_musicxml_as_a_track():
    two = Project((Track("Soprano", (Note(0, 480, 72, "ら"), Note(480, 480, 74, "ら"))),
                   Track("Alto", (Note(0, 960, 67, "あ"),))), tempos=(Tempo(0, 100.0),))
    q = _through(two, "musicxml")
    assert [t.name for t in q.tracks] == ["Soprano", "Alto"]
    assert [(n.pitch, n.lyric) for n in q.tracks[1].notes] == [(67, "あ")]
    assert not any("Alto" in w for w in q.warnings)
    alto = REG.read_bytes(_write("musicxml", two), ReadOptions(part=2), name="x.musicxml")
    assert [(n.pitch, n.lyric) for n in alto.tracks[0].notes] == [(67, "あ")]


MELODY = Project((Track("Melody", (Note(0, 480, 60, NO_LYRIC), Note(480, 240, 62, NO_LYRIC))),),
                 tempos=(Tempo(0, 120.0),))


def test_notes_without_lyrics_survive_each_writer():
    midi_bytes = _write("midi", MELODY)
    read = REG.read_bytes(midi_bytes, KEEP, name="m.mid")
    assert [n.lyric for n in read.tracks[0].notes] == [NO_LYRIC, NO_LYRIC]
    xml = _write("musicxml", read)
    assert b"<lyric" not in xml and b"<slur" not in xml
    back = REG.read_bytes(xml, KEEP, name="m.musicxml")
    assert [(n.start_ticks, n.lyric) for n in back.tracks[0].notes] == \
        [(0, NO_LYRIC), (480, NO_LYRIC)]
    # OpenUtau gives a note without a lyric its default lyric, 'a': so does our .ustx
    ustx = REG.read_bytes(_write("ustx", read), KEEP, name="m.ustx")
    assert [(n.start_ticks, n.lyric) for n in ustx.tracks[0].notes] == [(0, "a"), (480, "a")]


def test_a_melisma_after_a_short_gap_converts_to_ustx_without_new_warnings():
    gap = Project((Track("Vocal", (Note(0, 400, 60, "ら"), Note(480, 480, 62, CONTINUATION),
                                   Note(960, 480, 64, "り"), Note(1500, 300, 65, CONTINUATION))),),
                  tempos=(Tempo(0, 120.0),))
    first = REG.read_bytes(_write("midi", gap), name="g.mid")
    again = REG.read_bytes(_write("ustx", first), name="g.ustx")
    assert [(n.start_ticks, n.duration_ticks, n.lyric) for n in again.tracks[0].notes] == \
        [(n.start_ticks, n.duration_ticks, n.lyric) for n in first.tracks[0].notes]
    assert first.warnings == () and again.warnings == ()


@pytest.mark.shared
def test_real_midi_files_convert_to_ustx_without_new_warnings():
    files = sorted((SHARED / "midi").rglob("*.mid")) if SHARED.is_dir() else []
    if not files:
        pytest.skip("no MIDI files in ../shared/data/midi")
    for f in files:
        first = REG.read(f, KEEP)
        if not first.tracks:
            continue
        again = REG.read_bytes(_write("ustx", first), KEEP, name="again.ustx")
        assert not _bare(again.warnings) - _bare(first.warnings), f
        assert [[(n.start_ticks, n.duration_ticks, n.pitch, n.lyric or "a") for n in t.notes]
                for t in again.tracks] == \
            [[(n.start_ticks, n.duration_ticks, n.pitch, n.lyric or "a") for n in t.notes]
             for t in first.tracks], f
