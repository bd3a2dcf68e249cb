"""Reading inputs and writing outputs: never blocking, never leaving a partial file,
modes as the umask says, one clear error naming the user's path."""
import errno
import os
import stat
import threading

import pytest

from utagoe.errors import UtagoeError
from utagoe.fileio import FileError, check_output_path, read_limited, same_file, write_atomic


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_read_limited_reads_files_and_refuses_folders_loops_and_big_files(tmp_path):
    f = tmp_path / "a.ust"
    f.write_bytes(b"x" * 100)
    assert read_limited(f, limit=100) == b"x" * 100
    with pytest.raises(FileError, match="too large"):
        read_limited(f, limit=99)
    with pytest.raises(FileError, match="is a folder"):
        read_limited(tmp_path, limit=100)
    loop = tmp_path / "loop.ust"
    os.symlink(loop, loop)
    with pytest.raises(FileError, match="symlink loop"):
        read_limited(loop, limit=100)
    with pytest.raises(FileError, match="no such file"):
        read_limited(tmp_path / "missing.ust", limit=100)
    assert str(FileError(f, "why")).startswith(str(f))


def test_a_fifo_with_no_writer_reads_as_empty_at_once(tmp_path):
    fifo = tmp_path / "song.musicxml"
    os.mkfifo(fifo)
    box = []
    t = threading.Thread(target=lambda: box.append(read_limited(fifo, limit=1000)), daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "reading a FIFO without a writer blocked"
    assert box == [b""]


def test_a_fifo_with_a_writer_is_read_to_its_end(tmp_path):
    fifo = tmp_path / "song.musicxml"
    os.mkfifo(fifo)

    def writer():
        with open(fifo, "wb") as w:
            for _ in range(50):
                w.write(b"abc" * 1000)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    # the writer opens first here, as `cat song | utagoe info /dev/stdin` does
    while not t.is_alive():
        pass
    import time
    time.sleep(0.2)
    data = read_limited(fifo, limit=10**6)
    t.join(10)
    assert data == b"abc" * 50000


def test_write_atomic_gives_the_umask_mode_also_when_replacing(tmp_path, umask_022):
    out = tmp_path / "a.ustx"
    write_atomic(out, b"one")
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    out.chmod(0o600)
    write_atomic(out, b"two")
    assert out.read_bytes() == b"two" and stat.S_IMODE(out.stat().st_mode) == 0o644
    os.umask(0o077)
    write_atomic(out, b"three")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ustx"]


def test_a_long_valid_name_is_written(tmp_path):
    out = tmp_path / ("n" * 245 + ".ustx")   # 250 bytes: valid, and no room for a longer temporary name
    write_atomic(out, b"data")
    assert out.read_bytes() == b"data"


def test_a_full_disk_or_an_interruption_leaves_nothing_behind(tmp_path):
    out = tmp_path / "song.wav"
    out.write_bytes(b"old")

    def full(f):
        f.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(FileError, match=r"song.wav: no space left on the disk"):
        write_atomic(out, full)

    def interrupted(f):
        f.write(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(out, interrupted)
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.wav"]


@pytest.mark.parametrize("make, needle", [
    (lambda d: d / "missing" / "o.wav", "the folder"),
    (lambda d: (d / "x.wav").mkdir() or d / "x.wav", "is a folder"),
    (lambda d: (d / "file").write_text("") or d / "file" / "o.wav", "not a folder"),
    (lambda d: os.symlink(d / "l.wav", d / "l.wav") or d / "l.wav", "symlink loop"),
    (lambda d: d / ("n" * 300 + ".wav"), "too long"),
])
def test_output_problems_are_found_before_any_work_naming_the_users_path(tmp_path, make, needle):
    out = make(tmp_path)
    with pytest.raises(FileError, match=needle) as err:
        check_output_path(out)
    assert str(err.value).startswith(str(out)) and ".utagoe-" not in str(err.value)
    assert isinstance(err.value, UtagoeError)


def test_an_unwritable_folder_is_found_by_trying(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK) and os.geteuid() == 0:
            # root may write anywhere: the probe must then succeed and leave nothing
            check_output_path(ro / "o.wav")
            assert list(ro.iterdir()) == []
        else:
            with pytest.raises(FileError, match="cannot write in the folder"):
                check_output_path(ro / "o.wav")
    finally:
        ro.chmod(0o700)


def test_same_file_sees_through_links(tmp_path):
    a = tmp_path / "a.xml"
    a.write_text("x")
    os.symlink(a, tmp_path / "b.wav")
    assert same_file(a, tmp_path / "b.wav") and not same_file(a, tmp_path / "c.wav")
