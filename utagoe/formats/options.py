"""What a caller asks of a score reader: :class:`ReadOptions`, checked when it is made.

A light module (no numpy, no readers), exported as ``utagoe.ReadOptions``. A new
read option is added here, once: the registry hands the one object to every reader,
and a reader ignores what its format has no use for.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass

from ..errors import InvalidValueError, ScoreFormatError


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read a score file.

    ``part``: which track (part) to sing: ``None`` for every track with lyrics
    (MusicXML: every part with lyrics, each a track); a number N >= 1 for the Nth track that
    has notes (MusicXML: the Nth part); a string for the track of that name (any
    case; MusicXML also takes a part id).
    ``verse``: MusicXML lyric line, a number >= 1 or a lyric name (``"chorus"``).
    ``voice``: MusicXML voice, a number >= 1 or the voice id as text.
    ``lenient``: recoverable problems become ``Project.warnings`` instead of errors.
    ``encoding``: a Python codec name forcing how text inside the file is decoded
    (MIDI lyrics, UST, USTX), instead of detecting it.
    ``default_lyric``: tracks without any lyric are sung on this syllable (``"ら"``).
    ``keep_tracks_without_lyrics``: keep every track that has notes, those without
    lyrics too (their notes get the empty lyric :data:`~utagoe.model.score.NO_LYRIC`
    and a warning says they are not sung): what ``convert`` and ``info`` want. When
    False (rendering), such tracks are left out with a warning, and a file where no
    track has lyrics is refused with an error that suggests ``default_lyric``.
    """

    part: int | str | None = None
    verse: int | str | None = None
    voice: int | str | None = None
    lenient: bool = False
    encoding: str | None = None
    default_lyric: str | None = None
    keep_tracks_without_lyrics: bool = False

    def __post_init__(self) -> None:
        _check_choice("part", self.part, "a track number (1 for the first) or a track name")
        _check_choice("verse", self.verse, "a verse number (1 for the first) or a lyric name")
        _check_choice("voice", self.voice, "a voice number (1 for the first) or a voice id")
        for name in ("lenient", "keep_tracks_without_lyrics"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidValueError(f"ReadOptions.{name} must be True or False, got "
                                        f"{getattr(self, name)!r:.60}")
        if self.default_lyric is not None and not isinstance(self.default_lyric, str):
            raise InvalidValueError(f"ReadOptions.default_lyric must be text, got "
                                    f"{self.default_lyric!r:.60}")
        if self.encoding is not None:
            check_encoding(self.encoding)


def _check_choice(name: str, value: object, what: str) -> None:
    if value is None or isinstance(value, str):
        return
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return
    raise InvalidValueError(f"ReadOptions.{name} must be None, {what}, got {value!r:.60} "
                            "(numbers are 1-based)")


def check_encoding(name: object) -> str:
    """The Python codec name for the text encoding ``name``; ScoreFormatError if there is
    no such text encoding."""
    if not isinstance(name, str) or not name.strip():
        raise ScoreFormatError(f"unknown text encoding {name!r:.60}")
    try:
        info = codecs.lookup(name.strip())
    except (LookupError, ValueError, TypeError):
        raise ScoreFormatError(f"unknown text encoding {name!r:.60}") from None
    if not getattr(info, "_is_text_encoding", True):
        raise ScoreFormatError(f"unknown text encoding {name!r:.60}: {info.name} is not a "
                               "text encoding")
    return info.name


__all__ = ["ReadOptions", "check_encoding"]
