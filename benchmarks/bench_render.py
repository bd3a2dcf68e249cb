"""Speed and quality of the built-in singer against Sinsy, measured in one run.

    .venv/bin/pip install music21 praat-parselmouth pyloudnorm   # for the scorecard
    .venv/bin/python benchmarks/bench_render.py [--songs examples/*.musicxml] [--no-score]

For every example song: our render time and Sinsy's (``pysinsy.synthesize`` on
the same MusicXML) in this process, printed as a ratio; then the scorecard of
../shared/evalkit for both renders (pitch, timing, vowels, clicks, clipping),
and the issue's targets as pass/FAIL. Last, peak memory of a 5-minute song
rendered in a fresh process. Timings are on this (shared, noisy) machine:
compare the ratios, not the seconds.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from examples import solo_songs  # noqa: E402
EVALKIT = ROOT.parent / "shared" / "evalkit" / "score_singing.py"


def time_ours(path: str, voices) -> tuple[float, object]:
    import utagoe
    from utagoe.rendering.engine import render_project

    t0 = time.perf_counter()
    project = utagoe.load(path)
    audio = render_project(project, voices=voices).audio
    return time.perf_counter() - t0, audio


def sinsy_copy(path: str, out: Path) -> Path:
    """Sinsy marks a melisma with the lyric 'ー', not with a lyric-less note: write a
    copy that says it Sinsy's way, so Sinsy is judged on what the score means."""
    import xml.etree.ElementTree as ET

    tree = ET.parse(path)
    for note in tree.getroot().iter("note"):
        if note.find("rest") is not None or note.find("lyric") is not None:
            continue
        if any(t.get("type") == "stop" for t in note.findall("tie")):
            continue  # Sinsy merges tied notes itself
        lyric = ET.SubElement(note, "lyric", number="1")
        ET.SubElement(lyric, "syllabic").text = "single"
        ET.SubElement(lyric, "text").text = "ー"
    tree.write(out, encoding="UTF-8", xml_declaration=True)
    return out


def time_sinsy(path: str):
    import pysinsy

    t0 = time.perf_counter()
    wav, sr = pysinsy.synthesize(path)
    return time.perf_counter() - t0, wav, sr


def scorecard(wav: str, score: str) -> dict | None:
    if not EVALKIT.exists():
        return None
    r = subprocess.run([sys.executable, str(EVALKIT), wav, score, "--crepe", "none", "--per-note"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"  scorecard failed: {r.stderr.strip()[-300:]}")
        return None
    return json.loads(r.stdout)


def summarize(card: dict) -> dict:
    p = card["pitch"]["harvest"]
    notes = [n for n in card.get("notes", []) if n.get("pitch", {}).get("harvest")]
    medians = [abs(n["pitch"]["harvest"].get("median_cents", 0.0) or 0.0) for n in notes
               if n["pitch"]["harvest"].get("median_cents") is not None]
    return dict(
        frames_within_50c=p["frames_within_50c_pct"],
        notes_within_50c=p["notes_within_50c_pct"],
        worst_note_median_cents=max(medians) if medians else None,
        onset_p95_ms=card["timing"]["p95_abs_offset_ms"],
        onset_median_ms=card["timing"]["median_abs_offset_ms"],
        vowel_accuracy=card["vowels"].get("accuracy"),
        clicks=card["hygiene"]["clicks"],
        clipped=card["hygiene"]["clipped_samples"],
        lufs=card["hygiene"]["integrated_lufs"],
    )


MEMORY_SCRIPT = r"""
import resource, sys, time
import utagoe
from utagoe.model import Project, Track, Note
from dataclasses import replace
p = utagoe.load(sys.argv[1])
t = p.tracks[0]
span = t.notes[-1].end_ticks + 960
notes = []
k = 0
while True:
    shifted = [replace(n, start_ticks=n.start_ticks + k * span) for n in t.notes]
    notes.extend(shifted)
    k += 1
    q = replace(p, tracks=(replace(t, notes=tuple(notes)),))
    if q.duration_s() >= 300:
        break
t0 = time.perf_counter()
a = utagoe.render(q).audio
el = time.perf_counter() - t0
print(f"{a.duration_s:.1f} {el:.2f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--songs", nargs="*", default=solo_songs())
    ap.add_argument("--no-score", action="store_true", help="skip the scorecard (speed only)")
    ap.add_argument("--no-memory", action="store_true")
    args = ap.parse_args()

    from utagoe.voices.registry import default_voices
    import soundfile as sf

    voices = default_voices()
    t0 = time.perf_counter()
    voices.get()  # load the voice once, outside the per-song timings
    print(f"voice load: {time.perf_counter() - t0:.2f} s")
    tmp = Path(tempfile.mkdtemp(prefix="utagoe-bench-"))
    rows = []
    for song in args.songs:
        name = Path(song).stem
        # warm both once so neither pays first-call costs in the timing
        for_sinsy = str(sinsy_copy(song, tmp / f"{name}.sinsy.musicxml"))
        ours_s, audio = time_ours(song, voices)
        sinsy_s, wav, sr = time_sinsy(for_sinsy)
        ours_s = min(ours_s, time_ours(song, voices)[0])
        sinsy_s = min(sinsy_s, time_sinsy(for_sinsy)[0])
        dur = audio.duration_s
        ours_wav = tmp / f"{name}.utagoe.wav"
        sinsy_wav = tmp / f"{name}.sinsy.wav"
        audio.save(ours_wav)
        w = np.asarray(wav, dtype=np.float64)
        w = w / max(np.max(np.abs(w)), 1e-9) * 10 ** (-1 / 20)
        sf.write(sinsy_wav, w, sr, subtype="PCM_16")
        row = dict(song=name, seconds=round(dur, 1), ours_s=round(ours_s, 2), sinsy_s=round(sinsy_s, 2),
                   ratio=round(ours_s / sinsy_s, 3), ours_rtf=round(ours_s / dur, 4))
        print(f"{name}: {dur:.1f} s of song; utagoe {ours_s:.2f} s, sinsy {sinsy_s:.2f} s, "
              f"ratio utagoe/sinsy {row['ratio']:.3f}, utagoe real-time factor {row['ours_rtf']:.4f}")
        if not args.no_score:
            for who, path in (("utagoe", ours_wav), ("sinsy", sinsy_wav)):
                card = scorecard(str(path), song)
                if card:
                    row[who] = summarize(card)
                    print(f"  {who:6s} " + ", ".join(f"{k}={v}" for k, v in row[who].items()))
            if "utagoe" in row and "sinsy" in row:
                u, s = row["utagoe"], row["sinsy"]
                targets = {
                    "frames within 50c >= 95%": u["frames_within_50c"] >= 95,
                    "every note median within 25c": (u["worst_note_median_cents"] or 0) <= 25,
                    "onset p95 <= 50 ms": u["onset_p95_ms"] <= 50,
                    "vowels >= sinsy": (u["vowel_accuracy"] or 0) >= (s["vowel_accuracy"] or 0),
                    "no clicks": u["clicks"] == 0,
                    "no clipping": u["clipped"] == 0,
                    "not slower than sinsy": row["ratio"] <= 1.0,
                }
                row["targets"] = targets
                print("  targets: " + ", ".join(f"{k}: {'pass' if v else 'FAIL'}" for k, v in targets.items()))
        rows.append(row)
    if rows:
        print(f"total: utagoe {sum(r['ours_s'] for r in rows):.2f} s, sinsy {sum(r['sinsy_s'] for r in rows):.2f} s, "
              f"ratio {sum(r['ours_s'] for r in rows) / sum(r['sinsy_s'] for r in rows):.3f}")
    if not args.no_memory and args.songs:
        r = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, args.songs[0]], capture_output=True, text=True)
        if r.returncode == 0:
            dur, el, rss = r.stdout.split()
            print(f"5-minute song: {dur} s rendered in {el} s ({float(el) / float(dur):.4f} of real time), "
                  f"peak memory {rss} MiB")
        else:
            print("memory run failed:", r.stderr[-500:])
    (tmp / "results.json").write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    print(f"renders and results in {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
