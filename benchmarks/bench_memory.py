"""Peak memory and wall time of ``utagoe render`` on long songs, in fresh processes.

    .venv/bin/python benchmarks/bench_memory.py [--minutes 5 15 29.5] [--notes 50000] [-j N]

Each song is written as MusicXML into a temporary folder, then the whole
command ``utagoe render song.musicxml -o song.wav`` runs in a subprocess while
this script samples ``/proc`` every 20 ms: the peak resident memory of the
process tree (the command and any worker processes it forks, added up; forked
workers share pages with the parent, so this over-counts: an upper bound) and
the peak proportional set size of the tree (shared pages split between the
processes that share them: what the tree really holds), plus the command's own
peak RSS from the kernel (``ru_maxrss``). Printed per song and per minute of
audio.

Songs: ``--minutes`` repeats ``examples/sakura.musicxml`` (phrases of a few bars
between rests) until the song lasts that long; ``--notes N`` is N short notes
(32nd notes at 240 bpm, sung on vowels, a rest after every 28), under the
command's 30-minute limit. ``--out-dir`` keeps the songs and renders;
``--before DIR`` renders each song first with the copy of the ``utagoe``
package in ``DIR`` (saved before a change), then with this one, and compares
the two files byte for byte.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def repeated_song(minutes: float, path: Path, *, source: Path = ROOT / "examples" / "sakura.musicxml") -> float:
    """``source``'s first track repeated (a bar of rest between copies) to ``minutes``."""
    import utagoe

    p = utagoe.load(source)
    t = p.tracks[0]
    span = t.notes[-1].start_ticks + t.notes[-1].duration_ticks + 1920
    notes = []
    k = 0
    while True:
        nxt = [replace(n, start_ticks=n.start_ticks + k * span) for n in t.notes]
        q = replace(p, tracks=(replace(t, notes=tuple(notes + nxt)),))
        if q.duration_s() > minutes * 60:
            break
        notes.extend(nxt)
        k += 1
    q = replace(p, tracks=(replace(t, notes=tuple(notes)),))
    utagoe.save(q, path)
    return q.duration_s()


def many_notes_song(count: int, path: Path) -> float:
    """``count`` 32nd notes at 240 bpm on vowels, a 32nd-note rest after every 28 notes."""
    import utagoe
    from utagoe.model.score import Note, Project, Tempo, TimeSignature, Track

    vowels = "あいうえお"
    step = 60  # ticks of a 32nd note (480 per quarter)
    notes = []
    pos = 0
    for i in range(count):
        notes.append(Note(pos, step, 60 + (i * 5) % 12, vowels[i % 5]))
        pos += step
        if i % 28 == 27:
            pos += 4 * step
    project = Project(tracks=(Track(name="Voice", notes=tuple(notes)),),
                      tempos=(Tempo(0, 240.0),), time_signatures=(TimeSignature(0, 4, 4),),
                      title="many notes")
    utagoe.save(project, path)
    return utagoe.load(path).duration_s()


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def _kib(pid: int, field: str, file: str) -> int:
    try:
        with open(f"/proc/{pid}/{file}") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def measure(args: list[str], *, period_s: float = 0.02, code: str | None = None,
            timeline_s: float = 0.0) -> dict:
    """Run ``args``; wall time, exit status, peak tree RSS and PSS (MiB), own ru_maxrss (MiB)."""
    t0 = time.perf_counter()
    errf = tempfile.TemporaryFile()
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = os.path.abspath(code)
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=errf, env=env,
                            cwd=os.path.abspath(code) if code else None)
    peak_rss = peak_pss = 0
    timeline: list[tuple[float, float]] = []   # (seconds, peak tree PSS MiB in the window)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        pids = _tree(proc.pid)
        peak_rss = max(peak_rss, sum(_kib(p, "VmRSS:", "status") for p in pids))
        pss = sum(_kib(p, "Pss:", "smaps_rollup") for p in pids)
        peak_pss = max(peak_pss, pss)
        if timeline_s:
            t = time.perf_counter() - t0
            if not timeline or t - timeline[-1][0] >= timeline_s:
                timeline.append((t, pss / 1024))
            else:
                timeline[-1] = (timeline[-1][0], max(timeline[-1][1], pss / 1024))
        time.sleep(period_s)
    wall = time.perf_counter() - t0
    errf.seek(0)
    err = errf.read()
    errf.close()
    rc = os.waitstatus_to_exitcode(status)
    own = usage.ru_maxrss  # the command's own peak (its workers are not in it)
    return dict(rc=rc, wall_s=wall, tree_rss_mib=peak_rss / 1024, tree_pss_mib=peak_pss / 1024,
                maxrss_mib=own / 1024, stderr=err.decode(errors="replace"), timeline=timeline)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, nargs="*", default=[5.0, 15.0, 29.5])
    ap.add_argument("--notes", type=int, nargs="*", default=[])
    ap.add_argument("-j", "--jobs", type=int, default=None, help="the command's -j (default: its own)")
    ap.add_argument("--out-dir", default=None, help="write songs and renders here (kept)")
    ap.add_argument("--tag", default="", help="suffix of the rendered files' names")
    ap.add_argument("--code", default=None,
                    help="a folder holding another copy of the utagoe package to run instead "
                         "(a copy saved before a change: before/after in one run)")
    ap.add_argument("--before", default=None,
                    help="like --code: run each song with that copy first, then with this "
                         "one (or --code), and compare the two files byte for byte")
    ap.add_argument("--timeline", type=float, default=0.0, metavar="S",
                    help="also print the tree's peak PSS in every S seconds of the run")
    args = ap.parse_args()

    folder = Path(args.out_dir) if args.out_dir else Path(tempfile.mkdtemp(prefix="utagoe-mem-"))
    folder.mkdir(parents=True, exist_ok=True)
    songs = []
    for m in args.minutes:
        path = folder / f"song_{m:g}min.musicxml"
        songs.append((f"{m:g} min", path, repeated_song(m, path) if not path.exists() else None))
    for n in args.notes:
        path = folder / f"song_{n}notes.musicxml"
        songs.append((f"{n} notes", path, many_notes_song(n, path) if not path.exists() else None))
    print(f"songs in {folder}")
    import filecmp

    import soundfile as sf

    runs = [("before", args.before), ("after", args.code)] if args.before else [(args.tag, args.code)]
    for name, path, _ in songs:
        path = path.resolve()
        wavs = []
        for tag, code in runs:
            wav = path.with_name(path.stem + (f".{tag}" if tag else "") + ".wav")
            cmd = [sys.executable, "-m", "utagoe", "render", str(path), "-o", str(wav)]
            if args.jobs is not None:
                cmd += ["-j", str(args.jobs)]
            r = measure(cmd, code=code, timeline_s=args.timeline)
            label = f"{name}{f' [{tag}]' if tag else ''}"
            if r["rc"] != 0:
                print(f"{label}: failed ({r['rc']}): {r['stderr'][-800:]}", flush=True)
                continue
            wavs.append(wav)
            dur = sf.info(str(wav)).duration
            mins = dur / 60
            print(f"{label}: {dur:.1f} s of audio, wall {r['wall_s']:.1f} s "
                  f"({r['wall_s'] / dur:.4f} of real time); peak tree PSS {r['tree_pss_mib']:.0f} MiB, "
                  f"tree RSS {r['tree_rss_mib']:.0f} MiB, own ru_maxrss {r['maxrss_mib']:.0f} MiB; "
                  f"PSS per minute of audio {r['tree_pss_mib'] / mins:.1f} MiB", flush=True)
            if args.timeline:
                print("  tree PSS (MiB) over time: " + ", ".join(f"{t:.0f}s {m:.0f}" for t, m in r["timeline"]),
                      flush=True)
        if len(wavs) == 2:
            same = filecmp.cmp(wavs[0], wavs[1], shallow=False)
            print(f"{name}: before and after {'byte-identical' if same else 'DIFFER'}", flush=True)
        if not args.out_dir:
            for w in wavs:
                w.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
