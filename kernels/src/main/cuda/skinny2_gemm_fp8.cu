// FP8 twin of the second skinny GEMM (W8A16): out = (x · e4m3(w)ᵀ) * scale[row] for m <= 64 rows
// of x, skinny2_gemm.cu's persistent producer/consumer design (which decodefleet.cu includes
// before this file: its ring, producer, Item and split-K epilogue are reused) with the weights
// streamed as e4m3 codes, one float32 scale per weight row. kernels/NOTES.md ("FP8 second skinny GEMM") has the
// design and its prediction.
//
// Memory stream: a stage is still 256 k of the tile's 64 weight rows and of the x rows, but its
// weights are ONE 2-D tensor copy of a box of 256 codes x 64 rows = 16 KB (element type UINT8:
// a box row may hold at most 256 elements, so 256 k is the widest box), through the host-encoded
// map wMap, no swizzle, zeros outside w, L2 evict_first; the x rows come as one bulk copy each
// (512 bytes of bf16), all on the stage's mbarrier (expect_tx). Stages are half the bf16 kernel's
// weight bytes, so the ring is twice as deep: 8 stages keep 8 x 16 KB = 128 KB of weights in
// flight per SM, what the bf16 kernel holds in 4 x 32 KB. (Two boxes per 512-k stage would hold
// the same bytes in 4 stages; 8 single-box stages keep the stage/chunk mapping, the split-K plan
// and the producer loop of skinny2 unchanged, and release shared memory at a finer grain.)
// Shared memory, one CTA per SM: stages x (16384 + m x 528, rounded up to 128) + 128 + stages x 16
// bytes: 8 stages up to m16 (136 448 at m1, 165 120 at m8, 198 912 at m16), 6 at m32 (199 904) and 4
// at m64 (200 896), all <= 227 KB. Past 16 rows the x rows take more of a stage than the weights, so
// fewer stages fit; 6 x 16 KB and 4 x 16 KB of weights in flight an SM still cover HBM's latency,
// and from 32 rows each weight byte feeds 4-8 MMA columns, so the tensor pipe, not the stream,
// comes close to setting the time (see kernels/NOTES.md, "FP8 second skinny GEMM past 16 rows").
//
// Arithmetic: 4 consumer warps own 16 rows each; mma.m16n8k16 with the weight rows as M and the
// x rows as N. Within a 64-k block lane (g, q) takes physical k = 16q..16q+15 of rows g and g+8
// (one 16-byte shared load of codes each), widens them exactly to bf16 (fp8x4_to_bf16x4, as
// skinny_gemm_fp8.cu) and runs four MMAs, MMA t over k 16q+4t..16q+4t+3; x is read with the same
// mapping (two 16-byte loads). Each accumulator is multiplied by its weight row's scale before it
// is stored or written as a partial (a sum of scaled partials is the scaled sum), so the split-K
// sum is skinny2's. Vectors past the slice's k are zeroed in registers (k is a multiple of 16, so
// a 16-code vector is all in or all out); weight rows past n arrive as zeros and x rows past m are
// never copied: both only reach outputs that are never stored.
//
// Layouts: x (m, k) bf16; w (n, k) e4m3, as wMap: (k, n) UINT8, box 256 x 64, row stride k bytes;
// scale (n) float32; out (m, outStride) bf16 or float32; workspace (splits, mTile, nTiles * 64)
// float32; counters (nTiles) int32, zero before the first launch and left zero. k is a multiple of
// 16, kSlice a multiple of 256, x and w 16-byte aligned. Grid: (ctas, 1, 1), block 160 threads,
// dynamic shared memory Skinny2Fp8Shape::kSmemBytes.
// Variants: df_skinny2_gemm_fp8_m{1,2,4,8,16,32,64}.
#include "fp8.cuh"

struct Skinny2GemmFp8Params {
  TensorMap wMap;          // w (n, k) e4m3 as a (k, n) UINT8 tensor map, box 256 x 64, no swizzle (wgmma codes: 128 x 64, 128B)
  bf16* out;               // (m, outStride) bf16, or float32 when outFloat
  const bf16* x;           // (m, k) bf16
  const float* scale;      // (n) float32: the scale of each weight row
  float* workspace;        // (splits, mTile, nTiles * 64) float32; unused if splits == 1
  int* counters;           // (nTiles) int32; unused when splits == 1
  int m;
  int n;
  int k;
  int outStride;
  int kSlice;              // multiple of 256
  int splits;
  int outFloat;            // 1: out is (m, outStride) float32
  const float* xScale;     // the x-codes variants (skinny2_gemm_fp8x8.cu): (m) float32, x's row scales; else unused
  TensorMap xMap;          // the x-codes variants: x (m, k) e4m3 as a (k, m) UINT8 map, box 256 x mTile (wgmma
                           // variants: 128 x mTile, 128-byte swizzle); else unused
};
DF_PARAMS_SIZE(Skinny2GemmFp8Params, 384);

namespace df {
namespace skinny2 {

// Weight row pitch in a stage: the box lands densely, 256 bytes a row, so every row starts on the
// same bank. A quarter-warp's 16-byte code loads (q 0-3 of rows g and g+1: 64 bytes of each) then
// fall on the same 4 bank groups twice, a 2-way conflict: 8 wavefronts per warp load instead of 4.
// Per 16 KB stage and CTA: 4 warps x 4 blocks x 2 loads x 8 = 256 wavefronts for the codes, plus
// the x loads (4 warps x 4 blocks x 2 x NT x 4 = 128 NT, conflict-free at the 528-byte pitch) and
// the copies' writes (128 for the box, 4m for x): 512-544 cycles of the 128-byte-a-clock
// shared-memory pipe per 16 KB at m <= 8, 704 at m16: 30-32 (23) bytes of codes a clock an SM, i.e.
// 7.0-7.4 (5.4) TB/s a chip at 132 SMs x 1.755 GHz, against H100 HBM's 3.35 and H200's 4.8. x costs
// twice its bf16 share here (the same x bytes per k, half the weight bytes). If ncu shows the pipe
// busy, the 128-byte swizzle removes the weights' half: two boxes of 128 codes a stage, lane q
// reading 16-byte chunks 2q and 2q+1 of a 128-byte row (chunk c of row r lands at c ^ (r & 7), so
// rows g and g+1 then hit the even and the odd chunks).
constexpr int kFp8WPitchBytes = kChunkK;                    // 256 codes a row
constexpr int kFp8WeightBytes = kRows * kFp8WPitchBytes;    // one box: 16 KB, the weights' expect_tx
// x row pitch: 512 + 16 bytes, so rows g and g+1 start a quarter bank row apart and a quarter-warp's
// 16-byte loads (row g at 32q, row g+1 at 32q + 16, mod 128) hit eight different bank groups.
constexpr int kFp8XPitchBytes = kChunkK * 2 + 16;
constexpr int kFp8XPitch = kFp8XPitchBytes / 2;
template <int MT>
struct Fp8Shape {
  static constexpr int kNT = (MT + 7) / 8;
  static constexpr int kStages = MT <= 16 ? 8 : MT <= 32 ? 6 : 4;
  static constexpr int kWeightBytes = kFp8WeightBytes;
  static constexpr int kXPitchBytes = kFp8XPitchBytes;
  static constexpr int kXElemBytes = 2;  // x is bf16
  static constexpr int kStageBytes =
      (kFp8WeightBytes + MT * kFp8XPitchBytes + kRingAlign - 1) / kRingAlign * kRingAlign;
  static constexpr int kSmemBytes = kStages * kStageBytes + kRingAlign + 2 * kStages * 8;
};
static_assert(Fp8Shape<1>::kSmemBytes == 8 * (16384 + 1 * 528 + 112) + 128 + 128, "Kernel.java skinny2 fp8 m1");
static_assert(Fp8Shape<2>::kSmemBytes == 8 * (16384 + 2 * 528 + 96) + 128 + 128, "Kernel.java skinny2 fp8 m2");
static_assert(Fp8Shape<4>::kSmemBytes == 8 * (16384 + 4 * 528 + 64) + 128 + 128, "Kernel.java skinny2 fp8 m4");
static_assert(Fp8Shape<8>::kSmemBytes == 8 * (16384 + 8 * 528) + 128 + 128, "Kernel.java skinny2 fp8 m8");
static_assert(Fp8Shape<16>::kSmemBytes == 8 * (16384 + 16 * 528) + 128 + 128, "Kernel.java skinny2 fp8 m16");
static_assert(Fp8Shape<32>::kSmemBytes == 6 * (16384 + 32 * 528) + 128 + 96, "Kernel.java skinny2 fp8 m32");
static_assert(Fp8Shape<64>::kSmemBytes == 4 * (16384 + 64 * 528) + 128 + 64, "Kernel.java skinny2 fp8 m64");
static_assert(Fp8Shape<16>::kSmemBytes <= 227 * 1024, "one CTA per SM fits");
static_assert(Fp8Shape<32>::kSmemBytes <= 227 * 1024, "one CTA per SM fits");
static_assert(Fp8Shape<64>::kSmemBytes <= 227 * 1024, "one CTA per SM fits");
static_assert(kFp8XPitchBytes % 128 == 16, "x rows g and g+1 start 16 bytes apart in the bank row");

// Weight rows r and r + 8 of a consumer lane: their scales.
struct RowScales {
  float s[2];
  __device__ __forceinline__ float operator()(int h, float v) const { return v * s[h]; }
};

template <int MT>
__device__ __forceinline__ void consume_fp8(const Skinny2GemmFp8Params& p, const char* ringPtr, uint32_t full,
                                            uint32_t empty, int items, int nTiles) {
  using S = Fp8Shape<MT>;
  constexpr int NT = S::kNT;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, q = lane & 3;
  int xr[NT];  // the x row of B column g of MMA tile nt (clamped: columns past m are never stored)
#pragma unroll
  for (int nt = 0; nt < NT; nt++) xr[nt] = min(8 * nt + g, MT - 1);
  const uint4 zero = make_uint4(0u, 0u, 0u, 0u);
  const int nPad = nTiles * kRows;
  int it = 0;
  for (int i = blockIdx.x; i < items; i += gridDim.x) {
    const Item item(p, i);
    float acc[NT][4];
#pragma unroll
    for (int nt = 0; nt < NT; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) acc[nt][e] = 0.f;

    consume_stages<S>(ringPtr, full, empty, item.kLen, it, [&](const char* stage, int len) {
      const uint8_t* w0p = reinterpret_cast<const uint8_t*>(stage) + (warp * 16 + g) * kFp8WPitchBytes;
      const uint8_t* w1p = w0p + 8 * kFp8WPitchBytes;
      const bf16* xs = reinterpret_cast<const bf16*>(stage + kFp8WeightBytes);
#pragma unroll
      for (int j = 0; j < kChunkK / 64; j++) {
        if (64 * j < len) {  // warp-uniform
          const int e = 64 * j + 16 * q;
          const bool ok = e < len;
          const uint4 c0 = ok ? *reinterpret_cast<const uint4*>(w0p + e) : zero;
          const uint4 c1 = ok ? *reinterpret_cast<const uint4*>(w1p + e) : zero;
          const uint32_t words0[4] = {c0.x, c0.y, c0.z, c0.w};
          const uint32_t words1[4] = {c1.x, c1.y, c1.z, c1.w};
          uint32_t a[4][4];  // MMA t: codes 4t..4t+3 of the lane's 16, rows g and g+8
#pragma unroll
          for (int t = 0; t < 4; t++) {
            const uint2 r0 = fp8x4_to_bf16x4(words0[t]);
            const uint2 r1 = fp8x4_to_bf16x4(words1[t]);
            a[t][0] = r0.x;
            a[t][1] = r1.x;
            a[t][2] = r0.y;
            a[t][3] = r1.y;
          }
#pragma unroll
          for (int nt = 0; nt < NT; nt++) {
            const bf16* xp = xs + xr[nt] * kFp8XPitch + e;
            const uint4 b0 = ok ? *reinterpret_cast<const uint4*>(xp) : zero;
            const uint4 b1 = ok ? *reinterpret_cast<const uint4*>(xp + 8) : zero;
            mma_bf16(acc[nt], a[0], b0.x, b0.y);
            mma_bf16(acc[nt], a[1], b0.z, b0.w);
            mma_bf16(acc[nt], a[2], b1.x, b1.y);
            mma_bf16(acc[nt], a[3], b1.z, b1.w);
          }
        }
      }
    });

    // Each accumulator is scaled by its weight row's scale before it leaves the registers.
    const int rBase = item.row0 + warp * 16 + g;
    const RowScales scale{{rBase < p.n ? p.scale[rBase] : 0.f, rBase + 8 < p.n ? p.scale[rBase + 8] : 0.f}};
    finish_item<MT>(p, item, acc, scale, nPad);
  }
}

template <int MT>
__device__ __forceinline__ void gemm_fp8(const Skinny2GemmFp8Params& p) {
  run_gemm<MT, Fp8Shape<MT>>(p, [&](const char* ring, uint32_t full, uint32_t empty, int items, int nTiles) {
    consume_fp8<MT>(p, ring, full, empty, items, nTiles);
  });
}

}  // namespace skinny2
}  // namespace df

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_fp8_m1(const __grid_constant__ Skinny2GemmFp8Params p) {
  df::pdl_entry();
  df::skinny2::gemm_fp8<1>(p);
}

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_fp8_m2(const __grid_constant__ Skinny2GemmFp8Params p) {
  df::pdl_entry();
  df::skinny2::gemm_fp8<2>(p);
}

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_fp8_m4(const __grid_constant__ Skinny2GemmFp8Params p) {
  df::pdl_entry();
  df::skinny2::gemm_fp8<4>(p);
}

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_fp8_m8(const __grid_constant__ Skinny2GemmFp8Params p) {
  df::pdl_entry();
  df::skinny2::gemm_fp8<8>(p);
}

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_fp8_m16(const __grid_constant__ Skinny2GemmFp8Params p) {
  df::pdl_entry();
  df::skinny2::gemm_fp8<16>(p);
}

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_fp8_m32(const __grid_constant__ Skinny2GemmFp8Params p) {
  df::pdl_entry();
  df::skinny2::gemm_fp8<32>(p);
}

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_fp8_m64(const __grid_constant__ Skinny2GemmFp8Params p) {
  df::pdl_entry();
  df::skinny2::gemm_fp8<64>(p);
}
