#!/usr/bin/env python3
"""NCCL bandwidth through PyTorch (torch.distributed, nccl backend): the reference that
`gpu-agent bench nccl` is compared with on the same machine.

One process per GPU (torch.multiprocessing) measures what the Java bench measures, the same way:
send/recv for every GPU pair i < j (i sends, bf16 elements) and sum all-reduce over all GPUs
(bf16, then fp32, in place), over the same sizes; per rank the median over repetitions of
(CUDA-event time of `iters` back-to-back operations) / iters, then the slowest rank;
algbw = bytes / time (GB = 1e9 bytes), busbw = algbw * 2(n-1)/n for all-reduce as nccl-tests
defines it, algbw for send/recv. Prints a table; writes the same JSON fields as the Java bench.

  python3 nccl_reference_allreduce.py [--sizes 4K,4M,256M] [--gpus 0,1] [--out torch.json]
                                      [--compare gpu-agent-nccl.json]
  python3 nccl_reference_allreduce.py --nccl-library    # the libnccl.so.2 PyTorch uses

--compare reads the Java bench's JSON and prints, per point measured by both, gpu-agent's busbw
over PyTorch's (the issue asks all-reduce to be within 10 %).
"""
import argparse
import datetime
import glob
import json
import os
import socket
import statistics
import sys

DEFAULT_SIZES = [4096 << i for i in range(19)]  # 4K ... 1G, doubling
BYTES_PER_REP = 256 << 20
MAX_ITERS = 20
TABLE = "{:<10} {:<5} {:<6} {:>6} {:>11} {:>5} {:>11} {:>11} {:>11}"


def parse_size(text):
    """4096, 4K, 4M, 1G (binary multiples, case-insensitive, optional B/iB): as the Java bench."""
    t = text.strip().upper()
    if t.endswith("IB"):
        t = t[:-2]
    elif t.endswith("B"):
        t = t[:-1]
    shift = {"K": 10, "M": 20, "G": 30}.get(t[-1:], 0)
    digits = t[:-1] if shift else t
    if not digits.isdigit() or int(digits) <= 0:
        raise argparse.ArgumentTypeError(f"size '{text}' is not a positive number of bytes")
    size = int(digits) << shift
    if size % 4:
        raise argparse.ArgumentTypeError(f"size '{text}' must be a multiple of 4 bytes")
    return size


def format_size(size):
    for shift, unit in ((30, "G"), (20, "M"), (10, "K")):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift}{unit}"
    return str(size)


def iters_for(size, max_iters=MAX_ITERS):
    return max(1, min(max_iters, BYTES_PER_REP // size))


def bus_factor(op, ranks):
    return 2.0 * (ranks - 1) / ranks if op == "all_reduce" else 1.0


def plan(ranks, sizes):
    """(op, dtype, ranks taking part, bytes) in the Java bench's order."""
    steps = []
    for i in range(ranks):
        for j in range(i + 1, ranks):
            steps += [("send_recv", "bf16", [i, j], size) for size in sizes]
    for dtype in ("bf16", "fp32"):
        steps += [("all_reduce", dtype, list(range(ranks)), size) for size in sizes]
    return steps


def row(p):
    sep = "->" if p["op"] == "send_recv" else ","
    return TABLE.format(p["op"], p["dtype"], sep.join(map(str, p["gpus"])), format_size(p["bytes"]),
                        p["count"], p["iters"], f"{p['time_us']:.2f}",
                        f"{p['algbw_gb_per_s']:.2f}", f"{p['busbw_gb_per_s']:.2f}")


def nccl_library():
    """The libnccl file this Python's PyTorch has loaded (None if it cannot be found)."""
    import torch
    torch.cuda.nccl.version()  # makes sure the library that holds NCCL is loaded
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and os.path.basename(fields[5]).startswith("libnccl.so"):
                return os.path.realpath(fields[5])
    roots = [os.path.dirname(os.path.dirname(torch.__file__))]
    for root in roots:
        found = sorted(glob.glob(os.path.join(root, "nvidia", "**", "libnccl.so*"), recursive=True))
        if found:
            return found[0]
    return None


def time_us(torch, ops, warmup, reps):
    """Median µs of one call of ops() over reps, each between two CUDA events."""
    for _ in range(warmup):
        ops()
    torch.cuda.synchronize()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    for i in range(reps):
        starts[i].record()
        ops()
        ends[i].record()
    torch.cuda.synchronize()
    return statistics.median(s.elapsed_time(e) * 1000.0 for s, e in zip(starts, ends))


def worker(rank, gpus, port, args):
    import torch
    import torch.distributed as dist

    world = len(gpus)
    device = torch.device("cuda", gpus[rank])
    torch.cuda.set_device(device)
    dist.init_process_group("nccl", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world, device_id=device)
    max_bytes = max(args.sizes)
    a = torch.empty(max_bytes, dtype=torch.uint8, device=device)  # sent; all-reduced in place
    a.view(torch.int32).fill_(0x3F803F80)  # bf16 1.0 pairs, as the Java bench
    b = torch.zeros(max_bytes, dtype=torch.uint8, device=device)  # received
    if rank == 0:
        print(f"PyTorch {torch.__version__}, NCCL {'.'.join(map(str, torch.cuda.nccl.version()))},"
              f" {world} processes, one GPU each")
        for g in gpus:
            p = torch.cuda.get_device_properties(g)
            print(f"  GPU {g} ({p.name}), sm_{p.major}{p.minor}, {p.multi_processor_count} SMs,"
                  f" {p.total_memory / 2**30:.1f} GiB")
        print(TABLE.format("op", "dtype", "gpus", "size", "count", "iters", "time us",
                           "algbw GB/s", "busbw GB/s"), flush=True)
    points = []
    for op, dtype_name, ranks, size in plan(world, args.sizes):
        dtype = torch.bfloat16 if dtype_name == "bf16" else torch.float32
        elem = 2 if dtype_name == "bf16" else 4
        iters = iters_for(size, args.max_iters)
        us = 0.0
        if rank in ranks:
            ta = a[:size].view(dtype)
            tb = b[:size].view(dtype)
            if op == "all_reduce":
                def ops():
                    for _ in range(iters):
                        dist.all_reduce(ta)
            elif rank == ranks[0]:
                def ops():
                    for _ in range(iters):
                        dist.send(ta, dst=ranks[1])
            else:
                def ops():
                    for _ in range(iters):
                        dist.recv(tb, src=ranks[0])
            us = time_us(torch, ops, args.warmup, args.reps) / iters
        mine = torch.tensor([us], dtype=torch.float64, device=device)
        every = [torch.zeros_like(mine) for _ in range(world)]
        dist.all_gather(every, mine)  # also keeps the ranks in step between points
        rank_us = [every[r].item() for r in ranks]
        if rank == 0:
            slowest = max(rank_us)
            algbw = size / slowest / 1e3
            p = {"op": op, "dtype": dtype_name, "gpus": [gpus[r] for r in ranks], "bytes": size,
                 "count": size // elem, "iters": iters, "time_us": round(slowest, 3),
                 "algbw_gb_per_s": round(algbw, 3),
                 "busbw_gb_per_s": round(algbw * bus_factor(op, len(ranks)), 3),
                 "rank_us": [round(u, 3) for u in rank_us]}
            points.append(p)
            print(row(p), flush=True)
    if rank == 0:
        finish(torch, gpus, points, args)
    dist.destroy_process_group()


def finish(torch, gpus, points, args):
    document = {
        "tool": "torch.distributed nccl reference",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "torch_version": torch.__version__,
        "nccl_version": ".".join(map(str, torch.cuda.nccl.version())),
        "nccl_library": nccl_library(),
        "devices": [{"index": g, "name": torch.cuda.get_device_name(g),
                     "arch": "sm_%d%d" % torch.cuda.get_device_capability(g),
                     "memory_bytes": torch.cuda.get_device_properties(g).total_memory}
                    for g in gpus],
        "env": {k: v for k, v in sorted(os.environ.items())
                if k.startswith("NCCL_") or k in ("CUDA_VISIBLE_DEVICES", "DECODEFLEET_NCCL_LIBRARY")},
        "method": {"warmup": args.warmup, "reps": args.reps,
                   "timing": "CUDA events around iters back-to-back operations; per rank the median"
                             " over reps of time / iters; the slowest rank",
                   "all_reduce": "sum, in place",
                   "busbw": "algbw * 2(n-1)/n for all_reduce, algbw for send_recv", "gb": 1e9},
        "results": points,
    }
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(document, f, indent=2)
            f.write("\n")
        print(f"wrote {args.out}")
    if args.compare:
        compare(points, args.compare)


def compare(points, path):
    """gpu-agent's busbw over PyTorch's, per point both measured."""
    with open(path) as f:
        theirs = {(p["op"], p["dtype"], tuple(p["gpus"]), p["bytes"]): p for p in json.load(f)["results"]}
    print(f"\ncompared with {path} (ratio = gpu-agent busbw / PyTorch busbw; all-reduce target >= 0.90)")
    print("{:<10} {:<5} {:<6} {:>6} {:>12} {:>12} {:>7}".format(
        "op", "dtype", "gpus", "size", "torch GB/s", "agent GB/s", "ratio"))
    worst = None
    for p in points:
        q = theirs.get((p["op"], p["dtype"], tuple(p["gpus"]), p["bytes"]))
        if q is None:
            continue
        ratio = q["busbw_gb_per_s"] / p["busbw_gb_per_s"]
        sep = "->" if p["op"] == "send_recv" else ","
        print("{:<10} {:<5} {:<6} {:>6} {:>12.2f} {:>12.2f} {:>7.3f}".format(
            p["op"], p["dtype"], sep.join(map(str, p["gpus"])), format_size(p["bytes"]),
            p["busbw_gb_per_s"], q["busbw_gb_per_s"], ratio))
        if p["op"] == "all_reduce" and p["bytes"] >= 64 << 20:
            worst = ratio if worst is None else min(worst, ratio)
    if worst is not None:
        print(f"all-reduce at >= 64M: lowest ratio {worst:.3f}"
              f" ({'within' if worst >= 0.9 else 'NOT within'} 10 %)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=lambda s: [parse_size(x) for x in s.split(",")],
                        default=DEFAULT_SIZES, help="sizes: bytes or K/M/G (default 4K..1G, doubling)")
    parser.add_argument("--gpus", type=lambda s: [int(x) for x in s.split(",")], default=None,
                        help="GPUs in rank order, at least two (default: all)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--reps", type=int, default=25)
    parser.add_argument("--max-iters", type=int, default=MAX_ITERS,
                        help="most back-to-back operations per timed repetition (as gpu-agent bench nccl)")
    parser.add_argument("--out", help="write the results as JSON")
    parser.add_argument("--compare", help="the JSON of `gpu-agent bench nccl` to compare with")
    parser.add_argument("--nccl-library", action="store_true",
                        help="print the path of the libnccl PyTorch uses, and exit")
    args = parser.parse_args()
    if args.nccl_library:
        path = nccl_library()
        if path is None:
            print("no libnccl found in this PyTorch's process or packages", file=sys.stderr)
            return 1
        print(path)
        return 0
    import torch
    import torch.multiprocessing as mp
    gpus = args.gpus if args.gpus is not None else list(range(torch.cuda.device_count()))
    if len(set(gpus)) < 2 or len(set(gpus)) != len(gpus):
        print(f"needs at least 2 distinct GPUs; got {gpus}", file=sys.stderr)
        return 3
    if args.reps < 1 or args.warmup < 0:
        print("--reps must be >= 1 and --warmup >= 0", file=sys.stderr)
        return 2
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(worker, args=(gpus, port, args), nprocs=len(gpus), join=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
