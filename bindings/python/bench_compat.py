"""This package against dgen-py, side by side, measured in the same run.

    python bindings/python/bench_compat.py --peer-python /path/to/venv/bin/python
        [--rounds 3] [--only stream,small,generate,memset] [--budget 1.0] [--stream-gib 2]

``scripts/bench-peer.sh`` makes both venvs and runs this. Prints figures;
nothing is asserted. The interpreter running this script must import
``dgen``; the one given with ``--peer-python`` must import ``dgen_py``
(dgen-py 0.3.0 from PyPI, in a venv of its own).

Each measurement is a fresh process that imports its package, makes its
object, warms up, then times one kind of call: wall clock
(``time.perf_counter``) and the process's CPU time over all its threads
(``time.process_time``). The processes alternate between the two packages,
and the order turns round every round, so that a busy moment of a shared
machine weighs on both alike. Rates are medians over the rounds; a row's
ratios are ours / dgen-py's, by wall time and by CPU time.

The cases (ours against dgen-py's):

- stream: ``--stream-gib`` GiB through a 64 MiB and an 8 MiB buffer, 1 and 2
  threads, compress 1 and 2: ``Generator(size, compress_ratio=c,
  threads=t).fill(buf)`` against ``Generator(size, compress_ratio=c,
  max_threads=t).fill_chunk(buf)``, until the stream ends. dgen-py's
  streaming pool takes its size from ``DGEN_THREADS``, which its children get
  set to ``t``.
- small: 4 KiB and 64 KiB calls for ``--budget`` seconds: ``fill`` against
  ``fill_chunk`` into one reused buffer; ``Generator.read(n)`` and
  ``dgen.compat.BufferPool.next_slice(n)`` against ``BufferPool.next_slice(n)``;
  ``dgen.compat.Generator.get_chunk(n)`` against ``Generator.get_chunk(n)``.
- generate: ``dgen.generate(64 MiB)`` against ``generate_buffer(64 MiB)``,
  each call a new object, every CPU (both packages' default).
- memset: ``ctypes.memset`` over the same 64 MiB buffer, 1 thread and 2
  (each thread half the buffer; ctypes releases the GIL), for the
  two-thread streaming rows to be read against.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

MIB = 1 << 20
#: dgen-py's streams are sized; the small-call ones far longer than any run reads.
LONG = 1 << 40
GROUPS = ("stream", "small", "generate", "memset")


def cases(stream_gib):
    """Rows as (group, label, ours, peer, goal); a call is (kind, threads, size, compress)."""
    rows = []
    total = stream_gib << 30
    for buf in (64 * MIB, 8 * MIB):
        for threads in (1, 2):
            for c in (1, 2):
                label = f"{stream_gib} GiB via {buf // MIB} MiB, {threads} thr, c{c}"
                rows.append(("stream", label, ("fill", threads, buf, c, total), ("fill_chunk", threads, buf, c, total),
                             1.0))
    for n in (4096, 65536):
        size = f"{n // 1024} KiB"
        rows.append(("small", f"{size} calls", ("fill", 0, n, 1, 0), ("fill_chunk", 0, n, 1, 0), 1.0))
        goal = 1.2 if n == 4096 else 1.0
        rows.append(("small", f"{size} calls", ("read", 0, n, 1, 0), ("next_slice", 0, n, 1, 0), goal))
        rows.append(("small", f"{size} calls", ("compat_next_slice", 0, n, 1, 0), ("next_slice", 0, n, 1, 0), goal))
        rows.append(("small", f"{size} calls", ("compat_get_chunk", 0, n, 1, 0), ("get_chunk", 0, n, 1, 0), 1.0))
    rows.append(("generate", "64 MiB, new object", ("generate", 0, 64 * MIB, 1, 0),
                 ("generate_buffer", 0, 64 * MIB, 1, 0), 1.0))
    return rows


NAMES = {
    "fill": "fill",
    "fill_chunk": "fill_chunk",
    "read": "Generator.read",
    "next_slice": "BufferPool.next_slice",
    "compat_next_slice": "compat next_slice",
    "compat_get_chunk": "compat get_chunk",
    "get_chunk": "get_chunk",
    "generate": "generate",
    "generate_buffer": "generate_buffer",
    "memset": "ctypes.memset",
}

PEER_KINDS = {"fill_chunk", "next_slice", "get_chunk", "generate_buffer"}


def timed(step, size, budget):
    """Calls ``step()`` (``size`` bytes each) for ``budget`` s after a warm-up of a fifth of that."""
    batch = max(1, (256 << 10) // size)

    def run(seconds):
        calls = 0
        wall, cpu = time.perf_counter(), time.process_time()
        while calls < 3 or time.perf_counter() - wall < seconds:
            for _ in range(batch):
                step()
            calls += batch
        return calls * size, time.perf_counter() - wall, time.process_time() - cpu

    run(budget / 5)
    return run(budget)


def streamed(fill, buf):
    """Calls ``fill(buf)`` until it returns 0; the first call is the warm-up (pages, worker pool)."""
    fill(buf)
    done = 0
    wall, cpu = time.perf_counter(), time.process_time()
    while n := fill(buf):
        done += n
    return done, time.perf_counter() - wall, time.process_time() - cpu


def memset_run(threads, size, total):
    """``ctypes.memset`` over one buffer, split over ``threads`` Python threads, ``total`` bytes in all."""
    import ctypes
    import threading

    buf = bytearray(size)
    base = ctypes.addressof((ctypes.c_char * size).from_buffer(buf))
    part = size // threads
    calls = max(total // size, 1)
    start, done = threading.Barrier(threads + 1), threading.Barrier(threads + 1)

    def work(i):
        for value in range(calls + 1):
            start.wait()
            ctypes.memset(base + i * part, value & 0xFF, part)
            done.wait()

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    start.wait()  # the warm-up call: touches the pages
    done.wait()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        start.wait()
        done.wait()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    for w in workers:
        w.join()
    return calls * size, wall, cpu


def child(kind, threads, size, compress, total, budget):
    """One measurement in this process; prints a JSON line."""
    if kind == "memset":
        nbytes, wall, cpu = memset_run(threads, size, total)
    elif kind in PEER_KINDS:
        import dgen_py

        max_threads = threads or None
        if kind == "fill_chunk":
            stream = total + size if total else LONG
            g = dgen_py.Generator(size=stream, compress_ratio=compress, max_threads=max_threads, seed=1)
            buf = bytearray(size)
            if total:
                nbytes, wall, cpu = streamed(g.fill_chunk, buf)
            else:
                nbytes, wall, cpu = timed(lambda: g.fill_chunk(buf), size, budget)
        elif kind == "next_slice":
            next_slice = dgen_py.BufferPool(compress_ratio=compress).next_slice
            nbytes, wall, cpu = timed(lambda: next_slice(size), size, budget)
        elif kind == "get_chunk":
            get_chunk = dgen_py.Generator(size=LONG, compress_ratio=compress, seed=1).get_chunk
            nbytes, wall, cpu = timed(lambda: get_chunk(size), size, budget)
        else:
            generate_buffer = dgen_py.generate_buffer
            nbytes, wall, cpu = timed(lambda: generate_buffer(size, compress_ratio=compress), size, budget)
    else:
        import dgen
        import dgen.compat

        if kind == "fill":
            if total:
                g = dgen.Generator(size=total + size, compress_ratio=compress, threads=threads, seed=1)
                nbytes, wall, cpu = streamed(g.fill, bytearray(size))
            else:
                g = dgen.Generator(compress_ratio=compress, threads=threads, seed=1)
                buf = bytearray(size)
                nbytes, wall, cpu = timed(lambda: g.fill(buf), size, budget)
        elif kind == "read":
            read = dgen.Generator(compress_ratio=compress, threads=threads, seed=1).read
            nbytes, wall, cpu = timed(lambda: read(size), size, budget)
        elif kind == "compat_next_slice":
            next_slice = dgen.compat.BufferPool(compress_ratio=compress).next_slice
            nbytes, wall, cpu = timed(lambda: next_slice(size), size, budget)
        elif kind == "compat_get_chunk":
            get_chunk = dgen.compat.Generator(size=LONG, compress_ratio=compress, seed=1).get_chunk
            nbytes, wall, cpu = timed(lambda: get_chunk(size), size, budget)
        else:
            generate = dgen.generate
            nbytes, wall, cpu = timed(lambda: generate(size, compress_ratio=compress, threads=threads, seed=1),
                                      size, budget)
    print(json.dumps({"bytes": nbytes, "wall": wall, "cpu": cpu}))


def load_average():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def version(python, dist):
    out = subprocess.run([python, "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-python", help="an interpreter that imports dgen_py (dgen-py)")
    ap.add_argument("--rounds", type=int, default=3, help="fresh processes per call (default 3)")
    ap.add_argument("--only", default=",".join(GROUPS),
                    help=f"groups of cases to run, comma-separated (default: all of {','.join(GROUPS)})")
    ap.add_argument("--budget", type=float, default=1.0,
                    help="seconds each small-call and generate measurement lasts (default 1.0)")
    ap.add_argument("--stream-gib", type=int, default=2, help="GiB each streaming measurement fills (default 2)")
    ap.add_argument("--child", nargs=5, metavar=("KIND", "THREADS", "SIZE", "COMPRESS", "TOTAL"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *numbers = args.child
        child(kind, *map(int, numbers), args.budget)
        return
    # Not at the top: bench.py imports dgen, which the children that run
    # dgen-py's interpreter do not have.
    from bench import cpu_name

    if not args.peer_python:
        sys.exit("bench_compat: --peer-python is required (an interpreter with dgen-py installed)")
    groups = [g for g in args.only.split(",") if g]
    unknown = set(groups) - set(GROUPS)
    if unknown:
        sys.exit(f"bench_compat: unknown group(s) {', '.join(sorted(unknown))}; the groups are {', '.join(GROUPS)}")
    rows = [r for r in cases(args.stream_gib) if r[0] in groups]
    ncpu = len(os.sched_getaffinity(0))
    memsets = [("memset", t, 64 * MIB, 1, args.stream_gib << 30) for t in (1, 2)] if "memset" in groups else []

    # Every distinct call once a round, ours and the peer's in turn.
    calls = []
    for _, _, ours, peer, _ in rows:
        for call in (ours, peer):
            if call not in calls:
                calls.append(call)
    calls += memsets
    here = os.path.abspath(__file__)
    load_before = load_average()
    runs = {call: [] for call in calls}
    for r in range(args.rounds):
        print(f"bench_compat: round {r + 1} of {args.rounds} ({len(calls)} processes)", file=sys.stderr, flush=True)
        for call in calls if r % 2 == 0 else calls[::-1]:
            kind, threads = call[0], call[1]
            python = args.peer_python if kind in PEER_KINDS else sys.executable
            env = dict(os.environ)
            if kind in PEER_KINDS:
                # dgen-py sizes its streaming pool from DGEN_THREADS, or else
                # divides the CPUs among the dgen-py processes it finds
                # running; the case's thread count keeps it from both.
                env["DGEN_THREADS"] = str(threads or ncpu)
            out = subprocess.run(
                [python, here, "--child", *map(str, call), "--budget", str(args.budget)],
                check=True, capture_output=True, text=True, env=env,
            )
            runs[call].append(json.loads(out.stdout))

    def rates(call):
        rs = runs[call]
        return (statistics.median(x["bytes"] / x["wall"] for x in rs) / 1e9,
                statistics.median(x["bytes"] / x["cpu"] for x in rs) / 1e9)

    print(f"CPU: {cpu_name()} ({ncpu} CPUs usable), Python {platform.python_version()}; "
          f"libdgen {version(sys.executable, 'libdgen')}, dgen-py {version(args.peer_python, 'dgen-py')}")
    print(f"load average {load_before} before, {load_average()} after; rounds of fresh processes: {args.rounds}, "
          f"alternating; medians; GB = 10^9 bytes")
    print()
    head = (f"{'case':<30} {'ours':<18} {'dgen-py':<22} {'ours':>7} {'peer':>7} {'wall':>7} "
            f"{'ours':>8} {'peer':>8} {'CPU':>7}  {'goal':<5} {'met (wall, CPU)'}")
    print(head)
    print(f"{'':<30} {'':<18} {'':<22} {'GB/s':>7} {'GB/s':>7} {'ratio':>7} {'GB/CPU-s':>8} {'GB/CPU-s':>8} "
          f"{'ratio':>7}")
    for _, label, ours, peer, goal in rows:
        (ow, oc), (pw, pc) = rates(ours), rates(peer)
        met = " ".join("yes" if x >= goal else "no" for x in (ow / pw, oc / pc))
        print(f"{label:<30} {NAMES[ours[0]]:<18} {NAMES[peer[0]]:<22} {ow:>7.2f} {pw:>7.2f} {ow / pw:>6.2f}x "
              f"{oc:>8.2f} {pc:>8.2f} {oc / pc:>6.2f}x  {f'{goal:.1f}x':<5} {met}")
    if memsets:
        (m1, m1c), (m2, m2c) = rates(memsets[0]), rates(memsets[1])
        print()
        print(f"memset (ctypes) on 64 MiB: 1 thread {m1:.2f} GB/s ({m1c:.2f} per CPU-s), "
              f"2 threads {m2:.2f} GB/s ({m2c:.2f} per CPU-s)")
        two = [(label, rates(ours)[0]) for g, label, ours, _, _ in rows
               if g == "stream" and ours[1] == 2 and ours[2] == 64 * MIB]
        if two:
            print("ours on 2 threads through the 64 MiB buffer against memset on 1 thread (goal >= 1.0x): "
                  + ", ".join(f"c{label[-1]} {rate / m1:.2f}x" for label, rate in two))


if __name__ == "__main__":
    main()
