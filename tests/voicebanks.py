"""Small UTAU voicebanks made by the tests themselves: sung vowels with formants.

Each sample is a harmonic source at a steady pitch through a vowel's formants,
optionally after a consonant (a noise burst), written as 44.1 kHz 16-bit WAV
with an oto.ini in Shift-JIS, as UTAU writes them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

RATE = 44100
#: first three formants (Hz) of the Japanese vowels
FORMANTS = {"a": (800, 1200, 2600), "i": (300, 2300, 3000), "u": (350, 1300, 2400),
            "e": (500, 1900, 2600), "o": (500, 850, 2500)}
KANA = {"a": "あ", "i": "い", "u": "う", "e": "え", "o": "お",
        "ka": "か", "sa": "さ", "ta": "た", "na": "な", "ki": "き", "ko": "こ"}


def _resonator(x: np.ndarray, freq: float, bw: float) -> np.ndarray:
    from scipy.signal import lfilter

    r = np.exp(-np.pi * bw / RATE)
    a = [1.0, -2 * r * np.cos(2 * np.pi * freq / RATE), r * r]
    return lfilter([1.0 - r], a, x)


def sung_sample(vowel: str, *, f0_hz: float = 220.0, seconds: float = 1.2,
                consonant: str = "", seed: int = 0) -> np.ndarray:
    """A sung syllable: ``consonant`` (k, s, t, n or none) then ``vowel`` at ``f0_hz``."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    # a little natural movement, so the analysis sees a voice, not a test tone
    f0 = f0_hz * (1 + 0.004 * np.sin(2 * np.pi * 5.0 * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    src = np.asarray(sum(np.sin(k * phase) / k for k in range(1, 40)
                         if k * f0_hz < RATE / 2 - 1000), dtype=np.float64)
    y = np.asarray(sum(_resonator(src, f, bw)
                       for f, bw in zip(FORMANTS[vowel], (80, 100, 120))), dtype=np.float64)
    lead = int(0.08 * RATE)  # silence before the syllable, as recorded samples have
    c_len = int({"k": 0.04, "s": 0.12, "t": 0.035, "n": 0.06}.get(consonant, 0.0) * RATE)
    out = np.zeros(n)
    body = y[: n - lead - c_len]
    attack = np.minimum(1.0, np.arange(len(body)) / (0.03 * RATE))
    release = np.minimum(1.0, (len(body) - np.arange(len(body))) / (0.05 * RATE))
    out[lead + c_len:] = body * attack * release
    if c_len:
        if consonant == "n":  # a nasal murmur, rising and falling smoothly
            burst = _resonator(src[:c_len], 250, 60) * np.hanning(c_len)
        else:
            burst = 0.3 * rng.standard_normal(c_len) * np.hanning(c_len)
        out[lead:lead + c_len] = burst
    return (0.5 * out / np.max(np.abs(out))).astype(np.float64)


def make_cv_bank(folder: Path, syllables=("a", "i", "u", "e", "o", "ka", "sa", "ta", "na"), *,
                 f0_hz: float = 220.0, name: str = "Test CV") -> Path:
    """A CV bank: one file per syllable, hiragana aliases and ``- あ`` starts."""
    import soundfile

    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, syl in enumerate(syllables):
        cons, vowel = (syl[:-1], syl[-1])
        x = sung_sample(vowel, f0_hz=f0_hz, consonant=cons, seed=i)
        soundfile.write(folder / f"{syl}.wav", x, RATE, subtype="PCM_16")
        c_ms = {"k": 40, "s": 120, "t": 35, "n": 60}.get(cons, 0)
        pre = 80.0 + c_ms  # the vowel starts here
        lines.append(f"{syl}.wav={KANA[syl]},0,{pre + 60:.0f},-1100,{pre:.0f},{min(pre / 2, 40):.0f}")
        lines.append(f"{syl}.wav=- {KANA[syl]},40,{pre + 20:.0f},-1060,{pre - 40:.0f},0")
    (folder / "oto.ini").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    (folder / "character.txt").write_bytes(f"name={name}\r\nauthor=utagoe tests\r\n".encode("cp932"))
    (folder / "readme.txt").write_bytes("A voicebank the tests made.\r\n".encode("cp932"))
    return folder
