"""The built-in singer: an HTS singing voice driven by our own engine.

HTS supplies the spectral envelope (mel-cepstrum), voicing and the excitation
low-pass filter per frame, generated from our labels and our phoneme times;
our own F0 curve drives the WORLD vocoder.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from ...audio import Audio
from ...dsp.mcep import INT16_FULL_SCALE, lpf_to_aperiodicity, mcep_to_power_envelope
from ...dsp.world import world_fft_size, world_synthesize
from ...errors import VoiceError
from ...lyrics.base import NUCLEI
from ...model.units import midi_to_hz
from ...phrase.phrase import FRAME_PERIOD_S, RenderPhrase
from ..base import CancelToken, SingerInfo
from .generate import generate_parameters
from .htsvoice import read_htsvoice

SONG070_INFO = SingerInfo(
    name="song070",
    display_name="NIT song070 (f001)",
    language="ja",
    licence="CC-BY 3.0",
    credit="nitech_jp_song070_f001: HTS singing voice by the Nagoya Institute of Technology "
           "(HTS working group), shipped in the pysinsy package",
    description="Japanese female singing voice (HTS), 48 kHz",
)

#: frames per vocoder chunk (bounded memory on long phrases) and their overlap
CHUNK_FRAMES = 2000
OVERLAP_FRAMES = 8
EDGE_FADE_S = 0.01


def find_song070() -> Path:
    """The .htsvoice inside the installed pysinsy package (found without importing it)."""
    spec = importlib.util.find_spec("pysinsy")
    if spec is None or not spec.submodule_search_locations:
        raise VoiceError("the built-in singer needs the 'pysinsy' package (pip install pysinsy==0.0.5)")
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "htsvoice" / "nitech_jp_song070_f001.htsvoice"
        if p.is_file():
            return p
    raise VoiceError("pysinsy is installed but its htsvoice/nitech_jp_song070_f001.htsvoice is missing")


def phoneme_frames(phrase: RenderPhrase) -> list[int]:
    """Frames per phoneme: boundaries rounded to the 5 ms grid, every phoneme at least one frame."""
    n = phrase.frame_count()
    k = len(phrase.phonemes)
    bounds = [int(round((p.start_s - phrase.start_s) / FRAME_PERIOD_S)) for p in phrase.phonemes[1:]]
    edges = [0] + bounds + [n]
    for i in range(1, len(edges)):
        edges[i] = max(edges[i], edges[i - 1] + 1)
    if edges[-1] > n:  # squeezed too hard: pull back from the end
        edges[-1] = max(n, k)
        for i in range(len(edges) - 2, 0, -1):
            edges[i] = min(edges[i], edges[i + 1] - 1)
    return [b - a for a, b in zip(edges, edges[1:])]


class HTSSinger:
    """A Voice that sings with an HTS voice file."""

    def __init__(self, info: SingerInfo, htsvoice_path: Path) -> None:
        self.info = info
        self.path = Path(htsvoice_path)
        self.voice = read_htsvoice(self.path)
        self.sample_rate_hz = int(self.voice.sample_rate_hz)
        self.alpha = float(self.voice.alpha)
        self.fft_size = world_fft_size(sample_rate_hz=self.sample_rate_hz)

    def render(self, phrase: RenderPhrase, *, cancel: CancelToken | None = None) -> Audio:
        frames = phoneme_frames(phrase)
        n = sum(frames)
        params = generate_parameters(self.voice, list(phrase.labels), frames)
        if cancel is not None:
            cancel.check()
        # voicing: HTS decides for consonants; vowels, N are always voiced, rests and cl never
        nucleus = np.zeros(n, dtype=bool)
        silent = np.zeros(n, dtype=bool)
        pos = 0
        for p, f in zip(phrase.phonemes, frames):
            if p.kind == "vowel" and p.symbol in NUCLEI and p.symbol != "cl":
                nucleus[pos:pos + f] = True
            elif p.kind == "rest" or p.symbol == "cl":
                silent[pos:pos + f] = True
            pos += f
        voiced = (np.asarray(params.voiced, dtype=bool) | nucleus) & ~silent
        pitch = phrase.pitch.values
        if len(pitch) < n:
            pitch = np.concatenate([pitch, np.full(n - len(pitch), pitch[-1] if len(pitch) else 60.0)])
        f0_hz = np.where(voiced, midi_to_hz(pitch[:n]), 0.0)
        samples = self._vocode(f0_hz, params.mgc, params.lpf, voiced, cancel)
        hop = int(round(self.sample_rate_hz * FRAME_PERIOD_S))
        samples = samples[: n * hop]
        if len(samples) < n * hop:
            samples = np.concatenate([samples, np.zeros(n * hop - len(samples))])
        fade = min(int(EDGE_FADE_S * self.sample_rate_hz), len(samples) // 2)
        if fade > 0:
            ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade))
            samples[:fade] *= ramp
            samples[-fade:] *= ramp[::-1]
        if phrase.gain_db:
            samples *= 10 ** (phrase.gain_db / 20)
        return Audio(samples.astype(np.float32)[None, :], self.sample_rate_hz)

    def _vocode(self, f0_hz, mgc, lpf, voiced, cancel) -> np.ndarray:
        n = len(f0_hz)
        hop = int(round(self.sample_rate_hz * FRAME_PERIOD_S))
        out = np.zeros(n * hop + hop, dtype=np.float64)
        ov = OVERLAP_FRAMES
        for c0 in range(0, n, CHUNK_FRAMES):
            if cancel is not None:
                cancel.check()
            c1 = min(n, c0 + CHUNK_FRAMES)
            a, b = max(0, c0 - ov), min(n, c1 + ov)
            # HTS mel-cepstra model 16-bit sample values; WORLD wants [-1, 1]
            sp = mcep_to_power_envelope(mgc[a:b], alpha=self.alpha, fft_size=self.fft_size)
            sp /= INT16_FULL_SCALE ** 2
            ap = lpf_to_aperiodicity(lpf[a:b], fft_size=self.fft_size, voiced=voiced[a:b])
            y = world_synthesize(f0_hz[a:b], sp, ap, sample_rate_hz=self.sample_rate_hz,
                                 frame_period_s=FRAME_PERIOD_S)
            # window: ramps over the overlaps, so neighbouring chunks cross-fade
            w = np.ones(len(y))
            if a < c0:
                r = 2 * (c0 - a) * hop
                w[:r] = np.linspace(0.0, 1.0, r)
            if b > c1:
                r = 2 * (b - c1) * hop
                end = (b - a) * hop
                if end <= len(w):
                    w[end - r:end] = np.linspace(1.0, 0.0, r)
                    w[end:] = 0.0
            start = a * hop
            m = min(len(y), len(out) - start)
            out[start:start + m] += (y * w)[:m]
        return out


def make_song070() -> HTSSinger:
    return HTSSinger(SONG070_INFO, find_song070())
