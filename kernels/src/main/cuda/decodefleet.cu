// The one translation unit nvcc compiles into decodefleet.fatbin: every kernel family, so that
// the fatbin is a single module loaded with one cuModuleLoadData. Each family stays in its own
// file; this file only includes them.
#include "embedding.cu"
#include "rmsnorm.cu"
#include "rope_kv.cu"
#include "decode_attention.cu"
#include "decode_attention_graph.cu"  // after decode_attention.cu: it reuses its device code
#include "paged_attention.cu"
#include "swiglu.cu"
#include "argmax.cu"
#include "sample.cu"  // after argmax.cu: its greedy rows run argmax_row
#include "kv_pack.cu"
#include "prefill_attention.cu"
// After prefill_attention.cu and decode_attention.cu: it reuses the first's tile shape and the
// second's FP8 widening.
#include "paged_prefill_attention.cu"
#include "gemm.cu"
#include "wgmma_gemm.cu"
#include "wgmma_gemm_fp8.cu"  // after wgmma_gemm.cu: its copies, MMAs, schedule and store
#include "prefill_attention_wgmma.cu"  // after prefill_attention.cu and wgmma_gemm.cu: their parameters, exp2 and wgmma helpers
#include "prefill_attention_tma.cu"  // after prefill_attention_wgmma.cu: its consumers' MMAs, softmax and pins; wgmma_gemm.cu's TMA copy
#include "skinny_gemm.cu"
#include "skinny_gemm_fp8.cu"  // after skinny_gemm.cu: it reuses its shapes and reduce
#include "skinny_gemm_fp8_wgmma.cu"  // after wgmma_gemm.cu and skinny_gemm_fp8.cu: their MMA helpers, parameters, store and reduce
#include "skinny2_gemm.cu"  // after skinny_gemm.cu: it reuses its parameters and store
#include "skinny2_gemm_fp8.cu"  // after skinny2_gemm.cu and skinny_gemm_fp8.cu: their copies, sum and fp8.cuh
#include "skinny2_gemm_fp8x8.cu"  // after skinny2_gemm_fp8.cu: its weight stage, row scales and parameters
#include "skinny2_gemm_fp8x8_wgmma.cu"  // after skinny2_gemm_fp8x8.cu and wgmma_gemm.cu: its policies, their descriptors and waits
#include "gemv_fp8.cu"
#include "gemv_fp8_mma.cu"  // after gemv_fp8.cu: its parameters
#include "fp8_gemm.cu"
#include "fill.cu"
#include "dummy_weights.cu"
#include "fp8_weights.cu"  // after dummy_weights.cu: it reuses its hash
#include "moe.cu"
#include "moe_prefill.cu"  // after gemm.cu and moe.cu: their tiles and the expert GEMM params
