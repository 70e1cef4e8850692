package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.decodefleet.agent.engine.BatchBuckets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which decode graphs are captured, in which order, and which one a batch replays. */
class DecodeGraphsTest {

  @Test
  void bucketsUpToTheMaxBatchAreCapturedLargestFirst() {
    assertEquals(List.of(64, 48, 32, 24, 16, 8, 4, 2, 1), DecodeGraphs.bucketsLargestFirst(64));
    assertEquals(List.of(1), DecodeGraphs.bucketsLargestFirst(1));
    assertEquals(List.of(4, 2, 1), DecodeGraphs.bucketsLargestFirst(3));
    // 40 is not a bucket: the graph that holds a batch of 40 is 48's.
    assertEquals(48, DecodeGraphs.bucketsLargestFirst(40).get(0));
    List<Integer> all = DecodeGraphs.bucketsLargestFirst(256);
    assertEquals(7 + 14, all.size(), "1..32 (7 buckets), then 48..256 in steps of 16");
    assertThrows(IllegalArgumentException.class, () -> DecodeGraphs.bucketsLargestFirst(0));
  }

  @Test
  void everyBatchUpToTheMaxReplaysACapturedBucketThatHoldsIt() {
    List<Integer> captured = DecodeGraphs.bucketsLargestFirst(100);
    for (int batch = 1; batch <= 100; batch++) {
      int bucket = BatchBuckets.bucketOf(batch);
      assertEquals(true, captured.contains(bucket) && bucket >= batch, "batch " + batch + " -> bucket " + bucket);
    }
  }

  @Test
  void settingsKeepTheWorkspaceAtLeastAsLargeAsTheLargestBucket() {
    CudaSettings s = CudaSettings.defaults().withMaxGraphBatch(40).withMaxStepTokens(48);
    assertEquals(48, s.graphBucketLimit());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CudaSettings.defaults().withMaxGraphBatch(40).withMaxStepTokens(47));
    assertEquals("CUDA backend settings: max step tokens (47) must be >= the largest graph bucket (48)",
        e.getMessage());
    assertEquals(256, CudaSettings.defaults().logitsRows(), "a graph's whole bucket fits one LM-head group");
  }
}
