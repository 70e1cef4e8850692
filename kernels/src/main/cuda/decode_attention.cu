// Decode attention over a paged KV cache with grouped-query attention: split-K flash-decoding.
//
// One query token per sequence. For sequence s, query head h = kvHead * group + g attends to the
// first contextLens[s] cached positions of kv head kvHead; position t lives in page
// blockTables[s, t / blockSize] at offset t % blockSize.
//
// Work is cut by the host (io.decodefleet.kernels.cuda.DecodeAttentionPlan) into items
// (sequence, kv head, chunk): a chunk is chunkTokens consecutive positions (a multiple of 64).
// An item computes attention of all `group` query heads of its kv head over its chunk. A
// sequence with one chunk writes `out` directly; otherwise each item writes a float32 partial
// (output normalised by its own softmax sum, plus its log-sum-exp) and a combine step merges the
// chunks of each (sequence, kv head).
//
// Variants (D = head dim, 64 or 128):
//   df_decode_attention_d{D}             grid = (numItems): CTA i computes item i.
//   df_decode_attention_combine_d{D}     grid = (kvHeads, batch): merges partials; CTAs of
//                                        single-chunk sequences exit at once.
//   df_decode_attention_persistent_d{D}  grid = min(items, SM count x resident CTAs per SM): CTA
//                                        b takes items b, 2G - 1 - b, 2G + b, ... (G = grid;
//                                        "snake" order over the longest-first list keeps CTAs
//                                        balanced without an atomic on the item path); the CTA
//                                        that finishes the last chunk of a (sequence, kv head)
//                                        merges it, so no second launch is needed.
// Both variants run the same item loop (decode_items), so the streaming code is compiled the
// same way in both; the persistent one only adds the in-kernel merge.
//
// Latency at small batches is a chain of dependent memory round trips, so each item issues
// the context length, its partial base and the block-table entries of the first stages all at
// once (the table index is clamped into the row instead of waiting for the context length):
// work item -> {context, table, q} -> KV -> write.
//
// Inside an item: the CTA (4 warps) streams K and V through shared memory 64 positions per stage
// with cp.async, kStages deep; warp w owns positions 16w..16w+15 of every stage. Scores and the
// weighted sum use the bf16 tensor cores (mma m16n8k16): the group's queries are the 16 rows of
// the A operand (rows >= group are zero), so the arithmetic stays far below what the memory
// stream allows even for group 8. The four warps' softmax states are merged at the end.
//
// Layouts: q, out (batch, qHeads, headDim) bf16; kCache, vCache (numBlocks, blockSize, kvHeads,
// headDim) bf16; blockTables (batch, blockTableStride) int32; contextLens (batch) int32 >= 1;
// workItems (numItems, 4) int32 {seq, kvHead, chunk, 0}; partialBase (batch) int32;
// partialOut (numPartials, group, headDim) float32; partialLse (numPartials, group) float32
// (log2 domain); counters (2 + batch * kvHeads) int32, zero before the first persistent launch
// and left zero by every persistent launch that completes (entries 0 and 1 are unused).
// group = qHeads / kvHeads <= 16; blockSize is a power of two dividing 64.
//
// FP8 variants (df_decode_attention_fp8_d{D}, df_decode_attention_persistent_fp8_d{D}, and the
// graph ones in decode_attention_graph.cu): kCache and vCache hold e4m3fn codes (PagedAttention.
// forwardFp8 is the reference). The stream moves the codes, half the bytes, through shared memory
// kFp8Stages deep, and the MMA fragments are built from the codes in registers: no bf16 copy of a
// stage is written or read. Both sums run over an index that may be permuted at will as long as both
// operands agree, which is what makes the fragments cheap: the head dim of Q and K is taken in an
// order where a lane's four K elements of one MMA are four adjacent codes (one 32-bit read), and the
// output columns in an order where a lane's V elements of every MMA are adjacent codes of one row
// (one 16- or 8-byte read a row, byte-interleaved with the next row's by a permute). Each warp copies
// and attends its own 16 rows of every stage, so the stage loop has no CTA barrier
// (process_item_fp8). kScale folds into the score scale and vScale into the output (and the
// partials), so no scale touches the codes. The combine kernels are the bf16 ones.
#include "fp8.cuh"

struct DecodeAttentionParams {
  bf16* out;                // (batch, qHeads, headDim) bf16
  const bf16* q;            // (batch, qHeads, headDim) bf16
  const bf16* kCache;       // (numBlocks, blockSize, kvHeads, headDim) bf16
  const bf16* vCache;       // (numBlocks, blockSize, kvHeads, headDim) bf16
  const int* blockTables;   // (batch, blockTableStride) int32
  const int* contextLens;   // (batch) int32
  const int* workItems;     // (numItems, 4) int32: seq, kvHead, chunk, 0
  const int* partialBase;   // (batch) int32: first partial slot of a multi-chunk sequence
  float* partialOut;        // (numPartials, group, headDim) float32
  float* partialLse;        // (numPartials, group) float32, log2 domain
  int* counters;            // (2 + batch * kvHeads) int32
  int batch;
  int qHeads;
  int kvHeads;
  int headDim;
  int blockSize;
  int blockShift;           // log2(blockSize)
  int blockTableStride;
  int chunkTokens;          // multiple of 64
  int numItems;
  float scaleLog2;          // softmax scale * log2(e)
  float kScale;             // FP8 variants: a K element is e4m3(code) * kScale (1 otherwise)
  float vScale;             // FP8 variants: a V element is e4m3(code) * vScale (1 otherwise)
};
DF_PARAMS_SIZE(DecodeAttentionParams, 136);

namespace df {

template <int D>
struct DecodeShape {
  static constexpr int kThreads = 128;
  static constexpr int kWarps = 4;
  static constexpr int kStageTokens = 64;  // 16 per warp
  static constexpr int kChunksPerRow = D / 8;
  // 3 stages of 32 KB (D = 128) or 4 of 16 KB (D = 64): two CTAs per SM keep 64-96 KB of KV in
  // flight per SM, well above the ~30 KB that the bandwidth-latency product of HBM3e asks for.
  static constexpr int kStages = D == 128 ? 3 : 4;
  static constexpr int kStageElems = kStageTokens * D;  // per K or V tile
  static constexpr int kSmemBytes = kStages * 2 * kStageElems * 2;
  static constexpr int kMaxGroup = 16;
  // FP8: kFp8Stages stages of codes (K + V, D bytes per row), nothing else: 64 KB (D = 128, three
  // CTAs an SM) or 48 KB (D = 64, four), so an SM keeps 96-144 KB of codes in flight. finish_item's
  // (16 + 16 + 16 D) floats a warp fit in either.
  static constexpr int kFp8Stages = D == 128 ? 4 : 6;
  static constexpr int kFp8StageBytes = 2 * kStageTokens * D;
  static constexpr int kFp8SmemBytes = kFp8Stages * kFp8StageBytes;
};

struct DecodeItem {
  int seq;
  int kvHead;
  int chunk;
  int tokStart;
  int tokEnd;
  int nChunks;
  int slotBase;  // partialBase[seq] + kvHead * nChunks: this pair's first partial slot
  int last;      // contextLens[seq] - 1: the step's own token, whose K and V the launch before writes
};

__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

__device__ __forceinline__ DecodeItem decode_item(const DecodeAttentionParams& p, int i) {
  const int4 w = reinterpret_cast<const int4*>(p.workItems)[i];
  DecodeItem it;
  it.seq = w.x;
  it.kvHead = w.y;
  it.chunk = w.z;
  const int ctx = p.contextLens[it.seq];
  const int base = p.partialBase[it.seq];  // loaded together with ctx, used at the very end
  it.tokStart = it.chunk * p.chunkTokens;
  it.tokEnd = min(ctx, it.tokStart + p.chunkTokens);
  it.nChunks = (ctx + p.chunkTokens - 1) / p.chunkTokens;
  it.slotBase = base + it.kvHead * it.nChunks;
  it.last = ctx - 1;
  return it;
}

template <int D>
struct WarpSoftmax {
  float o[D / 8][4];  // C fragments of the (16 x D) output: rows g, g+8
  float m[2];         // running max of rows g and g+8 (log2 domain, quad-uniform)
  float l[2];         // this lane's share of the running sums
};

// Q of the group as A fragments: rows g < group are query heads, the rest zero. kFp8Order: the head
// dim in the order attend_stage_fp8 reads K codes: fragment kk = 4h + m takes, for lane q4, the
// dims 64h + 16 q4 + 4m .. +3 (as its k = 2q4, 2q4 + 1, 2q4 + 8, 2q4 + 9).
template <int D, bool kFp8Order = false>
__device__ __forceinline__ void load_q(const DecodeAttentionParams& p, int seq, int kvHead,
                                       int group, uint32_t (&qa)[D / 16][4]) {
  const int lane = threadIdx.x & 31;
  const int g = lane >> 2, q4 = lane & 3;
  const bf16* base = p.q + (static_cast<size_t>(seq) * p.qHeads + kvHead * group) * D;
  const uint32_t* row0 = reinterpret_cast<const uint32_t*>(base + g * D);
  const uint32_t* row1 = reinterpret_cast<const uint32_t*>(base + (g + 8) * D);
  const bool has0 = g < group, has1 = g + 8 < group;
#pragma unroll
  for (int kk = 0; kk < D / 16; kk++) {
    const int lo = kFp8Order ? 32 * (kk >> 2) + 8 * q4 + 2 * (kk & 3) : 8 * kk + q4;
    const int hi = kFp8Order ? lo + 1 : lo + 4;
    qa[kk][0] = has0 ? row0[lo] : 0u;
    qa[kk][1] = has1 ? row1[lo] : 0u;
    qa[kk][2] = has0 ? row0[hi] : 0u;
    qa[kk][3] = has1 ? row1[hi] : 0u;
  }
}

// Issues the cp.async of one stage: positions [stageStart, stageStart + 64) of one kv head,
// rows at or past tokEnd, and row `skip`, zero-filled. The page of a row is read at its table index
// clamped into the table row, not at a position known to be valid: the lookup then does not wait
// for the context length (tokEnd), and an entry read for a masked row is never used.
template <int D>
__device__ __forceinline__ void load_kv_stage(const DecodeAttentionParams& p, const int* table,
                                              int kvHead, int stageStart, int tokEnd, bf16* sK,
                                              bf16* sV, int skip = -1) {
  using S = DecodeShape<D>;
  constexpr int kRowsPerPass = S::kThreads / S::kChunksPerRow;
  constexpr int kPasses = S::kStageTokens / kRowsPerPass;
  const int c = threadIdx.x % S::kChunksPerRow;
  const int r0 = threadIdx.x / S::kChunksPerRow;
  const int inBlockMask = p.blockSize - 1;
  const int lastEntry = p.blockTableStride - 1;
#pragma unroll
  for (int i = 0; i < kPasses; i++) {
    const int r = r0 + i * kRowsPerPass;
    const int t = stageStart + r;
    const int page = table[min(t >> p.blockShift, lastEntry)];
    const bool valid = t < tokEnd && t != skip;
    const size_t row =
        (static_cast<size_t>(page) * p.blockSize + (t & inBlockMask)) * p.kvHeads + kvHead;
    const size_t off = valid ? row * D + c * 8 : 0;
    const int s = swizzle<S::kChunksPerRow>(r, c) * 8;
    cp_async16(sK + s, p.kCache + off, valid);
    cp_async16(sV + s, p.vCache + off, valid);
  }
}

// The cp.async of position t's K and V rows into their place in the stage that starts at
// stageStart (as load_kv_stage lays it), by the CTA's first D / 8 threads.
template <int D>
__device__ __forceinline__ void load_kv_row(const DecodeAttentionParams& p, const int* table, int kvHead,
                                            int stageStart, int t, bf16* sK, bf16* sV) {
  using S = DecodeShape<D>;
  const int c = threadIdx.x;
  if (c < S::kChunksPerRow) {
    const int page = table[t >> p.blockShift];
    const size_t row =
        (static_cast<size_t>(page) * p.blockSize + (t & (p.blockSize - 1))) * p.kvHeads + kvHead;
    const int s = swizzle<S::kChunksPerRow>(t - stageStart, c) * 8;
    cp_async16(sK + s, p.kCache + row * D + c * 8, true);
    cp_async16(sV + s, p.vCache + row * D + c * 8, true);
  }
}

// The online softmax of one warp's 16 positions (tokBase + column): masks columns at or past
// tokEnd, rescales the running state and turns the scores into P's A fragments (register for
// register, the score fragments are P's 16 x 16 A operand).
template <int D>
__device__ __forceinline__ void softmax_stage(float (&s)[2][4], int tokBase, int tokEnd,
                                              float scaleLog2, WarpSoftmax<D>& st, uint32_t (&pa)[4]) {
  const int q4 = threadIdx.x & 3;
  float mx[2] = {DF_NEG_INF, DF_NEG_INF};
#pragma unroll
  for (int j = 0; j < 2; j++)
#pragma unroll
    for (int e = 0; e < 4; e++) {
      const int tok = tokBase + j * 8 + 2 * q4 + (e & 1);
      const float v = tok < tokEnd ? s[j][e] * scaleLog2 : DF_NEG_INF;
      s[j][e] = v;
      mx[e >> 1] = fmaxf(mx[e >> 1], v);
    }
  float alpha[2], mUse[2], rowSum[2] = {0.f, 0.f};
#pragma unroll
  for (int h = 0; h < 2; h++) {
    mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 1));
    mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 2));
    const float mNew = fmaxf(st.m[h], mx[h]);
    // While a row has seen only masked positions its max is -inf; subtracting 0 instead keeps
    // exp2(-inf - x) = 0 and never forms -inf - (-inf).
    mUse[h] = mNew == DF_NEG_INF ? 0.f : mNew;
    alpha[h] = fast_exp2(st.m[h] - mUse[h]);
    st.m[h] = mNew;
  }
#pragma unroll
  for (int j = 0; j < 2; j++)
#pragma unroll
    for (int e = 0; e < 4; e++) {
      const float pe = fast_exp2(s[j][e] - mUse[e >> 1]);
      s[j][e] = pe;
      rowSum[e >> 1] += pe;
    }
  st.l[0] = st.l[0] * alpha[0] + rowSum[0];
  st.l[1] = st.l[1] * alpha[1] + rowSum[1];
#pragma unroll
  for (int nt = 0; nt < D / 8; nt++) {
    st.o[nt][0] *= alpha[0];
    st.o[nt][1] *= alpha[0];
    st.o[nt][2] *= alpha[1];
    st.o[nt][3] *= alpha[1];
  }

  pa[0] = pack_bf16x2(s[0][0], s[0][1]);
  pa[1] = pack_bf16x2(s[0][2], s[0][3]);
  pa[2] = pack_bf16x2(s[1][0], s[1][1]);
  pa[3] = pack_bf16x2(s[1][2], s[1][3]);
}

// One warp, 16 positions starting at tokBase: scores, online softmax, weighted sum of V.
template <int D>
__device__ __forceinline__ void attend_stage(const uint32_t (&qa)[D / 16][4], const bf16* sK,
                                             const bf16* sV, int tokBase, int tokEnd,
                                             float scaleLog2, WarpSoftmax<D>& st) {
  using S = DecodeShape<D>;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int mi = lane >> 3, r8 = lane & 7;

  float s[2][4];
#pragma unroll
  for (int j = 0; j < 2; j++)
#pragma unroll
    for (int e = 0; e < 4; e++) s[j][e] = 0.f;
#pragma unroll
  for (int kk = 0; kk < D / 16; kk++) {
    uint32_t b[4];
    // Matrices: (positions 0-7, d 16kk..+7), (0-7, +8..15), (8-15, ..), (8-15, ..).
    const int r = warp * 16 + (mi >> 1) * 8 + r8;
    const int c = 2 * kk + (mi & 1);
    ldmatrix_x4(b, sK + swizzle<S::kChunksPerRow>(r, c) * 8);
    mma_bf16(s[0], qa[kk], b[0], b[1]);
    mma_bf16(s[1], qa[kk], b[2], b[3]);
  }
  uint32_t pa[4];
  softmax_stage<D>(s, tokBase, tokEnd, scaleLog2, st, pa);
#pragma unroll
  for (int j = 0; j < D / 16; j++) {
    uint32_t b[4];
    // Transposed matrices: (positions 0-7, d chunk 2j), (8-15, 2j), (0-7, 2j+1), (8-15, 2j+1).
    const int r = warp * 16 + (mi & 1) * 8 + r8;
    const int c = 2 * j + (mi >> 1);
    ldmatrix_x4_trans(b, sV + swizzle<S::kChunksPerRow>(r, c) * 8);
    mma_bf16(st.o[2 * j], pa, b[0], b[1]);
    mma_bf16(st.o[2 * j + 1], pa, b[2], b[3]);
  }
}

// Merges the four warps' states and writes the item's result: `out` for a single-chunk
// sequence, else its partial and log-sum-exp. `smem` is free (the pipeline has drained).
// kFp8Cols: output column n of fragment nt is dim (D / 8) n + nt (attend_stage_fp8's order), else
// dim 8 nt + n. The warps' outputs are staged in fragment order either way.
template <int D, bool kFp8Cols = false>
__device__ __forceinline__ void finish_item(const DecodeAttentionParams& p, const DecodeItem& it,
                                            int group, WarpSoftmax<D>& st, float* smem,
                                            float outScale = 1.f) {
  using S = DecodeShape<D>;
  float* mw = smem;                        // (warps, 16)
  float* lw = smem + S::kWarps * 16;       // (warps, 16)
  float* ow = smem + 2 * S::kWarps * 16;   // (warps, 16, D)
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, q4 = lane & 3;
#pragma unroll
  for (int h = 0; h < 2; h++) {
    st.l[h] += __shfl_xor_sync(0xffffffffu, st.l[h], 1);
    st.l[h] += __shfl_xor_sync(0xffffffffu, st.l[h], 2);
    const int row = g + 8 * h;
    if (q4 == 0 && row < group) {
      mw[warp * 16 + row] = st.m[h];
      lw[warp * 16 + row] = st.l[h];
    }
  }
#pragma unroll
  for (int nt = 0; nt < D / 8; nt++)
#pragma unroll
    for (int e = 0; e < 4; e++) {
      const int row = g + 8 * (e >> 1);
      if (row < group) ow[(warp * 16 + row) * D + nt * 8 + 2 * q4 + (e & 1)] = st.o[nt][e];
    }
  __syncthreads();

  const bool direct = it.nChunks == 1;
  const int slot = direct ? 0 : it.slotBase + it.chunk;
  for (int e = threadIdx.x; e < group * D; e += S::kThreads) {
    const int row = e / D, d = e % D;
    const int col = kFp8Cols ? (d % (D / 8)) * 8 + d / (D / 8) : d;
    float M = DF_NEG_INF;
#pragma unroll
    for (int w = 0; w < S::kWarps; w++) M = fmaxf(M, mw[w * 16 + row]);
    float L = 0.f, O = 0.f;
#pragma unroll
    for (int w = 0; w < S::kWarps; w++) {
      const float mv = mw[w * 16 + row];
      const float f = mv == DF_NEG_INF ? 0.f : fast_exp2(mv - M);
      L += f * lw[w * 16 + row];
      O += f * ow[(w * 16 + row) * D + col];
    }
    if (direct) {
      const size_t o = (static_cast<size_t>(it.seq) * p.qHeads + it.kvHead * group + row) * D + d;
      p.out[o] = __float2bfloat16_rn(O * outScale / L);
    } else {
      p.partialOut[(static_cast<size_t>(slot) * group + row) * D + d] = O * outScale / L;
      if (d == 0) p.partialLse[static_cast<size_t>(slot) * group + row] = M + __log2f(L);
    }
  }
}

}  // namespace df

#include "decode_attention_combine.cuh"

namespace df {

template <int D>
__device__ __forceinline__ bf16* stage_k(bf16* smem, int stage) {
  return smem + (2 * stage) * DecodeShape<D>::kStageElems;
}

template <int D>
__device__ __forceinline__ bf16* stage_v(bf16* smem, int stage) {
  return smem + (2 * stage + 1) * DecodeShape<D>::kStageElems;
}

// early: the CTA's first item, before pdl_entry. Its first stages' KV rows, all written by earlier
// steps but the step's own token (it.last, which the launch before appends), are issued first; then
// the wait; then q and that one row (into its stage where it falls in the first stages, in a group of
// its own, which the first stage's wait takes in).
template <int D>
__device__ __forceinline__ void process_item(const DecodeAttentionParams& p, const DecodeItem& it,
                                             int group, bf16* smem, bool early) {
  using S = DecodeShape<D>;
  const int warp = threadIdx.x >> 5;
  const int* table = p.blockTables + static_cast<size_t>(it.seq) * p.blockTableStride;
  const int nStages = (it.tokEnd - it.tokStart + S::kStageTokens - 1) / S::kStageTokens;
  // The prologue does not test s < nStages (that would wait for the context length before the
  // table lookups): a stage past the chunk is all masked rows, zero-filled and never read.
#pragma unroll
  for (int s = 0; s < S::kStages - 1; s++) {
    load_kv_stage<D>(p, table, it.kvHead, it.tokStart + s * S::kStageTokens, it.tokEnd,
                     stage_k<D>(smem, s), stage_v<D>(smem, s), early ? it.last : -1);
    cp_async_commit();
  }
  if (early) {
    pdl_entry();
    const int s = (it.last - it.tokStart) / S::kStageTokens;
    if (it.last >= it.tokStart && it.last < it.tokEnd && s < S::kStages - 1) {
      load_kv_row<D>(p, table, it.kvHead, it.tokStart + s * S::kStageTokens, it.last, stage_k<D>(smem, s),
                     stage_v<D>(smem, s));
    }
    cp_async_commit();
  }
  uint32_t qa[D / 16][4];
  load_q<D>(p, it.seq, it.kvHead, group, qa);
  WarpSoftmax<D> st;
#pragma unroll
  for (int nt = 0; nt < D / 8; nt++)
#pragma unroll
    for (int e = 0; e < 4; e++) st.o[nt][e] = 0.f;
  st.m[0] = st.m[1] = DF_NEG_INF;
  st.l[0] = st.l[1] = 0.f;

  for (int i = 0; i < nStages; i++) {
    if (early && i == 0) {
      cp_async_wait<0>();  // the own row's group came after the prologue's
    } else {
      cp_async_wait<S::kStages - 2>();
    }
    __syncthreads();  // stage i visible to all; everyone is done with stage i - 1's buffer
    const int next = i + S::kStages - 1;
    if (next < nStages) {
      const int b = next % S::kStages;
      load_kv_stage<D>(p, table, it.kvHead, it.tokStart + next * S::kStageTokens, it.tokEnd,
                       stage_k<D>(smem, b), stage_v<D>(smem, b));
    }
    cp_async_commit();
    const int warpStart = it.tokStart + i * S::kStageTokens + warp * 16;
    if (warpStart < it.tokEnd) {
      const int b = i % S::kStages;
      attend_stage<D>(qa, stage_k<D>(smem, b), stage_v<D>(smem, b), warpStart, it.tokEnd,
                      p.scaleLog2, st);
    }
  }
  cp_async_wait<0>();
  __syncthreads();
  finish_item<D>(p, it, group, st, reinterpret_cast<float*>(smem));
  __syncthreads();
}

// Byte offset of 16-byte vector c of row r (0..15) in one warp's rows of an FP8 stage (K or V). Rows
// are D bytes, placed so that attend_stage_fp8's reads are conflict-free: at D = 128 the two 64-byte
// halves of odd rows are swapped (the eight rows of one K read then cover the 32 banks twice); at
// D = 64 two rows share a 128-byte line, and the row of each pair that takes the upper half
// alternates every two rows (rows 0, 2, 4, 6 of one V read then sit in alternate halves).
template <int D>
__device__ __forceinline__ int fp8_vec_at(int r, int c) {
  if constexpr (D == 128) {
    return r * 128 + ((c ^ ((r & 1) << 2)) << 4);
  } else {
    return ((r & ~1) | ((r ^ (r >> 1)) & 1)) * 64 + c * 16;
  }
}

// One warp's rows of an FP8 stage: positions [rowStart, rowStart + 16) of one kv head as codes, into
// the warp's 16 rows of the stage (sK, sV: the warp's K and V codes, laid out by fp8_vec_at), rows
// at or past tokEnd zero-filled (code 0 is +0).
template <int D>
__device__ __forceinline__ void load_kv_rows_fp8(const DecodeAttentionParams& p, const int* table,
                                                 int kvHead, int rowStart, int tokEnd, uint8_t* sK,
                                                 uint8_t* sV, int skip = -1) {
  constexpr int kVecsPerRow = D / 16;
  constexpr int kRowsPerPass = 32 / kVecsPerRow;
  constexpr int kPasses = 16 / kRowsPerPass;
  const int lane = threadIdx.x & 31;
  const int c = lane % kVecsPerRow;
  const int r0 = lane / kVecsPerRow;
  const int inBlockMask = p.blockSize - 1;
  const int lastEntry = p.blockTableStride - 1;
  const uint8_t* kCache = reinterpret_cast<const uint8_t*>(p.kCache);
  const uint8_t* vCache = reinterpret_cast<const uint8_t*>(p.vCache);
#pragma unroll
  for (int i = 0; i < kPasses; i++) {
    const int r = r0 + i * kRowsPerPass;
    const int t = rowStart + r;
    const int page = table[min(t >> p.blockShift, lastEntry)];
    const bool valid = t < tokEnd && t != skip;
    const size_t row =
        (static_cast<size_t>(page) * p.blockSize + (t & inBlockMask)) * p.kvHeads + kvHead;
    const size_t off = valid ? row * D + c * 16 : 0;
    const int at = fp8_vec_at<D>(r, c);
    cp_async16(sK + at, kCache + off, valid);
    cp_async16(sV + at, vCache + off, valid);
  }
}

// The cp.async of position t's K and V codes into row r of one warp's rows of an FP8 stage (sK, sV
// laid out by fp8_vec_at), by the warp's first D / 16 lanes.
template <int D>
__device__ __forceinline__ void load_kv_row_fp8(const DecodeAttentionParams& p, const int* table, int kvHead,
                                                int t, int r, uint8_t* sK, uint8_t* sV) {
  const int c = threadIdx.x & 31;
  if (c < D / 16) {
    const int page = table[t >> p.blockShift];
    const size_t row =
        (static_cast<size_t>(page) * p.blockSize + (t & (p.blockSize - 1))) * p.kvHeads + kvHead;
    const int at = fp8_vec_at<D>(r, c);
    cp_async16(sK + at, reinterpret_cast<const uint8_t*>(p.kCache) + row * D + c * 16, true);
    cp_async16(sV + at, reinterpret_cast<const uint8_t*>(p.vCache) + row * D + c * 16, true);
  }
}

// Widens kRows rows of an FP8 stage from row rowBase into bf16 tiles swizzled as load_kv_stage lays
// them, vector `first`, first + kStride, ... of their K then V vectors by this thread (the paged
// prefill kernel's FP8 stages: codes row-major, D bytes a row).
template <int D, int kRows, int kStride>
__device__ __forceinline__ void widen_fp8(const uint8_t* sK8, const uint8_t* sV8, bf16* sK, bf16* sV,
                                          int rowBase, int first) {
  using S = DecodeShape<D>;
  constexpr int kVecsPerRow = D / 16;
  constexpr int kVecs = kRows * kVecsPerRow;
#pragma unroll
  for (int e = first; e < 2 * kVecs; e += kStride) {
    const bool isV = e >= kVecs;
    const int ev = isV ? e - kVecs : e;
    const int r = rowBase + ev / kVecsPerRow, c = ev % kVecsPerRow;
    const uint4 codes = *reinterpret_cast<const uint4*>((isV ? sV8 : sK8) + r * D + c * 16);
    const uint2 w0 = fp8x4_to_bf16x4(codes.x), w1 = fp8x4_to_bf16x4(codes.y);
    const uint2 w2 = fp8x4_to_bf16x4(codes.z), w3 = fp8x4_to_bf16x4(codes.w);
    bf16* tile = isV ? sV : sK;
    *reinterpret_cast<uint4*>(tile + swizzle<S::kChunksPerRow>(r, 2 * c) * 8) =
        make_uint4(w0.x, w0.y, w1.x, w1.y);
    *reinterpret_cast<uint4*>(tile + swizzle<S::kChunksPerRow>(r, 2 * c + 1) * 8) =
        make_uint4(w2.x, w2.y, w3.x, w3.y);
  }
}

// Widens a whole FP8 stage, the CTA's threads together (the paged prefill kernel's FP8 stages).
template <int D>
__device__ __forceinline__ void widen_stage_fp8(const uint8_t* sK8, const uint8_t* sV8, bf16* sK,
                                                bf16* sV) {
  using S = DecodeShape<D>;
  widen_fp8<D, S::kStageTokens, S::kThreads>(sK8, sV8, sK, sV, 0, threadIdx.x);
}

// attend_stage over one warp's 16 rows of FP8 codes (sK, sV: laid out by fp8_vec_at), with qa in
// load_q's kFp8Order. Scores: for n-tile j a lane (g, q4) reads row 8j + g, vector 4h + q4; word m of
// it holds dims 64h + 16 q4 + 4m .. +3, which are the lane's B elements of fragment kk = 4h + m, so
// one widening gives both B registers. Output: a lane's B elements of every PV fragment are rows
// {2q4, 2q4 + 1} (b0) and {2q4 + 8, 2q4 + 9} (b1) of P's columns at the dims (D / 8) g + nt, nt =
// 0 .. D / 8 - 1: D / 8 adjacent codes of each of those four rows. Pairing the bytes of two rows
// (one permute) makes each widened register a (row, row + 1) pair of one dim.
template <int D>
__device__ __forceinline__ void attend_stage_fp8(const uint32_t (&qa)[D / 16][4], const uint8_t* sK,
                                                 const uint8_t* sV, int tokBase, int tokEnd,
                                                 float scaleLog2, WarpSoftmax<D>& st) {
  const int lane = threadIdx.x & 31;
  const int g = lane >> 2, q4 = lane & 3;
  float s[2][4];
#pragma unroll
  for (int j = 0; j < 2; j++) {
#pragma unroll
    for (int e = 0; e < 4; e++) s[j][e] = 0.f;
#pragma unroll
    for (int h = 0; h < D / 64; h++) {
      const uint4 v = *reinterpret_cast<const uint4*>(sK + fp8_vec_at<D>(8 * j + g, 4 * h + q4));
      const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
      for (int m = 0; m < 4; m++) {
        const uint2 b = fp8x4_to_bf16x4(w[m]);
        mma_bf16(s[j], qa[4 * h + m], b.x, b.y);
      }
    }
  }
  uint32_t pa[4];
  softmax_stage<D>(s, tokBase, tokEnd, scaleLog2, st, pa);

  // Rows 2q4, 2q4 + 1, 2q4 + 8, 2q4 + 9: D / 8 codes each from byte (D / 8) g; as 32-bit words.
  constexpr int kWords = D / 32;
  uint32_t rows[4][kWords];
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int r = 2 * q4 + (i & 1) + 8 * (i >> 1);
    if constexpr (D == 128) {
      const uint4 v = *reinterpret_cast<const uint4*>(sV + fp8_vec_at<D>(r, g));
      rows[i][0] = v.x;
      rows[i][1] = v.y;
      rows[i][2] = v.z;
      rows[i][3] = v.w;
    } else {
      const uint2 v = *reinterpret_cast<const uint2*>(sV + fp8_vec_at<D>(r, g >> 1) + (g & 1) * 8);
      rows[i][0] = v.x;
      rows[i][1] = v.y;
    }
  }
#pragma unroll
  for (int w = 0; w < kWords; w++) {
    // Bytes (a0, b0, a1, b1) and (a2, b2, a3, b3) of rows a, b = a + 1: dims 4w .. 4w + 3.
    const uint2 lo0 = fp8x4_to_bf16x4(__byte_perm(rows[0][w], rows[1][w], 0x5140));
    const uint2 hi0 = fp8x4_to_bf16x4(__byte_perm(rows[0][w], rows[1][w], 0x7362));
    const uint2 lo1 = fp8x4_to_bf16x4(__byte_perm(rows[2][w], rows[3][w], 0x5140));
    const uint2 hi1 = fp8x4_to_bf16x4(__byte_perm(rows[2][w], rows[3][w], 0x7362));
    mma_bf16(st.o[4 * w], pa, lo0.x, lo1.x);
    mma_bf16(st.o[4 * w + 1], pa, lo0.y, lo1.y);
    mma_bf16(st.o[4 * w + 2], pa, hi0.x, hi1.x);
    mma_bf16(st.o[4 * w + 3], pa, hi0.y, hi1.y);
  }
}

// process_item over an FP8 cache. Warp w attends positions 16w..16w+15 of every stage, so each warp
// runs its own pipeline over its own rows: it copies their codes (kFp8Stages deep) and attends them
// straight from the codes, with __syncwarp where the bf16 kernel has CTA barriers (a warp waits for
// its own copies only and reads its own rows only). The CTA meets once an item, before the warps'
// softmax states are merged.
// early: as process_item's (the own row, it.last, issued after the wait by the warp whose rows hold it).
template <int D>
__device__ __forceinline__ void process_item_fp8(const DecodeAttentionParams& p, const DecodeItem& it,
                                                 int group, bf16* smem, bool early) {
  using S = DecodeShape<D>;
  constexpr int kStages = S::kFp8Stages;
  constexpr int kHalf = S::kFp8StageBytes / 2;  // a stage's K codes, then its V codes
  const int warp = threadIdx.x >> 5;
  uint8_t* codes = reinterpret_cast<uint8_t*>(smem) + warp * 16 * D;  // this warp's rows
  const int* table = p.blockTables + static_cast<size_t>(it.seq) * p.blockTableStride;
  const int nStages = (it.tokEnd - it.tokStart + S::kStageTokens - 1) / S::kStageTokens;
  const int warpOffset = it.tokStart + warp * 16;
#pragma unroll
  for (int s = 0; s < kStages - 1; s++) {
    uint8_t* b = codes + s * S::kFp8StageBytes;
    load_kv_rows_fp8<D>(p, table, it.kvHead, warpOffset + s * S::kStageTokens, it.tokEnd, b, b + kHalf,
                        early ? it.last : -1);
    cp_async_commit();
  }
  if (early) {
    pdl_entry();
    const int at = it.last - it.tokStart;  // the own row: stage at / 64, warp (at % 64) / 16, row at % 16
    const int s = at / S::kStageTokens;
    if (at >= 0 && it.last < it.tokEnd && s < kStages - 1 && (at % S::kStageTokens) / 16 == warp) {
      uint8_t* b = codes + s * S::kFp8StageBytes;
      load_kv_row_fp8<D>(p, table, it.kvHead, it.last, at % 16, b, b + kHalf);
    }
    cp_async_commit();
  }
  uint32_t qa[D / 16][4];
  load_q<D, true>(p, it.seq, it.kvHead, group, qa);
  WarpSoftmax<D> st;
#pragma unroll
  for (int nt = 0; nt < D / 8; nt++)
#pragma unroll
    for (int e = 0; e < 4; e++) st.o[nt][e] = 0.f;
  st.m[0] = st.m[1] = DF_NEG_INF;
  st.l[0] = st.l[1] = 0.f;

  const float scoreScale = p.scaleLog2 * p.kScale;
  for (int i = 0; i < nStages; i++) {
    if (early && i == 0) {
      cp_async_wait<0>();  // the own row's group came after the prologue's
    } else {
      cp_async_wait<kStages - 2>();
    }
    __syncwarp();  // the warp's rows of stage i landed; its lanes are done reading stage i - 1
    const int next = i + kStages - 1;
    if (next < nStages) {
      uint8_t* b = codes + (next % kStages) * S::kFp8StageBytes;
      load_kv_rows_fp8<D>(p, table, it.kvHead, warpOffset + next * S::kStageTokens, it.tokEnd, b,
                          b + kHalf);
    }
    cp_async_commit();
    const int warpStart = warpOffset + i * S::kStageTokens;
    if (warpStart < it.tokEnd) {  // warp-uniform
      const uint8_t* b = codes + (i % kStages) * S::kFp8StageBytes;
      attend_stage_fp8<D>(qa, b, b + kHalf, warpStart, it.tokEnd, scoreScale, st);
    }
  }
  cp_async_wait<0>();
  __syncthreads();
  finish_item<D, true>(p, it, group, st, reinterpret_cast<float*>(smem), p.vScale);
  __syncthreads();
}

// After a chunk of a multi-chunk pair wrote its partial: counts it in the pair's counter; the CTA that counts the
// last chunk merges the pair's partials into out and puts the counter back to zero.
template <int D>
__device__ __forceinline__ void merge_if_last(const DecodeAttentionParams& p, const DecodeItem& it, int group) {
  int* done = &p.counters[2 + it.seq * p.kvHeads + it.kvHead];
  if (counted_last(done, it.nChunks)) {
    merge_pair<D>(p, it.seq, it.kvHead, it.nChunks, group, it.slotBase);
    if (threadIdx.x == 0) atomicExch(done, 0);
  }
}

// The item loop of both variants: CTA b of a grid of G takes items b, 2G - 1 - b, 2G + b, ...
// (a split launch has G = numItems, so one item each). kMerge: the CTA that completes the last
// chunk of a (sequence, kv head) merges its partials in this launch (persistent variant);
// otherwise the combine kernel does. The kernels call it before pdl_entry: the work item, the context
// length, the block table and the KV rows of earlier steps are read first (no launch of the step
// writes them), and the first item waits (process_item's early) before it reads q, the step's own
// KV row, or writes anything; a CTA without an item exits without touching memory.
template <int D, bool kMerge, bool kFp8 = false>
__device__ __forceinline__ void decode_items(const DecodeAttentionParams& p) {
  extern __shared__ uint4 dynamic_smem[];
  bf16* smem = reinterpret_cast<bf16*>(dynamic_smem);
  const int group = p.qHeads / p.kvHeads;
  const int grid = static_cast<int>(gridDim.x);
  const int b = static_cast<int>(blockIdx.x);
  for (int round = 0; round * grid < p.numItems; round++) {
    const int i = round * grid + ((round & 1) ? grid - 1 - b : b);
    if (i >= p.numItems) continue;  // uniform in the CTA
    const DecodeItem it = decode_item(p, i);
    if constexpr (kFp8) {
      process_item_fp8<D>(p, it, group, smem, round == 0);
    } else {
      process_item<D>(p, it, group, smem, round == 0);
    }
    if (kMerge && it.nChunks > 1) merge_if_last<D>(p, it, group);
  }
}

template <int D, bool kFp8 = false>
__device__ __forceinline__ void decode_split(const DecodeAttentionParams& p) {
  decode_items<D, false, kFp8>(p);
}

template <int D>
__device__ __forceinline__ void decode_combine(const DecodeAttentionParams& p) {
  const int seq = blockIdx.y, kvHead = blockIdx.x;
  const int ctx = p.contextLens[seq];
  const int base = p.partialBase[seq];  // -1 for a single-chunk sequence
  const int nChunks = (ctx + p.chunkTokens - 1) / p.chunkTokens;
  // Both loads feed the test (non-short-circuit |), so they go out in one round trip.
  if ((nChunks <= 1) | (base < 0)) return;
  merge_pair<D>(p, seq, kvHead, nChunks, p.qHeads / p.kvHeads, base + kvHead * nChunks);
}

template <int D, bool kFp8 = false>
__device__ __forceinline__ void decode_persistent(const DecodeAttentionParams& p) {
  decode_items<D, true, kFp8>(p);
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(128, 2)
    df_decode_attention_d128(const __grid_constant__ DecodeAttentionParams p) {
  df::decode_split<128>(p);
}

extern "C" __global__ void __launch_bounds__(128, 3)
    df_decode_attention_d64(const __grid_constant__ DecodeAttentionParams p) {
  df::decode_split<64>(p);
}

extern "C" __global__ void __launch_bounds__(128)
    df_decode_attention_combine_d128(const __grid_constant__ DecodeAttentionParams p) {
  df::pdl_entry();
  df::decode_combine<128>(p);
}

extern "C" __global__ void __launch_bounds__(128)
    df_decode_attention_combine_d64(const __grid_constant__ DecodeAttentionParams p) {
  df::pdl_entry();
  df::decode_combine<64>(p);
}

extern "C" __global__ void __launch_bounds__(128, 2)
    df_decode_attention_persistent_d128(const __grid_constant__ DecodeAttentionParams p) {
  df::decode_persistent<128>(p);
}

extern "C" __global__ void __launch_bounds__(128, 3)
    df_decode_attention_persistent_d64(const __grid_constant__ DecodeAttentionParams p) {
  df::decode_persistent<64>(p);
}

extern "C" __global__ void __launch_bounds__(128, 3)
    df_decode_attention_fp8_d128(const __grid_constant__ DecodeAttentionParams p) {
  df::decode_split<128, true>(p);
}

extern "C" __global__ void __launch_bounds__(128, 4)
    df_decode_attention_fp8_d64(const __grid_constant__ DecodeAttentionParams p) {
  df::decode_split<64, true>(p);
}

extern "C" __global__ void __launch_bounds__(128, 3)
    df_decode_attention_persistent_fp8_d128(const __grid_constant__ DecodeAttentionParams p) {
  df::decode_persistent<128, true>(p);
}

extern "C" __global__ void __launch_bounds__(128, 4)
    df_decode_attention_persistent_fp8_d64(const __grid_constant__ DecodeAttentionParams p) {
  df::decode_persistent<64, true>(p);
}
