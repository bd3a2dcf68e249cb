"""Songs with several tracks: does rendering N tracks on 2 cores take less than N
times one track?

    .venv/bin/python benchmarks/bench_tracks.py [--score examples/sakura.musicxml]
        [--tracks 4] [--runs 3] [--json out.json]

From the score's first track it writes, in a temporary folder, a one-track
project and an N-track one (the same notes a third, a fifth and an octave
apart, each track with another built-in singer, as a choir would be), then
times whole ``utagoe render`` commands, interleaved, ``--runs`` times each:

* one track, ``-j 2`` on two cores (the baseline);
* N tracks, ``-j 2`` on two cores;
* N tracks, ``-j 1`` on one core.

It prints the medians and the ratio of N tracks on 2 cores to N times one
track on 2 cores (the target: below 1), and to N tracks on one core. With
``--score`` naming a score that already has several parts (the chorale
example), it renders that as it is, against its first part alone.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_process import UTAGOE, run_process  # noqa: E402

#: the intervals and singers of the made-up choir's tracks
VOICES = ((0, "song070"), (-3, "song070-bright"), (-7, "song070-deep"), (-12, "song070-deep"),
          (-5, "song070"), (4, "song070-bright"))


def projects(score: str, n: int, folder: Path) -> tuple[Path, Path, list[str]]:
    """The one-track and the N-track project files, and the N-track one's --singer options."""
    import utagoe
    from utagoe.model import Track

    song = utagoe.load(score)
    one = replace(song, tracks=song.tracks[:1])
    if len(song.tracks) >= 2:
        many, singers = song, [f"{i}={VOICES[(i - 1) % len(VOICES)][1]}"
                               for i in range(1, len(song.tracks) + 1)]
    else:
        lead = song.tracks[0]
        tracks = []
        for k in range(n):
            shift, _ = VOICES[k % len(VOICES)]
            notes = tuple(replace(x, pitch=min(127, max(0, x.pitch + shift))) for x in lead.notes)
            tracks.append(Track(f"voice {k + 1}", notes))
        many = replace(song, tracks=tuple(tracks))
        singers = [f"{k + 1}={VOICES[k % len(VOICES)][1]}" for k in range(n)]
    a, b = folder / "one.ustx", folder / "many.ustx"
    utagoe.save(one, a)
    utagoe.save(many, b)
    return a, b, singers


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--score", default=str(ROOT / "examples" / "sakura.musicxml"))
    ap.add_argument("--tracks", type=int, default=4)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        one, many, singers = projects(args.score, args.tracks, folder)
        n = len(singers)
        sing = [x for s in singers for x in ("--singer", s)]
        cases = {
            "1 track, -j 2": (UTAGOE + ["render", str(one), "-o", str(folder / "a.wav"), "-j", "2", "-q"], 2),
            f"{n} tracks, -j 2": (UTAGOE + ["render", str(many), "-o", str(folder / "b.wav"), "-j", "2",
                                            "-q", *sing], 2),
            f"{n} tracks, -j 1": (UTAGOE + ["render", str(many), "-o", str(folder / "c.wav"), "-j", "1",
                                            "-q", *sing], 1),
        }
        runs: dict[str, list[dict]] = {k: [] for k in cases}
        for _ in range(args.runs):
            for name, (cmd, cores) in cases.items():
                runs[name].append(run_process(cmd, cores=cores))
    med = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in runs.items()}
    base = med["1 track, -j 2"]["wall_s"]
    print(f"score: {args.score}, {n} tracks, medians of {args.runs} whole commands")
    for k, v in med.items():
        print(f"  {k:16s} wall {v['wall_s']:6.2f} s  CPU {v['cpu_s']:6.2f} s  peak {v['peak_mib']:5.0f} MiB")
    ratio = med[f"{n} tracks, -j 2"]["wall_s"] / (n * base)
    serial = med[f"{n} tracks, -j 2"]["wall_s"] / med[f"{n} tracks, -j 1"]["wall_s"]
    print(f"{n} tracks on 2 cores / ({n} x 1 track on 2 cores): {ratio:.2f} (target: below 1)")
    print(f"{n} tracks on 2 cores / {n} tracks on 1 core: {serial:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(medians=med, ratio=ratio, parallel=serial), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
