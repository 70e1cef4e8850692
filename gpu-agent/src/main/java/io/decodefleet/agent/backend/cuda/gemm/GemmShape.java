package io.decodefleet.agent.backend.cuda.gemm;

/**
 * One projection launch as the dispatch sees it: y[m, n] = x[m, k] · w[n, k]ᵀ, y rows {@code
 * stride} elements apart, y bf16 or float32 ({@code outFloat}: tensor-parallel partial sums).
 */
public record GemmShape(int m, int n, int k, int stride, boolean outFloat) {

  public GemmShape {
    if (m < 1 || n < 1 || k < 1 || stride < n) {
      throw new IllegalArgumentException("GEMM shape m " + m + ", n " + n + ", k " + k + ", stride " + stride
          + ": sizes must be at least 1 and the stride at least n");
    }
  }

  /** The same projection at another row count. */
  public GemmShape withRows(int rows) {
    return new GemmShape(rows, n, k, stride, outFloat);
  }

  /** FLOPs of one launch (2·m·n·k). */
  public double flops() {
    return 2.0 * m * n * k;
  }

  /** Bytes a launch must move at least: x and w read once (bf16), y written once. */
  public long minBytes() {
    return 2L * m * k + 2L * n * k + (outFloat ? 4L : 2L) * m * n;
  }

  @Override
  public String toString() {
    return m + "x" + n + "x" + k + (stride != n ? " stride " + stride : "") + (outFloat ? " f32-out" : "");
  }
}
