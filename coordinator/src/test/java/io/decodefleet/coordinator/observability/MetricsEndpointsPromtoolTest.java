package io.decodefleet.coordinator.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.decodefleet.coordinator.run.RunOutcome;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the coordinator's {@code /metrics} and a gpu-agent node's management {@code /metrics} serve after
 * a small benchmark on a real cluster, checked by Prometheus's own linter ({@code promtool check
 * metrics}, Debian's {@code prometheus} package): it may only object to the ':' in vLLM's names.
 */
class MetricsEndpointsPromtoolTest {
  private static MetricsFleet fleet;
  private static RunOutcome run;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(onPath("promtool"), "promtool is not installed (Debian package prometheus)");
    fleet = new MetricsFleet();
    run = fleet.benchmark(6, 3);
  }

  @AfterAll
  static void stop() {
    if (fleet != null) fleet.close();
  }

  @Test
  void promtoolFindsNothingButTheColonInVllmNamesOnTheCoordinator() throws Exception {
    String text = fleet.coordinatorMetrics();
    assertOnlyColonLints(text);
    Exposition e = new Exposition(text);
    // Every family a dashboard reads is there, with the run's numbers.
    assertEquals(run.result().totalOutputTokens(), e.sum("vllm:generation_tokens_total", "model_name=tiny"));
    assertEquals(run.result().totalInputTokens(), e.sum("vllm:prompt_tokens_total", "model_name=tiny"));
    assertEquals(6, e.sum("vllm:request_success_total", "model_name=tiny"));
    for (String h : List.of("vllm:time_to_first_token_seconds", "vllm:e2e_request_latency_seconds",
        "vllm:request_queue_time_seconds")) {
      assertEquals(6, e.value(h + "_count", "model_name=tiny"), h);
    }
    assertEquals(run.result().totalOutputTokens() - 6, e.value("vllm:inter_token_latency_seconds_count"));
    assertEquals(2, e.value("decodefleet_agents_up", "model_name=tiny"));
    assertEquals(2, e.value("decodefleet_agents_registered"));
    for (String agent : List.of("agent-0", "agent-1")) {
      assertEquals(0, e.value("vllm:num_requests_running", "agent=" + agent), "nothing runs after the run");
      assertEquals(0, e.value("vllm:kv_cache_usage_perc", "agent=" + agent), "every block free after the run");
      assertTrue(e.sum("decodefleet_steps_total", "agent=" + agent, "path=cpu") > 0, agent);
      assertTrue(e.sum("decodefleet_step_duration_seconds_count", "agent=" + agent) > 0, agent);
    }
    assertTrue(e.sum("process_cpu_seconds_total") > 0, "process metrics");
    assertTrue(e.sum("jvm_memory_used_bytes") > 0, "JVM metrics");
  }

  @Test
  void promtoolFindsNothingButTheColonInVllmNamesOnAnAgentNode() throws Exception {
    String text = fleet.agentMetrics();
    assertOnlyColonLints(text);
    Exposition e = new Exposition(text);
    // Only this node's agent (agent-0), with what its engine told.
    assertTrue(e.values("vllm:num_requests_running", "agent=agent-1").isEmpty(), "agent-1 runs on another node");
    assertEquals(0, e.value("vllm:num_requests_waiting", "agent=agent-0", "model_name=tiny"));
    assertTrue(e.sum("vllm:generation_tokens_total", "agent=agent-0") > 0);
    double finished = e.sum("vllm:request_success_total", "agent=agent-0");
    assertTrue(finished > 0 && finished < 6, "agent-0 finished " + finished + " of the 6 sequences");
    assertEquals(finished, e.value("vllm:request_queue_time_seconds_count", "agent=agent-0"));
    assertTrue(e.sum("decodefleet_steps_total", "agent=agent-0") > 0);
    assertTrue(e.sum("jvm_threads_current") > 0, "JVM metrics");
  }

  /**
   * promtool's verdict on {@code exposition}: no parse error, and no lint but "metric names should not
   * contain ':'".
   */
  static void assertOnlyColonLints(String exposition) throws Exception {
    Process p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
    p.getOutputStream().write(exposition.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "promtool did not finish");
    List<String> other = new ArrayList<>();
    int colons = 0;
    for (String line : output.split("\n")) {
      if (line.isBlank()) continue;
      if (line.matches("vllm:[a-z0-9_]+ metric names should not contain ':'")) {
        colons++;
      } else {
        other.add(line);
      }
    }
    assertEquals(List.of(), other, "promtool check metrics (exit " + p.exitValue() + ")");
    assertTrue(colons > 0, "vLLM's names are there, and promtool saw them");
    assertTrue(p.exitValue() == 0 || p.exitValue() == 3, "promtool exit " + p.exitValue() + ": " + output);
  }

  static boolean onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) return false;
    for (String dir : path.split(File.pathSeparator)) {
      if (new File(dir, command).canExecute()) return true;
    }
    return false;
  }
}
