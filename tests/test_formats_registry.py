"""The score-format registry and read_score: lookup, limits, errors."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from types import SimpleNamespace

import pytest

from utagoe.errors import InvalidValueError, ScoreFormatError
from utagoe.formats import ReadOptions, read_score
from utagoe.formats.limits import MAX_SCORE_BYTES
from utagoe.formats.registry import FormatRegistry, ScoreReader, default_registry
from utagoe.model import Note, Project, Track


def fake(sniff=lambda head: False, read=lambda *a, **k: None):
    """A reader given as an object (a plug-in's or a test's), not a module name."""
    return SimpleNamespace(sniff=sniff, read=read)

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
    a.register(ScoreReader("fake", (".fake",), fake()))
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
    reg.register(ScoreReader("a", ("x",), fake()))
    assert reg.by_extension("f.X").name == "a"  # extension normalised to ".x"
    with pytest.raises(ValueError):
        reg.register(ScoreReader("a", (".y",), fake()))
    with pytest.raises(ValueError):
        reg.register(ScoreReader("b", (".x",), fake()))


def test_a_broken_sniffer_does_not_break_lookup():
    reg = FormatRegistry()

    def boom(head):
        raise RuntimeError("bad sniffer")

    reg.register(ScoreReader("bad", (".bad",), fake(sniff=boom)))
    reg.register(ScoreReader("missing", (".missing",), "utagoe.formats.no_such_reader"))
    reg.register(ScoreReader("good", (".good",), fake(sniff=lambda h: h.startswith(b"GOOD"))))
    assert reg.lookup("f", b"GOOD data").name == "good"


def test_read_score_passes_options_to_the_reader(tmp_path):
    seen = {}

    def read(data, *, path, options):
        seen.update(data=data, path=path, options=options)
        return Project(tracks=(Track("t", (Note(0, 480, 60, "a"),)),), source_path=path)

    reg = FormatRegistry()
    reg.register(ScoreReader("fake", (".fake",), fake(read=read)))
    f = tmp_path / "song.fake"
    f.write_bytes(b"payload")
    options = ReadOptions(part=2, verse="chorus", voice=3, lenient=True,
                          keep_tracks_without_lyrics=True)
    p = read_score(f, options, registry=reg)
    assert p.source_path == str(f) and p.source_format == "fake"
    assert seen["data"] == b"payload" and seen["path"] == str(f)
    assert seen["options"] is options
    # options travel in one ReadOptions only
    with pytest.raises(TypeError):
        read_score(f, options, lenient=True, registry=reg)  # type: ignore[call-arg]


def test_read_score_reads_musicxml_and_never_modifies_the_file(tmp_path):
    f = tmp_path / "song.musicxml"
    f.write_bytes(SCORE)
    os.chmod(f, 0o444)
    before = (f.read_bytes(), os.stat(f).st_mtime_ns)
    p = read_score(f)
    assert [n.lyric for n in p.tracks[0].notes] == ["ra"]
    assert p.source_path == str(f) and p.source_format == "musicxml"
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
    with pytest.raises(ScoreFormatError, match="too large") as e:
        read_score(f)
    assert e.value.path == str(f)


def test_a_fifo_without_a_writer_does_not_hang(tmp_path):
    fifo = tmp_path / "song.musicxml"
    os.mkfifo(fifo)
    with pytest.raises(ScoreFormatError, match="empty") as e:
        read_score(fifo)
    assert e.value.path == str(fifo)


def test_missing_file_and_directory_raise_score_format_error(tmp_path):
    with pytest.raises(ScoreFormatError, match="no such file") as e:
        read_score(tmp_path / "nope.musicxml")
    assert e.value.path.endswith("nope.musicxml")
    d = tmp_path / "dir.musicxml"
    d.mkdir()
    with pytest.raises(ScoreFormatError, match="is a folder"):
        read_score(d)


def test_read_bytes_uses_the_name_for_lookup():
    p = default_registry().read_bytes(SCORE, name="x.musicxml")
    assert p.tracks[0].notes[0].lyric == "ra"
    with pytest.raises(ScoreFormatError):
        default_registry().read_bytes(b"not a score", name="x.txt")


def test_read_bytes_sets_the_source_format_and_bounds_the_size():
    p = default_registry().read_bytes(SCORE, name="x.musicxml")
    assert p.source_format == "musicxml"
    with pytest.raises(ScoreFormatError, match="too large"):
        default_registry().read_bytes(b" " * (MAX_SCORE_BYTES + 1), name="x.musicxml")


def test_importing_the_registry_imports_no_reader():
    code = ("import sys; import utagoe.formats.registry as r; reg = r.default_registry(); "
            "reg.lookup('a.ust', b''); "
            "print(sorted(m for m in sys.modules if m.startswith('utagoe.formats.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    loaded = eval(out)
    assert not {"utagoe.formats.ust", "utagoe.formats.midi", "utagoe.formats.musicxml",
                "utagoe.formats.ustx", "utagoe.formats.vsqx", "utagoe.formats.svp",
                "utagoe.formats.musicxml_write"} & set(loaded)


def test_a_reader_is_imported_on_first_use_only():
    code = ("import sys; from utagoe.formats import default_registry, ReadOptions; "
            "reg = default_registry(); "
            "reg.read_bytes(b'[#SETTING]\\nTempo=120\\n[#0000]\\nLength=480\\nLyric=a\\n"
            "NoteNum=60\\n', name='a.ust'); "
            "print(sorted(m for m in sys.modules if m.startswith('utagoe.formats.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    loaded = set(eval(out))
    assert "utagoe.formats.ust" in loaded
    assert not {"utagoe.formats.midi", "utagoe.formats.musicxml", "utagoe.formats.ustx"} & loaded


def test_read_options_are_checked_when_made():
    assert ReadOptions(part="Alto", verse=2, voice="1", encoding="cp932").part == "Alto"
    with pytest.raises(ScoreFormatError, match="unknown text encoding 'klingon'"):
        ReadOptions(encoding="klingon")
    with pytest.raises(ScoreFormatError, match="not a text encoding"):
        ReadOptions(encoding="rot13")
    for field, value in (("part", 0), ("part", -1), ("part", 1.5), ("part", True),
                         ("verse", 0), ("voice", []), ("lenient", "yes"),
                         ("keep_tracks_without_lyrics", 1), ("default_lyric", 5)):
        with pytest.raises(InvalidValueError, match=f"ReadOptions.{field}"):
            ReadOptions(**{field: value})


def test_importing_read_options_is_light():
    code = ("import sys; from utagoe.formats.options import ReadOptions; "
            "print(any(m == 'numpy' or m.startswith('numpy.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
