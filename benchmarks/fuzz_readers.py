"""Throw broken input at every score reader and count what happens.

    python benchmarks/fuzz_readers.py [--seconds-per-reader 60] [--data ../shared/data]

For every real file of every format under ``--data``: truncation at every byte
position, then seeded random mutations (byte flips, deletions, insertions,
numbers replaced with absurd values) and random bytes, until the time budget of
each reader is spent. Every case must end in a Project or a ScoreFormatError
within the time limit; anything else is printed and counted as a failure. The
counts go into the issue notes; the test suite runs a smaller, fixed sample.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))  # tests/fuzzing.py: the mutations the suite uses too

from utagoe.errors import ScoreFormatError  # noqa: E402
from fuzzing import mutate  # noqa: E402
from utagoe.formats import ReadOptions, default_registry  # noqa: E402

SLOW_S = 5.0
def run_case(registry, reader, data: bytes, name: str, lenient: bool, stats: dict) -> None:
    t0 = time.perf_counter()
    try:
        reader.read(data, path=name, options=ReadOptions(lenient=lenient))
        stats["ok"] += 1
    except ScoreFormatError:
        stats["error"] += 1
    except Exception:
        stats["crash"] += 1
        if stats["crash"] <= 5:
            print(f"  CRASH {reader.name} {name} lenient={lenient} len={len(data)}")
            traceback.print_exc(limit=3)
    el = time.perf_counter() - t0
    stats["max_s"] = max(stats["max_s"], el)
    if el > SLOW_S:
        stats["slow"] += 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data"))
    ap.add_argument("--seconds-per-reader", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--render", type=int, default=0, metavar="N",
                    help="also sing N mutated files that read, with lenient lyrics")
    ap.add_argument("--only", default=None, help="fuzz only this reader (e.g. ustx)")
    args = ap.parse_args()
    registry = default_registry()
    data_dir = Path(args.data)
    rng = random.Random(args.seed)
    total_fail = 0
    print(f"{'reader':10s} {'files':>5s} {'cases':>8s} {'result':>8s} {'error':>8s} "
          f"{'crash':>6s} {'slow':>5s} {'max s':>6s}")
    for reader in registry.readers:
        if args.only and reader.name != args.only:
            continue
        files = sorted(p for p in data_dir.rglob("*") if p.is_file()
                       and registry.by_extension(p) is reader)
        stats = {"ok": 0, "error": 0, "crash": 0, "slow": 0, "max_s": 0.0}
        blobs = [(p.name, p.read_bytes()) for p in files]
        for name, data in blobs:               # every truncation, strict
            for k in range(len(data)):
                run_case(registry, reader, data[:k], name, False, stats)
        deadline = time.monotonic() + args.seconds_per_reader
        while time.monotonic() < deadline:     # mutations, strict and lenient
            if blobs and rng.random() < 0.9:
                name, data = rng.choice(blobs)
                case = mutate(data, rng)
            else:
                name, case = "random.bin", rng.randbytes(rng.randint(0, 2000))
            run_case(registry, reader, case, name, rng.random() < 0.5, stats)
        cases = stats["ok"] + stats["error"] + stats["crash"]
        total_fail += stats["crash"] + stats["slow"]
        print(f"{reader.name:10s} {len(files):5d} {cases:8d} {stats['ok']:8d} {stats['error']:8d} "
              f"{stats['crash']:6d} {stats['slow']:5d} {stats['max_s']:6.2f}")
    if args.render:
        total_fail += render_mutants(registry, data_dir, rng, args.render)
    return 1 if total_fail else 0


def render_mutants(registry, data_dir: Path, rng: random.Random, count: int) -> int:
    """Sing ``count`` mutated real files that read (lenient); count what happens."""
    from utagoe.errors import UtagoeError
    from utagoe.rendering.engine import render_project
    from utagoe.settings import RenderSettings
    from utagoe.voices.registry import default_voices

    voices = default_voices(plugins=False)
    settings = RenderSettings(lenient_lyrics=True, max_duration_s=120.0)
    blobs = [(p, p.read_bytes()) for p in sorted(data_dir.rglob("*"))
             if p.is_file() and registry.by_extension(p) is not None
             and p.stat().st_size < 100_000]
    stats = {"sung": 0, "refused": 0, "crash": 0, "bad_audio": 0}
    tried = 0
    while tried < count:
        path, data = rng.choice(blobs)
        case = mutate(data, rng)
        try:
            project = registry.read_bytes(case, ReadOptions(lenient=True), name=path.name)
        except ScoreFormatError:
            continue
        tried += 1
        try:
            mix = render_project(project, settings=settings, voices=voices).audio
            x = mix.samples
            if x.size and (not np.isfinite(x).all() or np.abs(x).max() > 1.0):
                stats["bad_audio"] += 1
            else:
                stats["sung"] += 1
        except UtagoeError:
            stats["refused"] += 1
        except Exception:
            stats["crash"] += 1
            if stats["crash"] <= 5:
                print(f"  RENDER CRASH from {path.name}")
                traceback.print_exc(limit=4)
    print(f"rendered {count} mutated files that read: " +
          ", ".join(f"{k} {v}" for k, v in stats.items()))
    return stats["crash"] + stats["bad_audio"]


if __name__ == "__main__":
    sys.exit(main())
