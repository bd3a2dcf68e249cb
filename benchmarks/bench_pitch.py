"""How the automatic pitch sings, measured on the rendered songs, beside what singing
research reports.

    .venv/bin/python benchmarks/bench_pitch.py [--songs examples/*.musicxml]
        [--styles natural expressive plain] [--seed 0] [--score]

Every example song is rendered whole with each pitch style, and its F0 is tracked
from the audio (Praat's autocorrelation pitch through parselmouth, 5 ms; pyworld
harvest if parselmouth is missing). The requested curve (what
``utagoe.expression.pitch`` asked the vocoder for) is measured the same way, so the
two columns show what the model does and what survives the voice and the vocoder:

- per long note: vibrato rate (Hz, from zero crossings of the detrended curve) and
  extent (cents, half peak-to-peak per cycle, the median over cycles), and their
  spread across notes (mean, sd, min, max);
- after upward legato steps: overshoot size (cents above the new note) and how long
  the curve stays more than 5 cents above it (ms);
- transition time (10 %-90 % of the move, ms) by interval size and direction (the
  audio column bridges unvoiced consonants by interpolation, so it is rougher);
- for ``plain``: the F0 sd on long notes (cents), which should be about 0.

``--score`` also runs ../shared/evalkit's scorecard on every render (in-tune share
of mid-note frames, vowel accuracy): slower. This is a benchmark, not a test: it
prints tables and exits non-zero only when a render or the measuring fails.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from examples import solo_songs  # noqa: E402
EVALKIT = ROOT.parent / "shared" / "evalkit" / "score_singing.py"
FRAME_S = 0.005

RESEARCH = """\
What singing research reports (see the docstring of utagoe/expression/pitch.py):
  vibrato rate      about 5.5-6.5 Hz, mean about 6 Hz, rising toward a tone's end (Prame 1994);
                    about 5.5-7.5 Hz (Sundberg 1987); about 6-7 Hz (Seashore 1938);
                    about 5.5-6.5 Hz in Saitou et al.'s model of Japanese singing (2005, 2007)
  vibrato extent    about 70 cents mean, about 35 to over 100 cents (Prame 1997, Western lyric
                    singers); about half a semitone to a semitone (Seashore); pop and Japanese
                    singing narrower: our natural style draws around 32 cents (max 42) and
                    expressive around 40 (max 50), so >= 95 % of mid-note frames stay within 50
                    cents of the written note
  overshoot         about 20-60 cents lasting about 50-150 ms (Saitou et al.: a damped
                    second-order response to the note step, with preparation before it)
  transition time   grows about linearly with the interval (Sundberg 1979; Xu & Sun 2002: whole
                    excursion at maximum speed about 90 + 9 ms/semitone up, 100 + 6 ms/semitone
                    down); a cosine move's 10-90 % time is 0.59 of its whole length
  fine fluctuation  a few cents of low-passed noise (Saitou et al.)"""


def track_f0_midi(samples: np.ndarray, rate_hz: int, n_frames: int) -> np.ndarray:
    """F0 of ``samples`` (MIDI; NaN where unvoiced) on the 5 ms grid from 0."""
    grid = np.arange(n_frames) * FRAME_S
    try:
        import parselmouth

        snd = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=rate_hz)
        pitch = snd.to_pitch_ac(time_step=FRAME_S, pitch_floor=90.0, pitch_ceiling=1100.0)
        t = pitch.xs()
        f = pitch.selected_array["frequency"]
    except ImportError:
        import pyworld

        f, t = pyworld.harvest(samples.astype(np.float64), rate_hz, f0_floor=90.0,
                               f0_ceil=1100.0, frame_period=FRAME_S * 1000)
    midi = np.where(f > 0, 69.0 + 12.0 * np.log2(np.maximum(f, 1e-9) / 440.0), np.nan)
    idx = np.clip(np.round((grid - t[0]) / FRAME_S).astype(int), 0, len(t) - 1)
    out = midi[idx]
    out[(grid < t[0] - FRAME_S) | (grid > t[-1] + FRAME_S)] = np.nan
    return out


def bridge(y: np.ndarray, max_gap: int) -> np.ndarray:
    """``y`` with NaN runs up to ``max_gap`` frames long filled linearly."""
    y = y.copy()
    nan = np.isnan(y)
    if not nan.any() or nan.all():
        return y
    i = 0
    n = len(y)
    while i < n:
        if nan[i]:
            j = i
            while j < n and nan[j]:
                j += 1
            if 0 < i and j < n and j - i <= max_gap:
                y[i:j] = np.interp(np.arange(i, j), [i - 1, j], [y[i - 1], y[j]])
            i = j
        else:
            i += 1
    return y


def vibrato_of(cents: np.ndarray) -> tuple[float, float] | None:
    """(rate Hz, extent cents) of a held stretch of curve, or None if it has no cycles."""
    if len(cents) < 40 or np.isnan(cents).mean() > 0.1:
        return None
    y = bridge(cents, 8)
    if np.isnan(y).any():
        return None
    t = np.arange(len(y)) * FRAME_S
    y = y - np.polyval(np.polyfit(t, y, 1), t)
    y = np.convolve(y, np.ones(3) / 3, mode="same")
    up = np.nonzero((y[:-1] < 0) & (y[1:] >= 0))[0]
    tc = t[up] + (-y[up]) / (y[up + 1] - y[up]) * FRAME_S
    if len(tc) < 3:
        return None
    rate = (len(tc) - 1) / (tc[-1] - tc[0])
    extents = [(y[a:b + 1].max() - y[a:b + 1].min()) / 2 for a, b in zip(up[:-1], up[1:])]
    return float(rate), float(np.median(extents))


def measure(curve: np.ndarray, notes: list, *, long_s: float = 0.8) -> dict:
    """Vibrato, overshoot, transitions and flatness of one F0 curve (MIDI on the grid)."""
    out: dict = {"vibrato": [], "overshoot": [], "transition": defaultdict(list), "flat_sd": []}
    n_frames = len(curve)

    def seg(t0: float, t1: float) -> np.ndarray:
        a, b = max(0, int(round(t0 / FRAME_S))), min(n_frames, int(round(t1 / FRAME_S)))
        return curve[a:max(a, b)]

    for n in notes:
        d = n.end_s - n.start_s
        if d < long_s:
            continue
        c = (seg(n.start_s + max(0.5, 0.4 * d), n.end_s - 0.1) - n.pitch) * 100
        if len(c) >= 40 and np.isnan(c).mean() < 0.1:
            out["flat_sd"].append(float(np.nanstd(c)))
        v = vibrato_of(c)
        if v is not None and v[1] > 3.0:
            out["vibrato"].append(v)
    for a, b in zip(notes, notes[1:]):
        if b.start_s - a.end_s > 0.06 or b.pitch == a.pitch:
            continue
        interval = b.pitch - a.pitch
        if interval > 0 and b.end_s - b.start_s >= 0.3:
            c = (seg(b.start_s - 0.05, b.start_s + min(0.25, 0.5 * (b.end_s - b.start_s)))
                 - b.pitch) * 100
            c = bridge(c, 20)
            if not np.isnan(c).any() and len(c):
                k = int(np.argmax(c))
                peak = float(c[k])
                above = c > 5.0
                i, j = k, k
                while i > 0 and above[i - 1]:
                    i -= 1
                while j < len(c) - 1 and above[j + 1]:
                    j += 1
                out["overshoot"].append((peak, (j - i + 1) * FRAME_S * 1000 if above[k] else 0.0))
        t0 = max(a.start_s + 0.5 * (a.end_s - a.start_s), b.start_s - 0.3)
        t1 = min(b.start_s + 0.5 * (b.end_s - b.start_s), b.start_s + 0.3)
        y = bridge(seg(t0, t1), 30)
        if len(y) < 4 or np.isnan(y).any():
            continue
        y = (y - a.pitch) / interval
        hit = np.nonzero(y >= 0.9)[0]
        if not len(hit) or hit[0] == 0:
            continue
        low = np.nonzero(y[:hit[0]] <= 0.1)[0]
        if not len(low):
            continue
        # the crossings of 10 % and 90 %, linear between frames
        h, lo = int(hit[0]), int(low[-1])
        t90 = h - 1 + (0.9 - y[h - 1]) / (y[h] - y[h - 1])
        t10 = lo + (0.1 - y[lo]) / (y[lo + 1] - y[lo])
        ms = (t90 - t10) * FRAME_S * 1000
        size = abs(interval)
        bucket = "1-2" if size <= 2 else "3-4" if size <= 4 else "5-7" if size <= 7 else "8+"
        out["transition"][("up" if interval > 0 else "down", bucket)].append(ms)
    return out


def stats(values) -> str:
    v = np.asarray(values, dtype=float)
    if not len(v):
        return "     (none)"
    return (f"{v.mean():6.2f} sd {v.std():5.2f} min {v.min():6.2f} max {v.max():6.2f} "
            f"(n={len(v)})")


def scorecard(wav: Path, score: str) -> dict | None:
    if not EVALKIT.exists():
        return None
    r = subprocess.run([sys.executable, str(EVALKIT), str(wav), score, "--crepe", "none"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"  scorecard failed: {r.stderr.strip()[-300:]}")
        return None
    card = json.loads(r.stdout)
    return {"in_tune_pct": card["pitch"]["harvest"]["frames_within_50c_pct"],
            "vowel_accuracy": card["vowels"].get("accuracy")}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--songs", nargs="*",
                    default=solo_songs())
    ap.add_argument("--styles", nargs="*", default=["natural", "expressive", "plain"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--score", action="store_true", help="also run the scorecard (slower)")
    args = ap.parse_args()

    import utagoe
    from utagoe.expression.pitch import PitchSettings
    from utagoe.rendering.engine import render_project
    from utagoe.rendering.plan import plan_render
    from utagoe.settings import RenderSettings
    from utagoe.voices.registry import default_voices

    voices = default_voices()
    voices.get()
    tmp = Path(tempfile.mkdtemp(prefix="utagoe-bench-pitch-"))
    failures = 0
    pooled: dict = {}
    for style in args.styles:
        pooled[style] = {"curve": defaultdict(list), "audio": defaultdict(list)}
    print(f"{len(args.songs)} songs, styles {', '.join(args.styles)}, seed {args.seed}")
    for song in args.songs:
        name = Path(song).stem
        project = utagoe.load(song)
        for style in args.styles:
            settings = RenderSettings(pitch=PitchSettings(style=style, seed=args.seed))
            try:
                t0 = time.perf_counter()
                plan = plan_render(project, singer=None, settings=settings, voices=voices)
                result = render_project(project, settings=settings, voices=voices)
                elapsed = time.perf_counter() - t0
            except Exception as exc:  # a real failure: report it and go on
                print(f"{name} [{style}]: render failed: {exc!r}")
                failures += 1
                continue
            audio = result.audio
            samples = np.asarray(audio.samples, dtype=np.float64).mean(axis=0)
            n_frames = int(len(samples) / audio.sample_rate / FRAME_S) + 1
            requested = np.full(n_frames, np.nan)
            notes: dict[int, object] = {}
            for tp in plan.tracks[:1]:
                for ph in tp.phrases:
                    i0 = int(round(ph.pitch.start_s / FRAME_S))
                    vals = np.asarray(ph.pitch.values, dtype=float)[: max(0, n_frames - i0)]
                    requested[i0:i0 + len(vals)] = vals
                    for n in ph.notes:
                        notes.setdefault(n.index, n)
            ordered = [notes[k] for k in sorted(notes)]
            sung = track_f0_midi(samples, audio.sample_rate, n_frames)
            line = f"{name} [{style}]: {audio.duration_s:.1f} s rendered in {elapsed:.1f} s"
            for source, curve in (("curve", requested), ("audio", sung)):
                m = measure(curve, ordered)
                pool = pooled[style][source]
                pool["vibrato"].extend(m["vibrato"])
                pool["overshoot"].extend(m["overshoot"])
                pool["flat_sd"].extend(m["flat_sd"])
                for key, v in m["transition"].items():
                    pool[key].extend(v)
            if args.score:
                wav = tmp / f"{name}.{style}.wav"
                result.save(wav)
                card = scorecard(wav, song)
                if card:
                    line += (f"; scorecard: {card['in_tune_pct']:.1f} % of mid-note frames within "
                             f"50 cents, vowels {card['vowel_accuracy']}")
            print(line, flush=True)

    print()
    for style in args.styles:
        print(f"== {style} (all songs pooled)")
        for source in ("curve", "audio"):
            pool = pooled[style][source]
            vib = np.array(pool["vibrato"]) if pool["vibrato"] else np.zeros((0, 2))
            print(f"  [{source}]")
            print(f"    vibrato rate (Hz)        {stats(vib[:, 0])}")
            print(f"    vibrato extent (cents)   {stats(vib[:, 1])}")
            over = np.array(pool["overshoot"]) if pool["overshoot"] else np.zeros((0, 2))
            print(f"    overshoot (cents)        {stats(over[:, 0])}")
            print(f"    overshoot > 5 c (ms)     {stats(over[:, 1])}")
            print(f"    F0 sd on long notes (c)  {stats(pool['flat_sd'])}")
            print("    transition 10-90 % (ms), median [n]:")
            for direction in ("up", "down"):
                cells = []
                for bucket in ("1-2", "3-4", "5-7", "8+"):
                    v = pool.get((direction, bucket), [])
                    cells.append(f"{bucket:>4} st: " + (f"{np.median(v):5.0f} [{len(v):3d}]"
                                                       if v else "    - [  0]"))
                print(f"      {direction:>4}  " + "   ".join(cells))
    print()
    print(RESEARCH)
    print("Xu & Sun's whole excursion, times 0.59 (a cosine move's 10-90 % share), per bucket "
          "centre (1.5, 3.5, 6, 10 st):")
    for direction, base, per in (("up", 89.6, 8.7), ("down", 100.0, 5.8)):
        cells = [f"{b:>4} st: {0.59 * (base + per * d):5.0f}"
                 for b, d in (("1-2", 1.5), ("3-4", 3.5), ("5-7", 6), ("8+", 10))]
        print(f"      {direction:>4}  " + "   ".join(cells))
    print(f"renders in {tmp}" if args.score else "")
    if failures:
        print(f"{failures} render(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
