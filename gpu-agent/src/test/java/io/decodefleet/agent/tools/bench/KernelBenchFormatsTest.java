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
  void prefillRowsReadInTeraflopsFromTheirShapeAndSectionsParseAsTheCliNamesThem() {
    BenchResult r = new BenchResult("gemm", "wgmma", KernelBench.gemmShape(8192, 4096, 4096), 500.0, 2.0 * 4096 * 4096,
        8.0, 6, 50);
    assertEquals(2.0 * 8192 * 4096 * 4096 / 500e-6 / 1e12, PrefillGemmBench.teraflops(r), 1e-9);
    assertEquals(KernelBench.Section.PREFILL_GEMM, KernelBench.Section.parse("prefill-gemm"));
    assertEquals(KernelBench.Section.GEMM, KernelBench.Section.parse(" GEMM "));
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> KernelBench.Section.parse("decode"));
    assertEquals("--only takes attention, gemm, prefill-gemm, prefill-attention-paged or moe (was 'decode')",
        e.getMessage());
    assertEquals(KernelBench.Section.MOE, KernelBench.Section.parse("moe"));
    assertEquals(KernelBench.Section.PREFILL_ATTENTION_PAGED, KernelBench.Section.parse("prefill-attention-paged"));
  }

  @Test
  void aPagedPrefillPointCountsItsPrefixOnceAndEveryVisiblePosition() {
    // 256 rows after 2048 cached positions: row i sees 2048 + i + 1 of them; K and V of 2304 positions.
    double visible = 256.0 * 2048 + 256.0 * 257 / 2;
    assertEquals(4.0 * 128 * 32 * visible, PagedPrefillAttentionBench.flops(2048, 256), 1e-3);
    assertEquals(2.0 * 2 * 2304 * 8 * 128 + 2.0 * 2 * 256 * 32 * 128, PagedPrefillAttentionBench.bytes(2048, 256),
        1e-3);
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

  /** The expert GEMM rows count the weights of the experts a batch's routing reaches, no others. */
  @Test
  void moeRoutingPicksDistinctExpertsPerTokenAndCountsTheExpertsItReaches() {
    java.util.Random r = new java.util.Random(3);
    int[] routing = MoeKernelBench.uniformRouting(r, 64, 8, 2);
    for (int t = 0; t < 64; t++) assertTrue(routing[2 * t] != routing[2 * t + 1], "token " + t);
    assertEquals(8, MoeKernelBench.expertsRead(routing, 8), "64 tokens reach all 8 experts");
    assertEquals(2, MoeKernelBench.expertsRead(new int[] {5, 1, 1, 5}, 8));
    int[] one = MoeKernelBench.uniformRouting(r, 1, 128, 8);
    assertEquals(8, MoeKernelBench.expertsRead(one, 128), "one token of Qwen3-MoE reads its 8 experts");
  }
}
