"""Showing text that came from a file (titles, track names, lyrics) on a terminal.

Text inside a project file is the file author's, not ours: an escape sequence in
a title would reach the terminal, and a newline in a track name would forge a
line of a report. :func:`shown` escapes every control character (and the
bidirectional overrides), so such text always stays on its one line.
"""
from __future__ import annotations

import re

#: C0 and C1 controls, DEL, and the Unicode bidi embedding/override/isolate marks
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: the same, but keeping newline and tab (for our own multi-line messages)
_CONTROLS_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escape(m: re.Match) -> str:
    ch = m.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: str, *, limit: int | None = None) -> str:
    """``text`` with every control character escaped (``\\n``, ``\\x1b``, ``\\u202e``),
    cut to ``limit`` characters with an ellipsis."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return _CONTROLS.sub(_escape, text)


def safe_message(text: str) -> str:
    """A message of ours that may embed file text: controls escaped, but its own
    line breaks and tabs kept."""
    return _CONTROLS_BUT_LINES.sub(_escape, text)
