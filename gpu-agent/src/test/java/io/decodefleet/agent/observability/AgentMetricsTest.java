package io.decodefleet.agent.observability;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.decodefleet.agent.engine.SequenceFinished;
import io.decodefleet.agent.engine.SequenceTokens;
import io.decodefleet.agent.engine.VerifyResult;
import io.decodefleet.agent.protocol.AgentReport;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A node's metrics as its agents' reports move them, read back from what /metrics serves. */
class AgentMetricsTest {
  private final AgentMetrics metrics = new AgentMetrics();

  private String scrape() {
    return new String(metrics.endpoint().scrape(null).body(), StandardCharsets.UTF_8);
  }

  private static void assertLine(String text, String line) {
    assertTrue(text.lines().anyMatch(line::equals), "no line '" + line + "' in\n" + text);
  }

  @Test
  void aStepReportMovesTheGaugesAndCountsTokensFinishesQueueAndPrefillTime() {
    metrics.reported("tiny", new AgentReport.ModelLoaded("node-a-0", 100, 16, 8, 1024, 3, "", "", ""));
    metrics.reported("tiny", new AgentReport.StepReport("node-a-0", 7,
        List.of(new SequenceTokens(1, new int[] {5}), new SequenceTokens(2, new int[] {6})),
        List.of(new SequenceFinished(2, "stop", 9, 0, VerifyResult.NOT_CHECKED, 3_000_000L, 5_000_000L),
            new SequenceFinished(1, "length", 4, 0, VerifyResult.NOT_CHECKED, 1_000_000L, -1)),
        75, 1, 4, 2, 2_000_000L, 0, 2, "cpu", 2_000_000L, Double.NaN, Double.NaN));
    String text = scrape();
    assertLine(text, "vllm:num_requests_running{agent=\"node-a-0\",model_name=\"tiny\"} 1.0");
    assertLine(text, "vllm:num_requests_waiting{agent=\"node-a-0\",model_name=\"tiny\"} 4.0");
    assertLine(text, "vllm:kv_cache_usage_perc{agent=\"node-a-0\",model_name=\"tiny\"} 0.25");
    assertLine(text, "vllm:generation_tokens_total{agent=\"node-a-0\",model_name=\"tiny\"} 2.0");
    assertLine(text, "vllm:request_success_total{agent=\"node-a-0\",finished_reason=\"stop\",model_name=\"tiny\"} 1.0");
    assertLine(text, "vllm:request_queue_time_seconds_count{agent=\"node-a-0\",model_name=\"tiny\"} 2");
    assertLine(text, "vllm:request_queue_time_seconds_sum{agent=\"node-a-0\",model_name=\"tiny\"} 0.004");
    // A prefill time not measured (-1) is not observed.
    assertLine(text, "vllm:request_prefill_time_seconds_count{agent=\"node-a-0\",model_name=\"tiny\"} 1");
    assertLine(text, "vllm:request_prefill_time_seconds_sum{agent=\"node-a-0\",model_name=\"tiny\"} 0.005");
    assertLine(text, "decodefleet_steps_total{agent=\"node-a-0\",model_name=\"tiny\",path=\"cpu\"} 1.0");
    assertLine(text, "decodefleet_step_duration_seconds_count{agent=\"node-a-0\",batch_bucket=\"2\","
        + "model_name=\"tiny\",path=\"cpu\"} 1");
    assertTrue(!text.contains("decodefleet_gpu_idle_gap_seconds_count"), "the CPU backend measures no idle gap");
    assertTrue(text.contains("jvm_memory_used_bytes{"), "JVM metrics join on the first scrape");
  }

  @Test
  void prefixCacheReportsCountLookedUpAndFoundPromptTokens() {
    metrics.reported("tiny", new AgentReport.PrefixCacheReport("node-a-0", List.of(1L, 2L), List.of(), 96, 64));
    metrics.reported("tiny", new AgentReport.PrefixCacheReport("node-a-0", List.of(), List.of(1L), 0, 0));
    metrics.reported("tiny", new AgentReport.PrefixCacheReport("node-a-0", List.of(), List.of(), 40, 0));
    metrics.reported("tiny", new AgentReport.PrefixCacheReport("node-a-0", List.of(), List.of(), 80, 64, 2));
    String text = scrape();
    assertLine(text, "vllm:prefix_cache_queries_total{agent=\"node-a-0\",model_name=\"tiny\"} 216.0");
    assertLine(text, "vllm:prefix_cache_hits_total{agent=\"node-a-0\",model_name=\"tiny\"} 128.0");
    assertLine(text, "decodefleet_prefix_deferred_admissions_total{agent=\"node-a-0\",model_name=\"tiny\"} 2.0");
  }

  @Test
  void anAgentThatLoadsAnotherModelDropsTheGaugesOfTheOldOne() {
    metrics.reported("tiny", new AgentReport.StepReport("node-a-0", 1, List.of(), List.of(), 0, 3, 0, 0, 1, 0, 0,
        "cpu", 1, Double.NaN, Double.NaN));
    metrics.reported("llama3-8b-2l", new AgentReport.StepReport("node-a-0", 1, List.of(), List.of(), 0, 2, 0, 0, 1,
        0, 0, "cpu", 1, Double.NaN, Double.NaN));
    String text = scrape();
    assertLine(text, "vllm:num_requests_running{agent=\"node-a-0\",model_name=\"llama3-8b-2l\"} 2.0");
    assertTrue(!text.contains("vllm:num_requests_running{agent=\"node-a-0\",model_name=\"tiny\"}"), text);
  }
}
