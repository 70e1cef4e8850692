package io.decodefleet.agent.backend.cuda.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.ModelConfig;
import org.junit.jupiter.api.Test;

/**
 * The transfer plan without a GPU: its page indices run through a Java model of the pack and
 * unpack kernels over {@link KvPool}'s layout (per layer a K pool, then a V pool) must move every
 * layer's K and V block of the sender's table onto the receiver's table, and nothing else.
 */
class KvTransferPlanTest {

  /** A pool as KvPool lays it out, one float per bf16; element values say where they live. */
  private static float[] pool(int layers, int numBlocks, int pageElems, int salt) {
    float[] p = new float[2 * layers * numBlocks * pageElems];
    for (int i = 0; i < p.length; i++) p[i] = salt * 1e7f + i;
    return p;
  }

  /** df_kv_pack over chunk c: kCache = the pool's start, vCache = layer 0's V pool. */
  private static float[] pack(float[] pool, int numBlocks, int pageElems, KvTransferPlan plan, int c) {
    int count = plan.chunkCount(c);
    float[] packed = new float[2 * count * pageElems];
    int vBase = numBlocks * pageElems;
    for (int j = 0; j < count; j++) {
      int page = plan.flat()[plan.chunkStart(c) + j];
      System.arraycopy(pool, page * pageElems, packed, j * pageElems, pageElems);
      System.arraycopy(pool, vBase + page * pageElems, packed, (count + j) * pageElems, pageElems);
    }
    return packed;
  }

  private static void unpack(float[] packed, float[] pool, int numBlocks, int pageElems, KvTransferPlan plan, int c) {
    int count = plan.chunkCount(c);
    int vBase = numBlocks * pageElems;
    for (int j = 0; j < count; j++) {
      int page = plan.flat()[plan.chunkStart(c) + j];
      System.arraycopy(packed, j * pageElems, pool, page * pageElems, pageElems);
      System.arraycopy(packed, (count + j) * pageElems, pool, vBase + page * pageElems, pageElems);
    }
  }

  /** Element e of block b of layer l's K (kv = 0) or V (kv = 1) pool. */
  private static int at(int layer, int kv, int block, int e, int numBlocks, int pageElems) {
    return ((2 * layer + kv) * numBlocks + block) * pageElems + e;
  }

  @Test
  void chunkedPackAndUnpackMoveEveryLayersPagesBetweenPoolsOfDifferentSizes() {
    int layers = 3;
    int pageElems = 16;
    int senderBlocks = 7;
    int receiverBlocks = 11;
    int[] sent = {5, 0, 3, 6};
    int[] into = {2, 9, 4, 10};
    float[] src = pool(layers, senderBlocks, pageElems, 1);
    float[] dst = pool(layers, receiverBlocks, pageElems, 2);
    float[] before = dst.clone();
    KvTransferPlan s = KvTransferPlan.of(layers, senderBlocks, sent, pageElems, 5);
    KvTransferPlan r = KvTransferPlan.of(layers, receiverBlocks, into, pageElems, 5);
    assertEquals(3, s.chunks(), "12 flat pages in chunks of 5: 5, 5, 2");
    assertEquals(s.chunks(), r.chunks());
    for (int c = 0; c < s.chunks(); c++) {
      assertEquals(s.chunkElems(c), r.chunkElems(c), "both sides agree on chunk " + c);
      unpack(pack(src, senderBlocks, pageElems, s, c), dst, receiverBlocks, pageElems, r, c);
    }
    boolean[] touched = new boolean[dst.length];
    for (int l = 0; l < layers; l++) {
      for (int kv = 0; kv < 2; kv++) {
        for (int i = 0; i < sent.length; i++) {
          for (int e = 0; e < pageElems; e++) {
            int d = at(l, kv, into[i], e, receiverBlocks, pageElems);
            assertEquals(src[at(l, kv, sent[i], e, senderBlocks, pageElems)], dst[d],
                "layer " + l + (kv == 0 ? " K" : " V") + " page " + i + " element " + e);
            touched[d] = true;
          }
        }
      }
    }
    for (int i = 0; i < dst.length; i++) {
      if (!touched[i]) assertEquals(before[i], dst[i], "element " + i + " outside the sequence's pages changed");
    }
  }

  @Test
  void llama3_8bContextOf8192TokensIsFourChunksOf256MiB() {
    ModelConfig c = ModelConfig.preset("llama3-8b");
    int pageElems = 16 * c.kvSize();
    int[] table = new int[512];
    for (int i = 0; i < table.length; i++) table[i] = 1023 - 2 * i;
    KvTransferPlan plan = KvTransferPlan.of(c.numHiddenLayers(), 1024, table, pageElems);
    assertEquals(1L << 30, plan.bytes(), "8192 tokens x 128 KiB");
    assertEquals(c.kvBytesPerToken(2) * 8192, plan.bytes());
    assertEquals(4, plan.chunks());
    for (int k = 0; k < 4; k++) assertEquals(KvTransferPlan.CHUNK_BYTES, plan.chunkElems(k) * 2);
    assertEquals(KvTransferPlan.CHUNK_BYTES, KvTransferPlan.bufferBytes(c.numHiddenLayers(), 8192, pageElems));
    assertEquals(2 * 31 * 1024 + 1023, plan.flat()[31 * 512], "layer 31's first K page");
  }

  @Test
  void shortSequencesNeedOnlyTheirBytesOfBufferAndOneChunk() {
    KvTransferPlan plan = KvTransferPlan.of(32, 100, new int[] {7, 8, 9}, 16 * 1024);
    assertEquals(1, plan.chunks());
    assertEquals(plan.flatPages(), plan.chunkCount(0));
    assertEquals(2L * 2 * 16 * 1024 * 32 * 4, KvTransferPlan.bufferBytes(32, 4, 16 * 1024));
    KvTransferPlan discard = KvTransferPlan.discard(32, 3, 16 * 1024);
    assertTrue(discard.discards());
    assertEquals(plan.bytes(), discard.bytes());
    assertArrayEquals(new long[] {plan.chunkElems(0)}, new long[] {discard.chunkElems(0)});
  }

  @Test
  void badTablesAndShapesAreRefusedNamingTheValue() {
    IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
        () -> KvTransferPlan.of(2, 4, new int[] {1, 4}, 8));
    assertTrue(outside.getMessage().contains("block 4 at position 1 is outside the pool's 4 blocks"),
        outside.getMessage());
    assertThrows(IllegalArgumentException.class, () -> KvTransferPlan.of(2, 4, new int[0], 8));
    assertThrows(IllegalArgumentException.class, () -> KvTransferPlan.of(2, 4, new int[] {0}, 12));
    IllegalArgumentException huge = assertThrows(IllegalArgumentException.class,
        () -> KvTransferPlan.of(80, 20_000_000, new int[] {0}, 8));
    assertTrue(huge.getMessage().contains("int32"), huge.getMessage());
  }
}
