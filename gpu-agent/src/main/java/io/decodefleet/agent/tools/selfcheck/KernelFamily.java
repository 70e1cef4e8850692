package io.decodefleet.agent.tools.selfcheck;

import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.backend.cuda.driver.TensorMaps;
import io.decodefleet.agent.backend.cuda.gemm.Skinny2Gemms;
import io.decodefleet.agent.backend.cuda.gemm.WgmmaGemms;
import io.decodefleet.agent.cublas.CublasLt;
import io.decodefleet.agent.engine.DummyWeights;
import io.decodefleet.kernels.cuda.Kernel;
import io.decodefleet.kernels.cuda.WgmmaGemmParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The self-test's checks, one family per kernel source file (the persistent decode attention
 * apart from the split one). Shapes cover both head dims, both block sizes, GQA ratios 1, 4 and 8,
 * batch 1 and 17, and sizes that are not multiples of the tiles (contexts off the block size,
 * odd row counts, n and k off the GEMM tiles).
 */
public enum KernelFamily {
  EMBEDDING(
      h -> ElementwiseChecks.embedding(h, 17, 5000, 4096),
      h -> ElementwiseChecks.embedding(h, 1, 1000, 2056)),
  RMSNORM(
      h -> ElementwiseChecks.rmsNorm(h, 1, 4096, true),
      h -> ElementwiseChecks.rmsNorm(h, 17, 4096, true),
      h -> ElementwiseChecks.rmsNorm(h, 128, 8192, true),
      h -> ElementwiseChecks.rmsNorm(h, 17, 16384, false),
      h -> ElementwiseChecks.rmsNorm(h, 3, 520, false),
      h -> ElementwiseChecks.rmsNorm(h, 17, 4096, true, true),
      h -> Fp8DynamicChecks.normCodes(h, 64, 4096),
      h -> Fp8DynamicChecks.normCodes(h, 3, 528)),
  /**
   * Head dims 128, 64, 32 and 80 (five rotations of eight pairs a head), with and without q/k norms,
   * with Qwen2's q/k/v biases (Qwen2-7B's heads: 28 q, 4 kv, 128 wide; then with q/k norms too).
   * (The head-dim-80 q/k-norm rows caught a version that split a token's heads between CTAs by item:
   * a head across two CTAs was read for its norm while rotated in place. It was reverted.)
   */
  ROPE_KV_APPEND(
      h -> RopeKvCheck.run(h, 17, 32, 8, 128, 16, 64),
      h -> RopeKvCheck.run(h, 7, 24, 8, 80, 16, 16, true),
      h -> RopeKvCheck.run(h, 5, 8, 8, 64, 32, 16),
      h -> RopeKvCheck.run(h, 1, 64, 8, 128, 16, 8),
      h -> RopeKvCheck.run(h, 17, 32, 4, 128, 16, 64, true),
      h -> RopeKvCheck.run(h, 5, 8, 8, 64, 32, 16, true),
      h -> RopeKvCheck.run(h, 3, 4, 2, 32, 16, 8, true),
      h -> RopeKvCheck.run(h, 17, 28, 4, 128, 16, 64, false, true),
      h -> RopeKvCheck.run(h, 5, 8, 8, 64, 32, 16, true, true),
      // The rotated q into a packed buffer of its own, as a decode step launches it (one token, and 17).
      h -> RopeKvCheck.run(h, 1, 32, 8, 128, 16, 8, false, false, true),
      h -> RopeKvCheck.run(h, 17, 28, 4, 128, 16, 64, true, true, true)),
  DECODE_ATTENTION(DecodeAttentionCheck.rows(false)),
  DECODE_ATTENTION_PERSISTENT(DecodeAttentionCheck.rows(true)),
  PREFILL_ATTENTION(
      h -> PrefillAttentionCheck.run(h, 32, 8, 128, new int[] {1}),
      h -> PrefillAttentionCheck.run(h, 32, 8, 128, new int[] {100, 64, 257}),
      h -> PrefillAttentionCheck.run(h, 8, 8, 64, new int[] {77, 130}),
      h -> PrefillAttentionCheck.run(h, 16, 2, 128, new int[] {200}),
      h -> PrefillAttentionCheck.run(h, 16, 2, 128, new int[] {200, 65, 128, 129}),
      h -> PrefillAttentionCheck.run(h, 8, 2, 128, new int[] {1000, 31})),
  /** The prefill attention on wgmma (sm_90 only), its own copies then TMA: ragged lengths, groups 4 and 8. */
  PREFILL_ATTENTION_WGMMA(
      h -> PrefillAttentionCheck.run(h, 32, 8, 128, new int[] {1, 100, 64, 257}, Kernel.PREFILL_ATTENTION_WGMMA_D128),
      h -> PrefillAttentionCheck.run(h, 16, 2, 128, new int[] {200, 65, 128, 129}, Kernel.PREFILL_ATTENTION_WGMMA_D128),
      h -> PrefillAttentionCheck.run(h, 8, 2, 128, new int[] {1000, 31}, Kernel.PREFILL_ATTENTION_WGMMA_D128),
      h -> PrefillAttentionCheck.run(h, 32, 8, 128, new int[] {1, 100, 64, 257}, Kernel.PREFILL_ATTENTION_TMA_D128),
      h -> PrefillAttentionCheck.run(h, 16, 2, 128, new int[] {200, 65, 128, 129}, Kernel.PREFILL_ATTENTION_TMA_D128),
      h -> PrefillAttentionCheck.run(h, 8, 2, 128, new int[] {1000, 31}, Kernel.PREFILL_ATTENTION_TMA_D128),
      h -> PrefillAttentionCheck.run(h, 16, 2, 128, new int[] {1000, 200, 65, 129}, Kernel.PREFILL_ATTENTION_TMA_PP_D128)),
  /**
   * Prefill over the paged cache (continued prompt chunks, prefix-cache hits): spans from position 0,
   * inside a block and on a block boundary, lengths 1 to 300, GQA 1, 4, 7 (idle MMA rows) and 8,
   * both head dims and block sizes, several sequences with their own tables in one launch; the last
   * two over an FP8 e4m3 cache.
   */
  PAGED_PREFILL_ATTENTION(
      h -> PagedPrefillAttentionCheck.run(h, 32, 8, 128, 16, new int[] {0}, new int[] {100}),
      h -> PagedPrefillAttentionCheck.run(h, 32, 8, 128, 16, new int[] {37}, new int[] {256}),
      h -> PagedPrefillAttentionCheck.run(h, 32, 8, 128, 16, new int[] {2048}, new int[] {256}),
      h -> PagedPrefillAttentionCheck.run(h, 8, 8, 64, 16, new int[] {5, 64, 100}, new int[] {1, 2, 300}),
      h -> PagedPrefillAttentionCheck.run(h, 64, 8, 128, 32, new int[] {16, 1000, 31}, new int[] {3, 77, 129}),
      h -> PagedPrefillAttentionCheck.run(h, 28, 4, 128, 16, new int[] {33, 0}, new int[] {50, 9}),
      h -> PagedPrefillAttentionCheck.run(h, 16, 4, 64, 32, new int[] {32, 500, 7, 0}, new int[] {65, 17, 200, 1}),
      h -> PagedPrefillAttentionCheck.random(h, 32, 8, 128, 16, 9, 3000, 300),
      h -> PagedPrefillAttentionCheck.fp8(h, 32, 8, 128, 16, new int[] {2048, 0, 37}, new int[] {256, 65, 100}),
      h -> PagedPrefillAttentionCheck.fp8(h, 16, 4, 64, 32, new int[] {32, 500, 7}, new int[] {65, 17, 200})),
  SKINNY_GEMM(
      h -> GemmCheck.skinny(h, 1, 4096, 4096),
      h -> GemmCheck.skinny(h, 17, 1000, 520),
      h -> GemmCheck.skinny(h, 8, 28672, 1024),
      h -> GemmCheck.skinny(h, 64, 6144, 4096),
      h -> GemmCheck.skinny(h, 200, 1000, 1024),
      h -> GemmCheck.skinny(h, 1, 4096, 4096, true),
      h -> GemmCheck.skinny(h, 8, 4096, 7168, true),
      // One row over bf16 weights on the tensor cores (gemv_fp8_mma.cu's bf16 kernel): qkv with the norm in
      // front, o, gate_up with the norm and SwiGLU, down, and a depth of 768 (a multiple of 256 only).
      h -> Fp8Checks.gemvFused(h, 6144, 4096, true, false, true, true),
      h -> Fp8Checks.gemvFused(h, 4096, 4096, false, false, true, true),
      h -> Fp8Checks.gemvFused(h, 28672, 4096, true, true, true, true),
      h -> Fp8Checks.gemvFused(h, 4096, 14336, false, false, true, true),
      h -> Fp8Checks.gemvFused(h, 1000, 768, false, false, true, true)),
  /**
   * The second skinny GEMM (m ≤ 16): the four Llama-3-8B projections, n off the 64-row tile, k off
   * the 256-k chunk (520: a last slice of 8), more items than CTAs with and without splits, every
   * variant (m 1, 2, 4, 8, 16 and 3, 13 inside them), float32 out.
   */
  SKINNY2_GEMM(
      h -> GemmCheck.skinny2(h, 1, 6144, 4096, false),
      h -> GemmCheck.skinny2(h, 8, 4096, 4096, false),
      h -> GemmCheck.skinny2(h, 16, 28672, 4096, false),
      h -> GemmCheck.skinny2(h, 4, 4096, 14336, false),
      h -> GemmCheck.skinny2(h, 3, 1000, 520, false),
      h -> GemmCheck.skinny2(h, 13, 130, 72, false),
      h -> GemmCheck.skinny2(h, 2, 32000, 2048, false),
      h -> GemmCheck.skinny2(h, 16, 20000, 256, false),
      h -> GemmCheck.skinny2(h, 1, 4096, 4096, true),
      h -> GemmCheck.skinny2(h, 8, 4096, 7168, true)),
  GEMM(
      h -> GemmCheck.tensorCore(h, 300, 1000, 1024),
      h -> GemmCheck.tensorCore(h, 129, 130, 72),
      h -> GemmCheck.tensorCore(h, 1024, 1024, 1024),
      h -> GemmCheck.tensorCore(h, 300, 4096, 2048, true)),
  /**
   * Our Hopper GEMM, sm_90 only (see {@link #unavailabilityCause(GpuInfo)}): rows and columns off the
   * 128 x 256 tile, k off the 64-wide stage and k = 4096 and 14336 (64 and 224 stages, the ring
   * wrapping many times), odd n (single-element stores), more tiles than SMs (CTAs walking several
   * tiles, the ring's phases carried across them), float32 out.
   */
  WGMMA_GEMM(
      h -> GemmCheck.wgmma(h, 300, 1000, 1024, false),
      h -> GemmCheck.wgmma(h, 129, 130, 72, false),
      h -> GemmCheck.wgmma(h, 520, 512, 4096, false),
      h -> GemmCheck.wgmma(h, 136, 512, 14336, false),
      h -> GemmCheck.wgmma(h, 65, 1001, 512, false),
      h -> GemmCheck.wgmma(h, 640, 8192, 128, false),
      h -> GemmCheck.wgmma(h, 300, 1000, 2048, true)),
  /** cuBLASLt through the project's shim, bf16 and fp8-dynamic's FP8 x FP8: only where the library is present. */
  CUBLASLT_GEMM(
      h -> GemmCheck.cublasLt(h, 1, 4096, 4096, false),
      h -> GemmCheck.cublasLt(h, 17, 1000, 520, false),
      h -> GemmCheck.cublasLt(h, 64, 6144, 4096, false),
      h -> GemmCheck.cublasLt(h, 129, 130, 72, false),
      h -> GemmCheck.cublasLt(h, 300, 1000, 1024, false),
      h -> GemmCheck.cublasLt(h, 8, 4096, 7168, true),
      h -> Fp8DynamicChecks.dynamic(h, 1, 6144, 4096, false),
      h -> Fp8DynamicChecks.dynamic(h, 64, 28672, 4096, false),
      h -> Fp8DynamicChecks.dynamic(h, 300, 4096, 14336, true)),
  SWIGLU(
      h -> ElementwiseChecks.swiGlu(h, 17, 14336),
      h -> ElementwiseChecks.swiGlu(h, 1, 1024),
      h -> ElementwiseChecks.swiGlu(h, 64, 14336, true),
      h -> ElementwiseChecks.swiGlu(h, 1, 14336, true),
      h -> ElementwiseChecks.swiGlu(h, 2, 40960, true), // past the vectors a thread holds: the looping path
      h -> ElementwiseChecks.swiGlu(h, 3, 528, true)),
  ARGMAX(
      h -> ElementwiseChecks.argmax(h, 17, 128256),
      h -> ElementwiseChecks.argmax(h, 3, 1001)),
  /** Mixed greedy and sampled rows; 1001 takes the kernel's element-wise path. */
  SAMPLE(
      h -> SampleCheck.run(h, 1, 1000),
      h -> SampleCheck.run(h, 17, 1001),
      h -> SampleCheck.run(h, 128, 1000),
      h -> SampleCheck.run(h, 1, 128256),
      h -> SampleCheck.run(h, 17, 128256),
      h -> SampleCheck.run(h, 128, 128256)),
  KV_PACK(
      h -> ElementwiseChecks.kvPack(h, 100, 37, 16 * 8 * 128),
      h -> ElementwiseChecks.kvPack(h, 20, 7, 32 * 8 * 64)),
  DUMMY_WEIGHTS(
      h -> BackendKernelChecks.dummyWeights(h, 0x5eed_1234_abcdL,
          DummyWeights.tensorId(DummyWeights.Kind.UP_PROJ, 31), 0, 1 << 20, 0.0271f, 0f),
      h -> BackendKernelChecks.dummyWeights(h, -7L, DummyWeights.tensorId(DummyWeights.Kind.EMBEDDING, -1),
          (1L << 32) + 3, 100_003, 1f, 0f),
      h -> BackendKernelChecks.dummyWeights(h, 42L,
          DummyWeights.tensorId(DummyWeights.Kind.INPUT_NORM, 0), 0, 4096, 0.1f, 1f)),
  PAGED_ATTENTION(
      h -> BackendKernelChecks.pagedAttention(h, 4, 2, 32, 16, new int[] {1, 17, 300}),
      h -> BackendKernelChecks.pagedAttention(h, 32, 8, 128, 16, randomContexts(h.random(), 9, 1, 2000)),
      h -> BackendKernelChecks.pagedAttention(h, 8, 8, 80, 24, new int[] {33, 100})),
  DECODE_ATTENTION_GRAPH(
      h -> BackendKernelChecks.decodeGraph(h, false, 32, 8, 128, 16, new int[] {1000}),
      h -> BackendKernelChecks.decodeGraph(h, true, 32, 8, 128, 16, new int[] {1000}),
      h -> BackendKernelChecks.decodeGraph(h, false, 16, 4, 64, 16, randomContexts(h.random(), 17, 1, 3000)),
      h -> BackendKernelChecks.decodeGraph(h, true, 16, 4, 64, 16, randomContexts(h.random(), 17, 1, 3000)),
      h -> BackendKernelChecks.decodeGraph(h, true, 32, 8, 128, 16, randomContexts(h.random(), 64, 250, 1100))),
  /** FP8 e4m3 weights with a scale per output row or per tensor; k off the 512-byte warp stride. */
  FP8_GEMM(
      h -> Fp8Checks.gemm(h, 1, 4096, 4096, true, false),
      h -> Fp8Checks.gemm(h, 17, 1000, 528, false, false),
      h -> Fp8Checks.gemm(h, 64, 6144, 4096, true, false),
      h -> Fp8Checks.gemm(h, 8, 4096, 7168, true, true)),
  /** The skinny GEMM over FP8 weights (the backend's decode projections): every m tile, splits, f32 out. */
  SKINNY_GEMM_FP8(
      h -> Fp8Checks.skinny(h, 1, 4096, 4096, false),
      h -> Fp8Checks.skinny(h, 17, 1000, 528, false),
      h -> Fp8Checks.skinny(h, 8, 28672, 1024, false),
      h -> Fp8Checks.skinny(h, 13, 4096, 14336, false),
      h -> Fp8Checks.skinny(h, 32, 6144, 4096, false),
      h -> Fp8Checks.skinny(h, 64, 6144, 4096, false),
      h -> Fp8Checks.skinny(h, 200, 1000, 1024, false),
      h -> Fp8Checks.skinny(h, 8, 4096, 7168, true),
      h -> Fp8Checks.skinny(h, 1, 4096, 4096, false, Fp8Checks.Codes.SUBNORMAL),
      h -> Fp8Checks.skinny(h, 32, 6144, 4096, false, Fp8Checks.Codes.SUBNORMAL),
      // One row: the FP8 GEMV (a warp a weight row): the four projections, n off the 8-row CTA and k off the
      // 512-code warp stride (528), more rows than warps (128256: the grid walks them), f32 out, subnormal codes.
      h -> Fp8Checks.gemv(h, 6144, 4096, false, Fp8Checks.Codes.GAUSSIAN),
      h -> Fp8Checks.gemv(h, 4096, 4096, false, Fp8Checks.Codes.GAUSSIAN),
      h -> Fp8Checks.gemv(h, 28672, 4096, false, Fp8Checks.Codes.GAUSSIAN),
      h -> Fp8Checks.gemv(h, 4096, 14336, false, Fp8Checks.Codes.GAUSSIAN),
      h -> Fp8Checks.gemv(h, 1003, 528, false, Fp8Checks.Codes.GAUSSIAN),
      h -> Fp8Checks.gemv(h, 128256, 1024, false, Fp8Checks.Codes.GAUSSIAN),
      h -> Fp8Checks.gemv(h, 4096, 7168, true, Fp8Checks.Codes.GAUSSIAN),
      h -> Fp8Checks.gemv(h, 4096, 4096, false, Fp8Checks.Codes.SUBNORMAL),
      // What a one-row step runs inside it (the residual add and norm in front of qkv and gate_up, SwiGLU
      // behind gate_up): Llama-3-8B's qkv and gate_up, and k off the 512-code stride with an odd pair count.
      h -> Fp8Checks.gemvFused(h, 6144, 4096, true, false, false),
      h -> Fp8Checks.gemvFused(h, 28672, 4096, true, true, false),
      h -> Fp8Checks.gemvFused(h, 28672, 4096, false, true, false),
      h -> Fp8Checks.gemvFused(h, 1006, 528, true, true, false),
      // On the tensor cores (gemv_fp8_mma.cu, on by default where the shape fits): the four projections (4, 8, 1, 8
      // warps a task), 128256 rows (rounds, the last part full), f32 out, subnormal codes, norm and SwiGLU inside.
      h -> Fp8Checks.gemv(h, 6144, 4096, false, Fp8Checks.Codes.GAUSSIAN, true),
      h -> Fp8Checks.gemv(h, 4096, 4096, false, Fp8Checks.Codes.GAUSSIAN, true),
      h -> Fp8Checks.gemv(h, 28672, 4096, false, Fp8Checks.Codes.GAUSSIAN, true),
      h -> Fp8Checks.gemv(h, 4096, 14336, false, Fp8Checks.Codes.GAUSSIAN, true),
      h -> Fp8Checks.gemv(h, 128256, 1024, false, Fp8Checks.Codes.GAUSSIAN, true),
      h -> Fp8Checks.gemv(h, 4096, 7168, true, Fp8Checks.Codes.GAUSSIAN, true),
      h -> Fp8Checks.gemv(h, 4096, 4096, false, Fp8Checks.Codes.SUBNORMAL, true),
      h -> Fp8Checks.gemvFused(h, 6144, 4096, true, false, true),
      h -> Fp8Checks.gemvFused(h, 28672, 4096, true, true, true),
      h -> Fp8Checks.gemvFused(h, 28672, 4096, false, true, true),
      h -> Fp8Checks.gemvCodes(h, 6144, 4096, true, false), // fp8-dynamic's: the row quantized in the CTA
      h -> Fp8Checks.gemvCodes(h, 28672, 4096, true, true), h -> Fp8Checks.gemvCodes(h, 4096, 14336, false, false)),
  /**
   * The FP8 skinny GEMM on wgmma (skinny_gemm_fp8_wgmma.cu, sm_90 only; plans of more than 32 rows): the
   * four Llama-3-8B projections at 64 rows (split and unsplit), the decode buckets 128 and 256 (several m
   * tiles), rows and n off the tiles, k off the 64-code stage (528: a short last stage), float32 out,
   * subnormal codes.
   */
  SKINNY_GEMM_FP8_WGMMA(
      h -> Fp8Checks.skinnyWgmma(h, 64, 6144, 4096, false, Fp8Checks.Codes.GAUSSIAN),
      h -> Fp8Checks.skinnyWgmma(h, 64, 4096, 4096, false, Fp8Checks.Codes.GAUSSIAN),
      h -> Fp8Checks.skinnyWgmma(h, 64, 28672, 4096, false, Fp8Checks.Codes.GAUSSIAN),
      h -> Fp8Checks.skinnyWgmma(h, 64, 4096, 14336, false, Fp8Checks.Codes.GAUSSIAN),
      h -> Fp8Checks.skinnyWgmma(h, 256, 6144, 4096, false, Fp8Checks.Codes.GAUSSIAN),
      h -> Fp8Checks.skinnyWgmma(h, 128, 4096, 14336, false, Fp8Checks.Codes.GAUSSIAN),
      h -> Fp8Checks.skinnyWgmma(h, 37, 1000, 528, false, Fp8Checks.Codes.GAUSSIAN),
      h -> Fp8Checks.skinnyWgmma(h, 200, 1003, 1024, true, Fp8Checks.Codes.GAUSSIAN),
      h -> Fp8Checks.skinnyWgmma(h, 64, 4096, 4096, false, Fp8Checks.Codes.SUBNORMAL)),
  /**
   * The FP8 second skinny GEMM (m ≤ 64, the backend's FP8 decode projections where the tensor-map
   * shim is loaded): the four Llama-3-8B projections, n off the 64-row tile, k off the 256-k chunk
   * (528: a last slice of 16; 80: one short chunk), more items than CTAs split and unsplit, every
   * variant (m 1, 2, 4, 8, 16, 32, 64 and 3, 13, 17, 40 inside them: the 6- and 4-stage rings, x
   * rows past 32 copied by a lane's second copy; 40 also split), float32 out, and past 64 rows the
   * backend's one launch per 64 rows on a shared split-K scratch (128 and 100 rows).
   */
  SKINNY2_GEMM_FP8(
      h -> Fp8Checks.skinny2(h, 1, 6144, 4096, false),
      h -> Fp8Checks.skinny2(h, 8, 4096, 4096, false),
      h -> Fp8Checks.skinny2(h, 16, 28672, 4096, false),
      h -> Fp8Checks.skinny2(h, 4, 4096, 14336, false),
      h -> Fp8Checks.skinny2(h, 3, 1000, 528, false),
      h -> Fp8Checks.skinny2(h, 13, 130, 80, false),
      h -> Fp8Checks.skinny2(h, 2, 32000, 2048, false),
      h -> Fp8Checks.skinny2(h, 16, 20000, 256, false),
      h -> Fp8Checks.skinny2(h, 1, 4096, 4096, true),
      h -> Fp8Checks.skinny2(h, 8, 4096, 7168, true),
      h -> Fp8Checks.skinny2(h, 32, 6144, 4096, false),
      h -> Fp8Checks.skinny2(h, 64, 28672, 4096, false),
      h -> Fp8Checks.skinny2(h, 64, 4096, 14336, false),
      h -> Fp8Checks.skinny2(h, 17, 1000, 528, false),
      h -> Fp8Checks.skinny2(h, 40, 130, 80, false),
      h -> Fp8Checks.skinny2(h, 64, 4096, 4096, true),
      h -> Fp8Checks.skinny2(h, 40, 4096, 4096, false),
      h -> Fp8Checks.skinny2(h, 128, 6144, 4096, false),
      h -> Fp8Checks.skinny2(h, 100, 4096, 14336, true),
      h -> Fp8Checks.skinny2(h, 1, 6144, 4096, false, Fp8Checks.Codes.SUBNORMAL),
      h -> Fp8Checks.skinny2(h, 40, 4096, 4096, false, Fp8Checks.Codes.SUBNORMAL)),
  /** fp8-dynamic's codes-by-codes second skinny GEMM after the per-token quantization (skinny2_gemm_fp8x8.cu). */
  SKINNY2_GEMM_FP8X8(Fp8DynamicChecks.CODES),
  /**
   * Our Hopper GEMM over FP8 weights (sm_90 only, as {@link #WGMMA_GEMM}; the FP8 projections past
   * the skinny GEMMs' rows): rows and columns off the 128 x 256 tile, k off the 64-wide stage (528)
   * and k = 4096 and 14336 (the ring and the three widened tiles wrapping many times), more tiles
   * than SMs (CTAs walking several), a decode batch of 256 rows, per-tensor scales, odd n, float32 out.
   */
  WGMMA_GEMM_FP8(
      h -> Fp8Checks.wgmma(h, 300, 1000, 1024, true, false),
      h -> Fp8Checks.wgmma(h, 129, 130, 528, true, false),
      h -> Fp8Checks.wgmma(h, 520, 512, 4096, true, false),
      h -> Fp8Checks.wgmma(h, 136, 512, 14336, true, false),
      h -> Fp8Checks.wgmma(h, 640, 8192, 128, true, false),
      h -> Fp8Checks.wgmma(h, 65, 1001, 512, false, false),
      h -> Fp8Checks.wgmma(h, 256, 1024, 4096, true, false),
      h -> Fp8Checks.wgmma(h, 300, 1000, 2048, true, true),
      h -> Fp8Checks.wgmma(h, 256, 1024, 4096, true, false, Fp8Checks.Codes.SUBNORMAL)),
  PAGED_ATTENTION_FP8(
      h -> Fp8Checks.pagedAttention(h, 4, 2, 32, 16, new int[] {1, 17, 300}),
      h -> Fp8Checks.pagedAttention(h, 32, 8, 128, 16, randomContexts(h.random(), 9, 1, 2000)),
      h -> Fp8Checks.pagedAttention(h, 8, 8, 80, 24, new int[] {33, 100})),
  ROPE_KV_APPEND_FP8(
      h -> Fp8CacheChecks.ropeAppend(h, 17, 32, 8, 128, 16, 64),
      h -> Fp8CacheChecks.ropeAppend(h, 5, 8, 8, 64, 32, 16),
      h -> Fp8CacheChecks.ropeAppend(h, 3, 4, 2, 32, 16, 8),
      h -> Fp8CacheChecks.ropeAppend(h, 17, 32, 4, 128, 16, 64, true),
      h -> Fp8CacheChecks.ropeAppend(h, 3, 4, 2, 32, 16, 8, true),
      h -> Fp8CacheChecks.ropeAppend(h, 7, 24, 8, 80, 16, 16, true),
      h -> Fp8CacheChecks.ropeAppend(h, 17, 28, 4, 128, 16, 64, false, true)),
  /** The tensor-core decode attention over FP8 pages: eager and graph, split and persistent. */
  DECODE_ATTENTION_FP8(
      h -> Fp8CacheChecks.decodeAttention(h, false, 32, 8, 128, 16, new int[] {1000}),
      h -> Fp8CacheChecks.decodeAttention(h, true, 32, 8, 128, 16, new int[] {1000}),
      h -> Fp8CacheChecks.decodeAttention(h, false, 32, 8, 128, 16, randomContexts(h.random(), 17, 1, 3000)),
      h -> Fp8CacheChecks.decodeAttention(h, true, 16, 4, 64, 32, randomContexts(h.random(), 17, 1, 3000)),
      h -> Fp8CacheChecks.decodeAttention(h, false, 8, 8, 64, 16, new int[] {1, 63, 64, 65}),
      h -> Fp8CacheChecks.decodeAttention(h, false, 32, 8, 128, 16, new int[] {1000, 37},
          Fp8CacheChecks.SUBNORMAL_SCALE, Fp8CacheChecks.SUBNORMAL_SCALE),
      h -> Fp8CacheChecks.decodeGraph(h, false, 32, 8, 128, 16, randomContexts(h.random(), 9, 1, 2000)),
      h -> Fp8CacheChecks.decodeGraph(h, false, 16, 4, 64, 16, randomContexts(h.random(), 17, 1, 3000)),
      h -> Fp8CacheChecks.decodeGraph(h, true, 32, 8, 128, 16, randomContexts(h.random(), 64, 250, 1100)),
      h -> Fp8CacheChecks.decodeGraph(h, true, 16, 4, 64, 16, randomContexts(h.random(), 17, 1, 3000))),
  /** FP8 weights: dummy projections quantized on the device, and widened to bf16 for prefill. */
  FP8_WEIGHTS(
      h -> Fp8CacheChecks.dummyWeights(h, 0x5eed_1234_abcdL, DummyWeights.tensorId(DummyWeights.Kind.UP_PROJ, 3),
          1000, 528, 0.0271f),
      h -> Fp8CacheChecks.dummyWeights(h, 7L, DummyWeights.tensorId(DummyWeights.Kind.Q_PROJ, 0), 64, 4096, 0.0156f),
      h -> Fp8CacheChecks.dequant(h, 1000, 528),
      h -> Fp8CacheChecks.dequant(h, 6144, 4096)),
  /**
   * The mixture-of-experts router (moe.cu): rows with exact ties, padding rows left alone, 8 to 256
   * experts, a count off the 4-wide vector loads (61: scalar loads), renormalised or not, and the skip
   * flag that leaves a given routing in place.
   */
  MOE_ROUTER(
      h -> MoeChecks.route(h, 1, 0, 8, 2, true),
      h -> MoeChecks.route(h, 17, 7, 8, 2, true),
      h -> MoeChecks.route(h, 128, 0, 128, 8, true),
      h -> MoeChecks.route(h, 33, 3, 61, 4, false),
      h -> MoeChecks.route(h, 5, 0, 256, 8, false)),
  /** Tokens grouped by expert: one and several CTA-wide chunks, capacity drops, padding rows ignored. */
  MOE_PERMUTE(
      h -> MoeChecks.permute(h, 1, 0, 8, 2, 0),
      h -> MoeChecks.permute(h, 128, 8, 8, 2, 0),
      h -> MoeChecks.permute(h, 40, 3, 8, 2, 1.0),
      h -> MoeChecks.permute(h, 300, 0, 128, 8, 1.25),
      h -> MoeChecks.permute(h, 1000, 24, 60, 6, 0)),
  /**
   * The grouped expert GEMMs and the combine: partial output and k tiles (136 x 120), decode batch 1
   * and 64 at Mixtral's hidden size, capacity drops, 128 experts top-8 (with capacity drops too: the
   * listed experts cut the grid below the experts' count), and 50 rows an expert (several
   * passes over each weight tile, as a prefill chunk makes); then the tensor-core kernels (moe_prefill.cu)
   * on partial column, row and k tiles (136 x 120: k off the 32-wide stage), 150 rows at Mixtral's
   * hidden size, capacity drops, and 1000 rows over 16 experts (several row tiles an expert). Then
   * the same kernels as the ranks of an expert-parallel group run them (each rank's experts only, a
   * float32 partial combine each, summed): 2, 4 and 8 ranks (one expert a rank), capacity drops, both
   * GEMM families.
   */
  MOE_EXPERTS(
      h -> MoeChecks.experts(h, 17, 8, 2, 136, 120, 0),
      h -> MoeChecks.experts(h, 1, 8, 2, 4096, 1792, 0),
      h -> MoeChecks.experts(h, 64, 8, 2, 4096, 1792, 0),
      h -> MoeChecks.experts(h, 40, 8, 2, 128, 96, 1.0),
      h -> MoeChecks.experts(h, 4, 128, 8, 1024, 768, 0),
      h -> MoeChecks.experts(h, 2, 128, 8, 1024, 768, 0.5),
      h -> MoeChecks.experts(h, 200, 16, 4, 256, 128, 0),
      h -> MoeChecks.experts(h, 17, 8, 2, 136, 120, 0, true),
      h -> MoeChecks.experts(h, 150, 8, 2, 4096, 1792, 0, true),
      h -> MoeChecks.experts(h, 40, 8, 2, 128, 96, 1.0, true),
      h -> MoeChecks.experts(h, 1000, 16, 4, 256, 200, 0, true),
      h -> MoeExpertParallelChecks.experts(h, 17, 8, 2, 136, 120, 0, 2, false),
      h -> MoeExpertParallelChecks.experts(h, 40, 8, 2, 128, 96, 1.0, 4, false),
      h -> MoeExpertParallelChecks.experts(h, 64, 8, 2, 4096, 1792, 0, 2, false),
      h -> MoeExpertParallelChecks.experts(h, 200, 16, 4, 256, 128, 0, 4, true),
      h -> MoeExpertParallelChecks.experts(h, 150, 8, 2, 136, 120, 1.0, 8, true));

  private final List<Check> checks;

  /** One check: builds its inputs on the harness's GPU, runs, compares, times. */
  @FunctionalInterface
  interface Check {
    CheckResult run(DeviceHarness h);
  }

  KernelFamily(Check... checks) {
    this.checks = List.of(checks);
  }

  /** Empty when this family can run here; else why not, in one line (cuBLASLt absent from the host). */
  public String unavailabilityCause() {
    return this == CUBLASLT_GEMM ? CublasLt.unavailabilityCause() : "";
  }

  /**
   * Empty when this family can run on {@code gpu}; else why not, in one line: the host's cause, or
   * the device's (the wgmma GEMMs off sm_90; it or the second skinny GEMM without the tensor-map shim).
   */
  public String unavailabilityCause(GpuInfo gpu) {
    String host = unavailabilityCause();
    if (!host.isEmpty()) return host;
    if (this == WGMMA_GEMM || this == WGMMA_GEMM_FP8) return WgmmaGemms.unavailabilityCause(gpu);
    if ((this == SKINNY_GEMM_FP8_WGMMA || this == PREFILL_ATTENTION_WGMMA)
        && !WgmmaGemmParams.supports(gpu.computeMajor(), gpu.computeMinor())) {
      return name() + "'s kernel is sm_90a code only; " + gpu.label() + " is " + gpu.arch();
    }
    if (this == PREFILL_ATTENTION_WGMMA && !TensorMaps.isAvailable()) return TensorMaps.unavailabilityCause();
    return this == SKINNY2_GEMM || this == SKINNY2_GEMM_FP8 || this == SKINNY2_GEMM_FP8X8
        ? Skinny2Gemms.unavailabilityCause() : "";
  }

  /**
   * Runs this family's checks on {@code h}'s GPU. A check that throws becomes a failed row naming
   * the error; each check's buffers are freed either way.
   */
  public List<CheckResult> run(DeviceHarness h) {
    List<CheckResult> out = new ArrayList<>();
    for (Check c : checks) {
      try {
        out.add(c.run(h));
      } catch (RuntimeException e) {
        out.add(CheckResult.crashed(name().toLowerCase(Locale.ROOT), "-", e));
      } finally {
        try {
          h.freeAll();
        } catch (RuntimeException e) {
          out.add(CheckResult.crashed(name().toLowerCase(Locale.ROOT), "(free)", e));
        }
      }
    }
    return out;
  }

  static int[] randomContexts(Random r, int batch, int min, int max) {
    int[] c = new int[batch];
    for (int i = 0; i < batch; i++) {
      c[i] = min + r.nextInt(max - min + 1);
    }
    return c;
  }
}
