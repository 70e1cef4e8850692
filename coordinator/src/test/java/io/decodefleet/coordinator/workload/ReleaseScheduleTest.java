package io.decodefleet.coordinator.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReleaseScheduleTest {

  private static List<RequestSpec> arrivingAt(long... offsets) {
    List<RequestSpec> requests = new ArrayList<>();
    for (int i = 0; i < offsets.length; i++) requests.add(new RequestSpec(i, offsets[i], new int[] {1}, 1));
    return requests;
  }

  private static List<Long> ids(List<RequestSpec> released) {
    return released.stream().map(RequestSpec::requestId).toList();
  }

  @Test
  void releasesOnlyRequestsWhoseArrivalHasPassed() {
    ReleaseSchedule s = new ReleaseSchedule(arrivingAt(0, 100, 100, 250), 0);

    assertEquals(List.of(0L), ids(s.release(99, 0)));
    assertEquals(1, s.nanosUntilNextArrival(99));
    assertEquals(List.of(1L, 2L), ids(s.release(100, 1)));
    assertEquals(150, s.nanosUntilNextArrival(100));
    assertFalse(s.allReleased());
    assertEquals(List.of(3L), ids(s.release(300, 3)));
    assertEquals(-1, s.nanosUntilNextArrival(300));
    assertTrue(s.allReleased());
  }

  @Test
  void dueRequestsWaitInOrderForAFreeSlot() {
    ReleaseSchedule s = new ReleaseSchedule(arrivingAt(0, 0, 0, 0, 0), 2);

    assertEquals(List.of(0L, 1L), ids(s.release(0, 0)));
    assertEquals(List.of(), ids(s.release(10, 2)), "both slots taken");
    assertEquals(-1, s.nanosUntilNextArrival(10), "everything arrived: only a freed slot releases more");
    assertEquals(List.of(2L), ids(s.release(20, 1)));
    assertEquals(List.of(3L, 4L), ids(s.release(30, 0)));
    assertTrue(s.allReleased());
  }

  @Test
  void unlimitedConcurrencyReleasesEverythingThatArrived() {
    ReleaseSchedule s = new ReleaseSchedule(arrivingAt(0, 0, 0), 0);

    assertEquals(List.of(0L, 1L, 2L), ids(s.release(0, 1000)));
    assertTrue(s.allReleased());
  }
}
