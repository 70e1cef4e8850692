package io.decodefleet.agent.tools.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The host-copy bench's arithmetic and output, from raw timings (no device). */
class HostCopyBenchTest {

  // {bytes, memory (0 pageable, 1 pinned), direction (0 h2d, 1 d2h), µs}
  private static final List<double[]> RAW = List.of(
      new double[] {1 << 20, 0, 0, 100}, new double[] {1 << 20, 0, 1, 120},
      new double[] {1 << 20, 1, 0, 40}, new double[] {1 << 20, 1, 1, 50},
      new double[] {1 << 30, 0, 0, 60000}, new double[] {1 << 30, 0, 1, 80000},
      new double[] {1 << 30, 1, 0, 20000}, new double[] {1 << 30, 1, 1, 21474.83648});

  @Test
  void theCeilingIsTheBestPinnedBandwidthOfEachDirectionAndFloorsFollowIt() {
    HostCopyBench.Result r = HostCopyBench.result("GPU 0", 1, RAW);
    double h2d = (1L << 30) / 20000.0 / 1e3; // 53.7 GB/s beats 1 MiB's 26.2
    assertArrayEquals(new double[] {h2d, 50.0}, r.ceilingGbps(), 1e-9);
    HostCopyBench.Point pageable = r.points().get(0);
    assertEquals("pageable", pageable.memory());
    assertEquals("h2d", pageable.direction());
    assertEquals((1 << 20) / (h2d * 1e3), pageable.floorUs(), 1e-9);
    assertEquals(100 / pageable.floorUs(), pageable.gap(), 1e-9);
    assertEquals((1 << 20) / 100.0 / 1e3, pageable.gigabytesPerSecond(), 1e-12);
  }

  @Test
  void theTableHasOneRowPerSizeAndDirectionAndTheJsonEveryPoint() {
    HostCopyBench.Result r = HostCopyBench.result("GPU 0", 2, RAW);
    String table = HostCopyBench.table(r);
    assertEquals(2 + 4, table.lines().count(), table);
    assertTrue(table.lines().anyMatch(l -> l.startsWith("1G     d2h") && l.contains("80000.00") && l.contains("21474.84")),
        table);
    String json = HostCopyBench.json(r);
    assertEquals(8, json.split("\"memory\"").length - 1, json);
    assertTrue(json.contains("\"numa_nodes\": 2"), json);
  }
}
