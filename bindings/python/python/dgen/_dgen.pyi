"""Type stubs of the extension module behind ``dgen`` (re-exported there)."""

import os
from types import TracebackType
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Literal,
    Optional,
    SupportsFloat,
    SupportsIndex,
    Tuple,
    Type,
    TypedDict,
    Union,
    final,
)

from typing_extensions import Self

__all__ = [
    "BufferPool",
    "BytesView",
    "COMPRESSORS",
    "GRANULE",
    "Generator",
    "LIBRARY_VERSION",
    "MismatchError",
    "WriteState",
    "__version__",
    "_bytearrays",
    "_float_view",
    "bench_rolling_pool",
    "fill_f32_at",
    "generate",
    "get_objects",
    "normalize_rows",
    "param_bounds",
    "put_objects",
    "topology",
    "verify_file",
    "verify_objects",
    "write_file",
]
__version__: str
"""Version of this package."""
LIBRARY_VERSION: str
"""Version of the libdgen library built into it."""
COMPRESSORS: Tuple[str, ...]
"""Names ``compressor=`` accepts: auto, zstd, lz4, gzip, snappy, lzo, lzjb."""
GRANULE: int
"""The unit of content, 4096 bytes."""

# Any object with the buffer protocol. Spelled Any rather than
# collections.abc.Buffer because type checkers see numpy arrays as buffers
# only on Python 3.12 and later.
_WritableBuffer = Any  # writable and C-contiguous: bytearray, memoryview, numpy array, mmap
_ReadableBuffer = Any  # C-contiguous: also bytes and read-only views
_Ratio = Union[float, int, SupportsFloat]
_Int = Union[int, SupportsIndex]
_Path = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
_Progress = Callable[[int, int], object]
"""Called as ``progress(bytes_done, total_bytes)`` about every 0.1 s and at the end."""

class _Latency(TypedDict):
    """Per-I/O latency in microseconds."""

    p50: float
    p90: float
    p99: float
    p999: float
    max: float
    mean: float

class _StateCounts(TypedDict):
    """A verification against a write state (``verify_file(..., state=ws)``):
    units right, not checked, and wrong by class, with the lowest offsets of
    each class (at most 16)."""

    units_ok: int
    units_unwritten: int
    units_in_doubt: int
    stale: int
    misplaced: int
    zero: int
    corrupt: int
    first_stale: List[int]
    first_misplaced: List[int]
    first_zero: List[int]
    first_corrupt: List[int]

class _Report(TypedDict, total=False):
    """What ``write_file`` and ``verify_file`` return (and attach to their
    exceptions as ``report``): the keys of the ``dgen`` command's JSON report.
    The keys from ``passed`` on are a verification's only."""

    operation: str
    path: str
    target: str
    engine: str
    seed: int
    offset: int
    length: int
    bytes: int
    prefix: int
    ios: int
    seconds: float
    sync_seconds: float
    gbps: float
    iops: float
    latency_us: _Latency
    generate_seconds: float
    io_seconds: float
    worker_seconds: float
    generation_share: float
    generation_bound: bool
    bottleneck: str
    jobs: int
    block_size: int
    iodepth: int
    direct: bool
    interrupted: bool
    start_time: float
    end_time: float
    latency_histogram: str
    passed: bool
    mismatch_offset: Optional[int]
    expected: Optional[int]
    actual: Optional[int]
    wrong_blocks: int
    missing_blocks: int
    blocks: int
    data_end: Optional[int]
    data_size: Optional[int]
    extra_data: bool
    problem: Optional[str]
    state: _StateCounts
    """Only in a verification against a write state."""

class MismatchError(Exception):
    """Raised by ``verify_at`` when a buffer differs from the stream, and by
    ``verify_file`` when a file's data is wrong, short or too long."""

    offset: int
    """Stream offset of the first wrong byte (``verify_file``: or where the
    data ends early, or the end of the dataset when the data goes on)."""
    expected: Optional[int]
    """The byte the stream has at ``offset`` (None when no byte was wrong)."""
    actual: Optional[int]
    """The byte the data has there (None when no byte was wrong); the name
    every face uses."""
    found: Optional[int]
    """``actual`` under its first name."""
    report: Optional[_Report]
    """``verify_file``'s report (None from ``verify_at``)."""
    wrong_blocks: Optional[int]
    """4 KiB blocks with a wrong byte (``verify_file`` only)."""
    missing_blocks: Optional[int]
    """4 KiB blocks past the end of the data (``verify_file`` only)."""

@final
class Generator:
    """A seekable, reproducible stream of synthetic bytes.

    ``size=0`` is endless; ``seed=None`` draws a seed (read it back with
    ``seed``). ``threads=0`` uses every CPU the process may run on for fills
    of 2 MiB and more; ``numa_mode`` is "auto", "off" or "force";
    ``compressor`` names the compressor ``compress_ratio`` is calibrated for
    (see ``COMPRESSORS``).
    """

    def __new__(
        cls,
        size: _Int = 0,
        dedup_ratio: _Ratio = 1.0,
        compress_ratio: _Ratio = 1.0,
        dedup_unit: _Int = 4096,
        seed: Optional[_Int] = None,
        threads: _Int = 0,
        numa_mode: str = "auto",
        numa_node: Optional[_Int] = None,
        compressor: str = "auto",
    ) -> Self: ...
    def fill(self, buf: _WritableBuffer) -> int:
        """Continues the stream into ``buf``; returns the bytes written (0 at the end)."""
    def readinto(self, buf: _WritableBuffer) -> int:
        """Same as ``fill``."""
    def fill_at(self, offset: _Int, buf: _WritableBuffer) -> None:
        """Fills ``buf`` with the stream's bytes at ``offset``; thread-safe."""
    def verify_at(self, offset: _Int, buf: _ReadableBuffer) -> None:
        """Raises ``MismatchError`` unless ``buf`` holds the stream's bytes at ``offset``."""
    def write_file(
        self,
        path: _Path,
        *,
        offset: _Int = 0,
        length: Optional[_Int] = None,
        jobs: _Int = 0,
        block_size: _Int = 1048576,
        iodepth: _Int = 1,
        direct: bool = False,
        engine: str = "auto",
        sync: bool = True,
        truncate: bool = True,
        part: Optional[Tuple[int, int]] = None,
        progress: Optional[_Progress] = None,
        state: Optional[WriteState] = None,
    ) -> _Report:
        """Writes the stream's bytes ``[offset, offset + length)`` to ``path`` with
        ``jobs`` parallel workers, the GIL released; returns the report.
        Ctrl-C raises KeyboardInterrupt with the partial ``report``. With
        ``state``, each dedup unit's next version, recorded in the state."""
    def verify_file(
        self,
        path: _Path,
        *,
        offset: _Int = 0,
        length: Optional[_Int] = None,
        jobs: _Int = 0,
        block_size: _Int = 1048576,
        iodepth: _Int = 1,
        direct: bool = False,
        engine: str = "auto",
        part: Optional[Tuple[int, int]] = None,
        progress: Optional[_Progress] = None,
        state: Optional[WriteState] = None,
    ) -> _Report:
        """Reads ``path`` back and checks every byte; raises ``MismatchError``
        when the data is wrong, short or too long. With ``state``, each unit
        against the versions the state accepts (the report's ``state``)."""
    def read(self, n: Optional[_Int] = None, /) -> bytes:
        """Up to ``n`` bytes of the stream (the rest of a sized stream for None or n < 0)."""
    def _read_view(self, n: _Int) -> BytesView:
        """As ``read``, into a new ``BytesView`` (what ``dgen.compat``'s ``get_chunk`` returns)."""
    def seek(self, pos: _Int, whence: int = 0, /) -> int:
        """Moves the position (whence 0: from the start, 1: from here, 2: from the end)."""
    def tell(self) -> int:
        """The position."""
    def rewind(self) -> None:
        """Starts the stream over from offset 0."""
    def close(self) -> None:
        """Frees the generator and its threads; later calls raise ValueError."""
    def readable(self) -> bool: ...
    def writable(self) -> bool: ...
    def seekable(self) -> bool: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Literal[False]: ...
    @property
    def closed(self) -> bool: ...
    @property
    def seed(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def position(self) -> int: ...
    @property
    def is_complete(self) -> bool: ...
    @property
    def dedup_ratio(self) -> float: ...
    @property
    def compress_ratio(self) -> float: ...
    @property
    def dedup_unit(self) -> int: ...
    @property
    def threads(self) -> int: ...
    @property
    def numa_mode(self) -> str: ...
    @property
    def numa_node(self) -> Optional[int]: ...
    @property
    def compressor(self) -> str: ...

class _StateHeader(TypedDict):
    """The dataset a write state describes (``WriteState.header``)."""

    path: str
    format: int
    size: int
    dedup_unit: int
    seed: int
    dedup_ratio: float
    compress_ratio: float
    compressor: str

class _StateSummary(TypedDict):
    """What a write state holds (``WriteState.summary()``)."""

    units: int
    written: int
    first_pass: int
    overwritten: int
    max_version: int
    writes_claimed: int
    writes_completed: int
    in_flight: int
    ambiguous: int
    in_doubt: int

class _StateShow(_StateHeader, _StateSummary):
    """``WriteState.inspect(path)``: what ``dgen state show --json`` prints."""

    file_bytes: int

@final
class WriteState:
    """A write state file for the dataset of a sized ``Generator``: each write
    of a dedup unit carries its next version (new bytes, the same ratios),
    and verification against it finds lost writes (stale units).

    ``write=True`` creates the file when missing and records writes;
    ``write=False`` only reads an existing one. A state of another dataset, a
    damaged or newer file raise ValueError (the file is left as it was); a
    file that cannot be opened or mapped raises OSError.
    """

    def __new__(cls, path: _Path, generator: Generator, write: bool = True) -> Self: ...
    def fill(self, offset: _Int, buf: _WritableBuffer) -> None:
        """Claims the next version of each unit of ``[offset, offset + len(buf))``
        (whole dedup units) and fills ``buf`` with it; thread-safe, GIL released."""
    def complete(self, offset: _Int, length: _Int) -> None:
        """Records that the write prepared with ``fill`` is over (done or failed)."""
    def summary(self) -> _StateSummary:
        """Units written, overwritten, latest version, writes in flight."""
    @staticmethod
    def inspect(path: _Path) -> _StateShow:
        """The header and summary of a state file, without a generator."""
    def close(self) -> None:
        """Unmaps the state; later calls raise ValueError."""
    def close_remove(self) -> bool:
        """Closes, and removes the file when no other process has it open."""
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Literal[False]: ...
    @property
    def header(self) -> _StateHeader: ...
    @property
    def path(self) -> str: ...
    @property
    def generator(self) -> Generator: ...
    @property
    def units(self) -> int: ...
    @property
    def writable(self) -> bool: ...
    @property
    def closed(self) -> bool: ...

def generate(
    size: _Int,
    dedup_ratio: _Ratio = 1.0,
    compress_ratio: _Ratio = 1.0,
    dedup_unit: _Int = 4096,
    seed: Optional[_Int] = None,
    threads: _Int = 0,
    numa_mode: str = "auto",
    numa_node: Optional[_Int] = None,
    compressor: str = "auto",
) -> bytearray:
    """The first ``size`` bytes of ``Generator(size, **config)``, as a bytearray."""

def topology(
    threads: _Int = 0,
    numa_mode: str = "auto",
    numa_node: Optional[_Int] = None,
) -> Dict[str, Any]:
    """NUMA nodes, CPUs and where a generator's worker threads would run."""

def param_bounds(field: str) -> Tuple[Union[int, float], Union[int, float]]:
    """(min, max) of a numeric setting, e.g. param_bounds("dedup_ratio") == (1.0, 1024.0)."""

def write_file(
    path: _Path,
    size: Union[_Int, Generator],
    dedup_ratio: _Ratio = 1.0,
    compress_ratio: _Ratio = 1.0,
    dedup_unit: _Int = 4096,
    seed: Optional[_Int] = None,
    threads: _Int = 0,
    numa_mode: str = "auto",
    numa_node: Optional[_Int] = None,
    compressor: str = "auto",
    *,
    offset: _Int = 0,
    length: Optional[_Int] = None,
    jobs: _Int = 0,
    block_size: _Int = 1048576,
    iodepth: _Int = 1,
    direct: bool = False,
    engine: str = "auto",
    sync: bool = True,
    truncate: bool = True,
    part: Optional[Tuple[int, int]] = None,
    progress: Optional[_Progress] = None,
    state: Optional[WriteState] = None,
) -> _Report:
    """``Generator(size, **config).write_file(path, ...)``; ``size`` may be a
    Generator instead (then without config keywords)."""

def verify_file(
    path: _Path,
    size: Union[_Int, Generator],
    dedup_ratio: _Ratio = 1.0,
    compress_ratio: _Ratio = 1.0,
    dedup_unit: _Int = 4096,
    seed: Optional[_Int] = None,
    threads: _Int = 0,
    numa_mode: str = "auto",
    numa_node: Optional[_Int] = None,
    compressor: str = "auto",
    *,
    offset: _Int = 0,
    length: Optional[_Int] = None,
    jobs: _Int = 0,
    block_size: _Int = 1048576,
    iodepth: _Int = 1,
    direct: bool = False,
    engine: str = "auto",
    part: Optional[Tuple[int, int]] = None,
    progress: Optional[_Progress] = None,
    state: Optional[WriteState] = None,
) -> _Report:
    """``Generator(size, **config).verify_file(path, ...)`` (``seed`` is
    required); ``size`` may be a Generator instead (then without config
    keywords)."""

def put_objects(
    url: str,
    objects: _Int,
    object_size: Optional[_Int] = None,
    *,
    sizes: Optional[str] = None,
    name: Optional[str] = None,
    dedup_ratio: _Ratio = 1.0,
    compress_ratio: _Ratio = 1.0,
    dedup_unit: _Int = 4096,
    seed: Optional[_Int] = None,
    threads: _Int = 0,
    compressor: str = "auto",
    jobs: _Int = 8,
    part_size: _Int = 8388608,
    create_bucket: bool = False,
    endpoint: Optional[str] = None,
    region: Optional[str] = None,
    addressing: Optional[str] = None,
    access_key: Optional[str] = None,
    secret_key: Optional[str] = None,
    profile: Optional[str] = None,
) -> Dict[str, Any]:
    """Puts ``objects`` objects under ``url`` (``s3://BUCKET/PREFIX``): object i is
    the stream's range after objects 0..i. Returns the report (the keys of
    ``dgen put --json``); a drawn seed is in its ``seed``. Raises ValueError
    for bad options, PermissionError for refused credentials,
    FileNotFoundError for a missing bucket, ConnectionError for a server that
    fails, KeyboardInterrupt on Ctrl-C (unfinished uploads aborted); each
    with the partial ``report``."""

def get_objects(
    url: str,
    objects: _Int,
    object_size: Optional[_Int] = None,
    *,
    sizes: Optional[str] = None,
    name: Optional[str] = None,
    dedup_ratio: _Ratio = 1.0,
    compress_ratio: _Ratio = 1.0,
    dedup_unit: _Int = 4096,
    seed: Optional[_Int] = None,
    threads: _Int = 0,
    compressor: str = "auto",
    jobs: _Int = 8,
    part_size: _Int = 8388608,
    create_bucket: bool = False,
    endpoint: Optional[str] = None,
    region: Optional[str] = None,
    addressing: Optional[str] = None,
    access_key: Optional[str] = None,
    secret_key: Optional[str] = None,
    profile: Optional[str] = None,
) -> Dict[str, Any]:
    """Gets the objects ``put_objects`` put (same options, ``seed`` required)
    and discards them; returns the report with the GET latency and the time
    to first byte."""

def verify_objects(
    url: str,
    objects: _Int,
    object_size: Optional[_Int] = None,
    *,
    sizes: Optional[str] = None,
    name: Optional[str] = None,
    dedup_ratio: _Ratio = 1.0,
    compress_ratio: _Ratio = 1.0,
    dedup_unit: _Int = 4096,
    seed: Optional[_Int] = None,
    threads: _Int = 0,
    compressor: str = "auto",
    jobs: _Int = 8,
    part_size: _Int = 8388608,
    create_bucket: bool = False,
    endpoint: Optional[str] = None,
    region: Optional[str] = None,
    addressing: Optional[str] = None,
    access_key: Optional[str] = None,
    secret_key: Optional[str] = None,
    profile: Optional[str] = None,
) -> Dict[str, Any]:
    """Checks every object ``put_objects`` put (same options, ``seed``
    required) and the prefix for extra keys; returns the report, or raises
    MismatchError whose ``report['problems']`` names each missing, short,
    wrong or extra key with its first wrong offset."""

def fill_f32_at(
    buf: _WritableBuffer,
    index: _Int = 0,
    *,
    seed: _Int,
    low: _Ratio = 0.0,
    high: _Ratio = 1.0,
    threads: _Int = 0,
) -> int:
    """Fills ``buf`` (float32 values) with elements ``index, index + 1, ...`` of
    the float32 sequence of ``seed``, uniform over ``[low, high)``; returns the
    number of values written."""

def normalize_rows(buf: _WritableBuffer, dim: _Int, *, threads: _Int = 0) -> None:
    """Scales each row of ``dim`` float32 values in ``buf`` to unit L2 norm, in place."""

@final
class BytesView:
    """A read-only, zero-copy view of generated bytes (``dgen.compat``): ``len()``,
    ``bytes()`` and the buffer protocol (format 'B')."""

    def __len__(self) -> int: ...
    def __bytes__(self) -> bytes: ...

@final
class BufferPool:
    """``dgen.compat.BufferPool``: small objects cut from 1 MiB generated blocks."""

    def __new__(cls, dedup_ratio: _Ratio = 1.0, compress_ratio: _Ratio = 1.0) -> Self: ...
    def next_slice(self, size: _Int) -> BytesView:
        """A ``BytesView`` of the next ``size`` bytes (``size`` > 0)."""
    def reconfigure(self, dedup_ratio: _Ratio = 1.0, compress_ratio: _Ratio = 1.0) -> None:
        """New ratios (and a new stream) from the next slice on."""
    @property
    def remaining(self) -> int: ...
    @property
    def dedup_ratio(self) -> float: ...
    @property
    def compress_ratio(self) -> float: ...

def bench_rolling_pool(obj_size: _Int, total_bytes: _Int) -> Tuple[int, float]:
    """Times ``BufferPool.next_slice(obj_size)`` in Rust: ``(bytes, seconds)``."""

def _float_view(
    count: _Int,
    dim: int,
    seed: _Int,
    low: _Ratio,
    high: _Ratio,
    normalize: bool,
    threads: _Int,
) -> BytesView:
    """``count`` float32 values of ``seed`` from index 0 in a new ``BytesView``."""

def _bytearrays(count: int, size: int) -> List[bytearray]:
    """``count`` bytearrays of ``size`` bytes whose contents are not initialised."""
