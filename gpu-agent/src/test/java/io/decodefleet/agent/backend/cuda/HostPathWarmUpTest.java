package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.BatchBuckets;
import io.decodefleet.agent.engine.ForwardBatch;
import io.decodefleet.kernels.cuda.DecodeAttentionPlan;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The load-time warm-up of a graph step's host part: real decode batches, within the staging layout. */
class HostPathWarmUpTest {

  @Test
  void madeUpBatchesAreDecodeStepsOfDistinctBlocks() {
    Random random = new Random(3);
    for (int rows : new int[] {1, 24, 256}) {
      ForwardBatch b = HostPathWarmUp.batch(rows, 16, 300, random);
      assertEquals(rows, b.numTokens());
      assertEquals(rows, b.numSampled());
      Set<Integer> blocks = new HashSet<>();
      for (int r = 0; r < rows; r++) {
        int context = b.contextLens()[r];
        assertTrue(context >= 1 && context <= 300, "context " + context);
        assertEquals(context - 1, b.positions()[r]);
        int[] table = b.blockTables()[r];
        assertEquals((context + 15) / 16, table.length);
        for (int block : table) assertTrue(blocks.add(block), "block " + block + " in two tables");
        assertEquals(table[(context - 1) / 16] * 16 + (context - 1) % 16, b.slotMapping()[r]);
      }
    }
  }

  /** As StepRunner#warmHostPath stages them: every bucket, every step, into a layout of 8 blocks a table. */
  @Test
  void everyBucketIsStagedAsAGraphStepWithinTheLayoutsTableStride() {
    int blockSize = 16;
    int maxBlocks = 8;
    int kvHeads = 8;
    int slots = 264;
    List<Integer> buckets = DecodeGraphs.bucketsLargestFirst(64);
    int items = DecodeAttentionPlan.maxItems(64, kvHeads, slots);
    StepInputs layout = new StepInputs(64, 64, 0, 0, 64, items, 64L * maxBlocks);
    ByteBuffer staging = ByteBuffer.allocateDirect(Math.toIntExact(layout.capacityBytes())).order(ByteOrder.LITTLE_ENDIAN);
    List<Integer> staged = new ArrayList<>();
    HostPathWarmUp.run(buckets, blockSize, maxBlocks, 3, batch -> {
      StepPlan plan = StepPlan.of(batch, blockSize, true);
      assertTrue(plan.decodeOnly() && plan.tableStride() <= maxBlocks, "stride " + plan.tableStride());
      int bucket = BatchBuckets.bucketOf(plan.rows());
      long bytes = layout.write(staging, batch, plan, bucket, true, plan.tableStride(),
          DecodeAttentionPlan.plan(StepPlan.paddedContexts(batch, 0, bucket), kvHeads, slots));
      assertTrue(bytes > 0 && bytes <= layout.capacityBytes());
      staged.add(bucket);
    });
    List<Integer> expected = new ArrayList<>();
    for (int step = 0; step < 3; step++) expected.addAll(buckets);
    assertArrayEquals(expected.stream().mapToInt(Integer::intValue).toArray(),
        staged.stream().mapToInt(Integer::intValue).toArray());
  }
}
