"""rendering/workers.py: who sings which job, and stopping cleanly."""
from __future__ import annotations

import multiprocessing
import os
import signal

import numpy as np
import pytest

import utagoe.rendering.workers as workers
from utagoe.audio import Audio
from utagoe.rendering.workers import WorkerPool

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="worker processes are forked")


class Job:
    """A picklable job that says which process sang it."""

    def __init__(self, n: int) -> None:
        self.n = n

    def run(self, *, cancel=None) -> Audio:
        return Audio(np.full((1, 10), float(os.getpid()), dtype=np.float32), 48000)


def test_this_process_sings_from_the_end_and_the_workers_from_the_front():
    jobs = [(i, Job(i)) for i in range(12)]
    with WorkerPool(2) as pool:
        got = dict((i, int(a.samples[0, 0])) for i, a in pool.run(jobs, audio_s=100.0))
    assert sorted(got) == list(range(12))
    here = {i for i, pid in got.items() if pid == os.getpid()}
    assert 11 in here and 0 not in here, "the parent takes the last job, a worker the first"
    assert 0 < len(here) < 12


def test_little_audio_is_sung_here_without_workers():
    jobs = [(i, Job(i)) for i in range(3)]
    with WorkerPool(2) as pool:
        got = [int(a.samples[0, 0]) for _, a in pool.run(jobs, audio_s=2.0)]
        assert pool._pool is None
    assert set(got) == {os.getpid()}


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="needs pthread_sigmask")
def test_stop_signals_wait_while_multiprocessing_changes_its_state():
    """The command raises from its SIGTERM handler. Raised in the middle of making
    the pool or handing it a job, it could leave a half-made pool behind, so those
    steps hold the stop signals: the exception comes right after the step."""
    class Stop(Exception):
        pass

    def handler(signum, frame):
        raise Stop

    old = signal.signal(signal.SIGTERM, handler)
    reached_the_end = False
    try:
        with pytest.raises(Stop):
            with workers._stop_signals_held():
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(10000):   # a free signal's handler would have run by now
                    pass
                reached_the_end = True
        assert reached_the_end
        with pytest.raises(Stop):   # and once the step is done, a signal is handled at once
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10000):
                pass
    finally:
        signal.signal(signal.SIGTERM, old)


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="needs pthread_sigmask")
def test_a_stop_signal_while_the_pool_is_made_ends_it_cleanly(monkeypatch):
    class Stop(Exception):
        pass

    def handler(signum, frame):
        raise Stop

    real = multiprocessing.get_context("fork")

    class Ctx:
        def Pool(self, n, **kw):
            pool = real.Pool(n, **kw)
            os.kill(os.getpid(), signal.SIGTERM)   # arrives before the pool is handed back
            return pool

    monkeypatch.setattr(workers, "fork_context", lambda: Ctx())
    old = signal.signal(signal.SIGTERM, handler)
    try:
        with pytest.raises(Stop):
            with WorkerPool(2) as pool:
                list(pool.run([(i, Job(i)) for i in range(6)], audio_s=100.0))
    finally:
        signal.signal(signal.SIGTERM, old)
    assert pool._pool is None
    assert not multiprocessing.active_children()
