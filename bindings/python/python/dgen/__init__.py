"""libdgen for Python: synthetic data for storage testing.

Bytes with the deduplication ratio and compression ratio you ask for,
reproducible from a seed, generated in place into your own buffers with the
GIL released::

    import dgen

    g = dgen.Generator(size=1 << 30, dedup_ratio=2.5, compress_ratio=3.0, seed=42)
    buf = bytearray(1 << 20)
    while (n := g.fill(buf)):
        out.write(memoryview(buf)[:n])

    g.fill_at(4096 * 1000, buf)       # any range, from any thread
    g.verify_at(4096 * 1000, buf)     # raises dgen.MismatchError(offset, expected, actual)

    report = g.write_file("/mnt/test/data.bin", jobs=4, direct=True)   # parallel, GIL released
    g.verify_file("/mnt/test/data.bin")                                # or MismatchError

    with dgen.WriteState("/var/tmp/data.state", g) as ws:              # write versions
        g.write_file("/mnt/test/data.bin", state=ws)                   # each unit's next version
        g.verify_file("/mnt/test/data.bin", state=ws)                  # lost writes: stale units

Every byte is a pure function of (seed, config, offset), and the same config
gives the same bytes here as in Rust, C, C++, Go, fio and the ``dgen``
command.

Seeded float32 vectors for vector-database benchmarks come from the same
library: ``dgen.vectors(count, dim, seed=42)`` (a numpy array) or
``dgen.fill_f32_at(buf, index, seed=42)`` (any float32 buffer), each value a
pure function of the seed and its index, as in the C and Go faces. ``dgen.compat`` offers dgen-py's API on top of this module, so that a
script written for dgen-py runs with ``import dgen.compat as dgen_py``.
"""

from typing import Any as _Any

from ._dgen import (
    COMPRESSORS,
    GRANULE,
    LIBRARY_VERSION,
    Generator,
    MismatchError,
    WriteState,
    __version__,
    fill_f32_at,
    generate,
    get_objects,
    normalize_rows,
    param_bounds,
    put_objects,
    topology,
    verify_file,
    verify_objects,
    write_file,
)


def _whole(name: str, value: _Any, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    return value


def vectors(
    count: int,
    dim: int,
    *,
    seed: int,
    start: int = 0,
    low: float = 0.0,
    high: float = 1.0,
    normalize: bool = False,
    threads: int = 0,
) -> _Any:
    """Vectors ``start`` to ``start + count - 1`` of dimension ``dim`` as a
    numpy float32 array of shape ``(count, dim)``.

    Their values are ``fill_f32_at``'s from element ``start * dim`` on:
    uniform over ``[low, high)``, a pure function of ``seed`` and the element
    index, so any range of vectors can be made on its own (by another
    process, or from C or Go) and equals the same rows of a larger call.
    ``normalize=True`` scales each vector to unit L2 norm. Needs numpy; without
    it, fill a buffer of your own with ``fill_f32_at``.
    """
    try:
        import numpy
    except ImportError as e:  # pragma: no cover - the test suite installs numpy
        raise ImportError("dgen.vectors returns a numpy array and needs numpy; use dgen.fill_f32_at without it") from e
    _whole("count", count, 0)
    _whole("dim", dim, 1)
    _whole("start", start, 0)
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be True or False, got {type(normalize).__name__} {normalize!r}")
    if (start + count) * dim > 2**64 or start * dim >= 2**64:
        raise ValueError(
            f"start + count must stay within 2**64 values of dimension {dim}, got start {start} + count {count}"
        )
    out = numpy.empty((count, dim), dtype=numpy.float32)
    fill_f32_at(out, start * dim, seed=seed, low=low, high=high, threads=threads)
    if normalize:
        normalize_rows(out, dim, threads=threads)
    return out


__all__ = [
    "COMPRESSORS",
    "GRANULE",
    "LIBRARY_VERSION",
    "Generator",
    "MismatchError",
    "WriteState",
    "__version__",
    "fill_f32_at",
    "generate",
    "get_objects",
    "normalize_rows",
    "param_bounds",
    "put_objects",
    "topology",
    "vectors",
    "verify_file",
    "verify_objects",
    "write_file",
]
