package io.decodefleet.agent.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SequenceTimesTest {

  @Test
  void queueRunsFromHandOverToTheFirstStepAndPrefillFromThereToTheFirstToken() {
    SequenceTimes times = new SequenceTimes();
    times.submitted(1, 100);
    times.scheduled(1, 130); // a first chunk: no token yet
    times.scheduled(1, 150); // preempted and resumed, or a second chunk: the first start stays
    times.produced(1, 180);
    times.produced(1, 190); // a later token
    assertEquals(new SequenceTimes.Spent(30, 50), times.remove(1));
    assertEquals(SequenceTimes.Spent.UNKNOWN, times.remove(1), "forgotten once removed");
  }

  @Test
  void aSequenceNeverHandedOverHereOrNotYetStartedHasNoTimes() {
    SequenceTimes times = new SequenceTimes();
    times.scheduled(7, 10); // its KV arrived from another agent
    times.produced(7, 20);
    assertEquals(SequenceTimes.Spent.UNKNOWN, times.remove(7));
    times.submitted(8, 5);
    assertEquals(new SequenceTimes.Spent(-1, -1), times.remove(8));
    times.submitted(9, 5);
    times.scheduled(9, 8);
    assertEquals(new SequenceTimes.Spent(3, -1), times.remove(9));
  }
}
