"""dgen-py's API on top of libdgen.

A script written for dgen-py runs on libdgen with one changed line::

    import dgen.compat as dgen_py

The names and signatures are dgen-py 0.3.0's: ``Generator`` (also
``StreamingGenerator``) with ``fill_chunk``, ``get_chunk``, ``chunk_size``,
``is_complete``, ``reset``, ``position``, ``total_size`` and ``set_seed``;
``BytesView``; ``generate_buffer``, ``generate_into_buffer`` (and the older
``generate_data`` and ``fill_buffer``), ``create_bytearrays``, ``BufferPool``
and ``bench_rolling_pool``; ``generate_uniform``, ``normalize_rows`` and
``generate_uniform_vectors``; ``get_system_info``, ``get_numa_info`` and
``detect_numa_nodes``. ``method=`` is accepted wherever dgen-py accepts it
(``Generator``, ``generate_buffer``, ``generate_into_buffer``): any string,
ignored, as dgen-py ignores it. The bytes are libdgen's, the float32 values
``dgen.fill_f32_at``'s: the same for a seed in every face of libdgen (C, Go,
Rust, Python), and not dgen-py's.

What is the same as in dgen-py:

- ``get_chunk``, ``generate_buffer``, ``BufferPool.next_slice``,
  ``generate_uniform`` and ``generate_uniform_vectors`` return a
  ``BytesView``: read-only, zero-copy, with ``len()``, ``bytes()`` and the
  buffer protocol (``memoryview(v)``, ``numpy.frombuffer(v, dtype)``), not
  indexable, compared and hashed by identity, not picklable. Its memory lives
  as long as the view or any buffer taken from it.
- ``set_seed(s)`` keeps ``position()``, the bytes left and ``is_complete()``
  and continues with the stream of seed ``s`` (``None`` draws one): from the
  position's offset within its 1 MiB block (``SEED_BLOCK_SIZE``), as dgen-py's
  1 MiB blocks restart. After a whole number of MiB (every loop over
  ``chunk_size`` buffers) that is the new stream's start, so ``set_seed(s)``
  repeats the bytes that seed ``s`` gave first. ``reset()`` goes back to
  position 0 with the seed in use.
- ``create_bytearrays(count, size)`` returns bytearrays whose contents are not
  initialised (like ``numpy.empty``): no page of them is touched until they
  are filled, so 2 GiB of them take well under a millisecond. Fill them
  before reading them.
- ``BufferPool.next_slice(n)`` cuts slices of up to 1 MiB from one generated
  1 MiB block (larger ones get their own), and slices stay valid after the
  pool moves on; ``remaining`` counts the bytes left in the block.
  ``bench_rolling_pool(obj_size, total_bytes)`` times it without Python in
  the loop and returns ``(bytes, seconds)``.
- ``generate_uniform_vectors(rows, dim, normalize=False)`` holds the values of
  ``generate_uniform(rows * dim)``; ``normalize_rows`` leaves zero rows alone
  and takes float32 arrays or raw byte buffers, refusing other element types
  with a ``ValueError``.

Where the semantics differ from dgen-py:

- Ratios are honoured as given. dgen-py truncates ``dedup_ratio`` and
  ``compress_ratio`` to integers (2.7 becomes 2, with a warning) and raises
  values below 1 to 1; here 2.7 means 2.7, and a ratio outside libdgen's range
  (dedup 1 to 1024, compress 1 to 32) is a ``ValueError`` naming the field and
  the value, in ``BufferPool`` too, whose ``dedup_ratio`` and
  ``compress_ratio`` read back as the floats given.
- ``dedup_ratio`` is exact (to rounding) over every window of 1024 dedup units
  and no block is all zeros or repeats by accident; dgen-py's data differs in
  both respects, so storage systems report different savings for the "same"
  ratio.
- Errors: a value out of range is a ``ValueError`` naming the argument and the
  value where dgen-py raises ``OverflowError`` (negative sizes, counts, seeds
  and ``get_chunk`` sizes) or panics (``generate_buffer(0)``, which returns an
  empty ``BytesView`` here); a value of the wrong type is a ``TypeError``
  (``True`` is not taken for a seed or a count). A read-only buffer given to
  ``fill_chunk``, ``generate_into_buffer`` or ``normalize_rows`` raises
  ``BufferError`` (dgen-py raises ``ValueError``), as does a non-contiguous
  one; an object without the buffer protocol raises ``TypeError``.
- Float values: ``low`` and ``high`` must be finite with ``low < high``
  (dgen-py returns infinities for ``high=inf``). The values are a pure
  function of the seed and the element index, so ``generate_uniform(n,
  seed=s)`` is a prefix of ``generate_uniform(m, seed=s)`` for ``m > n``, and
  ``max_threads`` never changes them. ``numa_mode`` is checked and not used
  there.
- ``numa_mode`` accepts dgen-py's "auto", "force", "disabled" (and "uma"),
  mapped to libdgen's auto, force and off.
- ``block_size`` is accepted and ignored: libdgen's bytes do not depend on how
  work is split. ``chunk_size`` only sets the ``chunk_size`` attribute, the
  buffer size a script is advised to use (32 MiB by default, as in dgen-py).
- ``generate_buffer`` always starts a fresh stream with a new seed; dgen-py
  serves sizes below 1 MB from a shared pool.
- ``get_system_info()`` always returns a dict (dgen-py returns None when built
  without NUMA support); its values come from ``dgen.topology()``.
- ``Generator.seed`` (the seed in use) is an addition, for repeating a run.
- The GIL is released during fills, so Python threads generate in parallel;
  ``get_chunk`` of 64 KiB and less and ``BufferPool`` slices of up to 1 MiB
  keep it, as they take less time than handing it over would.
"""

import os
from typing import Any, Dict, List, Optional

import dgen as _dgen
from dgen import _dgen as _ext
from dgen._dgen import BufferPool, BytesView, bench_rolling_pool

__version__ = _dgen.__version__

#: The buffer size ``Generator.chunk_size`` advises by default (32 MiB).
DEFAULT_CHUNK_SIZE = 32 * 1024 * 1024
#: ``BufferPool``'s block: slices up to this size are cut from one block.
POOL_BLOCK_SIZE = 1024 * 1024
#: ``Generator.set_seed`` keeps the position's offset within a block of this
#: size: the new seed's stream resumes there, as dgen-py's 1 MiB blocks do.
SEED_BLOCK_SIZE = 1024 * 1024

_NUMA_MODES = {"auto": "auto", "force": "force", "disabled": "off", "disable": "off", "uma": "off", "off": "off"}

__all__ = [
    "BufferPool",
    "BytesView",
    "DEFAULT_CHUNK_SIZE",
    "Generator",
    "POOL_BLOCK_SIZE",
    "SEED_BLOCK_SIZE",
    "StreamingGenerator",
    "bench_rolling_pool",
    "create_bytearrays",
    "detect_numa_nodes",
    "fill_buffer",
    "generate_buffer",
    "generate_data",
    "generate_into_buffer",
    "generate_uniform",
    "generate_uniform_vectors",
    "get_numa_info",
    "get_system_info",
    "normalize_rows",
]


def _numa_mode(mode: Any) -> str:
    if not isinstance(mode, str):
        raise TypeError(f"numa_mode must be a string, got {type(mode).__name__} {mode!r}")
    name = _NUMA_MODES.get(mode.strip().lower())
    if name is None:
        raise ValueError(f"numa_mode must be one of auto, force, disabled, got {mode!r}")
    return name


def _method(method: Any) -> None:
    # dgen-py accepts any string here and ignores it; so does this module.
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, got {type(method).__name__} {method!r}")


def _threads(max_threads: Optional[int]) -> int:
    # dgen-py: None means every core; libdgen says 0 for that.
    if max_threads is None:
        return 0
    if isinstance(max_threads, bool) or not isinstance(max_threads, int):
        raise TypeError(f"max_threads must be None or an integer, got {type(max_threads).__name__} {max_threads!r}")
    if not 0 <= max_threads <= 4096:
        raise ValueError(f"max_threads must be None or an integer from 0 (all CPUs) to 4096, got {max_threads!r}")
    return max_threads


def _positive(name: str, value: Any) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive integer or None, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
    return value


def _count(name: str, value: Any, least: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    return value


def _seed(seed: Any) -> int:
    # dgen-py draws a seed from the clock and the system's entropy for None.
    if seed is None:
        return int.from_bytes(os.urandom(8), "little")
    return seed


def _config(
    dedup_ratio: float,
    compress_ratio: float,
    numa_mode: str,
    max_threads: Optional[int],
    numa_node: Optional[int],
) -> Dict[str, Any]:
    return {
        "dedup_ratio": dedup_ratio,
        "compress_ratio": compress_ratio,
        "numa_mode": _numa_mode(numa_mode),
        "threads": _threads(max_threads),
        "numa_node": numa_node,
    }


class Generator:
    """dgen-py's streaming generator: ``size`` bytes, produced chunk by chunk.

    Write a loop as with dgen-py::

        gen = Generator(size=10 * 1024**3, dedup_ratio=2.0, compress_ratio=3.0)
        buf = bytearray(gen.chunk_size)
        while not gen.is_complete():
            n = gen.fill_chunk(buf)
            out.write(memoryview(buf)[:n])

    ``size=0`` is an empty stream, complete from the start, as in dgen-py (in
    ``dgen.Generator`` it means endless).
    """

    def __init__(
        self,
        size: int,
        dedup_ratio: float = 1.0,
        compress_ratio: float = 1.0,
        numa_mode: str = "auto",
        max_threads: Optional[int] = None,
        numa_node: Optional[int] = None,
        chunk_size: Optional[int] = None,
        block_size: Optional[int] = None,
        seed: Optional[int] = None,
        method: str = "parallel",
    ) -> None:
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"size must be an integer, got {type(size).__name__} {size!r}")
        if size < 0:
            raise ValueError(f"size must be an integer from 0 to 2**64-1, got {size!r}")
        self._chunk_size = _positive("chunk_size", chunk_size) or DEFAULT_CHUNK_SIZE
        # Validated so a typo still fails, then unused: libdgen's bytes do not
        # depend on how the work is split.
        _positive("block_size", block_size)
        _method(method)
        self._size = size
        self._config = _config(dedup_ratio, compress_ratio, numa_mode, max_threads, numa_node)
        # Stream offset = position - _shift: set_seed restarts the new seed's
        # stream at the start of the current 1 MiB block (see set_seed).
        self._shift = 0
        self._gen = self._make(seed)

    def _make(self, seed: Optional[int]) -> "_dgen.Generator":
        # size=0 is dgen-py's empty stream; it reads as complete below, and the
        # generator behind it (endless in libdgen) is never filled from.
        return _dgen.Generator(size=self._size, seed=seed, **self._config)

    @property
    def chunk_size(self) -> int:
        """The buffer size to use with ``fill_chunk`` (32 MiB unless set)."""
        return self._chunk_size

    def fill_chunk(self, buffer: Any) -> int:
        """Fills ``buffer`` with the next bytes; returns how many (0 when complete)."""
        if self._size == 0:
            return 0
        if not self._shift:
            return self._gen.fill(buffer)
        # After set_seed the stream behind runs past this one's end by the
        # shift: stop where this one ends.
        left = self._size - self.position()
        with memoryview(buffer) as view:
            # A non-contiguous buffer is refused by fill, as without a shift.
            if view.nbytes <= left or not view.c_contiguous:
                return self._gen.fill(buffer)
            with view.cast("B") as flat:
                return self._gen.fill(flat[:left])

    def get_chunk(self, chunk_size: int) -> Optional[BytesView]:
        """The next ``chunk_size`` bytes (fewer at the end) as a ``BytesView``;
        None when complete (or for ``chunk_size`` 0)."""
        # The exact-int test first: this runs once per small object.
        if type(chunk_size) is not int or chunk_size < 0:
            _count("chunk_size", chunk_size)
        if self._shift:
            chunk_size = min(chunk_size, self._size - self.position())
        elif not self._size:
            return None
        view = self._gen._read_view(chunk_size)
        return view if len(view) else None

    def reset(self) -> None:
        """Starts the stream over at position 0, with the seed in use."""
        self._shift = 0
        self._gen.rewind()

    def position(self) -> int:
        """Bytes produced so far."""
        return self._shift + self._gen.position

    def total_size(self) -> int:
        """The stream's size."""
        return self._size

    def is_complete(self) -> bool:
        """True once every byte has been produced."""
        return self.position() >= self._size

    def set_seed(self, seed: Optional[int]) -> None:
        """Continues with the stream of ``seed`` (None draws one), as dgen-py does.

        The position, the bytes left and ``is_complete()`` stay as they are.
        The following bytes are the new seed's stream from the position's
        offset within its 1 MiB block (``SEED_BLOCK_SIZE``): after a whole
        number of MiB (every ``chunk_size`` loop), from the new stream's
        start, so ``set_seed(s)`` repeats the bytes that seed ``s`` gave first.
        """
        position = self.position()
        shift = position - position % SEED_BLOCK_SIZE
        new = self._make(seed)
        new.seek(position - shift)
        old, self._gen, self._shift = self._gen, new, shift
        old.close()

    @property
    def seed(self) -> int:
        """The seed in use (not in dgen-py; handy to repeat a run)."""
        return self._gen.seed

    def __repr__(self) -> str:
        return (
            f"dgen.compat.Generator(size={self._size}, chunk_size={self._chunk_size}, "
            f"position={self.position()}, {self._gen!r})"
        )


#: dgen-py's other name for ``Generator``.
StreamingGenerator = Generator


def generate_buffer(
    size: int,
    dedup_ratio: float = 1.0,
    compress_ratio: float = 1.0,
    numa_mode: str = "auto",
    max_threads: Optional[int] = None,
    numa_node: Optional[int] = None,
    method: str = "parallel",
) -> BytesView:
    """``size`` bytes of a fresh stream (a new seed each call), as a ``BytesView``."""
    _count("size", size)
    _method(method)
    config = _config(dedup_ratio, compress_ratio, numa_mode, max_threads, numa_node)
    # size 0 makes an endless generator, from which nothing is read.
    with _dgen.Generator(size=size, **config) as gen:
        return gen._read_view(size)


def generate_into_buffer(
    buffer: Any,
    dedup_ratio: float = 1.0,
    compress_ratio: float = 1.0,
    numa_mode: str = "auto",
    max_threads: Optional[int] = None,
    numa_node: Optional[int] = None,
    method: str = "parallel",
) -> int:
    """Fills all of ``buffer`` with a fresh stream (a new seed); returns its size in bytes."""
    _method(method)
    config = _config(dedup_ratio, compress_ratio, numa_mode, max_threads, numa_node)
    with memoryview(buffer) as view:
        size = view.nbytes
    if size == 0:
        return 0
    with _dgen.Generator(size=size, **config) as gen:
        gen.fill_at(0, buffer)
    return size


def generate_data(
    size: int,
    dedup_ratio: float = 1.0,
    compress_ratio: float = 1.0,
    numa_mode: str = "auto",
    max_threads: Optional[int] = None,
) -> BytesView:
    """dgen-py's older name for ``generate_buffer``."""
    return generate_buffer(size, dedup_ratio, compress_ratio, numa_mode, max_threads)


def fill_buffer(
    buffer: Any,
    dedup_ratio: float = 1.0,
    compress_ratio: float = 1.0,
    numa_mode: str = "auto",
    max_threads: Optional[int] = None,
) -> int:
    """dgen-py's older name for ``generate_into_buffer``."""
    return generate_into_buffer(buffer, dedup_ratio, compress_ratio, numa_mode, max_threads)


def create_bytearrays(count: int, size: int) -> List[bytearray]:
    """``count`` bytearrays of ``size`` bytes, to fill with ``fill_chunk``.

    As in dgen-py, their contents are not initialised (they hold whatever the
    allocator gives, like ``numpy.empty``): no page of a large one is touched
    until it is filled, so making them costs next to nothing.
    """
    _count("count", count)
    _count("size", size)
    return _ext._bytearrays(count, size)


def generate_uniform(
    count: int,
    low: float = 0.0,
    high: float = 1.0,
    max_threads: Optional[int] = None,
    numa_mode: str = "auto",
    seed: Optional[int] = None,
) -> BytesView:
    """``count`` float32 values uniform over ``[low, high)`` as a ``BytesView``
    of ``4 * count`` bytes (``numpy.frombuffer(view, dtype=numpy.float32)``).

    The values are ``dgen.fill_f32_at``'s from index 0: the same for a seed in
    every face of libdgen. ``seed=None`` draws a seed.
    """
    _count("count", count)
    _numa_mode(numa_mode)
    return _ext._float_view(count, 0, _seed(seed), low, high, False, _threads(max_threads))


def normalize_rows(buffer: Any, dim: int, max_threads: Optional[int] = None) -> None:
    """Scales each row of ``dim`` float32 values in ``buffer`` to unit L2 norm,
    in place (a zero row stays zero). ``buffer`` is a writable float32 array
    or a bytearray of float32 values whose length is a whole number of rows."""
    _count("dim", dim, least=1)
    _dgen.normalize_rows(buffer, dim, threads=_threads(max_threads))


def generate_uniform_vectors(
    rows: int,
    dim: int,
    low: float = 0.0,
    high: float = 1.0,
    normalize: bool = True,
    max_threads: Optional[int] = None,
    numa_mode: str = "auto",
    seed: Optional[int] = None,
) -> BytesView:
    """``rows`` vectors of ``dim`` float32 values uniform over ``[low, high)``,
    each scaled to unit L2 norm when ``normalize``, as one ``BytesView``
    (``numpy.frombuffer(view, dtype=numpy.float32).reshape(rows, dim)``).

    Unnormalized, they are ``generate_uniform(rows * dim, ...)``'s values.
    """
    _count("rows", rows)
    _count("dim", dim, least=1)
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be True or False, got {type(normalize).__name__} {normalize!r}")
    _numa_mode(numa_mode)
    return _ext._float_view(rows * dim, dim, _seed(seed), low, high, normalize, _threads(max_threads))


def get_system_info() -> Dict[str, Any]:
    """The machine as dgen-py describes it.

    Keys: ``num_nodes`` (NUMA nodes), ``physical_cores`` and ``logical_cpus``
    (those this process may run on), ``is_uma`` and ``deployment_type`` (a
    description), plus ``source`` (where libdgen read the topology).
    """
    topo = _dgen.topology()
    nodes = len(topo["nodes"])
    return {
        "num_nodes": nodes,
        "physical_cores": topo["cores"],
        "logical_cpus": len(topo["allowed_cpus"]),
        "is_uma": nodes == 1,
        "deployment_type": "UMA (one NUMA node)" if nodes == 1 else f"NUMA ({nodes} nodes)",
        "source": topo["source"],
    }


def get_numa_info() -> Dict[str, Any]:
    """dgen-py's lower-level name for ``get_system_info``."""
    return get_system_info()


def detect_numa_nodes() -> int:
    """The number of NUMA nodes of this machine (1 without NUMA)."""
    return len(_dgen.topology()["nodes"])
