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

    report = g.write_file("/mnt/test/data.bin", jobs=4, direct=True)   # parallel, GIL released
    g.verify_file("/mnt/test/data.bin")                                # or MismatchError

Every byte is a pure function of (seed, config, offset), and the same config
gives the same bytes here as in Rust, C, C++, Go, fio and the ``dgen``
command. ``dgen.compat`` offers dgen-py's API on top of this module, so that a
script written for dgen-py runs with ``import dgen.compat as dgen_py``.
"""

import os as _os

from ._dgen import (
    COMPRESSORS,
    GRANULE,
    LIBRARY_VERSION,
    Generator,
    MismatchError,
    __version__,
    generate,
    topology,
    verify_file,
    write_file,
)
from ._dgen import _after_fork_in_child

# A child of fork has none of its parent's threads, so generators inherited
# through fork rebuild their worker pools (same config and seed, same bytes)
# on first use instead of waiting for workers that are not there.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_after_fork_in_child)

__all__ = [
    "COMPRESSORS",
    "GRANULE",
    "LIBRARY_VERSION",
    "Generator",
    "MismatchError",
    "__version__",
    "generate",
    "topology",
    "verify_file",
    "write_file",
]
