package io.decodefleet.agent.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JSON of the kernel bench and how many input sets it rotates over: pure Java, no GPU. */
class KernelBenchFormatsTest {

  @Test
  void benchJsonCarriesShapeTimeBandwidthAndFloor() {
    Map<String, Long> shape = new LinkedHashMap<>();
    shape.put("batch", 8L);
    shape.put("context", 4096L);
    BenchResult r = new BenchResult("decode_attention", "persistent", shape, 250.0, 1e9, 220.0,
        1, 20);
    assertEquals(4.0, r.terabytesPerSecond(), 1e-12);
    assertEquals("batch=8 context=4096", r.shapeText());
    String json = r.toJson();
    assertTrue(json.startsWith("{\"kernel\": \"decode_attention\", \"variant\": \"persistent\","
        + " \"shape\": {\"batch\": 8, \"context\": 4096}, \"median_us\": 250.000"), json);
    assertTrue(json.contains("\"tb_per_s\": 4.0000") && json.contains("\"floor_us\": 220.000"),
        json);
  }

  @Test
  void inputSetsTogetherExceedThreeL2sAndStayBounded() {
    int l2 = 50 << 20;
    assertEquals(38, BenchPool.inputSets(4L << 20, l2));
    assertEquals(1, BenchPool.inputSets(4L << 30, l2));
    assertEquals(BenchPool.MAX_SETS, BenchPool.inputSets(1024, l2));
    int sets = BenchPool.inputSets(32L << 20, l2);
    assertTrue(sets * (32L << 20) >= 3L * l2);
  }
}
