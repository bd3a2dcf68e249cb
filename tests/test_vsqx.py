"""VOCALOID .vsqx reader: timing, tracks, pitch, vibrato, hostile and broken input, real files."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from utagoe.errors import InvalidValueError, ScoreFormatError
from utagoe.formats import ReadOptions
from utagoe.formats.common import NO_LYRIC, step_curve_points
from utagoe.formats.vsqx import read, sniff
from utagoe.model import CONTINUATION, Tempo, TimeSignature
from conftest import real_file, real_files
from scaling import assert_scales_linearly
from fuzzing import read_or_score_error as _read_or_score_error

# --------------------------------------------------------------------------------------
# Writing .vsqx inline (both schema versions)

NS4 = "http://www.yamaha.co.jp/vocaloid/schema/vsq4/"
NS3 = "http://www.yamaha.co.jp/vocaloid/schema/vsq3/"


def n4(t, dur, n, y, p="a", *, vib=None, extra=""):
    """A vsq4 <note>; ``vib`` = (vibType, vibLen, depth, rate)."""
    style = ""
    if vib is not None:
        vt, vl, dep, rate = vib
        seqs = ""
        if dep is not None:
            seqs += (f'<seq id="vibDep"><cc><p>0</p><v>{dep}</v></cc>'
                     '<cc><p>9000</p><v>1</v></cc></seq>')
        if rate is not None:
            seqs += f'<seq id="vibRate"><cc><p>0</p><v>{rate}</v></cc></seq>'
        style = f'<nStyle><v id="vibLen">{vl}</v><v id="vibType">{vt}</v>{seqs}</nStyle>'
    return (f"<note><t>{t}</t><dur>{dur}</dur><n>{n}</n><v>64</v><y><![CDATA[{y}]]></y>"
            f"<p><![CDATA[{p}]]></p>{style}{extra}</note>")


def part4(t, *notes, ccs="", play=None):
    pt = f"<playTime>{play}</playTime>" if play is not None else ""
    return (f"<vsPart><t>{t}</t>{pt}<name>P</name><singer><t>0</t><bs>0</bs><pc>1</pc></singer>"
            f"{ccs}{''.join(notes)}<plane>0</plane></vsPart>")


def track4(name, *parts, no=0):
    return f"<vsTrack><tNo>{no}</tNo><name><![CDATA[{name}]]></name>{''.join(parts)}</vsTrack>"


def vsq4(*tracks, pre=4, sigs=((0, 4, 4),), tempos=((0, 12000),), res=480, title="Song",
         mixer="", header="", master_extra="") -> bytes:
    s = "".join(f"<timeSig><m>{m}</m><nu>{a}</nu><de>{b}</de></timeSig>" for m, a, b in sigs)
    tm = "".join(f"<tempo><t>{t}</t><v>{v}</v></tempo>" for t, v in tempos)
    voices = ("<vVoiceTable><vVoice><bs>0</bs><pc>1</pc><id>X</id><name>Miku_V4X</name>"
              "</vVoice></vVoiceTable>")
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n{header}'
            f'<vsq4 xmlns="{NS4}"><vender>Yamaha</vender>{voices}<mixer>{mixer}</mixer>'
            f"<masterTrack><seqName><![CDATA[{title}]]></seqName><resolution>{res}</resolution>"
            f"<preMeasure>{pre}</preMeasure>{s}{tm}{master_extra}</masterTrack>"
            f"{''.join(tracks)}<monoTrack/><stTrack/></vsq4>\n").encode("utf-8")


def n3(pos, dur, num, lyric, phn="a", *, vib=None):
    style = ""
    if vib is not None:
        vt, vl, dep, rate = vib
        seq = (f'<seqAttr id="vibDep"><elem><posNrm>0</posNrm><elv>{dep}</elv></elem></seqAttr>'
               f'<seqAttr id="vibRate"><elem><posNrm>0</posNrm><elv>{rate}</elv></elem>'
               "</seqAttr>")
        style = (f'<noteStyle><attr id="vibLen">{vl}</attr><attr id="vibType">{vt}</attr>{seq}'
                 "</noteStyle>")
    return (f"<note><posTick>{pos}</posTick><durTick>{dur}</durTick><noteNum>{num}</noteNum>"
            f"<velocity>64</velocity><lyric><![CDATA[{lyric}]]></lyric>"
            f"<phnms><![CDATA[{phn}]]></phnms>{style}</note>")


def vsq3(notes: str, *, ctrls="", pre=4, sigs=((0, 4, 4),), tempos=((0, 12000),),
         name="Vocal") -> bytes:
    s = "".join(f"<timeSig><posMes>{m}</posMes><nume>{a}</nume><denomi>{b}</denomi></timeSig>"
                for m, a, b in sigs)
    tm = "".join(f"<tempo><posTick>{t}</posTick><bpm>{v}</bpm></tempo>" for t, v in tempos)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<vsq3 xmlns="{NS3}">'
            "<vVoiceTable><vVoice><vBS>0</vBS><vPC>0</vPC><vVoiceName>KAITO</vVoiceName>"
            "</vVoice></vVoiceTable>"
            "<mixer><vsUnit><vsTrackNo>0</vsTrackNo><mute>1</mute><pan>0</pan><vol>-35</vol>"
            "</vsUnit></mixer>"
            f"<masterTrack><seqName>none</seqName><resolution>480</resolution>"
            f"<preMeasure>{pre}</preMeasure>{s}{tm}</masterTrack>"
            f"<vsTrack><vsTrackNo>0</vsTrackNo><trackName>{name}</trackName>"
            f"<musicalPart><posTick>7680</posTick><playTime>3840</playTime>"
            f"<singer><posTick>0</posTick><vBS>0</vBS><vPC>0</vPC></singer>{ctrls}{notes}"
            "</musicalPart></vsTrack></vsq3>").encode("utf-8")


def rd(data: bytes, **kw):
    return read(data, path="test.vsqx", options=ReadOptions(**kw))


def notes(project, track=0):
    return [(n.start_ticks, n.duration_ticks, n.pitch, n.lyric)
            for n in project.tracks[track].notes]


def raises(data: bytes, match=None, **kw) -> ScoreFormatError:
    with pytest.raises(ScoreFormatError, match=match) as e:
        rd(data, **kw)
    return e.value


def read_or_score_error(data: bytes, lenient: bool) -> None:
    """The robustness contract: a Project, or ScoreFormatError -- nothing else."""
    _read_or_score_error(rd, data, lenient=lenient)


# --------------------------------------------------------------------------------------
# Timing and notes

SIMPLE4 = vsq4(track4("Vocal", part4(5760, n4(0, 480, 60, "ど", "d o"), n4(480, 240, 62, "-"),
                                     n4(960, 480, 64, "gra-", "g r eI"))),
               pre=4, sigs=((0, 3, 4),), tempos=((0, 8000),))


def test_vsq4_pre_measures_are_taken_off_in_the_first_signature():
    p = rd(SIMPLE4)
    # 4 pre-measures of 3/4 = 5760 ticks: the part starts the song
    assert notes(p) == [(0, 480, 60, "ど"), (480, 240, 62, CONTINUATION),
                        (960, 480, 64, "gra-")]
    assert p.tracks[0].notes[0].phonemes == ("d", "o")
    assert p.tracks[0].notes[2].phonemes == ("g", "r", "eI")
    assert p.tempos == (Tempo(0, 80.0),)
    assert p.time_signatures == (TimeSignature(0, 3, 4),)
    assert p.title == "Song"
    assert p.tracks[0].name == "Vocal"
    assert p.tracks[0].source_singer == "Miku_V4X"
    assert p.source_path == "test.vsqx"
    assert p.warnings == ()
    assert "line" in p.tracks[0].notes[0].source and "Vocal" in p.tracks[0].notes[0].source


def test_vsq3_reads_the_same_way_with_its_own_tag_names_and_mixer():
    p = rd(vsq3(n3(0, 480, 57, "み", "m' i") + n3(480, 480, 62, "ー", "-")
                + n3(960, 240, 62, "-", "")))
    assert notes(p) == [(0, 480, 57, "み"), (480, 480, 62, "ー"), (960, 240, 62, "+")]
    assert p.tracks[0].notes[0].phonemes == ("m'", "i")
    t = p.tracks[0]
    assert (t.name, t.source_singer, t.muted) == ("Vocal", "KAITO", True)
    assert t.volume_db == pytest.approx(-3.5) and t.pan == pytest.approx(-1.0)
    assert p.title == "none"


def test_tempo_and_signature_changes_shift_with_the_pre_measures():
    data = vsq4(track4("V", part4(7680, n4(0, 480, 60, "a"), n4(3840, 480, 60, "b"))),
                pre=4, sigs=((0, 4, 4), (5, 3, 4)),
                tempos=((0, 12000), (7680, 9000), (9600, 15050)))
    p = rd(data)
    assert p.tempos == (Tempo(0, 90.0), Tempo(1920, 150.5))
    assert p.time_signatures == (TimeSignature(0, 4, 4), TimeSignature(1920, 3, 4))
    assert notes(p) == [(0, 480, 60, "a"), (3840, 480, 60, "b")]


def test_a_signature_change_inside_the_pre_measures_sets_the_bar_length():
    data = vsq4(track4("V", part4(1920 + 3 * 1440, n4(0, 480, 60, "a"))),
                pre=4, sigs=((0, 4, 4), (1, 3, 4)))
    p = rd(data)
    assert notes(p) == [(0, 480, 60, "a")]
    assert p.time_signatures == (TimeSignature(0, 3, 4),)


def test_other_resolutions_are_scaled_to_480():
    data = vsq4(track4("V", part4(4 * 3840, n4(960, 960, 60, "a"), n4(1920, 1, 62, "b"))),
                res=960, tempos=((0, 12000), (4 * 3840 + 1920, 6000)))
    p = rd(data)
    assert notes(p) == [(480, 480, 60, "a"), (960, 1, 62, "b")]
    assert p.tempos == (Tempo(0, 120.0), Tempo(960, 60.0))
    assert any("resolution 960" in w for w in p.warnings)


def test_notes_in_the_pre_measures_are_dropped_with_a_warning():
    data = vsq4(track4("V", part4(7000, n4(0, 480, 60, "x"), n4(680, 480, 60, "a"))))
    p = rd(data)
    assert notes(p) == [(0, 480, 60, "a")]
    assert any("1 note(s) before the end of the pre-measures" in w for w in p.warnings)


def test_parts_are_merged_and_notes_sorted():
    data = vsq4(track4("V", part4(7680 + 1920, n4(0, 480, 62, "b")),
                       part4(7680, n4(0, 480, 60, "a"))))
    assert notes(rd(data)) == [(0, 480, 60, "a"), (1920, 480, 62, "b")]


def test_overlapping_notes_shorten_the_earlier_one_and_same_start_keeps_the_later():
    data = vsq4(track4("V", part4(7680, n4(0, 960, 60, "a"), n4(480, 480, 62, "b"),
                                  n4(480, 480, 64, "c"))))
    p = rd(data)
    assert notes(p) == [(0, 480, 60, "a"), (480, 480, 64, "c")]
    assert any("shortened" in w for w in p.warnings)
    assert any("same tick" in w for w in p.warnings)


def test_empty_lyric_takes_the_default_lyric_or_continues():
    data = vsq4(track4("V", part4(7680, n4(0, 480, 60, "a"), n4(480, 480, 60, " "))))
    assert notes(rd(data))[1][3] == CONTINUATION
    assert notes(rd(data, default_lyric="la"))[1][3] == "la"


def test_namespace_prefixed_files_read_like_plain_ones():
    plain = SIMPLE4.decode("utf-8")
    body = plain.split("?>\n", 1)[1]
    prefixed = re.sub(r"<(/?)([A-Za-z]\w*)", r"<\1v:\2", body)
    prefixed = prefixed.replace(f'<v:vsq4 xmlns="{NS4}"', f'<v:vsq4 xmlns:v="{NS4}"')
    p = rd(prefixed.encode("utf-8"))
    assert notes(p) == notes(rd(SIMPLE4))
    assert sniff(prefixed.encode("utf-8"))


# --------------------------------------------------------------------------------------
# Tracks and parts

MULTI = vsq4(track4("Vocal", part4(7680, n4(0, 480, 60, "a"))),
             track4("Empty", no=1),
             track4("Piano", part4(7680, n4(0, 480, 48, ""), n4(480, 480, 50, "")), no=2),
             track4("Harmony", part4(7680, n4(0, 960, 64, "la")), no=3),
             mixer="<vsUnit><tNo>3</tNo><m>0</m><s>0</s><pan>96</pan><vol>-60</vol></vsUnit>")


def test_part_none_reads_every_track_with_lyrics_and_says_what_is_not_sung():
    p = rd(MULTI)
    assert [t.name for t in p.tracks] == ["Vocal", "Harmony"]
    assert any("track 'Piano' (--part 2, 2 notes) has no lyrics and is not sung" in w
               for w in p.warnings)
    h = p.tracks[1]
    assert h.pan == pytest.approx(0.5) and h.volume_db == pytest.approx(-6.0)


def test_part_by_number_counts_tracks_with_notes_and_by_name_any_case():
    raises(MULTI, part=2, match="track 'Piano' \\(--part 2, 2 notes\\) has no lyrics; "
                "give --default-lyric")
    assert [t.name for t in rd(MULTI, part=2, default_lyric="la").tracks] == ["Piano"]
    assert notes(rd(MULTI, part=2, default_lyric="la")) == [(0, 480, 48, "la"), (480, 480, 50, "la")]
    assert notes(rd(MULTI, part=2, keep_tracks_without_lyrics=True)) == \
        [(0, 480, 48, NO_LYRIC), (480, 480, 50, NO_LYRIC)]
    assert [t.name for t in rd(MULTI, part=3).tracks] == ["Harmony"]
    assert [t.name for t in rd(MULTI, part="harmony").tracks] == ["Harmony"]
    assert [t.name for t in rd(MULTI, part="1").tracks] == ["Vocal"]


@pytest.mark.parametrize("part", [4, "Drums"])
def test_unknown_part_lists_the_tracks(part):
    e = raises(MULTI, part=part)
    assert "test.vsqx" in str(e)
    assert "'Vocal'" in str(e) and "'Piano'" in str(e) and "'Empty'" not in str(e)


@pytest.mark.parametrize("part", [0, 2.5, True])
def test_a_part_that_is_no_track_number_is_refused_by_the_options(part):
    with pytest.raises(InvalidValueError, match="ReadOptions.part"):
        rd(MULTI, part=part)


def test_no_track_with_lyrics_is_an_error_that_names_the_tracks():
    data = vsq4(track4("Piano", part4(7680, n4(0, 480, 48, ""))))
    raises(data, match="no track has lyrics.*'Piano' \\(--part 1.*--default-lyric ら")
    raises(data, part=1, match="has no lyrics")
    p = rd(data, keep_tracks_without_lyrics=True)
    assert notes(p) == [(0, 480, 48, NO_LYRIC)]
    assert any("track 'Piano' (--part 1, 1 note) has no lyrics; its notes are kept without "
               "lyrics and are not sung unless given --default-lyric" in w for w in p.warnings)


def test_a_file_without_notes_is_an_error():
    raises(vsq4(track4("V", part4(7680))), match="no notes")
    raises(vsq4(), match="no <vsTrack>")


# --------------------------------------------------------------------------------------
# Pitch bend and vibrato


def test_step_curve_points_reproduce_steps_under_linear_interpolation():
    pts = step_curve_points([(0, 0.0), (10, 50.0), (10, 60.0), (11, 0.0), (30, 0.0)])
    assert pts == [(0, 0.0), (9, 0.0), (10, 60.0), (11, 0.0)]


def test_vsq4_pit_and_pbs_become_a_stepped_pitd_curve_in_cents():
    ccs = ('<cc><t>0</t><v id="S">4</v></cc><cc><t>240</t><v id="P">4096</v></cc>'
           '<cc><t>480</t><v id="P">-8192</v></cc><cc><t>600</t><v id="D">64</v></cc>'
           '<cc><t>720</t><v id="S">1</v></cc>')
    data = vsq4(track4("V", part4(7680, n4(0, 960, 60, "a"), ccs=ccs, play=960)))
    c = rd(data).tracks[0].curve("pitd")
    assert c is not None
    got = dict(zip(c.ticks, c.values))
    assert got[240] == pytest.approx(200.0)      # 4096/8192 * 4 semitones
    assert got[239] == pytest.approx(0.0)
    assert got[480] == pytest.approx(-400.0)     # -8192/8192 * 4
    assert got[720] == pytest.approx(-100.0)     # the sensitivity changed to 1
    assert c.sample([100, 300, 479, 600, 900, 960, 2000]).tolist() == \
        pytest.approx([0.0, 200.0, 200.0, -400.0, -100.0, 0.0, 0.0])


def test_vsq3_mctrl_pitch_bend_uses_the_default_sensitivity_of_2():
    ctrls = '<mCtrl><posTick>480</posTick><attr id="PIT">-4096</attr></mCtrl>'
    p = rd(vsq3(n3(0, 960, 60, "a"), ctrls=ctrls))
    c = p.tracks[0].curve("pitd")
    assert c.sample([479, 480, 3839, 3840]).tolist() == pytest.approx([0, -100, -100, 0])


def test_no_pitch_bend_means_no_curve():
    assert rd(SIMPLE4).tracks[0].curves == ()


def test_vsq4_vibrato_uses_documented_approximations():
    data = vsq4(track4("V", part4(7680, n4(0, 960, 60, "a", vib=(1, 66, 127, 0)),
                                  n4(960, 480, 60, "b", vib=(0, 50, 64, 50)),
                                  n4(1440, 480, 60, "c", vib=(2, 40, None, None)))))
    ns = rd(data).tracks[0].notes
    v = ns[0].vibrato
    assert v.length_pct == 66 and v.depth_cents == pytest.approx(100.0)
    assert v.period_ms == pytest.approx(1000 / 4.5)
    assert ns[1].vibrato is None  # vibType 0: no vibrato of its own
    d = ns[2].vibrato  # no sequences: VOCALOID's defaults 64 and 50
    assert d.depth_cents == pytest.approx(64 / 127 * 100)
    assert d.period_ms == pytest.approx(1000 / (4.5 + 50 / 127 * 3.5))


def test_vsq3_vibrato():
    v = rd(vsq3(n3(0, 960, 60, "a", vib=(1, 50, 64, 127)))).tracks[0].notes[0].vibrato
    assert v.length_pct == 50 and v.period_ms == pytest.approx(125.0)
    assert v.depth_cents == pytest.approx(64 / 127 * 100)


# --------------------------------------------------------------------------------------
# Strict and lenient, absurd numbers, hostile input


def test_bad_note_raises_with_the_line_in_strict_mode_and_is_dropped_when_lenient():
    data = vsq4(track4("V", part4(7680, n4(0, 480, 60, "a"), n4(480, 480, 200, "b"))))
    e = raises(data, match="outside the MIDI range")
    assert e.line is not None and re.match(r"test\.vsqx:\d+: ", str(e))
    p = rd(data, lenient=True)
    assert notes(p) == [(0, 480, 60, "a")]
    assert any("note dropped" in w for w in p.warnings)


@pytest.mark.parametrize("tempo", ["0", "-12000", "100000000000", "NaN", "inf", "1e309", "x"])
def test_absurd_tempos_are_refused_or_dropped_when_lenient(tempo):
    data = vsq4(track4("V", part4(7680, n4(0, 480, 60, "a"))), tempos=((0, tempo),))
    raises(data, match="tempo")
    p = rd(data, lenient=True)
    assert p.tempos == (Tempo(0, 120.0),)


@pytest.mark.parametrize("note", [
    n4(0, -480, 60, "a"), n4(0, 0, 60, "a"), n4(-5, 480, 60, "a"), n4(0, 480, -1, "a"),
    n4(0, 480, 60.5, "a"), n4(0, 10 ** 30, 60, "a"), n4(10 ** 15, 480, 60, "a"),
    n4(0, "NaN", 60, "a"), "<note><t>0</t><n>60</n></note>",
])
def test_absurd_notes_are_refused(note):
    data = vsq4(track4("V", part4(7680, note, n4(4800, 480, 60, "ok"))))
    raises(data)
    assert notes(rd(data, lenient=True)) == [(4800, 480, 60, "ok")]


@pytest.mark.parametrize("master", [
    "<resolution>0</resolution>", "<preMeasure>-1</preMeasure>", "<preMeasure>99999</preMeasure>",
    "<timeSig><m>0</m><nu>4</nu><de>3</de></timeSig>",
    "<timeSig><m>0</m><nu>0</nu><de>4</de></timeSig>",
])
def test_absurd_master_track_values_are_refused(master):
    data = vsq4(track4("V", part4(7680, n4(0, 480, 60, "a"))))
    tag = re.match(r"<(\w+)>", master).group(1)
    data = re.sub(rf"<{tag}>.*?</{tag}>".encode(), master.encode(), data, count=1)
    raises(data)
    read_or_score_error(data, True)


def test_a_song_longer_than_24_hours_is_refused():
    data = vsq4(track4("V", part4(7680, n4(0, 480, 60, "a"), n4(5_000_000, 480, 60, "b"))),
                tempos=((0, 100),))
    raises(data, match="hours")


def test_entity_declarations_are_refused_fast():
    bomb = ('<!DOCTYPE vsq4 [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>')
    data = vsq4(track4("V", part4(7680, n4(0, 480, 60, "&c;"))), header=bomb)
    raises(data, match="entit")
    ext = '<!DOCTYPE vsq4 [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    raises(vsq4(track4("V", part4(7680, n4(0, 480, 60, "&x;"))), header=ext),
                match="entit")


@pytest.mark.parametrize("data", [b"", b"   \n", b"\x00\x01\x02garbage", b"<html></html>",
                                  b"<vsq4>", b"<?xml version='1.0'?><vsq5/>",
                                  "<vsq4>\u00e9".encode("latin-1")])
def test_junk_raises_score_format_error(data):
    for lenient in (False, True):
        with pytest.raises(ScoreFormatError):
            rd(data, lenient=lenient)


def test_sniff():
    assert sniff(SIMPLE4[:4096])
    assert sniff(vsq3(n3(0, 480, 60, "a"))[:200])
    assert not sniff(b'<?xml version="1.0"?><score-partwise>')
    assert not sniff(b"")
    assert not sniff(b"\xff\xfe\x00")


# --------------------------------------------------------------------------------------
# Robustness: truncation and property tests


_NUMBER = re.compile(rb">(-?[0-9]+)<")
_ABSURD = [b"0", b"-1", b"1e300", b"NaN", b"99999999999999999999", b"x", b"", b"-8193",
           b"4.5", b"127"]


def _mutate(data: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    d = bytearray(data)
    numbers = [m.span(1) for m in _NUMBER.finditer(data)]
    for kind, pos, val in ops:
        if kind in (0, 4, 5) and numbers:  # replace a number with an absurd value
            a, b = numbers[pos % len(numbers)]
            if b <= len(d):
                d[a:b] = _ABSURD[val % len(_ABSURD)]
            numbers = [m.span(1) for m in _NUMBER.finditer(bytes(d))]
        elif kind == 1 and d:  # flip a byte
            d[pos % len(d)] = val % 256
        elif kind == 2:  # insert a fragment
            frag = [b"<note>", b"</note>", b"<t>", b"</vsPart>", b"<!--", b"&amp;", b"]]>",
                    b"<cc><t>0</t><v id=\"P\">8191</v></cc>", b"\x00", b"\xff"][val % 10]
            d[pos % (len(d) + 1):pos % (len(d) + 1)] = frag
        elif kind == 3 and d:  # delete a stretch
            p = pos % len(d)
            del d[p:p + 1 + val % 40]
    return bytes(d)


_INLINE = [SIMPLE4, MULTI,
           vsq3(n3(0, 960, 60, "a", vib=(1, 50, 64, 50)),
                ctrls='<mCtrl><posTick>480</posTick><attr id="PIT">-4096</attr></mCtrl>'
                      '<mCtrl><posTick>600</posTick><attr id="PBS">5</attr></mCtrl>')]


@pytest.mark.slow
@given(st.sampled_from(range(len(_INLINE))),
       st.lists(st.tuples(st.integers(0, 5), st.integers(0, 10 ** 6), st.integers(0, 255)),
                min_size=1, max_size=4))
@settings(max_examples=250)
def test_mutated_inline_files_read_or_raise_score_format_error(which, ops):
    data = _mutate(_INLINE[which], ops)
    read_or_score_error(data, lenient=False)
    read_or_score_error(data, lenient=True)


# --------------------------------------------------------------------------------------
# Real files from ../shared/data


def _real(shared: Path, rel: str) -> bytes:
    return real_file(shared, "vsqx", rel)


def _real_files(shared: Path) -> list[Path]:
    return real_files(shared, "vsqx", "*.vsqx")


@pytest.mark.shared
def test_real_v3(shared_data):
    p = read(_real(shared_data, "3c1u-vsqx/v3.vsqx"), path="v3.vsqx")
    assert len(p.tracks) == 1
    t = p.tracks[0]
    assert (t.name, t.source_singer, len(t.notes)) == ("KAITO_V3_Straight",
                                                       "KAITO_V3_Straight", 34)
    assert notes(p)[:3] == [(1440, 480, 57, "み"), (1920, 480, 62, "や"), (2400, 480, 62, "こ")]
    assert t.notes[0].phonemes == ("m'", "i")
    assert notes(p)[7] == (4560, 240, 59, "ー")
    assert notes(p)[-1] == (17160, 120, 55, "ら")
    assert p.tempos == (Tempo(0, 120.0),)
    assert p.time_signatures == (TimeSignature(0, 4, 4),)
    assert t.curves == () and all(n.vibrato is None for n in t.notes)
    assert p.warnings == ()


@pytest.mark.shared
def test_real_v4(shared_data):
    p = read(_real(shared_data, "3c1u-vsqx/v4.vsqx"), path="v4.vsqx")
    t = p.tracks[0]
    assert (t.name, t.source_singer, len(t.notes), p.title) == ("Track", "KAITO_V3_English",
                                                                43, "Untitled0")
    assert notes(p)[:5] == [(0, 480, 55, "god"), (480, 480, 55, "save"), (960, 360, 57, "o-"),
                            (1320, 120, 57, "ur"), (1440, 700, 54, "gra-")]
    assert t.notes[0].phonemes == ("gh", "Q", "d")
    assert notes(p)[-1] == (18720, 1440, 55, "queen")
    assert p.tempos == (Tempo(0, 80.0),)
    assert p.time_signatures == (TimeSignature(0, 3, 4),)
    assert t.curves == ()


@pytest.mark.shared
def test_real_generated_vsqx_all_notes_on_one_tick(shared_data):
    p = read(_real(shared_data, "utaformatix-ts/generated_vsqx.vsqx"), path="g.vsqx")
    # eight notes written at the same tick: the last one is sung, seven dropped
    assert notes(p) == [(240, 480, 69, "ど")]
    assert p.tracks[0].source_singer == "VY2V3"
    assert any("7 note(s) starting on the same tick" in w for w in p.warnings)
    assert p.tempos == (Tempo(0, 120.0),)


def _signatures_doc(count: int) -> bytes:
    sigs = "".join(f"<timeSig><m>{i}</m><nu>{3 + i % 2}</nu><de>4</de></timeSig>"
                   for i in range(count))
    return ('<?xml version="1.0" encoding="UTF-8"?><vsq4 xmlns="http://www.yamaha.co.jp/'
            f'vocaloid/schema/vsq4/"><masterTrack><resolution>480</resolution><preMeasure>1'
            f'</preMeasure>{sigs}<tempo><t>0</t><v>12000</v></tempo></masterTrack><vsTrack>'
            '<tNo>0</tNo><name>T</name><vsPart><t>1920</t><playTime>1920</playTime><note><t>0'
            '</t><dur>480</dur><n>60</n><v>64</v><y>a</y></note></vsPart></vsTrack></vsq4>'
            ).encode()


def test_many_time_signatures_are_read_in_linear_time():
    # 20,000 signature changes once took 33 s (each bar was walked from the start)
    p = rd(_signatures_doc(20_000))
    sigs_read = p.time_signatures
    # bar 0 (3/4) is the pre-measure, so the song starts with bar 1 (4/4); bar 2 (3/4)
    # starts one 4/4 bar later, bar 3 (4/4) one 3/4 bar after that
    assert len(sigs_read) == 19_999
    assert [(s.tick, s.numerator) for s in sigs_read[:3]] == [(0, 4), (1920, 3), (3360, 4)]
    docs = {n: _signatures_doc(n) for n in (5_000, 20_000)}
    assert_scales_linearly(lambda n: rd(docs[n]), 5_000)
