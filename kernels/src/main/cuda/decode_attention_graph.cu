// Decode attention for CUDA graphs: the split, combine and persistent kernels of
// decode_attention.cu (which decodefleet.cu includes before this file), with the per-step part of
// the plan read from device memory instead of the by-value parameters.
//
// A graph freezes every launch's parameters at capture, but the host plan of a decode step
// (io.decodefleet.kernels.cuda.DecodeAttentionPlan: chunk length, item count) changes with the
// batch's context lengths, and so does the block-table stride the step is packed with. Here those
// three numbers come from stepDims, which the host copies to the device with the step's other
// inputs (work items, partial bases, block tables, context lengths) before each replay; everything
// else is fixed by the batch bucket.
//
// Variants (D = 64 or 128):
//   df_decode_attention_graph_d{D}             grid = maxItems >= any step's numItems (the plan
//                                              never exceeds max(slots, batch * kvHeads)); CTAs
//                                              past stepDims[0] exit at once.
//   df_decode_attention_graph_combine_d{D}     grid = (kvHeads, batch), as the plain combine.
//   df_decode_attention_graph_persistent_d{D}  grid = the CTA slots of the GPU; CTAs take the
//                                              items below stepDims[0] in the plain kernel's snake order.
//   df_decode_attention_graph_fp8_d{D}, df_decode_attention_graph_persistent_fp8_d{D}: the same
//                                              over an FP8 e4m3 cache (kScale, vScale); the combine
//                                              is the bf16 one.
// Layouts: as decode_attention.cu; stepDims (4) int32: numItems, chunkTokens, blockTableStride, 0.
#include "common.cuh"

struct DecodeAttentionGraphParams {
  bf16* out;                // (batch, qHeads, headDim) bf16
  const bf16* q;            // (batch, qHeads, headDim) bf16
  const bf16* kCache;       // (numBlocks, blockSize, kvHeads, headDim) bf16
  const bf16* vCache;       // (numBlocks, blockSize, kvHeads, headDim) bf16
  const int* blockTables;   // (batch, stepDims[2]) int32
  const int* contextLens;   // (batch) int32
  const int* workItems;     // (stepDims[0], 4) int32: seq, kvHead, chunk, 0
  const int* partialBase;   // (batch) int32
  float* partialOut;        // (numPartials, group, headDim) float32
  float* partialLse;        // (numPartials, group) float32, log2 domain
  int* counters;            // (2 + batch * kvHeads) int32
  const int* stepDims;      // (4) int32: numItems, chunkTokens, blockTableStride, 0
  int batch;
  int qHeads;
  int kvHeads;
  int headDim;
  int blockSize;
  int blockShift;           // log2(blockSize)
  float scaleLog2;          // softmax scale * log2(e)
  float kScale;             // FP8 variants: a K element is e4m3(code) * kScale (1 otherwise)
  float vScale;             // FP8 variants: a V element is e4m3(code) * vScale (1 otherwise)
};
DF_PARAMS_SIZE(DecodeAttentionGraphParams, 136);

namespace df {

// The plain kernels' parameters for this step: fixed fields from the graph, the plan's from memory.
__device__ __forceinline__ DecodeAttentionParams step_params(const DecodeAttentionGraphParams& g) {
  DecodeAttentionParams p;
  p.out = g.out;
  p.q = g.q;
  p.kCache = g.kCache;
  p.vCache = g.vCache;
  p.blockTables = g.blockTables;
  p.contextLens = g.contextLens;
  p.workItems = g.workItems;
  p.partialBase = g.partialBase;
  p.partialOut = g.partialOut;
  p.partialLse = g.partialLse;
  p.counters = g.counters;
  p.batch = g.batch;
  p.qHeads = g.qHeads;
  p.kvHeads = g.kvHeads;
  p.headDim = g.headDim;
  p.blockSize = g.blockSize;
  p.blockShift = g.blockShift;
  p.numItems = g.stepDims[0];
  p.chunkTokens = g.stepDims[1];
  p.blockTableStride = g.stepDims[2];
  p.scaleLog2 = g.scaleLog2;
  p.kScale = g.kScale;
  p.vScale = g.vScale;
  return p;
}

// Like the plain kernels, the split and persistent ones call this before pdl_entry (decode_items says
// why that is safe): stepDims is a step input.
template <int D, bool kFp8 = false>
__device__ __forceinline__ void decode_graph_split(const DecodeAttentionGraphParams& g) {
  const DecodeAttentionParams p = step_params(g);
  if (static_cast<int>(blockIdx.x) >= p.numItems) return;
  decode_split<D, kFp8>(p);
}

}  // namespace df

extern "C" __global__ void __launch_bounds__(128, 2)
    df_decode_attention_graph_d128(const __grid_constant__ DecodeAttentionGraphParams g) {
  df::decode_graph_split<128>(g);
}

extern "C" __global__ void __launch_bounds__(128, 3)
    df_decode_attention_graph_d64(const __grid_constant__ DecodeAttentionGraphParams g) {
  df::decode_graph_split<64>(g);
}

extern "C" __global__ void __launch_bounds__(128)
    df_decode_attention_graph_combine_d128(const __grid_constant__ DecodeAttentionGraphParams g) {
  df::pdl_entry();
  df::decode_combine<128>(df::step_params(g));
}

extern "C" __global__ void __launch_bounds__(128)
    df_decode_attention_graph_combine_d64(const __grid_constant__ DecodeAttentionGraphParams g) {
  df::pdl_entry();
  df::decode_combine<64>(df::step_params(g));
}

extern "C" __global__ void __launch_bounds__(128, 2)
    df_decode_attention_graph_persistent_d128(const __grid_constant__ DecodeAttentionGraphParams g) {
  df::decode_persistent<128>(df::step_params(g));
}

extern "C" __global__ void __launch_bounds__(128, 3)
    df_decode_attention_graph_persistent_d64(const __grid_constant__ DecodeAttentionGraphParams g) {
  df::decode_persistent<64>(df::step_params(g));
}

extern "C" __global__ void __launch_bounds__(128, 3)
    df_decode_attention_graph_fp8_d128(const __grid_constant__ DecodeAttentionGraphParams g) {
  df::decode_graph_split<128, true>(g);
}

extern "C" __global__ void __launch_bounds__(128, 4)
    df_decode_attention_graph_fp8_d64(const __grid_constant__ DecodeAttentionGraphParams g) {
  df::decode_graph_split<64, true>(g);
}

extern "C" __global__ void __launch_bounds__(128, 3)
    df_decode_attention_graph_persistent_fp8_d128(const __grid_constant__ DecodeAttentionGraphParams g) {
  df::decode_persistent<128, true>(df::step_params(g));
}

extern "C" __global__ void __launch_bounds__(128, 4)
    df_decode_attention_graph_persistent_fp8_d64(const __grid_constant__ DecodeAttentionGraphParams g) {
  df::decode_persistent<64, true>(df::step_params(g));
}
