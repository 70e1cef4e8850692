package io.decodefleet.coordinator.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The shipped expectations files load and match what they were measured from. */
class ShippedExpectationsTest {
  @Test
  void cpuTinyExpectationsCoverEveryWorldSizeOfTheDefaultSweep() throws Exception {
    Expectations e = Expectations.load(Path.of("..", "expectations", "cpu-tiny.json"));
    Set<Integer> sizes = e.expectations().stream().map(Expectation::worldSize).collect(Collectors.toSet());
    assertEquals(Set.of(1, 2, 4, 8), sizes);
    assertTrue(e.expectations().stream().allMatch(x -> x.expected() > 0));
  }

  /** The H200 file's expected values are the figures of the run it names (its report.json, kept in docs). */
  @Test
  void h200ExpectationsAreTheMeasuredRunsFigures() throws Exception {
    Expectations e = Expectations.load(Path.of("..", "expectations", "h200-llama3-8b.json"));
    JsonNode point = new ObjectMapper().readTree(Path.of("..", "docs", "measurements",
        "h200-coordinator-1024req-defaults-2026-12-04.report.json").toFile()).get("points").get(0);
    assertEquals(4, e.expectations().size());
    for (Expectation x : e.expectations()) {
      assertEquals(1, x.worldSize());
      double measured = point.get(x.metric()).doubleValue();
      assertEquals(measured, x.expected(), Math.abs(measured) * 1e-4, x.metric());
    }
  }
}
