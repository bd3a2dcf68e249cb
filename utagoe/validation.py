"""Checks that constructors run on their fields, so a bad value fails where it is
given, with an :class:`~utagoe.errors.InvalidValueError` that names the field,
instead of deep inside numpy or scipy later."""
from __future__ import annotations

import math
from numbers import Integral, Real

from .errors import InvalidValueError


def _fail(owner: str, field: str, expected: str, value: object) -> InvalidValueError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return InvalidValueError(f"{owner}.{field} must be {expected}, got {shown}")


def _range_text(lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {lo:g}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {hi:g}")
    return " and ".join(parts)


def check_number(owner: str, field: str, value: object, *, lo: float | None = None,
                 hi: float | None = None, lo_open: bool = False, hi_open: bool = False) -> float:
    """``value`` as a finite float within the bounds (open bounds exclude themselves)."""
    expected = "a finite number" + (f" {_range_text(lo, hi, lo_open, hi_open)}"
                                    if lo is not None or hi is not None else "")
    if isinstance(value, bool) or not isinstance(value, Real):
        raise _fail(owner, field, expected, value)
    try:
        v = float(value)
    except OverflowError:  # an int beyond any float
        raise _fail(owner, field, expected, value) from None
    if not math.isfinite(v):
        raise _fail(owner, field, expected, value)
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise _fail(owner, field, expected, value)
    if hi is not None and (v > hi or (hi_open and v == hi)):
        raise _fail(owner, field, expected, value)
    return v


def check_int(owner: str, field: str, value: object, *, lo: int | None = None,
              hi: int | None = None) -> int:
    """``value`` as an int within [lo, hi]."""
    expected = "an integer" + (f" {_range_text(lo, hi, False, False)}"
                               if lo is not None or hi is not None else "")
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise _fail(owner, field, expected, value)
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise _fail(owner, field, expected, value)
    return v


def check_choice(owner: str, field: str, value: object, choices) -> str:
    """``value`` as one of ``choices`` (strings)."""
    if not isinstance(value, str) or value not in choices:
        raise _fail(owner, field, "one of " + ", ".join(map(repr, choices)), value)
    return value


def check_text(owner: str, field: str, value: object) -> str:
    if not isinstance(value, str):
        raise _fail(owner, field, "text (str)", value)
    return value


def check_fields(obj: object, owner: str, bounds: dict[str, tuple]) -> None:
    """Check each named field of ``obj``: ``bounds[name]`` is ``(lo, hi)`` or
    ``(lo, hi, lo_open, hi_open)``; a field with int bounds must be an int, the
    others any finite number."""
    for name, b in bounds.items():
        lo, hi = b[0], b[1]
        lo_open = b[2] if len(b) > 2 else False
        hi_open = b[3] if len(b) > 3 else False
        value = getattr(obj, name)
        if isinstance(lo, int) and isinstance(hi, int):
            check_int(owner, name, value, lo=lo, hi=hi)
        else:
            check_number(owner, name, value, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open)


def check_bool(owner: str, field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _fail(owner, field, "True or False", value)
    return value


def check_instance(owner: str, field: str, value: object, kind: type) -> None:
    if not isinstance(value, kind):
        raise InvalidValueError(f"{owner}.{field} must be a {kind.__name__}, got {value!r:.60}")


def as_tuple(owner: str, field: str, value: object) -> tuple:
    """``value`` as a tuple (from any iterable but text)."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise _fail(owner, field, "a sequence", value)
    return tuple(value)
