// Embedding gather: out[i, :] = table[tokens[i], :].
//
// Variants: one kernel. A token id outside [0, vocab) produces a row of NaN instead of reading a
// neighbouring row, so the error surfaces in the logits (argmax then returns -1) rather than as
// plausible text.
// Layouts: table (vocab, hidden) bf16 row-major; tokens (n) int32; out (n, hidden) bf16.
// hidden is a multiple of 8 (16-byte copies).
// Grid: (n); block: 128 threads; no dynamic shared memory.
#include "common.cuh"

struct EmbeddingParams {
  bf16* out;             // (n, hidden) bf16
  const bf16* table;     // (vocab, hidden) bf16
  const int* tokens;     // (n) int32
  int n;
  int hidden;
  int vocab;
};
DF_PARAMS_SIZE(EmbeddingParams, 40);

namespace df {

constexpr int kEmbeddingThreads = 128;

__device__ __forceinline__ void gather_row(const EmbeddingParams& p) {
  const int i = blockIdx.x;
  const int token = p.tokens[i];
  const int vectors = p.hidden >> 3;
  uint4* out = reinterpret_cast<uint4*>(p.out + static_cast<size_t>(i) * p.hidden);
  if (token < 0 || token >= p.vocab) {
    const uint32_t nan2 = DF_BF16_NAN_BITS | (DF_BF16_NAN_BITS << 16);
    for (int v = threadIdx.x; v < vectors; v += blockDim.x) out[v] = make_uint4(nan2, nan2, nan2, nan2);
    return;
  }
  const uint4* row = reinterpret_cast<const uint4*>(p.table + static_cast<size_t>(token) * p.hidden);
  for (int v = threadIdx.x; v < vectors; v += blockDim.x) out[v] = row[v];
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(df::kEmbeddingThreads)
    df_embedding(const __grid_constant__ EmbeddingParams p) {
  df::pdl_entry();
  df::gather_row(p);
}
