// RMSNorm, plain or fused with the residual add (the Llama pre-attention / pre-MLP norm).
//
//   plain:  out[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * weight
//   fused:  residual[r, :] = bf16(residual[r, :] + x[r, :]); out[r, :] = rmsnorm(residual[r, :])
//
// Variants: one kernel; `residual == nullptr` selects the plain norm; `xFloat` reads x as float32
// and rounds it to bf16 first (a tensor-parallel rank's all-reduced projection output: the norm
// then sees exactly what a single device's bf16 projection output would hold).
// Layouts: x, out, residual (rows, hidden) bf16 row-major, contiguous; weight (hidden) bf16.
// hidden is a multiple of 8 and at most 8 * 8 * 256 = 16384 (each thread keeps at most eight
// 16-byte vectors of its row in registers, so the row is read from memory once).
// The norm of the fused variant is taken over the bf16-rounded sum, as Hugging Face does when it
// adds in bf16 and normalises the result.
// fp8-dynamic: with `codes` set the kernel also quantizes each output row as df_fp8_quantize_rows
// would (the row as written, bf16; s = amax / 448, 1 for zeros; codes e4m3(v / s)), for the FP8 x FP8
// projection after it, which then needs no quantizing launch of its own (hidden a multiple of 16).
// Grid: (rows); block: 256 threads; no dynamic shared memory.
#include "common.cuh"
#include "fp8.cuh"

struct RmsNormParams {
  bf16* out;             // (rows, hidden) bf16
  bf16* residual;        // (rows, hidden) bf16, in/out; nullptr for the plain norm
  const bf16* x;         // (rows, hidden) bf16
  const bf16* weight;    // (hidden) bf16
  int rows;
  int hidden;
  float eps;
  int xFloat;            // 1: x is (rows, hidden) float32
  uint8_t* codes;        // fp8-dynamic: (rows, hidden) e4m3 codes of out's rows; nullptr: none
  float* scales;         // (rows) float32: each row's scale, with codes
};
DF_PARAMS_SIZE(RmsNormParams, 64);

namespace df {

constexpr int kNormThreads = 256;
constexpr int kNormMaxVectors = 8;

__device__ __forceinline__ float add_and_square(uint4& a, const uint4& b) {
  float fa[8], fb[8];
  unpack8(a, fa);
  unpack8(b, fb);
#pragma unroll
  for (int i = 0; i < 8; i++) fa[i] += fb[i];
  a = pack8(fa);
  // Square the rounded values: the norm sees what the residual stream now holds.
  float r[8];
  unpack8(a, r);
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < 8; i++) s += r[i] * r[i];
  return s;
}

__device__ __forceinline__ float square(const uint4& a) {
  float f[8];
  unpack8(a, f);
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < 8; i++) s += f[i] * f[i];
  return s;
}

__device__ __forceinline__ void rmsnorm_row(const RmsNormParams& p) {
  __shared__ float scratch[32];
  const int row = blockIdx.x;
  const int vectors = p.hidden >> 3;
  const size_t base = static_cast<size_t>(row) * p.hidden;
  const uint4* x = reinterpret_cast<const uint4*>(p.x + base);
  const float4* xf = reinterpret_cast<const float4*>(reinterpret_cast<const float*>(p.x) + base);
  uint4* residual = p.residual ? reinterpret_cast<uint4*>(p.residual + base) : nullptr;

  uint4 v[kNormMaxVectors];
  float ss = 0.f;
#pragma unroll
  for (int i = 0; i < kNormMaxVectors; i++) {
    const int idx = threadIdx.x + i * kNormThreads;
    if (idx < vectors) {
      if (p.xFloat) {
        const float4 a = xf[2 * idx], b = xf[2 * idx + 1];
        const float f[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
        v[i] = pack8(f);
      } else {
        v[i] = x[idx];
      }
      if (residual) {
        ss += add_and_square(v[i], residual[idx]);
        residual[idx] = v[i];
      } else {
        ss += square(v[i]);
      }
    }
  }
  ss = block_sum(ss, scratch);
  const float inv = rsqrtf(ss / static_cast<float>(p.hidden) + p.eps);

  const uint4* weight = reinterpret_cast<const uint4*>(p.weight);
  uint4* out = reinterpret_cast<uint4*>(p.out + base);
#pragma unroll
  for (int i = 0; i < kNormMaxVectors; i++) {
    const int idx = threadIdx.x + i * kNormThreads;
    if (idx < vectors) {
      float f[8], w[8];
      unpack8(v[i], f);
      unpack8(weight[idx], w);
#pragma unroll
      for (int j = 0; j < 8; j++) f[j] = (f[j] * inv) * w[j];
      v[i] = pack8(f);  // the row as written: what the codes quantize
      out[idx] = v[i];
    }
  }
  if (p.codes == nullptr) return;
  fp8_codes_of_held_row(v, vectors, kNormThreads, scratch, p.scales + row, reinterpret_cast<uint2*>(p.codes + base));
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::kNormThreads)
    df_rmsnorm(const __grid_constant__ RmsNormParams p) {
  df::pdl_entry();
  df::rmsnorm_row(p);
}
