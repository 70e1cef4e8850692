// Decode attention variants timed on one shape, outside the engine: a CUDA program built by hand, not by the
// Maven build (the kernels it times come from decode_attention.cu; variants of their item loop and merge are
// written here). Build on a GPU host from the repository root:
//   nvcc -arch=sm_90a -O3 -std=c++17 -Ikernels/src/main/cuda -o /tmp/attn-variants kernels/experiments/decode_attention_variants.cu
// Run: /tmp/attn-variants BATCH CONTEXT [VARIANT [LAUNCHES]] (bf16 cache, 32 query heads, 8 kv heads, head dim
// 128, blocks of 16 positions, contexts all CONTEXT). Without VARIANT it times every variant (events around 40
// launches, 11 repetitions, median; inputs rotated over enough sets to pass L2) and compares each output with
// the first; with VARIANT and LAUNCHES it only launches that one LAUNCHES times (for ncu -k).
//
// Variants: df_decode_attention_d128 (split; with the combine launch where a pair has several chunks),
// df_decode_attention_persistent_d128 (grid = the CTA slots) and persistent@items (the same kernel, a CTA an
// item), xv_one_item_merge (a CTA an item, no loop, the merge in the launch). Two more were timed on
// 2026-12-08 and are in this file as of 552d5ba: the persistent loop without the static flag (decode_items'
// code since 69eef6d) and a pair's chunks as one thread-block cluster merging through distributed shared
// memory (not adopted). Results on an H100: kernels/NOTES.md.
#include "decode_attention.cu"
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#define CK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { fprintf(stderr, "%s: %s\n", #x, cudaGetErrorString(e_)); exit(1); } } while (0)

namespace xv {
// One item a CTA, no loop, the merge kept (grid = items).
template <int D>
__device__ __forceinline__ void one_item_merge(const DecodeAttentionParams& p) {
  extern __shared__ uint4 dynamic_smem[];
  bf16* smem = reinterpret_cast<bf16*>(dynamic_smem);
  const int group = p.qHeads / p.kvHeads;
  const int i = blockIdx.x;
  if (i >= p.numItems) return;
  const df::DecodeItem it = df::decode_item(p, i);
  df::process_item<D>(p, it, group, smem, true);
  if (it.nChunks > 1) df::merge_if_last<D>(p, it, group);
}
}  // namespace xv

extern "C" __global__ void __launch_bounds__(128, 2) xv_one_item_merge(const __grid_constant__ DecodeAttentionParams p) {
  xv::one_item_merge<128>(p);
}

__global__ void fill_bf16(bf16* x, size_t n, uint32_t seed) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
    uint32_t h = (uint32_t)i * 2654435761u ^ seed;
    h ^= h >> 15; h *= 2246822519u; h ^= h >> 13;
    x[i] = __float2bfloat16_rn(((h & 0xffff) / 65536.f - 0.5f) * 2.f);
  }
}

struct Var { const char* name; const void* fn; bool persistentGrid; bool combine; };

int main(int argc, char** argv) {
  const int B = argc > 1 ? atoi(argv[1]) : 64, ctx = argc > 2 ? atoi(argv[2]) : 1024;
  const char* only = argc > 3 ? argv[3] : nullptr;
  const int launchesArg = argc > 4 ? atoi(argv[4]) : 0;
  const int H = 32, KV = 8, D = 128, BS = 16, smemBytes = 3 * 2 * 64 * 128 * 2;
  int sms; CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  Var vars[] = {{"df_decode_attention_d128", (const void*)df_decode_attention_d128, false, true},
                {"df_decode_attention_persistent_d128", (const void*)df_decode_attention_persistent_d128, true, false},
                {"persistent@items", (const void*)df_decode_attention_persistent_d128, false, false},
                {"xv_one_item_merge", (const void*)xv_one_item_merge, false, false}};
  int slots = 0;
  for (auto& v : vars) {
    CK(cudaFuncSetAttribute(v.fn, cudaFuncAttributeMaxDynamicSharedMemorySize, smemBytes));
    int occ; CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&occ, v.fn, 128, smemBytes));
    cudaFuncAttributes a; CK(cudaFuncGetAttributes(&a, v.fn));
    printf("# %-36s occupancy %d/SM regs %d static smem %zu local %zu\n", v.name, occ, a.numRegs, a.sharedSizeBytes, a.localSizeBytes);
    if (slots == 0) slots = occ * sms;
  }
  CK(cudaFuncSetAttribute((const void*)df_decode_attention_combine_d128, cudaFuncAttributeMaxDynamicSharedMemorySize, (32 + 64 * 16) * 4));
  // The plan (DecodeAttentionPlan): chunk count per pair.
  const int pairs = B * KV;
  int chunk;
  if (pairs < slots) {
    int n = std::max(1, slots / pairs);
    chunk = ((ctx + n - 1) / n + 63) / 64 * 64;
  } else {
    double best = 1e30; chunk = (ctx + 63) / 64 * 64;
    for (int n = 1; n <= 4; n++) {
      int c = ((ctx + n - 1) / n + 63) / 64 * 64;
      int nc = (ctx + c - 1) / c;
      double cost = (double)((pairs * nc + slots - 1) / slots) * c * (1 + 0.02 * (n - 1));
      if (cost < best) { best = cost; chunk = c; }
    }
  }
  const int nChunks = (ctx + chunk - 1) / chunk, items = pairs * nChunks;
  std::vector<int> work;
  for (int c = 0; c < nChunks; c++)  // longest first: the last chunk may be short
    for (int s = 0; s < B; s++) for (int h = 0; h < KV; h++) { work.push_back(s); work.push_back(h); work.push_back(c); work.push_back(0); }
  if (nChunks > 1 && ctx % chunk) {  // move the short last chunks to the end
    std::vector<int> a, z;
    for (size_t i = 0; i < work.size(); i += 4) (work[i + 2] == nChunks - 1 ? z : a).insert((work[i + 2] == nChunks - 1 ? z : a).end(), work.begin() + i, work.begin() + i + 4);
    work = a; work.insert(work.end(), z.begin(), z.end());
  }
  std::vector<int> base(B);
  for (int s = 0; s < B; s++) base[s] = nChunks > 1 ? s * KV * nChunks : -1;
  const int pagesPerSeq = (ctx + BS - 1) / BS;
  const size_t kvBytes = 2ull * B * ctx * KV * D * 2;
  const int sets = (int)std::max<size_t>(1, std::min<size_t>(64, ((256ull << 20) + kvBytes - 1) / kvBytes));  // past L2
  const size_t pages = (size_t)sets * B * pagesPerSeq;
  printf("# batch %d ctx %d slots %d chunk %d items %d sets %d KV %.1f MB\n", B, ctx, slots, chunk, items, sets, kvBytes / 1e6);
  bf16 *k, *v, *q, *out; int *tables, *ctxs, *dwork, *dbase, *counters; float *po, *pl;
  CK(cudaMalloc(&k, pages * BS * KV * D * 2)); CK(cudaMalloc(&v, pages * BS * KV * D * 2));
  CK(cudaMalloc(&q, (size_t)B * H * D * 2)); CK(cudaMalloc(&out, (size_t)B * H * D * 2));
  fill_bf16<<<1024, 256>>>(k, pages * BS * KV * D, 1); fill_bf16<<<1024, 256>>>(v, pages * BS * KV * D, 2);
  fill_bf16<<<64, 256>>>(q, (size_t)B * H * D, 3);
  std::vector<int> perm(pages); for (size_t i = 0; i < pages; i++) perm[i] = (int)i;
  std::shuffle(perm.begin(), perm.end(), std::mt19937(7));
  CK(cudaMalloc(&tables, pages * 4)); CK(cudaMemcpy(tables, perm.data(), pages * 4, cudaMemcpyHostToDevice));
  std::vector<int> cl(B, ctx);
  CK(cudaMalloc(&ctxs, B * 4)); CK(cudaMemcpy(ctxs, cl.data(), B * 4, cudaMemcpyHostToDevice));
  CK(cudaMalloc(&dwork, work.size() * 4)); CK(cudaMemcpy(dwork, work.data(), work.size() * 4, cudaMemcpyHostToDevice));
  CK(cudaMalloc(&dbase, B * 4)); CK(cudaMemcpy(dbase, base.data(), B * 4, cudaMemcpyHostToDevice));
  CK(cudaMalloc(&counters, (2 + B * KV) * 4)); CK(cudaMemset(counters, 0, (2 + B * KV) * 4));
  CK(cudaMalloc(&po, (size_t)std::max(1, B * KV * nChunks) * 4 * D * 4)); CK(cudaMalloc(&pl, (size_t)std::max(1, B * KV * nChunks) * 4 * 4));
  std::vector<DecodeAttentionParams> ps(sets);
  for (int s = 0; s < sets; s++) {
    DecodeAttentionParams& p = ps[s];
    memset(&p, 0, sizeof p);
    p.out = out; p.q = q; p.kCache = k; p.vCache = v; p.blockTables = tables + (size_t)s * B * pagesPerSeq;
    p.contextLens = ctxs; p.workItems = dwork; p.partialBase = dbase; p.partialOut = po; p.partialLse = pl; p.counters = counters;
    p.batch = B; p.qHeads = H; p.kvHeads = KV; p.headDim = D; p.blockSize = BS; p.blockShift = 4; p.blockTableStride = pagesPerSeq;
    p.chunkTokens = chunk; p.numItems = items; p.scaleLog2 = 1.4426950f / sqrtf((float)D); p.kScale = 1.f; p.vScale = 1.f;
  }
  cudaStream_t st; CK(cudaStreamCreate(&st));
  cudaEvent_t e0, e1; CK(cudaEventCreate(&e0)); CK(cudaEventCreate(&e1));
  std::vector<uint16_t> first;
  auto bf = [](uint16_t b) { uint32_t u = (uint32_t)b << 16; float f; memcpy(&f, &u, 4); return f; };
  auto report = [&](const char* name, int grid, std::vector<float>& t) {
    std::sort(t.begin(), t.end());
    std::vector<uint16_t> o((size_t)B * H * D); CK(cudaMemcpy(o.data(), out, o.size() * 2, cudaMemcpyDeviceToHost));
    if (first.empty()) first = o;
    double md = 0, mr = 0;
    for (size_t i = 0; i < o.size(); i++) { md = std::max(md, (double)fabsf(bf(o[i]) - bf(first[i]))); mr = std::max(mr, (double)fabsf(bf(first[i]))); }
    printf("%-36s grid %5d  median %9.2f us  min %9.2f  %6.3f TB/s  max|diff| %.3g of max %.3g%s\n", name, grid, t[t.size() / 2], t[0],
           kvBytes / (t[t.size() / 2] * 1e-6) / 1e12, md, mr, md != md || md > 2e-2 * mr ? "  MISMATCH" : "");
  };
  auto timeit = [&](auto launch) {
    for (int i = 0; i < 30; i++) launch(i);
    const int per = 40; std::vector<float> t;
    for (int r = 0; r < 11; r++) {
      CK(cudaEventRecord(e0, st));
      for (int i = 0; i < per; i++) launch(i);
      CK(cudaEventRecord(e1, st)); CK(cudaEventSynchronize(e1));
      float ms; CK(cudaEventElapsedTime(&ms, e0, e1)); t.push_back(ms * 1000.f / per);
    }
    return t;
  };
  CK(cudaMemset(out, 0xff, (size_t)B * H * D * 2));
  for (auto& var : vars) {
    if (only && strcmp(only, var.name) != 0) continue;
    const int grid = var.persistentGrid ? std::min(slots, items) : items;
    auto launch = [&](int i) {
      void* args[] = {(void*)&ps[i % sets]};
      CK(cudaLaunchKernel(var.fn, dim3(grid), dim3(128), args, smemBytes, st));
      if (var.combine && nChunks > 1) CK(cudaLaunchKernel((const void*)df_decode_attention_combine_d128, dim3(KV, B), dim3(128), args, (32 + 64 * 16) * 4, st));
    };
    if (only && launchesArg > 0) { for (int i = 0; i < launchesArg; i++) launch(i); CK(cudaStreamSynchronize(st)); continue; }
    std::vector<float> t = timeit(launch);
    report(var.name, grid, t);
  }
  CK(cudaDeviceSynchronize());
  return 0;
}
