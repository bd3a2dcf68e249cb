"""HTS parameter generation in numpy: tree search, state durations, MLPG, GV.

Given full-context labels (one per phoneme, without times) and the number of
frames each phoneme must last, :func:`generate_parameters` produces what the
HTS engine would produce with phoneme alignment on: mel-cepstrum, log F0 with
voicing, and the LPF (excitation low-pass filter) stream, frame by frame.

Steps, as in the hts_engine API (``HTS_SStreamSet_create`` and
``HTS_PStreamSet_create``), reimplemented here:

1. *Tree search.* For every label, the duration tree and, for every state and
   stream, that state's tree pick a leaf PDF. Question answers are cached per
   label within one call (all trees of a voice share one question table).
2. *State durations* (:func:`fit_state_frames`): the duration model gives a
   Gaussian per state; each phoneme's frames are split over its states with
   ``d_i = mean_i + rho * var_i`` where ``rho`` makes them add up, rounded,
   every state at least one frame, then adjusted frame by frame towards the
   states whose ``(d_i - mean_i) / var_i`` stays closest to ``rho``.
3. *Per stream*: the state PDFs are repeated over their frames. For MSD streams
   (LF0) a state is voiced when its voiced weight exceeds ``msd_threshold``;
   only voiced frames take part. Delta windows that reach past the sequence or
   over an unvoiced frame get zero precision.
4. *MLPG*: ``(W' U^-1 W) c = W' U^-1 mu`` solved per dimension with a banded
   Cholesky solver.
5. *Global variance* (where the voice has GV and ``use_gv``): the trajectory is
   first scaled to the GV mean, then 5 gradient steps (step 0.1, x0.5 when the
   objective got worse, x1.2 when it got better) on the weighted sum of the
   HMM and GV log likelihoods, with the diagonal second-derivative scaling the
   HTS engine uses. Frames whose label matches the voice's ``GV_OFF_CONTEXT``
   (silences and pauses) are left out of the GV statistics and updates. As in
   the HTS engine, the GV PDF is chosen by the *first* label.

Differences from the HTS engine (documented choices):

* Phonemes shorter than the number of states. The HTS engine gives every state
  of such a phoneme one frame and lets the following phonemes absorb the
  overrun (each phoneme is fitted to its *end time* minus the frames already
  used). We do the same; if the overrun is still there after the last phoneme
  (the last phonemes themselves too short), we take the extra frames back from
  the last phonemes that have frames to spare, going backwards, so the output
  always has exactly ``sum(phoneme_frames)`` frames. Fewer frames in total than
  ``n_phonemes * n_states`` cannot be sung and raise :class:`VoiceError`.
* A GV trajectory with zero variance (e.g. one switched-on frame) is left as it
  is instead of being scaled by ``sqrt(gv_mean / 0)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from utagoe.dsp.banded import solve_spd_banded
from utagoe.errors import VoiceError
from utagoe.voices.hts.htsvoice import HTSModel, HTSStream, HTSVoice, Window

__all__ = [
    "GeneratedParameters",
    "TreeSearch",
    "generate_parameters",
    "fit_state_frames",
    "mlpg",
]

# Constants of the HTS engine's GV parameter generation.
_GV_STEP_INIT = 0.1
_GV_STEP_DEC = 0.5
_GV_STEP_INC = 1.2
_GV_W1 = 1.0       # weight of the HMM likelihood
_GV_W2 = 1.0       # weight of the GV likelihood
_GV_ITERATIONS = 5

_INFTY = 1.0e38
_INFTY2 = 1.0e19
_INVINF2 = 1.0e-19


@dataclass(frozen=True, slots=True, eq=False)
class GeneratedParameters:
    """Frame-by-frame parameters of one utterance; ``T`` frames of ``frame_period_s``.

    * ``mgc``: (T, order+1) mel-cepstrum (all-pass constant ``alpha``, gamma 0).
    * ``lf0``: (T,) natural log of F0 in Hz; ``-inf`` on unvoiced frames, so
      ``np.exp(lf0)`` is 0 Hz there (WORLD's unvoiced convention).
    * ``voiced``: (T,) bool.
    * ``lpf``: (T, n) excitation low-pass filter taps; (T, 0) if the voice has none.
    * ``state_frames``: (n_phonemes, n_states) frames given to each HMM state.
    """

    mgc: np.ndarray
    lf0: np.ndarray
    voiced: np.ndarray
    lpf: np.ndarray
    state_frames: np.ndarray
    frame_period_s: float
    sample_rate_hz: int
    alpha: float

    @property
    def n_frames(self) -> int:
        return int(self.mgc.shape[0])

    @property
    def phoneme_frames(self) -> np.ndarray:
        return self.state_frames.sum(axis=1)


# --------------------------------------------------------------------------- tree search


class TreeSearch:
    """Tree search with per-label caches: question answers, and the leaves each
    label reaches in each model. One is made per :func:`generate_parameters`
    call unless the caller passes its own, to share the search between calls
    over the same labels (the HTS singer's overlapping phrase windows)."""

    def __init__(self, voice: HTSVoice) -> None:
        self.voice = voice
        self.matchers = [q.matches for q in voice.questions]
        self.answers: dict[str, dict[int, bool]] = {}
        #: (what, states) -> label -> (tree indices, PDF rows)
        self.leaves: dict[tuple[str, tuple[int, ...]], dict[str, tuple[list[int], list[int]]]] = {}
        self.path = voice.path

    def _answers_for(self, label: str) -> dict[int, bool]:
        cache = self.answers.get(label)
        if cache is None:
            cache = self.answers[label] = {}
        return cache

    def leaf(self, model: HTSModel, state: int, label: str, what: str) -> tuple[int, int]:
        """(tree index, 0-based PDF row) that ``label`` reaches in ``model`` for ``state``."""
        k = next((i for i, t in enumerate(model.trees) if t.state == state and t.selects(label)), None)
        if k is None:
            raise VoiceError(f"{self.path}: {what}: no tree for state {state} accepts label {label!r}")
        tree = model.trees[k]
        node = tree.root
        if node < 0:
            return k, ~node
        cache = self._answers_for(label)
        questions, no, yes = tree.node_question, tree.node_no, tree.node_yes
        matchers = self.matchers
        while node >= 0:
            q = questions[node]
            a = cache.get(q)
            if a is None:
                a = cache[q] = matchers[q](label)
            node = yes[node] if a else no[node]
        return k, ~node


def _leaves(model: HTSModel, searcher: TreeSearch, labels: Sequence[str], states: Sequence[int],
            what: str) -> tuple[np.ndarray, np.ndarray]:
    """(tree, row) of the leaf PDF of every (label, state): two (n_labels, n_states)
    arrays. ``what`` names the model (one name per model of the voice)."""
    n, s = len(labels), len(states)
    tree_idx = np.empty((n, s), dtype=np.intp)
    row_idx = np.empty((n, s), dtype=np.intp)
    memo = searcher.leaves.setdefault((what, tuple(states)), {})
    for i, label in enumerate(labels):
        hit = memo.get(label)
        if hit is None:
            ks, rs = [], []
            for st in states:
                k, r = searcher.leaf(model, st, label, what)
                ks.append(k)
                rs.append(r)
            hit = memo[label] = (ks, rs)
        tree_idx[i] = hit[0]
        row_idx[i] = hit[1]
    return tree_idx, row_idx


def _rows(model: HTSModel, tree_idx: np.ndarray, row_idx: np.ndarray) -> np.ndarray:
    width = model.pdfs[0].shape[1]
    out = np.empty(tree_idx.shape + (width,), dtype=np.float64)
    for k, table in enumerate(model.pdfs):
        mask = tree_idx == k
        if mask.any():
            out[mask] = table[row_idx[mask]]
    return out


def _gather_rows(model: HTSModel, searcher: TreeSearch, labels: Sequence[str], states: Sequence[int],
                 what: str) -> np.ndarray:
    """PDF rows for every (label, state): array (n_labels, n_states, width)."""
    return _rows(model, *_leaves(model, searcher, labels, states, what))


def _gather_distinct_rows(model: HTSModel, searcher: TreeSearch, labels: Sequence[str],
                          states: Sequence[int], what: str) -> tuple[np.ndarray, np.ndarray]:
    """The distinct PDF rows the (label, state) pairs use, (n_distinct, width), and
    for every pair (label-major) its row there. A song of fifty thousand short
    notes has half a million states but a few thousand distinct leaves; a table
    per state would take most of a gigabyte."""
    tree_idx, row_idx = _leaves(model, searcher, labels, states, what)
    key = (tree_idx.astype(np.int64) << 32 | row_idx).reshape(-1)
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    first = np.empty(ordered.size, dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    which = np.empty(key.size, dtype=np.intp)
    which[order] = np.cumsum(first) - 1
    distinct = order[first]
    return _rows(model, tree_idx.reshape(-1)[distinct], row_idx.reshape(-1)[distinct]), which


# --------------------------------------------------------------------------- durations


def fit_state_frames(mean: np.ndarray, var: np.ndarray, target_frames: int) -> np.ndarray:
    """Split ``target_frames`` over the states of one phoneme (HTS_set_specified_duration).

    ``mean`` and ``var`` are the duration model's per-state Gaussians (frames).
    If ``target_frames`` is not more than the number of states, every state
    gets one frame (so the result may be longer than asked; see the module doc).
    """
    size = len(mean)
    target = max(1, int(target_frames))
    if target <= size:
        return np.ones(size, dtype=np.int64)
    mean_sum = 0.0
    var_sum = 0.0
    for i in range(size):
        mean_sum += float(mean[i])
        var_sum += float(var[i])
    rho = (target - mean_sum) / var_sum
    dur = [0] * size
    total = 0
    for i in range(size):
        x = float(mean[i]) + rho * float(var[i]) + 0.5
        d = 1 if x < 1.0 else int(x)
        dur[i] = d
        total += d
    return np.asarray(_adjust(dur, total, target, mean, var, rho), dtype=np.int64)


def _adjust(dur: list[int], total: int, target: int, mean, var, rho: float) -> list[int]:
    while total != target:
        best = -1
        best_cost = 0.0
        if target > total:
            for i in range(len(dur)):
                cost = abs(rho - (dur[i] + 1 - float(mean[i])) / float(var[i]))
                if best < 0 or best_cost > cost:
                    best, best_cost = i, cost
            dur[best] += 1
            total += 1
        else:
            for i in range(len(dur)):
                if dur[i] > 1:
                    cost = abs(rho - (dur[i] - 1 - float(mean[i])) / float(var[i]))
                    if best < 0 or best_cost > cost:
                        best, best_cost = i, cost
            dur[best] -= 1
            total -= 1
    return dur


def _fit_all(mean: np.ndarray, var: np.ndarray, phoneme_frames: np.ndarray) -> np.ndarray:
    """State frames for all phonemes, fitted to the cumulative phoneme end frames."""
    n, size = mean.shape
    total_target = int(phoneme_frames.sum())
    if total_target < n * size:
        raise VoiceError(
            f"{n} phonemes need at least {n * size} frames ({size} states each), "
            f"but only {total_target} were given")
    ends = np.cumsum(phoneme_frames)
    out = np.ones((n, size), dtype=np.int64)
    # Vectorised first estimate for the common case (no carried overrun);
    # phonemes after an overrun or needing adjustment go through the exact loop.
    mean_sum = np.zeros(n)
    var_sum = np.zeros(n)
    for i in range(size):
        mean_sum = mean_sum + mean[:, i]
        var_sum = var_sum + var[:, i]
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = (phoneme_frames - mean_sum) / var_sum
        x = mean + rho[:, None] * var + 0.5
    first = np.where(x < 1.0, 1, np.floor(np.where(np.isfinite(x), x, 1.0))).astype(np.int64)
    first_ok = (first.sum(axis=1) == phoneme_frames) & (phoneme_frames > size)

    used = 0
    for i in range(n):
        target = int(ends[i]) - used
        if first_ok[i] and target == phoneme_frames[i]:
            out[i] = first[i]
            used += target
            continue
        d = fit_state_frames(mean[i], var[i], target)
        out[i] = d
        used += int(d.sum())
    excess = used - total_target
    i = n - 1
    while excess > 0 and i >= 0:
        spare = int(out[i].sum()) - size
        take = min(spare, excess)
        if take > 0:
            out[i] = fit_state_frames(mean[i], var[i], int(out[i].sum()) - take)
            excess -= take
        i -= 1
    return out


def sustain_fit(mean: np.ndarray, var: np.ndarray, phoneme_frames: np.ndarray,
                fitted: np.ndarray) -> np.ndarray:
    """Re-split ``fitted`` (HTS-fitted state frames) so that a stretched phoneme
    keeps every state at its mean length but one: the state the model lets vary
    most (largest variance) takes all the extra time.

    HTS spreads the stretch over all states in proportion to their variance, so
    in a long sung note the vowel's attack states grow too and its onset comes
    late; singers hold the vowel's steady part instead. Phonemes that are not
    longer than their mean lengths, or whose frames were carried over from a
    too-short neighbour, keep the HTS fit.
    """
    n, size = mean.shape
    base = np.maximum(1, np.rint(mean)).astype(np.int64)
    k = np.argmax(var, axis=1)
    rows = np.arange(n)
    rest = phoneme_frames - (base.sum(axis=1) - base[rows, k])
    ok = (rest >= base[rows, k]) & (fitted.sum(axis=1) == phoneme_frames)
    out = fitted.copy()
    out[ok] = base[ok]
    out[rows[ok], k[ok]] = rest[ok]
    return out


# --------------------------------------------------------------------------- MLPG


def _finv(var: np.ndarray) -> np.ndarray:
    """1/var with the HTS engine's guards against huge and tiny variances."""
    out = np.empty_like(var)
    with np.errstate(divide="ignore"):
        np.divide(1.0, var, out=out)
    out[np.abs(var) >= _INFTY2] = 0.0
    out[(var >= 0.0) & (var <= _INVINF2)] = _INFTY
    out[(var < 0.0) & (var >= -_INVINF2)] = -_INFTY
    return out


def _bandwidth(windows: Sequence[Window]) -> int:
    return 2 * max(max(-w.left, w.right) for w in windows)


def _normal_equations(mean: np.ndarray, ivar: np.ndarray, windows: Sequence[Window]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``W' U^-1 W`` in lower banded form (D, bw+1, L) and ``W' U^-1 mu`` (D, L).

    ``mean`` and ``ivar`` are (K, D, L): window, dimension, frame.
    """
    k_win, dim, length = mean.shape
    bw = _bandwidth(windows)
    band = np.zeros((dim, bw + 1, length))
    rhs = np.zeros((dim, length))
    for k, win in enumerate(windows):
        iv = ivar[k]
        ivm = iv * mean[k]
        coefs = win.coefficients
        shifts = range(win.left, win.right + 1)
        for a, s1 in enumerate(shifts):
            c1 = coefs[a]
            if c1 == 0.0:
                continue
            t0, t1 = max(0, -s1), min(length, length - s1)
            if t1 > t0:
                rhs[:, t0 + s1:t1 + s1] += c1 * ivm[:, t0:t1]
            for b in range(a, len(coefs)):
                c2 = coefs[b]
                if c2 == 0.0:
                    continue
                s2 = win.left + b
                j = s2 - s1
                t0, t1 = max(0, -s1), min(length, length - s2)
                if t1 > t0:
                    band[:, j, t0 + s1:t1 + s1] += (c1 * c2) * iv[:, t0:t1]
    return band, rhs


def _band_matvec(band: np.ndarray, x: np.ndarray, out: np.ndarray | None = None,
                 tmp: np.ndarray | None = None) -> np.ndarray:
    """``P @ x`` per dimension, P symmetric in lower banded form (D, bw+1, L), x (D, L)."""
    if out is None:
        out = np.empty_like(x)
    if tmp is None:
        tmp = np.empty_like(x)
    np.multiply(band[:, 0, :], x, out=out)
    length = x.shape[1]
    for j in range(1, min(band.shape[1], length)):
        t = tmp[:, :length - j]
        np.multiply(band[:, j, :-j], x[:, j:], out=t)
        out[:, :-j] += t
        np.multiply(band[:, j, :-j], x[:, :-j], out=t)
        out[:, j:] += t
    return out


def _solve(band: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    return solve_spd_banded(band, rhs)


def mlpg(mean: np.ndarray, ivar: np.ndarray, windows: Sequence[Window]) -> np.ndarray:
    """Maximum-likelihood trajectory: (K, D, L) means and precisions -> (D, L) statics."""
    band, rhs = _normal_equations(mean, ivar, windows)
    if rhs.shape[1] == 0:
        return rhs
    return _solve(band, rhs)


def _row_dot(x: np.ndarray, y: np.ndarray, tmp: np.ndarray | None = None) -> np.ndarray:
    """Each row of ``x`` (D, L) dotted with ``y`` ((L,) or (D, L)), row by row: a
    row's sum does not depend on how many rows come with it (BLAS's and einsum's
    do), so a track generated a few dimensions at a time gives the same bytes."""
    if tmp is None:
        tmp = np.empty(x.shape)
    np.multiply(x, y, out=tmp)
    return tmp.sum(axis=1)


def _apply_gv(par: np.ndarray, band: np.ndarray, rhs: np.ndarray, switch: np.ndarray,
              gv_mean: np.ndarray, gv_precision: np.ndarray, n_windows: int,
              max_ratio: float | None = None) -> np.ndarray:
    """The HTS engine's GV parameter generation on (D, L) statics, in place and returned.

    ``band``/``rhs`` are the unfactorised normal equations of the trajectory;
    ``switch`` (L,) marks the frames that count for GV; ``gv_precision`` is
    the second half of the GV PDF, used as a precision as the HTS engine does.
    ``max_ratio`` (not in the HTS engine): the GV may widen each dimension's
    standard deviation by at most this factor. Without it, an utterance that is
    mostly one held vowel (variance near 0) is blown up to the GV mean and the
    spectrum explodes.
    """
    n_on = int(switch.sum())
    if n_on == 0:
        return par
    length = par.shape[1]
    on_f = switch.astype(np.float64)

    # 1. scale the trajectory to the GV mean
    m = _row_dot(par, on_f) / n_on
    dev = par - m[:, None]
    v = _row_dot(dev * dev, on_f) / n_on
    if max_ratio is not None:
        gv_mean = np.where(v > 0.0, np.minimum(gv_mean, v * max_ratio ** 2), gv_mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.sqrt(gv_mean / v)
    ratio = np.where((v > 0.0) & np.isfinite(ratio), ratio, 1.0)
    dev *= ratio[:, None]
    dev += m[:, None]
    par[:, switch] = dev[:, switch]

    # 2. gradient steps on HMM + GV log likelihood
    w = 1.0 / (n_windows * length)
    neg_w_diag = (-_GV_W1 * w) * band[:, 0, :]
    step = np.full(par.shape[0], _GV_STEP_INIT)
    prev = np.zeros(par.shape[0])
    g = np.empty_like(par)
    tmp = np.empty_like(par)
    sq = np.empty_like(par)
    for it in range(1, _GV_ITERATIONS + 1):
        m = _row_dot(par, on_f, tmp) / n_on
        np.subtract(par, m[:, None], out=dev)
        np.multiply(dev, dev, out=sq)
        v = _row_dot(sq, on_f, tmp) / n_on
        gvobj = -0.5 * _GV_W2 * v * gv_precision * (v - 2.0 * gv_mean)
        dv = -2.0 * gv_precision * (v - gv_mean) / length
        _band_matvec(band, par, out=g, tmp=tmp)
        rhs_dot = _row_dot(par, rhs, tmp)
        hmmobj = _GV_W1 * w * (rhs_dot - 0.5 * _row_dot(par, g, tmp))
        # h: diagonal second derivative
        sq *= (-_GV_W2 * 4.0 / (length * length) * gv_precision)[:, None]
        sq += neg_w_diag
        sq -= (_GV_W2 * 2.0 / (length * length) * (length - 1) * gv_precision * (v - gv_mean))[:, None]
        # gradient: HMM part everywhere, GV part on switched-on frames
        np.subtract(rhs, g, out=g)
        g *= _GV_W1 * w
        dev *= on_f
        dev *= (_GV_W2 * dv)[:, None]
        g += dev
        obj = -(hmmobj + gvobj)
        if it > 1:
            step = np.where(obj > prev, step * _GV_STEP_DEC, np.where(obj < prev, step * _GV_STEP_INC, step))
        g /= sq
        g *= step[:, None]
        par += g
        prev = obj
    return par


#: dimensions x frames generated at once: each dimension of a stream is its own
#: trajectory (its own banded system and GV), so a long track is generated a few
#: dimensions at a time and its temporaries (the window means and precisions,
#: the normal equations, the solver's and GV's work arrays) stay a few tens of
#: MB whatever its length. A song of a few minutes is done in one go.
GENERATION_ELEMENTS = 1 << 21


def _stream_parameters(stream: HTSStream, state_pdf: np.ndarray, frame_state: np.ndarray,
                       voiced_frames: np.ndarray | None, gv_switch_frames: np.ndarray | None,
                       gv_pdf: np.ndarray | None, gv_weight: float,
                       gv_max_ratio: float | None = None, gv_dims: int | None = None) -> np.ndarray:
    """Statics (L, D) for one stream (``state_pdf[frame_state[t]]`` is frame t's PDF)
    over the frames where ``voiced_frames`` (or all frames); GV (where given) on
    the first ``gv_dims`` dimensions (None: all)."""
    dim, k_win = stream.vector_length, stream.num_windows
    width = dim * k_win
    n_frames = frame_state.shape[0]
    if voiced_frames is None:
        frames = frame_state
        flag = None
    else:
        frames = frame_state[voiced_frames]
        flag = voiced_frames
    length = frames.shape[0]
    if length == 0:
        return np.zeros((0, dim))
    # state-level arrays (K, D, states), expanded to frames a few dimensions at a time
    mean_s = np.ascontiguousarray(state_pdf[:, :width].reshape(-1, k_win, dim).transpose(1, 2, 0))
    ivar_s = np.ascontiguousarray(_finv(state_pdf[:, width:2 * width]).reshape(-1, k_win, dim).transpose(1, 2, 0))
    # dynamic windows that reach outside the sequence or over an unvoiced frame
    pad = max(max(-w.left, w.right) for w in stream.windows)
    full = np.ones(n_frames, dtype=bool) if flag is None else flag
    padded = np.concatenate([np.zeros(pad, bool), full, np.zeros(pad, bool)])
    bad_frames: dict[int, np.ndarray] = {}
    for k, win in enumerate(stream.windows):
        if k == 0:
            continue
        ok = np.ones(n_frames, dtype=bool)
        for s in range(win.left, win.right + 1):
            ok &= padded[pad + s:pad + s + n_frames]
        bad = ~ok if flag is None else ~ok[flag]
        if bad.any():
            bad_frames[k] = bad
    switch = None
    if gv_pdf is not None and gv_switch_frames is not None:
        switch = gv_switch_frames if flag is None else gv_switch_frames[flag]
    gv_until = dim if gv_dims is None else min(dim, gv_dims)   # GV on the first gv_dims only
    out = np.empty((length, dim))
    w0 = stream.windows[0]
    statics_only = k_win == 1 and w0.left == 0 and w0.right == 0 and tuple(w0.coefficients) == (1.0,)
    step = max(1, min(dim, GENERATION_ELEMENTS // length))
    for d0 in range(0, dim, step):
        d1 = min(dim, d0 + step)
        g1 = min(d1, gv_until)
        if statics_only and not (switch is not None and gv_pdf is not None and g1 > d0) \
                and np.all(ivar_s[0, d0:d1] > 0.0):
            # the static window alone: the normal equations are diagonal and the
            # trajectory is the means themselves (the LPF stream of the HTS voices)
            out[:, d0:d1] = np.take(mean_s[0, d0:d1], frames, axis=1).T
            continue
        mean = np.take(mean_s[:, d0:d1], frames, axis=2)
        ivar = np.take(ivar_s[:, d0:d1], frames, axis=2)
        for k, bad in bad_frames.items():
            ivar[k][:, bad] = 0.0
        band, rhs = _normal_equations(mean, ivar, stream.windows)
        del mean, ivar
        par = _solve(band, rhs)
        if switch is not None and gv_pdf is not None and g1 > d0:
            k = g1 - d0
            par[:k] = _apply_gv(par[:k], band[:k], rhs[:k], switch, gv_pdf[d0:g1] * gv_weight,
                                gv_pdf[dim + d0:dim + g1], k_win, max_ratio=gv_max_ratio)
        out[:, d0:d1] = par.T
    return out


# --------------------------------------------------------------------------- entry point


def generate_parameters(voice: HTSVoice, labels: Sequence[str], phoneme_frames: Sequence[int], *,
                        use_gv: bool = True, msd_threshold: float = 0.5,
                        gv_weight: float = 1.0, duration_fit: str = "hts",
                        gv_max_ratio: float | None = None,
                        gv_spectrum_orders: int | None = None,
                        gv_streams: Sequence[str] | None = None,
                        search: TreeSearch | None = None) -> GeneratedParameters:
    """Generate frame parameters for ``labels`` lasting ``phoneme_frames`` frames each.

    ``labels`` are full-context labels without times, one per phoneme;
    ``phoneme_frames`` are the frames (of ``voice.frame_period_s``) each must
    last. The result has exactly ``sum(phoneme_frames)`` frames. ``gv_weight``
    scales the GV mean of every GV stream (HTS engine's ``-jm``/``-jf``).
    ``duration_fit`` is ``"hts"`` (the HTS engine's split of each phoneme over
    its states) or ``"sustain"`` (see :func:`sustain_fit`). ``gv_max_ratio``
    caps how far GV may widen a dimension's standard deviation (None: as the
    HTS engine, no cap). ``gv_spectrum_orders`` limits GV on the spectrum
    stream (MCP) to its first that many coefficients (None: all, as HTS);
    ``gv_streams`` names the streams that get GV (None: every stream that has it).
    ``search``: a :class:`TreeSearch` of ``voice`` to reuse (and fill) across
    calls; by default a new one. Either gives the same values.
    """
    if duration_fit not in ("hts", "sustain"):
        raise ValueError(f"duration_fit must be 'hts' or 'sustain', got {duration_fit!r}")
    labels = list(labels)
    given = np.asarray(phoneme_frames).reshape(-1)
    if given.size and not (given.dtype.kind in "iu" or np.all(np.mod(given, 1) == 0)):
        raise ValueError("phoneme_frames must be whole numbers of frames")
    frames_in = given.astype(np.int64)
    if len(labels) != frames_in.shape[0]:
        raise ValueError(f"{len(labels)} labels but {frames_in.shape[0]} phoneme frame counts")
    if np.any(frames_in < 0):
        raise ValueError("phoneme_frames must not be negative")
    for label in labels:
        if not isinstance(label, str) or not label or label != label.strip() or " " in label:
            raise ValueError(f"labels must be full-context strings without times or spaces, got {label!r}")
    if not 0.0 <= msd_threshold <= 1.0:
        raise ValueError(f"msd_threshold must be within [0, 1], got {msd_threshold}")
    n_states = voice.num_states
    states = tuple(range(2, n_states + 2))
    alpha = voice.alpha
    if not labels:
        mgc_dim = voice.stream("MCP").vector_length if voice.has_stream("MCP") else 0
        lpf_dim = voice.stream("LPF").vector_length if voice.has_stream("LPF") else 0
        return GeneratedParameters(mgc=np.zeros((0, mgc_dim)), lf0=np.zeros(0), voiced=np.zeros(0, bool),
                                   lpf=np.zeros((0, lpf_dim)), state_frames=np.zeros((0, n_states), np.int64),
                                   frame_period_s=voice.frame_period_s, sample_rate_hz=voice.sample_rate_hz,
                                   alpha=alpha)

    if search is None:
        searcher = TreeSearch(voice)
    elif search.voice is not voice:
        raise ValueError("search belongs to another voice")
    else:
        searcher = search

    # 1-2. durations
    dur = _gather_rows(voice.duration, searcher, labels, (2,), "duration")[:, 0, :]
    state_frames = _fit_all(dur[:, :n_states], dur[:, n_states:2 * n_states], frames_in)
    if duration_fit == "sustain":
        state_frames = sustain_fit(dur[:, :n_states], dur[:, n_states:2 * n_states], frames_in,
                                   state_frames)
    flat_frames = state_frames.reshape(-1)
    frame_state = np.repeat(np.arange(flat_frames.shape[0]), flat_frames)
    n_frames = frame_state.shape[0]

    # GV switch per state: off where the label matches the voice's GV-off context
    if voice.gv_off_context is not None:
        gv_off = voice.gv_off_context.matches
        memo: dict[str, bool] = {}
        for lb in labels:
            if lb not in memo:
                memo[lb] = not gv_off(lb)
        label_on = np.array([memo[lb] for lb in labels], dtype=bool)
    else:
        label_on = np.ones(len(labels), dtype=bool)
    gv_switch_frames = np.repeat(label_on, n_states)[frame_state]

    out: dict[str, np.ndarray] = {}
    voiced = np.zeros(n_frames, dtype=bool)
    for stream in voice.streams:
        # distinct leaf PDFs, and each frame's row among them
        pdf, state_row = _gather_distinct_rows(stream.model, searcher, labels, states, stream.name)
        frame_row = state_row[frame_state]
        gv_pdf = None
        if (use_gv and stream.use_gv and stream.gv is not None
                and (gv_streams is None or stream.name in gv_streams)):
            gv_pdf = _gather_rows(stream.gv, searcher, labels[:1], (2,), f"GV[{stream.name}]")[0, 0]
        if stream.is_msd:
            width = stream.vector_length * stream.num_windows
            voiced_row = pdf[:, 2 * width] > msd_threshold
            flag = voiced_row[frame_row]
            par = _stream_parameters(stream, pdf, frame_row, flag, gv_switch_frames, gv_pdf, gv_weight,
                                     gv_max_ratio)
            full = np.full((n_frames, stream.vector_length), -np.inf)
            full[flag] = par
            out[stream.name] = full
            if stream.name == "LF0":
                voiced = flag
        else:
            out[stream.name] = _stream_parameters(stream, pdf, frame_row, None, gv_switch_frames,
                                                  gv_pdf, gv_weight, gv_max_ratio,
                                                  gv_spectrum_orders if stream.name == "MCP" else None)

    mgc = np.ascontiguousarray(out.get("MCP", np.zeros((n_frames, 0))))
    lf0 = np.ascontiguousarray(out["LF0"][:, 0]) if "LF0" in out else np.full(n_frames, -np.inf)
    lpf = np.ascontiguousarray(out.get("LPF", np.zeros((n_frames, 0))))
    for arr in (mgc, lf0, lpf, voiced, state_frames):
        arr.flags.writeable = False
    return GeneratedParameters(mgc=mgc, lf0=lf0, voiced=voiced, lpf=lpf, state_frames=state_frames,
                               frame_period_s=voice.frame_period_s, sample_rate_hz=voice.sample_rate_hz,
                               alpha=alpha)
