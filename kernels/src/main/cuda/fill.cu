// Fills a bf16 tensor with uniform values in [-scale, scale): element i is a pure function of
// (seed, i), so gigabytes of benchmark input (KV pools, weights) are made on the device instead of
// being uploaded, and the same seed gives the same tensor on every GPU.
//
// Variants: one kernel. Layout: out (n) bf16. Grid: any (grid-stride loop); block: 256 threads.
#include "common.cuh"

struct FillParams {
  bf16* out;             // (n) bf16
  int n;
  int seed;
  float scale;
};
DF_PARAMS_SIZE(FillParams, 24);

namespace df {

constexpr int kFillThreads = 256;

// A 32-bit integer hash (the murmur3 finaliser) of the element index and the seed.
__device__ __forceinline__ uint32_t mix(uint32_t x) {
  x ^= x >> 16;
  x *= 0x85ebca6bu;
  x ^= x >> 13;
  x *= 0xc2b2ae35u;
  x ^= x >> 16;
  return x;
}

__device__ __forceinline__ void fill_uniform(const FillParams& p) {
  const uint32_t seed = mix(static_cast<uint32_t>(p.seed) * 0x9e3779b9u + 0x7f4a7c15u);
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < p.n; i += gridDim.x * blockDim.x) {
    const uint32_t h = mix(static_cast<uint32_t>(i) ^ seed);
    const float u = static_cast<float>(h >> 8) * (1.f / 16777216.f);  // [0, 1)
    p.out[i] = __float2bfloat16_rn((2.f * u - 1.f) * p.scale);
  }
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::kFillThreads)
    df_fill_uniform_bf16(const __grid_constant__ FillParams p) {
  df::pdl_entry();
  df::fill_uniform(p);
}
