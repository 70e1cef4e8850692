// Dummy weights made on the device: element i of tensor T is a pure function of (seed, T, i), the
// counter-based hash of the engine's DummyWeights, so a GPU holds the CPU backend's weights
// (rounded once to bf16) without gigabytes crossing the host.
//
//   h   = splitmix64 finaliser of (seed ^ T * 0x9e3779b97f4a7c15 ^ i * 0xd1b54a32d192ed03)
//   u   = ((h >> 40) - 2^23) * 2^-23                      uniform in [-1, 1), exact in float32
//   out = bf16_rn(offset + scale * u)                       float32 multiply, then add (no FMA:
//                                                           the Java side rounds twice, so must we)
//
// Variants: one kernel. Layout: out (n) bf16 holds elements [indexBase, indexBase + n) of the
// tensor when cols == 0; otherwise out is a (n / cols, cols) window of a row-major tensor whose
// rows are rowStride elements apart, starting at element indexBase: element i is tensor element
// indexBase + (i / cols) * rowStride + i % cols (a tensor-parallel rank's column slice).
// The 64-bit seed, tensor id, index base and row stride travel as (lo, hi) uint32 pairs.
// Grid: any (grid-stride loop); block: 256 threads; no dynamic shared memory.
#include "common.cuh"

struct DummyWeightsParams {
  bf16* out;             // (n) bf16
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
  uint32_t rowStrideLo;  // elements between the window's rows in the tensor
  uint32_t rowStrideHi;
};
DF_PARAMS_SIZE(DummyWeightsParams, 56);

namespace df {

constexpr int kDummyWeightsThreads = 256;

__device__ __forceinline__ uint64_t splitmix_finaliser(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

__device__ __forceinline__ uint64_t join64(uint32_t lo, uint32_t hi) {
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

__device__ __forceinline__ void dummy_weights(const DummyWeightsParams& p) {
  const uint64_t key = join64(p.seedLo, p.seedHi) ^ (join64(p.tensorIdLo, p.tensorIdHi) * 0x9e3779b97f4a7c15ull);
  const uint64_t base = join64(p.indexBaseLo, p.indexBaseHi);
  const size_t n = static_cast<size_t>(p.n);
  const uint64_t cols = static_cast<uint64_t>(p.cols);
  const uint64_t rowStride = join64(p.rowStrideLo, p.rowStrideHi);
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const uint64_t index = cols == 0 ? base + i : base + (i / cols) * rowStride + i % cols;
    const uint64_t h = splitmix_finaliser(key ^ (index * 0xd1b54a32d192ed03ull));
    const int bits24 = static_cast<int>(h >> 40);
    const float u = static_cast<float>(bits24 - (1 << 23)) * (1.f / 8388608.f);
    p.out[i] = __float2bfloat16_rn(__fadd_rn(__fmul_rn(p.scale, u), p.offset));
  }
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::kDummyWeightsThreads)
    df_dummy_weights_bf16(const __grid_constant__ DummyWeightsParams p) {
  df::pdl_entry();
  df::dummy_weights(p);
}
