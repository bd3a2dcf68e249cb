"""Every registered reader, reached the way users reach it (by extension or by
sniffing), turns any bytes into a Project or a ScoreFormatError."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from utagoe.errors import ScoreFormatError
from utagoe.formats import default_registry
from utagoe.formats import ReadOptions

REGISTRY = default_registry()
NAMES = [None, "x.mid", "x.kar", "x.vsq", "x.ust", "x.ustx", "x.vsqx", "x.svp", "x.musicxml",
         "x.xml", "x.mxl", "x.txt", "x.tmp"]
#: the first bytes each sniffer looks for, so random tails reach every parser
HEADS = [b"", b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0", b"[#SETTING]\r\nTempo=120\r\n",
         b"[#VERSION]\nUST Version2.0\n[#0000]\nLength=", b"ustx_version: '0.7'\n",
         b'<?xml version="1.0"?><vsq4 xmlns="http://www.yamaha.co.jp/vocaloid/schema/vsq4/">',
         b'{"version": 153, "time": {"meter": [], "tempo": []}, "tracks": [',
         b'<?xml version="1.0"?><score-partwise version="4.0"><part-list>',
         b"PK\x03\x04", b"\xef\xbb\xbf"]


def test_every_format_is_registered():
    assert set(REGISTRY.names()) == {"musicxml", "midi", "ust", "ustx", "vsqx", "svp"}
    assert {w.name for w in REGISTRY.writers} == {"ustx", "musicxml", "midi"}


def test_each_sniffer_knows_its_own_head_only():
    expected = {1: "midi", 2: "ust", 3: "ust", 4: "ustx", 5: "vsqx", 6: "svp", 7: "musicxml"}
    for i, name in expected.items():
        assert REGISTRY.by_content(HEADS[i]).name == name, HEADS[i]


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
