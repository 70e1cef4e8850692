// Second skinny GEMM for decode ("ours:skinny2"): out = x · wᵀ for m <= 16 rows of x, built for
// bytes in flight on Hopper. Same operand layouts, split-K and output modes as skinny_gemm.cu
// (bf16 out, or float32 out for a tensor-parallel rank's partial sums); the GEMM dispatch times
// both and keeps the faster per shape (kernels/NOTES.md has the design, its prediction and what
// an H200 measured).
//
// Memory stream: one producer warp per CTA fills a 4-deep ring of shared-memory stages; a stage
// is 256 k of the tile's 64 weight rows and of the x rows. The weights come in as ONE 2-D tensor
// copy per stage (cp.async.bulk.tensor.2d through the host-encoded tensor map wMap: a box of
// 256 k x 64 rows, 32 KB, no swizzle, zeros outside w), the x rows as one 512-byte bulk copy each
// (cp.async.bulk), all completing on the stage's mbarrier (expect_tx). A first version issued one
// bulk copy per weight row, 64 + m copies a stage, and ran at ~1.4 TB/s at every shape on an
// H200, one copy every ~49 ns an SM: the copy engine's cost per request, not DRAM, looked like the
// limit (NOTES.md). Up to 4 x 32 KB of weights are in flight per SM whatever the thread count.
// Weight copies carry an L2 evict_first policy: each weight byte is read once, x is re-read by
// every CTA and should stay. The CTA is persistent (one per SM, grid = min(items, SMs)) and walks
// items (row tile, k split) with a stride of the grid; the producer runs on into the next item
// while the consumers finish the last one, so the ring never drains between items.
//
// Arithmetic: 4 consumer warps own 16 rows each and run mma.m16n8k16 with the weight rows as M
// and the x rows as N, with skinny_gemm.cu's k permutation: within a 32-k block, lane (g, q) takes
// physical k = 8q..8q+7 of rows g and g+8 (one 16-byte shared load each) for two MMAs, and x is
// read with the same mapping. Weight rows sit 512 bytes apart (the tensor copy's dense box): see
// kWPitchBytes for the bank conflicts that costs; x rows keep a 576-byte pitch (conflict-free).
// Vectors past the slice's k are zeroed in registers (k is a multiple of 8, so a vector is all in
// or all out): the box is always 256 k wide and the x copies only the slice's part, so past it the
// stage holds the tensor map's zeros past k (slices are whole chunks, so only the last one ends
// off the chunk grid) beside stale x, which could be any bits; the zeroing keeps both out, and
// would keep a next slice's weights out if a slice ever ended inside a box. Weight rows past n
// arrive as zeros, x rows past m are never copied; both only reach outputs that are never stored
// (an MMA output row depends on one A row, an output column on one B column).
//
// Split-K: when the row tiles alone leave SMs idle (the host plan, Skinny2GemmPlan, balances
// chunks per CTA), each item writes a float32 partial tile and the last item of a row tile to
// finish (atomic counter) sums the partials in split order, so results are deterministic.
// Variants: df_skinny2_gemm_m{1,2,4,8,16}: x rows held per stage (m <= 16).
// Layouts: x (m, k) bf16; w (n, k) bf16, as wMap: (k, n), box 256 x 64, row stride 2k bytes;
// out (m, outStride); workspace (splits, mTile, nTiles * 64) float32; counters (nTiles) int32,
// zero before the first launch and left zero. k is a multiple of 8 (16-byte row strides and x
// copies), kSlice a multiple of 256, x and w 16-byte aligned. Grid: (ctas, 1, 1), block 160
// threads, dynamic shared memory Skinny2Shape::kSmemBytes.
// Reuses TensorMap (wgmma_gemm.cu) and skinny_store (skinny_gemm.cu), both included before it.
#include "common.cuh"
#include "mbarrier.cuh"

struct Skinny2GemmParams {
  TensorMap wMap;          // w (n, k) as a (k, n) tensor map, box 256 x 64, no swizzle, zero fill
  bf16* out;               // (m, outStride) bf16
  const bf16* x;           // (m, k) bf16
  float* workspace;        // (splits, mTile, nTiles * 64) float32; unused if splits == 1
  int* counters;           // (nTiles) int32; unused when splits == 1
  int m;
  int n;
  int k;
  int outStride;
  int kSlice;              // multiple of 256
  int splits;
  int outFloat;            // 1: out is (m, outStride) float32
};
DF_PARAMS_SIZE(Skinny2GemmParams, 192);

namespace df {
namespace skinny2 {

constexpr int kConsumerWarps = 4;
constexpr int kConsumers = kConsumerWarps * 32;
constexpr int kThreads = kConsumers + 32;        // + one producer warp
constexpr int kRows = kConsumerWarps * 16;       // weight rows per tile
constexpr int kChunkK = 256;                     // k per stage: 512 bytes of each row
// Weight row pitch in a stage: the tensor copy writes its box densely, 512 bytes a row. A
// quarter-warp's 16-byte reads (lanes g, g+1 of rows g and g+1, four q) then fall on four bank
// groups, not eight: rows 512 bytes apart share them, a 2-way conflict, 8 wavefronts per
// 512-byte warp load instead of 4. Per stage and CTA that is 4 warps x 16 weight loads x 8 = 512
// wavefronts, plus the x loads (4 warps x 8 x NT x 4: 128 at m <= 8, 256 at m16; conflict-free
// at their 576-byte pitch) and the copy's own 32 KB written (256): 896-1024 cycles of the
// 128-byte-per-clock shared-memory pipe per 32 KB of weights, 32-37 bytes a clock an SM, i.e.
// 8.4-9.6 TB/s of weights per chip at 132 SMs x 1.98 GHz (7.4-8.5 at 1.755 GHz); the weight reads
// alone, 2-way, would allow ~16 TB/s. Above HBM's 4.8 TB/s, but no longer by far: if ncu shows the
// shared-memory pipe busy, the next step is the 128-byte swizzle (four 64-k boxes a stage, reads
// XOR-ed to match), which makes the weight reads conflict-free.
constexpr int kWPitchBytes = kChunkK * 2;
constexpr int kWPitch = kWPitchBytes / 2;        // in elements
constexpr int kWeightBytes = kRows * kWPitchBytes;   // one box: 32 KB, the expect_tx of the weights
constexpr int kXPitchBytes = kChunkK * 2 + 64;   // x row pitch: 576 bytes, rows g and g+1 conflict-free
constexpr int kXPitch = kXPitchBytes / 2;
constexpr int kStages = 4;
constexpr int kReduceBatch = 8;                  // splits of one position a summing thread loads at once (m <= 16)
constexpr int kRingAlign = 128;                  // a tensor copy's shared destination alignment

template <int MT>
struct Shape {
  static constexpr int kNT = (MT + 7) / 8;       // 8-column MMA tiles of x rows
  static constexpr int kStages = skinny2::kStages;
  static constexpr int kWeightBytes = skinny2::kWeightBytes;
  static constexpr int kXPitchBytes = skinny2::kXPitchBytes;
  static constexpr int kXElemBytes = 2;          // x is bf16
  // Weights (32 KB), then the x rows; rounded up so that every stage's box starts 128-aligned.
  static constexpr int kStageBytes =
      (kWeightBytes + MT * kXPitchBytes + kRingAlign - 1) / kRingAlign * kRingAlign;
  // + the ring's alignment (dynamic shared memory starts after the static sLast) + full/empty bars
  static constexpr int kSmemBytes = kStages * kStageBytes + kRingAlign + 2 * kStages * 8;
};
static_assert(Shape<1>::kSmemBytes == 4 * (64 * 512 + 1 * 576 + 64) + 128 + 64, "Kernel.java skinny2 m1");
static_assert(Shape<2>::kSmemBytes == 4 * (64 * 512 + 2 * 576) + 128 + 64, "Kernel.java skinny2 m2");
static_assert(Shape<4>::kSmemBytes == 4 * (64 * 512 + 4 * 576) + 128 + 64, "Kernel.java skinny2 m4");
static_assert(Shape<8>::kSmemBytes == 4 * (64 * 512 + 8 * 576) + 128 + 64, "Kernel.java skinny2 m8");
static_assert(Shape<16>::kSmemBytes == 4 * (64 * 512 + 16 * 576) + 128 + 64, "Kernel.java skinny2 m16");
static_assert(kXPitchBytes % 128 == 64, "x rows g and g+1 start half a bank row apart");
static_assert(kWeightBytes % 16 == 0, "x rows start 16-byte aligned after the box");

// ---- bulk and tensor copies (plain sm_90 PTX, so every fatbin target has them; the barriers: mbarrier.cuh) ----

__device__ __forceinline__ uint64_t evict_first_policy() {
  uint64_t policy;
  asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(policy));
  return policy;
}

// One box of `map` at (inner, outer) global -> shared (dst 128-byte aligned), completing on bar
// with the box's full bytes (parts outside the tensor arrive as zeros), under an L2 policy.
__device__ __forceinline__ void tensor_copy_2d(uint32_t dst, const TensorMap* map, int inner, int outer,
                                               uint32_t bar, uint64_t policy) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes.L2::cache_hint"
      " [%0], [%1, {%2, %3}], [%4], %5;" ::"r"(dst),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(inner), "r"(outer), "r"(bar), "l"(policy)
      : "memory");
}

// `bytes` (a multiple of 16, both addresses 16-byte aligned) global -> shared, completing on bar.
__device__ __forceinline__ void bulk_copy(uint32_t dst, const void* src, uint32_t bytes,
                                          uint32_t bar) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes"
      " [%0], [%1], %2, [%3];" ::"r"(dst),
      "l"(src), "r"(bytes), "r"(bar)
      : "memory");
}

// Barrier 1 (or 1 + group, where two groups of four consumer warps take turns) over one group's consumer warps
// only: the producer warp may be waiting on a stage.
__device__ __forceinline__ void consumers_sync(int group = 0) {
  asm volatile("bar.sync %0, %1;" ::"r"(1 + group), "n"(kConsumers) : "memory");
}

// One item's k range: [k0, k0 + kLen) of rows [row0, row0 + 64).
// (P: Skinny2GemmParams, or the FP8 twin's Skinny2GemmFp8Params, which has the same fields.)
struct Item {
  int tile, split, row0, k0, kLen;
  template <typename P>
  __device__ __forceinline__ Item(const P& p, int item) {
    tile = item / p.splits;
    split = item - tile * p.splits;
    row0 = tile * kRows;
    k0 = split * p.kSlice;
    kLen = min(p.kSlice, p.k - k0);
  }
};

// The producer's walk over the CTA's items' stages: waits for each stage to be free, then fill(stage, its full
// barrier, the item, the chunk c of the item) issues the stage's copies. (Shared by every skinny2 producer.)
template <typename S, typename P, typename Fill>
__device__ __forceinline__ void walk_stages(const P& p, uint32_t ring, uint32_t full, uint32_t empty, int items,
                                            Fill fill) {
  int it = 0;
  for (int i = blockIdx.x; i < items; i += gridDim.x) {
    const Item item(p, i);
    for (int c = 0; c * kChunkK < item.kLen; c++, it++) {
      const int s = it % S::kStages;
      mbar::wait(empty + 8 * s, ((it / S::kStages) & 1) ^ 1);
      fill(ring + s * S::kStageBytes, full + 8 * s, item, c);
    }
  }
}

// The producer warp's loop over its items' stages: one tensor copy of the stage's weight box and one
// bulk copy per x row (up to 32 rows a copy per lane, past that two), all on the stage's barrier.
// (Shared by the FP8 twins: S is their shape, with x's element bytes, P their params.)
template <int MT, typename S, typename P>
__device__ __forceinline__ void produce(const P& p, uint32_t ring, uint32_t full, uint32_t empty, int items) {
  const int lane = threadIdx.x & 31;
  const uint64_t policy = evict_first_policy();
  const int xRows = min(MT, p.m);
  if (lane == 0) {
    asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(&p.wMap)) : "memory");
  }
  walk_stages<S>(p, ring, full, empty, items, [&](uint32_t stage, uint32_t bar, const Item& item, int c) {
    const int kc = item.k0 + c * kChunkK;
    const uint32_t xBytes = min(kChunkK, item.kLen - c * kChunkK) * S::kXElemBytes;
    if (lane == 0) {
      // The box's bytes count in full on every stage, edges included (zero-filled past n and k).
      mbar::arrive_expect_tx(bar, S::kWeightBytes + xBytes * xRows);
      tensor_copy_2d(stage, &p.wMap, kc, item.row0, bar, policy);
    }
    __syncwarp();
    const char* x = reinterpret_cast<const char*>(p.x);
    if constexpr (MT <= 32) {
      if (lane < xRows) {
        bulk_copy(stage + S::kWeightBytes + lane * S::kXPitchBytes,
                  x + (static_cast<size_t>(lane) * p.k + kc) * S::kXElemBytes, xBytes, bar);
      }
    } else {
      for (int r = lane; r < xRows; r += 32) {
        bulk_copy(stage + S::kWeightBytes + r * S::kXPitchBytes,
                  x + (static_cast<size_t>(r) * p.k + kc) * S::kXElemBytes, xBytes, bar);
      }
    }
  });
}

// The last item of a split row tile: out = sum over splits of the partial tiles, in split order. A thread sums kR
// float4 positions at once, loading kB splits of each a round (at most 16 loads in flight): the positions a
// thread holds at m = MT, so that a 64-row tile's sum is one or two rounds of L2 latency, not eight in a row.
template <int MT, typename P>
__device__ __forceinline__ void reduce(const P& p, int row0, int nPad, int tid) {
  constexpr int kPerTile = MT * (kRows / 4) / kConsumers;
  constexpr int kR = kPerTile > 1 ? kPerTile : 1;
  constexpr int kB = kR >= 8 ? 2 : kR >= 4 ? 4 : kReduceBatch;
  static_assert(kR * kB <= 16, "16 float4 loads in flight at most");
  const int total = p.m * (kRows / 4);
  const size_t splitStride = static_cast<size_t>(MT) * nPad;
  for (int f0 = tid; f0 < total; f0 += kR * kConsumers) {
    size_t at[kR];
    float4 sum[kR];
#pragma unroll
    for (int r = 0; r < kR; r++) {
      const int f = f0 + r * kConsumers;
      at[r] = static_cast<size_t>(f / (kRows / 4)) * nPad + row0 + 4 * (f % (kRows / 4));
      sum[r] = make_float4(0.f, 0.f, 0.f, 0.f);
    }
    for (int s0 = 0; s0 < p.splits; s0 += kB) {
      float4 v[kR][kB];
#pragma unroll
      for (int r = 0; r < kR; r++)
#pragma unroll
        for (int b = 0; b < kB; b++) {
          v[r][b] = f0 + r * kConsumers < total && s0 + b < p.splits
                        ? __ldcg(reinterpret_cast<const float4*>(p.workspace + (s0 + b) * splitStride + at[r]))
                        : make_float4(0.f, 0.f, 0.f, 0.f);
        }
#pragma unroll
      for (int r = 0; r < kR; r++)
#pragma unroll
        for (int b = 0; b < kB; b++) {
          sum[r].x += v[r][b].x;
          sum[r].y += v[r][b].y;
          sum[r].z += v[r][b].z;
          sum[r].w += v[r][b].w;
        }
    }
#pragma unroll
    for (int r = 0; r < kR; r++) {
      const int f = f0 + r * kConsumers;
      if (f >= total) break;
      const int mc = f / (kRows / 4), row = row0 + 4 * (f % (kRows / 4));
      const size_t o = static_cast<size_t>(mc) * p.outStride + row;
      if (row < p.n) skinny_store(p, o, sum[r].x);
      if (row + 1 < p.n) skinny_store(p, o + 1, sum[r].y);
      if (row + 2 < p.n) skinny_store(p, o + 2, sum[r].z);
      if (row + 3 < p.n) skinny_store(p, o + 3, sum[r].w);
    }
  }
}

struct NoScale {
  __device__ __forceinline__ float operator()(int, float v) const { return v; }
};

// A consumer warp's end of an item (tid: the thread's index in its group of four consumer warps, group: which
// group, where two take turns; the group's barrier and flag): its accumulators (acc[nt] = {(r, col 2q), (r, col
// 2q+1), (r+8, col 2q), (r+8, col 2q+1)}, r = row g of the warp's 16, col = x row nt * 8 + ...), each through
// scale(0 for row r, 1 for r+8, value), stored when the tile has one split; else written as the split's partial
// tile, and the last split of the row tile to finish sums them (reduce).
template <int MT, int NT, typename P, typename Scale>
__device__ __forceinline__ void finish_item(const P& p, const Item& item, const float (&acc)[NT][4], Scale scale,
                                            int nPad, int tid, int group) {
  __shared__ int sLast[2];
  const int lane = tid & 31, warp = tid >> 5;
  const int g = lane >> 2, q = lane & 3;
  const int rBase = item.row0 + warp * 16 + g;
  if (p.splits == 1) {
#pragma unroll
    for (int nt = 0; nt < NT; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const int row = rBase + 8 * (e >> 1);
        const int mc = nt * 8 + 2 * q + (e & 1);
        if (row < p.n && mc < p.m) {
          skinny_store(p, static_cast<size_t>(mc) * p.outStride + row, scale(e >> 1, acc[nt][e]));
        }
      }
    return;
  }
  float* ws = p.workspace + static_cast<size_t>(item.split) * MT * nPad;
#pragma unroll
  for (int nt = 0; nt < NT; nt++)
#pragma unroll
    for (int e = 0; e < 4; e++) {
      const int mc = nt * 8 + 2 * q + (e & 1);
      if (mc < p.m) ws[static_cast<size_t>(mc) * nPad + rBase + 8 * (e >> 1)] = scale(e >> 1, acc[nt][e]);
    }
  __threadfence();
  consumers_sync(group);
  int* counter = &p.counters[item.tile];
  if (tid == 0) sLast[group] = atomicAdd(counter, 1) == p.splits - 1;
  consumers_sync(group);
  if (sLast[group]) {
    __threadfence();
    reduce<MT>(p, item.row0, nPad, tid);
    if (tid == 0) atomicExch(counter, 0);
  }
}

// One group of four consumer warps (the only one): finish_item for thread threadIdx.x.
template <int MT, int NT, typename P, typename Scale>
__device__ __forceinline__ void finish_item(const P& p, const Item& item, const float (&acc)[NT][4], Scale scale,
                                            int nPad) {
  finish_item<MT>(p, item, acc, scale, nPad, static_cast<int>(threadIdx.x), 0);
}

// A consumer warp's walk over one item's stages: waits for each stage's copies, hands body(stage, k
// length of the stage) the stage, and releases it once every lane's reads of it are done. `it` counts
// stages across the CTA's items, as the producer's does. (Shared by the FP8 twins.)
template <typename S, typename Body>
__device__ __forceinline__ void consume_stages(const char* ringPtr, uint32_t full, uint32_t empty, int kLen, int& it,
                                               Body body) {
  const int lane = threadIdx.x & 31;
  for (int c = 0; c * kChunkK < kLen; c++, it++) {
    const int s = it % S::kStages;
    mbar::wait(full + 8 * s, (it / S::kStages) & 1);
    body(ringPtr + s * S::kStageBytes, min(kChunkK, kLen - c * kChunkK));
    __syncwarp();  // every lane's reads of the stage are done before the warp releases it
    if (lane == 0) mbar::arrive(empty + 8 * s);
  }
}

template <int MT>
__device__ __forceinline__ void consume(const Skinny2GemmParams& p, const bf16* ringPtr,
                                        uint32_t full, uint32_t empty, int items, int nTiles) {
  using S = Shape<MT>;
  constexpr int NT = S::kNT;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, q = lane & 3;
  // x rows this lane reads for MMA column tiles 0 and 1 (clamped: columns >= m are not stored).
  const int xr[2] = {min(g, MT - 1), min(g + 8, MT - 1)};
  const uint4 zero = make_uint4(0u, 0u, 0u, 0u);
  const int nPad = nTiles * kRows;
  int it = 0;
  for (int i = blockIdx.x; i < items; i += gridDim.x) {
    const Item item(p, i);
    float acc[NT][4];
#pragma unroll
    for (int nt = 0; nt < NT; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) acc[nt][e] = 0.f;

    consume_stages<S>(reinterpret_cast<const char*>(ringPtr), full, empty, item.kLen, it, [&](const char* raw, int len) {
      const bf16* stage = reinterpret_cast<const bf16*>(raw);
      const bf16* w0p = stage + (warp * 16 + g) * kWPitch;
      const bf16* w1p = w0p + 8 * kWPitch;
      const bf16* xs = stage + kWeightBytes / 2;
#pragma unroll
      for (int j = 0; j < kChunkK / 32; j++) {
        if (32 * j < len) {  // warp-uniform
          const int e = 32 * j + 8 * q;
          const bool ok = e < len;
          const uint4 w0 = ok ? *reinterpret_cast<const uint4*>(w0p + e) : zero;
          const uint4 w1 = ok ? *reinterpret_cast<const uint4*>(w1p + e) : zero;
          const uint32_t a1[4] = {w0.x, w1.x, w0.y, w1.y};
          const uint32_t a2[4] = {w0.z, w1.z, w0.w, w1.w};
#pragma unroll
          for (int nt = 0; nt < NT; nt++) {
            const uint4 bx = ok ? *reinterpret_cast<const uint4*>(xs + xr[nt] * kXPitch + e) : zero;
            mma_bf16(acc[nt], a1, bx.x, bx.y);
            mma_bf16(acc[nt], a2, bx.z, bx.w);
          }
        }
      }
    });

    finish_item<MT>(p, item, acc, NoScale{}, nPad);
  }
}

// The ring's barriers initialised, then the last warp produces and the four consumer warps consume:
// produce(ring, full, empty) with shared addresses, consume(ring as a pointer, full, empty). (Shared
// by the FP8 twins; kAlign, the ring's alignment: 1024 where the stages hold 128-byte-swizzled boxes; kGroups,
// groups of four consumer warps: two take items in turns, each turn's start on one of two more barriers after
// the empty ones, arrived at by the other group's warps.)
template <typename S, int kAlign = kRingAlign, int kGroups = 1, typename Produce, typename Consume>
__device__ __forceinline__ void run_ring(Produce produce, Consume consume) {
  extern __shared__ uint4 dynamic_smem[];
  const uint32_t raw = smem_addr(dynamic_smem);
  const uint32_t ring = (raw + kAlign - 1) & ~static_cast<uint32_t>(kAlign - 1);
  const uint32_t full = ring + S::kStages * S::kStageBytes;  // kStages x 8 bytes
  const uint32_t empty = full + S::kStages * 8;
  if (threadIdx.x == 0) {
    for (int s = 0; s < S::kStages; s++) {
      mbar::init(full + 8 * s, 1);                 // the producer's arrive, plus the copies' bytes
      mbar::init(empty + 8 * s, kConsumerWarps);   // one arrive per consumer warp
    }
    if constexpr (kGroups == 2) {
      mbar::init(empty + 8 * S::kStages, kConsumerWarps);
      mbar::init(empty + 8 * S::kStages + 8, kConsumerWarps);
    }
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  }
  __syncthreads();
  if (threadIdx.x >= kGroups * kConsumers) {
    produce(ring, full, empty);
  } else {
    consume(reinterpret_cast<const char*>(dynamic_smem) + (ring - raw), full, empty);
  }
}

// A persistent GEMM on the ring: the producer walks the CTA's items of p (row tiles x splits) and
// consume(ring as a pointer, full, empty, items, row tiles) runs the consumer warps. (Shared by the FP8 twins.)
template <int MT, typename S, typename P, typename Consume>
__device__ __forceinline__ void run_gemm(const P& p, Consume consume) {
  const int nTiles = (p.n + kRows - 1) / kRows;
  const int items = nTiles * p.splits;
  run_ring<S>([&](uint32_t ring, uint32_t full, uint32_t empty) { produce<MT, S>(p, ring, full, empty, items); },
              [&](const char* ringPtr, uint32_t full, uint32_t empty) { consume(ringPtr, full, empty, items, nTiles); });
}

template <int MT>
__device__ __forceinline__ void gemm(const Skinny2GemmParams& p) {
  run_gemm<MT, Shape<MT>>(p, [&](const char* ring, uint32_t full, uint32_t empty, int items, int nTiles) {
    consume<MT>(p, reinterpret_cast<const bf16*>(ring), full, empty, items, nTiles);
  });
}

}  // namespace skinny2
}  // namespace df

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_m1(const __grid_constant__ Skinny2GemmParams p) {
  df::pdl_entry();
  df::skinny2::gemm<1>(p);
}

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_m2(const __grid_constant__ Skinny2GemmParams p) {
  df::pdl_entry();
  df::skinny2::gemm<2>(p);
}

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_m4(const __grid_constant__ Skinny2GemmParams p) {
  df::pdl_entry();
  df::skinny2::gemm<4>(p);
}

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_m8(const __grid_constant__ Skinny2GemmParams p) {
  df::pdl_entry();
  df::skinny2::gemm<8>(p);
}

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_m16(const __grid_constant__ Skinny2GemmParams p) {
  df::pdl_entry();
  df::skinny2::gemm<16>(p);
}
