// Skinny GEMM for decode: out = x · wᵀ with few rows in x (m = batch <= 256), where the cost is
// streaming the weight once. bf16 operands, float32 accumulation, bf16 output.
//
// Memory stream: the CTA's weight rows and x rows are copied into shared memory 128 k at a time
// (one pipeline stage) with cp.async, kStages deep. Each warp-wide copy covers two 256-byte row
// segments, i.e. whole 128-byte lines, the same request shape as the decode-attention KV stream;
// loading weights straight into registers instead gave 64-byte pieces of eight rows per
// instruction (the MMA fragment owns 4 lanes per row) and ran at ~3.3 TB/s on an H200 where the
// attention stream reaches ~4.5.
//
// Arithmetic: mma.m16n8k16 with the weight rows as M and x rows as N (out transposed). A dot
// product does not care about the order of its k terms, so within a block of 32 k, lane (g, q)
// takes physical k = 8q..8q+7 of rows g and g+8 with one 16-byte shared load each, and maps the
// MMA's logical k slots {2q, 2q+1, 2q+8, 2q+9} to physical 8q+0..3 in the first MMA and 8q+4..7
// in the second; x (the B fragments) is read with the very same mapping. The weight tile is
// stored with the 16-byte vectors of odd rows XOR-swizzled by 4, so that the 8 lanes of a
// quarter-warp (rows g, g+1) hit 8 different bank groups on both the copy and the read side; the
// x rows are padded by 64 bytes for the same reason.
//
// A CTA (4 warps) owns kRows weight rows (16 or 32 per warp: 32 reuses each x fragment for two
// weight tiles, which halves shared-memory reads per weight byte at m = 32 and 64) and one
// k-slice. Stages visit the slice's 128-k chunks starting at chunk (nTile mod chunks), so that
// CTAs do not all hit the same column offset of every row at once. When the row tiles alone
// cannot fill the GPU, k is split: each CTA writes a float32 partial tile and the last CTA of a
// row tile (atomic counter) sums the partials with 16-byte loads, up to 32 in flight per
// thread, and writes bf16, so there is one launch.
//
// Variants: df_skinny_gemm_m{8,16,32,64}: x rows per tile (m > 64 uses several m tiles).
// Layouts: x (m, k) bf16; w (n, k) bf16 (out_features, in_features); out (m, outStride) bf16;
// workspace (splits, mTiles, mTile, nTiles * kRows) float32; counters (mTiles * nTiles) int32,
// zero before the first launch and left zero by each launch. k is a multiple of 8; kSlice a
// multiple of 32.
// Grid: (nTiles = ceil(n / kRows), splits, mTiles); block: 128 threads; dynamic shared memory
// kStages * (kRows * 128 + mTile * 160) * 2 bytes (see SkinnyShape).
#include "common.cuh"

struct SkinnyGemmParams {
  bf16* out;               // (m, outStride) bf16
  const bf16* x;           // (m, k) bf16
  const bf16* w;           // (n, k) bf16
  float* workspace;        // (splits, mTiles, mTile, nTiles * kRows) float32; unused if splits == 1
  int* counters;           // (mTiles * nTiles) int32; unused when splits == 1
  int m;
  int n;
  int k;
  int outStride;
  int kSlice;              // multiple of 32
  int splits;
  int outFloat;            // 1: out is (m, outStride) float32
  int earlyWeights;        // 1: w is resident (no earlier launch writes it): its first stages are
                           // fetched before the wait on the previous launch (common.cuh pdl_entry)
};
DF_PARAMS_SIZE(SkinnyGemmParams, 72);

namespace df {

// Per x-tile variant: weight rows per warp, pipeline depth, and how many splits' partials the
// reducing CTA loads per round (kReduceBatch * float4s-per-split <= 32 per thread).
template <int MT>
struct SkinnyConfig;
template <>
struct SkinnyConfig<8> {
  static constexpr int kWarpRows = 16, kStages = 3, kReduceBatch = 16;
};
template <>
struct SkinnyConfig<16> {
  static constexpr int kWarpRows = 16, kStages = 2, kReduceBatch = 8;
};
template <>
struct SkinnyConfig<32> {
  static constexpr int kWarpRows = 32, kStages = 2, kReduceBatch = 4;
};
template <>
struct SkinnyConfig<64> {
  static constexpr int kWarpRows = 32, kStages = 2, kReduceBatch = 2;
};

template <int MT>
struct SkinnyShape {
  static constexpr int kThreads = 128;
  static constexpr int kWarps = 4;
  static constexpr int kWarpRows = SkinnyConfig<MT>::kWarpRows;
  static constexpr int kRowTiles = kWarpRows / 16;   // 16-row MMA tiles per warp
  static constexpr int kRows = kWarps * kWarpRows;   // weight rows per CTA: 64 or 128
  static constexpr int kStages = SkinnyConfig<MT>::kStages;
  static constexpr int kChunkK = 128;                // k per stage: 256 bytes of every row
  static constexpr int kChunkVecs = kChunkK / 8;     // 16-byte vectors per row and stage
  static constexpr int kXPitch = kChunkK + 32;       // elements: 320 bytes, rows alternate halves
  static constexpr int kWElems = kRows * kChunkK;
  static constexpr int kStageElems = kWElems + MT * kXPitch;
  static constexpr int kSmemBytes = kStages * kStageElems * 2;
  static constexpr int kReduceBatch = SkinnyConfig<MT>::kReduceBatch;
  static constexpr int kRowVecs = kRows / 4;                 // float4 per x row of a partial tile
  static constexpr int kReduceVecs = MT * kRowVecs / kThreads;  // float4 per thread and split
};
static_assert(SkinnyShape<8>::kSmemBytes == 3 * (64 * 128 + 8 * 160) * 2, "Kernel.java m8");
static_assert(SkinnyShape<16>::kSmemBytes == 2 * (64 * 128 + 16 * 160) * 2, "Kernel.java m16");
static_assert(SkinnyShape<32>::kSmemBytes == 2 * (128 * 128 + 32 * 160) * 2, "Kernel.java m32");
static_assert(SkinnyShape<64>::kSmemBytes == 2 * (128 * 128 + 64 * 160) * 2, "Kernel.java m64");

// Element offset of 16-byte vector v of row r in a stage's weight tile.
template <int MT>
__device__ __forceinline__ int skinny_w_offset(int r, int v) {
  return r * SkinnyShape<MT>::kChunkK + ((v ^ ((r & 1) << 2)) << 3);
}

// Issues the cp.async of one stage's weights: k = [k0 + kc, k0 + kc + 128) of the CTA's weight
// rows; vectors past the slice and rows past n are zero-filled.
template <int MT>
__device__ __forceinline__ void skinny_load_w(const SkinnyGemmParams& p, bf16* stage, int row0, int k0,
                                              int kLen, int kc) {
  using S = SkinnyShape<MT>;
  constexpr int kRowsPerPass = S::kThreads / S::kChunkVecs;
  const int v = threadIdx.x % S::kChunkVecs;
  const int r0 = threadIdx.x / S::kChunkVecs;
  const int kk = kc + v * 8;
  const bool kOk = kk < kLen;
#pragma unroll
  for (int i = 0; i < S::kRows / kRowsPerPass; i++) {
    const int r = r0 + i * kRowsPerPass;
    const int row = row0 + r;
    const bool valid = kOk && row < p.n;
    const bf16* src = valid ? p.w + static_cast<size_t>(row) * p.k + k0 + kk : p.w;
    cp_async16(stage + skinny_w_offset<MT>(r, v), src, valid);
  }
}

// The same stage's x rows (rows past m zero-filled). P: this kernel's parameters or its FP8
// variant's; S::kWElems is where the x rows of a stage start, in bf16 units.
template <int MT, int kWElems, typename P>
__device__ __forceinline__ void skinny_load_x(const P& p, bf16* stage, int m0, int k0, int kLen, int kc) {
  using S = SkinnyShape<MT>;
  bf16* xs = stage + kWElems;
#pragma unroll
  for (int i = 0; i < MT * S::kChunkVecs / S::kThreads; i++) {
    const int e = threadIdx.x + i * S::kThreads;
    const int r = e / S::kChunkVecs, vx = e % S::kChunkVecs;
    const int kx = kc + vx * 8;
    const bool valid = m0 + r < p.m && kx < kLen;
    const bf16* src = valid ? p.x + static_cast<size_t>(m0 + r) * p.k + k0 + kx : p.x;
    cp_async16(xs + r * S::kXPitch + vx * 8, src, valid);
  }
}

// Issues the cp.async of one stage: k = [k0 + kc, k0 + kc + 128) of the CTA's weight rows and x
// rows.
template <int MT>
__device__ __forceinline__ void skinny_load_stage(const SkinnyGemmParams& p, bf16* stage,
                                                  int row0, int m0, int k0, int kLen, int kc) {
  skinny_load_w<MT>(p, stage, row0, k0, kLen, kc);
  skinny_load_x<MT, SkinnyShape<MT>::kWElems>(p, stage, m0, k0, kLen, kc);
}

// The pipeline's first kStages - 1 stages, as one commit group each, after pdl_entry (the wait on the
// previous launch). Where the weights are resident (earlyWeights) their loads are issued before it
// (then all of them belong to the first group), so they overlap the previous kernel's tail; x only after.
// loadW(stage, kc) and loadX(stage, kc) issue one stage's copies.
template <int kStages, int kStageElems, typename LoadW, typename LoadX, typename ChunkK>
__device__ __forceinline__ void skinny_prologue(bool earlyWeights, bf16* smem, int chunks, ChunkK chunk_k,
                                                LoadW loadW, LoadX loadX) {
  if (earlyWeights) {
#pragma unroll
    for (int s = 0; s < kStages - 1; s++) {
      if (s < chunks) loadW(smem + s * kStageElems, chunk_k(s));
    }
  }
  pdl_entry();
#pragma unroll
  for (int s = 0; s < kStages - 1; s++) {
    if (s < chunks) {
      if (!earlyWeights) loadW(smem + s * kStageElems, chunk_k(s));
      loadX(smem + s * kStageElems, chunk_k(s));
    }
    cp_async_commit();
  }
}

// The warp's MMAs over one stage: the first nBlocks 32-k blocks (later ones lie past the slice).
template <int MT>
__device__ __forceinline__ void skinny_mma_stage(
    const bf16* stage, int nBlocks,
    float (&acc)[SkinnyShape<MT>::kRowTiles][MT / 8][4]) {
  using S = SkinnyShape<MT>;
  constexpr int NT = MT / 8;
  constexpr int RT = S::kRowTiles;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, q4 = lane & 3;
  const int rBase = warp * S::kWarpRows + g;  // rows rBase + 16t and rBase + 16t + 8
  const bf16* xs = stage + S::kWElems + g * S::kXPitch;
#pragma unroll
  for (int j = 0; j < S::kChunkK / 32; j++) {
    if (j < nBlocks) {
      uint32_t a1[RT][4], a2[RT][4];
#pragma unroll
      for (int t = 0; t < RT; t++) {
        const int r = rBase + 16 * t;
        const uint4 w0 =
            *reinterpret_cast<const uint4*>(stage + skinny_w_offset<MT>(r, 4 * j + q4));
        const uint4 w1 =
            *reinterpret_cast<const uint4*>(stage + skinny_w_offset<MT>(r + 8, 4 * j + q4));
        a1[t][0] = w0.x; a1[t][1] = w1.x; a1[t][2] = w0.y; a1[t][3] = w1.y;
        a2[t][0] = w0.z; a2[t][1] = w1.z; a2[t][2] = w0.w; a2[t][3] = w1.w;
      }
#pragma unroll
      for (int nt = 0; nt < NT; nt++) {
        const uint4 bx =
            *reinterpret_cast<const uint4*>(xs + nt * 8 * S::kXPitch + j * 32 + 8 * q4);
#pragma unroll
        for (int t = 0; t < RT; t++) {
          mma_bf16(acc[t][nt], a1[t], bx.x, bx.y);
          mma_bf16(acc[t][nt], a2[t], bx.z, bx.w);
        }
      }
    }
  }
}

// One output element: bf16, or float32 for a tensor-parallel rank's partial sums. (P: the
// parameters of this kernel or of its FP8 variant, skinny_gemm_fp8.cu.)
template <typename P>
__device__ __forceinline__ void skinny_store(const P& p, size_t at, float v) {
  if (p.outFloat) {
    reinterpret_cast<float*>(p.out)[at] = v;
  } else {
    p.out[at] = __float2bfloat16_rn(v);
  }
}

// The last CTA of a split row tile: out = sum over splits of the partial tiles, in split order.
// kRows weight rows and MT x rows a tile, summed by kThreads threads, kBatch splits' loads a round.
template <int MT, int kRows, int kThreads, int kBatch, typename P>
__device__ __forceinline__ void skinny_reduce_tile(const P& p, int row0, int m0, int nPad) {
  constexpr int kRowVecs = kRows / 4;                // float4 per x row of a partial tile
  constexpr int V = MT * kRowVecs / kThreads;        // float4 per thread and split
  constexpr int B = kBatch;
  const int mTiles = gridDim.z, mTile = blockIdx.z;
  float4 sum[V];
#pragma unroll
  for (int i = 0; i < V; i++) sum[i] = make_float4(0.f, 0.f, 0.f, 0.f);
  for (int s0 = 0; s0 < p.splits; s0 += B) {
    float4 v[B][V];
#pragma unroll
    for (int b = 0; b < B; b++)
#pragma unroll
      for (int i = 0; i < V; i++) {
        const int f = threadIdx.x + i * kThreads;
        const int mc = f / kRowVecs, rv = f % kRowVecs;
        const size_t at =
            (static_cast<size_t>((s0 + b) * mTiles + mTile) * MT + mc) * nPad + row0 + 4 * rv;
        v[b][i] = s0 + b < p.splits ? __ldcg(reinterpret_cast<const float4*>(p.workspace + at))
                                    : make_float4(0.f, 0.f, 0.f, 0.f);
      }
#pragma unroll
    for (int b = 0; b < B; b++)
#pragma unroll
      for (int i = 0; i < V; i++) {
        sum[i].x += v[b][i].x;
        sum[i].y += v[b][i].y;
        sum[i].z += v[b][i].z;
        sum[i].w += v[b][i].w;
      }
  }
#pragma unroll
  for (int i = 0; i < V; i++) {
    const int f = threadIdx.x + i * kThreads;
    const int mc = m0 + f / kRowVecs, row = row0 + 4 * (f % kRowVecs);
    if (mc < p.m) {
      const size_t at = static_cast<size_t>(mc) * p.outStride + row;
      if (row < p.n) skinny_store(p, at, sum[i].x);
      if (row + 1 < p.n) skinny_store(p, at + 1, sum[i].y);
      if (row + 2 < p.n) skinny_store(p, at + 2, sum[i].z);
      if (row + 3 < p.n) skinny_store(p, at + 3, sum[i].w);
    }
  }
}

template <int MT, typename P>
__device__ __forceinline__ void skinny_reduce(const P& p, int row0, int m0, int nPad) {
  using S = SkinnyShape<MT>;
  skinny_reduce_tile<MT, S::kRows, S::kThreads, S::kReduceBatch>(p, row0, m0, nPad);
}

template <int MT>
__device__ __forceinline__ void skinny_tile(const SkinnyGemmParams& p) {
  using S = SkinnyShape<MT>;
  constexpr int NT = MT / 8;
  constexpr int RT = S::kRowTiles;
  extern __shared__ uint4 dynamic_smem[];
  bf16* smem = reinterpret_cast<bf16*>(dynamic_smem);
  const int nTile = blockIdx.x, split = blockIdx.y, mTile = blockIdx.z;
  const int k0 = split * p.kSlice;
  const int kLen = min(p.kSlice, p.k - k0);
  const int chunks = (kLen + S::kChunkK - 1) / S::kChunkK;
  const int rot = nTile % chunks;
  const int row0 = nTile * S::kRows;
  const int m0 = mTile * MT;
  // k offset (within the slice) of the chunk that stage c visits.
  auto chunk_k = [&](int c) {
    const int r = c + rot;
    return (r < chunks ? r : r - chunks) * S::kChunkK;
  };

  float acc[RT][NT][4];
#pragma unroll
  for (int t = 0; t < RT; t++)
#pragma unroll
    for (int nt = 0; nt < NT; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) acc[t][nt][e] = 0.f;

  skinny_prologue<S::kStages, S::kStageElems>(
      p.earlyWeights != 0, smem, chunks, chunk_k,
      [&](bf16* stage, int kc) { skinny_load_w<MT>(p, stage, row0, k0, kLen, kc); },
      [&](bf16* stage, int kc) { skinny_load_x<MT, S::kWElems>(p, stage, m0, k0, kLen, kc); });
  for (int c = 0; c < chunks; c++) {
    cp_async_wait<S::kStages - 2>();
    __syncthreads();  // stage c visible to all; everyone is done with stage c - 1's buffer
    const int next = c + S::kStages - 1;
    if (next < chunks) {
      skinny_load_stage<MT>(p, smem + (next % S::kStages) * S::kStageElems, row0, m0, k0, kLen,
                            chunk_k(next));
    }
    cp_async_commit();
    const int kc = chunk_k(c);
    const int nBlocks = min(S::kChunkK / 32, (kLen - kc + 31) / 32);
    skinny_mma_stage<MT>(smem + (c % S::kStages) * S::kStageElems, nBlocks, acc);
  }
  cp_async_wait<0>();

  // acc[t][nt] = {(r, col 2q), (r, col 2q+1), (r+8, col 2q), (r+8, col 2q+1)}, r = rBase + 16t,
  // col = x row nt * 8 + ...
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, q4 = lane & 3;
  const int rBase = row0 + warp * S::kWarpRows + g;
  if (p.splits == 1) {
#pragma unroll
    for (int t = 0; t < RT; t++)
#pragma unroll
      for (int nt = 0; nt < NT; nt++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
          const int row = rBase + 16 * t + 8 * (e >> 1);
          const int mc = m0 + nt * 8 + 2 * q4 + (e & 1);
          if (row < p.n && mc < p.m) {
            skinny_store(p, static_cast<size_t>(mc) * p.outStride + row, acc[t][nt][e]);
          }
        }
    return;
  }
  const int nPad = gridDim.x * S::kRows;
  const int mTiles = gridDim.z;
  float* ws = p.workspace + static_cast<size_t>(split * mTiles + mTile) * MT * nPad;
#pragma unroll
  for (int t = 0; t < RT; t++)
#pragma unroll
    for (int nt = 0; nt < NT; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const int row = rBase + 16 * t + 8 * (e >> 1);
        ws[static_cast<size_t>(nt * 8 + 2 * q4 + (e & 1)) * nPad + row] = acc[t][nt][e];
      }
  int* counter = &p.counters[mTile * gridDim.x + nTile];
  if (!counted_last(counter, p.splits)) return;  // the last split sums
  skinny_reduce<MT>(p, row0, m0, nPad);
  if (threadIdx.x == 0) atomicExch(counter, 0);
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(128, 4)
    df_skinny_gemm_m8(const __grid_constant__ SkinnyGemmParams p) {
  df::skinny_tile<8>(p);
}

extern "C" __global__ void __launch_bounds__(128, 4)
    df_skinny_gemm_m16(const __grid_constant__ SkinnyGemmParams p) {
  df::skinny_tile<16>(p);
}

extern "C" __global__ void __launch_bounds__(128, 2)
    df_skinny_gemm_m32(const __grid_constant__ SkinnyGemmParams p) {
  df::skinny_tile<32>(p);
}

extern "C" __global__ void __launch_bounds__(128, 2)
    df_skinny_gemm_m64(const __grid_constant__ SkinnyGemmParams p) {
  df::skinny_tile<64>(p);
}
