package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.decodefleet.coordinator.metrics.ReportJson;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mixture of experts end to end on an embedded CPU fleet: replicas of EP=2 (experts over two rank
 * threads, attention data-parallel) pass the recompute check, and report.json, the console and
 * report.html carry the run's expert load.
 */
class ExpertParallelRunTest {

  private static final java.util.regex.Pattern EXPERT_DATA =
      java.util.regex.Pattern.compile("\"token_expert_pairs\"\\s*:\\s*\\d+");

  private static String run(Path dir, String... extra) {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    System.setOut(new PrintStream(console, true, StandardCharsets.UTF_8));
    int code;
    try {
      String[] base = {"--model", "tiny-moe", "--backend", "cpu", "--num-requests", "6", "--prompt-len", "8:40",
          "--output-len", "6:12", "--seed", "2", "--report-dir", dir.toString()};
      String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
      System.arraycopy(extra, 0, args, base.length, extra.length);
      code = CoordinatorCli.run(args);
    } finally {
      System.setOut(stdout);
    }
    String out = console.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, out);
    return out;
  }

  @Test
  void expertParallelReplicasPassTheRecomputeCheckAndReportTheirExpertLoad(@TempDir Path dir) throws Exception {
    String out = run(dir.resolve("ep"), "--layout", "ep=2", "--world-size", "4", "--verify", "--verify-fraction", "1");
    JsonNode report = ReportJson.read(dir.resolve("ep").resolve("report.json"));
    JsonNode point = report.get("points").get(0);
    assertTrue(point.get("verification").get("passed").asBoolean(), point.get("verification").toString());
    assertEquals(0, point.get("expert_load").get("dropped").asLong(), "plain top-k drops nothing");
    assertEquals("ep=2", report.get("settings").get("layout").asText());
    JsonNode load = point.get("expert_load");
    assertEquals(4, load.get("layers").asInt());
    assertEquals(8, load.get("experts").asInt());
    long scheduled = point.get("engine").get("scheduled_tokens").asLong();
    long dropped = load.get("dropped").asLong();
    // Every computed token goes to 2 experts in every layer, kept or dropped over capacity.
    assertEquals(2 * 4 * scheduled, load.get("token_expert_pairs").asLong() + dropped, load.toString());
    long layer0 = 0;
    for (JsonNode n : load.get("per_layer").get(0).get("tokens")) layer0 += n.asLong();
    for (JsonNode n : load.get("per_layer").get(0).get("dropped")) layer0 += n.asLong();
    assertEquals(2 * scheduled, layer0);
    assertTrue(load.get("max_imbalance").asDouble() >= 1.0, load.toString());
    assertTrue(out.lines().anyMatch(l -> l.startsWith("Expert load: 4 layers x 8 experts, ")), out);
    // report.html inlines the points' data, which its script draws as the "Expert load" table.
    assertTrue(EXPERT_DATA.matcher(Files.readString(dir.resolve("ep").resolve("report.html"))).find());
  }

  @Test
  void aCapacityBoundedRouterDropsAndCountsTokensAndEveryRequestStillCompletes(@TempDir Path dir) throws Exception {
    String out = run(dir, "--moe-router", "capacity:1.0", "--world-size", "2", "--max-num-seqs", "6");
    JsonNode point = ReportJson.read(dir.resolve("report.json")).get("points").get(0);
    assertEquals(6, point.get("completed").asInt());
    JsonNode load = point.get("expert_load");
    long scheduled = point.get("engine").get("scheduled_tokens").asLong();
    assertTrue(load.get("dropped").asLong() > 0, load.toString());
    assertEquals(2 * 4 * scheduled, load.get("token_expert_pairs").asLong() + load.get("dropped").asLong());
    assertTrue(out.contains(" dropped"), out);
  }

  @Test
  void aDenseModelsReportHasNoExpertLoad(@TempDir Path dir) throws Exception {
    String[] args = {"--model", "tiny", "--backend", "cpu", "--world-size", "1", "--num-requests", "2", "--output-len",
        "4", "--quiet", "--report-dir", dir.toString()};
    assertEquals(0, CoordinatorCli.run(args));
    assertTrue(ReportJson.read(dir.resolve("report.json")).get("points").get(0).get("expert_load") == null);
    assertFalse(EXPERT_DATA.matcher(Files.readString(dir.resolve("report.html"))).find());
  }
}
