"""Audio that carries its sample rate."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


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
        """Write WAV or FLAC (by extension), atomically: temporary file, then rename."""
        import soundfile as sf

        from .errors import UtagoeError

        path = Path(path)
        ext = path.suffix.lower()
        formats = {".wav": "WAV", ".flac": "FLAC"}
        if ext not in formats:
            raise UtagoeError(f"{path}: cannot write {ext or 'files without extension'}; use .wav or .flac")
        if path.parent and not path.parent.exists():
            raise UtagoeError(f"{path}: folder {path.parent} does not exist")
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=ext, dir=path.parent or ".")
        os.close(fd)
        try:
            sf.write(tmp, self.samples.T, self.sample_rate, format=formats[ext], subtype=subtype)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return path
