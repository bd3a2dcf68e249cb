"""The voice controls on a real song: each control at several settings, measured
on the sound, with the scorecard's in-tune figure.

    .venv/bin/pip install music21 praat-parselmouth pyloudnorm   # for the scorecard
    .venv/bin/python benchmarks/bench_controls.py [--song examples/katatsumuri.musicxml]
        [--mode cli|direct|synthetic] [--controls gender,tension] [--no-score]

Modes:

* ``cli`` (the default): renders with ``python -m utagoe render SONG -o OUT
  --gender N`` (and ``--dynamics``, ``--breathiness``, ``--tension``,
  ``--voicing``): the controls as the render settings apply them.
* ``direct``: renders the song in this process with the built-in singer, our
  :func:`~utagoe.dsp.controls.apply_voice_controls` applied to every vocoder
  call (the DSP alone, whatever the settings and the CLI offer; it also times the
  controls against the vocoder on the song's own frames).
* ``synthetic``: a sung vowel made here (four formants, 220 Hz), through the
  controls and our vocoder; no song, no scorecard.

Measured on the voiced frames of the neutral render (its harvest F0 track; the
controls do not move the timing): level (RMS dB), spectral tilt (energy above
2 kHz against below 1 kHz, dB), spectral centroid (0-10 kHz), harmonics-to-noise
ratio (power density on the harmonics of each frame's F0 against between them,
dB). Each control prints its settings against its measures, whether each measure
moves monotonically the way the control's name promises, the final level, and
the scorecard's share of mid-note frames within 50 cents of the written note
(and its voicing rate, since a whisper has no pitch to score).

Note: the song's mix is normalised to a fixed peak (``MixSettings.peak_dbfs``),
so a song-wide ``--dynamics`` shows in the tilt and not in the final level, and
a control that changes the crest factor (breathiness, gender) moves the final
level. ``direct`` mode also prints the vocoder's own output level before the
mix ("pre-mix dB", all frames), where the controls' level keeping shows.
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
EVALKIT = ROOT.parent / "shared" / "evalkit" / "score_singing.py"
sys.path.insert(0, str(ROOT / "tests"))

#: control -> (CLI flag, settings (ascending), [(measure, how it moves as the setting rises)],
#: how the level before the mix moves)
CONTROLS: dict[str, tuple[str, list[float], list[tuple[str, str]], str]] = {
    "dynamics_db": ("--dynamics", [-24, -12, -6, 0, 6, 12], [("tilt_db", "rises")], "rises"),
    "breathiness": ("--breathiness", [-100, -50, 0, 50, 75, 100], [("hnr_db", "falls")], "flat"),
    "gender": ("--gender", [-100, -50, -20, 0, 20, 50, 100], [("centroid_hz", "falls")], "flat"),
    "tension": ("--tension", [-100, -50, 0, 50, 100], [("tilt_db", "rises")], "flat"),
    "voicing": ("--voicing", [0, 25, 50, 75, 100], [("hnr_db", "rises")], "flat"),
}
NEUTRAL = {"dynamics_db": 0.0, "breathiness": 0.0, "gender": 0.0, "tension": 0.0, "voicing": 100.0}
FRAME_S = 0.005


# --------------------------------------------------------------------------- measures


def frame_spectra(x: np.ndarray, rate: int, frames: np.ndarray, *, n_fft: int = 2048) -> np.ndarray:
    """Hann-windowed power spectra of ``n_fft`` samples centred on the given 5 ms frames."""
    hop = round(rate * FRAME_S)
    pad = np.concatenate([np.zeros(n_fft // 2), x, np.zeros(n_fft)])
    idx = frames[:, None] * hop + np.arange(n_fft)[None, :]
    seg = pad[idx] * np.hanning(n_fft)[None, :]
    return np.abs(np.fft.rfft(seg, axis=1)) ** 2


def measures(x: np.ndarray, rate: int, f0_hz: np.ndarray) -> dict[str, float]:
    """Level, tilt, centroid and HNR over the frames voiced in ``f0_hz`` (a few
    thousand of them at most, evenly spread)."""
    voiced = np.flatnonzero(f0_hz > 0)
    voiced = voiced[voiced * round(rate * FRAME_S) < len(x)]
    if len(voiced) > 3000:
        voiced = voiced[np.linspace(0, len(voiced) - 1, 3000).astype(int)]
    n_fft = 2048
    p = frame_spectra(x, rate, voiced, n_fft=n_fft)
    f = np.fft.rfftfreq(n_fft, 1 / rate)
    ltas = p.mean(axis=0)
    hop = round(rate * FRAME_S)
    rms = np.mean([np.mean(x[k * hop:(k + 1) * hop] ** 2) for k in voiced])
    band = f <= 10000
    # HNR: on the harmonics (within 0.1 F0) against between them (0.3-0.5 F0 away)
    f0 = f0_hz[voiced][:, None]
    dist = np.abs(f[None, :] / f0 - np.round(f[None, :] / f0))
    in_band = (f[None, :] > 80) & (f[None, :] < 8000)
    on = in_band & (dist <= 0.1)
    off = in_band & (dist >= 0.3)
    on_density = (p * on).sum() / on.sum()
    off_density = (p * off).sum() / off.sum()
    return {
        "level_db": float(10 * np.log10(rms + 1e-30)),
        "tilt_db": float(10 * np.log10(ltas[f >= 2000].sum() / ltas[f < 1000].sum())),
        "centroid_hz": float((f[band] * ltas[band]).sum() / ltas[band].sum()),
        "hnr_db": float(10 * np.log10(on_density / off_density)),
    }


def monotonic(values: list[float], direction: str, *, flat_db: float = 1.5) -> str:
    d = np.diff(values)
    if direction == "rises":
        return "yes" if np.all(d > 0) else "NO"
    if direction == "falls":
        return "yes" if np.all(d < 0) else "NO"
    spread = max(values) - min(values)
    return f"{'yes' if spread <= flat_db else 'NO'} (spread {spread:.1f} dB)"


def scorecard(wav: Path, score: str) -> dict | None:
    if not EVALKIT.exists():
        return None
    r = subprocess.run([sys.executable, str(EVALKIT), str(wav), score, "--crepe", "none"],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        print(f"  scorecard failed: {r.stderr.strip()[-300:]}")
        return None
    p = json.loads(r.stdout)["pitch"]["harvest"]
    return {"in_tune_pct": p["frames_within_50c_pct"], "voicing_rate": p["voicing_rate"]}


# --------------------------------------------------------------------------- renders


def cli_has_flags() -> bool:
    r = subprocess.run([sys.executable, "-m", "utagoe", "render", "--help"], capture_output=True, text=True, check=False)
    return all(CONTROLS[name][0] in r.stdout for name in CONTROLS)


def render_cli(song: str, out: Path, name: str | None, value: float | None) -> float:
    cmd = [sys.executable, "-m", "utagoe", "render", song, "-o", str(out), "-q"]
    if name is not None:
        cmd += [CONTROLS[name][0], str(value)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"render failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return time.perf_counter() - t0


class DirectRenderer:
    """Renders in this process, the controls applied to every vocoder call of the
    built-in singer (wrapping the singer's ``vocode_frames``); times both."""

    def __init__(self) -> None:
        import utagoe.voices.hts.singer as singer_module
        from utagoe.voices.registry import default_voices

        self.singer_module = singer_module
        self.original = singer_module.vocode_frames
        self.voices = default_voices()
        self.voices.get()
        self.controls: dict[str, float] = {}
        self.controls_s = 0.0
        self.vocoder_s = 0.0
        self.frames = 0
        self.energy = 0.0
        self.samples = 0
        singer_module.vocode_frames = self._vocode  # type: ignore[assignment]

    def _vocode(self, vocoder, f0_hz, sp, ap, *, sample_rate_hz, frame_period_s, seed):
        from utagoe.dsp.controls import apply_voice_controls

        t0 = time.perf_counter()
        sp, ap = apply_voice_controls(f0_hz, sp, ap, sample_rate_hz=sample_rate_hz, **self.controls)
        t1 = time.perf_counter()
        y = self.original(vocoder, f0_hz, sp, ap, sample_rate_hz=sample_rate_hz,
                          frame_period_s=frame_period_s, seed=seed)
        self.controls_s += t1 - t0
        self.vocoder_s += time.perf_counter() - t1
        self.frames += len(f0_hz)
        self.energy += float(np.sum(np.asarray(y, dtype=np.float64) ** 2))
        self.samples += len(y)
        return y

    def render(self, song: str, out: Path, name: str | None, value: float | None) -> float:
        import soundfile as sf

        import utagoe
        from utagoe.rendering.engine import render_project

        self.controls = {} if name is None else {name: float(value)}  # type: ignore[arg-type]
        self.energy, self.samples = 0.0, 0
        t0 = time.perf_counter()
        audio = render_project(utagoe.load(song), voices=self.voices).audio
        el = time.perf_counter() - t0
        sf.write(str(out), audio.samples.T, audio.sample_rate, subtype="FLOAT")
        self.last_level_db = 10 * np.log10(self.energy / max(self.samples, 1) + 1e-30)
        return el


# --------------------------------------------------------------------------- modes


def run_song(args, render, premix=None) -> None:
    import soundfile as sf

    from utagoe.dsp.world import harvest_f0_hz

    tmp = Path(tempfile.mkdtemp(prefix="utagoe-controls-"))
    names = args.controls
    neutral_wav = tmp / "neutral.wav"
    el = render(args.song, neutral_wav, None, None)
    x, rate = sf.read(str(neutral_wav), dtype="float64", always_2d=True)
    x = x.mean(axis=1)
    print(f"song {Path(args.song).name}: {len(x) / rate:.1f} s, neutral render {el:.1f} s")
    f0 = harvest_f0_hz(x, sample_rate_hz=rate, frame_period_s=FRAME_S)
    base = measures(x, rate, f0)
    base_pre = premix() if premix else None
    base_card = None if args.no_score else scorecard(neutral_wav, args.song)
    for name in names:
        flag, settings, expect, level_moves = CONTROLS[name]
        print(f"\n{name} ({flag}):")
        header = f"  {'setting':>8} " + " ".join(f"{m:>12}" for m, _ in expect) + \
                 f" {'final dB':>9} {'in tune %':>10} {'voiced':>7} {'render s':>9}" + \
                 (f" {'pre-mix dB':>11}" if premix else "")
        print(header)
        rows: dict[str, list[float]] = {m: [] for m, _ in expect}
        pres: list[float] = []
        for value in settings:
            if value == NEUTRAL[name]:
                got, card, el, pre = base, base_card, 0.0, base_pre
            else:
                wav = tmp / f"{name}_{value:g}.wav"
                el = render(args.song, wav, name, value)
                y, _ = sf.read(str(wav), dtype="float64", always_2d=True)
                got = measures(y.mean(axis=1), rate, f0)
                card = None if args.no_score else scorecard(wav, args.song)
                pre = premix() if premix else None
            for m, _ in expect:
                rows[m].append(got[m])
            if pre is not None:
                pres.append(pre)
            tune = f"{card['in_tune_pct']:>10}" if card else f"{'-':>10}"
            voiced = f"{card['voicing_rate']:>7}" if card else f"{'-':>7}"
            print(f"  {value:>8g} " + " ".join(f"{got[m]:>12.1f}" for m, _ in expect)
                  + f" {got['level_db']:>9.1f} {tune} {voiced} {el:>9.1f}"
                  + (f" {pre:>11.1f}" if pre is not None else ""))
        for m, direction in expect:
            print(f"  {m} {direction} with the setting: {monotonic(rows[m], direction)}")
        if pres:
            print(f"  pre-mix level {level_moves} with the setting: {monotonic(pres, level_moves)}")


def run_synthetic(args) -> None:
    import signals

    from utagoe.dsp.controls import apply_voice_controls
    from utagoe.dsp.vocoders import vocode_frames

    rate, fft, n = 48000, 2048, 400
    f0 = np.full(n, 220.0)
    f0[:10] = f0[-10:] = 0.0
    sp = signals.formant_envelope(n, sample_rate_hz=rate, fft_size=fft)
    ap = signals.voiced_aperiodicity(n, sample_rate_hz=rate, fft_size=fft)
    ap[f0 == 0] = 1.0
    print("synthetic vowel: 2 s, F0 220 Hz, formants 700/1200/2600/3500 Hz, our vocoder at 48 kHz")
    for name in args.controls:
        _, settings, expect, level_moves = CONTROLS[name]
        expect = [*expect, ("level_db", level_moves)]
        print(f"\n{name}:")
        print(f"  {'setting':>8} " + " ".join(f"{m:>12}" for m, _ in expect) + f" {'us/frame':>9}")
        rows = {m: [] for m, _ in expect}
        for value in settings:
            t0 = time.perf_counter()
            sp2, ap2 = apply_voice_controls(f0, sp, ap, sample_rate_hz=rate, **{name: value})
            us = (time.perf_counter() - t0) / n * 1e6
            y = vocode_frames("utagoe", f0, sp2, ap2, sample_rate_hz=rate, frame_period_s=FRAME_S, seed=1)
            got = measures(y, rate, f0)
            for m, _ in expect:
                rows[m].append(got[m])
            print(f"  {value:>8g} " + " ".join(f"{got[m]:>12.1f}" for m, _ in expect) + f" {us:>9.1f}")
        for m, direction in expect:
            print(f"  {m} {direction} with the setting: {monotonic(rows[m], direction)}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--song", default=str(ROOT / "examples" / "katatsumuri.musicxml"))
    ap.add_argument("--mode", choices=("cli", "direct", "synthetic"), default="cli")
    ap.add_argument("--controls", default=",".join(CONTROLS),
                    help="comma-separated: " + ", ".join(CONTROLS))
    ap.add_argument("--no-score", action="store_true", help="skip the scorecard")
    args = ap.parse_args()
    args.controls = [c.strip() for c in args.controls.split(",") if c.strip()]
    unknown = [c for c in args.controls if c not in CONTROLS]
    if unknown:
        ap.error(f"unknown controls {unknown}; known: {', '.join(CONTROLS)}")
    if args.mode == "synthetic":
        run_synthetic(args)
        return 0
    if args.mode == "cli":
        if not cli_has_flags():
            print("utagoe render --help does not list the control flags (--dynamics --breathiness "
                  "--gender --tension --voicing) yet; run with --mode direct or --mode synthetic")
            return 2
        run_song(args, render_cli)
        return 0
    direct = DirectRenderer()
    run_song(args, direct.render, premix=lambda: direct.last_level_db)
    if direct.vocoder_s > 0:
        print(f"\ncontrols: {direct.controls_s / direct.frames * 1e6:.1f} us/frame, "
              f"{direct.controls_s / direct.vocoder_s:.3f} of the vocoder's time on the same frames "
              f"({direct.frames} frames, every render)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
