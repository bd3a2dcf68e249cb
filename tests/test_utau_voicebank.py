"""Reading UTAU voicebank folders: oto.ini, encodings, paths, character files, prefix maps."""
from __future__ import annotations

import math
import os
import pickle
import time
import unicodedata
from pathlib import Path

import pytest
from conftest import real_file, real_folder

from utagoe.errors import InvalidValueError, VoiceError
from utagoe.voices.utau import voicebank as vbmod
from utagoe.voices.utau.voicebank import (
    OtoEntry,
    SubBank,
    VoicebankError,
    load_voicebank,
    parse_note_name,
    parse_tone_range,
)


def write(root: Path, files: dict[str, bytes | str], *, encoding: str = "cp932") -> Path:
    """Write ``files`` below ``root`` (text in ``encoding``); returns root."""
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return root


def wavs(*names: str) -> dict[str, bytes]:
    """Empty stand-ins for wav files: loading never reads audio."""
    return {n: b"" for n in names}


def aliases_of(bank) -> list[str]:
    return bank.aliases()


# --------------------------------------------------------------------------- encodings

def test_shift_jis_is_the_default(tmp_path):
    write(tmp_path, {"oto.ini": "あ.wav=あ,10,20,-30,40,5\nか.wav=- か,1,2,3,4,5\n", **wavs("あ.wav", "か.wav")})
    bank = load_voicebank(tmp_path)
    assert bank.get("あ") is not None and bank.get("- か") is not None
    assert bank.encoding == "cp932"
    assert bank.warnings == ()
    e = bank.get("あ")
    assert e.wav_path == (tmp_path / "あ.wav").resolve()
    assert (e.offset_ms, e.consonant_ms, e.cutoff_ms, e.preutter_ms, e.overlap_ms) == (10, 20, -30, 40, 5)
    assert e.source == "oto.ini:1"


def test_charset_marker_declares_utf8(tmp_path):
    write(tmp_path, {"oto.ini": "#Charset:UTF-8\nあ.wav=あ,1,2,3,4,5\n", **wavs("あ.wav")}, encoding="utf-8")
    bank = load_voicebank(tmp_path)
    assert bank.get("あ").source == "oto.ini:2"
    assert bank.warnings == ()           # the marker line is no problem


def test_utf8_without_marker_and_with_bom(tmp_path):
    a = tmp_path / "a"
    write(a, {"oto.ini": "あ.wav=あ,1,2,3,4,5\n", **wavs("あ.wav")}, encoding="utf-8")
    assert load_voicebank(a).get("あ") is not None
    assert load_voicebank(a).encoding == "utf-8"
    b = tmp_path / "b"
    write(b, {"oto.ini": b"\xef\xbb\xbf" + "い.wav=い,1,2,3,4,5\n".encode(), **wavs("い.wav")})
    bank = load_voicebank(b)
    assert bank.aliases()[0] == "い"      # the BOM is not part of the wav's name


def test_character_yaml_encoding_wins_over_guessing_and_the_argument(tmp_path):
    # the UTF-8 bytes of "ア" read as cp932 are "繧｢": proof of which encoding was used
    mojibake = "ア".encode().decode("cp932")
    assert mojibake != "ア"
    forced = tmp_path / "forced"
    write(forced, {"oto.ini": "ア.wav=ア,1,2,3,4,5\n".encode(),
                   "character.yaml": "text_file_encoding: shift_jis\n",
                   f"{mojibake}.wav": b""}, encoding="utf-8")
    bank = load_voicebank(forced, encoding="utf-8")
    assert bank.aliases() == [mojibake]
    assert bank.encoding == "cp932"
    # the argument applies where character.yaml names none
    arg = tmp_path / "arg"
    write(arg, {"oto.ini": "ア.wav=ア,1,2,3,4,5\n".encode(), f"{mojibake}.wav": b""})
    assert load_voicebank(arg, encoding="cp932").aliases() == [mojibake]
    with pytest.raises(VoicebankError, match="ア.wav does not exist"):
        load_voicebank(arg)              # guessed UTF-8: ア.wav is missing


def test_unknown_charset_is_a_warning_and_the_encoding_is_guessed(tmp_path):
    write(tmp_path, {"oto.ini": "#Charset:klingon-8\nあ.wav=あ,1,2,3,4,5\n", **wavs("あ.wav")})
    bank = load_voicebank(tmp_path)
    assert bank.get("あ") is not None
    assert any("oto.ini" in w and "klingon-8" in w for w in bank.warnings)
    bad = tmp_path / "b"
    write(bad, {"oto.ini": "あ.wav=あ,1,2,3,4,5\n", "character.yaml": "text_file_encoding: nope\n",
                **wavs("あ.wav")})
    bank = load_voicebank(bad)
    assert bank.get("あ") is not None
    assert any("character.yaml" in w and "nope" in w for w in bank.warnings)


def test_undecodable_bytes_are_replaced_with_a_warning(tmp_path):
    write(tmp_path, {"oto.ini": b"b.wav=b,1,2,3,4,5\na.wav=a\x81\xff,1,2,3,4,5\n", **wavs("a.wav", "b.wav")})
    bank = load_voicebank(tmp_path)
    assert bank.aliases()[1].startswith("a\ufffd")
    assert bank.warnings == ("oto.ini:2: the text is not valid cp932; undecodable bytes are replaced.",)


# --------------------------------------------------------------------------- entries

def test_empty_alias_empty_numbers_and_missing_fields(tmp_path):
    write(tmp_path, {"oto.ini": "い.wav=,1,2,3,4,5\nう.wav=う,,,,,\nえ.wav=え,7\nお.wav=お,1,2,3,4,5,99,extra\n",
                     **wavs("い.wav", "う.wav", "え.wav", "お.wav")})
    bank = load_voicebank(tmp_path)
    assert bank.get("い").offset_ms == 1            # empty alias: the wav's stem
    u = bank.get("う")
    assert (u.offset_ms, u.consonant_ms, u.cutoff_ms, u.preutter_ms, u.overlap_ms) == (0, 0, 0, 0, 0)
    e = bank.get("え")
    assert (e.offset_ms, e.cutoff_ms) == (7, 0)
    assert bank.get("お").overlap_ms == 5           # fields after the sixth are ignored
    assert bank.warnings == ()


def test_negative_cutoff_and_overlap_and_end_ms(tmp_path):
    write(tmp_path, {"oto.ini": "a.wav=neg,100,50,-300,60,-12.5\na.wav=pos,100,50,200,60,10\n"
                                "a.wav=zero,100,50,0,60,10\na.wav=far,100,50,-5000,60,10\n",
                     **wavs("a.wav")})
    bank = load_voicebank(tmp_path)
    assert bank.get("neg").overlap_ms == -12.5
    assert bank.get("neg").end_ms(1000.0) == 400.0      # offset + |cutoff|
    assert bank.get("pos").end_ms(1000.0) == 800.0      # cutoff before the end
    assert bank.get("zero").end_ms(1000.0) == 1000.0    # the end
    assert bank.get("far").end_ms(1000.0) == 1000.0     # never past the end
    for bad in (float("nan"), -1.0, float("inf")):
        with pytest.raises(InvalidValueError):
            bank.get("neg").end_ms(bad)


def test_duplicates_are_kept_in_order_and_the_first_wins(tmp_path):
    write(tmp_path, {"oto.ini": "a.wav=a,1,0,0,0,0\nb.wav=a,2,0,0,0,0\n", "C4/oto.ini": "a.wav=a,3,0,0,0,0\n",
                     **wavs("a.wav", "b.wav", "C4/a.wav")})
    bank = load_voicebank(tmp_path)
    assert [e.offset_ms for e in bank.entries["a"]] == [1, 2, 3]
    assert bank.get("a").offset_ms == 1
    assert [e.source for e in bank.entries["a"]] == ["oto.ini:1", "oto.ini:2", "C4/oto.ini:1"]


def test_bad_lines_are_warnings_naming_file_and_line(tmp_path):
    text = ("\n"                                   # 1 blank: silent
            "a.wav=a,1,2,3,4,5\n"                  # 2 fine
            "this line has no equals sign\n"       # 3
            "a.wav=b,abc,2,3,4,5\n"                # 4
            "a.wav=c,1,nan,3,4,5\n"                # 5
            "a.wav=d,1,2,inf,4,5\n"                # 6
            "a.wav=e,1,2,3,4e9,5\n"                # 7 more than an hour
            "a.wav=f,-5,2,3,4,5\n"                 # 8 before the file's start
            "a.wav=g,1,2,3,4,1_000\n"              # 9
            "   \n"                                # 10 blank: silent
            "=h,1,2,3,4,5\n")                      # 11 no wav
    write(tmp_path, {"C4/oto.ini": text, **wavs("C4/a.wav")})
    bank = load_voicebank(tmp_path)
    assert bank.aliases() == ["a"]
    lines = sorted(int(w.split(":")[1]) for w in bank.warnings)
    assert lines == [3, 4, 5, 6, 7, 8, 9, 11]
    assert all(w.startswith("C4/oto.ini:") for w in bank.warnings)
    assert any("C4/oto.ini:4: offset 'abc' is not a number; entry 'b' skipped." == w for w in bank.warnings)


def test_missing_wav_is_a_warning(tmp_path):
    write(tmp_path, {"C4/oto.ini": "a.wav=a,1,2,3,4,5\nb.wav=a か,1,2,3,4,5\n", **wavs("C4/a.wav")})
    bank = load_voicebank(tmp_path)
    assert bank.warnings == ("C4/oto.ini:2: b.wav does not exist; entry 'a か' skipped.",)
    assert bank.get("a か") is None
    # reading the configuration alone keeps it
    cfg = load_voicebank(tmp_path, check_files=False)
    assert cfg.get("a か").wav_path == tmp_path.resolve() / "C4" / "b.wav"
    assert cfg.warnings == ()


def test_stem_aliases_are_added_like_openutau(tmp_path):
    write(tmp_path, {"oto.ini": "ka_ki.wav=- か,500,0,0,0,0\nka_ki.wav=a か,100,0,0,0,0\n"
                                "a.wav=a,1,0,0,0,0\n", **wavs("ka_ki.wav", "a.wav")})
    bank = load_voicebank(tmp_path)
    stem = bank.get("ka_ki")
    assert stem is not None and stem.offset_ms == 100   # the entry with the smallest offset
    assert len(bank.entries["a"]) == 1                   # an existing alias is not doubled
    write(tmp_path, {"character.yaml": "use_filename_as_alias: false\n"})
    assert load_voicebank(tmp_path).get("ka_ki") is None


def test_sub_folders_and_their_relative_wavs(tmp_path):
    write(tmp_path, {"oto.ini": "a.wav=a,1,0,0,0,0\n",
                     "B/oto.ini": "sub\\b.wav=b,1,0,0,0,0\n",
                     "A/deep/oto.ini": "../x.wav=x,1,0,0,0,0\n",
                     ".hidden/oto.ini": "h.wav=h,1,0,0,0,0\n",
                     **wavs("a.wav", "B/sub/b.wav", "A/x.wav", ".hidden/h.wav")})
    bank = load_voicebank(tmp_path)
    assert bank.aliases()[:3] == ["a", "x", "b"]          # root first, then folders by name
    assert bank.get("b").wav_path == tmp_path.resolve() / "B" / "sub" / "b.wav"
    assert bank.get("x").wav_path == tmp_path.resolve() / "A" / "x.wav"
    assert bank.get("x").source == "A/deep/oto.ini:1"
    assert bank.get("h") is None                          # hidden folders are not searched


def test_depth_is_bounded(tmp_path):
    deep = "/".join(f"d{i}" for i in range(10))
    write(tmp_path, {"oto.ini": "a.wav=a,1,0,0,0,0\n", f"{deep}/oto.ini": "a.wav=deep,1,0,0,0,0\n",
                     **wavs("a.wav", f"{deep}/a.wav")})
    bank = load_voicebank(tmp_path)
    assert bank.get("deep") is None
    assert any("deeper than" in w for w in bank.warnings)


def test_nfd_and_case_are_forgiven(tmp_path):
    nfd = unicodedata.normalize("NFD", "が.wav")
    assert nfd != "が.wav"
    write(tmp_path, {"oto.ini": "が.wav=が,1,0,0,0,0\nKA.WAV=ka,1,0,0,0,0\n", nfd: b"", "ka.wav": b""})
    bank = load_voicebank(tmp_path)
    assert bank.warnings == ()
    assert bank.get("が").wav_path.name == nfd
    assert bank.get("ka").wav_path.name == "ka.wav"


# --------------------------------------------------------------------------- staying inside

def test_paths_that_leave_the_bank_are_refused(tmp_path, monkeypatch):
    opened: list[Path] = []
    real_read = vbmod.read_limited

    def spy(path, **kw):
        opened.append(Path(path))
        return real_read(path, **kw)

    monkeypatch.setattr(vbmod, "read_limited", spy)
    root = tmp_path / "bank"
    outside = tmp_path / "outside"
    write(outside, {"secret.wav": b"", "oto.ini": "secret.wav=stolen,1,0,0,0,0\n",
                    "character.txt": "name=Stolen\n"})
    write(root, {"oto.ini": "../outside/secret.wav=up,1,0,0,0,0\n"
                            f"{outside / 'secret.wav'}=abs,1,0,0,0,0\n"
                            "C:\\voice\\a.wav=drive,1,0,0,0,0\n"
                            "sub\\..\\..\\outside\\secret.wav=back,1,0,0,0,0\n"
                            "link.wav=linked,1,0,0,0,0\n"
                            "inner.wav=inner,1,0,0,0,0\n"
                            "a.wav=a,1,0,0,0,0\n",
                 **wavs("a.wav", "sub/x.wav")})
    os.symlink(outside / "secret.wav", root / "link.wav")
    os.symlink(root / "a.wav", root / "inner.wav")              # a link inside is fine
    os.symlink(outside, root / "outdir")                         # a folder link out
    os.symlink(outside / "character.txt", root / "character.txt")
    for check in (True, False):
        bank = load_voicebank(root, check_files=check)
        assert set(bank.aliases()) == {"a", "inner"}
        assert bank.get("inner").wav_path == (root / "a.wav").resolve()
        for es in bank.entries.values():
            for e in es:
                assert e.wav_path.is_relative_to(root.resolve())
        text = "\n".join(bank.warnings)
        for alias in ("up", "abs", "drive", "back", "linked"):
            assert f"entry '{alias}' skipped" in text
        assert bank.get("stolen") is None                        # the oto.ini out there is not read
        assert bank.name == "bank"                               # nor its character.txt
        assert "outdir" in text and "character.txt" in text
    assert opened and all(p.resolve().is_relative_to(root.resolve()) for p in opened)


def test_oto_ini_linked_from_outside_is_not_read(tmp_path):
    root = tmp_path / "bank"
    outside = tmp_path / "outside"
    write(outside, {"oto.ini": "a.wav=stolen,1,0,0,0,0\n"})
    write(root, {"C4/a.wav": b"", "oto.ini": "C4/a.wav=a,1,0,0,0,0\n"})
    os.symlink(outside / "oto.ini", root / "C4" / "oto.ini")
    bank = load_voicebank(root)
    assert bank.get("stolen") is None and bank.get("a") is not None
    assert any(w.startswith("C4/oto.ini: links to a place outside") for w in bank.warnings)


# --------------------------------------------------------------------------- the folder itself

def test_folder_errors(tmp_path):
    with pytest.raises(VoicebankError, match="no such folder"):
        load_voicebank(tmp_path / "nope")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(VoicebankError, match="file.*no such folder"):
        load_voicebank(tmp_path / "file")
    empty = tmp_path / "empty"
    write(empty, {"character.txt": "name=x\n", "a.wav": b""})
    with pytest.raises(VoicebankError, match="no oto.ini") as exc:
        load_voicebank(empty)
    assert str(empty) in str(exc.value)
    assert isinstance(exc.value, VoiceError)
    bad = tmp_path / "bad"
    write(bad, {"oto.ini": "gone.wav=a,1,2,3,4,5\n"})
    with pytest.raises(VoicebankError, match="no usable oto.ini entry.*gone.wav does not exist"):
        load_voicebank(bad)


def test_entry_and_size_limits(tmp_path, monkeypatch):
    write(tmp_path, {"oto.ini": "".join(f"a.wav=a{i},1,0,0,0,0\n" for i in range(10)),
                     "B/oto.ini": "b.wav=b,1,0,0,0,0\n", **wavs("a.wav", "B/b.wav")})
    monkeypatch.setattr(vbmod, "MAX_ENTRIES", 4)
    bank = load_voicebank(tmp_path)
    assert [a for a in bank.aliases() if a.startswith(("a", "b"))][:5] == ["a0", "a1", "a2", "a3", "a"]
    assert bank.get("b") is None
    assert sum("more than 4 entries" in w for w in bank.warnings) == 1
    monkeypatch.setattr(vbmod, "MAX_ENTRIES", 200_000)
    monkeypatch.setattr(vbmod, "OTO_LIMIT_BYTES", 40)
    bank = load_voicebank(tmp_path)
    assert bank.aliases() == ["b"]
    assert any(w.startswith("oto.ini:") and "not read" in w for w in bank.warnings)


def test_thousands_of_entries_open_fast(tmp_path):
    files: dict[str, bytes | str] = {}
    for f in range(5):
        lines = []
        for w in range(200):
            files[f"P{f}/s{w:03d}.wav"] = b""
            for a in range(5):
                lines.append(f"s{w:03d}.wav=a{f}_{w}_{a}C{f},{a * 100 + 0.5},120.25,-300,80,-10\n")
        files[f"P{f}/oto.ini"] = "".join(lines)
    write(tmp_path, files)
    start = time.perf_counter()
    bank = load_voicebank(tmp_path)
    took = time.perf_counter() - start
    assert sum(len(es) for a, es in bank.entries.items() if not a.startswith("s")) == 5000
    assert bank.warnings == ()
    assert took < 1.5, f"5000 entries took {took:.2f} s"


def test_the_bank_pickles(tmp_path):
    write(tmp_path, {"oto.ini": "a.wav=a,1,2,3,4,5\n", "prefix.map": "C4\t\tx\n", **wavs("a.wav")})
    bank = load_voicebank(tmp_path)
    again = pickle.loads(pickle.dumps(bank))
    assert again.get("a") == bank.get("a")
    assert again.affixes(60) == ("", "x")
    with pytest.raises(TypeError):
        bank.entries["b"] = ()  # type: ignore[index]


# --------------------------------------------------------------------------- character files, maps

def test_character_txt_fields(tmp_path):
    write(tmp_path, {"oto.ini": "a.wav=a,1,0,0,0,0\n", **wavs("a.wav", "icon.bmp"),
                     "character.txt": "名前：テスト歌手\nimage=icon.bmp\ncreated by:Someone\n"
                                      "web=https://example.org/x\nversion=1.2\nfree text line\n"})
    bank = load_voicebank(tmp_path)
    assert bank.name == "テスト歌手"
    assert bank.author == "Someone"
    assert bank.web == "https://example.org/x"
    assert bank.version == "1.2"
    assert bank.image == (tmp_path / "icon.bmp").resolve()


def test_character_yaml_overrides_and_defaults(tmp_path):
    write(tmp_path, {"oto.ini": "a.wav=a,1,0,0,0,0\n", **wavs("a.wav"),
                     "character.txt": "name=Old\nauthor=A\nimage=../../etc/passwd\n",
                     "character.yaml": "name: New\nversion: 2.0\nweb: https://x\n"}, encoding="utf-8")
    bank = load_voicebank(tmp_path)
    assert (bank.name, bank.author, bank.version, bank.web) == ("New", "A", "2.0", "https://x")
    assert bank.image is None
    assert any("character.txt" in w and "image" in w for w in bank.warnings)
    plain = tmp_path / "Plain Name"
    write(plain, {"oto.ini": "a.wav=a,1,0,0,0,0\n", **wavs("a.wav")})
    assert load_voicebank(plain).name == "Plain Name"


def test_malformed_character_yaml_is_a_warning(tmp_path):
    write(tmp_path, {"oto.ini": "a.wav=a,1,0,0,0,0\n", **wavs("a.wav"),
                     "character.yaml": "name: [unclosed\nsubbanks: 3\n"})
    bank = load_voicebank(tmp_path)
    assert bank.get("a") is not None
    assert any(w.startswith("character.yaml:") for w in bank.warnings)
    write(tmp_path, {"character.yaml": "- a list\n"})
    assert any("character.yaml" in w for w in load_voicebank(tmp_path).warnings)


def test_prefix_map(tmp_path):
    write(tmp_path, {"oto.ini": "a.wav=a,1,0,0,0,0\n", **wavs("a.wav"),
                     "prefix.map": "B7\t\tHi\nC4\t*\tC4\nA#3\t\tLow\nH9\tx\ty\nnot three columns\n"})
    bank = load_voicebank(tmp_path)
    assert bank.affixes(60) == ("*", "C4")
    assert bank.affixes(58) == ("", "Low")
    assert bank.affixes(107) == ("", "Hi")
    assert bank.affixes(61) == ("", "")
    assert len(bank.prefix_map) == 3
    assert sum("prefix.map:4" in w for w in bank.warnings) == 1


def test_prefixmap_without_dot_and_charset_line(tmp_path):
    write(tmp_path, {"oto.ini": "a.wav=a,1,0,0,0,0\n", **wavs("a.wav"),
                     "prefixmap": "#Charset:UTF-8\nC4\t\t強\n"}, encoding="utf-8")
    assert load_voicebank(tmp_path).affixes(60) == ("", "強")
    # an encoding the caller gives wins over the marker
    assert load_voicebank(tmp_path, encoding="cp932").affixes(60)[1] != "強"


def test_subbanks_come_before_the_prefix_map(tmp_path):
    yaml_text = ("subbanks:\n"
                 "- {color: '', prefix: '', suffix: _L, tone_ranges: [C1-B3]}\n"
                 "- {color: '', prefix: '', suffix: _H, tone_ranges: [C4-B4, 'C6']}\n"
                 "- {color: 強, prefix: '', suffix: 強_H, tone_ranges: [C4-B7]}\n"
                 "- {color: bad, suffix: x, tone_ranges: [Q9]}\n")
    write(tmp_path, {"oto.ini": "a.wav=a,1,0,0,0,0\n", **wavs("a.wav"),
                     "character.yaml": yaml_text, "prefix.map": "C5\t\tPM\nC4\t\tPM4\n"}, encoding="utf-8")
    bank = load_voicebank(tmp_path)
    assert bank.subbanks[0] == SubBank("", "", "_L", ((24, 59),))
    assert bank.affixes(40) == ("", "_L")
    assert bank.affixes(60) == ("", "_H")
    assert bank.affixes(84) == ("", "_H")
    assert bank.affixes(72) == ("", "PM")          # no sub-bank covers C5: prefix.map
    assert bank.affixes(60, "強") == ("", "強_H")
    assert bank.affixes(40, "強") == ("", "_L")      # the colour lacks C1-B3: the plain one
    assert bank.affixes(60, "unknown") == ("", "_H")
    assert "bad" not in bank.colors()
    assert any("Q9" in w for w in bank.warnings)


def test_note_names():
    assert parse_note_name("C4") == 60
    assert parse_note_name("A#4") == 70
    assert parse_note_name("Db3") == 49
    assert parse_note_name("B7") == 107
    assert parse_tone_range("C1-B3") == (24, 59)
    assert parse_tone_range("A#4-B7") == (70, 107)
    assert parse_tone_range("C4") == (60, 60)
    for bad in ("H4", "C", "C4-", "B3-C1", "G99"):
        with pytest.raises(ValueError):
            parse_tone_range(bad)


def test_readme_and_licence(tmp_path):
    write(tmp_path, {"oto.ini": "a.wav=a,1,0,0,0,0\n", **wavs("a.wav"),
                     "readme.txt": "はじめに\n" + "x" * 100_000, "利用規約.txt": "商用利用可\n"})
    bank = load_voicebank(tmp_path)
    assert bank.readme.startswith("はじめに")
    assert len(bank.readme) == vbmod.TEXT_CHARS
    assert bank.licence == "商用利用可\n"


def test_entry_is_frozen():
    e = OtoEntry("a", Path("/x/a.wav"), 1, 2, 3, 4, 5, "oto.ini:1")
    with pytest.raises(AttributeError):
        e.alias = "b"  # type: ignore[misc]


# --------------------------------------------------------------------------- real voicebanks

def real_dir(shared: Path, rel: str) -> Path:
    return real_folder(shared, "voicebank", rel)


@pytest.mark.shared
def test_iona_cv_subset(shared_data):
    root = real_dir(shared_data, "utsu-Iona_Beta-subset")
    real_file(shared_data, "voicebank", "utsu-Iona_Beta-subset/oto.ini")
    bank = load_voicebank(root)
    assert bank.name == "Iona CV"
    assert bank.warnings == ()
    assert sum(len(es) for es in bank.entries.values()) == 16     # every wav has its alias already
    assert {"a", "- a", "ka", "n", "breath", "- u"} <= set(bank.aliases())
    assert bank.get("ta").overlap_ms == -1.3
    assert bank.get("ka").cutoff_ms == 1498.5
    assert bank.image == (root / "iona.bmp").resolve()
    assert len(bank.prefix_map) == 84 and bank.affixes(60) == ("", "")   # from 'prefixmap'
    assert bank.encoding == "utf-8"
    # oto_ini.txt and oto.full.ini are not oto.ini
    assert bank.get("あ") is None


@pytest.mark.shared
def test_alys_vcv_subset(shared_data):
    root = real_dir(shared_data, "ALYS-jpn-plus-subset")
    bank = load_voicebank(root)
    assert bank.warnings == ()
    assert bank.name == "ALYS-plus"
    assert bank.subbanks == (SubBank("", "", "C4", ((24, 107),)),)
    assert bank.affixes(60) == ("", "C4")
    assert bank.encoding == "utf-8"
    e = bank.get("a かC4")
    assert e is not None and e.source == "C4/oto.ini:18"
    assert e.wav_path == (root / "C4" / "ka_ka_ki_ka_ku_ka_ke_k.wav").resolve()
    assert e.cutoff_ms < 0
    assert sum(len(es) for a, es in bank.entries.items() if a.endswith("C4")) == 64
    assert "GNU GENERAL PUBLIC LICENSE" in bank.licence
    assert "ALYS" in bank.readme
    assert bank.get("oto-base") is None           # oto-base.full.ini is not read


@pytest.mark.shared
@pytest.mark.parametrize("name, lines, probe", [
    ("ja_cv", 102, "きゃ"), ("ja_vcv", 1231, "a かCD4"), ("ja_cvvc", 436, "a k_C4"),
    ("ja_presamp", 39 + 8 + 13, "p\\"), ("en_arpa", 2702, "- ay"),
])
def test_openutau_configs_load_without_audio(shared_data, name, lines, probe):
    root = real_dir(shared_data, f"OpenUtau-test-configs/{name}")
    bank = load_voicebank(root, check_files=False)
    assert bank.warnings == ()
    assert bank.get(probe) is not None
    # every line with "=" became an entry (stem aliases share their entry's source)
    assert len({e.source for es in bank.entries.values() for e in es}) == lines
    with pytest.raises(VoicebankError):
        load_voicebank(root)                       # the configs ship no audio


@pytest.mark.shared
def test_openutau_cvvc_colour_bank(shared_data, tmp_path):
    """The 弱 colour oto of ja_cvvc, placed in a bank of our own (a temporary copy)."""
    oto = real_file(shared_data, "voicebank", "OpenUtau-test-configs/ja_cvvc_弱_C4_oto.ini")
    yml = real_file(shared_data, "voicebank", "OpenUtau-test-configs/ja_cvvc/character.yaml")
    write(tmp_path, {"弱/弱_C4/oto.ini": oto, "character.yaml": yml})
    bank = load_voicebank(tmp_path, check_files=False)
    assert bank.warnings == ()
    assert bank.affixes(60, "弱") == ("", "_弱C4")
    assert bank.get("か_弱C4").source == "弱/弱_C4/oto.ini:20"


@pytest.mark.shared
def test_utau_plugin_test_dir(shared_data):
    root = real_dir(shared_data, "utauPlugin-testDir/testDir")
    bank = load_voicebank(root, check_files=False)
    assert bank.aliases() == ["あ", "い", "う", "え", "お"]     # "い.wav=,..." takes the stem
    assert bank.get("お").source == "あ/あ/oto.ini:1"
    with pytest.raises(VoicebankError, match="no usable oto.ini entry"):
        load_voicebank(root)


# --------------------------------------------------------------------------- hostile input

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from utagoe.errors import UtagoeError  # noqa: E402

_OTO_ALPHABET = st.sampled_from(list("a.wav=,-0123456789.e\r\n \t#/\\あか:") + ["..", "%", "\x00"])


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=400), st.lists(_OTO_ALPHABET, max_size=200).map("".join)))
def test_any_oto_bytes_load_or_give_a_clear_error(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "a.wav").write_bytes(b"RIFF")
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    (root / "oto.ini").write_bytes(raw)
    try:
        bank = load_voicebank(root)
    except UtagoeError as exc:
        assert "oto.ini" in str(exc) or str(root) in str(exc)
        return
    for entries in bank.entries.values():
        for e in entries:
            assert e.wav_path.resolve().is_relative_to(root.resolve())
            assert all(map(math.isfinite, (e.offset_ms, e.consonant_ms, e.cutoff_ms,
                                           e.preutter_ms, e.overlap_ms)))
