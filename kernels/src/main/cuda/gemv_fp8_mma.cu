// FP8 GEMV for decode at one row on the tensor cores: the product of gemv_fp8.cu (out = (x · e4m3(w)ᵀ) *
// scale[row], with its norm in front and SwiGLU behind), the codes widened into MMA fragments instead of
// multiplied into float32 one by one.
// Why: gemv_fp8.cu spends about 14 instructions a 32-bit word of codes (widening, four conversions to float,
// four FMAs, a shared-memory read of x). An H100 streams a gate_up projection's codes at 2.7 TB/s with its
// schedulers issuing every other cycle; an H200, whose memory is 1.4x faster, ran the same kernel at about the
// same rate, so issue was the suspect. Here a word costs the bit move and two bf16x2 multiplies (fp8.cuh: the
// codes times 2^-120, then times 2^120, exact, subnormal codes made normal) and one m16n8k16 MMA, about 8
// instructions. Measured on an H200 (kernels/NOTES.md): faster where a warp streams one to four batches (qkv,
// down) and in the batch-1 step, slower on gate_up's long slices (one batch in flight a warp).
//
// Work. A task is 8 weight rows (with SwiGLU behind: 8 gate rows and the 8 up rows n / 2 further). W =
// p.taskWarps warps (1, 2, 4 or 8) share a task, each taking k / W consecutive codes of its rows (its slice),
// and the task's first warp sums the W partial rows in warp order (deterministic). The 8 warps of a CTA are
// 8 / W groups; group j of CTA b takes tasks b * (8 / W) + j, then every (gridDim.x * 8 / W)-th, in rounds that
// end at a CTA barrier (where the partials change hands). The host picks W to load the busiest SM least over
// all rounds (GemvFp8Params.plan, balancedTaskWarps).
// In a warp, lane (g = lane / 4, q = lane % 4) reads row g of the task: 16 codes at bytes 64 c + 16 q of the
// slice for chunk c, kGemvMmaBatch chunks in flight. Each 32-bit word j of them is one m16n8k16 MMA: B (16 x 8)
// holds the 8 rows' words j (lane (g, q): codes 0 and 2 at k = 2q, 2q + 1, codes 1 and 3 at 2q + 8, 2q + 9),
// A (16 x 16) holds x at the same positions in all 16 rows, so every row of the product is the task's 8 dot
// products (lanes 0..3 keep row 0: rows 2q and 2q + 1 of the task).
// x waits in shared memory as bf16, each group of four elements stored as (0, 2, 1, 3): lane q's A registers
// for the four words of a chunk are 32 consecutive bytes (two 16-byte reads, the same for all eight g: a
// broadcast, no bank conflict). RMSNorm in front is rmsnorm.cu's row (same threads, same sum, same
// roundings), as in gemv_fp8.cu.
// Variants: df_gemv_fp8_mma_m1 (codes, k a multiple of 512) and df_gemv_bf16_mma_m1 (bf16 weights, bf16Weights
// set, no scales, k a multiple of 256: a chunk is 32 weights, each 16 bytes two MMAs on the weights as they are,
// x staged in order), GemvFp8Params with taskWarps set; df_gemv_fp8x8_mma_m1 (xCodes set, fp8-dynamic): the row,
// staged in order as bf16 (normed where the norm is in front), is quantized to e4m3 in the CTA as
// df_fp8_quantize_rows does (scale = amax / 448, 1 for zeros; the same for every CTA), and each lane's 16
// codes of a chunk are two m16n8k32 e4m3 x e4m3 MMAs with x's codes at the same bytes: no widening. The
// product is scaled by x's scale and the row's.
// The task rows (n, or n / 2 with SwiGLU behind) a multiple of 8, k <= kGemvFp8MaxK. Grid: (ctas), block 256,
// dynamic shared memory k * 2 bytes (k * 3 for the x-codes kernel: the bf16 row, then its codes).
#include "fp8.cuh"  // and gemv_fp8.cu (decodefleet.cu includes it first): GemvFp8Params, add_and_square,
                    // swiglu1, skinny_store

namespace df {

constexpr int kGemvMmaThreads = 256;
constexpr int kGemvMmaWarps = kGemvMmaThreads / 32;
constexpr int kGemvMmaRows = 8;    // weight rows of a task (of each half with SwiGLU behind)
constexpr int kGemvMmaBatch = 8;   // 16-byte chunks a lane loads at once

// A chunk is 64 bytes of a row (4 lanes x 16): 64 codes, or 32 bf16 weights (df_gemv_bf16_mma_m1).
template <bool kBf16>
struct GemvMmaWeights {
  static constexpr int kChunk = kBf16 ? 32 : 64;  // weights of a row one chunk covers
  static constexpr int kBytes = kBf16 ? 2 : 1;    // bytes a weight
  static constexpr int kLane = 16 / kBytes;       // weights of a chunk's row a lane reads
};

// Eight bf16 (elements 0..7 of one 16-byte vector) in the staged order (0, 2, 1, 3, 4, 6, 5, 7); applied
// twice it gives the vector back.
__device__ __forceinline__ uint4 gemv_mma_order(const uint4 v) {
  return make_uint4(__byte_perm(v.x, v.y, 0x5410), __byte_perm(v.x, v.y, 0x7632),
                    __byte_perm(v.z, v.w, 0x5410), __byte_perm(v.z, v.w, 0x7632));
}

// rmsnorm.cu's normed pair: bf16((r * inv) * weight) of two bf16 (a word at a time keeps the registers that the
// early weights hold free).
__device__ __forceinline__ uint32_t gemv_mma_norm2(uint32_t r, uint32_t weight, float inv) {
  return pack_bf16x2((bf16_lo(r) * inv) * bf16_lo(weight), (bf16_hi(r) * inv) * bf16_hi(weight));
}

// A staged vector of x: in the staged order over codes; as it is over bf16 weights (a lane's A registers are
// then the chunk's 8 elements in order).
template <bool kBf16>
__device__ __forceinline__ uint4 gemv_mma_staged(const uint4 v) {
  return kBf16 ? v : gemv_mma_order(v);
}

// x, or rmsnorm.cu's row of residual + x where the norm is in front, into shared memory as bf16 (in the staged
// order over codes). Thread t takes vectors t, t + 256, ... (the norm kernel's threads); r waits in shared
// memory in element order (each thread reads back only what it wrote) while the block sums its squares.
template <bool kBf16>
__device__ __forceinline__ void gemv_mma_stage(const GemvFp8Params& p, uint4* xs) {
  const uint4* xg = reinterpret_cast<const uint4*>(p.x);
  const int vectors = p.k >> 3;
  if (p.normWeight == nullptr) {
    for (int i = threadIdx.x; i < vectors; i += kGemvMmaThreads) xs[i] = gemv_mma_staged<kBf16>(xg[i]);
    return;
  }
  __shared__ float scratch[32];
  const uint4* rg = reinterpret_cast<const uint4*>(p.residual);
  uint4* ro = reinterpret_cast<uint4*>(p.residualOut);
  float ss = 0.f;
  for (int i = threadIdx.x; i < vectors; i += kGemvMmaThreads) {
    uint4 v = xg[i];
    ss += add_and_square(v, rg[i]);  // rmsnorm.cu: v = bf16(x + residual), the squares of the rounded sum
    if (blockIdx.x == 0) ro[i] = v;
    xs[i] = v;
  }
  ss = block_sum(ss, scratch);
  const float inv = rsqrtf(ss / static_cast<float>(p.k) + p.eps);
  const uint4* weight = reinterpret_cast<const uint4*>(p.normWeight);
  for (int i = threadIdx.x; i < vectors; i += kGemvMmaThreads) {
    const uint4 r = xs[i], wn = weight[i];
    xs[i] = gemv_mma_staged<kBf16>(make_uint4(gemv_mma_norm2(r.x, wn.x, inv), gemv_mma_norm2(r.y, wn.y, inv),
                                              gemv_mma_norm2(r.z, wn.z, inv), gemv_mma_norm2(r.w, wn.w, inv)));
  }
}

// Lane (g, q)'s chunks [0, count) of a batch: `at` points at its first chunk's 16 bytes.
__device__ __forceinline__ void gemv_mma_load(const uint8_t* at, int count, uint4 (&c)[kGemvMmaBatch]) {
  const uint4* v = reinterpret_cast<const uint4*>(at);
#pragma unroll
  for (int u = 0; u < kGemvMmaBatch; u++) {
    if (u < count) c[u] = __ldcs(v + u * 4);  // chunks are 64 bytes apart
  }
}

// acc += one MMA of word w (four codes of row g) against x at the same positions (x02: elements 0 and 2 of the
// word's four, x13: 1 and 3, as the staged order keeps them).
__device__ __forceinline__ void gemv_mma_word(uint32_t w, uint32_t x02, uint32_t x13, float (&acc)[4]) {
  const uint32_t even = ((w << 4) & 0x07f007f0u) | ((w << 8) & 0x80008000u);  // codes 0 and 2, times 2^-120
  const uint32_t odd = ((w >> 4) & 0x07f007f0u) | (w & 0x80008000u);         // codes 1 and 3
  constexpr uint32_t kTwoTo120 = 0x7b807b80u;                                 // bf16x2 (2^120, 2^120)
  uint32_t b0, b1;
  asm("mul.rn.bf16x2 %0, %1, %2;" : "=r"(b0) : "r"(even), "r"(kTwoTo120));
  asm("mul.rn.bf16x2 %0, %1, %2;" : "=r"(b1) : "r"(odd), "r"(kTwoTo120));
  const uint32_t a[4] = {x02, x02, x13, x13};
  mma_bf16(acc, a, b0, b1);
}

// acc += one MMA of two words of bf16 weights (elements 0, 1 and 2, 3 of four of row g) against x at the same
// positions (x01, x23: as staged, in order).
__device__ __forceinline__ void gemv_mma_bf16(uint32_t w01, uint32_t w23, uint32_t x01, uint32_t x23, float (&acc)[4]) {
  const uint32_t a[4] = {x01, x01, x23, x23};
  mma_bf16(acc, a, w01, w23);
}

// acc += one m16n8k32 MMA of words w0 (codes k 0..3 of lane q's slot) and w1 (16..19) against x's codes x0, x1
// at the same bytes (all 16 rows of A alike).
__device__ __forceinline__ void gemv_mma_e4m3(uint32_t w0, uint32_t w1, uint32_t x0, uint32_t x1, float (&acc)[4]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
      : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3])
      : "r"(x0), "r"(x0), "r"(x1), "r"(x1), "r"(w0), "r"(w1));
#else
  __trap();  // e4m3 MMAs need sm_89 and later; the fatbin's targets all have them
#endif
}

// The x-codes variant's row: staged as bf16 in order (gemv_mma_stage<true>: normed where the norm is in front),
// then each thread's own vectors scanned for the row's largest magnitude, the CTA's maximum taken, and each
// thread's vectors encoded into `codes` (k bytes) with s = amax / 448 (1 for a row of zeros): returns s.
__device__ __forceinline__ float gemv_mma_stage_codes(const GemvFp8Params& p, uint4* xs, uint8_t* codes) {
  __shared__ float scratch[32];
  gemv_mma_stage<true>(p, xs);
  const int vectors = p.k >> 3;
  float m = 0.f;
  for (int i = threadIdx.x; i < vectors; i += kGemvMmaThreads) {  // the vectors this thread staged
    float f[8];
    unpack8(xs[i], f);
#pragma unroll
    for (int e = 0; e < 8; e++) m = fmaxf(m, fabsf(f[e]));
  }
  const float s = fp8_row_scale(block_max(m, scratch));
  uint2* out = reinterpret_cast<uint2*>(codes);
  for (int i = threadIdx.x; i < vectors; i += kGemvMmaThreads) {
    float f[8];
    unpack8(xs[i], f);
    out[i] = fp8_encode8(f, s);
  }
  return s;
}

// acc += the batch's chunks [0, count) against x's codes; xAt: the byte of the codes at the batch's first chunk
// for lane q (the chunk's 16 bytes of lane q, as the lane's weights).
__device__ __forceinline__ void gemv_mma_batch_codes(const uint8_t* codes, int xAt, int count,
                                                     const uint4 (&c)[kGemvMmaBatch], float (&acc)[4]) {
#pragma unroll
  for (int u = 0; u < kGemvMmaBatch; u++) {
    if (u < count) {
      const uint4 xa = *reinterpret_cast<const uint4*>(codes + xAt + u * 64);
      gemv_mma_e4m3(c[u].x, c[u].y, xa.x, xa.y, acc);
      gemv_mma_e4m3(c[u].z, c[u].w, xa.z, xa.w, acc);
    }
  }
}

// acc += the batch's chunks [0, count) against x; xAt: the element of x at the batch's first chunk for lane q.
template <bool kBf16>
__device__ __forceinline__ void gemv_mma_batch(const uint4* xs, int xAt, int count,
                                               const uint4 (&c)[kGemvMmaBatch], float (&acc)[4]) {
#pragma unroll
  for (int u = 0; u < kGemvMmaBatch; u++) {
    if (u < count) {
      const uint4* xp = xs + ((xAt + u * GemvMmaWeights<kBf16>::kChunk) >> 3);
      const uint4 xa = xp[0];
      if (kBf16) {  // 8 weights: two MMAs
        gemv_mma_bf16(c[u].x, c[u].y, xa.x, xa.y, acc);
        gemv_mma_bf16(c[u].z, c[u].w, xa.z, xa.w, acc);
      } else {  // 16 codes: four
        const uint4 xb = xp[1];
        gemv_mma_word(c[u].x, xa.x, xa.y, acc);
        gemv_mma_word(c[u].y, xa.z, xa.w, acc);
        gemv_mma_word(c[u].z, xb.x, xb.y, acc);
        gemv_mma_word(c[u].w, xb.z, xb.w, acc);
      }
    }
  }
}

template <bool kBf16, bool kXCodes = false>
__device__ __forceinline__ void gemv_fp8_mma(const GemvFp8Params& p) {
  using Wt = GemvMmaWeights<kBf16>;
  extern __shared__ uint4 gemv_mma_smem[];
  // Partial rows: [task parity][warp][row group * 8 + row]. Two parities: a warp that starts its next task
  // writes the other half while the group's first warp may still be summing this one.
  __shared__ float partial[2][kGemvMmaWarps][2 * kGemvMmaRows];
  const uint4* xs = gemv_mma_smem;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int g = lane >> 2, q = lane & 3;
  const int taskWarps = p.taskWarps;
  const int groups = kGemvMmaWarps / taskWarps;
  const int group = warp / taskWarps, slice = warp % taskWarps;
  const int half = p.n >> 1;
  const int tasks = (p.swigluOut ? half : p.n) / kGemvMmaRows;
  const int sliceCodes = p.k / taskWarps;
  const int chunks = sliceCodes / Wt::kChunk;
  const int batches = (chunks + kGemvMmaBatch - 1) / kGemvMmaBatch;
  const int stride = gridDim.x * groups;
  // Lane (g, q)'s bytes in row 0 of a task: row g, its slice, its 16 bytes of each chunk.
  const uint8_t* lanePart =
      p.w + (static_cast<size_t>(g) * p.k + static_cast<size_t>(slice) * sliceCodes + q * Wt::kLane) * Wt::kBytes;
  const int xAt = slice * sliceCodes + q * Wt::kLane;

  // Every warp of the CTA makes the same rounds (a round: each group's task, where it has one), so that the
  // partial rows can be handed over at a CTA barrier.
  const int first = blockIdx.x * groups;
  uint4 c[kGemvMmaBatch];
  const bool early = p.earlyWeights != 0 && first + group < tasks;  // c holds the first batch
  if (early) {
    gemv_mma_load(lanePart + static_cast<size_t>(first + group) * kGemvMmaRows * p.k * Wt::kBytes,
                  min(chunks, kGemvMmaBatch), c);
  }
  pdl_entry();
  const uint8_t* xCodes = reinterpret_cast<const uint8_t*>(gemv_mma_smem) + 2 * p.k;
  float xScale = 1.f;
  if (kXCodes) {
    xScale = gemv_mma_stage_codes(p, gemv_mma_smem, const_cast<uint8_t*>(xCodes));
  } else {
    gemv_mma_stage<kBf16>(p, gemv_mma_smem);
  }
  __syncthreads();

  for (int base = first, it = 0; base < tasks; base += stride, it++) {
    const int t = base + group, par = it & 1;
    for (int h = 0; h <= p.swigluOut && t < tasks; h++) {  // row group: the task's rows, then (SwiGLU behind) its up rows
      const uint8_t* rows = lanePart + (static_cast<size_t>(t) * kGemvMmaRows + h * half) * p.k * Wt::kBytes;
      float acc[4] = {0.f, 0.f, 0.f, 0.f};
      for (int b = 0; b < batches; b++) {
        const int count = min(kGemvMmaBatch, chunks - b * kGemvMmaBatch);
        if (!(early && it == 0 && h == 0 && b == 0)) gemv_mma_load(rows + b * kGemvMmaBatch * 64, count, c);
        if (kXCodes) {
          gemv_mma_batch_codes(xCodes, xAt + b * kGemvMmaBatch * Wt::kChunk, count, c, acc);
        } else {
          gemv_mma_batch<kBf16>(xs, xAt + b * kGemvMmaBatch * Wt::kChunk, count, c, acc);
        }
      }
      if (g == 0) {  // row 0 of the product: the task's rows 2q and 2q + 1
        partial[par][warp][h * kGemvMmaRows + 2 * q] = acc[0];
        partial[par][warp][h * kGemvMmaRows + 2 * q + 1] = acc[1];
      }
    }
    __syncthreads();
    if (t < tasks && slice == 0 && lane < kGemvMmaRows) {
      const int lead = group * taskWarps;
      float s = 0.f, u = 0.f;
      for (int w = 0; w < taskWarps; w++) {
        s += partial[par][lead + w][lane];
        if (p.swigluOut) u += partial[par][lead + w][kGemvMmaRows + lane];
      }
      const int row = t * kGemvMmaRows + lane;
      if (kXCodes) {  // x's scale, then the row's (the order cuBLASLt's outer-vector scaling takes is not ours)
        s = (s * xScale) * p.scale[row];
        if (p.swigluOut) u = (u * xScale) * p.scale[row + half];
      } else if (!kBf16) {  // the codes' row scales
        s *= p.scale[row];
        if (p.swigluOut) u *= p.scale[row + half];
      }
      if (!p.swigluOut) {
        skinny_store(p, row, s);  // skinny_gemm.cu: bf16 or float32
      } else {  // swiglu.cu's operation on the bf16 the projection would have stored
        const float gate = __bfloat162float(__float2bfloat16_rn(s));
        const float up = __bfloat162float(__float2bfloat16_rn(u));
        p.out[row] = __float2bfloat16_rn(swiglu1(gate, up));
      }
    }
  }
}

}  // namespace df

// Four CTAs an SM at 64 registers.
extern "C" __global__ void __launch_bounds__(df::kGemvMmaThreads, 4)
    df_gemv_fp8_mma_m1(const __grid_constant__ GemvFp8Params p) {
  df::gemv_fp8_mma<false>(p);
}

// fp8-dynamic: the row quantized per token in the CTA, e4m3 x e4m3 MMAs on the codes (xCodes set).
extern "C" __global__ void __launch_bounds__(df::kGemvMmaThreads, 4)
    df_gemv_fp8x8_mma_m1(const __grid_constant__ GemvFp8Params p) {
  df::gemv_fp8_mma<false, true>(p);
}

// The same over bf16 weights (w (n, k) bf16, scale unused): the MMAs take the weights as they are. Three CTAs an
// SM (80 registers: at 64 ptxas spilled).
extern "C" __global__ void __launch_bounds__(df::kGemvMmaThreads, 3)
    df_gemv_bf16_mma_m1(const __grid_constant__ GemvFp8Params p) {
  df::gemv_fp8_mma<true>(p);
}
