"""Shared test helpers: where the real third-party files live."""
from __future__ import annotations

from pathlib import Path

import pytest

#: ../shared/data next to the repository: real third-party files (see its MANIFEST.md)
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The ../shared/data folder; skips the test where it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED
