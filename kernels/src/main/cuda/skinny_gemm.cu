// Skinny GEMM for decode: out = x · wᵀ with few rows in x (m = batch <= 256), where the cost is
// streaming the weight once. bf16 operands, float32 accumulation, bf16 output.
//
// The weight never goes through shared memory: each lane loads 16 bytes of a weight row straight
// into registers (ld.global.nc, no L1 allocation) and feeds them to mma.m16n8k16 as A fragments.
// That works because a dot product does not care about the order of its k terms: within a block
// of 32 k values, lane (g, q) holds physical k = 8q..8q+7 of rows g and g+8, and the MMA's
// logical k slots {2q, 2q+1, 2q+8, 2q+9} are mapped to physical 8q+0..3 in the first MMA and
// 8q+4..7 in the second. The B fragments (x) are read from shared memory with the very same
// mapping, which is again one 16-byte load per lane. The product is out transposed: W rows are
// the MMA's M, x rows its N.
//
// A CTA (4 warps) owns 64 weight rows (16 per warp) and one k-slice; x is staged through shared
// memory in chunks of 256 k (cp.async, double-buffered) and shared by the 4 warps. When the row
// tiles alone cannot fill the GPU, k is split: each CTA writes a float32 partial tile and the last
// CTA of a row tile (atomic counter) sums the partials and writes bf16, so there is one launch.
//
// Variants: df_skinny_gemm_m{8,16,32,64}: x rows per tile (m > 64 uses several m tiles).
// Layouts: x (m, k) bf16; w (n, k) bf16 (out_features, in_features); out (m, outStride) bf16;
// workspace (splits, mTiles, mTile, nTiles * 64) float32; counters (mTiles * nTiles) int32, zero
// before the first launch and left zero by each launch. k is a multiple of 8; kSlice a multiple
// of 32.
// Grid: (nTiles = ceil(n / 64), splits, mTiles); block: 128 threads; dynamic shared memory
// 2 * mTile * (256 * 2 + 64) bytes.
#include "common.cuh"

struct SkinnyGemmParams {
  bf16* out;               // (m, outStride) bf16
  const bf16* x;           // (m, k) bf16
  const bf16* w;           // (n, k) bf16
  float* workspace;        // (splits, mTiles, mTile, nTiles * 64) float32; unused when splits == 1
  int* counters;           // (mTiles * nTiles) int32; unused when splits == 1
  int m;
  int n;
  int k;
  int outStride;
  int kSlice;              // multiple of 32
  int splits;
};
DF_PARAMS_SIZE(SkinnyGemmParams, 64);

namespace df {

struct SkinnyShape {
  static constexpr int kThreads = 128;
  static constexpr int kRowsPerCta = 64;
  static constexpr int kChunkK = 256;        // x staged 256 k at a time
  static constexpr int kBlocksPerChunk = kChunkK / 32;
  // Row pitch of a staged x chunk: 512 bytes + 64 makes consecutive rows start in opposite halves
  // of the 32 banks, so a quarter-warp's 16-byte reads (rows g, g+1; four lanes each) never clash.
  static constexpr int kPitch = kChunkK + 32;  // elements
  static constexpr int kUnroll = 4;          // k blocks of weight loads in flight per warp
};

template <int MT>
__device__ __forceinline__ void skinny_stage_x(const SkinnyGemmParams& p, bf16* xs, int m0, int k0,
                                               int kLen, int chunk) {
  constexpr int kCpr = SkinnyShape::kChunkK / 8;
  const int kc = chunk * SkinnyShape::kChunkK;
  for (int i = threadIdx.x; i < MT * kCpr; i += SkinnyShape::kThreads) {
    const int r = i / kCpr, c = i % kCpr;
    const int kk = kc + c * 8;
    const bool valid = m0 + r < p.m && kk < kLen;
    const bf16* src = p.x + (valid ? static_cast<size_t>(m0 + r) * p.k + k0 + kk : 0);
    cp_async16(xs + r * SkinnyShape::kPitch + c * 8, src, valid);
  }
}

template <int MT>
__device__ __forceinline__ void skinny_tile(const SkinnyGemmParams& p) {
  using S = SkinnyShape;
  constexpr int NT = MT / 8;
  constexpr int U = S::kUnroll;
  extern __shared__ uint4 dynamic_smem[];
  __shared__ int sLast;
  bf16* xsBase = reinterpret_cast<bf16*>(dynamic_smem);
  const int nTile = blockIdx.x, split = blockIdx.y, mTile = blockIdx.z;
  const int k0 = split * p.kSlice;
  const int kLen = min(p.kSlice, p.k - k0);
  const int nkb = (kLen + 31) >> 5;
  const int chunks = (kLen + S::kChunkK - 1) / S::kChunkK;
  const int m0 = mTile * MT;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, q4 = lane & 3;

  const int row0 = nTile * S::kRowsPerCta + warp * 16 + g;
  const int row1 = row0 + 8;
  const bf16* w0 = p.w + static_cast<size_t>(min(row0, p.n - 1)) * p.k + k0 + 8 * q4;
  const bf16* w1 = p.w + static_cast<size_t>(min(row1, p.n - 1)) * p.k + k0 + 8 * q4;

  // Weight loads of k-block kb: 16 bytes of row g and of row g + 8, zeros past the slice.
  auto load_w = [&](int kb, uint4& a, uint4& b) {
    const bool ok = kb * 32 + 8 * q4 < kLen;
    a = ok ? ld_stream(w0 + kb * 32) : make_uint4(0, 0, 0, 0);
    b = ok ? ld_stream(w1 + kb * 32) : make_uint4(0, 0, 0, 0);
  };

  uint4 cur0[U], cur1[U];
#pragma unroll
  for (int u = 0; u < U; u++) load_w(u, cur0[u], cur1[u]);
  skinny_stage_x<MT>(p, xsBase, m0, k0, kLen, 0);
  cp_async_commit();

  float acc[NT][4];
#pragma unroll
  for (int nt = 0; nt < NT; nt++)
#pragma unroll
    for (int e = 0; e < 4; e++) acc[nt][e] = 0.f;

  for (int kb = 0; kb < nkb; kb += U) {
    uint4 nxt0[U], nxt1[U];
#pragma unroll
    for (int u = 0; u < U; u++) load_w(kb + U + u, nxt0[u], nxt1[u]);
    if (kb % S::kBlocksPerChunk == 0) {
      // Entering x chunk c: everyone is done with chunk c - 1, whose buffer takes chunk c + 1.
      const int c = kb / S::kBlocksPerChunk;
      __syncthreads();
      if (c + 1 < chunks) {
        skinny_stage_x<MT>(p, xsBase + ((c + 1) & 1) * MT * S::kPitch, m0, k0, kLen, c + 1);
      }
      cp_async_commit();
      cp_async_wait<1>();
      __syncthreads();
    }
    const bf16* xs = xsBase + ((kb / S::kBlocksPerChunk) & 1) * MT * S::kPitch;
#pragma unroll
    for (int u = 0; u < U; u++) {
      const int kl = ((kb + u) % S::kBlocksPerChunk) * 32 + 8 * q4;
      if (kb + u < nkb) {
        const uint32_t a1[4] = {cur0[u].x, cur1[u].x, cur0[u].y, cur1[u].y};
        const uint32_t a2[4] = {cur0[u].z, cur1[u].z, cur0[u].w, cur1[u].w};
#pragma unroll
        for (int nt = 0; nt < NT; nt++) {
          const uint4 bx = *reinterpret_cast<const uint4*>(xs + (nt * 8 + g) * S::kPitch + kl);
          mma_bf16(acc[nt], a1, bx.x, bx.y);
          mma_bf16(acc[nt], a2, bx.z, bx.w);
        }
      }
    }
#pragma unroll
    for (int u = 0; u < U; u++) {
      cur0[u] = nxt0[u];
      cur1[u] = nxt1[u];
    }
  }

  // acc[nt] = {(row0, col 2q), (row0, col 2q+1), (row1, col 2q), (row1, col 2q+1)}, col = x row.
  if (p.splits == 1) {
#pragma unroll
    for (int nt = 0; nt < NT; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) {
        const int row = (e >> 1) ? row1 : row0;
        const int mc = m0 + nt * 8 + 2 * q4 + (e & 1);
        if (row < p.n && mc < p.m) {
          p.out[static_cast<size_t>(mc) * p.outStride + row] = __float2bfloat16_rn(acc[nt][e]);
        }
      }
    return;
  }
  const int nPad = gridDim.x * S::kRowsPerCta;
  const int mTiles = gridDim.z;
  float* ws = p.workspace + static_cast<size_t>(split * mTiles + mTile) * MT * nPad;
#pragma unroll
  for (int nt = 0; nt < NT; nt++)
#pragma unroll
    for (int e = 0; e < 4; e++) {
      const int row = (e >> 1) ? row1 : row0;
      ws[static_cast<size_t>(nt * 8 + 2 * q4 + (e & 1)) * nPad + row] = acc[nt][e];
    }
  __threadfence();
  __syncthreads();
  int* counter = &p.counters[mTile * gridDim.x + nTile];
  if (threadIdx.x == 0) sLast = atomicAdd(counter, 1) == p.splits - 1;
  __syncthreads();
  if (!sLast) return;
  __threadfence();
  for (int i = threadIdx.x; i < MT * S::kRowsPerCta; i += S::kThreads) {
    const int mc = i / S::kRowsPerCta;
    const int row = nTile * S::kRowsPerCta + i % S::kRowsPerCta;
    float sum = 0.f;
    for (int s = 0; s < p.splits; s++) {
      sum += __ldcg(p.workspace + (static_cast<size_t>(s * mTiles + mTile) * MT + mc) * nPad + row);
    }
    if (row < p.n && m0 + mc < p.m) {
      p.out[static_cast<size_t>(m0 + mc) * p.outStride + row] = __float2bfloat16_rn(sum);
    }
  }
  if (threadIdx.x == 0) atomicExch(counter, 0);
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(128)
    df_skinny_gemm_m8(const __grid_constant__ SkinnyGemmParams p) {
  df::skinny_tile<8>(p);
}

extern "C" __global__ void __launch_bounds__(128)
    df_skinny_gemm_m16(const __grid_constant__ SkinnyGemmParams p) {
  df::skinny_tile<16>(p);
}

extern "C" __global__ void __launch_bounds__(128)
    df_skinny_gemm_m32(const __grid_constant__ SkinnyGemmParams p) {
  df::skinny_tile<32>(p);
}

extern "C" __global__ void __launch_bounds__(128)
    df_skinny_gemm_m64(const __grid_constant__ SkinnyGemmParams p) {
  df::skinny_tile<64>(p);
}
