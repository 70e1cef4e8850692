// Hopper GEMM with FP8 weights for prefill and large decode batches (W8A16): out[i, j] = scale[j] *
// sum_k x[i, k] * e4m3(w[j, k]); bf16 x, e4m3fn codes with a float32 scale per output row
// (scaleStride 1) or one for the tensor (scaleStride 0), float32 accumulation, bf16 or float32 out:
// the math of the FP8 skinny GEMMs and of the CPU reference io.decodefleet.kernels.reference.Fp8Matmul,
// on wgmma. It replaces widening the whole weight into a bf16 scratch before a bf16 GEMM (3 bytes of
// traffic a weight beside the GEMM's own 2).
//
// Variant: df_wgmma_gemm_fp8 (sm_90a only), df_wgmma_gemm's body (wgmma_gemm_body in wgmma_gemm.cu,
// with WgmmaFp8Stages below in place of its bf16 stages): output tiles
// of 128 x 256, k-steps of 64, a persistent grid grouped 16 row tiles at a time, warpgroup 0 the
// TMA producer, warpgroups 1 and 2 the consumers of 64 rows each, setmaxnreg 40 / 232. What differs:
// - each stage holds the x box (bf16, 128-byte swizzle, 16 KiB) and a box of 256 weight rows x 64
//   codes (uint8 tensor map, no swizzle: 64-byte rows, 16 KiB);
// - before its MMAs, the two consumer warpgroups widen the stage's codes together (exactly, e4m3 ->
//   half -> bf16, every e4m3 value being a bf16) into a bf16 B tile of 256 x 64 laid out as TMA's
//   128-byte swizzle lays it (16-byte chunk c of row r at chunk c ^ (r & 7)), so the wgmma
//   descriptors and MMAs are wgmma_gemm.cu's; then fence.proxy.async (the MMAs read shared memory
//   through the async proxy) and a named barrier of the 256 consumer threads;
// - the B tiles rotate through three buffers: a warpgroup widens k-step t's codes while its MMAs of
//   k-step t-1 run (one wgmma group stays in flight), and buffer t % 3 was last read by k-step t-3,
//   which both warpgroups have waited for before the barrier of k-step t-1;
// - the store multiplies column j by scale[j * scaleStride].
// Widening a stage: 1024 chunks of 16 codes, 4 per consumer thread; consecutive threads read
// consecutive chunks (a warp reads 512 contiguous bytes) and each warp writes 8 whole swizzled
// rows, 4 threads to each 16-byte bank group per store: no bank conflict beyond the minimum.
//
// Layouts: x (m, k) bf16 row-major; w (n, k) e4m3 row-major (out_features, in_features); scale (n)
// or (1) float32; out (m, outStride). The tensor maps describe x as (k, m), boxes 64 x 128, and w as
// (k, n), boxes 64 x 256, zeros outside: m and n need no padding; k a multiple of 16 (the codes'
// 16-byte row-stride rule). Grid: min(tiles, SMs) CTAs; block 384 threads; dynamic shared memory
// 4 x 32 KiB (stages) + 3 x 32 KiB (B tiles) + 1 KiB (alignment) + the barriers.
// Included after wgmma_gemm.cu (decodefleet.cu): its producer/consumer body, tensor-map copies,
// descriptors, MMAs, schedule and store.
#include "fp8.cuh"

struct WgmmaGemmFp8Params {
  TensorMap xMap;          // x as (k, m), bf16, box 64 x 128, 128-byte swizzle
  TensorMap wMap;          // w as (k, n), uint8 codes, box 64 x 256, no swizzle
  bf16* out;               // (m, outStride) bf16, or float32 when outFloat
  const float* scale;      // (n) when scaleStride == 1, (1) when 0
  int m;
  int n;
  int k;
  int outStride;
  int scaleStride;         // 1: a scale per output row of w; 0: one for the tensor
  int outFloat;            // 1: out is (m, outStride) float32
};
DF_PARAMS_SIZE(WgmmaGemmFp8Params, 320);

namespace df {

struct WgmmaFp8Shape {
  static constexpr int kThreads = 384;
  static constexpr int kStages = 4;
  static constexpr int kBTiles = 3;
  static constexpr int kBytesA = WgmmaShape::kTileM * WgmmaShape::kTileK * 2;  // 16 KiB of x
  static constexpr int kBytesCodes = WgmmaShape::kTileN * WgmmaShape::kTileK;  // 16 KiB of codes
  static constexpr int kStageBytes = kBytesA + kBytesCodes;
  static constexpr int kBytesB = WgmmaShape::kTileN * WgmmaShape::kTileK * 2;  // 32 KiB widened
  static constexpr int kSmemBytes = kStages * kStageBytes + kBTiles * kBytesB + 1024 + 2 * kStages * 8;
};
static_assert(WgmmaFp8Shape::kSmemBytes <= 232448, "wgmma fp8: over the 227 KiB a CTA may opt into");

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)

// The 256 consumer threads (ct 0..255) widen one stage's codes (256 rows x 64 bytes, dense) into a
// bf16 B tile (256 rows x 128 bytes, 128-byte swizzle), then make it visible to the MMAs.
__device__ __forceinline__ void widen_codes(uint32_t codes, uint32_t b, int ct) {
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int q = ct + 256 * i;      // chunk of 16 codes
    const int row = q >> 2, cc = q & 3;
    uint4 v;
    asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "r"(codes + 16 * q));
    const uint2 w0 = fp8x4_to_bf16x4(v.x), w1 = fp8x4_to_bf16x4(v.y);
    const uint2 w2 = fp8x4_to_bf16x4(v.z), w3 = fp8x4_to_bf16x4(v.w);
    // Logical chunks 2cc and 2cc + 1 (8 bf16 each) of the row, at their swizzled places.
    const uint32_t rowBase = b + 128 * row;
    const uint32_t lo = rowBase + 16 * ((2 * cc) ^ (row & 7));
    const uint32_t hi = rowBase + 16 * ((2 * cc + 1) ^ (row & 7));
    asm volatile("st.shared.v4.u32 [%0], {%1, %2, %3, %4};" ::"r"(lo), "r"(w0.x), "r"(w0.y), "r"(w1.x), "r"(w1.y)
                 : "memory");
    asm volatile("st.shared.v4.u32 [%0], {%1, %2, %3, %4};" ::"r"(hi), "r"(w2.x), "r"(w2.y), "r"(w3.x), "r"(w3.y)
                 : "memory");
  }
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  asm volatile("bar.sync 1, 256;" ::: "memory");
}

// The FP8 stages for wgmma_gemm_body: the consumers widen each stage's codes into B tile it % 3
// before its MMAs.
struct WgmmaFp8Stages {
  static constexpr int kStages = WgmmaFp8Shape::kStages;
  static constexpr int kStageBytes = WgmmaFp8Shape::kStageBytes;
  static constexpr int kBytesA = WgmmaFp8Shape::kBytesA;
  static constexpr int kExtraBytes = WgmmaFp8Shape::kBTiles * WgmmaFp8Shape::kBytesB;
  static constexpr bool kScaled = true;
  __device__ __forceinline__ static uint32_t b_tile(uint32_t stage, uint32_t ring, int it, int ct) {
    const uint32_t b = ring + kStages * kStageBytes + (it % WgmmaFp8Shape::kBTiles) * WgmmaFp8Shape::kBytesB;
    widen_codes(stage + kBytesA, b, ct);
    return b;
  }
};

__device__ __forceinline__ void wgmma_gemm_fp8(const WgmmaGemmFp8Params& p) {
  wgmma_gemm_body<WgmmaFp8Stages>(p);
}

#endif

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::WgmmaFp8Shape::kThreads, 1)
    df_wgmma_gemm_fp8(const __grid_constant__ WgmmaGemmFp8Params p) {
  df::pdl_entry();
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  df::wgmma_gemm_fp8(p);
#elif defined(__CUDA_ARCH__)
  __trap();  // wgmma and setmaxnreg exist on sm_90a only; the host launches this nowhere else
#endif
}
