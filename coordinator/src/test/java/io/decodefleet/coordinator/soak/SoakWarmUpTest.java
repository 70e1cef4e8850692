package io.decodefleet.coordinator.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The warm-up before the heap's baseline: a quarter of the soak, at most a minute. */
class SoakWarmUpTest {
  @Test
  void aQuarterOfAShortSoak() {
    assertEquals(Duration.ofSeconds(25), SoakRun.warmUp(Duration.ofSeconds(100)));
  }

  @Test
  void aMinuteOfALongOne() {
    assertEquals(Duration.ofMinutes(1), SoakRun.warmUp(Duration.ofMinutes(10)));
    assertEquals(Duration.ofMinutes(1), SoakRun.warmUp(Duration.ofMinutes(4)));
  }
}
