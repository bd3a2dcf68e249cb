"""An UTAU voicebank as a utagoe voice: oto.ini aliases, our WORLD resampler, UTAU's joins.

:class:`UtauVoice` implements the voice contract (:mod:`utagoe.voices.base`)
phrase by phrase. Before anything is sung (:meth:`UtauVoice.check`, called by
the render plan) every note's lyric is resolved to oto.ini aliases
(:mod:`.aliases`) and every sample it needs is checked (readable, region
inside the file); a bad entry is reported with its oto.ini line and the next
candidate alias is used. A phrase's job then places the samples
(:mod:`.placement`), has each one resampled to its pitch curve and length
(:mod:`.resampler`, with the analysis cached on disk by :mod:`.analysis`),
applies the note's envelope and cross-fades them, as UTAU's wavtool does.
"""
from __future__ import annotations

import math
import os
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ...audio import Audio
from ...cancel import CancelToken, check
from ...errors import InvalidValueError, VoiceError
from ...model.curves import Curve
from ...phrase.phrase import PhraseControls, RenderPhrase
from ..base import PhraseVoice, RenderJob, SingerInfo, digest
from .aliases import AliasRequest, NoteAliases, resolve_phrase
from .analysis import ANALYSIS_VERSION, AnalysisCache
from .placement import Unit, place_units
from .resampler import ResampleRequest, resample
from .voicebank import OtoEntry, Voicebank

#: bump when what a phrase sounds like changes for the same bank and score
SINGER_VERSION = 2
#: the rate a voicebank sings at: the mix's default, so no audio is resampled
#: (the resampler sings there directly from the 44.1 kHz analysis)
OUTPUT_RATE_HZ = 48000
#: output frames of the pitch handed to the resampler
PITCH_FRAME_S = 0.005
#: phrases whose resolved aliases a voice remembers
MAX_RESOLVED_PHRASES = 20_000
#: fade at a sample cut by the phrase's start or end
EDGE_FADE_S = 0.005


def bank_info(bank: Voicebank, name: str) -> SingerInfo:
    """What ``utagoe singers`` shows of a voicebank."""
    credit = bank.author or "the voicebank's author (see its readme)"
    return SingerInfo(
        name=name, display_name=bank.name, language="ja",
        licence=bank.licence_line or "see the voicebank's readme and terms",
        credit=credit, description=f"UTAU voicebank at {bank.root}")


def _midi_to_hz(m: np.ndarray) -> np.ndarray:
    return 440.0 * np.power(2.0, (m - 69.0) / 12.0)


def envelope_gain(envelope: Sequence[float], length_s: float, times_s: np.ndarray) -> np.ndarray | None:
    """UTAU's note envelope ``p1,p2,p3,v1,v2,v3,v4[,p4[,p5,v5]]`` (ms, %) as a gain
    at ``times_s`` from the sample's start; None when the note has no envelope.

    The points are ``(p1, v1)``, ``(p1+p2, v2)`` [``(p1+p2+p5, v5)``],
    ``(L-p4-p3, v3)``, ``(L-p4, v4)`` with ``L`` the sample's length; the gain is 0
    before the first and after the last, linear between."""
    if len(envelope) < 7:
        return None
    p1, p2, p3, v1, v2, v3, v4 = (float(x) for x in envelope[:7])
    p4 = float(envelope[7]) if len(envelope) >= 8 else 0.0
    length_ms = length_s * 1000.0
    xs = [p1, p1 + p2]
    ys = [v1, v2]
    if len(envelope) >= 10:
        xs.append(p1 + p2 + float(envelope[8]))
        ys.append(float(envelope[9]))
    xs += [length_ms - p4 - p3, length_ms - p4]
    ys += [v3, v4]
    xs_a = np.maximum.accumulate(np.clip(np.asarray(xs), 0.0, length_ms))
    gain = np.interp(times_s * 1000.0, xs_a, np.asarray(ys) / 100.0, left=0.0, right=0.0)
    return np.clip(gain, 0.0, 2.0)


def _clamp(v: float, lo: float, hi: float) -> float:
    return min(max(float(v), lo), hi)


def _ramp(fade: int, *, rising: bool) -> np.ndarray:
    r = (np.arange(fade) + 0.5) / fade
    return r if rising else r[::-1]


@dataclass(frozen=True, slots=True, eq=False)
class UtauPhraseJob:
    """Sing one phrase: its units, its pitch, and where to find the analyses."""

    units: tuple[Unit, ...]
    start_s: float
    end_s: float
    pitch: Curve
    cache: AnalysisCache
    #: the vocoder each sample is sung through (:mod:`utagoe.dsp.vocoders`)
    vocoder: str = "utagoe"
    #: the phrase's voice controls, on the pitch curve's grid
    controls: PhraseControls | None = None

    def run(self, *, cancel: CancelToken | None = None) -> Audio:
        rate = OUTPUT_RATE_HZ
        total = int(round((self.end_s - self.start_s) * rate))
        buf = np.zeros(total, dtype=np.float64)
        for k, unit in enumerate(self.units):
            check(cancel)
            sung = self._sing(unit, seed=k)
            first = int(round((unit.start_s - self.start_s) * rate))
            lo, hi = max(first, 0), min(first + len(sung), total)
            if hi <= lo:
                continue
            piece = sung[lo - first:hi - first].astype(np.float64)
            fade = min(int(EDGE_FADE_S * rate), len(piece) // 2)
            if first < 0 and fade:  # cut by the phrase's start
                piece[:fade] *= _ramp(fade, rising=True)
            if first + len(sung) > total and fade:  # cut by the phrase's end
                piece[-fade:] *= _ramp(fade, rising=False)
            buf[lo:hi] += piece
        return Audio(buf.astype(np.float32)[None, :], rate)

    def _sing(self, unit: Unit, *, seed: int) -> np.ndarray:
        rate = OUTPUT_RATE_HZ
        e, note = unit.entry, unit.note
        length_s = unit.length_s + unit.skip_s
        frames = int(math.ceil(length_s / PITCH_FRAME_S)) + 1
        times = unit.start_s - unit.skip_s + np.arange(frames) * PITCH_FRAME_S
        curve_t = self.pitch.times_s()
        midi = np.interp(times, curve_t, self.pitch.values) if len(curve_t) else np.full(
            frames, float(note.pitch))
        try:
            # the project's values are clamped to UTAU's ranges, as UTAU's own UI does
            request = ResampleRequest(
                offset_ms=max(0.0, e.offset_ms), consonant_ms=max(0.0, e.consonant_ms),
                cutoff_ms=e.cutoff_ms, length_ms=length_s * 1000.0,
                velocity_pct=_clamp(note.velocity_pct, 0.0, 200.0),
                intensity_pct=_clamp(note.intensity_pct, 0.0, 1000.0),
                modulation_pct=_clamp(note.modulation_pct, -200.0, 200.0), flags=note.flags)
            controls = (self.controls.at(times, self.pitch.start_s, self.pitch.period_s)
                        if self.controls is not None else None)
            out = np.asarray(resample(self.cache.get(e.wav_path), request, _midi_to_hz(midi),
                                      output_rate_hz=rate, vocoder=self.vocoder, seed=seed,
                                      controls=controls),
                             dtype=np.float64)
        except (VoiceError, InvalidValueError) as exc:
            raise VoiceError(f"{e.source}: alias {e.alias!r} for {note.describe()}: {exc}") from None
        skip = int(round(unit.skip_s * rate))
        out = out[skip:skip + int(round(unit.length_s * rate))]
        n = len(out)
        if n == 0:
            return out
        if unit.role == "note" and note.envelope:
            gain = envelope_gain(note.envelope, n / rate, np.arange(n) / rate)
            if gain is not None:
                out = out * gain
        fi = min(int(round(unit.fade_in_s * rate)), n // 2)
        fo = min(int(round(unit.fade_out_s * rate)), n // 2)
        if fi:
            out[:fi] *= _ramp(fi, rising=True)
        if fo:
            out[-fo:] *= _ramp(fo, rising=False)
        return out


class UtauVoice(PhraseVoice):
    """A voicebank folder that sings (see the module documentation)."""

    sample_rate_hz = OUTPUT_RATE_HZ

    def __init__(self, bank: Voicebank, *, name: str, cache: AnalysisCache,
                 vocoder: str = "utagoe") -> None:
        self.bank = bank
        self.vocoder = vocoder
        self.info = bank_info(bank, name)
        self.cache = cache
        self._durations_ms: dict[Path, float | str] = {}
        self._bad: dict[str, str] = {}  # entry source -> why it cannot be sung
        # phrase key -> its aliases and warnings; bounded, as a long-lived program
        # renders edit after edit with the same voice
        self._resolved: OrderedDict[str, tuple[list[NoteAliases | None], list[str]]] = OrderedDict()
        self._stamp = self._bank_stamp()

    # -- the contract ------------------------------------------------------------------

    def settings_key(self) -> str:
        return f"{self._stamp}|{self.vocoder}"

    def check(self, phrases: Sequence[RenderPhrase], *, where: str = "") -> list[str]:
        """Resolve every phrase's lyrics and check the samples they need; returns the
        warnings (fallbacks, bad oto entries); raises VoiceError if a note cannot be
        sung at all."""
        warnings: list[str] = []
        for phrase in phrases:
            _, w = self._resolve(phrase, where=where)
            warnings.extend(x for x in w if x not in warnings)
        warnings.extend(x for x in self._bad.values() if x not in warnings)
        if self.bank.warnings:
            n = len(self.bank.warnings)
            shown = "; ".join(self.bank.warnings[:3])
            more = f"; and {n - 3} more (see 'utagoe singers show {self.info.name}')" if n > 3 else ""
            warnings.append(f"voicebank {self.bank.root}: {n} problem(s) left entries out: "
                            f"{shown}{more}")
        warnings.extend(self.cache.problems)
        return warnings

    def sings_as_written(self, lyric: str) -> bool:
        """Is ``lyric`` one of the bank's own aliases (``breath``, ``a かC4``)?"""
        return bool(lyric.strip()) and lyric in self.bank.entries

    def cache_keys(self, phrases: Sequence[RenderPhrase]) -> list[str]:
        own = f"utau|{SINGER_VERSION}|{ANALYSIS_VERSION}|{self.info.name}|{self.settings_key()}"
        keys = []
        for phrase in phrases:
            aliases, _ = self._resolve(phrase)
            used = repr([None if a is None else ([_entry_id(e) for e in a.parts],
                                                 a.tail and _entry_id(a.tail)) for a in aliases])
            # the notes and the pitch, not the labels: they describe the neighbours too
            keys.append(digest(own, phrase.key(labels=False), used))
        return keys

    def track_jobs(self, phrases: Sequence[RenderPhrase], *, need: Sequence[bool],
                   cancel: CancelToken | None = None) -> Iterator[tuple[int, RenderJob]]:
        for i, (phrase, wanted) in enumerate(zip(phrases, need)):
            if wanted:
                check(cancel)
                yield i, self.job(phrase)

    def render(self, phrase: RenderPhrase, *, cancel: CancelToken | None = None) -> Audio:
        return self.job(phrase).run(cancel=cancel)

    def job(self, phrase: RenderPhrase) -> UtauPhraseJob:
        aliases, _ = self._resolve(phrase)
        units = tuple(place_units(phrase.notes, aliases))
        return UtauPhraseJob(units, phrase.start_s, phrase.end_s, phrase.pitch, self.cache,
                             self.vocoder, phrase.controls)

    # -- inside ------------------------------------------------------------------------

    def _bank_stamp(self) -> str:
        """Changes when any oto.ini of the bank changes."""
        parts = [str(self.bank.root)]
        for e in sorted({e.source.rsplit(":", 1)[0] for es in self.bank.entries.values() for e in es}):
            try:
                st = os.stat(self.bank.root / e)
                parts.append(f"{e}|{st.st_size}|{st.st_mtime_ns}")
            except OSError:
                parts.append(f"{e}|gone")
        return digest(*parts)

    def _resolve(self, phrase: RenderPhrase, *, where: str = "") -> tuple[list[NoteAliases | None], list[str]]:
        key = phrase.key(labels=False)
        if key in self._resolved:
            self._resolved.move_to_end(key)
            return self._resolved[key]
        requests = []
        for k, n in enumerate(phrase.notes):
            requests.append(AliasRequest(
                lyric=n.lyric, pitch=n.pitch, syllables=n.syllables, continuation=n.continuation,
                phrase_start=(k == 0), label=n.describe()))
        bank = self.bank
        while True:
            aliases, warnings = resolve_phrase(bank, requests, where=where)
            bad = [e for a in aliases if a is not None
                   for e in (*a.parts, *((a.tail,) if a.tail else ())) if not self._usable(e)]
            if not bad:
                break
            # leave the bad entries out and resolve again: the next candidate sings
            drop = {_entry_id(e) for e in bad}
            bank = replace(bank, entries={
                alias: kept for alias, es in bank.entries.items()
                if (kept := tuple(e for e in es if _entry_id(e) not in drop))})
        self._resolved[key] = (aliases, warnings)
        while len(self._resolved) > MAX_RESOLVED_PHRASES:
            self._resolved.popitem(last=False)
        return aliases, warnings

    def _usable(self, entry: OtoEntry) -> bool:
        """Is the entry's sample readable and its region inside it? (Reported once.)"""
        if entry.source in self._bad:
            return False
        dur = self._durations_ms.get(entry.wav_path)
        if dur is None:
            try:
                import soundfile

                info = soundfile.info(str(entry.wav_path))
                dur = 1000.0 * info.frames / info.samplerate
                if not (info.frames > 0 and info.samplerate > 0):
                    dur = "it holds no audio"
            except Exception as exc:  # any unreadable file is a bad entry, never a crash
                dur = f"it cannot be read as audio ({type(exc).__name__})"
            self._durations_ms[entry.wav_path] = dur
        why = None
        if isinstance(dur, str):
            why = dur
        else:
            start, end = entry.offset_ms, entry.end_ms(dur)
            if start >= dur:
                why = f"its offset {start:g} ms is past the end of the file ({dur:.0f} ms)"
            elif end <= start:
                why = f"its region is empty (offset {start:g} ms, cutoff {entry.cutoff_ms:g} ms)"
        if why is None:
            return True
        self._bad[entry.source] = (f"{self.bank.root / entry.source}: alias {entry.alias!r} "
                                   f"({entry.wav_path.name}) is skipped: {why}")
        return False


def _entry_id(e: OtoEntry) -> str:
    return (f"{e.source}|{e.alias}|{e.offset_ms!r}|{e.consonant_ms!r}|{e.cutoff_ms!r}|"
            f"{e.preutter_ms!r}|{e.overlap_ms!r}")
