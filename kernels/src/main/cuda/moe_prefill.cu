// Grouped tensor-core expert GEMMs for steps with many rows (prefill): moe.cu's expert GEMMs on
// gemm.cu's mma.sync tiles, one CTA per (output tile, 128 of an expert's rows, expert).
//
// Variants:
//   df_moe_experts_gate_up_tc  act = silu(x.gate^T) * (x.up^T) over the expert's rows, x gathered
//                              through tokenOf; each CTA computes 64 act columns: its B tile holds
//                              each warp's 16 gate rows then the 16 matching up rows, so a thread
//                              holds a column's gate and up sums side by side for the SwiGLU epilogue
//   df_moe_experts_down_tc     y = act.down^T over the expert's rows, 128 columns a CTA
// A CTA whose rows start past its expert's count exits before any load: the grid (sized for every
// launched row going to one expert) reads only routed experts, and only their rows' tiles.
// Layouts as moe.cu's (MoeExpertGemmParams); k a multiple of 8 (edges zero-filled, not stored).
// Block: 256 threads (gemm.cu's 2 x 4 warps, 64 x 32 outputs each); dynamic shared memory 64 KiB.
#include "common.cuh"

namespace df {

// Stage loader: A rows are the expert's rows m0.. (gathered through tokenOf when GATED), B rows
// the expert's weight rows of this CTA's tile.
template <bool GATED>
__device__ __forceinline__ void moe_tc_load_stage(const MoeExpertGemmParams& p, bf16* sA, bf16* sB, int first,
                                                  int count, const bf16* we, int m0, int n0, int k0) {
#pragma unroll
  for (int i = 0; i < 2; i++) {
    const int idx = threadIdx.x + i * GemmShape::kThreads;
    const int r = idx >> 2, c = idx & 3;
    const int kk = k0 + c * 8;
    const bool kOk = kk < p.k;
    const bool aOk = kOk && m0 + r < count;
    int wrow;
    bool bOk;
    if (GATED) {
      const int wn = r >> 5, j = r & 31;
      const int col = n0 + wn * 16 + (j & 15);
      wrow = (j < 16 ? 0 : p.n) + col;
      bOk = kOk && col < p.n;
    } else {
      wrow = n0 + r;
      bOk = kOk && wrow < p.n;
    }
    size_t aRow = 0;
    if (aOk) aRow = GATED ? static_cast<size_t>(p.tokenOf[first + m0 + r]) : static_cast<size_t>(first + m0 + r);
    const bf16* a = p.x + (aOk ? aRow * p.xStride + kk : 0);
    const bf16* b = we + (bOk ? static_cast<size_t>(wrow) * p.k + kk : 0);
    cp_async16(sA + gemm_swizzle(r, c) * 8, a, aOk);
    cp_async16(sB + gemm_swizzle(r, c) * 8, b, bOk);
  }
}

template <bool GATED>
__device__ __forceinline__ void moe_experts_tc(const MoeExpertGemmParams& p) {
  using S = GemmShape;
  const int e = blockIdx.z;
  const int first = p.offsets[e];
  const int count = p.offsets[e + 1] - first;
  const int m0 = blockIdx.y * S::kTileM;
  if (m0 >= count) return;
  extern __shared__ uint4 dynamic_smem[];
  bf16* smem = reinterpret_cast<bf16*>(dynamic_smem);
  const int n0 = blockIdx.x * (GATED ? S::kTileN / 2 : S::kTileN);
  const bf16* we = p.w + static_cast<size_t>(e) * (GATED ? 2 * static_cast<size_t>(p.n) : p.n) * p.k;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int wm = warp >> 2, wn = warp & 3;
  const int g = lane >> 2, q4 = lane & 3, mi = lane >> 3, r8 = lane & 7;
  const int kTiles = (p.k + S::kTileK - 1) / S::kTileK;

  float acc[4][4][4];
#pragma unroll
  for (int i = 0; i < 4; i++)
#pragma unroll
    for (int j = 0; j < 4; j++)
#pragma unroll
      for (int q = 0; q < 4; q++) acc[i][j][q] = 0.f;

#pragma unroll
  for (int s = 0; s < S::kStages - 1; s++) {
    if (s < kTiles) {
      moe_tc_load_stage<GATED>(p, smem + 2 * s * S::kTileElems, smem + (2 * s + 1) * S::kTileElems, first, count, we,
                               m0, n0, s * S::kTileK);
    }
    cp_async_commit();
  }
  for (int kt = 0; kt < kTiles; kt++) {
    cp_async_wait<S::kStages - 2>();
    __syncthreads();
    const int next = kt + S::kStages - 1;
    if (next < kTiles) {
      const int b = next % S::kStages;
      moe_tc_load_stage<GATED>(p, smem + 2 * b * S::kTileElems, smem + (2 * b + 1) * S::kTileElems, first, count, we,
                               m0, n0, next * S::kTileK);
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

  // Thread columns: wn * 32 + j * 8 + 2 * q4 (+1). GATED: j = 0, 1 are gate columns and j + 2 the
  // up columns of the same act column n0 + wn * 16 + j * 8 + 2 * q4 (+1).
#pragma unroll
  for (int i = 0; i < 4; i++)
#pragma unroll
    for (int hh = 0; hh < 2; hh++) {
      const int row = m0 + wm * 64 + i * 16 + g + 8 * hh;
      if (row >= count) continue;
      bf16* dst = p.out + static_cast<size_t>(first + row) * p.n;
#pragma unroll
      for (int j = 0; j < (GATED ? 2 : 4); j++) {
        const int col = GATED ? n0 + wn * 16 + j * 8 + 2 * q4 : n0 + wn * 32 + j * 8 + 2 * q4;
        float v0 = acc[i][j][2 * hh], v1 = acc[i][j][2 * hh + 1];
        if (GATED) {
          v0 = v0 / (1.f + __expf(-v0)) * acc[i][j + 2][2 * hh];
          v1 = v1 / (1.f + __expf(-v1)) * acc[i][j + 2][2 * hh + 1];
        }
        if (col + 1 < p.n) {
          *reinterpret_cast<uint32_t*>(dst + col) = pack_bf16x2(v0, v1);  // n is even: 4-byte aligned
        } else if (col < p.n) {
          dst[col] = __float2bfloat16_rn(v0);
        }
      }
    }
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::GemmShape::kThreads, 2)
    df_moe_experts_gate_up_tc(const __grid_constant__ MoeExpertGemmParams p) {
  df::pdl_entry();
  df::moe_experts_tc<true>(p);
}

extern "C" __global__ void __launch_bounds__(df::GemmShape::kThreads, 2)
    df_moe_experts_down_tc(const __grid_constant__ MoeExpertGemmParams p) {
  df::pdl_entry();
  df::moe_experts_tc<false>(p);
}
