// FP8 GEMV for decode at one row (W8A16): out = (x · e4m3(w)ᵀ) * scale[row] with x one bf16 row.
// At one row the MMA kernels (skinny_gemm_fp8.cu, skinny2_gemm_fp8.cu) spend a 16 × 8 tensor-core
// tile on a single product row, stage the codes through shared memory, split k over several CTAs and
// sum float32 partials in a second phase; their fixed cost (ramp, split sum) is what kept the FP8
// projections of a batch-1 step at 1.4–2.4 TB/s of codes on an H100 where a copy runs at 3.0.
//
// Here a warp owns whole weight rows, so there is no split and no second phase:
//   - x is widened once per CTA into shared memory as float32 (k rounded up to 512, 4 bytes each),
//     laid out so that a warp's reads are conflict-free (gemv_fp8_x_at).
//   - Lane l of a warp reads 16-byte vectors l, l + 32, l + 64, ... of its row straight into
//     registers (streaming loads, kBatch vectors = 128 bytes in flight per lane at a time; many warps
//     an SM keep the DRAM queue full), widens each code to float32 with integer operations only and
//     multiplies it by x with float32 FMAs into four independent accumulators.
//   - The warp sums its lanes with shuffles and lane 0 writes the row, times its scale.
// Widening (fp8.cuh's bit layout): a code's seven magnitude bits and its sign, moved into a bf16's
// bit positions, give the code's value times 2^-120 for normal and subnormal codes alike; a bf16 in
// the high half of a 32-bit word is that float32. So codes 0 and 2 of a word come from one shift-and-
// mask pass, codes 1 and 3 from another, and each float is one more shift or mask: 2.25 integer
// operations a code, no conversion instruction. The sum is taken in that scaled domain (float32
// keeps subnormal products: no flush-to-zero in this build) and multiplied by 2^120 with the scale.
// Weights fetched before the wait: where earlyWeights is set (resident codes), each warp issues the
// loads of its first batch before pdl_entry, so they overlap the previous launch's tail.
// gemv_fp8_mma.cu computes the same product on the tensor cores with fewer instructions a code.
// SwiGLU behind (swigluOut set): the rows are a gate_up projection's, gate rows [0, n / 2) then up rows
// [n / 2, n); a warp takes row j and row j + n / 2 and writes out[j] = silu(g) * u, g and u being the two
// products rounded to bf16 (as the projection would have stored them) and the result computed as
// swiglu.cu computes it: the SwiGLU kernel's row, one launch fewer.
// RMSNorm in front (normWeight set): x is the delta added to the residual stream, and the row multiplied
// is rmsnorm.cu's fused norm of residual + x, computed as it computes it (same threads, same sum order,
// same roundings: the same row). Every CTA computes the row; CTA 0 also writes the new residual stream, to
// residualOut, which must not be residual (other CTAs may still be reading it).
// Variant: df_gemv_fp8_m1. Layouts: x (1, k) bf16 (and residual, residualOut, normWeight (1, k) bf16
// where set); w (n, k) e4m3, k a multiple of 16 and w 16-byte aligned; scale (n) float32; out (1,
// outStride) bf16 or float32 (with SwiGLU behind: (1, n / 2) bf16, n even). Grid: (min(ceil(tasks / 8),
// slots)), tasks being the rows (or row pairs with SwiGLU behind), slots the CTAs that fit at this launch's
// shared memory; block 256 threads (8 warps; warp g of the grid takes tasks g, g + 8 * gridDim.x, ...), dynamic
// shared memory ceil(k / 512) * 2048 bytes (whole groups of 32 vectors: gemv_fp8_x_at), k <= kGemvFp8MaxK.
#include "fp8.cuh"  // and rmsnorm.cu, swiglu.cu and skinny_gemm.cu (decodefleet.cu includes them first):
                    // add_and_square, swiglu1, skinny_store

struct GemvFp8Params {
  bf16* out;               // (1, outStride) bf16, or float32 when outFloat
  const bf16* x;           // (1, k) bf16: the row, or the norm's delta where normWeight is set
  bf16* residualOut;       // norm in front: (1, k) bf16, the residual stream after the add (CTA 0 writes it)
  const bf16* residual;    // norm in front: (1, k) bf16, the residual stream x is added to
  const bf16* normWeight;  // norm in front: (k) bf16, the RMSNorm weight; null: no norm
  const uint8_t* w;        // (n, k) e4m3
  const float* scale;      // (n) float32
  int n;
  int k;                   // multiple of 16, at most kGemvFp8MaxK
  int outStride;
  int outFloat;            // 1: out is float32
  int earlyWeights;        // 1: w is resident: the first batch is loaded before the wait
  float eps;               // norm in front: RMSNorm's epsilon
  int swigluOut;           // 1: SwiGLU behind: out (1, n / 2) bf16 is silu(rows [0, n/2)) * rows [n/2, n)
  int taskWarps;           // df_gemv_fp8_mma_m1: warps that share a task of 8 rows (1, 2, 4 or 8); 0 here
  int bf16Weights;         // 1: w is (n, k) bf16 and scale unused (df_gemv_bf16_mma_m1 only); 0 here
  int xCodes;              // 1: the row quantized to e4m3 per token in the CTA (df_gemv_fp8x8_mma_m1 only); 0 here
};
DF_PARAMS_SIZE(GemvFp8Params, 96);

namespace df {

constexpr int kGemvFp8Threads = 256;
constexpr int kGemvFp8Batch = 8;       // 16-byte vectors a lane loads at once
constexpr int kGemvFp8MaxK = 16384;    // x as float32 in at most 64 KiB of shared memory

// A row's batch b: the vectors b * 32 * kBatch + 32 u + lane of the row, zero past the row's end.
__device__ __forceinline__ void gemv_fp8_load(const GemvFp8Params& p, int row, int b, int lane,
                                              uint4 (&c)[kGemvFp8Batch]) {
  const int vectors = p.k >> 4;
  const uint4* base = reinterpret_cast<const uint4*>(p.w + static_cast<size_t>(row) * p.k);
#pragma unroll
  for (int u = 0; u < kGemvFp8Batch; u++) {
    const int v = (b * kGemvFp8Batch + u) * 32 + lane;
    c[u] = v < vectors ? __ldcs(base + v) : make_uint4(0u, 0u, 0u, 0u);
  }
}

// acc += (4 codes of word c) · (x[0..3]), the codes scaled by 2^-120.
__device__ __forceinline__ void gemv_fp8_word(uint32_t c, const float4 x, float (&acc)[4]) {
  const uint32_t even = ((c << 4) & 0x07f007f0u) | ((c << 8) & 0x80008000u);  // codes 0 and 2 as bf16
  const uint32_t odd = ((c >> 4) & 0x07f007f0u) | (c & 0x80008000u);         // codes 1 and 3
  acc[0] = fmaf(__uint_as_float(even << 16), x.x, acc[0]);
  acc[1] = fmaf(__uint_as_float(odd << 16), x.y, acc[1]);
  acc[2] = fmaf(__uint_as_float(even & 0xffff0000u), x.z, acc[2]);
  acc[3] = fmaf(__uint_as_float(odd & 0xffff0000u), x.w, acc[3]);
}

// Where quarter j (x[16v + 4j .. + 3]) of vector v's x lies in shared memory, in float4s: the four
// quarters of 32 consecutive vectors are stored quarter by quarter, so a warp's 32 lanes (vectors
// 32w .. 32w + 31) read 512 consecutive bytes for each quarter: no bank conflicts. (Vector by vector,
// lanes 64 bytes apart would hit two banks' worth of addresses: 16-way conflicts.)
__device__ __forceinline__ int gemv_fp8_x_at(int v, int j) {
  return ((v >> 5) * 4 + j) * 32 + (v & 31);
}

__device__ __forceinline__ void gemv_fp8_batch(const float4* xs, int b, int lane, int vectors,
                                               const uint4 (&c)[kGemvFp8Batch], float (&acc)[4]) {
#pragma unroll
  for (int u = 0; u < kGemvFp8Batch; u++) {
    const int v = (b * kGemvFp8Batch + u) * 32 + lane;
    if (v < vectors) {
      gemv_fp8_word(c[u].x, xs[gemv_fp8_x_at(v, 0)], acc);
      gemv_fp8_word(c[u].y, xs[gemv_fp8_x_at(v, 1)], acc);
      gemv_fp8_word(c[u].z, xs[gemv_fp8_x_at(v, 2)], acc);
      gemv_fp8_word(c[u].w, xs[gemv_fp8_x_at(v, 3)], acc);
    }
  }
}

// 8 bf16 of x (vector i / 2's quarters 2 (i % 2) and 2 (i % 2) + 1) into shared memory as float32.
__device__ __forceinline__ void gemv_fp8_stage(float4* xs, int i, const uint4 v) {
  const int vec = i >> 1, j = (i & 1) * 2;
  xs[gemv_fp8_x_at(vec, j)] = make_float4(bf16_lo(v.x), bf16_hi(v.x), bf16_lo(v.y), bf16_hi(v.y));
  xs[gemv_fp8_x_at(vec, j + 1)] = make_float4(bf16_lo(v.z), bf16_hi(v.z), bf16_lo(v.w), bf16_hi(v.w));
}

// The row as rmsnorm.cu's fused norm makes it: r = bf16(residual + x) (CTA 0 writes r to residualOut),
// then bf16(r * rsqrt(mean(r^2) + eps) * weight), staged as float32. Thread t takes vectors t, t + 256,
// ... and the block sums the squares as the norm kernel's 256 threads do. r waits in shared memory
// (each thread reads back only what it wrote) while the block sums.
__device__ __forceinline__ void gemv_fp8_stage_norm(const GemvFp8Params& p, float4* xs) {
  __shared__ float scratch[32];
  const uint4* xg = reinterpret_cast<const uint4*>(p.x);
  const uint4* rg = reinterpret_cast<const uint4*>(p.residual);
  uint4* ro = reinterpret_cast<uint4*>(p.residualOut);
  const int vectors = p.k >> 3;
  float ss = 0.f;
  for (int i = threadIdx.x; i < vectors; i += kGemvFp8Threads) {
    uint4 v = xg[i];
    ss += add_and_square(v, rg[i]);  // rmsnorm.cu: v = bf16(x + residual), the squares of the rounded sum
    if (blockIdx.x == 0) ro[i] = v;
    gemv_fp8_stage(xs, i, v);
  }
  ss = block_sum(ss, scratch);
  const float inv = rsqrtf(ss / static_cast<float>(p.k) + p.eps);
  const uint4* weight = reinterpret_cast<const uint4*>(p.normWeight);
  for (int i = threadIdx.x; i < vectors; i += kGemvFp8Threads) {
    const int vec = i >> 1, j = (i & 1) * 2;
    const float4 a = xs[gemv_fp8_x_at(vec, j)], b = xs[gemv_fp8_x_at(vec, j + 1)];
    float f[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w}, wn[8];
    unpack8(weight[i], wn);
#pragma unroll
    for (int e = 0; e < 8; e++) f[e] = (f[e] * inv) * wn[e];
    gemv_fp8_stage(xs, i, pack8(f));
  }
}

// Row `row` of the product, x · codes * 2^120 * scale[row], in every lane of the warp; `preloaded`: its first
// batch is already in c.
__device__ __forceinline__ float gemv_fp8_row(const GemvFp8Params& p, const float4* xs, int row, int lane, int batches,
                                              int vectors, uint4 (&c)[kGemvFp8Batch], bool preloaded) {
  float acc[4] = {0.f, 0.f, 0.f, 0.f};
  for (int b = 0; b < batches; b++) {
    if (!(preloaded && b == 0)) gemv_fp8_load(p, row, b, lane, c);
    gemv_fp8_batch(xs, b, lane, vectors, c, acc);
  }
  float sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
  return sum * 0x1p120f * p.scale[row];
}

__device__ __forceinline__ void gemv_fp8(const GemvFp8Params& p) {
  extern __shared__ float4 gemv_smem[];
  float4* xs = gemv_smem;
  const int lane = threadIdx.x & 31;
  const int warps = gridDim.x * (kGemvFp8Threads / 32);
  const int firstRow = blockIdx.x * (kGemvFp8Threads / 32) + (threadIdx.x >> 5);
  const int vectors = p.k >> 4;
  const int batches = (vectors + 32 * kGemvFp8Batch - 1) / (32 * kGemvFp8Batch);

  uint4 c[kGemvFp8Batch];
  // Tasks: a row each, or with SwiGLU behind a (gate, up) pair of rows each.
  const int half = p.n >> 1;
  const int tasks = p.swigluOut ? half : p.n;
  const bool early = p.earlyWeights != 0 && firstRow < tasks;
  if (early) gemv_fp8_load(p, firstRow, 0, lane, c);
  pdl_entry();
  // x to float32 in shared memory: 8 bf16 (one 16-byte load, quarters 2h and 2h + 1 of vector i / 2) a
  // thread at a time; k is a multiple of 16.
  if (p.normWeight != nullptr) {
    gemv_fp8_stage_norm(p, xs);
  } else {
    const uint4* xg = reinterpret_cast<const uint4*>(p.x);
    for (int i = threadIdx.x; i < (p.k >> 3); i += kGemvFp8Threads) gemv_fp8_stage(xs, i, xg[i]);
  }
  __syncthreads();

  for (int t = firstRow; t < tasks; t += warps) {
    const float g = gemv_fp8_row(p, xs, t, lane, batches, vectors, c, early && t == firstRow);
    if (!p.swigluOut) {
      if (lane == 0) skinny_store(p, t, g);  // skinny_gemm.cu: bf16 or float32
      continue;
    }
    const float u = gemv_fp8_row(p, xs, t + half, lane, batches, vectors, c, false);
    if (lane == 0) {  // swiglu.cu's operation on the bf16 the projection would have stored
      p.out[t] = __float2bfloat16_rn(swiglu1(__bfloat162float(__float2bfloat16_rn(g)),
                                             __bfloat162float(__float2bfloat16_rn(u))));
    }
  }
}

}  // namespace df

// Four CTAs an SM (64 registers).
extern "C" __global__ void __launch_bounds__(df::kGemvFp8Threads, 4)
    df_gemv_fp8_m1(const __grid_constant__ GemvFp8Params p) {
  df::gemv_fp8(p);
}
