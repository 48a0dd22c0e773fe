"""One generator shared by several Python threads, and the GIL released
while it works."""

import hashlib
import threading
import time

import pytest

import dgen

CONFIG = dict(dedup_ratio=1.0, compress_ratio=2.0, seed=11)
THREADS = 4


def run_threads(target, n=THREADS):
    errors = []

    def wrap(i):
        try:
            target(i)
        except BaseException as e:  # reported in the main thread below
            errors.append(e)

    ts = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]


def test_four_threads_fill_at_and_verify_at_on_one_generator():
    size = 24 << 20
    shared = dgen.Generator(size=size, threads=2, **CONFIG)
    whole = bytearray(size)
    dgen.Generator(size=size, threads=1, **CONFIG).fill_at(0, whole)
    # Each thread takes its own ranges, small and large (>= 2 MiB ones use the
    # worker pool, which the threads then share).
    jobs = [[] for _ in range(THREADS)]
    off = 0
    sizes = [4096, 1, 12345, (2 << 20) + 3, 65536, 777_777]
    i = 0
    while off < size:
        n = min(sizes[i % len(sizes)], size - off)
        jobs[i % THREADS].append((off, n))
        off += n
        i += 1
    out = bytearray(size)

    def work(t):
        for _ in range(2):
            for off, n in jobs[t]:
                buf = bytearray(n)
                shared.fill_at(off, buf)
                shared.verify_at(off, buf)
                out[off : off + n] = buf

    run_threads(work)
    assert out == whole


def test_four_threads_share_one_stream_without_overlap():
    chunk = 1 << 20
    chunks = 40
    shared = dgen.Generator(size=chunk * chunks, **CONFIG)
    ref = dgen.Generator(size=chunk * chunks, **CONFIG)
    expected = {}
    buf = bytearray(chunk)
    for k in range(chunks):
        ref.fill_at(k * chunk, buf)
        expected[hashlib.sha256(buf).digest()] = k
    assert len(expected) == chunks  # dedup 1: every chunk differs
    got = [[] for _ in range(THREADS)]

    def work(t):
        mine = bytearray(chunk)
        while True:
            n = shared.fill(mine)
            if n == 0:
                return
            assert n == chunk
            got[t].append(hashlib.sha256(mine).digest())

    run_threads(work)
    seen = [expected[h] for per in got for h in per]
    assert sorted(seen) == list(range(chunks))
    assert shared.is_complete and shared.position == chunk * chunks


def test_four_threads_share_one_stream_through_small_reads():
    """Small reads (which keep the GIL) reserve their ranges as fills do."""
    chunk = 4096
    chunks = 2000
    shared = dgen.Generator(size=chunk * chunks, **CONFIG)
    whole = dgen.Generator(size=chunk * chunks, **CONFIG).read()
    expected = {whole[k * chunk : (k + 1) * chunk]: k for k in range(chunks)}
    assert len(expected) == chunks
    got = [[] for _ in range(THREADS)]

    def work(t):
        while True:
            data = shared.read(chunk)
            if not data:
                return
            got[t].append(expected[data])

    run_threads(work)
    assert sorted(k for per in got for k in per) == list(range(chunks))
    assert shared.is_complete


def test_close_waits_for_calls_in_flight():
    g = dgen.Generator(threads=1, **CONFIG)
    big = bytearray(64 << 20)
    started = threading.Event()

    outcome = []

    def fill():
        started.set()
        try:
            g.fill_at(0, big)
            outcome.append("filled")
        except ValueError as e:
            outcome.append(str(e))

    t = threading.Thread(target=fill)
    t.start()
    started.wait()
    g.close()  # either before the fill (which then raises) or after it
    t.join()
    assert g.closed
    assert outcome in (["filled"], ["the generator is closed"])


@pytest.mark.parametrize("call", ["fill", "fill_at", "verify_at", "readinto"])
def test_the_gil_is_released_while_generating(call, another_thread_runs):
    """Another Python thread runs while a call is inside the library (see
    `another_thread_runs` in conftest.py for the method)."""
    g = dgen.Generator(threads=1, **CONFIG)
    buf = bytearray(32 << 20)
    g.fill_at(0, buf)
    calls = {
        "fill": lambda: g.fill(buf),
        "fill_at": lambda: g.fill_at(0, buf),
        "verify_at": lambda: g.verify_at(0, buf),
        "readinto": lambda: g.readinto(buf),
    }
    moved = another_thread_runs(calls[call])
    assert moved, f"no other thread ran during 20 s of {call} calls: the GIL was held"


# Python 3.12+ warns about fork() in a process with threads; here that is the
# point of the test.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_generator_inherited_through_fork_works_in_the_child():
    """The child has none of the parent's threads, so the worker pool that a
    large fill started before the fork is not there; the generator rebuilds
    it instead of waiting forever, and gives the same bytes."""
    import os
    import signal

    g = dgen.Generator(threads=2, **CONFIG)
    buf = bytearray(4 << 20)  # >= 2 MiB: the worker pool runs
    g.fill_at(0, buf)
    g.seek(123)
    expected = bytes(buf)
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status only
        ok = False
        try:
            mine = bytearray(4 << 20)
            g.fill_at(0, mine)
            ok = mine == expected and g.position == 123 and g.read(5) == expected[123:128]
            with dgen.Generator(threads=2, **CONFIG) as fresh:
                fresh.verify_at(0, mine)
        finally:
            os._exit(0 if ok else 1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
            break
        time.sleep(0.02)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the child process hung on a generator made before fork")
    # The parent's generator is untouched.
    g.verify_at(0, buf)
