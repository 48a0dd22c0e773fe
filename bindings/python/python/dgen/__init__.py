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
    g.verify_at(4096 * 1000, buf)     # raises dgen.MismatchError(offset, expected, found)

Every byte is a pure function of (seed, config, offset), and the same config
gives the same bytes here as in Rust, C, C++, Go, fio and the ``dgen``
command. ``dgen.compat`` offers dgen-py's API on top of this module, so that a
script written for dgen-py runs with ``import dgen.compat as dgen_py``.
"""

from ._dgen import (
    COMPRESSORS,
    GRANULE,
    LIBRARY_VERSION,
    Generator,
    MismatchError,
    __version__,
    generate,
    topology,
)

__all__ = [
    "COMPRESSORS",
    "GRANULE",
    "LIBRARY_VERSION",
    "Generator",
    "MismatchError",
    "__version__",
    "generate",
    "topology",
]
