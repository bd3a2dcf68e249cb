"""The master's pieces on a minute of stereo at 48 kHz, against scipy and
pyloudnorm doing the same in the same run.

    .venv/bin/python benchmarks/bench_mix.py [--repeat 3]

* loudness: our BS.1770 meter (numpy: the K-weighting as a fast convolution on
  fixed chunks) against pyloudnorm (scipy's recursive filter), and the
  difference of their readings;
* limiter: limiting almost everywhere, and idle (nothing over the ceiling);
* resampling 48 kHz to 44.1, 96 and 22.05 kHz against scipy's ``resample_poly``.

Best of ``--repeat`` each; ratios ours / theirs.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def best(f, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from scipy.signal import resample_poly

    from utagoe.audio import Audio
    from utagoe.mix.limiter import limit
    from utagoe.mix.loudness import integrated_loudness
    from utagoe.mix.resample import resample_samples

    rate = 48000
    x = (np.random.default_rng(0).standard_normal((2, rate * 60)) * 0.3).astype(np.float32)
    audio = Audio(x, rate)
    try:
        import pyloudnorm
    except ImportError:
        pyloudnorm = None
    ours = best(lambda: integrated_loudness(audio), args.repeat)
    line = f"loudness, a minute of stereo: ours {ours:.3f} s"
    if pyloudnorm is not None:
        meter = pyloudnorm.Meter(rate)
        theirs = best(lambda: meter.integrated_loudness(x.T), args.repeat)
        diff = integrated_loudness(audio) - meter.integrated_loudness(x.T)
        line += f", pyloudnorm {theirs:.3f} s (ratio {ours / theirs:.2f}); readings differ by {diff:+.3f} LU"
    print(line)
    busy = best(lambda: limit(x, sample_rate_hz=rate, ceiling_dbfs=-1.0), args.repeat)
    idle = best(lambda: limit(x * 0.1, sample_rate_hz=rate, ceiling_dbfs=-1.0), args.repeat)
    print(f"limiter, a minute of stereo: {busy:.3f} s limiting almost everywhere, {idle:.3f} s idle")
    for out, (up, down) in ((44100, (147, 160)), (96000, (2, 1)), (22050, (147, 320))):
        ours = best(lambda: resample_samples(x, in_rate_hz=rate, out_rate_hz=out), args.repeat)
        theirs = best(lambda: resample_poly(x, up, down, axis=1), args.repeat)
        print(f"resample 48000 -> {out}: ours {ours:.3f} s, scipy {theirs:.3f} s (ratio {ours / theirs:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
