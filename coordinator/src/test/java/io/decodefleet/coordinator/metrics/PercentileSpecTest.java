package io.decodefleet.coordinator.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PercentileSpecTest {

  @Test
  void withoutFlagsTheDefaultIsWhatDecodeFleetAlwaysReported() {
    PercentileSpec spec = PercentileSpec.parse(null, null);
    assertEquals(List.of("ttft", "tpot", "itl", "e2el"), spec.metrics());
    assertEquals(List.of(90.0, 99.0), spec.percentiles());
  }

  @Test
  void metricsTakeReportOrderAndPercentilesAscend() {
    PercentileSpec spec = PercentileSpec.parse("e2el, ITL,ttft", "99,50,95,90");
    assertEquals(List.of("ttft", "itl", "e2el"), spec.metrics());
    assertEquals(List.of(50.0, 90.0, 95.0, 99.0), spec.percentiles());
    assertTrue(spec.covers("itl"));
    assertFalse(spec.covers("tpot"));
  }

  @Test
  void percentilesAreNamedAsVllmNamesThem() {
    assertEquals("99", PercentileSpec.word(99.0));
    assertEquals("99.9", PercentileSpec.word(99.9));
    assertEquals("0", PercentileSpec.word(0));
    assertEquals("12.25", PercentileSpec.word(12.25));
  }

  @ParameterizedTest(name = "{0} / {1}")
  @CsvSource(delimiter = '|', value = {
      "ttft,queue | 99 | --percentile-metrics: unknown metric \"queue\"; known: ttft, tpot, itl, e2el",
      "ttft,ttft | 99 | --percentile-metrics lists ttft twice",
      "ttft,, | 99 | --percentile-metrics: empty item",
      "ttft | 99,fast | --metric-percentiles: 'fast' is not a number",
      "ttft | 101 | --metric-percentiles: 101 is not in [0, 100]",
      "ttft | -1 | --metric-percentiles: -1 is not in [0, 100]",
      "ttft | NaN | --metric-percentiles: NaN is not in [0, 100]",
      "ttft | 90,90.0 | --metric-percentiles lists 90 twice",
  })
  void badValuesAreOneLineNamingTheFlag(String metrics, String percentiles, String expected) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PercentileSpec.parse(metrics, percentiles));
    assertTrue(e.getMessage().startsWith(expected), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
  }

  @Test
  void latencyStatsComputeTheAskedPercentilesAndNumpysStd() {
    LatencyStats s = LatencyStats.of(new double[] {2, 4, 4, 4, 5, 5, 7, 9}, List.of(25.0, 99.9));
    assertEquals(2.0, s.std(), 1e-12); // numpy.std([2, 4, 4, 4, 5, 5, 7, 9]) == 2.0
    assertEquals(4.0, s.percentile(25), 1e-12); // numpy.percentile(..., 25) == 4.0
    assertEquals(8.986, s.percentile(99.9), 1e-9); // rank 6.993: 7 + 0.993 * 2
    assertEquals(List.of(25.0, 99.9), List.copyOf(s.percentiles().keySet()));
    assertThrows(IllegalArgumentException.class, () -> s.percentile(50));
  }
}
