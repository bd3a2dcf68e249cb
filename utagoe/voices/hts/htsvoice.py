"""Reader of HTS voice files (``.htsvoice``, HTS voice format 1.0).

An ``.htsvoice`` file is a text header followed by binary data::

    [GLOBAL]      HTS_VOICE_VERSION, SAMPLING_FREQUENCY, FRAME_PERIOD (samples),
                  NUM_STATES, NUM_STREAMS, STREAM_TYPE (e.g. MCP,LF0,LPF),
                  FULLCONTEXT_FORMAT, FULLCONTEXT_VERSION, GV_OFF_CONTEXT, COMMENT
    [STREAM]      per stream: VECTOR_LENGTH[s], IS_MSD[s], NUM_WINDOWS[s], USE_GV[s], OPTION[s]
    [POSITION]    byte ranges ``first-last`` (inclusive, counted from the start of [DATA])
                  of DURATION_PDF/TREE, STREAM_WIN[s] (one range per window),
                  STREAM_PDF[s], STREAM_TREE[s], GV_PDF[s], GV_TREE[s]
    [DATA]        the bytes those ranges point at

PDF blocks are little-endian: one uint32 per tree (its number of leaf PDFs),
then for every tree, for every PDF, ``vector_length * num_windows`` float32
means, as many float32 variances and, for MSD streams, one float32 voiced
weight. Tree blocks are text: questions ``QS name { "glob","glob" }`` and trees
``{*}[state]`` followed by ``{ index question no-child yes-child ... }`` or a
single leaf name. Window blocks are text: the number of coefficients, then the
coefficients.

Questions are glob patterns over the full-context label (``*`` any run, ``?``
any one character). They are compiled here to fast matchers (substring,
prefix, suffix or regular-expression tests; an expression is compiled on the
matcher's first use, not when the file is read) and shared by all models of the
voice: :attr:`HTSVoice.questions` holds each distinct pattern list once and
trees refer to it by index, so answers can be cached per label across trees
(see :mod:`utagoe.voices.hts.generate`).

The layout follows the HTS voice format as read by the hts_engine API
(``HTS_ModelSet_load``); the code here is our own.
"""
from __future__ import annotations

import re
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from utagoe.errors import VoiceError

__all__ = [
    "Question",
    "DecisionTree",
    "HTSModel",
    "Window",
    "HTSStream",
    "HTSVoice",
    "read_htsvoice",
    "read_htsvoice_bytes",
    "parse_htsvoice",
    "compile_glob_matcher",
    "make_window",
]


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class Question:
    """A yes/no question about a full-context label: true if any glob matches."""

    name: str
    patterns: tuple[str, ...]
    matches: Callable[[str], bool] = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class DecisionTree:
    """One context-clustering tree, flattened into parallel tuples.

    Internal nodes are numbered from 0 (the root). A child reference ``c`` is
    either ``c >= 0`` (an internal node) or ``c < 0``: a leaf whose PDF is
    ``~c`` (0-based row of the tree's PDF table). ``root`` follows the same
    rule, so a tree that is a single leaf has ``root < 0`` and no nodes.
    """

    state: int                      # HTS state number: 2 .. num_states + 1
    patterns: tuple[str, ...]       # label globs selecting this tree ("*" for all)
    root: int
    node_question: tuple[int, ...]  # index into HTSVoice.questions, per internal node
    node_no: tuple[int, ...]
    node_yes: tuple[int, ...]
    selects: Callable[[str], bool] = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True, eq=False)
class HTSModel:
    """Trees and PDFs of one model: duration, one stream, or one stream's GV.

    ``pdfs[k]`` belongs to ``trees[k]``: a read-only float64 array shaped
    ``(n_pdfs, width)`` whose rows are ``means (vector_length*num_windows)``,
    ``variances (same)`` and, for MSD models, the voiced weight.
    """

    vector_length: int
    num_windows: int
    is_msd: bool
    trees: tuple[DecisionTree, ...]
    pdfs: tuple[np.ndarray, ...]

    @property
    def static_width(self) -> int:
        return self.vector_length * self.num_windows


@dataclass(frozen=True, slots=True)
class Window:
    """A dynamic-feature window: ``coefficients[k]`` applies at frame offset ``left + k``."""

    coefficients: tuple[float, ...]
    left: int   # <= 0
    right: int  # >= 0; an even-sized window reaches one frame further left than right


@dataclass(frozen=True, slots=True, eq=False)
class HTSStream:
    """One feature stream (MCP, LF0, LPF, ...) with its model, windows and GV."""

    name: str
    vector_length: int
    is_msd: bool
    num_windows: int
    use_gv: bool
    option: str                     # raw OPTION line, e.g. "ALPHA=0.55"
    options: Mapping[str, str]      # parsed KEY=VALUE pairs of the option line
    windows: tuple[Window, ...]
    model: HTSModel
    gv: HTSModel | None             # None where USE_GV is off or no GV data


@dataclass(frozen=True, slots=True, eq=False)
class HTSVoice:
    """An HTS voice as read from an ``.htsvoice`` file."""

    path: str
    version: str
    sample_rate_hz: int
    frame_period_samples: int
    num_states: int
    stream_types: tuple[str, ...]
    fullcontext_format: str
    fullcontext_version: str
    comment: str
    gv_off_context: Question | None
    duration: HTSModel
    streams: tuple[HTSStream, ...]
    questions: tuple[Question, ...]

    @property
    def frame_period_s(self) -> float:
        return self.frame_period_samples / self.sample_rate_hz

    def stream(self, name: str) -> HTSStream:
        for s in self.streams:
            if s.name == name:
                return s
        raise VoiceError(f"{self.path}: voice has no stream {name!r}; "
                         f"streams: {', '.join(self.stream_types)}")

    def has_stream(self, name: str) -> bool:
        return name in self.stream_types

    @property
    def alpha(self) -> float:
        """All-pass constant of the mel-cepstrum stream (``OPTION[MCP]:ALPHA=``), 0 if absent."""
        if not self.has_stream("MCP"):
            return 0.0
        value = self.stream("MCP").options.get("ALPHA")
        return 0.0 if value is None else float(value)

    @property
    def gamma_stage(self) -> int:
        """``GAMMA=`` stage of the spectral stream (0 means mel-cepstrum, gamma 0)."""
        if not self.has_stream("MCP"):
            return 0
        value = self.stream("MCP").options.get("GAMMA")
        return 0 if value is None else int(value)


# --------------------------------------------------------------------------- glob matching


def _glob_fragment(pattern: str) -> str:
    """Regular expression (for ``search``) of one glob: anchored only where it has no outer ``*``."""
    head = "" if pattern.startswith("*") else r"\A"
    tail = "" if pattern.endswith("*") and pattern else r"\Z"
    body = pattern.strip("*") if pattern else pattern
    out = []
    for ch in body:
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return head + "".join(out) + tail


def _glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Compile a glob for ``search``: anchors only where the glob has no outer ``*``."""
    return re.compile(_glob_fragment(pattern), re.DOTALL)


def _globs_to_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One expression whose ``search`` finds a match where any of the globs matches."""
    if len(patterns) == 1:
        return _glob_to_regex(patterns[0])
    return re.compile("|".join(f"(?:{_glob_fragment(p)})" for p in patterns), re.DOTALL)


#: a matcher of several globs is asked this many times glob by glob (each ``?`` glob a
#: small regular expression, compiled on first use and shared through ``re``'s cache)
#: before one expression for all its globs is compiled: that one answers about 2.5
#: times faster, but compiling it costs ~0.1 ms, more than a short song asks of most
#: questions (a one-note song asks each question of a handful of labels)
_COMBINE_AFTER = 64


def _lazy_search(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """``label -> bool`` by one regular expression, compiled on the first call."""
    search: Callable[[str], object] | None = None

    def match(label: str) -> bool:
        nonlocal search
        if search is None:  # two threads may both compile: same result, no harm
            search = _globs_to_regex(patterns).search
        return search(label) is not None

    return match


def _split_globs(patterns: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...],
                                                    frozenset[str], tuple[str, ...]]:
    """Globs by how they are tested: (substrings, prefixes, suffixes, exact, regex globs)."""
    substrings: list[str] = []
    prefixes: list[str] = []
    suffixes: list[str] = []
    exact: set[str] = set()
    regex_globs: list[str] = []
    for p in patterns:
        inner = p[1 if p.startswith("*") else 0: len(p) - 1 if p.endswith("*") else len(p)]
        if "?" in p or "*" in inner:
            regex_globs.append(p)
        elif p.startswith("*") and p.endswith("*") and p != "*":
            substrings.append(inner)
        elif p.endswith("*") and p:
            prefixes.append(inner)
        elif p.startswith("*"):
            suffixes.append(inner)
        else:
            exact.add(inner)
    return tuple(substrings), tuple(prefixes), tuple(suffixes), frozenset(exact), tuple(regex_globs)


def _escalating(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """``label -> bool`` for several globs: string tests and one small expression per
    glob that needs one for the first :data:`_COMBINE_AFTER` calls, then one expression
    for all the globs. Nothing is prepared before the first call."""
    # (substrings, prefixes, suffixes, exact, searches), made on the first call and
    # assigned in one step, so another thread sees all of it or none
    parts: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], frozenset[str],
                 tuple[Callable[[str], object], ...]] | None = None
    combined: Callable[[str], object] | None = None
    uses = 0

    def match(label: str) -> bool:
        nonlocal parts, combined, uses
        if combined is not None:
            return combined(label) is not None
        uses += 1
        if uses > _COMBINE_AFTER:  # two threads may both compile: same result, no harm
            combined = _globs_to_regex(patterns).search
            return combined(label) is not None
        if parts is None:
            subs, pre, suf, ex, rx_globs = _split_globs(patterns)
            parts = (subs, pre, suf, ex, tuple(_glob_to_regex(p).search for p in rx_globs))
        subs, pre, suf, ex, searches = parts
        for s in subs:
            if s in label:
                return True
        if pre and label.startswith(pre):
            return True
        if suf and label.endswith(suf):
            return True
        if ex and label in ex:
            return True
        for r in searches:
            if r(label) is not None:
                return True
        return False

    return match


def compile_glob_matcher(patterns: tuple[str, ...] | list[str]) -> Callable[[str], bool]:
    """A function ``label -> bool``: does any of the globs match the whole label?

    Globs use ``*`` (any run of characters, possibly empty) and ``?`` (exactly
    one character), as the HTS engine does. One glob of a common shape becomes a
    plain string test (``*lit*`` to ``lit in label``, ``lit*`` to
    ``startswith``, ``*lit`` to ``endswith``, ``lit`` to ``==``); several
    prefixes or several suffixes one ``startswith``/``endswith``. Anything else
    is a regular expression compiled on first use, not when the voice is read:
    for several globs, a string test or a small expression per glob for the
    matcher's first :data:`_COMBINE_AFTER` calls, then one expression for all of
    them (about 2.5 times faster on the song voice's labels, but slower to compile).
    """
    pats = tuple(dict.fromkeys(patterns))  # duplicates change nothing
    if len(pats) == 1:
        p = pats[0]
        inner = p[1 if p.startswith("*") else 0: len(p) - 1 if p.endswith("*") else len(p)]
        if p and not inner:  # "*", "**", ...: matches everything
            return _always_true
        if "?" in p or "*" in inner:
            return _lazy_search(pats)
        if p.startswith("*") and p.endswith("*"):
            return lambda label: inner in label
        if p.endswith("*"):
            return lambda label: label.startswith(inner)
        if p.startswith("*"):
            return lambda label: label.endswith(inner)
        return lambda label: label == inner
    for p in pats:
        if p and not p.strip("*"):
            return _always_true
    joined = "\n".join(pats)
    if "?" not in joined and joined.count("*") == len(pats):  # one '*' each: all prefixes or all suffixes?
        if all(p.endswith("*") for p in pats):
            prefixes = tuple(p[:-1] for p in pats)
            return lambda label: label.startswith(prefixes)
        if all(p.startswith("*") for p in pats):
            suffixes = tuple(p[1:] for p in pats)
            return lambda label: label.endswith(suffixes)
    return _escalating(pats)


def _always_true(label: str) -> bool:
    return True


# --------------------------------------------------------------------------- parsing helpers


class _Fail(Exception):
    """Internal: a parse error; turned into VoiceError with the file name."""


#: one token: a quoted string (with its quotes), a lone ',', or a run of anything but blanks
_TOKEN_RE = re.compile(r"""'[^']*'|"[^"]*"|,|[^ \t\r\n]+""")


def _tokens(text: str) -> list[str]:
    """HTS pattern tokens: quoted strings (quotes removed), a lone ',', or words.

    A token that starts and ends with the same quote is always a quoted string:
    a word that starts with a quote only matches where no closing quote follows.
    """
    return [t[1:-1] if len(t) > 1 and t[0] in "\"'" and t[-1] == t[0] else t
            for t in _TOKEN_RE.findall(text)]


def _parse_int(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise _Fail(f"{what}: expected an integer, got {text!r}") from None


def _parse_options(option: str) -> Mapping[str, str]:
    pairs = {}
    for part in re.split(r"[,\s]+", option.strip()):
        if "=" in part:
            key, _, value = part.partition("=")
            pairs[key.strip()] = value.strip()
    return types.MappingProxyType(pairs)


class _QuestionTable:
    """Voice-wide table of distinct questions (dedup by pattern list)."""

    def __init__(self) -> None:
        self.questions: list[Question] = []
        self._index: dict[tuple[str, ...], int] = {}

    def add(self, name: str, patterns: tuple[str, ...]) -> int:
        idx = self._index.get(patterns)
        if idx is None:
            idx = len(self.questions)
            self.questions.append(Question(name, patterns, compile_glob_matcher(patterns)))
            self._index[patterns] = idx
        return idx


def _read_pattern_list(tokens: list[str], pos: int, what: str) -> tuple[tuple[str, ...], int]:
    """Read ``{ p1 , p2 ... }`` starting at tokens[pos] == '{'; return (patterns, next pos)."""
    if pos >= len(tokens) or tokens[pos] != "{":
        raise _Fail(f"{what}: expected '{{' to open the pattern list")
    try:
        end = tokens.index("}", pos + 1)
    except ValueError:
        raise _Fail(f"{what}: pattern list is not closed with '}}'") from None
    patterns = tuple(t for t in tokens[pos + 1:end] if t != ",")
    if not patterns:
        raise _Fail(f"{what}: empty pattern list")
    return patterns, end + 1


_STATE_RE = re.compile(r"\[(\d+)\]")
_LEAF_NUM_RE = re.compile(r"(\d+)$")


def _tree_patterns(header: str) -> tuple[str, ...]:
    """Patterns of a tree header such as ``{*}[2]`` or ``{(*-a+*,*-i+*)}[2]``."""
    left = header.find("{")
    if left < 0:
        return ("*",)
    right = header.rfind("}")
    if right < left:
        raise _Fail(f"tree header {header!r}: unbalanced braces")
    inner = header[left + 1:right]
    if inner.startswith("(") and inner.endswith(")"):
        inner = inner[1:-1]
    parts = tuple(p for p in inner.split(",") if p != "")
    return parts or ("*",)


def _leaf_pdf(name: str, what: str) -> int:
    m = _LEAF_NUM_RE.search(name)
    if m is None:
        raise _Fail(f"{what}: leaf {name!r} does not end in a PDF number")
    return int(m.group(1))


def _parse_trees(text: str, table: _QuestionTable, what: str) -> list[tuple[int, tuple[str, ...], int,
                                                                             list[int], list[int], list[int]]]:
    """Parse a tree block. Returns raw trees (state, patterns, root, q, no, yes) with 1-based leaf PDFs
    encoded as ``-pdf`` (to be checked against the PDF counts later)."""
    tokens = _tokens(text)
    local_q: dict[str, int] = {}
    trees: list[tuple[int, tuple[str, ...], int, list[int], list[int], list[int]]] = []
    pos = 0
    n = len(tokens)
    while pos < n:
        tok = tokens[pos]
        pos += 1
        if tok == "QS":
            if pos >= n:
                raise _Fail(f"{what}: 'QS' without a question name")
            qname = tokens[pos]
            pos += 1
            patterns, pos = _read_pattern_list(tokens, pos, f"{what}: question {qname!r}")
            local_q.setdefault(qname, table.add(qname, patterns))  # first definition wins, as in HTS
            continue
        m = _STATE_RE.search(tok)
        if m is None or int(m.group(1)) == 0:
            raise _Fail(f"{what}: unexpected token {tok!r} (expected 'QS' or a tree header like '{{*}}[2]')")
        state = int(m.group(1))
        patterns = _tree_patterns(tok)
        if pos >= n:
            raise _Fail(f"{what}: tree {tok!r} has no body")
        if tokens[pos] != "{":
            # a tree that is a single leaf
            leaf = _leaf_pdf(tokens[pos], f"{what}: tree {tok!r}")
            pos += 1
            trees.append((state, patterns, -leaf, [], [], []))
            continue
        q_of, no_of, yes_of, pos = _parse_tree_body(tokens, pos + 1, local_q, f"{what}: tree {tok!r}")
        trees.append((state, patterns, 0, q_of, no_of, yes_of))
    return trees


def _node_key(ref: str) -> int | None:
    """The node index a tree token names (``0``, ``-12``), or None for a leaf name."""
    digits = ref[1:] if ref[:1] == "-" else ref
    return int(ref) if digits.isdecimal() else None


def _parse_tree_body(tokens: list[str], pos: int, local_q: dict[str, int], where: str
                     ) -> tuple[list[int], list[int], list[int], int]:
    """Nodes ``index question no yes`` up to ``}``; returns (questions, no, yes, next pos)."""
    n = len(tokens)
    index_of: dict[int, int] = {0: 0}   # HTS node index -> our node number
    q_of: list[int] = [-1]
    no_of: list[int] = [0]
    yes_of: list[int] = [0]
    defined = 0

    def child(ref: str) -> int:
        key = _node_key(ref)
        if key is None:
            return -_leaf_pdf(ref, where)
        if key in index_of:
            raise _Fail(f"{where}: node {key} is referenced twice")
        node = index_of[key] = len(q_of)
        q_of.append(-1)
        no_of.append(0)
        yes_of.append(0)
        return node

    while True:
        if pos >= n:
            raise _Fail(f"{where} is not closed with '}}' (truncated?)")
        t = tokens[pos]
        if t == "}":
            pos += 1
            break
        key = _node_key(t)
        if key is None:
            raise _Fail(f"{where}: expected a node index, got {t!r}")
        node = index_of.get(key)
        if node is None:
            raise _Fail(f"{where}: node {key} is defined before it is referenced")
        if q_of[node] >= 0:
            raise _Fail(f"{where}: node {key} is defined twice")
        if pos + 4 > n:
            raise _Fail(f"{where}: node {key} is incomplete (truncated?)")
        qname, no_ref, yes_ref = tokens[pos + 1], tokens[pos + 2], tokens[pos + 3]
        pos += 4
        qi = local_q.get(qname)
        if qi is None:
            raise _Fail(f"{where}: unknown question {qname!r}")
        defined += 1
        q_of[node] = qi
        no_of[node] = child(no_ref)
        yes_of[node] = child(yes_ref)
    if defined != len(q_of):
        missing = [k for k, v in index_of.items() if q_of[v] < 0]
        raise _Fail(f"{where}: node(s) {sorted(missing)[:5]} are referenced but never defined")
    return q_of, no_of, yes_of, pos


def _leaf_ref(ref: int, npdf: int, where: str) -> int:
    """Node reference from parsing (``-pdf`` 1-based for leaves) to the stored form (``~row``)."""
    if ref >= 0:
        return ref
    pdf = -ref
    if not 1 <= pdf <= npdf:
        raise _Fail(f"{where}: leaf PDF {pdf} out of range 1..{npdf}")
    return ~(pdf - 1)


def _build_model(pdf_bytes: bytes, tree_text: str | None, table: _QuestionTable, *,
                 vector_length: int, num_windows: int, is_msd: bool, what: str,
                 tree_states: tuple[int, ...]) -> HTSModel:
    raw: list[tuple[int, tuple[str, ...], int, list[int], list[int], list[int]]]
    if tree_text is None:
        raw = [(s, ("*",), -1, [], [], []) for s in tree_states[:1]]
    else:
        raw = _parse_trees(tree_text, table, f"{what} tree")
        if not raw:
            raw = [(tree_states[0], ("*",), -1, [], [], [])]
    ntree = len(raw)
    width = vector_length * num_windows * 2 + (1 if is_msd else 0)
    if len(pdf_bytes) < 4 * ntree:
        raise _Fail(f"{what} PDF: {len(pdf_bytes)} bytes cannot hold the PDF counts of {ntree} tree(s)")
    counts = np.frombuffer(pdf_bytes, dtype="<u4", count=ntree).astype(np.int64)
    if np.any(counts <= 0):
        raise _Fail(f"{what} PDF: tree {int(np.argmin(counts)) + 1} has {int(counts.min())} PDFs")
    need = 4 * ntree + 4 * int(counts.sum()) * width
    if len(pdf_bytes) != need:
        raise _Fail(f"{what} PDF: {len(pdf_bytes)} bytes, but {ntree} tree(s) with {counts.tolist()} PDFs "
                    f"of {width} floats need {need} (truncated or wrong VECTOR_LENGTH/NUM_WINDOWS?)")
    flat = np.frombuffer(pdf_bytes, dtype="<f4", offset=4 * ntree).astype(np.float64)
    if not np.all(np.isfinite(flat)):
        raise _Fail(f"{what} PDF: contains non-finite values")
    pdfs = []
    trees = []
    start = 0
    for k, (state, patterns, root, q_of, no_of, yes_of) in enumerate(raw):
        npdf = int(counts[k])
        block = flat[start:start + npdf * width].reshape(npdf, width)
        block.flags.writeable = False
        start += npdf * width
        pdfs.append(block)

        where = f"{what} tree for state {state}"
        trees.append(DecisionTree(
            state=state, patterns=patterns, root=_leaf_ref(root, npdf, where),
            node_question=tuple(q_of), node_no=tuple(_leaf_ref(c, npdf, where) for c in no_of),
            node_yes=tuple(_leaf_ref(c, npdf, where) for c in yes_of),
            selects=compile_glob_matcher(patterns)))
    return HTSModel(vector_length=vector_length, num_windows=num_windows, is_msd=is_msd,
                    trees=tuple(trees), pdfs=tuple(pdfs))


def _parse_window(text: str, what: str) -> Window:
    parts = text.split()
    if not parts:
        raise _Fail(f"{what}: empty window")
    size = _parse_int(parts[0], f"{what}: window size")
    if size <= 0:
        raise _Fail(f"{what}: window size must be positive, got {size}")
    if len(parts) - 1 != size:
        raise _Fail(f"{what}: window says {size} coefficients but has {len(parts) - 1}")
    try:
        coefs = tuple(float(x) for x in parts[1:])
    except ValueError:
        raise _Fail(f"{what}: window coefficients are not numbers: {parts[1:]}") from None
    return make_window(coefs)


def make_window(coefficients: tuple[float, ...]) -> Window:
    """The window with these coefficients, centred as the HTS engine centres it."""
    size = len(coefficients)
    half = size // 2
    left = -half
    right = half - 1 if size % 2 == 0 else half
    return Window(coefficients=tuple(coefficients), left=left, right=right)


# --------------------------------------------------------------------------- reader


_DATA_LINE_RE = re.compile(rb"(?m)^\[DATA\]\r?\n")


def read_htsvoice(path: str | Path) -> HTSVoice:
    """Read an ``.htsvoice`` file (HTS voice format 1.0).

    Raises :class:`VoiceError` naming the file and what is wrong when the file
    is missing, malformed or truncated. (:func:`utagoe.voices.hts.voicecache.load_htsvoice`
    gives the same voice from a compact copy kept between runs.)
    """
    path = str(path)
    return parse_htsvoice(read_htsvoice_bytes(path), path=path)


def read_htsvoice_bytes(path: str | Path) -> bytes:
    """The bytes of the voice file at ``path``; VoiceError ``<path>: cannot read HTS voice: <why>``."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise VoiceError(f"{path}: cannot read HTS voice: {exc.strerror or exc}") from exc


def parse_htsvoice(data: bytes, *, path: str) -> HTSVoice:
    """The voice in ``data``, the bytes of an ``.htsvoice`` file; ``path`` names it
    (in :attr:`HTSVoice.path` and in the VoiceError raised for a malformed file)."""
    try:
        return _read(str(path), data)
    except _Fail as exc:
        raise VoiceError(f"{path}: {exc}") from None


def _read(path: str, data: bytes) -> HTSVoice:
    if not data.startswith(b"[GLOBAL]"):
        raise _Fail("not an HTS voice: the file does not start with '[GLOBAL]'")
    found = _DATA_LINE_RE.search(data)
    if found is None:
        raise _Fail("no '[DATA]' line ending the header (truncated header?)")
    marker = found.start()
    body = data[found.end():]
    try:
        header = data[:marker].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Fail(f"header is not UTF-8 text (byte {exc.start})") from None

    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for lineno, raw in enumerate(header.split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if line.startswith("[") and line.endswith("]") and ":" not in line:
            current = sections.setdefault(line[1:-1], {})
            continue
        if current is None:
            raise _Fail(f"line {lineno}: text before the first section: {line!r}")
        key, sep, value = line.partition(":")
        if not sep:
            raise _Fail(f"line {lineno}: expected KEY:VALUE, got {line!r}")
        current[key] = value
    for name in ("GLOBAL", "STREAM", "POSITION"):
        if name not in sections:
            raise _Fail(f"missing [{name}] section")
    glob, streams_sec, pos_sec = sections["GLOBAL"], sections["STREAM"], sections["POSITION"]

    def need(sec: dict[str, str], key: str, secname: str) -> str:
        if key not in sec:
            raise _Fail(f"[{secname}] has no {key}")
        return sec[key]

    version = need(glob, "HTS_VOICE_VERSION", "GLOBAL").strip()
    if version != "1.0":
        raise _Fail(f"HTS_VOICE_VERSION {version!r} is not supported (only 1.0)")
    sample_rate = _parse_int(need(glob, "SAMPLING_FREQUENCY", "GLOBAL"), "SAMPLING_FREQUENCY")
    frame_period = _parse_int(need(glob, "FRAME_PERIOD", "GLOBAL"), "FRAME_PERIOD")
    num_states = _parse_int(need(glob, "NUM_STATES", "GLOBAL"), "NUM_STATES")
    num_streams = _parse_int(need(glob, "NUM_STREAMS", "GLOBAL"), "NUM_STREAMS")
    if sample_rate <= 0 or frame_period <= 0 or num_states <= 0 or num_streams <= 0:
        raise _Fail("SAMPLING_FREQUENCY, FRAME_PERIOD, NUM_STATES and NUM_STREAMS must be positive")
    stream_types = tuple(s.strip() for s in need(glob, "STREAM_TYPE", "GLOBAL").split(","))
    if len(stream_types) != num_streams or any(not s for s in stream_types):
        raise _Fail(f"STREAM_TYPE {','.join(stream_types)!r} does not list NUM_STREAMS={num_streams} streams")

    table = _QuestionTable()
    gv_off = None
    gv_off_text = glob.get("GV_OFF_CONTEXT", "").strip()
    if gv_off_text:
        toks = _tokens(gv_off_text)
        patterns = tuple(t for t in toks if t != ",")
        if not patterns:
            raise _Fail(f"GV_OFF_CONTEXT {gv_off_text!r} has no patterns")
        gv_off = Question("GV-Off", patterns, compile_glob_matcher(patterns))

    def block(key: str) -> bytes | None:
        value = pos_sec.get(key)
        if value is None or not value.strip():
            return None
        return _range(value, key)

    def _range(value: str, key: str) -> bytes:
        first, sep, last = value.strip().partition("-")
        if not sep:
            raise _Fail(f"[POSITION] {key}: expected 'first-last', got {value!r}")
        s = _parse_int(first, f"[POSITION] {key}")
        e = _parse_int(last, f"[POSITION] {key}")
        if s < 0 or e < s:
            raise _Fail(f"[POSITION] {key}: bad range {value!r}")
        if e >= len(body):
            raise _Fail(f"[POSITION] {key}: range {s}-{e} ends past the data ({len(body)} bytes; truncated file?)")
        return body[s:e + 1]

    def text(b: bytes, key: str) -> str:
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Fail(f"{key}: not text (byte {exc.start} of the block)") from None

    def per_stream(key: str, name: str, default: str | None = None) -> str:
        value = streams_sec.get(f"{key}[{name}]")
        if value is None:
            if default is None:
                raise _Fail(f"[STREAM] has no {key}[{name}]")
            return default
        return value

    states = tuple(range(2, num_states + 2))
    dur_pdf = block("DURATION_PDF")
    if dur_pdf is None:
        raise _Fail("[POSITION] has no DURATION_PDF")
    dur_tree = block("DURATION_TREE")
    duration = _build_model(dur_pdf, None if dur_tree is None else text(dur_tree, "DURATION_TREE"), table,
                            vector_length=num_states, num_windows=1, is_msd=False,
                            what="DURATION", tree_states=(2,))
    for table_ in duration.pdfs:
        if not np.all(table_[:, num_states:] > 0.0):
            raise _Fail("DURATION PDF: state duration variances must be positive")

    streams = []
    for name in stream_types:
        vlen = _parse_int(per_stream("VECTOR_LENGTH", name), f"VECTOR_LENGTH[{name}]")
        nwin = _parse_int(per_stream("NUM_WINDOWS", name), f"NUM_WINDOWS[{name}]")
        if vlen <= 0 or nwin <= 0:
            raise _Fail(f"VECTOR_LENGTH[{name}] and NUM_WINDOWS[{name}] must be positive")
        is_msd = per_stream("IS_MSD", name, "0").strip().startswith("1")
        use_gv = per_stream("USE_GV", name, "0").strip().startswith("1")
        option = per_stream("OPTION", name, "").strip()
        win_spec = pos_sec.get(f"STREAM_WIN[{name}]")
        if win_spec is None:
            raise _Fail(f"[POSITION] has no STREAM_WIN[{name}]")
        ranges = [r for r in win_spec.split(",") if r.strip()]
        if len(ranges) != nwin:
            raise _Fail(f"STREAM_WIN[{name}] has {len(ranges)} ranges but NUM_WINDOWS[{name}] is {nwin}")
        windows = tuple(_parse_window(text(_range(r, f"STREAM_WIN[{name}]"), f"STREAM_WIN[{name}]"),
                                      f"STREAM_WIN[{name}] window {k + 1}")
                        for k, r in enumerate(ranges))
        pdf = block(f"STREAM_PDF[{name}]")
        if pdf is None:
            raise _Fail(f"[POSITION] has no STREAM_PDF[{name}]")
        tree = block(f"STREAM_TREE[{name}]")
        model = _build_model(pdf, None if tree is None else text(tree, f"STREAM_TREE[{name}]"), table,
                             vector_length=vlen, num_windows=nwin, is_msd=is_msd,
                             what=f"STREAM[{name}]", tree_states=states)
        have = {t.state for t in model.trees}
        if tree is not None and not set(states) <= have:
            raise _Fail(f"STREAM_TREE[{name}] has no tree for state(s) {sorted(set(states) - have)}")
        gv = None
        if use_gv:
            gv_pdf = block(f"GV_PDF[{name}]")
            if gv_pdf is None:
                raise _Fail(f"USE_GV[{name}] is on but [POSITION] has no GV_PDF[{name}]")
            gv_tree = block(f"GV_TREE[{name}]")
            gv = _build_model(gv_pdf, None if gv_tree is None else text(gv_tree, f"GV_TREE[{name}]"), table,
                              vector_length=vlen, num_windows=1, is_msd=False,
                              what=f"GV[{name}]", tree_states=(2,))
        streams.append(HTSStream(name=name, vector_length=vlen, is_msd=is_msd, num_windows=nwin,
                                 use_gv=use_gv, option=option, options=_parse_options(option),
                                 windows=windows, model=model, gv=gv))

    return HTSVoice(
        path=path, version=version, sample_rate_hz=sample_rate, frame_period_samples=frame_period,
        num_states=num_states, stream_types=stream_types,
        fullcontext_format=glob.get("FULLCONTEXT_FORMAT", "").strip(),
        fullcontext_version=glob.get("FULLCONTEXT_VERSION", "").strip(),
        comment=glob.get("COMMENT", "").strip(),
        gv_off_context=gv_off, duration=duration, streams=tuple(streams),
        questions=tuple(table.questions))
