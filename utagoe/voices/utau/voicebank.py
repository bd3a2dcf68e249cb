"""Reading an UTAU voicebank folder: oto.ini, character.txt / character.yaml, prefix.map.

:func:`load_voicebank` reads a folder into a frozen :class:`Voicebank`. It never
opens audio (the singer checks each sample when it first needs it), so even a
bank of many thousands of entries opens in a fraction of a second; it opens
nothing outside the folder, and every problem it can step over becomes one
sentence in :attr:`Voicebank.warnings`, naming the file and line relative to
the bank (``C4/oto.ini:12: a.wav does not exist; entry 'a か' skipped``).

What is read (the spec is ``../shared/data/FORMATS.md`` section 3):

* **oto.ini** in the folder and in every sub-folder (depth at most
  :data:`MAX_DEPTH`; hidden folders are skipped; a folder link is followed only
  where it leads to a place inside the bank). One entry per line:
  ``wav=alias,offset,consonant,cutoff,preutterance,overlap`` in ms with a decimal
  point; an empty number is 0, missing fields are 0, fields after the sixth are
  ignored; an empty alias is the wav's name without its extension. Blank lines and
  ``#Charset:`` lines are skipped silently; a line without ``=``, a number that is
  not one (``nan``, ``1,5``), an offset below 0 or any time over an hour is a
  warning and the line is skipped. Wav names are relative to the oto.ini's own
  folder, ``\\`` is a separator; a name that is absolute, has a drive letter or
  leads out of the bank (``..``, or a link to a place outside) is skipped with a
  warning, as is a wav that does not exist. A wav is found by its name as
  written, else by its NFC form (zips made on macOS store NFD names), else
  ignoring case (banks made on Windows).
* Duplicate aliases are all kept in file order; lookups take the first. Files are
  read root first, then sub-folders in name order.
* As OpenUtau does, every wav that has entries is also reachable by its file name
  without extension (``_ああいあうえあ``), through a copy of its entry with the
  smallest offset, where no entry already has that alias (``character.yaml``
  ``use_filename_as_alias: false`` turns this off).
* **Text encoding** of oto.ini, character.txt, prefix.map and readme: a UTF-8 (or
  UTF-16) byte-order mark wins; then ``character.yaml`` ``text_file_encoding``;
  then the ``encoding`` argument; then a ``#Charset:NAME`` line in the first 10
  lines; then UTF-8 where the bytes are valid UTF-8, else cp932 (Windows
  Shift-JIS, UTAU's default). An unknown encoding name is a warning and the next
  rule applies; bytes that do not decode are replaced (with a warning).
  ``character.yaml`` itself is UTF-8.
* **character.txt**: ``key=value`` (or ``key:value``, ``key：value``) lines:
  ``name`` (``名前``), ``image``, ``author`` (``created by``), ``web``, ``version``.
  **character.yaml** (OpenUtau) overrides them where it gives them, and adds
  ``subbanks`` (colour, prefix, suffix, tone ranges); a malformed file is a warning.
* **prefix.map** (or ``prefixmap``, as Iona ships it) at the bank's root:
  ``NoteName<TAB>prefix<TAB>suffix`` per line (C4 = 60); lines that do not split
  into three are ignored.
* **readme.txt** (else README.md) and the first licence or terms file
  (``LICENSE*``, ``licence*``, ``利用規約*``, ``kiyaku*``, ``terms*``) at the root,
  as text of at most :data:`TEXT_CHARS` characters.

``check_files=False`` keeps entries whose wav is missing (their ``wav_path`` is
then the path the oto.ini names, below the bank); it is only for reading the
configuration of a bank without its audio (tests, tools). Unsafe paths are
skipped either way.
"""
from __future__ import annotations

import codecs
import math
import os
import posixpath
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from ...errors import InvalidValueError, VoiceError
from ...fileio import read_limited

__all__ = [
    "MAX_DEPTH",
    "MAX_ENTRIES",
    "FrozenMap",
    "OtoEntry",
    "SubBank",
    "Voicebank",
    "VoicebankError",
    "load_voicebank",
    "parse_note_name",
    "parse_tone_range",
]

#: deepest sub-folder searched for oto.ini (the bank's root is depth 0)
MAX_DEPTH = 8
#: most folders searched, and most names listed in all of them together
MAX_FOLDERS = 20_000
MAX_LISTED = 1_000_000
#: most oto entries kept; the rest of a larger bank is left out with a warning
MAX_ENTRIES = 200_000
#: most warnings kept (a summary line counts the rest)
MAX_WARNINGS = 1000
#: byte limits of the files read
OTO_LIMIT_BYTES = 32 * 1024 * 1024
TEXT_LIMIT_BYTES = 1024 * 1024
#: the readme and licence texts are cut to this many characters
TEXT_CHARS = 64 * 1024
#: no oto time may be longer than an hour
MAX_MS = 3_600_000.0

_OTO_FIELDS = ("offset", "consonant", "cutoff", "preutterance", "overlap")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_CHARSET_BYTES = re.compile(rb"^\s*#\s*charset\s*[:=]\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_CHARSET_TEXT = re.compile(r"^\s*#\s*charset\s*[:=]", re.IGNORECASE)
_DRIVE = re.compile(r"^[A-Za-z]:")
_NOTE = re.compile(r"([A-Ga-g])([#b\u266f\u266d]?)(-?\d{1,2})")
_PITCH_CLASS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_ENCODING_ALIASES = {"windows-31j": "cp932", "x-sjis": "cp932", "x-ms-cp932": "cp932",
                     "ms_kanji": "cp932", "csshiftjis": "cp932"}
_LICENCE_NAMES = ("license", "licence", "利用規約", "kiyaku", "terms")

_K = TypeVar("_K")
_V = TypeVar("_V")


class VoicebankError(VoiceError):
    """A voicebank cannot be read or cannot sing what was asked; names the file
    (and line) where it can: ``bank/C4/oto.ini:12: ...``."""

    def __init__(self, message: str, *, path: str | os.PathLike | None = None,
                 line: int | None = None) -> None:
        self.message = message
        self.path = None if path is None else os.fspath(path)
        self.line = line
        where = self.path or ""
        if where and line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


class FrozenMap(Mapping[_K, _V]):
    """A read-only mapping that keeps its order and can be pickled (jobs carry it)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[_K, _V] | None = None) -> None:
        self._data: dict[_K, _V] = dict(data or {})

    def __getitem__(self, key: _K) -> _V:
        return self._data[key]

    def __iter__(self) -> Iterator[_K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __repr__(self) -> str:
        return f"FrozenMap({len(self._data)} items)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._data,))


@dataclass(frozen=True, slots=True)
class OtoEntry:
    """One oto.ini line: where an alias's sound lies in its wav, in ms."""

    alias: str
    #: absolute and resolved, inside the bank's root (with ``check_files=False``
    #: and a missing wav: the path the oto.ini names, below the bank)
    wav_path: Path
    #: left blank: start of the usable region, from the file's start
    offset_ms: float
    #: fixed (unstretched) region, from the offset
    consonant_ms: float
    #: as written: < 0: the region ends at offset + |cutoff|; > 0: it ends cutoff ms
    #: before the file's end; 0: at the file's end
    cutoff_ms: float
    #: from the offset to the point that falls on the note's start
    preutter_ms: float
    #: from the offset to the end of the cross-fade with the sample before (may be < 0)
    overlap_ms: float
    #: where it was written, relative to the bank's root: ``C4/oto.ini:12``
    source: str

    def end_ms(self, file_duration_ms: float) -> float:
        """Where the usable region ends, in ms from the file's start (at most the
        file's length; at or before ``offset_ms`` for an entry with an empty region)."""
        if not (isinstance(file_duration_ms, (int, float)) and math.isfinite(file_duration_ms)
                and file_duration_ms >= 0):
            raise InvalidValueError(
                f"OtoEntry.end_ms: file_duration_ms must be a finite number >= 0, got {file_duration_ms!r}")
        if self.cutoff_ms < 0:
            end = self.offset_ms - self.cutoff_ms
        elif self.cutoff_ms > 0:
            end = file_duration_ms - self.cutoff_ms
        else:
            end = float(file_duration_ms)
        return min(end, float(file_duration_ms))


@dataclass(frozen=True, slots=True)
class SubBank:
    """An OpenUtau sub-bank (``character.yaml`` ``subbanks``): the prefix and suffix
    added to aliases sung at the pitches of its tone ranges, for one voice colour."""

    color: str
    prefix: str
    suffix: str
    #: inclusive MIDI ranges; empty: every pitch
    tone_ranges: tuple[tuple[int, int], ...]

    def covers(self, pitch: int) -> bool:
        if not self.tone_ranges:
            return True
        return any(lo <= pitch <= hi for lo, hi in self.tone_ranges)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Voicebank:
    """An UTAU voicebank as :func:`load_voicebank` read it (see the module doc)."""

    root: Path
    #: character.yaml name, else character.txt name= (名前=), else the folder's name
    name: str
    author: str
    web: str
    version: str
    #: the icon, where it exists inside the bank
    image: Path | None
    #: readme.txt (else README.md), at most TEXT_CHARS characters; "" if none
    readme: str
    #: the first licence or terms file, at most TEXT_CHARS characters; "" if none
    licence: str
    #: the encoding of oto.ini files without a mark: character.yaml's or the caller's,
    #: else the one found for the first unmarked oto.ini, else cp932 (a Python codec name)
    encoding: str
    #: alias -> its entries in file order (lookups take the first)
    entries: Mapping[str, tuple[OtoEntry, ...]]
    #: MIDI pitch -> (prefix, suffix), from prefix.map
    prefix_map: Mapping[int, tuple[str, str]]
    subbanks: tuple[SubBank, ...]
    #: every file or entry skipped, one sentence each, naming file and line
    warnings: tuple[str, ...]

    @property
    def licence_line(self) -> str:
        """The first non-empty line of the terms (at most 120 characters), "" if none."""
        first = next((ln.strip() for ln in self.licence.splitlines() if ln.strip()), "")
        return first[:120]

    def get(self, alias: str) -> OtoEntry | None:
        """The first entry of ``alias``, or None."""
        found = self.entries.get(alias)
        return found[0] if found else None

    def __contains__(self, alias: object) -> bool:
        return bool(self.entries.get(alias)) if isinstance(alias, str) else False

    def aliases(self) -> list[str]:
        """Every alias, in the order first written."""
        return [a for a, es in self.entries.items() if es]

    def affixes(self, pitch: int, color: str = "") -> tuple[str, str]:
        """(prefix, suffix) added to aliases sung at ``pitch`` in voice colour ``color``:
        the first sub-bank of that colour covering the pitch (for an unknown colour,
        of the plain colour ""), else prefix.map, else ("", "")."""
        for want in ((color, "") if color else ("",)):
            for sb in self.subbanks:
                if sb.color == want and sb.covers(pitch):
                    return sb.prefix, sb.suffix
        return self.prefix_map.get(pitch, ("", ""))

    def colors(self) -> list[str]:
        """The voice colours of the sub-banks, in order ("" is the plain one)."""
        out: list[str] = []
        for sb in self.subbanks:
            if sb.color not in out:
                out.append(sb.color)
        return out

    def __repr__(self) -> str:
        n = sum(len(es) for es in self.entries.values())
        return f"Voicebank({self.name!r}, root={str(self.root)!r}, {n} entries)"


# --------------------------------------------------------------------------- note names

def parse_note_name(text: str) -> int:
    """``C4`` -> 60, ``A#4`` -> 70, ``Db3`` -> 49; raises ValueError for anything else
    (or a pitch outside MIDI 0..127)."""
    m = _NOTE.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not a note name like C4 or A#3")
    letter, acc, octave = m.groups()
    midi = 12 * (int(octave) + 1) + _PITCH_CLASS[letter.lower()]
    midi += 1 if acc in ("#", "\u266f") else -1 if acc in ("b", "\u266d") else 0
    if not 0 <= midi <= 127:
        raise ValueError(f"{text!r} is outside the MIDI range")
    return midi


def parse_tone_range(text: str) -> tuple[int, int]:
    """``C1-B3`` -> (24, 59), ``C4`` -> (60, 60); raises ValueError otherwise."""
    s = text.strip()
    m = re.fullmatch(r"([A-Ga-g][#b\u266f\u266d]?-?\d{1,2})(?:\s*-\s*([A-Ga-g][#b\u266f\u266d]?-?\d{1,2}))?", s)
    if m is None:
        raise ValueError(f"{text!r} is not a note range like C1-B3")
    lo = parse_note_name(m.group(1))
    hi = parse_note_name(m.group(2)) if m.group(2) else lo
    if hi < lo:
        raise ValueError(f"{text!r} runs downwards")
    return lo, hi


# --------------------------------------------------------------------------- folder listings

@dataclass(frozen=True, slots=True)
class _Item:
    name: str
    kind: str      # "file", "dir" or "other" (what a link points at, for links)
    link: bool


class _Listing:
    """One folder's names, found by name, NFC name or case-folded name."""

    __slots__ = ("_fold", "_nfc", "items")

    def __init__(self, items: list[_Item]) -> None:
        self.items = {it.name: it for it in items}
        self._nfc: dict[str, _Item] | None = None
        self._fold: dict[str, _Item] | None = None

    def find(self, name: str) -> _Item | None:
        it = self.items.get(name)
        if it is not None:
            return it
        nfc, fold = self._nfc, self._fold
        if nfc is None or fold is None:
            nfc, fold = {}, {}
            for key in sorted(self.items):
                n = unicodedata.normalize("NFC", key)
                nfc.setdefault(n, self.items[key])
                fold.setdefault(n.casefold(), self.items[key])
            self._nfc, self._fold = nfc, fold
        n = unicodedata.normalize("NFC", name)
        return nfc.get(n) or fold.get(n.casefold())


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def _codec(name: str) -> str | None:
    """A Python text codec for an encoding name (Shift-JIS as cp932), or None."""
    key = name.strip().lower()
    key = _ENCODING_ALIASES.get(key, key)
    try:
        found = codecs.lookup(key).name
        b"".decode(found)          # refuses bytes-to-bytes codecs (base64, rot13 ...)
    except LookupError:
        return None
    if found == "shift_jis":
        return "cp932"             # what Windows (and so UTAU) means by Shift-JIS
    if found == "utf-8":
        return "utf-8-sig"
    return found


def _shown(codec: str) -> str:
    return "utf-8" if codec == "utf-8-sig" else codec


# --------------------------------------------------------------------------- the loader

class _Loader:
    def __init__(self, root: Path, *, check_files: bool) -> None:
        self.root = root
        self.check_files = check_files
        self.forced: str | None = None      # the codec every text file is read with
        self.warnings: list[str] = []
        self.dropped = 0
        self.listings: dict[Path, _Listing | None] = {}
        self.listed = 0
        self.too_many_listed = False
        self.located: dict[str, tuple[Path | None, str | None]] = {}
        self.first_unmarked: str | None = None

    # -- warnings ----------------------------------------------------------------------

    def warn(self, text: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(text)
        else:
            self.dropped += 1

    def final_warnings(self) -> tuple[str, ...]:
        out = list(self.warnings)
        if self.dropped:
            out.append(f"... and {self.dropped} more problems in this voicebank.")
        return tuple(out)

    def rel(self, path: Path) -> str:
        r = os.path.relpath(path, self.root)
        return "." if r == "." else r.replace(os.sep, "/")

    # -- the file system ---------------------------------------------------------------

    def listing(self, folder: Path) -> _Listing | None:
        if folder in self.listings:
            return self.listings[folder]
        items: list[_Item] = []
        result: _Listing | None
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    if self.listed >= MAX_LISTED:
                        if not self.too_many_listed:
                            self.too_many_listed = True
                            self.warn(f"{self.rel(folder)}: the voicebank holds more than {MAX_LISTED} "
                                      "files and folders; the rest are not looked at.")
                        break
                    self.listed += 1
                    try:
                        link = entry.is_symlink()
                        kind = "dir" if entry.is_dir() else "file" if entry.is_file() else "other"
                    except OSError:
                        link, kind = False, "other"
                    items.append(_Item(entry.name, kind, link))
            result = _Listing(items)
        except OSError as exc:
            self.warn(f"{self.rel(folder)}: cannot list the folder ({exc.strerror or type(exc).__name__}).")
            result = None
        self.listings[folder] = result
        return result

    def follow(self, folder: Path, item: _Item) -> Path | None:
        """The real path of ``item`` in ``folder``; None where a link leads outside."""
        path = folder / item.name
        if not item.link:
            return path
        real = Path(os.path.realpath(path))
        return real if _inside(real, self.root) else None

    def locate(self, rel: str) -> tuple[Path | None, str | None]:
        """A file by its path relative to the root (``/`` separated, normalised):
        (path, None) found; (None, None) missing; (None, why) not allowed."""
        got = self.located.get(rel)
        if got is not None:
            return got
        cur = self.root
        parts = rel.split("/")
        result: tuple[Path | None, str | None] = (None, None)
        for i, part in enumerate(parts):
            lst = self.listing(cur)
            item = lst.find(part) if lst is not None else None
            last = i == len(parts) - 1
            if item is None or item.kind != ("file" if last else "dir"):
                break
            nxt = self.follow(cur, item)
            if nxt is None:
                result = (None, "links to a place outside the voicebank")
                break
            if last:
                result = (nxt, None)
                break
            cur = nxt
        self.located[rel] = result
        return result

    def read(self, path: Path, shown: str, *, limit: int) -> bytes | None:
        try:
            return read_limited(path, limit=limit,
                                error=lambda p, why: VoicebankError(why, path=shown))
        except VoicebankError as exc:
            self.warn(f"{exc}; not read.")
            return None

    # -- text ----------------------------------------------------------------------------

    def set_forced(self, name: str, source: str) -> None:
        codec = _codec(name)
        if codec is None:
            self.warn(f"{source}: unknown text encoding {name!r}; ignored.")
        else:
            self.forced = codec

    def decode(self, data: bytes, shown: str) -> tuple[str, str, bool]:
        """(text, codec, marked): the rules of the module doc."""
        codec: str | None = None
        marked = False
        if data.startswith(codecs.BOM_UTF8):
            codec, marked = "utf-8-sig", True
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            codec, marked = "utf-16", True
        elif self.forced is not None:
            codec = self.forced
        else:
            for line in data.split(b"\n", 10)[:10]:
                m = _CHARSET_BYTES.match(line)
                if m:
                    name = m.group(1).decode("ascii")
                    codec = _codec(name)
                    if codec is None:
                        self.warn(f"{shown}: unknown #Charset {name!r}; the encoding is guessed.")
                    else:
                        marked = True
                    break
            if codec is None:
                try:
                    return data.decode("utf-8"), "utf-8-sig", False
                except UnicodeDecodeError:
                    codec = "cp932"
        try:
            return data.decode(codec), codec, marked
        except UnicodeDecodeError as exc:
            lineno = data.count(b"\n", 0, exc.start) + 1
            self.warn(f"{shown}:{lineno}: the text is not valid {_shown(codec)}; "
                      "undecodable bytes are replaced.")
            return data.decode(codec, errors="replace"), codec, marked

    def read_text(self, item: _Item | None, *, limit: int = TEXT_LIMIT_BYTES) -> str | None:
        """A text file at the root (decoded), or None."""
        if item is None or item.kind != "file":
            return None
        path = self.follow(self.root, item)
        if path is None:
            self.warn(f"{item.name}: links to a place outside the voicebank; not read.")
            return None
        data = self.read(path, item.name, limit=limit)
        if data is None:
            return None
        return self.decode(data, item.name)[0]


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _scalar(value: Any) -> str | None:
    """A YAML scalar as text (None for null, lists and mappings)."""
    if value is None or isinstance(value, (list, dict)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------- reading the parts

def _walk(ld: _Loader) -> list[tuple[Path, Path]]:
    """Every oto.ini below the root (root first, then sub-folders in name order), as
    (the file to read, the path it has in the bank: its wav names are relative to
    that path's folder)."""
    found: list[tuple[Path, Path]] = []
    seen: set[Path] = set()
    count = 0
    noted: set[str] = set()

    def once(key: str, text: str) -> None:
        if key not in noted:
            noted.add(key)
            ld.warn(text)

    def visit(folder: Path, depth: int) -> None:
        nonlocal count
        if folder in seen:
            return
        seen.add(folder)
        count += 1
        lst = ld.listing(folder)
        if lst is None:
            return
        names = sorted(lst.items)
        otos = [n for n in names if n.lower() == "oto.ini" and lst.items[n].kind == "file"]
        if otos:
            name = "oto.ini" if "oto.ini" in otos else otos[0]
            item = lst.items[name]
            path = ld.follow(folder, item)
            if path is None:
                ld.warn(f"{ld.rel(folder / name)}: links to a place outside the voicebank; not read.")
            else:
                found.append((path, folder / name))
        for name in names:
            item = lst.items[name]
            if item.kind != "dir" or name.startswith("."):
                continue
            if depth + 1 > MAX_DEPTH:
                once("depth", f"{ld.rel(folder / name)}: folders deeper than {MAX_DEPTH} levels "
                              "are not searched for oto.ini.")
                continue
            if count >= MAX_FOLDERS:
                once("count", f"{ld.rel(folder)}: the voicebank has more than {MAX_FOLDERS} folders; "
                              "the rest are not searched.")
                return
            sub = ld.follow(folder, item)
            if sub is None:
                ld.warn(f"{ld.rel(folder / name)}: a folder link to a place outside the voicebank; "
                        "not followed.")
                continue
            visit(sub, depth + 1)

    visit(ld.root, 0)
    return found


def _wav_rel(ld: _Loader, folder: Path, wav: str) -> tuple[str | None, str | None]:
    """The wav's path relative to the root, or (None, why it is refused)."""
    w = wav.replace("\\", "/")
    if "\x00" in w:
        return None, "is not a file name"
    if w.startswith("/") or _DRIVE.match(w):
        return None, "is an absolute path"
    base = ld.rel(folder)
    rel = posixpath.normpath(posixpath.join(base, w) if base != "." else w)
    if rel == ".." or rel.startswith("../"):
        return None, "leads outside the voicebank"
    if rel == ".":
        return None, "is not a file name"
    return rel, None


def _stem(wav: str) -> str:
    name = wav.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, _ = name.rpartition(".")
    return stem if dot and stem else name


def _read_oto(ld: _Loader, real: Path, oto: Path, entries: dict[str, list[OtoEntry]],
              total: list[int]) -> None:
    shown = ld.rel(oto)
    folder = oto.parent
    data = ld.read(real, shown, limit=OTO_LIMIT_BYTES)
    if data is None:
        return
    text, codec, marked = ld.decode(data, shown)
    if not marked and ld.first_unmarked is None:
        ld.first_unmarked = codec
    for lineno, raw in enumerate(_lines(text), 1):
        line = raw.strip()
        if not line or _CHARSET_TEXT.match(line):
            continue
        src = f"{shown}:{lineno}"
        wav, sep, rest = line.partition("=")
        wav = wav.strip()
        if not sep or not wav:
            ld.warn(f"{src}: expected wav=alias,offset,consonant,cutoff,preutterance,overlap, "
                    f"got {line[:80]!r}; line skipped.")
            continue
        fields = rest.split(",")
        alias = fields[0] if fields[0] else _stem(wav)
        values: list[float] = []
        bad = None
        for k, name in enumerate(_OTO_FIELDS):
            t = fields[k + 1].strip() if k + 1 < len(fields) else ""
            if not t:
                values.append(0.0)
                continue
            if not _NUMBER.fullmatch(t):
                bad = f"{name} {t[:40]!r} is not a number"
                break
            v = float(t)
            if not math.isfinite(v) or abs(v) > MAX_MS:
                bad = f"{name} {t[:40]} ms is out of range (more than an hour)"
                break
            if name == "offset" and v < 0:
                bad = f"offset {t} ms is before the file's start"
                break
            values.append(v)
        if bad is not None:
            ld.warn(f"{src}: {bad}; entry {alias!r} skipped.")
            continue
        rel, why = _wav_rel(ld, folder, wav)
        if rel is None:
            ld.warn(f"{src}: {wav} {why}; entry {alias!r} skipped.")
            continue
        path, why = ld.locate(rel)
        if why is not None:
            ld.warn(f"{src}: {wav} {why}; entry {alias!r} skipped.")
            continue
        if path is None:
            if ld.check_files:
                ld.warn(f"{src}: {wav} does not exist; entry {alias!r} skipped.")
                continue
            path = ld.root.joinpath(*rel.split("/"))
        if total[0] >= MAX_ENTRIES:
            ld.warn(f"{src}: the voicebank has more than {MAX_ENTRIES} entries; the rest are left out.")
            total[0] += 1
            return
        total[0] += 1
        offset, consonant, cutoff, preutter, overlap = values
        entries.setdefault(alias, []).append(
            OtoEntry(alias, path, offset, consonant, cutoff, preutter, overlap, src))


def _add_stem_aliases(entries: dict[str, list[OtoEntry]]) -> None:
    by_wav: dict[Path, OtoEntry] = {}
    for es in list(entries.values()):
        for e in es:
            best = by_wav.get(e.wav_path)
            if best is None or e.offset_ms < best.offset_ms:
                by_wav[e.wav_path] = e
    # in the order the wavs first appear
    order: dict[Path, None] = {}
    for es in entries.values():
        for e in es:
            order.setdefault(e.wav_path)
    for wav in order:
        stem = _stem(wav.name)
        if stem and stem not in entries:
            ref = by_wav[wav]
            entries[stem] = [OtoEntry(stem, ref.wav_path, ref.offset_ms, ref.consonant_ms, ref.cutoff_ms,
                                      ref.preutter_ms, ref.overlap_ms, ref.source)]


def _read_yaml(ld: _Loader, item: _Item | None) -> dict[str, Any]:
    if item is None or item.kind != "file":
        return {}
    path = ld.follow(ld.root, item)
    if path is None:
        ld.warn(f"{item.name}: links to a place outside the voicebank; not read.")
        return {}
    data = ld.read(path, item.name, limit=TEXT_LIMIT_BYTES)
    if data is None:
        return {}
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        ld.warn(f"{item.name}:{line}: the text is not valid UTF-8; undecodable bytes are replaced.")
        text = data.decode("utf-8-sig", errors="replace")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{item.name}:{mark.line + 1}" if mark is not None else item.name
        problem = getattr(exc, "problem", None) or "not valid YAML"
        ld.warn(f"{where}: {problem}; the file is ignored.")
        return {}
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        ld.warn(f"{item.name}: expected keys and values at the top; the file is ignored.")
        return {}
    return doc


def _subbanks(ld: _Loader, doc: dict[str, Any], shown: str) -> tuple[SubBank, ...]:
    raw = doc.get("subbanks")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        ld.warn(f"{shown}: subbanks must be a list; ignored.")
        return ()
    out: list[SubBank] = []
    for i, sb in enumerate(raw[:1000], 1):
        if not isinstance(sb, dict):
            ld.warn(f"{shown}: subbank {i} is not a mapping; ignored.")
            continue
        ranges: list[tuple[int, int]] = []
        tr = sb.get("tone_ranges") or []
        if not isinstance(tr, list):
            tr = [tr]
        for r in tr[:1000]:
            try:
                ranges.append(parse_tone_range(str(r)))
            except ValueError as exc:
                ld.warn(f"{shown}: subbank {i}: {exc}; that range is ignored.")
        if tr and not ranges:
            continue    # every range was bad: it covers nothing
        out.append(SubBank(_scalar(sb.get("color")) or "", _scalar(sb.get("prefix")) or "",
                           _scalar(sb.get("suffix")) or "", tuple(ranges)))
    return tuple(out)


def _character_txt(text: str) -> dict[str, str]:
    info: dict[str, str] = {}
    for raw in _lines(text):
        line = raw.strip()
        for sep in ("=", ":", "："):
            if sep in line:
                key, _, value = line.partition(sep)
                break
        else:
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "name":
            info["name"] = value
        elif key == "名前":
            info.setdefault("name", value)
        elif key in ("image", "web", "version"):
            info[key] = value
        elif key in ("author", "created by"):
            info["author"] = value
    return info


def _prefix_map(ld: _Loader, text: str, shown: str) -> dict[int, tuple[str, str]]:
    out: dict[int, tuple[str, str]] = {}
    for lineno, raw in enumerate(_lines(text), 1):
        cols = raw.split("\t")
        if len(cols) != 3:
            continue
        try:
            pitch = parse_note_name(cols[0])
        except ValueError as exc:
            ld.warn(f"{shown}:{lineno}: {exc}; line skipped.")
            continue
        out.setdefault(pitch, (cols[1], cols[2]))
    return out


def _image(ld: _Loader, name: str, shown: str) -> Path | None:
    rel, why = _wav_rel(ld, ld.root, name)
    path = None
    if rel is not None:
        path, why = ld.locate(rel)
    if path is None:
        ld.warn(f"{shown}: image {name!r} {why or 'does not exist'}; no image.")
    return path


def _root_item(lst: _Listing, *names: str) -> _Item | None:
    for n in names:
        it = lst.find(n)
        if it is not None and it.kind == "file":
            return it
    return None


def _licence_item(lst: _Listing) -> _Item | None:
    def rank(it: _Item) -> tuple[int, str]:
        ext = it.name.rpartition(".")[2].lower() if "." in it.name else ""
        return ({"txt": 0, "md": 1}.get(ext, 2), it.name)

    cands = [it for it in lst.items.values()
             if it.kind == "file" and it.name.casefold().startswith(_LICENCE_NAMES)]
    return min(cands, key=rank) if cands else None


# --------------------------------------------------------------------------- the entry point

def load_voicebank(folder: str | os.PathLike, *, encoding: str | None = None,
                   check_files: bool = True) -> Voicebank:
    """Read the UTAU voicebank in ``folder`` (see the module doc for the rules).

    ``encoding`` is the text encoding of the bank's text files where
    ``character.yaml`` names none and no byte-order mark says otherwise.
    ``check_files=False`` keeps entries whose wav is missing: only for reading a
    bank's configuration without its audio. Raises :class:`VoicebankError` if
    ``folder`` is not a folder, holds no oto.ini or no usable entry.
    """
    given = os.fspath(folder)
    try:
        root = Path(given).resolve()
        is_dir = root.is_dir()
    except (OSError, RuntimeError, ValueError):
        is_dir = False
    if not is_dir:
        raise VoicebankError("no such folder; expected an UTAU voicebank folder (one holding oto.ini)",
                             path=given)
    ld = _Loader(root, check_files=check_files)
    top = ld.listing(root)
    if top is None:
        raise VoicebankError("cannot list the folder", path=given)

    doc = _read_yaml(ld, _root_item(top, "character.yaml"))
    yaml_name = "character.yaml"
    given_encoding = None
    if isinstance(doc.get("text_file_encoding"), str) and doc["text_file_encoding"].strip():
        ld.set_forced(doc["text_file_encoding"], yaml_name)
        given_encoding = ld.forced
    if ld.forced is None and encoding is not None:
        ld.set_forced(encoding, "the encoding argument")
        given_encoding = ld.forced

    otos = _walk(ld)
    if not otos:
        raise VoicebankError("no oto.ini in this folder or its sub-folders; expected an UTAU "
                             "voicebank folder (one holding oto.ini)", path=given)
    entries: dict[str, list[OtoEntry]] = {}
    total = [0]
    for real, oto in otos:
        if total[0] > MAX_ENTRIES:
            break
        _read_oto(ld, real, oto, entries, total)
    if not entries:
        first = "; ".join(ld.warnings[:3])
        raise VoicebankError(f"no usable oto.ini entry ({len(otos)} oto.ini read)"
                             + (f": {first}" if first else ""), path=given)
    if doc.get("use_filename_as_alias") is not False:
        _add_stem_aliases(entries)

    info: dict[str, str] = {}
    txt = ld.read_text(_root_item(top, "character.txt"))
    if txt is not None:
        info = _character_txt(txt)
    for key in ("name", "image", "author", "web", "version"):
        v = _scalar(doc.get(key))
        if v is not None and v.strip():
            info[key] = v.strip()
    image = None
    if info.get("image"):
        image = _image(ld, info["image"], "character.yaml" if _scalar(doc.get("image")) else "character.txt")

    prefix_map: dict[int, tuple[str, str]] = {}
    pm = _root_item(top, "prefix.map", "prefixmap")
    if pm is not None:
        pm_text = ld.read_text(pm)
        if pm_text is not None:
            prefix_map = _prefix_map(ld, pm_text, pm.name)

    subbanks = _subbanks(ld, doc, yaml_name)
    readme = ld.read_text(_root_item(top, "readme.txt", "readme.md")) or ""
    licence = ld.read_text(_licence_item(top)) or ""

    return Voicebank(
        root=root,
        name=info.get("name") or root.name,
        author=info.get("author", ""),
        web=info.get("web", ""),
        version=info.get("version", ""),
        image=image,
        readme=readme[:TEXT_CHARS],
        licence=licence[:TEXT_CHARS],
        encoding=_shown(given_encoding or ld.first_unmarked or "cp932"),
        entries=FrozenMap({a: tuple(es) for a, es in entries.items()}),
        prefix_map=FrozenMap(prefix_map),
        subbanks=subbanks,
        warnings=ld.final_warnings(),
    )
