"""Sampled curves that carry their own time grid."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True, eq=False)
class Curve:
    """values[i] is the value at start_s + i * period_s."""

    values: np.ndarray
    start_s: float
    period_s: float

    def __post_init__(self) -> None:
        if self.period_s <= 0:
            raise ValueError(f"period_s must be > 0, got {self.period_s}")

    @property
    def end_s(self) -> float:
        return self.start_s + len(self.values) * self.period_s

    def times_s(self) -> np.ndarray:
        return self.start_s + np.arange(len(self.values)) * self.period_s
