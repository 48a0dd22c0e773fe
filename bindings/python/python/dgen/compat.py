"""dgen-py's API on top of libdgen.

A script written for dgen-py runs on libdgen with one changed line::

    import dgen.compat as dgen_py

The names and signatures are dgen-py's documented ones: ``Generator`` with
``fill_chunk``, ``get_chunk``, ``chunk_size``, ``is_complete``, ``reset``,
``position``, ``total_size`` and ``set_seed``; ``generate_buffer``,
``generate_into_buffer``, ``create_bytearrays``, ``BufferPool``,
``get_system_info`` and ``detect_numa_nodes``. The bytes are libdgen's.

Where the semantics differ from dgen-py:

- Ratios are honoured as given. dgen-py truncates ``dedup_ratio`` and
  ``compress_ratio`` to integers (2.7 becomes 2, with a warning) and raises
  values below 1 to 1; here 2.7 means 2.7, and a ratio outside libdgen's range
  (dedup 1 to 1024, compress 1 to 32) is a ``ValueError`` naming the field and
  the value.
- ``dedup_ratio`` is exact (to rounding) over every window of 1024 dedup units
  and no block is all zeros or repeats by accident; dgen-py's data differs in
  both respects, so storage systems report different savings for the "same"
  ratio.
- ``numa_mode`` accepts dgen-py's "auto", "force", "disabled" (and "uma"),
  mapped to libdgen's auto, force and off.
- ``block_size`` is accepted and ignored: libdgen's bytes do not depend on how
  work is split. ``chunk_size`` only sets the ``chunk_size`` attribute, the
  buffer size a script is advised to use (32 MiB by default, as in dgen-py).
- ``set_seed(s)`` restarts the stream at offset 0 with seed ``s`` (``None``
  draws one), as dgen-py's changelog describes.
- ``get_chunk`` and ``generate_buffer`` return ``bytes``, and
  ``BufferPool.next_slice`` a read-only ``memoryview``, where dgen-py returns
  its own ``BytesView`` type; all have ``len()``, the buffer protocol and
  ``bytes()``.
- A read-only buffer given to ``fill_chunk`` or ``generate_into_buffer`` raises
  ``BufferError`` (dgen-py raises ``ValueError``); an object without the buffer
  protocol raises ``TypeError``.
- ``get_system_info()`` always returns a dict (dgen-py returns None when built
  without NUMA support); its values come from ``dgen.topology()``.
- The GIL is released during every fill, so Python threads generate in
  parallel.
"""

from typing import Any, Dict, List, Optional, Union

import dgen as _dgen

__version__ = _dgen.__version__

#: The buffer size ``Generator.chunk_size`` advises by default (32 MiB).
DEFAULT_CHUNK_SIZE = 32 * 1024 * 1024
#: ``BufferPool``'s block: small slices are cut from one block of this size.
POOL_BLOCK_SIZE = 1024 * 1024

_NUMA_MODES = {"auto": "auto", "force": "force", "disabled": "off", "disable": "off", "uma": "off", "off": "off"}

__all__ = [
    "BufferPool",
    "DEFAULT_CHUNK_SIZE",
    "Generator",
    "StreamingGenerator",
    "create_bytearrays",
    "detect_numa_nodes",
    "fill_buffer",
    "generate_buffer",
    "generate_data",
    "generate_into_buffer",
    "get_numa_info",
    "get_system_info",
]


def _numa_mode(mode: Any) -> str:
    if not isinstance(mode, str):
        raise TypeError(f"numa_mode must be a string, got {type(mode).__name__} {mode!r}")
    name = _NUMA_MODES.get(mode.strip().lower())
    if name is None:
        raise ValueError(f"numa_mode must be one of auto, force, disabled, got {mode!r}")
    return name


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
    ) -> None:
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"size must be an integer, got {type(size).__name__} {size!r}")
        if size < 0:
            raise ValueError(f"size must be an integer from 0 to 2**64-1, got {size!r}")
        self._chunk_size = _positive("chunk_size", chunk_size) or DEFAULT_CHUNK_SIZE
        # Validated so a typo still fails, then unused: libdgen's bytes do not
        # depend on how the work is split.
        _positive("block_size", block_size)
        self._size = size
        self._config = _config(dedup_ratio, compress_ratio, numa_mode, max_threads, numa_node)
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
        return self._gen.fill(buffer)

    def get_chunk(self, chunk_size: int) -> Optional[bytes]:
        """The next ``chunk_size`` bytes (fewer at the end) as bytes; None when complete."""
        if self._size == 0:
            return None
        data = self._gen.read(chunk_size)
        return data if data else None

    def reset(self) -> None:
        """Starts the stream over (same seed)."""
        self._gen.rewind()

    def position(self) -> int:
        """Bytes produced so far."""
        return self._gen.position

    def total_size(self) -> int:
        """The stream's size."""
        return self._size

    def is_complete(self) -> bool:
        """True once every byte has been produced."""
        return self._size == 0 or self._gen.is_complete

    def set_seed(self, seed: Optional[int]) -> None:
        """Restarts the stream at offset 0 with ``seed`` (None draws one)."""
        new = self._make(seed)
        old, self._gen = self._gen, new
        old.close()

    @property
    def seed(self) -> int:
        """The seed in use (not in dgen-py; handy to repeat a run)."""
        return self._gen.seed

    def __repr__(self) -> str:
        return f"dgen.compat.Generator(size={self._size}, chunk_size={self._chunk_size}, {self._gen!r})"


#: dgen-py's other name for ``Generator``.
StreamingGenerator = Generator


def generate_buffer(
    size: int,
    dedup_ratio: float = 1.0,
    compress_ratio: float = 1.0,
    numa_mode: str = "auto",
    max_threads: Optional[int] = None,
    numa_node: Optional[int] = None,
) -> bytes:
    """``size`` bytes of a fresh stream (a new seed each call), as bytes."""
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"size must be an integer, got {type(size).__name__} {size!r}")
    if size == 0:
        return b""
    gen = _dgen.Generator(size=size, **_config(dedup_ratio, compress_ratio, numa_mode, max_threads, numa_node))
    with gen:
        return gen.read(size)


def generate_into_buffer(
    buffer: Any,
    dedup_ratio: float = 1.0,
    compress_ratio: float = 1.0,
    numa_mode: str = "auto",
    max_threads: Optional[int] = None,
    numa_node: Optional[int] = None,
) -> int:
    """Fills all of ``buffer`` with a fresh stream (a new seed); returns its size in bytes."""
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
) -> bytes:
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
    """``count`` zeroed bytearrays of ``size`` bytes, to fill with ``fill_chunk``."""
    for name, value in (("count", count), ("size", size)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
        if value < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return [bytearray(size) for _ in range(count)]


class BufferPool:
    """Many small objects cut from one generated block, without copies.

    ``next_slice(n)`` returns a read-only memoryview of the next ``n`` bytes
    of a 1 MiB block; a new block is generated when the current one has too
    few bytes left, and a request larger than a block gets its own bytes.
    Earlier slices stay valid: each block is a new object.
    """

    def __init__(self, dedup_ratio: float = 1.0, compress_ratio: float = 1.0) -> None:
        self._dedup_ratio = dedup_ratio
        self._compress_ratio = compress_ratio
        self._gen = _dgen.Generator(size=0, dedup_ratio=dedup_ratio, compress_ratio=compress_ratio)
        self._block = memoryview(b"")
        self._used = 0
        self._refill()

    def _refill(self) -> None:
        self._block = memoryview(self._gen.read(POOL_BLOCK_SIZE))
        self._used = 0

    def next_slice(self, size: int) -> Union[memoryview, bytes]:
        """The next ``size`` bytes: a memoryview of the block, or bytes above 1 MiB."""
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"size must be an integer, got {type(size).__name__} {size!r}")
        if size < 0:
            raise ValueError(f"size must be an integer >= 0, got {size!r}")
        if size > POOL_BLOCK_SIZE:
            return self._gen.read(size)
        if size > self.remaining:
            self._refill()
        view = self._block[self._used : self._used + size]
        self._used += size
        return view

    def reconfigure(self, dedup_ratio: float = 1.0, compress_ratio: float = 1.0) -> None:
        """New ratios from the next slice on (a new block); nothing happens when unchanged."""
        if (dedup_ratio, compress_ratio) == (self._dedup_ratio, self._compress_ratio):
            return
        gen = _dgen.Generator(size=0, dedup_ratio=dedup_ratio, compress_ratio=compress_ratio)
        self._dedup_ratio, self._compress_ratio = dedup_ratio, compress_ratio
        old, self._gen = self._gen, gen
        old.close()
        self._refill()

    @property
    def remaining(self) -> int:
        """Bytes left in the current block."""
        return len(self._block) - self._used

    @property
    def dedup_ratio(self) -> float:
        """The dedup ratio (as given; dgen-py reports it truncated to an int)."""
        return self._dedup_ratio

    @property
    def compress_ratio(self) -> float:
        """The compress ratio (as given; dgen-py reports it truncated to an int)."""
        return self._compress_ratio


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
