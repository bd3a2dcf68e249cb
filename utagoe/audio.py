"""Audio that carries its sample rate."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable

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
        return write_audio_blocks(path, (self,), sample_rate=self.sample_rate,
                                  channels=self.channels, subtype=subtype)


def audio_container(path: str | os.PathLike) -> str:
    """soundfile's format name for ``path``'s extension (:data:`AUDIO_FORMATS`), or
    :class:`~utagoe.errors.UtagoeError` naming what can be written."""
    from .errors import UtagoeError

    path = Path(path)
    container = AUDIO_FORMATS.get(path.suffix.lower())
    if container is None:
        raise UtagoeError(f"{path}: cannot write {path.suffix or 'files without extension'}; "
                          f"use {' or '.join(AUDIO_FORMATS)}")
    return container


class _ReportingFile:
    """A binary file for soundfile's virtual IO that keeps the OS error of a failed
    write (soundfile would only see a short write) so it can be raised as it is."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.error: OSError | None = None

    def write(self, data: bytes) -> int:
        if self.error is not None:
            return 0
        try:
            self.f.write(data)
        except OSError as exc:
            self.error = exc
            return 0
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.f.seek(offset, whence)

    def tell(self) -> int:
        return self.f.tell()

    def read(self, n: int = -1) -> bytes:
        return self.f.read(n)


def write_audio_blocks(path: str | os.PathLike, blocks: Iterable[Audio], *, sample_rate: int,
                       channels: int, subtype: str = "PCM_16") -> Path:
    """Write ``blocks`` one after the other as one WAV or FLAC file (by extension),
    atomically, never holding more than one block: the file has the same bytes as
    :meth:`Audio.save` of the blocks joined. Every block must have ``sample_rate``
    and ``channels``. A full disk raises :class:`~utagoe.fileio.FileError`
    naming ``path``."""
    import soundfile as sf

    from .errors import UtagoeError
    from .fileio import check_output_path, write_atomic

    path = Path(path)
    container = audio_container(path)
    check_output_path(path)
    try:  # what soundfile refuses, refused before anything is rendered into the file
        if not sf.check_format(container, subtype):
            raise ValueError("invalid combination of format and subtype")
    except (ValueError, TypeError) as exc:
        raise UtagoeError(f"{path}: cannot write {container} with subtype {subtype!r}: {exc}") \
            from None

    def write(f: BinaryIO) -> None:
        out = _ReportingFile(f)
        try:
            with sf.SoundFile(out, "w", sample_rate, channels, subtype, None, container) as sink:
                for block in blocks:
                    if block.sample_rate != sample_rate or block.channels != channels:
                        raise ValueError(f"a block of {block.channels} channel(s) at "
                                         f"{block.sample_rate} Hz in a file of {channels} at "
                                         f"{sample_rate} Hz")
                    sink.write(block.samples.T)
                    if out.error is not None:
                        raise out.error
        except (AssertionError, RuntimeError):
            if out.error is not None:   # soundfile saw a short write: the OS said why
                raise out.error from None
            raise
        if out.error is not None:       # the header, rewritten on closing
            raise out.error

    return write_atomic(path, write)
