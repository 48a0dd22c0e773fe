"""write_file and verify_file: the library's parallel writer and verifier of
files, block devices and streams, with the bytes of `generate`, their report,
their errors and how Ctrl-C stops them."""

import errno
import json
import os
import random
import signal
import tempfile
import threading
import time

import pytest

import dgen

CONFIG = dict(dedup_ratio=2.5, compress_ratio=3.0, seed=11)
SIZE = (16 << 20) + 12345  # an unaligned tail, past several 1 MiB blocks

REPORT_KEYS = {"bytes", "seconds", "gbps", "iops", "latency_us", "generate_seconds", "io_seconds", "bottleneck"}
LATENCY_KEYS = {"p50", "p90", "p99", "p999", "max", "mean"}


def expected(size=SIZE, offset=0, length=None, **config):
    """The stream's bytes at [offset, offset + length), from generate."""
    cfg = dict(CONFIG, **config)
    whole = dgen.generate(size, **cfg)
    end = size if length is None else offset + length
    return bytes(whole[offset:end])


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([b ^ 0x40]))


@pytest.mark.parametrize(
    "io",
    [
        dict(),
        dict(jobs=1, engine="sync"),
        dict(jobs=2, block_size=64 << 10),
        dict(jobs=3, block_size=4096, iodepth=8),  # io_uring, or pwrite where the kernel refuses it
    ],
    ids=["defaults", "one-job-sync", "two-jobs-64k", "iodepth-8"],
)
def test_write_then_verify_gives_the_bytes_of_generate(tmp_path, io):
    path = tmp_path / "data.bin"
    g = dgen.Generator(size=SIZE, **CONFIG)
    report = g.write_file(path, **io)
    assert path.read_bytes() == expected()
    assert REPORT_KEYS <= set(report) and LATENCY_KEYS == set(report["latency_us"])
    assert report["operation"] == "write" and report["target"] == "file"
    assert report["bytes"] == report["length"] == report["prefix"] == SIZE
    assert report["seed"] == 11 and report["offset"] == 0
    assert report["ios"] > 0 and report["seconds"] > 0 and report["gbps"] > 0 and report["iops"] > 0
    assert 0 < report["latency_us"]["p50"] <= report["latency_us"]["p99"] <= report["latency_us"]["max"]
    assert report["bottleneck"].split(":")[0] in ("storage-bound", "generation-bound")
    assert report["interrupted"] is False
    if "iodepth" in io:
        assert report["engine"] == "io_uring" or report["engine"].startswith("pwrite (io_uring unavailable")
    json.dumps(report)  # plain values only

    checked = g.verify_file(path, **{k: v for k, v in io.items() if k != "sync"})
    assert checked["passed"] is True and checked["problem"] is None
    assert checked["operation"] == "verify" and checked["bytes"] == SIZE
    assert checked["mismatch_offset"] is None and checked["wrong_blocks"] == 0 and checked["missing_blocks"] == 0
    assert REPORT_KEYS <= set(checked)


def test_the_module_functions_are_the_methods(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    g = dgen.Generator(size=SIZE, **CONFIG)
    g.write_file(a)
    one_shot = dgen.write_file(str(b), SIZE, **CONFIG)  # str paths and PathLike alike
    dgen.write_file(os.fsencode(c), g)  # and bytes
    assert a.read_bytes() == b.read_bytes() == c.read_bytes()
    assert one_shot["seed"] == 11 and one_shot["bytes"] == SIZE
    assert dgen.verify_file(a, SIZE, **CONFIG)["passed"]
    assert dgen.verify_file(b, g)["passed"]
    # A drawn seed is in the report, and verifies with it.
    drawn = dgen.write_file(a, 1 << 20, dedup_ratio=2.0)
    assert dgen.verify_file(a, 1 << 20, dedup_ratio=2.0, seed=drawn["seed"])["passed"]


def test_the_endless_stream_needs_a_length(tmp_path):
    path = tmp_path / "endless.bin"
    g = dgen.Generator(**CONFIG)  # size 0
    with pytest.raises(ValueError, match="length must be given to write the endless stream"):
        g.write_file(path)
    r = g.write_file(path, offset=4096, length=3 << 20)
    assert r["bytes"] == 3 << 20
    part = bytearray(3 << 20)
    g.fill_at(4096, part)
    assert path.read_bytes()[4096:] == part
    # Without a length a verification checks what the file holds.
    assert g.verify_file(path, offset=4096)["bytes"] == 3 << 20


@pytest.mark.parametrize("threads", [False, True], ids=["in-turn", "from-threads"])
def test_ranges_written_apart_make_the_whole_file(tmp_path, threads):
    path = tmp_path / "ranges.bin"
    g = dgen.Generator(size=SIZE, **CONFIG)
    # Boundaries off every alignment, written in a shuffled order.
    cuts = [0, 4095, 1 << 20, (5 << 20) + 3, 9_999_999, SIZE - 1, SIZE]
    ranges = [(a, b - a) for a, b in zip(cuts, cuts[1:])]
    random.Random(3).shuffle(ranges)
    reports = []

    def write(r):
        reports.append(g.write_file(path, offset=r[0], length=r[1], jobs=2, block_size=256 << 10))

    if threads:
        ts = [threading.Thread(target=write, args=(r,)) for r in ranges]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    else:
        for r in ranges:
            write(r)
    assert sorted((r["offset"], r["bytes"]) for r in reports) == sorted(ranges)
    assert path.read_bytes() == expected()
    for off, length in ranges:
        assert g.verify_file(path, offset=off, length=length)["bytes"] == length
    assert g.verify_file(path)["passed"]


def test_a_range_that_ends_early_never_cuts_the_file(tmp_path):
    path = tmp_path / "longer.bin"
    g = dgen.Generator(size=SIZE, **CONFIG)
    g.write_file(path)
    g.write_file(path, offset=4096, length=8192)
    assert path.stat().st_size == SIZE
    # Written to the end of the dataset, a longer file is cut there; with
    # truncate=False it is not.
    with open(path, "ab") as f:
        f.write(b"tail")
    g.write_file(path, offset=SIZE - 10, truncate=False)
    assert path.stat().st_size == SIZE + 4
    g.write_file(path, offset=SIZE - 10)
    assert path.stat().st_size == SIZE


def test_o_direct_where_the_file_system_supports_it(tmp_path):
    path = tmp_path / "direct.bin"
    g = dgen.Generator(size=SIZE, **CONFIG)
    try:
        report = g.write_file(path, direct=True, jobs=2, sync=False)
    except OSError as e:
        if e.errno == errno.EINVAL and "does not support direct I/O" in str(e):
            pytest.skip(f"the file system of {tmp_path} refuses O_DIRECT: {e}")
        raise
    assert report["direct"] is True
    assert path.read_bytes() == expected()
    # Unaligned ranges: the aligned body goes through O_DIRECT, the head and
    # tail through the page cache.
    g.write_file(path, offset=1000, length=(3 << 20) + 5, direct=True)
    checked = g.verify_file(path, direct=True, jobs=2)
    assert checked["passed"] and checked["direct"] is True
    assert g.verify_file(path, offset=1000, length=(3 << 20) + 5, direct=True)["passed"]


def test_a_flipped_byte_is_found_at_its_offset(tmp_path):
    path = tmp_path / "flipped.bin"
    g = dgen.Generator(size=SIZE, **CONFIG)
    g.write_file(path)
    right = expected()
    where = 7_340_037
    flip(path, where)
    with pytest.raises(dgen.MismatchError) as info:
        g.verify_file(path, jobs=2)
    e = info.value
    assert e.offset == where
    assert e.expected == right[where] and e.found == right[where] ^ 0x40
    assert e.wrong_blocks == 1 and e.missing_blocks == 0
    assert f"first wrong byte at offset {where}" in str(e) and str(path) in str(e)
    assert e.report["passed"] is False and e.report["mismatch_offset"] == where and e.report["bytes"] == SIZE
    assert e.report["wrong_blocks"] == 1 and e.report["problem"] in str(e)
    # Ranges on either side of it are fine.
    assert g.verify_file(path, length=where)["passed"]
    assert g.verify_file(path, offset=where + 1)["passed"]
    with pytest.raises(dgen.MismatchError) as info:
        dgen.verify_file(path, SIZE, offset=where, length=1, **CONFIG)
    assert info.value.offset == where


def test_a_short_file_is_reported_short(tmp_path):
    path = tmp_path / "short.bin"
    g = dgen.Generator(size=SIZE, **CONFIG)
    g.write_file(path)
    os.truncate(path, 5 << 20)
    with pytest.raises(dgen.MismatchError) as info:
        g.verify_file(path)
    e = info.value
    assert f"data ends at {5 << 20}, the dataset is {SIZE}" in str(e)
    assert e.offset == 5 << 20 and e.expected is None and e.found is None
    assert e.wrong_blocks == 0 and e.missing_blocks == e.report["blocks"] - (5 << 20) // 4096
    assert e.report["data_end"] == 5 << 20 and e.report["bytes"] == 5 << 20
    # The part that is there is right.
    assert g.verify_file(path, length=5 << 20)["passed"]


def test_a_long_file_is_reported_long(tmp_path):
    path = tmp_path / "long.bin"
    g = dgen.Generator(size=SIZE, **CONFIG)
    g.write_file(path)
    with open(path, "ab") as f:
        f.write(b"extra")
    with pytest.raises(dgen.MismatchError, match="goes on past the end of the dataset") as info:
        g.verify_file(path)
    assert info.value.offset == SIZE and info.value.report["extra_data"] is True
    # A range that stops before the end does not look past it.
    assert g.verify_file(path, length=SIZE)["passed"]


def test_verify_at_mismatches_keep_their_attributes():
    g = dgen.Generator(size=8192, **CONFIG)
    buf = bytearray(8192)
    g.fill_at(0, buf)
    buf[100] ^= 1
    with pytest.raises(dgen.MismatchError) as info:
        g.verify_at(0, buf)
    assert info.value.offset == 100 and isinstance(info.value.expected, int)
    assert info.value.report is None and info.value.wrong_blocks is None


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        (dict(block_size=5000), ValueError, "block_size must be a multiple of 4096 from 4096 to 268435456 (256 MiB), got 5000"),
        (dict(block_size=0), ValueError, "block_size must be a multiple of 4096 from 4096 to 268435456 (256 MiB), got 0"),
        (dict(block_size=512 << 20), ValueError, "block_size must be a multiple of 4096 from 4096 to 268435456 (256 MiB), got 536870912"),
        (dict(block_size=-4096), ValueError, "block_size must be a multiple of 4096 from 4096 to 268435456 (256 MiB), got -4096"),
        (dict(block_size=4096.0), TypeError, "block_size must be an integer, got float 4096.0"),
        (dict(jobs=-1), ValueError, "jobs must be from 0 (one per CPU) to 1024, got -1"),
        (dict(jobs=5000), ValueError, "jobs must be from 0 (one per CPU) to 1024, got 5000"),
        (dict(jobs="2"), TypeError, "jobs must be an integer, got str '2'"),
        (dict(iodepth=0), ValueError, "iodepth must be from 1 to 4096, got 0"),
        (dict(iodepth=4097), ValueError, "iodepth must be from 1 to 4096, got 4097"),
        (dict(offset=-1), ValueError, "offset must be an integer from 0 to 2**64-1, got -1"),
        (dict(length=-5), ValueError, "length must be None or an integer from 0 to 2**64-1, got -5"),
        (dict(length=2**64), ValueError, "length must be None or an integer from 0 to 2**64-1, got 18446744073709551616"),
        (dict(offset=2**63, length=2**63), ValueError, "range out of bounds: offset 9223372036854775808 + length 9223372036854775808 passes 2^64 - 1"),
        (dict(offset=SIZE + 1), ValueError, f"passes the dataset size {SIZE}"),
        (dict(offset=4096, length=SIZE), ValueError, f"range out of bounds: offset 4096 + length {SIZE} passes the dataset size {SIZE}"),
        (dict(engine="aio"), ValueError, "engine must be one of auto, sync, io_uring, got 'aio'"),
        (dict(engine=1), TypeError, "engine must be a string, got int 1"),
        (dict(direct=1), TypeError, "direct must be a bool, got int 1"),
        (dict(direct="yes"), TypeError, "direct must be a bool, got str 'yes'"),
        (dict(progress=5), TypeError, "progress must be None or a callable, got int 5"),
    ],
)
def test_bad_options_name_the_option_and_value(tmp_path, kwargs, exc, message):
    path = tmp_path / "never.bin"
    g = dgen.Generator(size=SIZE, **CONFIG)
    for call in (g.write_file, g.verify_file, lambda p, **kw: dgen.write_file(p, SIZE, **CONFIG, **kw)):
        with pytest.raises(exc) as info:
            call(path, **kwargs)
        assert message in str(info.value)
    assert not path.exists(), "a refused write created its file"


def test_io_buffers_past_the_cap_are_refused_naming_the_fields(tmp_path):
    path = tmp_path / "never.bin"
    g = dgen.Generator(size=64 << 30, **CONFIG)
    for call in (g.write_file, g.verify_file):
        with pytest.raises(ValueError) as info:
            call(path, jobs=8, iodepth=256)
        message = str(info.value)
        assert message.startswith("jobs x iodepth x block_size must need at most 1073741824 bytes (1 GiB)"), message
        assert "8 x 256 x 1048576" in message, message
    assert not path.exists(), "a refused write created its file"


def test_bad_paths_and_arguments(tmp_path):
    g = dgen.Generator(size=SIZE, **CONFIG)
    with pytest.raises(TypeError, match="path must be a str, bytes or os.PathLike, got int 5"):
        g.write_file(5)
    with pytest.raises(ValueError, match="path must not be empty"):
        g.write_file("")
    with pytest.raises(ValueError, match="path must not contain a NUL byte"):
        g.verify_file("a\0b")
    with pytest.raises(TypeError, match="unexpected keyword argument 'sync'"):
        g.verify_file(tmp_path / "x", sync=False)
    with pytest.raises(TypeError):
        g.write_file(tmp_path / "x", 0)  # the I/O options are keywords only
    with pytest.raises(ValueError, match="dedup_ratio must be a number from 1.0 to 1024.0, got 0.5"):
        dgen.write_file(tmp_path / "x", SIZE, dedup_ratio=0.5)
    with pytest.raises(ValueError, match="seed must be the seed the data was written with"):
        dgen.verify_file(tmp_path / "x", SIZE)
    with pytest.raises(TypeError, match="dedup_ratio, seed cannot be given with a Generator"):
        dgen.write_file(tmp_path / "x", g, dedup_ratio=2, seed=1)
    assert not (tmp_path / "x").exists()
    g.close()
    with pytest.raises(ValueError, match="the generator is closed"):
        g.write_file(tmp_path / "x")


def test_missing_and_unopenable_targets_are_os_errors(tmp_path):
    g = dgen.Generator(size=SIZE, **CONFIG)
    missing = tmp_path / "no" / "such" / "dir" / "f.bin"
    with pytest.raises(FileNotFoundError) as info:
        g.write_file(missing)
    assert info.value.errno == errno.ENOENT and info.value.filename == missing
    assert info.value.report["bytes"] == 0
    with pytest.raises(FileNotFoundError) as info:
        g.verify_file(str(missing))
    assert info.value.filename == str(missing) and f"cannot open {missing}" in str(info.value)
    with pytest.raises(OSError, match="it is a directory"):
        g.write_file(tmp_path)
    if os.path.exists("/dev/full"):
        with pytest.raises(OSError) as info:
            g.write_file("/dev/full")
        assert info.value.errno == errno.ENOSPC and "cannot write /dev/full at offset 0" in str(info.value)


def _write_as(uid, path, queue_fd):
    """In a forked child: drop to `uid`, try the write, report through the pipe."""
    result = {}
    try:
        os.setgid(uid)
        os.setuid(uid)
        dgen.Generator(size=SIZE, **CONFIG).write_file(path)
        result = {"raised": None}
    except BaseException as e:  # noqa: BLE001 - everything goes back to the parent
        result = {
            "raised": type(e).__name__,
            "errno": getattr(e, "errno", None),
            "filename": getattr(e, "filename", None),
            "message": str(e),
            "bytes": (getattr(e, "report", None) or {}).get("bytes"),
        }
    finally:
        os.write(queue_fd, json.dumps(result).encode())
        os._exit(0)


# Python 3.12+ warns about fork() in a process with threads.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_read_only_target_raises_permission_error():
    # A file its user may only read. Root may write anything, so as root the
    # write runs in a child process that has become the unprivileged
    # "nobody" (uid 65534), in a folder it may enter.
    folder = tempfile.mkdtemp(prefix="dgen-ro-")
    try:
        os.chmod(folder, 0o755)
        path = os.path.join(folder, "read-only.bin")
        with open(path, "wb") as f:
            f.write(b"keep me")
        os.chmod(path, 0o444)
        if os.geteuid() != 0:
            with pytest.raises(PermissionError) as info:
                dgen.Generator(size=SIZE, **CONFIG).write_file(path)
            got = {"raised": "PermissionError", "errno": info.value.errno, "filename": info.value.filename,
                   "message": str(info.value), "bytes": info.value.report["bytes"]}
        else:
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                _write_as(65534, path, w)
            os.close(w)
            with os.fdopen(r, "rb") as pipe:
                got = json.loads(pipe.read() or b"{}")
            os.waitpid(pid, 0)
        assert got.get("raised") == "PermissionError", got
        assert got["errno"] == errno.EACCES and got["filename"] == path
        assert f"cannot write {path}" in got["message"] and got["bytes"] == 0
        with open(path, "rb") as f:
            assert f.read() == b"keep me"
    finally:
        for name in os.listdir(folder):
            os.remove(os.path.join(folder, name))
        os.rmdir(folder)


def test_progress_sees_the_run_and_its_end(tmp_path):
    path = tmp_path / "progress.bin"
    g = dgen.Generator(size=SIZE, **CONFIG)
    seen = []
    g.write_file(path, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (SIZE, SIZE)
    assert all(total == SIZE for _, total in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    seen.clear()
    g.verify_file(path, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (SIZE, SIZE)


class Enough(Exception):
    pass


def test_an_exception_from_progress_stops_the_write_with_its_report(tmp_path):
    # 1 GiB in 4 KiB writes by one worker takes far longer than the 0.1 s
    # before the first progress call, which stops it.
    path = tmp_path / "stopped.bin"
    size = 1 << 30
    g = dgen.Generator(size=size, **CONFIG)

    def stop(done, total):
        raise Enough(f"stop at {done}")

    with pytest.raises(Enough) as info:
        g.write_file(path, jobs=1, block_size=4096, progress=stop)
    r = info.value.report
    assert r["interrupted"] is True and 0 < r["bytes"] < size
    # A file written to the dataset's end that stops early is cut to the part
    # that is complete, so what it holds is right.
    assert os.path.getsize(path) == r["prefix"] > 0
    assert g.verify_file(path, length=r["prefix"])["passed"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_a_failure_under_an_exception_from_progress_stays_its_context():
    # /dev/full refuses the first write; the last progress call, which comes
    # after it, raises: that exception comes out, with the OSError as its
    # context.
    def stop(done, total):
        raise Enough("from progress")

    with pytest.raises(Enough) as info:
        dgen.Generator(size=SIZE, **CONFIG).write_file("/dev/full", progress=stop)
    context = info.value.__context__
    assert isinstance(context, OSError) and context.errno == errno.ENOSPC
    assert info.value.report["bytes"] == 0


def test_close_from_a_progress_callback_is_refused(tmp_path):
    g = dgen.Generator(size=SIZE, **CONFIG)
    with pytest.raises(ValueError, match="close\\(\\) cannot run inside a progress callback"):
        g.write_file(tmp_path / "c.bin", progress=lambda done, total: g.close())
    assert not g.closed
    g.close()


@pytest.fixture
def sigint_raises_keyboard_interrupt():
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def interrupt_in(seconds):
    """Sends this process SIGINT after `seconds`, as Ctrl-C does."""
    t = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    t.daemon = True
    t.start()
    return t


def test_ctrl_c_stops_a_long_write(sigint_raises_keyboard_interrupt):
    # The endless stream to /dev/null (written in order): 64 GiB take
    # seconds (about 10 s on a 2-CPU virtual machine); SIGINT after 0.3 s
    # stops it within about 0.1 s.
    g = dgen.Generator(**CONFIG)
    length = 64 << 30
    timer = interrupt_in(0.3)
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt) as info:
        g.write_file("/dev/null", length=length)
    took = time.monotonic() - t0
    timer.join()
    # Raised by the call, with its report: not a KeyboardInterrupt that
    # Python raised after a call that ran to its end.
    r = info.value.report
    assert r["interrupted"] is True and r["target"] == "stream"
    assert 0 < r["bytes"] < length and r["prefix"] == r["bytes"]
    assert took < 60, took


def test_ctrl_c_stops_a_long_parallel_verification(tmp_path, sigint_raises_keyboard_interrupt):
    # A sparse 64 GiB file (no disk space used) checked by two workers: every
    # block is wrong, and reading it all would take many seconds.
    path = tmp_path / "sparse.bin"
    size = 64 << 30
    with open(path, "wb") as f:
        f.truncate(size)
    g = dgen.Generator(size=size, **CONFIG)
    timer = interrupt_in(0.3)
    with pytest.raises(KeyboardInterrupt) as info:
        g.verify_file(path, jobs=2)
    timer.join()
    r = info.value.report
    assert r["interrupted"] is True and r["target"] == "file" and r["jobs"] == 2
    assert 0 < r["bytes"] < size and r["wrong_blocks"] > 0 and r["mismatch_offset"] is not None


def test_any_signal_handler_runs_during_a_call():
    # A handler that raises (here a time limit through SIGALRM) stops the
    # call like Ctrl-C, and its exception comes out with the report.
    def too_long(signum, frame):
        raise TimeoutError("time limit")

    old = signal.signal(signal.SIGALRM, too_long)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(TimeoutError, match="time limit") as info:
            dgen.Generator(**CONFIG).write_file("/dev/null", length=64 << 30)
        assert info.value.report["interrupted"] is True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("target", ["file", "stream"])
def test_the_gil_is_released_during_the_io(tmp_path, target, another_thread_runs):
    """Another Python thread runs while write_file works (see
    `another_thread_runs` in conftest.py for the method)."""
    g = dgen.Generator(size=SIZE, **CONFIG)
    path = tmp_path / "gil.bin" if target == "file" else "/dev/null"
    moved = another_thread_runs(lambda: g.write_file(path, sync=False))
    assert moved, "no other thread ran during 20 s of write_file calls: the GIL was held"


def test_parts_written_apart_make_the_whole_file(tmp_path):
    path = tmp_path / "parts.bin"
    g = dgen.Generator(SIZE, **CONFIG)
    reports = [g.write_file(path, part=(i, 3), jobs=2) for i in (2, 0, 1)]
    assert sum(r["bytes"] for r in reports) == SIZE
    assert all(r["offset"] % 4096 == 0 for r in reports)
    assert path.read_bytes() == expected()
    for i in range(3):
        assert dgen.verify_file(path, SIZE, part=(i, 3), **CONFIG)["passed"]
    # A part of a range: offset and length are cut too.
    r = g.verify_file(path, offset=8192, length=65536, part=(1, 2))
    assert (r["offset"], r["length"]) == (8192 + 32768, 32768)
    assert r["start_time"] > 1.6e9 and r["end_time"] >= r["start_time"]


def test_bad_parts_are_refused_in_words(tmp_path):
    g = dgen.Generator(SIZE, **CONFIG)
    with pytest.raises(ValueError, match="part 3/3: parts are counted from 0"):
        g.write_file(tmp_path / "x", part=(3, 3))
    with pytest.raises(ValueError, match="at least 1"):
        g.verify_file(tmp_path / "x", part=(0, 0))
    with pytest.raises(TypeError, match="part must be None or a tuple"):
        g.write_file(tmp_path / "x", part="0/3")
    with pytest.raises(ValueError, match="is empty"):
        dgen.write_file(tmp_path / "x", 8192, part=(0, 4))
    with pytest.raises(ValueError, match="endless stream"):
        dgen.Generator(0).write_file(tmp_path / "x", part=(0, 2))
