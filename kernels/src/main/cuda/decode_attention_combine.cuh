// Part of the decode-attention family (decode_attention.cu includes it): the merge of a
// (sequence, kv head)'s chunk partials, shared by the combine kernel and by the persistent
// kernel's last CTA of each pair.
//
// Each chunk c left, per query row of the group, its output normalised by its own softmax sum,
// O_c, and its log-sum-exp in the log2 domain, lse_c. The merged output is
//   sum_c 2^(lse_c - M) O_c / sum_c 2^(lse_c - M),   M = max_c lse_c,
// computed in float32 with the weights of up to 64 chunks at a time in shared memory.
#pragma once

namespace df {

// Merges the nChunks partials of one (sequence, kv head) into `out`. Reads partials through L2
// only (ld.cg): in the persistent kernel other SMs wrote them during this launch.
template <int D>
__device__ __forceinline__ void combine_group(const DecodeAttentionParams& p, int seq,
                                              int kvHead, int nChunks, int group, float* smem) {
  using S = DecodeShape<D>;
  constexpr int kChunkBatch = 64;
  constexpr int kPerThread = S::kMaxGroup * D / S::kThreads;
  float* rowMax = smem;                         // (16)
  float* rowInv = smem + 16;                    // (16)
  float* weight = smem + 32;                    // (kChunkBatch, group)
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int base = p.partialBase[seq] + kvHead * nChunks;
  const float* lse = p.partialLse + static_cast<size_t>(base) * group;
  const float* part = p.partialOut + static_cast<size_t>(base) * group * D;

  for (int row = warp; row < group; row += S::kWarps) {
    float mx = DF_NEG_INF;
    for (int c = lane; c < nChunks; c += 32) mx = fmaxf(mx, __ldcg(lse + c * group + row));
    mx = warp_max(mx);
    float sum = 0.f;
    for (int c = lane; c < nChunks; c += 32) sum += fast_exp2(__ldcg(lse + c * group + row) - mx);
    sum = warp_sum(sum);
    if (lane == 0) {
      rowMax[row] = mx;
      rowInv[row] = 1.f / sum;
    }
  }
  float acc[kPerThread];
#pragma unroll
  for (int k = 0; k < kPerThread; k++) acc[k] = 0.f;
  for (int c0 = 0; c0 < nChunks; c0 += kChunkBatch) {
    const int n = min(kChunkBatch, nChunks - c0);
    __syncthreads();
    for (int i = threadIdx.x; i < n * group; i += S::kThreads) {
      const int c = c0 + i / group, row = i % group;
      weight[i] = fast_exp2(__ldcg(lse + c * group + row) - rowMax[row]) * rowInv[row];
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kPerThread; k++) {
      const int e = threadIdx.x + k * S::kThreads;
      if (e < group * D) {
        const int row = e / D, d = e % D;
        float a = acc[k];
        for (int c = 0; c < n; c++) {
          a += weight[c * group + row] * __ldcg(part + (static_cast<size_t>(c0 + c) * group + row) * D + d);
        }
        acc[k] = a;
      }
    }
  }
#pragma unroll
  for (int k = 0; k < kPerThread; k++) {
    const int e = threadIdx.x + k * S::kThreads;
    if (e < group * D) {
      const int row = e / D, d = e % D;
      const size_t o = (static_cast<size_t>(seq) * p.qHeads + kvHead * group + row) * D + d;
      p.out[o] = __float2bfloat16_rn(acc[k]);
    }
  }
  __syncthreads();
}

}  // namespace df
