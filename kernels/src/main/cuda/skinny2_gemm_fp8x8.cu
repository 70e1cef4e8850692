// The FP8 second skinny GEMM on codes by codes (W8A8), for fp8-dynamic's projections of 2..64 rows:
// out = (e4m3(x) · e4m3(w)ᵀ) * xScale[x row] * scale[w row], x given as its e4m3 codes with one float32
// scale per row (df_fp8_quantize_rows, or the norm or SwiGLU in front, made them), w as in
// skinny2_gemm_fp8.cu. Same persistent producer/consumer ring, tensor copy of the weight box, plans,
// split-K and store as that kernel (skinny2_gemm.cu's run_ring, Item, consume_stages and finish_item;
// its Skinny2GemmFp8Params with xScale and xMap set), but nothing is widened: each consumer lane's 16
// codes of a weight row feed two m16n8k32 e4m3 MMAs straight from shared memory, against x's codes at
// the same bytes. Fp8Activations times it against cuBLASLt's per-row-scale FP8 GEMM per shape at load.
//
// A stage: 256 k of the tile's 64 weight rows (one box, 16 KB) and of the x rows (ONE more tensor
// copy: a box of 256 codes x mTile rows through xMap, dense, zeros past m and k). A first version
// copied x a row at a time (one 256-byte bulk copy each) and ran at 0.5-0.75 TB/s at 64 rows on an
// H100: 65 copy requests a 16 KB stage, the per-request cost the bf16 skinny2 once measured (~49 ns
// an SM), set the time (kernels/NOTES.md). 8 stages up to 32 rows, 6 at 64, one CTA an SM.
//
// Arithmetic: 4 consumer warps own 16 weight rows each (A, rows g and g+8) and the x rows are the MMA's
// 8-column tiles (B). Within a 64-k block lane (g, q) takes physical k = 16q..16q+15 of its two weight
// rows (one 16-byte load each) and of x row (tile, g) (one 16-byte load); MMA 0 takes words 0 and 1 of
// each (its logical k 4q..4q+3 and 16+4q..16+4q+3 at physical 16q..16q+3 and 16q+4..16q+7), MMA 1 words
// 2 and 3. A and B use the same map of logical to physical k, so the dot products are the true ones.
// Bank use per quarter-warp: the weight rows and the x rows both sit 256 bytes apart, a 2-way conflict.
//
// Scales: each float32 accumulator is multiplied by its x row's scale, then by its weight row's (before a
// split's partial is written: a sum of scaled partials is the scaled sum). Vectors past a slice's k are
// zeroed in registers (k is a multiple of 16); x rows past m arrive as zeros and reach only output columns
// that are never stored.
//
// Layouts: x (m, k) e4m3 codes, 16-byte aligned, as xMap; xScale (m) float32; the rest as
// skinny2_gemm_fp8.cu. Grid: (ctas, 1, 1), block 160 threads, dynamic shared memory Fp8x8Shape::kSmemBytes.
// Variants: df_skinny2_gemm_fp8x8_m{8,16,32,64} (an MMA is 8 x rows wide, so fewer rows take m8).

namespace df {
namespace skinny2 {

// x rows in a stage: the box lands densely, 256 codes a row.
constexpr int kX8PitchBytes = kChunkK;
template <int MT>
struct Fp8x8Shape {
  static_assert(MT % 8 == 0, "x rows come in MMA column tiles of 8");
  static constexpr int kNT = MT / 8;
  static constexpr int kStages = MT <= 32 ? 8 : 6;
  static constexpr int kWeightBytes = kFp8WeightBytes;
  static constexpr int kXBoxBytes = MT * kX8PitchBytes;  // the x box's expect_tx, zeros included
  static constexpr int kStageBytes = kFp8WeightBytes + kXBoxBytes;
  static constexpr int kSmemBytes = kStages * kStageBytes + kRingAlign + 2 * kStages * 8;
};
static_assert(Fp8x8Shape<8>::kSmemBytes == 8 * (16384 + 8 * 256) + 128 + 128, "Kernel.java skinny2 fp8x8 m8");
static_assert(Fp8x8Shape<16>::kSmemBytes == 8 * (16384 + 16 * 256) + 128 + 128, "Kernel.java skinny2 fp8x8 m16");
static_assert(Fp8x8Shape<32>::kSmemBytes == 8 * (16384 + 32 * 256) + 128 + 128, "Kernel.java skinny2 fp8x8 m32");
static_assert(Fp8x8Shape<64>::kSmemBytes == 6 * (16384 + 64 * 256) + 128 + 96, "Kernel.java skinny2 fp8x8 m64");
static_assert(Fp8x8Shape<64>::kSmemBytes <= 227 * 1024, "one CTA per SM fits");
static_assert(Fp8x8Shape<8>::kStageBytes % kRingAlign == 0, "every stage's boxes start 128-aligned");

__device__ __forceinline__ uint64_t evict_last_policy() {
  uint64_t policy;
  asm volatile("createpolicy.fractional.L2::evict_last.b64 %0, 1.0;" : "=l"(policy));
  return policy;
}

// The producer warp of the codes variants (x as a tensor map too): skinny2_gemm.cu's walk_stages, with copy(stage,
// k of the stage, the item's first weight row, the stage's barrier, evict_first, evict_last) issuing a stage's
// copies. (Shared with skinny2_gemm_fp8x8_wgmma.cu.)
template <typename S, typename Copy>
__device__ __forceinline__ void produce_code_stages(const Skinny2GemmFp8Params& p, uint32_t ring, uint32_t full,
                                                    uint32_t empty, int items, Copy copy) {
  if ((threadIdx.x & 31) != 0) return;
  const uint64_t first = evict_first_policy();
  const uint64_t last = evict_last_policy();
  asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(&p.wMap)) : "memory");
  asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(&p.xMap)) : "memory");
  walk_stages<S>(p, ring, full, empty, items, [&](uint32_t stage, uint32_t bar, const Item& item, int c) {
    copy(stage, item.k0 + c * kChunkK, item.row0, bar, first, last);
  });
}

// This kernel's stage: one tensor copy of the weight box (evict_first: read once) and one of the x box
// (evict_last: every CTA reads it), both on the stage's barrier.
template <typename S>
__device__ __forceinline__ void produce_codes(const Skinny2GemmFp8Params& p, uint32_t ring, uint32_t full,
                                              uint32_t empty, int items) {
  produce_code_stages<S>(p, ring, full, empty, items,
                         [&](uint32_t stage, int kc, int row0, uint32_t bar, uint64_t first, uint64_t last) {
                           mbar::arrive_expect_tx(bar, S::kWeightBytes + S::kXBoxBytes);
                           tensor_copy_2d(stage, &p.wMap, kc, row0, bar, first);
                           tensor_copy_2d(stage + S::kWeightBytes, &p.xMap, kc, 0, bar, last);
                         });
}

// acc += A (16 x 32 e4m3: a[0], a[2] row g, a[1], a[3] row g+8) times B (32 x 8 e4m3: b0, b1 of column g).
__device__ __forceinline__ void mma_e4m3(float (&acc)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  asm("mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
      : "+f"(acc[0]), "+f"(acc[1]), "+f"(acc[2]), "+f"(acc[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
  __trap();  // e4m3 MMAs need sm_89 and later; the fatbin's targets all have them
#endif
}

// x's scale for each accumulator column lane quad q holds, xs[nt][h] for x row 8 nt + 2q + h (past m: 0, never
// stored). (Shared with skinny2_gemm_fp8x8_wgmma.cu: wgmma's D fragment has the same columns.)
template <int NT>
__device__ __forceinline__ void x_row_scales(const Skinny2GemmFp8Params& p, int q, float (&xs)[NT][2]) {
#pragma unroll
  for (int nt = 0; nt < NT; nt++)
#pragma unroll
    for (int h = 0; h < 2; h++) {
      const int col = 8 * nt + 2 * q + h;
      xs[nt][h] = col < p.m ? p.xScale[col] : 0.f;
    }
}

template <int MT>
__device__ __forceinline__ void consume_fp8x8(const Skinny2GemmFp8Params& p, const char* ringPtr, uint32_t full,
                                              uint32_t empty, int items, int nTiles) {
  using S = Fp8x8Shape<MT>;
  constexpr int NT = S::kNT;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, q = lane & 3;
  const uint4 zero = make_uint4(0u, 0u, 0u, 0u);
  const int nPad = nTiles * kRows;
  float xs[NT][2];
  x_row_scales(p, q, xs);
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
      const uint8_t* xp = reinterpret_cast<const uint8_t*>(stage + kFp8WeightBytes) + g * kX8PitchBytes;
#pragma unroll
      for (int j = 0; j < kChunkK / 64; j++) {
        if (64 * j < len) {  // warp-uniform
          const int e = 64 * j + 16 * q;
          const bool ok = e < len;
          const uint4 c0 = ok ? *reinterpret_cast<const uint4*>(w0p + e) : zero;
          const uint4 c1 = ok ? *reinterpret_cast<const uint4*>(w1p + e) : zero;
          const uint32_t a0[4] = {c0.x, c1.x, c0.y, c1.y};
          const uint32_t a1[4] = {c0.z, c1.z, c0.w, c1.w};
#pragma unroll
          for (int nt = 0; nt < NT; nt++) {
            const uint4 b = ok ? *reinterpret_cast<const uint4*>(xp + nt * 8 * kX8PitchBytes + e) : zero;
            mma_e4m3(acc[nt], a0, b.x, b.y);
            mma_e4m3(acc[nt], a1, b.z, b.w);
          }
        }
      }
    });

#pragma unroll
    for (int nt = 0; nt < NT; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) acc[nt][e] *= xs[nt][e & 1];
    const int rBase = item.row0 + warp * 16 + g;
    const RowScales scale{{rBase < p.n ? p.scale[rBase] : 0.f, rBase + 8 < p.n ? p.scale[rBase + 8] : 0.f}};
    finish_item<MT>(p, item, acc, scale, nPad);
  }
}

template <int MT>
__device__ __forceinline__ void gemm_fp8x8(const Skinny2GemmFp8Params& p) {
  using S = Fp8x8Shape<MT>;
  const int nTiles = (p.n + kRows - 1) / kRows;
  const int items = nTiles * p.splits;
  run_ring<S>([&](uint32_t ring, uint32_t full, uint32_t empty) { produce_codes<S>(p, ring, full, empty, items); },
              [&](const char* ringPtr, uint32_t full, uint32_t empty) {
                consume_fp8x8<MT>(p, ringPtr, full, empty, items, nTiles);
              });
}

}  // namespace skinny2
}  // namespace df

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_fp8x8_m8(const __grid_constant__ Skinny2GemmFp8Params p) {
  df::pdl_entry();
  df::skinny2::gemm_fp8x8<8>(p);
}

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_fp8x8_m16(const __grid_constant__ Skinny2GemmFp8Params p) {
  df::pdl_entry();
  df::skinny2::gemm_fp8x8<16>(p);
}

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_fp8x8_m32(const __grid_constant__ Skinny2GemmFp8Params p) {
  df::pdl_entry();
  df::skinny2::gemm_fp8x8<32>(p);
}

extern "C" __global__ void __launch_bounds__(160, 1)
    df_skinny2_gemm_fp8x8_m64(const __grid_constant__ Skinny2GemmFp8Params p) {
  df::pdl_entry();
  df::skinny2::gemm_fp8x8<64>(p);
}
