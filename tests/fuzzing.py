"""Helpers for the robustness tests every reader has."""
from __future__ import annotations


def cut_positions(size: int) -> list[int]:
    """Where to truncate a real file: every byte of a file up to 8 KB; of a bigger
    one, its first 300 bytes and 400 cuts spread evenly over the rest."""
    if size <= 8192:
        return list(range(size))
    return sorted(set(range(min(300, size))) | {size * k // 400 for k in range(400)})
