package io.decodefleet.coordinator.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Later turns of conversations: released by their previous turn's end, with its prompt and output in front. */
class ReleaseScheduleConversationTest {

  @Test
  void aLaterTurnIsDueWhenThePreviousFinishesAndCarriesTheConversationSoFar() {
    RequestSpec first = new RequestSpec(0, 0, new int[] {1, 2}, 3);
    RequestSpec second = new RequestSpec(1, 0, new int[] {7}, 4, 0);
    RequestSpec third = new RequestSpec(2, 0, new int[] {8, 9}, 2, 1);
    ReleaseSchedule s = new ReleaseSchedule(List.of(first, second, third), 0);
    assertEquals(List.of(first), s.release(0, 0));
    assertFalse(s.allReleased());
    assertTrue(s.release(1_000_000, 1).isEmpty(), "turn 2 waits for turn 1");
    s.finished(0, first.promptTokens(), new int[] {5, 6, 4});
    List<RequestSpec> next = s.release(2_000_000, 0);
    assertEquals(1, next.size());
    assertArrayEquals(new int[] {1, 2, 5, 6, 4, 7}, next.get(0).promptTokens());
    s.finished(1, next.get(0).promptTokens(), new int[] {3, 3, 3, 3});
    assertArrayEquals(new int[] {1, 2, 5, 6, 4, 7, 3, 3, 3, 3, 8, 9}, s.release(3_000_000, 0).get(0).promptTokens());
    assertTrue(s.allReleased());
  }

  @Test
  void aFailedTurnDropsTheRestOfItsConversationAndConcurrencyStillHolds() {
    RequestSpec a = new RequestSpec(0, 0, new int[] {1}, 3);
    RequestSpec b = new RequestSpec(1, 0, new int[] {2}, 3);
    RequestSpec a2 = new RequestSpec(2, 0, new int[] {3}, 3, 0);
    RequestSpec a3 = new RequestSpec(3, 0, new int[] {4}, 3, 2);
    ReleaseSchedule s = new ReleaseSchedule(List.of(a, b, a2, a3), 1);
    assertEquals(List.of(a), s.release(0, 0));
    assertEquals(List.of(a2, a3), s.failed(0));
    assertEquals(List.of(b), s.release(0, 0));
    assertTrue(s.allReleased());
    assertThrows(IllegalArgumentException.class,
        () -> new ReleaseSchedule(List.of(a, new RequestSpec(5, 0, new int[] {1}, 1, 0), a2), 0));
  }
}
