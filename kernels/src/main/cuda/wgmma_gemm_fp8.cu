// Hopper GEMM with FP8 weights for prefill and large decode batches (W8A16): out[i, j] = scale[j] *
// sum_k x[i, k] * e4m3(w[j, k]); bf16 x, e4m3fn codes with a float32 scale per output row
// (scaleStride 1) or one for the tensor (scaleStride 0), float32 accumulation, bf16 or float32 out:
// the math of the FP8 skinny GEMMs and of the CPU reference io.decodefleet.kernels.reference.Fp8Matmul,
// on wgmma. It replaces widening the whole weight into a bf16 scratch before a bf16 GEMM (3 bytes of
// traffic a weight beside the GEMM's own 2).
//
// Variant: df_wgmma_gemm_fp8 (sm_90a only), the plan of df_wgmma_gemm (wgmma_gemm.cu): output tiles
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
// Included after wgmma_gemm.cu (decodefleet.cu): its tensor-map copies, descriptors, MMAs, schedule and
// store.
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

__device__ __forceinline__ void wgmma_gemm_fp8(const WgmmaGemmFp8Params& p) {
  using S = WgmmaShape;
  using F = WgmmaFp8Shape;
  extern __shared__ uint4 dynamic_smem[];
  const uint32_t raw = smem_addr(dynamic_smem);
  const uint32_t ring = (raw + 1023) & ~1023u;
  const uint32_t bTiles = ring + F::kStages * F::kStageBytes;
  const uint32_t fullBar = bTiles + F::kBTiles * F::kBytesB;  // kStages x 8 bytes
  const uint32_t emptyBar = fullBar + F::kStages * 8;
  const int tilesM = (p.m + S::kTileM - 1) / S::kTileM;
  const int tilesN = (p.n + S::kTileN - 1) / S::kTileN;
  const int tiles = tilesM * tilesN;
  const int kTiles = (p.k + S::kTileK - 1) / S::kTileK;
  const int warpgroup = threadIdx.x / 128;

  if (threadIdx.x == 0) {
    for (int s = 0; s < F::kStages; s++) {
      mbar::init(fullBar + 8 * s, 1);   // the producer's arrive (plus the copies' bytes)
      mbar::init(emptyBar + 8 * s, 8);  // one arrive per consumer warp
    }
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  }
  __syncthreads();

  if (warpgroup == 0) {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;");
    if (threadIdx.x == 0) {
      asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(&p.xMap)) : "memory");
      asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(&p.wMap)) : "memory");
      int it = 0;
      for (int t = blockIdx.x; t < tiles; t += gridDim.x) {
        int tm, tn;
        wgmma_tile_of(t, tilesM, tilesN, tm, tn);
        for (int kt = 0; kt < kTiles; kt++, it++) {
          const int s = it % F::kStages;
          const uint32_t phase = (it / F::kStages) & 1;
          mbar::wait(emptyBar + 8 * s, phase ^ 1);  // a fresh barrier passes parity 1 at once
          const uint32_t a = ring + s * F::kStageBytes;
          mbar::arrive_expect_tx(fullBar + 8 * s, F::kStageBytes);
          tma_load_2d(a, &p.xMap, fullBar + 8 * s, kt * S::kTileK, tm * S::kTileM);
          tma_load_2d(a + F::kBytesA, &p.wMap, fullBar + 8 * s, kt * S::kTileK, tn * S::kTileN);
        }
      }
    }
  } else {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 232;");
    const int consumer = warpgroup - 1;  // rows consumer*64 .. +63 of the tile
    const int ct = threadIdx.x - 128;    // 0..255 over both consumers
    const int warp = (threadIdx.x / 32) & 3, lane = threadIdx.x & 31;
    float acc[128];
#pragma unroll
    for (int i = 0; i < 128; i++) acc[i] = 0.f;
    int it = 0;
    for (int t = blockIdx.x; t < tiles; t += gridDim.x) {
      int tm, tn;
      wgmma_tile_of(t, tilesM, tilesN, tm, tn);
      for (int kt = 0; kt < kTiles; kt++, it++) {
        const int s = it % F::kStages;
        const uint32_t phase = (it / F::kStages) & 1;
        mbar::wait(fullBar + 8 * s, phase);
        const uint32_t stage = ring + s * F::kStageBytes;
        const uint32_t b = bTiles + (it % F::kBTiles) * F::kBytesB;
        widen_codes(stage + F::kBytesA, b, ct);
        const uint64_t descA = sw128_desc(stage + consumer * 64 * 128), descB = sw128_desc(b);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < 4; kk++) {
          // +32 bytes per k16 step: +2 in the descriptor's 16-byte address units
          wgmma_m64n256k16(acc, descA + 2 * kk, descB + 2 * kk, kt > 0 || kk > 0);
        }
        wgmma_commit();
        // One group stays in flight; once the previous k-step's is done its stage (x box and
        // codes) goes back to the producer.
        wgmma_wait<1>();
        if (kt > 0 && lane == 0) mbar::arrive(emptyBar + 8 * ((it + F::kStages - 1) % F::kStages));
      }
      wgmma_wait<0>();
      if (kTiles > 0 && lane == 0) mbar::arrive(emptyBar + 8 * ((it + F::kStages - 1) % F::kStages));
      wgmma_store<true>(p, acc, tm * S::kTileM + consumer * 64 + warp * 16 + lane / 4, tn * S::kTileN);
    }
  }
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
