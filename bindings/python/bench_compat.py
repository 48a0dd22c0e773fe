"""Small reads against dgen-py, measured in the same run on this machine.

    python bindings/python/bench_compat.py --peer-python /path/to/venv/bin/python
        [--size 4096] [--total-mib 1024] [--rounds 7]

Prints figures; nothing is asserted. Each measurement is a fresh process
that imports its package, makes its object, warms up with 1000 calls, then
times total/size calls of one kind, wall clock and CPU time. The processes
alternate between the two packages round by round, so that a busy moment of
a shared machine weighs on both alike. The interpreter running this script
must import ``dgen``; the one given with ``--peer-python`` must import
``dgen_py`` (dgen-py 0.3.0 from PyPI, in a venv of its own).

The cases: dgen-py's ``BufferPool.next_slice(n)`` and
``Generator.get_chunk(n)``, and this package's ``dgen.Generator.read(n)``,
``dgen.compat.BufferPool.next_slice(n)`` and
``dgen.compat.Generator.get_chunk(n)``. The ratios compare each with
dgen-py's ``next_slice`` (its fastest small-object call) by median rate.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

# name: (package, call, share of --total-mib it is timed over). dgen-py's
# get_chunk of a few KiB runs at tens of MB/s here, so it is timed over 1/64
# of the bytes to keep a run within minutes.
CASES = {
    "peer next_slice": ("peer", "pool", 1),
    "peer get_chunk": ("peer", "chunk", 64),
    "dgen read": ("ours", "read", 1),
    "compat next_slice": ("ours", "pool", 1),
    "compat get_chunk": ("ours", "chunk", 1),
}


def child(side, kind, size, total):
    """One measurement in this process; prints a JSON line."""
    calls = max(total // size, 1)
    if side == "peer":
        import dgen_py as mod
    else:
        import dgen.compat as mod

        import dgen
    if kind == "pool":
        call = mod.BufferPool().next_slice
    elif kind == "chunk":
        call = mod.Generator(size=1 << 40, seed=1).get_chunk
    else:
        call = dgen.Generator(seed=1).read
    for _ in range(1000):
        call(size)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        call(size)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"bytes": calls * size, "wall": wall, "cpu": cpu}))


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-python", help="an interpreter that imports dgen_py (dgen-py)")
    ap.add_argument("--size", type=int, default=4096, help="bytes per call (default 4096)")
    ap.add_argument("--total-mib", type=int, default=1024, help="MiB per measurement (default 1024)")
    ap.add_argument("--rounds", type=int, default=7, help="measurements per case (default 7)")
    ap.add_argument("--child", nargs=2, metavar=("SIDE", "KIND"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    total = args.total_mib << 20
    if args.child:
        child(args.child[0], args.child[1], args.size, total)
        return
    if not args.peer_python:
        sys.exit("bench_compat: --peer-python is required (an interpreter with dgen-py installed)")
    here = os.path.abspath(__file__)
    python = {"peer": args.peer_python, "ours": sys.executable}
    runs = {name: [] for name in CASES}
    for _ in range(args.rounds):
        for name, (side, kind, share) in CASES.items():
            out = subprocess.run(
                [python[side], here, "--child", side, kind, "--size", str(args.size), "--total-mib",
                 str(max(args.total_mib // share, 1))],
                check=True, capture_output=True, text=True,
            )
            runs[name].append(json.loads(out.stdout))
    print(f"CPU: {cpu_name()} ({os.cpu_count()} CPUs), Python {platform.python_version()}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")
    print(f"{args.size}-byte calls, {args.total_mib} MiB per measurement, {args.rounds} fresh processes per case, "
          "alternating\n")
    print(f"{'case':<18} {'median GB/s':>11} {'best GB/s':>10} {'median wall s':>14} {'median CPU s':>13} "
          f"{'vs peer next_slice':>19}")
    base = statistics.median(r["bytes"] / r["wall"] for r in runs["peer next_slice"])
    for name, rs in runs.items():
        rates = [r["bytes"] / r["wall"] for r in rs]
        med = statistics.median(rates)
        print(f"{name:<18} {med / 1e9:>11.2f} {max(rates) / 1e9:>10.2f} "
              f"{statistics.median(r['wall'] for r in rs):>14.3f} {statistics.median(r['cpu'] for r in rs):>13.3f} "
              f"{med / base:>18.2f}x")


if __name__ == "__main__":
    main()
