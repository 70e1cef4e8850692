// Paged attention for any head dim up to 256: row r of q, query head h, attends to the first
// contextLens[r] positions of block table r through kv head h / (qHeads / kvHeads), as the CPU
// reference io.decodefleet.kernels.reference.PagedAttention does. It serves head dims the
// tensor-core attention kernels do not cover (the `tiny` preset's 32), decode and prefill rows
// alike, and is a plain cross-check for the ones they do.
//
// Variants: df_paged_attention over a bf16 cache; df_paged_attention_fp8 over an FP8 e4m3fn cache
// (the CPU reference's PagedAttention.forwardFp8), each element decoded exactly (cvt to half) and
// multiplied by its cache's scale (kScale for K, vScale for V) as it is read. A CTA takes one (row, query head); its 4 warps take positions w, w + 4,
// ...: per position the warp forms q·k with one reduction (lane l owns dims l, l + 32, ...),
// updates its float32 running softmax and accumulates p·v; the warps' states are merged at the
// end. One position per warp step: slow, simple, float32 throughout.
// Layouts: q, out (rows, qHeads, headDim) bf16; kCache, vCache (numBlocks, blockSize, kvHeads,
// headDim) bf16, or e4m3 codes in the FP8 variant; blockTables (rows, stepDims[2]) int32; contextLens (rows) int32 >= 1. The
// block-table stride is read from device memory (stepDims, written with each step's inputs) so a
// captured CUDA graph follows the step's stride.
// Grid: (rows, qHeads); block: 128 threads; no dynamic shared memory.
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include "common.cuh"

struct PagedAttentionParams {
  bf16* out;             // (rows, qHeads, headDim) bf16
  const bf16* q;         // (rows, qHeads, headDim) bf16
  const bf16* kCache;    // (numBlocks, blockSize, kvHeads, headDim) bf16
  const bf16* vCache;    // (numBlocks, blockSize, kvHeads, headDim) bf16
  const int* blockTables;  // (rows, stepDims[2]) int32
  const int* contextLens;  // (rows) int32
  const int* stepDims;   // (4) int32: numItems, chunkTokens, blockTableStride, 0
  int rows;
  int qHeads;
  int kvHeads;
  int headDim;
  int blockSize;
  float scale;
};
DF_PARAMS_SIZE(PagedAttentionParams, 80);

struct PagedAttentionFp8Params {
  bf16* out;             // (rows, qHeads, headDim) bf16
  const bf16* q;         // (rows, qHeads, headDim) bf16
  const uint8_t* kCache;   // (numBlocks, blockSize, kvHeads, headDim) e4m3
  const uint8_t* vCache;   // (numBlocks, blockSize, kvHeads, headDim) e4m3
  const int* blockTables;  // (rows, stepDims[2]) int32
  const int* contextLens;  // (rows) int32
  const int* stepDims;   // (4) int32: numItems, chunkTokens, blockTableStride, 0
  int rows;
  int qHeads;
  int kvHeads;
  int headDim;
  int blockSize;
  float scale;
  float kScale;          // a K element is e4m3(code) * kScale
  float vScale;          // a V element is e4m3(code) * vScale
};
DF_PARAMS_SIZE(PagedAttentionFp8Params, 88);

namespace df {

constexpr int kPagedThreads = 128;
constexpr int kPagedWarps = kPagedThreads / 32;
constexpr int kPagedMaxDim = 256;
constexpr int kPagedPerLane = kPagedMaxDim / 32;

// One cache element as float32: bf16 widened, or an e4m3 code decoded exactly times its scale.
__device__ __forceinline__ float kv_value(const bf16* cache, size_t i, float) {
  return __bfloat162float(cache[i]);
}
__device__ __forceinline__ float kv_value(const uint8_t* cache, size_t i, float scale) {
  const __half_raw h = __nv_cvt_fp8_to_halfraw(static_cast<__nv_fp8_storage_t>(cache[i]), __NV_E4M3);
  return __half2float(*reinterpret_cast<const __half*>(&h)) * scale;
}
__device__ __forceinline__ float k_scale(const PagedAttentionParams&) { return 1.f; }
__device__ __forceinline__ float v_scale(const PagedAttentionParams&) { return 1.f; }
__device__ __forceinline__ float k_scale(const PagedAttentionFp8Params& p) { return p.kScale; }
__device__ __forceinline__ float v_scale(const PagedAttentionFp8Params& p) { return p.vScale; }

template <typename P>
__device__ __forceinline__ void paged_attention_head(const P& p) {
  __shared__ float sMax[kPagedWarps];
  __shared__ float sSum[kPagedWarps];
  __shared__ float sOut[kPagedWarps][kPagedMaxDim];
  const int r = blockIdx.x, h = blockIdx.y;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int D = p.headDim;
  const int kvHead = h / (p.qHeads / p.kvHeads);
  const int ctx = p.contextLens[r];
  const int* table = p.blockTables + static_cast<size_t>(r) * p.stepDims[2];
  const bf16* qRow = p.q + (static_cast<size_t>(r) * p.qHeads + h) * D;

  float qv[kPagedPerLane], acc[kPagedPerLane];
#pragma unroll
  for (int i = 0; i < kPagedPerLane; i++) {
    const int d = lane + 32 * i;
    qv[i] = d < D ? __bfloat162float(qRow[d]) : 0.f;
    acc[i] = 0.f;
  }
  float m = DF_NEG_INF, l = 0.f;
  for (int t = warp; t < ctx; t += kPagedWarps) {
    const int page = table[t / p.blockSize];
    const size_t base =
        ((static_cast<size_t>(page) * p.blockSize + t % p.blockSize) * p.kvHeads + kvHead) * D;
    float s = 0.f;
#pragma unroll
    for (int i = 0; i < kPagedPerLane; i++) {
      const int d = lane + 32 * i;
      if (d < D) s += qv[i] * kv_value(p.kCache, base + d, k_scale(p));
    }
    s = warp_sum(s) * p.scale;
    const float mNew = fmaxf(m, s);
    const float alpha = m == DF_NEG_INF ? 0.f : expf(m - mNew);
    const float e = expf(s - mNew);
    l = l * alpha + e;
#pragma unroll
    for (int i = 0; i < kPagedPerLane; i++) {
      const int d = lane + 32 * i;
      if (d < D) acc[i] = acc[i] * alpha + e * kv_value(p.vCache, base + d, v_scale(p));
    }
    m = mNew;
  }
  if (lane == 0) {
    sMax[warp] = m;
    sSum[warp] = l;
  }
#pragma unroll
  for (int i = 0; i < kPagedPerLane; i++) {
    const int d = lane + 32 * i;
    if (d < D) sOut[warp][d] = acc[i];
  }
  __syncthreads();
  bf16* out = p.out + (static_cast<size_t>(r) * p.qHeads + h) * D;
  for (int d = threadIdx.x; d < D; d += kPagedThreads) {
    float M = DF_NEG_INF;
#pragma unroll
    for (int w = 0; w < kPagedWarps; w++) M = fmaxf(M, sMax[w]);
    float L = 0.f, O = 0.f;
#pragma unroll
    for (int w = 0; w < kPagedWarps; w++) {
      // A warp that saw no position (context shorter than 4) has max -inf and weight 0.
      const float f = sMax[w] == DF_NEG_INF ? 0.f : expf(sMax[w] - M);
      L += f * sSum[w];
      O += f * sOut[w][d];
    }
    out[d] = __float2bfloat16_rn(O / L);
  }
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::kPagedThreads)
    df_paged_attention(const __grid_constant__ PagedAttentionParams p) {
  df::pdl_entry();
  df::paged_attention_head(p);
}

extern "C" __global__ void __launch_bounds__(df::kPagedThreads)
    df_paged_attention_fp8(const __grid_constant__ PagedAttentionFp8Params p) {
  df::pdl_entry();
  df::paged_attention_head(p);
}
