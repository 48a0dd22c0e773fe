"""dgen.WriteState: write versions through a state file. Each write of a
dedup unit carries its next version, so overwrites write new data and
verify_file catches lost writes; a state of another dataset is refused."""

import hashlib
import threading

import pytest

import dgen

# Version 1 of every unit of the golden config (its first 16 MiB as a sized
# dataset), written twice through a new state in 1 MiB writes in order:
# tests/state.rs GOLDEN_V1_16MIB and tests/c/golden.h DGEN_GOLDEN_V1_SHA256.
GOLDEN_V1_SHA256 = "61b0950af30ff2d40541b8df17aaa04d8d3ccac1589d3005b0bd75a8a0a788a4"
GOLDEN_V1 = dict(size=16 << 20, dedup_ratio=2.5, compress_ratio=3.0, dedup_unit=8192, seed=42)

UNIT = 8192
CONFIG = dict(size=4 << 20, dedup_ratio=2.0, compress_ratio=3.0, dedup_unit=UNIT, seed=5)
UNITS = CONFIG["size"] // UNIT

# What `dgen state show --json` prints (cli/src/state.rs).
SHOW_KEYS = {
    "path", "format", "size", "dedup_unit", "seed", "dedup_ratio", "compress_ratio", "compressor", "file_bytes",
    "units", "written", "first_pass", "overwritten", "max_version", "writes_claimed", "writes_completed",
    "in_flight", "ambiguous", "in_doubt",
}  # fmt: skip
SUMMARY_KEYS = {
    "units", "written", "first_pass", "overwritten", "max_version", "writes_claimed", "writes_completed",
    "in_flight", "ambiguous", "in_doubt",
}  # fmt: skip
STATE_REPORT_KEYS = {
    "units_ok", "units_unwritten", "units_in_doubt", "stale", "misplaced", "zero", "corrupt",
    "first_stale", "first_misplaced", "first_zero", "first_corrupt",
}  # fmt: skip


def units_of(data, unit=UNIT):
    return [bytes(data[i : i + unit]) for i in range(0, len(data), unit)]


def write_pass(ws, size, block, target=None):
    """Writes [0, size) in `block`-byte writes, in order, through the
    state's fill and complete; returns the bytes written."""
    out = bytearray(size) if target is None else target
    view = memoryview(out)
    for off in range(0, size, block):
        n = min(block, size - off)
        ws.fill(off, view[off : off + n])
        ws.complete(off, n)
    return out


def test_version_1_of_the_golden_dataset_has_the_golden_hash(tmp_path):
    g = dgen.Generator(**GOLDEN_V1)
    with dgen.WriteState(tmp_path / "s", g) as ws:
        first = write_pass(ws, g.size, 1 << 20)
        assert first == dgen.generate(**GOLDEN_V1), "a first pass through a new state is the stream itself"
        second = write_pass(ws, g.size, 1 << 20)
    assert hashlib.sha256(second).hexdigest() == GOLDEN_V1_SHA256

    # The same two passes through the library's writer.
    path = tmp_path / "data.bin"
    with dgen.WriteState(tmp_path / "s2", g) as ws:
        g.write_file(path, state=ws, jobs=2)
        assert path.read_bytes() == first
        g.write_file(path, state=ws, jobs=2, iodepth=4)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == GOLDEN_V1_SHA256


def test_an_overwrite_pass_changes_every_unit_and_verifies_against_the_state(tmp_path):
    g = dgen.Generator(**CONFIG)
    path = tmp_path / "data.bin"
    ws = dgen.WriteState(tmp_path / "s", g)
    g.write_file(path, state=ws)
    before = path.read_bytes()
    assert before == dgen.generate(**CONFIG)
    g.write_file(path, state=ws, block_size=64 << 10)
    after = path.read_bytes()
    changed = [a != b for a, b in zip(units_of(before), units_of(after))]
    assert len(changed) == UNITS and all(changed), "every unit is new data after an overwrite"

    s = ws.summary()
    assert set(s) == SUMMARY_KEYS
    assert (s["units"], s["written"], s["first_pass"], s["overwritten"], s["max_version"]) == (UNITS, UNITS, 0, UNITS, 1)
    assert (s["writes_claimed"], s["writes_completed"], s["in_flight"], s["ambiguous"], s["in_doubt"]) == (
        2 * UNITS,
        2 * UNITS,
        0,
        0,
        0,
    )

    report = g.verify_file(path, state=ws)
    assert report["passed"] is True
    st = report["state"]
    assert set(st) == STATE_REPORT_KEYS
    assert (st["units_ok"], st["units_unwritten"], st["stale"], st["corrupt"]) == (UNITS, 0, 0, 0)
    assert st["first_stale"] == [] and st["first_corrupt"] == []
    # Without the state the file is not the plain dataset any more.
    with pytest.raises(dgen.MismatchError, match="every block is wrong"):
        g.verify_file(path)
    # The module functions take the state too.
    assert dgen.verify_file(path, CONFIG["size"], **{k: v for k, v in CONFIG.items() if k != "size"}, state=ws)["passed"]
    ws.close()


def test_a_lost_write_is_reported_stale_at_its_offset(tmp_path):
    g = dgen.Generator(**CONFIG)
    path = tmp_path / "data.bin"
    with dgen.WriteState(tmp_path / "s", g) as ws:
        g.write_file(path, state=ws)
        old = path.read_bytes()
        g.write_file(path, state=ws)
    lost, zeroed = 37, 300
    with open(path, "r+b") as f:
        f.seek(lost * UNIT)
        f.write(old[lost * UNIT : (lost + 1) * UNIT])  # the overwrite of unit 37 never landed
        f.seek(zeroed * UNIT)
        f.write(bytes(UNIT))  # a hole
    with dgen.WriteState(tmp_path / "s", g, write=False) as ro:
        with pytest.raises(dgen.MismatchError) as e:
            g.verify_file(path, state=ro, jobs=2)
    err = e.value
    assert "2 of 512 units checked are wrong: 1 stale (lost writes) from offset 303104, 1 zero" in str(err), str(err)
    assert lost * UNIT <= err.offset < (lost + 1) * UNIT, "the first wrong byte is in the stale unit"
    st = err.report["state"]
    assert (st["stale"], st["zero"], st["misplaced"], st["corrupt"]) == (1, 1, 0, 0)
    assert st["first_stale"] == [lost * UNIT] and st["first_zero"] == [zeroed * UNIT]
    assert st["units_ok"] == UNITS - 2
    assert err.report["passed"] is False


def test_a_state_of_another_dataset_is_refused_and_left_alone(tmp_path):
    g = dgen.Generator(**CONFIG)
    spath, data = tmp_path / "s", tmp_path / "data.bin"
    with dgen.WriteState(spath, g) as ws:
        g.write_file(data, state=ws)
    state_before, data_before = spath.read_bytes(), data.read_bytes()

    other = dgen.Generator(**dict(CONFIG, seed=7))
    for write in (True, False):
        with pytest.raises(ValueError, match="its seed is 5, this run's is 7"):
            dgen.WriteState(spath, other, write=write)
    bigger = dgen.Generator(**dict(CONFIG, size=8 << 20))
    with pytest.raises(ValueError, match="its size is 4194304, this run's is 8388608"):
        dgen.WriteState(spath, bigger)

    # A state handed to another generator's run: refused before any write.
    with dgen.WriteState(spath, g) as ws:
        with pytest.raises(ValueError, match="its seed is 5, this run's is 7"):
            other.write_file(data, state=ws)
        with pytest.raises(ValueError, match="its seed is 5, this run's is 7"):
            other.verify_file(data, state=ws)
    assert spath.read_bytes() == state_before and data.read_bytes() == data_before


def test_damaged_newer_and_missing_files(tmp_path):
    g = dgen.Generator(**CONFIG)
    spath = tmp_path / "s"
    dgen.WriteState(spath, g).close()
    good = spath.read_bytes()

    cut = tmp_path / "cut"
    cut.write_bytes(good[:-8])
    with pytest.raises(ValueError, match="cut short"):
        dgen.WriteState(cut, g)
    assert cut.read_bytes() == good[:-8]

    newer = tmp_path / "newer"
    newer.write_bytes(good[:8] + (2).to_bytes(4, "little") + good[12:])
    with pytest.raises(ValueError, match="format 2 is newer than the format 1"):
        dgen.WriteState(newer, g, write=False)
    with pytest.raises(ValueError, match="format 2 is newer"):
        dgen.WriteState.inspect(newer)

    junk = tmp_path / "junk"
    junk.write_bytes(b"hello")
    with pytest.raises(ValueError, match="not a dgen state file"):
        dgen.WriteState(junk, g)

    with pytest.raises(FileNotFoundError) as e:
        dgen.WriteState(tmp_path / "missing", g, write=False)
    assert "cannot open state file" in str(e.value)
    with pytest.raises(FileNotFoundError):
        dgen.WriteState.inspect(tmp_path / "missing")
    with pytest.raises(OSError):
        dgen.WriteState(tmp_path / "no-dir" / "s", g)

    with pytest.raises(ValueError, match="needs a sized dataset"):
        dgen.WriteState(tmp_path / "endless", dgen.Generator(size=0, seed=1))
    assert not (tmp_path / "endless").exists()


def test_ranges_must_be_whole_units_and_read_only_states_record_nothing(tmp_path):
    g = dgen.Generator(**CONFIG)
    spath = tmp_path / "s"
    buf = bytearray(UNIT)
    with dgen.WriteState(spath, g) as ws:
        with pytest.raises(ValueError, match="whole dedup units of 8192 bytes: offset 100 and length 8192"):
            ws.fill(100, buf)
        with pytest.raises(ValueError, match="offset 0 and length 100"):
            ws.fill(0, bytearray(100))
        with pytest.raises(ValueError, match="passes the dataset size"):
            ws.fill(CONFIG["size"], buf)
        with pytest.raises(ValueError, match="whole dedup units"):
            ws.complete(0, 4096)
        assert ws.summary()["written"] == 0, "a refused fill claims nothing"

    before = spath.read_bytes()
    ro = dgen.WriteState(spath, g, write=False)
    assert ro.writable is False
    with pytest.raises(ValueError, match="opened for verifying, not writing"):
        ro.fill(0, buf)
    with pytest.raises(ValueError, match="opened for verifying, not writing"):
        ro.complete(0, UNIT)
    with pytest.raises(ValueError, match="opened for verifying, not writing"):
        g.write_file(tmp_path / "data.bin", state=ro)
    ro.close()
    assert spath.read_bytes() == before


def test_bad_arguments(tmp_path):
    g = dgen.Generator(**CONFIG)
    with pytest.raises(TypeError, match="generator must be a dgen.Generator, got int 5"):
        dgen.WriteState(tmp_path / "s", 5)
    with pytest.raises(TypeError, match="write must be a bool"):
        dgen.WriteState(tmp_path / "s", g, write="yes")
    with pytest.raises(TypeError, match="path must be a str, bytes or os.PathLike"):
        dgen.WriteState(3.5, g)
    with pytest.raises(TypeError, match="state must be None or a dgen.WriteState, got str"):
        g.write_file(tmp_path / "d", state="s")
    ws = dgen.WriteState(tmp_path / "s", g)
    with pytest.raises(BufferError):
        ws.fill(0, bytes(UNIT))
    with pytest.raises(ValueError, match="offset must be an integer"):
        ws.fill(-1, bytearray(UNIT))
    ws.close()
    ws.close()
    for call in (lambda: ws.fill(0, bytearray(UNIT)), lambda: ws.complete(0, UNIT), ws.summary):
        with pytest.raises(ValueError, match="the write state is closed"):
            call()
    with pytest.raises(ValueError, match="the write state is closed"):
        g.write_file(tmp_path / "d", state=ws)
    with pytest.raises(ValueError, match="the write state is closed"):
        with ws:
            pass
    g.close()
    with pytest.raises(ValueError, match="the generator is closed"):
        dgen.WriteState(tmp_path / "s", g)


def test_header_inspect_and_close_remove(tmp_path):
    g = dgen.Generator(**CONFIG)
    spath = tmp_path / "s"
    ws = dgen.WriteState(str(spath), g)
    assert ws.header == {
        "path": str(spath),
        "format": 1,
        "size": CONFIG["size"],
        "dedup_unit": UNIT,
        "seed": 5,
        "dedup_ratio": 2.0,
        "compress_ratio": 3.0,
        "compressor": "auto",
    }
    assert ws.units == UNITS and ws.writable is True and ws.closed is False and ws.generator is g
    assert ws.path == str(spath) and "WriteState(" in repr(ws)
    write_pass(ws, CONFIG["size"], 1 << 20)
    buf = bytearray(2 * UNIT)
    ws.fill(0, buf)
    ws.complete(0, len(buf))

    shown = dgen.WriteState.inspect(spath)
    assert set(shown) == SHOW_KEYS
    assert shown["file_bytes"] == 4096 + 8 * UNITS == spath.stat().st_size
    assert {k: shown[k] for k in SUMMARY_KEYS} == ws.summary()
    assert {k: shown[k] for k in ws.header} == ws.header
    assert (shown["written"], shown["overwritten"], shown["max_version"], shown["writes_completed"]) == (
        UNITS,
        2,
        1,
        UNITS + 2,
    )

    other = dgen.WriteState(spath, g)
    assert other.close_remove() is False, "another holder keeps the file"
    assert spath.exists()
    assert ws.close_remove() is True
    assert not spath.exists() and ws.closed
    assert ws.close_remove() is False


def test_fills_from_many_threads_share_one_state(tmp_path):
    g = dgen.Generator(**dict(CONFIG, threads=1))
    path = tmp_path / "data.bin"
    ws = dgen.WriteState(tmp_path / "s", g)
    target = bytearray(CONFIG["size"])
    view = memoryview(target)
    threads, passes = 4, 3
    errors = []

    def writer(t):
        try:
            # Each thread overwrites its own units (every 4th block of 2
            # units), pass after pass, in its own order.
            blocks = list(range(t, UNITS // 2, threads))
            for p in range(passes):
                for b in blocks if p % 2 == 0 else reversed(blocks):
                    off = b * 2 * UNIT
                    ws.fill(off, view[off : off + 2 * UNIT])
                    ws.complete(off, 2 * UNIT)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    # Two threads also hammer one shared unit at once: it then accepts any
    # of their versions, and nothing else.
    def shared():
        buf = bytearray(UNIT)
        try:
            for _ in range(50):
                ws.fill(CONFIG["size"] - UNIT, buf)
                ws.complete(CONFIG["size"] - UNIT, UNIT)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
    workers += [threading.Thread(target=shared) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
    last = bytearray(UNIT)
    ws.fill(CONFIG["size"] - UNIT, last)
    ws.complete(CONFIG["size"] - UNIT, UNIT)
    view[CONFIG["size"] - UNIT :] = last

    s = ws.summary()
    assert s["written"] == UNITS and s["in_flight"] == 0
    # Every unit `passes` times, the last unit 100 + 1 times more.
    assert s["writes_completed"] == s["writes_claimed"] == passes * UNITS + 100 + 1
    assert s["max_version"] == passes + 100
    path.write_bytes(target)
    report = g.verify_file(path, state=ws)
    assert report["state"]["units_ok"] == UNITS and report["state"]["stale"] == 0
    ws.close()


def test_a_progress_callback_cannot_close_the_state_its_run_uses(tmp_path):
    g = dgen.Generator(**CONFIG)
    ws = dgen.WriteState(tmp_path / "s", g)
    refused = []

    def progress(done, total):
        try:
            ws.close()
        except ValueError as e:
            refused.append(str(e))

    g.write_file(tmp_path / "data.bin", state=ws, progress=progress)
    assert refused and "inside a progress callback" in refused[0]
    assert not ws.closed and ws.summary()["written"] == UNITS
    ws.close()
