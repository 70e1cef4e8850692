// Hopper GEMM for prefill and large decode batches: out = x · wᵀ (the Hugging Face Linear layout),
// bf16 operands, float32 accumulation, bf16 or float32 output (the same form as gemm.cu).
//
// Variant: df_wgmma_gemm (one kernel, sm_90a only). Output tiles of 128 x 256, k-steps of 64.
// Three warpgroups: warpgroup 0 is the producer (one thread issues TMA tile copies,
// cp.async.bulk.tensor.2d, into a ring of 4 shared-memory stages, each completing on its "full"
// mbarrier with expect_tx); warpgroups 1 and 2 are the consumers, each owning 64 rows of the tile:
// per stage four wgmma.mma_async m64n256k16 with both operands read from shared memory through
// 128-byte-swizzled descriptors (the layout TMA writes with CU_TENSOR_MAP_SWIZZLE_128B), then one
// arrive per warp on the stage's "empty" mbarrier once that stage's wgmma group has completed (one
// group stays in flight, so the tensor cores do not wait for the release). setmaxnreg moves
// registers from the producer (40) to the consumers (232; 128 accumulators each). The grid is
// persistent: one CTA per SM walks tiles blockIdx.x, blockIdx.x + gridDim.x, ..., grouped 16 row
// tiles at a time so that CTAs running together share x rows and weight columns in L2; the
// producer runs ahead into the next tile while the consumers store the last one.
//
// Layouts: x (m, k) bf16 row-major; w (n, k) bf16 row-major; out (m, outStride) bf16 or float32.
// The tensor maps (host-encoded, cuTensorMapEncodeTiled) describe x as (k, m) and w as (k, n)
// with boxes of 64 x 128 and 64 x 256, 128-byte swizzle, zero fill outside: so m, n and k need
// no padding (k a multiple of 8 for the 16-byte row-stride rule), and edge tiles are zero-filled
// by the copy engine and not stored.
// Grid: min(tiles, SMs) CTAs; block: 384 threads; dynamic shared memory 4 x 48 KiB + 1 KiB
// (alignment of the ring to the 1024-byte swizzle atom) + the barriers.
//
// Only sm_90a has wgmma and setmaxnreg: every other target (sm_100a, the compute_90 PTX) compiles
// a body that traps, and the host never launches it there.
#include "common.cuh"
#include "mbarrier.cuh"

// A CUtensorMap as the driver encodes it (128 opaque bytes); TMA needs it 64-byte aligned, which
// the parameter space gives a 64-aligned member of a __grid_constant__ parameter.
struct alignas(64) TensorMap {
  unsigned long long opaque[16];
};

struct WgmmaGemmParams {
  TensorMap xMap;          // x as (k, m), box 64 x 128
  TensorMap wMap;          // w as (k, n), box 64 x 256
  bf16* out;               // (m, outStride) bf16
  int m;
  int n;
  int k;
  int outStride;
  int outFloat;            // 1: out is (m, outStride) float32
};
DF_PARAMS_SIZE(WgmmaGemmParams, 320);

namespace df {

struct WgmmaShape {
  static constexpr int kThreads = 384;
  static constexpr int kTileM = 128, kTileN = 256, kTileK = 64;
  static constexpr int kStages = 4;
  static constexpr int kGroupM = 16;  // row tiles per L2 group of the persistent schedule
  static constexpr int kBytesA = kTileM * kTileK * 2;  // 16 KiB
  static constexpr int kBytesB = kTileN * kTileK * 2;  // 32 KiB
  static constexpr int kStageBytes = kBytesA + kBytesB;
  static constexpr int kSmemBytes = kStages * kStageBytes + 1024 + 2 * kStages * 8;
};

// Tile t of the persistent schedule: groups of kGroupM row tiles, column-major inside a group.
__device__ __forceinline__ void wgmma_tile_of(int t, int tilesM, int tilesN, int& tm, int& tn) {
  const int perGroup = WgmmaShape::kGroupM * tilesN;
  const int group = t / perGroup;
  const int firstM = group * WgmmaShape::kGroupM;
  const int rows = min(WgmmaShape::kGroupM, tilesM - firstM);
  const int local = t - group * perGroup;
  tm = firstM + local % rows;
  tn = local / rows;
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)

// One 2D tile copy global -> shared through a tensor map; completes on `bar` (complete_tx).
__device__ __forceinline__ void tma_load_2d(uint32_t dst, const TensorMap* map, uint32_t bar,
                                            int inner, int outer) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes"
      " [%0], [%1, {%3, %4}], [%2];" ::"r"(dst),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(bar), "r"(inner), "r"(outer)
      : "memory");
}

// Shared-memory matrix descriptor of a K-major operand in the 128-byte swizzle: rows of 128 bytes
// (64 bf16 of k), core matrices of 8 rows 1024 bytes apart (stride byte offset), leading byte
// offset unused for this swizzle (1 by convention). The tile base is 1024-aligned, so the k16
// steps inside the 128-byte row are plain +32-byte moves of the start address.
__device__ __forceinline__ uint64_t sw128_desc(uint32_t addr) {
  return static_cast<uint64_t>((addr & 0x3FFFF) >> 4) | (1ull << 16) | (64ull << 32) | (1ull << 62);
}

__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
}
// Waits until at most N committed wgmma groups of this warpgroup are still running.
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(N) : "memory");
}

// d[64 x 256] (+)= A[64 x 16] · B[256 x 16]ᵀ, both K-major in shared memory; accumulate = 0
// overwrites d (the first k-step of a tile).
__device__ __forceinline__ void wgmma_m64n256k16(float (&d)[128], uint64_t descA, uint64_t descB,
                                                 int accumulate) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "
      "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "
      "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "
      "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, "
      "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"
      "}, %128, %129, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
        "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
        "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
        "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),
        "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
        "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),
        "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]),
        "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]),
        "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]),
        "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),
        "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]),
        "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
      : "l"(descA), "l"(descB), "r"(accumulate));
}

// Stores a consumer's accumulators into p.out ((m, outStride) bf16 or float32), rows < m and
// columns < n only; kScaled (FP8 weights, wgmma_gemm_fp8.cu): column c times p.scale[c * p.scaleStride]
// first.
template <bool kScaled, typename P>
__device__ __forceinline__ void wgmma_store(const P& p, const float (&acc)[128], int row0, int colBase) {
  const int lane = threadIdx.x & 31;
  const int col0 = colBase + 2 * (lane & 3);
  const bool pairs = (p.outStride & 1) == 0;
#pragma unroll
  for (int hh = 0; hh < 2; hh++) {
    const int row = row0 + 8 * hh;
    if (row >= p.m) continue;
    const size_t base = static_cast<size_t>(row) * p.outStride;
#pragma unroll
    for (int j = 0; j < 32; j++) {
      const int col = col0 + 8 * j;
      float v0 = acc[4 * j + 2 * hh], v1 = acc[4 * j + 2 * hh + 1];
      if constexpr (kScaled) {
        if (col < p.n) v0 *= p.scale[static_cast<size_t>(col) * p.scaleStride];
        if (col + 1 < p.n) v1 *= p.scale[static_cast<size_t>(col + 1) * p.scaleStride];
      }
      if (p.outFloat) {
        float* f = reinterpret_cast<float*>(p.out) + base + col;
        if (pairs && col + 1 < p.n) {
          *reinterpret_cast<float2*>(f) = make_float2(v0, v1);
        } else {
          if (col < p.n) f[0] = v0;
          if (col + 1 < p.n) f[1] = v1;
        }
      } else {
        bf16* o = p.out + base + col;
        if (pairs && col + 1 < p.n) {
          *reinterpret_cast<uint32_t*>(o) = pack_bf16x2(v0, v1);
        } else {
          if (col < p.n) o[0] = __float2bfloat16_rn(v0);
          if (col + 1 < p.n) o[1] = __float2bfloat16_rn(v1);
        }
      }
    }
  }
}

// The shape of a wgmma GEMM's shared memory and what its consumers do with a stage before the MMAs:
// bf16 weights are read where TMA wrote them; FP8 weights (wgmma_gemm_fp8.cu: WgmmaFp8Stages) are
// widened first. A Stages type gives kStages, kStageBytes (an x box and a weight box: the producer's
// expect_tx), kBytesA (the x box), kExtraBytes (after the ring, before the barriers), kScaled (the
// store's column scales), and b_tile(stage, ring, it, ct): the B tile's address for k-step it.
struct WgmmaBf16Stages {
  static constexpr int kStages = WgmmaShape::kStages;
  static constexpr int kStageBytes = WgmmaShape::kStageBytes;
  static constexpr int kBytesA = WgmmaShape::kBytesA;
  static constexpr int kExtraBytes = 0;
  static constexpr bool kScaled = false;
  __device__ __forceinline__ static uint32_t b_tile(uint32_t stage, uint32_t, int, int) { return stage + kBytesA; }
};

// The persistent producer/consumer body both wgmma GEMMs run (see the file comment).
template <typename L, typename P>
__device__ __forceinline__ void wgmma_gemm_body(const P& p) {
  using S = WgmmaShape;
  extern __shared__ uint4 dynamic_smem[];
  const uint32_t raw = smem_addr(dynamic_smem);
  const uint32_t ring = (raw + 1023) & ~1023u;
  const uint32_t fullBar = ring + L::kStages * L::kStageBytes + L::kExtraBytes;  // kStages x 8 bytes
  const uint32_t emptyBar = fullBar + L::kStages * 8;
  const int tilesM = (p.m + S::kTileM - 1) / S::kTileM;
  const int tilesN = (p.n + S::kTileN - 1) / S::kTileN;
  const int tiles = tilesM * tilesN;
  const int kTiles = (p.k + S::kTileK - 1) / S::kTileK;
  const int warpgroup = threadIdx.x / 128;

  if (threadIdx.x == 0) {
    for (int s = 0; s < L::kStages; s++) {
      mbar::init(fullBar + 8 * s, 1);  // the producer's arrive (plus the copies' bytes)
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
          const int s = it % L::kStages;
          const uint32_t phase = (it / L::kStages) & 1;
          mbar::wait(emptyBar + 8 * s, phase ^ 1);  // a fresh barrier passes parity 1 at once
          const uint32_t a = ring + s * L::kStageBytes;
          mbar::arrive_expect_tx(fullBar + 8 * s, L::kStageBytes);
          tma_load_2d(a, &p.xMap, fullBar + 8 * s, kt * S::kTileK, tm * S::kTileM);
          tma_load_2d(a + L::kBytesA, &p.wMap, fullBar + 8 * s, kt * S::kTileK, tn * S::kTileN);
        }
      }
    }
  } else {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 232;");
    const int consumer = warpgroup - 1;  // rows consumer*64 .. +63 of the tile
    const int warp = (threadIdx.x / 32) & 3, lane = threadIdx.x & 31;
    float acc[128];
#pragma unroll
    for (int i = 0; i < 128; i++) acc[i] = 0.f;
    int it = 0;
    for (int t = blockIdx.x; t < tiles; t += gridDim.x) {
      int tm, tn;
      wgmma_tile_of(t, tilesM, tilesN, tm, tn);
      for (int kt = 0; kt < kTiles; kt++, it++) {
        const int s = it % L::kStages;
        const uint32_t phase = (it / L::kStages) & 1;
        mbar::wait(fullBar + 8 * s, phase);
        const uint32_t stage = ring + s * L::kStageBytes;
        const uint32_t a = stage + consumer * 64 * 128;
        const uint32_t b = L::b_tile(stage, ring, it, threadIdx.x - 128);
        const uint64_t descA = sw128_desc(a), descB = sw128_desc(b);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < 4; kk++) {
          // +32 bytes per k16 step: +2 in the descriptor's 16-byte address units
          wgmma_m64n256k16(acc, descA + 2 * kk, descB + 2 * kk, kt > 0 || kk > 0);
        }
        wgmma_commit();
        // One group stays in flight: once the previous k-tile's group is done, its stage goes
        // back to the producer while this one runs.
        wgmma_wait<1>();
        if (kt > 0 && lane == 0) mbar::arrive(emptyBar + 8 * ((it + L::kStages - 1) % L::kStages));
      }
      wgmma_wait<0>();
      if (kTiles > 0 && lane == 0) mbar::arrive(emptyBar + 8 * ((it + L::kStages - 1) % L::kStages));
      wgmma_store<L::kScaled>(p, acc, tm * S::kTileM + consumer * 64 + warp * 16 + lane / 4, tn * S::kTileN);
    }
  }
}

__device__ __forceinline__ void wgmma_gemm(const WgmmaGemmParams& p) {
  wgmma_gemm_body<WgmmaBf16Stages>(p);
}

#endif

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::WgmmaShape::kThreads, 1)
    df_wgmma_gemm(const __grid_constant__ WgmmaGemmParams p) {
  df::pdl_entry();
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  df::wgmma_gemm(p);
#elif defined(__CUDA_ARCH__)
  __trap();  // wgmma and setmaxnreg exist on sm_90a only; the host launches this nowhere else
#endif
}
