"""Audio that carries its sample rate."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: the audio files utagoe writes, by extension (soundfile's format names)
AUDIO_FORMATS = {".wav": "WAV", ".flac": "FLAC"}


@dataclass(frozen=True, slots=True, eq=False)
class Audio:
    """``samples``: float32, shaped (channels, n). ``sample_rate`` in Hz."""

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        s = np.asarray(self.samples, dtype=np.float32)
        if s.ndim == 1:
            s = s[None, :]
        if s.ndim != 2:
            raise ValueError(f"audio samples must be (channels, n), got shape {s.shape}")
        if self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be > 0, got {self.sample_rate}")
        object.__setattr__(self, "samples", s)

    @property
    def channels(self) -> int:
        return self.samples.shape[0]

    @property
    def num_samples(self) -> int:
        return self.samples.shape[1]

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.sample_rate

    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=0)

    def save(self, path: str | os.PathLike, *, subtype: str = "PCM_16") -> Path:
        """Write WAV or FLAC (by extension), atomically (see :func:`utagoe.fileio.write_atomic`).

        ``subtype`` is soundfile's: ``PCM_16`` (default), ``PCM_24`` or ``FLOAT`` (WAV only).
        """
        import io

        import soundfile as sf

        from .errors import UtagoeError
        from .fileio import check_output_path, write_atomic

        path = Path(path)
        container = AUDIO_FORMATS.get(path.suffix.lower())
        if container is None:
            raise UtagoeError(f"{path}: cannot write {path.suffix or 'files without extension'}; "
                              f"use {' or '.join(AUDIO_FORMATS)}")
        check_output_path(path)
        # encoded in memory first: soundfile hides the OS error of a full disk, and
        # a plain write of the bytes reports it
        buf = io.BytesIO()
        try:
            sf.write(buf, self.samples.T, self.sample_rate, format=container, subtype=subtype)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise UtagoeError(f"{path}: cannot write {container} with subtype {subtype!r}: {exc}") \
                from None
        return write_atomic(path, buf.getbuffer())
