"""The example songs the per-song benchmarks sing: every one-part score in
``examples/`` (the chorale's four parts are sung and scored part by part, by
``bench_tracks.py`` and the tests, since the scorecard judges one part)."""
from __future__ import annotations

import glob
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the examples with several parts
MULTI_PART = ("chorale_",)


def solo_songs(pattern: str | None = None) -> list[str]:
    """The scores ``pattern`` matches (default: every example), the multi-part
    examples left out."""
    paths = sorted(glob.glob(pattern or str(ROOT / "examples" / "*.musicxml")))
    return [p for p in paths if not Path(p).name.startswith(MULTI_PART)]
