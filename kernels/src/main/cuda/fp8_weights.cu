// FP8 weights on the device: the dummy weights quantized as the CPU backend's HostWeights does
// with --quantization fp8, and the widening of FP8 weights to bf16 for the prefill GEMM.
//
//   df_dummy_weights_amax: atomicMax of |element| (as float bits: positive floats order as their
//       bits) over elements [indexBase, indexBase + n) of a dummy tensor (dummy_weights.cu's
//       hash, in float32 before any rounding) into *amax, zeroed by the host before the first piece.
//   df_dummy_weights_fp8: out[i] = e4m3(element / s), s = amax / 448 (1 when amax is 0), over the
//       same elements or a window of them (cols, rowStride as in dummy_weights.cu); threads i <
//       rows also write rowScales[i] = s, so a fused matrix holds one scale per output row.
//       The scale is the full tensor's (the amax pass runs over all of it), so a tensor-parallel
//       rank's slice is quantized as a single device's tensor is: Fp8E4m3.scaleFor, quantizeInPlace.
//   df_fp8_dequant: out (rows, cols) bf16 = e4m3(w) * scale[row * scaleStride], for the GEMM of
//       prefill steps, where the tensor cores want bf16 operands and the widening costs 3 bytes per
//       weight against 2 * rows FLOPs.
//   df_fp8_quantize_rows: the activations of an FP8 projection under dynamic quantization, row by
//       row: s = amax(row) / 448 (1 for a row of zeros), codes = e4m3(x / s) rounded to nearest
//       even and saturated, scales[row] = s (Fp8E4m3.quantizeRows on the CPU). One CTA a row.
// Grid: any (grid-stride loops; df_fp8_quantize_rows: one CTA a row); block: 256 threads; no
// dynamic shared memory.
#include "fp8.cuh"

struct DummyWeightsFp8Params {
  uint8_t* out;          // (n) e4m3 codes (df_dummy_weights_fp8)
  uint32_t* amax;        // (1) float bits of the tensor's largest magnitude
  float* rowScales;      // (rows) float32 (df_dummy_weights_fp8)
  int n;
  uint32_t seedLo;
  uint32_t seedHi;
  uint32_t tensorIdLo;
  uint32_t tensorIdHi;
  uint32_t indexBaseLo;
  uint32_t indexBaseHi;
  float scale;
  float offset;
  int cols;              // 0: contiguous; else the window's row length
  uint32_t rowStrideLo;
  uint32_t rowStrideHi;
  int rows;              // rowScales entries to write (0 for none)
};
DF_PARAMS_SIZE(DummyWeightsFp8Params, 80);

struct Fp8DequantParams {
  bf16* out;             // (rows, cols) bf16
  const uint8_t* w;      // (rows, cols) e4m3
  const float* scale;    // (rows) float32 when scaleStride == 1, (1) when 0
  int rows;
  int cols;
  int scaleStride;
};
DF_PARAMS_SIZE(Fp8DequantParams, 40);

struct Fp8QuantizeRowsParams {
  uint8_t* codes;        // (rows, cols) e4m3, rows cols apart
  float* scales;         // (rows) float32
  const bf16* x;         // (rows, cols) bf16, rows xStride apart
  int rows;
  int cols;              // a multiple of 16
  int xStride;           // a multiple of 8
};
DF_PARAMS_SIZE(Fp8QuantizeRowsParams, 40);

namespace df {

constexpr int kFp8WeightsThreads = 256;

__device__ __forceinline__ float dummy_element(const DummyWeightsFp8Params& p, uint64_t key, size_t i) {
  const uint64_t base = join64(p.indexBaseLo, p.indexBaseHi);
  const uint64_t cols = static_cast<uint64_t>(p.cols);
  const uint64_t index =
      cols == 0 ? base + i : base + (i / cols) * join64(p.rowStrideLo, p.rowStrideHi) + i % cols;
  const uint64_t h = splitmix_finaliser(key ^ (index * 0xd1b54a32d192ed03ull));
  const float u = static_cast<float>(static_cast<int>(h >> 40) - (1 << 23)) * (1.f / 8388608.f);
  return __fadd_rn(__fmul_rn(p.scale, u), p.offset);
}

__device__ __forceinline__ uint64_t dummy_key(const DummyWeightsFp8Params& p) {
  return join64(p.seedLo, p.seedHi) ^ (join64(p.tensorIdLo, p.tensorIdHi) * 0x9e3779b97f4a7c15ull);
}

__device__ __forceinline__ void dummy_amax(const DummyWeightsFp8Params& p) {
  __shared__ float scratch[32];
  const uint64_t key = dummy_key(p);
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  float m = 0.f;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < static_cast<size_t>(p.n);
       i += stride) {
    m = fmaxf(m, fabsf(dummy_element(p, key, i)));
  }
  m = warp_max(m);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) scratch[warp] = m;
  __syncthreads();
  if (warp == 0) {
    m = warp_max(lane < static_cast<int>(blockDim.x >> 5) ? scratch[lane] : 0.f);
    if (lane == 0) atomicMax(p.amax, __float_as_uint(m));
  }
}

__device__ __forceinline__ void dummy_fp8(const DummyWeightsFp8Params& p) {
  const uint64_t key = dummy_key(p);
  const float amax = __uint_as_float(*p.amax);
  const float s = amax == 0.f ? 1.f : __fdiv_rn(amax, 448.f);
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < static_cast<size_t>(p.n);
       i += stride) {
    p.out[i] = fp8_encode(dummy_element(p, key, i), s);
    if (i < static_cast<size_t>(p.rows)) p.rowScales[i] = s;
  }
}

__device__ __forceinline__ void fp8_dequant(const Fp8DequantParams& p) {
  // 16 codes per step; cols is a multiple of 16 (the FP8 GEMM's k).
  const size_t vecsPerRow = static_cast<size_t>(p.cols) / 16;
  const size_t vecs = static_cast<size_t>(p.rows) * vecsPerRow;
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t v = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; v < vecs; v += stride) {
    const size_t row = v / vecsPerRow;
    const float s = p.scale[p.scaleStride * row];
    float f[16];
    unpack_fp8x16(ld_stream(p.w + 16 * v), f);
    float lo[8], hi[8];
#pragma unroll
    for (int e = 0; e < 8; e++) {
      lo[e] = f[e] * s;
      hi[e] = f[8 + e] * s;
    }
    uint4* o = reinterpret_cast<uint4*>(p.out + 16 * v);
    o[0] = pack8(lo);
    o[1] = pack8(hi);
  }
}

// One CTA a row: the row's largest magnitude, then its codes, eight elements (16 bytes of x) a load.
__device__ __forceinline__ void fp8_quantize_rows(const Fp8QuantizeRowsParams& p) {
  __shared__ float scratch[32];
  const int vecs = p.cols / 8;
  for (int row = blockIdx.x; row < p.rows; row += gridDim.x) {
    const uint4* x = reinterpret_cast<const uint4*>(p.x + static_cast<size_t>(row) * p.xStride);
    float m = 0.f;
    for (int v = threadIdx.x; v < vecs; v += blockDim.x) m = amax8(x[v], m);
    const float s = fp8_row_scale(block_max(m, scratch));
    if (threadIdx.x == 0) p.scales[row] = s;
    uint2* out = reinterpret_cast<uint2*>(p.codes + static_cast<size_t>(row) * p.cols);
    for (int v = threadIdx.x; v < vecs; v += blockDim.x) {
      float f[8];
      unpack8(x[v], f);
      out[v] = fp8_encode8(f, s);
    }
  }
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::kFp8WeightsThreads)
    df_fp8_quantize_rows(const __grid_constant__ Fp8QuantizeRowsParams p) {
  df::pdl_entry();
  df::fp8_quantize_rows(p);
}

extern "C" __global__ void __launch_bounds__(df::kFp8WeightsThreads)
    df_dummy_weights_amax(const __grid_constant__ DummyWeightsFp8Params p) {
  df::pdl_entry();
  df::dummy_amax(p);
}

extern "C" __global__ void __launch_bounds__(df::kFp8WeightsThreads)
    df_dummy_weights_fp8(const __grid_constant__ DummyWeightsFp8Params p) {
  df::pdl_entry();
  df::dummy_fp8(p);
}

extern "C" __global__ void __launch_bounds__(df::kFp8WeightsThreads)
    df_fp8_dequant(const __grid_constant__ Fp8DequantParams p) {
  df::pdl_entry();
  df::fp8_dequant(p);
}
