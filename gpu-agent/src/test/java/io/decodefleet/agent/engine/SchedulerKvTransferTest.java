package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The scheduler's side of KV transfers: parking a prefilled sequence for its hand-off, receiving one, and what each holds. */
class SchedulerKvTransferTest {

  private static Scheduler scheduler(int blocks, int maxNumSeqs, int budget) {
    return new Scheduler(new SchedulerConfig(maxNumSeqs, budget, 1024), new KvBlockManager(blocks, 16));
  }

  /** Runs one step, sampling token 7 for every sequence that completed its tokens. */
  private static Scheduler.StepOutcome step(Scheduler s, SchedulerOutput out) {
    Map<Long, Integer> sampled = new HashMap<>();
    for (SchedulerOutput.NewSequence n : out.newSequences()) {
      if (n.numComputedTokens() + n.numScheduledTokens() == n.tokens().length) sampled.put(n.id(), 7);
    }
    for (SchedulerOutput.CachedSequence c : out.cachedSequences()) sampled.put(c.id(), 7);
    return s.update(out, sampled);
  }

  @Test
  void prefillOnlySequenceIsParkedAfterItsFirstTokenWithItsPromptBlocks() {
    Scheduler s = scheduler(20, 4, 64);
    s.add(new Sequence(1, new int[40], 10, true)); // 40 tokens: 3 blocks
    Scheduler.StepOutcome outcome = step(s, s.schedule());

    assertEquals(List.of(1L), outcome.parked().stream().map(Sequence::id).toList());
    assertEquals(List.of(1L), outcome.produced().stream().map(Sequence::id).toList(), "its first token is reported");
    assertTrue(outcome.finished().isEmpty());
    assertFalse(s.hasWork(), "a parked sequence is not scheduled");
    assertTrue(s.isParked(1));
    assertEquals(17, s.numFreeBlocks());
    assertEquals(3, s.parkedBlocks(1).length);
    assertEquals(List.of(1L), s.schedule().finishedIds(), "the runner forgets it");
    s.releaseParked(1, false);
    assertEquals(20, s.numFreeBlocks());
    assertFalse(s.isParked(1));
  }

  /**
   * A drain that moves KV parks the decoding sequence and the received one waiting for a slot,
   * with the blocks of every position but the last sampled token; one in the middle of its
   * prefill and one never scheduled are left to be handed back.
   */
  @Test
  void drainParksOnlySequencesWhoseKvCoversAllButTheLastToken() {
    Scheduler s = scheduler(40, 2, 48);
    s.add(new Sequence(1, new int[20], 30)); // prefilled in the step: decoding from then on
    s.add(new Sequence(2, new int[100], 30)); // 28 of 100 prompt tokens in the step: mid-prefill
    s.add(new Sequence(3, new int[10], 30)); // over the 2-sequence cap: never scheduled
    step(s, s.schedule());
    s.receive(Sequence.continued(4, new int[33], new int[] {9}, 8, 33));
    s.activate(4); // waits for a slot behind 3

    List<Sequence> parked = s.parkDecoding();

    assertEquals(List.of(1L, 4L), parked.stream().map(Sequence::id).toList());
    assertEquals(20, parked.get(0).numComputedTokens(), "its 20 prompt tokens; the first output is computed next");
    assertEquals(2, s.parkedBlocks(1).length);
    assertEquals(3, s.parkedBlocks(4).length);
    assertTrue(s.isParked(1) && s.isParked(4));
    assertEquals(List.of(2L, 3L), s.abortAll().stream().map(Sequence::id).sorted().toList());
    assertEquals(40 - 2 - 3, s.numFreeBlocks(), "only the parked sequences keep blocks");
    assertFalse(s.hasWork());
  }

  @Test
  void prefillOnlySequenceOfOneTokenSimplyFinishes() {
    Scheduler s = scheduler(20, 4, 64);
    s.add(new Sequence(2, new int[5], 1, true));
    Scheduler.StepOutcome outcome = step(s, s.schedule());
    assertTrue(outcome.parked().isEmpty());
    assertEquals(1, outcome.finished().size());
    assertEquals(20, s.numFreeBlocks());
  }

  @Test
  void receivedSequenceHoldsBlocksForItsKvAndDecodesOnlyOnceActivated() {
    Scheduler s = scheduler(20, 4, 64);
    Sequence seq = Sequence.continued(3, new int[33], new int[] {9}, 8, 33);
    int[] pages = s.receive(seq);

    assertEquals(3, pages.length, "33 positions: 3 blocks of 16");
    assertEquals(17, s.numFreeBlocks());
    assertFalse(s.hasWork());
    s.activate(3);
    SchedulerOutput out = s.schedule();
    assertEquals(1, out.newSequences().size());
    SchedulerOutput.NewSequence n = out.newSequences().get(0);
    assertEquals(33, n.numComputedTokens(), "it starts where the sender stopped");
    assertEquals(1, n.numScheduledTokens(), "a decode step: the first output token goes in");
    assertEquals(34, n.tokens().length);
    assertArrayEquals(pages, java.util.Arrays.copyOf(n.blockIds(), 3));
    Scheduler.StepOutcome outcome = step(s, out);
    assertEquals(2, outcome.produced().get(0).numOutputTokens());
    assertEquals(1, outcome.produced().get(0).adoptedOutputs());
  }

  @Test
  void receiveWithoutRoomChangesNothing() {
    Scheduler s = scheduler(4, 4, 64);
    s.add(new Sequence(5, new int[20], 2));
    step(s, s.schedule()); // 2 blocks taken
    assertNull(s.receive(Sequence.continued(6, new int[40], new int[] {1}, 2, 40)), "40 positions need 3 blocks");
    assertEquals(2, s.numFreeBlocks());
    assertEquals(2, s.receive(Sequence.continued(6, new int[40], new int[] {1}, 2, 32)).length, "32 fit in 2");
  }

  @Test
  void drainReleasesTheBlocksOfAReceivedSequenceStillWaitingForASlot() {
    Scheduler s = scheduler(20, 1, 64);
    s.add(new Sequence(7, new int[10], 50));
    step(s, s.schedule()); // running: the only slot
    s.receive(Sequence.continued(8, new int[33], new int[] {1}, 5, 33));
    s.activate(8);
    step(s, s.schedule()); // 7 decodes; 8 waits for the slot, holding 3 blocks
    assertEquals(20 - 1 - 3, s.numFreeBlocks());

    List<Sequence> aborted = s.abortAll();
    assertEquals(List.of(7L, 8L), aborted.stream().map(Sequence::id).toList());
    assertEquals(20, s.numFreeBlocks(), "no block is lost");
  }

  @Test
  void aSequenceCannotBeHeldTwice() {
    Scheduler s = scheduler(20, 4, 64);
    s.add(new Sequence(9, new int[5], 4, true));
    step(s, s.schedule());
    assertThrows(IllegalArgumentException.class, () -> s.receive(Sequence.continued(9, new int[5], new int[] {1}, 4, 5)));
    assertThrows(IllegalArgumentException.class, () -> s.add(new Sequence(9, new int[5], 4)));
    assertThrows(IllegalArgumentException.class, () -> Sequence.continued(10, new int[5], new int[] {1}, 4, 6),
        "the last output's K/V is never sent");
  }
}
