package io.decodefleet.coordinator.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.decodefleet.coordinator.cli.CoordinatorCli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos soak as CI runs it: {@code coordinator soak} for two minutes with four gpu-agent daemons,
 * every node a real process on loopback, a daemon killed or terminated and restarted every 15 s.
 * Every check must pass, and soak.json must say so with the figures behind each check.
 */
@Tag("soak")
class ChaosSoakTest {
  @TempDir
  Path dir;

  @Test
  void twoMinuteSoakOnFourDaemonsLosesNoRequestDuplicatesNoneAndKeepsEveryToken() throws Exception {
    int code = CoordinatorCli.run("soak", "--duration", "2m", "--daemons", "4", "--fault-interval", "15s",
        "--report-dir", dir.toString());
    JsonNode soak = new ObjectMapper().readTree(Files.readString(dir.resolve("soak.json")));

    assertEquals(0, code, soak.toPrettyString());
    assertTrue(soak.get("passed").asBoolean());
    for (JsonNode check : soak.get("checks")) assertTrue(check.get("passed").asBoolean(), check.toString());
    JsonNode requests = soak.get("requests");
    assertTrue(requests.get("sent").asInt() > 0);
    assertEquals(requests.get("sent").asInt(), requests.get("completed").asInt());
    assertEquals(0, requests.get("lost").asInt());
    assertEquals(0, requests.get("duplicated").asInt());
    assertEquals(0, requests.get("mismatched").asInt());
    assertTrue(requests.get("grpc").asInt() > 0 && requests.get("http").asInt() > 0, requests.toString());
    JsonNode faults = soak.get("faults");
    assertTrue(faults.get("injected").asInt() >= 3, "a fault every 15 s of 2 minutes: " + faults);
    assertEquals(faults.get("injected").asInt(), faults.get("daemon_sigkill").asInt()
        + faults.get("daemon_sigterm").asInt() + faults.get("coordinator_sigkill").asInt());
    assertTrue(soak.get("fleet").get("agents_lost").asInt() >= 1, soak.get("fleet").toString());
    assertTrue(soak.get("stack_traces").isEmpty(), soak.get("stack_traces").toString());
    for (JsonNode heap : soak.get("coordinator_heap_after_gc")) {
      if (heap.get("checked").asBoolean()) assertTrue(heap.get("growth_percent").asDouble() <= 10, heap.toString());
    }
    assertTrue(Files.list(dir.resolve("logs")).anyMatch(p -> p.getFileName().toString().startsWith("daemon-")),
        "every process's output is kept");
  }
}
