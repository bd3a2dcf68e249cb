"""The compact copy of a parsed .htsvoice (utagoe.voices.hts.voicecache): a warm copy
gives the voice the parser gives, and a copy that cannot be trusted is never used."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_hts_generate import _frames_from_score_labels, _glob_reference, _sinsy_labels, _song_notes

from utagoe.errors import VoiceError
from utagoe.voices.hts import voicecache
from utagoe.voices.hts.generate import generate_parameters
from utagoe.voices.hts.htsvoice import HTSModel, HTSVoice, compile_glob_matcher, read_htsvoice
from utagoe.voices.hts.song070 import find_song070
from utagoe.voices.hts.voicecache import copy_path, default_cache_folder, load_htsvoice


@pytest.fixture(scope="module")
def song_path() -> Path:
    return find_song070()  # pysinsy is a dependency: a missing voice is an error, not a skip


@pytest.fixture(scope="module")
def parsed(song_path) -> HTSVoice:
    return read_htsvoice(song_path)


@pytest.fixture(scope="module")
def contexts(tmp_path_factory) -> tuple[list[str], list[int]]:
    labels = _sinsy_labels(tmp_path_factory.mktemp("labels"), _song_notes(24, seed=3), tempo=126)
    return _frames_from_score_labels(labels)


@pytest.fixture
def voice_copy(tmp_path, song_path) -> tuple[Path, Path]:
    """A voice file of our own (a copy of song070) and its cache folder, the copy written."""
    src = tmp_path / "voice.htsvoice"
    src.write_bytes(song_path.read_bytes())
    folder = tmp_path / "cache"
    problems: list[str] = []
    load_htsvoice(src, cache_dir=folder, problems=problems)
    assert problems == []
    return src, folder


def _the_copy(src: Path, folder: Path) -> Path:
    import hashlib

    return copy_path(folder, hashlib.sha256(src.read_bytes()).hexdigest())


def _no_parse(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("parsed although a good copy was there")

    monkeypatch.setattr(voicecache, "parse_htsvoice", refuse)


def _load_expecting_rebuild(src: Path, folder: Path, why: str) -> HTSVoice:
    problems: list[str] = []
    voice = load_htsvoice(src, cache_dir=folder, problems=problems)
    assert len(problems) == 1 and "rebuilt" in problems[0] and why in problems[0], problems
    # the rebuilt copy is good again
    again: list[str] = []
    load_htsvoice(src, cache_dir=folder, problems=again)
    assert again == []
    return voice


# --------------------------------------------------------------------------- equal in everything


def _assert_same_model(a: HTSModel, b: HTSModel, labels: list[str]) -> None:
    assert (a.vector_length, a.num_windows, a.is_msd) == (b.vector_length, b.num_windows, b.is_msd)
    assert a.trees == b.trees   # state, globs, root and every node (the matchers are compared below)
    assert len(a.pdfs) == len(b.pdfs)
    for x, y in zip(a.pdfs, b.pdfs, strict=True):
        assert x.dtype == y.dtype == np.float64 and x.shape == y.shape
        assert x.tobytes() == y.tobytes()
        assert not x.flags.writeable
    for s, t in zip(a.trees, b.trees, strict=True):
        assert [s.selects(lb) for lb in labels] == [t.selects(lb) for lb in labels]


def assert_same_voice(a: HTSVoice, b: HTSVoice, labels: list[str]) -> None:
    for name in ("path", "version", "sample_rate_hz", "frame_period_samples", "num_states", "stream_types",
                 "fullcontext_format", "fullcontext_version", "comment", "alpha", "gamma_stage"):
        assert getattr(a, name) == getattr(b, name), name
    assert a.gv_off_context == b.gv_off_context
    assert a.questions == b.questions
    probes = labels + ["", "x", "p@xx^xx-pau+s=a_xx"]
    for q, r in zip(a.questions, b.questions, strict=True):
        assert [q.matches(lb) for lb in probes] == [r.matches(lb) for lb in probes], q.name
    if a.gv_off_context is not None:
        assert [a.gv_off_context.matches(lb) for lb in probes] == [b.gv_off_context.matches(lb) for lb in probes]
    _assert_same_model(a.duration, b.duration, labels)
    assert len(a.streams) == len(b.streams)
    for s, t in zip(a.streams, b.streams, strict=True):
        for name in ("name", "vector_length", "is_msd", "num_windows", "use_gv", "option", "windows"):
            assert getattr(s, name) == getattr(t, name), (s.name, name)
        assert dict(s.options) == dict(t.options)
        _assert_same_model(s.model, t.model, labels)
        assert (s.gv is None) == (t.gv is None)
        if s.gv is not None:
            _assert_same_model(s.gv, t.gv, labels)


def test_warm_copy_equals_parse(song_path, parsed, contexts, tmp_path, monkeypatch):
    labels, frames = contexts
    folder = tmp_path / "cache"
    cold = load_htsvoice(song_path, cache_dir=folder)
    stored = list(folder.iterdir())
    assert [p.name for p in stored] == [copy_path(folder, _sha(song_path)).name]
    _no_parse(monkeypatch)
    warm = load_htsvoice(song_path, cache_dir=folder)
    for voice in (cold, warm):
        assert_same_voice(voice, parsed, labels)
    # the engine makes the same parameters from either, to the bit
    a = generate_parameters(parsed, labels, frames)
    b = generate_parameters(warm, labels, frames)
    for name in ("mgc", "lf0", "voiced", "lpf", "state_frames"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    c = generate_parameters(warm, labels, frames, use_gv=False)
    d = generate_parameters(parsed, labels, frames, use_gv=False)
    assert c.mgc.tobytes() == d.mgc.tobytes()


def test_speech_voice_copy_equals_parse(tmp_path, contexts):
    """A second real voice (pyopenjtalk's, a test extra) goes through the copy unchanged."""
    import importlib.util

    spec = importlib.util.find_spec("pyopenjtalk")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("pyopenjtalk is not installed (the test extras bring it: pip install -e '.[test]')")
    path = Path(next(iter(spec.submodule_search_locations))) / "htsvoice" / "mei_normal.htsvoice"
    if not path.is_file():
        pytest.skip(f"{path} is absent (expected pyopenjtalk-plus)")
    load_htsvoice(path, cache_dir=tmp_path)
    assert_same_voice(load_htsvoice(path, cache_dir=tmp_path), read_htsvoice(path), contexts[0])


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_copy_is_plain_numbers_and_text(voice_copy):
    src, folder = voice_copy
    stored = _the_copy(src, folder)
    with zipfile.ZipFile(stored) as z:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
    with np.load(stored, allow_pickle=False) as z:
        for name in z.files:
                assert z[name].dtype.kind in "iuf", name
        meta = json.loads(z["meta"].tobytes().decode())
    assert meta["format"] == "utagoe-htsvoice-copy" and meta["version"] == voicecache.FORMAT_VERSION
    assert meta["source_sha256"] == _sha(src) and meta["source_size"] == src.stat().st_size
    assert stored.stat().st_size < 2 * src.stat().st_size


# --------------------------------------------------------------------------- never trusted blindly


def test_stale_source_rebuilds(voice_copy, contexts):
    src, folder = voice_copy
    old_copy = _the_copy(src, folder)
    data = src.read_bytes()
    assert b"\nCOMMENT:\n" in data   # the header is outside [DATA], so its length may change
    src.write_bytes(data.replace(b"\nCOMMENT:\n", b"\nCOMMENT:edited\n", 1))
    voice = load_htsvoice(src, cache_dir=folder)
    assert voice.comment == "edited"
    assert_same_voice(voice, read_htsvoice(src), contexts[0])
    assert _the_copy(src, folder).is_file() and old_copy.is_file()
    # the old copy put under the new source's name: its recorded source hash gives it away
    _the_copy(src, folder).write_bytes(old_copy.read_bytes())
    voice = _load_expecting_rebuild(src, folder, "source_sha256")
    assert voice.comment == "edited"


def test_same_size_edit_rebuilds(voice_copy, contexts):
    """One float of a PDF changed in place (same size, same mtime second): the hash decides."""
    src, folder = voice_copy
    data = bytearray(src.read_bytes())
    stat = src.stat()
    data_start = data.index(b"[DATA]\n") + len(b"[DATA]\n")
    last = int(re.search(rb"STREAM_PDF\[LPF\]:\d+-(\d+)", data).group(1))
    data[data_start + last - 3] ^= 0x01   # the lowest bit of the last float32 of the LPF PDFs
    src.write_bytes(bytes(data))
    os.utime(src, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    voice = load_htsvoice(src, cache_dir=folder)
    assert_same_voice(voice, read_htsvoice(src), contexts[0])


def _member_offset(stored: Path, name: str) -> tuple[int, int]:
    """Where the bytes of member ``name`` (.npy header and data) lie in the archive."""
    with zipfile.ZipFile(stored) as z:
        info = z.getinfo(name + ".npy")
    with open(stored, "rb") as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = np.frombuffer(f.read(4), "<u2")
    start = info.header_offset + 30 + int(name_len) + int(extra_len)
    return start, start + info.file_size


@pytest.mark.parametrize("damage", ["empty", "garbage", "cut_start", "cut_middle", "cut_end", "flip_pdf",
                                    "flip_nodes", "flip_voice", "flip_meta", "folder"])
def test_damaged_copy_rebuilds(voice_copy, parsed, contexts, damage):
    src, folder = voice_copy
    stored = _the_copy(src, folder)
    good = stored.read_bytes()
    n = len(good)
    if damage == "empty":
        stored.write_bytes(b"")
    elif damage == "garbage":
        stored.write_bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    elif damage.startswith("cut_"):
        keep = {"cut_start": 100, "cut_middle": n // 2, "cut_end": n - 10}[damage]
        stored.write_bytes(good[:keep])
    elif damage.startswith("flip_"):
        member = {"flip_pdf": "pdf", "flip_nodes": "node", "flip_voice": "voice", "flip_meta": "meta"}[damage]
        _, end = _member_offset(stored, member)
        bad = bytearray(good)
        bad[end - 7] ^= 0x01   # in the data, past the .npy header
        stored.write_bytes(bytes(bad))
    else:
        stored.unlink()
        stored.mkdir()
    problems: list[str] = []
    voice = load_htsvoice(src, cache_dir=folder, problems=problems)
    assert len(problems) >= 1 and "rebuilt" in problems[0], problems
    assert_same_voice(voice, read_htsvoice(src), contexts[0])
    if damage != "folder":
        again: list[str] = []
        load_htsvoice(src, cache_dir=folder, problems=again)
        assert again == []
    else:  # a folder where the copy goes: parsed every time, said, never an error
        assert "cannot be written" in problems[-1]


def _rewrite(stored: Path, *, meta: dict | None = None, arrays: dict | None = None,
             voice: dict | None = None, keep_digest: bool = True) -> None:
    """Rewrite a copy with some members changed; the payload digest is kept (as a
    forger would not know it) or recomputed (a forger who read this code)."""
    with np.load(stored, allow_pickle=False) as z:
        members = {name: z[name] for name in z.files}
    old_meta = json.loads(members["meta"].tobytes().decode())
    new_meta = {**old_meta, **(meta or {})}
    voice_json = members["voice"].tobytes().decode() if voice is None else json.dumps(voice)
    new_arrays = {k: v for k, v in members.items() if k not in ("meta", "voice")}
    new_arrays.update(arrays or {})
    if not keep_digest:
        new_meta["payload_sha256"] = voicecache._payload_digest(voice_json, new_arrays)
    payload = {"meta": _utf8(json.dumps(new_meta)), "voice": _utf8(voice_json), **new_arrays}
    with open(stored, "wb") as f:
        np.savez(f, **payload)


def _utf8(text: str) -> np.ndarray:
    return np.frombuffer(text.encode(), dtype=np.uint8)


def _members(stored: Path) -> tuple[dict, dict]:
    with np.load(stored, allow_pickle=False) as z:
        voice = json.loads(z["voice"].tobytes().decode())
        return voice, {n: z[n] for n in z.files if n not in ("meta", "voice")}


@pytest.mark.parametrize("field, value", [("version", voicecache.FORMAT_VERSION + 1), ("version", 0),
                                          ("format", "something-else"), ("code", "0" * 64),
                                          ("source_size", 1)])
def test_other_version_or_code_rebuilds(voice_copy, field, value):
    src, folder = voice_copy
    _rewrite(_the_copy(src, folder), meta={field: value})
    _load_expecting_rebuild(src, folder, field)


def test_tampered_content_rebuilds(voice_copy, parsed, contexts):
    src, folder = voice_copy
    stored = _the_copy(src, folder)
    voice, arrays = _members(stored)
    pdf = arrays["pdf"].copy()
    pdf[1000] += 1.0
    _rewrite(stored, arrays={"pdf": pdf})                  # the right source hash, content changed
    got = _load_expecting_rebuild(src, folder, "checksum")
    assert_same_voice(got, read_htsvoice(src), contexts[0])
    voice["questions"][5][1] = ["*"]
    _rewrite(stored, voice=voice)                          # a question's globs changed
    _load_expecting_rebuild(src, folder, "checksum")


def _node_edit(row: int, col: int, value: int):
    def edit(voice: dict, arrays: dict) -> dict:
        node = arrays["node"].copy()
        node[row, col] = value
        return {"node": node}
    return edit


@pytest.mark.parametrize("edit", [
    _node_edit(0, 0, 10_000),          # a question that does not exist
    _node_edit(5, 1, 3),               # a child numbered before its parent: a loop
    _node_edit(5, 2, 10_000),          # a child past the tree's last node
    _node_edit(5, 2, -10_000),         # a leaf past the tree's last PDF
    _node_edit(7, 1, 9),               # a node reached twice (and one never)
    _node_edit(150, 1, 1),             # a child in another tree (the duration tree has 144 nodes)
    lambda voice, arrays: {"pdf": arrays["pdf"] * np.nan},
    lambda voice, arrays: {"pdf": -arrays["pdf"]},          # negative duration variances
    lambda voice, arrays: {"pdf": arrays["pdf"][:-1]},
    lambda voice, arrays: {"tree": arrays["tree"].astype(np.int64)},
    lambda voice, arrays: {"tree": arrays["tree"][:, [0, 1, 1]]},   # roots that are not 0
    lambda voice, arrays: {"m9": np.zeros(3, np.float32)},
    lambda voice, arrays: {"node": np.zeros((0, 3), np.int32)},
], ids=["question", "loop", "child", "leaf", "twice", "other_tree", "nan", "variance", "rows", "dtype", "root",
        "extra", "no_nodes"])
def test_forged_copy_with_right_checksum_is_still_checked(voice_copy, edit):
    """A copy rewritten with its checksum recomputed must still describe a voice the
    parser could make, or it is rebuilt (no crash, no endless tree walk)."""
    src, folder = voice_copy
    stored = _the_copy(src, folder)
    voice, arrays = _members(stored)
    _rewrite(stored, arrays=edit(voice, arrays), keep_digest=False)
    problems: list[str] = []
    load_htsvoice(src, cache_dir=folder, problems=problems)
    assert len(problems) == 1 and "rebuilt" in problems[0], problems


@pytest.mark.parametrize("change", ["missing_key", "wrong_type", "stream_model", "window", "state"])
def test_forged_description_is_still_checked(voice_copy, change):
    src, folder = voice_copy
    stored = _the_copy(src, folder)
    voice, _ = _members(stored)
    if change == "missing_key":
        del voice["streams"][0]["option"]
    elif change == "wrong_type":
        voice["sample_rate_hz"] = "48000"
    elif change == "stream_model":
        voice["streams"][1]["model"] = voice["streams"][0]["model"]
    elif change == "window":
        voice["streams"][0]["windows"][0] = []
    else:
        voice["models"][1]["trees"][0][0] = 0
    _rewrite(stored, voice=voice, keep_digest=False)
    problems: list[str] = []
    load_htsvoice(src, cache_dir=folder, problems=problems)
    assert len(problems) == 1 and "rebuilt" in problems[0], problems


def test_pickled_or_compressed_copy_is_not_used(voice_copy):
    src, folder = voice_copy
    stored = _the_copy(src, folder)
    with np.load(stored, allow_pickle=False) as z:
        members = {name: z[name] for name in z.files}
    # an object array needs pickle to load: refused (allow_pickle=False), never run
    with open(stored, "wb") as f:
        np.savez(f, **{**members, "meta": np.array([{"format": "x"}], dtype=object)})
    _load_expecting_rebuild(src, folder, "damaged")
    with open(stored, "wb") as f:
        np.savez_compressed(f, **members)
    _load_expecting_rebuild(src, folder, "compressed")


# --------------------------------------------------------------------------- the folder


def test_unwritable_folder_still_loads(song_path, parsed, contexts, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"not a folder")
    for folder in (blocker, blocker / "below"):
        problems: list[str] = []
        voice = load_htsvoice(song_path, cache_dir=folder, problems=problems)
        assert_same_voice(voice, parsed, contexts[0][:5])
        assert len(problems) == 1 and "cannot be written" in problems[0], problems
    assert blocker.read_bytes() == b"not a folder"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes read-only folders")
def test_read_only_folder_still_loads(song_path, parsed, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        problems: list[str] = []
        voice = load_htsvoice(song_path, cache_dir=folder, problems=problems)
        assert voice.questions == parsed.questions and problems
    finally:
        folder.chmod(0o700)


def test_no_cache_folder_parses_and_writes_nothing(song_path, parsed, tmp_path, monkeypatch):
    monkeypatch.setenv("UTAGOE_CACHE_DIR", str(tmp_path / "env-cache"))
    voice = load_htsvoice(song_path, cache_dir=None)
    assert voice.questions == parsed.questions
    assert not (tmp_path / "env-cache").exists()
    # "" is the default folder: $UTAGOE_CACHE_DIR/hts-voices
    load_htsvoice(song_path)
    assert [p.name for p in (tmp_path / "env-cache" / "hts-voices").iterdir()] == [f"{_sha(song_path)}.npz"]


def test_default_folder_shares_the_analysis_cache_root(tmp_path):
    from utagoe.voices.utau.analysis import default_cache_folder as analysis_folder

    for env in ({"UTAGOE_CACHE_DIR": str(tmp_path)}, {"XDG_CACHE_HOME": str(tmp_path / "xdg")},
                {"XDG_CACHE_HOME": "relative"}, {}):
        ours = default_cache_folder(env)
        assert ours.name == "hts-voices" and ours.parent == analysis_folder(env).parent, env
    assert default_cache_folder({"UTAGOE_CACHE_DIR": str(tmp_path)}) == tmp_path / "hts-voices"


def test_missing_or_malformed_source_raises_and_writes_nothing(tmp_path):
    folder = tmp_path / "cache"
    with pytest.raises(VoiceError, match="cannot read"):
        load_htsvoice(tmp_path / "absent.htsvoice", cache_dir=folder)
    bad = tmp_path / "bad.htsvoice"
    bad.write_bytes(b"[GLOBAL]\nHTS_VOICE_VERSION:1.0\n")
    with pytest.raises(VoiceError, match=str(bad)):
        load_htsvoice(bad, cache_dir=folder)
    assert not folder.exists() or not any(folder.iterdir())


_WRITER = """
import sys
from utagoe.voices.hts.voicecache import load_htsvoice
problems = []
voice = load_htsvoice(sys.argv[1], cache_dir=sys.argv[2], problems=problems)
assert len(voice.questions) > 0
print("problems:", problems)
"""


def test_concurrent_writers_leave_one_good_copy(song_path, parsed, contexts, tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(song_path), str(folder)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert "rebuilt" not in out, out      # nobody ever read a half-written copy
    assert [p.name for p in folder.iterdir()] == [f"{_sha(song_path)}.npz"]   # no temporary files left
    _no_parse(monkeypatch)
    problems: list[str] = []
    voice = load_htsvoice(song_path, cache_dir=folder, problems=problems)
    assert problems == []
    assert_same_voice(voice, parsed, contexts[0])


# --------------------------------------------------------------------------- the matchers


@pytest.mark.parametrize("combine_after", [0, 10**9, None])
def test_multi_glob_matcher_agrees_with_reference(monkeypatch, combine_after):
    """Several globs per question: prefix/suffix tuples, the glob-by-glob stage and
    the one combined expression (combine_after 0: at once; 10**9: never; None: the
    default, crossed halfway through the texts)."""
    from utagoe.voices.hts import htsvoice

    if combine_after is not None:
        monkeypatch.setattr(htsvoice, "_COMBINE_AFTER", combine_after)
    rng = np.random.default_rng(11)
    letters = list("ab-+@^?*")
    texts = ["".join(rng.choice(list("ab-+@^"), int(rng.integers(0, 8)))) for _ in range(120)]
    shapes = ["{}*", "*{}", "*{}*", "{}"]
    for _ in range(300):
        n = int(rng.integers(2, 5))
        if rng.random() < 0.4:   # same-shape lists: the prefix and suffix fast paths
            shape = shapes[int(rng.integers(0, 2))]
            pats = [shape.format("".join(rng.choice(list("ab-+"), int(rng.integers(0, 3))))) for _ in range(n)]
        else:
            pats = ["".join(rng.choice(letters, int(rng.integers(0, 6)))) for _ in range(n)]
        match = compile_glob_matcher(tuple(pats))
        for text in texts + texts:
            assert match(text) == any(_glob_reference(text, p) for p in pats), (pats, text)


def test_matchers_compile_lazily(monkeypatch):
    """Reading a voice compiles no regular expression: the first use compiles one small
    expression per ``?`` glob, and a matcher asked often enough one for all its globs."""
    import re

    from utagoe.voices.hts import htsvoice

    calls = []
    real = re.compile

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(re, "compile", counting)
    match = compile_glob_matcher(("*/D:?0!*", "*/D:?1!*", "*-a+*"))
    one = compile_glob_matcher(("*/D:?0!*",))
    assert calls == []
    assert match("x/D:a0!y") and match("q-a+r") and not match("x/D:a2!y")
    assert len(calls) == 2
    for _ in range(htsvoice._COMBINE_AFTER):
        assert match("x/D:b1!")
    assert len(calls) == 3 and "|" in calls[-1]
    assert match("q-a+r") and not match("x/D:a2!y") and len(calls) == 3
    assert one("/D:x0!") and not one("/D:x1!") and len(calls) == 4
