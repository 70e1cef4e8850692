package io.decodefleet.agent.backend.cuda;

import io.decodefleet.agent.backend.cuda.driver.CudaContext;
import io.decodefleet.agent.backend.cuda.driver.CudaStream;
import io.decodefleet.agent.backend.cuda.driver.DeviceBuffer;
import io.decodefleet.agent.backend.cuda.driver.KernelModule;
import io.decodefleet.agent.backend.cuda.gemm.CublasLtGemms;
import io.decodefleet.agent.backend.cuda.gemm.GemmChoice;
import io.decodefleet.agent.backend.cuda.gemm.GemmShape;
import io.decodefleet.agent.backend.cuda.gemm.Skinny2Gemms;
import io.decodefleet.agent.engine.ModelConfig;
import io.decodefleet.kernels.cuda.Fp8QuantizeRowsParams;
import io.decodefleet.kernels.cuda.Kernel;

/**
 * The projections of an fp8-dynamic model ({@code --quantization fp8-dynamic}, {@link
 * io.decodefleet.agent.engine.ModelLoad#fp8Activations}): each projection's input rows are quantized to FP8
 * e4m3 per token (df_fp8_quantize_rows: a scale per row, its largest magnitude over 448), then one
 * cuBLASLt FP8 x FP8 GEMM with float32 accumulation scales output (i, j) by row i's scale and weight row j's
 * ({@link CublasLtGemms#launchFp8}, outer-vector scaling). One row runs the GEMV that quantizes its row in each
 * CTA instead ({@code df_gemv_fp8x8_mma_m1}: the same codes and scale, e4m3 x e4m3 MMAs) where it fits ({@link
 * #gemvRuns}); the layer stack may hand that GEMV the norm in front and SwiGLU behind as well. Scales are per
 * token, so a token's numbers do not depend on what else is in its step (up to the order of float32 additions);
 * the CPU backend quantizes the same rows the same way ({@code Fp8E4m3.quantizeRows}).
 *
 * <p>Each launch takes the heuristic's first algorithm for its shape. The codes and scales of one
 * projection's input live in a buffer of this class, reused by the next projection (one stream).
 */
final class Fp8Activations implements AutoCloseable {

  private final KernelModule kernels;
  private final CudaStream stream;
  private final CublasLtGemms lt;
  private final Fp8Gemv gemv;
  private final DeviceBuffer buffer; // (rows, maxK) codes, then (rows) float32 scales
  private final long scalesAt;
  private final int rows;
  private final int maxK;

  private Fp8Activations(KernelModule kernels, CudaStream stream, CublasLtGemms lt, Fp8Gemv gemv, DeviceBuffer buffer,
      int rows, int maxK) {
    this.kernels = kernels;
    this.stream = stream;
    this.lt = lt;
    this.gemv = gemv;
    this.buffer = buffer;
    this.rows = rows;
    this.maxK = maxK;
    this.scalesAt = buffer.address((long) rows * maxK);
  }

  /**
   * The FP8 x FP8 projections of a model of up to {@code rows} tokens a step, or a clear refusal: they need
   * cuBLASLt ({@code lt} null: not loaded here, or {@code --gemm ours}) and its FP8 GEMM on this device
   * (FP8 tensor cores, CUDA 12.9's outer-vector scales), checked on the model's qkv shape.
   */
  static Fp8Activations open(CudaContext ctx, KernelModule kernels, CudaStream stream, ModelConfig c, int rows,
      CublasLtGemms lt, Fp8Gemv gemv) {
    String gpu = ctx.gpu().label();
    if (lt == null) {
      throw new IllegalStateException("quantization fp8-dynamic on " + gpu + " runs its FP8 x FP8 GEMMs on cuBLASLt,"
          + " which this engine does not use here (" + CublasLtGemms.describe() + "; or --gemm ours)");
    }
    int maxK = Math.max(c.hiddenSize(), Math.max(c.qSize(), c.isMoe() ? 0 : c.intermediateSize()));
    int qkvWidth = c.qSize() + 2 * c.kvSize();
    if (lt.fp8Algorithms(new GemmShape(1, qkvWidth, c.hiddenSize(), qkvWidth, false)) == 0) {
      throw new IllegalStateException("quantization fp8-dynamic: " + CublasLtGemms.describe() + " has no FP8 x FP8"
          + " GEMM with per-row scales on " + gpu + " (it needs FP8 tensor cores, sm_89 and later, and cuBLASLt"
          + " 12.9 or later)");
    }
    DeviceBuffer buffer = ctx.allocate((long) rows * maxK + 4L * rows);
    return new Fp8Activations(kernels, stream, lt, gemv, buffer, rows, maxK);
  }

  /**
   * Whether a projection of {@code m} rows, {@code n} output rows and depth {@code k} over x and the codes w runs
   * the one-row GEMV that quantizes its row itself (one row, the tensor-core GEMV's shapes, 16-byte aligned).
   */
  static boolean gemvRuns(int m, int n, int k, long x, long w) {
    return Fp8Gemv.mmaRuns(true, m, n, k, Skinny2Gemms.aligned(x, w));
  }

  /**
   * out (m, n), rows {@code stride} apart, bf16 or float32 = quantize(x) · wᵀ, x (m, k) bf16 contiguous, w (n, k)
   * e4m3 codes with (n) float32 row scales at {@code wScales}.
   */
  void project(long out, int stride, long x, long w, long wScales, int m, int n, int k, boolean outFloat) {
    if (!outFloat && gemvRuns(m, n, k, x, w)) { // the GEMV writes bf16 only
      gemv.project(out, stride, x, null, false, w, wScales, n, k, GemmChoice.Kernel.GEMV_FP8X8_MMA);
      return;
    }
    if (m > rows || k > maxK) {
      throw new IllegalArgumentException("an FP8 projection of " + m + " rows of " + k + " exceeds the " + rows
          + " x " + maxK + " this model's steps were sized for");
    }
    Fp8QuantizeRowsParams q = new Fp8QuantizeRowsParams(buffer.address(), scalesAt, x, m, k, k);
    kernels.launch(Kernel.FP8_QUANTIZE_ROWS, q.launch(), q, stream);
    lt.launchFp8(new GemmShape(m, n, k, stride, outFloat), 0, out, buffer.address(), scalesAt, w, wScales);
  }

  @Override
  public void close() {
    buffer.close();
  }
}
