"""Our vocoder (utagoe.dsp.vocoder) against WORLD (pyworld.synthesize), measured in one run.

    .venv/bin/python benchmarks/bench_vocoder.py [--songs examples/*.musicxml] [--repeat 3]

Two kinds of input, each vocoded by both:

1. synthetic: a four-formant envelope, F0 gliding over an octave, then vibrato,
   an unvoiced (noise) gap and a second voiced run, at 48 kHz / 5 ms;
2. the built-in HTS singer's inputs for each example song: exactly the arrays it
   hands its vocoder while rendering the song (captured by swapping the vocoder
   function the singer module calls for a recorder; one input per phrase chunk).

For each: time (best of --repeat) and the ratio ours / WORLD; F0 of the output
(harvest) within 20 cents of the requested F0; the output's CheapTrick envelope
against the input envelope over 100 Hz - 8 kHz on voiced frames; level against
WORLD's output on voiced and unvoiced frames; clicks (second-difference spikes,
as tests/test_singer.py counts them). Both vocoders are judged the same way; the
targets are printed as pass/FAIL. Timings are on this (shared, noisy) machine:
compare the ratios, not the seconds.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from examples import solo_songs  # noqa: E402
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # tests/signals.py: the generated inputs, shared with the tests

import signals  # noqa: E402

FS = 48000
FRAME_S = 0.005
HOP = 240
FFT = 2048


# ---------------------------------------------------------------- inputs

def synthetic_inputs():
    """(f0, sp, ap): 4 s. Glide 220 -> 440 Hz, vibrato around 330 Hz, a 150 ms
    unvoiced gap, a second run at 262 Hz; formants drift a little."""
    return signals.sung_vocoder_inputs(sample_rate_hz=FS, fft_size=FFT, frame_period_s=FRAME_S, duration_s=4.0,
                                       onset_s=0.1, glide_end_s=1.6, vibrato_end_s=2.6, hiss_end_s=2.75,
                                       held_end_s=3.9)


def singer_vocoder_inputs(project) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """[(f0, sp, ap)]: exactly what the built-in singer hands its vocoder while
    rendering ``project`` (one entry per vocoder call, i.e. per phrase chunk).

    The vocoder functions (WORLD's and ours: where they are defined, and any name
    the singer module binds them to) are replaced, for the render, by one that
    records its inputs and returns silence."""
    import utagoe.voices.hts.singer as singer_module
    from utagoe.dsp import vocoder, world
    from utagoe.rendering.engine import render_project
    from utagoe.voices.registry import default_voices

    captured = []

    def record(f0_hz, power_envelope, aperiodicity, *, sample_rate_hz, frame_period_s, **_):
        captured.append((np.array(f0_hz, dtype=np.float64), np.array(power_envelope, dtype=np.float64),
                         np.array(aperiodicity, dtype=np.float64)))
        return np.zeros(len(f0_hz) * round(sample_rate_hz * frame_period_s))

    originals = (world.world_synthesize, vocoder.synthesize)
    saved = [(world, "world_synthesize", world.world_synthesize), (vocoder, "synthesize", vocoder.synthesize)]
    saved += [(singer_module, n, v) for n, v in vars(singer_module).items() if any(v is f for f in originals)]
    try:
        for module, name, _ in saved:
            setattr(module, name, record)
        render_project(project, voices=default_voices(plugins=False))
    finally:
        for module, name, value in saved:
            setattr(module, name, value)
    if not captured:
        raise RuntimeError("the singer vocoded nothing through world_synthesize or vocoder.synthesize")
    return captured


def hts_song_inputs(path: str):
    import utagoe

    return singer_vocoder_inputs(utagoe.load(path))


# ---------------------------------------------------------------- measures

def run_world(f0, sp, ap):
    import pyworld

    return pyworld.synthesize(f0, sp, ap, FS, FRAME_S * 1000.0)[: len(f0) * HOP]


def run_ours(f0, sp, ap):
    from utagoe.dsp.vocoder import synthesize

    return synthesize(f0, sp, ap, sample_rate_hz=FS, frame_period_s=FRAME_S)


def steady_voiced(f0: np.ndarray, margin: int = 3) -> np.ndarray:
    """Voiced frames at least ``margin`` frames from a voicing edge."""
    v = f0 > 0
    keep = v.copy()
    for k in range(1, margin + 1):
        keep[k:] &= v[:-k]
        keep[:-k] &= v[k:]
    return keep


def steady_unvoiced(f0: np.ndarray, sp: np.ndarray, margin: int = 6) -> np.ndarray:
    """Unvoiced frames ``margin`` frames from voicing whose envelope's power stays
    within 3 dB over +-2 frames (level is compared where it is defined)."""
    keep = steady_voiced(np.where(f0 > 0, 0.0, 1.0), margin)
    p = 10 * np.log10(expected_power(sp) + 1e-30)
    for k in (1, 2):
        keep[k:] &= np.abs(p[k:] - p[:-k]) < 3
        keep[:-k] &= np.abs(p[:-k] - p[k:]) < 3
    return keep


def expected_power(sp: np.ndarray) -> np.ndarray:
    """The level convention: mean square = the envelope's mean over the two-sided spectrum."""
    return (2 * sp.sum(axis=1) - sp[:, 0] - sp[:, -1]) / (2 * (sp.shape[1] - 1))


def f0_hits(y: np.ndarray, f0: np.ndarray) -> tuple[int, int]:
    import pyworld

    est, _ = pyworld.harvest(y, FS, f0_floor=70.0, f0_ceil=1100.0, frame_period=FRAME_S * 1000.0)
    m = min(len(est), len(f0))
    sel = steady_voiced(f0[:m])
    ok = (est[:m] > 0) & sel
    cents = np.full(m, np.inf)
    cents[ok] = 1200 * np.abs(np.log2(est[:m][ok] / f0[:m][ok]))
    return int(np.sum(cents[sel] <= 20.0)), int(np.sum(sel))


def envelope_db(y: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """CheapTrick's envelope of ``y`` in dB, steady voiced frames, 100 Hz - 8 kHz."""
    import pyworld

    t = np.arange(len(f0)) * FRAME_S
    est = pyworld.cheaptrick(y, np.ascontiguousarray(f0), t, FS, fft_size=FFT)
    return 10 * np.log10(est[steady_voiced(f0)][:, BAND])


_FREQS_HZ = signals.bin_frequencies_hz(sample_rate_hz=FS, fft_size=FFT)
BAND = (_FREQS_HZ >= 100) & (_FREQS_HZ <= 8000)


def frame_power(y: np.ndarray, n_frames: int) -> np.ndarray:
    """Mean square over each frame's hop centred on the frame time."""
    pad = np.concatenate([np.zeros(HOP // 2), y, np.zeros(HOP)])
    return np.mean(pad[: n_frames * HOP].reshape(n_frames, HOP) ** 2, axis=1)


def count_clicks(x: np.ndarray) -> int:
    d2 = np.abs(np.diff(x, 2))
    win = int(0.02 * FS)
    local = np.sqrt(np.convolve(d2 ** 2, np.ones(win) / win, mode="same"))
    return int(np.sum(d2 > 12 * local + 0.01))


def best_time(fn, cases, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for c in cases:
            fn(*c)
        best = min(best, time.perf_counter() - t0)
    return best


def judge(name: str, cases, repeat: int, *, abs_envelope_db: float | None) -> bool:
    run_ours(*cases[0])  # warm the caches (tables) once
    t_world = best_time(run_world, cases, repeat)
    t_ours = best_time(run_ours, cases, repeat)
    audio_s = sum(len(c[0]) for c in cases) * FRAME_S
    acc = {who: {"hit": 0, "tot": 0, "env_abs": [], "env_bias": [], "clicks": 0, "finite": True,
                 "pv": 0.0, "pu": 0.0} for who in ("ours", "world")}
    exp_v = exp_u = 0.0
    between = []
    for f0, sp, ap in cases:
        sel_v, sel_u = steady_voiced(f0), steady_unvoiced(f0, sp)
        ref_db = 10 * np.log10(sp[sel_v][:, BAND])
        exp = expected_power(sp)
        exp_v += exp[sel_v].sum()
        exp_u += exp[sel_u].sum()
        env = {}
        for who, fn in (("ours", run_ours), ("world", run_world)):
            y = fn(f0, sp, ap)
            a = acc[who]
            hit, tot = f0_hits(y, f0)
            a["hit"] += hit
            a["tot"] += tot
            env[who] = envelope_db(y, f0)
            d = env[who] - ref_db
            a["env_abs"].append(np.abs(d).ravel())
            a["env_bias"].append(d.ravel())
            a["clicks"] += count_clicks(y)
            a["finite"] &= bool(np.all(np.isfinite(y)))
            p = frame_power(y, len(f0))
            a["pv"] += p[sel_v].sum()
            a["pu"] += p[sel_u].sum()
        between.append((env["ours"] - env["world"]).ravel())
    print(f"\n== {name}: {len(cases)} input(s), {audio_s:.1f} s of audio")
    ratio = t_ours / t_world
    print(f"time: ours {t_ours:.3f} s ({t_ours / audio_s:.4f} x real time), "
          f"WORLD {t_world:.3f} s ({t_world / audio_s:.4f} x real time), ratio {ratio:.3f}")
    res = {}
    for who in ("ours", "world"):
        a = acc[who]
        rate = a["hit"] / max(a["tot"], 1)
        env_abs = float(np.mean(np.concatenate(a["env_abs"])))
        env_bias = float(np.mean(np.concatenate(a["env_bias"])))
        lv = 10 * np.log10(a["pv"] / exp_v)
        lu = 10 * np.log10(a["pu"] / exp_u) if exp_u > 0 else float("nan")
        res[who] = (rate, env_abs, a["clicks"], a["finite"], a["pv"], a["pu"])
        print(f"{who:>6}: F0 within 20 cents on {100 * rate:5.1f}% of {a['tot']} steady voiced frames; "
              f"CheapTrick envelope vs input {env_abs:.2f} dB mean |diff| (bias {env_bias:+.2f} dB); "
              f"level vs convention: voiced {lv:+.2f} dB, unvoiced {lu:+.2f} dB; "
              f"clicks {a['clicks']}; finite {a['finite']}")
    b = np.concatenate(between)
    print(f"envelope ours - WORLD: mean {b.mean():+.2f} dB, mean |diff| {np.abs(b).mean():.2f} dB")
    o, w = res["ours"], res["world"]
    lv = 10 * np.log10(o[4] / w[4])
    lu = 10 * np.log10(o[5] / w[5]) if w[5] > 0 else float("nan")
    print(f"level ours - WORLD: voiced {lv:+.2f} dB, unvoiced {lu:+.2f} dB")
    checks = [
        ("speed ratio <= 0.3", ratio <= 0.3),
        ("F0 within 20 cents on >= 98% of steady voiced frames", o[0] >= 0.98),
        ("envelope no worse than WORLD's + 1 dB", o[1] <= w[1] + 1.0),
        ("level within 1 dB of WORLD's (voiced)", abs(lv) <= 1.0),
        ("level within 1 dB of WORLD's (unvoiced)", np.isnan(lu) or abs(lu) <= 1.0),
        ("no clicks", o[2] == 0),
        ("finite", o[3]),
    ]
    if abs_envelope_db is not None:
        checks.insert(3, (f"envelope within {abs_envelope_db:g} dB of the input", o[1] <= abs_envelope_db))
    ok = True
    for label, passed in checks:
        print(f"  {'pass' if passed else 'FAIL'}  {label}")
        ok &= bool(passed)
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--songs", nargs="*", default=solo_songs())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-hts", action="store_true", help="only the synthetic case")
    args = ap.parse_args(argv)

    ok = judge("synthetic (formants, glide, vibrato, unvoiced gap)", [synthetic_inputs()], args.repeat,
               abs_envelope_db=3.0)
    if not args.no_hts:
        cases = []
        for song in args.songs:
            try:
                cases.extend(hts_song_inputs(song))
            except Exception as exc:  # the singer needs pysinsy's voice file
                print(f"\n(skipping HTS inputs for {song}: {exc})")
                break
        if cases:
            ok &= judge(f"HTS singer song070, {len(args.songs)} example song(s), as the singer vocodes them",
                        cases, args.repeat, abs_envelope_db=3.0)
    print("\nall targets met" if ok else "\nsome targets FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
