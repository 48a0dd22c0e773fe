"""Fixtures shared by the test modules."""

import sys
import threading
import time

import pytest


def _another_thread_runs(call, seconds=20):
    """Calls `call()` until another Python thread has run during one of the
    calls, for up to `seconds`; returns whether one did.

    With the switch interval set far longer than the test, the interpreter
    never takes the GIL away from the main thread: the only way the counter
    thread can run between the two reads of `ticks` is the call under test
    letting go of the GIL. Held, the count cannot move; released, it moves
    during some call of a series.
    """
    ticks = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.0001)  # let go of the GIL between ticks

    old = sys.getswitchinterval()
    t = threading.Thread(target=count, daemon=True)
    moved = False
    try:
        sys.setswitchinterval(1000.0)
        t.start()
        time.sleep(0.01)  # the counter thread is in its loop
        # Calls until the count moves, for up to `seconds`: a machine busy
        # with other work may leave the counter thread waiting for a CPU a
        # while.
        deadline = time.monotonic() + seconds
        while not moved and time.monotonic() < deadline:
            before = ticks[0]
            call()
            moved = ticks[0] != before
    finally:
        stop.set()
        sys.setswitchinterval(old)
        t.join()
    return moved


@pytest.fixture
def another_thread_runs():
    """`another_thread_runs(call)`: whether another Python thread ran during
    some call of `call()` within 20 s, that is whether `call` releases the
    GIL."""
    return _another_thread_runs
