// FP8 weight GEMM for decode (W8A16): out[i, j] = scale[j] * sum_k x[i, k] * e4m3(w[j, k]), with
// few x rows (a decode batch), where the cost is streaming the weight once — at one byte per
// element, half the bytes of the bf16 skinny GEMM. bf16 activations, FP8 e4m3fn weights with a
// float32 scale per output row (scaleStride 1) or one for the whole tensor (scaleStride 0), as
// Hugging Face FP8 checkpoints store them (weight, weight_scale); float32 accumulation; bf16 or
// float32 out. The CPU reference is io.decodefleet.kernels.reference.Fp8Matmul.
//
// Work: a CTA of 4 warps owns kFp8Rows weight rows (2 per warp) and one tile of kFp8MTile x rows
// (gridDim.y tiles cover m). Lane l of a warp reads the 16-byte vectors l, l + 32, ... of its two
// weight rows (16 codes each, converted pairwise to half by cvt.rn.f16x2.e4m3x2 and widened to
// float, exact), the same k of each x row (two 16-byte bf16 loads, L1-cached: every warp of the CTA
// reads the same x), and keeps 2 x kFp8MTile float32 sums; one warp reduction per sum at the end,
// then the scale. The weight stream uses non-allocating loads. Plain and memory-bound; no split-k,
// no shared memory.
// Layouts: x (m, k) bf16; w (n, k) e4m3 (out_features, in_features); scale (n) or (1) float32;
// out (m, outStride) bf16 or float32. k is a multiple of 16 (16-byte vectors).
// Grid: (ceil(n / kFp8Rows), ceil(m / kFp8MTile)); block: 128 threads; no dynamic shared memory.
#include "fp8.cuh"

struct Fp8GemmParams {
  bf16* out;               // (m, outStride) bf16, or float32 when outFloat
  const bf16* x;           // (m, k) bf16
  const uint8_t* w;        // (n, k) e4m3
  const float* scale;      // (n) float32 when scaleStride == 1, (1) when 0
  int m;
  int n;
  int k;
  int outStride;
  int scaleStride;         // 1: a scale per output row; 0: one for the tensor
  int outFloat;            // 1: out is (m, outStride) float32
};
DF_PARAMS_SIZE(Fp8GemmParams, 56);

namespace df {

constexpr int kFp8Threads = 128;
constexpr int kFp8WarpRows = 2;
constexpr int kFp8Rows = (kFp8Threads / 32) * kFp8WarpRows;  // weight rows per CTA
constexpr int kFp8MTile = 8;                                 // x rows per CTA

__device__ __forceinline__ void fp8_gemm_tile(const Fp8GemmParams& p) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int row0 = blockIdx.x * kFp8Rows + warp * kFp8WarpRows;
  const int m0 = blockIdx.y * kFp8MTile;
  const int vecs = p.k / 16;
  float acc[kFp8WarpRows][kFp8MTile];
#pragma unroll
  for (int r = 0; r < kFp8WarpRows; r++)
#pragma unroll
    for (int i = 0; i < kFp8MTile; i++) acc[r][i] = 0.f;

  for (int v = lane; v < vecs; v += 32) {
    float wf[kFp8WarpRows][16];
#pragma unroll
    for (int r = 0; r < kFp8WarpRows; r++) {
      const int row = row0 + r;
      if (row < p.n) {
        unpack_fp8x16(ld_stream(p.w + static_cast<size_t>(row) * p.k + 16 * v), wf[r]);
      } else {
#pragma unroll
        for (int e = 0; e < 16; e++) wf[r][e] = 0.f;
      }
    }
#pragma unroll
    for (int i = 0; i < kFp8MTile; i++) {
      if (m0 + i < p.m) {
        const bf16* xr = p.x + static_cast<size_t>(m0 + i) * p.k + 16 * v;
        float xf[16];
        float (&lo)[8] = *reinterpret_cast<float(*)[8]>(&xf[0]);
        float (&hi)[8] = *reinterpret_cast<float(*)[8]>(&xf[8]);
        unpack8(*reinterpret_cast<const uint4*>(xr), lo);
        unpack8(*reinterpret_cast<const uint4*>(xr + 8), hi);
#pragma unroll
        for (int r = 0; r < kFp8WarpRows; r++)
#pragma unroll
          for (int e = 0; e < 16; e++) acc[r][i] = fmaf(xf[e], wf[r][e], acc[r][i]);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kFp8WarpRows; r++) {
    const int row = row0 + r;
#pragma unroll
    for (int i = 0; i < kFp8MTile; i++) {
      const float sum = warp_sum(acc[r][i]);
      if (lane == 0 && row < p.n && m0 + i < p.m) {
        const float v = sum * p.scale[p.scaleStride * row];
        const size_t at = static_cast<size_t>(m0 + i) * p.outStride + row;
        if (p.outFloat) {
          reinterpret_cast<float*>(p.out)[at] = v;
        } else {
          p.out[at] = __float2bfloat16_rn(v);
        }
      }
    }
  }
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::kFp8Threads)
    df_fp8_gemm(const __grid_constant__ Fp8GemmParams p) {
  df::pdl_entry();
  df::fp8_gemm_tile(p);
}
