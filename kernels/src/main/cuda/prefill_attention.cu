// Causal prefill attention (FlashAttention-2 style) over packed variable-length sequences, GQA.
//
// Tokens of sequence s occupy rows seqStarts[s] .. seqStarts[s + 1] - 1 of q, k, v and out; token
// i of a sequence, query head h, attends to tokens 0..i of the same sequence through kv head
// h / (qHeads / kvHeads) (the same function as io.decodefleet.kernels.reference.CausalAttention
// applied to each sequence).
//
// Variants: df_prefill_attention_d64, df_prefill_attention_d128 (on sm_90 for prompts whose 128-row grid has
// fewer than 128 CTAs: prefill_attention_tma.cu and prefill_attention_wgmma.cu take the rest).
// A CTA (4 warps) takes 64 query rows of one head of one sequence (16 rows per warp, held as
// MMA A fragments) and streams the K/V tiles of 64 keys up to the diagonal through shared memory
// (cp.async, two stages); scores and the weighted sum use the bf16 tensor cores with an online
// softmax in float32. Block y of a head takes query tile gridDim.y - 1 - y (the longest first), and
// only the diagonal tile is masked.
// Layouts: q, out (tokens, qHeads, headDim) bf16; k, v (tokens, kvHeads, headDim) bf16;
// seqStarts (numSeqs + 1) int32.
// Grid: (qHeads, ceil(maxSeqLen / 64), numSeqs); block: 128 threads; dynamic shared memory
// 64 * headDim * 2 * (1 + 2 * 2) bytes.
#include "common.cuh"

struct PrefillAttentionParams {
  bf16* out;               // (tokens, qHeads, headDim) bf16
  const bf16* q;           // (tokens, qHeads, headDim) bf16
  const bf16* k;           // (tokens, kvHeads, headDim) bf16
  const bf16* v;           // (tokens, kvHeads, headDim) bf16
  const int* seqStarts;    // (numSeqs + 1) int32
  int numSeqs;
  int qHeads;
  int kvHeads;
  int headDim;
  float scaleLog2;         // softmax scale * log2(e)
};
DF_PARAMS_SIZE(PrefillAttentionParams, 64);

namespace df {

template <int D>
struct PrefillShape {
  static constexpr int kThreads = 128;
  static constexpr int kTile = 64;  // query rows per CTA and keys per K/V tile
  static constexpr int kChunksPerRow = D / 8;
  static constexpr int kTileElems = kTile * D;
  static constexpr int kSmemBytes = (1 + 2 * 2) * kTileElems * 2;
};

__device__ __forceinline__ float prefill_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// cp.async of 64 rows [row0, row0 + 64) of a (rows, rowStride) bf16 tensor; rows >= rowLimit
// zero-filled. A thread copies chunk c of rows r0 + i * rowsPerPass: rowsPerPass is a multiple of 8, so the
// swizzled chunk is the same in all its rows, and a tile wholly inside the tensor (every one but a sequence's
// last) costs an add of each address per copy, without the bounds test.
template <int D>
__device__ __forceinline__ void load_tile64(bf16* s, const bf16* g, size_t rowStride, int row0,
                                            int rowLimit) {
  using S = PrefillShape<D>;
  constexpr int kRowsPerPass = S::kThreads / S::kChunksPerRow;
  static_assert(kRowsPerPass % 8 == 0, "the swizzle repeats every 8 rows");
  const int c = threadIdx.x % S::kChunksPerRow;
  const int r0 = threadIdx.x / S::kChunksPerRow;
  if (row0 + S::kTile <= rowLimit) {
    bf16* dst = s + swizzle<S::kChunksPerRow>(r0, c) * 8;
    const bf16* src = g + static_cast<size_t>(row0 + r0) * rowStride + c * 8;
#pragma unroll
    for (int i = 0; i < S::kTile / kRowsPerPass; i++)
      cp_async16(dst + i * kRowsPerPass * D, src + i * kRowsPerPass * rowStride, true);
  } else {
#pragma unroll
    for (int i = 0; i < S::kTile / kRowsPerPass; i++) {
      const int r = r0 + i * kRowsPerPass;
      const bool valid = row0 + r < rowLimit;
      const bf16* src = g + static_cast<size_t>(valid ? row0 + r : 0) * rowStride + c * 8;
      cp_async16(s + swizzle<S::kChunksPerRow>(r, c) * 8, src, valid);
    }
  }
}

// Scores of a tile every row of the thread sees whole: scaled into the exp2 domain, each row's max
// taken (the paged prefill kernel's unmasked tiles; prefill_tile folds the scale into the exponential instead).
__device__ __forceinline__ void scale_scores(float (&s)[8][4], float scale, float (&mx)[2]) {
#pragma unroll
  for (int nt = 0; nt < 8; nt++)
#pragma unroll
    for (int e = 0; e < 4; e++) {
      const float v = s[nt][e] * scale;
      s[nt][e] = v;
      mx[e >> 1] = fmaxf(mx[e >> 1], v);
    }
}

// Where a CTA's operands start: head h's q rows and its kv head's k and v rows of the sequence whose
// first token is `start`, and the distance between two tokens' rows (q, k, v packed (tokens, heads, D)).
struct PrefillRows {
  const bf16* q;
  const bf16* k;
  const bf16* v;
  size_t qStride;
  size_t kvStride;
};

template <int D>
__device__ __forceinline__ PrefillRows prefill_rows(const PrefillAttentionParams& p, int start, int h) {
  const int kvHead = h / (p.qHeads / p.kvHeads);
  return {p.q + (static_cast<size_t>(start) * p.qHeads + h) * D,
          p.k + (static_cast<size_t>(start) * p.kvHeads + kvHead) * D,
          p.v + (static_cast<size_t>(start) * p.kvHeads + kvHead) * D,
          static_cast<size_t>(p.qHeads) * D, static_cast<size_t>(p.kvHeads) * D};
}

// The online softmax's step for a thread's two rows (the paged prefill and wgmma kernels use it too):
// each row's max over the four lanes that share it (mx: the thread's own on entry), the running max m
// moved to it, alpha = exp2(old m - new m) to rescale what was summed before, and mUse, what the new
// scores subtract: 0 for a row with no key yet, whose max stays -inf, so that exp2(-inf - 0) = 0 and
// never -inf - (-inf).
__device__ __forceinline__ void online_max(float (&mx)[2], float (&m)[2], float (&alpha)[2], float (&mUse)[2]) {
#pragma unroll
  for (int hh = 0; hh < 2; hh++) {
    mx[hh] = fmaxf(mx[hh], __shfl_xor_sync(0xffffffffu, mx[hh], 1));
    mx[hh] = fmaxf(mx[hh], __shfl_xor_sync(0xffffffffu, mx[hh], 2));
    const float mNew = fmaxf(m[hh], mx[hh]);
    mUse[hh] = mNew == DF_NEG_INF ? 0.f : mNew;
    alpha[hh] = prefill_exp2(m[hh] - mUse[hh]);
    m[hh] = mNew;
  }
}

template <int D>
__device__ __forceinline__ void prefill_tile(const PrefillAttentionParams& p) {
  using S = PrefillShape<D>;
  extern __shared__ uint4 dynamic_smem[];
  bf16* sQ = reinterpret_cast<bf16*>(dynamic_smem);
  bf16* sKV = sQ + S::kTileElems;  // stage b: K at 2b, V at 2b + 1
  const int seq = blockIdx.z, h = blockIdx.x;
  const int start = p.seqStarts[seq];
  const int len = p.seqStarts[seq + 1] - start;
  // Heaviest first across the whole grid: CTAs are issued x fastest, so with the heads along x every
  // head's last query tile (the longest: tile t walks t + 1 key tiles) goes before any head's
  // second-to-last, and the shortest fill the last wave (longest-processing-time-first order).
  const int tile = gridDim.y - 1 - blockIdx.y;
  const int q0 = tile * S::kTile;
  if (q0 >= len) return;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, q4 = lane & 3, mi = lane >> 3, r8 = lane & 7;

  const auto [qBase, kBase, vBase, qStride, kvStride] = prefill_rows<D>(p, start, h);
  const int nKv = tile + 1;  // causal: key tiles up to and including the diagonal

  load_tile64<D>(sQ, qBase, qStride, q0, len);
  load_tile64<D>(sKV, kBase, kvStride, 0, len);
  load_tile64<D>(sKV + S::kTileElems, vBase, kvStride, 0, len);
  cp_async_commit();

  uint32_t qa[D / 16][4];
  float o[D / 8][4];
#pragma unroll
  for (int nt = 0; nt < D / 8; nt++)
#pragma unroll
    for (int e = 0; e < 4; e++) o[nt][e] = 0.f;
  float m[2] = {DF_NEG_INF, DF_NEG_INF}, l[2] = {0.f, 0.f};
  const int rowQ[2] = {q0 + warp * 16 + g, q0 + warp * 16 + g + 8};

  for (int j = 0; j < nKv; j++) {
    if (j + 1 < nKv) {
      bf16* next = sKV + ((j + 1) & 1) * 2 * S::kTileElems;
      load_tile64<D>(next, kBase, kvStride, (j + 1) * S::kTile, len);
      load_tile64<D>(next + S::kTileElems, vBase, kvStride, (j + 1) * S::kTile, len);
    }
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();
    if (j == 0) {
#pragma unroll
      for (int kk = 0; kk < D / 16; kk++) {
        const int r = warp * 16 + (mi & 1) * 8 + r8;
        ldmatrix_x4(qa[kk], sQ + swizzle<S::kChunksPerRow>(r, 2 * kk + (mi >> 1)) * 8);
      }
    }
    const bf16* sK = sKV + (j & 1) * 2 * S::kTileElems;
    const bf16* sV = sK + S::kTileElems;

    float s[8][4];
#pragma unroll
    for (int nt = 0; nt < 8; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) s[nt][e] = 0.f;
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++) {
#pragma unroll
      for (int np = 0; np < 4; np++) {
        uint32_t b[4];
        const int r = np * 16 + (mi >> 1) * 8 + r8;
        ldmatrix_x4(b, sK + swizzle<S::kChunksPerRow>(r, 2 * kk + (mi & 1)) * 8);
        mma_bf16(s[2 * np], qa[kk], b[0], b[1]);
        mma_bf16(s[2 * np + 1], qa[kk], b[2], b[3]);
      }
    }

    float mx[2] = {DF_NEG_INF, DF_NEG_INF};
    // Only the diagonal tile needs the mask (keys past some rows, or past the sequence): every key of
    // an earlier tile lies below q0, so below every row of this CTA and below len. The maxima are taken
    // on the raw scores and scaled once (the scale is positive); the scale goes into the exponential's
    // argument as one FFMA, exp2(s * scale - m).
    if (j == nKv - 1) {
#pragma unroll
      for (int nt = 0; nt < 8; nt++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
          const int key = j * S::kTile + nt * 8 + 2 * q4 + (e & 1);
          if (key > rowQ[e >> 1] || key >= len) s[nt][e] = DF_NEG_INF;
        }
    }
#pragma unroll
    for (int nt = 0; nt < 8; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) mx[e >> 1] = fmaxf(mx[e >> 1], s[nt][e]);
    mx[0] *= p.scaleLog2;
    mx[1] *= p.scaleLog2;
    float alpha[2], mUse[2], rowSum[2] = {0.f, 0.f};
    online_max(mx, m, alpha, mUse);
#pragma unroll
    for (int nt = 0; nt < 8; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const float pe = prefill_exp2(fmaf(s[nt][e], p.scaleLog2, -mUse[e >> 1]));
        s[nt][e] = pe;
        rowSum[e >> 1] += pe;
      }
    l[0] = l[0] * alpha[0] + rowSum[0];
    l[1] = l[1] * alpha[1] + rowSum[1];
#pragma unroll
    for (int nt = 0; nt < D / 8; nt++) {
      o[nt][0] *= alpha[0];
      o[nt][1] *= alpha[0];
      o[nt][2] *= alpha[1];
      o[nt][3] *= alpha[1];
    }
#pragma unroll
    for (int ks = 0; ks < 4; ks++) {  // 16 keys per k-step
      uint32_t pa[4];
      pa[0] = pack_bf16x2(s[2 * ks][0], s[2 * ks][1]);
      pa[1] = pack_bf16x2(s[2 * ks][2], s[2 * ks][3]);
      pa[2] = pack_bf16x2(s[2 * ks + 1][0], s[2 * ks + 1][1]);
      pa[3] = pack_bf16x2(s[2 * ks + 1][2], s[2 * ks + 1][3]);
#pragma unroll
      for (int jd = 0; jd < D / 16; jd++) {
        uint32_t b[4];
        const int r = ks * 16 + (mi & 1) * 8 + r8;
        ldmatrix_x4_trans(b, sV + swizzle<S::kChunksPerRow>(r, 2 * jd + (mi >> 1)) * 8);
        mma_bf16(o[2 * jd], pa, b[0], b[1]);
        mma_bf16(o[2 * jd + 1], pa, b[2], b[3]);
      }
    }
    __syncthreads();  // this stage's buffer is refilled next iteration
  }

#pragma unroll
  for (int hh = 0; hh < 2; hh++) {
    l[hh] += __shfl_xor_sync(0xffffffffu, l[hh], 1);
    l[hh] += __shfl_xor_sync(0xffffffffu, l[hh], 2);
  }
  const float inv[2] = {1.f / l[0], 1.f / l[1]};
#pragma unroll
  for (int hh = 0; hh < 2; hh++) {
    if (rowQ[hh] >= len) continue;
    bf16* dst = p.out + (static_cast<size_t>(start + rowQ[hh]) * p.qHeads + h) * D;
#pragma unroll
    for (int nt = 0; nt < D / 8; nt++) {
      const uint32_t v = pack_bf16x2(o[nt][2 * hh] * inv[hh], o[nt][2 * hh + 1] * inv[hh]);
      *reinterpret_cast<uint32_t*>(dst + nt * 8 + 2 * q4) = v;
    }
  }
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(128, 2)
    df_prefill_attention_d128(const __grid_constant__ PrefillAttentionParams p) {
  df::pdl_entry();
  df::prefill_tile<128>(p);
}

extern "C" __global__ void __launch_bounds__(128, 3)
    df_prefill_attention_d64(const __grid_constant__ PrefillAttentionParams p) {
  df::pdl_entry();
  df::prefill_tile<64>(p);
}
