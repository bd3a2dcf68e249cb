"""Which oto.ini alias sings each note: Japanese lyrics to CV, VCV and CVVC aliases.

:func:`resolve_phrase` takes one phrase's notes, each with the phonemizer's
reading of its lyric (Sinsy phonemes, :mod:`utagoe.lyrics.ja`), and finds for
every sung syllable the best entry the bank has, trying in order (each
candidate first decorated with the note's ``prefix + alias + suffix`` from
:meth:`Voicebank.affixes`, then as it is):

0. the lyric exactly as written, when it is not a plain kana or romaji
   reading (users type aliases: ``a か``, ``- か``, ``あC4``, ``breath``); it then
   sings the whole note;
1. VCV from the vowel before (``a か``, ``a ka``; ``n`` after ん), or at a
   phrase's start (or after っ) ``- か``, ``-か``, ``- ka``;
2. CV: the lyric as written (a plain reading such as ``ぢ``), hiragana,
   katakana, romaji (Hepburn as voicebanks write it: ``shi chi tsu fu ji``,
   then kunrei ``si ti tu hu zi``); for ん ``ん``, ``n``, ``N``;
3. the phrase-start form ``- か`` in the middle of a phrase;
4. VCV from another vowel (``o ん`` where the bank lacks ``a ん``);
5. the vowel alone: ``a あ`` (after a), ``あ``, ``ア``, ``a``, ``- あ``, then the
   vowel after any other vowel (``u え``), as a VCV bank records it.

A note that only falls back is reported (one warning per distinct lyric and
alias used, with its notes): any note sung from another vowel or on its bare
vowel, and in a VCV bank
(one with aliases such as ``a か``) any note that did not get a VCV alias. A
note for which nothing is found, not even its vowel, raises
:class:`~.voicebank.VoicebankError` listing what was tried.

Tails (:attr:`NoteAliases.tail`):

* **CVVC**: where the bank has VC aliases (``a k``) and the next note of the
  phrase starts with a consonant and was not sung as VCV, the note ends in the VC
  link ``{vowel} {consonant}`` (``a ky``, else ``a k``), decorated for the note's
  pitch. If continuation notes follow the note, the link belongs at the end of
  the last of them.
* **Endings**: the last sung note of the phrase (the last one that is not a
  continuation, or the one before a note marked ``phrase_start``) ends in the
  first of ``a R``, ``a -``, ``a-``, ``aR``, ``あ R``, ``-`` that exists;
  endings are optional, so none is no warning.

A syllable ``っ`` (``cl``) sings nothing: a note that is only っ has no parts,
and the syllable after it starts afresh (``- か``).
"""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from ...lyrics.ja import KANA_PHONEMES, katakana_to_hiragana, romaji_to_kana
from .voicebank import OtoEntry, Voicebank, VoicebankError

__all__ = ["AliasRequest", "NoteAliases", "resolve_phrase", "syllable_forms"]


@dataclass(frozen=True, slots=True)
class AliasRequest:
    """One note of a phrase as the resolver needs it."""

    #: as written in the project
    lyric: str
    #: MIDI note number
    pitch: int
    #: the phonemizer's reading, e.g. (("k", "a"),); () for a continuation note
    syllables: tuple[tuple[str, ...], ...]
    #: melisma: holds the previous sample; never resolved
    continuation: bool = False
    #: the first sung note after a rest
    phrase_start: bool = False
    #: how messages name the note (default: "note N", N counting from 1 in the request list)
    label: str = ""


@dataclass(frozen=True, slots=True)
class NoteAliases:
    """The entries that sing one note."""

    #: one per syllable sung on the note, in order (usually one; none for っ)
    parts: tuple[OtoEntry, ...]
    #: a CVVC link (``a k``) into the next note's consonant, or an ending (``a R``)
    #: after a phrase's last note; None where the bank has none
    tail: OtoEntry | None
    #: aliases looked up and missing before the ones used
    tried: tuple[str, ...]


# --------------------------------------------------------------------------- syllable spellings

def _inverse_kana() -> dict[tuple[str, ...], str]:
    out: dict[tuple[str, ...], str] = {}
    for kana, ph in KANA_PHONEMES.items():
        out.setdefault(ph, kana)     # the table lists plain kana before small and rare ones
    return out


#: Sinsy phonemes of one syllable -> the plain hiragana that sings them
PHONEMES_KANA: Mapping[tuple[str, ...], str] = MappingProxyType(_inverse_kana())
#: a vowel (and ん) as it follows in a VCV alias: "a か", "n か"
_VOWEL_ROMAJI = MappingProxyType({"a": "a", "i": "i", "u": "u", "e": "e", "o": "o", "N": "n"})
_VOWEL_KANA = MappingProxyType({"a": "あ", "i": "い", "u": "う", "e": "え", "o": "お", "N": "ん"})
_KUNREI = MappingProxyType({
    "shi": "si", "chi": "ti", "tsu": "tu", "fu": "hu", "ji": "zi",
    "sha": "sya", "shu": "syu", "sho": "syo", "she": "sye",
    "cha": "tya", "chu": "tyu", "cho": "tyo", "che": "tye",
    "ja": "zya", "ju": "zyu", "jo": "zyo", "je": "zye",
})
#: a VC link's consonant when the bank lacks the exact one ("a ky" -> "a k")
_VC_FALLBACK = MappingProxyType({
    "ky": "k", "gy": "g", "ny": "n", "hy": "h", "my": "m", "ry": "r", "by": "b", "py": "p",
    "dy": "d", "ty": "t", "sh": "s", "ch": "t", "ts": "t", "f": "h", "v": "b",
})
_SILENT = "cl"
#: probes for the bank's style (VCV: "a か"; CVVC: "a k")
_PROBE_CV = ("か", "さ", "た", "な", "ま", "ら", "ka", "sa", "ta", "na")
_PROBE_C = ("k", "s", "t", "n", "m", "r", "g", "h")

# levels of a found form (lower is better)
_EXACT, _VCV, _CV, _DASH, _OTHER, _VOWEL = range(6)


def _katakana(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if 0x3041 <= ord(c) <= 0x3096 else c for c in text)


@dataclass(frozen=True, slots=True)
class _Syl:
    phonemes: tuple[str, ...]
    kana: str                 # "" where no kana spells it
    romaji: tuple[str, ...]   # the usual spelling first
    nucleus: str              # a i u e o N cl

    @property
    def consonant(self) -> str:
        return self.phonemes[0] if len(self.phonemes) > 1 else ""


def syllable_forms(phonemes: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """(hiragana, romaji spellings) of one syllable of Sinsy phonemes:
    ("sh", "i") -> ("し", ("shi", "si")); ("N",) -> ("ん", ("n", "N"))."""
    ph = tuple(phonemes)
    kana = PHONEMES_KANA.get(ph, "")
    if ph == ("N",):
        return kana, ("n", "N")
    main = "".join(ph)
    alt = _KUNREI.get(main)
    return kana, (main, alt) if alt else (main,)


def _syl(phonemes: tuple[str, ...]) -> _Syl:
    kana, romaji = syllable_forms(phonemes)
    return _Syl(phonemes, kana, romaji, phonemes[-1] if phonemes else _SILENT)


def _is_plain_reading(lyric: str) -> bool:
    """Is the lyric only kana or only romaji (no spaces, no decorations)?"""
    t = unicodedata.normalize("NFKC", lyric).strip()
    if not t or any(c.isspace() for c in t):
        return False
    h = katakana_to_hiragana(t)
    if all(0x3041 <= ord(c) <= 0x3096 or c == "ー" for c in h):
        return True
    if t.isascii() and t.isalpha():
        try:
            romaji_to_kana(t)
        except ValueError:
            return False
        return True
    return False


def _dedupe(items: list[tuple[str, int]]) -> list[tuple[str, int]]:
    seen: set[str] = set()
    out = []
    for text, level in items:
        if text and text not in seen:
            seen.add(text)
            out.append((text, level))
    return out


def _candidates(syl: _Syl, before: str, written: str) -> list[tuple[str, int]]:
    """(alias, level) in the order tried; ``before`` is the vowel before ("a" .. "n"),
    or "-" at a phrase's start."""
    k, r = syl.kana, syl.romaji[0]
    out: list[tuple[str, int]] = []
    if syl.nucleus == "N":
        cv = ["ん", "ン", "n", "N"]
    else:
        cv = [k, _katakana(k), *syl.romaji]
    if written:
        cv.insert(0, written)
    dash = [f"- {k}" if k else "", f"-{k}" if k else "", f"- {r}"]
    if before == "-":
        out += [(a, _VCV) for a in dash]
    else:
        out += [(f"{before} {k}" if k else "", _VCV), (f"{before} {r}", _VCV)]
    out += [(a, _CV) for a in cv]
    if before != "-":
        out += [(a, _DASH) for a in dash]
    if k:
        out += [(f"{x} {k}", _OTHER) for x in "aiueon" if x != before]
    vk = _VOWEL_KANA.get(syl.nucleus, "")
    vr = _VOWEL_ROMAJI.get(syl.nucleus, "")
    if vk:
        vdash = [f"- {vk}", f"-{vk}", f"- {vr}"]
        bare = [vk, _katakana(vk), vr]
        if before == "-":
            out += [(a, _VOWEL) for a in (*vdash, *bare)]
        else:
            out += [(a, _VOWEL) for a in (f"{before} {vk}", f"{before} {vr}", *bare, *vdash)]
        # last: the vowel as a VCV bank records it after any other vowel ("a え")
        out += [(f"{x} {vk}", _VOWEL) for x in "aiueon" if x != before]
    return _dedupe(out)


# --------------------------------------------------------------------------- looking up

class _Finder:
    """Looks aliases up in a bank, decorated for a pitch first, and counts what was missing."""

    def __init__(self, bank: Voicebank, color: str) -> None:
        self.bank = bank
        self.color = color

    def find(self, cands: Sequence[tuple[str, int]], pitch: int
             ) -> tuple[OtoEntry | None, str, int, list[str]]:
        """(entry, alias used, level, aliases tried and missing before it)."""
        pre, suf = self.bank.affixes(pitch, self.color)
        tried: list[str] = []
        seen: set[str] = set()
        for core, level in cands:
            for alias in ((pre + core + suf, core) if (pre or suf) else (core,)):
                if alias in seen:
                    continue
                seen.add(alias)
                e = self.bank.get(alias)
                if e is not None:
                    return e, alias, level, tried
                tried.append(alias)
        return None, "", -1, tried


def _affix_pairs(bank: Voicebank) -> list[tuple[str, str]]:
    pairs = {("", "")}
    pairs.update((sb.prefix, sb.suffix) for sb in bank.subbanks)
    pairs.update(bank.prefix_map.values())
    return sorted(pairs)


def _bank_style(bank: Voicebank) -> tuple[bool, bool]:
    """(has VCV aliases like "a か", has VC aliases like "a k")."""
    pairs = _affix_pairs(bank)

    def any_of(cores: list[str]) -> bool:
        return any(bank.get(p + c + s) is not None for c in cores for p, s in pairs)

    vcv = any_of([f"{v} {c}" for v in "aiueo" for c in _PROBE_CV])
    vc = any_of([f"{v} {c}" for v in "aiueo" for c in _PROBE_C])
    return vcv, vc


# --------------------------------------------------------------------------- the phrase

@dataclass(slots=True)
class _Sung:
    """What the tails need to know of a sung note."""

    index: int
    last_vowel: str = ""       # romaji of the last sounding nucleus ("" if none)
    ends_silent: bool = False  # the note ends in っ
    first_consonant: str = ""  # of its first sounding syllable
    first_level: int = -1      # level of its first part (-1: no part)


@dataclass(slots=True)
class _Report:
    lyric: str
    used: str
    tried: tuple[str, ...]
    notes: list[str]


def _show(aliases: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(repr(a) for a in aliases[:limit])
    if len(aliases) > limit:
        shown += f" and {len(aliases) - limit} more"
    return shown


def _notes_text(notes: list[str], limit: int = 5) -> str:
    text = ", ".join(notes[:limit])
    if len(notes) > limit:
        text += f" and {len(notes) - limit} more"
    return f"{len(notes)} notes: {text}" if len(notes) > 1 else text


def _group(reports: list[_Report]) -> list[_Report]:
    """One report per lyric and alias used (the first note's tries stand for all)."""
    groups: dict[tuple[str, str], _Report] = {}
    for r in reports:
        key = (r.lyric, r.used)
        if key in groups:
            groups[key].notes.extend(r.notes)
        else:
            groups[key] = _Report(r.lyric, r.used, r.tried, list(r.notes))
    return list(groups.values())


def resolve_phrase(bank: Voicebank, notes: Sequence[AliasRequest], *, color: str = "",
                   where: str = "") -> tuple[list[NoteAliases | None], list[str]]:
    """The entries that sing each note of one phrase (None for continuation notes),
    and the warnings about fallbacks; see the module doc. Raises VoicebankError
    naming every note the bank has nothing for."""
    head = f"{where}: " if where else ""
    finder = _Finder(bank, color)
    vcv_bank, vc_bank = _bank_style(bank)
    results: list[NoteAliases | None] = [None] * len(notes)
    sung: list[_Sung] = []
    fallbacks: list[_Report] = []
    failures: list[_Report] = []
    before = "-"
    for i, req in enumerate(notes):
        if req.continuation:
            continue
        label = req.label or f"note {i + 1}"
        if req.phrase_start or not sung:
            before = "-"
        info = _Sung(i)
        sylls = [_syl(tuple(s)) for s in req.syllables if s]
        sounding = [s for s in sylls if s.nucleus != _SILENT]
        parts: list[OtoEntry] = []
        tried: list[str] = []
        written = req.lyric.strip()
        exact = None
        if sounding and written and not _is_plain_reading(written):
            cands = _dedupe([(req.lyric, _EXACT), (written, _EXACT)])
            exact, used, _, t = finder.find(cands, req.pitch)
            tried += t
            if exact is not None:
                parts.append(exact)
                info.first_level = _VCV if " " in written else _CV
                info.first_consonant = sounding[0].consonant
        if exact is None:
            # a plain one-syllable reading as written ("ぢ", "KA") is the first CV form
            as_written = written if len(sylls) == 1 and _is_plain_reading(written) else ""
            for syl in sylls:
                if syl.nucleus == _SILENT:
                    before = "-"      # after a stop the next syllable starts afresh
                    continue
                cands = _candidates(syl, before, as_written)
                entry, used, level, t = finder.find(cands, req.pitch)
                if entry is None:
                    failures.append(_Report(req.lyric, "", tuple(t), [label]))
                else:
                    if not parts:
                        info.first_level = level
                        info.first_consonant = syl.consonant
                    parts.append(entry)
                    tried += t
                    if level >= _OTHER or (vcv_bank and level > _VCV):
                        fallbacks.append(_Report(req.lyric, used, tuple(t), [label]))
                before = _VOWEL_ROMAJI.get(syl.nucleus, "-")
        else:
            for syl in sylls:
                before = "-" if syl.nucleus == _SILENT else _VOWEL_ROMAJI.get(syl.nucleus, "-")
        last = sounding[-1] if sounding else None
        info.last_vowel = _VOWEL_ROMAJI.get(last.nucleus, "") if last is not None else ""
        info.ends_silent = bool(sylls) and sylls[-1].nucleus == _SILENT
        results[i] = NoteAliases(tuple(parts), None, tuple(tried))
        sung.append(info)

    if failures:
        groups = _group(failures)
        title = (f"{head}the voicebank {bank.name!r} ({bank.root}) has nothing to sing "
                 f"{len(failures)} note(s) with:")
        lines = [title]
        for g in groups[:30]:
            lines.append(f"  {g.lyric!r} ({_notes_text(g.notes)}): tried {_show(g.tried, 8)}")
        if len(groups) > 30:
            lines.append(f"  ... and {len(groups) - 30} more lyrics")
        raise VoicebankError("\n".join(lines))

    # tails: CVVC links and endings
    for k, info in enumerate(sung):
        res = results[info.index]
        if res is None or not res.parts or not info.last_vowel:
            continue
        nxt = sung[k + 1] if k + 1 < len(sung) else None
        pitch = notes[info.index].pitch
        v = info.last_vowel
        tail = None
        if nxt is None or notes[nxt.index].phrase_start:
            if not info.ends_silent:
                vk = _VOWEL_KANA.get("N" if v == "n" else v, "")
                cands = [(f"{v} R", 0), (f"{v} -", 0), (f"{v}-", 0), (f"{v}R", 0),
                         (f"{vk} R", 0), ("-", 0)]
                tail = finder.find(_dedupe(cands), pitch)[0]
        elif vc_bank and nxt.first_consonant and nxt.first_level > _VCV:
            c = nxt.first_consonant
            cands = [(f"{v} {c}", 0)]
            if c in _VC_FALLBACK:
                cands.append((f"{v} {_VC_FALLBACK[c]}", 0))
            tail = finder.find(cands, pitch)[0]
        if tail is not None:
            results[info.index] = replace(res, tail=tail)

    warnings = []
    for g in _group(fallbacks):
        warnings.append(f"{head}{g.lyric!r} ({_notes_text(g.notes)}): the voicebank has none of "
                        f"{_show(g.tried)}; sang {g.used!r} instead.")
    return results, warnings
