"""Paths written inside project files (UTAU VoiceDir, OpenUtau cache and output
folders, audio parts) are kept as text: reading, inspecting, converting and
rendering such a project opens nothing but the file the user named."""
from __future__ import annotations

import os
import sys

import pytest

from utagoe.cli import main

_SEEN: list[str] = []
_WATCH: list[str] = []   # folders whose every touch is recorded while a test runs


def _hook(event: str, args) -> None:
    if not _WATCH or event not in ("open", "os.listdir", "os.scandir", "os.chdir",
                                   "os.mkdir", "os.remove", "os.rename", "shutil.copyfile"):
        return
    if not args:
        return
    target = args[0]
    if isinstance(target, int) or target is None:
        return
    try:
        text = os.fsdecode(target)
    except TypeError:
        return
    full = os.path.abspath(text)
    if any(full.startswith(w) for w in _WATCH):
        _SEEN.append(f"{event} {full}")


sys.addaudithook(_hook)


@pytest.fixture
def watch(tmp_path):
    secret = tmp_path / "elsewhere"
    secret.mkdir()
    (secret / "oto.ini").write_text("a.wav=a,0,0,0,0,0\n")
    (secret / "character.txt").write_text("name=x\n")
    _SEEN.clear()
    _WATCH[:] = [str(secret)]
    yield secret
    _WATCH.clear()


def _ust(voice_dir: str, cache_dir: str) -> bytes:
    return ("[#VERSION]\r\nUST Version1.2\r\nCharset=UTF-8\r\n[#SETTING]\r\nTempo=120.00\r\n"
            f"ProjectName=paths\r\nVoiceDir={voice_dir}\r\nCacheDir={cache_dir}\r\n"
            f"OutFile={voice_dir}/out.wav\r\nTool1={voice_dir}/wavtool.exe\r\n"
            f"Tool2={voice_dir}/resampler.exe\r\nMode2=True\r\n"
            "[#0000]\r\nLength=480\r\nLyric=R\r\nNoteNum=60\r\n"
            "[#0001]\r\nLength=480\r\nLyric=か\r\nNoteNum=60\r\n"
            "[#0002]\r\nLength=960\r\nLyric=な\r\nNoteNum=62\r\n"
            "[#TRACKEND]\r\n").encode("utf-8")


def _ustx(folder: str) -> bytes:
    return f"""name: paths
ustx_version: '0.6'
resolution: 480
bpm: 120
beat_per_bar: 4
beat_unit: 4
output_dir: {folder}/out
cache_dir: {folder}/cache
time_signatures:
- bar_position: 0
  beat_per_bar: 4
  beat_unit: 4
tempos:
- position: 0
  bpm: 120
tracks:
- singer: {folder}
  phonemizer: OpenUtau.Core.DefaultPhonemizer
  renderer_settings: {{}}
  mute: false
  solo: false
  volume: 0
voice_parts:
- name: p
  track_no: 0
  position: 480
  notes:
  - position: 0
    duration: 480
    tone: 60
    lyric: か
  - position: 480
    duration: 960
    tone: 62
    lyric: な
  curves: []
wave_parts:
- name: audio
  track_no: 0
  position: 0
  relative_path: {folder}/song.wav
""".encode("utf-8")


@pytest.mark.parametrize("kind", ["ust-absolute", "ust-relative", "ustx-absolute"])
def test_paths_inside_project_files_are_never_followed(kind, watch, tmp_path, capsys):
    work = tmp_path / "work"
    work.mkdir()
    if kind == "ust-absolute":
        src = work / "song.ust"
        src.write_bytes(_ust(str(watch), str(watch / "cache")))
    elif kind == "ust-relative":
        src = work / "song.ust"
        src.write_bytes(_ust("../elsewhere", "../elsewhere/cache"))
    else:
        src = work / "song.ustx"
        src.write_bytes(_ustx(str(watch)))
    before = src.read_bytes()
    cwd = os.getcwd()
    os.chdir(work)   # relative paths in the file would now point at the watched folder
    try:
        assert main(["info", str(src)]) == 0
        assert main(["convert", str(src), str(work / "out.musicxml"), "-q"]) == 0
        assert main(["render", str(src), "-o", str(work / "out.wav"), "-q", "-j", "1"]) == 0
    finally:
        os.chdir(cwd)
    assert _SEEN == []
    assert src.read_bytes() == before
    assert sorted(p.name for p in watch.iterdir()) == ["character.txt", "oto.ini"]
    assert (work / "out.wav").stat().st_size > 1000
