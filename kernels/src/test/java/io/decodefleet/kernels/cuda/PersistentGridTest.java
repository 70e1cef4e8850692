package io.decodefleet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PersistentGridTest {

  @Test
  void itemsGridHasACtaPerItemWhereTheItemsOutnumberTheSlots() {
    int[] contexts = new int[64];
    Arrays.fill(contexts, 1024);
    DecodeAttentionPlan plan = DecodeAttentionPlan.plan(contexts, 8, 50);
    assertTrue(plan.numItems() > 50, "64 sequences x 8 kv heads fill 50 slots");
    Kernel k = Kernel.DECODE_ATTENTION_PERSISTENT_D128;
    assertEquals(plan.numItems(), plan.persistentLaunch(k, 50, PersistentGrid.ITEMS).gridX());
    assertEquals(50, plan.persistentLaunch(k, 50, PersistentGrid.SLOTS).gridX());
  }

  @Test
  void bothGridsAreTheItemsWhereTheyFitTheSlots() {
    assertEquals(7, PersistentGrid.ITEMS.ctas(7, 50));
    assertEquals(7, PersistentGrid.SLOTS.ctas(7, 50));
    assertEquals(1, PersistentGrid.ITEMS.ctas(0, 50));
  }

  @Test
  void graphLaunchTakesTheBucketsMostItemsOrTheSlots() {
    DecodeAttentionGraphParams p = new DecodeAttentionGraphParams(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, 32, 8, 128,
        16, 4, 1f);
    assertEquals(1024, p.persistentLaunch(264, 1024, PersistentGrid.ITEMS).gridX());
    assertEquals(264, p.persistentLaunch(264, 1024, PersistentGrid.SLOTS).gridX());
  }

  @Test
  void parseReadsTheTwoNamesAndRefusesTheRest() {
    assertEquals(PersistentGrid.ITEMS, PersistentGrid.parse(" Items "));
    assertEquals(PersistentGrid.SLOTS, PersistentGrid.parse("slots"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PersistentGrid.parse("ctas"));
    assertTrue(e.getMessage().contains("items, slots"), e.getMessage());
  }
}
