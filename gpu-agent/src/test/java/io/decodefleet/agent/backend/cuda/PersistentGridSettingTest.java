package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.kernels.cuda.PersistentGrid;
import org.junit.jupiter.api.Test;

class PersistentGridSettingTest {

  @Test
  void unsetOrBlankIsACtaAnItem() {
    assertEquals(PersistentGrid.ITEMS, AttentionSlots.persistentGrid((String) null));
    assertEquals(PersistentGrid.ITEMS, AttentionSlots.persistentGrid("  "));
  }

  @Test
  void readsBothGrids() {
    assertEquals(PersistentGrid.SLOTS, AttentionSlots.persistentGrid("SLOTS"));
    assertEquals(PersistentGrid.ITEMS, AttentionSlots.persistentGrid(" items"));
  }

  @Test
  void refusesAnUnknownValueNamingTheSetting() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AttentionSlots.persistentGrid("waves"));
    assertTrue(e.getMessage().startsWith(AttentionSlots.PERSISTENT_GRID_ENV + ": unknown persistent attention grid"),
        e.getMessage());
  }
}
