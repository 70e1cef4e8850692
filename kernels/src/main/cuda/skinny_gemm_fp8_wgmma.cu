// FP8-weight GEMM for decode batches of 33 to 256 rows on wgmma (sm_90a only): out = (x · e4m3(w)ᵀ) *
// scale[row], the skinny GEMM of skinny_gemm_fp8.cu (same parameters, same plan as its m64 variant:
// tiles of 128 weight rows x 64 x rows, split-K, workspace, counters and reduce), with the MMAs on
// wgmma and the weights as the A operand, from registers.
//
// Why the weights are A: wgmma reads B from shared memory only, in a layout the codes do not have;
// A may come from registers. So the weight rows are the MMA's M (64 a warpgroup) and the x rows its
// N (64), and the accumulators are (weight row, x row) as in the skinny kernels, whose store and
// reduce this kernel shares. x is B: K-major, 128-byte swizzled as wgmma's descriptor describes it.
// With mma.sync (the skinny kernel) every warp re-reads the 64 x rows' fragments from shared memory
// for its 16 weight rows (2 KiB a warp and k16 step, 8x the codes it reads); here each warpgroup's
// wgmma reads them once for 64 weight rows.
//
// Block: 256 threads, two warpgroups, weight rows 64c .. 64c + 63 of the CTA's 128 for warpgroup c.
// A stage is k = 64: the codes (128 rows x 64 bytes, 16-byte vector t of row r at t ^ ((r >> 1) & 3),
// so that the eight rows of one fragment read hit eight different bank groups) and x (64 rows x 128
// bytes, vector c of row r at c ^ (r & 7): the 128-byte swizzle, 1024-byte aligned). kStages of them,
// cp.async, kStages - 1 ahead. Per k16 step a lane (warp w, g, q4) needs codes k = 2q4, 2q4 + 1 and
// 2q4 + 8, 2q4 + 9 of rows 16w + g and + 8: one 16-byte shared load a row (the quad's four lanes read
// the same vector), two selects and one permute give the four codes in fragment order, and
// fp8x4_to_bf16x4 gives registers a0 and a2 (row g) or a1 and a3 (row g + 8) exactly.
// Order in a stage: codes to registers, wgmma.fence, four m64n64k16 wgmmas, commit, wait for them
// (the A registers are rewritten at the next stage), then the CTA barrier of the next stage, after
// which its buffer may be refilled (every warpgroup's MMAs on it are done).
// Layouts, grid and workspace: skinny_gemm_fp8.cu with its m64 plan (grid (nTiles, splits, mTiles)).
// Dynamic shared memory: kStages x 16 KiB + 1 KiB (alignment of the ring to the swizzle atom).
#include "fp8.cuh"

namespace df {

struct SkinnyFp8WgmmaShape {
  static constexpr int kThreads = 256;
  static constexpr int kRows = 128;   // weight rows a CTA (the m64 plan's rowsPerCta)
  static constexpr int kMTile = 64;   // x rows a CTA (the m64 plan's mTile)
  static constexpr int kChunkK = 64;  // k a stage
  static constexpr int kStages = 6;
  static constexpr int kCodeBytes = kRows * kChunkK;      // 8 KiB
  static constexpr int kXBytes = kMTile * kChunkK * 2;    // 8 KiB
  static constexpr int kStageBytes = kCodeBytes + kXBytes;
  static constexpr int kSmemBytes = kStages * kStageBytes + 1024;
};
static_assert(SkinnyFp8WgmmaShape::kSmemBytes == 6 * 16384 + 1024, "Kernel.java SKINNY_GEMM_FP8_WGMMA");
static_assert(SkinnyFp8WgmmaShape::kRows == SkinnyShape<64>::kRows, "the m64 plan's weight rows a CTA");

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)

// d[64 x 64] += A[64 x 16] · B[64 x 16]ᵀ, A in registers (bf16 fragments), B K-major in shared memory.
__device__ __forceinline__ void wgmma_m64n64k16_rs(float (&d)[32], const uint32_t (&a)[4], uint64_t descB) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
      "{%32, %33, %34, %35}, %36, p, 1, 1, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB));
}

// Byte offset of 16-byte vector t (0..3) of code row r in a stage.
__device__ __forceinline__ int skinny_fp8_wgmma_code_at(int r, int t) {
  return r * 64 + ((t ^ ((r >> 1) & 3)) << 4);
}

// Issues the cp.async of one stage: k = [k0 + kc, k0 + kc + 64) of the CTA's 128 code rows and 64 x
// rows; vectors past the slice, rows past n or m zero-filled (a zero code and a zero x add nothing).
__device__ __forceinline__ void skinny_fp8_wgmma_load(const SkinnyGemmFp8Params& p, uint32_t stage, int row0,
                                                      int m0, int k0, int kLen, int kc) {
  using S = SkinnyFp8WgmmaShape;
  uint8_t* base = reinterpret_cast<uint8_t*>(__cvta_shared_to_generic(stage));
#pragma unroll
  for (int i = 0; i < 2; i++) {  // codes: 512 vectors, 4 a row
    const int e = threadIdx.x + i * S::kThreads;
    const int r = e >> 2, t = e & 3;
    const int kk = kc + 16 * t;
    const bool valid = kk < kLen && row0 + r < p.n;
    const uint8_t* src = valid ? p.w + static_cast<size_t>(row0 + r) * p.k + k0 + kk : p.w;
    cp_async16(base + skinny_fp8_wgmma_code_at(r, t), src, valid);
  }
#pragma unroll
  for (int i = 0; i < 2; i++) {  // x: 512 vectors, 8 a row
    const int e = threadIdx.x + i * S::kThreads;
    const int r = e >> 3, c = e & 7;
    const int kx = kc + 8 * c;
    const bool valid = kx < kLen && m0 + r < p.m;
    const bf16* src = valid ? p.x + static_cast<size_t>(m0 + r) * p.k + k0 + kx : p.x;
    cp_async16(base + S::kCodeBytes + r * 128 + ((c ^ (r & 7)) << 4), src, valid);
  }
}

// The four codes of k16 step t of one row as fragment words: vector t of the row holds k 16t .. 16t+15;
// this lane takes 2q4, 2q4 + 1 (word q4 >> 1, half q4 & 1) and 2q4 + 8, 2q4 + 9 (word 2 + (q4 >> 1)).
__device__ __forceinline__ uint2 skinny_fp8_wgmma_frag(uint32_t codes, int r, int t, int q4) {
  uint4 v;
  asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "r"(codes + skinny_fp8_wgmma_code_at(r, t)));
  const uint32_t lo = (q4 & 2) ? v.y : v.x;
  const uint32_t hi = (q4 & 2) ? v.w : v.z;
  return fp8x4_to_bf16x4(__byte_perm(lo, hi, (q4 & 1) ? 0x7632 : 0x5410));
}

__device__ __forceinline__ void skinny_fp8_wgmma_tile(const SkinnyGemmFp8Params& p) {
  using S = SkinnyFp8WgmmaShape;
  extern __shared__ uint4 dynamic_smem[];
  const uint32_t ring = (smem_addr(dynamic_smem) + 1023) & ~1023u;
  const int nTile = blockIdx.x, split = blockIdx.y, mTile = blockIdx.z;
  const int k0 = split * p.kSlice;
  const int kLen = min(p.kSlice, p.k - k0);
  const int chunks = (kLen + S::kChunkK - 1) / S::kChunkK;
  const int row0 = nTile * S::kRows;
  const int m0 = mTile * S::kMTile;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int g = lane >> 2, q4 = lane & 3;
  const int rA = 16 * warp + g;  // this lane's code rows in the tile: rA and rA + 8 (warp 0..7)

  float acc[32];
#pragma unroll
  for (int i = 0; i < 32; i++) acc[i] = 0.f;

#pragma unroll
  for (int s = 0; s < S::kStages - 1; s++) {
    if (s < chunks) skinny_fp8_wgmma_load(p, ring + s * S::kStageBytes, row0, m0, k0, kLen, s * S::kChunkK);
    cp_async_commit();
  }
  for (int c = 0; c < chunks; c++) {
    cp_async_wait<S::kStages - 2>();
    // The copies are generic-proxy writes and wgmma reads through the async proxy.
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
    __syncthreads();  // stage c landed for all; every warpgroup's MMAs on stage c - 1 are done
    const int next = c + S::kStages - 1;
    if (next < chunks) {
      skinny_fp8_wgmma_load(p, ring + (next % S::kStages) * S::kStageBytes, row0, m0, k0, kLen,
                            next * S::kChunkK);
    }
    cp_async_commit();
    const uint32_t stage = ring + (c % S::kStages) * S::kStageBytes;
    uint32_t a[4][4];
#pragma unroll
    for (int t = 0; t < 4; t++) {
      const uint2 r0 = skinny_fp8_wgmma_frag(stage, rA, t, q4);
      const uint2 r1 = skinny_fp8_wgmma_frag(stage, rA + 8, t, q4);
      a[t][0] = r0.x;
      a[t][1] = r1.x;
      a[t][2] = r0.y;
      a[t][3] = r1.y;
    }
    const uint64_t descB = sw128_desc(stage + S::kCodeBytes);
    wgmma_fence();
#pragma unroll
    for (int t = 0; t < 4; t++) wgmma_m64n64k16_rs(acc, a[t], descB + 2 * t);  // +32 bytes a k16 step
    wgmma_commit();
    wgmma_wait<0>();
  }
  cp_async_wait<0>();

  // acc[4j + e]: code row rA + 8 (e >> 1), x row 8j + 2q4 + (e & 1) of the tile (wgmma's D layout); the
  // skinny kernels' reduce over the same workspace, by all 256 threads, one split's loads a round.
  skinny_fp8_finish<S::kMTile, 1, 8, S::kRows, S::kThreads, 1>(
      p, [&](int, int j, int e) { return acc[4 * j + e]; }, row0 + rA, row0);
}

#endif

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::SkinnyFp8WgmmaShape::kThreads, 2)
    df_skinny_gemm_fp8_wgmma(const __grid_constant__ SkinnyGemmFp8Params p) {
  df::pdl_entry();
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  df::skinny_fp8_wgmma_tile(p);
#elif defined(__CUDA_ARCH__)
  __trap();  // wgmma exists on sm_90a only; the host launches this nowhere else
#endif
}
