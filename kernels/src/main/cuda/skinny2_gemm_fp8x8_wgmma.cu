// The codes-by-codes skinny GEMM on wgmma (sm_90a only), for fp8-dynamic's projections of 2..64 rows: the math,
// parameters, plans, split-K and store of skinny2_gemm_fp8x8.cu (out = (x · wᵀ) * xScale[x row] * scale[w row],
// x and w as e4m3 codes), with each stage's MMAs issued by the four consumer warps as one warpgroup.
//
// Why: the mma.sync version reads each stage's operands from shared memory per warp. Each of its 4 warps owns
// 16 weight rows and reads ALL mTile x rows' fragments, so at 64 rows it reads the x box four times and the
// weights once: 80 KB of 16-byte loads (2-way conflicted) per 16 KB of weights, about 1,500 cycles of the
// shared-memory pipe a stage, ~2.5 TB/s a chip at best; an H100 measured ~1 TB/s at 64 rows, slower than
// cuBLASLt. Here wgmma reads a stage's 64 weight rows (A) and mTile x rows (B) once for the whole warpgroup,
// straight from the swizzled boxes (no register fragments), and the tensor pipe runs at wgmma's rate.
//
// A stage: 256 k, as two boxes of 128 codes of the tile's 64 weight rows (8 KB each) and two of the mTile x
// rows (mTile x 128 bytes each), every box 128-byte swizzled by its tensor map (CU_TENSOR_MAP_SWIZZLE_128B:
// 16-byte chunk c of row r lands at chunk c ^ (r & 7)) and 1024-byte aligned: [W 0-127][W 128-255][X 0-127]
// [X 128-255]. Parts of a box past k, n or m arrive as zeros (the maps' zero fill), and so does a whole second
// pair where the stage's k ends at or before 128 (the tensor's last 128 codes): no masking, and every stage
// runs the same eight MMAs (skipping the second pair on a data-dependent branch made ptxas serialize every
// wgmma of the kernel). Slices are whole chunks, so a box never reaches into the next slice. Per box four
// m64nNk32 wgmmas (N = mTile), k advancing 32 bytes a step inside the swizzled 128-byte rows (+2 in the
// descriptors' 16-byte units, as wgmma_gemm.cu). A stage's MMAs are one committed group; the warps release
// stage t once group t has completed, which they wait for after issuing group t + 1 (one group in flight while
// the next stage's wait and issue run).
//
// Accumulators: wgmma's D fragment of m64nN, d[nt][e] = (weight row 16 warp + g + 8 (e >> 1), x row 8 nt + 2q
// + (e & 1)), the layout of the mma.sync version's acc[nt][e]: the x-row and weight-row scales and
// skinny2_gemm.cu's finish_item (store, or split partial and reduce) are shared unchanged.
//
// Layouts: as skinny2_gemm_fp8x8.cu but for the two maps: wMap (k, n) UINT8 and xMap (k, m) UINT8, boxes of
// 128 codes x 64 rows and 128 codes x mTile rows, 128-byte swizzle (Skinny2GemmFp8Params.wMapSpecWgmma,
// xMapSpec). Grid (ctas, 1, 1), block 160 threads, dynamic shared memory Fp8x8WgShape::kSmemBytes.
// Variants: df_skinny2_gemm_fp8x8_wgmma_m{8,16,32,64}; on other targets they trap (the host launches them on
// sm_90 only).

namespace df {
namespace skinny2 {

constexpr int kWgBoxK = 128;       // codes a box row: the 128-byte swizzle's row
constexpr int kSwizzleAlign = 1024; // the swizzle atom (8 rows x 128 bytes): boxes and the ring align to it

template <int MT>
struct Fp8x8WgShape {
  static_assert(MT % 8 == 0 && MT <= 64, "x rows come in wgmma's N of 8 to 64");
  static constexpr int kNT = MT / 8;
  static constexpr int kStages = MT <= 32 ? 8 : 6;
  static constexpr int kWBoxBytes = kRows * kWgBoxK;  // 8 KB
  static constexpr int kXBoxBytes = MT * kWgBoxK;     // 1-8 KB
  static constexpr int kStageBytes = 2 * (kWBoxBytes + kXBoxBytes);
  // + the full and empty barriers of each stage and the two groups' turn barriers
  static constexpr int kSmemBytes = kStages * kStageBytes + kSwizzleAlign + 2 * kStages * 8 + 16;
};
static_assert(Fp8x8WgShape<8>::kSmemBytes == 8 * 2 * (8192 + 8 * 128) + 1024 + 144, "Kernel.java fp8x8 wgmma m8");
static_assert(Fp8x8WgShape<16>::kSmemBytes == 8 * 2 * (8192 + 16 * 128) + 1024 + 144, "Kernel.java fp8x8 wgmma m16");
static_assert(Fp8x8WgShape<32>::kSmemBytes == 8 * 2 * (8192 + 32 * 128) + 1024 + 144, "Kernel.java fp8x8 wgmma m32");
static_assert(Fp8x8WgShape<64>::kSmemBytes == 6 * 2 * (8192 + 64 * 128) + 1024 + 112, "Kernel.java fp8x8 wgmma m64");
static_assert(Fp8x8WgShape<32>::kSmemBytes <= 227 * 1024 && Fp8x8WgShape<64>::kSmemBytes <= 227 * 1024,
              "one CTA per SM fits");
static_assert(Fp8x8WgShape<8>::kXBoxBytes % kSwizzleAlign == 0, "every box starts on a swizzle atom");

// This kernel's stage: two pairs of tensor copies (a weight box, evict_first: read once; an x box, evict_last:
// every CTA reads it), all on the stage's barrier, which counts every box's bytes (zeros included).
template <typename S>
__device__ __forceinline__ void produce_codes_wgmma(const Skinny2GemmFp8Params& p, uint32_t ring, uint32_t full,
                                                    uint32_t empty, int items) {
  produce_code_stages<S>(p, ring, full, empty, items,
                         [&](uint32_t stage, int kc, int row0, uint32_t bar, uint64_t first, uint64_t last) {
                           mbar::arrive_expect_tx(bar, S::kStageBytes);
                           for (int b = 0; b < 2; b++) {
                             tensor_copy_2d(stage + b * S::kWBoxBytes, &p.wMap, kc + b * kWgBoxK, row0, bar, first);
                             tensor_copy_2d(stage + 2 * S::kWBoxBytes + b * S::kXBoxBytes, &p.xMap, kc + b * kWgBoxK,
                                            0, bar, last);
                           }
                         });
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)

// d[64 weight rows x 8 NT x rows] += W[64 x 32] · X[8 NT x 32]ᵀ, both e4m3, K-major, 128-byte swizzled in
// shared memory (wgmma_gemm.cu's sw128_desc).
template <int NT>
__device__ __forceinline__ void wgmma_e4m3(float (&d)[NT][4], uint64_t descW, uint64_t descX);

template <>
__device__ __forceinline__ void wgmma_e4m3<1>(float (&d)[1][4], uint64_t descW, uint64_t descX) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n8k32.f32.e4m3.e4m3 {"
      "%0, %1, %2, %3"
      "}, %4, %5, p, 1, 1;\n}\n"
      : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3])
      : "l"(descW), "l"(descX));
}

template <>
__device__ __forceinline__ void wgmma_e4m3<2>(float (&d)[2][4], uint64_t descW, uint64_t descX) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n16k32.f32.e4m3.e4m3 {"
      "%0, %1, %2, %3, %4, %5, %6, %7"
      "}, %8, %9, p, 1, 1;\n}\n"
      : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]), "+f"(d[1][0]), "+f"(d[1][1]),
        "+f"(d[1][2]), "+f"(d[1][3])
      : "l"(descW), "l"(descX));
}

template <>
__device__ __forceinline__ void wgmma_e4m3<4>(float (&d)[4][4], uint64_t descW, uint64_t descX) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n32k32.f32.e4m3.e4m3 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15"
      "}, %16, %17, p, 1, 1;\n}\n"
      : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]), "+f"(d[1][0]), "+f"(d[1][1]),
        "+f"(d[1][2]), "+f"(d[1][3]), "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
        "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3])
      : "l"(descW), "l"(descX));
}

template <>
__device__ __forceinline__ void wgmma_e4m3<8>(float (&d)[8][4], uint64_t descW, uint64_t descX) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k32.f32.e4m3.e4m3 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31"
      "}, %32, %33, p, 1, 1;\n}\n"
      : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]), "+f"(d[1][0]), "+f"(d[1][1]),
        "+f"(d[1][2]), "+f"(d[1][3]), "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
        "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]), "+f"(d[4][0]), "+f"(d[4][1]),
        "+f"(d[4][2]), "+f"(d[4][3]), "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
        "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]), "+f"(d[7][0]), "+f"(d[7][1]),
        "+f"(d[7][2]), "+f"(d[7][3])
      : "l"(descW), "l"(descX));
}

// Keeps the compiler from moving reads or writes of the accumulators across the asynchronous MMAs' fences and
// waits (the registers belong to the MMAs in between).
template <int NT>
__device__ __forceinline__ void fence_accumulators(float (&d)[NT][4]) {
#pragma unroll
  for (int nt = 0; nt < NT; nt++)
#pragma unroll
    for (int e = 0; e < 4; e++) asm volatile("" : "+f"(d[nt][e])::"memory");
}

// Two warpgroups take the CTA's items in turns (group = local item index & 1), so that one's epilogue (scales,
// stores, or the split's partial, fence, counter and sum) runs while the other streams the next item's stages.
// Their stage walks stay in item order: a group starts an item's stages once the other group has waited for all
// of the previous item's (`turn`, a barrier per group that the other group's four warps arrive at), so no group
// waits on a stage's barrier a full ring ahead of the fill it means (a parity wait cannot tell the two apart).
template <int MT>
__device__ __forceinline__ void consume_fp8x8_wgmma(const Skinny2GemmFp8Params& p, const char* ringPtr,
                                                    uint32_t full, uint32_t empty, int items, int nTiles) {
  using S = Fp8x8WgShape<MT>;
  constexpr int NT = S::kNT;
  const int group = threadIdx.x >> 7, tid = threadIdx.x & 127;
  const uint32_t turn = empty + 8 * S::kStages;  // turn + 8 group: the other group finished a walk
  const int lane = tid & 31, warp = tid >> 5;
  const int g = lane >> 2, q = lane & 3;
  const uint32_t ring = smem_addr(ringPtr);
  const int nPad = nTiles * kRows;
  float xs[NT][2];
  x_row_scales(p, q, xs);
  int it = 0;
  for (int i = blockIdx.x, local = 0; i < items; i += gridDim.x, local++) {
    const Item item(p, i);
    if ((local & 1) != group) {  // the other group's item: skip its stages
      it += (item.kLen + kChunkK - 1) / kChunkK;
      continue;
    }
    // The other group's walk of item local - 1 (its ((local - 1) >> 1)-th) is done.
    if (local > 0) mbar::wait(turn + 8 * group, ((local - 1) >> 1) & 1);
    // The weight rows' scales, loaded now so that their latency hides behind the item's stages.
    const int rBase = item.row0 + warp * 16 + g;
    const RowScales scale{{rBase < p.n ? p.scale[rBase] : 0.f, rBase + 8 < p.n ? p.scale[rBase + 8] : 0.f}};
    float acc[NT][4];
#pragma unroll
    for (int nt = 0; nt < NT; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) acc[nt][e] = 0.f;
    fence_accumulators(acc);
    for (int c = 0; c * kChunkK < item.kLen; c++, it++) {
      const int s = it % S::kStages;
      mbar::wait(full + 8 * s, (it / S::kStages) & 1);
      const uint32_t stage = ring + s * S::kStageBytes;
      const uint64_t descW = sw128_desc(stage), descX = sw128_desc(stage + 2 * S::kWBoxBytes);
      wgmma_fence();
#pragma unroll
      for (int b = 0; b < 2; b++)
#pragma unroll
        for (int kk = 0; kk < kWgBoxK / 32; kk++) {
          wgmma_e4m3<NT>(acc, descW + b * (S::kWBoxBytes >> 4) + 2 * kk, descX + b * (S::kXBoxBytes >> 4) + 2 * kk);
        }
      wgmma_commit();
      if (c > 0) {  // the previous stage's group is done: its stage may be refilled
        wgmma_wait<1>();
        if (lane == 0) mbar::arrive(empty + 8 * ((it - 1) % S::kStages));
      }
    }
    if (lane == 0) mbar::arrive(turn + 8 * (group ^ 1));  // every stage of this item waited for: the other's turn
    wgmma_wait<0>();
    fence_accumulators(acc);
    if (lane == 0) mbar::arrive(empty + 8 * ((it - 1) % S::kStages));

#pragma unroll
    for (int nt = 0; nt < NT; nt++)
#pragma unroll
      for (int e = 0; e < 4; e++) acc[nt][e] *= xs[nt][e & 1];
    finish_item<MT>(p, item, acc, scale, nPad, tid, group);
  }
}

template <int MT>
__device__ __forceinline__ void gemm_fp8x8_wgmma(const Skinny2GemmFp8Params& p) {
  using S = Fp8x8WgShape<MT>;
  const int nTiles = (p.n + kRows - 1) / kRows;
  const int items = nTiles * p.splits;
  run_ring<S, kSwizzleAlign, 2>(
      [&](uint32_t ring, uint32_t full, uint32_t empty) { produce_codes_wgmma<S>(p, ring, full, empty, items); },
      [&](const char* ringPtr, uint32_t full, uint32_t empty) {
        consume_fp8x8_wgmma<MT>(p, ringPtr, full, empty, items, nTiles);
      });
}

#endif

}  // namespace skinny2
}  // namespace df

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define DF_SKINNY2_FP8X8_WGMMA(MT) df::skinny2::gemm_fp8x8_wgmma<MT>(p)
#elif defined(__CUDA_ARCH__)
#define DF_SKINNY2_FP8X8_WGMMA(MT) __trap()  // wgmma exists on sm_90a only; the host launches these nowhere else
#else
#define DF_SKINNY2_FP8X8_WGMMA(MT)
#endif

extern "C" __global__ void __launch_bounds__(288, 1)
    df_skinny2_gemm_fp8x8_wgmma_m8(const __grid_constant__ Skinny2GemmFp8Params p) {
  df::pdl_entry();
  DF_SKINNY2_FP8X8_WGMMA(8);
}

extern "C" __global__ void __launch_bounds__(288, 1)
    df_skinny2_gemm_fp8x8_wgmma_m16(const __grid_constant__ Skinny2GemmFp8Params p) {
  df::pdl_entry();
  DF_SKINNY2_FP8X8_WGMMA(16);
}

extern "C" __global__ void __launch_bounds__(288, 1)
    df_skinny2_gemm_fp8x8_wgmma_m32(const __grid_constant__ Skinny2GemmFp8Params p) {
  df::pdl_entry();
  DF_SKINNY2_FP8X8_WGMMA(32);
}

extern "C" __global__ void __launch_bounds__(288, 1)
    df_skinny2_gemm_fp8x8_wgmma_m64(const __grid_constant__ Skinny2GemmFp8Params p) {
  df::pdl_entry();
  DF_SKINNY2_FP8X8_WGMMA(64);
}

#undef DF_SKINNY2_FP8X8_WGMMA
