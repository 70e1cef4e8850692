package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * A block's hash is the first 8 bytes of SHA-256 over the parent hash and the block's tokens, all
 * big-endian, whichever way the tokens are given and on whichever thread (the coordinator's
 * placement and every engine thread hash blocks, each with its own digest and buffers).
 */
class BlockHashesTest {

  /** The definition, spelled out: a fresh digest and fresh buffers every call. */
  private static long reference(long parent, int[] tokens, int from, int count) throws Exception {
    ByteBuffer b = ByteBuffer.allocate(8 + 4 * count).putLong(parent);
    for (int i = from; i < from + count; i++) b.putInt(tokens[i]);
    return ByteBuffer.wrap(MessageDigest.getInstance("SHA-256").digest(b.array())).getLong();
  }

  @Test
  void everyBlockHashesAsTheDefinitionWhetherGivenAsAnArrayOrByPosition() throws Exception {
    Random r = new Random(11);
    for (int count : new int[] {1, 16, 32, 100, 16, 3}) { // 100 grows the thread's buffer; 16 and 3 reuse it
      int[] tokens = r.ints(count + 40, 0, 128256).toArray();
      long parent = r.nextLong();
      int from = r.nextInt(40);
      long want = reference(parent, tokens, from, count);
      assertEquals(want, BlockHashes.next(parent, tokens, from, count), count + " tokens");
      assertEquals(want, BlockHashes.next(parent, i -> tokens[i], from, count), count + " tokens by position");
    }
  }

  @Test
  void aChainIsEachBlockHashedAfterTheOneBeforeAndThreadsAgree() throws Exception {
    int[] tokens = new Random(5).ints(16 * 64, 0, 32000).toArray();
    long[] chain = BlockHashes.chain(42L, tokens, 16, 64);
    long parent = 42L;
    for (int b = 0; b < 64; b++) {
      parent = reference(parent, tokens, b * 16, 16);
      assertEquals(parent, chain[b], "block " + b);
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      Future<?>[] runs = new Future<?>[8];
      for (int t = 0; t < runs.length; t++) {
        runs[t] = pool.submit(() -> {
          for (int i = 0; i < 200; i++) assertArrayEquals(chain, BlockHashes.chain(42L, tokens, 16, 64));
        });
      }
      for (Future<?> f : runs) f.get();
    } finally {
      pool.shutdownNow();
    }
  }
}
