"""An edit through the API: change one note of a long song and render again.

    .venv/bin/python benchmarks/bench_edit.py [--repeat 4] [--score examples/sakura.musicxml]
        [--tuning context_phrases=1 ...]

The score's track is repeated ``--repeat`` times (sakura x 4 is a 3.6-minute
song). It is rendered once with a kept :class:`utagoe.RenderCache`, then one
note in the middle is moved up a tone and the song rendered again with the same
cache, as an editor would. Printed: the full render's time, the edit's time
(both whole ``utagoe.render`` calls on one core, warm), how many phrases the
edit sang again, where its time went (planning, parameter generation,
vocoding, mixing; process time of each part over three more edits), and how the edit's audio
differs from a full render of the edited song without a cache (the largest
sample difference, and in 16-bit steps after the mix's peak scaling).
``--tuning`` (repeatable) sets a field of the built-in singer's ``HTSTuning``
for every render (default: its defaults); the planning alone (``plan_render``,
which an edit runs in full) is timed too.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def long_song(score: str, repeat: int):
    import utagoe

    p = utagoe.load(score)
    track = p.tracks[0]
    span = p.end_ticks + 1920
    notes = [dataclasses.replace(n, start_ticks=n.start_ticks + k * span)
             for k in range(repeat) for n in track.notes]
    track = dataclasses.replace(track, notes=tuple(notes))
    return dataclasses.replace(p, tracks=(track,), tempos=p.tempos[:1])


def edited(song, step: int):
    track = song.tracks[0]
    notes = list(track.notes)
    i = len(notes) // 2
    while not notes[i].lyric.strip():
        i += 1
    notes[i] = dataclasses.replace(notes[i], pitch=notes[i].pitch + step)
    return dataclasses.replace(song, tracks=(dataclasses.replace(track, notes=tuple(notes)),)), i


def typed_tuning(pairs: list[str]) -> dict[str, object]:
    """HTSTuning fields from ``field=value`` text, typed by each field's default."""
    from utagoe.voices.hts.tuning import HTSTuning

    defaults = {f.name: getattr(HTSTuning(), f.name) for f in dataclasses.fields(HTSTuning)}
    out: dict[str, object] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in defaults:
            raise SystemExit(f"HTSTuning has no field {name!r}; it has {', '.join(defaults)}")
        kind = type(defaults[name])
        out[name] = value.lower() in ("1", "true", "yes", "on") if kind is bool else kind(value)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--score", default=str(ROOT / "examples" / "sakura.musicxml"))
    ap.add_argument("--repeat", type=int, default=4)
    ap.add_argument("--tuning", action="append", default=[], metavar="FIELD=VALUE",
                    help="an HTSTuning field (repeatable)")
    args = ap.parse_args()
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    import utagoe
    from utagoe.rendering.cache import RenderCache
    from utagoe.rendering.plan import plan_render
    from utagoe.settings import RenderSettings, VoiceSettings
    from utagoe.voices.hts.tuning import HTSTuning
    from utagoe.voices.registry import default_voices

    tuning = typed_tuning(args.tuning)
    settings = RenderSettings(voice=VoiceSettings(hts=HTSTuning(**tuning)))
    if tuning:
        print("tuning: " + " ".join(f"{k}={v}" for k, v in tuning.items()))
    song = long_song(args.score, args.repeat)
    voices = default_voices(settings.voice, plugins=False)
    # warm: voice loaded, code paths run
    utagoe.render(long_song(args.score, 1), voices=voices, settings=settings)
    cache = RenderCache()
    t = time.perf_counter()
    full = utagoe.render(song, voices=voices, cache=cache, settings=settings)
    t_full = time.perf_counter() - t
    seconds = full.audio.samples.shape[1] / full.audio.sample_rate
    song2, where = edited(song, 2)
    t = time.perf_counter()
    after = utagoe.render(song2, voices=voices, cache=cache, settings=settings)
    t_edit = time.perf_counter() - t
    print(f"song: {seconds:.1f} s, {len(song.tracks[0].notes)} notes, {full.phrases_rendered} phrases")
    print(f"full render {t_full:.2f} s; edit of note {where} {t_edit * 1000:.0f} ms "
          f"({t_edit / t_full:.3f} of the full render), phrases sung again {after.phrases_rendered}, "
          f"from the cache {after.phrases_cached}")

    plans = []
    for _ in range(3):
        t = time.perf_counter()
        plan_render(song2, singer=None, settings=settings, voices=voices)
        plans.append(time.perf_counter() - t)
    print(f"planning alone (plan_render, best of 3): {min(plans) * 1000:.0f} ms")

    reference = utagoe.render(song2, voices=voices, settings=settings)
    diff = np.abs(after.audio.samples - reference.audio.samples)
    peak = float(np.max(np.abs(reference.audio.samples))) or 1.0
    print(f"edit vs a full render of the edited song: largest difference {diff.max():.3g} "
          f"({diff.max() / peak * 32767:.2f} 16-bit steps at the mix's scale), "
          f"{100 * np.mean(diff > 0.5 / 32767):.3f}% of samples differ by half a step or more")

    # where the time goes: the parts timed in place (process time, no profiler),
    # over three more edits (each moves the same note elsewhere, so it is sung again)
    import utagoe.rendering.engine as engine
    import utagoe.voices.hts.singer as singer

    parts = {"planning (plan_render)": [(engine, "plan_render")],
             "parameter generation": [(singer, "generate_parameters")],
             "vocoding": [(singer, "vocode")],
             # the master's steps (mixed_blocks and master_blocks are generators, run
             # by these three)
             "mixing, level and master": [(engine, "mix_layout"), (engine, "measure_level"),
                                          (engine, "_joined")]}
    spent = dict.fromkeys(parts, 0.0)

    def timed(fn, label):
        def run(*a, **kw):
            t0 = time.process_time()
            try:
                return fn(*a, **kw)
            finally:
                spent[label] += time.process_time() - t0
        return run

    originals = [(mod, name, getattr(mod, name)) for fns in parts.values() for mod, name in fns]
    for label, fns in parts.items():
        for mod, name in fns:
            setattr(mod, name, timed(getattr(mod, name), label))
    rows = []
    try:
        for step in (4, 1, 3):
            song3, _ = edited(song, step)
            for label in spent:
                spent[label] = 0.0
            t = time.process_time()
            utagoe.render(song3, voices=voices, cache=cache, settings=settings)
            total = time.process_time() - t
            rows.append(dict(spent, total=total, rest=total - sum(spent.values())))
    finally:
        for mod, name, fn in originals:
            setattr(mod, name, fn)
    med = {label: float(np.median([r[label] for r in rows])) for label in rows[0]}
    print(f"where an edit's {med['total'] * 1000:.0f} ms of CPU went (median of 3 more edits):")
    for label in parts:
        print(f"  {label:26s} {med[label] * 1000:7.0f} ms")
    print(f"  {'the rest (placing, keys)':26s} {med['rest'] * 1000:7.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
