"""The master: the tracks' stems mixed, scaled to the song's level, limited, and
the stems as they sit in that mix.

Both renders go through here block by block (:func:`master_blocks`), the API's
whole-song :func:`~utagoe.rendering.engine.render_project` as much as the
command line's streaming :func:`~utagoe.rendering.engine.render_to_file`, so the
two give the same bytes: the mix of a block is per sample, the level is one
number measured over all blocks first (:func:`measure_level`), and the limiter
gives the same samples whatever the blocks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol, Sequence

import numpy as np

from ..audio import Audio
from ..mix.mixer import mix, sample_peak, scale_to_peak
from ..model.units import db_to_gain
from ..settings import RenderSettings

#: samples per block when a mix is made block by block (a few MiB at most)
BLOCK_SAMPLES = 1 << 18


class StemReader(Protocol):
    def read(self, start: int, stop: int) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class MixLayout:
    """Where each stem sits in the mix."""

    #: each stem's gain: its balance, the file's volume and the user's gain
    gains_db: tuple[float, ...]
    pans: tuple[float, ...]
    channels: int
    sample_rate_hz: int
    num_samples: int
    #: the part of each gain that brings the stems to one loudness (0 where not balanced)
    balance_db: tuple[float, ...] = ()


#: the loudness every stem is brought to before its own gain, when tracks are
#: balanced (only their differences matter: the master scales the mix after)
BALANCE_LUFS = -23.0


def stem_loudness(stem: StemReader, *, num_samples: int, sample_rate_hz: int,
                  block_samples: int = BLOCK_SAMPLES) -> float:
    """A stem's integrated loudness (LUFS; -inf for silence or under 400 ms)."""
    from ..mix.loudness import LoudnessMeter

    meter = LoudnessMeter(sample_rate_hz, 1)
    for a in range(0, num_samples, block_samples):
        meter.add(stem.read(a, min(a + block_samples, num_samples))[None, :])
    return meter.integrated_lufs()


def mix_layout(stems: Sequence[StemReader], gains_db: Sequence[float], pans: Sequence[float], *,
               num_samples: int, settings: RenderSettings,
               block_samples: int = BLOCK_SAMPLES) -> MixLayout:
    """The mix's layout: ``settings.mix.channels``, or by default mono for one
    centred track and stereo otherwise; with ``settings.mix.balance_tracks`` and
    more than one stem, each stem first brought to :data:`BALANCE_LUFS` (a silent
    or very short one left as it is), then its own gain."""
    channels = settings.mix.channels
    if channels is None:
        channels = 1 if len(gains_db) == 1 and pans[0] == 0 else 2
    balance = [0.0] * len(stems)
    if settings.mix.balance_tracks and len(stems) > 1:
        for i, stem in enumerate(stems):
            lufs = stem_loudness(stem, num_samples=num_samples,
                                 sample_rate_hz=settings.mix.sample_rate_hz, block_samples=block_samples)
            if np.isfinite(lufs):
                balance[i] = BALANCE_LUFS - lufs
    return MixLayout(tuple(b + g for b, g in zip(balance, gains_db)), tuple(pans), channels,
                     settings.mix.sample_rate_hz, num_samples, tuple(balance))


def mixed_blocks(stems: Sequence[StemReader], layout: MixLayout, *,
                 only: int | None = None, block_samples: int = BLOCK_SAMPLES) -> Iterator[Audio]:
    """The mix of ``stems`` (or of stem ``only`` alone, at its place in the mix), block
    by block."""
    rate = layout.sample_rate_hz
    which = range(len(stems)) if only is None else (only,)
    for a in range(0, layout.num_samples, block_samples):
        b = min(a + block_samples, layout.num_samples)
        yield mix([Audio(stems[i].read(a, b)[None, :], rate) for i in which],
                  gains_db=[layout.gains_db[i] for i in which],
                  pans=[layout.pans[i] for i in which], channels=layout.channels)


@dataclass(frozen=True, slots=True)
class Level:
    """What the master does to the mix, measured before: its sample peak and (when a
    loudness is asked) its integrated loudness, and what follows from them."""

    #: the mix's highest sample before the master
    peak: float
    #: the mix's integrated loudness before the master (LUFS), where one was asked
    loudness_lufs: float | None
    #: whether the limiter has anything to do
    limiting: bool

    @property
    def by_loudness(self) -> bool:
        """Scaled to a loudness (one was asked and could be measured), not to the peak."""
        return self.loudness_lufs is not None and bool(np.isfinite(self.loudness_lufs))

    def warning(self, settings: RenderSettings) -> str | None:
        """What the user should know of the level, if anything."""
        if settings.mix.loudness_lufs is not None and not self.by_loudness:
            return ("the song's loudness cannot be measured (it is silent, or under 400 ms "
                    f"long), so it is scaled to a peak of {settings.mix.peak_dbfs:g} dBFS instead "
                    f"of to {settings.mix.loudness_lufs:g} LUFS")
        return None


def _scale(settings: RenderSettings, peak: float, loudness_lufs: float | None) -> float:
    """The linear gain the master gives the mix (before the limiter)."""
    m = settings.mix
    if m.loudness_lufs is not None and loudness_lufs is not None and np.isfinite(loudness_lufs):
        scale = float(db_to_gain(m.loudness_lufs - loudness_lufs))
    else:   # to the peak (also where a loudness was asked but cannot be measured)
        scale = float(db_to_gain(m.peak_dbfs)) / peak if peak > 0 and np.isfinite(peak) else 1.0
        if settings.controls.dynamics_db < 0:
            scale *= float(db_to_gain(settings.controls.dynamics_db))
    return scale * float(db_to_gain(m.master_gain_db))


def measure_level(blocks: Iterator[Audio], *, settings: RenderSettings) -> Level:
    """Read the mix once: its peak and, with ``settings.mix.loudness_lufs``, its loudness."""
    meter = None
    if settings.mix.loudness_lufs is not None:
        from ..mix.loudness import LoudnessMeter

        meter = LoudnessMeter(settings.mix.sample_rate_hz)
    peak = 0.0
    for block in blocks:
        # np.max as in sample_peak: a NaN anywhere is the peak
        peak = float(np.max([peak, sample_peak(block)]))
        if meter is not None:
            meter.add(block.samples)
    loudness = meter.integrated_lufs() if meter is not None else None
    ceiling = float(db_to_gain(settings.mix.peak_dbfs))
    limiting = settings.mix.limiter and np.isfinite(peak) and \
        peak * _scale(settings, peak, loudness) > ceiling * (1.0 + 1e-6)
    return Level(peak, loudness, bool(limiting))


def scaled(audio: Audio, *, level: Level, settings: RenderSettings) -> Audio:
    """A block of the mix (or of a stem) at the master's level, before the limiter.

    In peak mode the steps (and so the bytes) are those of before the master had
    a limiter: scaled to the peak, then softer by the song's dynamics when below 0.
    """
    m = settings.mix
    if level.by_loudness:
        gain = _scale(settings, level.peak, level.loudness_lufs)
        return Audio((audio.samples * gain).astype(np.float32), audio.sample_rate) \
            if gain != 1.0 else audio
    x = scale_to_peak(audio, peak=level.peak, peak_dbfs=m.peak_dbfs).samples
    if settings.controls.dynamics_db < 0:
        # the peak scaling would undo a song made softer as a whole; louder
        # singing cannot pass the peak, so it keeps only its brightness
        x = (x * db_to_gain(settings.controls.dynamics_db)).astype(np.float32)
    if m.master_gain_db != 0:
        x = (x * db_to_gain(m.master_gain_db)).astype(np.float32)
    return Audio(x, audio.sample_rate)


def master_blocks(blocks: Iterator[Audio], *, level: Level, settings: RenderSettings) -> Iterator[Audio]:
    """The mix's blocks through the master: scaled, then limited under
    ``settings.mix.peak_dbfs`` where anything goes over (the same samples whatever
    the blocks)."""
    out = (scaled(b, level=level, settings=settings) for b in blocks)
    if not level.limiting:
        yield from out
        return
    from ..mix.limiter import limit_blocks

    yield from limit_blocks(out, ceiling_dbfs=settings.mix.peak_dbfs)


def stem_file_name(number: int, name: str, suffix: str) -> str:
    """``03-Alto.wav``: the track's number and its name, made safe for any file system."""
    safe = re.sub(r'[\x00-\x1f\x7f<>:"/\\|?*]+', "_", name).strip(" ._")[:80] or "track"
    return f"{number:02d}-{safe}{suffix}"


def stem_paths(folder: Path, numbers: Sequence[int], names: Sequence[str], suffix: str) -> list[Path]:
    return [folder / stem_file_name(n, name, suffix) for n, name in zip(numbers, names)]
