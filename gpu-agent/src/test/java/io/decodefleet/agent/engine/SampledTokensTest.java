package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A step's tokens by sequence id: a read-only map in sample-row order, read without boxing by the scheduler. */
class SampledTokensTest {

  @Test
  void itIsTheMapOfIdsToTokensInSampleRowOrder() {
    SampledTokens s = new SampledTokens(new long[] {900L, 7L, 100_000L}, new int[] {5, 0, 128255});
    Map<Long, Integer> want = new LinkedHashMap<>();
    want.put(900L, 5);
    want.put(7L, 0);
    want.put(100_000L, 128255);
    assertEquals(want, s);
    assertEquals(want.hashCode(), s.hashCode());
    assertEquals(List.of(900L, 7L, 100_000L), new ArrayList<>(s.keySet()), "sample-row order");
    assertEquals(0, s.get(7L));
    assertNull(s.get(8L));
    assertNull(s.get("7"));
    assertTrue(s.containsKey(100_000L));
    assertFalse(s.containsKey(901L));
    assertThrows(UnsupportedOperationException.class, () -> s.put(1L, 1));
  }

  @Test
  void tokenOfReadsEitherKindOfMapAndSaysMinusOneForNone() {
    SampledTokens s = new SampledTokens(new long[] {3L, 4L}, new int[] {11, 12});
    assertEquals(12, SampledTokens.tokenOf(s, 4L));
    assertEquals(-1, SampledTokens.tokenOf(s, 5L));
    assertEquals(11, SampledTokens.tokenOf(Map.of(3L, 11), 3L));
    assertEquals(-1, SampledTokens.tokenOf(Map.of(3L, 11), 4L));
    assertThrows(IllegalArgumentException.class, () -> new SampledTokens(new long[] {1L}, new int[0]));
  }
}
