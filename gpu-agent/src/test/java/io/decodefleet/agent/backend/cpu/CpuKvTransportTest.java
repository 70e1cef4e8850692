package io.decodefleet.agent.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.kv.KvGroupSpec;
import io.decodefleet.agent.engine.kv.KvTransferMode;
import io.decodefleet.agent.engine.kv.KvTransport;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CPU exchange keeps NCCL's rule that a pair's receives take the pair's sends in the order
 * both were issued, whatever order the receiving engine polls its transfers in. Two members of one
 * group, driven step by step on this thread: no timing is involved.
 */
class CpuKvTransportTest {
  private static final int LAYERS = 2;
  private static final int BLOCKS = 8;
  private static final int PAGE_ELEMS = 4;

  private final float[][] senderK = caches(1f);
  private final float[][] senderV = caches(-1f);
  private final float[][] receiverK = caches(0f);
  private final float[][] receiverV = caches(0f);
  private CpuKvTransport sender;
  private CpuKvTransport receiver;

  /** Per layer, block b's elements hold sign * (1000 * layer + 10 * b + i) (i in the page), or zeros. */
  private static float[][] caches(float sign) {
    float[][] c = new float[LAYERS][BLOCKS * PAGE_ELEMS];
    for (int l = 0; l < LAYERS; l++) {
      for (int b = 0; b < BLOCKS; b++) {
        for (int i = 0; i < PAGE_ELEMS; i++) c[l][b * PAGE_ELEMS + i] = sign * (1000 * l + 10 * b + i);
      }
    }
    return c;
  }

  @BeforeEach
  void joinGroup() throws Exception {
    byte[] id = new CpuBackend().newKvGroupId();
    CompletableFuture<CpuKvTransport> rank0 = CompletableFuture.supplyAsync(
        () -> CpuKvTransport.join(spec(id, 0), senderK, senderV, PAGE_ELEMS));
    receiver = CpuKvTransport.join(spec(id, 1), receiverK, receiverV, PAGE_ELEMS);
    sender = rank0.get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void leaveGroup() {
    if (sender != null) sender.close();
    if (receiver != null) receiver.close();
  }

  private static KvGroupSpec spec(byte[] id, int rank) {
    return new KvGroupSpec(id, rank, 2, List.of(1 - rank), KvTransferMode.EAGER, Duration.ofSeconds(10));
  }

  /** Whether block {@code to} of the receiver holds what block {@code from} of the sender held, K and V. */
  private boolean arrived(int from, int to) {
    for (int l = 0; l < LAYERS; l++) {
      for (int i = 0; i < PAGE_ELEMS; i++) {
        if (receiverK[l][to * PAGE_ELEMS + i] != senderK[l][from * PAGE_ELEMS + i]) return false;
        if (receiverV[l][to * PAGE_ELEMS + i] != senderV[l][from * PAGE_ELEMS + i]) return false;
      }
    }
    return true;
  }

  /**
   * The interleaving of the disaggregated run that failed: the decode side issued receives A (2
   * pages) then B (3 pages); it polls A before A's payload is sent, the payload lands, and B is
   * polled next. B must not take A's payload; A gets it, and B gets its own once sent.
   */
  @Test
  void aLaterReceivePolledFirstLeavesTheEarlierReceivesPayloadToIt() {
    KvTransport.Transfer a = receiver.receive(0, 2, new int[] {5, 6});
    KvTransport.Transfer b = receiver.receive(0, 3, new int[] {0, 1, 2});
    assertFalse(a.poll(), "nothing was sent yet");

    KvTransport.Transfer sentA = sender.send(1, new int[] {3, 4});
    assertTrue(sentA.poll());
    assertNull(sentA.failure());
    assertFalse(b.poll(), "B took the payload sent for A");
    assertTrue(a.poll(), "A's payload is in");
    assertNull(a.failure(), a.failure());
    assertTrue(arrived(3, 5) && arrived(4, 6), "A's pages hold what the sender sent for A");

    sender.send(1, new int[] {7, 1, 0});
    assertTrue(b.poll());
    assertNull(b.failure(), b.failure());
    assertTrue(arrived(7, 0) && arrived(1, 1) && arrived(0, 2), "B's pages hold what the sender sent for B");
    assertNull(receiver.abortReason());
  }

  /** A discarding receive still takes its place in the order: the next receive gets the next payload. */
  @Test
  void aDiscardingReceiveTakesItsOwnPayloadOnly() {
    KvTransport.Transfer discard = receiver.receive(0, 1, null);
    KvTransport.Transfer kept = receiver.receive(0, 2, new int[] {6, 7});
    sender.send(1, new int[] {2});
    sender.send(1, new int[] {3, 4});
    assertTrue(kept.poll());
    assertNull(kept.failure(), kept.failure());
    assertTrue(arrived(3, 6) && arrived(4, 7));
    assertTrue(discard.poll());
    assertNull(discard.failure(), discard.failure());
    assertEquals(0f, receiverK[0][0], "a discarded payload is written nowhere");
  }

  /**
   * A payload of the wrong size means the pair's order is lost: the group is aborted, so every
   * other transfer of the pair fails instead of taking a payload meant for another sequence.
   */
  @Test
  void aPayloadOfTheWrongSizeAbortsTheGroup() {
    KvTransport.Transfer first = receiver.receive(0, 2, new int[] {0, 1});
    KvTransport.Transfer second = receiver.receive(0, 1, new int[] {2});
    sender.send(1, new int[] {3});
    sender.send(1, new int[] {4});
    assertTrue(first.poll());
    assertTrue(first.failure().contains("rank 0 sent 1 pages, 2 expected"), first.failure());
    assertTrue(second.poll());
    assertTrue(second.failure().contains("aborted"), second.failure());
    assertTrue(sender.send(1, new int[] {5}).failure().contains("aborted"), "the sender's next send fails too");
  }
}
