"""dgen.Generator: the bytes, the stream, and every kind of buffer it fills."""

import array
import hashlib
import io
import mmap
import shutil

import numpy as np
import pytest

import dgen

# The cross-language golden value shared with the Rust, C, C++, Go and fio
# tests (tests/c/golden.h; scripts/test-python.sh checks the two agree):
# config {size 1 GiB, dedup_ratio 2.5, compress_ratio 3.0, dedup_unit 8192,
# seed 42}, SHA-256 of the first 16 MiB of the stream.
GOLDEN_SHA256 = "4a84921f9562c02d4836b178f56a0f0dd023496020d67947817f0430c141eb0a"
GOLDEN = dict(size=1 << 30, dedup_ratio=2.5, compress_ratio=3.0, dedup_unit=8192, seed=42)
GOLDEN_PREFIX = 16 << 20

CONFIG = dict(dedup_ratio=2.5, compress_ratio=3.0, seed=7)


def reference(length, offset=0, **config):
    """The stream's bytes at [offset, offset + length), by one fill_at."""
    cfg = dict(CONFIG, **config)
    buf = bytearray(length)
    dgen.Generator(**cfg).fill_at(offset, buf)
    return bytes(buf)


def test_golden_sha256_through_fill_with_odd_call_sizes():
    g = dgen.Generator(**GOLDEN)
    h = hashlib.sha256()
    buf = bytearray(1_000_000)
    left = GOLDEN_PREFIX
    while left:
        n = g.fill(memoryview(buf)[: min(left, len(buf))])
        assert n > 0
        h.update(memoryview(buf)[:n])
        left -= n
    assert h.hexdigest() == GOLDEN_SHA256


def test_golden_sha256_through_read_and_fill_at():
    g = dgen.Generator(**GOLDEN)
    assert hashlib.sha256(g.read(GOLDEN_PREFIX)).hexdigest() == GOLDEN_SHA256
    whole = np.empty(GOLDEN_PREFIX // 8, dtype=np.float64)
    g.fill_at(0, whole)
    assert hashlib.sha256(whole).hexdigest() == GOLDEN_SHA256


@pytest.mark.parametrize("threads", [1, 2])
def test_stream_equals_fill_at_for_odd_buffer_sizes(threads):
    size = (8 << 20) + 12345
    g = dgen.Generator(size=size, threads=threads, **CONFIG)
    # Sizes that straddle granules, dedup units and the 2 MiB parallel cutoff.
    sizes = [1, 4095, 4097, 65537, 1_000_003, (3 << 20) + 1, 7]
    out = bytearray()
    i = 0
    while True:
        buf = bytearray(sizes[i % len(sizes)])
        n = g.fill(buf)
        if n == 0:
            break
        out += buf[:n]
        i += 1
    assert len(out) == size
    assert g.is_complete and g.position == size
    whole = bytearray(size)
    dgen.Generator(size=size, threads=threads, **CONFIG).fill_at(0, whole)
    assert out == whole
    g.verify_at(0, out)
    # Any window, at any offset, agrees too.
    for off, length in [(0, 1), (4095, 2), (8191, 4097), (size - 3, 3), (123457, (2 << 20) + 5)]:
        part = bytearray(length)
        g.fill_at(off, part)
        assert part == whole[off : off + length]


def test_small_and_large_reads_are_the_stream():
    """read(n) fills small objects with the GIL held and large ones with it
    released; both give the stream's bytes, in order, and stop at the end."""
    size = 300_000
    whole = dgen.Generator(size=size, seed=9, compress_ratio=2.0).read()
    g = dgen.Generator(size=size, seed=9, compress_ratio=2.0)
    parts = [g.read(n) for n in (0, 1, 4095, 4096, 65536, 65537, 7, 100_000)]
    assert [len(p) for p in parts] == [0, 1, 4095, 4096, 65536, 65537, 7, 100_000]
    rest = g.read(65536)
    assert len(rest) == size - sum(len(p) for p in parts)
    assert b"".join(parts) + rest == whole
    assert g.read(4096) == b"" and g.is_complete
    with pytest.raises(TypeError, match="^n must be an integer, got float 1.0$"):
        g.read(1.0)
    g.seek(0)
    assert g.read(3) == whole[:3]


def test_same_seed_same_bytes_and_drawn_seed_reads_back():
    a = dgen.Generator(seed=99).read(1 << 16)
    assert dgen.Generator(seed=99).read(1 << 16) == a
    assert dgen.Generator(seed=100).read(1 << 16) != a
    g = dgen.Generator()
    assert 0 <= g.seed < 2**64
    first = g.read(1 << 16)
    assert dgen.Generator(seed=g.seed).read(1 << 16) == first
    assert dgen.Generator(seed=2**64 - 1).seed == 2**64 - 1
    assert dgen.Generator(seed=np.uint64(5)).seed == 5


@pytest.mark.parametrize(
    "dtype, shape",
    [
        (np.uint8, (10007,)),
        (np.int8, (4096, 3)),
        (np.int16, (5000,)),
        (np.float32, (333, 17)),
        (np.float64, (2, 3, 1001)),
        (np.uint64, (70000,)),
        (np.complex128, (999,)),
    ],
)
def test_numpy_arrays_of_any_dtype_are_filled_in_place(dtype, shape):
    arr = np.zeros(shape, dtype=dtype)
    g = dgen.Generator(**CONFIG)
    g.fill_at(12345, arr)
    assert arr.tobytes() == reference(arr.nbytes, 12345)
    g.verify_at(12345, arr)
    arr2 = np.zeros(shape, dtype=dtype)
    assert g.fill(arr2) == arr2.nbytes
    assert arr2.tobytes() == reference(arr2.nbytes)
    # A read-only array can be verified, not filled.
    arr.flags.writeable = False
    g.verify_at(12345, arr)
    with pytest.raises(BufferError, match="writable"):
        g.fill_at(0, arr)


def test_memoryview_slices_fill_only_their_window():
    base = bytearray(20000)
    view = memoryview(base)[1000:9000]
    g = dgen.Generator(**CONFIG)
    g.fill_at(777, view)
    assert base[1000:9000] == reference(8000, 777)
    assert base[:1000] == bytes(1000) and base[9000:] == bytes(11000)
    # A typed view (format 'i') is filled as raw bytes.
    ints = memoryview(bytearray(4000)).cast("i")
    g.fill_at(0, ints)
    assert ints.tobytes() == reference(4000)
    # array.array too.
    arr = array.array("d", bytes(8 * 501))
    g.fill_at(5, arr)
    assert arr.tobytes() == reference(8 * 501, 5)


def test_mmap_of_a_file(tmp_path):
    path = tmp_path / "data.bin"
    size = (1 << 20) + 3 * 4096 + 17
    path.write_bytes(bytes(size))
    g = dgen.Generator(**CONFIG)
    with open(path, "r+b") as f, mmap.mmap(f.fileno(), size) as mm:
        g.fill_at(4096, mm)
        mm.flush()
        g.verify_at(4096, mm)
    assert path.read_bytes() == reference(size, 4096)
    # A read-only map verifies but cannot be filled.
    with open(path, "rb") as f, mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ) as mm:
        g.verify_at(4096, mm)
        with pytest.raises(BufferError, match="writable"):
            g.fill(mm)


@pytest.mark.parametrize("length", [4096, 100_000, 3 << 20])
def test_verify_at_finds_a_flipped_byte_at_its_offset(length):
    base = 8192 * 3 + 5
    data = bytearray(reference(length, base))
    g = dgen.Generator(**CONFIG)
    g.verify_at(base, data)
    for i in sorted({0, 1, 4095, length // 2, length - 1}):
        orig = data[i]
        data[i] ^= 0x5A
        with pytest.raises(dgen.MismatchError) as exc:
            g.verify_at(base, data)
        err = exc.value
        assert (err.offset, err.expected, err.found) == (base + i, orig, orig ^ 0x5A)
        assert f"offset {base + i}" in str(err)
        data[i] = orig
    # Two wrong bytes: the first one is reported, also when the check is split
    # over worker threads.
    data[length - 1] ^= 1
    data[length // 3] ^= 1
    with pytest.raises(dgen.MismatchError) as exc:
        g.verify_at(base, data)
    assert exc.value.offset == base + length // 3


def test_fill_returns_zero_at_the_end_and_read_is_short():
    g = dgen.Generator(size=10000, **CONFIG)
    buf = bytearray(6000)
    assert g.fill(buf) == 6000
    assert g.fill(buf) == 4000
    assert buf[:4000] == reference(4000, 6000, size=10000)
    assert g.fill(buf) == 0
    assert g.is_complete
    assert g.read(10) == b""
    g.rewind()
    assert g.position == 0 and not g.is_complete
    assert g.read() == reference(10000, size=10000)
    assert g.fill(bytearray()) == 0


def test_readinto_read_seek_tell_and_copyfileobj():
    size = 300_001
    g = dgen.Generator(size=size, **CONFIG)
    whole = reference(size, size=size)
    assert g.read(10) == whole[:10]
    buf = bytearray(100)
    assert g.readinto(buf) == 100 and buf == whole[10:110]
    assert g.tell() == g.position == 110
    assert g.seek(-10, 1) == 100
    assert g.read(5) == whole[100:105]
    assert g.seek(-1, 2) == size - 1
    assert g.read(5) == whole[-1:]
    assert g.seek(0) == 0
    out = io.BytesIO()
    shutil.copyfileobj(g, out, 65536)
    assert out.getvalue() == whole
    assert g.readable() and g.seekable() and not g.writable()


def test_endless_stream_runs_to_the_2_pow_64_limit():
    g = dgen.Generator(**CONFIG)
    assert g.size == 0 and not g.is_complete
    g.seek(2**64 - 4)
    buf = bytearray(8)
    assert g.fill(buf) == 3
    assert g.fill(buf) == 0
    assert g.position == 2**64 - 1
    g.fill_at(2**64 - 2, bytearray(1))


def test_close_and_context_manager():
    with dgen.Generator(size=1 << 20, **CONFIG) as g:
        assert g.read(4) == reference(4, size=1 << 20)
        assert not g.closed
    assert g.closed
    for call in (lambda: g.fill(bytearray(1)), lambda: g.fill_at(0, bytearray(1)),
                 lambda: g.verify_at(0, b"x"), lambda: g.read(1), lambda: g.seek(0), lambda: g.rewind()):
        with pytest.raises(ValueError, match="closed"):
            call()
    g.close()  # twice is fine
    assert g.seed == 7 and g.size == 1 << 20  # properties stay readable


def test_properties_and_repr():
    g = dgen.Generator(size=123, dedup_ratio=1.5, compress_ratio=2, dedup_unit=8192, seed=3,
                       threads=1, numa_mode="OFF", compressor="Snappy")
    assert (g.size, g.dedup_ratio, g.compress_ratio, g.dedup_unit, g.seed) == (123, 1.5, 2.0, 8192, 3)
    assert (g.threads, g.numa_mode, g.numa_node, g.compressor) == (1, "off", None, "snappy")
    assert "dgen.Generator(size=123, dedup_ratio=1.5, compress_ratio=2.0" in repr(g)


def test_compressor_names_and_bytes():
    assert dgen.COMPRESSORS == ("auto", "zstd", "lz4", "gzip", "snappy", "lzo", "lzjb")
    for name in dgen.COMPRESSORS + ("zlib", "deflate"):
        dgen.Generator(compressor=name, seed=1).read(4096)


def test_generate_matches_the_generator():
    data = dgen.generate(100_000, **CONFIG)
    assert isinstance(data, bytearray)
    assert data == dgen.Generator(size=100_000, **CONFIG).read(100_000)
    assert dgen.generate(0) == bytearray()


def test_topology_and_version():
    t = dgen.topology()
    assert t["source"] in ("sysfs", "hwloc", "fallback")
    assert t["nodes"] and t["allowed_cpus"] and t["cores"] >= 1
    assert t["placement"]["threads"] == len(t["allowed_cpus"])
    assert dgen.topology(threads=3, numa_mode="force")["placement"]["pinned"] != []
    node = t["nodes"][0]["node"]
    assert dgen.topology(numa_node=node)["placement"]["numa_node"] == node
    from importlib.metadata import version

    assert dgen.__version__ == version("libdgen")
    assert dgen.LIBRARY_VERSION.count(".") == 2
    assert dgen.GRANULE == 4096
