package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class BatchBucketsTest {
  @Test
  void batchesArePaddedToTheSmallestBucketThatHoldsThem() {
    int[][] cases = {{1, 1}, {2, 2}, {3, 4}, {5, 8}, {9, 16}, {17, 24}, {25, 32}, {33, 48}, {48, 48}, {49, 64},
        {256, 256}, {257, 272}};
    for (int[] c : cases) assertEquals(c[1], BatchBuckets.bucketOf(c[0]), "batch " + c[0]);
  }

  @Test
  void emptyBatchHasNoBucket() {
    assertThrows(IllegalArgumentException.class, () -> BatchBuckets.bucketOf(0));
  }
}
