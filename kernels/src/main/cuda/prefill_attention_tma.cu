// Causal prefill attention on wgmma with its tiles brought in by TMA from a producer warpgroup: the same
// function as prefill_attention.cu, head dim 128, sm_90a only (FlashAttention-3's warp specialisation).
//
// Variants: df_prefill_attention_tma_pp_d128 (the consumers in turn; the default wherever the wgmma kernel would
// run and tensor maps can be encoded) and df_prefill_attention_tma_d128 (DECODEFLEET_PREFILL_ATTENTION_TMA=plain). prefill_attention_wgmma.cu's consumers (two warpgroups of 64 query rows; 128-key tiles; S on
// m64n128k16 from shared memory, P · V with P from registers; one tile of software pipelining inside each
// warpgroup), but no consumer copies anything or waits at a CTA-wide barrier: warpgroup 0 is the producer,
// one thread of which issues the TMA copies (cp.async.bulk.tensor, the 128-byte swizzle written by the copy
// engine) of Q once and of each K and V tile into rings of two slots, each slot with a "full" mbarrier
// (expect_tx: the copy's bytes) and an "empty" one (one arrive per consumer warp once its wgmma group that read
// the slot is done). setmaxnreg moves registers from the producer (40) to the consumers (232).
// The copies read the packed q, k and v as 2D tensors (tokens, heads x 128) through host-encoded tensor maps
// (boxes of 64 columns x 64 query rows or 128 keys); rows past the step's tokens read as zeros, and rows of the
// next sequence that a sequence's last tile reaches are masked (key >= len) like the zeros are.
// Layouts as prefill_attention.cu. Grid: (qHeads, ceil(maxSeqLen / 128), numSeqs); block: 384 threads;
// dynamic shared memory 1 KB (alignment to the swizzle atom) + Q (2 x 16 KB) + 2 K slots + 2 V slots (32 KB
// each) + the barriers.
//
// Every other target (sm_100a, the compute_90 PTX) compiles a body that traps; the host launches it on sm_90
// only.

struct PrefillAttentionTmaParams {
  TensorMap qMap;          // q (tokens, qHeads * 128) as (qHeads * 128, tokens), box 64 x 64
  TensorMap kMap;          // k (tokens, kvHeads * 128) as (kvHeads * 128, tokens), box 64 x 128
  TensorMap vMap;          // v, as k
  bf16* out;               // (tokens, qHeads, 128) bf16
  const int* seqStarts;    // (numSeqs + 1) int32
  int numSeqs;
  int qHeads;
  int kvHeads;
  float scaleLog2;         // softmax scale * log2(e)
};
DF_PARAMS_SIZE(PrefillAttentionTmaParams, 448);

namespace df {

struct TmaAttentionShape {
  static constexpr int kThreads = 384;
  static constexpr int kRows = 128;  // query rows a CTA, 64 a consumer warpgroup
  static constexpr int kKeys = 128;
  static constexpr int kQBytes = 64 * 128 * 2;    // a consumer's 64 query rows: 16 KB
  static constexpr int kKvBytes = 128 * 128 * 2;  // one K or V tile: 32 KB
  static constexpr int kBarriers = 1 + 4 + 4;     // Q full; K full, K empty; V full, V empty (2 slots each)
  static constexpr int kSmemBytes = 1024 + 2 * kQBytes + 4 * kKvBytes + 8 * kBarriers;
};

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)

// One 128 x 128 tile (K or V) of rows row0.. of kv head kvHead: two boxes of 64 columns, 16 KB apart.
__device__ __forceinline__ void tma_kv_tile(uint32_t dst, const TensorMap* map, uint32_t full, int kvHead, int row0) {
  mbar::arrive_expect_tx(full, TmaAttentionShape::kKvBytes);
  tma_load_2d(dst, map, full, kvHead * 128, row0);
  tma_load_2d(dst + TmaAttentionShape::kKvBytes / 2, map, full, kvHead * 128 + 64, row0);
}

// Named barriers 1 and 2 of the consumers' ping-pong (256 threads: one warpgroup syncs, the other arrives).
__device__ __forceinline__ void named_sync(int id) { asm volatile("bar.sync %0, 256;" ::"r"(id) : "memory"); }
__device__ __forceinline__ void named_arrive(int id) { asm volatile("bar.arrive %0, 256;" ::"r"(id) : "memory"); }

// kPingPong: the two consumers take turns to issue their MMAs (FlashAttention-3's ping-pong): warpgroup w waits
// on named barrier 1 + w before it issues and arrives on the other's after, warpgroup 1 arriving once first so
// that warpgroup 0 begins; so one's softmax runs while the other's MMAs do. Both issue nKv + 1 times; warpgroup
// 1 skips its last arrive, which nothing would wait for.
template <bool kPingPong>
__device__ __forceinline__ void prefill_tma_d128(const PrefillAttentionTmaParams& p) {
  using S = TmaAttentionShape;
  extern __shared__ uint4 dynamic_smem[];
  const uint32_t base = (smem_addr(dynamic_smem) + 1023) & ~1023u;
  const uint32_t sQ = base;                     // consumer w's 64 rows at sQ + w * kQBytes
  const uint32_t sK = base + 2 * S::kQBytes;    // K slot b at sK + b * kKvBytes
  const uint32_t sV = sK + 2 * S::kKvBytes;     // V slot b at sV + b * kKvBytes
  const uint32_t qFull = sV + 2 * S::kKvBytes;  // then kFull[2], kEmpty[2], vFull[2], vEmpty[2]
  const uint32_t kFull = qFull + 8, kEmpty = kFull + 16, vFull = kEmpty + 16, vEmpty = vFull + 16;
  const int seq = blockIdx.z, h = blockIdx.x;
  const int start = p.seqStarts[seq];
  const int len = p.seqStarts[seq + 1] - start;
  const int tile = gridDim.y - 1 - blockIdx.y;  // heaviest first, as prefill_attention.cu
  const int q0 = tile * S::kRows;
  if (q0 >= len) return;  // the whole CTA: before any barrier
  const int nKv = (min(q0 + S::kRows, len) + S::kKeys - 1) / S::kKeys;
  const int warpgroup = threadIdx.x >> 7;

  if (threadIdx.x == 0) {
    mbar::init(qFull, 1);
    for (int b = 0; b < 2; b++) {
      mbar::init(kFull + 8 * b, 1);   // the producer's arrive (plus the copies' bytes)
      mbar::init(kEmpty + 8 * b, 8);  // one arrive per consumer warp
      mbar::init(vFull + 8 * b, 1);
      mbar::init(vEmpty + 8 * b, 8);
    }
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  }
  __syncthreads();

  if (warpgroup == 0) {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;");
    if (threadIdx.x == 0) {
      const int kvHead = h / (p.qHeads / p.kvHeads);
      asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(&p.qMap)) : "memory");
      asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(&p.kMap)) : "memory");
      asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(&p.vMap)) : "memory");
      mbar::arrive_expect_tx(qFull, 2 * S::kQBytes);
      for (int w = 0; w < 2; w++) {
        tma_load_2d(sQ + w * S::kQBytes, &p.qMap, qFull, h * 128, start + q0 + 64 * w);
        tma_load_2d(sQ + w * S::kQBytes + S::kQBytes / 2, &p.qMap, qFull, h * 128 + 64, start + q0 + 64 * w);
      }
      // K_t before V_{t-1}: a consumer iteration reads K_{t+1} and V_t. Slot b's n-th fill waits for the
      // consumers' release of its (n-1)-th (parity (n & 1) ^ 1: a fresh barrier passes parity 1 at once).
      for (int t = 0; t <= nKv; t++) {
        if (t < nKv) {
          const int b = t & 1;
          mbar::wait(kEmpty + 8 * b, ((t >> 1) & 1) ^ 1);
          tma_kv_tile(sK + b * S::kKvBytes, &p.kMap, kFull + 8 * b, kvHead, start + t * S::kKeys);
        }
        if (t >= 1) {
          const int u = t - 1, b = u & 1;
          mbar::wait(vEmpty + 8 * b, ((u >> 1) & 1) ^ 1);
          tma_kv_tile(sV + b * S::kKvBytes, &p.vMap, vFull + 8 * b, kvHead, start + u * S::kKeys);
        }
      }
    }
    return;
  }

  asm volatile("setmaxnreg.inc.sync.aligned.u32 232;");
  const int wg = warpgroup - 1, warp = (threadIdx.x >> 5) & 3, lane = threadIdx.x & 31;
  const int g = lane >> 2, q4 = lane & 3;
  const int wgRow0 = q0 + wg * 64;  // this warpgroup's rows: wgRow0 .. wgRow0 + 63
  const int rowQ[2] = {wgRow0 + warp * 16 + g, wgRow0 + warp * 16 + g + 8};
  const uint64_t descQ = sw128_desc(sQ + wg * S::kQBytes);
  const float c = p.scaleLog2;
  const int myTurn = 1 + wg, theirTurn = 2 - wg;
  if (kPingPong && wg == 1) named_arrive(1);

  float o[64];
#pragma unroll
  for (int i = 0; i < 64; i++) o[i] = 0.f;
  float m[2] = {DF_NEG_INF, DF_NEG_INF}, l[2] = {0.f, 0.f}, alpha[2];
  uint32_t pa[8][4];  // P of the tile whose P · V is issued next

  mbar::wait(qFull, 0);
  mbar::wait(kFull, 0);
  {
    float s[64];
    if (kPingPong) named_sync(myTurn);
    wgmma_fence();
    attn_issue_scores(s, descQ, sw128_desc(sK));
    if (kPingPong) named_arrive(theirTurn);
    wgmma_wait<0>();
#pragma unroll
    for (int i = 0; i < 64; i++) pin(s[i]);
    if (lane == 0) mbar::arrive(kEmpty);
    attn_softmax(s, 0, wgRow0, len, rowQ, q4, c, m, l, alpha);
    attn_pack_p(s, pa);
  }
  for (int j = 0; j + 1 < nKv; j++) {
    const int t = j + 1, bk = t & 1, bv = j & 1;
    mbar::wait(kFull + 8 * bk, (t >> 1) & 1);
    mbar::wait(vFull + 8 * bv, (j >> 1) & 1);
    float s[64];
    if (kPingPong) named_sync(myTurn);
    wgmma_fence();
    attn_issue_scores(s, descQ, sw128_desc(sK + bk * S::kKvBytes));
    attn_issue_pv(o, pa, sV + bv * S::kKvBytes);
    if (kPingPong) named_arrive(theirTurn);
    attn_finish_pair(s, o, pa, t, wgRow0, len, rowQ, q4, c, m, l,
                     [&] { if (lane == 0) mbar::arrive(kEmpty + 8 * bk); },
                     [&] { if (lane == 0) mbar::arrive(vEmpty + 8 * bv); });
  }
  {
    const int j = nKv - 1, bv = j & 1;
    mbar::wait(vFull + 8 * bv, (j >> 1) & 1);
    if (kPingPong) named_sync(myTurn);
    wgmma_fence();
    attn_issue_pv(o, pa, sV + bv * S::kKvBytes);
    if (kPingPong && wg == 0) named_arrive(theirTurn);
    wgmma_wait<0>();
#pragma unroll
    for (int i = 0; i < 64; i++) pin(o[i]);
  }

  attn_store(p.out, o, l, rowQ, len, start, p.qHeads, h, q4);
}

#endif

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::TmaAttentionShape::kThreads, 1)
    df_prefill_attention_tma_d128(const __grid_constant__ PrefillAttentionTmaParams p) {
  df::pdl_entry();
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  df::prefill_tma_d128<false>(p);
#elif defined(__CUDA_ARCH__)
  __trap();  // wgmma, TMA and setmaxnreg as used here exist on sm_90a only; the host launches this nowhere else
#endif
}

// The consumers taking turns to issue (the default of DECODEFLEET_PREFILL_ATTENTION_TMA).
extern "C" __global__ void __launch_bounds__(df::TmaAttentionShape::kThreads, 1)
    df_prefill_attention_tma_pp_d128(const __grid_constant__ PrefillAttentionTmaParams p) {
  df::pdl_entry();
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  df::prefill_tma_d128<true>(p);
#elif defined(__CUDA_ARCH__)
  __trap();
#endif
}
