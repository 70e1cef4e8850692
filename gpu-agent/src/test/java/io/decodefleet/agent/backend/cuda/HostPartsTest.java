package io.decodefleet.agent.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * A graph step's host time by part: every part stamped gives one duration each, in order, that add
 * up to the step's call-to-launch time; a step that stopped before the launch (an eager step) gives none.
 */
class HostPartsTest {

  @Test
  void aStepStampedToItsLaunchHasEveryPartAndAnEagerOneHasNone() throws InterruptedException {
    HostParts h = new HostParts();
    assertNull(h.micros(), "no step yet");
    long t0 = System.nanoTime();
    h.start();
    for (int part = 0; part < HostParts.NAMES.size(); part++) {
      Thread.sleep(1);
      h.end(part);
    }
    long total = System.nanoTime() - t0;
    double[] us = h.micros();
    assertEquals(HostParts.NAMES.size(), us.length);
    double sum = 0;
    for (double u : us) {
      assertTrue(u >= 1000, "each part slept 1 ms: " + u);
      sum += u;
    }
    assertTrue(sum <= total / 1e3, "the parts fit inside the call");
    h.start();
    h.end(0);
    h.end(2);
    h.end(3);
    assertNull(h.micros(), "an eager step packs and copies but launches no graph");
  }
}
