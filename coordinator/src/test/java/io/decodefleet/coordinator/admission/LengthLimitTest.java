package io.decodefleet.coordinator.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The one length rule: the model's context, then the largest agent's KV pool once it is known. */
class LengthLimitTest {
  private static final LengthLimit TINY = LengthLimit.context("tiny", 2048);

  @Test
  void aPromptAndOutputWithinTheContextFitAndOneTokenMoreDoesNot() {
    assertNull(TINY.excess(2000, 48));
    assertEquals("a 2000-token prompt plus up to 49 output tokens exceeds model tiny's context of 2048 tokens",
        TINY.excess(2000, 49));
    assertEquals("a 2048-token prompt plus 1 output token exceeds model tiny's context of 2048 tokens",
        TINY.excess(2048, 1));
    assertTrue(TINY.promptAloneExceeds(2048));
    assertFalse(TINY.promptAloneExceeds(2047));
    assertEquals(48, TINY.room(2000));
    assertFalse(TINY.knowsKvPool());
  }

  @Test
  void theLargestKvPoolBoundsASequenceBelowTheContext() {
    LengthLimit fleet = TINY.withKvPool(64, 16);
    assertEquals(1024, fleet.maxTokens());
    assertNull(fleet.excess(1000, 24));
    assertEquals("a 1000-token prompt plus up to 25 output tokens needs 65 KV blocks of 16 tokens; the largest "
        + "agent's KV pool holds 64", fleet.excess(1000, 25));
    // Past the context too, the context is what is named.
    assertTrue(fleet.excess(3000, 1).endsWith("exceeds model tiny's context of 2048 tokens"));
    // A pool larger than the context changes nothing.
    assertEquals(2048, TINY.withKvPool(1000, 16).maxTokens());
    assertEquals(TINY.excess(2000, 49), TINY.withKvPool(1000, 16).excess(2000, 49));
  }

  @Test
  void lengthsPastIntAreJudgedWithoutOverflow() {
    assertTrue(TINY.excess(Integer.MAX_VALUE, Integer.MAX_VALUE).startsWith("a 2147483647-token prompt"));
    assertThrows(IllegalArgumentException.class, () -> LengthLimit.context("tiny", 1));
  }

  @Test
  void theOverlengthPolicyIsSkipOrError() {
    assertEquals(OverlengthPolicy.SKIP, OverlengthPolicy.parse(" Skip "));
    assertEquals(OverlengthPolicy.ERROR, OverlengthPolicy.parse("error"));
    assertEquals("must be skip or error, got 'cut'",
        assertThrows(IllegalArgumentException.class, () -> OverlengthPolicy.parse("cut")).getMessage());
  }

  @Test
  void theInFlightLimitRefusesPastItsBoundAndFreesOnRelease() {
    InFlightLimit limit = new InFlightLimit(2);
    assertTrue(limit.tryAcquire());
    assertTrue(limit.tryAcquire());
    assertFalse(limit.tryAcquire());
    assertEquals(2, limit.inFlight());
    limit.release();
    assertTrue(limit.tryAcquire());
    assertEquals("too many requests in flight (2); retry later", limit.refusal());
  }
}
