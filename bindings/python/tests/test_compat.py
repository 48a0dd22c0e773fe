"""dgen.compat: scripts written for dgen-py, run with one changed import.

The scripts below follow dgen-py's README (its quick start, its streaming
loop and its seed examples) with `import dgen.compat as dgen_py` in place of
`import dgen_py`; sizes are scaled down to keep the suite short.
"""

import hashlib
import os
import pickle
import threading
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


def test_small_chunks_are_views_of_one_window_of_the_stream():
    size = 3 << 20
    gen = dgen_py.Generator(size=size, seed=21)
    whole = stream(21, 0, size, size)
    a, b = gen.get_chunk(4096), gen.get_chunk(4096)
    assert address(b) == address(a) + 4096  # one window, no copy
    kept = bytes(a)
    # Odd sizes cross window ends; every byte is still the stream's, in order.
    parts = [a, b] + [gen.get_chunk(3000) for _ in range(1000)]
    while (part := gen.get_chunk(65536)) is not None:
        parts.append(part)
    assert b"".join(bytes(p) for p in parts) == whole
    assert bytes(a) == kept  # views stay valid after the window moved on
    assert gen.is_complete() and gen.position() == size


def test_readme_seed_reproducibility():
    gen1 = dgen_py.Generator(size=10 * 1024**3, seed=12345)
    gen2 = dgen_py.Generator(size=10 * 1024**3, seed=12345)
    gen3 = dgen_py.Generator(size=10 * 1024**3)
    a, b, c = (digest(g, 1 << 20) for g in (gen1, gen2, gen3))
    assert a == b
    assert c != a
    assert digest(dgen_py.Generator(size=1 << 30, seed=12346), 1 << 20) != a


def test_readme_set_seed_alternates_streams():
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
    assert bytes(buffer) == pattern_a  # "SAME as first chunk"
    assert gen.position() == 3 * len(buffer)  # the counter goes on
    gen.set_seed(None)
    assert gen.position() == 3 * len(buffer)
    gen.fill_chunk(buffer)
    assert bytes(buffer) != pattern_a


def stream(seed, offset, n, size):
    out = bytearray(n)
    dgen.Generator(size=size, seed=seed).fill_at(offset, out)
    return bytes(out)


def test_set_seed_keeps_position_remaining_and_completion():
    """As in dgen-py: the position and the bytes left stay; the new seed's
    stream resumes at the position's offset within its 1 MiB block."""
    mib = 1 << 20
    size = 8 * mib
    gen = dgen_py.Generator(size=size, seed=1)
    first = gen.get_chunk(2 * mib + 12288)
    assert bytes(first) == stream(1, 0, len(first), size)
    gen.set_seed(2)
    assert gen.position() == 2 * mib + 12288 and not gen.is_complete() and gen.total_size() == size
    assert gen.seed == 2
    after = gen.get_chunk(4096)
    assert bytes(after) == stream(2, 12288, 4096, size)
    # The rest of the stream is exactly what was left: 6 MiB - 16 KiB.
    buf = bytearray(16 * mib)
    assert gen.fill_chunk(buf) == size - (2 * mib + 16384)
    assert bytes(buf[:100]) == stream(2, 16384, 100, size)
    assert gen.is_complete() and gen.position() == size
    assert gen.fill_chunk(buf) == 0 and gen.get_chunk(10) is None
    # A complete stream stays complete.
    gen.set_seed(3)
    assert gen.is_complete() and gen.position() == size and gen.fill_chunk(buf) == 0
    # reset starts over at 0 with the seed in use.
    gen.reset()
    assert gen.position() == 0 and not gen.is_complete()
    assert bytes(gen.get_chunk(4096)) == stream(3, 0, 4096, size)
    # Within the first MiB the new stream resumes at the position itself.
    gen.set_seed(4)
    assert bytes(gen.get_chunk(100)) == stream(4, 4096, 100, size)
    # The end is where it was, however the stream behind was shifted.
    gen = dgen_py.Generator(size=3 * mib + 5, seed=1)
    assert len(gen.get_chunk(mib + 7)) == mib + 7
    gen.set_seed(9)
    assert len(gen.get_chunk(4 * mib)) == 2 * mib - 2
    assert gen.is_complete() and gen.get_chunk(1) is None
    with pytest.raises(ValueError, match="seed must be None or an integer from 0 to 2\\*\\*64-1, got -1"):
        gen.set_seed(-1)
    with pytest.raises(TypeError, match="seed"):
        gen.set_seed("3")
    assert gen.seed == 9 and gen.position() == 3 * mib + 5


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
    assert bytes(gen.get_chunk(100_000)) == bytes(first) + bytes(rest)
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
        data = bytes(gen.get_chunk(size))
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
    empty = dgen_py.generate_buffer(0)  # dgen-py panics here
    assert isinstance(empty, dgen_py.BytesView) and len(empty) == 0 and bytes(empty) == b""


# dgen-py 0.3.0's public names (its __all__, StreamingGenerator and the
# names its modules export besides).
DGEN_PY_NAMES = [
    "BytesView",
    "BufferPool",
    "generate_buffer",
    "generate_data",
    "generate_into_buffer",
    "fill_buffer",
    "generate_uniform",
    "normalize_rows",
    "generate_uniform_vectors",
    "Generator",
    "StreamingGenerator",
    "create_bytearrays",
    "bench_rolling_pool",
    "get_numa_info",
    "get_system_info",
]


def test_every_dgen_py_name_is_here():
    missing = [name for name in DGEN_PY_NAMES if not hasattr(dgen_py, name)]
    assert not missing
    assert set(DGEN_PY_NAMES) <= set(dgen_py.__all__)


def test_method_is_accepted_and_ignored_where_dgen_py_takes_it():
    a = dgen_py.Generator(size=1 << 20, seed=5, method="serial").get_chunk(1 << 20)
    b = dgen_py.Generator(size=1 << 20, seed=5, method="parallel").get_chunk(1 << 20)
    assert bytes(a) == bytes(b)
    assert len(dgen_py.generate_buffer(4096, method="anything")) == 4096
    assert dgen_py.generate_into_buffer(bytearray(4096), method="parallel") == 4096
    for call in (
        lambda: dgen_py.Generator(size=10, method=3),
        lambda: dgen_py.generate_buffer(10, method=None),
        lambda: dgen_py.generate_into_buffer(bytearray(10), method=b"serial"),
    ):
        with pytest.raises(TypeError, match="^method must be a string, got "):
            call()


def test_bytes_view_is_a_read_only_zero_copy_buffer():
    gen = dgen_py.Generator(size=1 << 20, seed=8)
    views = [
        gen.get_chunk(10_000),
        dgen_py.generate_buffer(70_000),
        dgen_py.BufferPool().next_slice(4096),
        dgen_py.generate_uniform(10, seed=1),
        dgen_py.generate_uniform_vectors(2, 3, seed=1),
    ]
    for v in views:
        assert type(v) is dgen_py.BytesView
        m = memoryview(v)
        assert (m.readonly, m.format, m.itemsize, m.ndim, m.nbytes) == (True, "B", 1, 1, len(v))
        assert bytes(v) == m.tobytes() and len(bytes(v)) == len(v)
        a = np.frombuffer(v, dtype=np.uint8)
        assert not a.flags.writeable and a.tobytes() == bytes(v)
        with pytest.raises(TypeError):
            m[0] = 1
        with pytest.raises(TypeError):
            v[0]
        assert v == v and v != bytes(v)  # compared by identity, as in dgen-py
        hash(v)
    assert bytes(views[0]) == stream(8, 0, 10_000, 1 << 20)
    # The memory lives as long as any buffer taken from the view.
    v = dgen_py.generate_buffer(4096)
    m, want = memoryview(v), bytes(v)
    del v
    assert m.tobytes() == want
    with pytest.raises(TypeError, match="cannot create 'BytesView' instances"):
        dgen_py.BytesView()
    with pytest.raises(TypeError, match="cannot pickle"):
        pickle.dumps(dgen_py.generate_buffer(10))


def address(view):
    return np.frombuffer(view, dtype=np.uint8).__array_interface__["data"][0]


def test_buffer_pool_slices_share_one_block_and_reuse_it():
    pool = dgen_py.BufferPool(dedup_ratio=1.5, compress_ratio=2.5)
    assert (pool.dedup_ratio, pool.compress_ratio) == (1.5, 2.5)
    assert pool.remaining == dgen_py.POOL_BLOCK_SIZE
    first = pool.next_slice(4096)
    second = pool.next_slice(4096)
    assert address(second) == address(first) + 4096  # views into one block
    start, kept = address(first), bytes(first)
    del first, second
    # No slice holds the block any more: the next block is generated in
    # place, and a slice kept meanwhile keeps its own bytes.
    pool.next_slice(pool.remaining)
    again = pool.next_slice(4096)
    assert address(again) == start
    held_bytes = bytes(again)
    for _ in range(2 * (dgen_py.POOL_BLOCK_SIZE // 4096)):
        pool.next_slice(4096)
    assert bytes(again) == held_bytes != kept
    big = pool.next_slice(3 << 20)
    assert len(big) == 3 << 20 and pool.remaining <= dgen_py.POOL_BLOCK_SIZE
    with pytest.raises(ValueError, match="^size must be an integer > 0, got 0$"):
        pool.next_slice(0)
    with pytest.raises(ValueError, match="^size must be an integer > 0, got -1$"):
        pool.next_slice(-1)
    with pytest.raises(TypeError, match="^size must be an integer, got float 1.5$"):
        pool.next_slice(1.5)
    with pytest.raises(ValueError, match="dedup_ratio must be a number from 1.0 to 1024.0, got 0.5"):
        dgen_py.BufferPool(dedup_ratio=0.5)
    pool.reconfigure(dedup_ratio=1.5, compress_ratio=2.5)  # unchanged: nothing happens
    assert pool.remaining < dgen_py.POOL_BLOCK_SIZE
    pool.reconfigure(compress_ratio=4.0)
    assert (pool.dedup_ratio, pool.compress_ratio, pool.remaining) == (1.0, 4.0, dgen_py.POOL_BLOCK_SIZE)


def test_buffer_pool_from_many_threads():
    pool = dgen_py.BufferPool()
    out = [[] for _ in range(4)]

    def work(i):
        for _ in range(600):
            out[i].append(bytes(pool.next_slice(4096)))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slices = [s for part in out for s in part]
    assert len(slices) == 2400 and len(set(slices)) == 2400


def test_bench_rolling_pool_returns_bytes_and_seconds():
    generated, seconds = dgen_py.bench_rolling_pool(64 * 1024, 16 << 20)
    assert generated == 16 << 20 and isinstance(seconds, float) and seconds > 0
    assert dgen_py.bench_rolling_pool(4096, 0)[0] == 4096  # at least one call
    assert dgen_py.bench_rolling_pool(2 << 20, 4 << 20)[0] == 4 << 20
    with pytest.raises(ValueError, match="^obj_size must be an integer > 0, got 0$"):
        dgen_py.bench_rolling_pool(0, 100)


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_create_bytearrays_touches_no_page():
    """dgen-py leaves them as allocated, to be filled; zeroing 2 GiB would
    take seconds. Here 256 MiB of them must not become resident memory."""
    before = resident_bytes()
    arrays = dgen_py.create_bytearrays(count=4, size=64 << 20)
    grown = resident_bytes() - before
    assert [type(a) for a in arrays] == [bytearray] * 4 and all(len(a) == 64 << 20 for a in arrays)
    assert grown < 16 << 20, f"creating 256 MiB of bytearrays made {grown >> 20} MiB resident"
    gen = dgen_py.Generator(size=8 << 20, seed=2)
    assert gen.fill_chunk(arrays[0]) == 8 << 20
    assert bytes(arrays[0][:4096]) == stream(2, 0, 4096, 8 << 20)
    assert dgen_py.create_bytearrays(0, 10) == []
    assert dgen_py.create_bytearrays(3, 0) == [bytearray()] * 3
    with pytest.raises(ValueError, match="^count must be an integer >= 0, got -1$"):
        dgen_py.create_bytearrays(-1, 10)
    with pytest.raises(TypeError, match="^size must be an integer, got float 1.5$"):
        dgen_py.create_bytearrays(1, 1.5)


def test_generate_uniform_is_the_librarys_float_sequence():
    view = dgen_py.generate_uniform(1000, low=-1.0, high=3.0, seed=11)
    assert isinstance(view, dgen_py.BytesView) and len(view) == 4000
    a = np.frombuffer(view, dtype=np.float32)
    want = np.empty(1000, dtype=np.float32)
    dgen.fill_f32_at(want, 0, seed=11, low=-1.0, high=3.0)
    assert np.array_equal(a, want) and a.min() >= -1.0 and a.max() < 3.0
    # A prefix of a longer call, whatever the thread count.
    longer = dgen_py.generate_uniform(5000, low=-1.0, high=3.0, seed=11, max_threads=2)
    assert np.array_equal(np.frombuffer(longer, dtype=np.float32)[:1000], a)
    assert not np.array_equal(np.frombuffer(dgen_py.generate_uniform(1000, seed=12), dtype=np.float32), a)
    assert len(dgen_py.generate_uniform(0)) == 0
    assert len(dgen_py.generate_uniform(10)) == 40  # seed=None draws one
    with pytest.raises(ValueError, match=r"^high must be greater than low, got 1 \(low is 2\)$"):
        dgen_py.generate_uniform(10, low=2.0, high=1.0)
    with pytest.raises(ValueError, match="^high must be a finite number above low, got inf$"):
        dgen_py.generate_uniform(10, high=float("inf"))
    with pytest.raises(ValueError, match="^count must be an integer >= 0, got -1$"):
        dgen_py.generate_uniform(-1)
    with pytest.raises(ValueError, match="numa_mode must be one of auto, force, disabled, got 'x'"):
        dgen_py.generate_uniform(10, numa_mode="x")


def test_generate_uniform_vectors_and_normalize_rows():
    rows, dim = 100, 16
    raw = dgen_py.generate_uniform_vectors(rows, dim, normalize=False, seed=4)
    flat = np.frombuffer(dgen_py.generate_uniform(rows * dim, seed=4), dtype=np.float32)
    assert np.array_equal(np.frombuffer(raw, dtype=np.float32), flat)
    unit = np.frombuffer(dgen_py.generate_uniform_vectors(rows, dim, seed=4), dtype=np.float32).reshape(rows, dim)
    assert np.allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-6)
    # normalize_rows on generate_uniform's output, as dgen-py's docs do it.
    buf = bytearray(dgen_py.generate_uniform(rows * dim, seed=4))
    assert dgen_py.normalize_rows(buf, dim=dim) is None
    assert np.array_equal(np.frombuffer(buf, dtype=np.float32).reshape(rows, dim), unit)
    arr = np.array([[3, 4], [0, 0]], dtype=np.float32)
    dgen_py.normalize_rows(arr, 2, max_threads=1)
    assert arr.tolist() == [[pytest.approx(0.6), pytest.approx(0.8)], [0.0, 0.0]]
    assert len(dgen_py.generate_uniform_vectors(0, 3)) == 0
    with pytest.raises(ValueError, match="^dim must be an integer >= 1, got 0$"):
        dgen_py.generate_uniform_vectors(3, 0)
    with pytest.raises(ValueError, match="buf must hold float32 values .* got element format 'd'"):
        dgen_py.normalize_rows(np.zeros((2, 2)), 2)
    with pytest.raises(ValueError, match="^dim must divide the number of values, got 3 for 4 values$"):
        dgen_py.normalize_rows(np.zeros(4, dtype=np.float32), 3)
    with pytest.raises(BufferError):
        dgen_py.normalize_rows(dgen_py.generate_uniform(4, seed=1), 2)
    with pytest.raises(TypeError, match="normalize must be True or False"):
        dgen_py.generate_uniform_vectors(2, 2, normalize="yes")
