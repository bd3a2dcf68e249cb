"""Helpers for the robustness tests every reader has (tests/test_formats_robust.py),
and for complexity guards that need no wall-clock limit."""
from __future__ import annotations

import random
import re

#: numbers a mutation puts where the file had a number
ABSURD = [b"0", b"-1", b"1e9", b"1000000000", b"-999999999", b"nan", b"inf", b"1e308",
          b"99999999999999999999", b"0.0000001", b"-0", b"", b"x", b"0.5", b"10080"]
_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?")


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four random edits of ``data``: a byte changed, bytes deleted, random bytes
    inserted, a piece of the file copied elsewhere, or a number made absurd."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        if not b:
            b.extend(rng.randbytes(rng.randint(1, 16)))
        elif kind < 0.3:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif kind < 0.45:
            i = rng.randrange(len(b))
            del b[i:i + rng.randint(1, 32)]
        elif kind < 0.6:
            i = rng.randrange(len(b) + 1)
            b[i:i] = rng.randbytes(rng.randint(1, 16))
        elif kind < 0.75:
            i, j = rng.randrange(len(b)), rng.randrange(len(b))
            b[i:i] = b[j:j + rng.randint(1, 200)]
        else:
            numbers = list(_NUMBER.finditer(bytes(b)))
            if numbers:
                m = rng.choice(numbers)
                b[m.start():m.end()] = rng.choice(ABSURD)
    return bytes(b)


def cut_positions(size: int, *, every_below: int = 8192, head: int = 300,
                  spread: int = 400) -> list[int]:
    """Where to truncate a real file: every byte of a file up to ``every_below`` bytes;
    of a bigger one, its first ``head`` bytes and ``spread`` cuts spread evenly over
    the rest. (``benchmarks/fuzz_readers.py`` cuts at every byte of every file.)"""
    if size <= every_below:
        return list(range(size))
    return sorted(set(range(min(head, size))) | {size * k // spread for k in range(spread)})


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


def check_truncations(read, files, **cuts) -> int:
    """Cuts of every file (see :func:`cut_positions`; ``cuts`` are its options), read
    strictly and leniently in turn, keep the robustness contract. Returns the number
    of reads."""
    count = 0
    for f in files:
        data = f.read_bytes()
        for i, cut in enumerate(cut_positions(len(data), **cuts)):
            read_or_score_error(read, data[:cut], lenient=bool(i % 2))
            count += 1
    return count
