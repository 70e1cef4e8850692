// Argmax over each row of the logits: greedy sampling.
//
// Same contract as the CPU reference (io.decodefleet.kernels.reference.Argmax): ties go to the
// lowest index, NaN never wins, and a row that is all NaN gives -1.
// Variants: one kernel.
// Layouts: logits (rows, vocab) bf16 with row stride `stride` elements; out (rows) int32.
// Rows are read with 16-byte loads when vocab and stride are multiples of 8, else element-wise.
// Grid: (rows); block: 512 threads.
#include "common.cuh"
#include <limits.h>

struct ArgmaxParams {
  int* out;              // (rows) int32
  const bf16* logits;    // (rows, stride) bf16
  int rows;
  int vocab;
  int stride;
};
DF_PARAMS_SIZE(ArgmaxParams, 32);

namespace df {

constexpr int kArgmaxThreads = 512;
constexpr int kArgmaxBatch = 8;

// (value, index) pairs: larger value wins, then lower index; a NaN value never wins because
// every comparison with it is false. The empty pair is (-inf, INT_MAX).
__device__ __forceinline__ void take_better(float& best, int& at, float v, int i) {
  if (v > best || (v == best && i < at)) {
    best = v;
    at = i;
  }
}

// The block's best of every thread's (best, at), as take_better orders them, written to *out by one
// thread (-1 where no thread saw a value). Every thread of the block calls it.
__device__ __forceinline__ void block_argmax_to(float best, int at, int* out) {
  __shared__ float s_best[32];
  __shared__ int s_at[32];
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const float ob = __shfl_xor_sync(0xffffffffu, best, o);
    const int oa = __shfl_xor_sync(0xffffffffu, at, o);
    take_better(best, at, ob, oa);
  }
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  if (lane == 0) {
    s_best[warp] = best;
    s_at[warp] = at;
  }
  __syncthreads();
  if (warp == 0) {
    const int warps = blockDim.x >> 5;
    best = lane < warps ? s_best[lane] : DF_NEG_INF;
    at = lane < warps ? s_at[lane] : INT_MAX;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      const float ob = __shfl_xor_sync(0xffffffffu, best, o);
      const int oa = __shfl_xor_sync(0xffffffffu, at, o);
      take_better(best, at, ob, oa);
    }
    if (lane == 0) *out = at == INT_MAX ? -1 : at;
  }
}

__device__ __forceinline__ void argmax_row(const ArgmaxParams& p) {
  const int row = blockIdx.x;
  const bf16* logits = p.logits + static_cast<size_t>(row) * p.stride;
  float best = DF_NEG_INF;
  int at = INT_MAX;
  if (((p.vocab | p.stride) & 7) == 0) {
    // kArgmaxBatch vectors a thread in flight at once: one pass over a 128k vocabulary is then four
    // round trips to memory, not thirty-one (take_better's order does not depend on the visit order).
    const uint4* v = reinterpret_cast<const uint4*>(logits);
    const int vectors = p.vocab >> 3;
    for (int c0 = threadIdx.x; c0 < vectors; c0 += kArgmaxBatch * blockDim.x) {
      uint4 r[kArgmaxBatch];
#pragma unroll
      for (int u = 0; u < kArgmaxBatch; u++) {
        const int c = c0 + u * blockDim.x;
        if (c < vectors) r[u] = ld_stream(v + c);
      }
#pragma unroll
      for (int u = 0; u < kArgmaxBatch; u++) {
        const int c = c0 + u * blockDim.x;
        if (c < vectors) {
          float f[8];
          unpack8(r[u], f);
#pragma unroll
          for (int j = 0; j < 8; j++) take_better(best, at, f[j], c * 8 + j);
        }
      }
    }
  } else {
    for (int c = threadIdx.x; c < p.vocab; c += blockDim.x) {
      take_better(best, at, __bfloat162float(logits[c]), c);
    }
  }
  block_argmax_to(best, at, p.out + row);
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::kArgmaxThreads)
    df_argmax(const __grid_constant__ ArgmaxParams p) {
  df::pdl_entry();
  df::argmax_row(p);
}
