// SwiGLU, the gated activation of the Llama MLP: out[r, c] = silu(gate[r, c]) * up[r, c] with
// silu(x) = x / (1 + exp(-x)), computed in float32.
//
// Variants: one kernel. gate and up may be two halves of the fused gate_up projection output
// (gate = base, up = base + cols, inStride = 2 * cols) or two separate tensors.
// Layouts: gate, up (rows, inStride) bf16; out (rows, outStride) bf16; cols, inStride and
// outStride are multiples of 8 (16-byte vectors).
// Grid: (ceil(cols / 8 / 256), rows); block: 256 threads.
#include "common.cuh"

struct SwiGluParams {
  bf16* out;             // (rows, outStride) bf16, first cols columns written
  const bf16* gate;      // (rows, inStride) bf16
  const bf16* up;        // (rows, inStride) bf16
  int rows;
  int cols;
  int inStride;
  int outStride;
};
DF_PARAMS_SIZE(SwiGluParams, 40);

namespace df {

constexpr int kSwiGluThreads = 256;

// silu(g) * u in float32 (also the FP8 GEMV's SwiGLU behind its gate_up rows).
__device__ __forceinline__ float swiglu1(float g, float u) {
  // x / (1 + exp(-x)): for very negative x, exp(-x) is +inf and the quotient a clean -0.
  return g / (1.f + __expf(-g)) * u;
}

__device__ __forceinline__ void swiglu_vector(const SwiGluParams& p) {
  const int r = blockIdx.y;
  const int v = blockIdx.x * blockDim.x + threadIdx.x;
  if (v >= (p.cols >> 3)) return;
  const size_t in = static_cast<size_t>(r) * p.inStride + v * 8;
  float g[8], u[8];
  unpack8(*reinterpret_cast<const uint4*>(p.gate + in), g);
  unpack8(*reinterpret_cast<const uint4*>(p.up + in), u);
#pragma unroll
  for (int i = 0; i < 8; i++) g[i] = swiglu1(g[i], u[i]);
  *reinterpret_cast<uint4*>(p.out + static_cast<size_t>(r) * p.outStride + v * 8) = pack8(g);
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::kSwiGluThreads)
    df_swiglu(const __grid_constant__ SwiGluParams p) {
  df::pdl_entry();
  df::swiglu_vector(p);
}
