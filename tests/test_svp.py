"""Synthesizer V .svp reader: blicks, groups, curves, vibrato, broken input, real files."""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from utagoe.errors import InvalidValueError, ScoreFormatError
from utagoe.formats import limits
from utagoe.formats.common import NO_LYRIC
from utagoe.formats import ReadOptions
from utagoe.formats.svp import BLICKS_PER_QUARTER, BLICKS_PER_TICK, read, sniff
from utagoe.model import CONTINUATION, Tempo, TimeSignature
from conftest import real_file, real_files
from fuzzing import read_or_score_error as _read_or_score_error

Q = BLICKS_PER_QUARTER  # blicks per quarter note

# --------------------------------------------------------------------------------------
# Writing .svp inline


def note(onset_q, dur_q, pitch, lyric, phonemes="", **attrs):
    n = {"onset": round(onset_q * Q), "duration": round(dur_q * Q), "lyrics": lyric,
         "phonemes": phonemes, "pitch": pitch, "detune": 0, "attributes": dict(attrs)}
    return n


def group(notes, name="main", uuid="main-uuid", params=None):
    p = {k: {"mode": "cubic", "points": []} for k in
         ("pitchDelta", "vibratoEnv", "loudness", "tension", "breathiness", "gender")}
    p.update(params or {})
    return {"name": name, "uuid": uuid, "parameters": p, "notes": notes}


def track(name, notes, *, groups=(), mixer=None, params=None, voice="Saki"):
    return {"name": name, "dispColor": "ff7db235",
            "mixer": mixer or {"gainDecibel": 0.0, "pan": 0.0, "mute": False, "solo": False},
            "mainGroup": group(notes, uuid=f"{name}-main", params=params),
            "mainRef": {"groupID": f"{name}-main", "blickOffset": 0, "pitchOffset": 0,
                        "isInstrumental": False, "database": {"name": voice}},
            "groups": list(groups)}


def project(*tracks, tempo=((0, 120.0),), meter=((0, 4, 4),), library=()):
    return {"version": 153,
            "time": {"meter": [{"index": i, "numerator": a, "denominator": b}
                               for i, a, b in meter],
                     "tempo": [{"position": p, "bpm": b} for p, b in tempo]},
            "library": list(library), "tracks": list(tracks),
            "renderConfig": {"destination": "./", "filename": "untitled"}}


def dumps(doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8") + b"\x00"


def rd(data, **kw):
    if not isinstance(data, bytes):
        data = dumps(data)
    return read(data, path="test.svp", options=ReadOptions(**kw))


def notes(p, track=0):
    return [(n.start_ticks, n.duration_ticks, n.pitch, n.lyric) for n in p.tracks[track].notes]


def raises(data, match=None, **kw) -> ScoreFormatError:
    if not isinstance(data, bytes):
        data = dumps(data)
    with pytest.raises(ScoreFormatError, match=match) as e:
        rd(data, **kw)
    return e.value


def read_or_score_error(data: bytes, lenient: bool) -> None:
    """The robustness contract: a Project, or ScoreFormatError -- nothing else."""
    _read_or_score_error(rd, data, lenient=lenient)


# --------------------------------------------------------------------------------------
# Timing, lyrics, tracks

SIMPLE = project(track("Vocal", [note(0, 1, 60, "ど", "d o"), note(1, 0.5, 62, "-"),
                                 note(2, 1, 64, "br"), note(3, 1, 65, "la", "l a")]),
                 tempo=((0, 100.0), (4 * Q, 150.0)), meter=((0, 3, 4), (2, 4, 4)))


def test_blicks_become_ticks_and_lyrics_follow_sv_conventions():
    p = rd(SIMPLE)
    assert notes(p) == [(0, 480, 60, "ど"), (480, 240, 62, CONTINUATION),
                        (1440, 480, 65, "la")]
    assert p.tracks[0].notes[0].phonemes == ("d", "o")
    assert p.tracks[0].notes[1].phonemes == ()
    assert any("1 breath note(s) ('br') are not sung" in w for w in p.warnings)
    assert p.tempos == (Tempo(0, 100.0), Tempo(1920, 150.0))
    assert p.time_signatures == (TimeSignature(0, 3, 4), TimeSignature(2880, 4, 4))
    assert p.source_path == "test.svp" and p.title == ""
    t = p.tracks[0]
    assert (t.name, t.source_singer) == ("Vocal", "Saki")
    assert t.notes[0].source == "note 1 of track 'Vocal'"


def test_positions_round_to_the_nearest_tick():
    doc = project(track("V", [note(0, 1, 60, "a")]))
    doc["tracks"][0]["mainGroup"]["notes"][0]["onset"] = BLICKS_PER_TICK * 10 + 700_000
    doc["tracks"][0]["mainGroup"]["notes"][0]["duration"] = float(Q)
    assert notes(rd(doc)) == [(10, 480, 60, "a")]


def test_bom_and_trailing_nul_and_junk_are_tolerated():
    body = json.dumps(SIMPLE).encode("utf-8")
    assert notes(rd(b"\xef\xbb\xbf" + body + b"\x00\x00")) == notes(rd(SIMPLE))
    p = rd(body + b"\n garbage")
    assert any("after the JSON ignored" in w for w in p.warnings)


def test_mixer_gives_volume_pan_and_mute():
    doc = project(track("V", [note(0, 1, 60, "a")],
                        mixer={"gainDecibel": -5.1, "pan": -0.25, "mute": True}))
    t = rd(doc).tracks[0]
    assert (t.volume_db, t.pan, t.muted) == (-5.1, -0.25, True)


MULTI = project(track("Lead", [note(0, 1, 60, "a")]),
                track("Empty", []),
                track("Inst", [note(0, 1, 48, ""), note(1, 1, 50, "")]),
                track("Harmony", [note(0, 2, 64, "la")]))


def test_part_none_reads_every_track_with_lyrics():
    p = rd(MULTI)
    assert [t.name for t in p.tracks] == ["Lead", "Harmony"]
    assert any("track 'Inst' (--part 2, 2 notes) has no lyrics and is not sung" in w
               for w in p.warnings)


def test_part_by_number_and_name():
    raises(MULTI, part=2, match="'Inst' .* has no lyrics; give --default-lyric")
    assert [t.name for t in rd(MULTI, part=2, default_lyric="la").tracks] == ["Inst"]
    assert notes(rd(MULTI, part=2, keep_tracks_without_lyrics=True)) == \
        [(0, 480, 48, NO_LYRIC), (480, 480, 50, NO_LYRIC)]
    assert notes(rd(MULTI, part=2, default_lyric="la"))[0][3] == "la"
    assert [t.name for t in rd(MULTI, part="HARMONY").tracks] == ["Harmony"]


@pytest.mark.parametrize("part", [5, "Drums"])
def test_unknown_part_lists_the_tracks(part):
    e = raises(MULTI, part=part)
    assert "'Lead'" in str(e) and "'Harmony'" in str(e)


@pytest.mark.parametrize("part", [0, True])
def test_a_part_that_is_no_track_number_is_refused_by_the_options(part):
    with pytest.raises(InvalidValueError, match="ReadOptions.part"):
        rd(MULTI, part=part)


# --------------------------------------------------------------------------------------
# Groups (library + references)


def test_group_references_place_library_notes_with_offsets():
    lib = group([note(0, 1, 60, "ra", "r a"), note(1, 1, 62, "-")], name="chorus",
                uuid="g1", params={"pitchDelta": {"mode": "linear",
                                                  "points": [0, 0.0, Q, 100.0]}})
    refs = [{"groupID": "g1", "blickOffset": 4 * Q, "pitchOffset": 2, "isInstrumental": False},
            {"groupID": "g1", "blickOffset": 8 * Q, "pitchOffset": -12},
            {"groupID": "audio", "blickOffset": 0, "isInstrumental": True,
             "audio": {"filename": "/etc/passwd", "duration": 1}}]
    doc = project(track("V", [note(0, 1, 59, "a")], groups=refs), library=[lib])
    p = rd(doc)
    assert notes(p) == [(0, 480, 59, "a"), (1920, 480, 62, "ra"), (2400, 480, 64, "+"),
                        (3840, 480, 48, "ra"), (4320, 480, 50, "+")]
    assert "group 'chorus'" in p.tracks[0].notes[1].source
    assert any("audio (instrumental) reference" in w for w in p.warnings)
    c = p.tracks[0].curve("pitd")
    assert c.sample([1920, 2160, 2400, 3840, 4320]).tolist() == \
        pytest.approx([0, 50, 100, 0, 100])


def test_a_reference_to_a_missing_group_is_a_problem():
    doc = project(track("V", [note(0, 1, 59, "a")], groups=[{"groupID": "nope"}]))
    raises(doc, match="names no note group")
    p = rd(doc, lenient=True)
    assert notes(p) == [(0, 480, 59, "a")]


def test_group_references_count_against_the_note_limit():
    lib = group([note(k, 1, 60, "a") for k in range(1000)], uuid="big")
    refs = [{"groupID": "big", "blickOffset": k * 1000 * Q} for k in range(201)]
    raises(project(track("V", [], groups=refs), library=[lib]),
                match=f"notes.*the limit is {limits.MAX_NOTES}")


# --------------------------------------------------------------------------------------
# Curves, detune, vibrato


def test_parameter_curves_keep_sv_names_units_and_defaults():
    params = {"pitchDelta": {"mode": "linear", "points": [0, 0.0, Q, -50.0, 2 * Q, 0.0]},
              "loudness": {"mode": "linear", "points": [0, -6.0, Q, 3.0]},
              "tension": {"mode": "linear", "points": [0, 0.5]},
              "vibratoEnv": {"mode": "linear", "points": [0, 1.0, Q, 0.0]},
              "voicing": {"mode": "linear", "points": [0, 0.5]}}
    t = rd(project(track("V", [note(0, 2, 60, "a")], params=params))).tracks[0]
    names = {c.name for c in t.curves}
    assert names == {"pitd", "loudness", "tension", "vibratoEnv"}
    assert t.curve("pitd").sample([240, 480, 960]).tolist() == pytest.approx([-25, -50, 0])
    assert t.curve("loudness").values == (-6.0, 3.0)
    assert t.curve("vibratoEnv").default == 1.0
    assert t.curve("tension").ticks == (0,)


def test_cosine_and_cubic_curves_are_sampled_between_points():
    pts = [0, 0.0, Q, 100.0]
    for mode, mid in (("cosine", 50.0), ("cubic", 50.0)):
        params = {"pitchDelta": {"mode": mode, "points": pts}}
        c = rd(project(track("V", [note(0, 1, 60, "a")], params=params))).tracks[0].curve("pitd")
        assert len(c.ticks) > 10
        assert c.sample([240]).tolist() == pytest.approx([mid], abs=1.0)
        quarter = c.sample([120])[0]
        assert 5.0 < quarter < 25.0  # eased: well below the straight line's 25
        assert all(b >= a for a, b in zip(c.values, c.values[1:]))


def test_curve_points_before_the_song_start_are_cut_keeping_the_value_at_zero():
    lib = group([note(0, 1, 60, "ra")], uuid="g1",
                params={"loudness": {"mode": "linear", "points": [0, -10.0, 2 * Q, 10.0]}})
    doc = project(track("V", [note(0, 1, 60, "a")],
                        groups=[{"groupID": "g1", "blickOffset": -Q}]), library=[lib])
    p = rd(doc)
    c = p.tracks[0].curve("loudness")
    assert c.ticks == (0, 480) and c.values == pytest.approx((0.0, 10.0))
    assert notes(p) == [(0, 480, 60, "a")]
    assert any("1 note(s) starting before the song's start dropped" in w for w in p.warnings)


def test_too_many_cubic_points_fall_back_to_straight_lines(monkeypatch):
    monkeypatch.setattr(limits, "MAX_CURVE_POINTS", 50)
    params = {"pitchDelta": {"mode": "cubic", "points": [0, 0.0, Q, 100.0, 2 * Q, 0.0]}}
    p = rd(project(track("V", [note(0, 2, 60, "a")], params=params)))
    assert p.tracks[0].curve("pitd").ticks == (0, 480, 960)
    assert any("straight lines" in w for w in p.warnings)


def test_detune_is_added_to_pitd_over_the_note():
    n = note(1, 1, 60, "a")
    n["detune"] = 30
    params = {"pitchDelta": {"mode": "linear", "points": [0, 10.0, 4 * Q, 10.0]}}
    c = rd(project(track("V", [note(0, 1, 60, "b"), n], params=params))).tracks[0].curve("pitd")
    assert c.sample([100, 479, 480, 959, 960, 1500]).tolist() == \
        pytest.approx([10, 10, 40, 40, 10, 10])


def test_vibrato_from_attributes_with_sv_defaults_for_the_rest():
    # 120 bpm: a 2-quarter note lasts 1 s
    ns = rd(project(track("V", [
        note(0, 2, 60, "a", tF0VbrStart=0.5, dF0Vbr=0.6, fF0Vbr=5.0, tF0VbrLeft=0.1,
             pF0Vbr=math.pi),
        note(2, 2, 60, "b", dF0Vbr=0.0),
        note(4, 2, 60, "c"),
        note(6, 0.25, 60, "d", fF0Vbr=6.0)]))).tracks[0].notes
    v = ns[0].vibrato
    assert v.length_pct == pytest.approx(50.0)
    assert v.period_ms == pytest.approx(200.0)
    assert v.depth_cents == pytest.approx(30.0)
    assert v.fade_in_pct == pytest.approx(20.0) and v.fade_out_pct == pytest.approx(40.0)
    assert v.phase_pct == pytest.approx(50.0)
    assert ns[1].vibrato.is_off                      # depth 0: no vibrato on this note
    assert ns[2].vibrato is None                     # nothing set: the singer's own
    assert ns[3].vibrato.length_pct == 0             # shorter than the default 0.25 s delay


# --------------------------------------------------------------------------------------
# Strict and lenient, absurd numbers, hostile input


@pytest.mark.parametrize("field,value", [
    ("pitch", 128), ("pitch", -1), ("pitch", 60.5), ("pitch", "60"), ("pitch", None),
    ("duration", 0), ("duration", -Q), ("duration", 1e300), ("onset", 1e300),
    ("onset", -1e300), ("onset", "0"), ("onset", [0]), ("duration", True),
    ("lyrics", 5), ("phonemes", {"a": 1}),
])
def test_bad_note_values_raise_strictly_and_drop_the_note_when_lenient(field, value):
    bad = note(1, 1, 60, "x")
    bad[field] = value
    doc = project(track("V", [note(0, 1, 60, "a"), bad]))
    e = raises(doc)
    assert "tracks[0].mainGroup.notes[1]" in str(e) and str(e).startswith("test.svp")
    p = rd(doc, lenient=True)
    assert notes(p) == [(0, 480, 60, "a")]


@pytest.mark.parametrize("bpm", [0, -1, 1e300, 1e9, "120", None, [120]])
def test_absurd_tempos(bpm):
    doc = project(track("V", [note(0, 1, 60, "a")]), tempo=((0, bpm),))
    raises(doc, match="bpm")
    assert rd(doc, lenient=True).tempos == (Tempo(0, 120.0),)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e999", "1" * 5000])
def test_non_finite_and_huge_json_numbers_are_refused(text):
    doc = dumps(project(track("V", [note(0, 1, 60, "a")])))
    doc = doc.replace(b'"pitch": 60', b'"pitch": ' + text.encode())
    for lenient in (False, True):
        with pytest.raises(ScoreFormatError):
            rd(doc, lenient=lenient)


@pytest.mark.parametrize("meter", [(0, 4, 3), (0, 0, 4), (-1, 4, 4), (0, 4, 128)])
def test_absurd_meters(meter):
    doc = project(track("V", [note(0, 1, 60, "a")]), meter=(meter,))
    raises(doc, match="meter")
    assert rd(doc, lenient=True).time_signatures == (TimeSignature(0, 4, 4),)


def test_a_song_longer_than_24_hours_is_refused():
    doc = project(track("V", [note(0, 1, 60, "a"), note(1_000_000, 1, 60, "b")]),
                  tempo=((0, 1.0),))
    raises(doc, match="hours")


@pytest.mark.parametrize("data", [
    b"", b"\x00\x00", b"[]", b"{}", b"{\"tracks\": {}}", b"{\"tracks\": [1, 2]}",
    b"\xff\xfe{}", b"not json }", b"[" * 100_000 + b"]" * 100_000, b"{\"a\":" * 50_000 + b"}",
])
def test_junk_raises_score_format_error(data):
    for lenient in (False, True):
        with pytest.raises(ScoreFormatError):
            rd(data, lenient=lenient)


def test_invalid_utf8_is_an_error_strictly_and_replaced_when_lenient():
    data = dumps(project(track("V", [note(0, 1, 60, "AB")]))).replace(b"AB", b"A\xff")
    raises(data, match="UTF-8")
    assert notes(rd(data, lenient=True))[0][3] == "A\ufffd"


def test_sniff():
    assert sniff(dumps(SIMPLE)[:4096])
    assert sniff(b'\xef\xbb\xbf  {"renderConfig": {}, "mainGroup": {}}')
    assert not sniff(b'{"name": "x"}')
    assert not sniff(b"<vsq4>")
    assert not sniff(b"")


# --------------------------------------------------------------------------------------
# Robustness: truncation and property tests


_ABSURD = [0, -1, 1e300, -1e300, float("nan"), float("inf"), "60", "", None, True, [], [1, 2],
           {}, {"a": 1}, 10 ** 30, 10 ** 400, 0.5, 127, 705600000]


def _paths(doc, prefix=()):
    """Every (path) to a value inside ``doc``."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.extend(_paths(v, prefix + (i,)))
    return out


def _set(doc, path, value):
    if not path:
        return value
    cur = doc
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return doc


def _mutate_doc(doc, ops) -> bytes:
    d = copy.deepcopy(doc)
    for pick, val in ops:
        paths = _paths(d)
        d = _set(d, paths[pick % len(paths)], copy.deepcopy(_ABSURD[val % len(_ABSURD)]))
    return json.dumps(d, allow_nan=True).encode("utf-8") + b"\x00"


def _mutate_bytes(data: bytes, ops) -> bytes:
    d = bytearray(data)
    for kind, pos, val in ops:
        if kind == 0 and d:
            d[pos % len(d)] = val % 256
        elif kind == 1:
            frag = [b"{", b"}", b"[", b"]", b",", b'"', b":", b"-", b"e99", b"\x00"][val % 10]
            d[pos % (len(d) + 1):pos % (len(d) + 1)] = frag
        elif d:
            p = pos % len(d)
            del d[p:p + 1 + val % 30]
    return bytes(d)


_LIB = group([note(0, 1, 60, "ra"), note(1, 1, 62, "-")], uuid="g1",
             params={"pitchDelta": {"mode": "cosine", "points": [0, 0.0, Q, 30.0]}})
_INLINE = [SIMPLE, MULTI,
           project(track("V", [note(0, 2, 60, "a", tF0VbrStart=0.5, dF0Vbr=0.6)],
                         groups=[{"groupID": "g1", "blickOffset": 4 * Q, "pitchOffset": 2}],
                         params={"loudness": {"mode": "cubic",
                                              "points": [0, -3.0, Q, 2.0, 3 * Q, 0.0]}}),
                   library=[_LIB])]


@pytest.mark.slow
@given(st.sampled_from(range(len(_INLINE))),
       st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 10 ** 6)),
                min_size=1, max_size=3))
@settings(max_examples=300)
def test_structurally_mutated_projects_read_or_raise_score_format_error(which, ops):
    data = _mutate_doc(_INLINE[which], ops)
    read_or_score_error(data, lenient=False)
    read_or_score_error(data, lenient=True)


@pytest.mark.slow
@given(st.sampled_from(range(len(_INLINE))),
       st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10 ** 6), st.integers(0, 255)),
                min_size=1, max_size=3))
@settings(max_examples=150)
def test_byte_mutated_projects_read_or_raise_score_format_error(which, ops):
    data = _mutate_bytes(dumps(_INLINE[which]), ops)
    read_or_score_error(data, lenient=False)
    read_or_score_error(data, lenient=True)


# --------------------------------------------------------------------------------------
# Real files from ../shared/data


def _real(shared: Path, rel: str) -> bytes:
    return real_file(shared, "svp", rel)


def _real_files(shared: Path) -> list[Path]:
    return real_files(shared, "svp", "*.svp")


SCALE = [(0, 60, "ど"), (480, 62, "れ"), (960, 64, "み"), (1440, 65, "ふぁ"), (1920, 67, "そ"),
         (2400, 69, "ら"), (2880, 71, "し"), (3360, 72, "ど")]


@pytest.mark.shared
def test_real_synthv_svp_with_trailing_nul(shared_data):
    data = _real(shared_data, "utaformatix-ts/synthv.svp")
    assert data.endswith(b"\x00")
    p = read(data, path="synthv.svp")
    assert [t.name for t in p.tracks] == ["無名トラック"]
    assert notes(p) == [(s, 480, n, y) for s, n, y in SCALE]
    assert p.tempos == (Tempo(0, 120.0),)
    assert p.time_signatures == (TimeSignature(0, 4, 4),)
    assert p.tracks[0].curves == ()  # every parameter curve is empty
    assert p.warnings == ()


@pytest.mark.shared
def test_real_generated_synthv_svp(shared_data):
    p = read(_real(shared_data, "utaformatix-ts/generated_synthV.svp"), path="g.svp")
    assert [t.name for t in p.tracks] == ["Track 1"]
    assert notes(p) == [(s, 480, n, y) for s, n, y in SCALE]
    assert all(n.vibrato is None and n.phonemes == () for n in p.tracks[0].notes)
    assert p.tempos == (Tempo(0, 120.0),)


@pytest.mark.shared
def test_real_10tracks_svp(shared_data):
    p = read(_real(shared_data, "utaformatix-ts/10tracks.svp"), path="10tracks.svp")
    assert [t.name for t in p.tracks] == [str(i) for i in range(1, 11)]
    firsts = [(t.notes[0].pitch, t.notes[0].lyric) for t in p.tracks]
    assert firsts == [(60, "あ"), (62, "い"), (64, "う"), (65, "え"), (67, "お"),
                      (69, "か"), (71, "き"), (72, "く"), (74, "け"), (76, "こ")]
    assert all(notes(p, i) == [(0, 480, firsts[i][0], firsts[i][1])] for i in range(10))
    assert p.tracks[7].volume_db == pytest.approx(-5.1)
    assert p.tracks[0].source_singer == "Kasane Teto"
    assert all(t.curves == () for t in p.tracks)  # SV's own systemPitchDelta is not read
    assert [t.name for t in read(_real(shared_data, "utaformatix-ts/10tracks.svp"),
                                 options=ReadOptions(part=4)).tracks] == ["4"]


