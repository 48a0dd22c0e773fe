"""dgen.compat: scripts written for dgen-py, run with one changed import.

The scripts below follow dgen-py's README (its quick start, its streaming
loop and its seed examples) with `import dgen.compat as dgen_py` in place of
`import dgen_py`; sizes are scaled down to keep the suite short.
"""

import hashlib
import warnings

import numpy as np
import pytest

import dgen
import dgen.compat as dgen_py


def digest(gen, n):
    buf = bytearray(n)
    assert gen.fill_chunk(buf) == n
    return hashlib.sha256(buf).hexdigest()


def test_readme_streaming_quick_start():
    total = 96 * 1024**2
    gen = dgen_py.Generator(
        size=total,
        dedup_ratio=1.0,
        compress_ratio=1.0,
        numa_mode="auto",
        max_threads=None,
    )
    assert gen.chunk_size == 32 * 1024**2
    buffer = bytearray(gen.chunk_size)
    produced = 0
    h = hashlib.sha256()
    while not gen.is_complete():
        nbytes = gen.fill_chunk(buffer)
        if nbytes == 0:
            break
        produced += nbytes
        h.update(memoryview(buffer)[:nbytes])
    assert produced == total == gen.position() == gen.total_size()
    assert gen.fill_chunk(buffer) == 0
    # The same stream as dgen.Generator with that seed.
    same = dgen.Generator(size=total, seed=gen.seed).read(total)
    assert hashlib.sha256(same).hexdigest() == h.hexdigest()


def test_readme_small_objects_and_buffer_pool():
    buf = dgen_py.generate_buffer(64 * 1024)
    assert len(buf) == 65536
    assert len(memoryview(buf)) == 65536 and len(bytes(buf)) == 65536
    big = dgen_py.generate_buffer(4 * 1024 * 1024)
    assert len(big) == 4 * 1024 * 1024

    pool = dgen_py.BufferPool(dedup_ratio=1.0, compress_ratio=1.0)
    images = [pool.next_slice(64 * 1024) for _ in range(100)]
    assert sum(len(img) for img in images) == 100 * 65536
    assert len({bytes(img) for img in images}) == 100  # no two alike
    assert 0 <= pool.remaining <= 1024 * 1024
    pool.reconfigure(dedup_ratio=2.0, compress_ratio=4.0)
    assert (pool.dedup_ratio, pool.compress_ratio) == (2.0, 4.0)
    assert len(pool.next_slice(3 * 1024 * 1024)) == 3 * 1024 * 1024


def test_readme_bulk_preallocation_then_fill():
    chunk_size = 4 * 1024**2
    chunks = dgen_py.create_bytearrays(count=6, size=chunk_size)
    gen = dgen_py.Generator(size=6 * chunk_size, numa_mode="auto", max_threads=None)
    for buf in chunks:
        assert gen.fill_chunk(buf) == chunk_size
    assert gen.is_complete()


def test_readme_seed_reproducibility():
    gen1 = dgen_py.Generator(size=10 * 1024**3, seed=12345)
    gen2 = dgen_py.Generator(size=10 * 1024**3, seed=12345)
    gen3 = dgen_py.Generator(size=10 * 1024**3)
    a, b, c = (digest(g, 1 << 20) for g in (gen1, gen2, gen3))
    assert a == b
    assert c != a
    assert digest(dgen_py.Generator(size=1 << 30, seed=12346), 1 << 20) != a


def test_readme_set_seed_restarts_the_stream():
    gen = dgen_py.Generator(size=100 * 1024**3, seed=1111)
    buffer = bytearray(10 * 1024**2)
    gen.set_seed(1111)
    gen.fill_chunk(buffer)
    pattern_a = bytes(buffer)
    gen.set_seed(2222)
    gen.fill_chunk(buffer)
    assert bytes(buffer) != pattern_a
    gen.set_seed(1111)
    gen.fill_chunk(buffer)
    assert bytes(buffer) == pattern_a
    gen.set_seed(None)
    assert gen.position() == 0


def test_readme_system_information():
    info = dgen_py.get_system_info()
    assert info
    assert info["num_nodes"] == dgen_py.detect_numa_nodes() >= 1
    assert info["physical_cores"] >= 1 and info["logical_cpus"] >= 1
    assert info["is_uma"] == (info["num_nodes"] == 1)
    assert isinstance(info["deployment_type"], str)
    assert dgen_py.get_numa_info() == info


def test_generator_methods():
    gen = dgen_py.Generator(size=100_000, seed=5, chunk_size=1 << 16, block_size=1 << 22)
    assert gen.chunk_size == 1 << 16
    first = gen.get_chunk(60_000)
    assert len(first) == 60_000 and gen.position() == 60_000
    rest = gen.get_chunk(60_000)
    assert len(rest) == 40_000 and gen.is_complete()
    assert gen.get_chunk(10) is None
    gen.reset()
    assert gen.position() == 0 and not gen.is_complete()
    assert gen.get_chunk(100_000) == first + rest
    assert dgen_py.StreamingGenerator is dgen_py.Generator


def test_generate_into_buffer_and_numpy():
    arr = np.zeros(1 << 18, dtype=np.float64)
    assert dgen_py.generate_into_buffer(arr, dedup_ratio=2, compress_ratio=2, max_threads=2) == arr.nbytes
    assert np.count_nonzero(arr.view(np.uint8)) > arr.nbytes // 2
    assert dgen_py.fill_buffer(bytearray(10)) == 10
    assert len(dgen_py.generate_data(1000)) == 1000
    assert dgen_py.generate_into_buffer(bytearray()) == 0


def test_fractional_ratios_are_honoured_not_truncated():
    """dgen-py would make 2.5 into 2 with a warning; here 2.5 means 2.5."""
    size = 16 << 20
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gen = dgen_py.Generator(size=size, dedup_ratio=2.5, seed=3)
        data = gen.get_chunk(size)
    assert data == dgen.Generator(size=size, dedup_ratio=2.5, seed=3).read(size)
    blocks = [data[i : i + 4096] for i in range(0, size, 4096)]
    ratio = len(blocks) / len(set(blocks))
    assert ratio == pytest.approx(2.5, rel=0.01)  # truncated, it would be 2.0
    assert data != dgen.Generator(size=size, dedup_ratio=2.0, seed=3).read(size)


def test_numa_modes_and_bad_arguments():
    for mode in ("auto", "force", "disabled", "disable", "uma", "AUTO"):
        dgen_py.Generator(size=4096, numa_mode=mode).get_chunk(4096)
    with pytest.raises(ValueError, match="numa_mode must be one of auto, force, disabled, got 'numa'"):
        dgen_py.Generator(size=4096, numa_mode="numa")
    with pytest.raises(ValueError, match="dedup_ratio must be a number from 1.0 to 1024.0, got 0.5"):
        dgen_py.Generator(size=4096, dedup_ratio=0.5)
    with pytest.raises(ValueError, match="chunk_size must be a positive integer or None, got 0"):
        dgen_py.Generator(size=4096, chunk_size=0)
    with pytest.raises(TypeError, match="size must be an integer"):
        dgen_py.Generator(size="10GB")
    with pytest.raises(ValueError, match="max_threads must be None or an integer from 0 \\(all CPUs\\) to 4096, got -2"):
        dgen_py.Generator(size=4096, max_threads=-2)
    with pytest.raises(BufferError):
        dgen_py.Generator(size=4096).fill_chunk(b"read-only")
    with pytest.raises(TypeError):
        dgen_py.generate_into_buffer("text")


def test_empty_stream_is_complete_from_the_start():
    gen = dgen_py.Generator(size=0)
    assert gen.is_complete() and gen.total_size() == 0
    assert gen.fill_chunk(bytearray(10)) == 0
    assert gen.get_chunk(10) is None
    assert dgen_py.generate_buffer(0) == b""
