"""Every registered reader, reached the way users reach it (by extension or by
sniffing), turns any bytes into a Project or a ScoreFormatError: random bytes, every
truncation and random mutations of the real files of its format, strict and lenient,
and a file with one note more than limits.MAX_NOTES is refused before any note is
built. One test per reader, parametrised; the readers' own tests keep what is
particular to their format."""
from __future__ import annotations

import importlib
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SHARED
from fuzzing import check_truncations, mutate, read_or_score_error
from utagoe.errors import ScoreFormatError
from utagoe.formats import ReadOptions, default_registry, limits

REGISTRY = default_registry()
READERS = [r.name for r in REGISTRY.readers]
NAMES = [None, "x.mid", "x.kar", "x.vsq", "x.ust", "x.ustx", "x.vsqx", "x.svp", "x.musicxml",
         "x.xml", "x.mxl", "x.txt", "x.tmp"]
#: the first bytes each sniffer looks for, so random tails reach every parser
HEADS = [b"", b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0", b"[#SETTING]\r\nTempo=120\r\n",
         b"[#VERSION]\nUST Version2.0\n[#0000]\nLength=", b"ustx_version: '0.7'\n",
         b'<?xml version="1.0"?><vsq4 xmlns="http://www.yamaha.co.jp/vocaloid/schema/vsq4/">',
         b'{"version": 153, "time": {"meter": [], "tempo": []}, "tracks": [',
         b'<?xml version="1.0"?><score-partwise version="4.0"><part-list>',
         b"PK\x03\x04", b"\xef\xbb\xbf"]
HEAD_OF = {"midi": HEADS[1], "ust": HEADS[2], "ustx": HEADS[4], "vsqx": HEADS[5],
           "svp": HEADS[6], "musicxml": HEADS[7]}


def _reader(name: str):
    reader = REGISTRY.by_name(name)

    def read(data: bytes, **options):
        return reader.read(data, path=f"fuzz.{name}", options=ReadOptions(**options))
    return read


def _real_files(name: str):
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    reader = REGISTRY.by_name(name)
    files = sorted(p for p in SHARED.rglob("*") if p.is_file()
                   and REGISTRY.by_extension(p) is reader)
    if not files:
        pytest.skip(f"no {name} files in ../shared/data")
    return files


def test_every_format_is_registered():
    assert set(READERS) == {"musicxml", "midi", "ust", "ustx", "vsqx", "svp"}
    assert {w.name for w in REGISTRY.writers} == {"ustx", "musicxml", "midi"}


def test_each_sniffer_knows_its_own_head_only():
    expected = {1: "midi", 2: "ust", 3: "ust", 4: "ustx", 5: "vsqx", 6: "svp", 7: "musicxml"}
    for i, name in expected.items():
        assert REGISTRY.by_content(HEADS[i]).name == name, HEADS[i]


@pytest.mark.slow
@given(st.sampled_from(NAMES), st.sampled_from(HEADS), st.binary(max_size=600),
       st.booleans())
@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
def test_any_bytes_give_a_project_or_a_score_format_error(name, head, tail, lenient):
    for r in REGISTRY.readers:
        assert r.sniff(head + tail) in (True, False)
    try:
        REGISTRY.read_bytes(head + tail, ReadOptions(lenient=lenient), name=name)
    except ScoreFormatError as e:
        assert str(e)


@pytest.mark.parametrize("name", READERS)
@given(tail=st.binary(max_size=400), lenient=st.booleans(), keep=st.booleans())
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_random_bytes_after_the_formats_head(name, tail, lenient, keep):
    read_or_score_error(_reader(name), HEAD_OF[name] + tail, lenient=lenient,
                        keep_tracks_without_lyrics=keep)


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("name", READERS)
def test_every_truncation_of_every_real_file(name):
    files = _real_files(name)
    assert check_truncations(_reader(name), files, every_below=2048, head=200, spread=150) \
        >= min(100, sum(f.stat().st_size for f in files))


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("name", READERS)
def test_mutations_of_real_files(name):
    rng = random.Random(f"mutations of {name}")
    blobs = [f.read_bytes() for f in _real_files(name)]
    read = _reader(name)
    for _ in range(400):
        data = mutate(rng.choice(blobs), rng)
        options = dict(lenient=rng.random() < 0.5, keep_tracks_without_lyrics=rng.random() < 0.5)
        read_or_score_error(read, data, **options)


# --------------------------------------------------------------------------------------
# One note more than the limit: refused before a single Note is built


def _too_many_notes(name: str) -> bytes:
    n = limits.MAX_NOTES + 1
    if name == "ust":
        return b"[#SETTING]\nTempo=120\n" + b"".join(
            b"[#%04d]\nLength=1\nLyric=a\nNoteNum=60\n" % i for i in range(n))
    if name == "midi":
        body = b"\x00\x90\x3c\x64\x01\x80\x3c\x00" * n + b"\x00\xff\x2f\x00"
        return (b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0" + b"MTrk"
                + len(body).to_bytes(4, "big") + body)
    if name == "ustx":
        return (b"ustx_version: 0.7\ntracks: [{track_name: a}]\nvoice_parts:\n- track_no: 0\n"
                b"  notes:\n" + b"  - {tone: 60}\n" * n)
    if name == "vsqx":
        note = b"<note/>"  # counted as it is parsed, before anything is read from it
        return (b'<?xml version="1.0"?><vsq4 xmlns="http://www.yamaha.co.jp/vocaloid/schema/'
                b'vsq4/"><vsTrack><vsPart><t>0</t>' + note * n + b"</vsPart></vsTrack></vsq4>")
    if name == "svp":
        note = b'{"onset": 0, "duration": 1470000, "pitch": 60, "lyrics": "a"},'
        return (b'{"version": 153, "time": {"meter": [], "tempo": []}, "library": [], '
                b'"tracks": [{"name": "a", "mainGroup": {"notes": [' + note * (n - 1)
                + note[:-1] + b"]}}]}")
    if name == "musicxml":
        note = b"<note/>"  # counted as it is parsed, before anything is read from it
        return (b'<?xml version="1.0"?><score-partwise version="4.0"><part-list><score-part '
                b'id="P1"/></part-list><part id="P1"><measure number="1"><attributes>'
                b"<divisions>1</divisions></attributes>" + note * n
                + b"</measure></part></score-partwise>")
    raise AssertionError(f"no over-long file for {name}")


@pytest.mark.parametrize("name", READERS)
def test_one_note_over_the_limit_is_refused_before_any_note_is_built(name, monkeypatch):
    """An operation count, not a stopwatch: no Note is made before the refusal, so the
    work done is the counting alone."""
    built = []
    module = importlib.import_module(REGISTRY.by_name(name).module)
    real_note = module.Note

    def counting_note(*args, **kwargs):
        built.append(1)
        return real_note(*args, **kwargs)

    monkeypatch.setattr(module, "Note", counting_note)
    for lenient in (False, True):
        with pytest.raises(ScoreFormatError, match=str(limits.MAX_NOTES)):
            _reader(name)(_too_many_notes(name), lenient=lenient)
    assert built == []
