// SwiGLU, the gated activation of the Llama MLP: out[r, c] = silu(gate[r, c]) * up[r, c] with
// silu(x) = x / (1 + exp(-x)), computed in float32.
//
// Variants: one kernel. gate and up may be two halves of the fused gate_up projection output
// (gate = base, up = base + cols, inStride = 2 * cols) or two separate tensors.
// Layouts: gate, up (rows, inStride) bf16; out (rows, outStride) bf16; cols, inStride and
// outStride are multiples of 8 (16-byte vectors).
// fp8-dynamic: with `codes` set one CTA of 1024 threads takes a row and also quantizes it as
// df_fp8_quantize_rows would (the row as written, bf16; s = amax / 448, 1 for zeros; codes e4m3(v / s))
// for the FP8 x FP8 down projection after it, which then needs no quantizing launch (cols a multiple of
// 16; the codes' rows are cols apart). Up to kCodesVectors 16-byte vectors a thread (rows of up to 32768
// columns) every load of the row is issued before the first is used and the written vectors stay in
// registers for the codes; a longer row loops and reads back only the vectors the thread wrote itself.
// (256 threads, one 14336-column row: 7 dependent load round trips a thread then the read-back, about
// 7.8 us at one row on an H100, longer than the row's bytes take at any rate.)
// Grid: (ceil(cols / 8 / 256), rows) of 256 threads, or (1, rows) of 1024 with codes.
#include "common.cuh"
#include "fp8.cuh"

struct SwiGluParams {
  bf16* out;             // (rows, outStride) bf16, first cols columns written
  const bf16* gate;      // (rows, inStride) bf16
  const bf16* up;        // (rows, inStride) bf16
  int rows;
  int cols;
  int inStride;
  int outStride;
  uint8_t* codes;        // fp8-dynamic: (rows, cols) e4m3 codes of out's rows; nullptr: none
  float* scales;         // (rows) float32: each row's scale, with codes
};
DF_PARAMS_SIZE(SwiGluParams, 56);

namespace df {

constexpr int kSwiGluThreads = 256;
constexpr int kSwiGluCodesThreads = 1024;
constexpr int kCodesVectors = 4;

// silu(g) * u in float32 (also the FP8 GEMV's SwiGLU behind its gate_up rows).
__device__ __forceinline__ float swiglu1(float g, float u) {
  // x / (1 + exp(-x)): for very negative x, exp(-x) is +inf and the quotient a clean -0.
  return g / (1.f + __expf(-g)) * u;
}

// The activation of eight packed gate and up values, packed: what the row holds as written.
__device__ __forceinline__ uint4 swiglu8(uint4 gate, uint4 up) {
  float g[8], u[8];
  unpack8(gate, g);
  unpack8(up, u);
#pragma unroll
  for (int i = 0; i < 8; i++) g[i] = swiglu1(g[i], u[i]);
  return pack8(g);
}

__device__ __forceinline__ void swiglu_vector(const SwiGluParams& p) {
  const int r = blockIdx.y;
  const int v = blockIdx.x * blockDim.x + threadIdx.x;
  if (v >= (p.cols >> 3)) return;
  const size_t in = static_cast<size_t>(r) * p.inStride + v * 8;
  *reinterpret_cast<uint4*>(p.out + static_cast<size_t>(r) * p.outStride + v * 8) =
      swiglu8(*reinterpret_cast<const uint4*>(p.gate + in), *reinterpret_cast<const uint4*>(p.up + in));
}

// The row's vectors a thread holds in registers (threadIdx.x + i * blockDim.x, i < kCodesVectors): all
// loads first, then the activation written and kept for the codes.
__device__ __forceinline__ void swiglu_row_codes_held(const SwiGluParams& p, float* scratch) {
  const int r = blockIdx.y;
  const int vectors = p.cols >> 3;
  bf16* out = p.out + static_cast<size_t>(r) * p.outStride;
  const uint4 zero = make_uint4(0u, 0u, 0u, 0u);
  uint4 gv[kCodesVectors], uv[kCodesVectors];
#pragma unroll
  for (int i = 0; i < kCodesVectors; i++) {
    const int v = threadIdx.x + i * blockDim.x;
    const size_t in = static_cast<size_t>(r) * p.inStride + v * 8;
    gv[i] = v < vectors ? *reinterpret_cast<const uint4*>(p.gate + in) : zero;
    uv[i] = v < vectors ? *reinterpret_cast<const uint4*>(p.up + in) : zero;
  }
#pragma unroll
  for (int i = 0; i < kCodesVectors; i++) {
    const int v = threadIdx.x + i * blockDim.x;
    gv[i] = swiglu8(gv[i], uv[i]);  // the row as written: what the codes quantize
    if (v < vectors) *reinterpret_cast<uint4*>(out + v * 8) = gv[i];
  }
  fp8_codes_of_held_row(gv, vectors, blockDim.x, scratch, p.scales + r,
                        reinterpret_cast<uint2*>(p.codes + static_cast<size_t>(r) * p.cols));
}

// One CTA a row: the activation written, then its codes and scale (p.codes set).
__device__ __forceinline__ void swiglu_row_codes(const SwiGluParams& p) {
  __shared__ float scratch[32];
  const int vectors = p.cols >> 3;
  if (vectors <= kCodesVectors * static_cast<int>(blockDim.x)) {
    swiglu_row_codes_held(p, scratch);
    return;
  }
  const int r = blockIdx.y;
  bf16* out = p.out + static_cast<size_t>(r) * p.outStride;
  float amax = 0.f;
  for (int v = threadIdx.x; v < vectors; v += blockDim.x) {
    const size_t in = static_cast<size_t>(r) * p.inStride + v * 8;
    const uint4 packed =
        swiglu8(*reinterpret_cast<const uint4*>(p.gate + in), *reinterpret_cast<const uint4*>(p.up + in));
    *reinterpret_cast<uint4*>(out + v * 8) = packed;
    amax = amax8(packed, amax);  // the row as written: what the codes quantize
  }
  const float s = fp8_row_scale(block_max(amax, scratch));
  if (threadIdx.x == 0) p.scales[r] = s;
  uint2* codes = reinterpret_cast<uint2*>(p.codes + static_cast<size_t>(r) * p.cols);
  for (int v = threadIdx.x; v < vectors; v += blockDim.x) {
    float f[8];
    unpack8(*reinterpret_cast<const uint4*>(out + v * 8), f);
    codes[v] = fp8_encode8(f, s);
  }
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::kSwiGluCodesThreads)
    df_swiglu(const __grid_constant__ SwiGluParams p) {
  df::pdl_entry();
  if (p.codes != nullptr) {
    df::swiglu_row_codes(p);
  } else {
    df::swiglu_vector(p);
  }
}
