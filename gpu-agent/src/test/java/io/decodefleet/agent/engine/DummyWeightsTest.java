package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DummyWeightsTest {
  private static final long T = DummyWeights.tensorId(DummyWeights.Kind.Q_PROJ, 3);

  @Test
  void uniformIsInMinusOneToOneAndCoversTheRange() {
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    double sum = 0;
    int n = 200_000;
    int[] buckets = new int[8];
    for (int i = 0; i < n; i++) {
      float u = DummyWeights.uniform(42, T, i);
      assertTrue(u >= -1f && u < 1f, "out of [-1, 1): " + u + " at index " + i);
      min = Math.min(min, u);
      max = Math.max(max, u);
      sum += u;
      buckets[(int) ((u + 1f) * 4f)]++;
    }
    assertTrue(min < -0.999f, "min " + min);
    assertTrue(max > 0.999f, "max " + max);
    assertEquals(0.0, sum / n, 0.01, "mean of a symmetric uniform");
    for (int b : buckets) assertEquals(n / 8.0, b, n / 8.0 * 0.05, "bucket counts of a uniform");
  }

  @Test
  void uniformIsExactlyRepresentableWith24Bits() {
    for (int i = 0; i < 10_000; i++) {
      float u = DummyWeights.uniform(7, T, i);
      float scaled = u * (1 << 23);
      assertEquals(Math.rint(scaled), scaled, 0.0, "not a multiple of 2^-23: " + u);
    }
  }

  @Test
  void uniformIsDeterministic() {
    for (int i = 0; i < 1000; i++) {
      assertEquals(Float.floatToRawIntBits(DummyWeights.uniform(99, T, i)),
          Float.floatToRawIntBits(DummyWeights.uniform(99, T, i)));
    }
    float[] a = new float[4096];
    float[] b = new float[4096];
    DummyWeights.fill(a, 5, T, 0.5f, 1f);
    DummyWeights.fill(b, 5, T, 0.5f, 1f);
    assertTrue(java.util.Arrays.equals(a, b));
  }

  @Test
  void uniformDiffersAcrossSeedTensorAndIndex() {
    long otherTensor = DummyWeights.tensorId(DummyWeights.Kind.K_PROJ, 3);
    long otherLayer = DummyWeights.tensorId(DummyWeights.Kind.Q_PROJ, 4);
    int n = 2000;
    int sameSeed = 0;
    int sameTensor = 0;
    int sameLayer = 0;
    int sameNeighbour = 0;
    for (int i = 0; i < n; i++) {
      float u = DummyWeights.uniform(1, T, i);
      if (u == DummyWeights.uniform(2, T, i)) sameSeed++;
      if (u == DummyWeights.uniform(1, otherTensor, i)) sameTensor++;
      if (u == DummyWeights.uniform(1, otherLayer, i)) sameLayer++;
      if (u == DummyWeights.uniform(1, T, i + 1)) sameNeighbour++;
    }
    // Independent 24-bit values collide with probability 2^-24 each.
    assertTrue(sameSeed <= 1, "seed has no effect: " + sameSeed);
    assertTrue(sameTensor <= 1, "tensor kind has no effect: " + sameTensor);
    assertTrue(sameLayer <= 1, "layer has no effect: " + sameLayer);
    assertTrue(sameNeighbour <= 1, "index has no effect: " + sameNeighbour);
  }

  @Test
  void tensorIdsAreDistinctForEveryKindAndLayer() {
    Set<Long> ids = new HashSet<>();
    for (int layer = -1; layer < 128; layer++) {
      for (DummyWeights.Kind kind : DummyWeights.Kind.values()) {
        assertTrue(ids.add(DummyWeights.tensorId(kind, layer)), kind + " of layer " + layer);
      }
    }
  }

  @Test
  void fillAppliesScaleAndOffsetToTheUniform() {
    float[] out = new float[1000];
    DummyWeights.fill(out, 11, T, 0.25f, 3f);
    for (int i = 0; i < out.length; i++) {
      assertEquals(3f + 0.25f * DummyWeights.uniform(11, T, i), out[i], 0f);
      assertTrue(out[i] >= 2.75f && out[i] < 3.25f);
    }
  }
}
