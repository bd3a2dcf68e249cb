"""The built-in singer: NIT song070 (f001), the HTS singing voice inside pysinsy."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import VoiceError
from ..base import SingerInfo

if TYPE_CHECKING:
    from ...lyrics.base import PhonemeSet
    from ...settings import VoiceSettings
    from .singer import HTSSinger

SONG070_INFO = SingerInfo(
    name="song070",
    display_name="NIT song070 (f001)",
    language="ja",
    licence="CC-BY 3.0",
    credit="nitech_jp_song070_f001: HTS singing voice by the Nagoya Institute of Technology "
           "(HTS working group), shipped in the pysinsy package",
    description="Japanese female singing voice (HTS), 48 kHz",
)


def find_song070() -> Path:
    """The .htsvoice inside the installed pysinsy package (found without importing it)."""
    spec = importlib.util.find_spec("pysinsy")
    if spec is None or not spec.submodule_search_locations:
        raise VoiceError("the built-in singer needs the 'pysinsy' package (pip install pysinsy==0.0.5)")
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "htsvoice" / "nitech_jp_song070_f001.htsvoice"
        if p.is_file():
            return p
    raise VoiceError("pysinsy is installed but its htsvoice/nitech_jp_song070_f001.htsvoice is missing")


def make_song070(settings: "VoiceSettings | None" = None, *,
                 phonemes: "PhonemeSet | None" = None) -> "HTSSinger":
    """The built-in singer with ``settings``; ``phonemes`` default to the Japanese
    phonemizer's set (the language song070 sings)."""
    from .singer import HTSSinger

    if phonemes is None:
        from ...lyrics.registry import default_phonemizers

        phonemes = default_phonemizers().get(SONG070_INFO.language).phonemes
    return HTSSinger(SONG070_INFO, find_song070(), phonemes=phonemes, settings=settings)
