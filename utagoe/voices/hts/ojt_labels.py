"""Open JTalk full-context labels for our phonemes (the HTS speech voice ``mei``).

HTS voices trained on Open JTalk's output (``mei_normal.htsvoice``) ask their
decision trees about labels in Open JTalk's format, one per phoneme (written
here without times)::

    p1^p2-p3+p4=p5/A:a1+a2+a3/B:b1-b2_b3/C:c1_c2+c3/D:d1+d2_d3
    /E:e1_e2!e3_e4-e5/F:f1_f2#f3_f4@f5_f6|f7_f8/G:g1_g2%g3_g4_g5
    /H:h1_h2/I:i1-i2@i3+i4&i5-i6|i7+i8/J:j1_j2/K:k1+k2-k3

``xx`` marks a field that does not apply. The fields, as Open JTalk fills them:

* **p** -- the phonemes two before .. two after the current one (``sil`` at the
  utterance's edges, ``pau`` between breath groups).
* **A** -- the current mora: a1 its position in its accent phrase minus the
  accent type (an accent type 0, flat, counts as the phrase's length), a2 / a3
  its position from the front / back of the accent phrase.
* **B / C / D** -- part of speech, conjugation type and form of the previous /
  current / next word.
* **E / F / G** -- previous / current / next accent phrase: number of morae,
  accent type, interrogative flag, an unused field (``0``); e5 / g5 whether no
  pause separates it from the current one (1) or a pause does (0); f5 / f6 the
  accent phrase's position in its breath group from the front / back, f7 / f8
  the position of its first mora in the breath group from the front / back.
* **H / I / J** -- previous / current / next breath group: number of accent
  phrases and morae; i3 / i4 its position in the utterance from the front /
  back, i5 / i6 the position of its first accent phrase, i7 / i8 of its first
  mora, in the utterance from the front / back.
* **K** -- the utterance: breath groups, accent phrases, morae.

A pause (``sil``, ``pau``) has no mora, word, accent phrase or breath group
of its own: A, C, F and I are ``xx``; B / D, E / G and H / J describe what
lies on either side of it (e5 / g5 ``xx``).

What we choose where a song has no text
---------------------------------------
Lyrics written in kana carry no words, accents or sentences, so the prosodic
fields are ours to choose; mei is asked to *speak* our phonemes in a steady
way, and our own pitch curve sings them.

* **Phonemes.** Our Japanese phonemizer's symbols (Sinsy's set) are all in
  mei's inventory (:data:`OJT_PHONEMES`, read from the voice's questions:
  vowels, devoiced vowels ``A I U E O``, ``N``, ``cl``, ``pau``, ``sil`` and the
  consonants); :func:`ojt_symbol` maps them (the identity today) and refuses a
  symbol mei does not know. Sung vowels are never devoiced.
* **Pauses.** A run of rests (a phrase's trailing ``pau`` and the next phrase's
  leading one) is one pause: every part of it gets the same label, and the
  phonemes around it see one pause symbol. Rests before the first / after the
  last sung phoneme are ``sil``, the others ``pau``.
* **Breath groups.** Each phrase between rests is a breath group (a singer
  breathes there); phrase boundaries always start a new one.
* **Morae.** A mora is one of our syllables: its consonants and its nucleus
  (``N`` and ``cl`` are morae of their own, as in Open JTalk); a continuation
  note (a melisma) adds a mora of the held vowel, as Open JTalk writes a long
  vowel (``こー`` is ``k o o``).
* **Accent phrases and words.** A breath group is cut into accent phrases of at
  most ``accent_phrase_morae`` morae, as equal as possible; each is one word, a
  common noun (part of speech ``02``, no conjugation), with accent type
  ``accent_type`` (0: flat) held within the phrase's length; no question
  (interrogative 0).
* **The utterance.** Every breath group is its own sentence
  (``sentence_per_phrase``), so the utterance-wide fields (i3..i8, K, H, J)
  stay in the range mei was trained on (speech sentences of a few breath
  groups and tens of morae), and the rests between phrases are ``sil``.

These defaults were chosen by measurement (``../shared/evalkit``, vowel
identity on sakura, all other settings equal, GV still capped at 2x): a
sentence per phrase, accent phrases of at most 4 morae, flat: 0.844; the whole
utterance one sentence: 0.786; accent phrases of at most 2 morae: 0.786;
accent on the first mora: 0.841. In-tune share was 99.9 % for all of them (our
F0 sings, whatever the labels). With mei's own tuning
(:func:`utagoe.voices.hts.mei.mei_tuning`) the default scores 0.917.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from ...errors import VoiceError
from ...timing.align import TimedPhoneme

if TYPE_CHECKING:
    from ...phrase.phrase import RenderPhrase

#: mei's phoneme inventory, as its decision trees' questions name it
OJT_VOWELS = frozenset({"a", "i", "u", "e", "o"})
OJT_DEVOICED_VOWELS = frozenset({"A", "I", "U", "E", "O"})
OJT_CONSONANTS = frozenset({
    "b", "by", "ch", "d", "dy", "f", "g", "gy", "h", "hy", "j", "k", "ky", "m", "my",
    "n", "ny", "p", "py", "r", "ry", "s", "sh", "t", "ts", "ty", "v", "w", "y", "z"})
OJT_PAUSE = "pau"
OJT_SILENCE = "sil"
OJT_PHONEMES = (OJT_VOWELS | OJT_DEVOICED_VOWELS | OJT_CONSONANTS
                | {"N", "cl", OJT_PAUSE, OJT_SILENCE})

#: where our (Sinsy) symbol differs from Open JTalk's; every other symbol is kept
SINSY_TO_OJT: dict[str, str] = {}

#: the part of speech of every word (Open JTalk's code for a common noun)
NOUN = "02"
#: defaults (see the module documentation)
DEFAULT_ACCENT_PHRASE_MORAE = 4
DEFAULT_ACCENT_TYPE = 0
XX = "xx"
#: Open JTalk's bounds on its counts: breath groups, accent phrases (and morae
#: within one), morae within a breath group, morae within the utterance
MAX_S, MAX_M, MAX_L, MAX_LL = 19, 49, 99, 199


def _lim(x: int, high: int, low: int = 1) -> int:
    return max(low, min(high, x))


def ojt_symbol(symbol: str) -> str:
    """Our phoneme ``symbol`` in Open JTalk's set; VoiceError if mei has no such phoneme."""
    out = SINSY_TO_OJT.get(symbol, symbol)
    if out not in OJT_PHONEMES:
        raise VoiceError(f"the phoneme {symbol!r} has no counterpart in Open JTalk's phoneme set")
    return out


@dataclass(frozen=True, slots=True)
class _AccentPhrase:
    #: index of the accent phrase in the utterance, its breath group's index
    index: int
    group: int
    #: its position among its breath group's accent phrases (0-based)
    in_group: int
    #: its first mora's index in the utterance and its number of morae
    first_mora: int
    morae: int
    accent_type: int


@dataclass(frozen=True, slots=True)
class _Group:
    index: int
    first_phrase: int
    phrases: int
    first_mora: int
    morae: int


def _morae(kinds: Sequence[str]) -> list[list[int]]:
    """Positions of a breath group's phonemes grouped into morae: consonants with
    the nucleus after them; trailing consonants join the last mora."""
    out: list[list[int]] = []
    cur: list[int] = []
    for i, kind in enumerate(kinds):
        cur.append(i)
        if kind == "vowel":
            out.append(cur)
            cur = []
    if cur:
        if out:
            out[-1].extend(cur)
        else:
            out.append(cur)
    return out


def _split(n: int, most: int) -> list[int]:
    """``n`` morae cut into as few runs of at most ``most`` as possible, as equal as possible."""
    k = -(-n // most)
    return [n // k + (1 if j < n % k else 0) for j in range(k)]


def utterance_labels(phrases: Sequence[Sequence[TimedPhoneme]], *,
                     accent_phrase_morae: int = DEFAULT_ACCENT_PHRASE_MORAE,
                     accent_type: int = DEFAULT_ACCENT_TYPE) -> list[str]:
    """One Open JTalk label per phoneme of ``phrases`` (each phrase's phonemes in
    order; rests have ``kind == "rest"``), read as one utterance in which each
    phrase is a breath group (see the module documentation for what each field
    holds). ``accent_phrase_morae``: the longest accent phrase; ``accent_type``:
    every accent phrase's accent (0 flat, k the k-th mora, held within the
    phrase's length)."""
    if accent_phrase_morae < 1:
        raise ValueError("accent_phrase_morae must be at least 1")
    if accent_type < 0:
        raise ValueError("accent_type must be 0 or more")
    flat: list[TimedPhoneme] = [p for ph in phrases for p in ph]
    starts = set()
    pos = 0
    for ph in phrases:
        starts.add(pos)
        pos += len(ph)
    symbols = [ojt_symbol(p.symbol) if p.kind != "rest" else "" for p in flat]

    # breath groups: runs of sung phonemes, broken at rests and phrase starts
    runs: list[list[int]] = []
    for i, p in enumerate(flat):
        if p.kind == "rest":
            continue
        if runs and runs[-1][-1] == i - 1 and i not in starts:
            runs[-1].append(i)
        else:
            runs.append([i])
    # morae, accent phrases and groups over the utterance
    mora_of: dict[int, int] = {}
    phrase_of_mora: list[int] = []
    mora_in_phrase: list[int] = []
    phrases_out: list[_AccentPhrase] = []
    groups: list[_Group] = []
    n_morae = 0
    for g, run in enumerate(runs):
        morae = [[run[j] for j in m] for m in _morae([flat[i].kind for i in run])]
        first_phrase, first_mora = len(phrases_out), n_morae
        for k, size in enumerate(_split(len(morae), accent_phrase_morae)):
            # Open JTalk writes a flat phrase's accent as its length
            acc = min(accent_type, size) if accent_type > 0 else size
            ap = _AccentPhrase(len(phrases_out), g, k, n_morae, size, acc)
            phrases_out.append(ap)
            for j in range(size):
                for i in morae[n_morae - first_mora + j]:
                    mora_of[i] = n_morae + j
                phrase_of_mora.append(ap.index)
                mora_in_phrase.append(j)
            n_morae += size
        groups.append(_Group(g, first_phrase, len(phrases_out) - first_phrase, first_mora,
                             n_morae - first_mora))

    # units: a sung phoneme, or a run of rests (one pause, also across a phrase boundary)
    unit_of: list[int] = []
    unit_symbol: list[str] = []
    for i, p in enumerate(flat):
        if p.kind == "rest" and i > 0 and flat[i - 1].kind == "rest":
            unit_of.append(unit_of[-1])
            continue
        unit_of.append(len(unit_symbol))
        unit_symbol.append(symbols[i])
    first_sung = next((u for u, s in enumerate(unit_symbol) if s), None)
    last_sung = max((u for u, s in enumerate(unit_symbol) if s), default=None)
    for u, s in enumerate(unit_symbol):
        if not s:
            inside = first_sung is not None and last_sung is not None and first_sung < u < last_sung
            unit_symbol[u] = OJT_PAUSE if inside else OJT_SILENCE

    total_phrases, total_groups = len(phrases_out), len(groups)
    k_field = (f"/K:{_lim(total_groups, MAX_S)}+{_lim(total_phrases, MAX_M)}-{_lim(n_morae, MAX_LL)}"
               if n_morae else "/K:xx+xx-xx")

    def p_field(u: int) -> str:
        ctx = [unit_symbol[j] if 0 <= j < len(unit_symbol) else XX for j in range(u - 2, u + 3)]
        return f"{ctx[0]}^{ctx[1]}-{ctx[2]}+{ctx[3]}={ctx[4]}"

    def ap_fields(ap: _AccentPhrase | None, *, pause: str | None) -> tuple[str, str, str]:
        """(morae, accent type, trailing pause flag) of a neighbouring accent phrase."""
        if ap is None:
            return XX, XX, XX
        return (str(_lim(ap.morae, MAX_M)), str(_lim(ap.accent_type, MAX_M)),
                XX if pause is None else pause)

    def word(ap: _AccentPhrase | None) -> str:
        return NOUN if ap is not None else XX

    def group_pair(g: _Group | None) -> str:
        if g is None:
            return "xx_xx"
        return f"{_lim(g.phrases, MAX_M)}_{_lim(g.morae, MAX_L)}"

    # the accent phrases sung last before and first after each unit
    before: list[_AccentPhrase | None] = [None] * len(unit_symbol)
    after: list[_AccentPhrase | None] = [None] * len(unit_symbol)
    last: _AccentPhrase | None = None
    for i in range(len(flat)):
        if i in mora_of:
            last = phrases_out[phrase_of_mora[mora_of[i]]]
        elif before[unit_of[i]] is None:
            before[unit_of[i]] = last
    last = None
    for i in range(len(flat) - 1, -1, -1):
        if i in mora_of:
            last = phrases_out[phrase_of_mora[mora_of[i]]]
        elif after[unit_of[i]] is None:
            after[unit_of[i]] = last

    cache: dict[int, str] = {}
    labels: list[str] = []
    for i, p in enumerate(flat):
        u = unit_of[i]
        if i not in mora_of:        # a pause
            if u not in cache:
                prev_ap, next_ap = before[u], after[u]
                e1, e2, _ = ap_fields(prev_ap, pause=None)
                g1, g2, _ = ap_fields(next_ap, pause=None)
                ez = "xx_xx" if prev_ap is None else "0_xx"
                gz = "xx_xx" if next_ap is None else "0_xx"
                hg = groups[prev_ap.group] if prev_ap else None
                jg = groups[next_ap.group] if next_ap else None
                cache[u] = (f"{p_field(u)}/A:xx+xx+xx/B:{word(prev_ap)}-xx_xx/C:xx_xx+xx"
                            f"/D:{word(next_ap)}+xx_xx/E:{e1}_{e2}!{ez}-xx"
                            f"/F:xx_xx#xx_xx@xx_xx|xx_xx/G:{g1}_{g2}%{gz}_xx"
                            f"/H:{group_pair(hg)}/I:xx-xx@xx+xx&xx-xx|xx+xx"
                            f"/J:{group_pair(jg)}{k_field}")
            labels.append(cache[u])
            continue
        m = mora_of[i]
        ap = phrases_out[phrase_of_mora[m]]
        grp = groups[ap.group]
        prev_ap = phrases_out[ap.index - 1] if ap.index > 0 else None
        next_ap = phrases_out[ap.index + 1] if ap.index + 1 < total_phrases else None
        pos = mora_in_phrase[m] + 1
        a1 = _lim(pos - ap.accent_type, MAX_M, -MAX_M)
        e1, e2, e5 = ap_fields(prev_ap, pause=None if prev_ap is None
                               else "1" if prev_ap.group == ap.group else "0")
        g1, g2, g5 = ap_fields(next_ap, pause=None if next_ap is None
                               else "1" if next_ap.group == ap.group else "0")
        ez = "xx_xx" if prev_ap is None else "0_xx"
        gz = "xx_xx" if next_ap is None else "0_xx"
        in_group_mora = ap.first_mora - grp.first_mora + 1
        hg = groups[grp.index - 1] if grp.index > 0 else None
        jg = groups[grp.index + 1] if grp.index + 1 < total_groups else None
        labels.append(
            f"{p_field(u)}/A:{a1}+{_lim(pos, MAX_M)}+{_lim(ap.morae - pos + 1, MAX_M)}"
            f"/B:{word(prev_ap)}-xx_xx/C:{NOUN}_xx+xx/D:{word(next_ap)}+xx_xx"
            f"/E:{e1}_{e2}!{ez}-{e5}"
            f"/F:{_lim(ap.morae, MAX_M)}_{_lim(ap.accent_type, MAX_M)}#0_xx"
            f"@{_lim(ap.in_group + 1, MAX_M)}_{_lim(grp.phrases - ap.in_group, MAX_M)}"
            f"|{_lim(in_group_mora, MAX_L)}_{_lim(grp.morae - in_group_mora + 1, MAX_L)}"
            f"/G:{g1}_{g2}%{gz}_{g5}"
            f"/H:{group_pair(hg)}"
            f"/I:{_lim(grp.phrases, MAX_M)}-{_lim(grp.morae, MAX_L)}"
            f"@{_lim(grp.index + 1, MAX_S)}+{_lim(total_groups - grp.index, MAX_S)}"
            f"&{_lim(grp.first_phrase + 1, MAX_M)}-{_lim(total_phrases - grp.first_phrase, MAX_M)}"
            f"|{_lim(grp.first_mora + 1, MAX_LL)}+{_lim(n_morae - grp.first_mora, MAX_LL)}"
            f"/J:{group_pair(jg)}{k_field}")
    return labels


def track_labels(phrases: Sequence[Sequence[TimedPhoneme]], *, sentence_per_phrase: bool = True,
                 accent_phrase_morae: int = DEFAULT_ACCENT_PHRASE_MORAE,
                 accent_type: int = DEFAULT_ACCENT_TYPE) -> list[str]:
    """One Open JTalk label per phoneme of ``phrases`` (an utterance of several
    phrases, in order). With ``sentence_per_phrase`` each phrase is a sentence of
    its own (one breath group); otherwise all of them are one utterance whose
    breath groups are the phrases (:func:`utterance_labels`)."""
    if not sentence_per_phrase:
        return utterance_labels(phrases, accent_phrase_morae=accent_phrase_morae,
                                accent_type=accent_type)
    out: list[str] = []
    for ph in phrases:
        out.extend(utterance_labels([ph], accent_phrase_morae=accent_phrase_morae,
                                    accent_type=accent_type))
    return out


@dataclass(frozen=True, slots=True)
class OpenJTalkLabeller:
    """An utterance's labels in Open JTalk's format, from the phrases' phonemes
    (see :mod:`utagoe.voices.hts.ojt_labels` for the choices)."""

    sentence_per_phrase: bool = True
    accent_phrase_morae: int = DEFAULT_ACCENT_PHRASE_MORAE
    accent_type: int = DEFAULT_ACCENT_TYPE

    @property
    def name(self) -> str:
        return (f"openjtalk:{int(self.sentence_per_phrase)}:{self.accent_phrase_morae}"
                f":{self.accent_type}")

    def __call__(self, phrases: Sequence["RenderPhrase"]) -> list[str]:
        return track_labels([ph.phonemes for ph in phrases],
                            sentence_per_phrase=self.sentence_per_phrase,
                            accent_phrase_morae=self.accent_phrase_morae,
                            accent_type=self.accent_type)
