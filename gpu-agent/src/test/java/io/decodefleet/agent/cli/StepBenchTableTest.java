package io.decodefleet.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.decodefleet.agent.tools.bench.StepBench;
import org.junit.jupiter.api.Test;

/** The host time's parts of a graph step in bench step's JSON and console line, named as HostParts names them. */
class StepBenchTableTest {

  @Test
  void aGraphStepsHostPartsAreWrittenByNameAndOtherRowsWriteNone() {
    double[] us = {12.5, 20.25, 27.0, 6.0, 31.5};
    assertEquals(", \"host_parts_us\": {\"plan\": 12.500, \"attention_plan\": 20.250, \"pack\": 27.000,"
        + " \"copy\": 6.000, \"launch\": 31.500}", StepBenchTable.hostParts(us));
    assertEquals("", StepBenchTable.hostParts(null));
    assertEquals("plan 12.5 us, attention plan 20.3 us, pack 27.0 us, copy 6.0 us, launch 31.5 us",
        StepBench.hostParts(us));
  }
}
