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
 * The chaos soak as CI runs it: {@code coordinator soak} with two coordinator nodes and four gpu-agent
 * daemons, every node a real process on loopback, for 100 s of load after 25 s of warm-up (about three
 * minutes with the start, the reference run and the stop): a daemon killed or terminated and restarted every
 * 15 s, the active coordinator killed once past a third of the load (SIGKILL: the other coordinator node and the
 * agents outnumber it, so the split brain resolver keeps their side) and restarted. Every check must pass, and soak.json must
 * say so with the figures behind each check.
 */
@Tag("soak")
class ChaosSoakTest {
  @TempDir
  Path dir;

  @Test
  void soakOnTwoCoordinatorsAndFourDaemonsLosesNoRequestDuplicatesNoneAndKeepsEveryToken() throws Exception {
    int code = CoordinatorCli.run("soak", "--duration", "100s", "--coordinators", "2", "--daemons", "4",
        "--fault-interval", "15s", "--report-dir", dir.toString());
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
    assertTrue(requests.get("retried").asInt() >= 1, "requests that met the stopped coordinator were sent again: "
        + requests);
    JsonNode faults = soak.get("faults");
    assertTrue(faults.get("injected").asInt() >= 3, "a fault every 15 s of 100 s: " + faults);
    assertEquals(1, faults.get("coordinator_sigkill").asInt(), faults.toString());
    assertEquals(faults.get("injected").asInt(), faults.get("daemon_sigkill").asInt()
        + faults.get("daemon_sigterm").asInt() + faults.get("coordinator_sigkill").asInt());
    assertTrue(soak.get("fleet").get("agents_lost").asInt() >= 1, soak.get("fleet").toString());
    assertTrue(soak.get("stack_traces").isEmpty(), soak.get("stack_traces").toString());
    JsonNode heap = soak.get("coordinator_heap_after_gc");
    assertTrue(heap.get("start_bytes").asLong() > 0 && heap.get("end_bytes").asLong() > 0, heap.toString());
    assertTrue(heap.get("growth_percent").asDouble() <= 10, heap.toString());
    assertEquals(3, heap.get("processes").size(), "two coordinators and the restart of one: " + heap);
    assertTrue(Files.list(dir.resolve("logs")).anyMatch(p -> p.getFileName().toString().startsWith("daemon-")),
        "every process's output is kept");
  }
}
