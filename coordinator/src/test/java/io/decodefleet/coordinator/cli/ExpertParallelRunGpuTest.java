package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.decodefleet.agent.backend.cuda.driver.CudaDevices;
import io.decodefleet.agent.nccl.Nccl;
import io.decodefleet.coordinator.metrics.ReportJson;
import io.decodefleet.kernels.cuda.Fatbin;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --layout ep=2 --backend cuda}: an embedded replica over two GPUs (each half of tiny-moe's
 * experts, NCCL between them) completes every request, with plain top-k and with a capacity that
 * drops tokens, and reports an expert load that accounts for every scheduled token's k pairs.
 * Skipped without two GPUs, the fatbin or NCCL.
 */
@Tag("gpu")
class ExpertParallelRunGpuTest {

  @BeforeEach
  void needsTwoGpusAndNccl() {
    CudaDevices.Discovery d = CudaDevices.discover();
    assumeTrue(d.hasDevices(), d::noDeviceLine);
    assumeTrue(d.gpus().size() >= 2, "needs 2 GPUs");
    assumeTrue(Fatbin.isPresent(), Fatbin::absenceReason);
    assumeTrue(Nccl.isAvailable(), Nccl::unavailabilityCause);
  }

  @Test
  void anExpertParallelGpuReplicaCompletesEveryRequestWithAndWithoutCapacity(@TempDir Path dir) throws Exception {
    for (String router : new String[] {"topk", "capacity:1.0"}) {
      Path out = dir.resolve(router.replace(':', '-'));
      String console = run(out, "--model", "tiny-moe", "--backend", "cuda", "--layout", "ep=2", "--world-size", "2",
          "--moe-router", router, "--num-requests", "8", "--prompt-len", "8:40", "--output-len", "6:12", "--seed",
          "2", "--report-dir", out.toString());
      JsonNode report = ReportJson.read(out.resolve("report.json"));
      assertEquals("ep=2", report.get("settings").get("layout").asText());
      assertEquals("cuda", report.get("backend").asText());
      JsonNode point = report.get("points").get(0);
      assertEquals(8, point.get("completed").asInt(), console);
      JsonNode load = point.get("expert_load");
      long scheduled = point.get("engine").get("scheduled_tokens").asLong();
      long dropped = load.get("dropped").asLong();
      assertEquals(2 * 4 * scheduled, load.get("token_expert_pairs").asLong() + dropped, load.toString());
      assertTrue(router.equals("topk") ? dropped == 0 : dropped > 0, router + ": " + load);
      assertTrue(console.contains("expert-parallel"), console);
    }
  }

  private static String run(Path dir, String... args) {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    System.setOut(new PrintStream(console, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = CoordinatorCli.run(args);
    } finally {
      System.setOut(stdout);
    }
    String out = console.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, out);
    return out;
  }
}
