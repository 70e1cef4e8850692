// Shared device helpers of the DecodeFleet kernels: bf16 packing, 16-byte loads, warp and block
// reductions, cp.async, ldmatrix and the bf16 tensor-core MMA (m16n8k16, float32 accumulate).
//
// Every kernel takes exactly one parameter: a struct passed by value (`__grid_constant__`), whose
// fields are 8-byte pointers first, then 4-byte ints and floats, so that its layout is the natural
// one on both sides. The Java mirror of each struct lives in io.decodefleet.kernels.cuda and a
// unit test parses the struct definitions in these files to check that both agree field by field.
// DF_PARAMS_SIZE pins the size here as well.
#pragma once

#include <cuda_bf16.h>
#include <stdint.h>

typedef __nv_bfloat16 bf16;

#define DF_PARAMS_SIZE(T, bytes) \
  static_assert(sizeof(T) == (bytes), #T " must keep the size its Java mirror assumes")

#define DF_NEG_INF (-__int_as_float(0x7f800000))
#define DF_BF16_NAN_BITS 0x7fc0u

namespace df {

// Programmatic dependent launch: where the host launches a kernel with the programmatic stream
// serialization attribute (DECODEFLEET_PDL=on, KernelModule), the kernel may be scheduled while the
// kernel before it in the stream (or graph) is still running. Every kernel calls this first, before
// it reads or writes anything in global memory: the wait returns once the previous kernel has
// completed and its writes are visible (at once for a kernel launched without the attribute), and
// the trigger lets the next kernel be scheduled as soon as all of this one's CTAs have started, so
// its launch overlaps this kernel's tail instead of following it.
__device__ __forceinline__ void pdl_entry() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// A kernel that reads memory no earlier launch of the step writes (a model's resident weights) may
// issue those reads before pdl_entry, so that they overlap the previous kernel's tail; nothing it
// reads or writes that a previous launch may touch (activations, workspace, counters) before it.

// ---- bf16 packing: a uint32 holds two bf16, element 0 in the low half ----

__device__ __forceinline__ float bf16_lo(uint32_t w) { return __uint_as_float(w << 16); }
__device__ __forceinline__ float bf16_hi(uint32_t w) { return __uint_as_float(w & 0xffff0000u); }

__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

// Eight bf16 (one 16-byte vector) to float and back.
__device__ __forceinline__ void unpack8(const uint4& v, float (&f)[8]) {
  f[0] = bf16_lo(v.x); f[1] = bf16_hi(v.x);
  f[2] = bf16_lo(v.y); f[3] = bf16_hi(v.y);
  f[4] = bf16_lo(v.z); f[5] = bf16_hi(v.z);
  f[6] = bf16_lo(v.w); f[7] = bf16_hi(v.w);
}

__device__ __forceinline__ uint4 pack8(const float (&f)[8]) {
  uint4 v;
  v.x = pack_bf16x2(f[0], f[1]);
  v.y = pack_bf16x2(f[2], f[3]);
  v.z = pack_bf16x2(f[4], f[5]);
  v.w = pack_bf16x2(f[6], f[7]);
  return v;
}

// ---- global loads ----

// 16-byte read-only load that does not allocate in L1: for data read exactly once (weights,
// KV pages), so it does not evict what is reused.
__device__ __forceinline__ uint4 ld_stream(const void* p) {
  uint4 r;
  asm("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
      : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
      : "l"(p));
  return r;
}

// ---- reductions ----

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Sums each of 32 values over the warp's 32 lanes and returns value `lane`'s sum in lane `lane`:
// a reduce-scatter butterfly, 31 shuffles where 32 warp_sum calls take 160. At offset o a lane
// keeps the half of its remaining values whose index has bit o as its own lane has it, and adds the
// partner's copy of that half. v is left consumed.
__device__ __forceinline__ float warp_sum_scatter32(float (&v)[32]) {
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const bool upper = (lane & o) != 0;
#pragma unroll
    for (int i = 0; i < o; i++) {
      const float send = upper ? v[i] : v[i + o];
      const float keep = upper ? v[i + o] : v[i];
      v[i] = keep + __shfl_xor_sync(0xffffffffu, send, o);
    }
  }
  return v[0];
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the whole block; every thread gets the result. `scratch` holds one float per warp
// (32 is enough for any block). Contains two barriers.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int warps = (blockDim.x + 31) >> 5;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float t = lane < warps ? scratch[lane] : 0.f;
  t = warp_sum(t);
  __syncthreads();  // scratch may be reused by the caller right after
  return t;
}

// Max over the block (whole warps), NaN ignored; every thread gets it. Two barriers (scratch may be
// reused by the caller right after). A maximum is exact in any order.
__device__ __forceinline__ float block_max(float v, float* scratch) {
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  v = warp_max(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float t = lane < warps ? scratch[lane] : DF_NEG_INF;
  t = warp_max(t);
  __syncthreads();
  return t;
}

// ---- cp.async (sm_80+): global -> shared, 16 bytes, bypassing L1 ----

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// Copies 16 bytes when `valid`, otherwise writes 16 zero bytes (src-size 0), so that masked
// rows of a tile hold zeros rather than whatever was there: 0 * NaN would poison an MMA.
__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  const int src_bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(smem)),
               "l"(gmem), "r"(src_bytes));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// ---- ldmatrix and mma ----

// Four 8x8 b16 matrices; lanes 8i..8i+7 give the row addresses of matrix i. Thread t receives
// (row t/4, columns 2(t%4), 2(t%4)+1) of each matrix, in r[0..3].
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* smem) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(smem)));
}

// Same, transposed: thread t receives (rows 2(t%4), 2(t%4)+1, column t/4) of each matrix.
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* smem) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(smem)));
}

// d += a * b for one m16n8k16 tile, bf16 operands, float32 accumulators.
// a: {row g k 2q..2q+1, row g+8 same k, row g k 2q+8.., row g+8 k 2q+8..} (g = lane/4, q = lane%4)
// b: {k 2q..2q+1 column g, k 2q+8.. column g}
// d: {row g col 2q, row g col 2q+1, row g+8 col 2q, row g+8 col 2q+1}
__device__ __forceinline__ void mma_bf16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                         uint32_t b1) {
  // Not volatile: a pure register operation the compiler may schedule freely. ldmatrix and
  // cp.async stay volatile so that they never move across a barrier.
  asm(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
      "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Index, in 16-byte units, of chunk `c` of row `r` in a tile whose rows are `chunks_per_row`
// chunks long (at least 8): the low three bits of the chunk are XORed with the row, so the eight
// rows that one ldmatrix phase reads fall into eight different bank groups.
template <int kChunksPerRow>
__device__ __forceinline__ int swizzle(int r, int c) {
  return r * kChunksPerRow + (c ^ (r & 7));
}

// After every thread of the CTA wrote its share of a piece of work that `total` CTAs share (a split's partials, a
// chunk's): counts the share in *counter and returns true, in all its threads, in the CTA that counted last, to
// which every share is then visible. The verdict travels by __syncthreads_or, not a static __shared__ flag: static
// shared memory moves a kernel's dynamic shared memory 16 bytes off its alignment, and that made the persistent
// decode attention 6-8 % slower than the split one on identical work (short-scoreboard stalls x3 on an H100;
// kernels/NOTES.md). The caller puts the counter back to zero.
__device__ __forceinline__ bool counted_last(int* counter, int total) {
  __threadfence();
  __syncthreads();
  int last = 0;
  if (threadIdx.x == 0) last = atomicAdd(counter, 1) == total - 1;
  if (!__syncthreads_or(last)) return false;
  __threadfence();
  return true;
}

}  // namespace df
