"""Helpers for the robustness tests every reader has."""
from __future__ import annotations


def cut_positions(size: int) -> list[int]:
    """Where to truncate a real file: every byte of a file up to 8 KB; of a bigger
    one, its first 300 bytes and 400 cuts spread evenly over the rest."""
    if size <= 8192:
        return list(range(size))
    return sorted(set(range(min(300, size))) | {size * k // 400 for k in range(400)})


def check_sane_project(project, *, monophonic: bool = True) -> None:
    """What every Project a reader returns must satisfy, whatever the input was."""
    import math

    from utagoe.formats import limits

    for t in project.tracks:
        for a, b in zip(t.notes, t.notes[1:]):
            assert a.start_ticks <= b.start_ticks
            assert not monophonic or a.end_ticks <= b.start_ticks
        for n in t.notes:
            assert n.start_ticks >= 0 and n.duration_ticks > 0 and 0 <= n.pitch <= 127
            assert n.end_ticks <= limits.MAX_TICKS
        for c in t.curves:
            assert all(math.isfinite(v) for v in c.values)
        assert math.isfinite(t.volume_db) and -1 <= t.pan <= 1
    assert project.tempos[0].tick == 0 and all(limits.bpm_ok(t.bpm) for t in project.tempos)
    assert project.time_signatures[0].tick == 0


def read_or_score_error(read, data: bytes, **options) -> None:
    """The robustness contract: ``read(data, **options)`` gives a sane Project, or
    raises ScoreFormatError with a message -- nothing else."""
    from utagoe.errors import ScoreFormatError

    try:
        project = read(data, **options)
    except ScoreFormatError as e:
        assert str(e)
        return
    assert all(t.notes for t in project.tracks)
    check_sane_project(project)


def check_truncations(read, files) -> int:
    """Every cut of every file (see :func:`cut_positions`), strict and lenient, keeps
    the robustness contract. Returns the number of reads."""
    count = 0
    for f in files:
        data = f.read_bytes()
        for cut in cut_positions(len(data)):
            read_or_score_error(read, data[:cut], lenient=False)
            read_or_score_error(read, data[:cut], lenient=True)
            count += 2
    return count


def assert_scales_linearly(run, size: int, *, factor: int = 4, repeat: int = 3) -> float:
    """A complexity guard without a wall-clock limit: ``run(size)`` and
    ``run(factor * size)`` are timed (best of ``repeat``) in the same test, and the
    larger must take well under the square of ``factor`` times as long (linear work
    takes about ``factor`` times; quadratic, ``factor ** 2``). Returns the ratio."""
    import time

    def best(n: int) -> float:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            run(n)
            times.append(time.perf_counter() - t0)
        return min(times)

    small = best(size)
    large = best(factor * size)
    ratio = large / max(small, 1e-3)
    assert ratio < factor ** 1.5, (f"{factor}x the input took {ratio:.1f}x the time "
                                   f"({small:.3f} s, then {large:.3f} s): worse than linear")
    return ratio
