// Causal prefill attention on the Hopper tensor cores (wgmma): the same function, parameters and grid
// order as prefill_attention.cu (PrefillAttentionParams), head dim 128, sm_90a only.
//
// Variant: df_prefill_attention_wgmma_d128 (on sm_90 where its grid has 128 CTAs or more, PrefillAttentionParams
// and DECODEFLEET_PREFILL_ATTENTION_WGMMA say, when the TMA kernels of prefill_attention_tma.cu, which reuse its
// consumers, cannot run or DECODEFLEET_PREFILL_ATTENTION_TMA=off). A CTA of two
// warpgroups takes 128 query rows of one head of one sequence, 64 a warpgroup, and streams 128-key K and V
// tiles through two rings of two cp.async slots each, shared by both. Per key tile a warpgroup issues
//   S (64 x 128) = Q · Kᵀ: 8 wgmma m64n128k16, Q and K read from shared memory by descriptors
//     (K-major, 128-byte swizzle: each tile as two halves of 64 columns);
//   the online softmax in float32 on S (the accumulator layout is mma.sync's C fragment per warp, so
//     the row reductions are prefill_attention.cu's), the mask applied on the diagonal tile only and
//     the scale folded into the exponential's argument (exp2(s·c − m·c), one FFMA);
//   O (64 x 128) += P · V: 8 wgmma m64n128k16 with P (bf16) from registers as A and V from shared
//     memory as an MN-major B (transposed by the instruction: keys are its k, head dims its n).
// The two are software-pipelined by one key tile inside each warpgroup (FlashAttention-3's intra-warpgroup
// overlap): tile t + 1's Q · Kᵀ is issued before tile t's P · V and its softmax runs while P · V does, so the
// CUDA cores' exponentials and the tensor cores' products overlap in one warpgroup, not only across CTAs.
// Query and key tiles are both 128-aligned, so every warpgroup has a key in every tile (only the last is
// masked) and walks all of them: no wgmma sits on a divergent path.
// One CTA an SM (S of the next tile, P of this one and O live at once).
// cp.async writes through the generic proxy and wgmma reads through the async one: each thread
// fences (fence.proxy.async.shared::cta) after its copies complete, before the barrier that hands the
// tile to the MMAs. Every wgmma group is waited for before its slot is refilled.
// Layouts as prefill_attention.cu. Grid: (qHeads, ceil(maxSeqLen / 128), numSeqs); block: 256 threads;
// dynamic shared memory 1 KB (alignment to the swizzle atom) + Q (2 x 16 KB) + 2 K slots + 2 V slots
// (32 KB each) = 161 KB.
//
// Every other target (sm_100a, the compute_90 PTX) compiles a body that traps; the host launches it
// on sm_90 only.

namespace df {

struct WgmmaAttentionShape {
  static constexpr int kThreads = 256;
  static constexpr int kRows = 128;        // query rows a CTA, 64 a warpgroup
  static constexpr int kKeys = 128;        // keys a K or V tile
  static constexpr int kQBytes = 64 * 128 * 2;     // a warpgroup's 64 query rows of head dim 128, bf16: 16 KB
  static constexpr int kKvBytes = 128 * 128 * 2;   // 128 keys of head dim 128: 32 KB
  static constexpr int kSmemBytes = 1024 + 2 * kQBytes + 4 * kKvBytes;
};

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)

// ROWS rows [row0, row0 + ROWS) of a (rows, rowStride) bf16 tensor of head dim 128 into the layout wgmma
// reads with the 128-byte swizzle: two halves of 64 columns, ROWS * 128 bytes apart; in a half, row r's
// 16-byte chunk c at r * 128 + ((c ^ (r & 7)) * 16). dst is 1024-aligned. Rows >= rowLimit are zero-filled.
// Thread i copies chunk i & 15 of rows i / 16 + 16 k: the swizzled column is the same for all its rows, so
// a whole tile inside the tensor (every tile but a sequence's last) costs an add of each address per copy.
template <int ROWS>
__device__ __forceinline__ void attn_load_sw128(uint32_t dst, const bf16* g, size_t rowStride, int row0,
                                                int rowLimit) {
  constexpr int kPasses = ROWS * 16 / WgmmaAttentionShape::kThreads;
  const int r0 = threadIdx.x >> 4, c = threadIdx.x & 15;
  const uint32_t at0 = dst + (c >> 3) * (ROWS * 128) + r0 * 128 + (((c & 7) ^ (r0 & 7)) << 4);
  const bf16* src0 = g + static_cast<size_t>(row0 + r0) * rowStride + c * 8;
  const size_t passStride = 16 * rowStride;
  if (row0 + ROWS <= rowLimit) {
#pragma unroll
    for (int k = 0; k < kPasses; k++)
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(at0 + k * 16 * 128), "l"(src0 + k * passStride));
  } else {
#pragma unroll
    for (int k = 0; k < kPasses; k++) {
      const bool valid = row0 + r0 + 16 * k < rowLimit;
      asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(at0 + k * 16 * 128),
                   "l"(valid ? src0 + k * passStride : g), "r"(valid ? 16 : 0));
    }
  }
}

// Descriptor of an MN-major operand in the 128-byte swizzle (wgmma B with the transpose bit): atoms of
// 8 rows of k, each 128 bytes of n; 1024 bytes between atoms along k (stride byte offset), 16384
// between the two 64-column halves of a 128-key tile along n (leading byte offset).
__device__ __forceinline__ uint64_t sw128_mn_desc(uint32_t addr) {
  return static_cast<uint64_t>((addr & 0x3FFFF) >> 4) | (static_cast<uint64_t>(16384 >> 4) << 16) |
         (64ull << 32) | (1ull << 62);
}

// d[64 x 128] (+)= A[64 x 16] · B[128 x 16]ᵀ, both K-major in shared memory.
__device__ __forceinline__ void wgmma_m64n128k16_ss(float (&d)[64], uint64_t descA, uint64_t descB, int accumulate) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
      "}, %64, %65, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
      : "l"(descA), "l"(descB), "r"(accumulate));
}

// d[64 x 128] (+)= A[64 x 16] · B[16 x 128]: A (bf16) from registers in mma.sync's A-fragment layout per
// warp, B MN-major in shared memory (transposed by the instruction).
__device__ __forceinline__ void wgmma_m64n128k16_rs(float (&d)[64], const uint32_t (&a)[4], uint64_t descB,
                                                    int accumulate) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
      "}, {%64, %65, %66, %67}, %68, p, 1, 1, 1;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB), "r"(accumulate));
}

__device__ __forceinline__ void fence_proxy_async() {
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}

// Pins a register the asynchronous MMAs read or write at this point of the program: the compiler may not
// move its other uses across (the MMAs' own asm statements do not tell it when they complete).
__device__ __forceinline__ void pin(float& x) { asm volatile("" : "+f"(x)::"memory"); }
__device__ __forceinline__ void pin(uint32_t& x) { asm volatile("" : "+r"(x)::"memory"); }

// S (64 x 128) = Q · K_tᵀ for a warpgroup: 8 k16 steps, committed as one group, not waited for. Q's halves
// are a 64-row tile's 8 KB apart, K's a 128-key tile's 16 KB.
__device__ __forceinline__ void attn_issue_scores(float (&s)[64], uint64_t descQ, uint64_t descK) {
#pragma unroll
  for (int kk = 0; kk < 128 / 16; kk++) {
    // k16 step kk: +32 bytes inside a 128-byte row, then the next half (descriptor units of 16 bytes)
    const uint64_t inRow = (kk & 3) * 2;
    wgmma_m64n128k16_ss(s, descQ + (kk >> 2) * (8192 >> 4) + inRow, descK + (kk >> 2) * (16384 >> 4) + inRow, kk > 0);
  }
  wgmma_commit();
}

// O (64 x 128) += P · V_t for a warpgroup, P from registers: 8 k16 steps of 16 keys, one group, not waited for.
__device__ __forceinline__ void attn_issue_pv(float (&o)[64], const uint32_t (&pa)[8][4], uint32_t sV) {
#pragma unroll
  for (int ks = 0; ks < 8; ks++) {
    // keys 16 ks .. 16 ks + 15: two 1024-byte atoms of 8 keys
    wgmma_m64n128k16_rs(o, pa[ks], sw128_mn_desc(sV + ks * 2048), 1);
  }
  wgmma_commit();
}

// The online softmax of key tile t's raw scores s (complete): masked on the tile that reaches past the
// warpgroup's first row or the sequence (key > row or key >= len: -inf; the earlier tiles need no mask), the
// rows' maxima taken on the raw scores and scaled once (c = scale · log2 e > 0), the running max m (in the exp2
// domain) and sum l moved on, s left holding the probabilities exp2(s·c − m) in float32 (one FFMA and the
// exponential each), alpha the factor for what was summed before.
// s[4 * nt + e]: row rowQ[e >> 1], key t * 128 + nt * 8 + 2 * q4 + (e & 1) (prefill_attention.cu's s[nt][e]).
__device__ __forceinline__ void attn_softmax(float (&s)[64], int t, int wgRow0, int len, const int (&rowQ)[2],
                                             int q4, float c, float (&m)[2], float (&l)[2], float (&alpha)[2]) {
  constexpr int kKeys = WgmmaAttentionShape::kKeys;
  if (t * kKeys + kKeys - 1 > wgRow0 || (t + 1) * kKeys > len) {
#pragma unroll
    for (int nt = 0; nt < 16; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const int key = t * kKeys + nt * 8 + 2 * q4 + (e & 1);
        if (key > rowQ[e >> 1] || key >= len) s[4 * nt + e] = DF_NEG_INF;
      }
  }
  float mx[2] = {DF_NEG_INF, DF_NEG_INF};
#pragma unroll
  for (int i = 0; i < 64; i++) mx[(i >> 1) & 1] = fmaxf(mx[(i >> 1) & 1], s[i]);
  mx[0] *= c;
  mx[1] *= c;
  float mUse[2], rowSum[2] = {0.f, 0.f};
  online_max(mx, m, alpha, mUse);
#pragma unroll
  for (int i = 0; i < 64; i++) {
    const float pe = prefill_exp2(fmaf(s[i], c, -mUse[(i >> 1) & 1]));
    s[i] = pe;
    rowSum[(i >> 1) & 1] += pe;
  }
  l[0] = l[0] * alpha[0] + rowSum[0];
  l[1] = l[1] * alpha[1] + rowSum[1];
}

// The probabilities of s as wgmma's register A operand, 16 keys a k-step (n8 blocks 2ks and 2ks + 1 of S).
__device__ __forceinline__ void attn_pack_p(const float (&s)[64], uint32_t (&pa)[8][4]) {
#pragma unroll
  for (int ks = 0; ks < 8; ks++) {
    pa[ks][0] = pack_bf16x2(s[8 * ks + 0], s[8 * ks + 1]);
    pa[ks][1] = pack_bf16x2(s[8 * ks + 2], s[8 * ks + 3]);
    pa[ks][2] = pack_bf16x2(s[8 * ks + 4], s[8 * ks + 5]);
    pa[ks][3] = pack_bf16x2(s[8 * ks + 6], s[8 * ks + 7]);
  }
}

// Both wgmma attention kernels' epilogue: each row's sum completed over the quad of lanes that hold it, O
// divided by it and stored as bf16 (out (tokens, qHeads, 128)); rows past the sequence are not stored.
__device__ __forceinline__ void attn_store(bf16* out, const float (&o)[64], float (&l)[2], const int (&rowQ)[2],
                                           int len, int start, int qHeads, int h, int q4) {
#pragma unroll
  for (int hh = 0; hh < 2; hh++) {
    l[hh] += __shfl_xor_sync(0xffffffffu, l[hh], 1);
    l[hh] += __shfl_xor_sync(0xffffffffu, l[hh], 2);
  }
#pragma unroll
  for (int hh = 0; hh < 2; hh++) {
    if (rowQ[hh] >= len) continue;
    const float inv = 1.f / l[hh];
    bf16* dst = out + (static_cast<size_t>(start + rowQ[hh]) * qHeads + h) * 128;
#pragma unroll
    for (int nt = 0; nt < 16; nt++) {
      const uint32_t v = pack_bf16x2(o[4 * nt + 2 * hh] * inv, o[4 * nt + 2 * hh + 1] * inv);
      *reinterpret_cast<uint32_t*>(dst + nt * 8 + 2 * q4) = v;
    }
  }
}

// The rest of a pipelined iteration once S_t and P_{t-1} · V_{t-1} are issued (S first): wait for S_t, then
// scoresDone() (K_t may be released), tile t's softmax while P · V runs, wait for it, pvDone() (V_{t-1} may be
// released), O rescaled by tile t's factor and P_t packed for the next P · V.
template <typename ScoresDone, typename PvDone>
__device__ __forceinline__ void attn_finish_pair(float (&s)[64], float (&o)[64], uint32_t (&pa)[8][4], int t,
                                                 int wgRow0, int len, const int (&rowQ)[2], int q4, float c,
                                                 float (&m)[2], float (&l)[2], ScoresDone scoresDone, PvDone pvDone) {
  float alpha[2];
  wgmma_wait<1>();  // S_t done; P · V may still run
#pragma unroll
  for (int i = 0; i < 64; i++) pin(s[i]);
  scoresDone();
  attn_softmax(s, t, wgRow0, len, rowQ, q4, c, m, l, alpha);
  wgmma_wait<0>();
#pragma unroll
  for (int i = 0; i < 64; i++) pin(o[i]);
#pragma unroll
  for (int ks = 0; ks < 8; ks++)
#pragma unroll
    for (int r = 0; r < 4; r++) pin(pa[ks][r]);
  pvDone();
#pragma unroll
  for (int i = 0; i < 64; i++) o[i] *= alpha[(i >> 1) & 1];
  attn_pack_p(s, pa);
}

// Software-pipelined by one key tile inside each warpgroup: with tile t's probabilities P_t in registers,
// an iteration issues S_{t+1} = Q · K_{t+1}ᵀ and then O += P_t · V_t, waits for the first only, and runs
// tile t + 1's softmax on the CUDA cores while the tensor cores do P_t · V_t; then waits for that, rescales O
// by tile t + 1's factor and packs P_{t+1}. K_t and V_t lie in slot t & 1 of their rings; at an iteration's
// top, past the barrier that hands it K_{t+1} and V_t, both warpgroups are done with K_t and V_{t-1}, so
// K_{t+2} and V_{t+1} start loading there and are waited for at the next top, a whole iteration later.
__device__ __forceinline__ void prefill_wgmma_d128(const PrefillAttentionParams& p) {
  using S = WgmmaAttentionShape;
  constexpr int D = 128;
  extern __shared__ uint4 dynamic_smem[];
  const uint32_t base = (smem_addr(dynamic_smem) + 1023) & ~1023u;
  const uint32_t sQ = base;                      // warpgroup w's 64 rows at sQ + w * kQBytes
  const uint32_t sK = base + 2 * S::kQBytes;     // K slot b at sK + b * kKvBytes
  const uint32_t sV = sK + 2 * S::kKvBytes;      // V slot b at sV + b * kKvBytes
  const int seq = blockIdx.z, h = blockIdx.x;
  const int start = p.seqStarts[seq];
  const int len = p.seqStarts[seq + 1] - start;
  const int tile = gridDim.y - 1 - blockIdx.y;  // heaviest first, as prefill_attention.cu
  const int q0 = tile * S::kRows;
  if (q0 >= len) return;
  const int wg = threadIdx.x >> 7, warp = (threadIdx.x >> 5) & 3, lane = threadIdx.x & 31;
  const int g = lane >> 2, q4 = lane & 3;

  const auto [qBase, kBase, vBase, qStride, kvStride] = prefill_rows<D>(p, start, h);
  const int nKv = (min(q0 + S::kRows, len) + S::kKeys - 1) / S::kKeys;
  const int wgRow0 = q0 + wg * 64;  // this warpgroup's rows: wgRow0 .. wgRow0 + 63
  const int rowQ[2] = {wgRow0 + warp * 16 + g, wgRow0 + warp * 16 + g + 8};
  const uint64_t descQ = sw128_desc(sQ + wg * S::kQBytes);
  const float c = p.scaleLog2;

  // Groups: Q and K_0; then V_0 and K_1.
  attn_load_sw128<64>(sQ, qBase, qStride, q0, len);
  attn_load_sw128<64>(sQ + S::kQBytes, qBase, qStride, q0 + 64, len);
  attn_load_sw128<128>(sK, kBase, kvStride, 0, len);
  cp_async_commit();
  attn_load_sw128<128>(sV, vBase, kvStride, 0, len);
  if (nKv > 1) attn_load_sw128<128>(sK + S::kKvBytes, kBase, kvStride, S::kKeys, len);
  cp_async_commit();

  float o[64];
#pragma unroll
  for (int i = 0; i < 64; i++) o[i] = 0.f;
  float m[2] = {DF_NEG_INF, DF_NEG_INF}, l[2] = {0.f, 0.f}, alpha[2];
  uint32_t pa[8][4];  // P of the tile whose P · V is issued next

  // Tile 0: its scores and softmax, before the pipeline starts.
  cp_async_wait<1>();
  fence_proxy_async();
  __syncthreads();
  {
    float s[64];
    wgmma_fence();
    attn_issue_scores(s, descQ, sw128_desc(sK));
    wgmma_wait<0>();
#pragma unroll
    for (int i = 0; i < 64; i++) pin(s[i]);
    attn_softmax(s, 0, wgRow0, len, rowQ, q4, c, m, l, alpha);
    attn_pack_p(s, pa);
  }

  for (int j = 0; j + 1 < nKv; j++) {
    cp_async_wait<0>();  // V_j and K_{j+1}, the only group in flight
    fence_proxy_async();
    __syncthreads();
    attn_load_sw128<128>(sV + ((j + 1) & 1) * S::kKvBytes, vBase, kvStride, (j + 1) * S::kKeys, len);
    if (j + 2 < nKv) attn_load_sw128<128>(sK + (j & 1) * S::kKvBytes, kBase, kvStride, (j + 2) * S::kKeys, len);
    cp_async_commit();
    float s[64];
    wgmma_fence();
    attn_issue_scores(s, descQ, sw128_desc(sK + ((j + 1) & 1) * S::kKvBytes));
    attn_issue_pv(o, pa, sV + (j & 1) * S::kKvBytes);
    attn_finish_pair(s, o, pa, j + 1, wgRow0, len, rowQ, q4, c, m, l, [] {}, [] {});
  }
  cp_async_wait<0>();  // V of the last tile
  fence_proxy_async();
  __syncthreads();
  wgmma_fence();
  attn_issue_pv(o, pa, sV + ((nKv - 1) & 1) * S::kKvBytes);
  wgmma_wait<0>();
#pragma unroll
  for (int i = 0; i < 64; i++) pin(o[i]);

  attn_store(p.out, o, l, rowQ, len, start, p.qHeads, h, q4);
}

#endif

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::WgmmaAttentionShape::kThreads, 1)
    df_prefill_attention_wgmma_d128(const __grid_constant__ PrefillAttentionParams p) {
  df::pdl_entry();
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  df::prefill_wgmma_d128(p);
#elif defined(__CUDA_ARCH__)
  __trap();  // wgmma exists on sm_90a only; the host launches this nowhere else
#endif
}
