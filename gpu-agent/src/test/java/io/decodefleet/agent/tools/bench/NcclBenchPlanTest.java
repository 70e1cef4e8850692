package io.decodefleet.agent.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.backend.cuda.driver.GpuInfo;
import io.decodefleet.agent.nccl.Nccl.DataType;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The bench's plan, formulas and output, without a GPU. */
class NcclBenchPlanTest {

  private static final GpuInfo H200 =
      new GpuInfo(0, "NVIDIA H200", 9, 0, 132, 150L << 30, 60 << 20, 232448, 3201000, 6144);

  @Test
  void defaultSizesRunFrom4KTo1GAndIncludeTheTargetSizes() {
    List<Long> sizes = NcclBench.DEFAULT_SIZES;
    assertEquals(4096L, sizes.get(0));
    assertEquals(1L << 30, sizes.get(sizes.size() - 1));
    assertEquals(19, sizes.size());
    assertTrue(sizes.contains(4L << 20) && sizes.contains(256L << 20));
  }

  @Test
  void everyPairSendsThenAllRanksReduceInBf16ThenFp32() {
    List<NcclBench.Step> steps = NcclBench.plan(3, List.of(4096L, 1L << 20));
    assertEquals(3 * 2 + 2 * 2, steps.size(), "3 pairs x 2 sizes, then 2 dtypes x 2 sizes");
    assertEquals(List.of(0, 1), steps.get(0).ranks());
    assertEquals(List.of(0, 2), steps.get(2).ranks());
    assertEquals(List.of(1, 2), steps.get(4).ranks());
    assertFalse(steps.get(4).involves(0), "rank 0 only waits at the barrier for pair 1->2");
    NcclBench.Step bf16 = steps.get(6);
    assertEquals(NcclBenchPoint.ALL_REDUCE, bf16.op());
    assertEquals(DataType.BFLOAT16, bf16.dtype());
    assertEquals(List.of(0, 1, 2), bf16.ranks());
    assertEquals(DataType.FLOAT32, steps.get(9).dtype());
  }

  @Test
  void repetitionsHoldAbout256MiBOfOperations() {
    assertEquals(20, NcclBench.itersFor(4096));
    assertEquals(16, NcclBench.itersFor(16L << 20));
    assertEquals(1, NcclBench.itersFor(256L << 20));
    assertEquals(1, NcclBench.itersFor(1L << 30));
    // A larger cap lengthens only the small messages' repetitions.
    assertEquals(200, NcclBench.itersFor(4096, 200));
    assertEquals(16, NcclBench.itersFor(16L << 20, 200));
    assertEquals(200, NcclBench.plan(2, List.of(4096L), 200).get(0).iters());
  }

  @Test
  void busBandwidthFollowsNcclTests() {
    NcclBenchPoint ar = new NcclBenchPoint(NcclBenchPoint.ALL_REDUCE, DataType.BFLOAT16,
        List.of(0, 1, 2, 3), 1_000_000_000L, 1, 5000.0, List.of(4900.0, 5000.0, 4950.0, 4990.0));
    assertEquals(200.0, ar.algbwGbps(), 1e-9, "1e9 bytes in 5 ms");
    assertEquals(300.0, ar.busbwGbps(), 1e-9, "x 2(n-1)/n = 1.5 for 4 ranks");
    assertEquals(500_000_000L, ar.count());
    NcclBenchPoint sr = new NcclBenchPoint(NcclBenchPoint.SEND_RECV, DataType.BFLOAT16,
        List.of(0, 1), 4L << 20, 20, 12.5, List.of(12.0, 12.5));
    assertEquals(sr.algbwGbps(), sr.busbwGbps(), 1e-12);
    assertEquals(1.0, NcclBenchPoint.busFactor(NcclBenchPoint.ALL_REDUCE, 2), 1e-12);
    assertEquals("0->1", sr.gpusText());
    assertEquals("0,1,2,3", ar.gpusText());
  }

  @Test
  void rowsAndJsonCarryThePointsFields() {
    NcclBenchPoint sr = new NcclBenchPoint(NcclBenchPoint.SEND_RECV, DataType.BFLOAT16,
        List.of(0, 1), 256L << 20, 1, 800.0, List.of(799.0, 800.0));
    String row = NcclBenchReport.row(sr);
    assertTrue(row.matches("send_recv\\s+bf16\\s+0->1\\s+256M\\s+134217728\\s+1\\s+800\\.00\\s+"
        + "335\\.54\\s+335\\.54\\s*"), row);
    String json = NcclBenchReport.json(List.of(H200, H200), "2.27.3",
        new NcclBench.Settings(List.of(256L << 20), 3, 25, Duration.ofSeconds(5)),
        Map.of("NCCL_NVLS_ENABLE", "0", "NCCL_DEBUG", "a \"quoted\" value"), List.of(sr));
    assertTrue(json.contains("\"nccl_version\": \"2.27.3\""), json);
    assertTrue(json.contains("\"env\": {\"NCCL_DEBUG\": \"a \\\"quoted\\\" value\","
        + " \"NCCL_NVLS_ENABLE\": \"0\"}"), json);
    assertTrue(json.contains("{\"op\": \"send_recv\", \"dtype\": \"bf16\", \"gpus\": [0, 1],"
        + " \"bytes\": 268435456, \"count\": 134217728, \"iters\": 1, \"time_us\": 800.000,"
        + " \"algbw_gb_per_s\": 335.544, \"busbw_gb_per_s\": 335.544,"
        + " \"rank_us\": [799.000, 800.000]}"), json);
  }

  @Test
  void targetLinesJudgeSendRecvAt4MAnd256M() {
    List<String> lines = NcclBenchReport.targetLines(List.of(
        new NcclBenchPoint(NcclBenchPoint.SEND_RECV, DataType.BFLOAT16, List.of(0, 1), 4L << 20,
            20, 31.0, List.of(30.0, 31.0)),
        new NcclBenchPoint(NcclBenchPoint.SEND_RECV, DataType.BFLOAT16, List.of(0, 1), 256L << 20,
            1, 800.0, List.of(800.0, 800.0)),
        new NcclBenchPoint(NcclBenchPoint.ALL_REDUCE, DataType.BFLOAT16, List.of(0, 1), 4L << 20,
            20, 1.0, List.of(1.0, 1.0))));
    assertEquals(List.of("send/recv 0->1 at 4M: 31.00 us (target <= 30 us: missed)",
        "send/recv 0->1 at 256M: 335.5 GB/s (target >= 330 GB/s: met)"), lines);
  }

  @Test
  void onlyNcclSteeringVariablesAreRecorded() {
    assertEquals(Map.of("NCCL_NVLS_ENABLE", "0", "CUDA_VISIBLE_DEVICES", "0,1"),
        NcclBenchReport.ncclEnvironment(Map.of("NCCL_NVLS_ENABLE", "0",
            "CUDA_VISIBLE_DEVICES", "0,1", "HOME", "/root", "PATH", "/bin")));
  }

  @Test
  void settingsRefuseNothingToMeasure() {
    assertThrows(IllegalArgumentException.class,
        () -> new NcclBench.Settings(List.of(), 1, 1, Duration.ofSeconds(1)));
    assertEquals("--reps must be >= 1 but is 0", assertThrows(IllegalArgumentException.class,
        () -> new NcclBench.Settings(List.of(4096L), 1, 0, Duration.ofSeconds(1))).getMessage());
  }
}
