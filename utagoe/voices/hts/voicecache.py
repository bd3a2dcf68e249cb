"""A compact copy of a parsed ``.htsvoice``, kept between runs so a voice loads in milliseconds.

:func:`load_htsvoice` gives the voice :func:`~utagoe.voices.hts.htsvoice.read_htsvoice`
gives, equal in everything the engine uses (questions and their matchers, trees,
PDFs, windows, GV, options), from a copy in a cache folder where one is there
and can be trusted, else by parsing the file and writing the copy.

The copy
--------
One uncompressed ``.npz`` per voice file content, named
``<SHA-256 of the .htsvoice>.npz``, written atomically (a temporary file renamed
over the name, :func:`utagoe.fileio.write_atomic`), read with
``allow_pickle=False``: it holds only numbers and text, so a copy cannot run code.

* ``meta``: JSON text (UTF-8 bytes, as uint8): the format name,
  :data:`FORMAT_VERSION`, the code fingerprint (a hash of this module's and the
  reader's source, so a changed parser never reuses an old copy), the source
  file's size and SHA-256, and the SHA-256 of the payload (``voice`` and every
  array, with their names, dtypes and shapes).
* ``voice``: JSON text (UTF-8 bytes): the header (rate, frame period, states,
  stream types, context format, comment), the GV-off patterns, the questions
  (name and globs, in order), and per model its sizes and its trees' states and
  globs; per stream its option line, windows' coefficients, and which models it
  uses.
* the models in order (the duration model, each stream's model, each GV model),
  their trees in order, in three arrays: ``pdf`` every tree's PDF rows, flat
  (float32, exact: the file stores float32; float64 if a value were not),
  ``tree`` per tree ``[pdf rows, nodes, root]`` and ``node`` per internal node
  ``[question, no, yes]`` (int32, node numbers counted within the tree). Five
  members in all: each member read costs, so there are few.

Measured on song070 (1.56 MB): the copy is 1.32 MB; in a fresh process a warm
load takes about 13 ms of CPU (hash 1 ms, archive 1 ms, checksum 1 ms, checks
and objects 6-7 ms), parsing the file 26-40 ms, a cold load (parse and write)
about 40 ms.

Never trusted blindly
---------------------
Every load reads the ``.htsvoice`` and hashes it (about 1 ms for the 1.5 MB
song070 voice; a size/mtime shortcut would save that but trust a file edited
within one mtime tick, so the hash always decides). A copy is used only if all
of these hold, else the voice is parsed and the copy written again:

* its name is the source's SHA-256 and ``meta`` records that SHA-256 and size;
* ``meta`` names this format, :data:`FORMAT_VERSION` and this code's fingerprint;
* the payload's SHA-256 matches ``meta`` (a flipped bit or a truncated file fails);
* it is a plain stored zip no larger than the source allows, with exactly the
  expected members, dtypes and shapes;
* what it describes is a voice the parser could have produced: question, node
  and leaf references in range, every tree a tree (children numbered after their
  parent, each node reached once), finite PDFs, positive duration variances
  (what the parser checks; a state without its tree is left to the engine's
  own error, as from the parser).

A copy forged by someone who can write the cache folder, with a recomputed
digest, can still make the voice sound wrong (so could a changed ``.htsvoice``),
but cannot run code, crash the engine or make it loop. A cache folder that
cannot be read or written means parsing every time, never an error; what went
wrong is said in ``problems`` where the caller passes a list.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import htsvoice as _hv
from .htsvoice import (DecisionTree, HTSModel, HTSStream, HTSVoice, Question, compile_glob_matcher,
                       make_window, parse_htsvoice, read_htsvoice_bytes)

__all__ = ["FORMAT_VERSION", "copy_path", "default_cache_folder", "load_htsvoice"]

#: bump when the stored form changes (the code fingerprint also changes with the code)
FORMAT_VERSION = 1
_FORMAT = "utagoe-htsvoice-copy"
_FOLDER = "hts-voices"


def default_cache_folder(environ: Mapping[str, str] | None = None) -> Path:
    """Where voice copies are kept: ``hts-voices`` among utagoe's caches
    (:func:`utagoe.fileio.cache_folder`: ``$UTAGOE_CACHE_DIR``, else the XDG cache
    folder, else ``~/.cache/utagoe``)."""
    from ...fileio import cache_folder

    return cache_folder(_FOLDER, environ)


def copy_path(folder: str | os.PathLike, source_sha256: str) -> Path:
    """The copy of the voice file whose bytes have this SHA-256 (hex)."""
    return Path(folder) / f"{source_sha256}.npz"


def load_htsvoice(path: str | os.PathLike, *, cache_dir: str | os.PathLike | None = "",
                  problems: list[str] | None = None) -> HTSVoice:
    """The voice in the ``.htsvoice`` at ``path``, as :func:`read_htsvoice` gives it.

    ``cache_dir``: the folder of compact copies; ``""`` (the default) is
    :func:`default_cache_folder`, None keeps no copy (parse every time). A copy
    that is missing, stale, damaged or from another version is rebuilt; a folder
    that cannot be written leaves the voice parsed. Only a missing or malformed
    ``.htsvoice`` raises (:class:`VoiceError`, as :func:`read_htsvoice`). What
    did not work without stopping the load is appended to ``problems``.
    """
    spath = str(path)
    data = read_htsvoice_bytes(spath)
    if cache_dir is None:
        return parse_htsvoice(data, path=spath)
    folder = default_cache_folder() if isinstance(cache_dir, str) and cache_dir == "" else Path(cache_dir)
    digest = hashlib.sha256(data).hexdigest()
    target = copy_path(folder, digest)
    try:
        voice = _load_copy(target, spath, digest, len(data))
    except FileNotFoundError:
        pass
    except _Untrusted as why:
        _say(problems, f"{target}: the voice copy was rebuilt ({why})")
    else:
        return voice
    voice = parse_htsvoice(data, path=spath)
    _store(target, voice, digest, len(data), problems)
    return voice


# --------------------------------------------------------------------------- inside


class _Untrusted(Exception):
    """A copy that must not be used (the text says why)."""


def _say(problems: list[str] | None, text: str) -> None:
    if problems is not None and text not in problems:
        problems.append(text)


@functools.cache
def _code_fingerprint() -> str:
    """SHA-256 of the reader's and this module's source (just the version where unreadable)."""
    h = hashlib.sha256(f"{_FORMAT} v{FORMAT_VERSION}".encode())
    for module_file in (_hv.__file__, __file__):
        try:
            h.update(Path(module_file).read_bytes())
        except (OSError, TypeError):
            h.update(b"?")
    return h.hexdigest()


def _models(voice: HTSVoice) -> list[HTSModel]:
    """The voice's models in stored order: duration, stream models, GV models."""
    return ([voice.duration] + [s.model for s in voice.streams]
            + [s.gv for s in voice.streams if s.gv is not None])


_ARRAYS = ("pdf", "tree", "node")


def _payload_digest(voice_json: str, arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256(voice_json.encode("utf-8"))
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.reshape(-1).view(np.uint8).data)
    return h.hexdigest()


def _encode(voice: HTSVoice) -> tuple[str, dict[str, np.ndarray]]:
    """The ``voice`` JSON text and the arrays of a copy."""
    models = _models(voice)
    trees = [t for m in models for t in m.trees]
    pdf = np.concatenate([table.reshape(-1) for m in models for table in m.pdfs])
    low = pdf.astype(np.float32)
    tree = [[len(table), len(t.node_question), t.root] for m in models for t, table in zip(m.trees, m.pdfs)]
    node = [(q, n, y) for t in trees for q, n, y in zip(t.node_question, t.node_no, t.node_yes)]
    arrays = {"pdf": low if np.array_equal(low.astype(np.float64), pdf) else pdf,
              "tree": np.array(tree, dtype=np.int32).reshape(-1, 3),
              "node": np.array(node, dtype=np.int32).reshape(-1, 3)}
    model_desc = [{"vector_length": m.vector_length, "num_windows": m.num_windows, "is_msd": m.is_msd,
                   "trees": [[t.state, list(t.patterns)] for t in m.trees]} for m in models]
    n_streams = len(voice.streams)
    gv_index = iter(range(1 + n_streams, len(models)))
    streams = [{"name": s.name, "vector_length": s.vector_length, "is_msd": s.is_msd,
                "num_windows": s.num_windows, "use_gv": s.use_gv, "option": s.option,
                "windows": [list(w.coefficients) for w in s.windows],
                "model": 1 + i, "gv": None if s.gv is None else next(gv_index)}
               for i, s in enumerate(voice.streams)]
    gv_off = voice.gv_off_context
    desc = {"version": voice.version, "sample_rate_hz": voice.sample_rate_hz,
            "frame_period_samples": voice.frame_period_samples, "num_states": voice.num_states,
            "stream_types": list(voice.stream_types), "fullcontext_format": voice.fullcontext_format,
            "fullcontext_version": voice.fullcontext_version, "comment": voice.comment,
            "gv_off": None if gv_off is None else [gv_off.name, list(gv_off.patterns)],
            "questions": [[q.name, list(q.patterns)] for q in voice.questions],
            "models": model_desc, "streams": streams}
    return json.dumps(desc, ensure_ascii=False, separators=(",", ":")), arrays


def _store(target: Path, voice: HTSVoice, digest: str, size: int, problems: list[str] | None) -> None:
    from ...fileio import save_cache_npz  # only when writing

    voice_json, arrays = _encode(voice)
    meta = {"format": _FORMAT, "version": FORMAT_VERSION, "code": _code_fingerprint(),
            "source_sha256": digest, "source_size": size,
            "payload_sha256": _payload_digest(voice_json, arrays)}
    payload = {"meta": _utf8(json.dumps(meta, sort_keys=True)), "voice": _utf8(voice_json), **arrays}
    why = save_cache_npz(target, payload)
    if why is not None:
        _say(problems, f"the voice cache folder {target.parent} cannot be written ({why}); "
                       "the voice is parsed again in every run until it can")


def _utf8(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _text_of(a: np.ndarray) -> str:
    if a.dtype != np.uint8 or a.ndim != 1:
        raise _Untrusted(f"text stored as {a.dtype}{a.shape}")
    return a.tobytes().decode("utf-8")


def _limit_bytes(source_size: int) -> int:
    """The most a copy of a source this size may hold (float32 PDFs: about the source's size)."""
    return 4 * source_size + (4 << 20)


def _load_copy(target: Path, path: str, digest: str, size: int) -> HTSVoice:
    """The voice in the copy at ``target``; FileNotFoundError if there is none, _Untrusted
    if it is not exactly a copy of the source with this digest made by this code."""
    try:
        z = np.load(target, allow_pickle=False)
    except (FileNotFoundError, NotADirectoryError):  # no copy (or no folder) there
        raise FileNotFoundError(target) from None
    except OSError as exc:
        raise _Untrusted(f"cannot be read: {exc.strerror or type(exc).__name__}") from None
    except Exception as exc:  # noqa: BLE001  (not a zip, truncated, bad header)
        raise _Untrusted(f"not a readable copy ({type(exc).__name__})") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise _Untrusted("not an .npz archive")
    try:
        with z:
            if z.zip is None:
                raise _Untrusted("not an .npz archive")
            infos = z.zip.infolist()
            if any(i.compress_type != zipfile.ZIP_STORED for i in infos) or \
                    sum(i.file_size for i in infos) > _limit_bytes(size):
                raise _Untrusted("not a copy this code writes (compressed or too large)")
            meta = json.loads(_text_of(z["meta"]))
            if not isinstance(meta, dict):
                raise _Untrusted("no description")
            expected = {"format": _FORMAT, "version": FORMAT_VERSION, "code": _code_fingerprint(),
                        "source_sha256": digest, "source_size": size}
            for key, want in expected.items():
                if meta.get(key) != want:
                    raise _Untrusted(f"{key} is {str(meta.get(key))[:80]!r}, not {str(want)[:80]!r}")
            names = set(z.files) - {"meta", "voice"}
            voice_json = _text_of(z["voice"])
            arrays = {n: z[n] for n in names}
    except _Untrusted:
        raise
    except Exception as exc:  # noqa: BLE001  (truncated member, bad CRC, bad JSON, bad array header)
        raise _Untrusted(f"damaged ({type(exc).__name__})") from None
    if _payload_digest(voice_json, arrays) != meta.get("payload_sha256"):
        raise _Untrusted("its content does not match its checksum")
    try:
        return _decode(json.loads(voice_json), arrays, path)
    except _Untrusted:
        raise
    except Exception as exc:  # noqa: BLE001  (a description of the wrong shape)
        raise _Untrusted(f"malformed description ({type(exc).__name__}: {str(exc)[:80]})") from None


def _check(ok: bool, why: str) -> None:
    if not ok:
        raise _Untrusted(why)


def _int(value: Any, what: str, low: int = 0) -> int:
    _check(type(value) is int and value >= low, f"{what} is {value!r}")
    return value


def _text(value: Any, what: str) -> str:
    _check(isinstance(value, str), f"{what} is not text")
    return value


def _globs(value: Any, what: str) -> tuple[str, ...]:
    _check(isinstance(value, list) and len(value) > 0 and set(map(type, value)) == {str},
           f"{what}: not a list of globs")
    return tuple(value)


def _decode(desc: dict[str, Any], arrays: Mapping[str, np.ndarray], path: str) -> HTSVoice:
    num_states = _int(desc["num_states"], "num_states", 1)
    questions = []
    for i, (name, pats) in enumerate(desc["questions"]):
        patterns = _globs(pats, f"question {i}")
        questions.append(Question(_text(name, f"question {i}"), patterns, compile_glob_matcher(patterns)))

    model_descs = desc["models"]
    _check(isinstance(model_descs, list) and len(model_descs) >= 1, "no models")
    _check(set(arrays) == set(_ARRAYS), f"holds arrays {sorted(arrays)[:8]}")
    models = _decode_models(model_descs, arrays, len(questions))

    duration = models[0]
    _check(duration.vector_length == num_states and duration.num_windows == 1 and not duration.is_msd,
           "duration model of the wrong size")
    for table in duration.pdfs:
        _check(bool(np.all(table[:, num_states:] > 0.0)), "duration variances are not positive")

    stream_types = tuple(_text(s, "stream type") for s in desc["stream_types"])
    stream_descs = desc["streams"]
    _check(isinstance(stream_descs, list) and [s["name"] for s in stream_descs] == list(stream_types),
           "streams do not match the stream types")
    used = {0}
    streams = []
    for sd in stream_descs:
        name = sd["name"]
        vlen = _int(sd["vector_length"], f"{name} vector length", 1)
        nwin = _int(sd["num_windows"], f"{name} windows", 1)
        is_msd, use_gv = sd["is_msd"], sd["use_gv"]
        _check(isinstance(is_msd, bool) and isinstance(use_gv, bool), f"{name}: flags are not booleans")
        mi = _int(sd["model"], f"{name} model", 1)
        _check(mi < len(models) and mi not in used, f"{name}: model {mi}")
        used.add(mi)
        model = models[mi]
        _check((model.vector_length, model.num_windows, model.is_msd) == (vlen, nwin, is_msd),
               f"{name}: model of the wrong size")
        gv = None
        if sd["gv"] is not None:
            gi = _int(sd["gv"], f"{name} GV model", 1)
            _check(use_gv and gi < len(models) and gi not in used, f"{name}: GV model {gi}")
            used.add(gi)
            gv = models[gi]
            _check((gv.vector_length, gv.num_windows, gv.is_msd) == (vlen, 1, False),
                   f"{name}: GV model of the wrong size")
        wins = sd["windows"]
        _check(isinstance(wins, list) and len(wins) == nwin and all(
            isinstance(w, list) and w and {type(c) for c in w} == {float} for w in wins),
            f"{name}: windows")
        option = _text(sd["option"], f"{name} option")
        streams.append(HTSStream(name=name, vector_length=vlen, is_msd=is_msd, num_windows=nwin, use_gv=use_gv,
                                 option=option, options=_hv._parse_options(option),
                                 windows=tuple(make_window(tuple(w)) for w in wins), model=model, gv=gv))
    _check(used == set(range(len(models))), "models that no stream uses")

    gv_off = None
    if desc["gv_off"] is not None:
        name, pats = desc["gv_off"]
        patterns = _globs(pats, "GV-off context")
        gv_off = Question(_text(name, "GV-off name"), patterns, compile_glob_matcher(patterns))
    sample_rate = _int(desc["sample_rate_hz"], "sample rate", 1)
    frame_period = _int(desc["frame_period_samples"], "frame period", 1)
    return HTSVoice(
        path=path, version=_text(desc["version"], "version"), sample_rate_hz=sample_rate,
        frame_period_samples=frame_period, num_states=num_states, stream_types=stream_types,
        fullcontext_format=_text(desc["fullcontext_format"], "context format"),
        fullcontext_version=_text(desc["fullcontext_version"], "context version"),
        comment=_text(desc["comment"], "comment"), gv_off_context=gv_off, duration=duration,
        streams=tuple(streams), questions=tuple(questions))


def _decode_models(model_descs: list[Any], arrays: Mapping[str, np.ndarray], n_questions: int) -> list[HTSModel]:
    """The models, their trees checked (all trees at once) and their PDF tables cut out."""
    pdf, tree, node = arrays["pdf"], arrays["tree"], arrays["node"]
    sizes = []   # (vector_length, num_windows, is_msd, width, [(state, patterns)]) per model
    for k, md in enumerate(model_descs):
        vlen = _int(md["vector_length"], f"model {k} vector length", 1)
        nwin = _int(md["num_windows"], f"model {k} windows", 1)
        is_msd = md["is_msd"]
        _check(isinstance(is_msd, bool), f"model {k}: is_msd")
        tree_descs = md["trees"]
        _check(isinstance(tree_descs, list) and len(tree_descs) >= 1, f"model {k} has no trees")
        heads = [(_int(state, f"model {k} tree state", 1), _globs(pats, f"model {k} tree"))
                 for state, pats in tree_descs]
        sizes.append((vlen, nwin, is_msd, vlen * nwin * 2 + (1 if is_msd else 0), heads))
    ntree = sum(len(s[4]) for s in sizes)
    _check(tree.dtype == np.int32 and tree.shape == (ntree, 3), f"tree table {tree.dtype}{tree.shape}")
    _check(node.dtype == np.int32 and node.ndim == 2 and node.shape[1] == 3, f"nodes {node.dtype}{node.shape}")
    _check(pdf.dtype in (np.float32, np.float64) and pdf.ndim == 1, f"PDFs {pdf.dtype}{pdf.shape}")
    t = tree.astype(np.int64)
    npdf, nnode, roots = t[:, 0], t[:, 1], t[:, 2]
    _check(bool(np.all(npdf >= 1)) and bool(np.all(nnode >= 0)) and int(nnode.sum()) == node.shape[0],
           "tree sizes")
    widths = np.repeat([s[3] for s in sizes], [len(s[4]) for s in sizes])
    _check(int((npdf * widths).sum()) == pdf.shape[0], f"{pdf.shape[0]} PDF values, not {int((npdf * widths).sum())}")
    _check_trees(node.astype(np.int64), nnode, roots, npdf, n_questions)
    values = pdf.astype(np.float64)
    _check(bool(np.all(np.isfinite(values))), "non-finite PDFs")

    q_of, no_of, yes_of = node.T.tolist() if node.shape[0] else ([], [], [])
    models = []
    i = at = start = 0
    for vlen, nwin, is_msd, width, heads in sizes:
        trees = []
        pdfs = []
        for state, patterns in heads:
            n_p, n_n = int(npdf[i]), int(nnode[i])
            block = values[start:start + n_p * width].reshape(n_p, width)
            block.flags.writeable = False
            start += n_p * width
            end = at + n_n
            trees.append(DecisionTree(state=state, patterns=patterns, root=int(roots[i]),
                                      node_question=tuple(q_of[at:end]), node_no=tuple(no_of[at:end]),
                                      node_yes=tuple(yes_of[at:end]), selects=compile_glob_matcher(patterns)))
            at = end
            pdfs.append(block)
            i += 1
        models.append(HTSModel(vector_length=vlen, num_windows=nwin, is_msd=is_msd, trees=tuple(trees),
                               pdfs=tuple(pdfs)))
    return models


def _check_trees(node: np.ndarray, nnode: np.ndarray, roots: np.ndarray, npdf: np.ndarray,
                 n_questions: int) -> None:
    """Every tree is a tree as the parser makes them: root 0 (a leaf ``~row`` where it has
    no nodes), questions in range, children numbered after their parent and within the
    tree, each node but the root reached exactly once, leaves ``~row`` within its PDFs."""
    leaf_root = nnode == 0
    _check(bool(np.all(np.where(leaf_root, (roots < 0) & (~roots < npdf), roots == 0))), "a tree's root")
    if node.shape[0] == 0:
        return
    owner = np.repeat(np.arange(len(nnode)), nnode)          # the tree of every node
    first = np.cumsum(nnode) - nnode                           # its first node's row
    local = np.arange(node.shape[0]) - first[owner]            # node number within its tree
    _check(bool(np.all((node[:, 0] >= 0) & (node[:, 0] < n_questions))), "a question out of range")
    children = node[:, 1:]
    inner = children >= 0
    size = nnode[owner][:, None]
    rows = npdf[owner][:, None]
    ok = np.where(inner, (children > local[:, None]) & (children < size), ~children < rows)
    _check(bool(np.all(ok)), "a child out of range")
    reached = np.bincount((first[owner][:, None] + children)[inner], minlength=node.shape[0])
    _check(bool(np.all(reached == (local > 0))), "not a tree (a node reached twice or never)")
