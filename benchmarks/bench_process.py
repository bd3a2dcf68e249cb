"""Whole processes, as a user meets them: ``utagoe render`` against a Sinsy process.

    .venv/bin/python benchmarks/bench_process.py [--runs 3] [--songs 'examples/*.musicxml']
        [--shared] [--json out.json]

For each score it runs, interleaved and ``--runs`` times each:

* ``utagoe render SCORE -o OUT.wav -j 1`` pinned to one core,
* the same with ``-j 2`` on two cores,
* a Sinsy process pinned to one core: ``python -c`` that imports pysinsy,
  synthesizes the score (a copy that marks melismas Sinsy's way, as
  bench_render.py does) and writes the WAV with soundfile, as our command does.

Each process is timed whole (start-up, imports, parsing, writing): wall time,
CPU time (user + system, the process and the workers it waited for) and peak
memory (largest RSS in the process tree, from ``wait4``). Medians are printed
with the ratios utagoe / Sinsy, then the warm figures inside one process
(``utagoe.render`` and ``pysinsy.synthesize``, each the best of two after a
first call) beside them. The first score is always a one-note song, the
cold-start case. Last, each side's CPU time is fitted as a fixed cost plus a
cost per second of audio, and each part given as a ratio to Sinsy's.

``--shared`` adds the MusicXML files of ../shared/data/musicxml; those utagoe
does not sing with its default options (today: all of them, their lyrics are
English, German, Italian ...) or that Sinsy cannot be given (compressed .mxl)
are listed with the reason.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_render import sinsy_copy  # noqa: E402
from examples import solo_songs  # noqa: E402

PY = sys.executable
UTAGOE = [PY, "-m", "utagoe"]
ONE_NOTE = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1"><part-list><score-part id="P1"><part-name>V</part-name></score-part></part-list>
<part id="P1"><measure number="1"><attributes><divisions>1</divisions><time><beats>4</beats>
<beat-type>4</beat-type></time></attributes><sound tempo="120"/><note><pitch><step>A</step><octave>4</octave>
</pitch><duration>4</duration><type>whole</type><lyric><text>ら</text></lyric></note></measure></part></score-partwise>
"""
SINSY = ("import sys, numpy as np, pysinsy, soundfile\n"
         "wav, sr = pysinsy.synthesize(sys.argv[1])\n"
         "soundfile.write(sys.argv[2], np.asarray(wav, dtype=np.float64) / 32768.0, sr, subtype='PCM_16')\n")


def run_process(cmd: list[str], *, cores: int) -> dict:
    """Wall, CPU and peak RSS of one whole process (and the workers it waited for)."""
    def pin():
        os.sched_setaffinity(0, set(range(cores)))
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)   # a user's installed package has its bytecode
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=pin, env=env)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        last = [ln for ln in err.strip().splitlines() if ln.strip()]
        raise RuntimeError(f"exit status {proc.returncode}: {(last[0] if last else '')[:160]}")
    return dict(wall_s=wall, cpu_s=ru.ru_utime + ru.ru_stime, peak_mib=ru.ru_maxrss / 1024.0)


def median_of(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def audio_seconds(wav: Path) -> float:
    import soundfile
    info = soundfile.info(str(wav))
    return info.frames / info.samplerate


def warm_figures(score: str, sinsy_score: Path) -> dict:
    """Best of two warm renders inside one process, each after a first call."""
    code = (
        "import sys, time, json\n"
        "import utagoe, pysinsy\n"
        "p = utagoe.load(sys.argv[1]); utagoe.render(p)\n"
        "ours = []\n"
        "for _ in range(2):\n"
        "    t = time.perf_counter(); utagoe.render(utagoe.load(sys.argv[1])); ours.append(time.perf_counter() - t)\n"
        "pysinsy.synthesize(sys.argv[2]); theirs = []\n"
        "for _ in range(2):\n"
        "    t = time.perf_counter(); pysinsy.synthesize(sys.argv[2]); theirs.append(time.perf_counter() - t)\n"
        "print(json.dumps(dict(utagoe_s=min(ours), sinsy_s=min(theirs))))\n")
    def pin():
        os.sched_setaffinity(0, {0})
    out = subprocess.run([PY, "-c", code, score, str(sinsy_score)], capture_output=True, text=True,
                         preexec_fn=pin, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-400:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def shared_scores() -> tuple[list[str], list[str]]:
    """The MusicXML files beside the project that utagoe sings, and the others with why."""
    import utagoe
    from utagoe.errors import UtagoeError

    found = sorted(p for ext in ("xml", "musicxml", "mxl")
                   for p in glob.glob(str(ROOT.parent / "shared" / "data" / "musicxml" / "**" / f"*.{ext}"),
                                      recursive=True))
    sings, not_sung = [], []
    for path in found:
        try:
            utagoe.load(path)
            sings.append(path)
        except UtagoeError as exc:
            not_sung.append(f"{Path(path).name}: {str(exc).splitlines()[0][:100]}")
    return sings, not_sung


def line_fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares ``y = a + b x``: (a, b)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def print_fit(rows: list[dict]) -> None:
    """Each command's CPU time as a fixed cost plus a cost per second of audio
    (a line through every score, the one note included), for utagoe -j 1 and
    Sinsy: where a ratio of 0.2 is out of reach, this says which part is."""
    xs = [r["audio_s"] for r in rows]
    a_u, b_u = line_fit(xs, [r["utagoe_j1"]["cpu_s"] for r in rows])
    a_s, b_s = line_fit(xs, [r["sinsy"]["cpu_s"] for r in rows])
    print(f"CPU time as fixed + per second of audio (a line through {len(rows)} scores): "
          f"utagoe {a_u:.3f} s + {b_u * 1000:.2f} ms/s, Sinsy {a_s:.3f} s + {b_s * 1000:.2f} ms/s; "
          f"the fixed cost is {a_u / a_s:.2f} of Sinsy's, the cost per second {b_u / b_s:.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--songs", default=str(ROOT / "examples" / "*.musicxml"))
    ap.add_argument("--shared", action="store_true", help="add ../shared/data/musicxml")
    ap.add_argument("--no-warm", action="store_true", help="skip the in-process figures")
    ap.add_argument("--json", help="write every figure here")
    args = ap.parse_args()
    if len(os.sched_getaffinity(0)) < 2:
        print("note: fewer than 2 cores; -j 2 runs share one", file=sys.stderr)

    work = Path(tempfile.mkdtemp(prefix="bench-process-"))
    one = work / "one_note.musicxml"
    one.write_text(ONE_NOTE, encoding="utf-8")
    scores = [str(one)] + solo_songs(args.songs)
    if args.shared:
        sings, not_sung = shared_scores()
        scores += sings
        for line in not_sung:
            print(f"not sung: {line}")
    # warm the disk and the voice's compact copy, as on a user's second command
    subprocess.run(UTAGOE + ["render", str(one), "-o", str(work / "warm.wav")], check=True,
                   capture_output=True)

    rows = []
    print(f"{'score':28s} {'audio':>7s} | {'utagoe -j1 wall/cpu/MiB':>24s} | {'-j2 wall':>8s} | "
          f"{'Sinsy wall/cpu/MiB':>20s} | {'wall':>5s} {'cpu':>5s} {'j2':>5s} | warm ratio")
    for score in scores:
        name = Path(score).stem
        try:
            scopy = sinsy_copy(score, work / f"{name}.sinsy.xml")
        except Exception as exc:   # e.g. a compressed .mxl, which Sinsy does not read either
            print(f"{name:28s} skipped: no copy for Sinsy ({type(exc).__name__}: {exc})")
            continue
        out = work / f"{name}.wav"
        j1, j2, sy = [], [], []
        try:
            for _ in range(args.runs):
                j1.append(run_process(UTAGOE + ["render", score, "-o", str(out), "-j", "1"], cores=1))
                j2.append(run_process(UTAGOE + ["render", score, "-o", str(out), "-j", "2"], cores=2))
                sy.append(run_process([PY, "-c", SINSY, str(scopy), str(work / f"{name}.sinsy.wav")], cores=1))
        except RuntimeError as exc:
            print(f"{name:28s} skipped: {exc}")
            continue
        m1, m2, ms = median_of(j1), median_of(j2), median_of(sy)
        warm = None if args.no_warm else warm_figures(score, scopy)
        row = dict(score=name, audio_s=audio_seconds(out), utagoe_j1=m1, utagoe_j2=m2, sinsy=ms,
                   wall_ratio=m1["wall_s"] / ms["wall_s"], cpu_ratio=m1["cpu_s"] / ms["cpu_s"],
                   j2_wall_ratio=m2["wall_s"] / ms["wall_s"], warm=warm,
                   warm_ratio=None if warm is None else warm["utagoe_s"] / warm["sinsy_s"])
        rows.append(row)
        wr = "" if warm is None else f"{row['warm_ratio']:.2f} ({warm['utagoe_s']:.2f}/{warm['sinsy_s']:.2f} s)"
        print(f"{name[:28]:28s} {row['audio_s']:6.1f}s | {m1['wall_s']:6.2f} {m1['cpu_s']:6.2f} {m1['peak_mib']:7.0f}  | "
              f"{m2['wall_s']:7.2f}  | {ms['wall_s']:6.2f} {ms['cpu_s']:6.2f} {ms['peak_mib']:5.0f} | "
              f"{row['wall_ratio']:5.2f} {row['cpu_ratio']:5.2f} {row['j2_wall_ratio']:5.2f} | {wr}", flush=True)
    songs = [r for r in rows if r["score"] != "one_note"]
    if songs:
        tot = lambda key, sub, f: sum(r[key][f] for r in songs)  # noqa: E731
        print(f"\nall songs but the one note, summed: wall {tot('utagoe_j1', 0, 'wall_s'):.1f} s vs Sinsy "
              f"{tot('sinsy', 0, 'wall_s'):.1f} s = {tot('utagoe_j1', 0, 'wall_s') / tot('sinsy', 0, 'wall_s'):.2f}; "
              f"-j 2: {tot('utagoe_j2', 0, 'wall_s') / tot('sinsy', 0, 'wall_s'):.2f}; "
              f"worst single song {max(r['wall_ratio'] for r in songs):.2f}")
        if len(rows) >= 3:
            print_fit(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    print(f"renders in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
