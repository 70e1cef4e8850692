package io.decodefleet.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.decodefleet.coordinator.metrics.ReportJson;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Multi-turn conversations end to end on two CPU agents: every turn completes, and with prefix
 * caching and prefix-aware placement each later turn finds its conversation so far in the cache of
 * the agent that served the earlier turn (its prompt is that turn's prompt and output).
 */
class ConversationRunTest {

  @Test
  void laterTurnsAreServedFromTheCacheOfTheirConversation(@TempDir Path dir) throws Exception {
    int code = CoordinatorCli.run("--world-size", "2", "--num-requests", "4", "--turns", "3", "--prompt-len", "40",
        "--output-len", "24", "--seed", "3", "--enable-prefix-caching", "--placement", "prefix-aware", "--verify",
        "--report-dir", dir.toString(), "--quiet");

    assertEquals(0, code);
    JsonNode point = ReportJson.read(dir.resolve("report.json")).get("points").get(0);
    assertEquals(12, point.get("completed").asInt(), "4 conversations of 3 turns");
    assertEquals(0, point.get("failed").asInt());
    assertTrue(point.get("verification").get("passed").asBoolean(), point.get("verification").toString());
    JsonNode prefix = point.get("engine").get("prefix_cache");
    // A turn's KV covers its prompt and every output but the last (never fed back): turn 1 leaves
    // 40 + 23 = 63 tokens, 3 full blocks of 16, which turn 2 finds; turn 2 leaves 104 + 23 = 127,
    // 7 full blocks, which turn 3 finds: 4 conversations * (48 + 112) tokens.
    assertEquals(4 * (48 + 112), prefix.get("hit_tokens").asLong(), prefix.toString());
    assertEquals(4 * (40 + 104 + 168), prefix.get("queried_tokens").asLong(), prefix.toString());
  }

  @Test
  void turnsWithATraceOrBelowOneAreRefused(@TempDir Path dir) throws Exception {
    assertEquals(2, CoordinatorCli.run("--turns", "0", "--world-size", "1", "--report-dir", dir.toString(), "--quiet"));
  }
}
