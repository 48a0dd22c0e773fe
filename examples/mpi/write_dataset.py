"""One dataset in one file, written by every rank of an MPI job.

Rank r of n writes part (r, n) of the dataset with ``dgen.write_file(...,
part=(r, n))``: the dataset's 4 KiB blocks dealt out in order, as
``dgen generate --part r/n`` deals them. Every byte depends only on the seed,
the options and its offset, so the ranks together write exactly the file one
``dgen generate`` with the same options writes, whatever the number of ranks
or hosts. With --verify every rank then reads its part back and checks each
byte, once all parts are written; --verify-only checks a file written
before. Rank 0 prints one summary, and every rank exits non-zero when any
part failed.

    mpirun -np 4 python3 write_dataset.py /mnt/shared/data.bin \\
        --size 100GiB --dedup 2 --compress 3 --seed 42 --verify

Needs mpi4py and the dgen Python package (bindings/python) on every host,
and a path that every rank reaches: a shared file system for ranks on
several hosts.
"""

import argparse
import json
import os
import re
import secrets
import sys

import dgen
from mpi4py import MPI

UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def size_arg(text):
    """A size in bytes: 4096, 8KiB, 32MiB, 100GiB (or K, M, G, T)."""
    m = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*", text, re.IGNORECASE)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 4096, 8KiB, 32MiB, 100GiB)")
    return int(m.group(1)) * UNITS[m.group(2).lower()]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("path", help="file or block device every rank writes its part of")
    p.add_argument("--size", type=size_arg, required=True, help="bytes in the whole dataset")
    p.add_argument("--dedup", type=float, default=1.0, help="dedup ratio (default 1)")
    p.add_argument("--compress", type=float, default=1.0, help="compression ratio (default 1)")
    p.add_argument("--dedup-unit", type=size_arg, default=4096, help="dedup unit (default 4KiB)")
    p.add_argument("--compressor", default="auto", help="compressor the ratio is calibrated for (default auto)")
    p.add_argument("--seed", type=int, help="seed of the data (default: drawn by rank 0 and shared)")
    p.add_argument("--jobs", type=int, default=1,
                   help="I/O workers per rank (default 1, for one rank per CPU)")
    p.add_argument("--block-size", type=size_arg, default=1 << 20, help="bytes per I/O (default 1MiB)")
    p.add_argument("--iodepth", type=int, default=1, help="I/Os in flight per worker (default 1)")
    p.add_argument("--direct", action="store_true", help="O_DIRECT")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--verify", action="store_true", help="after writing, read every part back and check it")
    mode.add_argument("--verify-only", action="store_true", help="check the parts of a file written before")
    p.add_argument("--reports", metavar="DIR",
                   help="write each rank's report to DIR/OPERATION-RANK.json, for `dgen report merge`")
    return p.parse_args(argv)


def run_part(comm, operation, args, seed):
    """Runs one operation on this rank's part; returns the reports of all
    ranks on rank 0 (None elsewhere) and whether every rank succeeded, on
    every rank. A rank that fails still takes part in the collective calls,
    so no rank waits forever for it."""
    rank, nranks = comm.Get_rank(), comm.Get_size()
    config = dict(dedup_ratio=args.dedup, compress_ratio=args.compress, dedup_unit=args.dedup_unit,
                  seed=seed, compressor=args.compressor, threads=1)
    io = dict(jobs=args.jobs, block_size=args.block_size, iodepth=args.iodepth, direct=args.direct,
              part=(rank, nranks))
    comm.Barrier()  # the parts start together, so the aggregate rate means something
    try:
        if operation == "write":
            report, error = dgen.write_file(args.path, args.size, **config, **io), None
        else:
            report, error = dgen.verify_file(args.path, args.size, **config, **io), None
    except Exception as e:  # noqa: BLE001 - any failure is reported, then every rank exits non-zero
        report, error = getattr(e, "report", None), f"rank {rank}: {operation} failed: {e}"
    if args.reports and report is not None:
        with open(os.path.join(args.reports, f"{operation}-{rank}.json"), "w") as f:
            json.dump(report, f)
    results = comm.gather((report, error), root=0)
    ok = comm.bcast(all(e is None for _, e in results) if rank == 0 else None, root=0)
    return results, ok


def summarize(operation, results, args, seed):
    """Rank 0's summary: the parts, then the whole, timed from the first
    part's start to the last part's end. All on standard output, failures
    included, since mpirun forwards each stream of each rank on its own and
    would interleave the two."""
    for rank, (report, error) in enumerate(results):
        if error:
            print(error)
        elif report:
            print(f"rank {rank}: {operation} {report['length']} bytes at offset {report['offset']}: "
                  f"{report['gbps']:.2f} GB/s, {report['bottleneck']}")
    reports = [r for r, e in results if r and not e]
    if len(reports) == len(results):
        seconds = max(r["end_time"] for r in reports) - min(r["start_time"] for r in reports)
        total = sum(r["bytes"] for r in reports)
        verb = "wrote" if operation == "write" else "verified"
        rate = total / seconds / 1e9 if seconds > 0 else float("inf")
        print(f"{verb} {total} bytes of {args.path} in {len(reports)} parts, {seconds:.2f} s, "
              f"{rate:.2f} GB/s, seed {seed}")
    else:
        print(f"{operation}: {len(results) - len(reports)} of {len(results)} parts failed")
    sys.stdout.flush()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    if args.verify_only and args.seed is None:
        if rank == 0:
            print("--verify-only needs the --seed the data was written with", flush=True)
        return 2
    # Every rank must use one seed: rank 0 draws it when none is given.
    seed = comm.bcast(args.seed if args.seed is not None else secrets.randbits(64), root=0)
    if args.reports and rank == 0:
        os.makedirs(args.reports, exist_ok=True)
    comm.Barrier()

    operations = ["verify"] if args.verify_only else ["write", "verify"] if args.verify else ["write"]
    for operation in operations:
        results, ok = run_part(comm, operation, args, seed)
        if rank == 0:
            summarize(operation, results, args, seed)
        if not ok:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
