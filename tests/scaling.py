"""Complexity guards without wall-clock limits: the time of an input and of one
``factor`` times larger, measured in the same test, as a ratio."""
from __future__ import annotations

from typing import Callable


def assert_scales_linearly(run: Callable[[int], object], size: int, *, factor: int = 4, repeat: int = 3) -> float:
    """A complexity guard without a wall-clock limit: ``run(size)`` and
    ``run(factor * size)`` are timed (best of ``repeat``) in the same test, and the
    larger must take well under the square of ``factor`` times as long (linear work
    takes about ``factor`` times; quadratic, ``factor ** 2``). Returns the ratio."""
    import gc
    import time

    def best(n: int) -> float:
        times = []
        for _ in range(repeat):
            gc.collect()
            gc.disable()   # the collector's pauses grow with the heap, not with our work
            try:
                t0 = time.perf_counter()
                run(n)
                times.append(time.perf_counter() - t0)
            finally:
                gc.enable()
        return min(times)

    run(size)  # warm up (imports, caches)
    small = best(size)
    large = best(factor * size)
    ratio = large / max(small, 1e-3)
    assert ratio < factor ** 1.5, (f"{factor}x the input took {ratio:.1f}x the time "
                                   f"({small:.3f} s, then {large:.3f} s): worse than linear")
    return ratio
