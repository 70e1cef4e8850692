package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The primitive map against a HashMap over a long random run of puts and removes. */
class LongIntMapTest {

  @Test
  void aLongRandomRunOfPutsAndRemovesAgreesWithAHashMapAtEveryStep() {
    Random r = new Random(3);
    LongIntMap index = new LongIntMap();
    Map<Long, Integer> want = new HashMap<>();
    List<Long> live = new ArrayList<>();
    for (int step = 0; step < 200_000; step++) {
      // Keys from a small range collide in their home slots, so removals shift runs back.
      long hash = r.nextInt(4) == 0 ? r.nextLong() : r.nextInt(5000);
      if (r.nextInt(3) > 0 && !want.containsKey(hash)) {
        int block = r.nextInt(1 << 20);
        index.put(hash, block);
        want.put(hash, block);
        live.add(hash);
      } else if (!live.isEmpty()) {
        long gone = live.remove(r.nextInt(live.size()));
        index.remove(gone);
        want.remove(gone);
        index.remove(gone); // a second removal changes nothing
      }
      if (step % 997 == 0) {
        for (Map.Entry<Long, Integer> e : want.entrySet()) assertEquals(e.getValue(), index.get(e.getKey()));
      }
      assertEquals(want.size(), index.size());
      long probe = r.nextInt(6000);
      assertEquals(want.getOrDefault(probe, -1), index.get(probe), "hash " + probe + " at step " + step);
    }
  }

  @Test
  void aKeyIsPutOnceAndValuesAreNeverNegative() {
    LongIntMap index = new LongIntMap();
    index.put(7L, 3);
    assertEquals("key 7 is already in the map", assertThrows(IllegalStateException.class, () -> index.put(7L, 4))
        .getMessage());
    assertThrows(IllegalArgumentException.class, () -> index.put(8L, -1));
    assertEquals(3, index.get(7L));
    assertEquals(-1, index.get(8L));
    LongIntMap sized = new LongIntMap(256); // a batch's ids: held without growing, and past that too
    for (int i = 0; i < 300; i++) sized.put(1000L + i, i);
    for (int i = 0; i < 300; i++) assertEquals(i, sized.get(1000L + i));
    assertEquals(300, sized.size());
  }
}
