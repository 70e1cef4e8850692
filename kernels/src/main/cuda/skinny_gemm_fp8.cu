// Skinny GEMM with FP8 weights for decode (W8A16): out = (x · e4m3(w)ᵀ) * scale[row], the
// skinny GEMM of skinny_gemm.cu (which decodefleet.cu includes before this file) with the weight
// streamed as e4m3 codes: half the bytes, the same tiles, MMAs and split-K.
//
// What differs from the bf16 kernel:
//   - A stage holds 128 codes of each weight row (128 bytes: 8 vectors of 16) and, as before,
//     128 bf16 of each x row. The 16-byte weight vectors of row r are XOR-swizzled by 2 * (r & 3).
//   - Lane (g, q) reads the 8 codes of physical k = 32j + 8q .. +7 of rows g and g + 8 (one 8-byte
//     shared load each; the swizzle puts the four rows a half-warp reads in four different 32-byte
//     bank groups) and widens them exactly to the 4 bf16x2 words the bf16 kernel loads there
//     (cvt.rn.f16x2.e4m3x2, then to bf16: every e4m3 value is a bf16), so the k mapping, the x
//     fragments and the MMAs are the bf16 kernel's.
//   - Each accumulator is multiplied by its weight row's scale before it is stored or written as a
//     partial (a sum of scaled partials is the scaled sum), so the split-K reduce is unchanged.
// Variants: df_skinny_gemm_fp8_m{8,16,32,64}.
// Layouts: x (m, k) bf16; w (n, k) e4m3; scale (n) float32; out (m, outStride) bf16 or float32;
// workspace and counters as skinny_gemm.cu. k is a multiple of 16; kSlice a multiple of 32.
// Grid: (nTiles, splits, mTiles) as skinny_gemm.cu; block: 128 threads; dynamic shared memory
// kStages * (kRows * 64 + mTile * 160) * 2 bytes.
#include "fp8.cuh"

struct SkinnyGemmFp8Params {
  bf16* out;               // (m, outStride) bf16, or float32 when outFloat
  const bf16* x;           // (m, k) bf16
  const uint8_t* w;        // (n, k) e4m3
  const float* scale;      // (n) float32: the scale of each weight row
  float* workspace;        // (splits, mTiles, mTile, nTiles * kRows) float32; unused if splits == 1
  int* counters;           // (mTiles * nTiles) int32; unused when splits == 1
  int m;
  int n;
  int k;
  int outStride;
  int kSlice;              // multiple of 32
  int splits;
  int outFloat;            // 1: out is (m, outStride) float32
  int earlyWeights;        // 1: w and scale are resident: w's first stages are fetched before the
                           // wait on the previous launch (skinny_gemm.cu skinny_prologue)
};
DF_PARAMS_SIZE(SkinnyGemmFp8Params, 80);

namespace df {

template <int MT>
struct SkinnyFp8Shape {
  using S = SkinnyShape<MT>;
  static constexpr int kWBytesPerRow = S::kChunkK;            // 128 codes
  static constexpr int kWVecs = kWBytesPerRow / 16;           // 8 vectors per row and stage
  static constexpr int kWElems = S::kRows * kWBytesPerRow / 2;  // the tile in bf16 units
  static constexpr int kStageElems = kWElems + MT * S::kXPitch;
  static constexpr int kSmemBytes = S::kStages * kStageElems * 2;
};
static_assert(SkinnyFp8Shape<8>::kSmemBytes == 3 * (64 * 64 + 8 * 160) * 2, "Kernel.java fp8 m8");
static_assert(SkinnyFp8Shape<64>::kSmemBytes == 2 * (128 * 64 + 64 * 160) * 2, "Kernel.java fp8 m64");

// Byte offset of 16-byte vector v of row r in a stage's code tile.
__device__ __forceinline__ int skinny_fp8_offset(int r, int v) {
  return r * 128 + ((v ^ ((r & 3) << 1)) << 4);
}

// Issues the cp.async of one stage's codes: 128 codes of each of the CTA's weight rows.
template <int MT>
__device__ __forceinline__ void skinny_fp8_load_w(const SkinnyGemmFp8Params& p, bf16* stage,
                                                  int row0, int k0, int kLen, int kc) {
  using S = SkinnyShape<MT>;
  using F = SkinnyFp8Shape<MT>;
  constexpr int kRowsPerPass = S::kThreads / F::kWVecs;
  uint8_t* codes = reinterpret_cast<uint8_t*>(stage);
  const int v = threadIdx.x % F::kWVecs;
  const int r0 = threadIdx.x / F::kWVecs;
  const int kk = kc + v * 16;
  const bool kOk = kk < kLen;
#pragma unroll
  for (int i = 0; i < S::kRows / kRowsPerPass; i++) {
    const int r = r0 + i * kRowsPerPass;
    const int row = row0 + r;
    const bool valid = kOk && row < p.n;
    const uint8_t* src = valid ? p.w + static_cast<size_t>(row) * p.k + k0 + kk : p.w;
    cp_async16(codes + skinny_fp8_offset(r, v), src, valid);
  }
}

// The 8 codes of physical k = 32j + 8q .. + 7 of row r, widened to the bf16 kernel's uint4.
__device__ __forceinline__ uint4 skinny_fp8_fragment(const uint8_t* codes, int r, int j, int q4) {
  const int u = 4 * j + q4;  // 8-byte unit of the row
  const uint2 c = *reinterpret_cast<const uint2*>(codes + skinny_fp8_offset(r, u >> 1) + ((u & 1) << 3));
  const uint2 lo = fp8x4_to_bf16x4(c.x), hi = fp8x4_to_bf16x4(c.y);
  return make_uint4(lo.x, lo.y, hi.x, hi.y);
}

template <int MT>
__device__ __forceinline__ void skinny_fp8_mma_stage(
    const bf16* stage, int nBlocks, float (&acc)[SkinnyShape<MT>::kRowTiles][MT / 8][4]) {
  using S = SkinnyShape<MT>;
  constexpr int NT = MT / 8;
  constexpr int RT = S::kRowTiles;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, q4 = lane & 3;
  const int rBase = warp * S::kWarpRows + g;
  const uint8_t* codes = reinterpret_cast<const uint8_t*>(stage);
  const bf16* xs = stage + SkinnyFp8Shape<MT>::kWElems + g * S::kXPitch;
#pragma unroll
  for (int j = 0; j < S::kChunkK / 32; j++) {
    if (j < nBlocks) {
      uint32_t a1[RT][4], a2[RT][4];
#pragma unroll
      for (int t = 0; t < RT; t++) {
        const int r = rBase + 16 * t;
        const uint4 w0 = skinny_fp8_fragment(codes, r, j, q4);
        const uint4 w1 = skinny_fp8_fragment(codes, r + 8, j, q4);
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

// The FP8 skinny GEMMs' end of a tile (this file's kernels and skinny_gemm_fp8_wgmma.cu): each accumulator
// times its weight row's scale, stored, or written as this split's partial and, in the CTA that counts the
// tile's last split, summed (skinny_reduce_tile). acc(t, nt, e): the lane's accumulator of weight row
// rBase + 16t + 8 (e >> 1) and x row m0 + 8 nt + 2 q4 + (e & 1), with m0 = blockIdx.z * MT; a tile is
// kRows weight rows (row0 the first) and MT x rows; grid (nTiles, splits, mTiles).
template <int MT, int RT, int NT, int kRows, int kThreads, int kReduceBatch, typename Acc>
__device__ __forceinline__ void skinny_fp8_finish(const SkinnyGemmFp8Params& p, Acc acc, int rBase, int row0) {
  const int nTile = blockIdx.x, split = blockIdx.y, mTile = blockIdx.z;
  const int m0 = mTile * MT;
  const int q4 = threadIdx.x & 3;
  // The scales of this lane's rows, loaded once: rows rBase + 16t and rBase + 16t + 8.
  float rowScale[RT][2];
#pragma unroll
  for (int t = 0; t < RT; t++)
#pragma unroll
    for (int h = 0; h < 2; h++) {
      const int row = rBase + 16 * t + 8 * h;
      rowScale[t][h] = row < p.n ? p.scale[row] : 0.f;
    }
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
            skinny_store(p, static_cast<size_t>(mc) * p.outStride + row, acc(t, nt, e) * rowScale[t][e >> 1]);
          }
        }
    return;
  }
  const int nPad = gridDim.x * kRows;
  const int mTiles = gridDim.z;
  float* ws = p.workspace + static_cast<size_t>(split * mTiles + mTile) * MT * nPad;
#pragma unroll
  for (int t = 0; t < RT; t++)
#pragma unroll
    for (int nt = 0; nt < NT; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const int row = rBase + 16 * t + 8 * (e >> 1);
        ws[static_cast<size_t>(nt * 8 + 2 * q4 + (e & 1)) * nPad + row] = acc(t, nt, e) * rowScale[t][e >> 1];
      }
  int* counter = &p.counters[mTile * gridDim.x + nTile];
  if (!counted_last(counter, p.splits)) return;  // the last split sums
  skinny_reduce_tile<MT, kRows, kThreads, kReduceBatch>(p, row0, m0, nPad);
  if (threadIdx.x == 0) atomicExch(counter, 0);
}

template <int MT>
__device__ __forceinline__ void skinny_fp8_tile(const SkinnyGemmFp8Params& p) {
  using S = SkinnyShape<MT>;
  using F = SkinnyFp8Shape<MT>;
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

  auto loadW = [&](bf16* stage, int kc) { skinny_fp8_load_w<MT>(p, stage, row0, k0, kLen, kc); };
  auto loadX = [&](bf16* stage, int kc) { skinny_load_x<MT, F::kWElems>(p, stage, m0, k0, kLen, kc); };
  skinny_prologue<S::kStages, F::kStageElems>(p.earlyWeights != 0, smem, chunks, chunk_k, loadW, loadX);
  for (int c = 0; c < chunks; c++) {
    cp_async_wait<S::kStages - 2>();
    __syncthreads();
    const int next = c + S::kStages - 1;
    if (next < chunks) {
      bf16* stage = smem + (next % S::kStages) * F::kStageElems;
      loadW(stage, chunk_k(next));
      loadX(stage, chunk_k(next));
    }
    cp_async_commit();
    const int kc = chunk_k(c);
    const int nBlocks = min(S::kChunkK / 32, (kLen - kc + 31) / 32);
    skinny_fp8_mma_stage<MT>(smem + (c % S::kStages) * F::kStageElems, nBlocks, acc);
  }
  cp_async_wait<0>();

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int rBase = row0 + warp * S::kWarpRows + (lane >> 2);
  skinny_fp8_finish<MT, RT, NT, S::kRows, S::kThreads, S::kReduceBatch>(
      p, [&](int t, int nt, int e) { return acc[t][nt][e]; }, rBase, row0);
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(128, 4)
    df_skinny_gemm_fp8_m8(const __grid_constant__ SkinnyGemmFp8Params p) {
  df::skinny_fp8_tile<8>(p);
}

extern "C" __global__ void __launch_bounds__(128, 4)
    df_skinny_gemm_fp8_m16(const __grid_constant__ SkinnyGemmFp8Params p) {
  df::skinny_fp8_tile<16>(p);
}

extern "C" __global__ void __launch_bounds__(128, 2)
    df_skinny_gemm_fp8_m32(const __grid_constant__ SkinnyGemmFp8Params p) {
  df::skinny_fp8_tile<32>(p);
}

extern "C" __global__ void __launch_bounds__(128, 2)
    df_skinny_gemm_fp8_m64(const __grid_constant__ SkinnyGemmFp8Params p) {
  df::skinny_fp8_tile<64>(p);
}
