"""Speed of the Python binding next to the C ABI, measured in the same run.

    python bindings/python/bench.py [--quick] [--no-build]

Prints figures; nothing is asserted. Four comparisons:

1. ``fill`` into one 64 MiB bytearray against ``dgen_fill`` into a 64 MiB
   buffer from C (threads=0, every CPU; and threads=1). Goal: within 10%.
2. ``fill_at`` with 4 KiB buffers at scattered offsets, one call per 4 KiB as
   fio does, against ``dgen_fill_at`` from C. This is the per-call cost.
   Goal: within 50%.
3. Two Python threads calling ``fill_at`` on one generator against one
   thread. Goal: 1.6x or more, which needs the GIL released during fills.
4. ``Generator.write_file`` of a 1 GiB dataset into a file in /dev/shm
   (memory, so that no disk adds its noise), against ``dgen_write_file``
   from C on the same file; the whole call timed, no final sync. Goal:
   within 10%: the run is the library's, with the GIL released and a signal
   check every 0.1 s.

The C side is ``bench_c.c``, linked with ``target/release/libdgen.a``
(``cargo build --release`` first, unless ``--no-build``). C and Python runs
alternate and the best round of each counts, so that a busy moment of a
shared machine weighs on both alike.
"""

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import dgen

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MIB = 1 << 20


def offsets(count):
    """4 KiB-aligned offsets over 1 TiB, the sequence bench_c.c and the Rust benchmark use."""
    out = []
    state = 0
    for _ in range(count):
        state = (state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        out.append((state >> 24) << 12)
    return out


def build_c(no_build):
    lib = ROOT / "target" / "release"
    if not no_build:
        subprocess.run(["cargo", "build", "--release", "--lib", "-p", "libdgen"], cwd=ROOT, check=True)
    if not (lib / "libdgen.a").exists():
        sys.exit(f"bench: {lib / 'libdgen.a'} is missing (run cargo build --release)")
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        sys.exit("bench: no C compiler (cc) to build bench_c.c")
    exe = ROOT / "target" / "dgen-bench-c"
    # Static, as the Go binding links it: the same library code as the
    # extension module, with no run-time search for libdgen.so.
    subprocess.run(
        [cc, "-O2", "-std=c99", "-D_POSIX_C_SOURCE=199309L", f"-I{ROOT / 'include'}", str(HERE / "bench_c.c"),
         str(lib / "libdgen.a"), "-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-o", str(exe)],
        check=True,
    )
    return exe


def c_rate(exe, mode, nbytes, threads, calls, rounds):
    out = subprocess.run([str(exe), mode, str(nbytes), str(threads), str(calls), str(rounds)],
                         check=True, capture_output=True, text=True)
    return float(out.stdout)


def py_fill_rate(nbytes, threads, calls, rounds):
    g = dgen.Generator(seed=1, threads=threads)
    buf = bytearray(nbytes)
    fill = g.fill
    fill(buf)  # touch the pages, start the worker pool
    best = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(calls):
            fill(buf)
        best = max(best, nbytes * calls / (time.perf_counter() - t0) / 1e9)
    return best


def py_fill_at_rate(nbytes, calls, rounds):
    g = dgen.Generator(seed=1, threads=1)
    buf = bytearray(nbytes)
    offs = offsets(calls)
    fill_at = g.fill_at
    fill_at(0, buf)
    best = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        for off in offs:
            fill_at(off, buf)
        best = max(best, nbytes * calls / (time.perf_counter() - t0) / 1e9)
    return best


def py_threads_rate(nthreads, nbytes, calls, rounds):
    """Aggregate GB/s of `nthreads` Python threads, each making `calls` fill_at calls on one generator,
    and the share of that time the threads spent on a CPU (1.0: each had a CPU all along)."""
    g = dgen.Generator(seed=1, threads=1)
    offs = offsets(calls)
    start = threading.Barrier(nthreads + 1)
    done = threading.Barrier(nthreads + 1)
    cpu = [0.0] * nthreads

    def work(i):
        buf = bytearray(nbytes)
        fill_at = g.fill_at
        fill_at(0, buf)
        for _ in range(rounds):
            start.wait()
            c0 = time.thread_time()
            for off in offs:
                fill_at(off, buf)
            cpu[i] = time.thread_time() - c0
            done.wait()

    ts = [threading.Thread(target=work, args=(i,)) for i in range(nthreads)]
    for t in ts:
        t.start()
    best = (0.0, 0.0)
    for _ in range(rounds):
        start.wait()
        t0 = time.perf_counter()
        done.wait()
        wall = time.perf_counter() - t0
        best = max(best, (nthreads * nbytes * calls / wall / 1e9, sum(cpu) / (nthreads * wall)))
    for t in ts:
        t.join()
    return best


def c_write_rate(exe, nbytes, jobs, path, rounds):
    out = subprocess.run([str(exe), "write", str(nbytes), str(jobs), str(path), str(rounds)],
                         check=True, capture_output=True, text=True)
    return float(out.stdout)


def py_write_rate(nbytes, jobs, path, rounds):
    g = dgen.Generator(size=nbytes, seed=1)
    best = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        g.write_file(path, jobs=jobs, sync=False)
        best = max(best, nbytes / (time.perf_counter() - t0) / 1e9)
    return best


def alternate(pairs, c, py):
    """Best of C and of Python over `pairs` alternating runs."""
    bc = bp = 0.0
    for _ in range(pairs):
        bc = max(bc, c())
        bp = max(bp, py())
    return bc, bp


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds (a few seconds instead of about half a minute)")
    ap.add_argument("--no-build", action="store_true", help="use target/release/libdgen.so as it is")
    a = ap.parse_args()
    exe = build_c(a.no_build)
    pairs, rounds = (2, 2) if a.quick else (6, 3)
    ncpu = len(os.sched_getaffinity(0))
    print(f"CPU: {cpu_name()}, {ncpu} CPUs usable; Python {platform.python_version()}; "
          f"dgen {dgen.__version__}; GB/s = 10^9 bytes/s, best of {pairs * rounds} rounds")
    print()

    big = 64 * MIB
    calls = 4 if a.quick else 8
    print("1. fill into one 64 MiB buffer (goal: Python within 10% of C)")
    for threads in (0, 1):
        c, p = alternate(pairs, lambda: c_rate(exe, "fill", big, threads, calls, rounds),
                         lambda: py_fill_rate(big, threads, calls, rounds))
        label = f"threads={threads}" + (f" ({ncpu} workers)" if threads == 0 else "")
        print(f"   {label:<22} C {c:6.2f}   Python {p:6.2f}   Python/C {p / c:5.2f}")
    print()

    small = 4096
    calls = 100_000 if a.quick else 300_000
    print("2. fill_at, 4 KiB per call at scattered offsets, one thread (goal: Python within 50% of C)")
    c, p = alternate(pairs, lambda: c_rate(exe, "fill_at", small, 1, calls, rounds),
                     lambda: py_fill_at_rate(small, calls, rounds))
    print(f"   {'4 KiB':<22} C {c:6.2f}   Python {p:6.2f}   Python/C {p / c:5.2f}   "
          f"({small / c:.0f} ns vs {small / p:.0f} ns per call)")
    print()

    print("3. fill_at from Python threads sharing one generator (goal: 2 threads >= 1.6x one)")
    print("   (on CPU: the share of the time the threads ran; below 1.0 they waited for the GIL or a CPU)")
    cases = ((4096, 100_000 if a.quick else 300_000), (256 << 10, 2_000 if a.quick else 6_000),
             (1 << 20, 500 if a.quick else 1_500))
    for nbytes, calls in cases:
        one = two = (0.0, 0.0)
        for _ in range(pairs):
            one = max(one, py_threads_rate(1, nbytes, calls, rounds))
            two = max(two, py_threads_rate(2, nbytes, calls, rounds))
        size = f"{nbytes >> 10} KiB"
        print(f"   {size:<22} 1 thread {one[0]:6.2f}   2 threads {two[0]:6.2f}   {two[0] / one[0]:4.2f}x   "
              f"(on CPU {one[1]:.2f} and {two[1]:.2f})")
    print()

    nbytes = (256 if a.quick else 1024) * MIB
    folder = "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()
    path = Path(folder) / f"dgen-bench-{os.getpid()}.bin"
    print(f"4. write_file of {nbytes >> 20} MiB to a file in {folder}, 1 MiB blocks, no sync "
          "(goal: Python within 10% of C)")
    try:
        for jobs in (1, ncpu):
            c, p = alternate(pairs, lambda: c_write_rate(exe, nbytes, jobs, path, rounds),
                             lambda: py_write_rate(nbytes, jobs, path, rounds))
            label = f"jobs={jobs}"
            print(f"   {label:<22} C {c:6.2f}   Python {p:6.2f}   Python/C {p / c:5.2f}")
    finally:
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
