"""Reading inputs and writing outputs safely: the one place utagoe touches user files.

* :func:`read_limited` reads a whole input file (a score, later a voicebank
  config) without ever blocking on a FIFO that has no writer, refusing folders,
  symlink loops and files over a byte limit, with one clear error naming the path.
* :func:`check_output_path` finds what would stop an output from being written
  (a missing folder, a folder in its place, a parent that is a file, no write
  permission, a name too long) *before* any work is done.
* :func:`write_atomic` writes an output through a short temporary name in the
  same folder and renames it over the target, so a reader never sees a partial
  file; the result gets the mode a new file gets under the umask (never the
  temporary file's 0600), and a full disk or an interruption leaves nothing behind.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Mapping

from .errors import UtagoeError


class FileError(UtagoeError, OSError):
    """An input could not be read or an output could not be written; names the path."""

    def __init__(self, path: str | os.PathLike, why: str) -> None:
        self.path = str(path)
        self.why = why
        UtagoeError.__init__(self, f"{self.path}: {why}")

    def __str__(self) -> str:
        return f"{self.path}: {self.why}"


#: what an OSError's errno means to a user
_WHY = {
    errno.ENOENT: "no such file or folder",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "is a folder, not a file",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ELOOP: "too many levels of symbolic links (a symlink loop?)",
    errno.ENAMETOOLONG: "the name is too long for this file system",
    errno.ENOSPC: "no space left on the disk",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EROFS: "the file system is read-only",
    errno.EFBIG: "the file is too large for this file system",
    errno.EIO: "input/output error",
}


def describe_os_error(exc: OSError) -> str:
    """A short, plain reason for an OSError (no Python names, no temporary paths)."""
    return _WHY.get(exc.errno or 0, exc.strerror or type(exc).__name__)


def read_limited(path: str | os.PathLike, *, limit: int,
                 error: Callable[[str, str], Exception] | None = None) -> bytes:
    """All bytes of the file at ``path`` (at most ``limit``; larger files are refused).

    Never blocks: a FIFO or a device is opened without waiting for a writer, and
    a FIFO with no writer reads as empty. A pipe (``/dev/stdin``) is read once, to
    its end. ``error(path, why)`` makes the exception (default :class:`FileError`).
    """
    make = error or (lambda p, why: FileError(p, why))
    p = os.fspath(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise make(p, describe_os_error(exc)) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise make(p, "is a folder, not a file")
        if stat.S_ISREG(st.st_mode) and st.st_size > limit:
            raise make(p, too_large_message(st.st_size, limit))
        if stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISSOCK(st.st_mode):
            _set_blocking(fd)  # a writer is there (or EOF comes at once): read to the end
        chunks: list[bytes] = []
        total = 0
        while True:
            try:
                chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            except BlockingIOError:
                break
            except OSError as exc:
                raise make(p, f"cannot read: {describe_os_error(exc)}") from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise make(p, too_large_message(total, limit))
        return b"".join(chunks)
    finally:
        os.close(fd)


def _set_blocking(fd: int) -> None:
    try:
        os.set_blocking(fd, True)
    except (AttributeError, OSError):
        pass


def too_large_message(size: int, limit: int) -> str:
    """The one wording of "this input is over its byte limit"."""
    return (f"the file is too large ({size / 2**20:.1f} MiB; the limit is "
            f"{limit / 2**20:g} MiB)")


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Do ``a`` and ``b`` name one existing file (through links and ``..``)?"""
    try:
        return os.path.samefile(a, b)
    except OSError:
        try:
            return Path(a).resolve() == Path(b).resolve()
        except (OSError, RuntimeError):
            return False


def check_output_path(path: str | os.PathLike) -> Path:
    """Raise :class:`FileError` naming ``path`` if an output could not be written there.

    Checked before the work that makes the output, so a long render does not end
    in an error: the folder must exist and be writable, ``path`` must not be a
    folder (or a symlink loop), and its name must fit the file system.
    """
    out = Path(path)
    parent = out.parent if str(out.parent) else Path(".")
    try:
        st = os.stat(out)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            st = None
        elif exc.errno == errno.ELOOP or (exc.errno == errno.ENOTDIR and not parent.is_dir()):
            raise FileError(out, describe_os_error(exc)) from None
        else:
            raise FileError(out, describe_os_error(exc)) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise FileError(out, "is a folder; give a file name")
    if st is None and os.path.islink(out):
        raise FileError(out, "is a symbolic link to nothing (or a symlink loop)")
    try:
        pst = os.stat(parent)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise FileError(out, f"the folder {parent} does not exist") from None
        if exc.errno == errno.ENOTDIR:
            raise FileError(out, f"{parent} is a file, not a folder") from None
        raise FileError(out, f"cannot use the folder {parent}: {describe_os_error(exc)}") from None
    if not stat.S_ISDIR(pst.st_mode):
        raise FileError(out, f"{parent} is a file, not a folder")
    try:
        name_max = os.pathconf(parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        name_max = 255
    if len(os.fsencode(out.name)) > name_max:
        raise FileError(out, f"the name is too long for this file system (at most {name_max} bytes)")
    # permissions alone do not tell (root, read-only or special file systems): try
    try:
        fd, probe = tempfile.mkstemp(prefix=".utagoe-", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise FileError(out, f"cannot write in the folder {parent}: {describe_os_error(exc)}") from None
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError:
        pass
    return out


def _new_file_mode() -> int:
    """The mode a newly created file gets here: 0666 less the process umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: str | os.PathLike,
                 data: bytes | bytearray | memoryview | Callable[[BinaryIO], None]) -> Path:
    """Write ``data`` (bytes, or a function that writes into a binary file) to ``path``
    atomically: into a temporary file in the same folder, then renamed over ``path``.

    The temporary name is short (it never makes a valid name too long); the file
    ends with the mode a new file gets under the umask; any failure (a full disk,
    a signal turned into an exception) removes the temporary file and raises
    :class:`FileError` naming ``path`` for OS errors.
    """
    out = check_output_path(path)
    folder = out.parent if str(out.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".utagoe-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise FileError(out, describe_os_error(exc)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fchmod(f.fileno(), _new_file_mode())
        os.replace(tmp, out)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, UtagoeError):
            raise FileError(out, describe_os_error(exc)) from None
        if isinstance(exc, RuntimeError) and "No space left" in str(exc):
            raise FileError(out, _WHY[errno.ENOSPC]) from None  # soundfile's own error
        raise
    return out


def cache_folder(name: str, environ: Mapping[str, str] | None = None) -> Path:
    """The folder ``name`` of utagoe's caches: under ``$UTAGOE_CACHE_DIR`` if set,
    else ``$XDG_CACHE_HOME/utagoe`` (an absolute XDG_CACHE_HOME), else
    ``~/.cache/utagoe`` (a folder in the temporary folder where no home is known).
    ``environ`` defaults to ``os.environ``."""
    env = os.environ if environ is None else environ
    own = env.get("UTAGOE_CACHE_DIR", "")
    if own:
        return Path(own) / name
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "utagoe" / name
    try:
        home = Path.home()
    except (RuntimeError, KeyError, OSError):  # no home folder known
        home = Path(tempfile.gettempdir()) / f"utagoe-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    return home / ".cache" / "utagoe" / name


def save_cache_npz(path: Path, arrays: Mapping[str, object]) -> str | None:
    """Write a cache file of named arrays (an uncompressed ``.npz``) atomically,
    making its folder. Returns None, or why it could not be written: a cache
    that cannot be written is a warning for the caller, never an error."""
    import numpy as np

    savez: Any = np.savez  # numpy's stub types the keyword arrays as its own options

    def write(f) -> None:
        savez(f, **arrays)

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, write)
    except (OSError, FileError) as exc:
        return exc.why if isinstance(exc, FileError) else describe_os_error(exc)
    return None
