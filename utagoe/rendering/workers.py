"""Worker processes that run the voices' jobs: owned here, never by a voice.

A :class:`WorkerPool` runs :class:`~utagoe.voices.base.RenderJob` objects in this
process or, when more than one worker is allowed and the work pays for them
(more than one job and at least :data:`PARALLEL_MIN_AUDIO_S` of audio), also in
forked worker processes started on first need: this process takes jobs from
the end of the list while the workers take them from the front, so ``-j 2``
means this process and one worker. The jobs are deterministic, so the audio is
the same whatever the number of workers. The workers die with
the pool: on an error, a cancel or a signal turned into an exception the pool is
terminated; on Linux each worker also dies if its parent is killed outright.
"""
from __future__ import annotations

import signal
import sys
import threading
from collections import deque
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any, Hashable, Iterable, Iterator, TypeVar

from ..audio import Audio
from ..cancel import CancelToken, check
from ..settings import effective_workers
from ..voices.base import RenderJob

if TYPE_CHECKING:
    import multiprocessing.pool


#: what names a job (a phrase's index, or (track, index))
K = TypeVar("K", bound=Hashable)

#: less audio than this is sung in this process alone: starting a worker (a fork,
#: its pipes) and moving the jobs and their audio costs about as much as
#: vocoding this much audio on the second core saves
PARALLEL_MIN_AUDIO_S = 8.0


#: what the command turns into an exception (Ctrl-C, SIGTERM, SIGHUP)
_STOP_SIGNALS = frozenset(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


@contextmanager
def _stop_signals_held() -> Iterator[None]:
    """Stop signals wait while multiprocessing changes its own state (making the
    pool, handing it a job, taking a result): the command raises an exception
    from its SIGTERM handler, and raised in the middle of those it could leave a
    pool half made or a result with no one waiting for it, and the command would
    hang or print a thread's traceback. A signal that comes meanwhile is handled
    as soon as the step is done (a wait for a result: at most one job)."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _take(result: "multiprocessing.pool.AsyncResult[tuple[K, Audio]]") -> tuple[K, Audio]:
    """A job's result: waited for with signals free (a stop must not wait on a stuck
    worker), taken with them held."""
    while not result.ready():
        result.wait(0.05)
    with _stop_signals_held():
        return result.get()


def fork_context() -> Any:
    """multiprocessing's fork context, imported when a worker is first wanted (the
    import costs a few milliseconds a one-process command need not pay)."""
    import multiprocessing

    return multiprocessing.get_context("fork")


def _worker_init() -> None:
    """In each worker: leave Ctrl-C and SIGTERM/SIGHUP to the parent (which ends the
    pool), and die with the parent even if it is killed outright."""
    if hasattr(signal, "pthread_sigmask"):   # forked while the parent held them
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass


def _run(item: tuple[K, RenderJob]) -> tuple[K, Audio]:
    key, job = item
    return key, job.run()


class WorkerPool:
    """Runs jobs with up to ``workers`` processes (see the module documentation).

    Use it as a context manager; one pool serves every track of a render.
    """

    def __init__(self, workers: int = 1) -> None:
        self.workers = effective_workers(workers)
        self._pool: multiprocessing.pool.Pool | None = None

    @cached_property
    def can_fork(self) -> bool:
        """Whether this platform can fork workers (asked only when some are wanted)."""
        import multiprocessing

        return "fork" in multiprocessing.get_all_start_methods()

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.terminate()

    def close(self) -> None:
        """Let the workers finish and end them."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.close()
            pool.join()

    def terminate(self) -> None:
        """End the workers now (their unfinished jobs are lost)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.terminate()
            pool.join()

    def run(self, jobs: Iterable[tuple[K, RenderJob]], *, cancel: CancelToken | None = None,
            audio_s: float | None = None) -> Iterator[tuple[K, Audio]]:
        """``(key, audio)`` for each ``(key, job)``, in the order they finish.
        ``audio_s``: how much audio the jobs make together, if known (below
        :data:`PARALLEL_MIN_AUDIO_S` no worker is started).

        ``jobs`` is taken lazily: while the workers sing the jobs handed to them,
        this process takes the next ones from ``jobs`` (making them may be work:
        the HTS singer generates a track's parameters for its first job), and once
        ``jobs`` is spent, sings from the end of what is left."""
        check(cancel)
        small = audio_s is not None and audio_s < PARALLEL_MIN_AUDIO_S
        if self.workers <= 1 or small or not self.can_fork:
            for key, job in jobs:
                check(cancel)
                yield key, job.run(cancel=cancel)
            return
        source = iter(jobs)
        pending: deque[tuple[K, RenderJob]] = deque()
        first = next(source, None)
        if first is None:
            return
        second = next(source, None)
        if second is None:   # one job: no worker pays for itself
            check(cancel)
            yield first[0], first[1].run(cancel=cancel)
            return
        pending.extend((first, second))
        spent = False
        in_flight: deque[multiprocessing.pool.AsyncResult[tuple[K, Audio]]] = deque()
        try:
            pool = self._pool
            if pool is None:
                with _stop_signals_held():
                    pool = self._pool = fork_context().Pool(self.workers - 1, initializer=_worker_init)
            while pending or in_flight or not spent:
                # keep every worker busy with one job and one queued behind it
                while pending and len(in_flight) < 2 * (self.workers - 1):
                    with _stop_signals_held():
                        in_flight.append(pool.apply_async(_run, (pending.popleft(),)))
                while in_flight and in_flight[0].ready():
                    check(cancel)
                    yield _take(in_flight.popleft())
                if not spent:   # make the next job while the workers sing
                    check(cancel)
                    item = next(source, None)
                    if item is None:
                        spent = True
                    else:
                        pending.append(item)
                elif pending:   # this process sings from the end of the list meanwhile
                    key, job = pending.pop()
                    check(cancel)
                    yield key, job.run(cancel=cancel)
                elif in_flight:
                    check(cancel)
                    yield _take(in_flight.popleft())
        except BaseException:
            self.terminate()
            raise
