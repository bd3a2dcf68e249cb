"""UTAU voicebanks: speed (cold and warm analysis cache) and quality, against song070.

For each bank -- a CV bank this script makes (formant-synthesised vowels), and
the two real subsets in ../shared/data/voicebank (Iona CV, ALYS VCV) -- a song
that uses only that bank's aliases is written as MusicXML, then:

* the whole ``utagoe render SONG --singer BANK -j 1`` command is timed, with an
  empty analysis cache (cold) and again with it filled (warm), beside the same
  command with the built-in singer (song070) on the same score in the same run;
* the cost per note is taken from two songs of different length (warm);
* the render is scored with ../shared/evalkit (pitch, onsets, vowels, clicks);
* timbre: the mean log-spectral envelope of each vowel as sung, against the
  same vowel in the bank's own samples (level-normalised dB, 150 Hz-5 kHz),
  beside the distance to the bank's *other* vowels, for scale.

    .venv/bin/python benchmarks/bench_utau.py [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT / "tests"))

IONA = ["a", "ka", "i", "sa", "u", "ta", "e", "na", "o", "ka", "a", "n",
        "sa", "ta", "na", "ka", "i", "u", "e", "o", "a", "na", "ta", "sa"]
ALYS = (["あ", "か", "い", "か", "う", "か", "け"], ["な", "に", "な", "ぬ", "な", "ね"],
        ["さ", "さ", "す", "さ", "せ"], ["た", "た", "て"], ["い", "い", "う", "い", "え", "い", "お"],
        ["お", "お", "ん", "お", "あ", "お", "い"], ["う", "う", "え", "う", "お", "う", "ん"])
SYNTH = ["あ", "か", "い", "さ", "う", "た", "え", "な", "お", "か", "あ", "さ",
         "た", "な", "い", "う", "え", "お"]


def melody(n: int, *, seed: int, centre: int = 60) -> list[int]:
    rng = np.random.default_rng(seed)
    p, out = centre, []
    for _ in range(n):
        p = int(np.clip(p + rng.choice([-4, -2, -1, 0, 1, 2, 3, 5]), centre - 6, centre + 7))
        out.append(p)
    return out


def score(phrases: list[list[str]], path: Path, *, seed: int, bpm: float = 110.0) -> Path:
    import utagoe
    from utagoe.model import Note, Project, Tempo, Track

    flat = [x for ph in phrases for x in ph]
    pitches = melody(len(flat), seed=seed)
    notes, t, k = [], 480, 0
    for ph in phrases:
        for i, lyr in enumerate(ph):
            dur = 960 if i == len(ph) - 1 else 480
            notes.append(Note(t, dur, pitches[k], lyr))
            t += dur
            k += 1
        t += 480
    project = Project((Track("voice", tuple(notes)),), tempos=(Tempo(0, bpm),), title=path.stem)
    utagoe.save(project, path)
    return path


def run_cli(args: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run([str(ROOT / ".venv/bin/utagoe"), *args], capture_output=True, text=True,
                       env=env, check=False)
    el = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"utagoe {' '.join(args)} failed:\n{r.stderr}")
    return el


def scorecard(wav: Path, xml: Path) -> dict:
    r = subprocess.run([sys.executable, str(SHARED / "evalkit/score_singing.py"), str(wav), str(xml),
                        "--crepe", "none"], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        return {"error": r.stderr[-300:]}
    return json.loads(r.stdout)


def vowel_distances(bank: str, xml: Path, wav: Path, cache_dir: Path) -> tuple[float, float]:
    """(sung vowel vs the same vowel in the bank, sung vowel vs the bank's other vowels), dB."""
    import soundfile

    import utagoe
    from utagoe.lyrics.ja import read_lyric, vowel_of
    from utagoe.voices.utau.analysis import AnalysisCache, analyse_samples
    from utagoe.voices.utau.voicebank import load_voicebank

    project = utagoe.load(xml)
    x, rate = soundfile.read(wav)
    sung = analyse_samples(x, sample_rate_hz=rate)
    freqs = np.linspace(0, sung.sample_rate_hz / 2, sung.envelope.shape[1])
    band = (freqs >= 150) & (freqs <= 5000)

    def level_free(env: np.ndarray) -> np.ndarray:
        db = 10 * np.log10(np.mean(env[:, band], axis=0) + 1e-20)
        return db - db.mean()

    ax = project.time_axis()
    by_vowel: dict[str, list[np.ndarray]] = {}
    for n in project.tracks[0].notes:
        syl = read_lyric(n.lyric).syllables
        if not syl:
            continue
        v = vowel_of(syl[-1])
        s, e = ax.tick_to_seconds(n.start_ticks), ax.tick_to_seconds(n.end_ticks)
        d = 0.2 * (e - s)
        i0, i1 = int((s + d) / sung.frame_period_s), int((e - d) / sung.frame_period_s)
        fr = sung.envelope[i0:i1][sung.f0_hz[i0:i1] > 0]
        if len(fr):
            by_vowel.setdefault(v, []).append(fr)
    vb = load_voicebank(bank)
    cache = AnalysisCache(cache_dir)
    source: dict[str, list[np.ndarray]] = {}
    for alias, entries in vb.entries.items():
        e = entries[0]
        try:
            syl = read_lyric(alias).syllables
        except Exception:
            continue
        if not syl or alias.endswith(("-", "R")) or len(alias.split()) > 2:
            continue
        v = vowel_of(syl[-1])
        a = cache.get(e.wav_path)
        start = e.offset_ms + e.consonant_ms
        end = e.end_ms(a.duration_ms)
        i0, i1 = int(start / 5), int(min(end, start + 400) / 5)
        fr = a.envelope[i0:i1][a.f0_hz[i0:i1] > 0]
        if len(fr):
            source.setdefault(v, []).append(fr)
    own, other = [], []
    for v, frs in by_vowel.items():
        if v not in source:
            continue
        sv = level_free(np.concatenate(frs))
        own.append(float(np.mean(np.abs(sv - level_free(np.concatenate(source[v]))))))
        other += [float(np.mean(np.abs(sv - level_free(np.concatenate(source[w])))))
                  for w in source if w != v]
    return float(np.mean(own)), float(np.mean(other))


def source_reference(bank: str, xml: Path, work: Path, cache_dir: Path) -> dict:
    """The scorecard of the bank's own samples, unchanged: each note's sample (the
    alias the render used) from its preutterance point, at its recorded pitch,
    with a rest between notes. What the scorecard makes of the voice itself."""
    import soundfile

    import utagoe
    from utagoe.model import Note, Project, Tempo, Track
    from utagoe.model.units import hz_to_midi
    from utagoe.rendering.plan import plan_render
    from utagoe.settings import RenderSettings, VoiceSettings
    from utagoe.voices.registry import default_voices
    from utagoe.voices.utau.analysis import AnalysisCache, read_sample

    vs = VoiceSettings(analysis_cache_dir=str(cache_dir.parent))
    reg = default_voices(vs, plugins=False)
    plan = plan_render(utagoe.load(xml), singer=bank, settings=RenderSettings(voice=vs), voices=reg)
    voice = plan.tracks[0].voice
    cache = AnalysisCache(cache_dir)
    rate, tick_s = 44100, 60.0 / 60 / 480  # 60 bpm: one tick is 1/480 s
    pieces, notes, t = [np.zeros(int(0.5 * rate))], [], 0.5
    for phrase in plan.tracks[0].phrases:
        aliases, _ = voice._resolve(phrase)  # noqa: SLF001 (a benchmark may look inside)
        for n, a in zip(phrase.notes, aliases):
            if a is None or not a.parts:
                continue
            e = a.parts[0]
            x, sr = read_sample(e.wav_path)
            an = cache.get(e.wav_path)
            start = e.offset_ms + e.preutter_ms
            end = min(e.end_ms(an.duration_ms), start + 600.0)
            f0 = an.f0_hz[int(start / 5):int(end / 5)]
            if end - start < 150 or not np.any(f0 > 0):
                continue
            seg = x[int(start * sr / 1000):int(end * sr / 1000)]
            ramp = np.minimum(1, np.minimum(np.arange(len(seg)), np.arange(len(seg))[::-1]) / 220)
            pieces += [seg * ramp, np.zeros(int(0.3 * rate))]
            k0 = int(round(t / tick_s))
            k1 = int(round((t + len(seg) / sr) / tick_s))
            notes.append(Note(k0, k1 - k0, int(round(float(np.median(hz_to_midi(f0[f0 > 0]))))), n.lyric))
            t += len(seg) / sr + 0.3
    wav, ref_xml = work / f"{xml.stem}-source.wav", work / f"{xml.stem}-source.musicxml"
    soundfile.write(wav, np.concatenate(pieces), rate)
    utagoe.save(Project((Track("source", tuple(notes)),), tempos=(Tempo(0, 60.0),)), ref_xml)
    return scorecard(wav, ref_xml)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from voicebanks import make_cv_bank

    work = Path(tempfile.mkdtemp(prefix="bench-utau-"))
    banks = [("synthetic CV", str(make_cv_bank(work / "synthcv")), [SYNTH[:9], SYNTH[9:]])]
    for label, rel, phrases in (("Iona CV", "utsu-Iona_Beta-subset", [IONA[i:i + 6] for i in range(0, 24, 6)]),
                                ("ALYS VCV", "ALYS-jpn-plus-subset", list(ALYS))):
        folder = SHARED / "data/voicebank" / rel
        if folder.is_dir():
            banks.append((label, str(folder), phrases))
    rows = []
    for k, (label, bank, phrases) in enumerate(banks):
        xml = score(phrases, work / f"song{k}.musicxml", seed=k)
        short = score(phrases[:1], work / f"short{k}.musicxml", seed=k)
        n_notes = sum(len(p) for p in phrases)
        n_short = len(phrases[0])
        env = dict(os.environ, UTAGOE_CONFIG_DIR=str(work / "config"))
        cold, warm, builtin, warm_short, cold2 = [], [], [], [], []
        for r in range(args.runs):
            env_c = dict(env, UTAGOE_CACHE_DIR=str(work / f"cache{k}-{r}"))
            out = work / f"out{k}.wav"
            cold.append(run_cli(["render", str(xml), "-o", str(out), "--singer", bank, "-j", "1", "-q"], env_c))
            warm.append(run_cli(["render", str(xml), "-o", str(out), "--singer", bank, "-j", "1", "-q"], env_c))
            warm_short.append(run_cli(["render", str(short), "-o", str(work / "s.wav"), "--singer", bank,
                                       "-j", "1", "-q"], env_c))
            builtin.append(run_cli(["render", str(xml), "-o", str(work / f"b{k}.wav"), "-j", "1", "-q"], env_c))
            env_2 = dict(env, UTAGOE_CACHE_DIR=str(work / f"cache{k}-{r}-j2"))
            cold2.append(run_cli(["render", str(xml), "-o", str(work / "j2.wav"), "--singer", bank, "-j", "2",
                                  "-q"], env_2))
        import soundfile

        dur = soundfile.info(work / f"out{k}.wav").duration
        c, w, b, ws, c2 = (statistics.median(x) for x in (cold, warm, builtin, warm_short, cold2))
        per_note_ms = 1000 * (w - ws) / max(1, n_notes - n_short)
        card = scorecard(work / f"out{k}.wav", xml)
        own, other = vowel_distances(bank, xml, work / f"out{k}.wav", work / f"cache{k}-0/utau-analysis")
        ref = source_reference(bank, xml, work, work / f"cache{k}-0/utau-analysis")
        rows.append((label, n_notes, dur, c, w, b, per_note_ms, card, own, other))
        p = card.get("pitch", {}).get("harvest", {})
        t = card.get("timing", {})
        v = card.get("vowels", {})
        h = card.get("hygiene", {})
        print(f"{label}: {n_notes} notes, {dur:.1f} s | cold {c:.2f} s ({c / b:.2f} of song070; -j 2 {c2:.2f} s), "
              f"warm {w:.2f} s ({w / b:.2f} of song070, {w / dur:.3f} of real time), song070 {b:.2f} s | "
              f"{per_note_ms:.0f} ms per note warm | within 50 c {p.get('frames_within_50c_pct')}, "
              f"onset p95 {t.get('p95_abs_offset_ms')} ms, vowels {v.get('accuracy')}, "
              f"clicks {h.get('clicks')} (the bank's own samples: vowels "
              f"{ref.get('vowels', {}).get('accuracy')}) | envelope vs own vowel {own:.1f} dB, vs other vowels {other:.1f} dB",
              flush=True)


if __name__ == "__main__":
    main()
