"""The score-format registry: which reader reads which file, which writer writes it.

A :class:`FormatRegistry` is an explicit object, filled in one place by
:func:`default_registry`; there is no module-level registry. A file is matched
by its extension first, then by sniffing its first bytes.

Every reader is a module with the same two functions (:class:`ReaderModule`):
``sniff(head) -> bool`` and ``read(data, *, path, options) -> Project``. The
registry is the only place that imports readers, and it does so lazily: a
:class:`ScoreReader` holds its module's name and imports it on first use, so
importing the registry (or reading one .ust) does not import every format. The
registry reads the file's bytes (bounded, never blocking on a FIFO, never
modifying the file), hands them to the reader with one
:class:`~utagoe.formats.options.ReadOptions`, and sets ``Project.source_format``.
Writers are found and imported the same way and save through
:func:`utagoe.fileio.write_atomic`.
"""
from __future__ import annotations

import dataclasses
import os
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

from ..errors import ScoreFormatError
from ..fileio import too_large_message
from . import limits
from .options import ReadOptions

if TYPE_CHECKING:
    from ..model.score import Project

#: How many leading bytes ``sniff`` functions are shown.
SNIFF_BYTES = 4096


class SniffFunction(Protocol):
    """``sniff(head) -> bool``: do these first bytes (at most SNIFF_BYTES) look like the
    format? Never raises."""

    def __call__(self, head: bytes) -> bool: ...


class ReadFunction(Protocol):
    """``read(data, *, path, options) -> Project``: the whole file's bytes to a Project,
    or :class:`~utagoe.errors.ScoreFormatError`. ``path`` only names the file in
    messages and becomes ``Project.source_path``; nothing else is ever opened."""

    def __call__(self, data: bytes, *, path: str | None = None,
                 options: ReadOptions | None = None) -> Project: ...


class WriteFunction(Protocol):
    """``write(project) -> bytes``: the whole file."""

    def __call__(self, project: Project) -> bytes: ...


class ReaderModule(Protocol):
    """What every reader module provides (checked against each of ours by mypy below)."""

    @property
    def sniff(self) -> SniffFunction: ...

    @property
    def read(self) -> ReadFunction: ...


class WriterModule(Protocol):
    @property
    def write(self) -> WriteFunction: ...


def _normalise_extension(ext: str) -> str:
    ext = ext.strip().lower()
    if not ext:
        raise ValueError("empty file extension")
    return ext if ext.startswith(".") else "." + ext


def _normalise_extensions(exts: tuple[str, ...] | list[str] | str) -> tuple[str, ...]:
    if isinstance(exts, str):
        exts = (exts,)
    return tuple(_normalise_extension(e) for e in exts)


class _Lazy:
    """A module named by its dotted name, or given as an object, imported on first use."""

    __slots__ = ("source", "_value")

    def __init__(self, source: object) -> None:
        self.source = source
        self._value: object | None = None

    def get(self) -> object:
        if self._value is None:
            self._value = (import_module(self.source) if isinstance(self.source, str)
                           else self.source)
        return self._value


@dataclasses.dataclass(frozen=True)
class ScoreReader:
    """One score format: its name, file extensions, and the module that reads it.

    ``module``: the reader's dotted module name (``"utagoe.formats.ust"``), imported
    on the first :meth:`sniff` or :meth:`read`; or any object with ``sniff`` and
    ``read`` functions of the :class:`ReaderModule` shape (a plug-in, a test).
    """

    name: str
    extensions: tuple[str, ...]
    module: str | ReaderModule
    description: str = ""
    _lazy: _Lazy = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a ScoreReader needs a name")
        object.__setattr__(self, "extensions", _normalise_extensions(self.extensions))
        object.__setattr__(self, "_lazy", _Lazy(self.module))

    def _reader(self) -> ReaderModule:
        impl = self._lazy.get()
        if not (callable(getattr(impl, "sniff", None)) and callable(getattr(impl, "read", None))):
            raise TypeError(f"score reader {self.name!r}: {impl!r} has no sniff and read "
                            "functions")
        return cast(ReaderModule, impl)

    def sniff(self, head: bytes) -> bool:
        """Do these first bytes look like this format? (imports the reader)"""
        return bool(self._reader().sniff(head))

    def read(self, data: bytes, *, path: str | None = None,
             options: ReadOptions | None = None) -> Project:
        """The reader's ``read``: the file's bytes to a Project (imports the reader)."""
        return self._reader().read(data, path=path, options=options or ReadOptions())


@dataclasses.dataclass(frozen=True)
class ScoreWriter:
    """One format utagoe saves: its name, file extensions and the module that writes it
    (a dotted name imported on first use, or an object with a ``write`` function)."""

    name: str
    extensions: tuple[str, ...]
    module: str | WriterModule
    description: str = ""
    #: does the format hold drawn pitch, vibratos, expression curves and mixer settings?
    keeps_expression: bool = False
    _lazy: _Lazy = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a ScoreWriter needs a name")
        object.__setattr__(self, "extensions", _normalise_extensions(self.extensions))
        object.__setattr__(self, "_lazy", _Lazy(self.module))

    def write(self, project: Project) -> bytes:
        """The project as the whole file (imports the writer)."""
        impl = self._lazy.get()
        if not callable(getattr(impl, "write", None)):
            raise TypeError(f"score writer {self.name!r}: {impl!r} has no write function")
        return cast(WriterModule, impl).write(project)


class FormatRegistry:
    """Readers and writers by name and by extension. Build one with :func:`default_registry`."""

    def __init__(self) -> None:
        self._readers: list[ScoreReader] = []
        self._by_extension: dict[str, ScoreReader] = {}
        self._writers: list[ScoreWriter] = []

    # -- writers ------------------------------------------------------------------

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
        """Save ``project`` to ``path`` atomically (see :func:`utagoe.fileio.write_atomic`);
        the output path is checked before the project is turned into bytes."""
        from ..fileio import check_output_path, write_atomic

        writer = self.writer_for(path, format_name)
        check_output_path(path)
        return write_atomic(path, writer.write(project))

    # -- readers ------------------------------------------------------------------

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
        """The first reader whose sniffer recognises these bytes (this imports readers)."""
        head = bytes(first_bytes[:SNIFF_BYTES])
        for r in self._readers:
            try:
                if r.sniff(head):
                    return r
            except Exception:  # a sniffer (or a plug-in's import) must never break the lookup
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
        """Read a score file (never modified; at most limits.MAX_SCORE_BYTES) into a
        Project whose ``source_format`` is the reader's name."""
        from ..fileio import read_limited

        data = read_limited(path, limit=limits.MAX_SCORE_BYTES,
                            error=lambda p, why: ScoreFormatError(why, path=p))
        reader = self.by_name(format_name) if format_name else self.lookup(path, data)
        return _read_with(reader, data, str(path), options)

    def read_bytes(self, data: bytes, options: ReadOptions | None = None, *,
                   name: str | None = None, format_name: str | None = None) -> Project:
        """Read a score held in memory; ``name`` (a file name) helps find its format."""
        if len(data) > limits.MAX_SCORE_BYTES:
            raise ScoreFormatError(too_large_message(len(data), limits.MAX_SCORE_BYTES), path=name)
        reader = self.by_name(format_name) if format_name else self.lookup(name, data)
        return _read_with(reader, bytes(data), name, options)


def _read_with(reader: ScoreReader, data: bytes, path: str | None,
               options: ReadOptions | None) -> Project:
    project = reader.read(data, path=path, options=options or ReadOptions())
    if project.source_format == reader.name:
        return project
    return dataclasses.replace(project, source_format=reader.name)


def default_registry() -> FormatRegistry:
    """A registry holding every score format utagoe reads and writes. The one place
    they are listed; no reader or writer is imported until it is used."""
    registry = FormatRegistry()
    registry.register(ScoreReader(
        "musicxml", (".musicxml", ".xml", ".mxl"), "utagoe.formats.musicxml",
        "MusicXML, partwise (.musicxml, .xml) or compressed (.mxl)"))
    registry.register(ScoreReader(
        "midi", (".mid", ".midi", ".kar", ".rmi", ".vsq"), "utagoe.formats.midi",
        "Standard MIDI File with lyrics (FF05 lyrics, karaoke .kar, VOCALOID .vsq)"))
    registry.register(ScoreReader(
        "ust", (".ust",), "utagoe.formats.ust",
        "UTAU sequence (.ust 1.x and 2.0; plugin temp files by their content)"))
    registry.register(ScoreReader("ustx", (".ustx",), "utagoe.formats.ustx", "OpenUtau project"))
    registry.register(ScoreReader(
        "vsqx", (".vsqx",), "utagoe.formats.vsqx",
        "VOCALOID 3 and 4 project (vsq3 and vsq4 namespaces)"))
    registry.register(ScoreReader("svp", (".svp",), "utagoe.formats.svp",
                                  "Synthesizer V Studio project"))
    registry.register_writer(ScoreWriter(
        "ustx", (".ustx",), "utagoe.formats.ustx",
        "OpenUtau project, with pitch points, vibratos and curves", keeps_expression=True))
    registry.register_writer(ScoreWriter(
        "musicxml", (".musicxml", ".xml"), "utagoe.formats.musicxml_write",
        "MusicXML 4.0, partwise"))
    registry.register_writer(ScoreWriter(
        "midi", (".mid", ".midi"), "utagoe.formats.midi",
        "Standard MIDI File, format 1, with lyric events"))
    return registry


if TYPE_CHECKING:  # mypy checks that every reader and writer module has the one shape
    from . import midi, musicxml, musicxml_write, svp, ust, ustx, vsqx

    _READERS: tuple[ReaderModule, ...] = (midi, musicxml, svp, ust, ustx, vsqx)
    _WRITERS: tuple[WriterModule, ...] = (midi, musicxml_write, ustx)

__all__ = ["SNIFF_BYTES", "FormatRegistry", "ReadFunction", "ReaderModule", "ScoreReader",
           "ScoreWriter", "SniffFunction", "WriteFunction", "WriterModule", "default_registry"]
