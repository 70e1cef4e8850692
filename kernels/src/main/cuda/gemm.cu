// Tensor-core GEMM for prefill: out = x · wᵀ (the Hugging Face Linear layout), bf16 operands,
// float32 accumulation, bf16 output.
//
// Variants: df_gemm (one kernel). Tiles of 128 x 128 outputs, k-steps of 32, four cp.async
// stages; 8 warps, each 64 x 32 outputs as 4 x 4 mma.m16n8k16 tiles fed by ldmatrix from
// XOR-swizzled shared memory. This is the mma.sync path (sm_80 instructions): portable to the
// compute_90 PTX target, though slower than a wgmma kernel on Hopper.
// Layouts: x (m, k) bf16 row-major; w (n, k) bf16 row-major; out (m, outStride) bf16.
// k is a multiple of 8; m and n are arbitrary (edges are zero-filled and not stored).
// Grid: (ceil(n / 128), ceil(m / 128)); block: 256 threads; dynamic shared memory 64 KiB.
#include "common.cuh"

struct GemmParams {
  bf16* out;               // (m, outStride) bf16
  const bf16* x;           // (m, k) bf16
  const bf16* w;           // (n, k) bf16
  int m;
  int n;
  int k;
  int outStride;
  int outFloat;            // 1: out is (m, outStride) float32
};
DF_PARAMS_SIZE(GemmParams, 48);

namespace df {

struct GemmShape {
  static constexpr int kThreads = 256;
  static constexpr int kTileM = 128, kTileN = 128, kTileK = 32;
  static constexpr int kStages = 4;
  static constexpr int kTileElems = kTileM * kTileK;  // A and B tiles are the same size
  static constexpr int kSmemBytes = kStages * 2 * kTileElems * 2;
};

// Rows of the k-tile are 64 bytes (four 16-byte chunks): XOR the chunk with bits 1-2 of the row
// so that the eight rows of one ldmatrix phase hit eight different bank groups.
__device__ __forceinline__ int gemm_swizzle(int r, int c) { return r * 4 + (c ^ ((r >> 1) & 3)); }

__device__ __forceinline__ void gemm_load_stage(const GemmParams& p, bf16* sA, bf16* sB, int m0,
                                                int n0, int k0) {
#pragma unroll
  for (int i = 0; i < 2; i++) {
    const int idx = threadIdx.x + i * GemmShape::kThreads;
    const int r = idx >> 2, c = idx & 3;
    const int kk = k0 + c * 8;
    const bool kOk = kk < p.k;
    const bool aOk = kOk && m0 + r < p.m;
    const bool bOk = kOk && n0 + r < p.n;
    const bf16* a = p.x + (aOk ? static_cast<size_t>(m0 + r) * p.k + kk : 0);
    const bf16* b = p.w + (bOk ? static_cast<size_t>(n0 + r) * p.k + kk : 0);
    cp_async16(sA + gemm_swizzle(r, c) * 8, a, aOk);
    cp_async16(sB + gemm_swizzle(r, c) * 8, b, bOk);
  }
}

__device__ __forceinline__ void gemm_tile(const GemmParams& p) {
  using S = GemmShape;
  extern __shared__ uint4 dynamic_smem[];
  bf16* smem = reinterpret_cast<bf16*>(dynamic_smem);
  const int n0 = blockIdx.x * S::kTileN, m0 = blockIdx.y * S::kTileM;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int wm = warp >> 2, wn = warp & 3;  // 2 x 4 warps, each 64 (m) x 32 (n)
  const int g = lane >> 2, q4 = lane & 3, mi = lane >> 3, r8 = lane & 7;
  const int kTiles = (p.k + S::kTileK - 1) / S::kTileK;

  float acc[4][4][4];
#pragma unroll
  for (int i = 0; i < 4; i++)
#pragma unroll
    for (int j = 0; j < 4; j++)
#pragma unroll
      for (int e = 0; e < 4; e++) acc[i][j][e] = 0.f;

#pragma unroll
  for (int s = 0; s < S::kStages - 1; s++) {
    if (s < kTiles) {
      gemm_load_stage(p, smem + 2 * s * S::kTileElems, smem + (2 * s + 1) * S::kTileElems, m0, n0,
                      s * S::kTileK);
    }
    cp_async_commit();
  }
  for (int kt = 0; kt < kTiles; kt++) {
    cp_async_wait<S::kStages - 2>();
    __syncthreads();
    const int next = kt + S::kStages - 1;
    if (next < kTiles) {
      const int b = next % S::kStages;
      gemm_load_stage(p, smem + 2 * b * S::kTileElems, smem + (2 * b + 1) * S::kTileElems, m0, n0,
                      next * S::kTileK);
    }
    cp_async_commit();
    const int b = kt % S::kStages;
    const bf16* sA = smem + 2 * b * S::kTileElems;
    const bf16* sB = sA + S::kTileElems;
#pragma unroll
    for (int ks = 0; ks < 2; ks++) {
      uint32_t a[4][4], bw[2][4];
#pragma unroll
      for (int i = 0; i < 4; i++) {
        const int r = wm * 64 + i * 16 + (mi & 1) * 8 + r8;
        ldmatrix_x4(a[i], sA + gemm_swizzle(r, 2 * ks + (mi >> 1)) * 8);
      }
#pragma unroll
      for (int jp = 0; jp < 2; jp++) {
        const int r = wn * 32 + jp * 16 + (mi >> 1) * 8 + r8;
        ldmatrix_x4(bw[jp], sB + gemm_swizzle(r, 2 * ks + (mi & 1)) * 8);
      }
#pragma unroll
      for (int i = 0; i < 4; i++)
#pragma unroll
        for (int jp = 0; jp < 2; jp++) {
          mma_bf16(acc[i][2 * jp], a[i], bw[jp][0], bw[jp][1]);
          mma_bf16(acc[i][2 * jp + 1], a[i], bw[jp][2], bw[jp][3]);
        }
    }
  }
  cp_async_wait<0>();

#pragma unroll
  for (int i = 0; i < 4; i++)
#pragma unroll
    for (int j = 0; j < 4; j++)
#pragma unroll
      for (int hh = 0; hh < 2; hh++) {
        const int row = m0 + wm * 64 + i * 16 + g + 8 * hh;
        const int col = n0 + wn * 32 + j * 8 + 2 * q4;
        if (row >= p.m) continue;
        bf16* dst = p.out + static_cast<size_t>(row) * p.outStride + col;
        const float v0 = acc[i][j][2 * hh], v1 = acc[i][j][2 * hh + 1];
        if (p.outFloat) {
          float* f = reinterpret_cast<float*>(p.out) + static_cast<size_t>(row) * p.outStride + col;
          if (col < p.n) f[0] = v0;
          if (col + 1 < p.n) f[1] = v1;
        } else if (col + 1 < p.n && (p.outStride & 1) == 0) {
          *reinterpret_cast<uint32_t*>(dst) = pack_bf16x2(v0, v1);
        } else {
          if (col < p.n) dst[0] = __float2bfloat16_rn(v0);
          if (col + 1 < p.n) dst[1] = __float2bfloat16_rn(v1);
        }
      }
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::GemmShape::kThreads, 2)
    df_gemm(const __grid_constant__ GemmParams p) {
  df::pdl_entry();
  df::gemm_tile(p);
}
