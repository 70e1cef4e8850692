package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class DecodeAttentionPlanTest {

  private static final int H200_SLOTS = 132 * 2;

  @Test
  void workListCoversEverySequenceHeadAndChunkExactlyOnceAndChunksTileEachContext() {
    Random rnd = new Random(7);
    for (int trial = 0; trial < 300; trial++) {
      int batch = 1 + rnd.nextInt(trial % 3 == 0 ? 300 : 20);
      int kvHeads = 1 + rnd.nextInt(8);
      int slots = 8 + rnd.nextInt(600);
      int[] ctx = new int[batch];
      for (int s = 0; s < batch; s++) {
        ctx[s] = 1 + rnd.nextInt(rnd.nextBoolean() ? 100 : 20000);
      }
      DecodeAttentionPlan plan = DecodeAttentionPlan.plan(ctx, kvHeads, slots);
      checkCoverage(plan, ctx, kvHeads);
    }
  }

  @Test
  void splitsOnlyAsFarAsTheSlotsAllowAndNeverWhenPairsAlreadyFillThem() {
    // batch 64 x 8 kv heads = 512 pairs >= 264 slots: one chunk per sequence.
    DecodeAttentionPlan big = DecodeAttentionPlan.plan(filled(64, 16384), 8, H200_SLOTS);
    assertEquals(512, big.numItems());
    assertFalse(big.needsCombine());
    assertEquals(16384, big.chunkTokens());

    // batch 1 x context 16384: the smallest chunk with 8 x chunks <= 264 is 512 (32 chunks).
    DecodeAttentionPlan one = DecodeAttentionPlan.plan(filled(1, 16384), 8, H200_SLOTS);
    assertEquals(512, one.chunkTokens());
    assertEquals(256, one.numItems());
    assertTrue(one.needsCombine());

    // batch 8 x 16384: 4 chunks of 4096 (256 items); 5 chunks would be 320 > 264.
    DecodeAttentionPlan eight = DecodeAttentionPlan.plan(filled(8, 16384), 8, H200_SLOTS);
    assertEquals(4096, eight.chunkTokens());
    assertEquals(256, eight.numItems());
  }

  @Test
  void chunkIsTheSmallestMultipleOf64ThatFits() {
    Random rnd = new Random(11);
    for (int trial = 0; trial < 200; trial++) {
      int batch = 1 + rnd.nextInt(6);
      int kvHeads = 1 + rnd.nextInt(8);
      int slots = batch * kvHeads + 1 + rnd.nextInt(400);
      int[] ctx = new int[batch];
      for (int s = 0; s < batch; s++) {
        ctx[s] = 1 + rnd.nextInt(9000);
      }
      DecodeAttentionPlan plan = DecodeAttentionPlan.plan(ctx, kvHeads, slots);
      int c = plan.chunkTokens();
      assertEquals(0, c % 64);
      assertTrue(plan.numItems() <= slots, "items " + plan.numItems() + " > slots " + slots);
      if (c > 64) {
        assertTrue(items(ctx, kvHeads, c - 64) > slots, "a smaller chunk would also fit");
      }
    }
  }

  @Test
  void longestChunksComeFirst() {
    DecodeAttentionPlan plan = DecodeAttentionPlan.plan(new int[] {100, 1000, 130}, 2, 64);
    int[] items = plan.workItems();
    int[] ctx = {100, 1000, 130};
    int previous = Integer.MAX_VALUE;
    for (int i = 0; i < plan.numItems(); i++) {
      int len = Math.min(plan.chunkTokens(), ctx[items[4 * i]] - items[4 * i + 2] * plan.chunkTokens());
      assertTrue(len <= previous, "item " + i + " is longer than the one before it");
      previous = len;
    }
  }

  @Test
  void theWorkListIsTheNaturalListStablySortedLongestFirst() {
    // The list is built without sorting every item; it must be exactly what a stable sort of the natural
    // (seq, chunk, kvHead) list by length, longest first, gives, whatever the contexts and the split.
    java.util.Random random = new java.util.Random(11);
    for (int trial = 0; trial < 300; trial++) {
      int[] ctx = new int[1 + random.nextInt(40)];
      for (int s = 0; s < ctx.length; s++) {
        ctx[s] = random.nextBoolean() ? 64 * (1 + random.nextInt(40)) : 1 + random.nextInt(3000);
      }
      int kvHeads = 1 + random.nextInt(8);
      DecodeAttentionPlan plan = DecodeAttentionPlan.plan(ctx, kvHeads, 1 + random.nextInt(600));
      int chunk = plan.chunkTokens();
      java.util.List<int[]> natural = new java.util.ArrayList<>();
      for (int s = 0; s < ctx.length; s++) {
        for (int c = 0; c * chunk < ctx[s]; c++) {
          for (int h = 0; h < kvHeads; h++) natural.add(new int[] {s, h, c, Math.min(chunk, ctx[s] - c * chunk)});
        }
      }
      natural.sort((a, b) -> Integer.compare(b[3], a[3]));
      int[] items = plan.workItems();
      assertEquals(natural.size(), plan.numItems(), "trial " + trial);
      for (int i = 0; i < natural.size(); i++) {
        int[] want = natural.get(i);
        assertArrayEquals(new int[] {want[0], want[1], want[2], 0},
            java.util.Arrays.copyOfRange(items, 4 * i, 4 * i + 4), "trial " + trial + ", item " + i);
      }
    }
  }

  @Test
  void pairsThatFillTheSlotsAreCutWhereThatEvensOutTheWaves() {
    // 512 pairs of 16384 on 396 slots (three CTAs an SM): whole sequences run as a full wave and a
    // third of one (2 x 256 stages); two chunks give 3 waves of 128 stages, three chunks (5504) 4 waves
    // of 86; four (2048 items) would pass 4 x 396.
    DecodeAttentionPlan fp8 = DecodeAttentionPlan.plan(filled(64, 16384), 8, 396);
    assertEquals(5504, fp8.chunkTokens());
    assertEquals(1536, fp8.numItems());
    assertTrue(fp8.needsCombine());
    assertEquals(1536, fp8.numPartials());
    assertEquals(1584, DecodeAttentionPlan.maxItems(64, 8, 396));
    // Two waves that are nearly full stay whole (512 pairs on 264 slots), and so do pairs past 4 x the slots.
    assertEquals(16384, DecodeAttentionPlan.plan(filled(64, 16384), 8, 264).chunkTokens());
    assertEquals(1024, DecodeAttentionPlan.plan(filled(256, 1024), 8, 396).chunkTokens());
    assertEquals(2048, DecodeAttentionPlan.maxItems(256, 8, 396));
    // A context of one stage cannot be cut.
    assertEquals(64, DecodeAttentionPlan.plan(filled(64, 40), 8, 396).chunkTokens());
    assertEquals(396, DecodeAttentionPlan.maxItems(8, 8, 396), "fewer pairs than slots: at most the slots");
  }

  @Test
  void noPlanHoldsMoreItemsThanItsBoundNorMorePartialsThanFourTimesTheSlots() {
    Random rnd = new Random(11);
    for (int trial = 0; trial < 2000; trial++) {
      int batch = 1 + rnd.nextInt(300);
      int kvHeads = 1 + rnd.nextInt(8);
      int slots = 8 + rnd.nextInt(600);
      int[] ctx = new int[batch];
      int top = 1 + rnd.nextInt(20000);
      for (int s = 0; s < batch; s++) ctx[s] = 1 + rnd.nextInt(top);
      DecodeAttentionPlan plan = DecodeAttentionPlan.plan(ctx, kvHeads, slots);
      assertTrue(plan.numItems() <= DecodeAttentionPlan.maxItems(batch, kvHeads, slots), "items");
      assertTrue(plan.numPartials() <= DecodeAttentionPlan.MAX_WAVE_SPLITS * slots, "partials");
      checkCoverage(plan, ctx, kvHeads);
    }
  }

  @Test
  void singleChunkSequencesHaveNoPartialSlots() {
    DecodeAttentionPlan plan = DecodeAttentionPlan.plan(new int[] {5000, 10}, 1, 8);
    int[] base = plan.partialBase();
    assertEquals(-1, base[1], "a 10-position context is one chunk");
    assertEquals(0, base[0]);
    assertEquals(plan.numPartials(), (5000 + plan.chunkTokens() - 1) / plan.chunkTokens());
  }

  @Test
  void launchShapesFollowThePlan() {
    DecodeAttentionPlan plan = DecodeAttentionPlan.plan(filled(3, 777), 4, 50);
    assertEquals(plan.numItems(), plan.splitLaunch(Kernel.DECODE_ATTENTION_D128).gridX());
    assertEquals(98304, plan.splitLaunch(Kernel.DECODE_ATTENTION_D128).sharedBytes());
    LaunchShape combine = plan.combineLaunch(Kernel.DECODE_ATTENTION_COMBINE_D128);
    assertEquals(4, combine.gridX());
    assertEquals(3, combine.gridY());
    assertEquals(Math.min(50, plan.numItems()),
        plan.persistentLaunch(Kernel.DECODE_ATTENTION_PERSISTENT_D128, 50).gridX());
    assertEquals(2 + 3 * 4, plan.counterCount());
  }

  @Test
  void persistentScheduleRunsEveryItemOnceOnAnyGrid() {
    Random rnd = new Random(5);
    for (int trial = 0; trial < 200; trial++) {
      int[] ctx = new int[1 + rnd.nextInt(80)];
      for (int s = 0; s < ctx.length; s++) {
        ctx[s] = 1 + rnd.nextInt(9000);
      }
      DecodeAttentionPlan plan = DecodeAttentionPlan.plan(ctx, 1 + rnd.nextInt(8), 264);
      // Grids below, at and above the item count (graph replays launch a fixed grid).
      int grid = 1 + rnd.nextInt(2 * plan.numItems() + 2);
      int[] runs = new int[plan.numItems()];
      for (int cta = 0; cta < grid; cta++) {
        for (int i : plan.itemsOfCta(cta, grid)) {
          runs[i]++;
        }
      }
      for (int i = 0; i < runs.length; i++) {
        assertEquals(1, runs[i], "item " + i + " on a grid of " + grid);
      }
    }
  }

  @Test
  void snakeOrderBalancesALongestFirstListOfMixedContexts() {
    // 600 sequences x 8 kv heads, contexts 1..16384, on 264 CTAs: no split, ~18 items per CTA.
    Random rnd = new Random(9);
    int[] ctx = new int[600];
    long total = 0;
    for (int s = 0; s < ctx.length; s++) {
      ctx[s] = 1 + rnd.nextInt(16384);
      total += 8L * ctx[s];
    }
    DecodeAttentionPlan plan = DecodeAttentionPlan.plan(ctx, 8, H200_SLOTS);
    int[] items = plan.workItems();
    long worst = 0;
    for (int cta = 0; cta < H200_SLOTS; cta++) {
      long positions = 0;
      for (int i : plan.itemsOfCta(cta, H200_SLOTS)) {
        positions += ctx[items[4 * i]];
      }
      worst = Math.max(worst, positions);
    }
    double mean = (double) total / H200_SLOTS;
    // Round-robin in the same order would leave CTA 0 with ~1.5x the mean on this list.
    assertTrue(worst < 1.08 * mean, "busiest CTA " + worst + " vs mean " + mean);
  }

  @Test
  void rejectsEmptyContextsWithTheIndex() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DecodeAttentionPlan.plan(new int[] {4, 0}, 8, 100));
    assertEquals("contextLens[1] must be >= 1 but is 0", e.getMessage());
  }

  @Test
  void paramsCarryThePlanAndTheLog2Scale() {
    DecodeAttentionPlan plan = DecodeAttentionPlan.plan(filled(2, 300), 8, 264);
    DecodeAttentionParams.Buffers b =
        new DecodeAttentionParams.Buffers(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
    DecodeAttentionParams p = DecodeAttentionParams.of(plan, b, 32, 128, 16, 19, 0.125f);
    assertEquals(4, p.blockShift());
    assertEquals(plan.chunkTokens(), p.chunkTokens());
    assertEquals(0.125 / Math.log(2), p.scaleLog2(), 1e-6);
    assertEquals(Kernel.DECODE_ATTENTION_PERSISTENT_D128, p.persistentKernel());
    assertThrows(IllegalArgumentException.class,
        () -> DecodeAttentionParams.of(plan, b, 17 * 8, 128, 16, 19, 0.1f),
        "17 query heads per kv head do not fit one 16-row MMA tile");
  }

  private static void checkCoverage(DecodeAttentionPlan plan, int[] ctx, int kvHeads) {
    int chunk = plan.chunkTokens();
    assertEquals(0, chunk % DecodeAttentionPlan.STAGE_TOKENS);
    int[] items = plan.workItems();
    int batch = ctx.length;
    // seen[s][h] marks the chunks met; each must be met once, and together they tile [0, ctx).
    int[][] covered = new int[batch][kvHeads];
    boolean[][][] seen = new boolean[batch][kvHeads][];
    for (int s = 0; s < batch; s++) {
      for (int h = 0; h < kvHeads; h++) {
        seen[s][h] = new boolean[(ctx[s] + chunk - 1) / chunk];
      }
    }
    for (int i = 0; i < plan.numItems(); i++) {
      int s = items[4 * i], h = items[4 * i + 1], c = items[4 * i + 2];
      assertEquals(0, items[4 * i + 3]);
      assertFalse(seen[s][h][c], "item (" + s + ", " + h + ", " + c + ") appears twice");
      seen[s][h][c] = true;
      int start = c * chunk;
      int end = Math.min(ctx[s], start + chunk);
      assertTrue(start < end, "empty chunk " + c + " of sequence " + s);
      covered[s][h] += end - start;
    }
    int[] base = plan.partialBase();
    boolean[] slotUsed = new boolean[plan.numPartials()];
    for (int s = 0; s < batch; s++) {
      int chunks = seen[s][0].length;
      for (int h = 0; h < kvHeads; h++) {
        assertEquals(ctx[s], covered[s][h], "sequence " + s + " head " + h + " coverage");
        for (int c = 0; c < chunks; c++) {
          assertTrue(seen[s][h][c], "missing chunk " + c + " of (" + s + ", " + h + ")");
          if (chunks > 1) {
            int slot = base[s] + h * chunks + c;
            assertFalse(slotUsed[slot], "partial slot " + slot + " shared");
            slotUsed[slot] = true;
          }
        }
      }
      if (chunks == 1) {
        assertEquals(-1, base[s]);
      }
    }
    for (int i = 0; i < slotUsed.length; i++) {
      assertTrue(slotUsed[i], "partial slot " + i + " unused");
    }
  }

  private static long items(int[] ctx, int kvHeads, int chunk) {
    long n = 0;
    for (int c : ctx) {
      n += (c + chunk - 1) / chunk;
    }
    return n * kvHeads;
  }

  private static int[] filled(int batch, int ctx) {
    int[] a = new int[batch];
    java.util.Arrays.fill(a, ctx);
    return a;
  }

  @Test
  void workItemsAreACopy() {
    DecodeAttentionPlan plan = DecodeAttentionPlan.plan(filled(1, 64), 1, 4);
    int[] a = plan.workItems();
    a[0] = 99;
    assertArrayEquals(new int[] {0, 0, 0, 0}, plan.workItems());
  }
}
