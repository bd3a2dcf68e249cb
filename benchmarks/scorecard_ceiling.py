"""How well can the scorecard tell vowels apart at each song's pitches? Its ceiling.

    .venv/bin/python benchmarks/scorecard_ceiling.py [--songs 'examples/*.musicxml'] [--json out.json]

For every song, an ideal singer is synthesised: each note at exactly its
written pitch (with a 5.8 Hz, +-30 cent vibrato on notes longer than 0.4 s, as
singers do), a harmonic source (every harmonic below 8 kHz, falling 6 dB per
octave: the glottal source and the lips' radiation) through three resonators
in cascade at textbook formants of that note's vowel
(adult female Japanese, see FORMANTS_HZ), ん as a nasal hum, っ as silence,
20 ms cross-fades between notes. Its vowels are perfect by construction, so
the scorecard's vowel accuracy on it (../shared/evalkit/score_singing.py,
``--crepe none``) is what the scorecard itself can reach on that song's notes:
where a song's notes sit high, the praat formant tracker reads harmonics and
the ceiling falls. Printed beside utagoe's and Sinsy's figures when a
bench_vowels.py JSON is given (``--vowels-json``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from examples import solo_songs  # noqa: E402
EVALKIT = Path(os.environ.get("UTAGOE_EVALKIT") or ROOT.parent / "shared" / "evalkit" / "score_singing.py")
RATE = 48000
#: F1, F2, F3 (Hz): adult female Japanese vowels, rounded from the published
#: averages (e.g. Keating & Huffman 1984; Hirahara & Kato 1992)
FORMANTS_HZ = {"a": (850, 1400, 2900), "i": (350, 2800, 3300), "u": (400, 1600, 2700),
               "e": (550, 2400, 3000), "o": (500, 950, 2900), "N": (300, 1200, 2700)}
BANDWIDTHS_HZ = (90, 110, 150)


def _evalkit():
    sys.path.insert(0, str(EVALKIT.parent))
    import score_singing
    return score_singing


def _resonate(x: np.ndarray, freq: float, bw: float) -> np.ndarray:
    """A resonator with unit gain at 0 Hz (Klatt's), for a cascade."""
    from scipy.signal import lfilter

    r = np.exp(-np.pi * bw / RATE)
    a1, a2 = -2 * r * np.cos(2 * np.pi * freq / RATE), r * r
    return lfilter([1.0 + a1 + a2], [1.0, a1, a2], x)


def ideal_singing(notes: list[dict]) -> np.ndarray:
    """The ideal singer's audio for the scorecard's own notes (start, end, midi, vowel)."""
    end = max(n["end"] for n in notes) + 0.5
    out = np.zeros(int(end * RATE))
    fade = int(0.02 * RATE)
    for n in notes:
        vowel = n.get("vowel")
        if vowel not in FORMANTS_HZ:   # っ and notes without a vowel: silence
            continue
        a, b = int(n["start"] * RATE), int(n["end"] * RATE)
        a0, b0 = max(0, a - fade), min(len(out), b + fade)
        t = np.arange(b0 - a0) / RATE
        f0 = 440.0 * 2 ** ((n["midi"] - 69) / 12)
        if n["end"] - n["start"] > 0.4:
            onset = np.clip((t - 0.25) / 0.2, 0.0, 1.0)
            f0 = f0 * 2 ** (0.30 / 12 * onset * np.sin(2 * np.pi * 5.8 * t))
        phase = 2 * np.pi * np.cumsum(np.broadcast_to(f0, t.shape)) / RATE
        top = int(8000 // np.max(f0))
        src = sum(np.sin(k * phase) / k for k in range(1, top + 1))
        y = src
        for f, bw in zip(FORMANTS_HZ[vowel], BANDWIDTHS_HZ):   # in cascade, as Klatt's
            y = _resonate(y, f, bw)
        env = np.ones(len(t))
        env[:fade] = np.linspace(0, 1, fade)[: len(env)]
        env[-fade:] = np.linspace(1, 0, fade)[-len(env):]
        out[a0:b0] += y * env / (np.max(np.abs(y)) + 1e-12)
    return 0.5 * out / np.max(np.abs(out))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--songs", default=str(ROOT / "examples" / "*.musicxml"))
    ap.add_argument("--vowels-json", help="a bench_vowels.py --json file, printed beside")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    import soundfile

    sk = _evalkit()
    beside = {}
    if args.vowels_json:
        for row in json.loads(Path(args.vowels_json).read_text()):
            beside[row.get("song")] = row
    work = Path(tempfile.mkdtemp(prefix="scorecard-ceiling-"))
    rows = []
    print(f"{'song':24s} {'median note':>11s} {'ceiling':>8s}")
    for score in solo_songs(args.songs):
        name = Path(score).stem
        notes, _ = sk.load_score(score)
        wav = work / f"{name}.wav"
        soundfile.write(wav, ideal_singing(notes), RATE, subtype="PCM_16")
        card = sk.score(str(wav), score, crepe="none")
        acc = card["vowels"].get("accuracy")
        median = float(np.median([n["midi"] for n in notes if n.get("vowel") in FORMANTS_HZ]))
        rows.append(dict(song=name, ceiling=acc, median_midi=median))
        print(f"{name:24s} {median:11.1f} {acc:8.2f}", flush=True)
    accs = [r["ceiling"] for r in rows if r["ceiling"] is not None]
    print(f"mean ceiling {np.mean(accs):.3f} over {len(accs)} songs; audio in {work}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
