"""Rendering tracks: each from the cache first, then every track's jobs in one stream on
the worker pool, each phrase placed on its track's stem as it comes back."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ..audio import Audio
from ..cancel import CancelToken, check
from ..errors import VoiceError
from ..voices.base import RenderJob
from ..mix.mixer import place, resample
from ..mix.resample import MAX_ABS_SAMPLE
from .cache import RenderCache
from .plan import TrackPlan
from .workers import WorkerPool


class MemoryStem:
    """A track's stem held whole in memory (what :class:`~utagoe.rendering.engine.RenderResult`
    gives back): float32, ``num_samples`` long."""

    def __init__(self, num_samples: int) -> None:
        # np.zeros takes its pages from the system as they are first written
        self.samples = np.zeros(num_samples, dtype=np.float32)

    def add(self, audio: Audio, *, start_sample: int) -> None:
        place(audio, self.samples, start_sample=start_sample)

    def hold(self, audio: Audio) -> object:
        """Keep a phrase that came before its turn (here: as it is)."""
        return audio

    def take(self, held: object) -> Audio:
        assert isinstance(held, Audio)
        return held

    def release(self, before_sample: int) -> None:
        """Nothing will be added before ``before_sample`` any more (kept: held whole)."""

    def finish(self) -> None:
        pass

    def audio(self, sample_rate_hz: int) -> Audio:
        return Audio(self.samples[None, :], sample_rate_hz)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``start .. stop`` (float32, a view)."""
        return self.samples[start:stop]

    def close(self) -> None:
        pass


class SpooledStem:
    """A track's stem written to an unnamed temporary file as soon as no phrase can
    add to it any more, so memory holds only the samples still being added to
    (about one phrase). :meth:`read` gives any stretch back. The file is in
    ``folder`` (the output's folder: a temporary folder may live in memory) and
    disappears when closed, or with the process.

    The samples are those of :class:`MemoryStem`: phrases are added in the same
    order with the same float32 additions."""

    #: the most bytes of silence written at once
    _ZEROS = 1 << 18

    def __init__(self, num_samples: int, *, folder: str | os.PathLike) -> None:
        self.num_samples = num_samples
        self.folder = os.fspath(folder)
        # BufferedRandom (typeshed types TemporaryFile by platform)
        self.file: Any = tempfile.TemporaryFile(dir=self.folder, prefix=".utagoe-", suffix=".tmp")
        self.pos = 0                                # samples before it are in the file
        self.buf = np.zeros(0, dtype=np.float32)    # samples pos .. pos + len(buf)
        # phrases sung before their turn wait in a second file (the workers sing
        # from the front of the track and this process from its end)
        self.side: Any = None
        self.parked = 0

    def hold(self, audio: Audio) -> object:
        """Keep a phrase that came before its turn, on disk; :meth:`take` gives it back."""
        if audio.channels != 1:
            return audio
        if self.side is None:
            self.side = tempfile.TemporaryFile(dir=self.folder, prefix=".utagoe-", suffix=".tmp")
        offset = self.side.seek(0, os.SEEK_END)
        x = np.ascontiguousarray(audio.samples[0], dtype=np.float32)
        self.side.write(x.data)
        self.parked += 1
        return _Parked(offset, len(x), audio.sample_rate)

    def take(self, held: object) -> Audio:
        if isinstance(held, Audio):
            return held
        assert isinstance(held, _Parked) and self.side is not None
        x = _read_exactly(self.side, held.offset, held.num_samples)
        self.parked -= 1
        if self.parked == 0:   # nothing waits: the file starts again empty
            self.side.seek(0)
            self.side.truncate()
        return Audio(x[None, :], held.sample_rate)

    def add(self, audio: Audio, *, start_sample: int) -> None:
        x = audio.samples[0]
        a, b = start_sample, start_sample + len(x)
        lo, hi = max(a, 0), min(b, self.num_samples)
        if hi <= lo:
            return
        if lo < self.pos:
            raise RuntimeError(f"a phrase added at sample {lo}, before the stem's "
                               f"released part ({self.pos})")
        if hi - self.pos > len(self.buf):
            grown = np.zeros(hi - self.pos, dtype=np.float32)
            grown[:len(self.buf)] = self.buf
            self.buf = grown
        self.buf[lo - self.pos:hi - self.pos] += x[lo - a:hi - a]

    def release(self, before_sample: int) -> None:
        """Nothing will be added before ``before_sample`` any more: write it out."""
        until = min(before_sample, self.num_samples)
        if until <= self.pos:
            return
        k = until - self.pos
        held = min(k, len(self.buf))
        if held:
            self.file.write(self.buf[:held].data)
        gap = k - held   # silence between the phrases
        while gap > 0:
            z = min(gap, self._ZEROS)
            self.file.write(bytes(4 * z))
            gap -= z
        self.buf = self.buf[held:].copy()
        self.pos = until

    def finish(self) -> None:
        self.release(self.num_samples)
        self.file.flush()

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``start .. stop`` (float32) of a finished stem."""
        return _read_exactly(self.file, 4 * start, max(0, stop - start))

    def close(self) -> None:
        self.file.close()
        if self.side is not None:
            self.side.close()


@dataclass(frozen=True, slots=True)
class _Parked:
    offset: int
    num_samples: int
    sample_rate: int


def _read_exactly(f: Any, offset: int, count: int) -> np.ndarray:
    """``count`` float32 samples from byte ``offset`` of ``f``."""
    out = np.empty(count, dtype=np.float32)
    view = out.data.cast("B")
    f.seek(offset)
    got = 0
    while got < len(view):
        n = f.readinto(view[got:])
        if not n:
            raise OSError(f"a temporary audio file ended at byte {offset + got}")
        got += n
    return out


Stem = MemoryStem | SpooledStem


@dataclass(frozen=True, slots=True, eq=False)
class TrackRender:
    #: the track as sung, mono, on the song's clock, before its volume and pan
    #: (None when the stem was spooled: see ``stem``)
    audio: Audio | None
    rendered: int
    cached: int
    stem: Stem | None = None


def _checked(audio: object, plan: TrackPlan, index: int) -> Audio:
    phrase = plan.phrases[index]
    who = f"voice {plan.voice.info.name!r}, phrase at {phrase.start_s:.2f} s"
    if not isinstance(audio, Audio) or audio.channels != 1:
        raise VoiceError(f"{who}: a voice must return mono Audio, got {audio!r:.80}")
    if audio.sample_rate != plan.voice.sample_rate_hz:
        raise VoiceError(f"{who}: audio at {audio.sample_rate} Hz, but the voice declares "
                         f"{plan.voice.sample_rate_hz} Hz")
    if not np.all(np.isfinite(audio.samples)):
        raise VoiceError(f"{who}: the audio holds NaN or infinite samples")
    if audio.num_samples and float(np.max(np.abs(audio.samples))) > MAX_ABS_SAMPLE:
        raise VoiceError(f"{who}: the audio holds samples beyond +-{MAX_ABS_SAMPLE:g} "
                         "(full scale is 1)")
    return audio


class TrackSink:
    """Where the sung phrases of one track go: the cache is asked first, the voice's
    jobs for the rest come from :meth:`jobs`, each result is handed to
    :meth:`accept`, and :meth:`finish` gives the :class:`TrackRender`.

    Phrases are placed in their order as soon as they and all before them are
    there, and their audio is let go (the cache, if any, keeps its own); the stem
    is told what no later phrase reaches, so a :class:`SpooledStem` holds little."""

    def __init__(self, plan: TrackPlan, *, num_samples: int, sample_rate_hz: int,
                 cache: RenderCache | None = None,
                 advance: Callable[[int], None] = lambda n: None, stem: Stem | None = None) -> None:
        self.plan, self.cache, self.advance = plan, cache, advance
        self.sample_rate_hz = sample_rate_hz
        self.held = stem if stem is not None else MemoryStem(num_samples)
        n = self.n = len(plan.phrases)
        self.starts = [int(round(p.start_s * sample_rate_hz)) for p in plan.phrases]
        # after phrase i, nothing is added before the earliest start of the phrases after it
        self.final_before = [num_samples] * n
        for i in range(n - 2, -1, -1):
            self.final_before[i] = min(self.starts[i + 1], self.final_before[i + 1])
        self.waiting: dict[int, object] = {}
        self.placed = 0
        self.rendered = 0
        self.need = [True] * n
        if cache is not None:
            for i, k in enumerate(plan.keys):
                a = cache.get(k)
                if a is not None:
                    self.waiting[i] = a
                    self.need[i] = False
        self.cached = n - self.need.count(True)
        if self.cached:
            advance(self.cached)
        self._place_ready()
        #: the phrases asked of the voice (``need`` changes as phrases come back)
        self.asked = list(self.need)

    @property
    def audio_s(self) -> float:
        """How much audio the voice is asked for."""
        return sum(p.end_s - p.start_s for p, k in zip(self.plan.phrases, self.asked) if k)

    def jobs(self, cancel: CancelToken | None = None) -> Iterator[tuple[int, RenderJob]]:
        """The voice's jobs for the phrases the cache did not have (made lazily: the
        HTS singer generates the track's parameters when the first is asked for)."""
        if any(self.asked):
            yield from self.plan.voice.track_jobs(self.plan.phrases, need=self.asked, cancel=cancel)

    def _place_ready(self) -> None:
        held = self.held
        while self.placed < self.n and self.placed in self.waiting:
            i = self.placed
            sung = held.take(self.waiting.pop(i))
            held.add(resample(sung, sample_rate_hz=self.sample_rate_hz), start_sample=self.starts[i])
            held.release(self.final_before[i])
            self.placed += 1

    def accept(self, i: int, audio: object) -> None:
        """Phrase ``i`` as the voice's job sang it: checked, cached, placed when its turn comes."""
        plan = self.plan
        if not (0 <= i < self.n) or not self.need[i] or i in self.waiting or i < self.placed:
            raise VoiceError(f"voice {plan.voice.info.name!r} returned phrase {i}, which "
                             "was not asked for")
        checked = _checked(audio, plan, i)
        self.need[i] = False
        if self.cache is not None:
            self.cache.put(plan.keys[i], checked)
        self.waiting[i] = checked if i == self.placed else self.held.hold(checked)
        self.rendered += 1
        self.advance(1)
        self._place_ready()

    def finish(self) -> TrackRender:
        """The track, once every phrase is placed (else :class:`VoiceError`)."""
        plan, held = self.plan, self.held
        if self.placed < self.n:
            missing = [i for i in range(self.placed, self.n) if i not in self.waiting]
            raise VoiceError(f"voice {plan.voice.info.name!r} gave no audio for {len(missing)} "
                             f"phrase(s), the first at {plan.phrases[missing[0]].start_s:.2f} s")
        held.finish()
        if isinstance(held, MemoryStem):
            return TrackRender(held.audio(self.sample_rate_hz), self.rendered, self.cached, held)
        return TrackRender(None, self.rendered, self.cached, held)


def sing_tracks(sinks: Sequence[TrackSink], *, pool: WorkerPool,
                cancel: CancelToken | None = None) -> list[TrackRender]:
    """Every track's jobs on one pool, in one stream: while the workers sing one
    track's phrases, this process makes the next track's jobs (the HTS singer's
    parameter generation), then sings from the end of the list with them."""
    check(cancel)

    def stream() -> Iterator[tuple[tuple[int, int], RenderJob]]:
        for t, sink in enumerate(sinks):
            for i, job in sink.jobs(cancel):
                yield (t, i), job

    audio_s = sum(s.audio_s for s in sinks)
    if audio_s > 0:
        for (t, i), audio in pool.run(stream(), cancel=cancel, audio_s=audio_s):
            sinks[t].accept(i, audio)
    return [s.finish() for s in sinks]
