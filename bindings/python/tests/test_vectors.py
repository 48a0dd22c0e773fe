"""Seeded float32 vectors: dgen.fill_f32_at, dgen.vectors, dgen.normalize_rows.

The values come from the library, so they are the C and Go faces' values: the
golden hash below is asserted in ffi/src/tests.rs, tests/c/golden.h and
bindings/go/vectors_test.go too.
"""

import array
import hashlib

import numpy as np
import pytest

import dgen

# SHA-256 of 65536 values of seed 42 from element 1000001 over [-1, 1), as
# little-endian float32 bytes.
GOLDEN_F32_SHA256 = "880909259f0482a6fbe9795ea1e674f00cd85fe6d5f07b37033663d03a15f20f"


def values(index, count, seed=42, low=-1.0, high=1.0, **kw):
    out = np.empty(count, dtype=np.float32)
    assert dgen.fill_f32_at(out, index, seed=seed, low=low, high=high, **kw) == count
    return out


def test_golden_sha256_is_the_c_and_go_one():
    v = values(1_000_001, 65536)
    assert hashlib.sha256(v.astype("<f4").tobytes()).hexdigest() == GOLDEN_F32_SHA256
    assert v.min() >= -1.0 and v.max() < 1.0


def test_any_range_gives_the_values_of_the_whole():
    whole = values(0, 10_001, seed=7, low=0.0, high=1.0)
    for start, n in [(0, 1), (1, 2), (3, 5000), (9_999, 2), (10_000, 1)]:
        assert np.array_equal(values(start, n, seed=7, low=0.0, high=1.0), whole[start : start + n])
    assert not np.array_equal(values(0, 100, seed=8, low=0.0, high=1.0), whole[:100])


def test_any_float32_buffer_and_any_thread_count():
    want = values(5, 64)
    for buf in (bytearray(256), array.array("f", bytes(256)), memoryview(bytearray(256)).cast("f")):
        assert dgen.fill_f32_at(buf, 5, seed=42, low=-1.0, high=1.0) == 64
        assert np.array_equal(np.frombuffer(bytes(buf), dtype=np.float32), want)
    # A call large enough to be split over threads gives the same values.
    n = 3 << 20
    one = values(12345, n, threads=1)
    assert np.array_equal(values(12345, n, threads=2), one)
    assert np.array_equal(values(12345, n, threads=7), one)


def test_vectors_are_rows_of_the_sequence():
    v = dgen.vectors(4, 8, seed=3, start=10, low=-2.0, high=2.0)
    assert v.shape == (4, 8) and v.dtype == np.float32
    assert np.array_equal(v.ravel(), values(80, 32, seed=3, low=-2.0, high=2.0))
    # One vector on its own is the same as in the batch.
    assert np.array_equal(dgen.vectors(1, 8, seed=3, start=12, low=-2.0, high=2.0)[0], v[2])
    n = dgen.vectors(4, 8, seed=3, start=10, low=-2.0, high=2.0, normalize=True)
    assert np.allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-6)
    assert np.allclose(n, v / np.linalg.norm(v, axis=1, keepdims=True), atol=1e-6)
    assert dgen.vectors(0, 8, seed=1).shape == (0, 8)


def test_normalize_rows_in_place():
    a = np.array([[3, 4], [0, 0], [np.nan, 1], [1, 0]], dtype=np.float32)
    assert dgen.normalize_rows(a, 2) is None
    assert np.array_equal(a[[0, 1, 3]], np.array([[0.6, 0.8], [0, 0], [1, 0]], dtype=np.float32))
    assert np.isnan(a[2, 0]) and a[2, 1] == 1.0
    raw = bytearray(np.array([0, 5, 12, 0], dtype=np.float32).tobytes())
    dgen.normalize_rows(raw, 2, threads=1)
    assert np.array_equal(np.frombuffer(raw, dtype=np.float32), np.array([0, 1, 1, 0], dtype=np.float32))
    big = values(0, 4 << 20, low=0.0, high=1.0).reshape(-1, 128)
    split = big.copy()
    dgen.normalize_rows(big, 128, threads=1)
    dgen.normalize_rows(split, 128, threads=3)
    assert np.array_equal(big, split)


def test_bad_arguments_name_the_field_and_value():
    buf = np.zeros(4, dtype=np.float32)
    with pytest.raises(ValueError, match=r"^high must be greater than low, got 1 \(low is 1\)$"):
        dgen.fill_f32_at(buf, seed=1, low=1.0, high=1.0)
    with pytest.raises(ValueError, match="^low must be a finite number below high, got NaN$"):
        dgen.fill_f32_at(buf, seed=1, low=float("nan"))
    with pytest.raises(ValueError, match="^high must be a finite number above low, got inf$"):
        dgen.fill_f32_at(buf, seed=1, high=float("inf"))
    with pytest.raises(ValueError, match=r"^high must be within float32's range \(about ±3.4e38\), got 1e\+39$"):
        dgen.fill_f32_at(buf, seed=1, high=1e39)
    with pytest.raises(ValueError, match=r"^index \+ count must be at most 2\^64 .* got 18446744073709551614 \+ 4$"):
        dgen.fill_f32_at(buf, 2**64 - 2, seed=1)
    with pytest.raises(ValueError, match="^seed must be an integer from 0 to 2\\*\\*64-1, got -1$"):
        dgen.fill_f32_at(buf, seed=-1)
    with pytest.raises(TypeError, match="^low must be a number, got str 'x'$"):
        dgen.fill_f32_at(buf, seed=1, low="x")
    with pytest.raises(TypeError, match="seed"):
        dgen.fill_f32_at(buf)
    assert not buf.any(), "a refused call leaves the buffer alone"
    with pytest.raises(ValueError, match="buf must hold float32 values .* got element format 'd'"):
        dgen.fill_f32_at(np.zeros(4), seed=1)
    with pytest.raises(ValueError, match="buf must be a whole number of float32 values .* got 10 bytes"):
        dgen.fill_f32_at(bytearray(10), seed=1)
    with pytest.raises(BufferError):
        dgen.fill_f32_at(bytes(16), seed=1)
    with pytest.raises(TypeError):
        dgen.fill_f32_at("text", seed=1)
    with pytest.raises(ValueError, match="^dim must be at least 1, got 0$"):
        dgen.normalize_rows(buf, 0)
    with pytest.raises(ValueError, match="^dim must divide the number of values, got 3 for 4 values$"):
        dgen.normalize_rows(buf, 3)
    with pytest.raises(ValueError, match="^dim must be an integer >= 1, got 0$"):
        dgen.vectors(2, 0, seed=1)
    with pytest.raises(TypeError, match="normalize must be True or False"):
        dgen.vectors(2, 2, seed=1, normalize=1)
    with pytest.raises(ValueError, match=r"start \+ count must stay within 2\*\*64 values"):
        dgen.vectors(2, 2, seed=1, start=2**63)
