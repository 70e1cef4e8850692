package io.decodefleet.coordinator.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The expectations file shipped for the embedded default loads and covers the default sweep. */
class ShippedExpectationsTest {
  @Test
  void cpuTinyExpectationsCoverEveryWorldSizeOfTheDefaultSweep() throws Exception {
    Expectations e = Expectations.load(Path.of("..", "expectations", "cpu-tiny.json"));
    Set<Integer> sizes = e.expectations().stream().map(Expectation::worldSize).collect(Collectors.toSet());
    assertEquals(Set.of(1, 2, 4, 8), sizes);
    assertTrue(e.expectations().stream().allMatch(x -> x.expected() > 0));
  }
}
