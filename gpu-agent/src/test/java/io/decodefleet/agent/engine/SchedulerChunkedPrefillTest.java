package io.decodefleet.agent.engine;

import static io.decodefleet.agent.engine.SchedulerDriver.cachedSeq;
import static io.decodefleet.agent.engine.SchedulerDriver.newSeq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Chunked prefill: a prompt longer than the token budget is computed in budget-sized chunks,
 * sampled only on the last.
 * Driven by {@link SchedulerDriver}, without a backend.
 */
class SchedulerChunkedPrefillTest {

  @Test
  void chunkedPrefillSchedulesBudgetSizedChunksAndSamplesOnlyOnTheLastChunk() {
    SchedulerDriver d = new SchedulerDriver(4, 32, 1000, 100, 16);
    Sequence seq = d.add(1, 100, 2);

    SchedulerOutput s1 = d.schedule();
    assertEquals(0, newSeq(s1, 1).numComputedTokens());
    assertEquals(32, newSeq(s1, 1).numScheduledTokens());
    assertTrue(d.update(s1).produced().isEmpty(), "a non-final chunk must not sample");
    assertEquals(32, seq.numComputedTokens());

    int[] expectedChunks = {32, 32, 4};
    int[] expectedComputed = {32, 64, 96};
    for (int i = 0; i < expectedChunks.length; i++) {
      SchedulerOutput out = d.schedule();
      assertTrue(out.newSequences().isEmpty());
      assertEquals(expectedComputed[i], cachedSeq(out, 1).numComputedTokens());
      assertEquals(expectedChunks[i], cachedSeq(out, 1).numScheduledTokens());
      assertEquals(expectedChunks[i], out.totalScheduledTokens());
      Scheduler.StepOutcome o = d.update(out);
      if (i < expectedChunks.length - 1) {
        assertTrue(o.produced().isEmpty(), "chunk " + (i + 2) + " must not sample");
      } else {
        assertEquals(List.of(seq), o.produced());
      }
    }
    assertEquals(1, seq.numOutputTokens());
    assertEquals(100, seq.numComputedTokens());

    SchedulerOutput decode = d.schedule();
    assertEquals(1, cachedSeq(decode, 1).numScheduledTokens());
    d.update(decode);
    d.assertAllOutputsExact();
  }
}
