"""Vowel identity of the built-in singer against Sinsy, on every example song.

    .venv/bin/pip install music21 praat-parselmouth pyloudnorm   # for the scorecard
    .venv/bin/python benchmarks/bench_vowels.py [--songs 'examples/*.musicxml'] [--jobs 2]
        [--tuning dynamics_ratio=1.0 ...] [--vocoder world|utagoe]
        [--variant 'name: field=value field=value vocoder=world' ...] [--json out.json]

Every song is sung by utagoe (``utagoe.render`` with the given HTS tuning and
vocoder) and by Sinsy (``pysinsy.synthesize`` on a copy of the score that marks
melismas Sinsy's way), and both are scored with ../shared/evalkit's scorecard.
Per song it prints utagoe's vowel accuracy, Sinsy's, the share of mid-note
frames within 50 cents (in tune), the vowel-onset p95 and clicks; then the mean
over the songs and on how many songs utagoe's vowels beat Sinsy's.

``--variant`` (repeatable) judges several settings in one run, side by side:
each is a name, a colon and ``field=value`` pairs of ``HTSTuning`` (plus
``vocoder=``, ``timing.field=value`` for ``TimingSettings`` and
``pitch.field=value`` for ``PitchSettings``, ``singer=NAME`` for another
singer); ``--tuning`` and ``--vocoder``
give the settings every variant starts from. Without ``--variant`` one
variant, ``run``, is sung.

Sinsy's scores do not change, so they are cached by the score's content (and
the scorecard's and pysinsy's versions) in ~/.cache/utagoe-bench (or
$XDG_CACHE_HOME); the scorecard is ../shared/evalkit/score_singing.py, or
$UTAGOE_EVALKIT. utagoe's are cached by the rendered audio's bytes, so a
variant that sings exactly as another costs only its render. The renders are
left in a folder under /tmp, printed at the end. The scorecard takes about
25 s per minute of audio on one core; ``--jobs`` songs are sung and scored at
once.

Sinsy's audio is scaled to a peak of -1 dBFS, as bench_render.py does, except
where Sinsy bursts (on some low notes, peaks 40-50 dB over its singing): then
it is scaled by its typical level (the 95th percentile of 50 ms peaks at
-9 dBFS) and the bursts are clipped, so that the scorecard's voicing (relative
to the peak) still hears the rest of the song.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import dataclasses
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from examples import solo_songs  # noqa: E402
EVALKIT = Path(os.environ.get("UTAGOE_EVALKIT") or ROOT.parent / "shared" / "evalkit" / "score_singing.py")
#: bump when the way Sinsy's audio is made or scaled changes
SINSY_AUDIO_VERSION = "3"
SINSY_LEVEL_DBFS = -9.0
BURST_DB = 25.0


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "utagoe-bench"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def evalkit_version() -> str:
    return _sha(EVALKIT.read_bytes())[:16]


# -- settings -------------------------------------------------------------------------------

def parse_assignments(pairs: list[str]) -> dict[str, str]:
    out = {}
    for p in pairs:
        if "=" not in p:
            raise SystemExit(f"expected field=value, got {p!r}")
        k, v = p.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def typed_tuning(raw: dict[str, str]) -> dict[str, object]:
    """HTSTuning field values from text, typed by the field's default."""
    from utagoe.voices.hts.tuning import HTSTuning

    defaults = HTSTuning()
    known = {f.name: getattr(defaults, f.name) for f in dataclasses.fields(HTSTuning)}
    out: dict[str, object] = {}
    for k, v in raw.items():
        if k not in known:
            raise SystemExit(f"HTSTuning has no field {k!r}; it has {', '.join(known)}")
        d = known[k]
        if isinstance(d, bool):
            out[k] = v.lower() in ("1", "true", "yes", "on")
        elif isinstance(d, int):
            out[k] = int(v)
        elif isinstance(d, float):
            out[k] = float(v)
        elif d is None:
            out[k] = None if v.lower() == "none" else float(v)
        else:
            out[k] = v
    HTSTuning(**out)  # checks the values now, not in a worker
    return out


def typed_stage(stage: str, raw: dict[str, str]) -> dict[str, object]:
    """Field values of a stage's settings (``timing.FIELD=VALUE`` for
    TimingSettings, ``pitch.FIELD=VALUE`` for PitchSettings) from text."""
    from utagoe.expression.pitch import PitchSettings
    from utagoe.timing.align import TimingSettings

    cls = {"timing": TimingSettings, "pitch": PitchSettings}[stage]
    kinds = {f.name: type(getattr(cls(), f.name)) for f in dataclasses.fields(cls)}
    out: dict[str, object] = {}
    for k, v in raw.items():
        if k not in kinds:
            raise SystemExit(f"{cls.__name__} has no field {k!r}; it has {', '.join(sorted(kinds))}")
        kind = kinds[k]
        out[k] = (v if kind is str else v.lower() in ("1", "true", "yes") if kind is bool
                  else int(v) if kind is int else float(v))
    cls(**out)
    return out


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    tuning: tuple[tuple[str, object], ...]
    vocoder: str
    timing: tuple[tuple[str, object], ...] = ()
    pitch: tuple[tuple[str, object], ...] = ()
    #: the singer (None: the default, song070)
    singer: str | None = None

    def settings(self):
        from utagoe.expression.pitch import PitchSettings
        from utagoe.settings import RenderSettings, VoiceSettings
        from utagoe.timing.align import TimingSettings
        from utagoe.voices.hts.tuning import HTSTuning

        return RenderSettings(voice=VoiceSettings(vocoder=self.vocoder, hts=HTSTuning(**dict(self.tuning))),
                              timing=TimingSettings(**dict(self.timing)), pitch=PitchSettings(**dict(self.pitch)))

    def describe(self) -> str:
        parts = ([f"{k}={v}" for k, v in self.tuning] + [f"timing.{k}={v}" for k, v in self.timing]
                 + [f"pitch.{k}={v}" for k, v in self.pitch] + [f"vocoder={self.vocoder}"]
                 + ([f"singer={self.singer}"] if self.singer else []))
        return " ".join(parts)


def parse_variants(specs: list[str], base_tuning: dict[str, str], base_vocoder: str) -> list[Variant]:
    if not specs:
        specs = ["run:"]
    out = []
    for spec in specs:
        name, _, rest = spec.partition(":")
        raw = dict(base_tuning)
        raw.update(parse_assignments(rest.split()))
        vocoder = raw.pop("vocoder", base_vocoder)
        singer = raw.pop("singer", None)
        stages = {st: {k.split(".", 1)[1]: raw.pop(k) for k in list(raw) if k.startswith(st + ".")}
                  for st in ("timing", "pitch")}
        out.append(Variant(name.strip() or f"v{len(out)}", tuple(sorted(typed_tuning(raw).items())), vocoder,
                           tuple(sorted(typed_stage("timing", stages["timing"]).items())),
                           tuple(sorted(typed_stage("pitch", stages["pitch"]).items())), singer))
    return out


# -- singing --------------------------------------------------------------------------------

_VOICES: dict[str, object] = {}


def render_utagoe(song: str, variant: Variant, out: Path) -> float:
    import utagoe

    t0 = time.perf_counter()
    settings = variant.settings()
    key = repr(settings.voice)
    if key not in _VOICES:  # one voice registry per worker process and setting
        _VOICES[key] = utagoe.voice_registry(settings.voice, plugins=False)
    result = utagoe.render(utagoe.load(song), variant.singer, settings=settings, voices=_VOICES[key])
    result.audio.save(out)
    return time.perf_counter() - t0


from bench_render import sinsy_copy  # noqa: E402  (the same copy for Sinsy in both benches)


def render_sinsy(copy: Path, out: Path) -> int:
    """Sinsy's audio with its peak at -1 dBFS, as bench_render scores it; where
    its peak is a burst (over BURST_DB above its typical level), scaled by the
    typical level instead and the bursts clipped. Returns how many samples were
    clipped."""
    import pysinsy
    import soundfile as sf

    wav, sr = pysinsy.synthesize(str(copy))
    w = np.asarray(wav, dtype=np.float64)
    hop = int(0.05 * sr)
    n = len(w) // hop
    peaks = np.abs(w[: n * hop]).reshape(n, hop).max(axis=1) if n else np.abs(w)
    peak = max(float(np.max(np.abs(w))) if len(w) else 0.0, 1e-9)
    level = max(float(np.percentile(peaks, 95)) if len(peaks) else peak, 1e-9)
    if 20 * np.log10(peak / level) > BURST_DB:
        w = w / level * 10 ** (SINSY_LEVEL_DBFS / 20)
    else:
        w = w / peak * 10 ** (-1 / 20)
    clipped = int(np.sum(np.abs(w) > 0.999))
    sf.write(out, np.clip(w, -0.999, 0.999), sr, subtype="PCM_16")
    return clipped


# -- scoring --------------------------------------------------------------------------------

def scorecard(wav: Path, song: str) -> dict:
    r = subprocess.run([sys.executable, str(EVALKIT), str(wav), song, "--crepe", "none"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"scorecard failed on {wav}: {r.stderr.strip()[-400:]}")
    return json.loads(r.stdout)


def summarize(card: dict) -> dict:
    v = card["vowels"]
    return dict(
        vowels=v.get("accuracy"),
        vowels_n=v.get("n_classified"),
        confusion=v.get("confusion_rows_expected_cols_predicted"),
        in_tune=card["pitch"]["harvest"]["frames_within_50c_pct"],
        onset_p95_ms=card["timing"]["p95_abs_offset_ms"],
        onset_median_ms=card["timing"]["median_abs_offset_ms"],
        clicks=card["hygiene"]["clicks"],
        clipped=card["hygiene"]["clipped_samples"],
    )


def cached_score(wav: Path, song: str, key: str) -> dict:
    path = cache_dir() / "scores" / f"{key}.json"
    if path.exists():
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            pass
    s = summarize(scorecard(wav, song))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(s))
    tmp.replace(path)
    return s


def utagoe_task(song: str, variant: Variant, out: Path, ek: str) -> dict:
    t = render_utagoe(song, variant, out)
    key = "u-" + _sha(out.read_bytes() + Path(song).read_bytes() + ek.encode())[:32]
    s = cached_score(out, song, key)
    return dict(s, render_s=round(t, 2))


def sinsy_task(song: str, tmp: Path, ek: str) -> dict:
    import importlib.metadata

    copy = sinsy_copy(song, tmp / f"{Path(song).stem}.sinsy.musicxml")
    key = "s-" + _sha(copy.read_bytes() + Path(song).read_bytes() + ek.encode()
                      + importlib.metadata.version("pysinsy").encode() + SINSY_AUDIO_VERSION.encode())[:32]
    path = cache_dir() / "scores" / f"{key}.json"
    if path.exists():
        return dict(json.loads(path.read_text()), cached=True)
    wav = tmp / f"{Path(song).stem}.sinsy.wav"
    clipped = render_sinsy(copy, wav)
    s = cached_score(wav, song, key)
    return dict(s, bursts_clipped=clipped)


# -- report ---------------------------------------------------------------------------------

def fmt(x, spec=".2f") -> str:
    return "   -" if x is None else format(x, spec)


def report(songs: list[str], variants: list[Variant], res: dict, sinsy: dict) -> dict:
    names = [Path(s).stem for s in songs]
    w = max(len(n) for n in names + ["mean"])
    summary = {}
    for v in variants:
        print(f"\n== {v.name}: {v.describe()}")
        print(f"{'song':{w}s}  utagoe  sinsy   diff  in-tune%  (sinsy)  onset-p95  clicks")
        wins, us, ss = 0, [], []
        for s, n in zip(songs, names):
            u, q = res[(v.name, s)], sinsy[s]
            d = None if u["vowels"] is None or q["vowels"] is None else u["vowels"] - q["vowels"]
            wins += d is not None and d > 0
            us.append(u["vowels"])
            ss.append(q["vowels"])
            print(f"{n:{w}s}  {fmt(u['vowels'])}    {fmt(q['vowels'])}  {fmt(d, '+.2f')}  "
                  f"{fmt(u['in_tune'], '6.1f')}    {fmt(q['in_tune'], '5.1f')}    {fmt(u['onset_p95_ms'], '5.0f')}     "
                  f"{u['clicks']}")
        mu = float(np.mean([x for x in us if x is not None]))
        ms = float(np.mean([x for x in ss if x is not None]))
        it = float(np.mean([res[(v.name, s)]["in_tune"] for s in songs]))
        p95 = float(np.max([res[(v.name, s)]["onset_p95_ms"] for s in songs]))
        clicks = int(sum(res[(v.name, s)]["clicks"] for s in songs))
        print(f"{'mean':{w}s}  {mu:.3f}   {ms:.3f}  {mu - ms:+.3f}  {it:6.1f}    worst onset p95 {p95:.0f} ms, "
              f"clicks {clicks}; utagoe beats Sinsy on {wins} of {len(songs)} songs")
        summary[v.name] = dict(mean_vowels=round(mu, 4), sinsy_mean_vowels=round(ms, 4), wins=wins,
                               songs=len(songs), mean_in_tune=round(it, 2), worst_onset_p95_ms=p95,
                               clicks=clicks, settings=v.describe())
    if len(variants) > 1:
        print("\nvowel accuracy, every variant on every song")
        print(f"{'song':{w}s}  sinsy  " + "  ".join(f"{v.name:>8s}" for v in variants))
        for s, n in zip(songs, names):
            print(f"{n:{w}s}  {fmt(sinsy[s]['vowels'])}   " + "  ".join(
                f"{fmt(res[(v.name, s)]['vowels']):>8s}" for v in variants))
        print(f"{'mean':{w}s}  {summary[variants[0].name]['sinsy_mean_vowels']:.3f}  " + "  ".join(
            f"{summary[v.name]['mean_vowels']:8.3f}" for v in variants))
        print(f"{'wins':{w}s}         " + "  ".join(f"{summary[v.name]['wins']:8d}" for v in variants))
        print(f"{'in tune':{w}s}         " + "  ".join(f"{summary[v.name]['mean_in_tune']:8.1f}" for v in variants))
        print(f"{'p95 max':{w}s}         " + "  ".join(f"{summary[v.name]['worst_onset_p95_ms']:8.0f}" for v in variants))
        print(f"{'clicks':{w}s}         " + "  ".join(f"{summary[v.name]['clicks']:8d}" for v in variants))
    return summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--songs", default=str(ROOT / "examples" / "*.musicxml"), help="glob of scores")
    ap.add_argument("--tuning", action="append", default=[], metavar="FIELD=VALUE",
                    help="an HTSTuning field for every variant (repeatable)")
    ap.add_argument("--vocoder", default="utagoe", help="utagoe or world")
    ap.add_argument("--variant", action="append", default=[], metavar="'NAME: FIELD=VALUE ...'",
                    help="a named set of settings to judge beside the others (repeatable)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", help="write every figure here")
    ap.add_argument("--out", help="folder for the renders (default: a new one under /tmp)")
    args = ap.parse_args()
    if not EVALKIT.exists():
        raise SystemExit(f"no scorecard at {EVALKIT}")
    songs = solo_songs(args.songs)
    if not songs:
        raise SystemExit(f"no songs match {args.songs}")
    variants = parse_variants(args.variant, parse_assignments(args.tuning), args.vocoder)
    if len({v.name for v in variants}) != len(variants):
        raise SystemExit("variant names must differ")
    tmp = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="utagoe-vowels-"))
    tmp.mkdir(parents=True, exist_ok=True)
    ek = evalkit_version()
    t0 = time.perf_counter()
    res: dict = {}
    sinsy: dict = {}
    ctx = multiprocessing.get_context("fork")
    with cf.ProcessPoolExecutor(max_workers=max(1, args.jobs), mp_context=ctx) as pool:
        futs = {}
        for s in songs:
            futs[pool.submit(sinsy_task, s, tmp, ek)] = ("sinsy", s)
        for v in variants:
            for s in songs:
                out = tmp / f"{Path(s).stem}.{v.name}.wav"
                futs[pool.submit(utagoe_task, s, v, out, ek)] = (v.name, s)
        for f in cf.as_completed(futs):
            who, s = futs[f]
            r = f.result()
            if who == "sinsy":
                sinsy[s] = r
                if r.get("bursts_clipped"):
                    print(f"  sinsy {Path(s).stem}: {r['bursts_clipped']} samples of bursts clipped", flush=True)
            else:
                res[(who, s)] = r
            print(f"  done {who:>10s} {Path(s).stem:24s} vowels {fmt(r['vowels'])}", flush=True)
    summary = report(songs, variants, res, sinsy)
    el = time.perf_counter() - t0
    print(f"\n{len(songs)} songs, {len(variants)} variant(s), {el:.0f} s with {args.jobs} jobs; renders in {tmp}")
    if args.json:
        data = dict(summary=summary, songs=[Path(s).stem for s in songs],
                    sinsy={Path(s).stem: sinsy[s] for s in songs},
                    utagoe={v.name: {Path(s).stem: res[(v.name, s)] for s in songs} for v in variants},
                    seconds=round(el, 1))
        Path(args.json).write_text(json.dumps(data, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
