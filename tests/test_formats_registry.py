"""The score-format registry and read_score: lookup, limits, errors."""
from __future__ import annotations

import io
import os
import time
import zipfile

import pytest

from utagoe.errors import ScoreFormatError
from utagoe.formats import ReadOptions, read_score
from utagoe.formats.registry import (MAX_SCORE_BYTES, FormatRegistry, ScoreReader,
                                     default_registry, read_limited)
from utagoe.model import Note, Project, Track

SCORE = b"""<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="4.0">
  <part-list><score-part id="P1"><part-name>Voice</part-name></score-part></part-list>
  <part id="P1">
    <measure number="1">
      <attributes><divisions>1</divisions></attributes>
      <note><pitch><step>C</step><octave>4</octave></pitch><duration>1</duration>
        <lyric><text>ra</text></lyric></note>
    </measure>
  </part>
</score-partwise>
"""


def _mxl(xml: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("META-INF/container.xml",
                    '<container><rootfiles><rootfile full-path="song.xml"/></rootfiles>'
                    '</container>')
        zf.writestr("song.xml", xml)
    return buf.getvalue()


def test_default_registry_knows_musicxml():
    reg = default_registry()
    assert "musicxml" in reg.names()
    r = reg.by_name("musicxml")
    assert set(r.extensions) == {".xml", ".musicxml", ".mxl"}


def test_default_registry_is_a_fresh_object_each_time():
    a, b = default_registry(), default_registry()
    assert a is not b
    a.register(ScoreReader("fake", (".fake",), lambda head: False, lambda *a, **k: None))
    assert "fake" in a.names() and "fake" not in b.names()


@pytest.mark.parametrize("name", ["song.xml", "SONG.MusicXML", "a.b.mxl", "x.XML"])
def test_lookup_by_extension(name):
    assert default_registry().lookup(name, b"").name == "musicxml"


def test_lookup_by_sniffing_when_extension_is_unknown():
    reg = default_registry()
    assert reg.lookup("song.txt", SCORE).name == "musicxml"
    assert reg.lookup("noext", _mxl(SCORE)).name == "musicxml"
    assert reg.lookup(None, b"\xff\xfe" + SCORE.decode().encode("utf-16-le")).name == "musicxml"


def test_failed_lookup_lists_known_formats():
    with pytest.raises(ScoreFormatError) as e:
        default_registry().lookup("song.doc", b"hello, world")
    assert "musicxml" in str(e.value) and ".mxl" in str(e.value)
    assert e.value.path == "song.doc"


def test_unknown_format_name_lists_known_formats():
    with pytest.raises(ScoreFormatError, match="musicxml"):
        default_registry().by_name("finale")


def test_register_refuses_duplicate_names_and_extensions():
    reg = FormatRegistry()
    reg.register(ScoreReader("a", ("x",), lambda h: False, lambda *a, **k: None))
    assert reg.by_extension("f.X").name == "a"  # extension normalised to ".x"
    with pytest.raises(ValueError):
        reg.register(ScoreReader("a", (".y",), lambda h: False, lambda *a, **k: None))
    with pytest.raises(ValueError):
        reg.register(ScoreReader("b", (".x",), lambda h: False, lambda *a, **k: None))


def test_a_broken_sniffer_does_not_break_lookup():
    reg = FormatRegistry()

    def boom(head):
        raise RuntimeError("bad sniffer")

    reg.register(ScoreReader("bad", (".bad",), boom, lambda *a, **k: None))
    reg.register(ScoreReader("good", (".good",), lambda h: h.startswith(b"GOOD"),
                             lambda *a, **k: None))
    assert reg.lookup("f", b"GOOD data").name == "good"


def test_read_score_passes_options_to_the_reader(tmp_path):
    seen = {}

    def read(data, *, path, options):
        seen.update(data=data, path=path, options=options)
        return Project(tracks=(Track("t", (Note(0, 480, 60, "a"),)),), source_path=path)

    reg = FormatRegistry()
    reg.register(ScoreReader("fake", (".fake",), lambda h: False, read))
    f = tmp_path / "song.fake"
    f.write_bytes(b"payload")
    p = read_score(f, part=2, verse="chorus", voice=3, lenient=True, registry=reg)
    assert p.source_path == str(f)
    assert seen["data"] == b"payload" and seen["path"] == str(f)
    assert seen["options"] == ReadOptions(part=2, verse="chorus", voice=3, lenient=True)


def test_read_score_reads_musicxml_and_never_modifies_the_file(tmp_path):
    f = tmp_path / "song.musicxml"
    f.write_bytes(SCORE)
    os.chmod(f, 0o444)
    before = (f.read_bytes(), os.stat(f).st_mtime_ns)
    p = read_score(f)
    assert [n.lyric for n in p.tracks[0].notes] == ["ra"]
    assert p.source_path == str(f)
    assert (f.read_bytes(), os.stat(f).st_mtime_ns) == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["song.musicxml"]


def test_read_score_with_explicit_format_ignores_the_extension(tmp_path):
    f = tmp_path / "song.dat"
    f.write_bytes(SCORE)
    assert read_score(f, format="musicxml").tracks[0].notes[0].pitch == 60


def test_sniffed_mxl_without_extension(tmp_path):
    f = tmp_path / "download"
    f.write_bytes(_mxl(SCORE))
    assert read_score(f).tracks[0].notes[0].lyric == "ra"


def test_files_over_64_mib_are_refused_without_reading_them(tmp_path):
    f = tmp_path / "huge.musicxml"
    with open(f, "wb") as fh:
        fh.truncate(MAX_SCORE_BYTES + 1)  # sparse: no disk used
    t0 = time.perf_counter()
    with pytest.raises(ScoreFormatError, match="too large"):
        read_score(f)
    assert time.perf_counter() - t0 < 0.5


def test_read_limited_refuses_over_the_limit(tmp_path):
    f = tmp_path / "a.xml"
    f.write_bytes(b"x" * 101)
    assert read_limited(f, limit=101) == b"x" * 101
    with pytest.raises(ScoreFormatError):
        read_limited(f, limit=100)


def test_missing_file_and_directory_raise_score_format_error(tmp_path):
    with pytest.raises(ScoreFormatError, match="no such file") as e:
        read_score(tmp_path / "nope.musicxml")
    assert e.value.path.endswith("nope.musicxml")
    d = tmp_path / "dir.musicxml"
    d.mkdir()
    with pytest.raises(ScoreFormatError, match="directory"):
        read_score(d)


def test_read_bytes_uses_the_name_for_lookup():
    p = default_registry().read_bytes(SCORE, name="x.musicxml")
    assert p.tracks[0].notes[0].lyric == "ra"
    with pytest.raises(ScoreFormatError):
        default_registry().read_bytes(b"not a score", name="x.txt")
