package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.kernels.cuda.Bf16;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Why fp8-dynamic cannot hold two implementations to the bf16 tolerance: activations that differ by one
 * bf16 rounding (a bf16 device beside the float32 reference) are quantized per token to e4m3, whose code
 * step is 2^-3 relative where a bf16 step is 2^-8, so wherever a value sits near the midpoint of two codes,
 * or the row's largest magnitude (its scale) moves, the two sides hand the GEMM different codes. Through a
 * chain of projections (each x → RMS-normalised → quantized → x · Wᵀ) the outputs move many times further
 * than the same rounding moves them without the quantization. This is the mechanism behind parity's
 * fp8-dynamic bound (ParityCheck.FP8_DYNAMIC_TOLERANCE).
 */
class Fp8DynamicAmplificationTest {

  @Test
  void aBf16RoundingOfTheInputMovesAQuantizedChainManyTimesFurtherThanAPlainOne() {
    Random r = new Random(23);
    int rows = 16;
    int width = 512;
    int depth = 4;
    float[][] w = new float[depth][];
    for (int l = 0; l < depth; l++) w[l] = gaussian(r, width * width, 1.0 / Math.sqrt(width));
    float[] x = gaussian(r, rows * width, 1.0);
    float[] xRounded = x.clone();
    for (int i = 0; i < xRounded.length; i++) xRounded[i] = Bf16.round(xRounded[i]);

    double plain = relL2(chain(x, w, rows, width, false), chain(xRounded, w, rows, width, false));
    double quantized = relL2(chain(x, w, rows, width, true), chain(xRounded, w, rows, width, true));
    System.out.printf(Locale.ROOT, "one bf16 rounding of the input, %d projections of %d: plain %.2e, "
        + "activations quantized per token %.2e (%.0fx)%n", depth, width, plain, quantized, quantized / plain);
    assertTrue(quantized > 10 * plain, "quantized " + quantized + " against plain " + plain);
    assertTrue(quantized > 5e-3, "the quantized chain moved only " + quantized);
  }

  /** depth projections: each row RMS-normalised, quantized per token (or not), times Wᵀ. */
  private static float[] chain(float[] x0, float[][] w, int rows, int width, boolean quantize) {
    float[] x = x0.clone();
    for (float[] layer : w) {
      for (int i = 0; i < rows; i++) {
        double ss = 0;
        for (int j = 0; j < width; j++) ss += x[i * width + j] * (double) x[i * width + j];
        float inv = (float) (1 / Math.sqrt(ss / width + 1e-5));
        for (int j = 0; j < width; j++) x[i * width + j] *= inv;
      }
      if (quantize) Fp8E4m3.quantizeRows(x, rows, width, width);
      float[] y = new float[rows * width];
      Matmul.matmulTransposed(x, layer, rows, width, width, y);
      x = y;
    }
    return x;
  }

  private static float[] gaussian(Random r, int n, double std) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * std);
    return v;
  }

  private static double relL2(float[] a, float[] b) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < a.length; i++) {
      num += (a[i] - b[i]) * (double) (a[i] - b[i]);
      den += b[i] * (double) b[i];
    }
    return Math.sqrt(num / den);
  }
}
