"""The score-format registry: which reader reads which file.

A :class:`FormatRegistry` is an explicit object, filled in one place by
:func:`default_registry`; there is no module-level registry. A file is matched
by its extension first, then by sniffing its first bytes. Every reader gets the
file's bytes (read here, size-checked, never modified) and a
:class:`ReadOptions`, and returns a :class:`~utagoe.model.Project`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ScoreFormatError
from ..model.score import Project

#: No score file we read may be larger than this (bytes); members of compressed
#: containers (.mxl) are held to the same limit once uncompressed.
MAX_SCORE_BYTES = 64 * 1024 * 1024

#: How many leading bytes ``sniff`` functions are shown.
SNIFF_BYTES = 4096


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What the caller asked for; a reader ignores what its format has no use for.

    ``part``: 1-based index, or a part (track) id or name; formats with several
    tracks return every track that has lyrics when it is ``None``. ``verse``:
    1-based lyric line number, or a lyric line name (e.g. ``"chorus"``).
    ``voice``: 1-based voice number (or the voice id as a string). ``None`` lets
    the reader choose. ``encoding``: a Python codec name forcing how text inside
    the file is decoded (MIDI lyrics, UST), instead of detecting it.
    ``default_lyric``: MIDI tracks without lyrics are sung on this syllable
    (otherwise they are left out, with a warning).
    """

    part: int | str | None = None
    verse: int | str | None = None
    voice: int | str | None = None
    lenient: bool = False
    encoding: str | None = None
    default_lyric: str | None = None


#: ``read(data, *, path, options) -> Project``
ReadFunction = Callable[..., Project]


@dataclass(frozen=True, slots=True)
class ScoreReader:
    """One score format: its name, file extensions, a sniffer and a read function."""

    name: str
    extensions: tuple[str, ...]
    #: ``sniff(first_bytes) -> bool``: does this look like our format?
    sniff: Callable[[bytes], bool]
    #: ``read(data: bytes, *, path: str | None, options: ReadOptions) -> Project``
    read: ReadFunction
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a ScoreReader needs a name")
        exts = tuple(_normalise_extension(e) for e in self.extensions)
        object.__setattr__(self, "extensions", exts)


def _normalise_extension(ext: str) -> str:
    ext = ext.strip().lower()
    if not ext:
        raise ValueError("empty file extension")
    return ext if ext.startswith(".") else "." + ext


#: ``write(project) -> bytes``
WriteFunction = Callable[[Project], bytes]


@dataclass(frozen=True, slots=True)
class ScoreWriter:
    """One format utagoe saves: its name, file extensions and a write function."""

    name: str
    extensions: tuple[str, ...]
    #: ``write(project) -> bytes``: the whole file
    write: WriteFunction
    description: str = ""
    #: does the format hold drawn pitch, vibratos, expression curves and mixer settings?
    keeps_expression: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a ScoreWriter needs a name")
        object.__setattr__(self, "extensions",
                           tuple(_normalise_extension(e) for e in self.extensions))


class FormatRegistry:
    """Readers and writers by name and by extension. Build one with :func:`default_registry`."""

    def __init__(self) -> None:
        self._readers: list[ScoreReader] = []
        self._by_extension: dict[str, ScoreReader] = {}
        self._writers: list[ScoreWriter] = []

    def register_writer(self, writer: ScoreWriter) -> ScoreWriter:
        """Add a writer. A second writer with the same name or extension is refused."""
        for w in self._writers:
            if w.name == writer.name:
                raise ValueError(f"a score writer named {writer.name!r} is already registered")
            clash = set(w.extensions) & set(writer.extensions)
            if clash:
                raise ValueError(f"extension {sorted(clash)[0]!r} already belongs to score "
                                 f"writer {w.name!r}")
        self._writers.append(writer)
        return writer

    @property
    def writers(self) -> tuple[ScoreWriter, ...]:
        return tuple(self._writers)

    def describe_writers(self) -> str:
        if not self._writers:
            return "(none)"
        return ", ".join(f"{w.name} ({' '.join(w.extensions)})" for w in self._writers)

    def writer_for(self, path: str | os.PathLike, format_name: str | None = None) -> ScoreWriter:
        """The writer named ``format_name``, else the one whose extension ``path`` has."""
        if format_name:
            for w in self._writers:
                if w.name == format_name.lower():
                    return w
            raise ScoreFormatError(f"utagoe cannot write score format {format_name!r}; it "
                                   f"writes: {self.describe_writers()}")
        name = Path(path).name.lower()
        for w in sorted(self._writers, key=lambda w: -max(map(len, w.extensions))):
            for ext in w.extensions:
                if name.endswith(ext) and len(name) > len(ext):
                    return w
        raise ScoreFormatError(f"utagoe cannot write {Path(path).name!r}: unknown output "
                               f"extension; it writes: {self.describe_writers()}",
                               path=str(path))

    def write(self, project: Project, path: str | os.PathLike, *,
              format_name: str | None = None) -> Path:
        """Save ``project`` to ``path`` atomically (a temporary file, then a rename)."""
        writer = self.writer_for(path, format_name)
        data = writer.write(project)
        return write_atomic(path, data)

    def register(self, reader: ScoreReader) -> ScoreReader:
        """Add a reader. A second reader with the same name or extension is refused."""
        if any(r.name == reader.name for r in self._readers):
            raise ValueError(f"a score format named {reader.name!r} is already registered")
        for ext in reader.extensions:
            if ext in self._by_extension:
                raise ValueError(f"extension {ext!r} already belongs to score format "
                                 f"{self._by_extension[ext].name!r}")
        self._readers.append(reader)
        for ext in reader.extensions:
            self._by_extension[ext] = reader
        return reader

    @property
    def readers(self) -> tuple[ScoreReader, ...]:
        return tuple(self._readers)

    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self._readers)

    def describe_known(self) -> str:
        """``musicxml (.xml .musicxml .mxl), midi (.mid)`` -- for error messages."""
        if not self._readers:
            return "(none)"
        return ", ".join(f"{r.name} ({' '.join(r.extensions)})" for r in self._readers)

    def by_name(self, name: str) -> ScoreReader:
        for r in self._readers:
            if r.name == name.lower():
                return r
        raise ScoreFormatError(f"unknown score format {name!r}; known formats: "
                               f"{self.describe_known()}")

    def by_extension(self, path: str | os.PathLike) -> ScoreReader | None:
        name = Path(path).name.lower()
        # longest extension first, so ".tar.gz"-style extensions could win over ".gz"
        for ext in sorted(self._by_extension, key=len, reverse=True):
            if name.endswith(ext) and len(name) > len(ext):
                return self._by_extension[ext]
        return None

    def by_content(self, first_bytes: bytes) -> ScoreReader | None:
        head = bytes(first_bytes[:SNIFF_BYTES])
        for r in self._readers:
            try:
                if r.sniff(head):
                    return r
            except Exception:  # a sniffer must never break the lookup
                continue
        return None

    def lookup(self, path: str | os.PathLike | None, first_bytes: bytes) -> ScoreReader:
        """The reader for a file: by extension, else by its first bytes."""
        reader = self.by_extension(path) if path is not None else None
        if reader is None:
            reader = self.by_content(first_bytes)
        if reader is None:
            shown = f"{Path(path).name!r}" if path is not None else "these bytes"
            raise ScoreFormatError(
                f"cannot tell which score format {shown} is (unknown extension and "
                f"content); known formats: {self.describe_known()}",
                path=None if path is None else str(path))
        return reader

    def read(self, path: str | os.PathLike, options: ReadOptions | None = None, *,
             format_name: str | None = None) -> Project:
        """Read a score file (never modified) into a Project."""
        options = options or ReadOptions()
        data = read_limited(path)
        reader = self.by_name(format_name) if format_name else self.lookup(path, data)
        return reader.read(data, path=str(path), options=options)

    def read_bytes(self, data: bytes, options: ReadOptions | None = None, *,
                   name: str | None = None, format_name: str | None = None) -> Project:
        """Read a score held in memory; ``name`` (a file name) helps find its format."""
        options = options or ReadOptions()
        if len(data) > MAX_SCORE_BYTES:
            raise ScoreFormatError(_too_big(len(data)), path=name)
        reader = self.by_name(format_name) if format_name else self.lookup(name, data)
        return reader.read(bytes(data), path=name, options=options)


def _too_big(size: int) -> str:
    return (f"file is too large to be a score ({size / 2**20:.1f} MiB; the limit is "
            f"{MAX_SCORE_BYTES // 2**20} MiB)")


def read_limited(path: str | os.PathLike, limit: int = MAX_SCORE_BYTES) -> bytes:
    """All bytes of a file, refusing files over ``limit`` bytes with ScoreFormatError."""
    p = str(path)
    try:
        size = os.stat(p).st_size
        if os.path.isdir(p):
            raise ScoreFormatError("is a directory, not a score file", path=p)
        if size > limit:
            raise ScoreFormatError(_too_big(size), path=p)
        with open(p, "rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError:
        raise ScoreFormatError("no such file", path=p) from None
    except PermissionError:
        raise ScoreFormatError("permission denied", path=p) from None
    except IsADirectoryError:
        raise ScoreFormatError("is a directory, not a score file", path=p) from None
    except OSError as e:
        raise ScoreFormatError(f"cannot read file: {e.strerror or e}", path=p) from None
    if len(data) > limit:  # grew while we looked, or a special file
        raise ScoreFormatError(_too_big(len(data)), path=p)
    return data


def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename."""
    import tempfile

    out = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return out


def default_registry() -> FormatRegistry:
    """A registry holding every score format utagoe reads. The one place they are listed."""
    from . import midi, musicxml, musicxml_write, svp, ust, ustx, vsqx

    registry = FormatRegistry()
    registry.register(ScoreReader(
        name="musicxml",
        extensions=(".musicxml", ".xml", ".mxl"),
        sniff=musicxml.sniff,
        read=musicxml.read,
        description="MusicXML, partwise (.musicxml, .xml) or compressed (.mxl)",
    ))
    registry.register(ScoreReader(
        name="midi", extensions=(".mid", ".midi", ".kar", ".rmi", ".vsq"),
        sniff=midi.sniff, read=midi.read,
        description="Standard MIDI File with lyrics (FF05 lyrics, karaoke .kar, VOCALOID .vsq)",
    ))
    registry.register(ScoreReader(
        name="ust", extensions=(".ust",), sniff=ust.sniff, read=ust.read,
        description="UTAU sequence (.ust 1.x and 2.0; plugin temp files by their content)"))
    registry.register(ScoreReader(
        name="ustx", extensions=(".ustx",), sniff=ustx.sniff, read=ustx.read,
        description="OpenUtau project"))
    registry.register(ScoreReader(
        name="vsqx", extensions=(".vsqx",), sniff=vsqx.sniff, read=vsqx.read,
        description="VOCALOID 3 and 4 project (vsq3 and vsq4 namespaces)"))
    registry.register(ScoreReader(
        name="svp", extensions=(".svp",), sniff=svp.sniff, read=svp.read,
        description="Synthesizer V Studio project"))
    registry.register_writer(ScoreWriter(
        name="ustx", extensions=(".ustx",), write=ustx.write,
        description="OpenUtau project, with pitch points, vibratos and curves",
        keeps_expression=True))
    registry.register_writer(ScoreWriter(
        name="musicxml", extensions=(".musicxml", ".xml"), write=musicxml_write.write,
        description="MusicXML 4.0, partwise"))
    registry.register_writer(ScoreWriter(
        name="midi", extensions=(".mid", ".midi"), write=midi.write,
        description="Standard MIDI File, format 1, with lyric events"))
    return registry
