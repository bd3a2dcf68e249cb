"""The edges a careless or hostile user reaches: each ends in one clear line and
exit 2 (or the signal's status), with nothing left behind."""
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import utagoe
from utagoe.cli import main

ROOT = Path(__file__).resolve().parents[1]

SONG = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1"><work><work-title>{title}</work-title></work>
<part-list><score-part id="P1"><part-name>{part}</part-name></score-part></part-list>
<part id="P1"><measure number="1"><attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time></attributes>
<direction><sound tempo="{bpm}"/></direction>
<note><rest/><duration>1</duration></note>
<note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration><lyric><text>う</text></lyric></note>
<note><pitch><step>D</step><octave>5</octave></pitch><duration>1</duration><lyric><text>た</text></lyric></note>
<note><pitch><step>E</step><octave>5</octave></pitch><duration>1</duration><lyric><text>た</text></lyric></note>
</measure></part></score-partwise>
"""


def song(tmp_path, name="song.musicxml", title="t", part="Voice", bpm="120"):
    p = tmp_path / name
    p.write_text(SONG.format(title=title, part=part, bpm=bpm), encoding="utf-8")
    return p


def long_song(tmp_path, measures=60):
    """A song of ``measures`` 4/4 bars at 120 bpm, a phrase per bar."""
    body = []
    for m in range(1, measures + 1):
        notes = "".join(
            f"<note><pitch><step>{s}</step><octave>4</octave></pitch><duration>1</duration>"
            f"<lyric><text>{ly}</text></lyric></note>" for s, ly in zip("CDE", "かきく"))
        body.append(f'<measure number="{m}">' + (
            "<attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type>"
            "</time></attributes><direction><sound tempo=\"120\"/></direction>" if m == 1 else "")
            + notes + "<note><rest/><duration>1</duration></note></measure>")
    p = tmp_path / "long.musicxml"
    p.write_text('<?xml version="1.0" encoding="UTF-8"?><score-partwise version="3.1"><part-list>'
                 '<score-part id="P1"><part-name>V</part-name></score-part></part-list><part id="P1">'
                 + "".join(body) + "</part></score-partwise>", encoding="utf-8")
    return p


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("utagoe: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def no_render(monkeypatch):
    """Fail the test if a render starts: output problems must be found before."""
    def boom(*a, **k):
        raise AssertionError("rendered before checking the output path")
    monkeypatch.setattr(utagoe, "render", boom)


@pytest.mark.parametrize("make, needle", [
    (lambda d: d / "missing" / "o.wav", "does not exist"),
    (lambda d: (d / "x.wav").mkdir() or d / "x.wav", "is a folder"),
    (lambda d: (d / "file").write_text("") or d / "file" / "o.wav", "not a folder"),
    (lambda d: os.symlink(d / "l.wav", d / "l.wav") or d / "l.wav", "symlink loop"),
])
def test_output_path_problems_are_found_before_rendering(tmp_path, capsys, no_render, make, needle):
    src = song(tmp_path)
    out = make(tmp_path)
    assert main(["render", str(src), "-o", str(out)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert needle in line and str(out) in line and ".utagoe-" not in line


def test_the_output_may_not_be_the_input_even_through_a_link(tmp_path, capsys, no_render):
    src = song(tmp_path)
    os.symlink(src, tmp_path / "o.wav")
    before = src.read_bytes()
    assert main(["render", str(src), "-o", str(tmp_path / "o.wav")]) == 2
    assert "would overwrite the input" in one_error_line(capsys.readouterr().err)
    assert src.read_bytes() == before


def test_convert_checks_its_output_before_reading(tmp_path, capsys):
    src = song(tmp_path)
    assert main(["convert", str(src), str(tmp_path / "nofolder" / "o.ustx")]) == 2
    assert "does not exist" in one_error_line(capsys.readouterr().err)


def test_written_files_get_the_umask_mode_also_when_replacing(tmp_path, capsys):
    src = song(tmp_path)
    old = os.umask(0o022)
    try:
        for out in (tmp_path / "o.wav", tmp_path / "o.ustx"):
            out.write_bytes(b"old")
            out.chmod(0o600)
            cmd = ["render", str(src), "-o", str(out), "-q"] if out.suffix == ".wav" else \
                ["convert", str(src), str(out), "-q"]
            assert main(cmd) == 0
            assert stat.S_IMODE(out.stat().st_mode) == 0o644
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.ustx", "o.wav", "song.musicxml"]


def test_a_long_but_valid_output_name_works(tmp_path, capsys):
    src = song(tmp_path)
    out = tmp_path / ("n" * 240 + ".wav")
    assert main(["render", str(src), "-o", str(out), "-q"]) == 0
    assert out.stat().st_size > 1000


def test_a_symlink_loop_as_input_is_one_line(tmp_path, capsys):
    loop = tmp_path / "loop.musicxml"
    os.symlink(loop, loop)
    for cmd in (["render", str(loop), "-o", str(tmp_path / "o.wav")], ["info", str(loop)]):
        assert main(cmd) == 2
        assert "symlink" in one_error_line(capsys.readouterr().err)


def test_a_full_disk_while_saving_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    import errno

    import utagoe.fileio as fileio

    src = song(tmp_path)
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.f, name)

    monkeypatch.setattr(fileio.os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
    assert main(["render", str(src), "-o", str(tmp_path / "o.wav"), "-q"]) == 2
    assert "o.wav: no space left on the disk" in one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.musicxml"]


def test_info_reads_a_pipe_once(tmp_path):
    src = song(tmp_path)
    r = subprocess.run([sys.executable, "-m", "utagoe", "info", "/dev/stdin"], cwd=ROOT,
                       input=src.read_bytes(), capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert b"(musicxml)" in r.stdout and b"3 notes" in r.stdout


@pytest.mark.parametrize("cmd", [["info"], ["render", "-o", "{d}/o.wav"], ["convert", "{d}/o.ustx"]])
def test_a_fifo_without_a_writer_does_not_hang(tmp_path, cmd):
    fifo = tmp_path / "song.musicxml"
    os.mkfifo(fifo)
    args = [cmd[0], str(fifo)] + [a.format(d=tmp_path) for a in cmd[1:]]
    r = subprocess.run([sys.executable, "-m", "utagoe", *args], cwd=ROOT, capture_output=True,
                       timeout=120, text=True)
    assert r.returncode == 2
    assert "empty" in one_error_line(r.stderr)


EVIL_USTX = """ustx_version: '0.7'
name: "evil\\e[31m\\nfile: forged.ust"
resolution: 480
bpm: 120
tracks:
- {singer: "Te\\e[2Jto", track_name: "lead\\e[2J\\nfile: x", mute: false, volume: 0, pan: 0}
voice_parts:
- name: a
  track_no: 0
  position: 0
  notes:
  - {position: 0, duration: 480, tone: 60, lyric: "\\e[5mか"}
"""


def test_titles_and_track_names_are_shown_escaped(tmp_path, capsys):
    src = tmp_path / "evil.ustx"
    src.write_text(EVIL_USTX, encoding="utf-8")
    assert main(["info", str(src)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "title: evil\\x1b[31m\\nfile: forged.ust" in out
    assert "'lead\\x1b[2J\\nfile: x'" in out and "'Te\\x1b[2Jto'" in out
    assert not any(line.startswith("file: forged") or line.startswith("file: x")
                   for line in out.splitlines())
    assert main(["render", str(src), "-o", str(tmp_path / "o.wav"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[5m" in err


def test_jobs_are_capped_and_the_bar_is_only_drawn_on_a_terminal(tmp_path, capsys):
    src = long_song(tmp_path, measures=10)
    assert main(["render", str(src), "-o", str(tmp_path / "o.wav"), "-j", "100000"]) == 0
    err = capsys.readouterr().err
    assert "rendering [" not in err and "of real time" in err
    assert main(["render", str(src), "-o", str(tmp_path / "o.wav"), "--progress", "-j", "1"]) == 0
    assert "rendering [" in capsys.readouterr().err
    assert main(["render", str(src), "-o", str(tmp_path / "o.wav"), "-j", "0"]) == 2
    assert "at least 1" in one_error_line(capsys.readouterr().err)


def _children(pid: int) -> set[int]:
    out = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir() or os.cpu_count() == 1,
                    reason="needs /proc and two cores to see the worker processes")
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_a_signal_stops_the_workers_and_leaves_no_file(tmp_path, signame):
    src = long_song(tmp_path, measures=120)
    out = tmp_path / "o.wav"
    p = subprocess.Popen([sys.executable, "-m", "utagoe", "render", str(src), "-o", str(out),
                          "-j", "2", "-q"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and p.poll() is None:
        workers = _children(p.pid)
        if len(workers) >= 1:   # -j 2: this process and one worker
            break
        time.sleep(0.02)
    assert len(workers) >= 1, "the render finished before its worker was seen"
    p.send_signal(getattr(signal, signame))
    err = p.communicate(timeout=60)[1]
    assert p.returncode == 128 + getattr(signal, signame), err
    assert err.strip() == f"utagoe: stopped by {signame}"
    time.sleep(0.2)
    assert not [w for w in workers if _alive(w)]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["long.musicxml"]
