package io.decodefleet.kernels.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MatmulTest {

  /** out[i][j] = sum_k x[i][k] * w[j][k], in double, one term at a time. */
  private static double[] naive(float[] x, float[] w, int m, int n, int k) {
    double[] out = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0.0;
        for (int p = 0; p < k; p++) {
          s += (double) x[i * k + p] * w[j * k + p];
        }
        out[i * n + j] = s;
      }
    }
    return out;
  }

  @ParameterizedTest(name = "m={0} n={1} k={2}")
  @CsvSource({
    "1, 37, 37", "3, 37, 37", "17, 37, 37", "3, 5, 1", "1, 1, 7", "3, 11, 8", "17, 40, 129",
    // k large enough that the column blocking splits n into several blocks
    "3, 70, 2051",
  })
  void matchesTheDoubleFormula(int m, int n, int k) {
    Random random = new Random(m * 1000 + n * 10 + k);
    float[] x = Closeness.uniform(random, m * k, 1f);
    float[] w = Closeness.uniform(random, n * k, 1f);
    float[] out = new float[m * n];

    Matmul.matmulTransposed(x, w, m, n, k, out);

    // Terms are in [-1, 1]; float32 accumulation error grows roughly with sqrt(k).
    double atol = 1e-6 * Math.sqrt(k) * 4;
    Closeness.assertClose("x·wᵀ", naive(x, w, m, n, k), out, atol, 1e-6);
  }

  @ParameterizedTest(name = "m={0} n={1} k={2}")
  @CsvSource({"17, 37, 37", "9, 13, 1031", "33, 70, 2051", "5, 3, 7"})
  void eachRowIsBitIdenticalAloneOrInABatch(int m, int n, int k) {
    Random random = new Random(42 + k);
    // Wide dynamic range makes any change of summation order visible in the low bits.
    float[] x = Closeness.gaussian(random, m * k, 10.0);
    float[] w = Closeness.gaussian(random, n * k, 0.1);
    float[] batched = new float[m * n];
    Matmul.matmulTransposed(x, w, m, n, k, batched);

    for (int i = 0; i < m; i++) {
      float[] row = Arrays.copyOfRange(x, i * k, (i + 1) * k);
      float[] alone = new float[n];
      Matmul.matmulTransposed(row, w, 1, n, k, alone);
      for (int j = 0; j < n; j++) {
        float inBatch = batched[i * n + j];
        if (Float.floatToRawIntBits(alone[j]) != Float.floatToRawIntBits(inBatch)) {
          throw new AssertionError("row " + i + ", column " + j + ": alone " + alone[j]
              + " but in a batch of " + m + " " + inBatch + " (difference "
              + Math.abs(alone[j] - inBatch) + ")");
        }
      }
    }
  }

  @Test
  void rowsOfASubBatchMatchTheFullBatchBitForBit() {
    int m = 17;
    int n = 37;
    int k = 300;
    Random random = new Random(9);
    float[] x = Closeness.gaussian(random, m * k, 1.0);
    float[] w = Closeness.gaussian(random, n * k, 1.0);
    float[] full = new float[m * n];
    Matmul.matmulTransposed(x, w, m, n, k, full);

    // Rows 5..7 computed as a batch of 3 starting at a different row parity.
    float[] sub = Arrays.copyOfRange(x, 5 * k, 8 * k);
    float[] subOut = new float[3 * n];
    Matmul.matmulTransposed(sub, w, 3, n, k, subOut);

    for (int i = 0; i < 3 * n; i++) {
      assertEquals(Float.floatToRawIntBits(full[5 * n + i]), Float.floatToRawIntBits(subOut[i]),
          "element " + i + " of rows 5..7");
    }
  }

  @ParameterizedTest(name = "k={0}")
  @CsvSource({"37", "1031", "70000"})
  void eachColumnIsBitIdenticalWhateverOtherColumnsAreComputed(int k) {
    // Dropping the first weight row shifts which columns are computed together (and, for the
    // largest k, where the cache blocks split); no output may change by even one bit.
    int m = 3;
    int n = 7;
    Random random = new Random(k);
    float[] x = Closeness.gaussian(random, m * k, 10.0);
    float[] w = Closeness.gaussian(random, n * k, 0.1);
    float[] all = new float[m * n];
    Matmul.matmulTransposed(x, w, m, n, k, all);

    float[] rest = new float[m * (n - 1)];
    Matmul.matmulTransposed(x, Arrays.copyOfRange(w, k, n * k), m, n - 1, k, rest);

    for (int i = 0; i < m; i++) {
      for (int j = 1; j < n; j++) {
        assertEquals(Float.floatToRawIntBits(all[i * n + j]),
            Float.floatToRawIntBits(rest[i * (n - 1) + j - 1]), "row " + i + ", column " + j);
      }
    }
  }

  @Test
  void aWeightLargeEnoughForThreadsGivesEachColumnsOwnDotProduct() {
    // 4100 x 4096 floats is past ColumnBlocks' threshold; 4100 is no multiple of the block, so
    // the last block is short. Every output must be the one-thread dot product, bit for bit.
    int m = 2;
    int n = 4100;
    int k = 4096;
    assertTrue((long) n * k >= ColumnBlocks.MIN_WEIGHT_ELEMENTS);
    Random random = new Random(7);
    float[] x = Closeness.gaussian(random, m * k, 1.0);
    float[] w = Closeness.gaussian(random, n * k, 0.1);
    float[] out = new float[m * n];
    Matmul.matmulTransposed(x, w, m, n, k, out);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        assertEquals(Float.floatToRawIntBits(Dot.dot(x, i * k, w, j * k, k)),
            Float.floatToRawIntBits(out[i * n + j]), "row " + i + ", column " + j);
      }
    }
  }

  @Test
  void threadedBlocksCoverEveryColumnOnce() {
    int n = 1001;
    java.util.concurrent.atomic.AtomicIntegerArray seen = new java.util.concurrent.atomic.AtomicIntegerArray(n);
    ColumnBlocks.forEach(n, 16, true, (j0, j1) -> {
      for (int j = j0; j < j1; j++) {
        seen.incrementAndGet(j);
      }
    });
    for (int j = 0; j < n; j++) {
      assertEquals(1, seen.get(j), "column " + j);
    }
    assertTrue(!ColumnBlocks.worthThreads(64, 1024, 128), "a tiny model's projection stays on one thread");
  }

  @Test
  void emptyInnerDimensionGivesZeros() {
    float[] out = {1f, 2f, 3f, 4f, 5f, 6f};
    Matmul.matmulTransposed(new float[0], new float[0], 2, 3, 0, out);
    Closeness.assertClose("k=0", new double[6], out, 0.0, 0.0);
  }

  @Test
  void rejectsTooShortArraysNamingTheParameter() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Matmul.matmulTransposed(new float[6], new float[5], 2, 2, 3, new float[4]));
    assertTrue(e.getMessage().startsWith("w "), e.getMessage());
    IllegalArgumentException o = assertThrows(IllegalArgumentException.class,
        () -> Matmul.matmulTransposed(new float[6], new float[6], 2, 2, 3, new float[3]));
    assertTrue(o.getMessage().startsWith("out "), o.getMessage());
  }
}
