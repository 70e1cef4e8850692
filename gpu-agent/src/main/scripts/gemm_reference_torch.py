#!/usr/bin/env python3
"""bf16 GEMMs through PyTorch (torch.matmul = cuBLAS): the reference that `gpu-agent bench kernels`
prints its GEMM rows beside, on the same shapes and the same way.

y[m, n] = x[m, k] . w[n, k]^T for the Llama-3-8B projections (qkv 6144x4096, o 4096x4096,
gate_up 28672x4096, down 4096x14336) at m = 1 ... 256, plus the prefill shape 8192x4096x4096.
Weights rotate over enough copies to exceed three times the L2 (as the Java bench does), each
timed point is one CUDA graph of back-to-back launches replayed between CUDA events; the median
over repetitions, divided by the launches, is the time of one GEMM. Weight bytes / time is the
bandwidth the decode targets count; 2mnk / time the rate.

  python3 gemm_reference_torch.py [--out torch-gemm.json]
"""
import argparse
import json
import statistics

import torch

NK = [(6144, 4096), (4096, 4096), (28672, 4096), (4096, 14336)]
M = [1, 8, 32, 64, 128, 256]
PREFILL = (8192, 4096, 4096)
REPS = 15
MIN_LAUNCHES = 50


def time_point(m, n, k, l2_bytes):
    w_bytes = 2 * n * k
    sets = max(1, min(64, -(-3 * l2_bytes // w_bytes)))
    ws = [torch.rand(n, k, device="cuda", dtype=torch.bfloat16) * 0.1 - 0.05 for _ in range(sets)]
    xs = [torch.rand(m, k, device="cuda", dtype=torch.bfloat16) * 2 - 1 for _ in range(sets)]
    out = torch.empty(m, n, device="cuda", dtype=torch.bfloat16)
    launches = max(MIN_LAUNCHES, sets)
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        for i in range(sets):  # warm-up: cuBLAS picks and loads its kernels outside the capture
            torch.matmul(xs[i], ws[i].t(), out=out)
    stream.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, stream=stream):
        for i in range(launches):
            torch.matmul(xs[i % sets], ws[i % sets].t(), out=out)
    for _ in range(2):
        graph.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(REPS):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1000.0 / launches)
    us = statistics.median(times)
    return {"m": m, "n": n, "k": k, "median_us": round(us, 3), "weight_tb_per_s": round(w_bytes / us / 1e6, 4),
            "tflop_per_s": round(2.0 * m * n * k / us / 1e6, 2), "input_sets": sets, "launches_per_graph": launches}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="also write the points as JSON")
    a = ap.parse_args()
    props = torch.cuda.get_device_properties(0)
    l2 = getattr(props, "L2_cache_size", 50 << 20)
    print(f"{props.name}, torch {torch.__version__}, cuBLAS via torch.matmul, L2 {l2 >> 20} MiB")
    print(f"{'m':>5} {'n':>6} {'k':>6} {'time us':>9} {'TB/s':>7} {'TFLOP/s':>8}")
    points = []
    for n, k in NK:
        for m in M:
            p = time_point(m, n, k, l2)
            points.append(p)
            print(f"{m:>5} {n:>6} {k:>6} {p['median_us']:>9.2f} {p['weight_tb_per_s']:>7.3f} {p['tflop_per_s']:>8.1f}",
                  flush=True)
    p = time_point(*PREFILL, l2)
    points.append(p)
    print(f"{PREFILL[0]:>5} {PREFILL[1]:>6} {PREFILL[2]:>6} {p['median_us']:>9.2f} {p['weight_tb_per_s']:>7.3f} "
          f"{p['tflop_per_s']:>8.1f}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"device": props.name, "torch": torch.__version__, "points": points}, f, indent=1)


if __name__ == "__main__":
    main()
