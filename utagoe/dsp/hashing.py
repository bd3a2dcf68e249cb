"""Counter-based random numbers: values that are a function of a key and a
position, not of how many were drawn before (so a block of noise or a note's
variation comes out the same however the work is cut), from numpy's integer
arithmetic alone (importing ``numpy.random`` costs about 10 ms of a command's
start).

:func:`mix64` is SplitMix64's finaliser; :func:`splitmix64` is the SplitMix64
generator (Steele, Lea and Flood, 2014: the state advances by the golden
ratio's 64-bit constant and each state is finalised), which passes BigCrush.
"""
from __future__ import annotations

import numpy as np

__all__ = ["GOLDEN", "mix64", "splitmix64", "stream_key"]

#: 2**64 / the golden ratio, odd: SplitMix64's increment
GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def mix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser, elementwise on uint64 (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def stream_key(*parts: int) -> int:
    """A 64-bit key from non-negative integers (a seed, a block number, ...):
    each part mixed into the key in turn, so different tuples give unrelated keys."""
    h = np.array([0x2545F4914F6CDD1D], dtype=np.uint64)
    for part in parts:
        if part < 0:
            raise ValueError(f"key parts must be non-negative, got {part}")
        h = mix64(h ^ (np.array([part % 2**64], dtype=np.uint64) + GOLDEN))
    return int(h[0])


def splitmix64(key: int, n: int) -> np.ndarray:
    """The first ``n`` outputs (uint64) of SplitMix64 seeded with ``key``."""
    state = np.arange(1, n + 1, dtype=np.uint64)
    state *= GOLDEN
    state += np.uint64(key % 2**64)
    return mix64(state)
