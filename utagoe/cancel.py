"""CancelToken: how a caller stops a render between steps."""
from __future__ import annotations

from .errors import RenderCancelled


class CancelToken:
    """Call ``cancel()`` from anywhere (another thread, a signal handler, a UI);
    long work calls ``check()`` between steps and stops with :class:`RenderCancelled`."""

    __slots__ = ("_cancelled",)

    def __init__(self) -> None:
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def check(self) -> None:
        if self._cancelled:
            raise RenderCancelled("render cancelled")


def check(cancel: CancelToken | None) -> None:
    """``cancel.check()`` where a token was given."""
    if cancel is not None:
        cancel.check()
