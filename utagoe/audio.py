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
    from .errors import UtagoeError
    from .fileio import check_output_path, write_atomic

    path = Path(path)
    container = audio_container(path)
    check_output_path(path)
    if container == "WAV" and subtype == "PCM_16":   # the default: written here, not by soundfile
        def write_pcm16(f: BinaryIO) -> None:
            _write_wav_pcm16(f, blocks, sample_rate=sample_rate, channels=channels, path=path)

        return write_atomic(path, write_pcm16)

    import soundfile as sf
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


#: the largest data chunk a RIFF file can describe (its sizes are 32-bit)
_RIFF_MAX_DATA = 0xFFFFFFFF - 36


def pcm16(samples: np.ndarray) -> np.ndarray:
    """16-bit samples as libsndfile (1.2) makes them from floats: ``x * 2**31``
    rounded to the nearest integer (halves to even), clipped to 32 bits, then
    shifted right by 16 (rounding towards minus infinity). So 1.0 is 32767, -1.0
    -32768, and values beyond them clip."""
    s = np.multiply(samples, 2147483648.0, dtype=np.float64)
    np.rint(s, out=s)
    np.clip(s, -2147483648.0, 2147483647.0, out=s)
    return (s.astype(np.int64) >> 16).astype("<i2")


def _write_wav_pcm16(f: BinaryIO, blocks: Iterable[Audio], *, sample_rate: int, channels: int,
                     path: Path) -> None:
    """A canonical 16-bit PCM WAV (44-byte header) of ``blocks`` into ``f``, the same
    bytes soundfile writes, in a fraction of its time (it hands libsndfile's small
    writes back to Python one by one): the header first with sizes of zero, then
    each block, then the sizes."""
    import struct

    from .errors import UtagoeError

    frame_bytes = 2 * channels

    def header(data_bytes: int) -> bytes:
        return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
                + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, sample_rate,
                                        sample_rate * frame_bytes, frame_bytes, 16)
                + b"data" + struct.pack("<I", data_bytes))

    start = f.tell()
    f.write(header(0))
    size = 0
    for block in blocks:
        if block.sample_rate != sample_rate or block.channels != channels:
            raise ValueError(f"a block of {block.channels} channel(s) at {block.sample_rate} Hz "
                             f"in a file of {channels} at {sample_rate} Hz")
        if not np.isfinite(block.samples).all():
            raise UtagoeError(f"{path}: the audio holds NaN or infinite samples")
        data = pcm16(block.samples.T).tobytes()
        size += len(data)
        if size > _RIFF_MAX_DATA:
            raise UtagoeError(f"{path}: more audio than a WAV file can hold (4 GiB); write FLAC")
        f.write(data)
    end = f.tell()
    f.seek(start)
    f.write(header(size))
    f.seek(end)
