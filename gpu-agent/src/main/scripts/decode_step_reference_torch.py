#!/usr/bin/env python3
"""A Llama decode step in PyTorch (torch.matmul = cuBLAS, SDPA attention), the whole step captured in
one CUDA graph: the reference that `gpu-agent bench step` is compared with on the same GPU.

Llama-3-8B shapes by default (32 layers, hidden 4096, 32 query / 8 KV heads of 128, MLP 14336, vocab
128256), bf16 random weights, a contiguous KV cache of `--context` positions per sequence (the step
attends over all of them, as our bench's sequences at that context do), greedy argmax at the end.
Per batch: warm-up replays, then the median over `--reps` replays timed with CUDA events.

  python3 decode_step_reference_torch.py [--batches 1,64,128,256] [--context 1024] [--out torch-step.json]
"""
import argparse
import json
import statistics

import torch
import torch.nn.functional as F


def build(layers, hidden, heads, kv_heads, head_dim, inter, vocab):
    g = torch.Generator(device="cuda").manual_seed(7)

    def w(*shape):
        return (torch.rand(*shape, device="cuda", dtype=torch.bfloat16, generator=g) - 0.5) * 0.04

    ws = []
    for _ in range(layers):
        ws.append({"in_norm": torch.ones(hidden, device="cuda", dtype=torch.bfloat16),
                   "qkv": w((heads + 2 * kv_heads) * head_dim, hidden), "o": w(hidden, heads * head_dim),
                   "post_norm": torch.ones(hidden, device="cuda", dtype=torch.bfloat16),
                   "gate_up": w(2 * inter, hidden), "down": w(hidden, inter)})
    return ws, w(vocab, hidden), w(vocab, hidden)


def rms_norm(x, weight, eps=1e-5):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * weight


def rope(x, cos, sin):
    x1, x2 = x[..., ::2], x[..., 1::2]
    return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", default="1,64,128,256")
    ap.add_argument("--context", type=int, default=1024)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--out")
    a = ap.parse_args()
    hidden, heads, kv_heads, head_dim, inter, vocab = 4096, 32, 8, 128, 14336, 128256
    ws, embed, lm_head = build(a.layers, hidden, heads, kv_heads, head_dim, inter, vocab)
    props = torch.cuda.get_device_properties(0)
    print(f"{props.name}, torch {torch.__version__}, {a.layers} layers, context {a.context}")
    rows = []
    for b in [int(x) for x in a.batches.split(",")]:
        ctx = a.context
        k_cache = [torch.rand(b, kv_heads, ctx, head_dim, device="cuda", dtype=torch.bfloat16) for _ in ws]
        v_cache = [torch.rand(b, kv_heads, ctx, head_dim, device="cuda", dtype=torch.bfloat16) for _ in ws]
        tokens = torch.randint(0, vocab, (b,), device="cuda")
        pos = ctx - 1
        inv = 1.0 / (500000.0 ** (torch.arange(0, head_dim, 2, device="cuda").float() / head_dim))
        ang = pos * inv
        cos, sin = ang.cos().to(torch.bfloat16), ang.sin().to(torch.bfloat16)
        out = torch.empty(b, dtype=torch.long, device="cuda")

        def step():
            x = embed[tokens]
            for i, lw in enumerate(ws):
                h = rms_norm(x, lw["in_norm"])
                qkv = torch.matmul(h, lw["qkv"].t())
                q, k, v = qkv.split([heads * head_dim, kv_heads * head_dim, kv_heads * head_dim], dim=-1)
                q = rope(q.view(b, heads, 1, head_dim), cos, sin)
                k = rope(k.view(b, kv_heads, 1, head_dim), cos, sin)
                k_cache[i][:, :, pos:pos + 1, :] = k
                v_cache[i][:, :, pos:pos + 1, :] = v.view(b, kv_heads, 1, head_dim)
                att = F.scaled_dot_product_attention(q, k_cache[i], v_cache[i], enable_gqa=True)
                x = x + torch.matmul(att.reshape(b, heads * head_dim), lw["o"].t())
                h = rms_norm(x, lw["post_norm"])
                gu = torch.matmul(h, lw["gate_up"].t())
                g, u = gu.chunk(2, dim=-1)
                x = x + torch.matmul(F.silu(g) * u, lw["down"].t())
            logits = torch.matmul(rms_norm(x, torch.ones_like(x[0])), lm_head.t())
            out.copy_(logits.argmax(-1))

        s = torch.cuda.Stream()
        # The inputs above were written on the default stream: the side stream must wait for them.
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                step()
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, stream=s):
            step()
        for _ in range(3):
            graph.replay()
        torch.cuda.synchronize()
        times = []
        for _ in range(a.reps):
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            graph.replay()
            e1.record()
            e1.synchronize()
            times.append(e0.elapsed_time(e1) * 1000.0)
        us = statistics.median(times)
        rows.append({"batch": b, "context": ctx, "median_us": round(us, 1)})
        print(f"batch {b:>4}  step {us:10.1f} us", flush=True)
        del k_cache, v_cache, graph
        torch.cuda.empty_cache()
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"device": props.name, "torch": torch.__version__, "layers": a.layers, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
