"""VOCALOID3 / VOCALOID4 project reader (``.vsqx``, XML namespaces ``vsq3`` and ``vsq4``).

What is read, and how (see ``../shared/data/FORMATS.md`` section 6):

* ``masterTrack``: ``resolution`` (ticks per quarter; anything but 480 is scaled
  to 480), ``preMeasure`` (bars before the song starts), time signatures
  (``posMes``/``m`` bar index, ``nume``/``nu``, ``denomi``/``de``) and tempos
  (``posTick``/``t``, ``bpm``/``v`` as BPM x 100), ``seqName`` (the title).
* Every position in the file counts the pre-measures; they are taken off (the
  pre-measure length is the length of the first ``preMeasure`` bars), so the song
  starts at tick 0. Notes that would start before 0 are dropped with a warning;
  tempos and signatures before 0 collapse onto tick 0.
* One :class:`~utagoe.model.Track` per ``vsTrack`` that has notes (name from
  ``trackName``/``name``), its notes merged from its parts (``musicalPart`` /
  ``vsPart``: part positions are absolute, note positions relative to the part).
  Lyric ``-`` becomes :data:`~utagoe.model.CONTINUATION`; every other lyric is
  kept as written (English hyphenated syllables such as ``gra-``, the long-vowel
  mark ``ー``). ``phnms``/``p`` become ``Note.phonemes`` (split on spaces).
  VOCALOID's note velocity has no unit shared with utagoe's expressions and is not
  kept. Overlapping notes: the earlier one is shortened (or dropped when both start
  on the same tick), with a warning.
* Pitch: the part controllers ``PIT`` (pitch bend, -8192..8191) and ``PBS`` (bend
  sensitivity in semitones, 0..24, default 2) -- vsq3 ``<mCtrl><posTick/><attr
  id="PIT">``, vsq4 ``<cc><t/><v id="P">`` and ``id="S"`` -- become the track curve
  ``pitd`` in cents, ``PIT / 8192 * PBS * 100``. VOCALOID controllers are steps,
  so a point is put one tick before every change: linear interpolation between
  the points then gives back the steps. Outside the parts the curve is 0.
* Vibrato: a note whose ``vibType`` is not 0 gets ``Note.vibrato`` over its last
  ``vibLen`` % (VOCALOID's own meaning of vibLen). VOCALOID's depth and rate are
  0..127 with no published unit; utagoe uses **approximations**: depth
  ``d`` -> ``d / 127 * 100`` cents of amplitude (the default 64 gives about +-50
  cents), rate ``r`` -> ``4.5 + r / 127 * 3.5`` Hz (4.5..8 Hz; the default 50
  gives about 5.9 Hz). The first value of the ``vibDep``/``vibRate`` sequences is
  used (later changes within the vibrato are not); without a sequence the
  defaults 64 and 50 are assumed.
* Mixer (``vsUnit`` of the track's number): ``vol`` in 0.1 dB -> ``volume_db``,
  ``pan`` 0..128 (64 centre) -> -1..1, ``mute``/``m`` -> ``muted``. The voice the
  part's ``singer`` names (from ``vVoiceTable``) is kept as ``source_singer`` text.

``options.part``: None reads every track with lyrics, an int N the Nth track that
has notes (1-based, file order), a string the track of that name (any case). In a
track with lyrics a note with an empty lyric continues the syllable before it (or is
sung on ``options.default_lyric``); a track without lyrics follows the rule every
reader shares (:func:`utagoe.formats.common.select_tracks`).

Safety: parsed only with :func:`utagoe.formats.xmltree.parse_xml` (no entity
declarations, no external entities, only the elements below are kept, counts
bounded); numbers are bounded by :mod:`utagoe.formats.limits`. Every problem
raises :class:`~utagoe.errors.ScoreFormatError` naming the file and line; with
``lenient=True`` recoverable ones become ``Project.warnings``.

The reader ends, as every reader does, in :func:`utagoe.formats.common.finish`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from ..errors import ScoreFormatError
from ..model.score import Note, Project, Tempo, TimeSignature, TrackCurve, Vibrato
from ..model.units import TICKS_PER_QUARTER
from . import limits
from .common import ReadContext as _Ctx
from .common import (TrackDraft, bar_start_ticks, check_size_and_content, finish,
                     lyric_from_file, step_curve_points, tempo_list)
from .options import ReadOptions
from .xmltree import Elem as _Elem
from .xmltree import parse_xml

#: most pre-measures a file may declare (VOCALOID itself allows 1..8)
MAX_PRE_MEASURES = 1_000
#: VOCALOID's default pitch-bend sensitivity, semitones
DEFAULT_PBS = 2
MAX_PBS = 24
PIT_MIN, PIT_MAX = -8192, 8191
#: vibrato approximations (see the module docstring)
VIB_DEPTH_CENTS_AT_127 = 100.0
VIB_RATE_HZ_AT_0 = 4.5
VIB_RATE_HZ_AT_127 = 8.0
DEFAULT_VIB_DEPTH = 64
DEFAULT_VIB_RATE = 50

_NS = {"vsq3": "http://www.yamaha.co.jp/vocaloid/schema/vsq3/",
       "vsq4": "http://www.yamaha.co.jp/vocaloid/schema/vsq4/"}


@dataclass(frozen=True, slots=True)
class _Tags:
    """Element names of one schema version."""

    part: str
    pos: str
    dur: str
    num: str
    lyric: str
    phonemes: str
    style: str
    style_value: str
    seq: str
    seq_elem: str
    seq_pos: str
    seq_value: str
    track_name: str
    track_no: str
    ts_bar: str
    ts_num: str
    ts_den: str
    tempo_pos: str
    tempo_value: str
    ctrl: str
    ctrl_pos: str
    ctrl_value: str
    pit_id: str
    pbs_id: str
    mute: str
    voice_bs: str
    voice_pc: str
    voice_name: str


_V3 = _Tags(part="musicalPart", pos="posTick", dur="durTick", num="noteNum", lyric="lyric",
            phonemes="phnms", style="noteStyle", style_value="attr", seq="seqAttr",
            seq_elem="elem", seq_pos="posNrm", seq_value="elv", track_name="trackName",
            track_no="vsTrackNo", ts_bar="posMes", ts_num="nume", ts_den="denomi",
            tempo_pos="posTick", tempo_value="bpm", ctrl="mCtrl", ctrl_pos="posTick",
            ctrl_value="attr", pit_id="PIT", pbs_id="PBS", mute="mute", voice_bs="vBS",
            voice_pc="vPC", voice_name="vVoiceName")
_V4 = _Tags(part="vsPart", pos="t", dur="dur", num="n", lyric="y", phonemes="p",
            style="nStyle", style_value="v", seq="seq", seq_elem="cc", seq_pos="p",
            seq_value="v", track_name="name", track_no="tNo", ts_bar="m", ts_num="nu",
            ts_den="de", tempo_pos="t", tempo_value="v", ctrl="cc", ctrl_pos="t",
            ctrl_value="v", pit_id="P", pbs_id="S", mute="m", voice_bs="bs", voice_pc="pc",
            voice_name="name")

#: the only elements kept (both versions); everything else, and all below it, is dropped
_KEEP = frozenset("""
vsq3 vsq4 vVoiceTable vVoice vBS vPC vVoiceName bs pc name mixer vsUnit vsTrackNo tNo
mute m pan vol masterTrack seqName resolution preMeasure timeSig posMes nume denomi nu de
tempo posTick bpm t v vsTrack trackName musicalPart vsPart playTime singer note durTick dur
noteNum n velocity lyric y phnms p noteStyle nStyle attr seqAttr elem posNrm elv seq cc
mCtrl
""".split())
_TEXT = frozenset("""
vBS vPC vVoiceName bs pc name vsTrackNo tNo mute m pan vol seqName resolution preMeasure
posMes nume denomi nu de posTick bpm t v trackName playTime durTick dur noteNum n velocity
lyric y phnms p attr posNrm elv
""".split())

_INT_RE = re.compile(r"^[+-]?[0-9]{1,18}$")
_DECIMAL_RE = re.compile(r"^[+-]?([0-9]{1,18}(\.[0-9]{0,18})?|\.[0-9]{1,18})$")
_DIGITS_RE = re.compile(r"^[0-9]{1,9}$")
_ROOT_RE = re.compile(r"<(?:([A-Za-z_][\w.-]*):)?(vsq[34])[\s>/]")


# --------------------------------------------------------------------------------------
# Small value parsers


def _int_text(el: _Elem | None, what: str, ctx: _Ctx, *, line: int | None = None) -> int:
    """The integer text of ``el``; a bad or missing one raises (``what`` names it)."""
    if el is None:
        raise ctx.error(f"{what} is missing", line)
    t = el.text.strip()
    if _INT_RE.match(t):
        return int(t)
    if _DECIMAL_RE.match(t):
        f = float(t)
        if f.is_integer():
            return int(f)
    raise ctx.error(f"{what} is not an integer: {t[:40]!r}", el.line)


def _number_text(el: _Elem, what: str, ctx: _Ctx) -> float:
    t = el.text.strip()
    if _DECIMAL_RE.match(t):
        f = float(t)
        if math.isfinite(f):
            return f
    raise ctx.error(f"{what} is not a number: {t[:40]!r}", el.line)


def _child_int(el: _Elem, tag: str, what: str, ctx: _Ctx, default: int | None = None) -> int:
    c = el.find(tag)
    if c is None and default is not None:
        return default
    return _int_text(c, what, ctx, line=el.line)


def _ids(el: _Elem | None, tag: str) -> dict[str, _Elem]:
    """Children ``<tag id="...">`` of ``el`` by id (the first of each id wins)."""
    out: dict[str, _Elem] = {}
    if el is None:
        return out
    for c in el.findall(tag):
        i = c.get("id")
        if isinstance(i, str) and i not in out:
            out[i] = c
    return out


# --------------------------------------------------------------------------------------
# Reading the bytes


def sniff(head: bytes) -> bool:
    """Do these first bytes look like a .vsqx (a ``<vsq3`` or ``<vsq4`` root)?"""
    try:
        h = bytes(head[:4096])
        if h.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = h.decode("utf-16", errors="ignore")
        else:
            text = h.decode("latin-1")
        return _ROOT_RE.search(text) is not None
    except Exception:  # a sniffer never raises
        return False


def _looks_binary(data: bytes) -> bool:
    head = data[:1024]
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00<", b"<\x00")):
        return False  # UTF-16
    return b"\x00" in head


def _strip_prefix(root: _Elem, prefix: str) -> None:
    """Drop ``prefix:`` from every tag (a file written with a namespace prefix)."""
    cut = len(prefix) + 1
    todo = [root]
    while todo:
        el = todo.pop()
        if el.tag.startswith(prefix + ":"):
            el.tag = el.tag[cut:]
        todo.extend(el.children)


def read(data: bytes, *, path: str | None = None, options: ReadOptions | None = None) -> Project:
    """Read .vsqx bytes into a Project. The registry's read function.

    ``path`` only names the file in messages and becomes ``Project.source_path``.
    """
    options = options or ReadOptions()
    ctx = _Ctx(path, options.lenient)
    check_size_and_content(data, ctx)
    if _looks_binary(data):
        raise ctx.error("binary data, not a .vsqx (XML) file", 1)
    head = data[:4096].decode("latin-1")
    m = _ROOT_RE.search(head)
    prefix = m.group(1) if m else None
    root_tag = m.group(2) if m else "vsq4"
    keep = _KEEP if not prefix else _KEEP | {f"{prefix}:{t}" for t in _KEEP}
    text_tags = _TEXT if not prefix else _TEXT | {f"{prefix}:{t}" for t in _TEXT}
    note_tag = f"{prefix}:note" if prefix else "note"
    root = parse_xml(data, ctx, keep=keep, text_tags=text_tags, count_tag=note_tag,
                     max_count=limits.MAX_NOTES, max_elements=limits.MAX_XML_ELEMENTS,
                     lenient_root=f"{prefix}:{root_tag}" if prefix else root_tag)
    if prefix:
        _strip_prefix(root, prefix)
    return _interpret(root, ctx, options)


# --------------------------------------------------------------------------------------
# Interpreting the tree


@dataclass(slots=True)
class _Clock:
    """File ticks -> utagoe ticks: scale to 480 per quarter, then take off the pre-measures."""

    resolution: int = TICKS_PER_QUARTER
    pre_ticks: int = 0  # in utagoe ticks

    def scale(self, file_ticks: int) -> int:
        """File ticks to 480-per-quarter ticks (nearest; halves round up)."""
        r = self.resolution
        if r == TICKS_PER_QUARTER:
            return file_ticks
        return (2 * file_ticks * TICKS_PER_QUARTER + r) // (2 * r)

    def song(self, file_ticks: int) -> int:
        """File ticks to song ticks (pre-measures taken off; may be negative)."""
        return self.scale(file_ticks) - self.pre_ticks


def _interpret(root: _Elem, ctx: _Ctx, options: ReadOptions) -> Project:
    if root.tag not in ("vsq3", "vsq4"):
        raise ctx.error(f"not a .vsqx file: the root element is <{root.tag}>, not <vsq3> or "
                        "<vsq4>", root.line)
    tags = _V3 if root.tag == "vsq3" else _V4
    ns = root.get("xmlns")
    if isinstance(ns, str) and ns and ns != _NS[root.tag]:
        ctx.warn(f"unexpected namespace {ns!r} for <{root.tag}>; reading it as {root.tag}",
                 root.line)

    master = root.find("masterTrack")
    if master is None:
        ctx.problem("no <masterTrack>: assuming 480 ticks per quarter, no pre-measures, "
                    "4/4 and 120 bpm", root.line)
    clock = _Clock()
    signatures_by_bar = _read_signatures(master, tags, ctx)
    if master is not None:
        clock.resolution = _read_resolution(master, ctx)
        pre = _read_pre_measures(master, ctx)
        clock.pre_ticks = _bar_to_ticks(pre, signatures_by_bar)
    title = ""
    if master is not None:
        title = " ".join((master.findtext("seqName") or "").split())

    tempos = _read_tempos(master, tags, clock, ctx)
    signatures = _song_signatures(signatures_by_bar, clock.pre_ticks)
    voices = _voice_table(root, tags, ctx)
    mixer = _mixer_units(root, tags, ctx)

    track_els = root.findall("vsTrack")
    if len(track_els) > limits.MAX_TRACKS:
        raise ctx.error(f"{len(track_els)} tracks; the limit is {limits.MAX_TRACKS}")
    if not track_els:
        raise ctx.error("the file has no <vsTrack>", root.line)
    drafts = [_read_track(tel, i, tags, clock, voices, mixer, ctx)
              for i, tel in enumerate(track_els)]
    return finish(ctx, drafts, options, tempos=tempos, time_signatures=signatures,
                  title=title)


def _read_resolution(master: _Elem, ctx: _Ctx) -> int:
    el = master.find("resolution")
    if el is None:
        ctx.warn("no <resolution>; assuming 480 ticks per quarter", master.line)
        return TICKS_PER_QUARTER
    try:
        r = _int_text(el, "<resolution>", ctx)
        if not limits.MIN_RESOLUTION <= r <= limits.MAX_RESOLUTION:
            raise ctx.error(f"<resolution> {r} is out of range ({limits.MIN_RESOLUTION}.."
                            f"{limits.MAX_RESOLUTION} ticks per quarter)", el.line)
    except ScoreFormatError as e:
        ctx.problem(f"{e.message}; assuming 480", el.line)
        return TICKS_PER_QUARTER
    if r != TICKS_PER_QUARTER:
        ctx.warn(f"resolution {r} ticks per quarter; positions scaled to 480", el.line)
    return r


def _read_pre_measures(master: _Elem, ctx: _Ctx) -> int:
    el = master.find("preMeasure")
    if el is None:
        ctx.warn("no <preMeasure>; assuming none", master.line)
        return 0
    try:
        pre = _int_text(el, "<preMeasure>", ctx)
        if not 0 <= pre <= MAX_PRE_MEASURES:
            raise ctx.error(f"<preMeasure> {pre} is out of range (0..{MAX_PRE_MEASURES})",
                            el.line)
    except ScoreFormatError as e:
        ctx.problem(f"{e.message}; assuming no pre-measures", el.line)
        return 0
    return pre


def _read_signatures(master: _Elem | None, tags: _Tags,
                     ctx: _Ctx) -> list[tuple[int, int, int]]:
    """(bar, numerator, denominator) sorted by bar, the first at bar 0."""
    by_bar: dict[int, tuple[int, int]] = {}
    for el in (master.findall("timeSig") if master is not None else ()):
        try:
            bar = _child_int(el, tags.ts_bar, "time signature bar", ctx)
            num = _child_int(el, tags.ts_num, "time signature numerator", ctx)
            den = _child_int(el, tags.ts_den, "time signature denominator", ctx)
            if not 0 <= bar <= limits.MAX_TICKS // 30:
                raise ctx.error(f"time signature at bar {bar}: bar out of range", el.line)
            if not 1 <= num <= 255:
                raise ctx.error(f"time signature numerator {num} out of range (1..255)",
                                el.line)
            if den not in (1, 2, 4, 8, 16, 32, 64):
                raise ctx.error(f"time signature denominator {den} is not 1, 2, 4 ... 64",
                                el.line)
        except ScoreFormatError as e:
            ctx.problem(f"{e.message}; time signature ignored", el.line)
            continue
        by_bar[bar] = (num, den)
    out = sorted((b, n, d) for b, (n, d) in by_bar.items())
    if not out or out[0][0] != 0:
        if master is not None:
            ctx.warn("no time signature at the first bar; assuming 4/4", master.line)
        out.insert(0, (0, 4, 4))
    return out


def _bar_ticks(num: int, den: int) -> int:
    return num * TICKS_PER_QUARTER * 4 // den


def _bar_to_ticks(bar: int, signatures: list[tuple[int, int, int]]) -> int:
    """Song-clock ticks (480/quarter, pre-measures included) where ``bar`` starts."""
    tick = 0
    for i, (b, num, den) in enumerate(signatures):
        nxt = signatures[i + 1][0] if i + 1 < len(signatures) else None
        if nxt is None or bar <= nxt:
            return tick + (bar - b) * _bar_ticks(num, den)
        tick += (nxt - b) * _bar_ticks(num, den)
    return tick  # pragma: no cover - the loop always returns


def _song_signatures(signatures: list[tuple[int, int, int]],
                     pre_ticks: int) -> tuple[TimeSignature, ...]:
    out: list[TimeSignature] = []
    for (b, num, den), start in zip(signatures, bar_start_ticks(signatures)):
        tick = max(0, start - pre_ticks)
        if tick > limits.MAX_TICKS:
            break
        if out and out[-1].tick == tick:
            out[-1] = TimeSignature(tick, num, den)
        elif not out or (out[-1].numerator, out[-1].denominator) != (num, den):
            out.append(TimeSignature(tick, num, den))
    return tuple(out) or (TimeSignature(0, 4, 4),)


def _read_tempos(master: _Elem | None, tags: _Tags, clock: _Clock,
                 ctx: _Ctx) -> tuple[Tempo, ...]:
    events: list[tuple[int, float, int | None]] = []
    for el in (master.findall("tempo") if master is not None else ()):
        try:
            pos = _child_int(el, tags.tempo_pos, "tempo position", ctx)
            vel = el.find(tags.tempo_value)
            if vel is None:
                raise ctx.error("tempo without a value", el.line)
            bpm = _number_text(vel, "tempo", ctx) / 100.0
            if not limits.bpm_ok(bpm):
                raise ctx.error(f"tempo {bpm:g} bpm is out of range ({limits.MIN_BPM:g}.."
                                f"{limits.MAX_BPM:g})", el.line)
            if not 0 <= pos <= limits.MAX_TICKS * 64:
                raise ctx.error(f"tempo position {pos} is out of range", el.line)
        except ScoreFormatError as e:
            ctx.problem(f"{e.message}; tempo ignored", el.line)
            continue
        events.append((clock.song(pos), bpm, el.line))
    return tempo_list(((max(0, tick), bpm, line) for tick, bpm, line in events), ctx,
                      warn_missing=master is not None)


def _voice_table(root: _Elem, tags: _Tags, ctx: _Ctx) -> dict[tuple[int, int], str]:
    """(bank select, program change) -> voice name, from ``vVoiceTable``."""
    out: dict[tuple[int, int], str] = {}
    table = root.find("vVoiceTable")
    if table is None:
        return out
    for v in table.findall("vVoice"):
        try:
            key = (_child_int(v, tags.voice_bs, "voice bank", ctx),
                   _child_int(v, tags.voice_pc, "voice program", ctx))
        except ScoreFormatError:
            continue  # only used to name the singer; not worth a warning
        name = " ".join((v.findtext(tags.voice_name) or "").split())
        if name and key not in out:
            out[key] = name
    return out


@dataclass(frozen=True, slots=True)
class _Mix:
    volume_db: float = 0.0
    pan: float = 0.0
    muted: bool = False


def _mixer_units(root: _Elem, tags: _Tags, ctx: _Ctx) -> dict[int, _Mix]:
    out: dict[int, _Mix] = {}
    mixer = root.find("mixer")
    if mixer is None:
        return out
    for u in mixer.findall("vsUnit"):
        try:
            no = _child_int(u, tags.track_no, "mixer track number", ctx)
            vol = _child_int(u, "vol", "mixer volume", ctx, default=0)
            pan = _child_int(u, "pan", "mixer pan", ctx, default=64)
            mute = _child_int(u, tags.mute, "mixer mute", ctx, default=0)
        except ScoreFormatError as e:
            ctx.problem(f"{e.message}; mixer settings of this track ignored", u.line)
            continue
        vol_db = vol / 10.0
        if not -200.0 <= vol_db <= 60.0:
            ctx.problem(f"mixer volume {vol} (0.1 dB) is out of range; using 0 dB", u.line)
            vol_db = 0.0
        if not 0 <= pan <= 128:
            ctx.problem(f"mixer pan {pan} is out of range (0..128); using the centre", u.line)
            pan = 64
        if no not in out:
            out[no] = _Mix(volume_db=vol_db, pan=max(-1.0, min(1.0, (pan - 64) / 64.0)),
                           muted=mute != 0)
    return out


def _read_track(tel: _Elem, index: int, tags: _Tags, clock: _Clock,
                voices: dict[tuple[int, int], str], mixer: dict[int, _Mix],
                ctx: _Ctx) -> TrackDraft:
    name = " ".join((tel.findtext(tags.track_name) or "").split()) or f"Track {index + 1}"
    draft = TrackDraft(name=name, line=tel.line)
    no_el = tel.find(tags.track_no)
    no = index
    if no_el is not None:
        try:
            no = _int_text(no_el, "track number", ctx)
        except ScoreFormatError:
            no = index
    mix = mixer.get(no)
    if mix is not None:
        draft.volume_db, draft.pan, draft.muted = mix.volume_db, mix.pan, mix.muted

    before_zero = 0
    count = 0
    changes: list[tuple[int, int, float]] = []  # (song tick, order, cents)
    order = 0
    for pel in tel.findall(tags.part):
        try:
            part_pos = _child_int(pel, tags.pos, "part position", ctx)
            if not 0 <= part_pos <= limits.MAX_TICKS * 64:
                raise ctx.error(f"part position {part_pos} is out of range", pel.line)
        except ScoreFormatError as e:
            ctx.problem(f"{e.message}; part ignored", pel.line)
            continue
        if not draft.source_singer:
            draft.source_singer = _part_singer(pel, tags, voices, ctx)
        part_end = part_pos
        for nel in pel.findall("note"):
            count += 1
            note, end = _read_note(nel, count, name, part_pos, tags, clock, ctx)
            if end is not None:
                part_end = max(part_end, end)
            if note == _EARLY:
                before_zero += 1
                continue
            if isinstance(note, Note):
                draft.notes.append(note)
        play = pel.find("playTime")
        if play is not None:
            try:
                length = _int_text(play, "part length <playTime>", ctx)
                if 0 < length <= limits.MAX_TICKS * 64:
                    part_end = max(part_end, part_pos + length)
            except ScoreFormatError:
                pass  # the notes say how long the part is
        for tick, cents in _part_pitch(pel, tags, part_pos, part_end, ctx):
            changes.append((clock.song(tick), order, cents))
            order += 1
    if before_zero:
        ctx.warn(f"track {name!r}: {before_zero} note(s) before the end of the pre-measures "
                 "dropped", tel.line)
    if changes and any(c for _t, _o, c in changes):
        changes.sort()
        pts = step_curve_points([(max(0, t), c) for t, _o, c in changes])
        if len(pts) > limits.MAX_CURVE_POINTS:
            raise ctx.error(f"track {name!r}: the pitch curve has more than "
                            f"{limits.MAX_CURVE_POINTS} points", tel.line)
        if pts and pts[-1][0] > limits.MAX_TICKS:
            raise ctx.error(f"track {name!r}: pitch-bend events beyond the limit of "
                            f"{limits.MAX_TICKS} ticks", tel.line)
        draft.curves.append(TrackCurve("pitd", tuple(t for t, _ in pts),
                                       tuple(v for _, v in pts)))
    return draft


def _part_singer(pel: _Elem, tags: _Tags, voices: dict[tuple[int, int], str],
                 ctx: _Ctx) -> str:
    s = pel.find("singer")
    if s is None:
        return ""
    try:
        key = (_child_int(s, tags.voice_bs, "singer bank", ctx),
               _child_int(s, tags.voice_pc, "singer program", ctx))
    except ScoreFormatError:
        return ""
    return voices.get(key, "")


#: what _read_note gives for a note that starts in the pre-measures
_EARLY: Literal["early"] = "early"


def _read_note(nel: _Elem, k: int, track: str, part_pos: int, tags: _Tags, clock: _Clock,
               ctx: _Ctx) -> tuple[Note | Literal["early"] | None, int | None]:
    """One note (None: dropped, lenient) and its end in file ticks (None: unknown)."""
    source = f"note {k} of track {track!r} (line {nel.line})"
    try:
        pos = _child_int(nel, tags.pos, "note position", ctx)
        dur = _child_int(nel, tags.dur, "note duration", ctx)
        pitch = _child_int(nel, tags.num, "note number", ctx)
        if not 0 <= pos <= limits.MAX_TICKS * 64:
            raise ctx.error(f"note position {pos} is out of range", nel.line)
        if not 0 < dur <= limits.MAX_TICKS * 64:
            raise ctx.error(f"note duration {dur} is out of range (must be > 0)", nel.line)
        if not limits.MIN_PITCH <= pitch <= limits.MAX_PITCH:
            raise ctx.error(f"note number {pitch} is outside the MIDI range 0..127", nel.line)
        start = clock.song(part_pos + pos)
        end = clock.song(part_pos + pos + dur)
        if end > limits.MAX_TICKS:
            raise ctx.error(f"note ends at tick {end}, beyond the limit of {limits.MAX_TICKS}",
                            nel.line)
        if end <= start:
            raise ctx.error("note is shorter than one tick at 480 per quarter", nel.line)
    except ScoreFormatError as e:
        ctx.problem(f"{source}: {e.message}; note dropped", nel.line)
        return None, None
    if start < 0:
        return _EARLY, part_pos + pos + dur
    lyric = lyric_from_file(nel.findtext(tags.lyric) or "")
    phonemes = tuple((nel.findtext(tags.phonemes) or "").split())
    vibrato = _note_vibrato(nel.find(tags.style), tags, source, ctx)
    note = Note(start_ticks=start, duration_ticks=end - start, pitch=pitch, lyric=lyric,
                source=source, vibrato=vibrato, phonemes=phonemes)
    return note, part_pos + pos + dur


def _bounded(value: int, lo: int, hi: int, what: str, el: _Elem, ctx: _Ctx) -> int:
    if lo <= value <= hi:
        return value
    ctx.problem(f"{what} {value} is out of range ({lo}..{hi}); clamped", el.line)
    return max(lo, min(hi, value))


def _note_vibrato(style: _Elem | None, tags: _Tags, source: str, ctx: _Ctx) -> Vibrato | None:
    """The note's vibrato (see the module docstring for the approximations)."""
    if style is None:
        return None
    values = _ids(style, tags.style_value)
    vtype = values.get("vibType")
    if vtype is None:
        return None
    try:
        kind = _int_text(vtype, "vibType", ctx)
        if kind == 0:
            return None
        vlen = values.get("vibLen")
        length = _int_text(vlen, "vibLen", ctx) if vlen is not None else 0
        length = _bounded(length, 0, 100, "vibLen", vlen if vlen is not None else style, ctx)
        seqs = _ids(style, tags.seq)
        depth = _first_seq_value(seqs.get("vibDep"), tags, DEFAULT_VIB_DEPTH, ctx)
        rate = _first_seq_value(seqs.get("vibRate"), tags, DEFAULT_VIB_RATE, ctx)
    except ScoreFormatError as e:
        ctx.problem(f"{source}: {e.message}; vibrato ignored", e.line)
        return None
    rate_hz = VIB_RATE_HZ_AT_0 + rate / 127.0 * (VIB_RATE_HZ_AT_127 - VIB_RATE_HZ_AT_0)
    return Vibrato(length_pct=float(length), period_ms=1000.0 / rate_hz,
                   depth_cents=depth / 127.0 * VIB_DEPTH_CENTS_AT_127)


def _first_seq_value(seq: _Elem | None, tags: _Tags, default: int, ctx: _Ctx) -> int:
    if seq is None:
        return default
    best: tuple[int, int] | None = None
    for e in seq.findall(tags.seq_elem):
        pos_el = e.find(tags.seq_pos)
        pos = _int_text(pos_el, "vibrato sequence position", ctx) if pos_el is not None else 0
        val = _int_text(e.find(tags.seq_value), "vibrato sequence value", ctx, line=e.line)
        val = _bounded(val, 0, 127, "vibrato depth/rate", e, ctx)
        if best is None or pos < best[0]:
            best = (pos, val)
    return default if best is None else best[1]


def _part_pitch(pel: _Elem, tags: _Tags, part_pos: int, part_end: int,
                ctx: _Ctx) -> list[tuple[int, float]]:
    """The part's pitch bend as (file tick, cents) changes, ending with 0 at the part end."""
    events: list[tuple[int, int, str, int]] = []
    for k, c in enumerate(pel.findall(tags.ctrl)):
        vals = [v for v in c.findall(tags.ctrl_value) if v.get("id") in (tags.pit_id,
                                                                         tags.pbs_id)]
        if not vals:
            continue
        try:
            t = _child_int(c, tags.ctrl_pos, "controller position", ctx)
            if not 0 <= t <= limits.MAX_TICKS * 64:
                raise ctx.error(f"controller position {t} is out of range", c.line)
            for v in vals:
                kind = v.get("id")
                value = _int_text(v, f"controller {kind}", ctx)
                if kind == tags.pit_id:
                    value = _bounded(value, PIT_MIN, PIT_MAX, "pitch bend (PIT)", v, ctx)
                else:
                    value = _bounded(value, 0, MAX_PBS, "bend sensitivity (PBS)", v, ctx)
                events.append((t, k, "pit" if kind == tags.pit_id else "pbs", value))
        except ScoreFormatError as e:
            ctx.problem(f"{e.message}; controller ignored", c.line)
    if not events:
        return []
    events.sort()
    pit, pbs = 0, DEFAULT_PBS
    out: list[tuple[int, float]] = [(part_pos, 0.0)]
    for t, _k, kind, value in events:
        if kind == "pit":
            pit = value
        else:
            pbs = value
        out.append((part_pos + t, pit / 8192.0 * pbs * 100.0))
    end = max(part_end, out[-1][0] + 1)
    out.append((end, 0.0))
    return out
