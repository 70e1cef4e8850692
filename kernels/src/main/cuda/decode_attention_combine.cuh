// Part of the decode-attention family (decode_attention.cu includes it): the merge of a
// (sequence, kv head)'s chunk partials, shared by the combine kernel and by the persistent
// kernel's last CTA of each pair.
//
// Each chunk c left, per query row of the group, its output normalised by its own softmax sum,
// O_c, and its log-sum-exp in the log2 domain, lse_c. The merged output is
//   sum_c 2^(lse_c - M) O_c / sum_c 2^(lse_c - M),   M = max_c lse_c,
// computed in float32.
//
// Latency is what this costs at small batches, so there is one pass over the chunks: a lane
// owns 4 dims of one row and loads the log-sum-exps and partial outputs (16 bytes) of 8 chunks
// at once, then rescales its running sums to the new maximum (the online-softmax update), so
// that a merge of up to 8 chunks is one round trip to L2 and needs no shared memory or barrier.
#pragma once

namespace df {

// Merges the nChunks partials of one (sequence, kv head), slots slotBase.., into `out`. Warp w
// takes rows w, w + 4, ... (D = 128: one row per warp; D = 64: one per half-warp). Reads
// partials through L2 only (ld.cg): in the persistent kernel other SMs wrote them during this
// launch.
template <int D>
__device__ __forceinline__ void merge_pair(const DecodeAttentionParams& p, int seq, int kvHead,
                                           int nChunks, int group, int slotBase) {
  constexpr int kLanesPerRow = D / 4;
  constexpr int kRowsPerWarp = 32 / kLanesPerRow;
  constexpr int kRowStep = DecodeShape<D>::kWarps * kRowsPerWarp;
  constexpr int kBatch = 8;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int d = (lane % kLanesPerRow) * 4;
  for (int row = warp * kRowsPerWarp + lane / kLanesPerRow; row < group; row += kRowStep) {
    // Chunk c of this row: lse at lse[c * group], output at part[c * group * D].
    const float* lse = p.partialLse + static_cast<size_t>(slotBase) * group + row;
    const float* part = p.partialOut + (static_cast<size_t>(slotBase) * group + row) * D + d;
    float m = DF_NEG_INF, l = 0.f;
    float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int c0 = 0; c0 < nChunks; c0 += kBatch) {
      float ls[kBatch];
      float4 v[kBatch];
#pragma unroll
      for (int b = 0; b < kBatch; b++) {
        const bool ok = c0 + b < nChunks;
        const size_t c = static_cast<size_t>(c0 + b);
        ls[b] = ok ? __ldcg(lse + c * group) : DF_NEG_INF;
        v[b] = ok ? __ldcg(reinterpret_cast<const float4*>(part + c * group * D))
                  : make_float4(0.f, 0.f, 0.f, 0.f);
      }
      // Chunk c0 exists, so mNew is finite; exp2(-inf) = 0 covers the first batch and the
      // absent chunks of the last.
      float mNew = m;
#pragma unroll
      for (int b = 0; b < kBatch; b++) mNew = fmaxf(mNew, ls[b]);
      const float scale = fast_exp2(m - mNew);
      l *= scale;
      acc.x *= scale;
      acc.y *= scale;
      acc.z *= scale;
      acc.w *= scale;
#pragma unroll
      for (int b = 0; b < kBatch; b++) {
        const float w = fast_exp2(ls[b] - mNew);
        l += w;
        acc.x += w * v[b].x;
        acc.y += w * v[b].y;
        acc.z += w * v[b].z;
        acc.w += w * v[b].w;
      }
      m = mNew;
    }
    const float inv = 1.f / l;
    uint2 packed;
    packed.x = pack_bf16x2(acc.x * inv, acc.y * inv);
    packed.y = pack_bf16x2(acc.z * inv, acc.w * inv);
    const size_t o = (static_cast<size_t>(seq) * p.qHeads + kvHead * group + row) * D + d;
    *reinterpret_cast<uint2*>(p.out + o) = packed;
  }
}

}  // namespace df
