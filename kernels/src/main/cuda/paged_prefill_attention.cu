// Causal prefill attention over the paged KV cache, GQA: the rows of a prompt that do not start at
// position 0 (later chunks of a chunked prompt, prompts whose leading blocks came from the prefix
// cache).
//
// A span is a run of rows of one sequence at consecutive positions: span s is rows
// spanStarts[s] .. spanStarts[s + 1] - 1 of q and out, at positions P .. P + L - 1 where
// P = positions[spanStarts[s]]. Row i of the span, query head h, attends to the sequence's cached
// positions 0 .. P + i through kv head h / (qHeads / kvHeads); position t lives in page
// blockTables[s, t / blockSize] at offset t % blockSize. The step's own K/V were appended to the
// cache before this runs, so the span's rows read each other there too (the same function as
// io.decodefleet.kernels.reference.PagedAttention.forwardSpans).
//
// Variants: df_paged_prefill_attention_d64, df_paged_prefill_attention_d128, and over an FP8 e4m3
// cache df_paged_prefill_attention_fp8_d64, df_paged_prefill_attention_fp8_d128 (the reference:
// forwardSpans over the decoded cache, which PagedAttention.forwardFp8 equals): the two stages then
// hold codes (half the bytes), and each tile is widened once, exactly, into one bf16 K and V tile
// that the same MMA code reads (widen_stage_fp8 in decode_attention.cu); kScale folds into the score
// scale and vScale into the output.
// A CTA (4 warps) takes one kv head of one span and R = floor(64 / group) consecutive rows of the
// span: its 64 MMA rows are (row r, query head g of the group) at m = r * group + g (rows past
// R * group are idle), so every K/V tile it loads serves the whole group, and a span of a few rows
// still fills the tensor cores' M dimension. It streams K/V tiles of 64 positions, up to the last
// position its rows see, from the pages through shared memory (cp.async, two stages, as
// prefill_attention.cu whose tile shape and helpers it reuses); scores and the weighted sum use the
// bf16 tensor cores with an online softmax in float32. Masked positions (past a row's own) are
// -inf before the softmax; positions past the CTA's last row are zero-filled and never read from
// the cache.
// Layouts: q, out (rows, qHeads, headDim) bf16; kCache, vCache (numBlocks, blockSize, kvHeads,
// headDim) bf16; spanStarts (numSpans + 1) int32; positions (rows) int32; blockTables
// (numSpans, blockTableStride) int32. group = qHeads / kvHeads <= 16; blockSize a power of two.
// Grid: (ceil(maxSpanLen / R), kvHeads, numSpans); block: 128 threads; dynamic shared memory
// 64 * headDim * 2 * (1 + 2 * 2) bytes (FP8: a bf16 Q tile, two stages of K and V codes, one bf16 K
// and V tile: the same total).
#include "fp8.cuh"

struct PagedPrefillAttentionParams {
  bf16* out;               // (rows, qHeads, headDim) bf16
  const bf16* q;           // (rows, qHeads, headDim) bf16
  const bf16* kCache;      // (numBlocks, blockSize, kvHeads, headDim) bf16
  const bf16* vCache;      // (numBlocks, blockSize, kvHeads, headDim) bf16
  const int* spanStarts;   // (numSpans + 1) int32 row offsets
  const int* positions;    // (rows) int32: each row's position in its sequence
  const int* blockTables;  // (numSpans, blockTableStride) int32
  int numSpans;
  int qHeads;
  int kvHeads;
  int headDim;
  int blockSize;
  int blockShift;          // log2(blockSize)
  int blockTableStride;
  float scaleLog2;         // softmax scale * log2(e)
  float kScale;            // FP8 variants: a K element is e4m3(code) * kScale (1 otherwise)
  float vScale;            // FP8 variants: a V element is e4m3(code) * vScale (1 otherwise)
};
DF_PARAMS_SIZE(PagedPrefillAttentionParams, 96);

namespace df {

// cp.async of the CTA's 64 MMA rows of q: row m = r * group + g is query head kvHead * group + g
// of span row r0 + r; rows past rows * group, or past the span, zero-filled.
template <int D>
__device__ __forceinline__ void load_q_group_tile(bf16* s, const PagedPrefillAttentionParams& p,
                                                  int start, int r0, int len, int kvHead,
                                                  int group, int rows) {
  using S = PrefillShape<D>;
  constexpr int kRowsPerPass = S::kThreads / S::kChunksPerRow;
  const int c = threadIdx.x % S::kChunksPerRow;
  const int m0 = threadIdx.x / S::kChunksPerRow;
#pragma unroll
  for (int i = 0; i < S::kTile / kRowsPerPass; i++) {
    const int m = m0 + i * kRowsPerPass;
    const int r = m / group, g = m - r * group;
    const bool valid = r < rows && r0 + r < len;
    const size_t row = valid ? static_cast<size_t>(start + r0 + r) * p.qHeads + kvHead * group + g : 0;
    cp_async16(s + swizzle<S::kChunksPerRow>(m, c) * 8, p.q + row * D + c * 8, valid);
  }
}

// cp.async of positions [t0, t0 + 64) of one kv head from the pages; positions >= nKeys
// zero-filled. The table index is clamped into the row, so a lookup never waits for nKeys.
template <int D>
__device__ __forceinline__ void load_paged_tile(bf16* sK, bf16* sV,
                                                const PagedPrefillAttentionParams& p,
                                                const int* table, int kvHead, int t0, int nKeys) {
  using S = PrefillShape<D>;
  constexpr int kRowsPerPass = S::kThreads / S::kChunksPerRow;
  const int c = threadIdx.x % S::kChunksPerRow;
  const int r0 = threadIdx.x / S::kChunksPerRow;
  const int inBlockMask = p.blockSize - 1;
  const int lastEntry = p.blockTableStride - 1;
#pragma unroll
  for (int i = 0; i < S::kTile / kRowsPerPass; i++) {
    const int r = r0 + i * kRowsPerPass;
    const int t = t0 + r;
    const int page = table[min(t >> p.blockShift, lastEntry)];
    const bool valid = t < nKeys;
    const size_t row =
        (static_cast<size_t>(page) * p.blockSize + (t & inBlockMask)) * p.kvHeads + kvHead;
    const size_t off = valid ? row * D + c * 8 : 0;
    const int sIdx = swizzle<S::kChunksPerRow>(r, c) * 8;
    cp_async16(sK + sIdx, p.kCache + off, valid);
    cp_async16(sV + sIdx, p.vCache + off, valid);
  }
}

// The codes of positions [t0, t0 + 64) of one kv head (D bytes a row, row-major, as
// widen_stage_fp8 reads them); positions >= nKeys zero-filled (code 0 is +0).
template <int D>
__device__ __forceinline__ void load_paged_tile_fp8(uint8_t* sK, uint8_t* sV,
                                                    const PagedPrefillAttentionParams& p,
                                                    const int* table, int kvHead, int t0, int nKeys) {
  using S = PrefillShape<D>;
  constexpr int kVecsPerRow = D / 16;
  constexpr int kRowsPerPass = S::kThreads / kVecsPerRow;
  const int c = threadIdx.x % kVecsPerRow;
  const int r0 = threadIdx.x / kVecsPerRow;
  const int inBlockMask = p.blockSize - 1;
  const int lastEntry = p.blockTableStride - 1;
  const uint8_t* kCache = reinterpret_cast<const uint8_t*>(p.kCache);
  const uint8_t* vCache = reinterpret_cast<const uint8_t*>(p.vCache);
#pragma unroll
  for (int i = 0; i < S::kTile / kRowsPerPass; i++) {
    const int r = r0 + i * kRowsPerPass;
    const int t = t0 + r;
    const int page = table[min(t >> p.blockShift, lastEntry)];
    const bool valid = t < nKeys;
    const size_t row =
        (static_cast<size_t>(page) * p.blockSize + (t & inBlockMask)) * p.kvHeads + kvHead;
    const size_t off = valid ? row * D + c * 16 : 0;
    cp_async16(sK + r * D + c * 16, kCache + off, valid);
    cp_async16(sV + r * D + c * 16, vCache + off, valid);
  }
}

template <int D, bool kFp8>
__device__ __forceinline__ void paged_prefill_tile(const PagedPrefillAttentionParams& p) {
  using S = PrefillShape<D>;
  extern __shared__ uint4 dynamic_smem[];
  bf16* sQ = reinterpret_cast<bf16*>(dynamic_smem);
  // bf16: stage b holds K at tile 2b, V at 2b + 1. FP8: stage b holds 64 x D codes of K, then of V;
  // after both stages, the one bf16 K and V tile the widening writes.
  bf16* sKV = sQ + S::kTileElems;
  uint8_t* codes = reinterpret_cast<uint8_t*>(sKV);
  constexpr int kCodeStage = 2 * S::kTile * D;  // bytes of one FP8 stage (K + V)
  bf16* tileK = reinterpret_cast<bf16*>(codes + 2 * kCodeStage);
  bf16* tileV = tileK + S::kTileElems;
  const int span = blockIdx.z, kvHead = blockIdx.y;
  const int group = p.qHeads / p.kvHeads;
  const int rows = S::kTile / group;  // span rows per CTA
  const int start = p.spanStarts[span];
  const int len = p.spanStarts[span + 1] - start;
  const int r0 = blockIdx.x * rows;
  if (r0 >= len) return;
  const int pos0 = p.positions[start];
  const int nKeys = pos0 + min(len, r0 + rows);  // the CTA's last row sees positions < nKeys
  const int nKv = (nKeys + S::kTile - 1) / S::kTile;
  const int* table = p.blockTables + static_cast<size_t>(span) * p.blockTableStride;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g8 = lane >> 2, q4 = lane & 3, mi = lane >> 3, r8 = lane & 7;

  load_q_group_tile<D>(sQ, p, start, r0, len, kvHead, group, rows);
  if constexpr (kFp8) {
    load_paged_tile_fp8<D>(codes, codes + kCodeStage / 2, p, table, kvHead, 0, nKeys);
  } else {
    load_paged_tile<D>(sKV, sKV + S::kTileElems, p, table, kvHead, 0, nKeys);
  }
  cp_async_commit();
  const float scoreScale = kFp8 ? p.scaleLog2 * p.kScale : p.scaleLog2;

  // The two MMA rows of this thread: m = warp * 16 + g8 (+ 8). A row's last visible position,
  // or -1 for an idle row (past the group's rows or the span), which then sees nothing.
  int rowSpan[2], lastPos[2], rowHead[2];
#pragma unroll
  for (int hh = 0; hh < 2; hh++) {
    const int m = warp * 16 + g8 + 8 * hh;
    const int r = m / group;
    rowSpan[hh] = r0 + r;
    rowHead[hh] = m - r * group;
    lastPos[hh] = (r < rows && r0 + r < len) ? pos0 + r0 + r : -1;
  }

  uint32_t qa[D / 16][4];
  float o[D / 8][4];
#pragma unroll
  for (int nt = 0; nt < D / 8; nt++)
#pragma unroll
    for (int e = 0; e < 4; e++) o[nt][e] = 0.f;
  float m[2] = {DF_NEG_INF, DF_NEG_INF}, l[2] = {0.f, 0.f};

  for (int j = 0; j < nKv; j++) {
    if (j + 1 < nKv) {
      if constexpr (kFp8) {
        uint8_t* next = codes + ((j + 1) & 1) * kCodeStage;
        load_paged_tile_fp8<D>(next, next + kCodeStage / 2, p, table, kvHead, (j + 1) * S::kTile, nKeys);
      } else {
        bf16* next = sKV + ((j + 1) & 1) * 2 * S::kTileElems;
        load_paged_tile<D>(next, next + S::kTileElems, p, table, kvHead, (j + 1) * S::kTile, nKeys);
      }
    }
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();
    if constexpr (kFp8) {
      // Every warp is past the previous tile's MMAs (the barrier ending the last iteration).
      const uint8_t* b = codes + (j & 1) * kCodeStage;
      widen_stage_fp8<D>(b, b + kCodeStage / 2, tileK, tileV);
      __syncthreads();
    }
    if (j == 0) {
#pragma unroll
      for (int kk = 0; kk < D / 16; kk++) {
        const int r = warp * 16 + (mi & 1) * 8 + r8;
        ldmatrix_x4(qa[kk], sQ + swizzle<S::kChunksPerRow>(r, 2 * kk + (mi >> 1)) * 8);
      }
    }
    const bf16* sK = kFp8 ? tileK : sKV + (j & 1) * 2 * S::kTileElems;
    const bf16* sV = kFp8 ? tileV : sK + S::kTileElems;

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
    const int tileLast = j * S::kTile + S::kTile - 1;
    if (tileLast <= lastPos[0] && tileLast <= lastPos[1]) {
      // Both of this thread's rows see every key of the tile (an idle row, lastPos -1, never does).
      scale_scores(s, scoreScale, mx);
    } else {
#pragma unroll
      for (int nt = 0; nt < 8; nt++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
          const int key = j * S::kTile + nt * 8 + 2 * q4 + (e & 1);
          const float v = key <= lastPos[e >> 1] ? s[nt][e] * scoreScale : DF_NEG_INF;
          s[nt][e] = v;
          mx[e >> 1] = fmaxf(mx[e >> 1], v);
        }
    }
    float alpha[2], mUse[2], rowSum[2] = {0.f, 0.f};
    online_max(mx, m, alpha, mUse);  // an idle row's max stays -inf; online_max subtracts 0 from it
#pragma unroll
    for (int nt = 0; nt < 8; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const float pe = prefill_exp2(s[nt][e] - mUse[e >> 1]);
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
    for (int ks = 0; ks < 4; ks++) {  // 16 positions per k-step
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
#pragma unroll
  for (int hh = 0; hh < 2; hh++) {
    if (lastPos[hh] < 0) continue;
    const float inv = (kFp8 ? p.vScale : 1.f) / l[hh];
    bf16* dst = p.out + (static_cast<size_t>(start + rowSpan[hh]) * p.qHeads + kvHead * group +
                         rowHead[hh]) * D;
#pragma unroll
    for (int nt = 0; nt < D / 8; nt++) {
      const uint32_t v = pack_bf16x2(o[nt][2 * hh] * inv, o[nt][2 * hh + 1] * inv);
      *reinterpret_cast<uint32_t*>(dst + nt * 8 + 2 * q4) = v;
    }
  }
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(128, 2)
    df_paged_prefill_attention_d128(const __grid_constant__ PagedPrefillAttentionParams p) {
  df::pdl_entry();
  df::paged_prefill_tile<128, false>(p);
}

extern "C" __global__ void __launch_bounds__(128, 3)
    df_paged_prefill_attention_d64(const __grid_constant__ PagedPrefillAttentionParams p) {
  df::pdl_entry();
  df::paged_prefill_tile<64, false>(p);
}

extern "C" __global__ void __launch_bounds__(128, 2)
    df_paged_prefill_attention_fp8_d128(const __grid_constant__ PagedPrefillAttentionParams p) {
  df::pdl_entry();
  df::paged_prefill_tile<128, true>(p);
}

extern "C" __global__ void __launch_bounds__(128, 3)
    df_paged_prefill_attention_fp8_d64(const __grid_constant__ PagedPrefillAttentionParams p) {
  df::pdl_entry();
  df::paged_prefill_tile<64, true>(p);
}
