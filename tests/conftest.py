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


def real_file(shared: Path, folder: str, rel: str) -> bytes:
    """The bytes of ``../shared/data/<folder>/<rel>``; skips the test where it is absent."""
    f = shared / folder / rel
    if not f.is_file():
        pytest.skip(f"{folder}/{rel} is absent from ../shared/data")
    return f.read_bytes()


def real_folder(shared: Path, folder: str, rel: str) -> Path:
    """The folder ``../shared/data/<folder>/<rel>``; skips the test where it is absent."""
    d = shared / folder / rel
    if not d.is_dir():
        pytest.skip(f"{folder}/{rel} is absent from ../shared/data")
    return d


def real_files(shared: Path, folder: str, pattern: str) -> list[Path]:
    """Every file matching ``pattern`` below ``../shared/data/<folder>``, sorted."""
    return sorted((shared / folder).rglob(pattern))


@pytest.fixture(scope="session")
def builtin_voices():
    """The installed voices without plugins.

    The built-in singer's voice file ships inside pysinsy and it sings through
    pyworld, both dependencies of utagoe: where it cannot be made, the install is
    broken and every test that needs it fails (never skips), saying why.
    """
    from utagoe.errors import VoiceError
    from utagoe.voices.registry import default_voices

    try:
        reg = default_voices(plugins=False)
        reg.get("song070")
    except (VoiceError, ImportError) as exc:
        pytest.fail(f"the built-in singer cannot be made ({type(exc).__name__}: {exc}); pysinsy and pyworld "
                    "are dependencies of utagoe: reinstall with pip install -e '.[test]'", pytrace=False)
    return reg


# Property tests are derandomised so CI is reproducible; HYPOTHESIS_PROFILE=explore
# draws fresh random examples on every run, when hunting for bugs.
import os  # noqa: E402

from hypothesis import settings as _hsettings  # noqa: E402

_hsettings.register_profile("default", derandomize=True, deadline=None)
_hsettings.register_profile("explore", derandomize=False, deadline=None)
_hsettings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True, scope="session")
def _own_settings_and_cache(tmp_path_factory):
    """No test reads or writes the user's real utagoe settings or analysis cache
    (subprocesses inherit these too)."""
    base = tmp_path_factory.mktemp("utagoe-home")
    old = {k: os.environ.get(k) for k in ("UTAGOE_CONFIG_DIR", "UTAGOE_CACHE_DIR")}
    os.environ["UTAGOE_CONFIG_DIR"] = str(base / "config")
    os.environ["UTAGOE_CACHE_DIR"] = str(base / "cache")
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
