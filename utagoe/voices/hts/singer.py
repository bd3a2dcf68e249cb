"""The built-in singer: an HTS singing voice driven by our own engine.

HTS supplies the spectral envelope (mel-cepstrum), voicing and the excitation
low-pass filter per frame, generated from our labels and our phoneme times;
our own F0 curve drives the vocoder (ours by default, or WORLD).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Iterator, Protocol, Sequence

import numpy as np

from ...audio import Audio
from ...cancel import CancelToken, check
from ...dsp.controls import apply_control_curves
from ...dsp.envelope import compress_log_gain, harmonic_log_amplitude, interpolate_unvoiced
from ...dsp.mcep import INT16_FULL_SCALE, emphasize_formants, lpf_to_aperiodicity, mcep_to_log_amplitude
from ...dsp.vocoders import check_vocoder, vocode_frames
from ...dsp.world import world_fft_size
from ...lyrics.base import PhonemeSet
from ...model.units import midi_to_hz
from ...phrase.phrase import FRAME_PERIOD_S, RenderPhrase
from ...settings import VoiceSettings
from ..base import SingerInfo, digest
from .generate import TreeSearch, generate_parameters
from .tuning import HTSTuning
from .voicecache import load_htsvoice

#: frames per vocoder chunk (bounded memory on long phrases) and their overlap
CHUNK_FRAMES = 2000
OVERLAP_FRAMES = 8
#: with phrase windows, the C heap is trimmed after about this many frames generated
TRIM_FRAMES = 60_000


def _window(i: int, n: int, k: int) -> tuple[int, int]:
    """Phrases ``lo:hi`` of phrase ``i``'s utterance: itself and up to ``k`` on each side."""
    return max(0, i - k), min(n, i + k + 1)


def release_free_heap() -> None:
    """Hand the C heap's free pages back to the system (glibc's ``malloc_trim``;
    elsewhere nothing). The parameter generation of a long track frees hundreds of
    MB of temporaries into a fragmented heap, which glibc would otherwise keep
    resident for the rest of the render (a 30-minute track: about 0.9 GB kept
    while it is vocoded). Changes no value anywhere."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes   # here: a one-note render need not import it

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):   # not glibc (musl has no malloc_trim)
        return
    trim(0)


def _distance_to_false(mask: np.ndarray) -> np.ndarray:
    """For each frame, how many frames away the nearest False frame is (0 on False)."""
    n = len(mask)
    idx = np.arange(n)
    falses = np.flatnonzero(~mask)
    if len(falses) == 0:
        return np.full(n, float(n))
    pos = np.clip(np.searchsorted(falses, idx), 0, len(falses) - 1)
    prev = falses[np.clip(pos - 1, 0, None)]
    nxt = falses[pos]
    return np.minimum(np.abs(idx - prev), np.abs(nxt - idx)).astype(np.float64)


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


def voice_tuning(user: HTSTuning, voice: HTSTuning) -> HTSTuning:
    """The tuning a voice sings with: the user's, where a field is left at
    :class:`HTSTuning`'s default the voice's own value instead. (A user cannot
    tell "left at the default" from "set to the default value": asking mei for
    ``gv_max_ratio=2.0`` gives mei's own 1.25.)"""
    base = HTSTuning()
    own = {f.name: getattr(voice, f.name) for f in fields(HTSTuning)
           if getattr(user, f.name) == getattr(base, f.name)}
    return replace(user, **own)


class UtteranceLabeller(Protocol):
    """Writes the full-context labels of an utterance, one per phoneme of its
    phrases in order, for a voice trained on labels other than the phrases' own
    (Sinsy's): mei's Open JTalk labels (:mod:`utagoe.voices.hts.mei`). The labels
    may depend only on the phrases given (their keys are in the cache keys)."""

    #: names the labeller and its choices in cache keys
    @property
    def name(self) -> str: ...

    def __call__(self, phrases: Sequence[RenderPhrase]) -> list[str]: ...


class HTSSinger:
    """A Voice that sings with an HTS voice file.

    Its audio depends on the whole track: HTS's global variance is a statistic of
    a whole utterance (generated per phrase it over-sharpens the spectrum of
    short phrases and blurs vowels), and the loudness compression measures the
    track's median level. So a track's phrases are generated as one utterance,
    and each phrase's cache key covers every phrase of its track. With
    ``HTSTuning.context_phrases`` k >= 0 each phrase's utterance is instead its
    window (itself and up to k neighbours on each side), and its key covers
    only those: an edit re-sings the phrases whose window holds it.

    ``labeller`` writes an utterance's labels for a voice whose trees ask about
    another label format than the phrases' own Sinsy labels (None: those).
    ``default_tuning`` holds the voice's own values for the fields the settings
    leave at :class:`HTSTuning`'s defaults (a voice measured to need other
    values; None: the settings' tuning as it is); see :func:`voice_tuning`.
    """

    def __init__(self, info: SingerInfo, htsvoice_path: Path, *, phonemes: PhonemeSet,
                 settings: VoiceSettings | None = None,
                 labeller: UtteranceLabeller | None = None,
                 default_tuning: HTSTuning | None = None) -> None:
        settings = settings if settings is not None else VoiceSettings()
        self.vocoder = check_vocoder(settings.vocoder)
        self.tuning = settings.hts
        if default_tuning is not None:
            self.tuning = voice_tuning(self.tuning, default_tuning)
        self.labeller = labeller
        self.info = info
        self.phonemes = phonemes
        self.path = Path(htsvoice_path)
        self.voice = load_htsvoice(self.path, cache_dir=settings.voice_cache_dir)
        self.sample_rate_hz = int(self.voice.sample_rate_hz)
        self.alpha = float(self.voice.alpha)
        self.fft_size = self.tuning.envelope_fft_size or world_fft_size(sample_rate_hz=self.sample_rate_hz)
        self._gv_streams = tuple(name for name, on in (("MCP", True), ("LF0", self.tuning.gv_pitch),
                                                       ("LPF", self.tuning.gv_lpf)) if on)
        try:
            st = os.stat(self.path)
            stamp = f"{st.st_size}|{st.st_mtime_ns}"
        except OSError:
            stamp = ""
        tuning = ",".join(f"{f.name}={getattr(self.tuning, f.name)!r}" for f in fields(self.tuning))
        key_parts = [type(self).__qualname__, info.name, str(self.path), stamp,
                     self.vocoder, tuning, phonemes.name]
        if labeller is not None:
            key_parts += ["labeller", labeller.name]
        self._own_key = digest(*key_parts)

    # -- the Voice contract -------------------------------------------------------------

    def cache_keys(self, phrases: Sequence[RenderPhrase]) -> list[str]:
        """Each phrase's key covers the voice, its settings and every phrase of its
        utterance (in order) with its own place in it: the whole track
        (``context_phrases`` -1), or the phrase and up to ``context_phrases``
        neighbours on each side."""
        own = [p.key() for p in phrases]
        k = self.tuning.context_phrases
        if k < 0:
            track = digest(self._own_key, *own)
            return [digest(track, str(i), key) for i, key in enumerate(own)]
        out = []
        for i in range(len(own)):
            lo, hi = _window(i, len(own), k)
            out.append(digest(self._own_key, "window", str(i - lo), *own[lo:hi]))
        return out

    def track_jobs(self, phrases: Sequence[RenderPhrase], *, need: Sequence[bool],
                   cancel: CancelToken | None = None) -> Iterator[tuple[int, "VocodeJob"]]:
        """A vocoder job for each phrase whose ``need`` flag is set. With
        ``context_phrases`` -1 the parameters of all ``phrases`` are generated as
        one utterance; with k >= 0 each needed phrase's come from an utterance of
        its window (itself and up to k phrases on each side), the tree search
        shared between the windows."""
        phrases = list(phrases)
        need = list(need)
        if not any(need):
            return
        per_phrase = [phoneme_frames(ph) for ph in phrases]
        k = self.tuning.context_phrases
        if k < 0:
            yield from self._utterance_jobs(phrases, per_phrase, need, search=None, cancel=cancel)
            return
        search = TreeSearch(self.voice)
        big = 0
        for i in range(len(phrases)):
            if not need[i]:
                continue
            lo, hi = _window(i, len(phrases), k)
            wanted = [j == i for j in range(lo, hi)]
            for j, job in self._utterance_jobs(phrases[lo:hi], per_phrase[lo:hi], wanted,
                                               search=search, cancel=cancel):
                yield lo + j, job
            big += sum(sum(fr) for fr in per_phrase[lo:hi])
            if big > TRIM_FRAMES:   # long windows: give their temporaries back now and then
                release_free_heap()
                big = 0

    # -- inside ---------------------------------------------------------------------------

    def _utterance_jobs(self, phrases: list[RenderPhrase], per_phrase: list[list[int]],
                        need: list[bool], *, search: "TreeSearch | None",
                        cancel: CancelToken | None) -> Iterator[tuple[int, "VocodeJob"]]:
        """Generate ``phrases`` as one utterance (GV and the loudness compression's
        median over all of it) and a vocoder job for each phrase whose ``need`` is set."""
        t = self.tuning
        labels = self._labels(phrases)
        frames = [f for fr in per_phrase for f in fr]
        mgc, lf0, voiced, lpf = self._generate(labels, frames, search=search)
        if search is None:
            release_free_heap()
        check(cancel)
        if t.postfilter_beta != 0:  # formant emphasis, energy kept per frame
            mgc = emphasize_formants(mgc, beta=t.postfilter_beta, alpha=self.alpha)
        # the envelope's harmonic ripple belongs to the voice's own F0, not ours
        model_f0_hz = interpolate_unvoiced(np.exp(lf0))
        # compress the slow loudness swings (c0 is the log gain) over the sung vowels
        silent = self.phonemes.silent_nuclei
        vowel_frames = np.concatenate([
            np.repeat([p.kind == "vowel" and p.symbol not in silent for p in ph.phonemes], fr)
            for ph, fr in zip(phrases, per_phrase)])
        rest_frames = np.concatenate([np.repeat([p.kind == "rest" for p in ph.phonemes], fr)
                                      for ph, fr in zip(phrases, per_phrase)])
        gain = compress_log_gain(mgc[:, 0], vowel_frames, ratio=t.dynamics_ratio,
                                 smooth_frames=t.dynamics_smooth_frames)
        mgc[:, 0] += np.where(rest_frames, np.minimum(gain, 0.0), gain)  # rests never get louder
        pos = 0
        for i, (ph, fr) in enumerate(zip(phrases, per_phrase)):
            n = sum(fr)
            if need[i]:
                yield i, self._prepare(ph, fr, mgc[pos:pos + n], lpf[pos:pos + n],
                                       voiced[pos:pos + n], model_f0_hz[pos:pos + n],
                                       rest_frames[pos:pos + n])
            pos += n

    def _labels(self, phrases: list[RenderPhrase]) -> list[str]:
        """The utterance's labels, one per phoneme: the phrases' own, or the labeller's."""
        if self.labeller is None:
            return [lab for ph in phrases for lab in ph.labels]
        labels = list(self.labeller(phrases))
        if len(labels) != sum(len(ph.phonemes) for ph in phrases):
            raise ValueError("the labeller must give one label per phoneme")
        return labels

    def _generate(self, labels: list[str], frames: list[int], *, search: "TreeSearch | None" = None):
        """(mgc, lf0, voiced, lpf) per frame. HTS needs five frames per phoneme (one
        per state); where absurdly short notes leave fewer, the parameters are
        generated at an ``m`` times finer frame rate and averaged back."""
        total = sum(frames)
        need = self.voice.num_states * len(labels)
        m = max(1, -(-need // max(total, 1)))
        params = generate_parameters(self.voice, labels, [f * m for f in frames],
                                     duration_fit=self.tuning.duration_fit,
                                     gv_max_ratio=self.tuning.gv_max_ratio, use_gv=self.tuning.use_gv,
                                     gv_spectrum_orders=self.tuning.gv_spectrum_orders,
                                     gv_streams=self._gv_streams, search=search)
        mgc, lf0 = np.array(params.mgc), np.asarray(params.lf0)
        voiced, lpf = np.asarray(params.voiced), np.asarray(params.lpf)
        if m > 1:
            def pool(x):
                return x.reshape(total, m, *x.shape[1:]).mean(axis=1)
            finite = np.isfinite(lf0)
            count = pool(finite.astype(np.float64))
            with np.errstate(invalid="ignore", divide="ignore"):
                lf0 = np.where(count > 0, pool(np.where(finite, lf0, 0.0)) / count, -np.inf)
            mgc, lpf, voiced = pool(mgc), pool(lpf), pool(voiced.astype(np.float64)) >= 0.5
        return mgc, lf0, voiced, lpf

    def _prepare(self, phrase, frames, mgc, lpf, hts_voiced, model_f0_hz, rest) -> "VocodeJob":
        """Everything the vocoder needs for one phrase, as plain arrays."""
        n = sum(frames)
        t = self.tuning
        ps = self.phonemes
        # voicing: sounding nuclei and voiced consonants always; rests and silent
        # nuclei (cl) never; HTS decides the rest
        kinds = np.repeat(np.array([
            1 if (p.kind == "vowel" and p.symbol in ps.sung_nuclei) or p.symbol in ps.voiced_consonants
            else -1 if (p.kind == "rest" or p.symbol in ps.silent_nuclei) else 0
            for p in phrase.phonemes]), frames)
        voiced = (np.asarray(hts_voiced, dtype=bool) | (kinds == 1)) & (kinds != -1)
        pitch = phrase.pitch.values
        if len(pitch) < n:
            pitch = np.concatenate([pitch, np.full(n - len(pitch), pitch[-1] if len(pitch) else 60.0)])
        f0_hz = np.where(voiced, midi_to_hz(pitch[:n]), 0.0)
        if not np.any(model_f0_hz > 0) or t.harmonic_pitch == "sung":
            model_f0_hz = f0_hz
        # frames without a model F0, and frames sung far below it, keep the
        # generated envelope as it is
        keep = voiced & t.harmonic_envelope
        if t.harmonic_min_ratio > 0:
            keep &= f0_hz >= t.harmonic_min_ratio * model_f0_hz
        model_f0_hz = np.where(keep, model_f0_hz, 0.0)
        # rests fade to silence within rest_fade_frames of the sung phonemes around them
        dist = _distance_to_false(rest)
        log_gain = np.log(10.0) / 20.0 * t.rest_floor_db * np.clip(dist / t.rest_fade_frames, 0.0, 1.0)
        log_gain += np.log(10.0) / 20.0 * phrase.gain_db
        log_gain += _intensity_log_gain(phrase, frames, floor_db=t.rest_floor_db)
        controls = {}
        if phrase.controls is not None:
            for name, values in phrase.controls.items():
                v = np.asarray(values, dtype=np.float64)[:n]
                controls[name] = np.concatenate([v, np.full(n - len(v), v[-1])]) if len(v) < n else v
        return VocodeJob(f0_hz=f0_hz, mgc=np.ascontiguousarray(mgc), lpf=np.ascontiguousarray(lpf),
                         voiced=voiced, model_f0_hz=model_f0_hz, log_gain=log_gain, alpha=self.alpha,
                         fft_size=self.fft_size, sample_rate_hz=self.sample_rate_hz,
                         vocoder=self.vocoder, edge_fade_s=t.edge_fade_s, controls=controls,
                         harmonic_peak_search=t.harmonic_peak_search)


def _intensity_log_gain(phrase: RenderPhrase, frames: list[int], *, floor_db: float) -> np.ndarray | float:
    """Each note's intensity (UST ``Intensity``, OpenUtau ``vol``; 100 % keeps the
    level) as a natural-log gain on the frames of its phonemes, consonants included;
    0 % falls to ``floor_db``."""
    pct = {n.index: n.intensity_pct for n in phrase.notes if n.intensity_pct != 100.0}
    if not pct:
        return 0.0
    floor = 10.0 ** (floor_db / 20.0)
    per_phoneme = [max(pct.get(p.note_index, 100.0) / 100.0, floor) for p in phrase.phonemes]
    return np.log(np.repeat(per_phoneme, frames))


@dataclass(frozen=True, slots=True, eq=False)
class VocodeJob:
    """One phrase's frames for the vocoder: picklable, so worker processes can take it."""

    f0_hz: np.ndarray
    mgc: np.ndarray
    lpf: np.ndarray
    voiced: np.ndarray
    model_f0_hz: np.ndarray
    log_gain: np.ndarray
    alpha: float
    fft_size: int
    sample_rate_hz: int
    vocoder: str
    edge_fade_s: float
    #: how far each harmonic looks for its peak (:func:`~utagoe.dsp.envelope.harmonic_log_amplitude`)
    harmonic_peak_search: float
    #: the phrase's voice controls per frame, by name (:mod:`utagoe.dsp.controls`)
    controls: dict[str, np.ndarray] = field(default_factory=dict)

    def run(self, *, cancel: CancelToken | None = None) -> Audio:
        """The phrase's audio (a :class:`~utagoe.voices.base.RenderJob`)."""
        return Audio(vocode(self, cancel=cancel)[None, :], self.sample_rate_hz)


def vocode(job: VocodeJob, *, cancel: CancelToken | None = None) -> np.ndarray:
    """The phrase's samples (float32, frames * hop), faded in and out at its edges.

    Long phrases are vocoded in chunks of CHUNK_FRAMES that cross-fade over
    OVERLAP_FRAMES, so memory stays bounded.
    """
    rate = job.sample_rate_hz
    n = len(job.f0_hz)
    hop = int(round(rate * FRAME_PERIOD_S))
    out = np.zeros(n * hop + hop, dtype=np.float32)
    ov = OVERLAP_FRAMES
    cuts = _chunk_cuts(job.f0_hz, chunk_frames=CHUNK_FRAMES, overlap_frames=ov)
    for c0, c1 in zip(cuts, cuts[1:]):
        check(cancel)
        a, b = max(0, c0 - ov), min(n, c1 + ov)
        la = mcep_to_log_amplitude(job.mgc[a:b], alpha=job.alpha, fft_size=job.fft_size,
                                   dtype=np.float32)
        la = harmonic_log_amplitude(la, job.model_f0_hz[a:b], sample_rate_hz=rate,
                                    peak_search=job.harmonic_peak_search)
        # HTS mel-cepstra model 16-bit sample values; the vocoders want [-1, 1]
        # (single precision, as the vocoder works)
        sp = la   # (the harmonic envelope's own float32 array)
        sp += (job.log_gain[a:b] - np.log(INT16_FULL_SCALE)).astype(np.float32)[:, None]
        sp *= 2.0
        np.exp(sp, out=sp)
        ap = lpf_to_aperiodicity(job.lpf[a:b], fft_size=job.fft_size, voiced=job.voiced[a:b],
                                 dtype=np.float32)
        if job.controls:
            # (the controls work in double precision)
            sp, ap = apply_control_curves(job.f0_hz[a:b], sp.astype(np.float64), ap.astype(np.float64),
                                          {k: v[a:b] for k, v in job.controls.items()},
                                          sample_rate_hz=rate)
        y = vocode_frames(job.vocoder, job.f0_hz[a:b], sp, ap, sample_rate_hz=rate,
                          frame_period_s=FRAME_PERIOD_S, seed=c0)
        # window: ramps over the overlaps, so neighbouring chunks cross-fade
        start = a * hop
        m = min(len(y), len(out) - start)
        if a == c0 and b == c1:   # one chunk: nothing to cross-fade
            out[start:start + m] += y[:m]
            continue
        w = np.ones(len(y), dtype=np.float32)
        if a < c0:
            r = 2 * (c0 - a) * hop
            w[:r] = np.linspace(0.0, 1.0, r)
        if b > c1:
            r = 2 * (b - c1) * hop
            end = (b - a) * hop
            if end <= len(w):
                w[end - r:end] = np.linspace(1.0, 0.0, r)
                w[end:] = 0.0
        out[start:start + m] += (y * w)[:m]
    samples = out[: n * hop]
    fade = min(int(job.edge_fade_s * rate), len(samples) // 2)
    if fade > 0:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade))
        samples[:fade] *= ramp
        samples[-fade:] *= ramp[::-1]
    return samples


def _chunk_cuts(f0_hz: np.ndarray, *, chunk_frames: int, overlap_frames: int) -> list[int]:
    """Frame indices that cut a phrase into vocoder chunks of at most
    ``chunk_frames``: where it can, in the middle of an unvoiced stretch (a
    consonant), so the cross-fade never mixes two pulse trains."""
    n = len(f0_hz)
    cuts = [0]
    unvoiced = np.asarray(f0_hz) <= 0
    while n - cuts[-1] > chunk_frames:
        lo, hi = cuts[-1] + chunk_frames // 2, cuts[-1] + chunk_frames
        cut = hi
        # unvoiced frames whose whole cross-fade window is unvoiced too
        window = np.convolve(unvoiced[lo - overlap_frames:hi + overlap_frames].astype(np.int64),
                             np.ones(2 * overlap_frames + 1, dtype=np.int64), mode="valid")
        quiet = np.flatnonzero(window == 2 * overlap_frames + 1)
        if len(quiet):
            cut = lo + int(quiet[-1])
        cuts.append(cut)
    cuts.append(n)
    return cuts
