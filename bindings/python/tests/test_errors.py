"""Every kind of bad input gets an exception that names what was wrong, and
the generator is left as it was."""

import mmap

import numpy as np
import pytest

import dgen


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        (dict(dedup_ratio=0.5), ValueError, "dedup_ratio must be a number from 1.0 to 1024.0, got 0.5"),
        (dict(dedup_ratio=1025), ValueError, "dedup_ratio must be a number from 1.0 to 1024.0, got 1025"),
        (dict(dedup_ratio=float("nan")), ValueError, "dedup_ratio must be a number from 1.0 to 1024.0, got NaN"),
        (dict(dedup_ratio=10**400), ValueError, "dedup_ratio must be a number from 1.0 to 1024.0, got 1000"),
        (dict(dedup_ratio="2"), TypeError, "dedup_ratio must be a number, got str '2'"),
        (dict(dedup_ratio=True), TypeError, "dedup_ratio must be a number, got bool True"),
        (dict(compress_ratio=0.0), ValueError, "compress_ratio must be a number from 1.0 to 32.0, got 0"),
        (dict(compress_ratio=33), ValueError, "compress_ratio must be a number from 1.0 to 32.0, got 33"),
        (dict(compress_ratio=[3]), TypeError, "compress_ratio must be a number, got list [3]"),
        (dict(dedup_unit=1000), ValueError, "dedup_unit must be a multiple of 4096 from 4096 to 67108864 (64 MiB), got 1000"),
        (dict(dedup_unit=0), ValueError, "dedup_unit must be a multiple of 4096"),
        (dict(dedup_unit=-4096), ValueError, "dedup_unit must be a multiple of 4096 from 4096 to 67108864 (64 MiB), got -4096"),
        (dict(dedup_unit=2**32), ValueError, "dedup_unit must be a multiple of 4096"),
        (dict(dedup_unit=4096.0), TypeError, "dedup_unit must be an integer, got float 4096.0"),
        (dict(size=-1), ValueError, "size must be an integer from 0 (endless) to 2**64-1, got -1"),
        (dict(size=2**64), ValueError, "size must be an integer from 0 (endless) to 2**64-1, got 18446744073709551616"),
        (dict(size="1GiB"), TypeError, "size must be an integer, got str '1GiB'"),
        (dict(size=1.5), TypeError, "size must be an integer, got float 1.5"),
        (dict(seed=-1), ValueError, "seed must be None or an integer from 0 to 2**64-1, got -1"),
        (dict(seed=2**64), ValueError, "seed must be None or an integer from 0 to 2**64-1, got 18446744073709551616"),
        (dict(seed=1.0), TypeError, "seed must be None or an integer, got float 1.0"),
        (dict(seed="42"), TypeError, "seed must be None or an integer, got str '42'"),
        (dict(seed=True), TypeError, "seed must be None or an integer, got bool True"),
        (dict(threads=-1), ValueError, "threads must be from 0 (all CPUs) to 4096, got -1"),
        (dict(threads=5000), ValueError, "threads must be from 0 (all CPUs) to 4096, got 5000"),
        (dict(threads=None, numa_mode="numa"), ValueError, "numa_mode must be one of auto, off, force, got 'numa'"),
        (dict(numa_mode=0), TypeError, "numa_mode must be a string, got int 0"),
        (dict(numa_node=4096), ValueError, "numa_node must be a NUMA node of this machine"),
        (dict(numa_node=-1), ValueError, "numa_node must be None or a NUMA node of this machine, got -1"),
        (dict(compressor="brotli"), ValueError, "compressor must be one of auto, zstd, lz4, gzip, snappy, lzo, lzjb, got brotli"),
        (dict(compressor=None, numa_node="0"), TypeError, "numa_node must be None or an integer, got str '0'"),
        (dict(compressor=1), TypeError, "compressor must be a string, got int 1"),
    ],
)
def test_bad_config_names_the_field_and_value(kwargs, exc, message):
    with pytest.raises(exc) as info:
        dgen.Generator(**kwargs)
    assert message in str(info.value)
    # generate() takes the same arguments and says the same.
    with pytest.raises(exc) as info:
        dgen.generate(4096, **kwargs) if "size" not in kwargs else dgen.generate(**kwargs)
    if "size" not in kwargs:
        assert message in str(info.value)


def test_size_none_is_a_type_error_everywhere():
    # One rule: size is an integer (0 for endless); None never quietly means
    # endless, in the class as in generate().
    for call in (lambda: dgen.Generator(size=None), lambda: dgen.generate(None), lambda: dgen.generate(size=None)):
        with pytest.raises(TypeError, match="size must be an integer, got NoneType None"):
            call()
    assert dgen.Generator().size == 0 and dgen.Generator(size=0).size == 0


def test_a_closed_generator_cannot_enter_a_with_block():
    g = dgen.Generator(size=4096)
    with g:
        pass
    assert g.closed
    with pytest.raises(ValueError, match="the generator is closed"):
        with g:
            pass


def test_unknown_or_missing_arguments():
    with pytest.raises(TypeError):
        dgen.Generator(dedup=2)
    with pytest.raises(TypeError):
        dgen.generate()
    with pytest.raises(TypeError):
        dgen.Generator().fill_at(0)


def not_writable_buffers(tmp_path):
    path = tmp_path / "ro.bin"
    path.write_bytes(bytes(8192))
    f = open(path, "rb")
    ro_map = mmap.mmap(f.fileno(), 8192, access=mmap.ACCESS_READ)
    ro_array = np.zeros(100, dtype=np.uint8)
    ro_array.flags.writeable = False
    return [b"bytes are read-only", memoryview(bytearray(10)).toreadonly(), ro_map, ro_array], (f, ro_map)


def test_read_only_buffers_are_refused_with_buffer_error(tmp_path):
    bufs, keep = not_writable_buffers(tmp_path)
    g = dgen.Generator(seed=1)
    for buf in bufs:
        for call in (g.fill, g.readinto, lambda b: g.fill_at(0, b)):
            with pytest.raises(BufferError, match="buf must be a writable, C-contiguous buffer"):
                call(buf)
        g.verify_at(0, buf[:0] if isinstance(buf, bytes) else memoryview(buf)[:0])
    assert g.position == 0
    keep[1].close()
    keep[0].close()


def buffer_calls(g, buf):
    """`g.fill(buf)`, `g.fill_at(0, buf)` and `g.verify_at(0, buf)`, each to
    be called under its own `pytest.raises`."""
    return (lambda: g.fill(buf), lambda: g.fill_at(0, buf), lambda: g.verify_at(0, buf))


def test_non_contiguous_buffers_are_refused_with_buffer_error():
    g = dgen.Generator(seed=1)
    for buf in (
        memoryview(bytearray(100))[::2],
        np.zeros((64, 64), dtype=np.uint8).T,
        np.zeros((64, 64), dtype=np.float64, order="F"),
        np.zeros(1000, dtype=np.int32)[::3],
    ):
        for call in buffer_calls(g, buf):
            with pytest.raises(BufferError, match="C-contiguous"):
                call()
    assert g.position == 0


@pytest.mark.parametrize("buf", ["text", 42, None, [1, 2, 3], object(), 4.5])
def test_objects_without_the_buffer_protocol_are_a_type_error(buf):
    g = dgen.Generator(seed=1)
    for call in buffer_calls(g, buf):
        with pytest.raises(TypeError, match="buf must be a"):
            call()


def test_ranges_past_the_end_are_a_value_error():
    g = dgen.Generator(size=10000, seed=1)
    with pytest.raises(ValueError, match="offset 9000 \\+ length 2000 passes the stream size 10000"):
        g.fill_at(9000, bytearray(2000))
    with pytest.raises(ValueError, match="passes the stream size"):
        g.verify_at(10000, b"x")
    with pytest.raises(ValueError, match="seek position must be from 0 to 10000"):
        g.seek(10001)
    with pytest.raises(ValueError, match="got -1"):
        g.seek(-1)
    with pytest.raises(ValueError, match="whence must be 0, 1 or 2, got 3"):
        g.seek(0, 3)
    endless = dgen.Generator(seed=1)
    with pytest.raises(ValueError, match="2\\^64-byte limit"):
        endless.fill_at(2**64 - 1, bytearray(2))
    with pytest.raises(ValueError, match="needs a sized stream"):
        endless.seek(0, 2)
    with pytest.raises(ValueError, match="needs a byte count"):
        endless.read()
    assert g.position == 0 and endless.position == 0


def test_bad_offsets_and_counts():
    g = dgen.Generator(seed=1)
    with pytest.raises(ValueError, match="offset must be an integer from 0 to 2\\*\\*64-1, got -1"):
        g.fill_at(-1, bytearray(1))
    with pytest.raises(ValueError, match="got 18446744073709551616"):
        g.verify_at(2**64, b"x")
    with pytest.raises(TypeError, match="offset must be an integer, got float 0.0"):
        g.fill_at(0.0, bytearray(1))
    with pytest.raises(TypeError, match="offset must be an integer, got str '0'"):
        g.fill_at("0", bytearray(1))
    with pytest.raises(TypeError, match="n must be an integer, got str '5'"):
        g.read("5")
    with pytest.raises(TypeError, match="pos must be an integer"):
        g.seek(1.5)


def test_allocation_failure_is_a_memory_error_and_moves_nothing():
    g = dgen.Generator(seed=1)
    with pytest.raises(MemoryError):
        g.read(2**62)
    assert g.position == 0
    with pytest.raises(MemoryError):
        dgen.generate(2**62)
    with pytest.raises(ValueError, match="size must be an integer from 0 to 2\\*\\*63-1"):
        dgen.generate(2**63)


def test_topology_arguments_are_checked():
    with pytest.raises(ValueError, match="numa_mode must be one of auto, off, force, got 'x'"):
        dgen.topology(numa_mode="x")
    with pytest.raises(ValueError, match="numa_node must be a NUMA node of this machine"):
        dgen.topology(numa_node=999)
    with pytest.raises(ValueError, match="threads must be from 0"):
        dgen.topology(threads=-2)


@pytest.mark.parametrize(
    "field, step",
    [("dedup_ratio", 0.5), ("compress_ratio", 0.5), ("dedup_unit", 4096), ("threads", 1)],
)
def test_param_bounds_and_the_config_check_agree(field, step):
    """The bounds the library reports are accepted, one step past them is
    refused with a message that names the field and the same bounds."""
    low, high = dgen.param_bounds(field)
    for ok in (low, high):
        dgen.Generator(size=4096, **{field: ok})
    for bad in (low - step, high + step):
        if bad < 0:
            continue
        with pytest.raises(ValueError) as info:
            dgen.Generator(size=4096, **{field: bad})
        text = str(info.value)
        assert text.startswith(field), text
        assert str(high) in text, (text, high)


@pytest.mark.parametrize("field, step", [("jobs", 1), ("iodepth", 1), ("block_size", 4096)])
def test_param_bounds_and_the_storage_check_agree(tmp_path, field, step):
    low, high = dgen.param_bounds(field)
    with pytest.raises(ValueError) as info:
        dgen.write_file(tmp_path / "x", 4096, seed=1, **{field: high + step})
    assert str(info.value).startswith(field) and str(high) in str(info.value), str(info.value)
    dgen.write_file(tmp_path / "y", 4096, seed=1, **{field: low})


def test_param_bounds_refuses_unknown_and_non_numeric_fields():
    assert dgen.param_bounds("size") == (0, 2**64 - 1)
    with pytest.raises(ValueError, match="field must be one of size, dedup_ratio"):
        dgen.param_bounds("dedup")
    with pytest.raises(ValueError, match="numa_node has no numeric bounds"):
        dgen.param_bounds("numa_node")
